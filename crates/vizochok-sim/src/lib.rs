//! A deterministic simulator: the clients of one shopper — tabs of a
//! browser and, when signed in, other devices, each a real client core
//! ([`vizochok_core::Session`]) — and the server engine
//! ([`vizochok_server::Engine`]) joined by a virtual network on one virtual
//! clock that jumps to the next deadline, with seeded faults on each
//! client's links (lost, delayed, duplicated and reordered server frames,
//! socket cuts, sockets that never open, auth and pings never answered) and
//! on the server (restarts with and without replay buffers, and from a
//! snapshot; refused webhooks), and random shopper actions in any client.
//!
//! After each run it checks the delivery guarantee of every client and,
//! across the clients of each session, one cart, one conversation and the
//! same frames applied; during it, the rules of several connections per
//! session (§9). A seed replays exactly, with a readable trace.
//!
//! ```
//! let report = vizochok_sim::run(7, false);
//! assert!(report.violations.is_empty(), "{:?}", report.violations);
//! assert!(report.accepted > 0);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod carry;
mod checks;
mod client;
mod faults;
mod net;
mod shopper;
mod watch;
mod world;

use world::World;

/// What one seed's run showed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Every broken rule (empty when the run held every check).
    pub violations: Vec<String>,
    /// Clients opened (tabs and devices).
    pub clients: usize,
    /// Of those, clients that shared their session with another at rest.
    pub shared_clients: usize,
    /// Connections (sockets) the clients opened.
    pub connections: usize,
    /// Connections the engine pushed out with 4009 (a ninth arrived, §9).
    pub pushed_out: u64,
    /// Connections the engine closed for a client's silence (its heartbeat).
    pub silent_closed: u64,
    /// Actions the clients accepted.
    pub accepted: usize,
    /// Of those, acknowledged by the server.
    pub acknowledged: usize,
    /// Of those, ended by an onError naming them.
    pub failed: usize,
    /// Of those, still queued when their client was destroyed.
    pub still_queued: usize,
    /// Messages of one client that another showed (`user_message`).
    pub messages_shown: u64,
    /// Replies the engine sent a second time to a client that resent their
    /// message after a `restored` resume, on that connection or a later one
    /// (`docs/protocol.md` §3), marked
    /// `again`: the core ends the message and shows nothing when the
    /// history it was given has the reply (one shown again is a violation),
    /// and shows it when later messages pushed it out of that history (one
    /// not shown is a violation).
    pub replies_again: u64,
    /// Of those, replies shown below a history that lacked them.
    pub replies_below: u64,
    /// Replies that ended `cancelled` (the shopper stopped them, §12).
    pub cancelled: u64,
    /// Sessions the hosts reset (`reset()`, a new conversation).
    pub resets: u64,
    /// Applied action ids the engine's sessions forgot: their bounded dedup
    /// sets rolled over (a resend of one would be applied again).
    pub forgotten_ids: u64,
    /// The most dedup lines (clients with applied ids) a session held at
    /// the end; at the cap, whole lines were forgotten too.
    pub dedup_lines: usize,
    /// Virtual milliseconds the run took.
    pub virtual_ms: u64,
    /// The readable trace (when asked for); each line names its client.
    pub trace: Vec<String>,
}

/// Runs one seed; with `trace`, records every frame, event and fault.
pub fn run(seed: u64, trace: bool) -> Report {
    let mut world = World::new(seed, trace);
    world.run();
    let mut report = world.check(seed);
    report.trace = world.into_trace();
    report
}
