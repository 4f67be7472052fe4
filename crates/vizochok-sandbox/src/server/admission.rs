//! Who may hold a connection, and for how long before proving anything:
//! a per-address cap on concurrent connections, a global cap on all of
//! them (shared out between addresses once it is reached), a global cap on
//! connections still in their handshake (accepted, no `auth` yet), and the
//! deadline by which the WebSocket handshake and the `auth` frame must
//! both have arrived. Every refusal is one log line naming the peer's
//! address and the reason, never anything the peer sent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Notify;
use tokio::time::Instant;
use vizochok_server::Peer;

use super::LogSink;

/// Connection limits of the sandbox. Loadable from the `connections` key
/// of a settings file; every field is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// From the TCP accept until the `auth` frame: the WebSocket handshake
    /// and `auth` must both arrive within this (a plain HTTP connection
    /// lives at most this long).
    pub handshake_timeout_ms: u64,
    /// Concurrent connections from one address (an IPv4 address, or an
    /// IPv6 /64, which one host can rotate through); one more is refused.
    pub per_address: usize,
    /// Concurrent connections in all, so that many addresses together
    /// cannot hold every socket and its memory. One more ends the oldest
    /// handshake in progress and takes its place. When every connection is
    /// past its handshake, it ends the oldest connection of the address
    /// holding the most, if that address holds at least two more than the
    /// newcomer's; otherwise it is refused.
    pub max_connections: usize,
    /// Connections still in their handshake; one more drops the oldest of
    /// them, so a flood of stalled sockets cannot lock new clients out.
    pub pending_handshakes: usize,
    /// Largest HTTP request head (request line and headers); a larger
    /// upgrade request is answered 431 and closed. At least 8 KiB.
    pub max_request_head_bytes: usize,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            handshake_timeout_ms: 10_000,
            per_address: 64,
            max_connections: 16_384,
            pending_handshakes: 4_096,
            max_request_head_bytes: 16 * 1024,
        }
    }
}

impl ConnectionLimits {
    /// The handshake deadline as a duration.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }
}

/// Why a connection was turned away at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The address holds `per_address` connections already.
    PerAddress(usize),
    /// The sandbox holds `max_connections`, none of them in its handshake,
    /// and no address holds two more of them than the newcomer's.
    Full(usize),
}

/// Why the gate ends a connection early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// A newer one needed its place under `pending_handshakes`, or under
    /// `max_connections` before anyone past the handshake.
    Crowded,
    /// The sandbox was full and its address held the most connections: a
    /// newcomer from an address holding fewer took its place.
    Outnumbered,
    /// The sandbox is shutting down.
    Shutdown,
}

/// The admission desk: counts by address, the holders of a full sandbox's
/// places, and the handshakes in progress.
#[derive(Debug)]
pub(crate) struct Gate {
    limits: ConnectionLimits,
    log: LogSink,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    per_address: HashMap<Peer, usize>,
    /// Connections counted under `max_connections`: admitted, neither
    /// dropped nor ended to make room (those only finish their close).
    held: usize,
    /// Those counted connections by [`share`], oldest first, and the
    /// shares ranked by how many they hold: whom a full sandbox ends.
    holders: HashMap<Peer, BTreeMap<u64, Weak<Pass>>>,
    ranks: BTreeSet<(usize, Peer)>,
    /// Handshakes in progress, oldest first.
    pending: BTreeMap<u64, Weak<Pass>>,
    next: u64,
}

/// One admitted connection. It holds its place under the per-address cap
/// until it is dropped (every task serving the connection holds it), and
/// its place among pending handshakes until [`Pass::authenticated`].
#[derive(Debug)]
pub(crate) struct Pass {
    gate: Arc<Gate>,
    peer: IpAddr,
    ticket: u64,
    /// Still counted in `held`.
    counted: AtomicBool,
    /// When the handshake and `auth` must have arrived.
    pub deadline: Instant,
    ended: Mutex<Option<Ending>>,
    ending: AtomicBool,
    notify: Notify,
}

