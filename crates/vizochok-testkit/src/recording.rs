//! What the widget under test did, normalized and in order, with the
//! scripted clock and timer, and what the app's callbacks are told to do.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::{Call, Outcome};

/// A recording shared by the runner, the rig's transport and its callbacks.
pub type Shared = Arc<Mutex<Recording>>;

/// What the app does when one of its callbacks runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Reaction {
    /// Returns normally.
    Carry,
    /// Throws (panics, raises).
    Throw,
    /// Performs this step from inside the callback, then returns.
    Call(Value),
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Recording {
    /// The scripted clock.
    pub now: u64,
    /// The timer the widget armed.
    pub armed: Option<u64>,
    outputs: Vec<Value>,
    names: HashMap<String, String>,
    ids: HashMap<String, String>,
    throws: HashSet<String>,
    calls: HashMap<String, Value>,
    observe_timer: bool,
    observe_save: bool,
    observe_blocks: bool,
}

impl Recording {
    /// A recording for one scenario (its `observe` list).
    pub fn shared(scenario: &Value) -> Shared {
        let observe =
            |what: &str| scenario.get("observe").and_then(Value::as_array).is_some_and(|o| o.iter().any(|v| v == what));
        let recording = Recording {
            observe_timer: observe("timer"),
            observe_save: observe("save"),
            observe_blocks: observe("blocks"),
            ..Recording::default()
        };
        Arc::new(Mutex::new(recording))
    }

    /// Where the current step's outputs start.
    pub fn mark(&self) -> usize {
        self.outputs.len()
    }

    /// The outputs since `start`, with real ids named back (`"$m1"`).
    pub fn since(&self, start: usize) -> Vec<Value> {
        self.outputs[start..].iter().map(|v| map_strings(v, &|s| self.ids.get(s).cloned())).collect()
    }

    /// `"$m1"` → the real id.
    pub fn substitute(&self, value: &Value) -> Value {
        map_strings(value, &|s| s.strip_prefix('$').and_then(|name| self.names.get(name)).cloned())
    }

    pub(crate) fn push(&mut self, value: Value) {
        self.outputs.push(value);
    }

    pub(crate) fn insert(&mut self, at: usize, value: Value) {
        self.outputs.insert(at, value);
    }

    /// Names an accepted action's id; the normalized outcome of a refused one.
    pub fn outcome(&mut self, call: &Call, result: Outcome, name: Option<&str>) -> Option<Value> {
        match result {
            Ok(Some(id)) => {
                if let Some(name) = name {
                    self.names.insert(name.to_owned(), id.clone());
                    self.ids.insert(id, ["$", name].concat());
                }
                None
            }
            Ok(None) if matches!(call, Call::Stop) => Some(json!({ "stopped": null })),
            Ok(None) => None,
            Err(e) => Some(crate::outcome(&e)),
        }
    }

    pub(crate) fn app_rule(&mut self, rule: &str, step: &Value) -> Result<(), String> {
        let on = step.get("on").and_then(Value::as_str).ok_or("an app rule needs on")?.to_owned();
        match rule {
            "throws" => {
                self.throws.insert(on);
            }
            "calls" => {
                self.calls.insert(on, step.get("then").cloned().ok_or("app calls needs then")?);
            }
            other => return Err(format!("unknown app rule {other:?}")),
        }
        Ok(())
    }

    // ----- the scripted transport writes these -----------------------------

    /// The widget asked for a socket.
    pub fn opened(&mut self) {
        self.push(json!({ "open": true }));
    }

    /// The widget sent a frame.
    pub fn sent(&mut self, text: &str) {
        let frame: Value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
        self.push(json!({ "send": frame }));
    }

    /// The widget closed its socket.
    pub fn closed(&mut self, code: u16) {
        self.push(json!({ "close": code }));
    }

    /// The widget armed (or cancelled) its timer.
    pub fn timer(&mut self, deadline: Option<u64>) {
        self.armed = deadline;
        if self.observe_timer {
            self.push(json!({ "timer": deadline }));
        }
    }

    /// The widget saved the session id.
    pub fn saved(&mut self, session_id: Option<&str>) {
        if self.observe_save {
            self.push(json!({ "save": session_id }));
        }
    }

    // ----- the app's callbacks write these ---------------------------------------

    /// A callback ran with this normalized output; what the app does.
    pub fn event(&mut self, mut value: Value) -> Reaction {
        if !self.observe_blocks {
            if let Some(data) = value.get_mut("data").and_then(Value::as_object_mut) {
                data.remove("blocks");
            }
        }
        let callback = match (value.get("on"), value.get("state"), value.get("ui")) {
            (Some(on), _, _) => on.as_str().unwrap_or_default().to_owned(),
            (_, Some(_), _) => "state".to_owned(),
            _ => "message".to_owned(),
        };
        self.push(value);
        if self.throws.contains(&callback) {
            return Reaction::Throw;
        }
        self.calls.remove(&callback).map_or(Reaction::Carry, Reaction::Call)
    }

    /// The widget reported a failing callback to its log.
    pub fn reported(&mut self) {
        self.push(json!({ "log": "error" }));
    }
}

/// Performs a step an app callback was told to make, recording its outcome.
pub fn call_from_callback(rig: &impl crate::Rig, recording: &Shared, step: &Value) -> Result<(), String> {
    let names = |v: &Value| recording.lock().map(|r| r.substitute(v)).unwrap_or_default();
    let call = Call::parse(step, &names)?.ok_or_else(|| format!("not a call: {step}"))?;
    let result = rig.call(&call);
    let mut r = recording.lock().map_err(|_| "recording poisoned")?;
    if let Some(value) = result.and_then(|res| r.outcome(&call, res, step.get("as").and_then(Value::as_str))) {
        r.push(value);
    }
    Ok(())
}

fn map_strings(value: &Value, f: &dyn Fn(&str) -> Option<String>) -> Value {
    match value {
        Value::String(s) => Value::String(f(s).unwrap_or_else(|| s.clone())),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), map_strings(v, f))).collect()),
        other => other.clone(),
    }
}
