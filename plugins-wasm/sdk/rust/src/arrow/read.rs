//! Arrow IPC stream reader.
use super::flatbuf::{read_u32, read_u64, Table};
use super::{Column, ColumnData, DataType, Field, Layout, OtherType, RecordBatch, Schema};
use crate::FnError;

fn bad(what: impl core::fmt::Display) -> FnError {
    FnError::malformed(format!("malformed Arrow IPC stream: {what}"))
}

// Message.fbs / Schema.fbs constants.
const HEADER_SCHEMA: u8 = 1;
const HEADER_DICTIONARY_BATCH: u8 = 2;
const HEADER_RECORD_BATCH: u8 = 3;
const METADATA_V4: i16 = 3;
const METADATA_V5: i16 = 4;
const TYPE_NULL: u8 = 1;
const TYPE_INT: u8 = 2;
const TYPE_FLOATING_POINT: u8 = 3;
const TYPE_BINARY: u8 = 4;
const TYPE_UTF8: u8 = 5;
const TYPE_BOOL: u8 = 6;
const TYPE_DECIMAL: u8 = 7;
const TYPE_DATE: u8 = 8;
const TYPE_TIME: u8 = 9;
const TYPE_TIMESTAMP: u8 = 10;
const TYPE_INTERVAL: u8 = 11;
const TYPE_LIST: u8 = 12;
const TYPE_STRUCT: u8 = 13;
const TYPE_UNION: u8 = 14;
const TYPE_FIXED_SIZE_BINARY: u8 = 15;
const TYPE_FIXED_SIZE_LIST: u8 = 16;
const TYPE_MAP: u8 = 17;
const TYPE_DURATION: u8 = 18;
const TYPE_LARGE_BINARY: u8 = 19;
const TYPE_LARGE_UTF8: u8 = 20;
const TYPE_LARGE_LIST: u8 = 21;
const TYPE_RUN_END_ENCODED: u8 = 22;
const TYPE_BINARY_VIEW: u8 = 23;
const TYPE_UTF8_VIEW: u8 = 24;
const TYPE_LIST_VIEW: u8 = 25;
const TYPE_LARGE_LIST_VIEW: u8 = 26;
const PRECISION_HALF: i16 = 0;
const PRECISION_SINGLE: i16 = 1;
const PRECISION_DOUBLE: i16 = 2;
const CODECS: [&str; 2] = ["LZ4_FRAME", "ZSTD"];
/// Nesting deeper than this is refused before it can exhaust the stack.
const MAX_DEPTH: usize = 64;

/// One message's frame: its metadata table, header type and body.
struct Message<'a> {
    header_type: u8,
    header: Table<'a>,
    body: &'a [u8],
    version: i16,
}

/// Splits the stream into messages, checking each frame (lengths, metadata
/// root, body bounds). Calls `each` per message; stops at the end-of-stream marker.
fn for_each_message<'a>(bytes: &'a [u8], mut each: impl FnMut(Message<'a>) -> Result<(), FnError>) -> Result<(), FnError> {
    let mut pos = 0usize;
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
        let message = Table::root(&bytes[pos..meta_end])?;
        pos = meta_end;
        let version = message.i16(0, 0)?;
        if version != METADATA_V4 && version != METADATA_V5 {
            return Err(bad(format!("unsupported metadata version V{} (expected V4 or V5)", version + 1)));
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
        each(Message { header_type, header, body, version })?;
    }
    Ok(())
}

