//! The action ids a session remembers, so that a resent action is
//! acknowledged again instead of applied twice — bounded
//! (`docs/protocol.md`, "Applied at most once, in bounded memory").
//!
//! Ids are kept in *lines*, one per client: the latest ids applied or
//! acknowledged again from that client, in the order they arrived. An id
//! names its client when it has the form `<client>-<n>` (every VIZOCHOK
//! client draws a random prefix of its own); any other id counts its
//! connection as its client. A client that has seen the answer to an action
//! never sends it again, it holds at most a queue's worth of
//! unacknowledged actions, it uses one socket at a time and resends what
//! is in doubt first on each new one, and a socket delivers answers in
//! order; so only the last `per_connection` ids of a line can still be
//! unacknowledged by its client, and older ones are forgotten. A line
//! outlives its connections (its client may come back and resend), until a
//! session holds `connections` lines: then the line used least recently,
//! preferring one whose connection is gone, is forgotten. Keyed by client,
//! another tab's reconnects, however many, never push a line out.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::ConnId;

/// How much a session remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DedupLimits {
    /// Ids per line (at least 1).
    pub per_connection: usize,
    /// Lines per session (at least 1).
    pub connections: usize,
}

/// A session's applied ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Dedup {
    /// Least recently used first.
    lines: VecDeque<Line>,
    /// Id → how many lines hold it.
    index: HashMap<String, u32>,
    /// Ids forgotten so far (no line holds them any more).
    forgotten: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Line {
    /// The client its ids name; `None`: the ids of one connection.
    client: Option<String>,
    /// The connection that recorded on it last; `None` once that is gone
    /// (and after a restore).
    conn: Option<ConnId>,
    ids: VecDeque<String>,
}

