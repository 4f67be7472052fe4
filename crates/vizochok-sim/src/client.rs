//! One simulated client: a tab or a device of the shopper, with its own
//! core [`Session`], its own links' faults, and what its app has heard.

use std::collections::{HashMap, HashSet};

use vizochok_core::{Event, ProductItem, Role, Session, SocketId};

use crate::faults::LinkFaults;

/// How a client came to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A tab of the shopper's browser: it starts with the session id the
    /// browser's shared storage holds, and saves its own there.
    Tab,
    /// Another device of a signed-in shopper: its own storage, so no
    /// session id; verified identity (§10) attaches it to the live session.
    Device,
}

/// What one client's app has seen and done.
pub(crate) struct Client {
    /// Its index in the world, which names it in the trace (`c0`, `c1`, ...).
    pub name: usize,
    pub kind: Kind,
    pub session: Session,
    pub faults: LinkFaults,
    /// The world's connection id of each socket the core asked for, by `SocketId` (from 1).
    pub socket_conns: Vec<u64>,
    /// The connection whose socket opened last.
    pub opened: Option<u64>,
    /// When a briefly opened tab closes again (a crowd of tabs, §9).
    pub leave_at: Option<u64>,
    /// One of a crowd of tabs, which never resets (they all join one session).
    pub in_crowd: bool,
    /// The server pushed this client out with 4009 (final for it).
    pub pushed_out: bool,
    /// The host destroyed the client.
    pub destroyed: bool,
    /// Actions still queued when the host destroyed it.
    pub queued_at_destroy: Vec<String>,
    /// The session id last written to storage (tabs share theirs).
    pub saved: Option<String>,
    /// Product cards of the last reply, for "Add" clicks.
    pub cards: Vec<ProductItem>,
    /// The id of the last reply, for a rating.
    pub last_reply: Option<String>,
    /// Every accepted action id, and the text of each accepted message.
    pub accepted: Vec<String>,
    pub messages: HashMap<String, String>,
    /// Ids that ended: acknowledged, or named by an onError.
    pub acked: HashMap<String, u32>,
    pub failed: HashMap<String, u32>,
    /// The conversation the widget shows: the last history it was given,
    /// then every message and reply as it was applied.
    pub transcript: Vec<(Role, String)>,
    /// Session ids and `seq`s of frames that carry an outcome the server
    /// sent again (a message resent after a `restored` resume): its reply is
    /// on screen if the history this client was given holds it.
    pub answered_again: HashSet<(String, u64)>,
    /// The frame being applied is such an outcome.
    pub applying_again: bool,
    /// The `last_seq` the client held right after its latest `auth_ok`.
    pub seq_at_auth: u64,
    /// Other clients' messages this one showed (`user_message`).
    pub shown_messages: u64,
    /// Replies this one was sent again.
    pub replies_again: u64,
    /// Replies it was given `cancelled`.
    pub cancelled: u64,
    /// Of those, replies its widget showed again (its history has them).
    pub shown_again: u64,
    /// Of those, replies the history it was given lacked (later messages
    /// pushed them out), which the widget shows below it, and those it did
    /// not show (then the shopper sees no answer).
    pub shown_below: u64,
    pub unanswered: u64,
    /// The `message_id`s of the replies in the last history it was given.
    pub history_ids: HashSet<String>,
    /// A reply was shown while the frame sent again was applied.
    pub heard_again: bool,
    /// The session the host's last `reset()` left, until the next `auth_ok`.
    pub reset_from: Option<String>,
    /// Resets of a session, and those whose next `auth_ok` put the client
    /// back into the session it left (a violation: the reset's `auth` asks
    /// for a new session, which a signed-in shopper's would otherwise not get).
    pub resets: u64,
    pub resets_rejoined: u64,
}

impl Client {
    pub fn new(name: usize, kind: Kind, session: Session, faults: LinkFaults) -> Client {
        Client {
            name,
            kind,
            session,
            faults,
            socket_conns: Vec::new(),
            opened: None,
            leave_at: None,
            in_crowd: false,
            pushed_out: false,
            destroyed: false,
            queued_at_destroy: Vec::new(),
            saved: None,
            cards: Vec::new(),
            last_reply: None,
            accepted: Vec::new(),
            messages: HashMap::new(),
            acked: HashMap::new(),
            failed: HashMap::new(),
            transcript: Vec::new(),
            answered_again: HashSet::new(),
            applying_again: false,
            seq_at_auth: 0,
            shown_messages: 0,
            replies_again: 0,
            cancelled: 0,
            shown_again: 0,
            shown_below: 0,
            unanswered: 0,
            history_ids: HashSet::new(),
            heard_again: false,
            reset_from: None,
            resets: 0,
            resets_rejoined: 0,
        }
    }

    /// The world's connection id of one of this client's sockets.
    pub fn conn_of(&self, socket: SocketId) -> Option<u64> {
        let index = usize::try_from(socket.0).ok()?.checked_sub(1)?;
        self.socket_conns.get(index).copied()
    }

    /// Whether the client takes part: opened, not destroyed, not pushed out.
    pub fn active(&self) -> bool {
        !self.destroyed && !self.pushed_out
    }

    /// Records what the app heard, as a widget would show it.
    pub fn hear(&mut self, event: &Event) {
        match event {
            Event::Acknowledged { id } => *self.acked.entry(id.clone()).or_default() += 1,
            Event::Error(e) => {
                if let Some(id) = &e.reply_to {
                    *self.failed.entry(id.clone()).or_default() += 1;
                }
            }
            Event::Response(reply) => {
                self.last_reply = Some(reply.message_id.clone());
                self.cancelled += u64::from(reply.cancelled);
                if !reply.products.is_empty() {
                    self.cards.clone_from(&reply.products);
                }
                if self.applying_again {
                    self.heard_again = true;
                    // Shown below the history, outside the server's
                    // conversation (which no longer has it), so not in the transcript.
                    if self.history_ids.contains(&reply.message_id) {
                        self.shown_again += 1;
                    } else {
                        self.shown_below += 1;
                    }
                } else if !reply.text.is_empty() {
                    self.transcript.push((Role::Assistant, reply.text.clone()));
                }
            }
            Event::UserMessage { text, .. } => {
                self.shown_messages += 1;
                self.transcript.push((Role::User, text.clone()));
            }
            Event::History(history) => {
                self.transcript = history.iter().map(|e| (e.role, e.text.clone())).collect();
                self.history_ids = history.iter().filter_map(|e| e.message_id.clone()).collect();
            }
            _ => {}
        }
    }
}
