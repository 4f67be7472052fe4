//! The native client against a real sandbox over loopback sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use support::{config, options, sandbox, temp_dir, Harness, Logs};
use tokio::sync::broadcast;
use vizochok_core::{CartAction, ErrorCode, Event, Language, Role, Secret, State};
use vizochok_sandbox::{demo_catalog, SandboxStore, StoreIdentity};
use vizochok_server::user_token;

#[tokio::test]
async fn a_chat_shows_cards_and_adding_reports_the_whole_cart() {
    let logs = Logs::default();
    let sandbox = sandbox(options(&logs)).await;
    let mut uk = config(&sandbox.ws_url(), "pk_demo");
    uk.language = Language::Uk;
    let mut h = Harness::connect(uk).await;

    let (text, cards, streamed) = h.ask("молоко").await;
    assert!(!cards.is_empty(), "no cards in {text:?}");
    assert!(cards.iter().all(|c| c.name.to_lowercase().contains("молоко")), "{cards:?}");
    assert_eq!(streamed, text, "the deltas add up to the reply");

    let first = h.add(&cards[0], None).await;
    assert_eq!(first.action, CartAction::ItemSelected);
    assert_eq!(first.items.len(), 1);
    let second = h.add(&cards[1], Some(2.0)).await;
    assert_eq!(second.items.len(), 2, "items is the whole cart");
    let expected: f64 = second.items.iter().map(|i| i.promo_price.unwrap_or(i.price) * i.quantity).sum();
    assert!((second.total - expected).abs() < 1e-6, "total {} vs {expected}", second.total);

    let recorded = h.recorder.carts.lock().unwrap().clone();
    assert_eq!(recorded, [first, second], "onCartChanged fired once per change");
    assert_eq!(h.recorder.clicks.lock().unwrap().len(), 2, "onProductClick fired per add");
    assert_eq!(h.client.cart().items.len(), 2);
    sandbox.shutdown().await;
}

