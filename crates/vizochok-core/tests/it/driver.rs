//! The driver's delivery rules: order, re-entrancy, failing callbacks, the
//! timer, the saved session id, threads, and reads after destroy.

use std::sync::{Arc, Mutex};

use serde_json::json;
use vizochok_core::{ActionError, Config, Driver, Event, Host, Input, SocketId, State};

use crate::support::{config, KEY};

/// What the app does in one callback.
type Reaction = Box<dyn Fn(&Driver<Recorder>, &Event) -> Result<(), String> + Send + Sync>;
/// What a transport does, once, when it is asked to send a frame.
type Answer = Box<dyn FnOnce(&Driver<Recorder>, &str) + Send>;

/// A host that writes down everything it is asked, in order.
#[derive(Default)]
struct Recorder {
    log: Mutex<Vec<String>>,
    reaction: Mutex<Option<Reaction>>,
    answer: Mutex<Option<Answer>>,
    driver: Mutex<Option<std::sync::Weak<Driver<Recorder>>>>,
}

impl Recorder {
    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }
}

impl Host for Recorder {
    fn open_socket(&self, socket: SocketId, _url: &str) {
        self.note(format!("open {}", socket.0));
    }
    fn send_text(&self, socket: SocketId, text: &str) {
        let frame: serde_json::Value = serde_json::from_str(text).unwrap();
        self.note(format!("send {} {}", socket.0, frame["type"].as_str().unwrap()));
        let answer = self.answer.lock().unwrap().take();
        let driver = self.driver.lock().unwrap().as_ref().and_then(|d| d.upgrade());
        if let (Some(answer), Some(driver)) = (answer, driver) {
            answer(&driver, text);
        }
    }
    fn close_socket(&self, socket: SocketId, code: u16, reason: &str) {
        self.note(format!("close {} {code} {reason}", socket.0));
    }
    fn set_timer(&self, deadline: Option<u64>) {
        self.note(format!("timer {deadline:?}"));
    }
    fn save_session(&self, session_id: Option<&str>) {
        self.note(format!("save {session_id:?}"));
    }
    fn deliver(&self, event: Event) -> Result<(), String> {
        self.note(format!("event {}", name(&event)));
        let driver = self.driver.lock().unwrap().as_ref().and_then(|d| d.upgrade());
        match (&*self.reaction.lock().unwrap(), driver) {
            (Some(react), Some(driver)) => react(&driver, &event),
            _ => Ok(()),
        }
    }
    fn deliver_from_frame(&self, event: Event, frame: u32) -> Result<(), String> {
        self.note(format!("frame {frame} {}", name(&event)));
        self.deliver(event)
    }
    fn report_error(&self, message: &str) {
        self.note(format!("report {message}"));
    }
    fn released(&self) {
        self.note("released".into());
    }
}

fn name(event: &Event) -> String {
    match event {
        Event::StateChanged(state) => format!("state:{}", state.as_str()),
        Event::Connect => "connect".into(),
        Event::Disconnect => "disconnect".into(),
        Event::Error(e) => format!("error:{}", e.code),
        Event::Acknowledged { .. } => "ack".into(),
        Event::CartChanged(_) => "cart_changed".into(),
        other => format!("{other:?}").split([' ', '(', '{']).next().unwrap_or_default().to_lowercase(),
    }
}

fn driver_with(config: Config) -> Arc<Driver<Recorder>> {
    let driver = Arc::new(Driver::new(config, Recorder::default()).unwrap());
    *driver.host().driver.lock().unwrap() = Some(Arc::downgrade(&driver));
    driver
}

fn react(
    driver: &Driver<Recorder>,
    reaction: impl Fn(&Driver<Recorder>, &Event) -> Result<(), String> + Send + Sync + 'static,
) {
    *driver.host().reaction.lock().unwrap() = Some(Box::new(reaction));
}

fn take(driver: &Driver<Recorder>) -> Vec<String> {
    std::mem::take(&mut *driver.host().log.lock().unwrap())
}

fn auth_ok(session: &str) -> String {
    json!({"type":"auth_ok","session_id":session,"restored":false,"replay":false}).to_string()
}

/// Connect, open, auth_ok at t = 10; the log is cleared.
fn connected() -> Arc<Driver<Recorder>> {
    let d = driver_with(config());
    d.handle(0, Input::Connect);
    d.handle(5, Input::SocketOpened(SocketId(1)));
    d.handle(10, Input::Text(SocketId(1), &auth_ok("s1")));
    take(&d);
    d
}

#[test]
fn outputs_reach_the_host_in_order_with_the_socket_each_frame_goes_to() {
    let d = driver_with(config());
    d.handle(0, Input::Connect);
    d.handle(5, Input::SocketOpened(SocketId(1)));
    d.handle(10, Input::Text(SocketId(1), &auth_ok("s1")));
    assert_eq!(
        take(&d),
        [
            "event state:connecting",
            "open 1",
            "timer Some(10000)",
            "event state:authenticating",
            "send 1 auth",
            "event state:connected",
            "event connect",
            "save Some(\"s1\")",
        ]
    );
}