impl Gate {
    pub fn new(limits: ConnectionLimits, log: LogSink) -> Arc<Gate> {
        Arc::new(Gate { limits, log, state: Mutex::default() })
    }

    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is counts only; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a connection from `peer` accepted now, or says why not. When
    /// the pending handshakes are full, the oldest of them is ended.
    pub fn admit(self: &Arc<Gate>, peer: IpAddr) -> Result<Arc<Pass>, Refusal> {
        let (pass, crowded) = {
            let mut state = self.state();
            let key = Peer::of(peer);
            let held = state.per_address.get(&key).copied().unwrap_or(0);
            if held >= self.limits.per_address {
                drop(state);
                let from = if matches!(key, Peer::V6(_)) { "this address's /64" } else { "this address" };
                self.refused(peer, &format!("{held} connections from {from} already (the cap)"));
                return Err(Refusal::PerAddress(held));
            }
            let full = state.held >= self.limits.max_connections.max(1);
            let crowded = if full || state.pending.len() >= self.limits.pending_handshakes.max(1) {
                state
                    .pending
                    .pop_first()
                    .and_then(|(_, oldest)| oldest.upgrade())
                    .map(|oldest| (oldest, Ending::Crowded))
            } else {
                None
            };
            let crowded = match crowded {
                None if full => state.outnumbering(key).map(|oldest| (oldest, Ending::Outnumbered)),
                crowded => crowded,
            };
            if let Some((oldest, _)) = &crowded {
                oldest.uncount(&mut state);
            } else if full {
                let held = state.held;
                drop(state);
                self.refused(peer, &format!("{held} connections held, none in its handshake (the sandbox's cap)"));
                return Err(Refusal::Full(held));
            }
            *state.per_address.entry(key).or_default() += 1;
            state.next += 1;
            let ticket = state.next;
            let pass = Arc::new(Pass {
                gate: self.clone(),
                peer,
                ticket,
                counted: AtomicBool::new(true),
                deadline: Instant::now() + self.limits.handshake_timeout(),
                ended: Mutex::new(None),
                ending: AtomicBool::new(false),
                notify: Notify::new(),
            });
            state.pending.insert(ticket, Arc::downgrade(&pass));
            state.hold(key, ticket, Arc::downgrade(&pass));
            (pass, crowded.map(|(oldest, ending)| (oldest, ending, full)))
        };
        if let Some((oldest, ending, full)) = crowded {
            let cap = self.limits.max_connections;
            let why = match (ending, full) {
                (Ending::Outnumbered, _) => {
                    format!("closed: {cap} connections held (the sandbox's cap), this the oldest of the address holding the most")
                }
                (_, true) => format!("dropped: {cap} connections held (the sandbox's cap), this the oldest handshake"),
                (_, false) => {
                    format!(
                        "dropped: {} handshakes in progress (the cap), this the oldest handshake",
                        self.limits.pending_handshakes
                    )
                }
            };
            self.refused(oldest.peer, &why);
            oldest.end(ending);
        }
        Ok(pass)
    }

    /// Ends every handshake in progress (the sandbox is stopping).
    pub fn end_all(&self) {
        let pending: Vec<Arc<Pass>> = {
            let mut state = self.state();
            std::mem::take(&mut state.pending).into_values().filter_map(|p| p.upgrade()).collect()
        };
        for pass in pending {
            pass.end(Ending::Shutdown);
        }
    }

    /// Connections held now: (by address, under the global cap, still in their handshake).
    #[cfg(test)]
    fn held(&self) -> (usize, usize, usize) {
        let state = self.state();
        (state.per_address.values().sum(), state.held, state.pending.len())
    }

    /// One log line for a refusal: the peer's address and why.
    pub fn refused(&self, peer: IpAddr, reason: &str) {
        refused(&self.log, peer, reason);
    }
}

/// Whom a full sandbox shares its places between: an IPv4 address, or an
/// IPv6 /48, which one holder gets as cheaply as a /64 (a hosting plan),
/// and whose 65,536 /64s would otherwise each hold an equal share.
fn share(peer: Peer) -> Peer {
    match peer {
        Peer::V6(prefix) => Peer::V6(prefix & !0xffff),
        v4 => v4,
    }
}

impl State {
    /// Counts a connection of `peer` under `max_connections`.
    fn hold(&mut self, peer: Peer, ticket: u64, pass: Weak<Pass>) {
        let peer = share(peer);
        let held = self.holders.entry(peer).or_default();
        self.ranks.remove(&(held.len(), peer));
        held.insert(ticket, pass);
        self.ranks.insert((held.len(), peer));
        self.held += 1;
    }

    /// Stops counting it.
    fn unhold(&mut self, peer: Peer, ticket: u64) {
        self.held -= 1;
        let peer = share(peer);
        let Some(held) = self.holders.get_mut(&peer) else { return };
        self.ranks.remove(&(held.len(), peer));
        held.remove(&ticket);
        if held.is_empty() {
            self.holders.remove(&peer);
        } else {
            self.ranks.insert((held.len(), peer));
        }
    }

