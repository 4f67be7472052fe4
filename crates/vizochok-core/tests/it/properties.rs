//! Property tests: frame round trips, arbitrary bytes, and the session's
//! invariants under arbitrary sequences of inputs, actions and time steps.

use crate::support::*;
use proptest::prelude::*;
use serde_json::json;
use vizochok_core::*;
use vizochok_proto::frame::{
    self, AuthFrame, AuthOk, ClientFrame, PageContext, PageInfo, Rating, ServerFrame, ServerLimits,
};

/// Decimal amounts like prices and quantities (exactly representable round trips).
fn amount() -> impl Strategy<Value = f64> {
    (0u64..10_000_000).prop_map(|milli| milli as f64 / 1000.0)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,40}", "[a-zа-яїієґ0-9 \"\\\\\\n\\u{0}]{0,20}"]
}

fn opt<T: std::fmt::Debug + Clone>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::of(s)
}

fn any_cart_item() -> impl Strategy<Value = CartItem> {
    (text(), text(), amount(), opt(amount()), opt(text()), amount()).prop_map(
        |(sku, name, price, promo_price, brand, quantity)| CartItem { sku, name, price, promo_price, brand, quantity },
    )
}

fn any_product() -> impl Strategy<Value = ProductItem> {
    (text(), text(), amount(), text(), amount(), opt(amount()), opt(text()), opt(text()), opt(amount())).prop_map(
        |(sku, name, price, unit, quantity_step, quantity, brand, image_url, promo_price)| ProductItem {
            sku,
            name,
            price,
            unit,
            quantity_step,
            quantity,
            brand,
            image_url,
            promo_price,
        },
    )
}

fn summary() -> impl Strategy<Value = SessionSummary> {
    (prop::collection::vec(any_cart_item(), 0..3), amount(), any::<u32>())
        .prop_map(|(selected_items, total, n)| SessionSummary { selected_items, total, item_count: n.into() })
}

fn cart_action() -> impl Strategy<Value = CartAction> {
    prop_oneof![
        Just(CartAction::ItemSelected),
        Just(CartAction::ItemRemoved),
        Just(CartAction::QuantityUpdated),
        Just(CartAction::CartCleared)
    ]
}

fn client_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        (text(), text(), opt(text()), opt(text()), opt(any::<u64>()), text(), text(), any::<bool>()).prop_map(
            |(key, store_id, user_id, session_id, last_seq, language, name, new_session)| ClientFrame::Auth(
                AuthFrame {
                    v: 1,
                    api_key: Secret::new(key),
                    store_id,
                    user_id,
                    user_token: None,
                    session_id,
                    last_seq,
                    language,
                    sdk: SdkInfo { name, version: "1".into() },
                    new_session,
                }
            )
        ),
        (text(), text()).prop_map(|(id, text)| ClientFrame::Message { id, text }),
        (text(), text(), amount()).prop_map(|(id, sku, quantity)| ClientFrame::SelectItem { id, sku, quantity }),
        (text(), text(), amount()).prop_map(|(id, sku, quantity)| ClientFrame::UpdateQuantity { id, sku, quantity }),
        (text(), text()).prop_map(|(id, sku)| ClientFrame::RemoveItem { id, sku }),
        text().prop_map(|id| ClientFrame::ClearCart { id }),
        (text(), opt((opt(text()), opt(text()))), opt(text()), opt(text()), opt(text()), opt(text()), opt(text()))
            .prop_map(|(id, page, sku, category, query, locale, currency)| {
                let page = page.map(|(url, title)| PageInfo { url, title });
                ClientFrame::Context { id, context: PageContext { page, sku, category, query, locale, currency } }
            }),
        (text(), text()).prop_map(|(id, reply_to)| ClientFrame::Cancel { id, reply_to }),
        (text(), text(), any::<bool>(), opt(text())).prop_map(|(id, message_id, up, comment)| {
            ClientFrame::Feedback { id, message_id, rating: if up { Rating::Up } else { Rating::Down }, comment }
        }),
        opt(amount()).prop_map(|ts| ClientFrame::Ping { ts }),
        opt(amount()).prop_map(|ts| ClientFrame::Pong { ts }),
    ]
}

