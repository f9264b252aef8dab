//! Arrow IPC stream writer (metadata V5, little endian, no compression).
use super::flatbuf::{serialize, Obj, Val};
use super::{Column, ColumnData, DataType, Field, RecordBatch, Schema};
use crate::FnError;

const METADATA_V5: i16 = 4;

/// Writes `schema`, then each batch, then the end-of-stream marker.
pub fn write_stream(schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<u8>, FnError> {
    if let Some(f) = schema.fields.iter().find(|f| matches!(f.data_type, DataType::Other(_))) {
        return Err(FnError::malformed(format!("column '{}' is {}, which this SDK does not write", f.name, f.data_type.describe())));
    }
    let mut out = Vec::new();
    write_message(&mut out, 1, schema_obj(schema), &[]);
    for batch in batches {
        if batch.columns.len() != schema.fields.len() {
            return Err(FnError::malformed(format!("batch has {} columns, schema {}", batch.columns.len(), schema.fields.len())));
        }
        let mut body = Body::default();
        for (field, column) in schema.fields.iter().zip(&batch.columns) {
            if column.len() != batch.num_rows {
                return Err(FnError::malformed(format!("column '{}' has {} rows, batch {}", field.name, column.len(), batch.num_rows)));
            }
            body.column(field, column)?;
        }
        let header = Obj::Table(vec![
            (0, Val::I64(batch.num_rows as i64)),
            (1, Val::Off(Obj::Structs { count: body.nodes.len() / 16, bytes: body.nodes })),
            (2, Val::Off(Obj::Structs { count: body.buffers.len() / 16, bytes: body.buffers })),
        ]);
        write_message(&mut out, 3, header, &body.data);
    }
    out.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
    Ok(out)
}

fn write_message(out: &mut Vec<u8>, header_type: u8, header: Obj, body: &[u8]) {
    let message =
        Obj::Table(vec![(0, Val::I16(METADATA_V5)), (1, Val::U8(header_type)), (2, Val::Off(header)), (3, Val::I64(body.len() as i64))]);
    let meta = serialize(&message); // already a multiple of 8 bytes
    out.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(body);
}

fn schema_obj(schema: &Schema) -> Obj {
    Obj::Table(vec![(0, Val::I16(0)), (1, Val::Off(Obj::Tables(schema.fields.iter().map(field_obj).collect())))])
}

fn field_obj(field: &Field) -> Obj {
    let (type_id, type_table, children) = match &field.data_type {
        DataType::Int32 => (2, Obj::Table(vec![(0, Val::I32(32)), (1, Val::U8(1))]), vec![]),
        DataType::Int64 => (2, Obj::Table(vec![(0, Val::I32(64)), (1, Val::U8(1))]), vec![]),
        DataType::Float32 => (3, Obj::Table(vec![(0, Val::I16(1))]), vec![]),
        DataType::Float64 => (3, Obj::Table(vec![(0, Val::I16(2))]), vec![]),
        DataType::Binary => (4, Obj::Table(vec![]), vec![]),
        DataType::Utf8 => (5, Obj::Table(vec![]), vec![]),
        DataType::LargeBinary => (19, Obj::Table(vec![]), vec![]),
        DataType::LargeUtf8 => (20, Obj::Table(vec![]), vec![]),
        DataType::FixedSizeListF32 { size, item_name, item_nullable } => {
            (16, Obj::Table(vec![(0, Val::I32(*size as i32))]), vec![field_obj(&Field::new(item_name, DataType::Float32, *item_nullable))])
        }
        DataType::ListF32 { large, item_name, item_nullable } => {
            (if *large { 21 } else { 12 }, Obj::Table(vec![]), vec![field_obj(&Field::new(item_name, DataType::Float32, *item_nullable))])
        }
        // write_stream refuses these before it gets here.
        DataType::Other(_) => (1, Obj::Table(vec![]), vec![]),
    };
    Obj::Table(vec![
        (0, Val::Off(Obj::String(field.name.clone()))),
        (1, Val::U8(field.nullable as u8)),
        (2, Val::U8(type_id)),
        (3, Val::Off(type_table)),
        (5, Val::Off(Obj::Tables(children))),
    ])
}

/// A record batch body under construction: nodes, buffer descriptors, bytes.
#[derive(Default)]
struct Body {
    nodes: Vec<u8>,
    buffers: Vec<u8>,
    data: Vec<u8>,
}

impl Body {
    fn node(&mut self, len: usize, nulls: usize) {
        self.nodes.extend_from_slice(&(len as i64).to_le_bytes());
        self.nodes.extend_from_slice(&(nulls as i64).to_le_bytes());
    }
    /// Appends one buffer, padded to 8 bytes as the format requires.
    fn buffer(&mut self, bytes: &[u8]) {
        let offset = self.data.len();
        self.data.extend_from_slice(bytes);
        while self.data.len() % 8 != 0 {
            self.data.push(0);
        }
        self.buffers.extend_from_slice(&(offset as i64).to_le_bytes());
        self.buffers.extend_from_slice(&(bytes.len() as i64).to_le_bytes());
    }
    fn validity(&mut self, len: usize, bitmap: Option<&[u8]>) -> Result<(), FnError> {
        let nulls = bitmap.map_or(0, |b| (0..len).filter(|&i| !super::bit(b, i)).count());
        self.node(len, nulls);
        match bitmap {
            Some(b) if nulls > 0 => {
                let bytes = b.get(..len.div_ceil(8)).ok_or_else(|| FnError::malformed("validity bitmap is too short"))?;
                self.buffer(bytes)
            }
            _ => self.buffer(&[]),
        }
        Ok(())
    }
    fn column(&mut self, field: &Field, column: &Column) -> Result<(), FnError> {
        let len = column.len();
        self.validity(len, column.validity.as_deref())?;
        let mismatch = || FnError::malformed(format!("column '{}' does not hold {}", field.name, field.data_type.describe()));
        match (&field.data_type, &column.data) {
            (DataType::Int32, ColumnData::Int32(v)) => self.buffer(&le_bytes(v, |x| x.to_le_bytes())),
            (DataType::Int64, ColumnData::Int64(v)) => self.buffer(&le_bytes(v, |x| x.to_le_bytes())),
            (DataType::Float32, ColumnData::Float32(v)) => self.buffer(&le_bytes(v, |x| x.to_le_bytes())),
            (DataType::Float64, ColumnData::Float64(v)) => self.buffer(&le_bytes(v, |x| x.to_le_bytes())),
            (DataType::Utf8, ColumnData::Utf8 { offsets, data }) | (DataType::Binary, ColumnData::Binary { offsets, data }) => {
                self.buffer(&le_bytes(offsets, |x| x.to_le_bytes()));
                self.buffer(data);
            }
            (DataType::LargeUtf8, ColumnData::Utf8 { offsets, data }) | (DataType::LargeBinary, ColumnData::Binary { offsets, data }) => {
                self.buffer(&le_bytes(offsets, |x| i64::from(x).to_le_bytes()));
                self.buffer(data);
            }
            (DataType::ListF32 { large, .. }, ColumnData::ListF32 { offsets, values, value_validity }) => {
                if *large {
                    self.buffer(&le_bytes(offsets, |x| i64::from(x).to_le_bytes()));
                } else {
                    self.buffer(&le_bytes(offsets, |x| x.to_le_bytes()));
                }
                self.validity(values.len(), value_validity.as_deref())?;
                self.buffer(&le_bytes(values, |x| x.to_le_bytes()));
            }
            (DataType::FixedSizeListF32 { size, .. }, ColumnData::FixedSizeListF32 { size: s, values, value_validity }) if size == s => {
                self.validity(values.len(), value_validity.as_deref())?;
                self.buffer(&le_bytes(values, |x| x.to_le_bytes()));
            }
            _ => return Err(mismatch()),
        }
        Ok(())
    }
}

fn le_bytes<T: Copy, const W: usize>(values: &[T], to: fn(T) -> [u8; W]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * W);
    for v in values {
        out.extend_from_slice(&to(*v));
    }
    out
}
