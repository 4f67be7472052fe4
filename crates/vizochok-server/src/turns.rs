//! Answering messages, one at a time in the order received: the accepted
//! message is shown to every tab (`user_message`) and waits its turn; then
//! the assistant answers with `typing`, `delta`s over virtual time, the
//! reply's cart changes, and finally `response`. A `cancel` stops a reply.

use std::collections::VecDeque;

use vizochok_proto::frame::{ServerFrame, MAX_SUGGESTIONS, MAX_SUGGESTION_CHARS};
use vizochok_proto::{ErrorCode, HistoryEntry, Reply, Role};

use crate::cart::{summary, Unfit};
use crate::intake::user_key;
use crate::session::{CartTask, PendingReply, WaitingMessage};
use crate::usage::tokens;
use crate::{CartOp, ConnId, Engine, LogKind, Turn};

/// Cart changes one reply may make; the assistant's further ones are dropped.
const MAX_REPLY_CART_CHANGES: usize = 16;

impl Engine {
    /// An accepted message: every connection sees it, then it waits for
    /// the replies before it.
    pub(crate) fn accept_message(&mut self, now: u64, session_id: &str, from: ConnId, id: String, text: String) {
        let history_max = self.config.history_max;
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        let data = &mut session.data;
        data.conversation = true;
        data.tokens = data.tokens.saturating_add(tokens(&text));
        data.remember(
            HistoryEntry { role: Role::User, text: text.clone(), products: None, message_id: None, rating: None },
            history_max,
        );
        data.waiting.push_back(WaitingMessage { id: id.clone(), text: text.clone(), from: Some(from) });
        let (store_id, user) = (data.store_id.clone(), user_key(data));
        self.usage.add_tokens(&store_id, now, tokens(&text));
        self.usage.add_user_message(&store_id, &user, now);
        self.emit(session_id, |seq| ServerFrame::UserMessage { seq, id, text });
        self.advance(now, session_id);
    }

