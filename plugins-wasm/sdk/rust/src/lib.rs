//! Guest SDK for `uni:plugin@1.0.0` components written in Rust.
//!
//! Authors implement [`index::IndexProvider`] / [`index::IndexHandle`] or
//! [`cdc::CdcOutput`] / [`cdc::CdcStream`] and call one export macro
//! ([`export_index_plugin!`], [`export_cdc_plugin!`]) with their manifest JSON.
//! The SDK emits every core export, allocator and resource import the
//! component model expects; plugin code never sees canonical-ABI details.
//!
//! Nothing here panics on bad input: malformed bytes become an [`FnError`].
#![deny(unsafe_op_in_unsafe_fn)]

pub mod arrow;
pub mod bytes;
pub mod cdc;
mod error;
pub mod index;
pub mod json;
#[doc(hidden)]
pub mod lend;
pub mod log;
#[doc(hidden)]
pub mod rt;

pub use bytes::AlignedBytes;
pub use error::{codes, FnError};
