//! Target `frame_diff`: the hand-written codec against the derive-based one
//! (`frame::derived`: serde's derives and serde_json, with exact floats) on
//! the same text, both directions.
//!
//! - Both accept or both refuse, with the same kind of error (too large,
//!   too deep, malformed), at the 1 MiB limit and at a tiny one.
//! - What both accept is the same frame, floats bit for bit.
//! - What the hand-written codec accepts, it writes as text that reads back
//!   as the same frame and writes again as the same text (a fixed point),
//!   and that text holds the same JSON as serde_json's encoding of the frame.
//!
//! One difference is allowed, in one direction: serde's derives also read a
//! struct written as an array of its fields and a unit enum written as a
//! one-entry object, which the contract's "one JSON object per frame" does
//! not allow; the hand-written codec refuses such a text as malformed, with
//! its complaint at that value (see [`outside_contract`]).

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use vizochok_proto::frame::{self, derived, ClientFrame, Frame, FrameError, ServerFrame};

/// Runs both codecs on `data` as text.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let small = usize::from(data.first().copied().unwrap_or(0));
    for max in [frame::MAX_INBOUND_BYTES, small] {
        compare::<ServerFrame>(&text, max, Direction::Server);
        compare::<ClientFrame>(&text, max, Direction::Client);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Direction {
    Server,
    Client,
}

fn compare<T>(text: &str, max: usize, direction: Direction)
where
    T: Frame + DeserializeOwned + Serialize + PartialEq + Debug,
{
    let ours = frame::parse::<T>(text, max);
    let theirs = derived::parse::<T>(text, max);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_identical(a, b, text),
        (Err(a), Err(b)) => assert_eq!(kind(a), kind(b), "different errors\n{text}\nours:   {a}\nserde:  {b}"),
        (Err(FrameError::Malformed(why)), Ok(b)) if refused_outside_contract(text, why, direction) => {
            let _ = b;
        }
        _ => panic!("different decisions\n{text}\nours:  {ours:?}\nserde: {theirs:?}"),
    }
    if let Ok(frame) = ours {
        assert_fixed_point(&frame);
    }
}

/// The kind of an error; messages may differ.
fn kind(e: &FrameError) -> &'static str {
    match e {
        FrameError::TooLarge { .. } => "too large",
        FrameError::TooDeep { .. } => "too deep",
        FrameError::Binary { .. } => "binary",
        FrameError::Malformed(_) => "malformed",
    }
}

/// Equal, and equal in `Debug` too, which tells `-0.0` from `0.0` and
/// prints every float exactly (`Secret`s compare by `==` alone).
fn assert_identical<T: PartialEq + Debug>(a: &T, b: &T, text: &str) {
    assert!(a == b && format!("{a:?}") == format!("{b:?}"), "different frames\n{text}\n{a:?}\n{b:?}");
}

fn assert_fixed_point<T>(frame: &T)
where
    T: Frame + Serialize + PartialEq + Debug,
{
    let text = frame::encode(frame);
    let again =
        frame::parse::<T>(&text, usize::MAX).unwrap_or_else(|e| panic!("an encoded frame does not parse: {e}\n{text}"));
    assert_identical(frame, &again, &text);
    assert_eq!(frame::encode(&again), text, "encoding is not a fixed point");
    let ours: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON: {e}\n{text}"));
    let serde: Value = serde_json::from_str(&derived::encode(frame)).unwrap_or(Value::Null);
    assert_eq!(ours, serde, "the two encodings hold different JSON\n{text}");
}

/// Whether a text serde's derives accept and the hand-written codec refused
/// holds a struct written as an array or a unit enum written as an object,
/// and the refusal names such a value.
fn refused_outside_contract(text: &str, why: &str, direction: Direction) -> bool {
    let named =
        why.contains("must be an object") || why.contains("must be a JSON object") || why.contains("must be a string");
    named && serde_json::from_str::<Value>(text).is_ok_and(|v| outside_contract(&v, direction))
}

/// Whether a frame, as serde_json reads it, holds an array where the
/// contract has an object, or an object where it has an enum's string.
fn outside_contract(frame: &Value, direction: Direction) -> bool {
    let Value::Object(fields) = frame else { return frame.is_array() };
    let field = |name: &str| fields.get(name);
    match (direction, fields.get("type").and_then(Value::as_str)) {
        (Direction::Server, Some("auth_ok")) => {
            nested(field("summary"), summary) || list(field("history"), history) || nested(field("limits"), none)
        }
        (Direction::Server, Some("response")) => list(field("products"), none) || nested(field("summary"), summary),
        (Direction::Server, Some("cart_changed")) => is_object(field("action")) || list(field("items"), none),
        (Direction::Client, Some("auth")) => nested(field("sdk"), none),
        (Direction::Client, Some("context")) => nested(field("page"), none),
        (Direction::Client, Some("feedback")) => is_object(field("rating")),
        _ => false,
    }
}

fn none(_: &Map<String, Value>) -> bool {
    false
}

fn summary(s: &Map<String, Value>) -> bool {
    list(s.get("selected_items"), none)
}

fn history(entry: &Map<String, Value>) -> bool {
    is_object(entry.get("role")) || list(entry.get("products"), none)
}

fn is_object(value: Option<&Value>) -> bool {
    value.is_some_and(Value::is_object)
}

/// A struct-valued field written as an array, or holding such a value inside.
fn nested(value: Option<&Value>, inside: fn(&Map<String, Value>) -> bool) -> bool {
    match value {
        Some(Value::Array(_)) => true,
        Some(Value::Object(fields)) => inside(fields),
        _ => false,
    }
}

/// A list of structs with an item written as an array, or holding one inside.
fn list(value: Option<&Value>, inside: fn(&Map<String, Value>) -> bool) -> bool {
    match value {
        Some(Value::Array(items)) => items.iter().any(|item| nested(Some(item), inside)),
        _ => false,
    }
}
