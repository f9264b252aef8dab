//! changelog 2.0.0: buffers up to four batches; emits when full, on checkpoint and on shutdown.
use changelog::{Changelog, Mode};

pub struct Config;
impl Mode for Config {
    const BUFFER: usize = 4;
}

uni_plugin_sdk::export_cdc_plugin!(Changelog<Config>, manifest = include_str!("../manifest.json"));