/// Reads a whole IPC stream: its schema and every record batch. Columns of
/// types the reader does not decode come back as [`DataType::Other`] /
/// [`ColumnData::Other`]; dictionary batches (for dictionary-encoded
/// columns, which are such columns) are checked and skipped.
pub fn read_stream(bytes: &[u8]) -> Result<(Schema, Vec<RecordBatch>), FnError> {
    let mut schema: Option<Schema> = None;
    let mut batches = Vec::new();
    for_each_message(bytes, |m| {
        match m.header_type {
            HEADER_SCHEMA => {
                if schema.is_some() {
                    return Err(bad("a second schema message"));
                }
                schema = Some(read_schema(m.header, m.version)?);
            }
            HEADER_RECORD_BATCH => {
                let schema = schema.as_ref().ok_or_else(|| bad("record batch before the schema"))?;
                batches.push(read_batch(schema, m.header, m.body, batches.len())?);
            }
            HEADER_DICTIONARY_BATCH => {
                if schema.is_none() {
                    return Err(bad("dictionary batch before the schema"));
                }
            }
            other => return Err(bad(format!("unsupported message type {other}"))),
        }
        Ok(())
    })?;
    let schema = schema.ok_or_else(|| bad("no schema message (empty or truncated input)"))?;
    Ok((schema, batches))
}

/// Checks only the framing of a stream (message lengths, metadata roots,
/// body bounds, schema first) without decoding columns, so streams of any
/// column type pass. Returns the number of record batches.
pub fn check_stream(bytes: &[u8]) -> Result<usize, FnError> {
    let mut seen_schema = false;
    let mut batches = 0usize;
    for_each_message(bytes, |m| {
        match (m.header_type, seen_schema) {
            (HEADER_SCHEMA, false) => seen_schema = true,
            (HEADER_SCHEMA, true) => return Err(bad("a second schema message")),
            (HEADER_RECORD_BATCH | HEADER_DICTIONARY_BATCH, true) => batches += 1,
            (HEADER_RECORD_BATCH | HEADER_DICTIONARY_BATCH, false) => return Err(bad("record batch before the schema")),
            (other, _) => return Err(bad(format!("unsupported message type {other}"))),
        }
        Ok(())
    })?;
    if !seen_schema {
        return Err(bad("no schema message (empty or truncated input)"));
    }
    Ok(batches)
}

fn read_schema(t: Table<'_>, version: i16) -> Result<Schema, FnError> {
    if t.i16(0, 0)? != 0 {
        return Err(bad("big-endian data is not supported"));
    }
    let mut fields = Vec::new();
    if let Some(v) = t.vector(1, 4)? {
        for i in 0..v.len {
            fields.push(read_field(t.vector_table(v, i)?, version, 0)?);
        }
    }
    Ok(Schema { fields })
}

const TIME_UNITS: [&str; 4] = ["SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND"];

/// A field's type as the stream declares it: its name in Arrow's spelling
/// (apache-arrow's `DataType.toString()`) and its wire layout.
struct RawType {
    name: String,
    layout: Layout,
}

fn raw_children(f: Table<'_>, version: i16, depth: usize) -> Result<Vec<(String, RawType, Table<'_>)>, FnError> {
    let mut out = Vec::new();
    if let Some(v) = f.vector(5, 4)? {
        for i in 0..v.len {
            let child = f.vector_table(v, i)?;
            let name = child.string(0)?.unwrap_or("").to_string();
            out.push((name, raw_type(child, version, depth + 1)?, child));
        }
    }
    Ok(out)
}

