//! Cart changes of a session, one at a time: applied directly, or first
//! confirmed by the store's webhook. Serializing them keeps the "resulting
//! cart" of each webhook body true when the store confirms it.

use vizochok_proto::frame::ServerFrame;
use vizochok_proto::{CartChangedEvent, ErrorCode};

use crate::cart::{self, Change, Unfit};
use crate::session::{CartTask, InFlight};
use crate::{CartOp, Engine, LogKind, ServerOutput};

impl Engine {
    /// Queues a cart change; `action_id` is the client action it came from
    /// (`None` for the assistant's), `key` the store's idempotency key.
    pub(crate) fn enqueue_cart(
        &mut self,
        now: u64,
        session_id: &str,
        op: CartOp,
        action_id: Option<String>,
        key: String,
    ) {
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.data.cart_queue.push_back(CartTask { op, action_id, key });
        }
        self.pump_cart(now, session_id);
    }

    /// Starts queued changes until one waits for a webhook or the queue is empty.
    fn pump_cart(&mut self, now: u64, session_id: &str) {
        let timeout = self.config.webhook_timeout_ms;
        loop {
            let Some(session) = self.sessions.get_mut(session_id) else { return };
            if session.data.in_flight.is_some() {
                return;
            }
            let Some(task) = session.data.cart_queue.pop_front() else { return };
            let Some(store) = self.config.stores.iter().find(|s| s.store_id == session.data.store_id) else {
                self.refuse(now, session_id, &task, Unfit::Reason("store no longer configured".into()));
                continue;
            };
            let change = match cart::apply(&session.data.cart, &task.op, &store.catalog, session.language()) {
                Ok(change) => change,
                Err(reason) => {
                    self.refuse(now, session_id, &task, reason);
                    continue;
                }
            };
            if !store.webhook {
                self.commit(session_id, &task, change);
                continue;
            }
            self.requests += 1;
            let request = self.requests;
            // A user id alone proves nothing (§10): the store hears only a verified one.
            let user_id = session.data.user_id.as_deref().filter(|_| session.data.verified);
            let body = webhook_body(&task.key, session_id, user_id, &change);
            let store_id = store.store_id.clone();
            session.data.in_flight =
                Some(InFlight { request, task, body: body.clone(), deadline: Some(now.saturating_add(timeout)) });
            self.webhook_owner.insert(request, session_id.to_owned());
            return self.push(ServerOutput::Webhook { request, store_id, body });
        }
    }

    /// The store's answer to a webhook (or its timeout).
    pub(crate) fn on_webhook_result(&mut self, now: u64, request: u64, accepted: bool, detail: Option<String>) {
        // An answer to a request we no longer wait for (answered, timed out, its session gone) changes nothing.
        let Some(session_id) = self.webhook_owner.get(&request).cloned() else { return };
        let Some(session) = self.sessions.get_mut(&session_id) else { return };
        if session.data.in_flight.as_ref().is_none_or(|f| f.request != request) {
            return;
        }
        self.webhook_owner.remove(&request);
        let Some(InFlight { task, .. }) = session.data.in_flight.take() else { return };
        let detail = detail.unwrap_or_else(|| "no detail".to_owned());
        if accepted {
            let store = self.config.stores.iter().find(|s| s.store_id == session.data.store_id);
            // Nothing else touched the cart meanwhile, so this is the change the store saw.
            let change = store
                .ok_or_else(|| Unfit::Reason("store no longer configured".into()))
                .and_then(|store| cart::apply(&session.data.cart, &task.op, &store.catalog, session.language()));
            match change {
                Ok(change) => self.commit(&session_id, &task, change),
                Err(reason) => self.refuse(now, &session_id, &task, reason),
            }
        } else {
            let reason = Unfit::Reason(format!("the store refused the change: {detail}"));
            self.refuse(now, &session_id, &task, reason);
        }
        self.pump_cart(now, &session_id);
        self.advance(now, &session_id);
    }

    /// A webhook the store has not answered in time counts as refused.
    pub(crate) fn webhook_timer(&mut self, now: u64, session_id: &str) {
        let Some(in_flight) = self.sessions.get(session_id).and_then(|s| s.data.in_flight.as_ref()) else { return };
        if in_flight.deadline.is_some_and(|deadline| deadline <= now) {
            let request = in_flight.request;
            let detail = format!("no webhook answer within {} ms", self.config.webhook_timeout_ms);
            self.on_webhook_result(now, request, false, Some(detail));
        }
    }

    fn commit(&mut self, session_id: &str, task: &CartTask, change: Change) {
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        session.data.cart = change.cart.clone();
        if task.action_id.is_none() {
            if let Some(turn) = &mut session.data.turn {
                turn.ops_pending = turn.ops_pending.saturating_sub(1);
                turn.cart_changed = true;
            }
        }
        self.emit(session_id, |seq| ServerFrame::CartChanged {
            seq,
            change: CartChangedEvent {
                action: change.action,
                sku: change.sku,
                name: change.name,
                quantity: change.quantity,
                price: change.price,
                items: change.cart.items,
                total: change.cart.total,
            },
        });
    }

    /// A change that did not happen: `internal_error`, naming the client
    /// action if there is one (an assistant's change has none, so the
    /// shopper's message is not finished before its `response`).
    pub(crate) fn refuse(&mut self, now: u64, session_id: &str, task: &CartTask, unfit: Unfit) {
        if let Some(turn) = self.sessions.get_mut(session_id).and_then(|s| s.data.turn.as_mut()) {
            if task.action_id.is_none() {
                turn.ops_pending = turn.ops_pending.saturating_sub(1);
            }
        }
        let reason = self.unfit(unfit);
        let detail = format!("{}: {reason}", task.key);
        self.log(now, LogKind::CartRefused, None, Some(session_id.to_owned()), None, detail);
        let message = format!("cart change not applied: {reason}");
        self.error(session_id, ErrorCode::InternalError, message, task.action_id.clone(), None);
    }

    /// Why a change cannot be applied, as a refusal shows it.
    pub(crate) fn unfit(&self, unfit: Unfit) -> String {
        match unfit {
            Unfit::UnknownSku(sku) => format!("unknown sku {:?}", self.shown(&sku)),
            Unfit::Reason(reason) => reason,
        }
    }
}

/// What the store's backend is asked to confirm.
fn webhook_body(key: &str, session_id: &str, user_id: Option<&str>, change: &Change) -> String {
    serde_json::json!({
        "idempotency_key": key,
        "session_id": session_id,
        "user_id": user_id,
        "action": change.action,
        "sku": change.sku,
        "quantity": change.quantity,
        "cart": { "items": change.cart.items, "total": change.cart.total },
    })
    .to_string()
}
