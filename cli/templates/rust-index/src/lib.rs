//! {{KIND}}: an index kind of nearest numbers. Build it over rows `(id: Int64, value: Float64)`; probe it with
//! a Float64 column of query values; for every query row it answers the `k` rows whose values are nearest
//! (ties: smaller id first), as rows `(query: Int32, id: Int64, distance: Float64)`.
//!
//! Everything a uni:plugin index needs is here: Arrow in and out through the SDK, options as strict JSON, a
//! persisted format with a magic and a version, errors (never panics) for bad input. Rewrite the logic; keep
//! the shape.
use uni_plugin_sdk::arrow::{self, Column, ColumnData, DataType, Field, RecordBatch, Schema};
use uni_plugin_sdk::index::{IndexHandle, IndexProvider};
use uni_plugin_sdk::json::Json;
use uni_plugin_sdk::FnError;

/// The kind this plugin provides; manifest.json lists it under `provides.index_kinds`.
pub const KIND: &str = "{{KIND}}";

/// The persisted format this version writes. A new version that changes the layout bumps it and keeps reading
/// every older format in `open`: a hot reload hands the old version's bytes to the new one.
const FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"UNINEAR\0";
/// magic, format (u32), row count (u64); then (id i64, value f64) per row, sorted by (value, id).
const HEADER: usize = 8 + 4 + 8;
const ROW: usize = 16;

/// Plugin error codes start at 0x100 (codes up to 0xff are the host's: 2 = malformed input, 3 = unexpected null).
const UNSUPPORTED_FORMAT: u32 = 0x100;

pub struct Provider;

/// The rows, sorted by (value, id): a probe is a binary search and a walk outwards.
pub struct NearestIndex {
    ids: Vec<i64>,
    values: Vec<f64>,
}

impl IndexProvider for Provider {
    type Handle = NearestIndex;

    fn kinds() -> Vec<String> {
        vec![KIND.to_string()]
    }

    fn build(_kind: &str, source: &[u8], options_json: &str) -> Result<NearestIndex, FnError> {
        // No options yet; refusing unknown keys keeps a typo from being silently ignored.
        if let Some((key, _)) = Json::parse_object(options_json).map_err(|e| e.context("options"))?.first() {
            return Err(FnError::malformed(format!("unknown option '{key}' ({KIND} takes no options)")));
        }
        let (schema, batches) = arrow::read_stream(source).map_err(|e| e.context("source"))?;
        let id_at = column(&schema, "id", DataType::Int64)?;
        let value_at = column(&schema, "value", DataType::Float64)?;
        let mut rows = Vec::new();
        for batch in &batches {
            let (ids, values) = (&batch.columns[id_at], &batch.columns[value_at]);
            let (ColumnData::Int64(id_data), ColumnData::Float64(value_data)) = (&ids.data, &values.data) else {
                return Err(FnError::malformed("source columns changed type while reading"));
            };
            for row in 0..batch.num_rows {
                if !ids.is_valid(row) || !values.is_valid(row) {
                    return Err(FnError::unexpected_null(format!("source row {} has a null id or value", rows.len())));
                }
                let value = value_data[row];
                if !value.is_finite() {
                    return Err(FnError::malformed(format!("source row {} has the non-finite value {value}", rows.len())));
                }
                rows.push((id_data[row], value));
            }
        }
        Ok(NearestIndex::from_rows(rows))
    }

    fn open(_kind: &str, persisted: &[u8]) -> Result<NearestIndex, FnError> {
        if persisted.len() < HEADER || &persisted[..8] != MAGIC {
            return Err(FnError::malformed(format!("these bytes are not a persisted {KIND} index (bad magic)")));
        }
        let format = u32::from_le_bytes([persisted[8], persisted[9], persisted[10], persisted[11]]);
        // Every format this version can read: add the old ones here when FORMAT is bumped.
        if !(1..=FORMAT).contains(&format) {
            return Err(FnError::plugin(
                UNSUPPORTED_FORMAT,
                format!("persisted format {format} is newer than this version reads (up to {FORMAT})"),
            ));
        }
        let n = u64::from_le_bytes(take(persisted, 12));
        let expected = (n as u128) * (ROW as u128) + HEADER as u128;
        if persisted.len() as u128 != expected {
            return Err(FnError::malformed(format!("persisted index of {n} rows has {} bytes, expected {expected}", persisted.len())));
        }
        let rows = persisted[HEADER..]
            .chunks_exact(ROW)
            .map(|r| (i64::from_le_bytes(take(r, 0)), f64::from_le_bytes(take(r, 8))))
            .collect();
        Ok(NearestIndex::from_rows(rows))
    }
}

