//! What the client knows of the conversation: which session, how far it
//! has applied the server's frames, the cart, the quantity steps of the
//! products it has seen, and the reply that is streaming.

use vizochok_proto::{Cart, ProductItem, Secret};

#[derive(Debug, Default)]
pub(crate) struct Conversation {
    /// The current (or to-be-resumed) session id.
    pub session_id: Option<Secret>,
    /// The app reset the conversation, and no server has named the new
    /// session yet: `auth` asks for a new one (a signed-in shopper would
    /// otherwise join their latest session, the one just left).
    pub starting_over: bool,
    /// The last server `seq` applied.
    pub last_seq: u64,
    /// The cart as the server last confirmed it.
    pub cart: Cart,
    /// `quantity_step` by SKU, learned from product cards (bounded), sorted
    /// by SKU for a binary search (a map type costs the browser build more).
    steps: Vec<(String, f64)>,
    /// The message whose reply is streaming (a `typing` or `delta` came, no `response` yet).
    pub streaming: Option<String>,
    /// The message whose reply the shopper stopped: its late deltas are dropped.
    pub stopped: Option<String>,
    /// The `message_id`s of the replies in the last history the server
    /// sent: a reply sent `again` is on screen only if it is one of them
    /// (bounded by the frame limit).
    pub restored: Vec<String>,
}

impl Conversation {
    pub fn new(session_id: Option<Secret>) -> Conversation {
        Conversation { session_id, ..Conversation::default() }
    }

    /// Applies a `seq` frame's number: false when it is a duplicate or late
    /// (at or below the last applied), which must never roll state back.
    pub fn advance(&mut self, seq: u64) -> bool {
        if seq <= self.last_seq {
            return false;
        }
        self.last_seq = seq;
        true
    }

    /// Remembers the steps of `products`, at most `max` SKUs: past that the
    /// table starts over (bounded memory; steps come back with the next cards).
    pub fn learn_steps<'a>(&mut self, products: impl IntoIterator<Item = &'a ProductItem>, max: usize) {
        for p in products {
            self.learn_step(p, max);
        }
    }

    fn learn_step(&mut self, p: &ProductItem, max: usize) {
        if !(p.quantity_step.is_finite() && p.quantity_step > 0.0) {
            return;
        }
        match self.find(&p.sku) {
            Ok(i) => self.steps[i].1 = p.quantity_step,
            Err(i) => {
                let i = if self.steps.len() >= max {
                    self.steps.clear();
                    0
                } else {
                    i
                };
                self.steps.insert(i, (p.sku.clone(), p.quantity_step));
            }
        }
    }

    pub fn step(&self, sku: &str) -> Option<f64> {
        self.find(sku).ok().map(|i| self.steps[i].1)
    }

    fn find(&self, sku: &str) -> Result<usize, usize> {
        self.steps.binary_search_by(|(known, _)| known.as_str().cmp(sku))
    }

    /// The reply to `reply_to` ended (a `response` or an `error` came).
    pub fn reply_ended(&mut self, reply_to: &str) {
        if self.streaming.as_deref() == Some(reply_to) {
            self.streaming = None;
        }
        if self.stopped.as_deref() == Some(reply_to) {
            self.stopped = None;
        }
    }

    /// The app reset the conversation: a new session from the next `auth` on.
    pub fn start_over(&mut self) {
        self.restart();
        self.starting_over = true;
    }

    /// The server named the session in use.
    pub fn joined(&mut self, session_id: String) {
        self.session_id = Some(Secret::new(session_id));
        self.starting_over = false;
    }

    /// The server forgot the session, or the app reset it: start over.
    pub fn restart(&mut self) {
        self.session_id = None;
        self.last_seq = 0;
        self.streaming = None;
        self.stopped = None;
        // Another session's reply ids: one of the new session's could match.
        self.restored.clear();
    }
}
