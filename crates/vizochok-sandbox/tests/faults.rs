//! The fault modes as a client meets them on the wire: a suite that
//! survives them (the Rust client's `faults.rs`) proves something only if
//! they happen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::{Logs, Raw};
use vizochok_sandbox::Faults;

/// The `seq` of every frame up to a reply's `response`, as they arrive.
async fn seqs_of_a_reply(faults: Faults) -> Vec<u64> {
    let logs = Logs::default();
    let mut options = support::options(&logs);
    options.faults = faults;
    let sandbox = vizochok_sandbox::start(options).await.unwrap();
    let (mut raw, _) = Raw::session(&sandbox, json!({})).await;
    raw.send(json!({"type": "message", "id": "m1", "text": "молоко"})).await;
    let frames = raw.until_collecting("response", Some("m1")).await;
    sandbox.shutdown().await;
    frames.iter().filter_map(|f| f["seq"].as_u64()).collect()
}

#[tokio::test]
async fn duplicate_sends_each_frame_twice_and_reorder_swaps_them() {
    let twice = seqs_of_a_reply(Faults { duplicate: true, ..Faults::default() }).await;
    assert!(twice.windows(2).any(|w| w[0] == w[1]), "no frame came twice: {twice:?}");
    let swapped = seqs_of_a_reply(Faults { reorder: true, ..Faults::default() }).await;
    assert!(swapped.windows(2).any(|w| w[1] < w[0]), "no frame came out of order: {swapped:?}");
    let plain = seqs_of_a_reply(Faults::default()).await;
    assert!(plain.windows(2).all(|w| w[0] < w[1]), "without faults, in order once: {plain:?}");
}
