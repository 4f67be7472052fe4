//! The Rust runner of the shared scenario suite (`scenarios/*.json`, format
//! in `docs/scenarios.md`).
//!
//! A runtime under test is a [`Rig`]: its public widget, with the scripted
//! transport writing into a shared [`Recording`]. The runner plays each
//! step against the rig and compares the normalized outputs with the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod normalize;
mod recording;

use std::path::{Path, PathBuf};

pub use normalize::{error_data, event, matches, outcome, pending};
pub use recording::{call_from_callback, Reaction, Recording, Shared};
use serde_json::{json, Value};
use vizochok_core::{ActionError, Config, Language, PageContext, ProductItem, Rating};

/// The fixed parts of every scenario's config.
pub const API_KEY: &str = "pk_scenario";
/// The store of every scenario.
pub const STORE_ID: &str = "scenario-store";
/// The server of every scenario.
pub const URL: &str = "ws://127.0.0.1:8787/v1/ws";
/// A timer that fires this often in one `advance` is stuck.
const MAX_FIRES_PER_ADVANCE: usize = 10_000;

/// What an action returned, before normalization.
pub type Outcome = Result<Option<String>, ActionError>;

/// A runtime's widget driven by the runner. Host events are about the
/// socket the widget opened last.
pub trait Rig {
    /// A widget call or action (`connect`, `send_message`, …); `None` for a
    /// call that returns nothing.
    fn call(&self, call: &Call) -> Option<Outcome>;
    /// The latest socket opened.
    fn socket_opened(&self);
    /// A text frame arrived.
    fn text(&self, text: &str);
    /// A binary frame arrived.
    fn binary(&self, len: usize);
    /// The socket ended.
    fn ended(&self, code: Option<u16>, reason: &str);
    /// The armed timer fires (the clock is already at the recording's `now`).
    fn fire(&self);
    /// Reads the widget: `pending_actions`, `state`, `session_id`, `cart`.
    fn read(&self, what: &str) -> Value;
}

/// A rig shared with its own callbacks (which call it back) is one too.
impl<T: Rig> Rig for std::sync::Arc<T> {
    fn call(&self, call: &Call) -> Option<Outcome> {
        (**self).call(call)
    }
    fn socket_opened(&self) {
        (**self).socket_opened()
    }
    fn text(&self, text: &str) {
        (**self).text(text)
    }
    fn binary(&self, len: usize) {
        (**self).binary(len)
    }
    fn ended(&self, code: Option<u16>, reason: &str) {
        (**self).ended(code, reason)
    }
    fn fire(&self) {
        (**self).fire()
    }
    fn read(&self, what: &str) -> Value {
        (**self).read(what)
    }
}

/// A widget call of a scenario step, decoded.
#[derive(Debug, Clone)]
pub enum Call {
    /// `connect`.
    Connect,
    /// `disconnect`.
    Disconnect,
    /// `destroy`.
    Destroy,
    /// `network_online`.
    NetworkOnline,
    /// `send_message`.
    SendMessage(String),
    /// `select_product`.
    SelectProduct(Box<ProductItem>, Option<f64>),
    /// `update_quantity`.
    UpdateQuantity(String, f64),
    /// `remove_item`.
    RemoveItem(String),
    /// `clear_cart`.
    ClearCart,
    /// `set_context`.
    SetContext(Box<PageContext>),
    /// `stop`.
    Stop,
    /// `feedback`.
    Feedback(String, Rating, Option<String>),
    /// `reset`.
    Reset,
}

impl Call {
    /// Decodes a `do` step; `None` when it is not a widget call.
    pub fn parse(step: &Value, names: &impl Fn(&Value) -> Value) -> Result<Option<Call>, String> {
        let Some(what) = step.get("do").and_then(Value::as_str) else { return Ok(None) };
        let text = |field: &str| {
            step.get(field).and_then(Value::as_str).map(str::to_owned).ok_or(format!("{what} needs {field}"))
        };
        let number = |field: &str| step.get(field).and_then(Value::as_f64);
        Ok(Some(match what {
            "connect" => Call::Connect,
            "disconnect" => Call::Disconnect,
            "destroy" => Call::Destroy,
            "network_online" => Call::NetworkOnline,
            "send_message" => Call::SendMessage(text("text")?),
            "select_product" => {
                let product = serde_json::from_value(step.get("product").cloned().unwrap_or_default())
                    .map_err(|e| format!("select_product: bad product: {e}"))?;
                Call::SelectProduct(Box::new(product), number("quantity"))
            }
            "update_quantity" => {
                Call::UpdateQuantity(text("sku")?, number("quantity").ok_or("update_quantity needs quantity")?)
            }
            "remove_item" => Call::RemoveItem(text("sku")?),
            "clear_cart" => Call::ClearCart,
            "set_context" => {
                let context = names(step.get("context").unwrap_or(&Value::Null));
                let context = serde_json::from_value(context).map_err(|e| format!("set_context: bad context: {e}"))?;
                Call::SetContext(Box::new(context))
            }
            "stop" => Call::Stop,
            "feedback" => {
                let id = names(step.get("message_id").unwrap_or(&Value::Null));
                let id = id.as_str().ok_or("feedback needs message_id")?.to_owned();
                let rating = Rating::parse(&text("rating")?).ok_or("feedback: rating is up or down")?;
                Call::Feedback(id, rating, step.get("comment").and_then(Value::as_str).map(str::to_owned))
            }
            "reset" => Call::Reset,
            _ => return Ok(None),
        }))
    }
}

