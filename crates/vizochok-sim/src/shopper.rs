//! What the shopper, the network and the server do on their own: the
//! shopper's actions in one of their clients, chaos ticks on every link and
//! on the server, the store's webhook answers.

use vizochok_core::{ActionError, Input, PageContext, Rating};
use vizochok_server::{Engine, KeywordAssistant, SeededRandom, ServerInput};

use crate::faults::strikes;
use crate::world::World;

const MESSAGES: [&str; 8] = ["milk", "bread", "add 1", "add 2", "clear", "show cheese", "hello", "молоко"];

impl World {
    /// The shopper acts in one of their clients (one person, one action at
    /// a time, whichever tab or device is at hand).
    pub fn user_action(&mut self) {
        let open: Vec<usize> = (0..self.clients.len()).filter(|&i| !self.clients[i].destroyed).collect();
        if open.is_empty() {
            return;
        }
        let i = open[self.rng.range(0, open.len() as u64 - 1) as usize];
        let now = self.now;
        let roll = self.rng.range(0, 99);
        let result = match roll {
            0..=39 => self.message(i),
            40..=59 if !self.clients[i].cards.is_empty() => {
                let cards = &self.clients[i].cards;
                let card = cards[self.rng.range(0, cards.len() as u64 - 1) as usize].clone();
                let steps = self.rng.range(1, 3) as f64;
                self.clients[i].session.select_product(now, &card, Some(card.quantity_step * steps))
            }
            // No card on screen to add: the shopper asks for something first.
            40..=59 => self.message(i),
            // The page's frames (§12): the shopper stops a reply, opens a
            // product page, rates a reply.
            60..=61 => match self.clients[i].session.stop_reply(now) {
                Ok(Some(id)) => Ok(id),
                Ok(None) => return self.note(Some(i), || "nothing to stop".into()),
                Err(e) => Err(e),
            },
            62 => {
                let cards = &self.clients[i].cards;
                let sku =
                    (!cards.is_empty()).then(|| cards[self.rng.range(0, cards.len() as u64 - 1) as usize].sku.clone());
                self.clients[i].session.set_context(now, PageContext { sku, ..PageContext::default() })
            }
            63 => match self.clients[i].last_reply.clone() {
                Some(message_id) => {
                    let rating = if self.rng.range(0, 1) == 0 { Rating::Up } else { Rating::Down };
                    self.clients[i].session.feedback(now, &message_id, rating, Some("sim"))
                }
                None => return self.note(Some(i), || "no reply to rate".into()),
            },
            64..=74 => match self.random_cart_line(i) {
                Some((sku, step)) => {
                    let quantity = step * self.rng.range(1, 4) as f64;
                    self.clients[i].session.update_quantity(now, &sku, quantity)
                }
                None => self.clients[i].session.clear_cart(now),
            },
            75..=84 => match self.random_cart_line(i) {
                Some((sku, _)) => self.clients[i].session.remove_item(now, &sku),
                None => self.clients[i].session.remove_item(now, "milk-1"),
            },
            85..=89 => self.clients[i].session.clear_cart(now),
            90..=94 => {
                self.clients[i].session.handle_input(now, Input::NetworkOnline);
                return self.pump();
            }
            // A client pushed out (4009) stays stopped: its host never reconnects it.
            95.. if self.clients[i].pushed_out => return,
            // A new conversation is rare: one action in 200, never in a long
            // session, and never in a tab of a crowd (which all join one session).
            95.. if roll == 95 || !self.resets || self.clients[i].in_crowd || self.rng.range(0, 7) > 0 => {
                self.note(Some(i), || "host closes, then connects".into());
                let session = &mut self.clients[i].session;
                session.handle_input(now, Input::Disconnect);
                session.handle_input(now, Input::Connect);
                return self.pump();
            }
            _ => {
                let before = self.clients[i].session.session_id().map(str::to_owned);
                self.note(Some(i), || format!("host resets the conversation (was {before:?})"));
                let client = &mut self.clients[i];
                client.resets += u64::from(before.is_some());
                client.reset_from = before;
                let _ = self.clients[i].session.reset(now);
                return self.pump();
            }
        };
        match result {
            Ok(id) => {
                self.note(Some(i), || format!("user action accepted: {id}"));
                self.clients[i].accepted.push(id);
            }
            Err(e) => self.note(Some(i), || format!("user action refused: {e}")),
        }
        self.pump();
    }

