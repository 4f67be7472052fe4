//! What the app asks for: each action is checked before anything is queued
//! (`docs/protocol.md`, "Actions"), then queued and sent in order.

use vizochok_proto::frame::{self, ClientFrame, Overlong, MAX_FEEDBACK_COMMENT_CHARS, MAX_QUANTITY};
use vizochok_proto::{blank, ErrorCode, PageContext, ProductItem, Rating};

use super::connection::{CloseReason, Ending};
use super::phase::Phase;
use super::queue::Order;
use super::Session;
use crate::text::{cat, Part};
use crate::{ActionError, ActionKind, Event};

/// Longest SKU the client sends.
const MAX_SKU_BYTES: usize = 256;
/// How close to a whole multiple of the step a quantity must be.
const STEP_EPSILON: f64 = 1e-9;
/// Why a quantity is refused whatever its step (one text: the module
/// formats no number for it; a test checks it names [`MAX_QUANTITY`]).
const QUANTITY_RANGE: &str = "the quantity must be a positive number, at most 1000000";

impl Session {
    /// Sends a chat message. Returns its action id.
    pub fn send_message(&mut self, now: u64, text: &str) -> Result<String, ActionError> {
        self.check_alive()?;
        if blank::is_blank(text) {
            return Err(ActionError::Invalid("the message text is empty".into()));
        }
        let chars = text.chars().count();
        if chars > self.max_message_chars {
            let detail = cat(&[
                Part::T("the message has "),
                Part::N(chars as u64),
                Part::T(" characters; the limit is "),
                Part::N(self.max_message_chars as u64),
            ]);
            return Err(self.reject(ErrorCode::MessageTooLarge, detail));
        }
        let text = text.to_owned();
        self.enqueue(now, ActionKind::Message, |id| ClientFrame::Message { id, text }, None)
    }

    /// The shopper pressed "Add" on a product card: fires `onProductClick`
    /// and sends `select_item`. `quantity` defaults to the product's own,
    /// else one `quantity_step`.
    pub fn select_product(
        &mut self,
        now: u64,
        product: &ProductItem,
        quantity: Option<f64>,
    ) -> Result<String, ActionError> {
        self.check_alive()?;
        check_sku(&product.sku)?;
        if !(product.quantity_step.is_finite() && product.quantity_step > 0.0) {
            return Err(ActionError::Invalid(cat(&[
                Part::T("product "),
                Part::T(&product.sku),
                Part::T(" has an invalid quantity_step"),
            ])));
        }
        self.conversation.learn_steps([product], self.config.limits.known_products);
        let quantity = quantity.or(product.quantity).unwrap_or(product.quantity_step);
        self.check_quantity(&product.sku, quantity)?;
        let clicked = ProductItem { quantity: Some(quantity), ..product.clone() };
        let sku = product.sku.clone();
        self.enqueue(now, ActionKind::SelectItem, |id| ClientFrame::SelectItem { id, sku, quantity }, Some(clicked))
    }

    /// Sets the quantity of a cart line.
    pub fn update_quantity(&mut self, now: u64, sku: &str, quantity: f64) -> Result<String, ActionError> {
        self.check_alive()?;
        check_sku(sku)?;
        self.check_quantity(sku, quantity)?;
        let sku = sku.to_owned();
        self.enqueue(now, ActionKind::UpdateQuantity, |id| ClientFrame::UpdateQuantity { id, sku, quantity }, None)
    }

    /// Removes a cart line.
    pub fn remove_item(&mut self, now: u64, sku: &str) -> Result<String, ActionError> {
        self.check_alive()?;
        check_sku(sku)?;
        let sku = sku.to_owned();
        self.enqueue(now, ActionKind::RemoveItem, |id| ClientFrame::RemoveItem { id, sku }, None)
    }

    /// Empties the cart.
    pub fn clear_cart(&mut self, now: u64) -> Result<String, ActionError> {
        self.check_alive()?;
        self.enqueue(now, ActionKind::ClearCart, |id| ClientFrame::ClearCart { id }, None)
    }

