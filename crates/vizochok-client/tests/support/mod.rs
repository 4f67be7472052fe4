//! Shared helpers: a sandbox on a free loopback port with its log captured,
//! clients with short timers, and waiting for events with a deadline.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use vizochok_client::{Callbacks, Client};
use vizochok_core::{CartChangedEvent, Config, Event, ProductItem, Reply, SessionSummary, WidgetError};
use vizochok_sandbox::{LogSink, RunningSandbox, SandboxOptions};

/// The longest any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// Every log line the sandbox wrote.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<String>>>);

impl Logs {
    pub fn sink(&self) -> LogSink {
        let lines = self.0.clone();
        LogSink::new(move |line| lines.lock().unwrap().push(line.to_owned()))
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn count(&self, kind: &str) -> usize {
        let needle = format!(r#""kind":"{kind}""#);
        self.lines().iter().filter(|l| l.contains(&needle)).count()
    }
}

/// Options for a sandbox on a free port whose log goes to `logs`.
pub fn options(logs: &Logs) -> SandboxOptions {
    let mut options =
        SandboxOptions { addr: SocketAddr::from(([127, 0, 0, 1], 0)), log: logs.sink(), ..Default::default() };
    // Fast streaming keeps tests short while still sending several deltas.
    options.engine.delta_interval_ms = 10;
    options.engine.delta_chars = 16;
    options
}

pub async fn sandbox(options: SandboxOptions) -> RunningSandbox {
    vizochok_sandbox::start(options).await.expect("sandbox starts")
}

/// A client config for the demo store with short timers.
pub fn config(url: &str, api_key: &str) -> Config {
    let mut config = vizochok_client::config(api_key, "demo-store", url);
    config.timers.backoff_base_ms = 30;
    config.timers.backoff_max_ms = 200;
    config.timers.storm_spread_ms = 200;
    config
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("vizochok-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Callbacks that record what the six contract callbacks received.
#[derive(Clone, Default)]
pub struct Recorder {
    pub carts: Arc<Mutex<Vec<CartChangedEvent>>>,
    pub clicks: Arc<Mutex<Vec<ProductItem>>>,
    pub summaries: Arc<Mutex<Vec<SessionSummary>>>,
    pub errors: Arc<Mutex<Vec<WidgetError>>>,
    pub connects: Arc<AtomicU32>,
    pub disconnects: Arc<AtomicU32>,
}

impl Callbacks for Recorder {
    fn on_cart_changed(&self, cart: &CartChangedEvent) {
        self.carts.lock().unwrap().push(cart.clone());
    }
    fn on_product_click(&self, product: &ProductItem) {
        self.clicks.lock().unwrap().push(product.clone());
    }
    fn on_session_complete(&self, summary: &SessionSummary) {
        self.summaries.lock().unwrap().push(summary.clone());
    }
    fn on_error(&self, error: &WidgetError) {
        self.errors.lock().unwrap().push(error.clone());
    }
    fn on_connect(&self) {
        self.connects.fetch_add(1, Ordering::SeqCst);
    }
    fn on_disconnect(&self) {
        self.disconnects.fetch_add(1, Ordering::SeqCst);
    }
}

/// A connected client with its event stream and recorder.
pub struct Harness {
    pub client: Client,
    pub events: broadcast::Receiver<Event>,
    pub recorder: Recorder,
}

impl Harness {
    /// Starts a client and waits for `onConnect`.
    pub async fn connect(config: Config) -> Harness {
        let mut harness = Harness::start(config);
        harness.wait("connect", |e| matches!(e, Event::Connect).then_some(())).await;
        harness
    }

    /// Starts a client without waiting.
    pub fn start(config: Config) -> Harness {
        let recorder = Recorder::default();
        let client = Client::new(config, recorder.clone()).expect("valid config");
        let events = client.events();
        client.connect();
        Harness { client, events, recorder }
    }

    /// Waits until `pick` accepts an event.
    pub async fn wait<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let events = &mut self.events;
        let found = tokio::time::timeout(WAIT, async {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        if let Some(found) = pick(&event) {
                            return found;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => panic!("event stream closed waiting for {what}"),
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    /// Sends a message and waits for its reply: (text, cards, concatenated deltas).
    pub async fn ask(&mut self, text: &str) -> (String, Vec<ProductItem>, String) {
        let id = self.client.send_message(text).expect("message accepted");
        let mut streamed = String::new();
        let (text, products) = self
            .wait("response", |e| match e {
                Event::Delta { reply_to, text, .. } if *reply_to == id => {
                    streamed.push_str(text);
                    None
                }
                Event::Response(Reply { reply_to, text, products, .. }) if *reply_to == id => {
                    Some((text.clone(), products.clone()))
                }
                _ => None,
            })
            .await;
        (text, products, streamed)
    }

    /// Adds a card and waits for the resulting `cart_changed`.
    pub async fn add(&mut self, product: &ProductItem, quantity: Option<f64>) -> CartChangedEvent {
        let sku = product.sku.clone();
        self.client.select_product(product, quantity).expect("select accepted");
        self.wait("cart_changed", |e| match e {
            Event::CartChanged(cart) if cart.sku.as_deref() == Some(sku.as_str()) => Some(cart.clone()),
            _ => None,
        })
        .await
    }
}
