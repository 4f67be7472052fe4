//! Every frame of the wire contract (§2, §3), parsed from and encoded to text.
//!
//! Both directions live here so that the client core and the reference server
//! engine share one definition of the protocol. Parsing checks the size limit
//! before touching the JSON and the nesting depth before building values;
//! unknown `type`s parse to `Unknown` and unknown fields are ignored.

use serde::{Deserialize, Serialize};

use crate::{ApiKey, CartAction, CartItem, HistoryEntry, ProductItem, SessionSummary};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// Default largest inbound frame, in bytes (1 MiB).
pub const MAX_INBOUND_BYTES: usize = 1024 * 1024;
/// Default largest encoded outbound frame, in bytes (16 KiB).
pub const MAX_OUTBOUND_BYTES: usize = 16 * 1024;
/// Largest JSON nesting depth accepted in a frame.
pub const MAX_DEPTH: usize = 64;

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

/// The `sdk` object of the `auth` frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdkInfo {
    /// Which SDK (`vizochok-wasm`, `vizochok-python`, ...).
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The first frame after the socket opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthFrame {
    /// Protocol version (1).
    pub v: u32,
    /// The store's public api key.
    pub api_key: ApiKey,
    /// The store.
    pub store_id: String,
    /// The shopper, if the store knows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// A session to resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The last server `seq` the client applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    /// The widget's language tag.
    pub language: String,
    /// Which SDK is talking.
    pub sdk: SdkInfo,
}

/// A frame the client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Authentication; the only frame that carries the api key.
    Auth(AuthFrame),
    /// A chat message typed by the shopper.
    Message {
        /// Idempotency key.
        id: String,
        /// The text.
        text: String,
    },
    /// The shopper pressed "Add" on a product card.
    SelectItem {
        /// Idempotency key.
        id: String,
        /// Product SKU.
        sku: String,
        /// Quantity to add.
        quantity: f64,
    },
    /// The shopper changed a quantity.
    UpdateQuantity {
        /// Idempotency key.
        id: String,
        /// Product SKU.
        sku: String,
        /// New quantity.
        quantity: f64,
    },
    /// The shopper removed an item.
    RemoveItem {
        /// Idempotency key.
        id: String,
        /// Product SKU.
        sku: String,
    },
    /// The shopper cleared the cart.
    ClearCart {
        /// Idempotency key.
        id: String,
    },
    /// Heartbeat.
    Ping {
        /// Sender's timestamp, echoed back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<f64>,
    },
    /// Answer to a server `ping`.
    Pong {
        /// The ping's timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<f64>,
    },
    /// A `type` this version does not know; ignored by receivers.
    #[serde(other)]
    Unknown,
}

impl ClientFrame {
    /// The action id, for the five action frames.
    pub fn action_id(&self) -> Option<&str> {
        match self {
            ClientFrame::Message { id, .. }
            | ClientFrame::SelectItem { id, .. }
            | ClientFrame::UpdateQuantity { id, .. }
            | ClientFrame::RemoveItem { id, .. }
            | ClientFrame::ClearCart { id } => Some(id),
            _ => None,
        }
    }
}

