//! The run loop, written once for every runtime: it drives a [`Session`]
//! and carries out its outputs through a [`Host`].
//!
//! It owns what every host would otherwise write again: which socket a
//! frame goes to, the one timer (set when its deadline comes earlier or
//! goes, and after each time it fires), the
//! saved session id, the order of delivery and re-entrancy, the policy for
//! failing callbacks, and reads after destroy.
//!
//! Delivery: outputs go to the host one at a time, in order, never while
//! the driver's lock is held. A call made from inside a callback returns at
//! once; its outputs queue behind the ones already in hand. A call from
//! another thread while one thread delivers waits until that delivery
//! (which carries its outputs too) is over. So when any call returns, every
//! output it caused has been carried out, unless it was made from a callback.

mod host;

use std::sync::{Condvar, Mutex, MutexGuard};

pub use host::{Host, MAX_SOCKET_MESSAGE_BYTES};
use vizochok_proto::{Cart, Language, PageContext, ProductItem, Rating, Secret};

use crate::text::{cat, Part};
use crate::{ActionError, Config, ConfigError, Input, Output, PendingAction, Session, State};

/// Drives one [`Session`] for a runtime. See the module docs.
#[derive(Debug)]
pub struct Driver<H> {
    inner: Mutex<Inner>,
    idle: Condvar,
    host: H,
}

#[derive(Debug)]
struct Inner {
    session: Session,
    /// What the host must still be told, in order.
    queue: Vec<Step>,
    /// Who is delivering `queue` right now.
    delivering: Option<Caller>,
    /// The timer as the host last heard of it (never later than the session's deadline).
    armed: Option<u64>,
    /// The session id as the host last saved it.
    saved: Option<Secret>,
    /// Whether the host has heard [`Host::released`].
    released: bool,
    /// Text frames handed in so far: the number of the one being handled,
    /// which its frame events carry to the host.
    frames: u32,
}

/// One thing to tell the host.
#[derive(Debug)]
enum Step {
    /// An output, and the number of the text frame handed in last when it
    /// came (the frame a frame event is of).
    Output(Output, u32),
    Timer(Option<u64>),
    Save(Option<Secret>),
}

/// Who makes a call: a thread (a browser page has only one).
#[cfg(not(target_family = "wasm"))]
type Caller = std::thread::ThreadId;
#[cfg(target_family = "wasm")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Caller;

#[cfg(not(target_family = "wasm"))]
fn caller() -> Caller {
    std::thread::current().id()
}

#[cfg(target_family = "wasm")]
fn caller() -> Caller {
    Caller
}

impl<H: Host> Driver<H> {
    /// Checks the config and creates an idle driver; nothing happens until
    /// `Input::Connect`. `config.session_id` is the id the host saved.
    pub fn new(config: Config, host: H) -> Result<Driver<H>, ConfigError> {
        Ok(Driver::with_session(Session::new(config)?, host))
    }

    /// A driver around a session that was just created (a host that must
    /// exist before its driver, as one holding a handle back to it, checks
    /// the config with [`Session::new`] first).
    pub fn with_session(session: Session, host: H) -> Driver<H> {
        let saved = session.session_id().map(Secret::new);
        let inner =
            Inner { session, queue: Vec::new(), delivering: None, armed: None, saved, released: false, frames: 0 };
        Driver { inner: Mutex::new(inner), idle: Condvar::new(), host }
    }

    /// The host this driver talks to.
    pub fn host(&self) -> &H {
        &self.host
    }

    /// Hands an I/O event (or the timer) to the session, then carries out
    /// what follows.
    pub fn handle(&self, now: u64, input: Input<'_>) {
        self.run(|inner| {
            if input == Input::Timeout {
                // The host's timer is spent: whatever comes next is armed anew.
                inner.armed = None;
            }
            if let Input::Text(..) = input {
                inner.frames = inner.frames.wrapping_add(1);
            }
            inner.session.handle_input(now, input)
        })
    }

    /// Sends a chat message; its action id.
    pub fn send_message(&self, now: u64, text: &str) -> Result<String, ActionError> {
        self.run(|inner| inner.session.send_message(now, text))
    }

    /// "Add" on a product card: `onProductClick`, then `select_item`.
    pub fn select_product(
        &self,
        now: u64,
        product: &ProductItem,
        quantity: Option<f64>,
    ) -> Result<String, ActionError> {
        self.run(|inner| inner.session.select_product(now, product, quantity))
    }

    /// Sets the quantity of a cart line.
    pub fn update_quantity(&self, now: u64, sku: &str, quantity: f64) -> Result<String, ActionError> {
        self.run(|inner| inner.session.update_quantity(now, sku, quantity))
    }

    /// Removes a cart line.
    pub fn remove_item(&self, now: u64, sku: &str) -> Result<String, ActionError> {
        self.run(|inner| inner.session.remove_item(now, sku))
    }

    /// Empties the cart.
    pub fn clear_cart(&self, now: u64) -> Result<String, ActionError> {
        self.run(|inner| inner.session.clear_cart(now))
    }

    /// Tells the assistant what the shopper is looking at.
    pub fn set_context(&self, now: u64, context: PageContext) -> Result<String, ActionError> {
        self.run(|inner| inner.session.set_context(now, context))
    }

    /// Stops the reply that is streaming; `None` when nothing streams.
    pub fn stop_reply(&self, now: u64) -> Result<Option<String>, ActionError> {
        self.run(|inner| inner.session.stop_reply(now))
    }

