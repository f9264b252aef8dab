//! {{KIND}}: a CDC output that hands the host, for every change batch, one summary row
//! `(lsn_start: Int64, lsn_end: Int64, rows: Int64, commit_micros: Int64)` as Arrow IPC, through `cdc-sink`.
//!
//! What every uni:plugin CDC output must get right is here (`uni-plugin check` tests it):
//! - batches arrive in LSN order without gaps: a batch that does not continue the last one is refused, with
//!   nothing changed;
//! - `checkpoint` is the exclusive bound of what the sink has *accepted* (flush first);
//! - `start(from)` resumes at `from`, inclusive: the host then redelivers every batch from there, so with
//!   `start(checkpoint)` each LSN reaches the sink exactly once, across restarts and hot reloads;
//! - a sink failure halts the stream with its checkpoint frozen (the host resumes it from there).
use uni_plugin_sdk::arrow::{self, Column, DataType, Field, RecordBatch, Schema};
use uni_plugin_sdk::cdc::{sink, CdcOutput, CdcStream, ChangeBatch};
use uni_plugin_sdk::{log, FnError};

/// The output this plugin provides; manifest.json lists it under `provides.cdc_outputs`.
pub const OUTPUT: &str = "{{KIND}}";
/// Batches held back before they are emitted (1: emit on every delivery). Buffering more saves sink calls;
/// `checkpoint` and `shutdown` always flush.
const BUFFER: usize = 1;

/// A batch that does not continue the previous one.
const NOT_CONTIGUOUS: u32 = 0x101;
/// The stream halted on a sink failure, or was shut down.
const STOPPED: u32 = 0x102;

pub struct Output;

pub struct SummaryStream {
    /// Where the next batch must start (None before the first batch of a fresh start).
    next_lsn: Option<u64>,
    /// Exclusive bound of what the sink has accepted.
    durable: u64,
    pending: Vec<(u64, u64, Vec<u8>)>,
    stopped: Option<String>,
}

impl CdcOutput for Output {
    type Stream = SummaryStream;

    fn outputs() -> Vec<String> {
        vec![OUTPUT.to_string()]
    }

    fn start(_output: &str, from_lsn: Option<u64>) -> Result<SummaryStream, FnError> {
        Ok(SummaryStream { next_lsn: from_lsn, durable: from_lsn.unwrap_or(0), pending: Vec::new(), stopped: None })
    }
}

impl SummaryStream {
    fn usable(&self) -> Result<(), FnError> {
        match &self.stopped {
            Some(why) => Err(FnError::plugin(STOPPED, format!("{OUTPUT}: {why}; checkpoint stays at {}", self.durable))),
            None => Ok(()),
        }
    }

    /// Emits what is buffered, in order. The first sink failure halts the stream at the last accepted LSN.
    fn flush(&mut self) -> Result<(), FnError> {
        for (lsn_start, lsn_end, payload) in std::mem::take(&mut self.pending) {
            if let Err(e) = sink::emit(OUTPUT, lsn_start, lsn_end, &payload) {
                log::warn(&format!("{OUTPUT}: the sink refused [{lsn_start}, {lsn_end}): {}", e.message));
                self.stopped = Some(format!("halted by a sink failure at LSN {lsn_start}"));
                return Err(e);
            }
            self.durable = lsn_end;
        }
        Ok(())
    }
}

impl CdcStream for SummaryStream {
    fn deliver(&mut self, batch: ChangeBatch<'_>) -> Result<(), FnError> {
        self.usable()?;
        let (start, end) = (batch.lsn_start, batch.lsn_end);
        if end <= start {
            return Err(FnError::plugin(NOT_CONTIGUOUS, format!("batch [{start}, {end}) is empty or reversed")));
        }
        if let Some(expected) = self.next_lsn {
            if start != expected {
                let what = if start < expected { "a duplicate" } else { "a gap" };
                return Err(FnError::plugin(NOT_CONTIGUOUS, format!("{what}: expected a batch starting at LSN {expected}, got {start}")));
            }
        }
        let (_, batches) = arrow::read_stream(batch.mutations).map_err(|e| e.context("mutations"))?;
        let rows: usize = batches.iter().map(|b| b.num_rows).sum();
        let summary = RecordBatch::try_new(vec![
            Column::int64(vec![start as i64]),
            Column::int64(vec![end as i64]),
            Column::int64(vec![rows as i64]),
            Column::int64(vec![batch.commit_micros]),
        ])?;
        let payload = arrow::write_stream(&summary_schema(), &[summary])?;
        self.next_lsn = Some(end);
        self.pending.push((start, end, payload));
        if self.pending.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<u64, FnError> {
        if self.stopped.is_none() {
            self.flush()?;
        }
        Ok(self.durable)
    }

    fn shutdown(&mut self) -> Result<(), FnError> {
        self.usable()?;
        let flushed = self.flush();
        self.stopped = Some("shut down".to_string());
        flushed
    }
}

fn summary_schema() -> Schema {
    Schema::new(vec![
        Field::new("lsn_start", DataType::Int64, false),
        Field::new("lsn_end", DataType::Int64, false),
        Field::new("rows", DataType::Int64, false),
        Field::new("commit_micros", DataType::Int64, false),
    ])
}

uni_plugin_sdk::export_cdc_plugin!(Output, manifest = include_str!("../manifest.json"));
