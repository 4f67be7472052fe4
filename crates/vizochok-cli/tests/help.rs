//! `--help` lists every timer, fault, cap and the TTL, with the defaults
//! the libraries really use (so the help cannot drift from the code).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use vizochok_core::{Limits, Timers};
use vizochok_sandbox::{ConnectionLimits, SandboxOptions};

fn help(command: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_vizochok")).args([command, "--help"]).output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// A duration as the command line writes it.
fn span(ms: u64) -> String {
    [(3_600_000, "h"), (60_000, "m"), (1_000, "s")]
        .iter()
        .find(|(scale, _)| ms % scale == 0 && ms > 0)
        .map_or(format!("{ms}ms"), |(scale, unit)| format!("{}{unit}", ms / scale))
}

/// The help line of `flag`.
fn entry<'a>(help: &'a str, flag: &str) -> &'a str {
    let at = help.find(&format!("{flag} ")).unwrap_or_else(|| panic!("{flag} is not in the help:\n{help}"));
    let rest = &help[at..];
    // A flag's text runs to the next flag.
    &rest[..rest[2..].find("\n  -").map_or(rest.len(), |end| end + 2)]
}

#[test]
fn chat_help_lists_every_timer_with_the_core_s_defaults() {
    let help = help("chat");
    let t = Timers::default();
    for (flag, ms) in [
        ("--socket-open-timeout", t.socket_open_ms),
        ("--auth-timeout", t.auth_ms),
        ("--heartbeat", t.heartbeat_ms),
        ("--heartbeat-answer", t.heartbeat_answer_ms),
        ("--backoff-base", t.backoff_base_ms),
        ("--backoff-max", t.backoff_max_ms),
        ("--storm-spread", t.storm_spread_ms),
        ("--retry-after", t.retry_after_ms),
    ] {
        let entry = entry(&help, flag);
        assert!(entry.contains(&format!("[default: {}]", span(ms))), "{entry}");
    }
    let entry = entry(&help, "--max-reconnects");
    assert!(entry.contains(&format!("[default: {}]", Limits::default().max_reconnect_attempts)), "{entry}");
}

#[test]
fn sandbox_help_lists_the_faults_the_ttl_the_handshake_timeout_and_the_caps() {
    let help = help("sandbox");
    let engine = SandboxOptions::default().engine;
    let c = ConnectionLimits::default();
    for (flag, default) in [
        ("--session-ttl", span(engine.session_ttl_ms)),
        ("--max-sessions", engine.max_sessions.to_string()),
        ("--new-sessions-per-address", engine.limits.new_sessions_per_address.to_string()),
        ("--heartbeat", engine.heartbeat_ms.map_or_else(|| "off".to_owned(), |beat| span(beat.get()))),
        ("--handshake-timeout", span(c.handshake_timeout_ms)),
        ("--max-per-address", c.per_address.to_string()),
        ("--max-connections", c.max_connections.to_string()),
        ("--max-pending-handshakes", c.pending_handshakes.to_string()),
        ("--max-request-head", c.max_request_head_bytes.to_string()),
    ] {
        let entry = entry(&help, flag);
        assert!(entry.contains(&format!("[default: {default}")), "{entry}");
    }
    for fault in [
        "--drop-after-frames",
        "--delay",
        "--duplicate",
        "--reorder",
        "--malformed-every",
        "--oversized-every",
        "--refuse-auth",
        "--ignore-pings",
    ] {
        entry(&help, fault);
    }
}
