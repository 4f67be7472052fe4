//! The end-of-run checks. Per client: the delivery guarantee (§4). Across
//! the clients of each session at rest: the server's cart, the frames its
//! socket carried all applied, and the server's conversation (§3, §9).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use vizochok_core::{Input, Role};

use crate::world::World;
use crate::Report;

/// What a snapshot says of one session.
struct Truth {
    seq: u64,
    history: Vec<(Role, String)>,
}

impl World {
    /// Checks the world at rest, destroys every client, and checks what
    /// became of each accepted action.
    pub fn check(&mut self, seed: u64) -> Report {
        let mut report =
            Report { seed, clients: self.clients.len(), connections: self.conns.len(), ..Report::default() };
        if !self.at_rest() {
            let states: Vec<String> = self
                .clients
                .iter()
                .filter(|c| c.active())
                .map(|c| format!("c{} {:?}", c.name, c.session.state()))
                .collect();
            self.violation(None, format!("never came to rest ({})", states.join(", ")));
        } else {
            report.shared_clients = self.check_sessions();
        }
        for i in 0..self.clients.len() {
            if !self.clients[i].destroyed {
                self.clients[i].session.handle_input(self.now, Input::Destroy);
                let client = &mut self.clients[i];
                client.queued_at_destroy = client.session.pending_actions().into_iter().map(|a| a.id).collect();
                client.destroyed = true;
            }
            self.check_deliveries(i, &mut report);
        }
        let stats = self.server.stats();
        report.forgotten_ids = stats.forgotten_ids;
        report.dedup_lines = stats.max_dedup_lines;
        report.pushed_out = self.watch.pushed_out;
        report.silent_closed = self.watch.silent_closed;
        report.virtual_ms = self.now;
        report.violations = std::mem::take(&mut self.violations);
        report
    }

    /// Every client in a session: the same cart as the server, every frame
    /// its socket carried applied, the server's conversation on screen.
    /// Returns how many clients shared their session with another.
    fn check_sessions(&mut self) -> usize {
        let truths = match truths(&self.server.snapshot()) {
            Ok(truths) => truths,
            Err(e) => {
                self.violation(None, format!("the snapshot does not read: {e}"));
                return 0;
            }
        };
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for client in self.clients.iter().filter(|c| c.active()) {
            if let Some(id) = client.session.session_id() {
                groups.entry(id.to_owned()).or_default().push(client.name);
            }
        }
        let history_max = self.config.history_max;
        for (id, members) in &groups {
            let Some(truth) = truths.get(id) else {
                self.violation(None, format!("clients {members:?} are in a session the server does not hold"));
                continue;
            };
            for &i in members {
                for problem in self.client_problems(i, id, truth, history_max) {
                    self.violation(Some(i), problem);
                }
            }
        }
        groups.values().filter(|m| m.len() > 1).map(Vec::len).sum()
    }

    fn client_problems(&self, i: usize, id: &str, truth: &Truth, history_max: usize) -> Vec<String> {
        let client = &self.clients[i];
        let mut problems = Vec::new();
        let cart = client.session.cart();
        match self.server.session_cart(id) {
            Some(server) if server == *cart => {}
            server => problems.push(format!("cart {cart:?} differs from the server's {server:?}")),
        }
        let last_seq = client.session.last_seq();
        let Some(conn) = client.opened else { return vec!["connected without a socket".into()] };
        let carried = client.seq_at_auth.max(self.watch.seq_sent(conn));
        if last_seq != carried {
            problems.push(format!("applied seq {last_seq}, but its socket [{conn}] carried up to {carried}"));
        }
        if last_seq > truth.seq {
            problems.push(format!("applied seq {last_seq}, ahead of the session's {}", truth.seq));
        }
        match (self.watch.attachment(conn), self.watch.last_broadcast(id)) {
            (Some((session, _)), _) if session != id => problems.push("its socket is in another session".into()),
            (Some((_, attached)), Some((seq, sent))) if attached < sent && last_seq < seq => problems.push(format!(
                "applied seq {last_seq}, below {seq}, which went to every connection while it was attached"
            )),
            (None, _) => problems.push(format!("its socket [{conn}] is not attached")),
            _ => {}
        }
        let shown = &client.transcript;
        let same =
            if truth.history.len() < history_max { *shown == truth.history } else { shown.ends_with(&truth.history) };
        if !same {
            let at = shown
                .iter()
                .zip(&truth.history)
                .position(|(a, b)| a != b)
                .unwrap_or(shown.len().min(truth.history.len()));
            problems.push(format!(
                "shows {} lines of conversation, the server holds {}; first difference at {at}: {:?} vs {:?}",
                shown.len(),
                truth.history.len(),
                shown.get(at),
                truth.history.get(at)
            ));
        }
        problems
    }

    /// The §4 guarantee for one client: every accepted action ended exactly
    /// once, or was still queued when its host destroyed it.
    fn check_deliveries(&mut self, i: usize, report: &mut Report) {
        let client = &self.clients[i];
        let mut problems = Vec::new();
        for id in &client.accepted {
            let acked = client.acked.get(id).copied().unwrap_or(0);
            let failed = client.failed.get(id).copied().unwrap_or(0);
            let queued = client.queued_at_destroy.contains(id);
            match (acked, failed, queued) {
                (0, 0, false) => problems.push(format!("action {id} was silently lost")),
                (a, _, _) if a > 1 => problems.push(format!("action {id} was acknowledged {a} times")),
                _ => {}
            }
            report.acknowledged += usize::from(acked > 0);
            report.failed += usize::from(failed > 0);
            report.still_queued += usize::from(queued);
        }
        if client.shown_again > 0 {
            problems.push(format!("{} replies its history holds were shown again", client.shown_again));
        }
        if client.unanswered > 0 {
            problems.push(format!("{} replies sent again that its history lacks were not shown", client.unanswered));
        }
        report.replies_below += client.shown_below;
        report.accepted += client.accepted.len();
        report.messages_shown += client.shown_messages;
        report.replies_again += client.replies_again;
        report.cancelled += client.cancelled;
        report.resets += client.resets;
        if client.resets_rejoined > 0 {
            problems.push(format!("{} resets put it back into the session it left", client.resets_rejoined));
        }
        for problem in problems {
            self.violation(Some(i), problem);
        }
    }
}

/// Each session's `seq` and conversation, from an engine snapshot.
fn truths(snapshot: &str) -> Result<HashMap<String, Truth>, String> {
    let value: Value = serde_json::from_str(snapshot).map_err(|e| e.to_string())?;
    let sessions = value.get("sessions").and_then(Value::as_array).ok_or("no sessions")?;
    let mut truths = HashMap::new();
    for session in sessions {
        let id = session.get("id").and_then(Value::as_str).ok_or("a session without an id")?;
        let seq = session.get("seq").and_then(Value::as_u64).ok_or("a session without a seq")?;
        let entries = session.get("history").and_then(Value::as_array).ok_or("a session without a history")?;
        let mut history = Vec::with_capacity(entries.len());
        for entry in entries {
            let role = match entry.get("role").and_then(Value::as_str) {
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                other => return Err(format!("a history entry of role {other:?}")),
            };
            let text = entry.get("text").and_then(Value::as_str).ok_or("a history entry without text")?;
            history.push((role, text.to_owned()));
        }
        truths.insert(id.to_owned(), Truth { seq, history });
    }
    Ok(truths)
}
