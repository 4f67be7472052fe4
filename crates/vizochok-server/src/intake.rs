//! Receiving an action: dedup by `id`, the checks that refuse it at receipt
//! (no `ack`, id not recorded, so the client may retry the same id), then
//! `ack` to the sender and hand-off to the cart queue, the assistant's
//! queue of messages, or the page's state.

use vizochok_proto::frame::{ServerFrame, MAX_ACTION_ID};
use vizochok_proto::{ClientFrame, ErrorCode};

use crate::auth::MAX_CONNECTIONS;
use crate::page;
use crate::session::SessionData;
use crate::usage::tokens;
use crate::{cart, CartOp, ConnId, Engine, LogKind, ServerOutput};

/// Unanswered messages a session holds (the one being answered and those
/// waiting): one per connection it can have.
const MAX_UNANSWERED: usize = MAX_CONNECTIONS;
/// Cart changes of the shoppers a session holds (queued, or at the store's
/// webhook): a slow store must not pile them up without bound.
pub(crate) const MAX_CART_CHANGES: usize = 64;

/// Why an action is refused at receipt.
struct Refusal {
    code: ErrorCode,
    message: String,
    retry_after_ms: Option<u64>,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into(), retry_after_ms: None }
    }
}

impl Engine {
    /// Handles an action frame (§2, §12) that `conn` sent in its session.
    pub(crate) fn receive_action(&mut self, now: u64, conn: ConnId, session_id: &str, frame: ClientFrame) {
        let Some(id) = frame.action_id().map(str::to_owned) else { return };
        let limits = self.dedup_limits();
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        if session.data.dedup.contains(&id) {
            // Already applied: the client missed our ack; never apply twice.
            // Its line on this connection now holds it (the client may lose this ack too).
            session.data.dedup.record(conn, &id, limits);
            self.send(conn, &ServerFrame::Ack { id: id.clone() });
            if matches!(frame, ClientFrame::Message { .. }) {
                self.answer_again(session_id, conn, &id);
            }
            return;
        }
        if let Err(refusal) = self.check_receipt(now, conn, session_id, &id, &frame) {
            if self.too_many_refused(now, conn, refusal.code == ErrorCode::InvalidJson) {
                return;
            }
            // An id no client of ours sends is not repeated: a hostile one
            // would have us send, log and keep for replay all it sent.
            let id = is_action_id(&id).then_some(id);
            let detail =
                format!("{} refused: {} ({})", id.as_deref().unwrap_or("an invalid id"), refusal.code, refusal.message);
            self.log(now, LogKind::LimitHit, Some(conn), Some(session_id.to_owned()), None, detail);
            return self.error(session_id, refusal.code, refusal.message, id, refusal.retry_after_ms);
        }
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        session.data.dedup.record(conn, &id, limits);
        // A client's id is unique within its session only; the store's
        // backend dedups by key across all of them.
        let key = format!("{}/{id}", session.data.tag);
        session.data.touched_at = now;
        session.recent_actions.push_back(now);
        self.send(conn, &ServerFrame::Ack { id: id.clone() });
        let detail = format!("{} {id}", action_kind(&frame));
        self.log(now, LogKind::Applied, Some(conn), Some(session_id.to_owned()), None, detail);
        match frame {
            ClientFrame::Message { text, .. } => self.accept_message(now, session_id, conn, id, text),
            ClientFrame::Context { context, .. } => self.set_context(session_id, context),
            ClientFrame::Cancel { reply_to, .. } => self.cancel(now, session_id, &reply_to),
            ClientFrame::Feedback { message_id, rating, comment, .. } => {
                self.record_feedback(now, conn, session_id, message_id, rating, comment)
            }
            other => {
                if let Some(op) = cart_op(other) {
                    self.enqueue_cart(now, session_id, op, Some(id), key);
                }
            }
        }
    }