impl NearestIndex {
    fn from_rows(mut rows: Vec<(i64, f64)>) -> Self {
        rows.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        NearestIndex { ids: rows.iter().map(|r| r.0).collect(), values: rows.iter().map(|r| r.1).collect() }
    }

    /// Appends the `k` rows nearest to `q` to the output columns, nearest first.
    fn nearest(&self, q: f64, k: usize, out: &mut (Vec<i64>, Vec<f64>)) {
        // [lo, hi) is what has been taken; grow it one row at a time on the nearer side.
        let start = self.values.partition_point(|v| *v < q);
        let (mut lo, mut hi) = (start, start);
        while hi - lo < k && (lo > 0 || hi < self.values.len()) {
            let left = (lo > 0).then(|| ((q - self.values[lo - 1]).abs(), self.ids[lo - 1]));
            let right = (hi < self.values.len()).then(|| ((self.values[hi] - q).abs(), self.ids[hi]));
            let take_left = match (left, right) {
                (Some(l), Some(r)) => l.0 < r.0 || (l.0 == r.0 && l.1 < r.1),
                (l, _) => l.is_some(),
            };
            let (distance, id) = if take_left {
                lo -= 1;
                left.unwrap_or_default()
            } else {
                hi += 1;
                right.unwrap_or_default()
            };
            out.0.push(id);
            out.1.push(distance);
        }
    }
}

impl IndexHandle for NearestIndex {
    fn probe(&self, query: &[u8], k: u32) -> Result<Vec<u8>, FnError> {
        let (schema, batches) = arrow::read_stream(query).map_err(|e| e.context("query"))?;
        match schema.fields.first() {
            Some(f) if f.data_type == DataType::Float64 => {}
            Some(f) => return Err(FnError::malformed(format!("query column '{}' must be Float64, got {}", f.name, f.data_type.describe()))),
            None => return Err(FnError::malformed("the query has no column")),
        }
        let (mut queries, mut hits, mut row) = (Vec::new(), (Vec::new(), Vec::new()), 0i32);
        for batch in &batches {
            let column = &batch.columns[0];
            let ColumnData::Float64(values) = &column.data else { return Err(FnError::malformed("query column changed type")) };
            for (i, q) in values.iter().enumerate() {
                // A null or NaN query row has no neighbours.
                if column.is_valid(i) && !q.is_nan() {
                    let before = hits.0.len();
                    self.nearest(*q, k as usize, &mut hits);
                    queries.resize(queries.len() + hits.0.len() - before, row);
                }
                row += 1;
            }
        }
        let batch = RecordBatch::try_new(vec![Column::int32(queries), Column::int64(hits.0), Column::float64(hits.1)])?;
        arrow::write_stream(&probe_schema(), &[batch])
    }

    fn persist(&self) -> Result<Vec<u8>, FnError> {
        let mut out = Vec::with_capacity(HEADER + self.ids.len() * ROW);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(self.ids.len() as u64).to_le_bytes());
        for (id, value) in self.ids.iter().zip(&self.values) {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        Ok(out)
    }

    fn schema(&self) -> Vec<u8> {
        arrow::write_stream(&probe_schema(), &[]).unwrap_or_default()
    }
}

fn probe_schema() -> Schema {
    Schema::new(vec![
        Field::new("query", DataType::Int32, false),
        Field::new("id", DataType::Int64, false),
        Field::new("distance", DataType::Float64, false),
    ])
}

/// The index of column `name`, which must have type `want`.
fn column(schema: &Schema, name: &str, want: DataType) -> Result<usize, FnError> {
    let at = schema.index_of(name).ok_or_else(|| FnError::malformed(format!("source has no column '{name}' ({})", want.describe())))?;
    let got = &schema.fields[at].data_type;
    if *got != want {
        return Err(FnError::malformed(format!("source column '{name}' must be {}, got {}", want.describe(), got.describe())));
    }
    Ok(at)
}

/// 8 bytes at `at` (the caller checked the length).
fn take(bytes: &[u8], at: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[at..at + 8]);
    out
}

uni_plugin_sdk::export_index_plugin!(Provider, manifest = include_str!("../manifest.json"));