/// Limits a server announces in `auth_ok`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServerLimits {
    /// Longest user message, in Unicode scalar values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_chars: Option<usize>,
    /// Heartbeat interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<u64>,
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Authentication succeeded.
    AuthOk {
        /// The session now in use.
        session_id: String,
        /// The server restored a session it could not replay.
        restored: bool,
        /// Frames after the client's `last_seq` follow.
        replay: bool,
        /// The session's selections (with `restored`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<SessionSummary>,
        /// The conversation so far (with `restored`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        history: Option<Vec<HistoryEntry>>,
        /// Lowered limits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limits: Option<ServerLimits>,
    },
    /// Authentication failed; final.
    AuthError {
        /// `invalid_api_key`, `unknown_store`, `origin_not_allowed` or `unsupported_version`.
        code: String,
        /// Server's English text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// An action is durable on the server.
    Ack {
        /// The action id.
        id: String,
    },
    /// The assistant is working on a reply.
    Typing {
        /// Per-session sequence number.
        seq: u64,
        /// The message being answered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// A streamed chunk of the assistant's reply.
    Delta {
        /// Per-session sequence number.
        seq: u64,
        /// The reply's id.
        message_id: String,
        /// The message being answered.
        reply_to: String,
        /// The chunk.
        text: String,
    },
    /// The assistant's whole reply.
    Response {
        /// Per-session sequence number.
        seq: u64,
        /// The reply's id.
        message_id: String,
        /// The message being answered.
        reply_to: String,
        /// The whole reply text.
        text: String,
        /// Product cards.
        products: Vec<ProductItem>,
        /// The session's selections, when attached.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<SessionSummary>,
    },
    /// The cart changed; `items` is the whole cart.
    CartChanged {
        /// Per-session sequence number.
        seq: u64,
        /// What changed.
        action: CartAction,
        /// Affected SKU.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sku: Option<String>,
        /// Affected product's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Its new quantity.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantity: Option<f64>,
        /// Its price.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        price: Option<f64>,
        /// The whole cart.
        items: Vec<CartItem>,
        /// Cart total.
        total: f64,
    },
    /// A server error, possibly finishing an action.
    Error {
        /// Per-session sequence number.
        seq: u64,
        /// One of the seed's server error codes.
        code: String,
        /// Server's text (kept as `detail`, never shown as `message`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// The action this error is about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
        /// Wait before retrying.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Heartbeat from the server.
    Ping {
        /// Timestamp to echo.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<f64>,
    },
    /// Answer to the client's `ping`.
    Pong {
        /// The ping's timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<f64>,
    },
    /// A `type` this version does not know; ignored and counted.
    #[serde(other)]
    Unknown,
}

impl ServerFrame {
    /// The `seq` of the frames that carry one (`typing` … `error`).
    pub fn seq(&self) -> Option<u64> {
        match self {
            ServerFrame::Typing { seq, .. }
            | ServerFrame::Delta { seq, .. }
            | ServerFrame::Response { seq, .. }
            | ServerFrame::CartChanged { seq, .. }
            | ServerFrame::Error { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

/// Serializes a frame. Serializing these plain types cannot fail.
pub fn encode<T: Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

/// Parses a frame from text within a byte limit.
pub fn parse<T: serde::de::DeserializeOwned>(text: &str, max_bytes: usize) -> Result<T, FrameError> {
    if text.len() > max_bytes {
        return Err(FrameError::TooLarge { len: text.len(), max: max_bytes });
    }
    check_depth(text.as_bytes(), MAX_DEPTH)?;
    serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Parses a server frame with the default inbound limit.
pub fn parse_server(text: &str) -> Result<ServerFrame, FrameError> {
    parse(text, MAX_INBOUND_BYTES)
}

/// Parses a client frame with the default inbound limit.
pub fn parse_client(text: &str) -> Result<ClientFrame, FrameError> {
    parse(text, MAX_INBOUND_BYTES)
}

/// Refuses JSON that nests deeper than `max` before any value is built, so a
/// hostile frame cannot drive the parser's recursion.
fn check_depth(bytes: &[u8], max: usize) -> Result<(), FrameError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(FrameError::TooDeep { max });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_checked_before_parsing() {
        let big = format!("{{\"type\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(100));
        assert_eq!(parse::<ServerFrame>(&big, 50), Err(FrameError::TooLarge { len: big.len(), max: 50 }));
        assert!(parse::<ServerFrame>(&big, 1000).is_ok());
    }

    #[test]
    fn depth_is_limited_but_brackets_in_strings_do_not_count() {
        let deep = format!("{{\"type\":\"ping\",\"x\":{}{}}}", "[".repeat(64), "]".repeat(64));
        assert_eq!(parse_server(&deep), Err(FrameError::TooDeep { max: 64 }));
        let shallow = format!("{{\"type\":\"ping\",\"x\":\"{}\"}}", "[".repeat(200));
        assert_eq!(parse_server(&shallow), Ok(ServerFrame::Ping { ts: None }));
    }

    #[test]
    fn unknown_types_and_fields_are_tolerated() {
        assert_eq!(parse_server(r#"{"type":"future_thing","a":1}"#), Ok(ServerFrame::Unknown));
        assert_eq!(parse_server(r#"{"type":"ack","id":"a1","extra":[1,2]}"#), Ok(ServerFrame::Ack { id: "a1".into() }));
    }

    #[test]
    fn missing_or_mistyped_fields_are_malformed() {
        for bad in [
            r#"{"type":"ack"}"#,
            r#"{"type":"ack","id":5}"#,
            r#"{"type":"delta","seq":"1","message_id":"m","reply_to":"r","text":"t"}"#,
            r#"{"id":"x"}"#,
            r#"[1,2]"#,
            "not json",
            "",
        ] {
            assert!(matches!(parse_server(bad), Err(FrameError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn auth_frame_has_the_contract_fields() {
        let frame = ClientFrame::Auth(AuthFrame {
            v: 1,
            api_key: ApiKey::new("pk_demo"),
            store_id: "demo-store".into(),
            user_id: None,
            session_id: Some("s1".into()),
            last_seq: Some(7),
            language: "uk".into(),
            sdk: SdkInfo { name: "vizochok-rust".into(), version: "0.1.0".into() },
        });
        let v: serde_json::Value = serde_json::from_str(&encode(&frame)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"auth","v":1,"api_key":"pk_demo","store_id":"demo-store",
                "session_id":"s1","last_seq":7,"language":"uk","sdk":{"name":"vizochok-rust","version":"0.1.0"}})
        );
    }

    #[test]
    fn cart_item_nulls_are_explicit_on_the_wire() {
        let item =
            CartItem { sku: "a".into(), name: "A".into(), price: 1.5, promo_price: None, brand: None, quantity: 2.0 };
        assert_eq!(
            encode(&item),
            r#"{"sku":"a","name":"A","price":1.5,"promo_price":null,"brand":null,"quantity":2.0}"#
        );
    }
}
