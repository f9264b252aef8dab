//! The persisted format of a `vector.flat` index, which is also its live
//! layout: a [`crate::FlatIndex`] keeps exactly these bytes (in a 16-byte
//! aligned buffer) and reads ids and vectors in place, so `persist` lends
//! them as they are and `open` adopts the buffer the host copied them into
//! after checking the header and the exact length. A hot reload is then one
//! memcpy (the host's) and nothing per element.
//!
//! All integers little endian; offsets relative to the 16-aligned start:
//!
//! | offset       | size    | field                                              |
//! |--------------|---------|----------------------------------------------------|
//! | 0            | 8       | magic `UNIVFLAT`                                   |
//! | 8            | 4       | format version (u32): 1, or 3                      |
//! | 12           | 1       | metric: 0 = l2, 1 = cosine                         |
//! | 13           | 3       | reserved, zero                                     |
//! | 16           | 4       | dim (u32, > 0)                                     |
//! | 20           | 4       | reserved, zero                                     |
//! | 24           | 8       | n, the row count (u64)                             |
//! | 32           | 8n      | ids (i64), build order                             |
//! | 32+8n        | 0 or 8  | zero padding: 8 bytes when n is odd                |
//! | V            | 4n·dim  | vectors (f32), row-major, build order; V = 32 + 8n rounded up to 16 |
//! | V+4n·dim     | 0 or 4  | format 3 only: zero padding to a multiple of 8     |
//! | end − 8      | 8       | format 3 only: checksum of every byte before it    |
//!
//! So ids sit 8-aligned and vectors 16-aligned (`&[i64]`, `&[f32]`, `v128.load`).
//!
//! Format 1 is written and read by v1 and v2 (a rollback to v1 opens what v2
//! persisted). It has no checksum: the bytes only ever move between two
//! memories the host owns, and a byte-wise pass would cost more than the copy.
//! Non-finite floats are refused at `build` (where data comes from users), not
//! re-scanned at `open`; bytes that were tampered with can at worst give
//! NaN distances (ordered by `total_cmp`), never a trap.
//!
//! Format 3 is the deliberately incompatible one (v2-incompatible). Its
//! checksum is FNV-1a 64 taken a 64-bit word at a time over four interleaved
//! lanes (word i feeds lane i % 4, starting from the FNV offset basis xor the
//! lane number; the lanes are then folded in order into one FNV-1a 64 with
//! the body length). It is computed once at `build` and kept in the buffer,
//! so `persist` still lends; `open` verifies it: one read pass over the
//! state, ~8x fewer steps than byte-wise FNV.
use crate::Metric;
use uni_plugin_sdk::{AlignedBytes, FnError};

pub const MAGIC: &[u8; 8] = b"UNIVFLAT";
pub const HEADER: usize = 32;
/// The format with the checksum trailer.
const CHECKSUMMED: u32 = 3;
/// The persisted format is not one this version reads (plugin code).
pub const UNSUPPORTED_FORMAT: u32 = 0x100;

/// A validated header and where things are.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub metric: Metric,
    pub dim: usize,
    pub n: usize,
    /// Offset of the first vector (a multiple of 16).
    pub vectors_at: usize,
    /// Offset just past the last vector.
    pub vectors_end: usize,
    /// Total length, trailer included.
    pub len: usize,
}

impl Layout {
    /// Where everything goes for `n` rows of `dim` in `format`; `None` if the
    /// sizes overflow the address space.
    fn of(format: u32, metric: Metric, dim: usize, n: u64) -> Option<Layout> {
        let n = usize::try_from(n).ok()?;
        let ids_end = n.checked_mul(8)?.checked_add(HEADER)?;
        let vectors_at = ids_end.checked_add(15)? & !15;
        let vectors_end = n.checked_mul(dim)?.checked_mul(4)?.checked_add(vectors_at)?;
        let len = if format == CHECKSUMMED { (vectors_end.checked_add(7)? & !7).checked_add(8)? } else { vectors_end };
        Some(Layout { metric, dim, n, vectors_at, vectors_end, len })
    }
    pub fn ids_end(&self) -> usize {
        HEADER + 8 * self.n
    }
}

/// The bytes of a new index in `format` (what `build` keeps and `persist` lends).
pub fn write(format: u32, metric: Metric, dim: usize, ids: &[i64], vectors: &[f32]) -> Result<(AlignedBytes, Layout), FnError> {
    let layout = Layout::of(format, metric, dim, ids.len() as u64)
        .filter(|l| vectors.len().checked_mul(4) == Some(l.vectors_end - l.vectors_at))
        .ok_or_else(|| FnError::resource_limit(format!("{} rows of dimension {dim} do not fit in memory", ids.len())))?;
    let mut out = AlignedBytes::zeroed(layout.len)?;
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&format.to_le_bytes());
    out[12] = metric as u8;
    out[16..20].copy_from_slice(&(dim as u32).to_le_bytes());
    out[24..32].copy_from_slice(&(ids.len() as u64).to_le_bytes());
    for (dst, id) in out[HEADER..layout.ids_end()].chunks_exact_mut(8).zip(ids) {
        dst.copy_from_slice(&id.to_le_bytes());
    }
    for (dst, v) in out[layout.vectors_at..layout.vectors_end].chunks_exact_mut(4).zip(vectors) {
        dst.copy_from_slice(&v.to_le_bytes());
    }
    if format == CHECKSUMMED {
        let body = layout.len - 8;
        let sum = checksum(&out[..body]);
        out[body..].copy_from_slice(&sum.to_le_bytes());
    }
    Ok((out, layout))
}