/// The client an id names: the prefix of `<client>-<n>`.
fn client_of(id: &str) -> Option<&str> {
    let (client, n) = id.rsplit_once('-')?;
    (!client.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(client)
}

impl Dedup {
    /// Whether `id` was applied and is still remembered.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Records that `conn` had `id` applied, or acknowledged again.
    pub fn record(&mut self, conn: ConnId, id: &str, limits: DedupLimits) {
        let client = client_of(id);
        let own = |line: &Line| match client {
            Some(client) => line.client.as_deref() == Some(client),
            None => line.client.is_none() && line.conn == Some(conn),
        };
        let at = match self.lines.iter().rposition(own) {
            Some(at) => at,
            None => {
                if self.lines.len() >= limits.connections.max(1) {
                    let gone = self.lines.iter().position(|line| line.conn.is_none()).unwrap_or(0);
                    self.drop_line(gone);
                }
                self.lines.push_back(Line { client: client.map(str::to_owned), conn: None, ids: VecDeque::new() });
                self.lines.len() - 1
            }
        };
        let Some(mut line) = self.lines.remove(at) else { return };
        line.conn = Some(conn);
        match line.ids.iter().position(|held| held == id) {
            Some(held) => {
                line.ids.remove(held);
            }
            None => *self.index.entry(id.to_owned()).or_default() += 1,
        }
        line.ids.push_back(id.to_owned());
        while line.ids.len() > limits.per_connection.max(1) {
            if let Some(old) = line.ids.pop_front() {
                self.release(&old);
            }
        }
        self.lines.push_back(line);
    }

    /// The connection is gone: its line stays for its client's resends.
    pub fn close(&mut self, conn: ConnId) {
        for line in self.lines.iter_mut().filter(|line| line.conn == Some(conn)) {
            line.conn = None;
        }
    }

    /// Brings a restored set within `limits`, newest lines kept.
    pub fn fit(&mut self, limits: DedupLimits) {
        let per = limits.per_connection.max(1);
        let mut lines = VecDeque::new();
        for line in std::mem::take(&mut self.lines) {
            // Cut from the end, so the newest ids fill whole lines.
            let (mut ids, mut chunks) = (line.ids, Vec::new());
            while !ids.is_empty() {
                let keep = ids.len().saturating_sub(per);
                chunks.push(ids.split_off(keep));
            }
            let client = line.client;
            lines.extend(chunks.into_iter().rev().map(|ids| Line { client: client.clone(), conn: None, ids }));
        }
        self.lines = lines;
        while self.lines.len() > limits.connections.max(1) {
            self.drop_line(0);
        }
    }

    /// Ids remembered, counting an id once per line that holds it.
    pub fn len(&self) -> usize {
        self.lines.iter().map(|line| line.ids.len()).sum()
    }

    /// Lines held.
    pub fn lines(&self) -> usize {
        self.lines.len()
    }

    /// The longest line.
    pub fn longest_line(&self) -> usize {
        self.lines.iter().map(|line| line.ids.len()).max().unwrap_or(0)
    }

    /// Ids forgotten since the session opened.
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    fn drop_line(&mut self, at: usize) {
        if let Some(line) = self.lines.remove(at) {
            for id in &line.ids {
                self.release(id);
            }
        }
    }

    fn release(&mut self, id: &str) {
        if let Some(count) = self.index.get_mut(id) {
            *count -= 1;
            if *count == 0 {
                self.index.remove(id);
                self.forgotten += 1;
            }
        }
    }

    fn from_lines(lines: Vec<Vec<String>>, forgotten: u64) -> Dedup {
        let mut dedup = Dedup { forgotten, ..Dedup::default() };
        for ids in lines {
            // A line of one client's ids is that client's again.
            let client = ids.first().and_then(|first| client_of(first));
            let client = client.filter(|c| ids.iter().all(|id| client_of(id) == Some(c))).map(str::to_owned);
            let mut line = Line { client, ..Line::default() };
            for id in ids {
                // A line holds an id once; a repeated one in a snapshot is kept at its latest place.
                if let Some(held) = line.ids.iter().position(|held| *held == id) {
                    line.ids.remove(held);
                } else {
                    *dedup.index.entry(id.clone()).or_default() += 1;
                }
                line.ids.push_back(id);
            }
            dedup.lines.push_back(line);
        }
        dedup
    }
}

/// The snapshot form: the lines' ids, oldest line first. A format-2
/// snapshot held every applied id in one map; it comes back as one line,
/// which [`Dedup::fit`] then cuts down to size.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Lines { lines: Vec<Vec<String>>, forgotten: u64 },
    AllApplied(BTreeMap<String, u32>),
}

