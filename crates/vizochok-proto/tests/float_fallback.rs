//! A host's float conversions, installed once for the process, take over
//! the numbers outside the codec's exact fast path, and only those.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use vizochok_proto::frame::{encode, parse_server, ServerFrame};
use vizochok_proto::json::{install_float_fallback, FloatFallback};

static CALLS: AtomicUsize = AtomicUsize::new(0);

fn host_parse(token: &str) -> Option<f64> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    token.parse().ok()
}

/// Spells exponents the way JavaScript's `String(x)` does (`1e+300`).
fn host_write(x: f64, out: &mut String) {
    CALLS.fetch_add(1, Ordering::SeqCst);
    out.push_str(&format!("{x:e}").replace("e", "e+").replace("e+-", "e-"));
}

#[test]
fn the_hosts_conversions_take_over_outside_the_fast_path() {
    let host = FloatFallback { parse: host_parse, write: host_write };
    assert!(install_float_fallback(host));
    assert!(!install_float_fallback(host), "a second fallback is refused");

    let everyday = r#"{"type":"cart_changed","seq":3,"action":"item_selected","sku":"a","quantity":2,"price":44.9,"items":[{"sku":"a","name":"A","price":44.9,"promo_price":37.9,"brand":null,"quantity":0.25}],"total":11.225}"#;
    let frame = parse_server(everyday).unwrap();
    assert_eq!(parse_server(&encode(&frame)).unwrap(), frame);
    assert_eq!(CALLS.load(Ordering::SeqCst), 0, "prices and quantities need no conversion");

    let rare = ServerFrame::Ping { ts: Some(1.2345e300) };
    let text = encode(&rare);
    assert_eq!(text, r#"{"type":"ping","ts":1.2345e+300}"#);
    assert_eq!(parse_server(&text).unwrap(), rare);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2, "one write and one read by the host");
}