fn le<const W: usize>(bytes: &[u8], at: usize) -> [u8; W] {
    let mut a = [0u8; W];
    a.copy_from_slice(&bytes[at..at + W]);
    a
}

/// Checks persisted bytes without touching the rows: header, exact length,
/// zero padding, and for format 3 the checksum. `accepted` are the format
/// versions this component reads.
pub fn validate(bytes: &[u8], accepted: &[u32]) -> Result<Layout, FnError> {
    let bad = |what: String| FnError::malformed(format!("persisted vector.flat index is invalid: {what}"));
    if bytes.len() < HEADER {
        return Err(bad(format!("{} bytes is shorter than the {HEADER}-byte header", bytes.len())));
    }
    if &bytes[..8] != MAGIC {
        return Err(bad("wrong magic (not a vector.flat index)".into()));
    }
    let format = u32::from_le_bytes(le(bytes, 8));
    if !accepted.contains(&format) {
        let reads = accepted.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ");
        return Err(FnError::plugin(
            UNSUPPORTED_FORMAT,
            format!("persisted format {format} is not supported by this version (it reads format {reads})"),
        ));
    }
    let metric = match bytes[12] {
        0 => Metric::L2,
        1 => Metric::Cosine,
        m => return Err(bad(format!("unknown metric code {m}"))),
    };
    if bytes[13..16] != [0, 0, 0] || bytes[20..24] != [0, 0, 0, 0] {
        return Err(bad("reserved header bytes are not zero".into()));
    }
    let dim = u32::from_le_bytes(le(bytes, 16)) as usize;
    if dim == 0 {
        return Err(bad("dimension 0".into()));
    }
    let n = u64::from_le_bytes(le(bytes, 24));
    let layout = Layout::of(format, metric, dim, n)
        .filter(|l| l.len == bytes.len())
        .ok_or_else(|| bad(format!("{} bytes does not match {n} rows of dimension {dim}", bytes.len())))?;
    let trailer = if format == CHECKSUMMED { layout.len - 8 } else { layout.len };
    let padding_is_zero = |from: usize, to: usize| bytes[from..to].iter().all(|&b| b == 0);
    if !padding_is_zero(layout.ids_end(), layout.vectors_at) || !padding_is_zero(layout.vectors_end, trailer) {
        return Err(bad("padding bytes are not zero".into()));
    }
    if format == CHECKSUMMED && checksum(&bytes[..trailer]) != u64::from_le_bytes(le(bytes, trailer)) {
        return Err(bad("checksum mismatch".into()));
    }
    Ok(layout)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Word-wise FNV-1a over four lanes (see the module doc); `body.len()` is a
/// multiple of 8 by construction of the layout (a tail would count as zeros).
fn checksum(body: &[u8]) -> u64 {
    let mut lanes = [FNV_OFFSET, FNV_OFFSET ^ 1, FNV_OFFSET ^ 2, FNV_OFFSET ^ 3];
    let mut blocks = body.chunks_exact(32);
    for block in &mut blocks {
        for (j, lane) in lanes.iter_mut().enumerate() {
            *lane = (*lane ^ u64::from_le_bytes(le(block, 8 * j))).wrapping_mul(FNV_PRIME);
        }
    }
    for (j, word) in blocks.remainder().chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w[..word.len()].copy_from_slice(word);
        lanes[j] = (lanes[j] ^ u64::from_le_bytes(w)).wrapping_mul(FNV_PRIME);
    }
    let mut h = FNV_OFFSET;
    for v in lanes.into_iter().chain([body.len() as u64]) {
        h = (h ^ v).wrapping_mul(FNV_PRIME);
    }
    h
}

/// Views the bytes as `&[T]` in place, or `None` if they are not aligned for
/// `T` or not a whole number of `T` (the layout rules both out; checked anyway).
pub fn view<T: Plain>(bytes: &[u8]) -> Option<&[T]> {
    // SAFETY: `Plain` types are valid for every bit pattern; align_to only
    // hands out the properly aligned middle part.
    let (head, body, tail) = unsafe { bytes.align_to::<T>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}

/// Number types whose every bit pattern is a value (so bytes can be viewed as them).
pub trait Plain: Copy {}
impl Plain for i64 {}
impl Plain for f32 {}

// The in-place views read little-endian bytes as native numbers.
#[cfg(target_endian = "big")]
compile_error!("vector.flat reads its persisted little-endian layout in place");