#[test]
fn a_call_from_a_callback_queues_behind_the_outputs_in_hand() {
    let d = driver_with(config());
    d.send_message(0, "queued before connect").unwrap();
    react(&d, |driver, event| {
        if *event == Event::Connect {
            driver.clear_cart(10).map(drop).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    d.handle(0, Input::Connect);
    d.handle(5, Input::SocketOpened(SocketId(1)));
    take(&d);
    d.handle(10, Input::Text(SocketId(1), &auth_ok("s1")));
    let log = take(&d);
    let connect = log.iter().position(|l| l == "event connect").unwrap();
    let message = log.iter().position(|l| l == "send 1 message").unwrap();
    let clear = log.iter().position(|l| l == "send 1 clear_cart").unwrap();
    assert!(connect < message && message < clear, "the flush in hand goes first: {log:?}");
}

#[test]
fn a_frame_handed_in_from_inside_a_host_call_is_named_to_the_host_for_its_own_events() {
    let d = connected();
    let cart = |seq: u64, total: u64| {
        let item = json!({"sku":"milk-1","name":"Milk","price":1,"promo_price":null,"brand":null,"quantity":total});
        json!({"type":"cart_changed","seq":seq,"action":"quantity_updated","items":[item],"total":total}).to_string()
    };
    // A transport that answers at once, from inside `send`: both frames are
    // handed in before the first one's event is delivered.
    *d.host().answer.lock().unwrap() = Some(Box::new(move |driver: &Driver<Recorder>, _: &str| {
        driver.handle(20, Input::Text(SocketId(1), &cart(1, 2)));
        driver.handle(20, Input::Text(SocketId(1), &cart(2, 3)));
    }));
    d.update_quantity(20, "milk-1", 2.0).unwrap();
    let frames: Vec<String> = take(&d).into_iter().filter(|l| l.starts_with("frame")).collect();
    // auth_ok was the first frame handed in.
    assert_eq!(frames, ["frame 2 cart_changed", "frame 3 cart_changed"]);
    assert_eq!(d.cart().total, 3.0);
}

#[test]
fn an_action_s_callbacks_have_run_when_it_returns() {
    let d = connected();
    let product = vizochok_core::ProductItem {
        sku: "milk".into(),
        name: "Milk".into(),
        price: 1.0,
        unit: "pcs".into(),
        quantity_step: 1.0,
        quantity: None,
        brand: None,
        image_url: None,
        promo_price: None,
    };
    d.select_product(20, &product, None).unwrap();
    assert_eq!(take(&d), ["event productclick", "send 1 select_item"]);
}

#[test]
fn a_failing_callback_is_reported_without_secrets_and_delivery_goes_on() {
    let d = driver_with(config());
    react(&d, |_, event| match event {
        Event::StateChanged(State::Connecting) => Err(format!("TypeError: cannot read {KEY}")),
        _ => Ok(()),
    });
    d.handle(0, Input::Connect);
    let log = take(&d);
    assert_eq!(log[0], "event state:connecting");
    assert!(log[1].starts_with("report an app callback failed"), "{log:?}");
    assert!(!log[1].contains(KEY) && log[1].contains("[redacted]"), "{}", log[1]);
    assert_eq!(log[2..], ["open 1", "timer Some(10000)"]);
}

#[test]
fn the_timer_is_set_when_its_deadline_comes_earlier_and_again_after_it_fires() {
    let d = driver_with(config());
    d.handle(0, Input::Connect);
    assert!(take(&d).contains(&"timer Some(10000)".to_string()), "the open timeout");
    d.handle(5, Input::SocketOpened(SocketId(1)));
    d.handle(10, Input::Text(SocketId(1), &auth_ok("s1")));
    assert!(!take(&d).iter().any(|l| l.starts_with("timer")), "later deadlines wait for the armed timer");
    // The armed timer fires early: nothing is due, the real deadline is armed.
    d.handle(10_000, Input::Timeout);
    assert_eq!(take(&d), ["timer Some(25010)"]);
    d.handle(10_020, Input::Text(SocketId(1), r#"{"type":"ping"}"#));
    assert_eq!(take(&d), ["send 1 pong"], "the heartbeat moved later: no new timer");
    let id = d.clear_cart(10_030).unwrap();
    take(&d);
    let busy = json!({"type":"error","seq":1,"code":"agent_busy","reply_to":id,"retry_after_ms":500}).to_string();
    d.handle(10_040, Input::Text(SocketId(1), &busy));
    assert_eq!(take(&d), ["timer Some(10540)"], "an earlier deadline is armed at once");
    d.handle(10_540, Input::Timeout);
    assert_eq!(take(&d), ["send 1 clear_cart", "timer Some(35040)"]);
    d.handle(10_600, Input::Destroy);
    assert!(take(&d).contains(&"timer None".to_string()), "destroy cancels the timer");
}

#[test]
fn the_session_id_is_saved_when_it_changes_and_forgotten_on_reset() {
    let mut config = config();
    config.session_id = Some(vizochok_core::Secret::new("s1"));
    let d = driver_with(config);
    d.handle(0, Input::Connect);
    d.handle(5, Input::SocketOpened(SocketId(1)));
    d.handle(10, Input::Text(SocketId(1), &auth_ok("s1")));
    assert!(!take(&d).iter().any(|l| l.starts_with("save")), "the saved id did not change");
    d.reset(20).unwrap();
    assert!(take(&d).contains(&"save None".to_string()));
}

#[test]
fn an_abandoned_attempt_is_closed() {
    let d = driver_with(config());
    d.handle(0, Input::Connect);
    take(&d);
    d.handle(10_000, Input::Timeout);
    let log = take(&d);
    assert_eq!(log[..2], ["event error:ws_error", "close 1 1000 open timeout"], "{log:?}");
}

#[test]
fn the_host_hears_released_once_after_the_last_step_of_a_destroy() {
    let d = connected();
    d.handle(20, Input::Destroy);
    let log = take(&d);
    assert_eq!(log.last().map(String::as_str), Some("released"), "{log:?}");
    assert!(log.iter().any(|l| l.starts_with("close 1 1000")), "{log:?}");
    d.handle(21, Input::Destroy);
    d.handle(22, Input::Connect);
    assert!(take(&d).is_empty());
}

#[test]
fn a_destroy_from_inside_a_callback_is_released_after_its_close() {
    // A host that lets go at `released` must still be there for the close.
    let d = connected();
    react(&d, |d, event| {
        if matches!(event, Event::CartChanged(_)) {
            d.handle(30, Input::Destroy);
        }
        Ok(())
    });
    let cart = json!({"type":"cart_changed","seq":1,"action":"cart_cleared","items":[],"total":0}).to_string();
    d.handle(30, Input::Text(SocketId(1), &cart));
    let log = take(&d);
    let at = |line: &str| log.iter().position(|l| l.starts_with(line)).unwrap_or_else(|| panic!("{line}: {log:?}"));
    assert!(at("event cart_changed") < at("close 1 1000") && at("close 1 1000") < at("released"), "{log:?}");
    assert_eq!(log.iter().filter(|l| *l == "released").count(), 1);
    assert_eq!(log.last().map(String::as_str), Some("released"), "{log:?}");
}

#[test]
fn after_destroy_reads_show_the_last_state_and_actions_are_refused() {
    let d = driver_with(config());
    let id = d.send_message(0, "never sent").unwrap();
    d.handle(1, Input::Destroy);
    assert_eq!(d.state(), State::Destroyed);
    assert_eq!(d.pending_actions().iter().map(|a| a.id.clone()).collect::<Vec<_>>(), [id]);
    assert_eq!(d.send_message(2, "late"), Err(ActionError::Destroyed));
    d.handle(3, Input::Connect);
    assert_eq!(d.state(), State::Destroyed);
}

#[test]
fn a_call_from_another_thread_returns_after_its_outputs_were_delivered() {
    let d = connected();
    let (entered, in_callback) = std::sync::mpsc::channel();
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let wait = Mutex::new(wait);
    react(&d, move |_, event| {
        if matches!(event, Event::Acknowledged { .. }) {
            entered.send(()).unwrap();
            wait.lock().unwrap().recv().unwrap();
        }
        Ok(())
    });
    let id = d.clear_cart(20).unwrap();
    take(&d);
    let delivering = {
        let d = d.clone();
        std::thread::spawn(move || d.handle(30, Input::Text(SocketId(1), &json!({"type":"ack","id":id}).to_string())))
    };
    in_callback.recv().unwrap();
    let other = {
        let d = d.clone();
        std::thread::spawn(move || {
            d.remove_item(40, "milk").unwrap();
            // Whichever thread carried it out, the frame is out when the call returns.
            assert!(d.host().log.lock().unwrap().contains(&"send 1 remove_item".to_string()));
        })
    };
    release.send(()).unwrap();
    delivering.join().unwrap();
    other.join().unwrap();
    assert_eq!(take(&d), ["event ack", "send 1 remove_item"]);
}

/// A host that does nothing, to look at the driver's own state.
#[derive(Debug)]
struct Quiet;

impl Host for Quiet {
    fn open_socket(&self, _: SocketId, _: &str) {}
    fn send_text(&self, _: SocketId, _: &str) {}
    fn close_socket(&self, _: SocketId, _: u16, _: &str) {}
    fn set_timer(&self, _: Option<u64>) {}
    fn save_session(&self, _: Option<&str>) {}
    fn deliver(&self, _: Event) -> Result<(), String> {
        Ok(())
    }
    fn report_error(&self, _: &str) {}
}

#[test]
fn the_driver_s_debug_form_shows_neither_the_key_nor_the_session_id() {
    let driver = Driver::new(config(), Quiet).unwrap();
    driver.handle(0, Input::Connect);
    driver.handle(1, Input::SocketOpened(SocketId(1)));
    let ok = r#"{"type":"auth_ok","session_id":"sess_canary_joined","restored":false,"replay":false}"#;
    driver.handle(2, Input::Text(SocketId(1), ok));
    assert_eq!(driver.session_id().as_deref(), Some("sess_canary_joined"));
    let shown = format!("{driver:?}");
    assert!(!shown.contains("sess_canary") && !shown.contains(KEY), "{shown}");
}