fn server_frame() -> impl Strategy<Value = ServerFrame> {
    let history = prop::collection::vec(
        (any::<bool>(), text(), opt(prop::collection::vec(any_product(), 0..2)), opt(text()), opt(any::<bool>()))
            .prop_map(|(user, text, products, message_id, up)| HistoryEntry {
                role: if user { Role::User } else { Role::Assistant },
                text,
                products,
                message_id,
                rating: up.map(|up| if up { Rating::Up } else { Rating::Down }),
            }),
        0..3,
    );
    let limits = (opt(0usize..5000), opt(any::<u64>()))
        .prop_map(|(max_message_chars, heartbeat_ms)| ServerLimits { max_message_chars, heartbeat_ms });
    prop_oneof![
        (text(), any::<bool>(), any::<bool>(), opt(summary()), opt(history), opt(limits)).prop_map(
            |(session_id, restored, replay, summary, history, limits)| ServerFrame::AuthOk(AuthOk {
                session_id,
                restored,
                replay,
                summary,
                history,
                limits
            })
        ),
        (text(), opt(text())).prop_map(|(code, message)| ServerFrame::AuthError { code, message }),
        text().prop_map(|id| ServerFrame::Ack { id }),
        (any::<u64>(), opt(text())).prop_map(|(seq, reply_to)| ServerFrame::Typing { seq, reply_to }),
        (any::<u64>(), text(), text(), text()).prop_map(|(seq, message_id, reply_to, text)| ServerFrame::Delta {
            seq,
            message_id,
            reply_to,
            text
        }),
        (
            any::<u64>(),
            (text(), text(), text()),
            prop::collection::vec(any_product(), 0..3),
            opt(summary()),
            (any::<bool>(), any::<bool>()),
            prop::collection::vec(text(), 0..4)
        )
            .prop_map(
                |(seq, (message_id, reply_to, text), products, summary, (cancelled, again), suggestions)| {
                    ServerFrame::Response {
                        seq,
                        reply: Reply { message_id, reply_to, text, products, summary, cancelled, suggestions },
                        again,
                    }
                }
            ),
        (any::<u64>(), text(), text()).prop_map(|(seq, id, text)| ServerFrame::UserMessage { seq, id, text }),
        (
            any::<u64>(),
            cart_action(),
            opt(text()),
            opt(text()),
            opt(amount()),
            opt(amount()),
            prop::collection::vec(any_cart_item(), 0..3),
            amount()
        )
            .prop_map(|(seq, action, sku, name, quantity, price, items, total)| ServerFrame::CartChanged {
                seq,
                change: CartChangedEvent { action, sku, name, quantity, price, items, total }
            }),
        (any::<u64>(), text(), opt(text()), opt(text()), opt(any::<u64>())).prop_map(
            |(seq, code, message, reply_to, retry_after_ms)| ServerFrame::Error {
                seq,
                code,
                message,
                reply_to,
                retry_after_ms
            }
        ),
        opt(amount()).prop_map(|ts| ServerFrame::Ping { ts }),
        opt(amount()).prop_map(|ts| ServerFrame::Pong { ts }),
    ]
}

