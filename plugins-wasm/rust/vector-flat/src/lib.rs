//! `vector.flat`: an exact k-nearest-neighbour index over
//! `FixedSizeList[d]<Float32>` vectors, or `List<Float32>` / `LargeList<Float32>`
//! ones of uniform length (polars' default), brute force, L2 or cosine.
//! Columns other than `id` and `vector` are ignored, whatever their type.
//!
//! The component crates (`vector-flat-v1`, `-v2`, `-v2-incompatible`) pick a
//! [`Variant`]: which distance kernel probes use and which persisted formats
//! they write and read.
mod format;
pub mod kernels;

use core::marker::PhantomData;
use format::Layout;
use kernels::Kernel;
use std::cell::OnceCell;
use std::collections::BinaryHeap;
use uni_plugin_sdk::arrow::{self, Column, DataType, Field, RecordBatch, Schema};
use uni_plugin_sdk::index::{IndexHandle, IndexProvider, Persisted};
use uni_plugin_sdk::json::Json;
use uni_plugin_sdk::{AlignedBytes, FnError};

pub const KIND: &str = "vector.flat";
/// The query's dimension differs from the index's.
pub const DIMENSION_MISMATCH: u32 = 0x101;

/// What differs between the component versions.
pub trait Variant: 'static {
    const KERNEL: Kernel;
    /// The format `persist` writes.
    const PERSIST_FORMAT: u32;
    /// The formats `open` reads.
    const OPENS: &'static [u32];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    L2 = 0,
    Cosine = 1,
}

/// The provider type the export macro names.
pub struct VectorFlat<V: Variant>(PhantomData<V>);

pub struct FlatIndex<V: Variant> {
    /// The index in its persisted layout (see `format.rs`): ids and vectors
    /// are read in place, and `persist` lends these very bytes.
    bytes: AlignedBytes,
    layout: Layout,
    /// |v|² per row, for cosine (same lane order as the kernels). Computed
    /// on the first cosine probe, not at `open`, which must not touch every
    /// row; it depends only on the vectors, so every version gets the same bits.
    norms: OnceCell<Vec<f32>>,
    _variant: PhantomData<V>,
}

impl<V: Variant> IndexProvider for VectorFlat<V> {
    type Handle = FlatIndex<V>;

    fn kinds() -> Vec<String> {
        vec![KIND.to_string()]
    }

    fn build(_kind: &str, source: &[u8], options_json: &str) -> Result<FlatIndex<V>, FnError> {
        let metric = parse_options(options_json)?;
        let (schema, batches) = arrow::read_stream(source).map_err(|e| e.context("build source"))?;
        let id_at = column_index(&schema, "id", |t| *t == DataType::Int64, "Int64")?;
        let vec_at = column_index(&schema, "vector", is_vector_type, VECTOR_TYPES)?;
        let batch = arrow::concat_batches(&schema, &batches)?;
        let ids_col = &batch.columns[id_at];
        if ids_col.null_count() > 0 {
            return Err(FnError::unexpected_null("column 'id' holds nulls"));
        }
        let arrow::ColumnData::Int64(ids) = &ids_col.data else { unreachable_type()? };
        let field = &schema.fields[vec_at];
        let (dim, vectors) = vector_values(&batch.columns[vec_at], field)?;
        let dim = dim.ok_or_else(|| {
            FnError::malformed(format!(
                "column 'vector' is {} with no rows, so its dimension is unknown; use FixedSizeList[d]<Float32> for an empty index",
                field.data_type.describe()
            ))
        })?;
        if dim == 0 {
            return Err(FnError::malformed("column 'vector' has dimension 0"));
        }
        let (bytes, layout) = format::write(V::PERSIST_FORMAT, metric, dim, ids, vectors)?;
        FlatIndex::adopt(bytes, layout)
    }

    fn open(kind: &str, persisted: &[u8]) -> Result<FlatIndex<V>, FnError> {
        format::validate(persisted, V::OPENS)?;
        Self::open_owned(kind, AlignedBytes::copy_from(persisted)?)
    }

    /// Adopts the host's buffer as the index's storage: a header and length
    /// check, nothing per row.
    fn open_owned(_kind: &str, persisted: AlignedBytes) -> Result<FlatIndex<V>, FnError> {
        let layout = format::validate(&persisted, V::OPENS)?;
        FlatIndex::adopt(persisted, layout)
    }
}

