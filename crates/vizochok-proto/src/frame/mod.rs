//! Every frame of the wire protocol, both directions, and their text form.
//!
//! Both directions live here so that the client core and the reference
//! server engine share one definition. Parsing checks the size limit before
//! touching the JSON and the nesting depth before building values; unknown
//! `type`s parse to `Unknown` and unknown fields are ignored. The text form
//! is written by hand (`read`, `write`, over `crate::json`), without serde.

mod client;
mod codec;
#[cfg(feature = "serde")]
pub mod derived;
pub mod payload;
mod read;
mod server;
mod write;

pub use client::{AuthFrame, ClientFrame, PageContext, PageInfo, Rating, SdkInfo};
pub use codec::{encode, parse, parse_client, parse_server, Frame};
pub use server::{AuthOk, Reply, ServerFrame, ServerLimits};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// Default largest inbound frame, in bytes (1 MiB).
pub const MAX_INBOUND_BYTES: usize = 1024 * 1024;
/// Default largest encoded outbound frame, in bytes (16 KiB).
pub const MAX_OUTBOUND_BYTES: usize = 16 * 1024;
/// Largest JSON nesting depth accepted in a frame.
pub const MAX_DEPTH: usize = 64;
/// Longest action id, in ASCII characters.
pub const MAX_ACTION_ID: usize = 64;
/// Most suggestions a `response` carries, and the longest one in characters.
pub const MAX_SUGGESTIONS: usize = 4;
/// Longest suggestion, in Unicode scalar values.
pub const MAX_SUGGESTION_CHARS: usize = 80;
/// Longest feedback comment, in Unicode scalar values.
pub const MAX_FEEDBACK_COMMENT_CHARS: usize = 500;

/// Why a frame was refused. The texts are developer-facing English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame is larger than the limit.
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Size of the frame.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The JSON nests deeper than [`MAX_DEPTH`].
    #[error("JSON nesting deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A binary WebSocket frame; the protocol is text only.
    #[error("binary frame of {len} bytes (the protocol uses text frames only)")]
    Binary {
        /// Size of the frame.
        len: usize,
    },
    /// Not valid JSON, or not a frame of the contract's shape.
    #[error("malformed frame: {0}")]
    Malformed(String),
}
