//! Arrow IPC stream reader.
use super::flatbuf::{read_u32, read_u64, Table};
use super::{Column, ColumnData, DataType, Field, RecordBatch, Schema};
use crate::FnError;

fn bad(what: impl core::fmt::Display) -> FnError {
    FnError::malformed(format!("malformed Arrow IPC stream: {what}"))
}

// Message.fbs / Schema.fbs constants.
const HEADER_SCHEMA: u8 = 1;
const HEADER_DICTIONARY_BATCH: u8 = 2;
const HEADER_RECORD_BATCH: u8 = 3;
const TYPE_INT: u8 = 2;
const TYPE_FLOATING_POINT: u8 = 3;
const TYPE_BINARY: u8 = 4;
const TYPE_UTF8: u8 = 5;
const TYPE_FIXED_SIZE_LIST: u8 = 16;
const PRECISION_SINGLE: i16 = 1;
const PRECISION_DOUBLE: i16 = 2;

/// Reads a whole IPC stream: its schema and every record batch.
pub fn read_stream(bytes: &[u8]) -> Result<(Schema, Vec<RecordBatch>), FnError> {
    let mut pos = 0usize;
    let mut schema: Option<Schema> = None;
    let mut batches = Vec::new();
    while pos < bytes.len() {
        let mut len = read_u32(bytes, pos).map_err(|_| bad(format!("truncated message header at byte {pos}")))?;
        pos += 4;
        if len == 0xFFFF_FFFF {
            len = read_u32(bytes, pos).map_err(|_| bad(format!("truncated message length at byte {pos}")))?;
            pos += 4;
        }
        if len == 0 {
            break; // end-of-stream marker
        }
        let meta_end = pos
            .checked_add(len as usize)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| bad(format!("message metadata of {len} bytes at byte {pos} runs past the end ({} bytes)", bytes.len())))?;
        let meta = &bytes[pos..meta_end];
        pos = meta_end;
        let message = Table::root(meta)?;
        let version = message.i16(0, 0)?;
        if !(3..=4).contains(&version) {
            return Err(bad(format!("unsupported metadata version {version} (expected V4 or V5)")));
        }
        let header_type = message.u8(1, 0)?;
        let body_len = message.i64(3, 0)?;
        let body_len = usize::try_from(body_len).map_err(|_| bad(format!("invalid body length {body_len}")))?;
        let body_end = pos
            .checked_add(body_len)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| bad(format!("message body of {body_len} bytes runs past the end of the stream")))?;
        let body = &bytes[pos..body_end];
        pos = body_end;
        let header = message.table(2)?.ok_or_else(|| bad("message has no header"))?;
        match header_type {
            HEADER_SCHEMA => {
                if schema.is_some() {
                    return Err(bad("a second schema message"));
                }
                schema = Some(read_schema(header)?);
            }
            HEADER_RECORD_BATCH => {
                let schema = schema.as_ref().ok_or_else(|| bad("record batch before the schema"))?;
                batches.push(read_batch(schema, header, body)?);
            }
            HEADER_DICTIONARY_BATCH => return Err(bad("dictionary-encoded columns are not supported")),
            other => return Err(bad(format!("unsupported message type {other}"))),
        }
    }
    let schema = schema.ok_or_else(|| bad("no schema message (empty or truncated input)"))?;
    Ok((schema, batches))
}

/// Checks only the framing of a stream (message lengths, metadata roots,
/// body bounds, schema first) without decoding columns, so streams of any
/// column type pass. Returns the number of record batches.
pub fn check_stream(bytes: &[u8]) -> Result<usize, FnError> {
    let mut pos = 0usize;
    let mut seen_schema = false;
    let mut batches = 0usize;
    while pos < bytes.len() {
        let mut len = read_u32(bytes, pos).map_err(|_| bad(format!("truncated message header at byte {pos}")))?;
        pos += 4;
        if len == 0xFFFF_FFFF {
            len = read_u32(bytes, pos).map_err(|_| bad(format!("truncated message length at byte {pos}")))?;
            pos += 4;
        }
        if len == 0 {
            break;
        }
        let meta_end = pos
            .checked_add(len as usize)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| bad(format!("message metadata of {len} bytes at byte {pos} runs past the end")))?;
        let message = Table::root(&bytes[pos..meta_end])?;
        pos = meta_end;
        let version = message.i16(0, 0)?;
        if !(3..=4).contains(&version) {
            return Err(bad(format!("unsupported metadata version {version}")));
        }
        let body_len = usize::try_from(message.i64(3, 0)?).map_err(|_| bad("invalid body length"))?;
        pos = pos.checked_add(body_len).filter(|&e| e <= bytes.len()).ok_or_else(|| bad("message body runs past the end"))?;
        message.table(2)?.ok_or_else(|| bad("message has no header"))?;
        match (message.u8(1, 0)?, seen_schema) {
            (HEADER_SCHEMA, false) => seen_schema = true,
            (HEADER_SCHEMA, true) => return Err(bad("a second schema message")),
            (HEADER_RECORD_BATCH | HEADER_DICTIONARY_BATCH, true) => batches += 1,
            (HEADER_RECORD_BATCH | HEADER_DICTIONARY_BATCH, false) => return Err(bad("record batch before the schema")),
            (other, _) => return Err(bad(format!("unsupported message type {other}"))),
        }
    }
    if !seen_schema {
        return Err(bad("no schema message (empty or truncated input)"));
    }
    Ok(batches)
}