/// A type we already matched on changed under us: report, don't panic.
fn unreachable_type<T>() -> Result<T, FnError> {
    Err(FnError::malformed("internal: column type changed while reading"))
}

fn parse_options(options_json: &str) -> Result<Metric, FnError> {
    let mut metric = Metric::L2;
    for (key, value) in Json::parse_object(options_json).map_err(|e| e.context("options"))? {
        match key.as_str() {
            "metric" => {
                metric = match value.as_str() {
                    Some("l2") => Metric::L2,
                    Some("cosine") => Metric::Cosine,
                    _ => {
                        return Err(FnError::malformed(format!(
                            "option 'metric' must be \"l2\" or \"cosine\", got {}",
                            match &value {
                                Json::String(s) => format!("\"{s}\""),
                                other => other.type_name().to_string(),
                            }
                        )))
                    }
                }
            }
            other => return Err(FnError::malformed(format!("unknown option '{other}' (vector.flat accepts: metric)"))),
        }
    }
    Ok(metric)
}

/// What `vector.flat` takes as vectors, in Arrow's spelling (for refusals).
const VECTOR_TYPES: &str = "FixedSizeList[d]<Float32>, or List<Float32> / LargeList<Float32> with every row the same length";

fn is_vector_type(t: &DataType) -> bool {
    matches!(t, DataType::FixedSizeListF32 { .. } | DataType::ListF32 { .. })
}

fn column_index(schema: &Schema, name: &str, ok: impl Fn(&DataType) -> bool, want: &str) -> Result<usize, FnError> {
    let at = schema.index_of(name).ok_or_else(|| {
        let has = schema.fields.iter().map(|f| format!("'{}' ({})", f.name, f.data_type.describe())).collect::<Vec<_>>();
        FnError::malformed(format!("source has no column '{name}' (vector.flat needs {want}); it has {}", has.join(", ")))
    })?;
    let ty = &schema.fields[at].data_type;
    if !ok(ty) {
        return Err(FnError::malformed(format!("column '{name}' is {}; vector.flat needs {want}", ty.describe())));
    }
    Ok(at)
}

/// The row-major values of a vector column and its dimension (None for a
/// List column without rows), refusing nulls, rows of different lengths and
/// non-finite numbers (they make every distance meaningless).
fn vector_values<'a>(column: &'a Column, field: &Field) -> Result<(Option<usize>, &'a [f32]), FnError> {
    let name = field.name.as_str();
    if let Some(row) = (0..column.len()).find(|&r| !column.is_valid(r)) {
        return Err(FnError::unexpected_null(format!("column '{name}' row {row} is null")));
    }
    let (dim, values, value_validity) = match &column.data {
        arrow::ColumnData::FixedSizeListF32 { size, values, value_validity } => (Some(*size), values, value_validity),
        arrow::ColumnData::ListF32 { offsets, values, value_validity } => {
            let dim = offsets.get(1).map(|end| *end as usize);
            if let Some(d) = dim {
                if let Some(row) = offsets.windows(2).position(|w| (w[1] - w[0]) as usize != d) {
                    return Err(FnError::malformed(format!(
                        "column '{name}' is {} with rows of different lengths (row 0 has {d} values, row {row} has {}); vector.flat needs every vector the same length",
                        field.data_type.describe(),
                        offsets[row + 1] - offsets[row]
                    )));
                }
            }
            (dim, values, value_validity)
        }
        _ => return unreachable_type(),
    };
    let per_row = dim.unwrap_or(1).max(1);
    if let Some(bits) = value_validity {
        if let Some(i) = (0..values.len()).find(|&i| !arrow::bit(bits, i)) {
            return Err(FnError::unexpected_null(format!("column '{name}' row {} has a null element", i / per_row)));
        }
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(FnError::malformed(format!("column '{name}' row {} holds a non-finite value", i / per_row)));
    }
    Ok((dim, values.as_slice()))
}

fn output_schema() -> Schema {
    Schema::new(vec![
        Field::new("query", DataType::Int32, false),
        Field::new("id", DataType::Int64, false),
        Field::new("distance", DataType::Float32, false),
    ])
}