/// The declared type of field `f` (ignoring dictionary encoding), whatever it is.
fn raw_type(f: Table<'_>, version: i16, depth: usize) -> Result<RawType, FnError> {
    let name = f.string(0)?.unwrap_or("");
    if depth > MAX_DEPTH {
        return Err(bad(format!("column '{name}' is nested more than {MAX_DEPTH} levels deep")));
    }
    let type_id = f.u8(2, 0)?;
    let ty = f.table(3)?;
    let int = |slot: usize, default: i32| -> Result<i32, FnError> { ty.map_or(Ok(default), |t| t.i32(slot, default)) };
    let short = |slot: usize, default: i16| -> Result<i16, FnError> { ty.map_or(Ok(default), |t| t.i16(slot, default)) };
    let unit = |default: i16| -> Result<&'static str, FnError> {
        let u = short(0, default)?;
        TIME_UNITS.get(u as usize).copied().ok_or_else(|| bad(format!("column '{name}' has time unit {u}")))
    };
    let children = raw_children(f, version, depth)?;
    let leaf = |name: String, buffers: usize| RawType { name, layout: Layout { buffers, variadic: false, children: vec![] } };
    let nested = |name: String, buffers: usize, children: &[(String, RawType, Table<'_>)]| RawType {
        name,
        layout: Layout { buffers, variadic: false, children: children.iter().map(|(_, c, _)| c.layout.clone()).collect() },
    };
    let child_name = |i: usize| children.get(i).map_or("?".to_string(), |(_, c, _)| c.name.clone());
    let members = || children.iter().map(|(n, c, _)| format!("{n}:{}", c.name)).collect::<Vec<_>>().join(", ");
    let one_child = |what: &str| -> Result<(), FnError> {
        if children.len() == 1 {
            Ok(())
        } else {
            Err(bad(format!("{what} column '{name}' has {} child fields", children.len())))
        }
    };
    Ok(match type_id {
        TYPE_NULL => leaf("Null".into(), 0),
        TYPE_INT => {
            let bits = int(0, 0)?;
            if ![8, 16, 32, 64].contains(&bits) {
                return Err(bad(format!("column '{name}' is an Int of {bits} bits")));
            }
            let signed = ty.map_or(Ok(0), |t| t.u8(1, 0))? != 0;
            leaf(format!("{}nt{bits}", if signed { "I" } else { "Ui" }), 2)
        }
        TYPE_FLOATING_POINT => match short(0, 0)? {
            PRECISION_HALF => leaf("Float16".into(), 2),
            PRECISION_SINGLE => leaf("Float32".into(), 2),
            PRECISION_DOUBLE => leaf("Float64".into(), 2),
            p => return Err(bad(format!("column '{name}' has floating-point precision {p}"))),
        },
        TYPE_BINARY => leaf("Binary".into(), 3),
        TYPE_UTF8 => leaf("Utf8".into(), 3),
        TYPE_LARGE_BINARY => leaf("LargeBinary".into(), 3),
        TYPE_LARGE_UTF8 => leaf("LargeUtf8".into(), 3),
        TYPE_BOOL => leaf("Bool".into(), 2),
        TYPE_DECIMAL => {
            let (precision, scale) = (int(0, 0)?, int(1, 0)?);
            leaf(format!("Decimal[{precision}e{}{scale}]", if scale > 0 { "+" } else { "" }), 2)
        }
        TYPE_DATE => match short(0, 1)? {
            0 => leaf("Date32<DAY>".into(), 2),
            1 => leaf("Date64<MILLISECOND>".into(), 2),
            u => return Err(bad(format!("column '{name}' has date unit {u}"))),
        },
        TYPE_TIME => leaf(format!("Time{}<{}>", int(1, 32)?, unit(1)?), 2),
        TYPE_TIMESTAMP => {
            let tz = ty.map_or(Ok(None), |t| t.string(1))?;
            leaf(format!("Timestamp<{}{}>", unit(0)?, tz.map_or(String::new(), |z| format!(", {z}"))), 2)
        }
        TYPE_DURATION => leaf(format!("Duration<{}>", unit(1)?), 2),
        TYPE_INTERVAL => {
            let u = short(0, 0)?;
            let unit = ["YEAR_MONTH", "DAY_TIME", "MONTH_DAY_NANO"]
                .get(u as usize)
                .ok_or_else(|| bad(format!("column '{name}' has interval unit {u}")))?;
            leaf(format!("Interval<{unit}>"), 2)
        }
        TYPE_FIXED_SIZE_BINARY => leaf(format!("FixedSizeBinary[{}]", int(0, 0)?), 2),
        TYPE_LIST => {
            one_child("List")?;
            nested(format!("List<{}>", child_name(0)), 2, &children)
        }
        TYPE_LARGE_LIST => {
            one_child("LargeList")?;
            nested(format!("LargeList<{}>", child_name(0)), 2, &children)
        }
        TYPE_FIXED_SIZE_LIST => {
            one_child("FixedSizeList")?;
            nested(format!("FixedSizeList[{}]<{}>", int(0, 0)?, child_name(0)), 1, &children)
        }
        TYPE_MAP => {
            one_child("Map")?;
            // The entries child is a Struct<{key, value}>: apache-arrow spells the map by its members.
            let members = children[0].1.name.strip_prefix("Struct<").unwrap_or("{}>");
            nested(format!("Map<{members}"), 2, &children)
        }
        TYPE_STRUCT => nested(format!("Struct<{{{}}}>", members()), 1, &children),
        TYPE_UNION => {
            let dense = short(0, 0)? == 1;
            // V4 wrote a validity buffer for unions; V5 has none.
            let buffers = 1 + usize::from(dense) + usize::from(version < METADATA_V5);
            let names = children.iter().map(|(_, c, _)| c.name.clone()).collect::<Vec<_>>().join(" | ");
            nested(format!("Union<{names}>"), buffers, &children)
        }
        TYPE_RUN_END_ENCODED => nested(format!("RunEndEncoded<{}, {}>", child_name(0), child_name(1)), 0, &children),
        TYPE_BINARY_VIEW | TYPE_UTF8_VIEW => RawType {
            name: if type_id == TYPE_UTF8_VIEW { "Utf8View" } else { "BinaryView" }.into(),
            layout: Layout { buffers: 2, variadic: true, children: vec![] },
        },
        TYPE_LIST_VIEW | TYPE_LARGE_LIST_VIEW => {
            one_child("ListView")?;
            let kind = if type_id == TYPE_LIST_VIEW { "ListView" } else { "LargeListView" };
            nested(format!("{kind}<{}>", child_name(0)), 3, &children)
        }
        other => return Err(bad(format!("column '{name}' has type id {other}, which is not an Arrow type"))),
    })
}

