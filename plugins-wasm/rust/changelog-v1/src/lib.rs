//! changelog 1.0.0: emits every batch as it is delivered.
use changelog::{Changelog, Mode};

pub struct Config;
impl Mode for Config {
    const BUFFER: usize = 1;
}

uni_plugin_sdk::export_cdc_plugin!(Changelog<Config>, manifest = include_str!("../manifest.json"));
