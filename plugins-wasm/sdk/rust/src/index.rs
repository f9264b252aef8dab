//! Index kinds: the `uni:plugin/index@1.0.0` interface as Rust traits.
use crate::lend;
use crate::rt::{self, Resources};
use crate::{AlignedBytes, FnError};

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
    /// What the `open` export calls: like [`IndexProvider::open`], but owning
    /// the buffer the host copied the persisted bytes into (16-byte aligned;
    /// the canonical ABI gives the callee ownership of its arguments).
    /// Override it to adopt that buffer as the index's storage instead of
    /// decoding a copy; the default borrows it for `open` and frees it.
    fn open_owned(kind: &str, persisted: AlignedBytes) -> Result<Self::Handle, FnError> {
        Self::open(kind, &persisted)
    }
}

/// What [`IndexHandle::persist_lent`] hands the host.
pub enum Persisted<'a> {
    /// Fresh bytes, freed after the host copied them out.
    Owned(Vec<u8>),
    /// A view of the handle's own storage: the host reads it in place (a hot
    /// reload copies it straight into the new instance) and nothing is freed.
    Lent(&'a [u8]),
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
    /// What the `persist` export calls. Override it to return
    /// [`Persisted::Lent`] when the handle already keeps its state in its
    /// persisted layout; the default copies out [`IndexHandle::persist`].
    fn persist_lent(&self) -> Result<Persisted<'_>, FnError> {
        self.persist().map(Persisted::Owned)
    }
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
            unsafe { (lend::aligned_arg(kind.0, kind.1), lend::aligned_arg(source.0, source.1), lend::aligned_arg(options.0, options.1)) };
        let built = (|| {
            let kind = lend::utf8(&kind, "kind")?;
            check_kind::<P>(kind)?;
            P::build(kind, &source, lend::utf8(&options, "options-json")?)
        })();
        rt::ret_result_i32(built.map(|handle| resource_new(table.insert(handle))))
    }

    pub unsafe fn open<P: IndexProvider>(
        table: &Resources<P::Handle>,
        resource_new: impl FnOnce(i32) -> i32,
        kind: (i32, i32),
        persisted: (i32, i32),
    ) -> *mut u8 {
        let (kind, persisted) = unsafe { (lend::aligned_arg(kind.0, kind.1), lend::aligned_arg(persisted.0, persisted.1)) };
        let opened = (|| {
            let kind = lend::utf8(&kind, "kind")?;
            check_kind::<P>(kind)?;
            P::open_owned(kind, persisted)
        })();
        rt::ret_result_i32(opened.map(|handle| resource_new(table.insert(handle))))
    }

    pub unsafe fn probe<H: IndexHandle>(table: &Resources<H>, rep: i32, query: (i32, i32), k: i32) -> *mut u8 {
        let query = unsafe { lend::aligned_arg(query.0, query.1) };
        rt::ret_result_bytes(table.with(rep, |h| h.probe(&query, k as u32)))
    }

    pub fn supports_filter<H: IndexHandle>(table: &Resources<H>, rep: i32) -> i32 {
        table.with(rep, |h| Ok(h.supports_filter())).unwrap_or(false) as i32
    }

    pub unsafe fn probe_filtered<H: IndexHandle>(table: &Resources<H>, rep: i32, query: (i32, i32), k: i32, mask: (i32, i32)) -> *mut u8 {
        let (query, mask) = unsafe { (lend::aligned_arg(query.0, query.1), lend::aligned_arg(mask.0, mask.1)) };
        rt::ret_result_bytes(table.with(rep, |h| h.probe_filtered(&query, k as u32, &mask)))
    }

    pub fn persist<H: IndexHandle>(table: &Resources<H>, rep: i32) -> *mut u8 {
        // A lent view stays valid until post-return: the handle cannot be
        // dropped or changed before then (no call re-enters the instance).
        lend::ret_persisted(table.with(rep, |h| {
            h.persist_lent().map(|p| match p {
                // SAFETY: detaches the view's lifetime from the table borrow; see above.
                Persisted::Lent(view) => Persisted::Lent(unsafe { core::slice::from_raw_parts(view.as_ptr(), view.len()) }),
                Persisted::Owned(bytes) => Persisted::Owned(bytes),
            })
        }))
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

            // Aligned allocations let `open` adopt its argument (see `IndexProvider::open_owned`).
            $crate::__export_common!($manifest, $crate::lend::cabi_realloc_aligned);

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
                unsafe { $crate::lend::post_persisted(p) }
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