/// A scenario's config, as the core takes it (the runtime sets its SDK name).
pub fn config(scenario: &Value) -> Config {
    let c = scenario.get("config").unwrap_or(&Value::Null);
    let text = |field: &str| c.get(field).and_then(Value::as_str).map(str::to_owned);
    let mut config = Config::new(API_KEY, STORE_ID, URL, c.get("seed").and_then(Value::as_u64).unwrap_or(1));
    if let Some(language) = text("language") {
        config.language = Language::from_tag(&language);
    }
    config.session_id = text("session_id").map(vizochok_core::Secret::new);
    config.user_id = text("user_id");
    config.user_token = text("user_token").map(vizochok_core::Secret::new);
    config
}

/// Every scenario file, sorted; `SCENARIO=name` keeps those whose name contains it.
pub fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let filter = std::env::var("SCENARIO").unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(&filter)))
        .collect();
    files.sort();
    files
}

/// Replays every file with a rig built for it; panics with every mismatch.
pub fn replay_all<R: Rig>(runtime: &str, mut rig: impl FnMut(&Value, Shared) -> R) {
    let files = files();
    assert!(!files.is_empty(), "no scenario file matched");
    let print = std::env::var_os("SCENARIO_PRINT").is_some();
    let (mut steps, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable scenario");
        let scenario: Value = serde_json::from_str(&text).expect("scenario is JSON");
        let recording = Recording::shared(&scenario);
        let subject = rig(&scenario, recording.clone());
        match replay(&scenario, &subject, &recording, print) {
            Ok(n) => steps += n,
            Err(e) => failures.push(format!("{}: {e}", file.file_name().unwrap_or_default().to_string_lossy())),
        }
    }
    println!("{runtime}: {} scenario files, {steps} steps, {} failed", files.len(), failures.len());
    assert!(failures.is_empty(), "{} of {} scenarios failed:\n{}", failures.len(), files.len(), failures.join("\n\n"));
}

/// Replays one scenario; the first mismatch, described.
pub fn replay(scenario: &Value, rig: &impl Rig, recording: &Shared, print: bool) -> Result<usize, String> {
    let name = scenario.get("name").and_then(Value::as_str).ok_or("no name")?;
    if scenario.get("covers").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        return Err("covers is missing or empty".into());
    }
    let steps = scenario.get("steps").and_then(Value::as_array).ok_or("no steps")?;
    for (i, step) in steps.iter().enumerate() {
        let actual = run_step(step, rig, recording).map_err(|e| format!("step {i}: {e}"))?;
        if print {
            println!("  step {i} -> {}", Value::Array(actual.clone()));
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

fn run_step(step: &Value, rig: &impl Rig, recording: &Shared) -> Result<Vec<Value>, String> {
    let start = recording.lock().unwrap().mark();
    let names = |v: &Value| recording.lock().unwrap().substitute(v);
    if let Some(frame) = step.get("recv") {
        rig.text(&names(frame).to_string());
    } else if let Some(text) = step.get("recv_text") {
        rig.text(text.as_str().ok_or("recv_text must be a string")?);
    } else if let Some(ms) = step.get("advance") {
        advance(ms.as_u64().ok_or("advance takes whole ms")?, rig, recording)?;
    } else if let Some(what) = step.get("read").and_then(Value::as_str) {
        let value = rig.read(what);
        recording.lock().unwrap().push(json!({ "read": value }));
    } else if let Some(rule) = step.get("app").and_then(Value::as_str) {
        recording.lock().unwrap().app_rule(rule, step)?;
    } else if let Some(call) = Call::parse(step, &names)? {
        let result = rig.call(&call);
        let mut recording = recording.lock().unwrap();
        if let Some(value) = result.and_then(|r| recording.outcome(&call, r, step.get("as").and_then(Value::as_str))) {
            recording.insert(start, value);
        }
    } else {
        match step.get("do").and_then(Value::as_str) {
            Some("socket_opened") => rig.socket_opened(),
            Some("binary") => rig.binary(step.get("len").and_then(Value::as_u64).ok_or("binary needs len")? as usize),
            Some("socket_closed") => {
                let code = step.get("code").and_then(Value::as_u64).map(|c| c as u16);
                rig.ended(code, "");
            }
            Some("socket_error") => rig.ended(None, "refused"),
            Some("timer_fires") => rig.fire(),
            _ => return Err(format!("unknown step {step}")),
        }
    }
    Ok(recording.lock().unwrap().since(start))
}

fn advance(ms: u64, rig: &impl Rig, recording: &Shared) -> Result<(), String> {
    let target = recording.lock().unwrap().now + ms;
    for _ in 0..MAX_FIRES_PER_ADVANCE {
        let due = {
            let mut r = recording.lock().unwrap();
            match r.armed.filter(|&d| d <= target) {
                Some(deadline) => {
                    r.now = r.now.max(deadline);
                    r.armed = None;
                    true
                }
                None => {
                    r.now = target;
                    false
                }
            }
        };
        if !due {
            return Ok(());
        }
        rig.fire();
    }
    Err(format!("the timer fired {MAX_FIRES_PER_ADVANCE} times in one advance: stuck"))
}
