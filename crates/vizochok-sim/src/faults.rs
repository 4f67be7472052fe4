//! The faults a seed turns on, and how often they strike: each client's
//! own links, and the server's (restarts, the store's webhook).

use vizochok_core::Rng;

/// Fault probabilities of one client's links, in parts per thousand.
#[derive(Debug, Clone)]
pub struct LinkFaults {
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
    /// Per chaos tick: the network under the live socket vanishes. The
    /// client's end fails; the server is told nothing, and only its
    /// heartbeat ends its side.
    pub vanish: u64,
}

impl LinkFaults {
    /// Draws a client's fault mix: some links are calm, some stormy.
    pub fn draw(rng: &mut Rng) -> LinkFaults {
        let storm = rng.range(0, 3);
        let p = |rng: &mut Rng, max: u64| rng.range(0, max * storm);
        LinkFaults {
            drop: p(rng, 3),
            delay: p(rng, 20),
            duplicate: p(rng, 30),
            reorder: p(rng, 5),
            open_fail: p(rng, 80),
            black_hole: p(rng, 40),
            cut: p(rng, 15),
            go_silent: p(rng, 5),
            vanish: p(rng, 5),
        }
    }

    /// No faults: the network heals for the rest phase.
    pub fn none() -> LinkFaults {
        LinkFaults {
            drop: 0,
            delay: 0,
            duplicate: 0,
            reorder: 0,
            open_fail: 0,
            black_hole: 0,
            cut: 0,
            go_silent: 0,
            vanish: 0,
        }
    }
}

/// Fault probabilities of the server and the store, in parts per thousand.
#[derive(Debug, Clone)]
pub struct ServerFaults {
    /// Per chaos tick: the server restarts (keeping or losing replay
    /// buffers, or from a snapshot).
    pub restart: u64,
    /// A webhook is refused by the store's backend.
    pub webhook_refusal: u64,
    /// Whether the store confirms cart changes through webhooks.
    pub webhooks: bool,
}

impl ServerFaults {
    /// Draws the server's fault mix.
    pub fn draw(rng: &mut Rng) -> ServerFaults {
        let storm = rng.range(0, 3);
        ServerFaults {
            restart: rng.range(0, 5 * storm),
            webhook_refusal: rng.range(0, 60 * storm),
            webhooks: rng.range(0, 1) == 1,
        }
    }

    /// No faults: the server stays up and the store accepts every change.
    pub fn none(&self) -> ServerFaults {
        ServerFaults { restart: 0, webhook_refusal: 0, webhooks: self.webhooks }
    }
}

/// Whether an event with probability `per_mille` happens.
pub fn strikes(rng: &mut Rng, per_mille: u64) -> bool {
    per_mille > 0 && rng.range(1, 1000) <= per_mille
}