    /// When the sandbox is full: the oldest connection of the share that
    /// holds the most, if it holds two more than `newcomer`'s (so that
    /// taking its place leaves the split fairer, never just moves it).
    fn outnumbering(&self, newcomer: Peer) -> Option<Arc<Pass>> {
        let &(most, peer) = self.ranks.last()?;
        let mine = self.holders.get(&share(newcomer)).map_or(0, BTreeMap::len);
        if most < mine + 2 {
            return None;
        }
        self.holders.get(&peer)?.values().find_map(Weak::upgrade)
    }
}

/// The refusal log line: `{"kind":"refused","peer":ADDRESS,"reason":...}`.
pub(crate) fn refused(log: &LogSink, peer: IpAddr, reason: &str) {
    log.line(&serde_json::json!({"kind": "refused", "peer": peer.to_string(), "reason": reason}).to_string());
}

impl Pass {
    pub fn peer(&self) -> IpAddr {
        self.peer
    }

    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The first frame arrived: no longer a pending handshake.
    pub fn authenticated(&self) {
        self.gate.state().pending.remove(&self.ticket);
    }

    /// Gives up its place under `max_connections` (once).
    fn uncount(&self, state: &mut State) {
        if self.counted.swap(false, Ordering::SeqCst) {
            state.unhold(Peer::of(self.peer), self.ticket);
        }
    }

