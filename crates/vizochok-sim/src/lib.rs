//! A deterministic simulator: the client core ([`vizochok_core::Session`])
//! and the server engine ([`vizochok_server::Engine`]) joined by a virtual
//! network on one virtual clock that jumps to the next deadline, with seeded
//! faults: lost, delayed, duplicated and reordered server frames, socket
//! cuts, server restarts with and without replay buffers (and from a
//! snapshot), sockets that never open, auth and pings never answered,
//! refused webhooks, and random shopper actions.
//!
//! After each run it checks the delivery guarantee and the session's
//! invariants; a seed replays exactly, with a readable trace.
//!
//! ```
//! let report = vizochok_sim::run(7, false);
//! assert!(report.violations.is_empty(), "{:?}", report.violations);
//! assert!(report.accepted > 0);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod faults;
mod net;
mod world;

use world::World;

/// What one seed's run showed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Every broken rule (empty when the run held every check).
    pub violations: Vec<String>,
    /// Actions the core accepted.
    pub accepted: usize,
    /// Of those, acknowledged by the server.
    pub acknowledged: usize,
    /// Of those, ended by an onError naming them.
    pub failed: usize,
    /// Of those, still queued when the client was destroyed.
    pub still_queued: usize,
    /// Applied action ids the engine's sessions forgot: their bounded dedup
    /// sets rolled over (a resend of one would be applied again).
    pub forgotten_ids: u64,
    /// The most dedup lines (connections with applied ids) a session held at
    /// the end; at the cap, whole lines were forgotten too.
    pub dedup_lines: usize,
    /// Virtual milliseconds the run took.
    pub virtual_ms: u64,
    /// The readable trace (when asked for).
    pub trace: Vec<String>,
}

/// Runs one seed; with `trace`, records every frame, event and fault.
pub fn run(seed: u64, trace: bool) -> Report {
    let mut world = match World::new(seed, trace) {
        Ok(world) => world,
        Err(e) => return Report { seed, violations: vec![format!("cannot start: {e}")], ..Report::default() },
    };
    world.run();
    let mut report = check_at_rest(&mut world, seed);
    report.virtual_ms = world.now;
    report.trace = world.into_trace();
    report
}

/// The end-of-run checks of the delivery guarantee.
fn check_at_rest(world: &mut World, seed: u64) -> Report {
    let mut violations = std::mem::take(&mut world.violations);
    if !world.at_rest() {
        violations.push(format!("never came to rest (client state {:?})", world.client.state()));
    } else if let Some(sid) = world.client.session_id() {
        match world.server.session_cart(sid) {
            Some(cart) if cart == *world.client.cart() => {}
            server => {
                violations.push(format!("client cart {:?} differs from server cart {server:?}", world.client.cart()))
            }
        }
    }
    world.client.handle_input(world.now, vizochok_core::Input::Destroy);
    let queued: Vec<String> = world.client.pending_actions().into_iter().map(|a| a.id).collect();
    let mut report = Report { seed, accepted: world.accepted.len(), ..Report::default() };
    for id in &world.accepted {
        let acked = world.acked.get(id).copied().unwrap_or(0);
        let failed = world.failed.get(id).copied().unwrap_or(0);
        let queued = queued.contains(id);
        match (acked, failed, queued) {
            (0, 0, false) => violations.push(format!("action {id} was silently lost")),
            (a, _, _) if a > 1 => violations.push(format!("action {id} was acknowledged {a} times")),
            _ => {}
        }
        report.acknowledged += usize::from(acked > 0);
        report.failed += usize::from(failed > 0);
        report.still_queued += usize::from(queued);
    }
    let stats = world.server.stats();
    report.forgotten_ids = stats.forgotten_ids;
    report.dedup_lines = stats.max_dedup_lines;
    report.violations = violations;
    report
}
