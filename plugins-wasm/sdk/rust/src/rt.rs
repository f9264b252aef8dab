//! Canonical-ABI runtime used by the export macros: allocator, argument
//! ownership, return areas, resource tables. Authors never call this directly.
//!
//! Memory discipline (docs/abi.md): arguments arrive in buffers the host
//! allocated through `cabi_realloc(0, 0, 1, len)` and the callee frees them;
//! results are handed out as leaked buffers that `cabi_post_*` frees again.
#![allow(clippy::missing_safety_doc)]

use crate::FnError;
use core::cell::UnsafeCell;
use std::alloc::{alloc, dealloc, realloc, Layout};

/// The canonical-ABI allocator (`cabi_realloc`). `new_size == 0` returns `align`.
pub unsafe fn cabi_realloc(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    let Ok(new_layout) = Layout::from_size_align(new_size, align.max(1)) else {
        // Only a host bug (a non-power-of-two alignment) gets here.
        std::process::abort()
    };
    if new_size == 0 {
        if !old_ptr.is_null() && old_size != 0 {
            unsafe { dealloc(old_ptr, Layout::from_size_align_unchecked(old_size, new_layout.align())) };
        }
        return new_layout.align() as *mut u8;
    }
    let ptr = if old_ptr.is_null() || old_size == 0 {
        unsafe { alloc(new_layout) }
    } else {
        unsafe { realloc(old_ptr, Layout::from_size_align_unchecked(old_size, new_layout.align()), new_size) }
    };
    if ptr.is_null() {
        std::alloc::handle_alloc_error(new_layout)
    }
    ptr
}

/// Frees a byte buffer of `len` bytes that `cabi_realloc(.., 1, len)` or [`give_bytes`] produced.
pub unsafe fn free_bytes(ptr: u32, len: u32) {
    if len != 0 && ptr != 0 {
        unsafe { dealloc(ptr as usize as *mut u8, Layout::from_size_align_unchecked(len as usize, 1)) };
    }
}

/// Leaks `v` for the host to read; returns `(ptr, len)`. [`free_bytes`] undoes it.
pub fn give_bytes(v: Vec<u8>) -> (u32, u32) {
    let boxed = v.into_boxed_slice();
    let len = boxed.len();
    let ptr = Box::into_raw(boxed) as *mut u8;
    (ptr as usize as u32, len as u32)
}

/// A `string` / `list<u8>` argument: owned by the callee, freed on drop.
pub struct ArgBytes {
    ptr: *mut u8,
    len: usize,
}

