//! vector.flat 2.0.0: persisted format 3 (checksummed); refuses format 1, so a reload from v1 must fail.
use vector_flat::{kernels::Kernel, Variant, VectorFlat};

pub struct Config;
impl Variant for Config {
    const KERNEL: Kernel = Kernel::Simd128;
    const PERSIST_FORMAT: u32 = 3;
    const OPENS: &'static [u32] = &[3];
}

uni_plugin_sdk::export_index_plugin!(VectorFlat<Config>, manifest = include_str!("../manifest.json"));