    fn end(&self, why: Ending) {
        *self.ended.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
        self.ending.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Resolves once the handshake must end early, and says why.
    pub async fn ended(&self) -> Ending {
        loop {
            // Created before the check, so an `end` in between still wakes it.
            let notified = self.notify.notified();
            if self.ending.load(Ordering::SeqCst) {
                return self.ended.lock().unwrap_or_else(PoisonError::into_inner).unwrap_or(Ending::Shutdown);
            }
            notified.await;
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut state = self.gate.state();
        state.pending.remove(&self.ticket);
        self.uncount(&mut state);
        let peer = Peer::of(self.peer);
        if let Some(held) = state.per_address.get_mut(&peer) {
            *held -= 1;
            if *held == 0 {
                state.per_address.remove(&peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn gate(per_address: usize, pending: usize, lines: Arc<Mutex<Vec<String>>>) -> Arc<Gate> {
        let limits = ConnectionLimits { per_address, pending_handshakes: pending, ..ConnectionLimits::default() };
        gate_with(limits, lines)
    }

    fn gate_with(limits: ConnectionLimits, lines: Arc<Mutex<Vec<String>>>) -> Arc<Gate> {
        Gate::new(limits, LogSink::new(move |line| lines.lock().unwrap().push(line.to_owned())))
    }

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

    #[tokio::test]
    async fn an_address_holds_at_most_its_cap_and_gets_its_places_back() {
        let lines = Arc::default();
        let gate = gate(2, 100, Arc::clone(&lines));
        let first = gate.admit(A).unwrap();
        let _second = gate.admit(A).unwrap();
        assert_eq!(gate.admit(A).unwrap_err(), Refusal::PerAddress(2));
        assert!(gate.admit(B).is_ok(), "another address is not affected");
        drop(first);
        assert!(gate.admit(A).is_ok());
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains(r#""kind":"refused""#) && lines[0].contains("127.0.0.2"), "{}", lines[0]);
    }

    #[tokio::test]
    async fn the_addresses_of_one_ipv6_64_share_one_cap() {
        let lines = Arc::default();
        let gate = gate(2, 100, Arc::clone(&lines));
        let in_64 = |host: &str| -> IpAddr { format!("2001:db8:0:7::{host}").parse().unwrap() };
        let _first = gate.admit(in_64("1")).unwrap();
        let _second = gate.admit(in_64("2")).unwrap();
        // A host picks its own addresses in its /64: a new one is no new peer.
        assert_eq!(gate.admit(in_64("3")).unwrap_err(), Refusal::PerAddress(2));
        assert!(gate.admit("2001:db8:0:8::1".parse().unwrap()).is_ok(), "another /64 is another peer");
        let lines = lines.lock().unwrap();
        assert!(lines[0].contains("2001:db8:0:7::3") && lines[0].contains("address's /64"), "{}", lines[0]);
    }

    #[tokio::test]
    async fn past_the_pending_cap_the_oldest_handshake_is_ended_not_the_new_one() {
        let gate = gate(100, 2, Arc::default());
        let oldest = gate.admit(A).unwrap();
        let done = gate.admit(A).unwrap();
        done.authenticated();
        let second = gate.admit(B).unwrap();
        let _third = gate.admit(B).unwrap();
        assert_eq!(oldest.ended().await, Ending::Crowded);
        // The authenticated one was not pending any more; the others still
        // are. The ended one holds its socket until it has closed, but no
        // longer counts under the global cap.
        assert_eq!(gate.held(), (4, 3, 2));
        gate.end_all();
        assert_eq!(second.ended().await, Ending::Shutdown);
    }

    #[tokio::test]
    async fn past_the_global_cap_a_handshake_makes_room_and_then_newcomers_are_refused() {
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let limits = ConnectionLimits { max_connections: 3, ..ConnectionLimits::default() };
        let gate = gate_with(limits, Arc::clone(&lines));
        let from = |host: u8| IpAddr::V4(Ipv4Addr::new(127, 0, 0, host));
        let mut held: Vec<Arc<Pass>> = (2..=4).map(|host| gate.admit(from(host)).unwrap()).collect();
        held[1].authenticated();
        held[2].authenticated();
        // Full: the one still in its handshake gives its place to a newcomer.
        let newcomer = gate.admit(from(5)).unwrap();
        assert_eq!(held[0].ended().await, Ending::Crowded);
        // It only finishes its close now, and no longer counts.
        assert_eq!(gate.held(), (4, 3, 1));
        newcomer.authenticated();
        assert_eq!(gate.admit(from(6)).unwrap_err(), Refusal::Full(3));
        // The ended one's place was given already; a place freed is a place again.
        drop(held.remove(0));
        assert_eq!(gate.admit(from(6)).unwrap_err(), Refusal::Full(3));
        drop(held.pop());
        assert!(gate.admit(from(6)).is_ok());
        let lines = lines.lock().unwrap();
        assert!(lines[0].contains("127.0.0.2") && lines[0].contains("dropped: 3 connections held"), "{}", lines[0]);
        assert!(lines[1].contains("127.0.0.6") && lines[1].contains("none in its handshake"), "{}", lines[1]);
    }

    #[tokio::test]
    async fn a_full_sandbox_ends_the_oldest_connection_of_the_address_holding_the_most() {
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let limits = ConnectionLimits { max_connections: 4, ..ConnectionLimits::default() };
        let gate = gate_with(limits, Arc::clone(&lines));
        let admitted = |peer| {
            let pass = gate.admit(peer).unwrap();
            pass.authenticated();
            pass
        };
        // One address holds three of the four places, another one.
        let hoard: Vec<Arc<Pass>> = (0..3).map(|_| admitted(A)).collect();
        let _shopper = admitted(B);
        let from = |host: u8| IpAddr::V4(Ipv4Addr::new(127, 0, 0, host));
        let _newcomer = admitted(from(9));
        assert_eq!(hoard[0].ended().await, Ending::Outnumbered, "the hoard's oldest made room");
        assert_eq!(gate.held(), (5, 4, 0));
        // Now A holds 2, B and the newcomer 1 each: taking another place
        // would only move the unfairness, so everyone is refused, A too.
        assert_eq!(gate.admit(B).unwrap_err(), Refusal::Full(4));
        assert_eq!(gate.admit(A).unwrap_err(), Refusal::Full(4));
        // A fourth address holds nothing: A still holds two more.
        let _fourth = admitted(from(10));
        assert_eq!(hoard[1].ended().await, Ending::Outnumbered);
        assert_eq!(gate.admit(from(11)).unwrap_err(), Refusal::Full(4), "everyone holds one now");
        let lines = lines.lock().unwrap();
        let closed = "closed: 4 connections held (the sandbox's cap), this the oldest of the address holding the most";
        assert!(lines[0].contains("127.0.0.2") && lines[0].contains(closed), "{}", lines[0]);
    }

    #[tokio::test]
    async fn a_full_sandbox_counts_the_64s_of_one_ipv6_48_as_one_holder() {
        let limits = ConnectionLimits { max_connections: 3, ..ConnectionLimits::default() };
        let gate = gate_with(limits, Arc::default());
        let admitted = |peer: &str| {
            let pass = gate.admit(peer.parse().unwrap()).unwrap();
            pass.authenticated();
            pass
        };
        // One connection from each of three /64s of one /48.
        let hoard: Vec<Arc<Pass>> = (1..=3).map(|net| admitted(&format!("2001:db8:7:{net}::1"))).collect();
        let _shopper = admitted("2001:db8:9::1");
        assert_eq!(hoard[0].ended().await, Ending::Outnumbered);
    }
}
