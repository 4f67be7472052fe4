//! The text form of frames: size and depth limits first, then JSON.

use super::{ClientFrame, FrameError, ServerFrame, MAX_DEPTH, MAX_INBOUND_BYTES};

/// A frame with a text form: one JSON object with a string `type`.
pub trait Frame: Sized {
    /// Reads a frame from its JSON text (size and depth already checked).
    fn from_json(text: &str) -> Result<Self, FrameError>;
    /// Writes the frame as JSON text.
    fn to_json(&self) -> String;
}

impl Frame for ClientFrame {
    fn from_json(text: &str) -> Result<Self, FrameError> {
        serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))
    }

    fn to_json(&self) -> String {
        // Serializing these plain types cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Frame for ServerFrame {
    fn from_json(text: &str) -> Result<Self, FrameError> {
        serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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
    check_depth(text.as_bytes(), MAX_DEPTH)?;
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
    use crate::frame::{AuthFrame, SdkInfo};
    use crate::{CartItem, Secret};

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
            api_key: Secret::new("pk_demo"),
            store_id: "demo-store".into(),
            user_id: None,
            user_token: None,
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
            serde_json::to_string(&item).unwrap(),
            r#"{"sku":"a","name":"A","price":1.5,"promo_price":null,"brand":null,"quantity":2.0}"#
        );
    }

    #[test]
    fn response_flags_appear_only_when_set() {
        let text = r#"{"type":"response","seq":3,"message_id":"r1","reply_to":"m1","text":"**Milk**","products":[]}"#;
        let ServerFrame::Response { seq, reply } = parse_server(text).unwrap() else { panic!("a response") };
        assert_eq!((seq, reply.cancelled, reply.suggestions.len()), (3, false, 0));
        let again = encode(&ServerFrame::Response { seq, reply });
        assert!(!again.contains("cancelled") && !again.contains("suggestions"), "{again}");
    }
}
