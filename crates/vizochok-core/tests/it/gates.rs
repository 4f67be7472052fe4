//! Security gates that `cargo xtask ci` names one by one: the core forbids
//! `unsafe`, and a plain `ws://` URL to a host that is not loopback is
//! refused when the session is built, before it can ask for any I/O.

use vizochok_core::{Config, ConfigError, Session};

const CANARY: &str = "pk_gate_canary_93b1";

#[test]
fn gate_core_forbids_unsafe_code() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    assert!(
        lib.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]"),
        "crates/vizochok-core/src/lib.rs must keep #![forbid(unsafe_code)]"
    );
}

#[test]
fn gate_plain_ws_to_a_remote_host_is_refused_before_any_io() {
    for url in [
        "ws://api.vizochok.example/v1/ws",
        "ws://10.0.0.7:8787/v1/ws",
        "ws://192.168.1.10/v1/ws",
        "ws://127.0.0.1.attacker.example/v1/ws",
        "ws://[::2]:8787/v1/ws",
        "ws://0.0.0.0:8787/v1/ws",
    ] {
        match Session::new(Config::new(CANARY, "store", url, 1)) {
            Err(ConfigError::InsecureUrl(host)) => {
                assert!(!host.contains(CANARY));
            }
            Err(other) => panic!("{url}: refused for the wrong reason: {other}"),
            // A session that exists could be told to connect: that is the I/O we forbid.
            Ok(_) => panic!("{url}: a session was built for an insecure remote URL"),
        }
    }
    for url in ["wss://api.vizochok.example/v1/ws", "ws://127.0.0.1:8787/v1/ws", "ws://localhost/v1/ws", "ws://[::1]/"]
    {
        let mut session = Session::new(Config::new(CANARY, "store", url, 1)).unwrap();
        assert!(session.poll_output().is_none(), "{url}: no I/O before Connect");
    }
}

#[test]
fn gate_credentials_never_ride_in_the_url() {
    let err =
        Session::new(Config::new(CANARY, "store", "wss://pk_x:secret@api.vizochok.example/v1/ws", 1)).unwrap_err();
    assert_eq!(err, ConfigError::CredentialsInUrl);
    let err = Session::new(Config::new(CANARY, "store", "ws://evil.example/?key=1", 1)).unwrap_err();
    assert!(!err.to_string().contains(CANARY));
}
