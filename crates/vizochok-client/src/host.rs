//! The client's side of the driver: the transport for I/O, the app's
//! callbacks and event stream, and the session store.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast;
use vizochok_core::{Event, Host, SocketId};

use crate::{Callbacks, Reports, SessionStore, Transport};

pub(crate) struct ClientHost {
    /// Let go of at release: a callback that holds the client (an `Arc` of
    /// it) would otherwise keep both for ever. Locked only to read or take
    /// it, never across a call into the app.
    app: Mutex<Option<App>>,
    transport: Box<dyn Transport>,
    reports: Reports,
}

/// What reaches the app: its callbacks, its event streams, its session store.
struct App {
    callbacks: Arc<dyn Callbacks>,
    events: broadcast::Sender<Event>,
    store: Option<Arc<dyn SessionStore>>,
}

impl ClientHost {
    pub fn new(
        callbacks: Arc<dyn Callbacks>,
        events: broadcast::Sender<Event>,
        store: Option<Arc<dyn SessionStore>>,
        transport: Box<dyn Transport>,
        reports: Reports,
    ) -> ClientHost {
        ClientHost { app: Mutex::new(Some(App { callbacks, events, store })), transport, reports }
    }

    fn app(&self) -> MutexGuard<'_, Option<App>> {
        self.app.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn now(&self) -> u64 {
        self.transport.now()
    }

    /// A receiver of every event from now on; after release, one that has ended.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        match self.app().as_ref() {
            Some(app) => app.events.subscribe(),
            None => broadcast::channel(1).1,
        }
    }

    fn call(c: &dyn Callbacks, event: &Event) {
        match event {
            Event::Connect => c.on_connect(),
            Event::Disconnect => c.on_disconnect(),
            Event::CartChanged(cart) => c.on_cart_changed(cart),
            Event::ProductClick(product) => c.on_product_click(product),
            Event::SessionComplete(summary) => c.on_session_complete(summary),
            Event::Error(error) => c.on_error(error),
            _ => {}
        }
        c.on_event(event);
    }
}

impl Host for ClientHost {
    fn open_socket(&self, socket: SocketId, url: &str) {
        self.transport.open(socket, url, self.reports.clone());
    }

    fn send_text(&self, socket: SocketId, text: &str) {
        self.transport.send(socket, text);
    }

    fn close_socket(&self, socket: SocketId, code: u16, reason: &str) {
        self.transport.close(socket, code, reason);
    }

    fn set_timer(&self, deadline: Option<u64>) {
        self.transport.set_timer(deadline, self.reports.clone());
    }

    fn save_session(&self, session_id: Option<&str>) {
        let store = self.app().as_ref().and_then(|app| app.store.clone());
        // Called from a socket's task: a store that panics must not end
        // it. Logged without the panic's text, which may quote the id.
        let saved = store.map(|store| catch_unwind(AssertUnwindSafe(|| store.save(session_id))));
        if let Some(Err(_)) = saved {
            log::error!(target: "vizochok", "the session store panicked: the session id is not saved");
        }
    }

    fn deliver(&self, event: Event) -> Result<(), String> {
        let Some((callbacks, events)) = self.app().as_ref().map(|app| (app.callbacks.clone(), app.events.clone()))
        else {
            return Ok(());
        };
        let called = catch_unwind(AssertUnwindSafe(|| ClientHost::call(&*callbacks, &event)));
        // A stream nobody listens to is fine.
        let _ = events.send(event);
        called.map_err(|panic| {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned());
            ["a callback panicked: ", text.as_deref().unwrap_or("(no message)")].concat()
        })
    }

    fn report_error(&self, message: &str) {
        log::error!(target: "vizochok", "{message}");
    }

    fn released(&self) {
        // Dropped outside the lock: the app's `Drop`s may do anything.
        let app = self.app().take();
        drop(app);
    }
}
