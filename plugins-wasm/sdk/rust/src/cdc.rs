//! CDC outputs: the `uni:plugin/cdc@1.0.0` interface as Rust traits, and the
//! `uni:plugin/cdc-sink@1.0.0` import as [`sink::emit`].
use crate::rt::{self, ArgBytes, Resources};
use crate::FnError;

/// One batch of changes covering `[lsn_start, lsn_end)`.
#[derive(Clone, Copy, Debug)]
pub struct ChangeBatch<'a> {
    /// First LSN in the batch (inclusive).
    pub lsn_start: u64,
    /// One past the last LSN (exclusive).
    pub lsn_end: u64,
    /// The mutations, as Arrow IPC stream bytes.
    pub mutations: &'a [u8],
    /// Commit time, microseconds since the Unix epoch.
    pub commit_micros: i64,
}

/// Starts streams. One provider may serve several output names.
pub trait CdcOutput {
    type Stream: CdcStream;
    /// The output names this plugin implements (e.g. `["changelog"]`). Calls
    /// for any other name are refused by the SDK before reaching `start`.
    fn outputs() -> Vec<String>;
    /// Starts `output`, resuming at `from_lsn` inclusive (`None`: from the start).
    fn start(output: &str, from_lsn: Option<u64>) -> Result<Self::Stream, FnError>;
}

/// A running output.
pub trait CdcStream: 'static {
    /// Hands one batch on. An error halts the stream with its checkpoint frozen.
    fn deliver(&mut self, batch: ChangeBatch<'_>) -> Result<(), FnError>;
    /// The exclusive LSN bound of what has been durably handed on.
    fn checkpoint(&mut self) -> Result<u64, FnError>;
    /// Flushes and stops.
    fn shutdown(&mut self) -> Result<(), FnError>;
}

/// The host's sink (needs capability `cdc-sink` in the manifest).
pub mod sink {
    use super::*;

    #[link(wasm_import_module = "uni:plugin/cdc-sink@1.0.0")]
    extern "C" {
        #[link_name = "emit"]
        fn host_emit(op: *const u8, ol: usize, lsn_start: i64, lsn_end: i64, pp: *const u8, pl: usize, ret: *mut u8);
    }

    #[repr(C, align(4))]
    struct EmitResult([u8; 20]);

    /// Durably hands `payload` covering `[lsn_start, lsn_end)` of `output` to the host.
    pub fn emit(output: &str, lsn_start: u64, lsn_end: u64, payload: &[u8]) -> Result<(), FnError> {
        let mut area = EmitResult([0; 20]);
        unsafe {
            host_emit(
                output.as_ptr(),
                output.len(),
                lsn_start as i64,
                lsn_end as i64,
                payload.as_ptr(),
                payload.len(),
                area.0.as_mut_ptr(),
            );
            rt::take_import_result_unit(area.0.as_ptr())
        }
    }
}

/// The bodies of the core exports; the macro only names them.
#[doc(hidden)]
pub mod glue {
    use super::*;

    pub fn outputs<P: CdcOutput>() -> *mut u8 {
        rt::ret_string_list(P::outputs())
    }

    pub unsafe fn start<P: CdcOutput>(
        table: &Resources<P::Stream>,
        resource_new: impl FnOnce(i32) -> i32,
        output: (i32, i32),
        from_is_some: i32,
        from_lsn: i64,
    ) -> *mut u8 {
        let output = unsafe { ArgBytes::new(output.0, output.1) };
        let started = (|| {
            let output = output.str("output")?;
            let outputs = P::outputs();
            if !outputs.iter().any(|o| o == output) {
                return Err(FnError::malformed(format!("unknown CDC output '{output}'; this plugin provides: {}", outputs.join(", "))));
            }
            P::start(output, if from_is_some != 0 { Some(from_lsn as u64) } else { None })
        })();
        rt::ret_result_i32(started.map(|stream| resource_new(table.insert(stream))))
    }

    pub unsafe fn deliver<S: CdcStream>(
        table: &Resources<S>,
        rep: i32,
        lsn_start: i64,
        lsn_end: i64,
        mutations: (i32, i32),
        commit_micros: i64,
    ) -> *mut u8 {
        let mutations = unsafe { ArgBytes::new(mutations.0, mutations.1) };
        let batch = ChangeBatch { lsn_start: lsn_start as u64, lsn_end: lsn_end as u64, mutations: mutations.bytes(), commit_micros };
        rt::ret_result_unit(table.with(rep, |s| s.deliver(batch)))
    }

