//! The shared scenario suite (`docs/scenarios.md`) through the public
//! `Client`, with a scripted transport and the app's callbacks recording.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex, OnceLock, Weak};

use serde_json::{json, Value};
use vizochok_client::{Callbacks, Client, Reports, SessionStore, Transport};
use vizochok_core::{Event, SocketId};
use vizochok_testkit::{Call, Outcome, Reaction, Rig, Shared};

/// The recording the `log` crate's lines go to (one scenario at a time).
static CURRENT: Mutex<Option<Shared>> = Mutex::new(None);

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "vizochok"
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) && record.level() == log::Level::Error {
            if let Some(recording) = &*CURRENT.lock().unwrap() {
                recording.lock().unwrap().reported();
            }
        }
    }
    fn flush(&self) {}
}

/// The network and the clock, played by the recording.
struct Scripted {
    recording: Shared,
    socket: Arc<Mutex<Option<(SocketId, Reports)>>>,
    timer: Arc<Mutex<Option<Reports>>>,
}

impl Transport for Scripted {
    fn now(&self) -> u64 {
        self.recording.lock().unwrap().now
    }
    fn open(&self, socket: SocketId, _url: &str, reports: Reports) {
        *self.socket.lock().unwrap() = Some((socket, reports));
        self.recording.lock().unwrap().opened();
    }
    fn send(&self, _socket: SocketId, text: &str) {
        self.recording.lock().unwrap().sent(text);
    }
    fn close(&self, _socket: SocketId, code: u16, _reason: &str) {
        self.recording.lock().unwrap().closed(code);
    }
    fn set_timer(&self, deadline: Option<u64>, reports: Reports) {
        *self.timer.lock().unwrap() = Some(reports);
        self.recording.lock().unwrap().timer(deadline);
    }
}

/// The app's session store: the scenario's config already holds the saved id.
struct Store(Shared);

impl SessionStore for Store {
    fn load(&self) -> Option<String> {
        None
    }
    fn save(&self, session_id: Option<&str>) {
        self.0.lock().unwrap().saved(session_id);
    }
}

/// The app: records every event; throws or calls as the scenario says.
struct App {
    recording: Shared,
    client: Arc<OnceLock<Weak<ClientRig>>>,
}

impl Callbacks for App {
    fn on_event(&self, event: &Event) {
        let reaction = self.recording.lock().unwrap().event(vizochok_testkit::event(event));
        match reaction {
            Reaction::Carry => {}
            Reaction::Throw => panic!("the app's callback threw"),
            Reaction::Call(step) => {
                let rig = self.client.get().and_then(Weak::upgrade).expect("the rig is alive");
                vizochok_testkit::call_from_callback(&*rig, &self.recording, &step).unwrap();
            }
        }
    }
}

struct ClientRig {
    client: Client,
    socket: Arc<Mutex<Option<(SocketId, Reports)>>>,
    timer: Arc<Mutex<Option<Reports>>>,
}

impl ClientRig {
    fn new(scenario: &Value, recording: Shared) -> Arc<ClientRig> {
        *CURRENT.lock().unwrap() = Some(recording.clone());
        let socket = Arc::new(Mutex::new(None));
        let timer = Arc::new(Mutex::new(None));
        let transport = Scripted { recording: recording.clone(), socket: socket.clone(), timer: timer.clone() };
        let me = Arc::new(OnceLock::new());
        let store = Box::new(Store(recording.clone()));
        let app = App { recording, client: me.clone() };
        let mut config = vizochok_testkit::config(scenario);
        config.sdk = vizochok_client::config("k", "s", "ws://127.0.0.1/").sdk;
        let client = Client::with_transport(config, app, Some(store), transport).expect("valid config");
        let rig = Arc::new(ClientRig { client, socket, timer });
        me.set(Arc::downgrade(&rig)).ok();
        rig
    }

    fn with_socket(&self, f: impl FnOnce(SocketId, &Reports)) {
        let current = self.socket.lock().unwrap().clone();
        let (socket, reports) = current.expect("a socket was opened");
        f(socket, &reports);
    }
}

impl Rig for ClientRig {
    fn call(&self, call: &Call) -> Option<Outcome> {
        let c = &self.client;
        let id = |r: Result<String, _>| Some(r.map(Some));
        match call {
            Call::Connect => c.connect(),
            Call::Disconnect => c.disconnect(),
            Call::Destroy => c.close(),
            Call::NetworkOnline => c.network_online(),
            Call::SendMessage(text) => return id(c.send_message(text)),
            Call::SelectProduct(product, quantity) => return id(c.select_product(product, *quantity)),
            Call::UpdateQuantity(sku, quantity) => return id(c.update_quantity(sku, *quantity)),
            Call::RemoveItem(sku) => return id(c.remove_item(sku)),
            Call::ClearCart => return id(c.clear_cart()),
            Call::SetContext(context) => return id(c.set_context((**context).clone())),
            Call::Stop => return Some(c.stop()),
            Call::Feedback(message_id, rating, comment) => {
                return id(c.feedback(message_id, *rating, comment.as_deref()))
            }
            Call::Reset => return Some(c.reset().map(|()| None)),
        }
        None
    }
    fn socket_opened(&self) {
        self.with_socket(|s, r| r.opened(s));
    }
    fn text(&self, text: &str) {
        self.with_socket(|s, r| r.text(s, text));
    }
    fn binary(&self, len: usize) {
        self.with_socket(|s, r| r.binary(s, len));
    }
    fn ended(&self, code: Option<u16>, reason: &str) {
        self.with_socket(|s, r| r.ended(s, code, reason));
    }
    fn fire(&self) {
        let reports = self.timer.lock().unwrap().clone();
        reports.expect("a timer was set").timer_fired();
    }
    fn read(&self, what: &str) -> Value {
        let c = &self.client;
        match what {
            "pending_actions" => vizochok_testkit::pending(&c.pending_actions()),
            "state" => json!(c.state().as_str()),
            "session_id" => json!(c.session_id()),
            "cart" => serde_json::to_value(c.cart()).unwrap(),
            other => panic!("unknown read {other:?}"),
        }
    }
}

#[test]
fn every_scenario_file_replays_exactly_through_the_client() {
    log::set_logger(&Logger).unwrap();
    log::set_max_level(log::LevelFilter::Error);
    // The panics the scenarios ask for are expected; keep the output readable.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"the app's callback threw") {
            default(info);
        }
    }));
    vizochok_testkit::replay_all("rust client", ClientRig::new);
}
