//! vector.flat 2.0.0: simd128 distances (bit-identical to v1), still persists format 1 so a rollback to v1 can open it.
use vector_flat::{kernels::Kernel, Variant, VectorFlat};

pub struct Config;
impl Variant for Config {
    const KERNEL: Kernel = Kernel::Simd128;
    const PERSIST_FORMAT: u32 = 1;
    const OPENS: &'static [u32] = &[1];
}

uni_plugin_sdk::export_index_plugin!(VectorFlat<Config>, manifest = include_str!("../manifest.json"));