fn read_field(f: Table<'_>, version: i16, depth: usize) -> Result<Field, FnError> {
    let name = f.string(0)?.unwrap_or("").to_string();
    let nullable = f.u8(1, 0)? != 0;
    let raw = raw_type(f, version, depth)?;
    if let Some(dict) = f.table(4)? {
        // Dictionary-encoded: the batch carries the indices (an Int), the values come in dictionary batches.
        let index = dict.table(1)?;
        let bits = index.map_or(Ok(32), |t| t.i32(0, 32))?;
        let signed = index.map_or(Ok(1), |t| t.u8(1, 1))? != 0;
        if ![8, 16, 32, 64].contains(&bits) {
            return Err(bad(format!("column '{name}' has dictionary indices of {bits} bits")));
        }
        let type_name = format!("Dictionary<{}nt{bits}, {}>", if signed { "I" } else { "Ui" }, raw.name);
        let layout = Layout { buffers: 2, variadic: false, children: vec![] };
        return Ok(Field { name, data_type: DataType::Other(OtherType { name: type_name, layout }), nullable });
    }
    let type_id = f.u8(2, 0)?;
    let ty = f.table(3)?;
    let data_type = match (type_id, raw.name.as_str()) {
        (TYPE_INT, "Int32") => DataType::Int32,
        (TYPE_INT, "Int64") => DataType::Int64,
        (TYPE_FLOATING_POINT, "Float32") => DataType::Float32,
        (TYPE_FLOATING_POINT, "Float64") => DataType::Float64,
        (TYPE_UTF8, _) => DataType::Utf8,
        (TYPE_LARGE_UTF8, _) => DataType::LargeUtf8,
        (TYPE_BINARY, _) => DataType::Binary,
        (TYPE_LARGE_BINARY, _) => DataType::LargeBinary,
        (TYPE_FIXED_SIZE_LIST | TYPE_LIST | TYPE_LARGE_LIST, _) => {
            let children = f.vector(5, 4)?.ok_or_else(|| bad(format!("list column '{name}' has no child field")))?;
            let child = read_field(f.vector_table(children, 0)?, version, depth + 1)?;
            match (type_id, child.data_type) {
                (TYPE_FIXED_SIZE_LIST, DataType::Float32) => {
                    let size = ty.ok_or_else(|| bad("FixedSizeList type without parameters"))?.i32(0, 0)?;
                    let size = usize::try_from(size).map_err(|_| bad(format!("column '{name}' has list size {size}")))?;
                    DataType::FixedSizeListF32 { size, item_name: child.name, item_nullable: child.nullable }
                }
                (TYPE_LIST | TYPE_LARGE_LIST, DataType::Float32) => {
                    DataType::ListF32 { large: type_id == TYPE_LARGE_LIST, item_name: child.name, item_nullable: child.nullable }
                }
                _ => DataType::Other(OtherType { name: raw.name, layout: raw.layout }),
            }
        }
        _ => DataType::Other(OtherType { name: raw.name, layout: raw.layout }),
    };
    Ok(Field { name, data_type, nullable })
}

