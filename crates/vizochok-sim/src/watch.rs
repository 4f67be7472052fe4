//! What the sim sees of the engine's sessions from the frames it carries:
//! which connections each session holds (attached by an `auth_ok`, gone
//! with a close), the highest `seq` sent on each, and the session's last
//! frame that went to every connection it had. With it the sim checks §9's
//! connection rules as they happen, and `seq`s at rest.

use std::collections::HashMap;

use vizochok_server::Engine;

/// Live connections a session holds at most (§9).
pub(crate) const MAX_CONNECTIONS: usize = 8;

/// One connection attached to a session.
#[derive(Debug)]
struct Attached {
    session: String,
    /// When it attached, in the order of frames sent.
    order: u64,
}

/// A session as the sim sees it.
#[derive(Debug, Default)]
struct Seen {
    /// Its live connections, oldest first.
    live: Vec<u64>,
    /// The highest `seq` it sent.
    top: u64,
    /// The frame of that `seq`: to how many connections it went, of how
    /// many, and when it last went out (the engine sends one frame to
    /// every connection in a row; a replay of it later does not count).
    sent_to: usize,
    expected: usize,
    last_order: u64,
    /// Its last frame that went to every connection it had: (seq, order).
    broadcast: Option<(u64, u64)>,
}

/// A message frame the engine is handling.
#[derive(Debug)]
pub(crate) struct Receiving {
    pub conn: u64,
    pub id: String,
    /// Whether the engine applied it now (an `applied` log line).
    pub applied: bool,
}

/// The sim's view of the engine's sessions.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    attached: HashMap<u64, Attached>,
    sessions: HashMap<String, Seen>,
    /// The highest `seq` sent on each connection.
    seq_sent: HashMap<u64, u64>,
    /// Frames sent so far (orders attachments and broadcasts).
    order: u64,
    /// The connection whose `auth` the engine is handling.
    authing: Option<u64>,
    /// The message frame the engine is handling.
    pub receiving: Option<Receiving>,
    /// Connections pushed out with 4009.
    pub pushed_out: u64,
    /// Connections the engine closed for their client's silence.
    pub silent_closed: u64,
    /// When the engine last heard from each open connection (its opening,
    /// then each frame).
    heard: HashMap<u64, u64>,
}

impl Watch {
    /// The engine hears from `conn` at `now`: it opened, or a frame came.
    pub fn heard_from(&mut self, conn: u64, now: u64) {
        self.heard.insert(conn, now);
    }

    /// The engine is about to handle a frame from `conn`.
    pub fn receiving_frame(&mut self, conn: u64, text: &str) {
        if is_type(text, "auth") {
            self.authing = Some(conn);
        } else if is_type(text, "message") {
            if let Some(id) = field(text, "id") {
                self.receiving = Some(Receiving { conn, id: id.to_owned(), applied: false });
            }
        }
    }

    /// The engine has handled it.
    pub fn received(&mut self) {
        self.authing = None;
        self.receiving = None;
    }

    /// The engine sent `text` on `conn`; returns the broken rules it shows.
    pub fn sent(&mut self, conn: u64, text: &str, engine: &Engine) -> Vec<String> {
        self.order += 1;
        let mut problems = Vec::new();
        if is_type(text, "auth_ok") {
            let Some(session) = field(text, "session_id") else {
                return vec![format!("auth_ok without a session id on [{conn}]")];
            };
            self.closed(conn);
            self.attached.insert(conn, Attached { session: session.to_owned(), order: self.order });
            let seen = self.sessions.entry(session.to_owned()).or_default();
            seen.live.push(conn);
            let (mine, theirs) = (seen.live.len(), engine.connection_count(session));
            if mine > MAX_CONNECTIONS {
                problems.push(format!("a session holds {mine} live connections"));
            }
            if mine != theirs {
                problems.push(format!("the sim counts {mine} connections of a session, the engine {theirs}"));
            }
            return problems;
        }
        let (Some(seq), Some(attached)) = (frame_seq(text), self.attached.get(&conn)) else { return problems };
        let top = self.seq_sent.entry(conn).or_default();
        *top = (*top).max(seq);
        let Some(seen) = self.sessions.get_mut(&attached.session) else { return problems };
        if seq > seen.top {
            seen.top = seq;
            seen.sent_to = 0;
            seen.expected = seen.live.len();
        }
        if seq == seen.top && (seen.sent_to == 0 || seen.last_order + 1 == self.order) {
            seen.sent_to += 1;
            seen.last_order = self.order;
            if seen.sent_to == seen.expected {
                seen.broadcast = Some((seq, self.order));
            }
        }
        problems
    }

