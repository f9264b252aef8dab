//! vector.flat 1.0.0: scalar distances, persisted format 1.
use vector_flat::{kernels::Kernel, Variant, VectorFlat};

pub struct Config;
impl Variant for Config {
    const KERNEL: Kernel = Kernel::Scalar;
    const PERSIST_FORMAT: u32 = 1;
    const OPENS: &'static [u32] = &[1];
}

uni_plugin_sdk::export_index_plugin!(VectorFlat<Config>, manifest = include_str!("../manifest.json"));
