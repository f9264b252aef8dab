//! Canonical-ABI pieces for index plugins that adopt arguments and lend
//! results (kept apart from `rt` so the other worlds' code is untouched).
//!
//! - Every `cabi_realloc` allocation is 16-byte aligned
//!   ([`cabi_realloc_aligned`]), so an argument buffer can be taken over as an
//!   [`AlignedBytes`] ([`aligned_arg`]) and kept: `open` adopts the persisted
//!   bytes the host copied in instead of copying them again.
//! - `persist` may lend: the return area then points at memory the handle
//!   keeps owning ([`ret_persisted`]), and its post-return
//!   ([`post_persisted`]) frees nothing.
#![allow(clippy::missing_safety_doc)]

use crate::bytes::{AlignedBytes, ALIGN};
use crate::index::Persisted;
use crate::rt;
use crate::FnError;
use core::sync::atomic::{AtomicBool, Ordering};

/// `cabi_realloc` of index plugins: [`rt::cabi_realloc`] with every
/// allocation aligned to (at least) 16.
pub unsafe fn cabi_realloc_aligned(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    unsafe { rt::cabi_realloc(old_ptr, old_size, align.max(ALIGN), new_size) }
}

/// Takes over a `list<u8>` / `string` argument that [`cabi_realloc_aligned`]
/// allocated (the callee owns its arguments): freed when dropped, or kept.
pub unsafe fn aligned_arg(ptr: i32, len: i32) -> AlignedBytes {
    unsafe { AlignedBytes::from_raw(ptr as u32 as usize as *mut u8, len as u32 as usize) }
}

/// An argument's bytes as UTF-8; invalid UTF-8 is a code-2 error naming the parameter.
pub fn utf8<'a>(bytes: &'a [u8], param: &str) -> Result<&'a str, FnError> {
    core::str::from_utf8(bytes).map_err(|_| FnError::malformed(format!("{param} is not valid UTF-8")))
}

/// Whether the last `persist` result lent its bytes; read by [`post_persisted`].
static LENT: AtomicBool = AtomicBool::new(false);

/// `result<list<u8>, fn-error>` for `persist`. Lent bytes are read by the
/// host where they are; the caller guarantees they stay put until the
/// post-return (nothing else runs in between: the canonical ABI forbids
/// re-entry before it).
pub fn ret_persisted(r: Result<Persisted<'_>, FnError>) -> *mut u8 {
    match r {
        Ok(Persisted::Lent(view)) => {
            // Write the ok case by hand: `(ptr, len)` of the view, nothing leaked.
            let area = rt::ret_result_bytes(Ok(Vec::new()));
            unsafe {
                (area.add(4) as *mut u32).write(view.as_ptr() as usize as u32);
                (area.add(8) as *mut u32).write(view.len() as u32);
            }
            LENT.store(true, Ordering::Relaxed);
            area
        }
        Ok(Persisted::Owned(bytes)) => {
            LENT.store(false, Ordering::Relaxed);
            rt::ret_result_bytes(Ok(bytes))
        }
        Err(e) => {
            LENT.store(false, Ordering::Relaxed);
            rt::ret_result_bytes(Err(e))
        }
    }
}

/// Post-return of `persist`: frees what [`ret_persisted`] gave, not what it lent.
pub unsafe fn post_persisted(p: *mut u8) {
    if !LENT.swap(false, Ordering::Relaxed) {
        unsafe { rt::post_result_bytes(p) }
    }
}
