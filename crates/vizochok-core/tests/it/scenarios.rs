//! The reference run of the shared scenario suite (`docs/scenarios.md`):
//! every file through the driver, with a scripted host.

use std::sync::{Arc, Mutex, Weak};

use serde_json::{json, Value};
use vizochok_core::{Driver, Event, Host, Input, SocketId};
use vizochok_testkit::{Call, Outcome, Reaction, Rig, Shared};

/// The driver with a host that writes into the recording.
#[derive(Clone)]
struct DriverRig {
    driver: Arc<Driver<ScriptHost>>,
    recording: Shared,
}

struct ScriptHost {
    recording: Shared,
    socket: Mutex<SocketId>,
    driver: Mutex<Weak<Driver<ScriptHost>>>,
}

impl Host for ScriptHost {
    fn open_socket(&self, socket: SocketId, _url: &str) {
        *self.socket.lock().unwrap() = socket;
        self.recording.lock().unwrap().opened();
    }
    fn send_text(&self, _socket: SocketId, text: &str) {
        self.recording.lock().unwrap().sent(text);
    }
    fn close_socket(&self, _socket: SocketId, code: u16, _reason: &str) {
        self.recording.lock().unwrap().closed(code);
    }
    fn set_timer(&self, deadline: Option<u64>) {
        self.recording.lock().unwrap().timer(deadline);
    }
    fn save_session(&self, session_id: Option<&str>) {
        self.recording.lock().unwrap().saved(session_id);
    }
    fn deliver(&self, event: Event) -> Result<(), String> {
        let reaction = self.recording.lock().unwrap().event(vizochok_testkit::event(&event));
        match reaction {
            Reaction::Carry => Ok(()),
            Reaction::Throw => Err("the app's callback threw".into()),
            Reaction::Call(step) => {
                let driver = self.driver.lock().unwrap().upgrade().expect("the driver outlives its host");
                let rig = DriverRig { driver, recording: self.recording.clone() };
                vizochok_testkit::call_from_callback(&rig, &self.recording, &step)
            }
        }
    }
    fn report_error(&self, _message: &str) {
        self.recording.lock().unwrap().reported();
    }
}

impl DriverRig {
    fn new(scenario: &Value, recording: Shared) -> DriverRig {
        let host =
            ScriptHost { recording: recording.clone(), socket: Mutex::new(SocketId(0)), driver: Mutex::default() };
        let driver = Arc::new(Driver::new(vizochok_testkit::config(scenario), host).expect("valid config"));
        *driver.host().driver.lock().unwrap() = Arc::downgrade(&driver);
        DriverRig { driver, recording }
    }

    fn now(&self) -> u64 {
        self.recording.lock().unwrap().now
    }

    fn input(&self, input: Input<'_>) {
        self.driver.handle(self.now(), input);
    }

    fn socket(&self) -> SocketId {
        *self.driver.host().socket.lock().unwrap()
    }
}

impl Rig for DriverRig {
    fn call(&self, call: &Call) -> Option<Outcome> {
        let (d, now) = (&self.driver, self.now());
        let id = |r: Result<String, _>| Some(r.map(Some));
        match call {
            Call::Connect => d.handle(now, Input::Connect),
            Call::Disconnect => d.handle(now, Input::Disconnect),
            Call::Destroy => d.handle(now, Input::Destroy),
            Call::NetworkOnline => d.handle(now, Input::NetworkOnline),
            Call::SendMessage(text) => return id(d.send_message(now, text)),
            Call::SelectProduct(product, quantity) => return id(d.select_product(now, product, *quantity)),
            Call::UpdateQuantity(sku, quantity) => return id(d.update_quantity(now, sku, *quantity)),
            Call::RemoveItem(sku) => return id(d.remove_item(now, sku)),
            Call::ClearCart => return id(d.clear_cart(now)),
            Call::SetContext(context) => return id(d.set_context(now, (**context).clone())),
            Call::Stop => return Some(d.stop_reply(now)),
            Call::Feedback(message_id, rating, comment) => {
                return id(d.feedback(now, message_id, *rating, comment.as_deref()))
            }
            Call::Reset => return Some(d.reset(now).map(|()| None)),
        }
        None
    }

    fn socket_opened(&self) {
        self.input(Input::SocketOpened(self.socket()));
    }

    fn text(&self, text: &str) {
        self.input(Input::Text(self.socket(), text));
    }

    fn binary(&self, len: usize) {
        self.input(Input::Binary(self.socket(), len));
    }

    fn ended(&self, code: Option<u16>, reason: &str) {
        self.input(Input::SocketEnded { socket: self.socket(), code, reason });
    }

    fn fire(&self) {
        self.input(Input::Timeout);
    }

    fn read(&self, what: &str) -> Value {
        let d = &self.driver;
        match what {
            "pending_actions" => vizochok_testkit::pending(&d.pending_actions()),
            "state" => json!(d.state().as_str()),
            "session_id" => json!(d.session_id()),
            "cart" => serde_json::to_value(d.cart()).unwrap(),
            other => panic!("unknown read {other:?}"),
        }
    }
}

#[test]
fn every_scenario_file_replays_exactly_through_the_driver() {
    vizochok_testkit::replay_all("driver", DriverRig::new);
}