impl Serialize for Dedup {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let lines = self.lines.iter().map(|line| line.ids.iter().cloned().collect()).collect();
        Stored::Lines { lines, forgotten: self.forgotten }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Dedup {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Dedup, D::Error> {
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Lines { lines, forgotten } => Dedup::from_lines(lines, forgotten),
            Stored::AllApplied(applied) => Dedup::from_lines(vec![applied.into_keys().collect()], 0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DedupLimits = DedupLimits { per_connection: 3, connections: 2 };

    fn ids(n: std::ops::Range<u32>) -> Vec<String> {
        n.map(|i| format!("a{i}")).collect()
    }

    #[test]
    fn a_line_keeps_the_latest_ids_of_its_connection() {
        let mut dedup = Dedup::default();
        for id in ids(0..5) {
            dedup.record(ConnId(1), &id, LIMITS);
        }
        assert_eq!(
            (0..5).map(|i| dedup.contains(&format!("a{i}"))).collect::<Vec<_>>(),
            [false, false, true, true, true]
        );
        assert_eq!((dedup.len(), dedup.forgotten()), (3, 2));
    }

    #[test]
    fn an_id_acknowledged_again_moves_to_the_end_of_its_line() {
        let mut dedup = Dedup::default();
        for id in ["a", "b", "c", "a", "d"] {
            dedup.record(ConnId(1), id, LIMITS);
        }
        assert!(!dedup.contains("b"), "b is now the oldest and was forgotten");
        assert!(dedup.contains("a") && dedup.contains("c") && dedup.contains("d"));
    }

    #[test]
    fn a_closed_connection_keeps_its_line_until_lines_run_out() {
        let mut dedup = Dedup::default();
        dedup.record(ConnId(1), "x", LIMITS);
        dedup.close(ConnId(1));
        dedup.record(ConnId(2), "y", LIMITS);
        assert!(dedup.contains("x"), "its client may come back and resend");
        // A third line: the one whose connection is gone goes first, though
        // connection 2's line was used before connection 1 closed.
        dedup.record(ConnId(3), "z", LIMITS);
        assert!(!dedup.contains("x") && dedup.contains("y") && dedup.contains("z"));
        assert_eq!(dedup.lines(), 2);
    }

    #[test]
    fn an_id_held_by_two_lines_is_forgotten_with_the_last() {
        let mut dedup = Dedup::default();
        dedup.record(ConnId(1), "x", LIMITS);
        // The client came back on connection 2 and resent it.
        dedup.record(ConnId(2), "x", LIMITS);
        for id in ids(0..3) {
            dedup.record(ConnId(2), &id, LIMITS);
        }
        assert!(dedup.contains("x"), "still in connection 1's line");
        dedup.close(ConnId(1));
        dedup.record(ConnId(3), "y", LIMITS);
        assert!(!dedup.contains("x"));
    }

    #[test]
    fn another_tabs_reconnects_never_push_a_clients_ids_out() {
        let mut dedup = Dedup::default();
        // Tab a's last action, then its socket died and it stayed away.
        dedup.record(ConnId(1), "a7f3-41", LIMITS);
        dedup.close(ConnId(1));
        // Tab b reconnects and acts over and over meanwhile.
        for n in 0..10 {
            let conn = ConnId(2 + n);
            dedup.record(conn, &format!("b09c-{n}"), LIMITS);
            dedup.close(conn);
        }
        assert!(dedup.contains("a7f3-41"), "tab a may still resend it");
        assert_eq!(dedup.lines(), 2, "one line per tab");
        // Ids that name no client count their connection as theirs.
        for conn in [20, 21] {
            dedup.record(ConnId(conn), "plain", LIMITS);
        }
        assert!(!dedup.contains("a7f3-41") && dedup.contains("plain"));
    }

    #[test]
    fn a_restored_line_of_one_clients_ids_is_that_clients_again() {
        let mut dedup = Dedup::default();
        dedup.record(ConnId(1), "a7f3-1", LIMITS);
        dedup.record(ConnId(2), "b09c-1", LIMITS);
        let mut back: Dedup = serde_json::from_str(&serde_json::to_string(&dedup).unwrap()).unwrap();
        back.fit(LIMITS);
        // Back after the restart on a new connection: its own line, not a third.
        back.record(ConnId(3), "a7f3-2", LIMITS);
        assert!(back.contains("a7f3-1") && back.contains("a7f3-2") && back.contains("b09c-1"));
        assert_eq!(back.lines(), 2);
    }

    #[test]
    fn snapshots_round_trip_and_old_ones_are_cut_to_size() {
        let mut dedup = Dedup::default();
        for (conn, id) in [(1, "a"), (1, "b"), (2, "c")] {
            dedup.record(ConnId(conn), id, LIMITS);
        }
        let json = serde_json::to_string(&dedup).unwrap();
        let mut back: Dedup = serde_json::from_str(&json).unwrap();
        back.fit(LIMITS);
        assert!(["a", "b", "c"].iter().all(|id| back.contains(id)));
        assert_eq!(back.lines(), 2);

        let old: Dedup = serde_json::from_str(r#"{"a1":1,"a2":1,"a3":1,"a4":1,"a5":1,"a6":1,"a7":1}"#).unwrap();
        let mut old = old;
        assert!(old.contains("a1") && old.contains("a7"));
        old.fit(LIMITS);
        assert_eq!((old.lines(), old.longest_line()), (2, 3));
        assert_eq!(old.len(), 6, "two lines of three");
    }
}