    pub fn checkpoint<S: CdcStream>(table: &Resources<S>, rep: i32) -> *mut u8 {
        rt::ret_result_u64(table.with(rep, |s| s.checkpoint()))
    }

    pub fn shutdown<S: CdcStream>(table: &Resources<S>, rep: i32) -> *mut u8 {
        rt::ret_result_unit(table.with(rep, |s| s.shutdown()))
    }
}

/// Exports a CDC plugin (world `cdc-plugin`): every core export of
/// `uni:plugin/cdc@1.0.0`, plus `manifest` and the allocator.
///
/// ```ignore
/// uni_plugin_sdk::export_cdc_plugin!(MyOutput, manifest = include_str!("manifest.json"));
/// ```
#[macro_export]
macro_rules! export_cdc_plugin {
    ($provider:ty, manifest = $manifest:expr $(,)?) => {
        const _: () = {
            use $crate::cdc::{glue, CdcOutput};
            use $crate::rt;
            type Stream = <$provider as CdcOutput>::Stream;
            static STREAMS: rt::Resources<Stream> = rt::Resources::new();

            #[link(wasm_import_module = "[export]uni:plugin/cdc@1.0.0")]
            extern "C" {
                #[link_name = "[resource-new]cdc-stream"]
                fn resource_new(rep: i32) -> i32;
            }
            fn new_stream(rep: i32) -> i32 {
                unsafe { resource_new(rep) }
            }

            $crate::__export_common!($manifest);

            #[export_name = "uni:plugin/cdc@1.0.0#outputs"]
            extern "C" fn outputs() -> *mut u8 {
                glue::outputs::<$provider>()
            }
            #[export_name = "cabi_post_uni:plugin/cdc@1.0.0#outputs"]
            unsafe extern "C" fn post_outputs(p: *mut u8) {
                unsafe { rt::post_string_list(p) }
            }

            #[export_name = "uni:plugin/cdc@1.0.0#start"]
            unsafe extern "C" fn start(op: i32, ol: i32, from_is_some: i32, from_lsn: i64) -> *mut u8 {
                unsafe { glue::start::<$provider>(&STREAMS, new_stream, (op, ol), from_is_some, from_lsn) }
            }
            #[export_name = "cabi_post_uni:plugin/cdc@1.0.0#start"]
            unsafe extern "C" fn post_start(p: *mut u8) {
                unsafe { rt::post_result_i32(p) }
            }

            #[export_name = "uni:plugin/cdc@1.0.0#[method]cdc-stream.deliver"]
            unsafe extern "C" fn deliver(rep: i32, lsn_start: i64, lsn_end: i64, mp: i32, ml: i32, commit_micros: i64) -> *mut u8 {
                unsafe { glue::deliver(&STREAMS, rep, lsn_start, lsn_end, (mp, ml), commit_micros) }
            }
            #[export_name = "cabi_post_uni:plugin/cdc@1.0.0#[method]cdc-stream.deliver"]
            unsafe extern "C" fn post_deliver(p: *mut u8) {
                unsafe { rt::post_result_i32(p) }
            }

            #[export_name = "uni:plugin/cdc@1.0.0#[method]cdc-stream.checkpoint"]
            extern "C" fn checkpoint(rep: i32) -> *mut u8 {
                glue::checkpoint(&STREAMS, rep)
            }
            #[export_name = "cabi_post_uni:plugin/cdc@1.0.0#[method]cdc-stream.checkpoint"]
            unsafe extern "C" fn post_checkpoint(p: *mut u8) {
                unsafe { rt::post_result_u64(p) }
            }

            #[export_name = "uni:plugin/cdc@1.0.0#[method]cdc-stream.shutdown"]
            extern "C" fn shutdown(rep: i32) -> *mut u8 {
                glue::shutdown(&STREAMS, rep)
            }
            #[export_name = "cabi_post_uni:plugin/cdc@1.0.0#[method]cdc-stream.shutdown"]
            unsafe extern "C" fn post_shutdown(p: *mut u8) {
                unsafe { rt::post_result_i32(p) }
            }

            #[export_name = "uni:plugin/cdc@1.0.0#[dtor]cdc-stream"]
            extern "C" fn drop_stream(rep: i32) {
                drop(STREAMS.remove(rep));
            }
        };
    };
}
