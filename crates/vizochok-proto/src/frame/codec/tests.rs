use super::*;
use crate::frame::{AuthFrame, PageContext, PageInfo, Rating, SdkInfo, ServerLimits};
use crate::SessionSummary;
use crate::{AuthOk, CartAction, CartChangedEvent, CartItem, HistoryEntry, ProductItem, Reply, Role, Secret};

fn malformed(result: Result<impl std::fmt::Debug, FrameError>) -> String {
    match result {
        Err(FrameError::Malformed(why)) => why,
        other => panic!("expected a malformed frame, got {other:?}"),
    }
}

fn item(sku: &str, quantity: f64) -> CartItem {
    CartItem { sku: sku.into(), name: sku.to_uppercase(), price: 1.5, promo_price: None, brand: None, quantity }
}

fn product(sku: &str) -> ProductItem {
    ProductItem {
        sku: sku.into(),
        name: "Молоко 2,5%".into(),
        price: 44.9,
        unit: "pcs".into(),
        quantity_step: 1.0,
        quantity: None,
        brand: Some("Галичина".into()),
        image_url: None,
        promo_price: Some(37.9),
    }
}

#[test]
fn size_is_checked_before_parsing() {
    let big = format!("{{\"type\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(100));
    assert_eq!(parse::<ServerFrame>(&big, 50), Err(FrameError::TooLarge { len: big.len(), max: 50 }));
    assert!(parse::<ServerFrame>(&big, 1000).is_ok());
    // Too large wins over anything wrong inside.
    assert_eq!(parse::<ServerFrame>("[[[[[[", 3), Err(FrameError::TooLarge { len: 6, max: 3 }));
}

#[test]
fn refusals_say_why_in_plain_english() {
    let texts = [
        (
            FrameError::TooLarge { len: 1_048_577, max: 1_048_576 },
            "frame of 1048577 bytes exceeds the 1048576-byte limit",
        ),
        (FrameError::TooDeep { max: 64 }, "JSON nesting deeper than 64 levels"),
        (FrameError::Binary { len: 3 }, "binary frame of 3 bytes (the protocol uses text frames only)"),
        (FrameError::Malformed("why".into()), "malformed frame: why"),
    ];
    for (error, text) in texts {
        assert_eq!((error.message(), error.to_string()), (text.to_owned(), text.to_owned()));
    }
}

#[test]
fn depth_is_limited_but_brackets_in_strings_do_not_count() {
    let deep = format!("{{\"type\":\"ping\",\"x\":{}{}}}", "[".repeat(64), "]".repeat(64));
    assert_eq!(parse_server(&deep), Err(FrameError::TooDeep { max: 64 }));
    let at_limit = format!("{{\"type\":\"ping\",\"x\":{}{}}}", "[".repeat(63), "]".repeat(63));
    assert_eq!(parse_server(&at_limit), Ok(ServerFrame::Ping { ts: None }));
    let shallow = format!("{{\"type\":\"ping\",\"x\":\"{}\"}}", "[".repeat(200));
    assert_eq!(parse_server(&shallow), Ok(ServerFrame::Ping { ts: None }));
}

#[test]
fn depth_is_the_first_rule_even_after_an_earlier_error() {
    let deep = "[".repeat(70);
    for text in [
        format!("{{\"type\":5,\"x\":{deep}"),
        format!("{{\"type\":\"ack\",\"id\":7,\"x\":{deep}"),
        format!("{{\"type\":\"ack\",\"id\":\"\\q\",\"x\":{deep}"),
        format!("{{\"type\":\"ack\"}} {deep}"),
        format!("nonsense {deep}"),
    ] {
        assert_eq!(parse_server(&text), Err(FrameError::TooDeep { max: 64 }), "{text}");
    }
    // Brackets inside a broken string still do not count.
    let in_string = format!("{{\"type\":\"ack\",\"id\":\"\\q{deep}\"}}");
    malformed(parse_server(&in_string));
}

#[test]
fn unknown_types_and_fields_are_tolerated() {
    assert_eq!(parse_server(r#"{"type":"future_thing","a":1}"#), Ok(ServerFrame::Unknown));
    assert_eq!(parse_client(r#"{"type":"ack","id":"a1"}"#), Ok(ClientFrame::Unknown));
    assert_eq!(parse_server(r#"{"type":"ack","id":"a1","extra":[1,2]}"#), Ok(ServerFrame::Ack { id: "a1".into() }));
    let nested = r#"{"type":"ack","x":{"type":"delta","y":[{"z":null},true,-1.5e3,"\u00e9"]},"id":"a1"}"#;
    assert_eq!(parse_server(nested), Ok(ServerFrame::Ack { id: "a1".into() }));
}

#[test]
fn the_type_may_stand_anywhere_in_the_frame() {
    let late = r#"{"seq":4,"text":"hi","message_id":"r1","reply_to":"m1","type":"delta"}"#;
    let delta = ServerFrame::Delta { seq: 4, message_id: "r1".into(), reply_to: "m1".into(), text: "hi".into() };
    assert_eq!(parse_server(late), Ok(delta));
    assert_eq!(parse_server(r#"{"id":"a","t\u0079pe":"\u0061ck"}"#), Ok(ServerFrame::Ack { id: "a".into() }));
}

#[test]
fn missing_mistyped_or_repeated_fields_are_malformed() {
    for bad in [
        r#"{"type":"ack"}"#,
        r#"{"type":"ack","id":5}"#,
        r#"{"type":"ack","id":null}"#,
        r#"{"type":"ack","id":"a","id":"b"}"#,
        r#"{"type":"ack","type":"ack","id":"a"}"#,
        r#"{"type":"future","type":"x"}"#,
        r#"{"type":"delta","seq":"1","message_id":"m","reply_to":"r","text":"t"}"#,
        r#"{"type":"typing","seq":1.0}"#,
        r#"{"type":"typing","seq":-1}"#,
        r#"{"type":"typing","seq":18446744073709551616}"#,
        r#"{"type":"response","seq":1,"message_id":"m","reply_to":"r","text":"t","products":[],"cancelled":null}"#,
        r#"{"type":"response","seq":1,"message_id":"m","reply_to":"r","text":"t","products":[],"suggestions":null}"#,
        r#"{"type":"cart_changed","seq":1,"action":"item_lost","items":[],"total":0}"#,
        r#"{"type":"auth_ok","session_id":"s","restored":1,"replay":false}"#,
        r#"{"id":"x"}"#,
        r#"{"type":null}"#,
        r#"{"type":3}"#,
        r#"[1,2]"#,
        r#"["ack","a1"]"#,
        r#"{"type":"auth_ok","session_id":"s","restored":true,"replay":false,"limits":[5,1000]}"#,
        r#"{"type":"ping","ts":1e400}"#,
        r#"{"type":"future","x":-1e400}"#,
        r#"{"type":"ack","id":"\ud800"}"#,
        r#"{"type":"ack","id":"a"} x"#,
        r#"{"type":"ack","id":"a",}"#,
        r#"{"type":"ack","id":"a""#,
        "not json",
        "",
    ] {
        malformed(parse_server(bad));
    }
    for bad in [
        r#"{"type":"auth","v":4294967296,"api_key":"k","store_id":"s","language":"en","sdk":{"name":"n","version":"1"}}"#,
        r#"{"type":"feedback","id":"f","message_id":"m","rating":{"up":null}}"#,
        r#"{"type":"feedback","id":"f","message_id":"m","rating":"sideways"}"#,
        r#"{"type":"select_item","id":"a","sku":"s","quantity":"2"}"#,
    ] {
        malformed(parse_client(bad));
    }
}

#[test]
fn errors_say_what_was_wrong_and_where() {
    let why = |text: &str| malformed(parse_server(text));
    assert_eq!(why(r#"{"type":"ack"}"#), "missing field `id` of `ack`, at byte 14");
    assert_eq!(why(r#"{"type":"ack","id":5}"#), "field `id` of `ack` must be a string, at byte 19");
    assert_eq!(why(r#"{"type":"ack","id":"a","id":"b"}"#), "duplicate field `id` of `ack`, at byte 28");
    assert_eq!(why(r#"{"type":"typing","seq":-1}"#), "field `seq` of `typing` must be an unsigned integer, at byte 23");
    assert_eq!(
        why(r#"{"type":"response","seq":1,"message_id":"m","reply_to":"r","text":"t","products":[7]}"#),
        "an item of field `products` of `response` must be an object, at byte 82"
    );
    assert_eq!(why(r#"{"type":"ack" "id":"a"}"#), "expected ',' or '}' after a value in an object, at byte 14");
    assert_eq!(why(r#"{"type":"ack","id":"a\x"}"#), "invalid escape in a string, at byte 21");
    assert_eq!(why("[]"), "a frame must be a JSON object, at byte 0");
    assert_eq!(why(r#"{"id":"a"}"#), "missing field `type`, at byte 10");
    assert_eq!(why(r#"{"type":"ping","ts":1e999}"#), "number beyond the range of a 64-bit float, at byte 20");
    // Foreign text never appears in a complaint, so a secret in a frame cannot leak through it.
    assert!(!malformed(parse_client(r#"{"type":"auth","api_key":"pk_canary","v":"x"}"#)).contains("canary"));
}

#[test]
fn optional_fields_may_be_absent_or_null() {
    let absent = r#"{"type":"error","seq":2,"code":"agent_busy"}"#;
    let null = r#"{"type":"error","seq":2,"code":"agent_busy","message":null,"reply_to":null,"retry_after_ms":null}"#;
    let expected =
        ServerFrame::Error { seq: 2, code: "agent_busy".into(), message: None, reply_to: None, retry_after_ms: None };
    assert_eq!(parse_server(absent), Ok(expected.clone()));
    assert_eq!(parse_server(null), Ok(expected));
    let item = r#"{"type":"cart_changed","seq":1,"action":"item_selected","items":[{"sku":"a","name":"A","price":1.5,"quantity":2}],"total":3}"#;
    let ServerFrame::CartChanged { change, .. } = parse_server(item).unwrap() else { panic!("a cart_changed") };
    assert_eq!((change.items[0].promo_price, change.items[0].brand.as_deref(), change.sku), (None, None, None));
}

#[test]
fn integers_are_exact() {
    let text = r#"{"type":"typing","seq":18446744073709551615}"#;
    assert_eq!(parse_server(text), Ok(ServerFrame::Typing { seq: u64::MAX, reply_to: None }));
}

#[test]
fn everyday_numbers_are_exact_without_any_float_conversion() {
    for ts in ["0.1", "44.9", "-0", "1E+2", "1733040000123", "0.000125", "9007199254740993", "1e-400"] {
        let frame = parse_server(&format!(r#"{{"type":"ping","ts":{ts}}}"#)).unwrap();
        let expected = ts.parse::<f64>().unwrap();
        assert!(matches!(frame, ServerFrame::Ping { ts: Some(x) } if x.to_bits() == expected.to_bits()), "{ts}");
        assert_eq!(parse_server(&encode(&frame)), Ok(frame));
    }
}

#[cfg(feature = "std-floats")]
#[test]
fn every_number_is_exact_with_std_floats() {
    for ts in ["0.30000000000000004", "1e-320", "123456789012345678901234567890", "1.7976931348623157e308", "5e-324"] {
        let frame = parse_server(&format!(r#"{{"type":"ping","ts":{ts}}}"#)).unwrap();
        let expected = ts.parse::<f64>().unwrap();
        assert!(matches!(frame, ServerFrame::Ping { ts: Some(x) } if x.to_bits() == expected.to_bits()), "{ts}");
        assert_eq!(parse_server(&encode(&frame)), Ok(frame));
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
        new_session: false,
    });
    assert_eq!(
        encode(&frame),
        r#"{"type":"auth","v":1,"api_key":"pk_demo","store_id":"demo-store","session_id":"s1","last_seq":7,"language":"uk","sdk":{"name":"vizochok-rust","version":"0.1.0"}}"#
    );
    assert_eq!(parse_client(&encode(&frame)), Ok(frame));
}

#[test]
fn no_debug_form_of_a_frame_shows_a_secret() {
    let auth = parse_client(
        r#"{"type":"auth","v":1,"api_key":"pk_canary_key","store_id":"demo-store","user_id":"alice","user_token":"tok_canary","session_id":"sess_canary","language":"uk","sdk":{"name":"n","version":"1"}}"#,
    );
    let ok = parse_server(r#"{"type":"auth_ok","session_id":"sess_canary","restored":false,"replay":true}"#);
    for shown in [format!("{auth:?}"), format!("{auth:#?}"), format!("{ok:?}"), format!("{ok:#?}")] {
        assert!(!shown.contains("canary"), "{shown}");
    }
    // What is not a secret still shows, and so does whether a session id was sent.
    let auth = format!("{auth:?}");
    assert!(auth.contains(r#"user_id: Some("alice")"#) && auth.contains("session_id: Some([redacted])"), "{auth}");
    assert!(format!("{ok:?}").contains("replay: true"));
}

#[test]
fn cart_item_nulls_are_explicit_on_the_wire() {
    let frame = ServerFrame::CartChanged {
        seq: 1,
        change: CartChangedEvent { items: vec![item("a", 2.0)], total: 3.0, ..CartChangedEvent::cleared() },
    };
    assert_eq!(
        encode(&frame),
        r#"{"type":"cart_changed","seq":1,"action":"cart_cleared","items":[{"sku":"a","name":"A","price":1.5,"promo_price":null,"brand":null,"quantity":2.0}],"total":3.0}"#
    );
}

#[test]
fn response_flags_appear_only_when_set() {
    let text = r#"{"type":"response","seq":3,"message_id":"r1","reply_to":"m1","text":"**Milk**","products":[]}"#;
    let ServerFrame::Response { seq, reply, again } = parse_server(text).unwrap() else { panic!("a response") };
    assert_eq!((seq, reply.cancelled, reply.suggestions.len(), again), (3, false, 0, false));
    assert_eq!(encode(&ServerFrame::Response { seq, reply: reply.clone(), again }), text);
    let sent_again = encode(&ServerFrame::Response { seq, reply, again: true });
    assert_eq!(sent_again, text.replace(r#""products":[]}"#, r#""products":[],"again":true}"#));
    assert!(matches!(parse_server(&sent_again), Ok(ServerFrame::Response { again: true, .. })));
}

/// One frame of every kind, both directions, with every optional field set
/// somewhere and strings that need escapes.
fn every_frame() -> (Vec<ServerFrame>, Vec<ClientFrame>) {
    let summary = SessionSummary { selected_items: vec![item("a", 2.0), item("b", 0.5)], total: 3.75, item_count: 2 };
    let reply = Reply {
        message_id: "r1".into(),
        reply_to: "m1".into(),
        text: "Found \"2\"\n\t**milk**\\".into(),
        products: vec![
            product("p1"),
            ProductItem { quantity: Some(2.0), image_url: Some("/i.png".into()), ..product("p2") },
        ],
        summary: Some(summary.clone()),
        cancelled: true,
        suggestions: vec!["more".into(), "cheaper 🥛".into()],
    };
    let server = vec![
        ServerFrame::AuthOk(AuthOk {
            session_id: "s1".into(),
            restored: true,
            replay: false,
            summary: Some(summary.clone()),
            history: Some(vec![
                HistoryEntry { role: Role::User, text: "milk".into(), products: None, message_id: None, rating: None },
                HistoryEntry {
                    role: Role::Assistant,
                    text: "here".into(),
                    products: Some(vec![product("p1")]),
                    message_id: Some("m-7".into()),
                    rating: Some(Rating::Down),
                },
            ]),
            limits: Some(ServerLimits { max_message_chars: Some(500), heartbeat_ms: Some(25_000) }),
        }),
        ServerFrame::AuthOk(AuthOk {
            session_id: "s2".into(),
            restored: false,
            replay: true,
            summary: None,
            history: None,
            limits: Some(ServerLimits::default()),
        }),
        ServerFrame::AuthError { code: "invalid_api_key".into(), message: Some("no such key".into()) },
        ServerFrame::Ack { id: "a-1".into() },
        ServerFrame::Typing { seq: 1, reply_to: Some("m1".into()) },
        ServerFrame::Typing { seq: 2, reply_to: None },
        ServerFrame::Delta { seq: 3, message_id: "r1".into(), reply_to: "m1".into(), text: "Мо\u{1}".into() },
        ServerFrame::Response { seq: 4, reply, again: true },
        ServerFrame::CartChanged {
            seq: 5,
            change: CartChangedEvent {
                action: CartAction::QuantityUpdated,
                sku: Some("a".into()),
                name: Some("A".into()),
                quantity: Some(0.25),
                price: Some(19.99),
                items: vec![CartItem { promo_price: Some(1.25), brand: Some("Farm".into()), ..item("a", 0.25) }],
                total: 0.31,
            },
        },
        ServerFrame::CartChanged { seq: 6, change: CartChangedEvent::cleared() },
        ServerFrame::UserMessage { seq: 7, id: "m2".into(), text: "hi".into() },
        ServerFrame::Error {
            seq: 8,
            code: "agent_busy".into(),
            message: Some("busy".into()),
            reply_to: Some("m2".into()),
            retry_after_ms: Some(1500),
        },
        ServerFrame::Ping { ts: Some(1733040000123.0) },
        ServerFrame::Pong { ts: None },
        ServerFrame::Unknown,
    ];
    let client = vec![
        ClientFrame::Auth(AuthFrame {
            v: 1,
            api_key: Secret::new("pk_demo"),
            store_id: "demo-store".into(),
            user_id: Some("u1".into()),
            user_token: Some(Secret::new("tok")),
            session_id: None,
            last_seq: Some(0),
            language: "en".into(),
            sdk: SdkInfo { name: "vizochok-rust".into(), version: "0.1.0".into() },
            new_session: true,
        }),
        ClientFrame::Message { id: "m1".into(), text: "молоко \"2.5%\"".into() },
        ClientFrame::SelectItem { id: "a1".into(), sku: "milk".into(), quantity: 2.0 },
        ClientFrame::UpdateQuantity { id: "a2".into(), sku: "milk".into(), quantity: 0.1 },
        ClientFrame::RemoveItem { id: "a3".into(), sku: "milk".into() },
        ClientFrame::ClearCart { id: "a4".into() },
        ClientFrame::Context {
            id: "c1".into(),
            context: PageContext {
                page: Some(PageInfo { url: Some("https://shop.example/milk".into()), title: None }),
                sku: Some("milk".into()),
                category: None,
                query: Some("молоко".into()),
                locale: Some("uk-UA".into()),
                currency: Some("UAH".into()),
            },
        },
        ClientFrame::Context { id: "c2".into(), context: PageContext::default() },
        ClientFrame::Cancel { id: "x1".into(), reply_to: "m1".into() },
        ClientFrame::Feedback {
            id: "f1".into(),
            message_id: "r1".into(),
            rating: Rating::Down,
            comment: Some("meh".into()),
        },
        ClientFrame::Feedback { id: "f2".into(), message_id: "r1".into(), rating: Rating::Up, comment: None },
        ClientFrame::Ping { ts: None },
        ClientFrame::Pong { ts: Some(12.5) },
        ClientFrame::Unknown,
    ];
    (server, client)
}

#[test]
fn every_frame_reads_back_what_was_written() {
    let (server, client) = every_frame();
    for frame in server {
        assert_eq!(parse_server(&encode(&frame)), Ok(frame));
    }
    for frame in client {
        assert_eq!(parse_client(&encode(&frame)), Ok(frame));
    }
}

#[cfg(feature = "serde")]
#[test]
fn every_frame_is_written_as_serde_wrote_it_and_reads_as_serde_read_it() {
    use crate::frame::derived;
    let (server, client) = every_frame();
    for frame in server {
        let text = derived::encode(&frame);
        assert_eq!(encode(&frame), text);
        assert_eq!(parse_server(&text), derived::parse::<ServerFrame>(&text, MAX_INBOUND_BYTES));
    }
    for frame in client {
        let text = derived::encode(&frame);
        assert_eq!(encode(&frame), text);
        assert_eq!(parse_client(&text), derived::parse::<ClientFrame>(&text, MAX_INBOUND_BYTES));
    }
}