/// Walks a record batch's nodes and buffers in field order.
struct BatchCursor<'a> {
    meta: &'a [u8],
    body: &'a [u8],
    nodes: (usize, usize),
    buffers: (usize, usize),
    variadic_counts: (usize, usize),
    next_node: usize,
    next_buffer: usize,
    next_variadic: usize,
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
        if nulls > length {
            return Err(bad(format!("column '{column}' has {nulls} nulls in {length} rows")));
        }
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

    fn variadic_count(&mut self, column: &str) -> Result<usize, FnError> {
        if self.next_variadic >= self.variadic_counts.1 {
            return Err(bad(format!("record batch has no variadic buffer count for column '{column}'")));
        }
        let at = self.variadic_counts.0 + 8 * self.next_variadic;
        self.next_variadic += 1;
        usize::try_from(read_u64(self.meta, at)?).map_err(|_| bad("variadic buffer count overflow"))
    }

    /// Reads past a column of `layout` (and its children): every buffer is
    /// still checked to lie inside the body. Returns the column's length.
    fn skip(&mut self, layout: &Layout, column: &str, depth: usize) -> Result<usize, FnError> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("column '{column}' is nested too deeply")));
        }
        let (len, _) = self.node(column)?;
        let variadic = if layout.variadic { self.variadic_count(column)? } else { 0 };
        for _ in 0..layout.buffers + variadic {
            self.buffer(column)?;
        }
        for child in &layout.children {
            self.skip(child, column, depth + 1)?;
        }
        Ok(len)
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

