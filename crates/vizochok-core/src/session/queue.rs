//! The outbound action queue: one ordered list that is both the queue (not
//! yet sent) and the resend set (sent, not yet acknowledged), with the rule
//! that only one `message` is in flight at a time. Its invariants live here
//! only: the session speaks to it in verbs.

use crate::{ActionKind, PendingAction};

/// One accepted action.
#[derive(Debug, Clone)]
struct Action {
    id: String,
    kind: ActionKind,
    /// The encoded frame, resent byte for byte.
    frame: String,
    /// Sent at least once: a member of the resend set.
    sent: bool,
    /// Sent on the current socket and not yet answered.
    on_wire: bool,
    /// An acknowledged `message` still waiting for its reply (holds the gate).
    acked: bool,
    /// Not before this time (after `agent_busy` / `rate_limit_exceeded`).
    retry_at: Option<u64>,
    /// Retries used.
    retries: u32,
}

/// Which frames go first when the queue is flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// After `auth_ok`: the resend set first, in its original order.
    ResendFirst,
    /// Otherwise: queue order.
    Queued,
}

/// What an `ack` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acked {
    /// The action ended (acknowledged).
    Ended,
    /// A `message` became durable; it holds the gate until its reply.
    AwaitingReply,
    /// Nothing: not sent, unknown, or already acknowledged.
    Ignored,
}

/// What an error naming an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Kept, to be resent at the given time.
    Retrying,
    /// The action ended with this error.
    Ended,
    /// No sent action has this id: nothing changes.
    Unknown,
}

/// The ordered actions that have not ended.
#[derive(Debug, Default)]
pub(crate) struct ActionQueue {
    actions: Vec<Action>,
}

