//! The faults a seed turns on, and how often they strike.

use vizochok_core::Rng;

/// Fault probabilities for one run, in parts per thousand.
#[derive(Debug, Clone)]
pub struct Faults {
    /// A server frame is lost and its socket dies with it.
    pub drop: u64,
    /// A server frame is delayed by up to 3 s (and the frames behind it).
    pub delay: u64,
    /// A server frame arrives twice.
    pub duplicate: u64,
    /// A stale copy of a server frame arrives after newer ones.
    pub reorder: u64,
    /// A socket fails to open.
    pub open_fail: u64,
    /// A new socket where the server never answers (auth never comes).
    pub black_hole: u64,
    /// Per chaos tick: the socket is cut.
    pub cut: u64,
    /// Per chaos tick: the server goes silent on the live socket (pings unanswered).
    pub go_silent: u64,
    /// Per chaos tick: the server restarts (keeping or losing replay buffers,
    /// or from a snapshot).
    pub restart: u64,
    /// A webhook is refused by the store's backend.
    pub webhook_refusal: u64,
    /// Whether the store confirms cart changes through webhooks.
    pub webhooks: bool,
}

impl Faults {
    /// Draws a fault mix: some seeds are calm, some stormy.
    pub fn draw(rng: &mut Rng) -> Faults {
        let storm = rng.range(0, 3);
        let p = |rng: &mut Rng, max: u64| rng.range(0, max * storm);
        Faults {
            drop: p(rng, 3),
            delay: p(rng, 20),
            duplicate: p(rng, 30),
            reorder: p(rng, 5),
            open_fail: p(rng, 80),
            black_hole: p(rng, 40),
            cut: p(rng, 15),
            go_silent: p(rng, 5),
            restart: p(rng, 5),
            webhook_refusal: p(rng, 60),
            webhooks: rng.range(0, 1) == 1,
        }
    }

    /// No faults: the network heals for the rest phase.
    pub fn none(&self) -> Faults {
        Faults {
            drop: 0,
            delay: 0,
            duplicate: 0,
            reorder: 0,
            open_fail: 0,
            black_hole: 0,
            cut: 0,
            go_silent: 0,
            restart: 0,
            webhook_refusal: 0,
            webhooks: self.webhooks,
        }
    }
}

/// Whether an event with probability `per_mille` happens.
pub fn strikes(rng: &mut Rng, per_mille: u64) -> bool {
    per_mille > 0 && rng.range(1, 1000) <= per_mille
}