fn read_batch(schema: &Schema, header: Table<'_>, body: &[u8], index: usize) -> Result<RecordBatch, FnError> {
    if let Some(compression) = header.table(3)? {
        let codec = compression.u8(0, 0)?;
        let name = CODECS.get(codec as usize).map_or(format!("codec {codec}"), |c| c.to_string());
        return Err(FnError::malformed(format!(
            "record batch {index} is compressed ({name}); this plugin reads uncompressed Arrow IPC only: write the stream without compression"
        )));
    }
    let length = header.i64(0, 0)?;
    let num_rows = usize::try_from(length).map_err(|_| bad(format!("record batch length {length}")))?;
    let nodes = header.vector(1, 16)?.map_or((0, 0), |v| (v.start, v.len));
    let buffers = header.vector(2, 16)?.map_or((0, 0), |v| (v.start, v.len));
    let variadic_counts = header.vector(4, 8)?.map_or((0, 0), |v| (v.start, v.len));
    let mut cursor = BatchCursor {
        meta: header.bytes(),
        body,
        nodes,
        buffers,
        variadic_counts,
        next_node: 0,
        next_buffer: 0,
        next_variadic: 0,
    };
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

/// Offsets of `len` rows (i32 or, for the Large types, i64), checked
/// non-decreasing, from >= 0 and within `limit`, rebased to start at 0.
/// Returns the offsets and the range of values they cover.
fn read_offsets(
    buf: &[u8],
    len: usize,
    large: bool,
    limit: usize,
    column: &str,
) -> Result<(Vec<i32>, core::ops::Range<usize>), FnError> {
    let rows_plus_one = len.checked_add(1).ok_or_else(|| bad("length overflow"))?;
    // A zero-row column may omit its offsets entirely.
    if len == 0 && buf.len() < if large { 8 } else { 4 } {
        return Ok((vec![0], 0..0));
    }
    let raw: Vec<i64> = if large {
        fixed(buf, rows_plus_one, column, i64::from_le_bytes)?
    } else {
        fixed(buf, rows_plus_one, column, i32::from_le_bytes)?.into_iter().map(i64::from).collect()
    };
    let (first, last) = (raw[0], raw[len]);
    if first < 0 || raw.windows(2).any(|w| w[1] < w[0]) || last as u64 > limit as u64 {
        return Err(bad(format!("offsets of column '{column}' are invalid")));
    }
    // Values never reach 2^31 in a 32-bit address space, so rebased offsets fit in i32.
    let offsets = raw.iter().map(|o| (o - first) as i32).collect();
    Ok((offsets, first as usize..last as usize))
}

fn read_column(c: &mut BatchCursor<'_>, field: &Field) -> Result<Column, FnError> {
    let name = field.name.as_str();
    if let DataType::Other(other) = &field.data_type {
        let len = c.skip(&other.layout, name, 0)?;
        return Ok(Column { data: ColumnData::Other { len }, validity: None });
    }
    let (len, nulls) = c.node(name)?;
    let validity = c.validity(name, len, nulls)?;
    let data = match &field.data_type {
        DataType::Int32 => ColumnData::Int32(fixed(c.buffer(name)?, len, name, i32::from_le_bytes)?),
        DataType::Int64 => ColumnData::Int64(fixed(c.buffer(name)?, len, name, i64::from_le_bytes)?),
        DataType::Float32 => ColumnData::Float32(fixed(c.buffer(name)?, len, name, f32::from_le_bytes)?),
        DataType::Float64 => ColumnData::Float64(fixed(c.buffer(name)?, len, name, f64::from_le_bytes)?),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary => {
            let large = matches!(field.data_type, DataType::LargeUtf8 | DataType::LargeBinary);
            let offsets_buf = c.buffer(name)?;
            let data_buf = c.buffer(name)?;
            let (offsets, range) = read_offsets(offsets_buf, len, large, data_buf.len(), name)?;
            // Rebased: offsets start at 0 and data holds exactly the values.
            let data = data_buf[range].to_vec();
            if field.data_type.is_text() {
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
        DataType::ListF32 { large, item_name, .. } => {
            let child_name = format!("{name}.{item_name}");
            let offsets_buf = c.buffer(name)?;
            let (child_len, child_nulls) = c.node(&child_name)?;
            let (offsets, range) = read_offsets(offsets_buf, len, *large, child_len, name)?;
            let child_validity = c.validity(&child_name, child_len, child_nulls)?;
            let all = fixed(c.buffer(&child_name)?, child_len, &child_name, f32::from_le_bytes)?;
            // Rebased to the values the rows cover (a sliced column may hold more).
            let value_validity = child_validity.map(|bits| {
                let bools: Vec<bool> = range.clone().map(|i| super::bit(&bits, i)).collect();
                super::bitmap_from_bools(&bools)
            });
            ColumnData::ListF32 { offsets, values: all[range].to_vec(), value_validity }
        }
        DataType::Other(_) => return Err(bad("internal: an undecoded column reached the decoder")),
    };
    Ok(Column { data, validity })
}
