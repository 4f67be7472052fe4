//! The client's side of the driver: the transport for I/O, the app's
//! callbacks and event stream, and the session store.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tokio::sync::broadcast;
use vizochok_core::{Event, Host, SocketId};

use crate::{Callbacks, Reports, SessionStore, Transport};

pub(crate) struct ClientHost {
    callbacks: Box<dyn Callbacks>,
    events: broadcast::Sender<Event>,
    store: Option<Box<dyn SessionStore>>,
    transport: Box<dyn Transport>,
    reports: Reports,
}

impl ClientHost {
    pub fn new(
        callbacks: Box<dyn Callbacks>,
        events: broadcast::Sender<Event>,
        store: Option<Box<dyn SessionStore>>,
        transport: Box<dyn Transport>,
        reports: Reports,
    ) -> ClientHost {
        ClientHost { callbacks, events, store, transport, reports }
    }

    pub fn now(&self) -> u64 {
        self.transport.now()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    fn call(&self, event: &Event) {
        let c = &self.callbacks;
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
        if let Some(store) = &self.store {
            store.save(session_id);
        }
    }

    fn deliver(&self, event: Event) -> Result<(), String> {
        let called = catch_unwind(AssertUnwindSafe(|| self.call(&event)));
        // A stream nobody listens to is fine.
        let _ = self.events.send(event);
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
}
