//! The reference runner of the shared scenario suite (`scenarios/*.json`,
//! format in `docs/scenarios.md`). Every binding replays the same files
//! through its own public API and must produce the same normalized outputs.
//!
//! `SCENARIO=name` runs only files whose name contains `name`;
//! `SCENARIO_PRINT=1` prints the actual outputs of every step (for authoring:
//! the expected outputs still come from the contract, not from this print).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use vizochok_core::{
    ActionError, Config, Event, Input, Language, Output, ProductItem, Reply, Session, SocketId, WidgetError,
};

const API_KEY: &str = "pk_scenario";
const STORE_ID: &str = "scenario-store";
const URL: &str = "ws://127.0.0.1:8787/v1/ws";
/// A deadline loop that fires this many timeouts in one `advance` is stuck.
const MAX_TIMEOUTS_PER_ADVANCE: usize = 10_000;

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

/// One scenario being replayed.
struct Runner {
    session: Session,
    now: u64,
    socket: SocketId,
    /// `as` name → real id, and back.
    names: HashMap<String, String>,
    ids: HashMap<String, String>,
}

impl Runner {
    fn new(config: &Value) -> Runner {
        let seed = config.get("seed").and_then(Value::as_u64).unwrap_or(1);
        let mut c = Config::new(API_KEY, STORE_ID, URL, seed);
        if let Some(lang) = config.get("language").and_then(Value::as_str) {
            c.language = Language::from_tag(lang);
        }
        c.session_id = config.get("session_id").and_then(Value::as_str).map(str::to_owned);
        c.user_id = config.get("user_id").and_then(Value::as_str).map(str::to_owned);
        let session = Session::new(c).expect("the fixed scenario config is valid");
        Runner { session, now: 0, socket: SocketId(0), names: HashMap::new(), ids: HashMap::new() }
    }

