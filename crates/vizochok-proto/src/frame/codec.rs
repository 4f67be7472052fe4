//! The text form of frames: the size limit first, then one pass over the
//! JSON that checks the depth limit as it goes (`crate::json`).

use super::{read, write, ClientFrame, FrameError, ServerFrame, MAX_DEPTH, MAX_INBOUND_BYTES};
use crate::json::reader::{nests_deeper, Reader};
use crate::json::{Error, Problem};

/// A frame with a text form: one JSON object with a string `type`.
pub trait Frame: Sized {
    /// Reads a frame from its JSON text. Nesting deeper than [`MAX_DEPTH`]
    /// is refused before anything that deep is built; [`parse`] checks the
    /// size before this.
    fn from_json(text: &str) -> Result<Self, FrameError>;
    /// Writes the frame as JSON text.
    fn to_json(&self) -> String;
}

impl Frame for ClientFrame {
    fn from_json(text: &str) -> Result<Self, FrameError> {
        read_with(text, read::client_frame)
    }

    fn to_json(&self) -> String {
        write::client_frame(self)
    }
}

impl Frame for ServerFrame {
    fn from_json(text: &str) -> Result<Self, FrameError> {
        read_with(text, read::server_frame)
    }

    fn to_json(&self) -> String {
        write::server_frame(self)
    }
}

pub(crate) fn read_with<T>(text: &str, read: fn(&mut Reader<'_>) -> Result<T, Error>) -> Result<T, FrameError> {
    read(&mut Reader::new(text, MAX_DEPTH)).map_err(|e| frame_error(text, &e))
}

/// The error of a refused text. Depth is the first rule even for a text
/// that is malformed earlier on: the bracket count goes on past the error.
fn frame_error(text: &str, e: &Error) -> FrameError {
    if e.problem == Problem::TooDeep || nests_deeper(text.as_bytes(), e.resume, e.depth, MAX_DEPTH) {
        FrameError::TooDeep { max: MAX_DEPTH }
    } else {
        FrameError::Malformed(e.describe())
    }
}

/// Writes a frame as text.
pub fn encode<T: Frame>(frame: &T) -> String {
    frame.to_json()
}

/// Parses a frame from text within a byte limit.
pub fn parse<T: Frame>(text: &str, max_bytes: usize) -> Result<T, FrameError> {
    if text.len() > max_bytes {
        return Err(FrameError::TooLarge { len: text.len(), max: max_bytes });
    }
    T::from_json(text)
}

/// Parses a server frame with the default inbound limit.
pub fn parse_server(text: &str) -> Result<ServerFrame, FrameError> {
    parse(text, MAX_INBOUND_BYTES)
}

/// Parses a client frame with the default inbound limit.
pub fn parse_client(text: &str) -> Result<ClientFrame, FrameError> {
    parse(text, MAX_INBOUND_BYTES)
}

#[cfg(test)]
mod tests;
