//! Test fixture (not a sample): index kind `arrow.echo` whose `build` decodes
//! the source with the SDK's Arrow reader and whose `persist` re-encodes it
//! with the SDK's writer, so tests can check both against apache-arrow.
//! `probe(query, k)` does the same for the query, concatenating its batches
//! into one when k == 1.
use uni_plugin_sdk::arrow::{self, RecordBatch, Schema};
use uni_plugin_sdk::index::{IndexHandle, IndexProvider};
use uni_plugin_sdk::FnError;

pub struct Echo;
pub struct Decoded {
    schema: Schema,
    batches: Vec<RecordBatch>,
}

impl IndexProvider for Echo {
    type Handle = Decoded;
    fn kinds() -> Vec<String> {
        vec!["arrow.echo".into()]
    }
    fn build(_kind: &str, source: &[u8], _options: &str) -> Result<Decoded, FnError> {
        let (schema, batches) = arrow::read_stream(source)?;
        Ok(Decoded { schema, batches })
    }
    fn open(kind: &str, persisted: &[u8]) -> Result<Decoded, FnError> {
        Self::build(kind, persisted, "")
    }
}

impl IndexHandle for Decoded {
    fn probe(&self, query: &[u8], k: u32) -> Result<Vec<u8>, FnError> {
        let (schema, batches) = arrow::read_stream(query)?;
        if k == 1 {
            let one = arrow::concat_batches(&schema, &batches)?;
            return arrow::write_stream(&schema, &[one]);
        }
        arrow::write_stream(&schema, &batches)
    }
    fn persist(&self) -> Result<Vec<u8>, FnError> {
        arrow::write_stream(&self.schema, &self.batches)
    }
    fn schema(&self) -> Vec<u8> {
        arrow::write_stream(&self.schema, &[]).unwrap_or_default()
    }
}

uni_plugin_sdk::export_index_plugin!(
    Echo,
    manifest = r#"{"id":"dev.uni.test.arrow-echo","version":"1.0.0","abi":"^1.0","capabilities":["index"],"provides":{"index_kinds":["arrow.echo"]}}"#
);