    /// Runs the assistant on the next waiting message and starts streaming
    /// its reply (or ends the message with an error).
    fn start_turn(&mut self, now: u64, session_id: &str, message: WaitingMessage) {
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        let Some(store) = self.config.stores.iter().find(|s| s.store_id == session.data.store_id) else { return };
        let language = session.language();
        let turn = Turn {
            text: &message.text,
            language,
            catalog: &store.catalog,
            cart: &session.data.cart.items,
            last_products: &session.data.last_products,
            context: session.data.context.as_ref(),
        };
        let reply = self.assistant.reply(&turn);
        let data = &mut session.data;
        let used = tokens(&reply.text);
        data.tokens = data.tokens.saturating_add(used);
        data.replies += 1;
        let message_id = format!("{}-m{}", data.tag, data.replies);
        let store_id = data.store_id.clone();
        self.usage.add_tokens(&store_id, now, used);

        let max_rounds = self.config.limits.max_rounds;
        let failure = if reply.rounds > max_rounds {
            Some((ErrorCode::MaxRoundsExceeded, format!("the reply took {} rounds (max {max_rounds})", reply.rounds)))
        } else if reply.text.trim().is_empty() {
            Some((ErrorCode::InternalError, "the assistant gave no answer".to_owned()))
        } else {
            None
        };
        let id = message.id;
        if let Some((code, message)) = failure {
            let detail = format!("{id}: {code} ({message})");
            self.log(now, LogKind::LimitHit, None, Some(session_id.to_owned()), Some(store_id), detail);
            return self.error(session_id, code, message, Some(id), None);
        }

        let mut ops = reply.cart_ops;
        if ops.len() > MAX_REPLY_CART_CHANGES {
            let detail = format!(
                "{id}: the reply asked for {} cart changes; the first {MAX_REPLY_CART_CHANGES} are made",
                ops.len()
            );
            self.log(now, LogKind::LimitHit, None, Some(session_id.to_owned()), Some(store_id), detail);
            ops.truncate(MAX_REPLY_CART_CHANGES);
        }
        // A quantity that is not a finite number can never be applied, and
        // no snapshot could hold it while the reply streams (JSON has no
        // infinity): refused now, as it would be when its turn came.
        let (ops, unfit): (Vec<CartOp>, Vec<CartOp>) = ops.into_iter().partition(CartOp::is_finite);
        for (i, op) in unfit.into_iter().enumerate() {
            let sku = self.shown(op.sku().unwrap_or_default());
            let reason = Unfit::Reason(format!("a quantity of {sku:?} that is not a finite number"));
            let task = CartTask { op, action_id: None, key: format!("{message_id}/unfit-{i}") };
            self.refuse(now, session_id, &task, reason);
        }
        let reply_to = Some(id.clone());
        self.emit(session_id, |seq| ServerFrame::Typing { seq, reply_to });
        let interval = self.config.delta_interval_ms;
        let pending = PendingReply {
            message_id,
            reply_to: id,
            from: message.from,
            chunks: chunks(&reply.text, self.config.delta_chars),
            text: reply.text,
            said: String::new(),
            products: reply.products,
            suggestions: checked_suggestions(reply.suggestions),
            next_at: Some(now.saturating_add(interval)),
            ops,
            ops_pending: 0,
            cart_changed: false,
        };
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.data.turn = Some(pending);
        }
    }

    /// Moves the session's replies on as far as `now` allows: due deltas,
    /// then the reply's cart changes, then — once they are all decided —
    /// `response`, then the next waiting message.
    pub(crate) fn advance(&mut self, now: u64, session_id: &str) {
        let interval = self.config.delta_interval_ms;
        loop {
            let Some(data) = self.sessions.get_mut(session_id).map(|s| &mut s.data) else { return };
            let Some(turn) = data.turn.as_mut() else {
                match data.waiting.pop_front() {
                    Some(next) => {
                        self.start_turn(now, session_id, next);
                        continue;
                    }
                    None => return,
                }
            };
            if !turn.chunks.is_empty() {
                let due = turn.next_at.unwrap_or(now);
                if due > now {
                    return;
                }
                turn.next_at = Some(due.saturating_add(interval));
                let text = turn.chunks.pop_front().unwrap_or_default();
                turn.said.push_str(&text);
                let (message_id, reply_to) = (turn.message_id.clone(), turn.reply_to.clone());
                self.emit(session_id, |seq| ServerFrame::Delta { seq, message_id, reply_to, text });
            } else if !turn.ops.is_empty() {
                let ops = std::mem::take(&mut turn.ops);
                turn.ops_pending += ops.len();
                let message_id = turn.message_id.clone();
                for (i, op) in ops.into_iter().enumerate() {
                    self.enqueue_cart(now, session_id, op, None, format!("{message_id}/{i}"));
                }
            } else if turn.ops_pending == 0 {
                self.finish_turn(session_id, false);
            } else {
                return; // waiting for the store's webhook
            }
        }
    }

    /// Stops the reply to `reply_to`: while it streams, it ends at once
    /// with what was said and `cancelled: true`, and its cart changes are
    /// dropped; a message still waiting is ended before it starts. Anything
    /// else (a reply already complete or applying its changes, an unknown
    /// id) is left as it is.
    pub(crate) fn cancel(&mut self, now: u64, session_id: &str, reply_to: &str) {
        let Some(data) = self.sessions.get_mut(session_id).map(|s| &mut s.data) else { return };
        if let Some(turn) = data.turn.as_mut().filter(|t| t.reply_to == reply_to && !t.chunks.is_empty()) {
            turn.chunks.clear();
            turn.ops.clear();
            turn.products.clear();
            turn.suggestions.clear();
            turn.text = std::mem::take(&mut turn.said);
            self.finish_turn(session_id, true);
            return self.advance(now, session_id);
        }
        let Some(at) = data.waiting.iter().position(|w| w.id == reply_to) else { return };
        data.waiting.remove(at);
        data.replies += 1;
        let reply = Reply {
            message_id: format!("{}-m{}", data.tag, data.replies),
            reply_to: reply_to.to_owned(),
            text: String::new(),
            products: Vec::new(),
            summary: None,
            cancelled: true,
            suggestions: Vec::new(),
        };
        self.emit(session_id, |seq| ServerFrame::Response { seq, reply, again: false });
    }

    fn finish_turn(&mut self, session_id: &str, cancelled: bool) {
        let history_max = self.config.history_max;
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        let Some(turn) = session.data.turn.take() else { return };
        if !turn.text.is_empty() {
            let products = (!turn.products.is_empty()).then(|| turn.products.clone());
            let message_id = Some(turn.message_id.clone());
            let entry =
                HistoryEntry { role: Role::Assistant, text: turn.text.clone(), products, message_id, rating: None };
            session.data.remember(entry, history_max);
        }
        session.data.last_products = turn.products.clone();
        let summary = turn.cart_changed.then(|| summary(&session.data.cart));
        let reply = Reply {
            message_id: turn.message_id,
            reply_to: turn.reply_to,
            text: turn.text,
            products: turn.products,
            summary,
            cancelled,
            suggestions: turn.suggestions,
        };
        self.emit(session_id, |seq| ServerFrame::Response { seq, reply, again: false });
    }
}

/// What the assistant suggested, as the contract allows it: trimmed,
/// non-empty, at most [`MAX_SUGGESTION_CHARS`] characters (longer ones are
/// dropped, not cut, so none changes meaning), at most [`MAX_SUGGESTIONS`].
fn checked_suggestions(suggestions: Vec<String>) -> Vec<String> {
    suggestions
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.chars().count() <= MAX_SUGGESTION_CHARS)
        .take(MAX_SUGGESTIONS)
        .collect()
}

/// Splits a reply into `delta` texts of `size` characters (0: one piece).
fn chunks(text: &str, size: usize) -> VecDeque<String> {
    if size == 0 {
        return VecDeque::from([text.to_owned()]);
    }
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::{checked_suggestions, chunks};

    #[test]
    fn chunks_count_characters_not_bytes() {
        assert_eq!(chunks("привіт!", 3), ["при", "віт", "!"]);
        assert_eq!(chunks("abc", 0), ["abc"]);
    }

    #[test]
    fn suggestions_are_bounded() {
        let long = "ї".repeat(81);
        let given = ["  a ", "", &long, "b", "c", "d", "e"].map(str::to_owned).to_vec();
        assert_eq!(checked_suggestions(given), ["a", "b", "c", "d"]);
        assert_eq!(checked_suggestions(vec!["ї".repeat(80)]).len(), 1);
    }
}