impl ActionQueue {
    /// Actions counted against the capacity: everything not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.actions.iter().filter(|a| !a.acked).count()
    }

    pub fn push(&mut self, id: String, kind: ActionKind, frame: String) {
        let action = Action { id, kind, frame, sent: false, on_wire: false, acked: false, retry_at: None, retries: 0 };
        self.actions.push(action);
    }

    /// The id of the newest action of `kind` that was never sent.
    pub fn unsent(&self, kind: ActionKind) -> Option<&str> {
        self.actions.iter().rev().find(|a| a.kind == kind && !a.sent).map(|a| a.id.as_str())
    }

    /// Replaces the frame of that action (a newer context supersedes one still waiting).
    pub fn replace_unsent(&mut self, kind: ActionKind, frame: String) {
        if let Some(action) = self.actions.iter_mut().rev().find(|a| a.kind == kind && !a.sent) {
            action.frame = frame;
        }
    }

    /// The server acknowledged `id`. Only a sent action can be affected:
    /// a server naming one still queued (a server bug) changes nothing.
    pub fn ack(&mut self, id: &str) -> Acked {
        let Some(index) = self.sent_index(id) else { return Acked::Ignored };
        let action = &mut self.actions[index];
        match (action.kind, action.acked) {
            (_, true) => Acked::Ignored,
            (ActionKind::Message, false) => {
                action.acked = true;
                action.on_wire = false;
                Acked::AwaitingReply
            }
            _ => {
                self.actions.remove(index);
                Acked::Ended
            }
        }
    }

    /// The reply to message `id` arrived: the message ended. Returns whether
    /// it had not been acknowledged (its `ack` was lost, the reply proves it
    /// durable).
    pub fn answered(&mut self, id: &str) -> bool {
        let Some(index) = self.sent_index(id) else { return false };
        !self.actions.remove(index).acked
    }

    /// The server refused `id`. A retryable refusal of an action the server
    /// has not made durable keeps it, to be resent at `retry_at`, up to
    /// `max_retries` times; anything else ends it.
    pub fn refused(&mut self, id: &str, retryable: bool, max_retries: u32, retry_at: u64) -> Refused {
        let Some(index) = self.sent_index(id) else { return Refused::Unknown };
        let action = &mut self.actions[index];
        if retryable && !action.acked && action.retries < max_retries {
            action.retries += 1;
            action.on_wire = false;
            action.retry_at = Some(retry_at);
            return Refused::Retrying;
        }
        self.actions.remove(index);
        Refused::Ended
    }

    /// The socket is gone: nothing is on the wire any more.
    pub fn socket_lost(&mut self) {
        for a in &mut self.actions {
            a.on_wire = false;
        }
    }

    /// Acknowledged messages will get no reply on a session that was not
    /// replayed: they have ended (acknowledged), so release the gate.
    pub fn forget_acked(&mut self) {
        self.actions.retain(|a| !a.acked);
    }

    /// Frames to send now, marked as on the wire.
    pub fn take_sendable(&mut self, now: u64, order: Order) -> Vec<String> {
        let mut out = Vec::new();
        let passes: &[Option<bool>] = match order {
            Order::ResendFirst => &[Some(true), Some(false)],
            Order::Queued => &[None],
        };
        for pass in passes {
            let mut message_ahead = false;
            for a in &mut self.actions {
                let gated = a.kind == ActionKind::Message && message_ahead;
                message_ahead |= a.kind == ActionKind::Message;
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

    /// The oldest message the server may be answering: sent, not answered,
    /// and not refused and waiting to be retried (the server did not take it).
    pub fn message_in_flight(&self) -> Option<&str> {
        let flying = |a: &&Action| a.kind == ActionKind::Message && a.sent && a.retry_at.is_none();
        self.actions.iter().find(flying).map(|a| a.id.as_str())
    }

    pub fn pending(&self) -> Vec<PendingAction> {
        self.actions.iter().map(|a| PendingAction { id: a.id.clone(), kind: a.kind, sent: a.sent }).collect()
    }

    fn sent_index(&self, id: &str) -> Option<usize> {
        self.actions.iter().position(|a| a.id == id && a.sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(kinds: &[ActionKind]) -> ActionQueue {
        let mut q = ActionQueue::default();
        for (i, &kind) in kinds.iter().enumerate() {
            q.push(i.to_string(), kind, format!("frame{i}"));
        }
        q
    }

    #[test]
    fn one_message_in_flight_cart_actions_pass_it() {
        let mut q = queue(&[ActionKind::Message, ActionKind::Message, ActionKind::ClearCart]);
        assert_eq!(q.take_sendable(0, Order::Queued), ["frame0", "frame2"]);
        assert_eq!(q.ack("0"), Acked::AwaitingReply);
        assert!(q.take_sendable(0, Order::Queued).is_empty(), "the second message waits for the reply");
        assert!(!q.answered("0"), "it was acknowledged");
        assert_eq!(q.take_sendable(0, Order::Queued), ["frame1"]);
    }

    #[test]
    fn only_sent_actions_are_affected_by_the_server() {
        let mut q = queue(&[ActionKind::ClearCart]);
        assert_eq!(q.ack("0"), Acked::Ignored);
        assert_eq!(q.refused("0", false, 3, 0), Refused::Unknown);
        assert_eq!(q.pending().len(), 1);
        q.take_sendable(0, Order::Queued);
        assert_eq!(q.ack("0"), Acked::Ended);
        assert_eq!(q.ack("0"), Acked::Ignored);
    }

    #[test]
    fn retryable_refusals_wait_then_end_after_the_last_retry() {
        let mut q = queue(&[ActionKind::SelectItem]);
        q.take_sendable(0, Order::Queued);
        assert_eq!(q.refused("0", true, 1, 500), Refused::Retrying);
        assert_eq!(q.next_retry(), Some(500));
        assert!(q.take_sendable(499, Order::Queued).is_empty());
        assert_eq!(q.take_sendable(500, Order::Queued), ["frame0"]);
        assert_eq!(q.refused("0", true, 1, 900), Refused::Ended);
        assert!(q.pending().is_empty());
    }

    #[test]
    fn an_unsent_context_is_replaced_in_place() {
        let mut q = queue(&[ActionKind::Context]);
        assert_eq!(q.unsent(ActionKind::Context), Some("0"));
        q.replace_unsent(ActionKind::Context, "new0".into());
        assert_eq!(q.take_sendable(0, Order::Queued), ["new0"]);
        assert_eq!(q.unsent(ActionKind::Context), None, "a sent one is not replaced");
    }
}
