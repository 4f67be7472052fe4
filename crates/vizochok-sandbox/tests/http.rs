//! The sandbox's HTTP side and its config files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::num::NonZeroU64;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vizochok_sandbox::{LogSink, SandboxOptions};

/// A plain HTTP/1.0 GET: (status line, body).
async fn get(addr: SocketAddr, path: &str) -> (String, String) {
    get_with(addr, path, "").await
}

/// The same with `headers` (each ending in CRLF).
async fn get_with(addr: SocketAddr, path: &str, headers: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n{headers}\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

fn options() -> SandboxOptions {
    SandboxOptions { addr: SocketAddr::from(([127, 0, 0, 1], 0)), log: LogSink::new(|_| {}), ..Default::default() }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vizochok-http-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serves_product_images_and_a_page_saying_what_it_is() {
    let sandbox = vizochok_sandbox::start(options()).await.unwrap();
    let (status, svg) = get(sandbox.local_addr(), "/images/DAI-001.svg").await;
    assert!(status.contains("200"), "{status}");
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(get(sandbox.local_addr(), "/images/NOPE.svg").await.0.contains("404"));
    let (status, page) = get(sandbox.local_addr(), "/").await;
    assert!(status.contains("200") && page.contains("VIZOCHOK sandbox"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn serves_a_static_directory_without_leaving_it() {
    let dir = temp_dir("static");
    std::fs::write(dir.join("index.html"), "<h1>demo page</h1>").unwrap();
    let sandbox = vizochok_sandbox::start(SandboxOptions { static_dir: Some(dir.clone()), ..options() }).await.unwrap();
    assert_eq!(get(sandbox.local_addr(), "/").await.1, "<h1>demo page</h1>");
    assert!(get(sandbox.local_addr(), "/../Cargo.toml").await.0.contains("404"));
    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_websocket_endpoint_answers_400_to_what_is_not_a_version_13_handshake() {
    let sandbox = vizochok_sandbox::start(options()).await.unwrap();
    let addr = sandbox.local_addr();
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let not_handshakes = [String::new(), format!("{upgrade}Sec-WebSocket-Version: 8\r\n"), upgrade.to_owned()];
    for headers in &not_handshakes {
        let (status, body) = get_with(addr, "/v1/ws", headers).await;
        assert!(status.contains("400"), "{headers:?}: {status}");
        assert_eq!(body, "a WebSocket handshake (version 13) is expected here");
    }
    sandbox.shutdown().await;
}

#[test]
fn a_settings_file_names_stores_limits_and_faults() {
    let dir = temp_dir("config");
    std::fs::write(dir.join("catalog.json"), r#"[{"sku":"m","name":"Milk","unit":"pcs","quantity_step":1,"price":2}]"#)
        .unwrap();
    std::fs::write(
        dir.join("stores.json"),
        r#"{"stores":[{"store_id":"s","api_keys":["pk_s"],"catalog":"catalog.json","identity_secret":"idsec","require_identity":true}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("sandbox.json"),
        r#"{"stores_file":"stores.json","engine":{"limits":{"rate_limit_actions":3}},"faults":{"duplicate":true}}"#,
    )
    .unwrap();
    let mut options = options();
    options.load_config(&dir.join("sandbox.json")).unwrap();
    assert_eq!(options.stores[0].store_id, "s");
    assert!(options.identities["s"].require_identity, "identity settings come along");
    assert_eq!(options.engine.limits.rate_limit_actions, 3);
    assert!(options.faults.duplicate);

    // A store config file alone works too.
    let mut plain = self::options();
    plain.load_config(&dir.join("stores.json")).unwrap();
    assert_eq!(plain.stores.len(), 1);

    std::fs::write(dir.join("typo.json"), r#"{"engine":{"limits":{"rate_limit":3}}}"#).unwrap();
    let error = self::options().load_config(&dir.join("typo.json")).unwrap_err();
    assert!(error.to_string().contains("typo.json"), "{error}");

    // The heartbeat is on unless the file switches it off; 0 would close every connection at once.
    assert_eq!(options.engine.heartbeat_ms, NonZeroU64::new(25_000));
    std::fs::write(dir.join("off.json"), r#"{"engine":{"heartbeat_ms":null}}"#).unwrap();
    let mut off = self::options();
    off.load_config(&dir.join("off.json")).unwrap();
    assert_eq!(off.engine.heartbeat_ms, None);
    std::fs::write(dir.join("zero.json"), r#"{"engine":{"heartbeat_ms":0}}"#).unwrap();
    let error = self::options().load_config(&dir.join("zero.json")).unwrap_err();
    assert!(error.to_string().contains("heartbeat_ms must be above 0 (null switches the heartbeat off)"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}