impl<V: Variant> FlatIndex<V> {
    /// `bytes` laid out as `layout` says (validated or just written).
    fn adopt(bytes: AlignedBytes, layout: Layout) -> Result<Self, FnError> {
        let index = FlatIndex { bytes, layout, norms: OnceCell::new(), _variant: PhantomData };
        // The layout puts ids 8-aligned and vectors 16-aligned in a 16-aligned
        // buffer, so these views always exist; checked once here so probes
        // can rely on it.
        if format::view::<i64>(index.id_bytes()).is_none() || format::view::<f32>(index.vector_bytes()).is_none() {
            return Err(FnError::malformed("internal: index storage is misaligned"));
        }
        Ok(index)
    }

    fn id_bytes(&self) -> &[u8] {
        &self.bytes[format::HEADER..self.layout.ids_end()]
    }
    fn vector_bytes(&self) -> &[u8] {
        &self.bytes[self.layout.vectors_at..self.layout.vectors_end]
    }
    /// The ids, in place (alignment checked in `adopt`).
    fn ids(&self) -> &[i64] {
        format::view(self.id_bytes()).unwrap_or_default()
    }
    /// The row-major vectors, in place (alignment checked in `adopt`).
    fn vectors(&self) -> &[f32] {
        format::view(self.vector_bytes()).unwrap_or_default()
    }
    fn norms(&self) -> &[f32] {
        self.norms.get_or_init(|| self.vectors().chunks_exact(self.layout.dim).map(kernels::norm_sq).collect())
    }

    fn run_probe(&self, query: &[u8], k: u32, mask: Option<&[u8]>) -> Result<Vec<u8>, FnError> {
        let n = self.layout.n;
        let dim = self.layout.dim;
        if let Some(mask) = mask {
            let need = n.div_ceil(8);
            if mask.len() < need {
                return Err(FnError::malformed(format!("mask has {} bytes; {n} rows need at least {need}", mask.len())));
            }
        }
        let (schema, batches) = arrow::read_stream(query).map_err(|e| e.context("query"))?;
        let at = schema
            .index_of("vector")
            .filter(|&i| is_vector_type(&schema.fields[i].data_type))
            .or_else(|| schema.fields.iter().position(|f| is_vector_type(&f.data_type)))
            .ok_or_else(|| {
                let has = schema.fields.iter().map(|f| format!("'{}' ({})", f.name, f.data_type.describe())).collect::<Vec<_>>();
                FnError::malformed(format!("query has no vector column (vector.flat needs {VECTOR_TYPES}); it has {}", has.join(", ")))
            })?;
        let field = schema.fields[at].clone();
        let batch = arrow::concat_batches(&schema, &batches)?;
        let (size, queries) = vector_values(&batch.columns[at], &field)?;
        if let Some(size) = size.filter(|&s| s != dim) {
            return Err(FnError::plugin(DIMENSION_MISMATCH, format!("query dimension {size} does not match the index dimension {dim}")));
        }

        let k = (k as usize).min(n);
        let rows: Vec<usize> = match mask {
            Some(mask) => (0..n).filter(|&r| arrow::bit(mask, r)).collect(),
            None => (0..n).collect(),
        };
        let query_rows: Vec<&[f32]> = queries.chunks_exact(dim).collect();
        let mut out_query = Vec::new();
        let mut out_id = Vec::new();
        let mut out_distance = Vec::new();
        // Queries go in blocks so that a group of index rows, once loaded,
        // serves every query of the block while it is still in cache.
        for (block_no, block) in query_rows.chunks(QUERY_BLOCK).enumerate() {
            let mut best: Vec<TopK> = block.iter().map(|_| TopK::new(k)).collect();
            self.score_block(block, &rows, &mut best);
            for (i, top) in best.into_iter().enumerate() {
                let qi = (block_no * QUERY_BLOCK + i) as i32;
                for Candidate(d, id) in top.into_sorted() {
                    out_query.push(qi);
                    out_id.push(id);
                    out_distance.push(d);
                }
            }
        }
        let batch = RecordBatch::try_new(vec![Column::int32(out_query), Column::int64(out_id), Column::float32(out_distance)])?;
        arrow::write_stream(&output_schema(), &[batch])
    }
}

