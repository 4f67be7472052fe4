//! The one task that owns the engine. Socket tasks send it [`Command`]s; it
//! feeds them to the engine with a monotonic clock, carries out the engine's
//! outputs (frames to each socket's channel, webhooks, log lines), fires the
//! engine's timer and keeps the state directory current.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};
use vizochok_server::{ConnId, Engine, ServerInput, ServerOutput};

use super::outbound::{Frames, Outbound};
use super::state::StateDir;
use super::webhook::{self, WebhookTarget};
use super::LogSink;

/// Most commands handled before the engine's outputs are carried out, so a
/// burst costs one pass over the engine's timers instead of one per frame.
const BATCH: usize = 256;
/// How often a changed engine is written to the state directory, at most.
const SAVE_EVERY: Duration = Duration::from_millis(250);
/// A save may take this share of the time at most: after one that took T,
/// the next waits at least T times this (thousands of sessions take tens of
/// milliseconds of a core to serialize, which a busy engine needs).
const SAVE_SPACING: u32 = 10;

/// What a socket task (or a webhook delivery) tells the engine task. Its
/// `Debug` shows a frame's length only: `auth` carries the api key.
pub(crate) enum Command {
    /// A socket was accepted; its frames go through `link`.
    Open { conn: ConnId, origin: Option<String>, peer: IpAddr, link: Link },
    /// A text frame arrived.
    Text { conn: ConnId, text: String },
    /// A binary frame arrived.
    Binary { conn: ConnId, len: usize },
    /// The socket is gone.
    Closed { conn: ConnId },
    /// A webhook delivery finished.
    WebhookResult { request: u64, accepted: bool, detail: Option<String> },
    /// Close every socket with 1012, save, and stop.
    Shutdown(oneshot::Sender<()>),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Open { conn, origin, peer, .. } => {
                f.debug_struct("Open").field("conn", conn).field("origin", origin).field("peer", peer).finish()
            }
            Command::Text { conn, text } => {
                f.debug_struct("Text").field("conn", conn).field("bytes", &text.len()).finish_non_exhaustive()
            }
            Command::Binary { conn, len } => f.debug_struct("Binary").field("conn", conn).field("len", len).finish(),
            Command::Closed { conn } => f.debug_struct("Closed").field("conn", conn).finish(),
            Command::WebhookResult { request, accepted, .. } => {
                f.debug_struct("WebhookResult").field("request", request).field("accepted", accepted).finish()
            }
            Command::Shutdown(_) => f.write_str("Shutdown"),
        }
    }
}

/// The engine task's way to one socket task.
#[derive(Debug)]
pub(crate) struct Link {
    /// The socket's frames, in order.
    pub frames: Frames,
    /// Fired when the engine task lets the socket go without a close frame
    /// (it could not keep up): what is still queued is for no one, and the
    /// socket ends at once instead of after its backlog.
    pub cut: oneshot::Sender<()>,
}

/// The engine task's state.
pub(crate) struct Actor {
    engine: Engine,
    /// The clock: `epoch_ms` at `start`, then monotonic. Starting from wall
    /// time keeps the engine's daily and monthly quotas meaningful across
    /// restarts from the state directory.
    start: Instant,
    epoch_ms: u64,
    sockets: HashMap<ConnId, Link>,
    commands: mpsc::Sender<Command>,
    webhooks: HashMap<String, WebhookTarget>,
    log: LogSink,
    state: Option<Arc<StateDir>>,
    dirty: bool,
    /// The snapshot being written, off this task (one at a time, in order),
    /// and when the next may start.
    saving: Option<JoinHandle<Duration>>,
    next_save: Instant,
}

impl Actor {
    pub fn new(
        engine: Engine,
        commands: mpsc::Sender<Command>,
        webhooks: HashMap<String, WebhookTarget>,
        log: LogSink,
        state: Option<StateDir>,
    ) -> Actor {
        let epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let start = Instant::now();
        let state = state.map(Arc::new);
        Actor {
            engine,
            start,
            epoch_ms,
            sockets: HashMap::new(),
            commands,
            webhooks,
            log,
            state,
            // What was just loaded needs no saving.
            dirty: false,
            saving: None,
            next_save: start,
        }
    }

    fn now(&self) -> u64 {
        self.epoch_ms + self.start.elapsed().as_millis() as u64
    }