/// One step of a random host.
#[derive(Debug, Clone)]
enum Step {
    Connect,
    Open,
    AuthOk { restored: bool, replay: bool, new_session: bool },
    AuthError,
    AckPending(usize),
    RespondPending(usize),
    BusyPending(usize, u64),
    FailPending(usize),
    CartChanged(u64),
    Garbage(Vec<u8>),
    Binary,
    ServerPing,
    Closed(Option<u16>),
    SocketError,
    Advance(u64),
    Online,
    HostClose,
    Message(String),
    Select(u8),
    Update(u8, u8),
    Remove(u8),
    Clear,
    Reset,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Connect),
        4 => Just(Step::Open),
        4 => (any::<bool>(), any::<bool>(), prop::bool::weighted(0.2)).prop_map(|(restored, replay, new_session)| Step::AuthOk { restored, replay, new_session }),
        1 => Just(Step::AuthError),
        4 => (0usize..40).prop_map(Step::AckPending),
        3 => (0usize..40).prop_map(Step::RespondPending),
        2 => (0usize..40, 0u64..5000).prop_map(|(i, ms)| Step::BusyPending(i, ms)),
        1 => (0usize..40).prop_map(Step::FailPending),
        2 => (0u64..50).prop_map(Step::CartChanged),
        2 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Step::Garbage),
        1 => Just(Step::Binary),
        1 => Just(Step::ServerPing),
        2 => prop_oneof![Just(None), Just(Some(1000)), Just(Some(1001)), Just(Some(1012)), Just(Some(4001)), Just(Some(4008))].prop_map(Step::Closed),
        1 => Just(Step::SocketError),
        6 => prop_oneof![0u64..100, 0u64..40_000, Just(10_000), Just(25_000)].prop_map(Step::Advance),
        1 => Just(Step::Online),
        1 => Just(Step::HostClose),
        4 => "[a-z ]{0,12}".prop_map(Step::Message),
        3 => any::<u8>().prop_map(Step::Select),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, q)| Step::Update(s, q)),
        2 => any::<u8>().prop_map(Step::Remove),
        1 => Just(Step::Clear),
        1 => Just(Step::Reset),
    ]
}

fn pending_id(h: &Script, i: usize) -> Option<String> {
    let pending = h.session.pending_actions();
    (!pending.is_empty()).then(|| pending[i % pending.len()].id.clone())
}

