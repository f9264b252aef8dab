//! A small Arrow IPC *stream* reader and writer (no arrow-rs): Schema and
//! RecordBatch messages, no compression. Decoded column types: Int32, Int64,
//! Float32, Float64, Utf8, LargeUtf8, Binary, LargeBinary,
//! FixedSizeList<Float32>, List<Float32> and LargeList<Float32>, each with an
//! optional validity bitmap. Columns of any other type (and dictionary-encoded
//! ones) are read past, not decoded: they come back as [`DataType::Other`],
//! named in Arrow's spelling, so a plugin can ignore the columns it does not
//! use and name the type of one it cannot.
//!
//! Reading validates every offset and length; malformed bytes are a code-2
//! [`FnError`](crate::FnError), never a panic.

mod flatbuf;
mod read;
mod write;

pub use read::{check_stream, read_stream};
pub use write::write_stream;

use crate::FnError;

/// The column types this reader/writer understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataType {
    Int32,
    Int64,
    Float32,
    Float64,
    /// Utf8 and LargeUtf8 hold the same [`ColumnData::Utf8`]; only the offsets' width on the wire differs.
    Utf8,
    LargeUtf8,
    Binary,
    LargeBinary,
    /// `FixedSizeList[size]<Float32>`; the child field keeps its name and nullability.
    FixedSizeListF32 {
        size: usize,
        item_name: String,
        item_nullable: bool,
    },
    /// `List<Float32>` (`large: false`) or `LargeList<Float32>` (`large: true`).
    ListF32 {
        large: bool,
        item_name: String,
        item_nullable: bool,
    },
    /// A column this reader walks past without decoding (any other type, or a
    /// dictionary-encoded column); the writer refuses it.
    Other(OtherType),
}

/// A type the reader does not decode: its name, and the shape it needs to be read past.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherType {
    /// Arrow's spelling (apache-arrow's `DataType.toString()`), e.g. `Bool`, `List<Float64>`.
    pub name: String,
    pub(crate) layout: Layout,
}

/// How many buffers a column has on the wire, and its children's layouts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub buffers: usize,
    /// Utf8View / BinaryView: the record batch says how many more data buffers follow.
    pub variadic: bool,
    pub children: Vec<Layout>,
}

