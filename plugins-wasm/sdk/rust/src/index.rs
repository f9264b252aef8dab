//! Index kinds: the `uni:plugin/index@1.0.0` interface as Rust traits.
use crate::rt::{self, ArgBytes, Resources};
use crate::FnError;

/// Builds and reopens indexes. One provider may serve several kinds.
pub trait IndexProvider {
    type Handle: IndexHandle;
    /// The kinds this plugin implements (e.g. `["vector.flat"]`). Calls for
    /// any other kind are refused by the SDK before reaching `build`/`open`.
    fn kinds() -> Vec<String>;
    /// Builds an index of `kind` over `source` (an Arrow IPC stream).
    /// `options_json` is a JSON object whose keys the kind documents.
    fn build(kind: &str, source: &[u8], options_json: &str) -> Result<Self::Handle, FnError>;
    /// Reopens what [`IndexHandle::persist`] wrote (this or an earlier compatible version).
    fn open(kind: &str, persisted: &[u8]) -> Result<Self::Handle, FnError>;
}

/// A live index.
pub trait IndexHandle: 'static {
    /// The `k` nearest rows for every row of `query` (Arrow IPC), as Arrow IPC
    /// in the schema [`IndexHandle::schema`] describes.
    fn probe(&self, query: &[u8], k: u32) -> Result<Vec<u8>, FnError>;
    /// Whether [`IndexHandle::probe_filtered`] is implemented.
    fn supports_filter(&self) -> bool {
        false
    }
    /// Like `probe`, restricted to rows whose bit is set in `mask` (LSB-first, build order).
    fn probe_filtered(&self, _query: &[u8], _k: u32, _mask: &[u8]) -> Result<Vec<u8>, FnError> {
        Err(FnError::filter_unsupported())
    }
    /// Self-contained bytes that `open` turns back into an equal index.
    fn persist(&self) -> Result<Vec<u8>, FnError>;
    /// The probe output schema, as an Arrow IPC stream with no batches.
    fn schema(&self) -> Vec<u8>;
}

fn check_kind<P: IndexProvider>(kind: &str) -> Result<(), FnError> {
    let kinds = P::kinds();
    if kinds.iter().any(|k| k == kind) {
        Ok(())
    } else {
        Err(FnError::malformed(format!("unknown index kind '{kind}'; this plugin provides: {}", kinds.join(", "))))
    }
}

/// The bodies of the core exports; the macro only names them.
#[doc(hidden)]
pub mod glue {
    use super::*;

    pub fn kinds<P: IndexProvider>() -> *mut u8 {
        rt::ret_string_list(P::kinds())
    }

    pub unsafe fn build<P: IndexProvider>(
        table: &Resources<P::Handle>,
        resource_new: impl FnOnce(i32) -> i32,
        kind: (i32, i32),
        source: (i32, i32),
        options: (i32, i32),
    ) -> *mut u8 {
        let (kind, source, options) =
            unsafe { (ArgBytes::new(kind.0, kind.1), ArgBytes::new(source.0, source.1), ArgBytes::new(options.0, options.1)) };
        let built = (|| {
            let kind = kind.str("kind")?;
            check_kind::<P>(kind)?;
            P::build(kind, source.bytes(), options.str("options-json")?)
        })();
        rt::ret_result_i32(built.map(|handle| resource_new(table.insert(handle))))
    }

    pub unsafe fn open<P: IndexProvider>(
        table: &Resources<P::Handle>,
        resource_new: impl FnOnce(i32) -> i32,
        kind: (i32, i32),
        persisted: (i32, i32),
    ) -> *mut u8 {
        let (kind, persisted) = unsafe { (ArgBytes::new(kind.0, kind.1), ArgBytes::new(persisted.0, persisted.1)) };
        let opened = (|| {
            let kind = kind.str("kind")?;
            check_kind::<P>(kind)?;
            P::open(kind, persisted.bytes())
        })();
        rt::ret_result_i32(opened.map(|handle| resource_new(table.insert(handle))))
    }

    pub unsafe fn probe<H: IndexHandle>(table: &Resources<H>, rep: i32, query: (i32, i32), k: i32) -> *mut u8 {
        let query = unsafe { ArgBytes::new(query.0, query.1) };
        rt::ret_result_bytes(table.with(rep, |h| h.probe(query.bytes(), k as u32)))
    }

    pub fn supports_filter<H: IndexHandle>(table: &Resources<H>, rep: i32) -> i32 {
        table.with(rep, |h| Ok(h.supports_filter())).unwrap_or(false) as i32
    }

    pub unsafe fn probe_filtered<H: IndexHandle>(table: &Resources<H>, rep: i32, query: (i32, i32), k: i32, mask: (i32, i32)) -> *mut u8 {
        let (query, mask) = unsafe { (ArgBytes::new(query.0, query.1), ArgBytes::new(mask.0, mask.1)) };
        rt::ret_result_bytes(table.with(rep, |h| h.probe_filtered(query.bytes(), k as u32, mask.bytes())))
    }

    pub fn persist<H: IndexHandle>(table: &Resources<H>, rep: i32) -> *mut u8 {
        rt::ret_result_bytes(table.with(rep, |h| h.persist()))
    }