    /// Rates a reply.
    pub fn feedback(
        &self,
        now: u64,
        message_id: &str,
        rating: Rating,
        comment: Option<&str>,
    ) -> Result<String, ActionError> {
        self.run(|inner| inner.session.feedback(now, message_id, rating, comment))
    }

    /// Starts a new conversation.
    pub fn reset(&self, now: u64) -> Result<(), ActionError> {
        self.run(|inner| inner.session.reset(now))
    }

    /// Changes the language of error texts from now on.
    pub fn set_language(&self, language: Language) {
        self.lock().session.set_language(language);
    }

    /// Reads the session (state, cart, ...). After destroy it reads the
    /// session as it was then.
    pub fn read<T>(&self, read: impl FnOnce(&Session) -> T) -> T {
        read(&self.lock().session)
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.read(Session::state)
    }

    /// The cart as last confirmed by the server.
    pub fn cart(&self) -> Cart {
        self.read(|s| s.cart().clone())
    }

    /// The conversation's session id.
    pub fn session_id(&self) -> Option<String> {
        self.read(|s| s.session_id().map(str::to_owned))
    }

    /// Accepted actions that have not ended.
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        self.read(Session::pending_actions)
    }

    /// The language of texts.
    pub fn language(&self) -> Language {
        self.read(Session::language)
    }

    // ----- the loop ---------------------------------------------------------

    // Not inlined, here and in `finish`: every call of the driver goes
    // through them, and one copy keeps a WebAssembly build small.
    #[inline(never)]
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a host call panicked between two steps;
        // the session itself is never left half-updated by one.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `op` under the lock, queues what it caused, then delivers.
    fn run<T>(&self, op: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.lock();
        let result = op(&mut inner);
        self.finish(inner);
        result
    }

    /// Queues what a call caused, releases the lock, then delivers.
    #[inline(never)]
    fn finish(&self, mut inner: MutexGuard<'_, Inner>) {
        inner.collect();
        drop(inner);
        self.deliver();
    }

    fn deliver(&self) {
        let me = caller();
        {
            let mut inner = self.lock();
            loop {
                match inner.delivering {
                    // Called from a callback: the delivery in progress takes these too.
                    Some(who) if who == me => return,
                    Some(_) => inner = self.idle.wait(inner).unwrap_or_else(|poisoned| poisoned.into_inner()),
                    None => break,
                }
            }
            if inner.queue.is_empty() {
                return;
            }
            inner.delivering = Some(me);
        }
        let _release = Release(self);
        loop {
            let step = {
                let mut inner = self.lock();
                if inner.queue.is_empty() {
                    let release = inner.session.state() == State::Destroyed && !inner.released;
                    inner.released |= release;
                    drop(inner);
                    if release {
                        self.host.released();
                    }
                    return;
                }
                inner.queue.remove(0)
            };
            self.perform(step);
        }
    }

    fn perform(&self, step: Step) {
        let host = &self.host;
        match step {
            Step::Output(Output::Open { socket, url }, _) => host.open_socket(socket, &url),
            Step::Output(Output::Send { socket, text }, _) => host.send_text(socket, &text),
            Step::Output(Output::Close { socket, code, reason }, _) => host.close_socket(socket, code, &reason),
            Step::Output(Output::Event(event), _) => self.delivered(host.deliver(event)),
            Step::Output(Output::FrameEvent(event), frame) => self.delivered(host.deliver_from_frame(event, frame)),
            Step::Timer(deadline) => host.set_timer(deadline),
            Step::Save(session_id) => host.save_session(session_id.as_ref().map(Secret::expose)),
        }
    }
}

impl<H: Host> Driver<H> {
    /// The policy for a failing callback: report it, carry on.
    fn delivered(&self, result: Result<(), String>) {
        if let Err(failure) = result {
            let text = cat(&[Part::T("an app callback failed and the client carried on: "), Part::T(&failure)]);
            let text = self.lock().session.redact(&text);
            self.host.report_error(&text);
        }
    }
}

impl Inner {
    /// Moves the session's outputs into the queue, then the timer and the
    /// saved id when they changed.
    fn collect(&mut self) {
        while let Some(output) = self.session.poll_output() {
            self.queue.push(Step::Output(output, self.frames));
        }
        // A deadline that moved later keeps the armed timer: it fires early,
        // changes nothing, and is armed again then. Most frames push the
        // heartbeat on, so this spares the host a timer per frame.
        let deadline = self.session.poll_timeout();
        let earlier = match (deadline, self.armed) {
            (Some(new), Some(armed)) => new < armed,
            (new, armed) => new.is_some() != armed.is_some(),
        };
        if earlier {
            self.armed = deadline;
            self.queue.push(Step::Timer(deadline));
        }
        let id = self.session.session_id();
        if id != self.saved.as_ref().map(Secret::expose) && self.session.state() != State::Destroyed {
            self.saved = id.map(Secret::new);
            self.queue.push(Step::Save(self.saved.clone()));
        }
    }
}

/// Ends a delivery, even when a host call unwinds.
struct Release<'a, H>(&'a Driver<H>);

impl<H> Drop for Release<'_, H> {
    fn drop(&mut self) {
        let mut inner = self.0.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.delivering = None;
        drop(inner);
        self.0.idle.notify_all();
    }
}