fn read_schema(t: Table<'_>) -> Result<Schema, FnError> {
    if t.i16(0, 0)? != 0 {
        return Err(bad("big-endian data is not supported"));
    }
    let mut fields = Vec::new();
    if let Some(v) = t.vector(1, 4)? {
        for i in 0..v.len {
            fields.push(read_field(t.vector_table(v, i)?)?);
        }
    }
    Ok(Schema { fields })
}

fn read_field(f: Table<'_>) -> Result<Field, FnError> {
    let name = f.string(0)?.unwrap_or("").to_string();
    let nullable = f.u8(1, 0)? != 0;
    if f.table(4)?.is_some() {
        return Err(bad(format!("column '{name}' is dictionary-encoded, which is not supported")));
    }
    let type_type = f.u8(2, 0)?;
    let ty = f.table(3)?;
    let unsupported = |what: &str| bad(format!("column '{name}' has unsupported type {what}"));
    let data_type = match type_type {
        TYPE_INT => {
            let ty = ty.ok_or_else(|| bad("Int type without parameters"))?;
            match (ty.i32(0, 0)?, ty.u8(1, 0)? != 0) {
                (32, true) => DataType::Int32,
                (64, true) => DataType::Int64,
                (bits, signed) => return Err(unsupported(&format!("{}Int{bits}", if signed { "" } else { "U" }))),
            }
        }
        TYPE_FLOATING_POINT => match ty.ok_or_else(|| bad("FloatingPoint type without parameters"))?.i16(0, 0)? {
            PRECISION_SINGLE => DataType::Float32,
            PRECISION_DOUBLE => DataType::Float64,
            _ => return Err(unsupported("Float16")),
        },
        TYPE_BINARY => DataType::Binary,
        TYPE_UTF8 => DataType::Utf8,
        TYPE_FIXED_SIZE_LIST => {
            let size = ty.ok_or_else(|| bad("FixedSizeList type without parameters"))?.i32(0, 0)?;
            let size = usize::try_from(size).map_err(|_| bad(format!("column '{name}' has list size {size}")))?;
            let children = f.vector(5, 4)?.ok_or_else(|| bad(format!("FixedSizeList column '{name}' has no child field")))?;
            if children.len != 1 {
                return Err(bad(format!("FixedSizeList column '{name}' has {} child fields", children.len)));
            }
            let child = read_field(f.vector_table(children, 0)?)?;
            if child.data_type != DataType::Float32 {
                return Err(unsupported(&format!("FixedSizeList[{size}]<{}>", child.data_type.describe())));
            }
            DataType::FixedSizeListF32 { size, item_name: child.name, item_nullable: child.nullable }
        }
        other => return Err(unsupported(&format!("(Arrow type id {other})"))),
    };
    Ok(Field { name, data_type, nullable })
}

/// Walks a record batch's nodes and buffers in field order.
struct BatchCursor<'a> {
    meta: &'a [u8],
    body: &'a [u8],
    nodes: (usize, usize),
    buffers: (usize, usize),
    next_node: usize,
    next_buffer: usize,
}

impl<'a> BatchCursor<'a> {
    /// (length, null_count) of the next field node.
    fn node(&mut self, column: &str) -> Result<(usize, usize), FnError> {
        if self.next_node >= self.nodes.1 {
            return Err(bad(format!("record batch has too few field nodes for column '{column}'")));
        }
        let at = self.nodes.0 + 16 * self.next_node;
        self.next_node += 1;
        let length = read_u64(self.meta, at)? as i64;
        let nulls = read_u64(self.meta, at + 8)? as i64;
        let length = usize::try_from(length).map_err(|_| bad(format!("column '{column}' has length {length}")))?;
        let nulls = usize::try_from(nulls).map_err(|_| bad(format!("column '{column}' has null count {nulls}")))?;
        Ok((length, nulls))
    }

    fn buffer(&mut self, column: &str) -> Result<&'a [u8], FnError> {
        if self.next_buffer >= self.buffers.1 {
            return Err(bad(format!("record batch has too few buffers for column '{column}'")));
        }
        let at = self.buffers.0 + 16 * self.next_buffer;
        self.next_buffer += 1;
        let offset = read_u64(self.meta, at)?;
        let length = read_u64(self.meta, at + 8)?;
        let start = usize::try_from(offset).map_err(|_| bad("buffer offset overflow"))?;
        let end = usize::try_from(length).ok().and_then(|l| start.checked_add(l));
        end.and_then(|end| self.body.get(start..end))
            .ok_or_else(|| bad(format!("buffer of column '{column}' lies outside the message body")))
    }

    /// The validity bitmap, or None when the column has no nulls.
    fn validity(&mut self, column: &str, len: usize, nulls: usize) -> Result<Option<Vec<u8>>, FnError> {
        let buf = self.buffer(column)?;
        if nulls == 0 {
            return Ok(None);
        }
        let need = len.div_ceil(8);
        let bits = buf.get(..need).ok_or_else(|| bad(format!("validity bitmap of column '{column}' is too short")))?;
        Ok(Some(bits.to_vec()))
    }
}