/// What scoring reads, fetched once per probe: the in-place views of the
/// index and, for cosine, the row norms.
struct Rows<'a> {
    metric: Metric,
    dim: usize,
    ids: &'a [i64],
    vectors: &'a [f32],
    norms: &'a [f32],
}

impl Rows<'_> {
    fn row(&self, r: usize) -> &[f32] {
        &self.vectors[r * self.dim..(r + 1) * self.dim]
    }

    fn finish(&self, raw: f32, q_norm: f32, r: usize) -> f32 {
        match self.metric {
            Metric::L2 => raw,
            Metric::Cosine => kernels::cosine_from(raw, q_norm, self.norms[r]),
        }
    }
}

impl<V: Variant> FlatIndex<V> {
    fn rows(&self) -> Rows<'_> {
        let metric = self.layout.metric;
        let norms = if metric == Metric::Cosine { self.norms() } else { &[] };
        Rows { metric, dim: self.layout.dim, ids: self.ids(), vectors: self.vectors(), norms }
    }

    /// Offers every row in `rows` to each query's top-k, four rows per
    /// kernel call (the simd128 kernel interleaves them).
    fn score_block(&self, queries: &[&[f32]], rows: &[usize], best: &mut [TopK]) {
        let index = self.rows();
        let norms: Vec<f32> = queries.iter().map(|q| kernels::norm_sq(q)).collect();
        let mut groups = rows.chunks_exact(4);
        for g in &mut groups {
            let vs = [index.row(g[0]), index.row(g[1]), index.row(g[2]), index.row(g[3])];
            for (qi, q) in queries.iter().enumerate() {
                let raw = match index.metric {
                    Metric::L2 => kernels::l2_x4(V::KERNEL, q, vs),
                    Metric::Cosine => kernels::dot_x4(V::KERNEL, q, vs),
                };
                for k in 0..4 {
                    best[qi].offer(Candidate(index.finish(raw[k], norms[qi], g[k]), index.ids[g[k]]));
                }
            }
        }
        for &r in groups.remainder() {
            for (qi, q) in queries.iter().enumerate() {
                let raw = match index.metric {
                    Metric::L2 => kernels::l2(V::KERNEL, q, index.row(r)),
                    Metric::Cosine => kernels::dot(V::KERNEL, q, index.row(r)),
                };
                best[qi].offer(Candidate(index.finish(raw, norms[qi], r), index.ids[r]));
            }
        }
    }
}

/// Queries scored together per pass over the index rows.
const QUERY_BLOCK: usize = 32;

/// (distance, id), ordered by distance (IEEE total order) then id: the
/// output order, which makes ties deterministic.
#[derive(Clone, Copy)]
struct Candidate(f32, i64);
impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == core::cmp::Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// The k smallest candidates seen so far (a max-heap of size <= k), so
/// memory stays O(k) per query whatever the index size.
struct TopK {
    k: usize,
    heap: BinaryHeap<Candidate>,
}
impl TopK {
    fn new(k: usize) -> Self {
        TopK { k, heap: BinaryHeap::with_capacity(k.min(1 << 16)) }
    }
    fn offer(&mut self, c: Candidate) {
        if self.heap.len() < self.k {
            self.heap.push(c);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if c < *worst {
                *worst = c;
            }
        }
    }
    fn into_sorted(self) -> Vec<Candidate> {
        self.heap.into_sorted_vec()
    }
}

impl<V: Variant> IndexHandle for FlatIndex<V> {
    fn probe(&self, query: &[u8], k: u32) -> Result<Vec<u8>, FnError> {
        self.run_probe(query, k, None)
    }
    fn supports_filter(&self) -> bool {
        true
    }
    fn probe_filtered(&self, query: &[u8], k: u32, mask: &[u8]) -> Result<Vec<u8>, FnError> {
        self.run_probe(query, k, Some(mask))
    }
    fn persist(&self) -> Result<Vec<u8>, FnError> {
        Ok(self.bytes.to_vec())
    }
    /// The storage already is the persisted format: lend it, no copy.
    fn persist_lent(&self) -> Result<Persisted<'_>, FnError> {
        Ok(Persisted::Lent(&self.bytes))
    }
    fn schema(&self) -> Vec<u8> {
        arrow::write_stream(&output_schema(), &[]).unwrap_or_default()
    }
}
