//! Every server error code produced for real, over a raw loopback
//! WebSocket (a raw socket can send what the client core never would).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::{Logs, Raw};
use vizochok_sandbox::{demo_catalog, RunningSandbox, SandboxOptions, SandboxStore, StoreIdentity};
use vizochok_server::{user_token, Catalog, LimitsConfig};

/// Authenticates a raw socket, as `user_id` when given.
async fn authed(sandbox: &RunningSandbox, user_id: Option<&str>) -> Raw {
    Raw::session(sandbox, json!({ "user_id": user_id })).await.0
}

async fn sandbox(configure: impl FnOnce(&mut SandboxOptions, &mut LimitsConfig)) -> RunningSandbox {
    let mut options = support::options(&Logs::default());
    let mut limits = LimitsConfig::default();
    configure(&mut options, &mut limits);
    options.engine.limits = limits;
    vizochok_sandbox::start(options).await.unwrap()
}

fn select(id: &str) -> Value {
    json!({"type": "select_item", "id": id, "sku": "DAI-001", "quantity": 1})
}

fn store(catalog: Catalog, webhook_url: Option<String>) -> SandboxStore {
    SandboxStore {
        store_id: "demo-store".into(),
        api_keys: vec!["pk_demo".into()],
        allowed_origins: vec![],
        catalog,
        webhook_url,
        webhook_secret: Some("whsec".into()),
    }
}

#[tokio::test]
async fn rate_limit_exceeded() {
    let sandbox = sandbox(|_, l| l.rate_limit_actions = 2).await;
    let mut raw = authed(&sandbox, None).await;
    for id in ["a1", "a2", "a3"] {
        raw.send(select(id)).await;
    }
    assert_eq!(raw.error(Some("a3")).await, "rate_limit_exceeded");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn user_message_limit() {
    let sandbox = sandbox(|_, l| l.user_messages_max = 1).await;
    let mut raw = authed(&sandbox, None).await;
    raw.chat("m1", "молоко").await;
    raw.send(json!({"type": "message", "id": "m2", "text": "хліб"})).await;
    assert_eq!(raw.error(Some("m2")).await, "user_message_limit");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn user_conversation_limit() {
    // The quota counts a verified shopper (a claimed user_id is its session's).
    let sandbox = sandbox(|o, l| {
        let identity = StoreIdentity { identity_secret: Some("idsec".into()), require_identity: true };
        o.identities.insert("demo-store".into(), identity);
        l.user_conversations_max = 1;
    })
    .await;
    let login = json!({"user_id": "u1", "user_token": user_token("idsec", "u1"), "new_session": true});
    Raw::session(&sandbox, login.clone()).await.0.chat("m1", "молоко").await;
    let mut second = Raw::session(&sandbox, login).await.0;
    second.send(json!({"type": "message", "id": "m2", "text": "хліб"})).await;
    assert_eq!(second.error(Some("m2")).await, "user_conversation_limit");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tenant_daily_token_limit() {
    let sandbox = sandbox(|_, l| l.tenant_daily_tokens = 1).await;
    let mut raw = authed(&sandbox, None).await;
    raw.chat("m1", "молоко").await;
    raw.send(json!({"type": "message", "id": "m2", "text": "хліб"})).await;
    assert_eq!(raw.error(Some("m2")).await, "tenant_daily_token_limit");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tenant_monthly_token_limit() {
    let sandbox = sandbox(|_, l| l.tenant_monthly_tokens = 1).await;
    let mut raw = authed(&sandbox, None).await;
    raw.chat("m1", "молоко").await;
    raw.send(json!({"type": "message", "id": "m2", "text": "хліб"})).await;
    assert_eq!(raw.error(Some("m2")).await, "tenant_monthly_token_limit");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn agent_busy() {
    let sandbox = sandbox(|options, _| {
        options.engine.delta_interval_ms = 500;
        options.engine.delta_chars = 4;
    })
    .await;
    let mut raw = authed(&sandbox, None).await;
    // The client core never sends a second message before the first reply.
    raw.send(json!({"type": "message", "id": "m1", "text": "молоко"})).await;
    raw.send(json!({"type": "message", "id": "m2", "text": "хліб"})).await;
    let frame = raw.until("error", Some("m2")).await;
    assert_eq!(frame["code"], "agent_busy");
    assert!(frame["retry_after_ms"].as_u64().unwrap() > 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn message_too_large() {
    let sandbox = sandbox(|_, l| l.max_message_chars = 5).await;
    let mut raw = authed(&sandbox, None).await;
    // The core refuses long text locally; the server must refuse it too.
    raw.send(json!({"type": "message", "id": "m1", "text": "молоко!"})).await;
    assert_eq!(raw.error(Some("m1")).await, "message_too_large");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn invalid_json() {
    let sandbox = sandbox(|_, _| {}).await;
    let mut raw = authed(&sandbox, None).await;
    raw.send_text("this is not json").await;
    assert_eq!(raw.error(None).await, "invalid_json");
    // The connection stays usable.
    raw.chat("m1", "молоко").await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn max_rounds_exceeded() {
    let sandbox = sandbox(|_, l| l.max_rounds = 0).await;
    let mut raw = authed(&sandbox, None).await;
    raw.send(json!({"type": "message", "id": "m1", "text": "молоко"})).await;
    assert_eq!(raw.error(Some("m1")).await, "max_rounds_exceeded");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn session_token_limit() {
    let sandbox = sandbox(|_, l| l.session_tokens = 2).await;
    let mut raw = authed(&sandbox, None).await;
    raw.send(json!({"type": "message", "id": "m1", "text": "молоко і ще трохи хліба"})).await;
    assert_eq!(raw.error(Some("m1")).await, "session_token_limit");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn no_catalog_data() {
    let sandbox = sandbox(|options, _| options.stores = vec![store(Catalog::default(), None)]).await;
    let mut raw = authed(&sandbox, None).await;
    raw.send(json!({"type": "message", "id": "m1", "text": "молоко"})).await;
    assert_eq!(raw.error(Some("m1")).await, "no_catalog_data");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn internal_error_when_the_backend_is_unreachable() {
    // A port nobody listens on: every webhook try is refused, then given up.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/hook");
    let sandbox = sandbox(|options, _| options.stores = vec![store(demo_catalog(), Some(url))]).await;
    let mut raw = authed(&sandbox, None).await;
    raw.send(select("a1")).await;
    assert_eq!(raw.until("ack", None).await["id"], "a1");
    assert_eq!(raw.error(Some("a1")).await, "internal_error");
    sandbox.shutdown().await;
}
