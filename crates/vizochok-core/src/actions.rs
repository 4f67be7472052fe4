//! The outbound action queue of §4: one ordered list that is both the queue
//! (not yet sent) and the resend set (sent, not yet acknowledged), with the
//! rule that only one `message` is in flight at a time.

use std::collections::VecDeque;

use crate::{ActionKind, PendingAction};

/// One accepted action.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub id: String,
    pub kind: ActionKind,
    /// The encoded frame, resent byte for byte.
    pub frame: String,
    /// Sent at least once: a member of the resend set.
    pub sent: bool,
    /// Sent on the current socket and not yet answered.
    pub on_wire: bool,
    /// Acknowledged `message` still waiting for its reply (holds the gate).
    pub acked: bool,
    /// Not before this time (after `agent_busy` / `rate_limit_exceeded`).
    pub retry_at: Option<u64>,
    /// Retries used.
    pub retries: u32,
}

/// The ordered actions that have not ended.
#[derive(Debug, Default)]
pub(crate) struct ActionQueue {
    actions: VecDeque<Action>,
}

impl ActionQueue {
    /// Actions counted against the capacity: everything not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.actions.iter().filter(|a| !a.acked).count()
    }

    pub fn push(&mut self, id: String, kind: ActionKind, frame: String) {
        self.actions.push_back(Action {
            id,
            kind,
            frame,
            sent: false,
            on_wire: false,
            acked: false,
            retry_at: None,
            retries: 0,
        });
    }

    /// The sent action with this id. A server frame can only be about an
    /// action that was sent; one naming an action still queued (a server
    /// bug) finds nothing, so it can neither end nor lose that action.
    pub fn sent_mut(&mut self, id: &str) -> Option<&mut Action> {
        self.actions.iter_mut().find(|a| a.id == id && a.sent)
    }

    /// Removes the sent action with this id (see [`ActionQueue::sent_mut`]).
    pub fn remove_sent(&mut self, id: &str) -> Option<Action> {
        let index = self.actions.iter().position(|a| a.id == id && a.sent)?;
        self.actions.remove(index)
    }

    /// The socket is gone: nothing is on the wire any more.
    pub fn socket_lost(&mut self) {
        for a in &mut self.actions {
            a.on_wire = false;
        }
    }

    /// Acknowledged messages will get no reply on a non-replayed session:
    /// they have ended (acknowledged), so release the gate.
    pub fn forget_acked(&mut self) {
        self.actions.retain(|a| !a.acked);
    }

    /// Frames to send now, in order: first the resend set when `resend_first`,
    /// then the rest. Marks them on the wire.
    pub fn take_sendable(&mut self, now: u64, resend_first: bool) -> Vec<String> {
        let mut out = Vec::new();
        let passes: &[Option<bool>] = if resend_first { &[Some(true), Some(false)] } else { &[None] };
        for pass in passes {
            let mut message_ahead = false;
            for a in &mut self.actions {
                let gated = a.kind == ActionKind::Message && message_ahead;
                if a.kind == ActionKind::Message {
                    message_ahead = true;
                }
                let in_pass = pass.is_none_or(|sent| a.sent == sent);
                let ready = a.retry_at.is_none_or(|t| t <= now);
                if in_pass && !gated && ready && !a.on_wire && !a.acked {
                    a.on_wire = true;
                    a.sent = true;
                    a.retry_at = None;
                    out.push(a.frame.clone());
                }
            }
        }
        out
    }

    /// Earliest retry time of an action waiting to be resent.
    pub fn next_retry(&self) -> Option<u64> {
        self.actions.iter().filter(|a| !a.on_wire && !a.acked).filter_map(|a| a.retry_at).min()
    }

    pub fn pending(&self) -> Vec<PendingAction> {
        self.actions.iter().map(|a| PendingAction { id: a.id.clone(), kind: a.kind, sent: a.sent }).collect()
    }
}
