//! The persisted format of a `vector.flat` index (all integers little endian):
//!
//! | offset | size   | field                                        |
//! |--------|--------|----------------------------------------------|
//! | 0      | 8      | magic `UNIVFLAT`                             |
//! | 8      | 4      | format version (u32): 1, or 3                |
//! | 12     | 1      | metric: 0 = l2, 1 = cosine                   |
//! | 13     | 3      | reserved, zero                               |
//! | 16     | 4      | dim (u32, > 0)                               |
//! | 20     | 8      | n, the row count (u64)                       |
//! | 28     | 8n     | ids (i64), build order                       |
//! | 28+8n  | 4n·dim | vectors (f32), row-major, build order        |
//! | end    | 8      | format 3 only: FNV-1a 64 of every byte above |
//!
//! Format 1 is written by v1 and v2 (so a rollback to v1 can still open what
//! v2 persisted); format 3 is the deliberately incompatible one.
use crate::Metric;
use uni_plugin_sdk::FnError;

pub const MAGIC: &[u8; 8] = b"UNIVFLAT";
const HEADER: usize = 28;
/// The persisted format is not one this version reads (plugin code).
pub const UNSUPPORTED_FORMAT: u32 = 0x100;

pub struct Decoded {
    pub metric: Metric,
    pub dim: usize,
    pub ids: Vec<i64>,
    pub vectors: Vec<f32>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn encode(format: u32, metric: Metric, dim: usize, ids: &[i64], vectors: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + ids.len() * 8 + vectors.len() * 4 + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&[metric as u8, 0, 0, 0]);
    out.extend_from_slice(&(dim as u32).to_le_bytes());
    out.extend_from_slice(&(ids.len() as u64).to_le_bytes());
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
    for v in vectors {
        out.extend_from_slice(&v.to_le_bytes());
    }
    if format == 3 {
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
    }
    out
}

fn le<const W: usize>(bytes: &[u8], at: usize) -> [u8; W] {
    let mut a = [0u8; W];
    a.copy_from_slice(&bytes[at..at + W]);
    a
}

/// Decodes and validates persisted bytes; `accepted` are the format versions
/// this component reads.
pub fn decode(bytes: &[u8], accepted: &[u32]) -> Result<Decoded, FnError> {
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
    if bytes[13..16] != [0, 0, 0] {
        return Err(bad("reserved header bytes are not zero".into()));
    }
    let dim = u32::from_le_bytes(le(bytes, 16)) as usize;
    if dim == 0 {
        return Err(bad("dimension 0".into()));
    }
    let n = u64::from_le_bytes(le(bytes, 20));
    let trailer = if format == 3 { 8 } else { 0 };
    let expected = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(8)?.checked_add(n.checked_mul(dim)?.checked_mul(4)?))
        .and_then(|body| body.checked_add(HEADER + trailer));
    if expected != Some(bytes.len()) {
        return Err(bad(format!("{} bytes does not match {n} rows of dimension {dim}", bytes.len())));
    }
    let n = n as usize;
    if format == 3 {
        let body = &bytes[..bytes.len() - 8];
        if fnv1a(body) != u64::from_le_bytes(le(bytes, bytes.len() - 8)) {
            return Err(bad("checksum mismatch".into()));
        }
    }
    let ids_end = HEADER + 8 * n;
    let ids: Vec<i64> = bytes[HEADER..ids_end].chunks_exact(8).map(|c| i64::from_le_bytes(le(c, 0))).collect();
    let vectors: Vec<f32> = bytes[ids_end..ids_end + 4 * n * dim].chunks_exact(4).map(|c| f32::from_le_bytes(le(c, 0))).collect();
    if let Some(i) = vectors.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!("row {} holds a non-finite value", i / dim)));
    }
    Ok(Decoded { metric, dim, ids, vectors })
}
