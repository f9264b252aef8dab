//! Just enough FlatBuffers for Arrow IPC metadata: a bounds-checked reader
//! (every malformed offset is an error, never a panic) and a small builder
//! that lays objects out front to back (parents before children, so every
//! uoffset points forward as the format requires).
use crate::FnError;

fn bad(what: &str) -> FnError {
    FnError::malformed(format!("malformed Arrow IPC metadata: {what}"))
}

pub(crate) fn read_u16(buf: &[u8], pos: usize) -> Result<u16, FnError> {
    let b = buf.get(pos..pos.checked_add(2).ok_or_else(|| bad("offset overflow"))?).ok_or_else(|| bad("offset out of bounds"))?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}
pub(crate) fn read_u32(buf: &[u8], pos: usize) -> Result<u32, FnError> {
    let b = buf.get(pos..pos.checked_add(4).ok_or_else(|| bad("offset overflow"))?).ok_or_else(|| bad("offset out of bounds"))?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}
pub(crate) fn read_u64(buf: &[u8], pos: usize) -> Result<u64, FnError> {
    let b = buf.get(pos..pos.checked_add(8).ok_or_else(|| bad("offset overflow"))?).ok_or_else(|| bad("offset out of bounds"))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

/// A table inside a FlatBuffer.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

/// A vector's element region: `len` elements starting at `start`.
#[derive(Clone, Copy)]
pub(crate) struct VecRef {
    pub start: usize,
    pub len: usize,
}

impl<'a> Table<'a> {
    /// The root table of `buf`.
    pub fn root(buf: &'a [u8]) -> Result<Self, FnError> {
        let off = read_u32(buf, 0)? as usize;
        Table::at(buf, off)
    }

    fn at(buf: &'a [u8], pos: usize) -> Result<Self, FnError> {
        let soffset = read_u32(buf, pos)? as i32 as i64;
        let vtable = pos as i64 - soffset;
        if vtable < 0 || vtable as usize >= buf.len() {
            return Err(bad("vtable out of bounds"));
        }
        let vtable = vtable as usize;
        let vtable_len = read_u16(buf, vtable)? as usize;
        if vtable_len < 4 || vtable_len % 2 != 0 || vtable + vtable_len > buf.len() {
            return Err(bad("invalid vtable"));
        }
        Ok(Table { buf, pos, vtable, vtable_len })
    }

    /// Absolute position of field `slot`, or None when absent.
    fn field(&self, slot: usize) -> Result<Option<usize>, FnError> {
        let entry = 4 + 2 * slot;
        if entry + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = read_u16(self.buf, self.vtable + entry)? as usize;
        Ok(if off == 0 { None } else { Some(self.pos + off) })
    }

    pub fn u8(&self, slot: usize, default: u8) -> Result<u8, FnError> {
        match self.field(slot)? {
            Some(p) => self.buf.get(p).copied().ok_or_else(|| bad("field out of bounds")),
            None => Ok(default),
        }
    }
    pub fn i16(&self, slot: usize, default: i16) -> Result<i16, FnError> {
        match self.field(slot)? {
            Some(p) => Ok(read_u16(self.buf, p)? as i16),
            None => Ok(default),
        }
    }
    pub fn i32(&self, slot: usize, default: i32) -> Result<i32, FnError> {
        match self.field(slot)? {
            Some(p) => Ok(read_u32(self.buf, p)? as i32),
            None => Ok(default),
        }
    }
    pub fn i64(&self, slot: usize, default: i64) -> Result<i64, FnError> {
        match self.field(slot)? {
            Some(p) => Ok(read_u64(self.buf, p)? as i64),
            None => Ok(default),
        }
    }

    fn indirect(&self, slot: usize) -> Result<Option<usize>, FnError> {
        match self.field(slot)? {
            Some(p) => {
                let target = p.checked_add(read_u32(self.buf, p)? as usize).ok_or_else(|| bad("offset overflow"))?;
                if target >= self.buf.len() {
                    return Err(bad("offset out of bounds"));
                }
                Ok(Some(target))
            }
            None => Ok(None),
        }
    }

    pub fn table(&self, slot: usize) -> Result<Option<Table<'a>>, FnError> {
        self.indirect(slot)?.map(|p| Table::at(self.buf, p)).transpose()
    }

    /// A vector whose elements are `elem_size` bytes each.
    pub fn vector(&self, slot: usize, elem_size: usize) -> Result<Option<VecRef>, FnError> {
        let Some(p) = self.indirect(slot)? else { return Ok(None) };
        let len = read_u32(self.buf, p)? as usize;
        let start = p + 4;
        let bytes = len.checked_mul(elem_size).ok_or_else(|| bad("vector too long"))?;
        if start.checked_add(bytes).map_or(true, |end| end > self.buf.len()) {
            return Err(bad("vector out of bounds"));
        }
        Ok(Some(VecRef { start, len }))
    }

    /// The `i`th table of a vector of tables.
    pub fn vector_table(&self, v: VecRef, i: usize) -> Result<Table<'a>, FnError> {
        let slot = v.start + 4 * i;
        let target = slot.checked_add(read_u32(self.buf, slot)? as usize).ok_or_else(|| bad("offset overflow"))?;
        Table::at(self.buf, target)
    }

    pub fn string(&self, slot: usize) -> Result<Option<&'a str>, FnError> {
        let Some(v) = self.vector(slot, 1)? else { return Ok(None) };
        core::str::from_utf8(&self.buf[v.start..v.start + v.len]).map(Some).map_err(|_| bad("string is not UTF-8"))
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// A value to serialize.
pub(crate) enum Obj {
    /// Fields as (slot, value).
    Table(Vec<(u16, Val)>),
    String(String),
    Tables(Vec<Obj>),
    /// A vector of structs whose elements need 8-byte alignment.
    Structs {
        count: usize,
        bytes: Vec<u8>,
    },
}

