//! [`AlignedBytes`]: an owned byte buffer whose start is 16-byte aligned.
//!
//! Index plugins get their `open` argument as one of these (the buffer the
//! host copied the persisted bytes into, adopted rather than copied again),
//! and can keep their live state in one, so that `persist` can lend it as is.
//! The 16-byte alignment lets a plugin view parts of it as `&[i64]` / `&[f32]`
//! or read them with `v128.load` without copying.
use crate::FnError;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use std::alloc::{alloc_zeroed, dealloc, Layout};

/// Alignment of every [`AlignedBytes`] (and of every `cabi_realloc`
/// allocation in index plugins, which become [`AlignedBytes`] arguments).
pub const ALIGN: usize = 16;

/// An owned, 16-byte aligned, fixed-length byte buffer.
pub struct AlignedBytes {
    /// Start of the allocation; a dangling (but aligned) pointer when `len == 0`.
    ptr: NonNull<u8>,
    len: usize,
}

impl AlignedBytes {
    /// `len` zero bytes; running out of memory is a code-4 error, not a trap.
    pub fn zeroed(len: usize) -> Result<Self, FnError> {
        if len == 0 {
            return Ok(Self::empty());
        }
        let layout = Layout::from_size_align(len, ALIGN).map_err(|_| too_big(len))?;
        // SAFETY: layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        NonNull::new(ptr).map(|ptr| AlignedBytes { ptr, len }).ok_or_else(|| too_big(len))
    }

    /// A copy of `bytes` in a fresh aligned buffer.
    pub fn copy_from(bytes: &[u8]) -> Result<Self, FnError> {
        let mut out = Self::zeroed(bytes.len())?;
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn empty() -> Self {
        // ALIGN is non-zero, so this dangling pointer is non-null and aligned.
        AlignedBytes { ptr: NonNull::new(ALIGN as *mut u8).unwrap_or(NonNull::dangling()), len: 0 }
    }

    /// Takes ownership of `len` bytes at `ptr` that were allocated with
    /// `Layout::from_size_align(len, ALIGN)` (what the index plugins'
    /// `cabi_realloc` does).
    ///
    /// # Safety
    /// `ptr` must be such an allocation (or anything when `len == 0`), and
    /// nobody else may free or use it afterwards.
    pub(crate) unsafe fn from_raw(ptr: *mut u8, len: usize) -> Self {
        match NonNull::new(ptr) {
            Some(ptr) if len != 0 => AlignedBytes { ptr, len },
            _ => Self::empty(),
        }
    }
}

fn too_big(len: usize) -> FnError {
    FnError::resource_limit(format!("cannot allocate {len} bytes"))
}

impl Deref for AlignedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: ptr is valid for len bytes (or dangling-but-aligned with len 0).
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for AlignedBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `deref`, and we own the bytes exclusively.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBytes {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: allocated with exactly this layout (see `zeroed` / `from_raw`).
            unsafe { dealloc(self.ptr.as_ptr(), Layout::from_size_align_unchecked(self.len, ALIGN)) }
        }
    }
}
