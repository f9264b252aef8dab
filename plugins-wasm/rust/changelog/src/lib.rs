//! `changelog`: a CDC output that hands every batch on to the host's sink
//! (`cdc-sink.emit`) unchanged, checking that batches arrive contiguously.
//!
//! The component crates pick a [`Mode`]: v1 emits on every delivery; v2
//! buffers up to four batches and emits them when the buffer is full, on
//! `checkpoint` and on `shutdown`.
use core::marker::PhantomData;
use uni_plugin_sdk::cdc::{sink, CdcOutput, CdcStream, ChangeBatch};
use uni_plugin_sdk::{arrow, log, FnError};

pub const OUTPUT: &str = "changelog";
/// A batch does not continue where the previous one ended (gap, duplicate, empty range).
pub const NOT_CONTIGUOUS: u32 = 0x102;
/// An earlier sink failure halted the stream.
pub const HALTED: u32 = 0x103;
/// The stream was shut down.
pub const SHUT_DOWN: u32 = 0x104;

pub trait Mode: 'static {
    /// Batches held back before emitting; 1 emits on every delivery.
    const BUFFER: usize;
}

pub struct Changelog<M: Mode>(PhantomData<M>);

struct Pending {
    lsn_start: u64,
    lsn_end: u64,
    payload: Vec<u8>,
}

pub struct ChangelogStream<M: Mode> {
    /// lsn_start the next batch must have (None: anything, before the first batch).
    expected_start: Option<u64>,
    /// Exclusive bound of what the sink has durably accepted.
    durable: u64,
    pending: Vec<Pending>,
    halted: bool,
    shut_down: bool,
    _mode: PhantomData<M>,
}

impl<M: Mode> CdcOutput for Changelog<M> {
    type Stream = ChangelogStream<M>;

    fn outputs() -> Vec<String> {
        vec![OUTPUT.to_string()]
    }

    fn start(_output: &str, from_lsn: Option<u64>) -> Result<Self::Stream, FnError> {
        Ok(ChangelogStream {
            expected_start: from_lsn,
            durable: from_lsn.unwrap_or(0),
            pending: Vec::with_capacity(M::BUFFER),
            halted: false,
            shut_down: false,
            _mode: PhantomData,
        })
    }
}

impl<M: Mode> ChangelogStream<M> {
    fn usable(&self) -> Result<(), FnError> {
        if self.shut_down {
            return Err(FnError::plugin(SHUT_DOWN, "the changelog stream was shut down"));
        }
        if self.halted {
            return Err(FnError::plugin(
                HALTED,
                format!("the changelog stream is halted by an earlier sink failure; its checkpoint stays at {}", self.durable),
            ));
        }
        Ok(())
    }

    fn check_contiguous(&self, batch: &ChangeBatch<'_>) -> Result<(), FnError> {
        let (start, end) = (batch.lsn_start, batch.lsn_end);
        if end <= start {
            return Err(FnError::plugin(
                NOT_CONTIGUOUS,
                format!("batch [{start}, {end}) is empty or reversed: expected lsn_end > {start}, got {end}"),
            ));
        }
        match self.expected_start {
            Some(expected) if start < expected => Err(FnError::plugin(
                NOT_CONTIGUOUS,
                format!("duplicate delivery: expected a batch starting at LSN {expected}, got {start} (LSNs before {expected} were already delivered)"),
            )),
            Some(expected) if start > expected => Err(FnError::plugin(
                NOT_CONTIGUOUS,
                format!("gap in delivery: expected a batch starting at LSN {expected}, got {start} (LSNs {expected}..{start} are missing)"),
            )),
            _ => Ok(()),
        }
    }

    /// Emits every buffered batch in order. The first failure halts the
    /// stream: the checkpoint stays at the last batch the sink accepted and
    /// the rest of the buffer is dropped (the host redelivers from there).
    fn flush(&mut self) -> Result<(), FnError> {
        for batch in core::mem::take(&mut self.pending) {
            if let Err(e) = sink::emit(OUTPUT, batch.lsn_start, batch.lsn_end, &batch.payload) {
                self.halted = true;
                log::warn(&format!(
                    "changelog: sink refused [{}, {}): {}; stream halted at checkpoint {}",
                    batch.lsn_start, batch.lsn_end, e.message, self.durable
                ));
                return Err(e);
            }
            self.durable = batch.lsn_end;
        }
        Ok(())
    }
}

impl<M: Mode> CdcStream for ChangelogStream<M> {
    /// A contiguity error leaves the stream untouched (nothing was accepted),
    /// so the host may still deliver the right batch; a sink failure halts it.
    fn deliver(&mut self, batch: ChangeBatch<'_>) -> Result<(), FnError> {
        self.usable()?;
        self.check_contiguous(&batch)?;
        arrow::check_stream(batch.mutations).map_err(|e| e.context("mutations"))?;
        self.expected_start = Some(batch.lsn_end);
        self.pending.push(Pending { lsn_start: batch.lsn_start, lsn_end: batch.lsn_end, payload: batch.mutations.to_vec() });
        if self.pending.len() >= M::BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Flushes what is buffered, then reports the durable bound. Once halted
    /// it keeps reporting the frozen bound.
    fn checkpoint(&mut self) -> Result<u64, FnError> {
        if self.shut_down {
            return Err(FnError::plugin(SHUT_DOWN, "the changelog stream was shut down"));
        }
        if !self.halted {
            self.flush()?;
        }
        Ok(self.durable)
    }

    fn shutdown(&mut self) -> Result<(), FnError> {
        if self.shut_down {
            return Err(FnError::plugin(SHUT_DOWN, "the changelog stream was already shut down"));
        }
        self.shut_down = true;
        if self.halted {
            return Ok(());
        }
        self.flush()
    }
}
