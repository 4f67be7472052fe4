//! The derive-based text form (serde's derives, serde_json) that the
//! hand-written codec replaced, kept as the reference it is tested and
//! measured against: the same size and depth limits, then
//! `serde_json::from_str` / `to_string` of the same types.
//!
//! Two inputs outside the contract (`docs/protocol.md`: every frame is one
//! JSON object) are read differently on purpose: serde's derives also accept
//! a struct written as an array of its fields in order (`["ack","a1"]`, or
//! `"limits":[5,1000]`), and a unit enum written as a one-entry object
//! (`"rating":{"up":null}`). The hand-written codec refuses both as malformed.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{FrameError, MAX_DEPTH};
use crate::json::reader::nests_deeper;

/// Parses a frame the way the derive-based codec did.
pub fn parse<T: DeserializeOwned>(text: &str, max_bytes: usize) -> Result<T, FrameError> {
    if text.len() > max_bytes {
        return Err(FrameError::TooLarge { len: text.len(), max: max_bytes });
    }
    if nests_deeper(text.as_bytes(), 0, 0, MAX_DEPTH) {
        return Err(FrameError::TooDeep { max: MAX_DEPTH });
    }
    serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Writes a frame the way the derive-based codec did.
pub fn encode<T: Serialize>(frame: &T) -> String {
    // Serializing these plain types cannot fail.
    serde_json::to_string(frame).unwrap_or_default()
}