pub(crate) enum Val {
    U8(u8),
    I16(i16),
    I32(i32),
    I64(i64),
    Off(Obj),
}

impl Val {
    fn size(&self) -> usize {
        match self {
            Val::U8(_) => 1,
            Val::I16(_) => 2,
            Val::I32(_) | Val::Off(_) => 4,
            Val::I64(_) => 8,
        }
    }
}

fn pad_to(buf: &mut Vec<u8>, align: usize) {
    while buf.len() % align != 0 {
        buf.push(0);
    }
}
fn patch_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Serializes `root` as a FlatBuffer. Positions are absolute, so the result
/// must be placed at an 8-aligned offset (IPC messages are).
pub(crate) fn serialize(root: &Obj) -> Vec<u8> {
    let mut buf = vec![0u8; 4];
    let root_pos = write_obj(&mut buf, root);
    patch_u32(&mut buf, 0, root_pos as u32);
    pad_to(&mut buf, 8);
    buf
}

fn write_obj(buf: &mut Vec<u8>, obj: &Obj) -> usize {
    match obj {
        Obj::Table(fields) => {
            // Lay the table out relative to an 8-aligned start: soffset, then
            // each field aligned to its own size.
            let slots = fields.iter().map(|(s, _)| *s as usize + 1).max().unwrap_or(0);
            let mut vt = vec![0u16; 2 + slots];
            let mut offsets = Vec::with_capacity(fields.len());
            let mut end = 4usize;
            for (slot, val) in fields {
                let size = val.size();
                end = end.div_ceil(size) * size;
                vt[2 + *slot as usize] = end as u16;
                offsets.push(end);
                end += size;
            }
            vt[0] = (vt.len() * 2) as u16;
            vt[1] = end as u16;
            pad_to(buf, 2);
            let vt_pos = buf.len();
            for v in &vt {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            pad_to(buf, 8);
            let pos = buf.len();
            buf.resize(pos + end, 0);
            patch_u32(buf, pos, (pos - vt_pos) as u32);
            let mut children = Vec::new();
            for ((_, val), off) in fields.iter().zip(offsets) {
                let at = pos + off;
                match val {
                    Val::U8(v) => buf[at] = *v,
                    Val::I16(v) => buf[at..at + 2].copy_from_slice(&v.to_le_bytes()),
                    Val::I32(v) => buf[at..at + 4].copy_from_slice(&v.to_le_bytes()),
                    Val::I64(v) => buf[at..at + 8].copy_from_slice(&v.to_le_bytes()),
                    Val::Off(child) => children.push((at, child)),
                }
            }
            for (at, child) in children {
                let child_pos = write_obj(buf, child);
                patch_u32(buf, at, (child_pos - at) as u32);
            }
            pos
        }
        Obj::String(s) => {
            pad_to(buf, 4);
            let pos = buf.len();
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
            buf.push(0);
            pos
        }
        Obj::Tables(items) => {
            pad_to(buf, 4);
            let pos = buf.len();
            buf.extend_from_slice(&(items.len() as u32).to_le_bytes());
            buf.resize(pos + 4 + 4 * items.len(), 0);
            for (i, item) in items.iter().enumerate() {
                let slot = pos + 4 + 4 * i;
                let child_pos = write_obj(buf, item);
                patch_u32(buf, slot, (child_pos - slot) as u32);
            }
            pos
        }
        Obj::Structs { count, bytes } => {
            // The length prefix sits right before 8-aligned elements.
            pad_to(buf, 4);
            if buf.len() % 8 == 0 {
                buf.extend_from_slice(&[0; 4]);
            }
            let pos = buf.len();
            buf.extend_from_slice(&(*count as u32).to_le_bytes());
            buf.extend_from_slice(bytes);
            pos
        }
    }
}
