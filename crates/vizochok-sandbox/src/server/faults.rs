//! Fault injection for tests: every mode is off by default. Each mode acts
//! on one connection's outbound frames (and `refuse_auth` on its first frame).

use std::sync::atomic::{AtomicU32, Ordering};

use serde::Deserialize;
use vizochok_proto::frame::MAX_INBOUND_BYTES;

/// Faults to inject. Loadable from the `faults` key of a settings file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Cut each connection (no close frame) after sending it this many frames.
    pub drop_after_frames: Option<u32>,
    /// Hold every outbound frame this long before sending it.
    pub delay_ms: u64,
    /// Send every frame twice.
    pub duplicate: bool,
    /// Swap every two consecutive frames (a lone frame goes out after a short hold).
    pub reorder: bool,
    /// After every this-many frames, send one frame that is not valid JSON.
    pub malformed_every: Option<u32>,
    /// After every this-many frames, send one frame one byte past the
    /// protocol's inbound limit (1 MiB), which a client refuses unread.
    pub oversized_every: Option<u32>,
    /// Answer the `auth` of this many connections (the first ones) with
    /// `auth_error` and close 4001.
    pub refuse_auth: u32,
    /// Never answer the client's `ping`, and send none: the engine's
    /// heartbeat is off.
    pub ignore_pings: bool,
}

/// The frame sent in place of a good one by `malformed_every`.
pub(crate) const MALFORMED_FRAME: &str = r#"{"type":"delta","seq":"#;

/// The frame sent by `oversized_every`: well-formed, and one byte too long.
pub(crate) fn oversized_frame() -> String {
    let (head, tail) = (r#"{"type":"ping","pad":""#, r#""}"#);
    let pad = MAX_INBOUND_BYTES + 1 - head.len() - tail.len();
    [head, &"x".repeat(pad), tail].concat()
}

/// Counts the auth refusals still to make.
#[derive(Debug)]
pub(crate) struct Refusals(AtomicU32);

impl Refusals {
    pub fn new(count: u32) -> Refusals {
        Refusals(AtomicU32::new(count))
    }

    /// Takes one refusal if any is left.
    pub fn take(&self) -> bool {
        self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }
}