    fn instant(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms.saturating_sub(self.epoch_ms))
    }

    /// Arms what a restore left open and carries out its outputs (resent
    /// webhooks, log lines), so the first client does not wait for it.
    pub fn ready(&mut self) {
        let now = self.now();
        self.engine.handle(now, ServerInput::Timeout);
        self.carry_out();
    }

    /// Runs until [`Command::Shutdown`] or until every sender is gone.
    pub async fn run(mut self, mut inbox: mpsc::Receiver<Command>) {
        let mut save = tokio::time::interval(SAVE_EVERY);
        loop {
            let deadline = self.engine.poll_timeout().map(|ms| self.instant(ms));
            tokio::select! {
                command = inbox.recv() => {
                    let Some(command) = command else { break };
                    let mut next = Some(command);
                    let mut handled = 0;
                    while let Some(command) = next.take() {
                        if let Command::Shutdown(done) = command {
                            return self.shutdown(done).await;
                        }
                        self.apply(command);
                        handled += 1;
                        // Take another only if it will be applied in this batch.
                        if handled < BATCH {
                            next = inbox.try_recv().ok();
                        }
                    }
                }
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    let now = self.now();
                    self.engine.handle(now, ServerInput::Timeout);
                    self.dirty = true;
                }
                _ = save.tick() => self.save(),
            }
            self.carry_out();
        }
        self.save_now().await;
    }

    fn apply(&mut self, command: Command) {
        let now = self.now();
        self.dirty = true;
        match command {
            Command::Open { conn, origin, peer, link } => {
                self.sockets.insert(conn, link);
                self.engine.handle(now, ServerInput::Open { conn, origin: origin.as_deref(), peer: Some(peer) });
            }
            Command::Text { conn, text } => self.engine.handle(now, ServerInput::Text { conn, text: &text }),
            Command::Binary { conn, len } => self.engine.handle(now, ServerInput::Binary { conn, len }),
            Command::Closed { conn } => {
                self.sockets.remove(&conn);
                self.engine.handle(now, ServerInput::Closed { conn });
            }
            Command::WebhookResult { request, accepted, detail } => {
                self.engine.handle(now, ServerInput::WebhookResult { request, accepted, detail })
            }
            Command::Shutdown(_) => {}
        }
    }

    /// Carries out every pending engine output.
    fn carry_out(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            match output {
                ServerOutput::Send { conn, text } => {
                    let full =
                        self.sockets.get(&conn).is_some_and(|link| link.frames.try_send(Outbound::Text(text)).is_err());
                    if full {
                        // A socket that cannot keep up is cut, so its client
                        // reconnects and gets a replay; its session survives
                        // for the replay window.
                        if let Some(link) = self.sockets.remove(&conn) {
                            let _ = link.cut.send(());
                        }
                        let now = self.now();
                        self.engine.handle(now, ServerInput::Closed { conn });
                    }
                }
                ServerOutput::Close { conn, code, reason } => {
                    if let Some(link) = self.sockets.remove(&conn) {
                        if link.frames.try_send(Outbound::Close(code, reason)).is_err() {
                            // No room for the close frame: the socket goes without it.
                            let _ = link.cut.send(());
                        }
                    }
                }
                ServerOutput::Webhook { request, store_id, body } => self.deliver(request, &store_id, body),
                ServerOutput::Log(event) => {
                    if let Ok(line) = serde_json::to_string(&event) {
                        self.log.line(&line);
                    }
                }
            }
        }
    }

    fn deliver(&mut self, request: u64, store_id: &str, body: String) {
        let target = self.webhooks.get(store_id).cloned();
        let store_id = store_id.to_owned();
        let commands = self.commands.clone();
        tokio::spawn(async move {
            let (accepted, detail) = match target {
                Some(target) => webhook::deliver(&target, &body).await,
                None => (false, Some(format!("store {store_id} has no webhook_url"))),
            };
            let _ = commands.send(Command::WebhookResult { request, accepted, detail }).await;
        });
    }

    /// Writes a changed engine to the state directory. The snapshot is
    /// taken here (a reference per session) and turned into JSON and
    /// written on a blocking thread, so thousands of sessions do not stall
    /// the engine; a save still running is let finish first.
    fn save(&mut self) {
        let Some(state) = self.state.clone() else { return };
        if self.saving.as_ref().is_some_and(|saving| !saving.is_finished()) {
            return;
        }
        if let Some(took) = self.saving.take().and_then(FutureExt::now_or_never).and_then(Result::ok) {
            self.next_save = Instant::now() + took * SAVE_SPACING;
        }
        // Not too soon after the last one; and only a changed engine.
        if Instant::now() < self.next_save || !std::mem::take(&mut self.dirty) {
            return;
        }
        let pending = self.engine.snapshot_later();
        let log = self.log.clone();
        self.saving = Some(tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            write_state(&state, &pending.to_json(), &log);
            started.elapsed()
        }));
    }

    /// The last save before stopping: after the one still running, if any.
    async fn save_now(&mut self) {
        if let Some(saving) = self.saving.take() {
            let _ = saving.await;
        }
        if let Some(state) = &self.state {
            write_state(state, &self.engine.snapshot(), &self.log);
        }
    }

    async fn shutdown(mut self, done: oneshot::Sender<()>) {
        let now = self.now();
        self.engine.restart(now, false);
        self.carry_out();
        self.save_now().await;
        let _ = done.send(());
    }
}