/// A store backend that checks the signature and refuses when told to.
#[derive(Clone, Default)]
struct Backend {
    refuse: Arc<AtomicBool>,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

const SECRET: &str = "whsec_test_secret";

async fn backend_handler(backend: Backend, headers: HeaderMap, body: String) -> StatusCode {
    let timestamp = headers["x-vizochok-timestamp"].to_str().unwrap();
    let signature = headers["x-vizochok-signature"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex = signature.strip_prefix("sha256=").expect("sha256= prefix");
    if mac.verify_slice(&hex::decode(hex).unwrap()).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    backend.bodies.lock().unwrap().push(serde_json::from_str(&body).unwrap());
    if backend.refuse.load(Ordering::SeqCst) {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    }
}

#[tokio::test]
async fn webhooks_are_signed_and_a_refusing_backend_leaves_the_cart_unchanged() {
    let backend = Backend::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = listener.local_addr().unwrap();
    let state = backend.clone();
    let app = axum::Router::new()
        .route("/hook", post(move |headers: HeaderMap, body: String| backend_handler(state.clone(), headers, body)));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let logs = Logs::default();
    let mut options = options(&logs);
    options.stores = vec![SandboxStore {
        store_id: "demo-store".into(),
        api_keys: vec!["pk_demo".into()],
        allowed_origins: vec![],
        catalog: demo_catalog(),
        webhook_url: Some(format!("http://{hook_addr}/hook")),
        webhook_secret: Some(SECRET.into()),
    }];
    let sandbox = sandbox(options).await;
    let mut h = Harness::connect(config(&sandbox.ws_url(), "pk_demo")).await;
    let (_, cards, _) = h.ask("молоко").await;

    let added = h.add(&cards[0], None).await;
    assert_eq!(added.items.len(), 1);
    let bodies = backend.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "one verified webhook");
    assert_eq!(bodies[0]["sku"], cards[0].sku.as_str());
    assert_eq!(bodies[0]["cart"]["items"].as_array().unwrap().len(), 1);

    backend.refuse.store(true, Ordering::SeqCst);
    let id = h.client.select_product(&cards[1], None).unwrap();
    let error = h
        .wait("the refusal", |e| match e {
            Event::Error(error) if error.reply_to.as_deref() == Some(id.as_str()) => Some(error.clone()),
            Event::CartChanged(cart) => panic!("the cart changed despite the refusal: {cart:?}"),
            _ => None,
        })
        .await;
    assert_eq!(error.code, ErrorCode::InternalError);
    assert_eq!(h.client.cart().items.len(), 1, "cart unchanged");
    assert!(h.client.pending_actions().is_empty(), "the refused action ended");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_reply_cut_mid_stream_arrives_whole_after_the_reconnect() {
    let logs = Logs::default();
    let mut options = options(&logs);
    options.engine.delta_chars = 8;
    options.faults.drop_after_frames = Some(5);
    let sandbox = sandbox(options).await;
    let mut h = Harness::connect(config(&sandbox.ws_url(), "pk_demo")).await;

    let (text, cards, streamed) = h.ask("молоко").await;
    assert!(!cards.is_empty());
    assert_eq!(streamed, text, "every delta arrived once, in order");
    assert!(h.recorder.disconnects.load(Ordering::SeqCst) >= 1, "the socket was cut");
    assert!(
        logs.lines().iter().any(|l| l.contains(r#""kind":"auth_ok""#) && l.contains("replay")),
        "resumed by replay"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_restarted_sandbox_restores_the_session_from_its_state_directory() {
    let logs = Logs::default();
    let state = temp_dir("state");
    let mut first = options(&logs);
    first.state_dir = Some(state.clone());
    let sandbox_a = sandbox(first).await;
    let addr = sandbox_a.local_addr();
    let mut h = Harness::connect(config(&sandbox_a.ws_url(), "pk_demo")).await;
    let (_, cards, _) = h.ask("молоко").await;
    let cart = h.add(&cards[0], Some(3.0)).await;

    sandbox_a.shutdown().await;
    let mut second = options(&logs);
    second.addr = addr;
    second.state_dir = Some(state.clone());
    let sandbox_b = sandbox(second).await;

    let summary = h.wait("onSessionComplete", |e| matches!(e, Event::SessionComplete(_)).then(|| e.clone())).await;
    let Event::SessionComplete(summary) = summary else { unreachable!() };
    assert_eq!(summary.selected_items, cart.items);
    assert_eq!(summary.item_count, 1);
    assert_eq!(h.recorder.summaries.lock().unwrap().len(), 1);
    sandbox_b.shutdown().await;
    let _ = std::fs::remove_dir_all(state);
}

#[tokio::test]
async fn a_bad_api_key_is_an_auth_error_without_reconnects_and_never_logged() {
    let logs = Logs::default();
    let sandbox = sandbox(options(&logs)).await;
    let mut h = Harness::start(config(&sandbox.ws_url(), "pk_canary_wrong_key"));
    let error = h.wait("auth_error", |e| matches!(e, Event::Error(_)).then(|| e.clone())).await;
    let Event::Error(error) = error else { unreachable!() };
    assert_eq!(error.code, ErrorCode::AuthError);
    h.wait("stopped", |e| (*e == Event::StateChanged(State::Stopped)).then_some(())).await;
    // Nothing more may happen: no reconnect attempt within several backoffs.
    let quiet = tokio::time::timeout(Duration::from_millis(500), h.events.recv()).await;
    assert!(quiet.is_err(), "unexpected event after auth_error: {quiet:?}");
    assert_eq!(logs.count("opened"), 1, "one socket, no reconnect");

    // A good session too, so the log holds every kind of line.
    let mut good = Harness::connect(config(&sandbox.ws_url(), "pk_demo")).await;
    good.ask("молоко").await;
    sandbox.shutdown().await;
    let lines = logs.lines();
    assert!(lines.len() >= 5);
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).expect("every log line is JSON");
        assert!(!line.contains("pk_demo") && !line.contains("pk_canary_wrong_key"), "key in log: {line}");
    }
}

#[tokio::test]
async fn a_signed_in_shopper_on_a_second_device_sees_the_same_cart_and_conversation() {
    const IDENTITY_SECRET: &str = "idsec_client_e2e";
    let logs = Logs::default();
    let mut opts = options(&logs);
    let identity = StoreIdentity { identity_secret: Some(IDENTITY_SECRET.into()), require_identity: true };
    opts.identities.insert("demo-store".into(), identity);
    let sandbox = sandbox(opts).await;
    let signed_in = |config: &mut vizochok_core::Config| {
        config.user_id = Some("olena".into());
        config.user_token = Some(Secret::new(user_token(IDENTITY_SECRET, "olena")));
    };

    // The laptop: a chat and a cart.
    let mut laptop_config = config(&sandbox.ws_url(), "pk_demo");
    signed_in(&mut laptop_config);
    let mut laptop = Harness::connect(laptop_config).await;
    let (_, cards, _) = laptop.ask("milk").await;
    let added = laptop.add(&cards[0], None).await;

    // The phone: the same shopper, nothing saved on it, its own client.
    let mut phone_config = config(&sandbox.ws_url(), "pk_demo");
    signed_in(&mut phone_config);
    let mut phone = Harness::start(phone_config);
    let history = phone
        .wait("history", |e| match e {
            Event::History(entries) => Some(entries.clone()),
            _ => None,
        })
        .await;
    assert_eq!(phone.recorder.connects.load(Ordering::SeqCst), 1);
    let summary = phone.recorder.summaries.lock().unwrap().last().cloned().expect("onSessionComplete on the phone");
    assert_eq!(summary.selected_items, added.items, "the same cart");
    assert_eq!(phone.client.session_id(), laptop.client.session_id(), "the same session");
    assert_eq!(history.first().map(|e| (e.role, e.text.as_str())), Some((Role::User, "milk")), "{history:?}");
    assert!(history.iter().any(|e| e.role == Role::Assistant && e.products.as_ref().is_some_and(|p| !p.is_empty())));

    // A change on the phone reaches the laptop, which stays connected.
    let removed = phone.client.remove_item(&cards[0].sku).expect("accepted");
    let seen = laptop
        .wait("the phone's change", |e| match e {
            Event::CartChanged(cart) if cart.action == CartAction::ItemRemoved => Some(cart.clone()),
            _ => None,
        })
        .await;
    assert!(seen.items.is_empty(), "{removed}: {seen:?}");
    assert_eq!(laptop.recorder.disconnects.load(Ordering::SeqCst), 0);

    // Without the token the same user id gets nowhere.
    let mut stranger_config = config(&sandbox.ws_url(), "pk_demo");
    stranger_config.user_id = Some("olena".into());
    let mut stranger = Harness::start(stranger_config);
    let error = stranger
        .wait("auth_error", |e| match e {
            Event::Error(error) => Some(error.clone()),
            _ => None,
        })
        .await;
    assert_eq!(error.code, ErrorCode::AuthError);
    assert!(stranger.recorder.summaries.lock().unwrap().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_made_on_the_runtime_connects_when_called_from_a_plain_thread() {
    // A GUI or worker thread outside tokio: `tokio::spawn` there panicked.
    let logs = Logs::default();
    let sandbox = sandbox(options(&logs)).await;
    let recorder = support::Recorder::default();
    let client = vizochok_client::Client::new(config(&sandbox.ws_url(), "pk_demo"), recorder.clone()).unwrap();
    let mut events = client.events();
    let client = std::thread::spawn(move || {
        client.connect();
        client
    })
    .join()
    .expect("connect() from a plain thread does not panic");
    let connected = tokio::time::timeout(Duration::from_secs(20), async {
        while !matches!(events.recv().await, Ok(Event::Connect)) {}
    });
    connected.await.expect("onConnect");
    drop(client);
    sandbox.shutdown().await;
}

#[test]
fn a_client_made_outside_any_runtime_reports_why_it_cannot_connect() {
    let recorder = support::Recorder::default();
    let client = vizochok_client::Client::new(config("ws://127.0.0.1:9/v1/ws", "pk_demo"), recorder.clone()).unwrap();
    let mut events = client.events();
    client.connect();
    let error = std::iter::from_fn(|| events.try_recv().ok())
        .find_map(|e| match e {
            Event::Error(error) => Some(error),
            _ => None,
        })
        .expect("an onError");
    assert_eq!(error.code, ErrorCode::WsError);
    assert!(error.detail.as_deref().unwrap_or_default().contains("no tokio runtime"), "{error:?}");
}

#[tokio::test]
async fn close_lets_go_of_the_callbacks_and_the_store_and_ends_the_event_streams() {
    // What an app hands the client: a callback that holds the client would
    // keep both alive for ever if the closed client still held it.
    struct Held(#[allow(dead_code)] Arc<()>); // only held
    impl vizochok_client::Callbacks for Held {}
    impl vizochok_client::SessionStore for Held {
        fn load(&self) -> Option<String> {
            None
        }
        fn save(&self, _: Option<&str>) {}
    }
    let logs = Logs::default();
    let sandbox = sandbox(options(&logs)).await;
    let (callbacks, store) = (Arc::new(()), Arc::new(()));
    let held = [Arc::downgrade(&callbacks), Arc::downgrade(&store)];
    let config = config(&sandbox.ws_url(), "pk_demo");
    let client = vizochok_client::Client::with_store(config, Held(callbacks), Held(store)).unwrap();
    let mut events = client.events();
    client.connect();
    let connected = async { while !matches!(events.recv().await, Ok(Event::Connect)) {} };
    tokio::time::timeout(Duration::from_secs(20), connected).await.expect("onConnect");
    assert!(held.iter().all(|app| app.upgrade().is_some()), "held while the client runs");
    client.close();
    assert!(held.iter().all(|app| app.upgrade().is_none()), "let go at close, though the app still holds the client");
    let mut last = None;
    let ended = async {
        loop {
            match events.recv().await {
                Ok(event) => last = Some(event),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), ended).await.expect("the stream ended");
    assert_eq!(last, Some(Event::StateChanged(State::Destroyed)), "after the last event");
    let later = client.events().try_recv();
    assert_eq!(later, Err(broadcast::error::TryRecvError::Closed), "a stream taken after close has ended");
    assert_eq!(client.state(), State::Destroyed, "reads still answer");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_session_store_that_panics_is_logged_and_the_client_carries_on() {
    struct Broken;
    impl vizochok_client::Callbacks for Broken {}
    impl vizochok_client::SessionStore for Broken {
        fn load(&self) -> Option<String> {
            None
        }
        fn save(&self, _: Option<&str>) {
            panic!("the disk is read-only");
        }
    }
    let logs = Logs::default();
    let sandbox = sandbox(options(&logs)).await;
    let client = vizochok_client::Client::with_store(config(&sandbox.ws_url(), "pk_demo"), Broken, Broken).unwrap();
    let mut events = client.events();
    client.connect();
    // The store is called on auth_ok; the frames after it still come.
    let id = loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await.expect("onConnect") {
            Ok(Event::Connect) => break client.send_message("молоко").unwrap(),
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{e}"),
        }
    };
    let answered =
        async { while !matches!(events.recv().await, Ok(Event::Response(reply)) if reply.reply_to == id) {} };
    tokio::time::timeout(Duration::from_secs(20), answered).await.expect("the reply comes");
    client.close();
    sandbox.shutdown().await;
}