fn apply(h: &mut Script, step: &Step, seq: &mut u64) {
    let now = h.now;
    match step {
        Step::Connect => h.input(Input::Connect),
        Step::Open => {
            if let Some(s) = h.socket {
                h.input(Input::SocketOpened(s))
            }
        }
        Step::AuthOk { restored, replay, new_session } => {
            let id = if *new_session { format!("s{seq}") } else { "s1".into() };
            let summary = json!({"selected_items":[cart_item("a", 1.0)],"total":10.0,"item_count":1});
            if h.socket.is_some() {
                h.recv(json!({"type":"auth_ok","session_id":id,"restored":restored,"replay":replay,"summary":summary}));
            }
        }
        Step::AuthError => {
            if h.socket.is_some() {
                h.recv(json!({"type":"auth_error","code":"invalid_api_key","message":KEY}))
            }
        }
        Step::AckPending(i) | Step::RespondPending(i) | Step::BusyPending(i, _) | Step::FailPending(i) => {
            let (Some(id), Some(_)) = (pending_id(h, *i), h.socket) else { return };
            *seq += 1;
            let frame = match step {
                Step::AckPending(_) => json!({"type":"ack","id":id}),
                Step::RespondPending(_) => {
                    json!({"type":"response","seq":*seq,"message_id":"m","reply_to":id,"text":"ok","products":[]})
                }
                Step::BusyPending(_, ms) => {
                    json!({"type":"error","seq":*seq,"code":"agent_busy","reply_to":id,"retry_after_ms":ms})
                }
                _ => json!({"type":"error","seq":*seq,"code":"internal_error","reply_to":id}),
            };
            h.recv(frame);
        }
        Step::CartChanged(back) => {
            if h.socket.is_some() {
                *seq += 1;
                let s = seq.saturating_sub(*back);
                h.recv(json!({"type":"cart_changed","seq":s,"action":"item_selected","sku":"a","items":[cart_item("a", s as f64)],"total":1.0}));
            }
        }
        Step::Garbage(bytes) => {
            if h.socket.is_some() {
                h.recv_text(&String::from_utf8_lossy(bytes))
            }
        }
        Step::Binary => {
            if let Some(s) = h.socket {
                h.input(Input::Binary(s, 3))
            }
        }
        Step::ServerPing => {
            if h.socket.is_some() {
                h.recv(json!({"type":"ping","ts":1}))
            }
        }
        Step::Closed(code) => {
            if let Some(s) = h.socket {
                h.input(Input::SocketEnded { socket: s, code: *code, reason: "" })
            }
        }
        Step::SocketError => {
            if let Some(s) = h.socket {
                h.input(Input::SocketEnded { socket: s, code: None, reason: KEY })
            }
        }
        Step::Advance(ms) => h.advance(*ms),
        Step::Online => h.input(Input::NetworkOnline),
        Step::HostClose => h.input(Input::Disconnect),
        Step::Message(t) => drop(h.session.send_message(now, t)),
        Step::Select(n) => drop(h.session.select_product(now, &product(&format!("p{}", n % 8), 0.5), None)),
        Step::Update(s, q) => drop(h.session.update_quantity(now, &format!("p{}", s % 8), f64::from(*q) / 2.0)),
        Step::Remove(s) => drop(h.session.remove_item(now, &format!("p{}", s % 8))),
        Step::Clear => drop(h.session.clear_cart(now)),
        Step::Reset => drop(h.session.reset(now)),
    }
    h.drain();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn client_frames_round_trip(f in client_frame()) {
        prop_assert_eq!(frame::parse_client(&frame::encode(&f)), Ok(f));
    }

    #[test]
    fn server_frames_round_trip(f in server_frame()) {
        prop_assert_eq!(frame::parse_server(&frame::encode(&f)), Ok(f));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = frame::parse_server(&text);
        let _ = frame::parse_client(&text);
    }

    #[test]
    fn arbitrary_json_shapes_never_panic_the_session(key in "[a-z_]{1,12}", value in prop_oneof![
        Just(json!(null)), Just(json!(-1)), Just(json!(1e300)), Just(json!("s")), Just(json!([])), Just(json!({}))]) {
        let mut h = Script::connected();
        for ty in ["auth_ok","auth_error","ack","typing","delta","response","cart_changed","error","ping","pong"] {
            h.recv(json!({"type": ty, key.clone(): value.clone(), "seq": 1}));
        }
    }

    #[test]
    fn session_invariants_hold_under_arbitrary_inputs(steps in prop::collection::vec(step(), 1..120)) {
        let mut h = Script::new();
        let mut seq = 0;
        let capacity = config().limits.queue_capacity;
        for step in &steps {
            apply(&mut h, step, &mut seq);
            let pending = h.session.pending_actions();
            prop_assert!(pending.len() <= capacity + 1, "queue grew to {}", pending.len());
            prop_assert!(h.session.reconnect_attempts() <= 10);
            if let Some(deadline) = h.session.poll_timeout() {
                prop_assert!(deadline >= h.now, "deadline {} before now {}", deadline, h.now);
            }
            for e in &h.events {
                prop_assert!(!format!("{e:?}").contains(KEY), "key leaked in {:?}", e);
            }
            // 1000 is the one close code every WebSocket API accepts from a client.
            prop_assert!(h.closes.iter().all(|(code, _)| *code == 1000), "{:?}", h.closes);
            for f in h.sent.iter().filter(|f| f["type"] != "auth") {
                prop_assert!(!f.to_string().contains(KEY));
            }
        }
        // Every ended action ended once: never acknowledged twice.
        let mut acked: Vec<_> = h.events.iter().filter_map(|e| if let Event::Acknowledged { id } = e { Some(id) } else { None }).collect();
        let n = acked.len();
        acked.sort();
        acked.dedup();
        prop_assert_eq!(n, acked.len());
    }
}
