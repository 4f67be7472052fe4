//! A session's bounded buffer of sent `seq` frames, replayed after a reconnect.

use std::collections::VecDeque;

/// The most recent `seq` frames of a session. Seqs are consecutive, so the
/// buffer covers a client exactly when the client's `last_seq` is not below
/// the newest seq that fell out (`floor`).
#[derive(Debug, Clone)]
pub(crate) struct ReplayBuffer {
    floor: u64,
    frames: VecDeque<(u64, String)>,
    capacity: usize,
    /// The frames' bytes, at most [`REPLAY_MAX_BYTES`].
    bytes: usize,
}

/// The most bytes a session's buffer holds, however many frames it may:
/// each `cart_changed` carries the whole cart, so 1,024 of a long cart
/// held 30 MB a session. A client further behind is restored instead
/// (its summary and history), as past the frame count.
pub(crate) const REPLAY_MAX_BYTES: usize = 1 << 20;

impl ReplayBuffer {
    /// An empty buffer for a session whose last sent seq is `last_seq`.
    pub fn new(last_seq: u64, capacity: usize) -> ReplayBuffer {
        ReplayBuffer { floor: last_seq, frames: VecDeque::new(), capacity, bytes: 0 }
    }

    /// Remembers a sent frame, dropping the oldest ones when full.
    pub fn push(&mut self, seq: u64, text: String) {
        if self.capacity == 0 || text.len() > REPLAY_MAX_BYTES {
            self.frames.clear();
            self.bytes = 0;
            self.floor = seq;
            return;
        }
        while self.frames.len() >= self.capacity || self.bytes + text.len() > REPLAY_MAX_BYTES {
            let Some((old, dropped)) = self.frames.pop_front() else { break };
            self.floor = old;
            self.bytes -= dropped.len();
        }
        self.bytes += text.len();
        self.frames.push_back((seq, text));
    }

    /// Whether every frame after `last_seq` is held, for a session whose
    /// newest seq is `current` (a client ahead of the server is not covered).
    pub fn covers(&self, last_seq: u64, current: u64) -> bool {
        last_seq >= self.floor && last_seq <= current
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// The frames after `last_seq`, oldest first.
    pub fn after(&self, last_seq: u64) -> impl Iterator<Item = &str> {
        self.frames.iter().filter(move |(seq, _)| *seq > last_seq).map(|(_, text)| text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_only_what_it_still_holds() {
        let mut buffer = ReplayBuffer::new(0, 2);
        for seq in 1..=3 {
            buffer.push(seq, format!("f{seq}"));
        }
        assert!(!buffer.covers(0, 3), "frame 1 fell out");
        assert!(buffer.covers(1, 3));
        assert_eq!(buffer.after(1).collect::<Vec<_>>(), ["f2", "f3"]);
        assert!(buffer.covers(3, 3));
        assert!(!buffer.covers(4, 3), "client ahead of the server");
    }

    #[test]
    fn holds_at_most_its_bytes() {
        let mut buffer = ReplayBuffer::new(0, 1_024);
        let frame = "x".repeat(REPLAY_MAX_BYTES / 4);
        for seq in 1..=10 {
            buffer.push(seq, frame.clone());
        }
        assert_eq!(buffer.len(), 4);
        assert!(buffer.covers(6, 10) && !buffer.covers(5, 10));
        // One frame over the bound is not held, nor anything before it.
        buffer.push(11, "x".repeat(REPLAY_MAX_BYTES + 1));
        assert_eq!(buffer.len(), 0);
        assert!(buffer.covers(11, 11) && !buffer.covers(10, 11));
        buffer.push(12, "f12".into());
        assert_eq!(buffer.after(11).collect::<Vec<_>>(), ["f12"]);
    }
}
