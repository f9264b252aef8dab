//! changelog 2.0.0, incompatible: it keeps its stream position in a format of its own (a count of batches, not a
//! host LSN), so it can start new streams but cannot resume one at an LSN that 1.x reported. A reload from 1.x must
//! fail at handoff, naming the output, with 1.x still serving.
use changelog::{Changelog, ChangelogStream, Mode};
use uni_plugin_sdk::cdc::CdcOutput;
use uni_plugin_sdk::FnError;

/// `start` was asked to resume at an LSN this version cannot interpret.
pub const CANNOT_RESUME: u32 = 0x105;

pub struct Config;
impl Mode for Config {
    const BUFFER: usize = 4;
}

pub struct Incompatible;

impl CdcOutput for Incompatible {
    type Stream = ChangelogStream<Config>;

    fn outputs() -> Vec<String> {
        Changelog::<Config>::outputs()
    }

    fn start(output: &str, from_lsn: Option<u64>) -> Result<Self::Stream, FnError> {
        match from_lsn {
            None => Changelog::<Config>::start(output, None),
            Some(lsn) => Err(FnError::plugin(
                CANNOT_RESUME,
                format!(
                    "changelog 2.0.0 cannot resume at LSN {lsn}: it counts its position in batches, not host LSNs, \
                     so a position written by 1.x means something else to it; start a new stream instead"
                ),
            )),
        }
    }
}

uni_plugin_sdk::export_cdc_plugin!(Incompatible, manifest = include_str!("../manifest.json"));