impl DataType {
    /// `FixedSizeList[size]<Float32>` with apache-arrow's default child name `item`.
    pub fn fixed_size_list_f32(size: usize) -> Self {
        DataType::FixedSizeListF32 { size, item_name: "item".into(), item_nullable: true }
    }
    /// `List<Float32>` (or `LargeList<Float32>`) with the child name `item`.
    pub fn list_f32(large: bool) -> Self {
        DataType::ListF32 { large, item_name: "item".into(), item_nullable: true }
    }
    /// Spelled as apache-arrow's `DataType.toString()`.
    pub fn describe(&self) -> String {
        match self {
            DataType::Int32 => "Int32".into(),
            DataType::Int64 => "Int64".into(),
            DataType::Float32 => "Float32".into(),
            DataType::Float64 => "Float64".into(),
            DataType::Utf8 => "Utf8".into(),
            DataType::LargeUtf8 => "LargeUtf8".into(),
            DataType::Binary => "Binary".into(),
            DataType::LargeBinary => "LargeBinary".into(),
            DataType::FixedSizeListF32 { size, .. } => format!("FixedSizeList[{size}]<Float32>"),
            DataType::ListF32 { large: false, .. } => "List<Float32>".into(),
            DataType::ListF32 { large: true, .. } => "LargeList<Float32>".into(),
            DataType::Other(other) => other.name.clone(),
        }
    }
    /// Utf8 or LargeUtf8.
    pub fn is_text(&self) -> bool {
        matches!(self, DataType::Utf8 | DataType::LargeUtf8)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
}

impl Field {
    pub fn new(name: &str, data_type: DataType, nullable: bool) -> Self {
        Field { name: name.into(), data_type, nullable }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub fields: Vec<Field>,
}

impl Schema {
    pub fn new(fields: Vec<Field>) -> Self {
        Schema { fields }
    }
    /// Index of the field called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// A column's values. Variable-length types keep Arrow's offsets + data.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    /// `offsets` has rows + 1 entries, non-decreasing; data is valid UTF-8 per value.
    Utf8 {
        offsets: Vec<i32>,
        data: Vec<u8>,
    },
    Binary {
        offsets: Vec<i32>,
        data: Vec<u8>,
    },
    /// `values` has rows * size entries; `value_validity` covers them.
    FixedSizeListF32 {
        size: usize,
        values: Vec<f32>,
        value_validity: Option<Vec<u8>>,
    },
    /// List / LargeList: row i is `values[offsets[i]..offsets[i + 1]]`; offsets start at 0.
    ListF32 {
        offsets: Vec<i32>,
        values: Vec<f32>,
        value_validity: Option<Vec<u8>>,
    },
    /// A column of a type the reader does not decode: only its length is known.
    Other { len: usize },
}

/// A column: values plus an optional LSB-first validity bitmap (bit set = valid).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub data: ColumnData,
    pub validity: Option<Vec<u8>>,
}

impl Column {
    pub fn new(data: ColumnData) -> Self {
        Column { data, validity: None }
    }
    /// The same column with `validity[i] == false` rows null.
    pub fn with_validity(mut self, validity: &[bool]) -> Self {
        self.validity = Some(bitmap_from_bools(validity));
        self
    }
    pub fn int32(v: Vec<i32>) -> Self {
        Self::new(ColumnData::Int32(v))
    }
    pub fn int64(v: Vec<i64>) -> Self {
        Self::new(ColumnData::Int64(v))
    }
    pub fn float32(v: Vec<f32>) -> Self {
        Self::new(ColumnData::Float32(v))
    }
    pub fn float64(v: Vec<f64>) -> Self {
        Self::new(ColumnData::Float64(v))
    }
    pub fn fixed_size_list_f32(size: usize, values: Vec<f32>) -> Self {
        Self::new(ColumnData::FixedSizeListF32 { size, values, value_validity: None })
    }
    /// A List<Float32> column of the given rows.
    pub fn list_f32<R: AsRef<[f32]>>(rows: &[R]) -> Self {
        let mut offsets = vec![0i32];
        let mut values = Vec::new();
        for row in rows {
            values.extend_from_slice(row.as_ref());
            offsets.push(values.len() as i32);
        }
        Self::new(ColumnData::ListF32 { offsets, values, value_validity: None })
    }
    pub fn utf8<S: AsRef<str>>(values: &[S]) -> Self {
        let (offsets, data) = offsets_and_data(values.iter().map(|s| s.as_ref().as_bytes()));
        Self::new(ColumnData::Utf8 { offsets, data })
    }
    pub fn binary<B: AsRef<[u8]>>(values: &[B]) -> Self {
        let (offsets, data) = offsets_and_data(values.iter().map(|b| b.as_ref()));
        Self::new(ColumnData::Binary { offsets, data })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Int32(v) => v.len(),
            ColumnData::Int64(v) => v.len(),
            ColumnData::Float32(v) => v.len(),
            ColumnData::Float64(v) => v.len(),
            ColumnData::Utf8 { offsets, .. } | ColumnData::Binary { offsets, .. } | ColumnData::ListF32 { offsets, .. } => {
                offsets.len().saturating_sub(1)
            }
            ColumnData::Other { len } => *len,
            ColumnData::FixedSizeListF32 { size, values, .. } => {
                if *size == 0 {
                    0
                } else {
                    values.len() / size
                }
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether row `i` is non-null.
    pub fn is_valid(&self, i: usize) -> bool {
        self.validity.as_deref().map_or(true, |b| bit(b, i))
    }
    pub fn null_count(&self) -> usize {
        let n = self.len();
        self.validity.as_deref().map_or(0, |b| (0..n).filter(|&i| !bit(b, i)).count())
    }
    /// Value `i` of a Utf8 column.
    pub fn str_value(&self, i: usize) -> Option<&str> {
        match &self.data {
            ColumnData::Utf8 { offsets, data } => {
                let (a, b) = (*offsets.get(i)? as usize, *offsets.get(i + 1)? as usize);
                core::str::from_utf8(data.get(a..b)?).ok()
            }
            _ => None,
        }
    }
    /// Row `i` of a List<Float32> / LargeList<Float32> column.
    pub fn list_value(&self, i: usize) -> Option<&[f32]> {
        match &self.data {
            ColumnData::ListF32 { offsets, values, .. } => {
                let (a, b) = (*offsets.get(i)? as usize, *offsets.get(i + 1)? as usize);
                values.get(a..b)
            }
            _ => None,
        }
    }
    /// Value `i` of a Binary or Utf8 column.
    pub fn bytes_value(&self, i: usize) -> Option<&[u8]> {
        match &self.data {
            ColumnData::Utf8 { offsets, data } | ColumnData::Binary { offsets, data } => {
                let (a, b) = (*offsets.get(i)? as usize, *offsets.get(i + 1)? as usize);
                data.get(a..b)
            }
            _ => None,
        }
    }
}

/// One record batch: columns in schema order, all `num_rows` long.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordBatch {
    pub num_rows: usize,
    pub columns: Vec<Column>,
}

impl RecordBatch {
    /// A batch from columns; every column must have the same length.
    pub fn try_new(columns: Vec<Column>) -> Result<Self, FnError> {
        let num_rows = columns.first().map_or(0, Column::len);
        if let Some(c) = columns.iter().find(|c| c.len() != num_rows) {
            return Err(FnError::malformed(format!("column lengths differ: {} vs {num_rows}", c.len())));
        }
        Ok(RecordBatch { num_rows, columns })
    }
}

/// Concatenates the batches of one stream into a single batch.
pub fn concat_batches(schema: &Schema, batches: &[RecordBatch]) -> Result<RecordBatch, FnError> {
    let mut columns = Vec::with_capacity(schema.fields.len());
    for (i, field) in schema.fields.iter().enumerate() {
        let parts: Vec<&Column> = batches.iter().filter_map(|b| b.columns.get(i)).collect();
        columns.push(concat_column(&field.data_type, &parts)?);
    }
    let num_rows = batches.iter().map(|b| b.num_rows).sum();
    Ok(RecordBatch { num_rows, columns })
}

fn concat_column(data_type: &DataType, parts: &[&Column]) -> Result<Column, FnError> {
    let total: usize = parts.iter().map(|c| c.len()).sum();
    let validity = if parts.iter().any(|c| c.validity.is_some()) {
        let bools: Vec<bool> = parts.iter().flat_map(|c| (0..c.len()).map(move |i| c.is_valid(i))).collect();
        Some(bitmap_from_bools(&bools))
    } else {
        None
    };
    let mismatch = || FnError::malformed("record batch columns do not match the schema");
    let data = match data_type {
        DataType::Int32 => {
            ColumnData::Int32(gather(parts, |d| if let ColumnData::Int32(v) = d { Some(v) } else { None }).ok_or_else(mismatch)?)
        }
        DataType::Int64 => {
            ColumnData::Int64(gather(parts, |d| if let ColumnData::Int64(v) = d { Some(v) } else { None }).ok_or_else(mismatch)?)
        }
        DataType::Float32 => {
            ColumnData::Float32(gather(parts, |d| if let ColumnData::Float32(v) = d { Some(v) } else { None }).ok_or_else(mismatch)?)
        }
        DataType::Float64 => {
            ColumnData::Float64(gather(parts, |d| if let ColumnData::Float64(v) = d { Some(v) } else { None }).ok_or_else(mismatch)?)
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary => {
            let mut values: Vec<&[u8]> = Vec::with_capacity(total);
            for c in parts {
                for i in 0..c.len() {
                    values.push(c.bytes_value(i).ok_or_else(mismatch)?);
                }
            }
            let (offsets, data) = offsets_and_data(values.into_iter());
            if data_type.is_text() {
                ColumnData::Utf8 { offsets, data }
            } else {
                ColumnData::Binary { offsets, data }
            }
        }
        DataType::FixedSizeListF32 { size, .. } => {
            let mut values = Vec::with_capacity(total.saturating_mul(*size));
            let mut value_bools: Vec<bool> = Vec::new();
            let mut any_value_nulls = false;
            for c in parts {
                let ColumnData::FixedSizeListF32 { values: v, value_validity, .. } = &c.data else { return Err(mismatch()) };
                values.extend_from_slice(v);
                any_value_nulls |= value_validity.is_some();
                value_bools.extend((0..v.len()).map(|i| value_validity.as_deref().map_or(true, |b| bit(b, i))));
            }
            let value_validity = if any_value_nulls { Some(bitmap_from_bools(&value_bools)) } else { None };
            ColumnData::FixedSizeListF32 { size: *size, values, value_validity }
        }
        DataType::ListF32 { .. } => {
            let mut offsets = vec![0i32];
            let mut values = Vec::new();
            let mut value_bools: Vec<bool> = Vec::new();
            let mut any_value_nulls = false;
            for c in parts {
                let ColumnData::ListF32 { offsets: o, values: v, value_validity } = &c.data else { return Err(mismatch()) };
                let base = values.len() as i32;
                offsets.extend(o.iter().skip(1).map(|x| x + base));
                values.extend_from_slice(v);
                any_value_nulls |= value_validity.is_some();
                value_bools.extend((0..v.len()).map(|i| value_validity.as_deref().map_or(true, |b| bit(b, i))));
            }
            let value_validity = if any_value_nulls { Some(bitmap_from_bools(&value_bools)) } else { None };
            ColumnData::ListF32 { offsets, values, value_validity }
        }
        DataType::Other(_) => ColumnData::Other { len: total },
    };
    Ok(Column { data, validity })
}

fn gather<T: Copy>(parts: &[&Column], pick: impl Fn(&ColumnData) -> Option<&Vec<T>>) -> Option<Vec<T>> {
    let mut out = Vec::new();
    for c in parts {
        out.extend_from_slice(pick(&c.data)?);
    }
    Some(out)
}

fn offsets_and_data<'a>(values: impl Iterator<Item = &'a [u8]>) -> (Vec<i32>, Vec<u8>) {
    let mut offsets = vec![0i32];
    let mut data = Vec::new();
    for v in values {
        data.extend_from_slice(v);
        offsets.push(data.len() as i32);
    }
    (offsets, data)
}

/// Bit `i` of an LSB-first bitmap; bits past the end read as unset.
pub fn bit(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// An LSB-first bitmap with bit i set where `bools[i]`.
pub fn bitmap_from_bools(bools: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; bools.len().div_ceil(8)];
    for (i, _) in bools.iter().enumerate().filter(|(_, b)| **b) {
        out[i / 8] |= 1 << (i % 8);
    }
    out
}
