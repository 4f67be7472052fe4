//! Answering a message: ask the assistant, then `typing`, `delta`s over
//! virtual time, the reply's cart changes, and finally `response`.

use std::collections::VecDeque;

use vizochok_proto::frame::ServerFrame;
use vizochok_proto::{ErrorCode, HistoryEntry, Reply, Role};

use crate::cart::summary;
use crate::intake::user_key;
use crate::session::PendingReply;
use crate::usage::tokens;
use crate::{Engine, LogKind, Turn};

impl Engine {
    /// Runs the assistant on an accepted message and starts streaming its reply.
    pub(crate) fn start_turn(&mut self, now: u64, session_id: &str, id: String, text: String) {
        let history_max = self.config.history_max;
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        let Some(store) = self.config.stores.iter().find(|s| s.store_id == session.data.store_id) else { return };
        let data = &mut session.data;
        data.conversation = true;
        data.remember(HistoryEntry { role: Role::User, text: text.clone(), products: None }, history_max);
        let language = session.language();
        let turn = Turn {
            text: &text,
            language,
            catalog: &store.catalog,
            cart: &session.data.cart.items,
            last_products: &session.data.last_products,
        };
        let reply = self.assistant.reply(&turn);
        let data = &mut session.data;
        let used = tokens(&text).saturating_add(tokens(&reply.text));
        data.tokens = data.tokens.saturating_add(used);
        data.replies += 1;
        let message_id = format!("{session_id}-m{}", data.replies);
        let user = user_key(data.user_id.as_deref(), session_id);
        let store_id = data.store_id.clone();
        self.usage.add_tokens(&store_id, now, used);
        self.usage.add_user_message(&store_id, &user, now);

        let max_rounds = self.config.limits.max_rounds;
        let failure = if reply.rounds > max_rounds {
            Some((ErrorCode::MaxRoundsExceeded, format!("the reply took {} rounds (max {max_rounds})", reply.rounds)))
        } else if reply.text.trim().is_empty() {
            Some((ErrorCode::InternalError, "the assistant gave no answer".to_owned()))
        } else {
            None
        };
        if let Some((code, message)) = failure {
            let detail = format!("{id}: {code} ({message})");
            self.log(now, LogKind::LimitHit, None, Some(session_id.to_owned()), Some(store_id), detail);
            return self.error(session_id, code, message, Some(id), None);
        }

        let reply_to = Some(id.clone());
        self.emit(session_id, |seq| ServerFrame::Typing { seq, reply_to });
        let interval = self.config.delta_interval_ms;
        let pending = PendingReply {
            message_id,
            reply_to: id,
            chunks: chunks(&reply.text, self.config.delta_chars),
            text: reply.text,
            products: reply.products,
            next_at: Some(now.saturating_add(interval)),
            ops: reply.cart_ops,
            ops_pending: 0,
            cart_changed: false,
        };
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.data.turn = Some(pending);
        }
        self.advance(now, session_id);
    }

    /// Moves the session's reply on as far as `now` allows: due deltas, then
    /// its cart changes, then — once they are all decided — `response`.
    pub(crate) fn advance(&mut self, now: u64, session_id: &str) {
        let interval = self.config.delta_interval_ms;
        loop {
            let Some(turn) = self.sessions.get_mut(session_id).and_then(|s| s.data.turn.as_mut()) else { return };
            if !turn.chunks.is_empty() {
                let due = turn.next_at.unwrap_or(now);
                if due > now {
                    return;
                }
                turn.next_at = Some(due.saturating_add(interval));
                let text = turn.chunks.pop_front().unwrap_or_default();
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
                return self.finish_turn(session_id);
            } else {
                return; // waiting for the store's webhook
            }
        }
    }

    fn finish_turn(&mut self, session_id: &str) {
        let history_max = self.config.history_max;
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        let Some(turn) = session.data.turn.take() else { return };
        let products = (!turn.products.is_empty()).then(|| turn.products.clone());
        let entry = HistoryEntry { role: Role::Assistant, text: turn.text.clone(), products };
        session.data.remember(entry, history_max);
        session.data.last_products = turn.products.clone();
        let summary = turn.cart_changed.then(|| summary(&session.data.cart));
        let reply = Reply {
            message_id: turn.message_id,
            reply_to: turn.reply_to,
            text: turn.text,
            products: turn.products,
            summary,
            cancelled: false,
            suggestions: Vec::new(),
        };
        self.emit(session_id, |seq| ServerFrame::Response { seq, reply });
    }
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
    use super::chunks;

    #[test]
    fn chunks_count_characters_not_bytes() {
        assert_eq!(chunks("привіт!", 3), ["при", "віт", "!"]);
        assert_eq!(chunks("abc", 0), ["abc"]);
    }
}