    /// A connection is gone (either end closed it).
    pub fn closed(&mut self, conn: u64) {
        self.heard.remove(&conn);
        if let Some(attached) = self.attached.remove(&conn) {
            if let Some(seen) = self.sessions.get_mut(&attached.session) {
                seen.live.retain(|&c| c != conn);
            }
        }
    }

    /// The engine closes `conn` with 4009: only while a ninth connection of
    /// its session authenticates, and only if none of the session's
    /// connections has been silent for a whole heartbeat `beat` (that one
    /// would go instead). Returns the broken rule, if any.
    pub fn pushing_out(&mut self, conn: u64, now: u64, beat: Option<u64>) -> Option<String> {
        self.pushed_out += 1;
        let Some(attached) = self.attached.get(&conn) else {
            return Some(format!("[{conn}] pushed out (4009) but attached to no session"));
        };
        let live = self.sessions.get(&attached.session).map_or(0, |s| s.live.len());
        let oldest = self.sessions.get(&attached.session).and_then(|s| s.live.first().copied());
        match self.authing {
            None => Some(format!("[{conn}] pushed out (4009) while no connection authenticated")),
            Some(_) if live < MAX_CONNECTIONS => {
                Some(format!("[{conn}] pushed out (4009) from a session of {live} connections"))
            }
            Some(_) if oldest != Some(conn) => Some(format!("[{conn}] pushed out (4009) but it is not the oldest")),
            Some(_) => {
                let others = self.sessions.get(&attached.session).map_or(&[][..], |s| &s.live[..]);
                let silent = others.iter().find(|c| {
                    beat.zip(self.heard.get(c)).is_some_and(|(beat, &heard)| heard.saturating_add(beat) <= now)
                })?;
                Some(format!("[{conn}] pushed out (4009) while [{silent}] had been silent for a whole heartbeat"))
            }
        }
    }

    /// The session a connection is attached to, and when it attached.
    pub fn attachment(&self, conn: u64) -> Option<(&str, u64)> {
        self.attached.get(&conn).map(|a| (a.session.as_str(), a.order))
    }

    /// The highest `seq` sent on a connection.
    pub fn seq_sent(&self, conn: u64) -> u64 {
        self.seq_sent.get(&conn).copied().unwrap_or(0)
    }

    /// A session's last frame that went to every connection it had: (seq, order).
    pub fn last_broadcast(&self, session: &str) -> Option<(u64, u64)> {
        self.sessions.get(session).and_then(|s| s.broadcast)
    }
}

/// Whether a frame is of this `type` (every frame starts with it).
pub(crate) fn is_type(text: &str, kind: &str) -> bool {
    text.strip_prefix("{\"type\":\"").and_then(|rest| rest.strip_prefix(kind)).is_some_and(|rest| rest.starts_with('"'))
}

/// The `seq` of a server frame (it follows the `type`), if it has one.
pub(crate) fn frame_seq(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"type\":\"")?;
    let rest = &rest[rest.find('"')?..];
    let digits = rest.strip_prefix("\",\"seq\":")?;
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The first string field of this name in a frame (ids and session ids
/// hold no escapes).
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\":\"");
    let start = text.find(&key)? + key.len();
    let end = text[start..].find('"')?;
    Some(&text[start..start + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_by_their_first_fields() {
        let text = r#"{"type":"user_message","seq":42,"id":"ab-1","text":"milk"}"#;
        assert!(is_type(text, "user_message"));
        assert!(!is_type(text, "user"));
        assert_eq!(frame_seq(text), Some(42));
        assert_eq!(frame_seq(r#"{"type":"ack","id":"ab-1"}"#), None);
        assert_eq!(field(text, "id"), Some("ab-1"));
    }
}