    /// The shopper sends a message, and now and then stops its reply at once.
    fn message(&mut self, i: usize) -> Result<String, ActionError> {
        let now = self.now;
        let text = MESSAGES[self.rng.range(0, MESSAGES.len() as u64 - 1) as usize];
        let sent = self.clients[i].session.send_message(now, text);
        if let Ok(id) = &sent {
            self.clients[i].messages.insert(id.clone(), text.to_owned());
            if self.rng.range(0, 7) == 0 {
                self.note(Some(i), || "the shopper stops the reply at once".into());
                if let Ok(Some(stop)) = self.clients[i].session.stop_reply(now) {
                    self.clients[i].accepted.push(stop);
                }
            }
        }
        sent
    }

    fn random_cart_line(&mut self, i: usize) -> Option<(String, f64)> {
        let items = &self.clients[i].session.cart().items;
        if items.is_empty() {
            return None;
        }
        let item = &items[self.rng.range(0, items.len() as u64 - 1) as usize];
        let step = self.catalog.get(&item.sku).map_or(1.0, |p| p.quantity_step);
        Some((item.sku.clone(), step))
    }

    /// Each client's link may be cut, go silent or vanish; the server may restart.
    pub fn chaos_tick(&mut self) {
        for i in 0..self.clients.len() {
            let Some(conn) = self.current_conn(i) else { continue };
            let faults = &self.clients[i].faults;
            let (cut, go_silent, vanish) = (faults.cut, faults.go_silent, faults.vanish);
            if strikes(&mut self.rng, cut) {
                self.note(Some(i), || format!("socket [{conn}] cut"));
                self.cut(conn);
                self.pump();
            } else if strikes(&mut self.rng, go_silent) {
                self.note(Some(i), || format!("server goes silent on [{conn}]"));
                self.silent.insert(conn);
            } else if strikes(&mut self.rng, vanish) {
                self.note(Some(i), || format!("the network under [{conn}] vanishes; the server is not told"));
                self.vanish(conn);
                self.pump();
            }
        }
        if strikes(&mut self.rng, self.server_faults.restart) {
            self.restart_server();
            self.pump();
        }
    }

    fn restart_server(&mut self) {
        let now = self.now;
        match self.rng.range(0, 2) {
            0 => {
                self.note(None, || "server restarts, keeping replay buffers".into());
                self.server.restart(now, true);
            }
            1 => {
                self.note(None, || "server restarts, losing replay buffers".into());
                self.server.restart(now, false);
            }
            _ => {
                self.note(None, || "server restarts from a snapshot".into());
                let snapshot = self.server.snapshot();
                self.server.restart(now, false);
                self.pump();
                // A fresh engine draws fresh ids (seeded: the run must replay).
                let random = Box::new(SeededRandom::new(now));
                self.server = Engine::new(self.config.clone(), Box::new(KeywordAssistant), random);
                if let Err(e) = self.server.restore(&snapshot) {
                    self.violation(None, format!("snapshot does not restore: {e:?}"));
                }
                if self.holds_secret(&snapshot) {
                    self.violation(None, "snapshot carries a secret".into());
                }
            }
        }
    }

    /// The store's backend answers the webhooks that are due.
    pub fn answer_webhooks(&mut self) {
        while let Some((&(at, request), &accepted)) = self.webhooks.iter().next() {
            if at > self.now {
                break;
            }
            self.webhooks.remove(&(at, request));
            self.note(None, || format!("webhook {request} answered accepted={accepted}"));
            self.server.handle(self.now, ServerInput::WebhookResult { request, accepted, detail: None });
            self.pump();
        }
    }
}
