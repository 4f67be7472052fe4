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
}

impl ReplayBuffer {
    /// An empty buffer for a session whose last sent seq is `last_seq`.
    pub fn new(last_seq: u64, capacity: usize) -> ReplayBuffer {
        ReplayBuffer { floor: last_seq, frames: VecDeque::new(), capacity }
    }

    /// Remembers a sent frame, dropping the oldest one when full.
    pub fn push(&mut self, seq: u64, text: String) {
        if self.capacity == 0 {
            self.floor = seq;
            return;
        }
        if self.frames.len() >= self.capacity {
            if let Some((old, _)) = self.frames.pop_front() {
                self.floor = old;
            }
        }
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
}