    /// Tells the assistant what the shopper is looking at; it replaces the
    /// previous context. A context still waiting to be sent is updated in
    /// place (and keeps its id), so a page that sets it often never fills
    /// the queue.
    pub fn set_context(&mut self, now: u64, context: PageContext) -> Result<String, ActionError> {
        self.check_alive()?;
        // The server refuses it: refused here, the page hears why at once.
        if let Some(Overlong { field, chars, max }) = context.overlong() {
            let parts = [
                Part::T(field),
                Part::T(" of "),
                Part::N(chars as u64),
                Part::T(" characters exceeds "),
                Part::N(max as u64),
            ];
            return Err(ActionError::Invalid(cat(&parts)));
        }
        let now = self.clock(now);
        if let Some(id) = self.queue.unsent(ActionKind::Context).map(str::to_owned) {
            let encoded = frame::encode(&ClientFrame::Context { id: id.clone(), context });
            self.check_size(&encoded)?;
            self.queue.replace_unsent(ActionKind::Context, encoded);
            return Ok(id);
        }
        self.enqueue(now, ActionKind::Context, |id| ClientFrame::Context { id, context }, None)
    }

    /// Stops the reply that is streaming (or, before it starts, the reply
    /// to this client's message in flight). Its late deltas are dropped;
    /// the server ends it with a `response` marked `cancelled`. `None` when
    /// there is nothing to stop.
    pub fn stop_reply(&mut self, now: u64) -> Result<Option<String>, ActionError> {
        self.check_alive()?;
        let Some(reply_to) = self.conversation.streaming.clone().or(self.queue.message_in_flight().map(str::to_owned))
        else {
            return Ok(None);
        };
        let frame = |id| ClientFrame::Cancel { id, reply_to: reply_to.clone() };
        let id = self.enqueue(now, ActionKind::Cancel, frame, None)?;
        // Only once the cancel is queued: a refused stop changes nothing.
        self.conversation.stopped = Some(reply_to);
        Ok(Some(id))
    }

    /// The shopper's rating of one reply, with an optional comment (at most
    /// 500 characters).
    pub fn feedback(
        &mut self,
        now: u64,
        message_id: &str,
        rating: Rating,
        comment: Option<&str>,
    ) -> Result<String, ActionError> {
        self.check_alive()?;
        if message_id.is_empty() {
            return Err(ActionError::Invalid("feedback needs the message_id of a reply".into()));
        }
        if comment.is_some_and(|c| c.chars().count() > MAX_FEEDBACK_COMMENT_CHARS) {
            let limit = MAX_FEEDBACK_COMMENT_CHARS as u64;
            return Err(ActionError::Invalid(cat(&[
                Part::T("a feedback comment has at most "),
                Part::N(limit),
                Part::T(" characters"),
            ])));
        }
        let message_id = message_id.to_owned();
        let comment = comment.filter(|c| !blank::is_blank(c)).map(str::to_owned);
        self.enqueue(now, ActionKind::Feedback, |id| ClientFrame::Feedback { id, message_id, rating, comment }, None)
    }

    /// Forgets the conversation: the next `auth` opens a new session. The
    /// cart empties (`cart_cleared` when it held items) and the history
    /// clears; actions not yet acknowledged go to the new session.
    pub fn reset(&mut self, now: u64) -> Result<(), ActionError> {
        self.check_alive()?;
        let now = self.clock(now);
        self.conversation.start_over();
        self.queue.forget_acked();
        self.clear_cart_locally();
        self.emit(Event::History(Vec::new()));
        if matches!(self.phase, Phase::Connecting(_) | Phase::Authenticating { .. } | Phase::Connected(_)) {
            self.drop_socket(Ending::Close(CloseReason::Reset));
            self.attempts = 0;
            self.start_attempt(now);
        }
        self.refresh_retry();
        Ok(())
    }

    // ----- checks and the queue -----------------------------------------------