impl ArgBytes {
    pub unsafe fn new(ptr: i32, len: i32) -> Self {
        ArgBytes { ptr: ptr as u32 as usize as *mut u8, len: len as u32 as usize }
    }
    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 || self.ptr.is_null() {
            &[]
        } else {
            unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
    /// The argument as UTF-8; invalid UTF-8 is a code-2 error naming the parameter.
    pub fn str(&self, param: &str) -> Result<&str, FnError> {
        core::str::from_utf8(self.bytes()).map_err(|_| FnError::malformed(format!("{param} is not valid UTF-8")))
    }
}

impl Drop for ArgBytes {
    fn drop(&mut self) {
        unsafe { free_bytes(self.ptr as usize as u32, self.len as u32) }
    }
}

/// The return area: one per module is enough because a call's results are
/// copied out (and `cabi_post_*` called) before the next call starts.
#[repr(C, align(8))]
pub struct RetArea(UnsafeCell<[u8; 24]>);
// wasm32 guests are single-threaded and the canonical ABI forbids re-entry.
unsafe impl Sync for RetArea {}
pub static RET_AREA: RetArea = RetArea(UnsafeCell::new([0; 24]));

fn area() -> *mut u8 {
    RET_AREA.0.get() as *mut u8
}
unsafe fn put_u32(at: usize, v: u32) {
    unsafe { (area().add(at) as *mut u32).write(v) }
}
unsafe fn put_u8(at: usize, v: u8) {
    unsafe { area().add(at).write(v) }
}
unsafe fn get_u32(p: *const u8, at: usize) -> u32 {
    unsafe { (p.add(at) as *const u32).read() }
}
unsafe fn put_error(at: usize, e: FnError) {
    let (ptr, len) = give_bytes(e.message.into_bytes());
    unsafe {
        put_u32(at, e.code);
        put_u32(at + 4, ptr);
        put_u32(at + 8, len);
        put_u8(at + 12, e.retryable as u8);
    }
}

/// `list<u8>` / `string` result.
pub fn ret_bytes(v: Vec<u8>) -> *mut u8 {
    let (ptr, len) = give_bytes(v);
    unsafe {
        put_u32(0, ptr);
        put_u32(4, len);
    }
    area()
}
pub unsafe fn post_bytes(p: *mut u8) {
    unsafe { free_bytes(get_u32(p, 0), get_u32(p, 4)) }
}

/// `list<string>` result.
pub fn ret_string_list(v: Vec<String>) -> *mut u8 {
    let entries: Vec<[u32; 2]> = v
        .into_iter()
        .map(|s| {
            let (ptr, len) = give_bytes(s.into_bytes());
            [ptr, len]
        })
        .collect();
    let boxed = entries.into_boxed_slice();
    let n = boxed.len() as u32;
    let ptr = Box::into_raw(boxed) as *mut [u32; 2];
    unsafe {
        put_u32(0, ptr as usize as u32);
        put_u32(4, n);
    }
    area()
}
pub unsafe fn post_string_list(p: *mut u8) {
    unsafe {
        let (ptr, n) = (get_u32(p, 0) as usize as *mut [u32; 2], get_u32(p, 4) as usize);
        if n == 0 {
            return;
        }
        let entries = Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, n));
        for [sp, sl] in entries.iter() {
            free_bytes(*sp, *sl);
        }
    }
}

/// `result<list<u8>, fn-error>` / `result<string, fn-error>` result.
pub fn ret_result_bytes(r: Result<Vec<u8>, FnError>) -> *mut u8 {
    unsafe {
        match r {
            Ok(v) => {
                let (ptr, len) = give_bytes(v);
                put_u8(0, 0);
                put_u32(4, ptr);
                put_u32(8, len);
            }
            Err(e) => {
                put_u8(0, 1);
                put_error(4, e);
            }
        }
    }
    area()
}
pub unsafe fn post_result_bytes(p: *mut u8) {
    unsafe {
        if *p == 0 {
            free_bytes(get_u32(p, 4), get_u32(p, 8));
        } else {
            free_bytes(get_u32(p, 8), get_u32(p, 12));
        }
    }
}

/// `result<_, fn-error>` and `result<own<R>, fn-error>` (ok payload: the handle).
pub fn ret_result_i32(r: Result<i32, FnError>) -> *mut u8 {
    unsafe {
        match r {
            Ok(v) => {
                put_u8(0, 0);
                put_u32(4, v as u32);
            }
            Err(e) => {
                put_u8(0, 1);
                put_error(4, e);
            }
        }
    }
    area()
}
pub fn ret_result_unit(r: Result<(), FnError>) -> *mut u8 {
    ret_result_i32(r.map(|()| 0))
}
pub unsafe fn post_result_i32(p: *mut u8) {
    unsafe {
        if *p != 0 {
            free_bytes(get_u32(p, 8), get_u32(p, 12));
        }
    }
}

/// `result<u64, fn-error>` (24 bytes, align 8).
pub fn ret_result_u64(r: Result<u64, FnError>) -> *mut u8 {
    unsafe {
        match r {
            Ok(v) => {
                put_u8(0, 0);
                (area().add(8) as *mut u64).write(v);
            }
            Err(e) => {
                put_u8(0, 1);
                put_error(8, e);
            }
        }
    }
    area()
}
pub unsafe fn post_result_u64(p: *mut u8) {
    unsafe {
        if *p != 0 {
            free_bytes(get_u32(p, 12), get_u32(p, 16));
        }
    }
}