    pub fn schema<H: IndexHandle>(table: &Resources<H>, rep: i32) -> *mut u8 {
        // `schema` cannot fail in the WIT; an unknown handle gets an empty list.
        rt::ret_bytes(table.with(rep, |h| Ok(h.schema())).unwrap_or_default())
    }
}

/// Exports an index plugin (world `index-plugin`): every core export of
/// `uni:plugin/index@1.0.0`, plus `manifest` and the allocator.
///
/// ```ignore
/// uni_plugin_sdk::export_index_plugin!(MyProvider, manifest = include_str!("manifest.json"));
/// ```
#[macro_export]
macro_rules! export_index_plugin {
    ($provider:ty, manifest = $manifest:expr $(,)?) => {
        const _: () = {
            use $crate::index::{glue, IndexProvider};
            use $crate::rt;
            type Handle = <$provider as IndexProvider>::Handle;
            static HANDLES: rt::Resources<Handle> = rt::Resources::new();

            #[link(wasm_import_module = "[export]uni:plugin/index@1.0.0")]
            extern "C" {
                #[link_name = "[resource-new]index-handle"]
                fn resource_new(rep: i32) -> i32;
            }
            fn new_handle(rep: i32) -> i32 {
                unsafe { resource_new(rep) }
            }

            $crate::__export_common!($manifest);

            #[export_name = "uni:plugin/index@1.0.0#kinds"]
            extern "C" fn kinds() -> *mut u8 {
                glue::kinds::<$provider>()
            }
            #[export_name = "cabi_post_uni:plugin/index@1.0.0#kinds"]
            unsafe extern "C" fn post_kinds(p: *mut u8) {
                unsafe { rt::post_string_list(p) }
            }

            #[export_name = "uni:plugin/index@1.0.0#build"]
            unsafe extern "C" fn build(kp: i32, kl: i32, sp: i32, sl: i32, op: i32, ol: i32) -> *mut u8 {
                unsafe { glue::build::<$provider>(&HANDLES, new_handle, (kp, kl), (sp, sl), (op, ol)) }
            }
            #[export_name = "cabi_post_uni:plugin/index@1.0.0#build"]
            unsafe extern "C" fn post_build(p: *mut u8) {
                unsafe { rt::post_result_i32(p) }
            }

            #[export_name = "uni:plugin/index@1.0.0#open"]
            unsafe extern "C" fn open(kp: i32, kl: i32, pp: i32, pl: i32) -> *mut u8 {
                unsafe { glue::open::<$provider>(&HANDLES, new_handle, (kp, kl), (pp, pl)) }
            }
            #[export_name = "cabi_post_uni:plugin/index@1.0.0#open"]
            unsafe extern "C" fn post_open(p: *mut u8) {
                unsafe { rt::post_result_i32(p) }
            }

            #[export_name = "uni:plugin/index@1.0.0#[method]index-handle.probe"]
            unsafe extern "C" fn probe(rep: i32, qp: i32, ql: i32, k: i32) -> *mut u8 {
                unsafe { glue::probe(&HANDLES, rep, (qp, ql), k) }
            }
            #[export_name = "cabi_post_uni:plugin/index@1.0.0#[method]index-handle.probe"]
            unsafe extern "C" fn post_probe(p: *mut u8) {
                unsafe { rt::post_result_bytes(p) }
            }

            #[export_name = "uni:plugin/index@1.0.0#[method]index-handle.supports-filter"]
            extern "C" fn supports_filter(rep: i32) -> i32 {
                glue::supports_filter(&HANDLES, rep)
            }

            #[export_name = "uni:plugin/index@1.0.0#[method]index-handle.probe-filtered"]
            unsafe extern "C" fn probe_filtered(rep: i32, qp: i32, ql: i32, k: i32, mp: i32, ml: i32) -> *mut u8 {
                unsafe { glue::probe_filtered(&HANDLES, rep, (qp, ql), k, (mp, ml)) }
            }
            #[export_name = "cabi_post_uni:plugin/index@1.0.0#[method]index-handle.probe-filtered"]
            unsafe extern "C" fn post_probe_filtered(p: *mut u8) {
                unsafe { rt::post_result_bytes(p) }
            }

            #[export_name = "uni:plugin/index@1.0.0#[method]index-handle.persist"]
            extern "C" fn persist(rep: i32) -> *mut u8 {
                glue::persist(&HANDLES, rep)
            }
            #[export_name = "cabi_post_uni:plugin/index@1.0.0#[method]index-handle.persist"]
            unsafe extern "C" fn post_persist(p: *mut u8) {
                unsafe { rt::post_result_bytes(p) }
            }

            #[export_name = "uni:plugin/index@1.0.0#[method]index-handle.schema"]
            extern "C" fn schema(rep: i32) -> *mut u8 {
                glue::schema(&HANDLES, rep)
            }
            #[export_name = "cabi_post_uni:plugin/index@1.0.0#[method]index-handle.schema"]
            unsafe extern "C" fn post_schema(p: *mut u8) {
                unsafe { rt::post_bytes(p) }
            }

            #[export_name = "uni:plugin/index@1.0.0#[dtor]index-handle"]
            extern "C" fn drop_handle(rep: i32) {
                drop(HANDLES.remove(rep));
            }
        };
    };
}