    /// Runs one step and returns its normalized outputs.
    fn step(&mut self, step: &Value) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        if let Some(frame) = step.get("recv") {
            let text = self.substitute_in(frame).to_string();
            self.session.handle_input(self.now, Input::Text(self.socket, &text));
        } else if let Some(text) = step.get("recv_text") {
            let text = text.as_str().ok_or("recv_text must be a string")?;
            self.session.handle_input(self.now, Input::Text(self.socket, text));
        } else if let Some(ms) = step.get("advance") {
            let ms = ms.as_u64().ok_or("advance must be a whole number of ms")?;
            let target = self.now + ms;
            let mut fired = 0;
            while let Some(deadline) = self.session.poll_timeout().filter(|&t| t <= target) {
                self.now = self.now.max(deadline);
                self.session.handle_input(self.now, Input::Timeout);
                self.drain(&mut out);
                fired += 1;
                if fired > MAX_TIMEOUTS_PER_ADVANCE {
                    return Err(format!("poll_timeout stuck at {deadline} (now {})", self.now));
                }
            }
            self.now = target;
        } else if let Some(action) = step.get("do").and_then(Value::as_str) {
            self.act(action, step, &mut out)?;
        } else {
            return Err(format!("unknown step {step}"));
        }
        self.drain(&mut out);
        Ok(out)
    }

    fn act(&mut self, action: &str, step: &Value, out: &mut Vec<Value>) -> Result<(), String> {
        let now = self.now;
        let s = &mut self.session;
        let str_field = |name: &str| step.get(name).and_then(Value::as_str).ok_or(format!("{action} needs {name}"));
        let result: Option<Result<String, ActionError>> = match action {
            "connect" => input(s, now, Input::Connect),
            "socket_opened" => input(s, now, Input::SocketOpened(self.socket)),
            "binary" => {
                let len = step.get("len").and_then(Value::as_u64).ok_or("binary needs len")? as usize;
                input(s, now, Input::Binary(self.socket, len))
            }
            "socket_closed" => {
                let code = step.get("code").and_then(Value::as_u64).map(|c| c as u16);
                input(s, now, Input::SocketEnded { socket: self.socket, code, reason: "" })
            }
            "socket_error" => input(s, now, Input::SocketEnded { socket: self.socket, code: None, reason: "refused" }),
            "network_online" => input(s, now, Input::NetworkOnline),
            "disconnect" => input(s, now, Input::Disconnect),
            "destroy" => input(s, now, Input::Destroy),
            "send_message" => Some(s.send_message(now, str_field("text")?)),
            "select_product" => {
                let product: ProductItem = serde_json::from_value(step.get("product").cloned().unwrap_or_default())
                    .map_err(|e| format!("select_product: bad product: {e}"))?;
                let quantity = step.get("quantity").and_then(Value::as_f64);
                Some(s.select_product(now, &product, quantity))
            }
            "update_quantity" => {
                let quantity = step.get("quantity").and_then(Value::as_f64).ok_or("update_quantity needs quantity")?;
                Some(s.update_quantity(now, str_field("sku")?, quantity))
            }
            "remove_item" => Some(s.remove_item(now, str_field("sku")?)),
            "clear_cart" => Some(s.clear_cart(now)),
            "reset" => Some(s.reset(now).map(|()| String::new())),
            other => return Err(format!("unknown action {other:?}")),
        };
        match result {
            Some(Ok(id)) if !id.is_empty() => {
                if let Some(name) = step.get("as").and_then(Value::as_str) {
                    self.names.insert(name.to_owned(), id.clone());
                    self.ids.insert(id, format!("${name}"));
                }
            }
            Some(Err(ActionError::Rejected(e))) => out.push(json!({ "rejected": e.code.as_str() })),
            Some(Err(ActionError::Invalid(_))) => out.push(json!({ "invalid": true })),
            Some(Err(ActionError::Destroyed)) => out.push(json!({ "destroyed": true })),
            _ => {}
        }
        Ok(())
    }

    /// Drains the core's outputs, normalized, into `out`.
    fn drain(&mut self, out: &mut Vec<Value>) {
        while let Some(output) = self.session.poll_output() {
            let value = match output {
                Output::Open { socket, .. } => {
                    self.socket = socket;
                    json!({ "open": true })
                }
                Output::Send { text, .. } => {
                    let frame: Value = serde_json::from_str(&text).expect("the core sends JSON");
                    json!({ "send": frame })
                }
                Output::Close { code, .. } => json!({ "close": code }),
                Output::Event(event) => normalize_event(event),
            };
            out.push(self.unsubstitute(value));
        }
    }

    /// `"$m1"` → the real id, in a frame to receive.
    fn substitute_in(&self, value: &Value) -> Value {
        map_strings(value, &|s| s.strip_prefix('$').and_then(|name| self.names.get(name)).cloned())
    }

    /// The real id → `"$m1"`, in an output.
    fn unsubstitute(&self, value: Value) -> Value {
        map_strings(&value, &|s| self.ids.get(s).cloned())
    }
}

fn input(session: &mut Session, now: u64, input: Input<'_>) -> Option<Result<String, ActionError>> {
    session.handle_input(now, input);
    None
}

fn map_strings(value: &Value, f: &dyn Fn(&str) -> Option<String>) -> Value {
    match value {
        Value::String(s) => Value::String(f(s).unwrap_or_else(|| s.clone())),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), map_strings(v, f))).collect()),
        other => other.clone(),
    }
}

fn data<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("contract types serialize")
}