/// Reads a `result<_, fn-error>` that the host wrote at `p` (an import's
/// return area); the error message was allocated in our memory and is ours.
pub unsafe fn take_import_result_unit(p: *const u8) -> Result<(), FnError> {
    unsafe {
        if *p == 0 {
            return Ok(());
        }
        let code = get_u32(p, 4);
        let (ptr, len) = (get_u32(p, 8), get_u32(p, 12));
        let retryable = *p.add(16) != 0;
        let message = if len == 0 {
            String::new()
        } else {
            let bytes = core::slice::from_raw_parts(ptr as usize as *const u8, len as usize);
            let text = String::from_utf8_lossy(bytes).into_owned();
            free_bytes(ptr, len);
            text
        };
        Err(FnError { code, message, retryable })
    }
}

/// Live resources of one kind, named across the boundary by their `rep`
/// (slot index + 1, so never 0).
pub struct Resources<T> {
    slots: UnsafeCell<Vec<Option<T>>>,
    free: UnsafeCell<Vec<usize>>,
}
// wasm32 guests are single-threaded and the canonical ABI forbids re-entry.
unsafe impl<T> Sync for Resources<T> {}

impl<T> Resources<T> {
    pub const fn new() -> Self {
        Resources { slots: UnsafeCell::new(Vec::new()), free: UnsafeCell::new(Vec::new()) }
    }
    pub fn insert(&self, value: T) -> i32 {
        let (slots, free) = unsafe { (&mut *self.slots.get(), &mut *self.free.get()) };
        let index = match free.pop() {
            Some(i) => {
                slots[i] = Some(value);
                i
            }
            None => {
                slots.push(Some(value));
                slots.len() - 1
            }
        };
        (index + 1) as i32
    }
    /// Runs `f` on the resource `rep`; an unknown rep is a code-2 error, not a trap.
    pub fn with<R>(&self, rep: i32, f: impl FnOnce(&mut T) -> Result<R, FnError>) -> Result<R, FnError> {
        let slots = unsafe { &mut *self.slots.get() };
        match (rep as u32 as usize).checked_sub(1).and_then(|i| slots.get_mut(i)) {
            Some(Some(value)) => f(value),
            _ => Err(FnError::malformed(format!("unknown resource handle {rep}"))),
        }
    }
    pub fn remove(&self, rep: i32) -> Option<T> {
        let (slots, free) = unsafe { (&mut *self.slots.get(), &mut *self.free.get()) };
        let index = (rep as u32 as usize).checked_sub(1)?;
        let value = slots.get_mut(index)?.take()?;
        free.push(index);
        Some(value)
    }
}

impl<T> Default for Resources<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Emits the exports every world has: `cabi_realloc`, `manifest`, `cabi_post_manifest`.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_common {
    ($manifest:expr) => {
        $crate::__export_common!($manifest, $crate::rt::cabi_realloc);
    };
    // `$realloc`: the function behind the `cabi_realloc` export (index
    // plugins use `lend::cabi_realloc_aligned`).
    ($manifest:expr, $realloc:path) => {
        #[export_name = "cabi_realloc"]
        unsafe extern "C" fn __uni_cabi_realloc(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
            unsafe { $realloc(old_ptr, old_size, align, new_size) }
        }
        #[export_name = "manifest"]
        extern "C" fn __uni_manifest() -> *mut u8 {
            let manifest: &str = $manifest;
            $crate::rt::ret_bytes(manifest.as_bytes().to_vec())
        }
        #[export_name = "cabi_post_manifest"]
        unsafe extern "C" fn __uni_post_manifest(p: *mut u8) {
            unsafe { $crate::rt::post_bytes(p) }
        }
    };
}
