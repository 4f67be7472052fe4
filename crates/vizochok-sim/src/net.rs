//! The virtual network: frames in flight between the clients and the engine,
//! each delivered at a virtual time, with the faults a seed chooses.

use std::collections::BTreeMap;

/// Something the network delivers at a time.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A frame from the client to the server on a connection.
    ToServer { conn: u64, text: String },
    /// A frame from the server to the client on a connection.
    ToClient { conn: u64, text: String },
    /// The connection finished opening (or failed to).
    Opened { conn: u64, ok: bool },
    /// The server closed the connection with a code.
    ClosedByServer { conn: u64, code: u16, reason: String },
}

impl Delivery {
    /// The connection it concerns.
    pub fn conn(&self) -> u64 {
        match self {
            Delivery::ToServer { conn, .. }
            | Delivery::ToClient { conn, .. }
            | Delivery::Opened { conn, .. }
            | Delivery::ClosedByServer { conn, .. } => *conn,
        }
    }
}

/// Frames in flight, ordered by delivery time, then by send order.
#[derive(Debug, Default)]
pub struct Network {
    queue: BTreeMap<(u64, u64), Delivery>,
    sent: u64,
    /// Per connection and direction: the latest delivery time, to keep a
    /// socket's frames in order.
    last_to_client: BTreeMap<u64, u64>,
    last_to_server: BTreeMap<u64, u64>,
}

impl Network {
    /// Schedules a delivery at `at`.
    pub fn schedule(&mut self, at: u64, delivery: Delivery) {
        self.sent += 1;
        self.queue.insert((at, self.sent), delivery);
    }

    /// Schedules a frame `latency` after `now`, in order behind the earlier
    /// frames of its connection and direction (a socket never reorders).
    /// Returns the delivery time.
    pub fn send_in_order(&mut self, now: u64, latency: u64, delivery: Delivery) -> u64 {
        let (conn, last) = match &delivery {
            Delivery::ToClient { conn, .. } | Delivery::ClosedByServer { conn, .. } => {
                (*conn, &mut self.last_to_client)
            }
            Delivery::ToServer { conn, .. } | Delivery::Opened { conn, .. } => (*conn, &mut self.last_to_server),
        };
        let at = (now + latency).max(last.get(&conn).copied().unwrap_or(0));
        last.insert(conn, at);
        self.schedule(at, delivery);
        at
    }

    /// When the next delivery is due.
    pub fn next_at(&self) -> Option<u64> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    /// Takes the next delivery due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<Delivery> {
        let key = *self.queue.keys().next()?;
        if key.0 > now {
            return None;
        }
        self.queue.remove(&key)
    }

    /// Drops every frame of a connection still in flight (the socket died).
    pub fn cut(&mut self, conn: u64) {
        self.queue.retain(|_, d| d.conn() != conn);
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
