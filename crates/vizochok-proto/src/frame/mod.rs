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
mod record;
mod server;
mod write;

pub use client::{AuthFrame, ClientFrame, Overlong, PageContext, PageInfo, Rating, SdkInfo};
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
/// Longest `user_id` in an `auth`, in bytes of UTF-8: every session keeps it.
pub const MAX_USER_ID_BYTES: usize = 256;
/// Longest feedback comment, in Unicode scalar values.
pub const MAX_FEEDBACK_COMMENT_CHARS: usize = 500;
/// Longest `page.url` of a `context`, in Unicode scalar values.
pub const MAX_CONTEXT_URL_CHARS: usize = 2_048;
/// Longest `page.title`, `category` or `query` of a `context`.
pub const MAX_CONTEXT_TEXT_CHARS: usize = 500;
/// Longest `sku` of a `context`.
pub const MAX_CONTEXT_SKU_CHARS: usize = 128;
/// Longest `locale` of a `context` (a BCP 47 tag).
pub const MAX_CONTEXT_LOCALE_CHARS: usize = 35;
/// Longest `currency` of a `context` (ISO 4217 codes have 3 letters).
pub const MAX_CONTEXT_CURRENCY_CHARS: usize = 3;
/// The most of one product a cart line holds (and so the largest quantity
/// an action names): far above any real basket, and low enough that every
/// quantity and total stays a finite number.
pub const MAX_QUANTITY: f64 = 1_000_000.0;

/// Why a frame was refused. The texts are developer-facing English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The frame is larger than the limit.
    TooLarge {
        /// Size of the frame.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The JSON nests deeper than [`MAX_DEPTH`].
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A binary WebSocket frame; the protocol is text only.
    Binary {
        /// Size of the frame.
        len: usize,
    },
    /// Not valid JSON, or not a frame of the contract's shape.
    Malformed(String),
}

impl FrameError {
    /// The developer-facing text, built without `core::fmt` (which a
    /// WebAssembly build then leaves out).
    pub fn message(&self) -> String {
        let mut text = String::with_capacity(64);
        let number = |text: &mut String, n: usize| crate::json::write_u64(n as u64, text);
        match self {
            FrameError::TooLarge { len, max } => {
                text.push_str("frame of ");
                number(&mut text, *len);
                text.push_str(" bytes exceeds the ");
                number(&mut text, *max);
                text.push_str("-byte limit");
            }
            FrameError::TooDeep { max } => {
                text.push_str("JSON nesting deeper than ");
                number(&mut text, *max);
                text.push_str(" levels");
            }
            FrameError::Binary { len } => {
                text.push_str("binary frame of ");
                number(&mut text, *len);
                text.push_str(" bytes (the protocol uses text frames only)");
            }
            FrameError::Malformed(why) => {
                text.push_str("malformed frame: ");
                text.push_str(why);
            }
        }
        text
    }
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for FrameError {}
