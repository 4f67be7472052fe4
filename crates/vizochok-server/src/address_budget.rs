//! New sessions per address. A full engine makes room for a new session by
//! forgetting another shopper's idle one; an address that has opened more
//! than its budget of sessions lately may not do that (`docs/protocol.md`,
//! "The engine: sessions and resume").

use std::collections::HashMap;
use std::net::IpAddr;

/// Where connections come from, as every per-address limit counts them
/// (this budget, and a host's cap on concurrent connections): an IPv4
/// address, or an IPv6 /64, the share of a network one host can rotate
/// through at will. An IPv4-mapped IPv6 address is its IPv4 address.
///
/// ```
/// use vizochok_server::Peer;
/// let peer = |text: &str| Peer::of(text.parse().unwrap());
/// assert_eq!(peer("2001:db8::1"), peer("2001:db8::ffff:2"));
/// assert_eq!(peer("::ffff:203.0.113.7"), peer("203.0.113.7"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// An IPv4 address.
    V4(u32),
    /// An IPv6 /64: the address's first 64 bits.
    V6(u64),
}

impl Peer {
    /// The peer an address belongs to.
    pub fn of(addr: IpAddr) -> Peer {
        match addr {
            IpAddr::V4(v4) => Peer::V4(v4.into()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Peer::V4(v4.into()),
                None => Peer::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// Addresses below which the table is never swept.
const SWEEP_FLOOR: usize = 1_024;

/// Sessions each address opened in its current window.
#[derive(Debug, Default)]
pub(crate) struct AddressBudget {
    /// Per address: when its window began, and the sessions opened since.
    windows: HashMap<Peer, (u64, u32)>,
    /// Addresses left by the last sweep; the next comes at twice as many,
    /// so the table holds only windows that are current, at O(1) a session.
    swept: usize,
}

impl AddressBudget {
    /// Whether `peer` opened `max` sessions or more in a window still open at `now`.
    pub(crate) fn spent(&self, now: u64, peer: Peer, max: u32, window_ms: u64) -> bool {
        self.windows.get(&peer).is_some_and(|&(start, opened)| now < start.saturating_add(window_ms) && opened >= max)
    }

    /// Counts a session opened from `peer` at `now`. The table keeps at most
    /// about twice `room` addresses (or [`SWEEP_FLOOR`]), however many
    /// fresh ones arrive within a window (a network's many /64s): past
    /// `room`, a sweep keeps the spent budgets, the ones that refuse, and
    /// forgets the others, which only lets those addresses start afresh.
    pub(crate) fn record(&mut self, now: u64, peer: Peer, max: u32, window_ms: u64, room: usize) {
        let current = |start: u64| now < start.saturating_add(window_ms);
        let entry = self.windows.entry(peer).or_insert((now, 0));
        if !current(entry.0) {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if self.windows.len() > SWEEP_FLOOR.max(2 * self.swept) {
            self.windows.retain(|_, (start, _)| current(*start));
            if self.windows.len() > room {
                self.windows.retain(|_, (_, opened)| *opened >= max);
            }
            let mut kept = 0;
            self.windows.retain(|_, _| {
                kept += 1;
                kept <= room
            });
            self.swept = self.windows.len();
        }
    }

    /// Addresses in the table.
    pub(crate) fn len(&self) -> usize {
        self.windows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(text: &str) -> Peer {
        Peer::of(text.parse().unwrap())
    }

    #[test]
    fn an_ipv6_64_is_one_peer_and_a_mapped_ipv4_address_is_its_ipv4_address() {
        assert_eq!(peer("2001:db8::1"), peer("2001:db8::ffff:2"));
        assert_ne!(peer("2001:db8::1"), peer("2001:db8:0:1::1"));
        assert_eq!(peer("::ffff:203.0.113.7"), peer("203.0.113.7"));
        assert_ne!(peer("203.0.113.7"), peer("203.0.113.8"));
        // The IPv6 /64 holding ::1 is not the IPv4 address 0.0.0.0.
        assert_ne!(peer("::1"), peer("0.0.0.0"));
    }

    #[test]
    fn a_budget_is_spent_within_its_window_and_whole_again_after_it() {
        let mut budget = AddressBudget::default();
        let (a, b) = (peer("203.0.113.7"), peer("198.51.100.2"));
        budget.record(0, a, 2, 1_000, 100);
        assert!(!budget.spent(10, a, 2, 1_000));
        budget.record(999, a, 2, 1_000, 100);
        assert!(budget.spent(999, a, 2, 1_000) && !budget.spent(999, b, 2, 1_000));
        assert!(!budget.spent(1_000, a, 2, 1_000));
        budget.record(1_000, a, 2, 1_000, 100);
        assert!(!budget.spent(1_000, a, 2, 1_000));
    }

    #[test]
    fn the_table_keeps_only_current_windows() {
        let mut budget = AddressBudget::default();
        for n in 0..100_000u32 {
            budget.record(u64::from(n), Peer::V4(n), 2, 10, 100_000);
        }
        assert!(budget.len() <= 2 * SWEEP_FLOOR, "{}", budget.len());
    }

    #[test]
    fn a_flood_of_fresh_addresses_within_one_window_keeps_the_table_small_and_a_spent_budget_spent() {
        let mut budget = AddressBudget::default();
        let spender = peer("203.0.113.7");
        budget.record(0, spender, 2, 600_000, 5_000);
        budget.record(1, spender, 2, 600_000, 5_000);
        for n in 0..100_000u64 {
            budget.record(2 + n, Peer::V6(n), 2, 600_000, 5_000);
            assert!(budget.len() <= 2 * 5_000 + 1, "{} addresses after {n}", budget.len());
        }
        assert!(budget.spent(100_002, spender, 2, 600_000));
    }
}
