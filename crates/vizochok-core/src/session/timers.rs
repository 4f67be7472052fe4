//! Every deadline of the session in one table (in the manner of
//! quinn-proto's `TimerTable`): the next deadline is the table's minimum,
//! and a timeout handles exactly the timers that expired, so the two can
//! never disagree.

/// One deadline of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The socket must open by then.
    Open,
    /// `auth_ok` must arrive by then.
    Auth,
    /// Nothing arrived for a heartbeat: send `ping`.
    Ping,
    /// Nothing arrived since the `ping`: the connection is lost.
    Pong,
    /// The backoff is over: the next attempt.
    Reconnect,
    /// An action refused as busy may be sent again.
    Retry,
}

impl Timer {
    /// In the order a timeout handles them when several expired at once.
    const ALL: [Timer; 6] = [Timer::Open, Timer::Auth, Timer::Pong, Timer::Ping, Timer::Reconnect, Timer::Retry];
    /// The timers that belong to one socket.
    pub const CONNECTION: [Timer; 4] = [Timer::Open, Timer::Auth, Timer::Ping, Timer::Pong];
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TimerTable([Option<u64>; Timer::ALL.len()]);

impl TimerTable {
    pub fn set(&mut self, timer: Timer, at: u64) {
        self.0[timer as usize] = Some(at);
    }

    pub fn put(&mut self, timer: Timer, at: Option<u64>) {
        self.0[timer as usize] = at;
    }

    pub fn clear(&mut self, timer: Timer) {
        self.0[timer as usize] = None;
    }

    pub fn next(&self) -> Option<u64> {
        self.0.iter().flatten().copied().min()
    }

    /// The first timer (in handling order) that expired at `now`.
    pub fn expired(&self, now: u64) -> Option<Timer> {
        Timer::ALL.into_iter().find(|&t| self.0[t as usize].is_some_and(|at| at <= now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_minimum_and_expiry_follows_the_handling_order() {
        let mut table = TimerTable::default();
        assert_eq!(table.next(), None);
        table.set(Timer::Reconnect, 50);
        table.set(Timer::Open, 70);
        assert_eq!(table.next(), Some(50));
        assert_eq!(table.expired(49), None);
        assert_eq!(table.expired(70), Some(Timer::Open));
        table.clear(Timer::Open);
        assert_eq!(table.expired(70), Some(Timer::Reconnect));
    }
}