fn fixed<const W: usize, T>(buf: &[u8], len: usize, column: &str, from: fn([u8; W]) -> T) -> Result<Vec<T>, FnError> {
    let need = len.checked_mul(W).ok_or_else(|| bad("length overflow"))?;
    let bytes = buf.get(..need).ok_or_else(|| bad(format!("values of column '{column}' are truncated")))?;
    Ok(bytes
        .chunks_exact(W)
        .map(|c| {
            let mut a = [0u8; W];
            a.copy_from_slice(c);
            from(a)
        })
        .collect())
}

fn read_batch(schema: &Schema, header: Table<'_>, body: &[u8]) -> Result<RecordBatch, FnError> {
    if header.table(3)?.is_some() {
        return Err(bad("compressed record batches are not supported"));
    }
    let length = header.i64(0, 0)?;
    let num_rows = usize::try_from(length).map_err(|_| bad(format!("record batch length {length}")))?;
    let nodes = header.vector(1, 16)?.map_or((0, 0), |v| (v.start, v.len));
    let buffers = header.vector(2, 16)?.map_or((0, 0), |v| (v.start, v.len));
    let mut cursor = BatchCursor { meta: header.bytes(), body, nodes, buffers, next_node: 0, next_buffer: 0 };
    let mut columns = Vec::with_capacity(schema.fields.len());
    for field in &schema.fields {
        let column = read_column(&mut cursor, field)?;
        if column.len() != num_rows {
            return Err(bad(format!("column '{}' has {} rows, the batch {num_rows}", field.name, column.len())));
        }
        columns.push(column);
    }
    Ok(RecordBatch { num_rows, columns })
}

fn read_column(c: &mut BatchCursor<'_>, field: &Field) -> Result<Column, FnError> {
    let name = field.name.as_str();
    let (len, nulls) = c.node(name)?;
    let validity = c.validity(name, len, nulls)?;
    let data = match &field.data_type {
        DataType::Int32 => ColumnData::Int32(fixed(c.buffer(name)?, len, name, i32::from_le_bytes)?),
        DataType::Int64 => ColumnData::Int64(fixed(c.buffer(name)?, len, name, i64::from_le_bytes)?),
        DataType::Float32 => ColumnData::Float32(fixed(c.buffer(name)?, len, name, f32::from_le_bytes)?),
        DataType::Float64 => ColumnData::Float64(fixed(c.buffer(name)?, len, name, f64::from_le_bytes)?),
        DataType::Utf8 | DataType::Binary => {
            let rows_plus_one = len.checked_add(1).ok_or_else(|| bad("length overflow"))?;
            let offsets_buf = c.buffer(name)?;
            let data_buf = c.buffer(name)?;
            // A zero-row column may omit its offsets entirely.
            let offsets =
                if len == 0 && offsets_buf.len() < 4 { vec![0] } else { fixed(offsets_buf, rows_plus_one, name, i32::from_le_bytes)? };
            let first = offsets[0];
            if first < 0 || offsets.windows(2).any(|w| w[1] < w[0]) || offsets[len] as usize > data_buf.len() {
                return Err(bad(format!("offsets of column '{name}' are invalid")));
            }
            // Rebase so offsets start at 0 and data holds exactly the values.
            let data = data_buf[first as usize..offsets[len] as usize].to_vec();
            let offsets: Vec<i32> = offsets.iter().map(|o| o - first).collect();
            if field.data_type == DataType::Utf8 {
                for w in offsets.windows(2) {
                    if core::str::from_utf8(&data[w[0] as usize..w[1] as usize]).is_err() {
                        return Err(bad(format!("column '{name}' holds invalid UTF-8")));
                    }
                }
                ColumnData::Utf8 { offsets, data }
            } else {
                ColumnData::Binary { offsets, data }
            }
        }
        DataType::FixedSizeListF32 { size, item_name, .. } => {
            let child_name = format!("{name}.{item_name}");
            let (child_len, child_nulls) = c.node(&child_name)?;
            if Some(child_len) != len.checked_mul(*size) {
                return Err(bad(format!("column '{name}' has {child_len} list values, expected {len} x {size}")));
            }
            let value_validity = c.validity(&child_name, child_len, child_nulls)?;
            let values = fixed(c.buffer(&child_name)?, child_len, &child_name, f32::from_le_bytes)?;
            ColumnData::FixedSizeListF32 { size: *size, values, value_validity }
        }
    };
    Ok(Column { data, validity })
}