    /// A message resent after its outcome was lost: the outcome was sent
    /// at or before the `seq` this connection resumed after, so no replay
    /// brings it (a `restored` resume skipped it, on this connection or an
    /// earlier one whose `seq` the client resumed from). Send its final
    /// frame again with a new `seq`, to that connection only (the others saw
    /// it), so the client's one-message-in-flight gate opens. A reply still
    /// waiting or being produced, or sent after that point, arrives by
    /// itself. The old summary is left out: the cart may have changed
    /// since, and `auth_ok` carried the current one.
    ///
    /// The frame sent again is buffered for replay and kept as the
    /// message's outcome under its new `seq`: if this socket dies before it
    /// arrives, the client's next replay brings it, or a later resend finds
    /// it. (Kept out of the buffer, it left a client whose next connection
    /// was replayed past it waiting for ever.) Another tab that replays it
    /// ignores it: it ends or refuses an action that is not its own.
    fn answer_again(&mut self, session_id: &str, conn: ConnId, id: &str) {
        let Some(state) = self.conns.get(&conn) else { return };
        let (restored, resumed_after) = (state.restored, state.resumed_after);
        let Some(session) = self.sessions.get(session_id) else { return };
        if session.data.unanswered().any(|(unanswered, _)| unanswered == id) {
            return;
        }
        let kept = session.data.outcomes.iter().rev().find(|(k, _)| k == id).map(|(_, f)| f.clone());
        let frame = match kept {
            Some(frame) if frame.seq().is_some_and(|seq| seq > resumed_after) => return,
            Some(frame) => frame,
            None if restored => ServerFrame::Error {
                seq: 0,
                code: ErrorCode::InternalError.as_str().to_owned(),
                message: Some("the reply to this message is no longer available".to_owned()),
                reply_to: Some(id.to_owned()),
                retry_after_ms: None,
            },
            None => return,
        };
        if let Some(text) = self.record(session_id, |seq| with_seq(frame, seq)) {
            self.push(ServerOutput::Send { conn, text });
        }
    }

    /// Every check an action must pass before it is acknowledged.
    fn check_receipt(
        &mut self,
        now: u64,
        conn: ConnId,
        session_id: &str,
        id: &str,
        frame: &ClientFrame,
    ) -> Result<(), Refusal> {
        let limits = &self.config.limits;
        let interval = self.config.delta_interval_ms;
        let window = limits.rate_limit_window_ms;
        if let Some(session) = self.sessions.get_mut(session_id) {
            while session.recent_actions.front().is_some_and(|&t| t.saturating_add(window) <= now) {
                session.recent_actions.pop_front();
            }
        }
        let Some(session) = self.sessions.get(session_id) else {
            return Err(Refusal::new(ErrorCode::InternalError, "session vanished"));
        };
        let Some(store) = self.config.stores.iter().find(|s| s.store_id == session.data.store_id) else {
            return Err(Refusal::new(ErrorCode::InternalError, "store no longer configured"));
        };
        if !is_action_id(id) {
            return Err(Refusal::new(ErrorCode::InvalidJson, "action id must be 1 to 64 ASCII characters"));
        }
        if let ClientFrame::Message { text, .. } = frame {
            let chars = text.chars().count();
            if chars > limits.max_message_chars {
                let message = format!("message of {chars} characters exceeds {}", limits.max_message_chars);
                return Err(Refusal::new(ErrorCode::MessageTooLarge, message));
            }
            let busy = if session.data.unanswered().any(|(_, from)| from == Some(conn)) {
                // §4: one message in flight per client; this one has its own.
                Some("this connection's previous message is not answered yet")
            } else if session.data.unanswered().count() >= MAX_UNANSWERED {
                Some("too many messages are waiting for the assistant")
            } else {
                None
            };
            if let Some(message) = busy {
                let remaining = session.data.turn.as_ref().map_or(0, |t| t.chunks.len() as u64);
                return Err(Refusal {
                    code: ErrorCode::AgentBusy,
                    message: message.into(),
                    retry_after_ms: Some(remaining.saturating_mul(interval).max(limits.busy_retry_after_ms)),
                });
            }
        } else if let Some(op) = cart_op(frame.clone()) {
            // A cart action the catalog cannot honour is a request the server
            // cannot understand: `invalid_json` is the closest seed code.
            cart::check(&op, &store.catalog).map_err(|e| Refusal::new(ErrorCode::InvalidJson, self.unfit(e)))?;
            let queued = session.data.cart_queue.len() + usize::from(session.data.in_flight.is_some());
            if queued >= MAX_CART_CHANGES {
                return Err(Refusal {
                    code: ErrorCode::RateLimitExceeded,
                    message: format!("{queued} cart changes are waiting for the store"),
                    retry_after_ms: Some(limits.busy_retry_after_ms),
                });
            }
        } else if let Err(message) = page::check(frame) {
            return Err(Refusal::new(ErrorCode::InvalidJson, message));
        }
        if session.recent_actions.len() >= limits.rate_limit_actions as usize {
            let oldest = session.recent_actions.front().copied().unwrap_or(now);
            return Err(Refusal {
                code: ErrorCode::RateLimitExceeded,
                message: format!("more than {} actions within {window} ms", limits.rate_limit_actions),
                retry_after_ms: Some(oldest.saturating_add(window).saturating_sub(now).max(1)),
            });
        }
        let ClientFrame::Message { text, .. } = frame else { return Ok(()) };
        if store.catalog.is_empty() {
            return Err(Refusal::new(ErrorCode::NoCatalogData, "the store has no catalog"));
        }
        let data = &session.data;
        let user = user_key(data);
        if self.usage.user_messages(&data.store_id, &user, now) >= u64::from(limits.user_messages_max) {
            return Err(Refusal::new(ErrorCode::UserMessageLimit, "daily message limit reached"));
        }
        if let (Some(user_id), true, false) = (&data.user_id, data.verified, data.conversation) {
            let conversations =
                self.verified_sessions_of(&data.store_id, user_id).filter(|s| s.data.conversation).count();
            if conversations >= limits.user_conversations_max as usize {
                return Err(Refusal::new(ErrorCode::UserConversationLimit, "conversation limit reached"));
            }
        }
        let (daily, monthly) = self.usage.tenant_tokens(&data.store_id, now);
        if daily >= limits.tenant_daily_tokens {
            return Err(Refusal::new(ErrorCode::TenantDailyTokenLimit, "store's daily token quota used up"));
        }
        if monthly >= limits.tenant_monthly_tokens {
            return Err(Refusal::new(ErrorCode::TenantMonthlyTokenLimit, "store's monthly token quota used up"));
        }
        if data.tokens.saturating_add(tokens(text)) > limits.session_tokens {
            return Err(Refusal::new(ErrorCode::SessionTokenLimit, "session token limit reached"));
        }
        Ok(())
    }
}

