//! The real client core (`vizochok_core::Session`) against the engine, one
//! virtual clock for both: what a store would see end to end.

use vizochok_core::{Config, Event, Input, Output, Session, SocketId, State};
use vizochok_server::{ConnId, Engine, KeywordAssistant, SeededRandom, ServerConfig, ServerInput, ServerOutput};

use crate::harness::*;

struct World {
    client: Session,
    server: Engine,
    /// The client's current socket (the core sends on its newest one).
    socket: Option<SocketId>,
    now: u64,
    events: Vec<Event>,
}

impl World {
    fn new(config: ServerConfig) -> World {
        let client = Session::new(Config::new(KEY, STORE, "ws://127.0.0.1:8787/v1/ws", 9)).unwrap();
        let server = Engine::new(config, Box::new(KeywordAssistant), Box::new(SeededRandom::new(SEED)));
        let mut world = World { client, server, socket: None, now: 0, events: Vec::new() };
        world.client.handle_input(0, Input::Connect);
        world.pump();
        world
    }

    /// Carries outputs both ways until both sides are quiet.
    fn pump(&mut self) {
        let mut moved = true;
        while moved {
            moved = false;
            while let Some(output) = self.client.poll_output() {
                moved = true;
                match output {
                    Output::Open { socket, .. } => {
                        self.socket = Some(socket);
                        self.server
                            .handle(self.now, ServerInput::Open { conn: ConnId(socket.0), origin: None, peer: None });
                        self.client.handle_input(self.now, Input::SocketOpened(socket));
                    }
                    Output::Send { text, .. } => {
                        let conn = ConnId(self.socket.map_or(0, |s| s.0));
                        self.server.handle(self.now, ServerInput::Text { conn, text: &text });
                    }
                    Output::Close { socket, .. } => {
                        self.server.handle(self.now, ServerInput::Closed { conn: ConnId(socket.0) })
                    }
                    Output::Event(event) | Output::FrameEvent(event) => self.events.push(event),
                }
            }
            while let Some(output) = self.server.poll_output() {
                moved = true;
                match output {
                    ServerOutput::Send { conn, text } => {
                        self.client.handle_input(self.now, Input::Text(SocketId(conn.0), &text))
                    }
                    ServerOutput::Close { conn, code, reason } => {
                        let input = Input::SocketEnded { socket: SocketId(conn.0), code: Some(code), reason: &reason };
                        self.client.handle_input(self.now, input);
                    }
                    ServerOutput::Webhook { .. } | ServerOutput::Log(_) => {}
                }
            }
        }
    }

    /// Runs both clocks forward by `ms`, firing their timers.
    fn run(&mut self, ms: u64) {
        let until = self.now + ms;
        loop {
            self.pump();
            let next = [self.client.poll_timeout(), self.server.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.client.handle_input(self.now, Input::Timeout);
                    self.server.handle(self.now, ServerInput::Timeout);
                }
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
    }

    fn responses(&self) -> Vec<String> {
        let texts =
            self.events
                .iter()
                .filter_map(|e| if let Event::Response(reply) = e { Some(reply.text.clone()) } else { None });
        texts.collect()
    }
}

#[test]
fn the_client_core_shops_through_the_engine() {
    let mut w = World::new(ServerConfig { delta_interval_ms: 50, delta_chars: 8, ..config() });
    assert_eq!(w.client.state(), State::Connected);
    w.client.send_message(w.now, "milk please").unwrap();
    w.run(5_000);
    assert_eq!(w.responses().len(), 1);
    w.client.send_message(w.now, "add 1").unwrap();
    w.run(5_000);
    let sid = w.client.session_id().unwrap().to_owned();
    assert_eq!(w.server.session_cart(&sid).unwrap(), w.client.cart().clone());
    assert_eq!(w.client.cart().items[0].sku, "milk-1");
    assert!(w.client.pending_actions().is_empty());
}

#[test]
fn a_restart_mid_reply_loses_nothing_and_doubles_nothing() {
    let mut w = World::new(ServerConfig { delta_interval_ms: 100, delta_chars: 4, ..config() });
    w.client.send_message(w.now, "milk").unwrap();
    w.run(5_000);
    w.client.send_message(w.now, "add 2").unwrap();
    w.run(150);
    w.server.restart(w.now, false);
    w.run(60_000);
    let sid = w.client.session_id().unwrap().to_owned();
    assert_eq!(w.client.state(), State::Connected);
    assert_eq!(w.server.session_cart(&sid).unwrap(), w.client.cart().clone());
    assert_eq!(w.client.cart().items.len(), 1, "added once");
    assert!(w.client.pending_actions().is_empty());
}