fn write_state(state: &StateDir, snapshot: &str, log: &LogSink) {
    if let Err(error) = state.save(snapshot) {
        log.line(&serde_json::json!({"kind": "state_error", "detail": error.to_string()}).to_string());
    }
}

#[cfg(test)]
mod tests {
    use vizochok_server::{Catalog, KeywordAssistant, SeededRandom, ServerConfig, StoreConfig};

    use super::*;
    use crate::server::outbound;

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn no_debug_form_shows_a_frame() {
        let auth = Command::Text { conn: ConnId(1), text: r#"{"type":"auth","api_key":"pk_canary"}"#.into() };
        assert!(!format!("{auth:?}").contains("pk_canary"), "{auth:?}");
    }

    #[tokio::test]
    async fn no_command_is_lost_at_a_batch_boundary() {
        let engine = Engine::new(ServerConfig::default(), Box::new(KeywordAssistant), Box::new(SeededRandom::new(1)));
        let (commands, inbox) = mpsc::channel(4 * BATCH);
        let actor = Actor::new(engine, commands.clone(), HashMap::new(), LogSink::new(|_| {}), None);
        // Queued before the actor runs, so they arrive as full batches.
        let mut sockets = Vec::new();
        for n in 0..(3 * BATCH as u64) {
            let (frames, queue) = outbound::channel(4, outbound::BACKLOG_BYTES);
            let link = Link { frames, cut: oneshot::channel().0 };
            commands.try_send(Command::Open { conn: ConnId(n), origin: None, peer: LOOPBACK, link }).unwrap();
            sockets.push(queue);
        }
        let (done, finished) = oneshot::channel();
        commands.try_send(Command::Shutdown(done)).unwrap();
        actor.run(inbox).await;
        finished.await.unwrap();
        for (n, mut queue) in sockets.into_iter().enumerate() {
            assert!(matches!(queue.try_recv(), Ok(Outbound::Close(1012, _))), "socket {n} was never opened");
        }
    }

    #[tokio::test]
    async fn a_socket_that_cannot_keep_up_is_cut_and_one_closed_normally_is_not() {
        let store = StoreConfig::new("demo", vec!["pk_demo".into()], Catalog::default());
        let config = ServerConfig { stores: vec![store], ..ServerConfig::default() };
        let engine = Engine::new(config, Box::new(KeywordAssistant), Box::new(SeededRandom::new(1)));
        let (commands, inbox) = mpsc::channel(16);
        let actor = Actor::new(engine, commands.clone(), HashMap::new(), LogSink::new(|_| {}), None);
        let auth = r#"{"type":"auth","v":1,"api_key":"pk_demo","store_id":"demo","language":"en","sdk":{"name":"t","version":"1"}}"#;
        let mut ends = Vec::new();
        // Room for one frame on the first socket (`auth_ok` takes it, and
        // the pong finds it full), for all of them on the second.
        for (n, room) in [(1, 1), (2, 8)] {
            let (conn, (frames, queue), (cut, signal)) =
                (ConnId(n), outbound::channel(room, outbound::BACKLOG_BYTES), oneshot::channel());
            commands
                .try_send(Command::Open { conn, origin: None, peer: LOOPBACK, link: Link { frames, cut } })
                .unwrap();
            commands.try_send(Command::Text { conn, text: auth.into() }).unwrap();
            commands.try_send(Command::Text { conn, text: r#"{"type":"ping"}"#.into() }).unwrap();
            ends.push((queue, signal));
        }
        let (done, finished) = oneshot::channel();
        commands.try_send(Command::Shutdown(done)).unwrap();
        actor.run(inbox).await;
        finished.await.unwrap();
        let [(_, mut slow), (mut queue, mut closed)] = ends.try_into().unwrap();
        assert_eq!(slow.try_recv(), Ok(()), "the slow socket was cut");
        assert!(closed.try_recv().is_err(), "the other was not");
        let mut last = None;
        while let Ok(frame) = queue.try_recv() {
            last = Some(frame);
        }
        assert!(matches!(last, Some(Outbound::Close(1012, _))), "and got its close frame: {last:?}");
    }
}
