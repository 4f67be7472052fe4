//! Built without `std-floats` and with no fallback installed: everyday
//! numbers still work exactly; the rare ones are refused on the way in and
//! written as `null`, and the error says why.
#![cfg(not(feature = "std-floats"))]
#![allow(clippy::unwrap_used)]

use vizochok_proto::frame::{encode, parse_server, FrameError, ServerFrame};

#[test]
fn without_a_fallback_only_the_rare_numbers_are_lost() {
    let ping = |ts: &str| parse_server(&format!(r#"{{"type":"ping","ts":{ts}}}"#));
    assert_eq!(ping("44.9"), Ok(ServerFrame::Ping { ts: Some(44.9) }));
    assert_eq!(ping("1e-400"), Ok(ServerFrame::Ping { ts: Some(0.0) }));
    let Err(FrameError::Malformed(why)) = ping("0.30000000000000004") else { panic!("refused") };
    assert!(why.contains("no float conversion is installed"), "{why}");
    let Err(FrameError::Malformed(why)) = ping("1e400") else { panic!("refused") };
    assert!(why.contains("beyond the range"), "{why}");

    assert_eq!(encode(&ServerFrame::Ping { ts: Some(0.1) }), r#"{"type":"ping","ts":0.1}"#);
    assert_eq!(encode(&ServerFrame::Ping { ts: Some(0.1 + 0.2) }), r#"{"type":"ping","ts":null}"#);
}