/// Whether `id` is a well-formed action id (1 to 64 ASCII characters, §2).
pub(crate) fn is_action_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ACTION_ID && id.is_ascii()
}

/// Whom the per-user message limit counts: a verified `user_id`, else the
/// session (a claimed id alone could use up another shopper's quota).
pub(crate) fn user_key(data: &SessionData) -> String {
    match (&data.user_id, data.verified) {
        (Some(user), true) => format!("user:{user}"),
        _ => format!("session:{}", data.id),
    }
}

/// The cart change a cart action frame asks for.
fn cart_op(frame: ClientFrame) -> Option<CartOp> {
    match frame {
        ClientFrame::SelectItem { sku, quantity, .. } => Some(CartOp::Add { sku, quantity }),
        ClientFrame::UpdateQuantity { sku, quantity, .. } => Some(CartOp::SetQuantity { sku, quantity }),
        ClientFrame::RemoveItem { sku, .. } => Some(CartOp::Remove { sku }),
        ClientFrame::ClearCart { .. } => Some(CartOp::Clear),
        _ => None,
    }
}

/// The frame's `type`, for the log.
fn action_kind(frame: &ClientFrame) -> &'static str {
    match frame {
        ClientFrame::Message { .. } => "message",
        ClientFrame::SelectItem { .. } => "select_item",
        ClientFrame::UpdateQuantity { .. } => "update_quantity",
        ClientFrame::RemoveItem { .. } => "remove_item",
        ClientFrame::ClearCart { .. } => "clear_cart",
        ClientFrame::Context { .. } => "context",
        ClientFrame::Cancel { .. } => "cancel",
        ClientFrame::Feedback { .. } => "feedback",
        ClientFrame::Auth(_) | ClientFrame::Ping { .. } | ClientFrame::Pong { .. } | ClientFrame::Unknown => "other",
    }
}

/// The same outcome under a new `seq`, marked as sent again, without a
/// stale summary.
fn with_seq(mut frame: ServerFrame, new: u64) -> ServerFrame {
    match &mut frame {
        ServerFrame::Response { seq, reply, again } => {
            *seq = new;
            reply.summary = None;
            *again = true;
        }
        ServerFrame::Error { seq, .. } => *seq = new,
        _ => {}
    }
    frame
}