fn normalize_event(event: Event) -> Value {
    match event {
        Event::Connect => json!({ "on": "connect" }),
        Event::Disconnect => json!({ "on": "disconnect" }),
        Event::CartChanged(e) => json!({ "on": "cart_changed", "data": data(&e) }),
        Event::ProductClick(p) => json!({ "on": "product_click", "data": data(&p) }),
        Event::SessionComplete(s) => json!({ "on": "session_complete", "data": data(&s) }),
        Event::Error(WidgetError { code, reply_to, .. }) => {
            let mut d = Map::new();
            d.insert("code".into(), json!(code.as_str()));
            if let Some(r) = reply_to {
                d.insert("reply_to".into(), json!(r));
            }
            json!({ "on": "error", "data": d })
        }
        Event::StateChanged(state) => json!({ "state": state.as_str() }),
        Event::Typing { reply_to } => {
            let mut d = Map::new();
            if let Some(r) = reply_to {
                d.insert("reply_to".into(), json!(r));
            }
            json!({ "ui": "typing", "data": d })
        }
        Event::Delta { message_id, reply_to, text } => {
            json!({ "ui": "delta", "data": { "message_id": message_id, "reply_to": reply_to, "text": text } })
        }
        Event::Response(Reply { message_id, reply_to, text, products, .. }) => json!({ "ui": "response",
            "data": { "message_id": message_id, "reply_to": reply_to, "text": text, "products": data(&products) } }),
        Event::UserMessage { id, text } => json!({ "ui": "user_message", "data": { "id": id, "text": text } }),
        Event::History(entries) => json!({ "ui": "history", "data": data(&entries) }),
        Event::Acknowledged { id } => json!({ "ui": "ack", "data": { "id": id } }),
    }
}

/// `expected` matches `actual`: `"*"` matches anything, numbers compare as numbers.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), _) if s == "*" => true,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| matches(x, y)))
        }
        (a, b) => a == b,
    }
}

/// Replays one file; returns a description of the first mismatch.
fn run_file(path: &Path, print: bool) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let scenario: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let name = scenario.get("name").and_then(Value::as_str).ok_or("no name")?;
    let covers = scenario.get("covers").and_then(Value::as_array).ok_or("no covers")?;
    if covers.is_empty() {
        return Err("covers is empty".into());
    }
    let steps = scenario.get("steps").and_then(Value::as_array).ok_or("no steps")?;
    let mut runner = Runner::new(scenario.get("config").unwrap_or(&Value::Null));
    if print {
        println!("== {} ({name})", path.display());
    }
    for (i, step) in steps.iter().enumerate() {
        let actual = runner.step(step).map_err(|e| format!("step {i}: {e}"))?;
        if print {
            let mut shown = step.clone();
            if let Some(map) = shown.as_object_mut() {
                map.remove("expect");
            }
            println!("  step {i} {shown}\n    -> {}", Value::Array(actual.clone()));
        }
        let expected = step.get("expect").ok_or(format!("step {i} has no expect"))?;
        if !matches(expected, &Value::Array(actual.clone())) {
            return Err(format!(
                "{name}\n  step {i}: {step}\n  expected: {expected}\n  actual:   {}",
                Value::Array(actual)
            ));
        }
    }
    Ok(steps.len())
}

#[test]
fn every_scenario_file_replays_exactly() {
    let filter = std::env::var("SCENARIO").unwrap_or_default();
    let print = std::env::var_os("SCENARIO_PRINT").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(&filter)))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario files matched {filter:?}");
    let mut failures = Vec::new();
    let mut steps = 0;
    for file in &files {
        match run_file(file, print) {
            Ok(n) => steps += n,
            Err(e) => failures.push(format!("{}: {e}", file.file_name().unwrap_or_default().to_string_lossy())),
        }
    }
    println!("{} scenario files, {steps} steps, {} failed", files.len(), failures.len());
    assert!(failures.is_empty(), "{} of {} scenarios failed:\n{}", failures.len(), files.len(), failures.join("\n\n"));
}

#[test]
fn the_matcher_is_strict_where_it_must_be() {
    assert!(matches(&json!([{"a": 2}]), &json!([{"a": 2.0}])));
    assert!(matches(&json!({"a": "*"}), &json!({"a": {"deep": [1]}})));
    assert!(!matches(&json!([{"a": 1}]), &json!([{"a": 1}, {"b": 2}])), "extra outputs fail");
    assert!(!matches(&json!({"a": 1}), &json!({"a": 1, "b": null})), "extra fields fail");
    assert!(!matches(&json!({"a": null}), &json!({})), "null is not absent");
    assert!(!matches(&json!("x"), &json!("*")), "a star in the actual output matches nothing special");
}
