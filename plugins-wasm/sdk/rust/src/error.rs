//! `fn-error`: the failure a plugin reports on purpose.
use core::fmt;

/// Error codes. Codes <= 0xff are reserved by the host with fixed meanings;
/// plugins define their own from 0x100 up.
pub mod codes {
    pub const UNKNOWN_FUNCTION: u32 = 0x01;
    /// Type coercion / malformed input (bad Arrow IPC, bad persisted bytes, bad options).
    pub const MALFORMED: u32 = 0x02;
    pub const UNEXPECTED_NULL: u32 = 0x03;
    pub const RESOURCE_LIMIT: u32 = 0x04;
    pub const FORBIDDEN: u32 = 0x05;
    pub const FILTER_UNSUPPORTED: u32 = 0x20;
    /// First code a plugin may define.
    pub const PLUGIN_BASE: u32 = 0x100;
}

/// `record fn-error { code, message, retryable }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnError {
    pub code: u32,
    pub message: String,
    pub retryable: bool,
}

impl FnError {
    /// A non-retryable error with `code`.
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        FnError { code, message: message.into(), retryable: false }
    }
    /// The same error, marked retryable (the caller may try again unchanged).
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
    /// Code 2: the input bytes or arguments are malformed.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(codes::MALFORMED, message)
    }
    /// Code 3: a null where a value is required.
    pub fn unexpected_null(message: impl Into<String>) -> Self {
        Self::new(codes::UNEXPECTED_NULL, message)
    }
    /// Code 4: a size or count limit was exceeded.
    pub fn resource_limit(message: impl Into<String>) -> Self {
        Self::new(codes::RESOURCE_LIMIT, message)
    }
    /// Code 0x20: this index kind has no filtered probe.
    pub fn filter_unsupported() -> Self {
        Self::new(codes::FILTER_UNSUPPORTED, "this index kind does not support filtered probes")
    }
    /// A plugin-defined code (>= 0x100).
    pub fn plugin(code: u32, message: impl Into<String>) -> Self {
        Self::new(code, message)
    }
    /// Prefixes the message with where the error happened, keeping code and retryable.
    pub fn context(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for FnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#x}] {}", self.code, self.message)
    }
}