    fn check_alive(&self) -> Result<(), ActionError> {
        match self.phase {
            Phase::Destroyed => Err(ActionError::Destroyed),
            _ => Ok(()),
        }
    }

    /// Refuses a frame over the outbound limit (`message_too_large`).
    fn check_size(&mut self, encoded: &str) -> Result<(), ActionError> {
        let max = self.config.limits.max_outbound_bytes;
        if encoded.len() <= max {
            return Ok(());
        }
        let detail = cat(&[
            Part::T("a frame of "),
            Part::N(encoded.len() as u64),
            Part::T(" bytes exceeds the limit of "),
            Part::N(max as u64),
        ]);
        Err(self.reject(ErrorCode::MessageTooLarge, detail))
    }

    /// Builds the action's frame with the id it will get, then queues it.
    fn enqueue(
        &mut self,
        now: u64,
        kind: ActionKind,
        build: impl FnOnce(String) -> ClientFrame,
        clicked: Option<ProductItem>,
    ) -> Result<String, ActionError> {
        let id = self.peek_id();
        let frame = build(id.clone());
        self.enqueue_frame(now, kind, id, &frame, clicked)
    }

    /// The one body behind every action (not generic: one copy in a
    /// WebAssembly module instead of one per action).
    fn enqueue_frame(
        &mut self,
        now: u64,
        kind: ActionKind,
        id: String,
        frame: &ClientFrame,
        clicked: Option<ProductItem>,
    ) -> Result<String, ActionError> {
        let now = self.clock(now);
        let capacity = self.config.limits.queue_capacity;
        if self.queue.unacked() >= capacity {
            let detail = cat(&[Part::N(capacity as u64), Part::T(" actions are already waiting")]);
            return Err(self.reject(ErrorCode::QueueFull, detail));
        }
        let encoded = frame::encode(frame);
        self.check_size(&encoded)?;
        self.next_action += 1;
        if let Some(product) = clicked {
            self.emit(Event::ProductClick(product));
        }
        self.queue.push(id.clone(), kind, encoded);
        self.flush(now, Order::Queued);
        self.refresh_retry();
        Ok(id)
    }

    pub(super) fn flush(&mut self, now: u64, order: Order) {
        if matches!(self.phase, Phase::Connected(_)) {
            for frame in self.queue.take_sendable(now, order) {
                self.send_text(frame);
            }
        }
    }

    fn reject(&mut self, code: ErrorCode, detail: String) -> ActionError {
        let error = self.error(code, Some(detail));
        self.emit(Event::Error(error.clone()));
        ActionError::Rejected(error)
    }

    fn check_quantity(&self, sku: &str, quantity: f64) -> Result<(), ActionError> {
        // Over the bound, the server refuses it after its ack; the app learns it at the call.
        if !(quantity.is_finite() && quantity > 0.0 && quantity <= MAX_QUANTITY) {
            return Err(ActionError::Invalid(QUANTITY_RANGE.into()));
        }
        if let Some(step) = self.conversation.step(sku) {
            let steps = quantity / step;
            // Nearest even on a tie: a half step is off by half a step either way
            // (and WebAssembly has this rounding as one instruction).
            if (steps - steps.round_ties_even()).abs() > STEP_EPSILON * steps.abs().max(1.0) {
                return Err(ActionError::Invalid(cat(&[
                    Part::T("the quantity of "),
                    Part::T(sku),
                    Part::T(" is not a whole multiple of its quantity_step"),
                ])));
            }
        }
        Ok(())
    }
}

fn check_sku(sku: &str) -> Result<(), ActionError> {
    if sku.is_empty() || sku.len() > MAX_SKU_BYTES {
        let limit = MAX_SKU_BYTES as u64;
        return Err(ActionError::Invalid(cat(&[Part::T("a sku has 1 to "), Part::N(limit), Part::T(" bytes")])));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantity_range_text_names_the_bound() {
        assert!(QUANTITY_RANGE.ends_with(&format!("at most {}", MAX_QUANTITY as u64)), "{QUANTITY_RANGE}");
    }
}
