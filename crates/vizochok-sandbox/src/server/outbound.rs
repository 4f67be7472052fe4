//! One socket's queue of frames from the engine task, bounded in frames and
//! in bytes: a peer that reads slowly while its session sends long frames
//! (every `cart_changed` carries the whole cart) held up to the whole frame
//! count of them, tens of megabytes per socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

/// Frames waiting for one socket before it counts as too slow and is cut:
/// room for a whole replay (the engine's 1,024 frames and the `auth_ok`,
/// sent in one go at a resume) and what comes meanwhile. The queue takes
/// memory only for the frames in it.
pub(crate) const BACKLOG_FRAMES: usize = 2_048;
/// The most bytes of frames waiting for one socket: a resume's `auth_ok`
/// (under 1 MiB) and its replay (at most 1 MiB), twice over.
pub(crate) const BACKLOG_BYTES: usize = 4 * 1024 * 1024;

/// What the engine task tells one socket task. Its `Debug` shows a frame's
/// length only: `auth_ok` carries the session id.
#[derive(PartialEq)]
pub(crate) enum Outbound {
    /// Send this text frame.
    Text(String),
    /// Send a close frame and stop.
    Close(u16, String),
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outbound::Text(text) => f.debug_struct("Text").field("bytes", &text.len()).finish_non_exhaustive(),
            Outbound::Close(code, reason) => f.debug_tuple("Close").field(code).field(reason).finish(),
        }
    }
}

impl Outbound {
    fn bytes(&self) -> usize {
        match self {
            Outbound::Text(text) => text.len(),
            Outbound::Close(..) => 0,
        }
    }
}

/// The senders' end.
#[derive(Debug, Clone)]
pub(crate) struct Frames {
    sender: mpsc::Sender<Outbound>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// A [`Frames`] that does not keep the queue open.
pub(crate) struct WeakFrames {
    sender: mpsc::WeakSender<Outbound>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The socket task's end.
#[derive(Debug)]
pub(crate) struct Queue {
    receiver: mpsc::Receiver<Outbound>,
    queued: Arc<AtomicUsize>,
}

/// A queue of at most `frames` frames and `bytes` bytes of text.
pub(crate) fn channel(frames: usize, bytes: usize) -> (Frames, Queue) {
    let (sender, receiver) = mpsc::channel(frames);
    let queued = Arc::new(AtomicUsize::new(0));
    (Frames { sender, queued: Arc::clone(&queued), max_bytes: bytes }, Queue { receiver, queued })
}

impl Frames {
    /// Queues `out` if there is room for it, in frames and in bytes.
    pub fn try_send(&self, out: Outbound) -> Result<(), Outbound> {
        let bytes = out.bytes();
        let room = self.queued.fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
            queued.checked_add(bytes).filter(|&total| total <= self.max_bytes)
        });
        if room.is_err() {
            return Err(out);
        }
        self.sender.try_send(out).map_err(|e| {
            self.queued.fetch_sub(bytes, Ordering::AcqRel);
            e.into_inner()
        })
    }

    pub fn downgrade(&self) -> WeakFrames {
        WeakFrames { sender: self.sender.downgrade(), queued: Arc::clone(&self.queued), max_bytes: self.max_bytes }
    }
}

impl WeakFrames {
    pub fn upgrade(&self) -> Option<Frames> {
        let sender = self.sender.upgrade()?;
        Some(Frames { sender, queued: Arc::clone(&self.queued), max_bytes: self.max_bytes })
    }
}

impl Queue {
    /// The next frame, once it is queued; `None` when every sender is gone.
    pub async fn recv(&mut self) -> Option<Outbound> {
        let out = self.receiver.recv().await?;
        Some(self.taken(out))
    }

    #[cfg(test)]
    pub fn try_recv(&mut self) -> Result<Outbound, mpsc::error::TryRecvError> {
        self.receiver.try_recv().map(|out| self.taken(out))
    }

    fn taken(&self, out: Outbound) -> Outbound {
        self.queued.fetch_sub(out.bytes(), Ordering::AcqRel);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_replay_fits() {
        let config = vizochok_server::ServerConfig::default();
        assert!(
            BACKLOG_FRAMES > config.replay_max_frames + 1,
            "a resume's auth_ok and whole replay, and room for more"
        );
    }

    #[test]
    fn no_debug_form_shows_a_frame() {
        let frame = Outbound::Text(r#"{"type":"auth_ok","session_id":"s-canary"}"#.into());
        assert!(!format!("{frame:?}").contains("s-canary"), "{frame:?}");
    }

    #[test]
    fn frames_wait_within_their_bytes_and_each_one_taken_makes_room() {
        let (frames, mut queue) = channel(16, 10);
        assert_eq!(frames.try_send(Outbound::Text("123456".into())), Ok(()));
        assert_eq!(frames.try_send(Outbound::Text("12345".into())), Err(Outbound::Text("12345".into())));
        assert_eq!(frames.try_send(Outbound::Text("1234".into())), Ok(()));
        // A close frame always fits the bytes (not the frame count).
        assert_eq!(frames.try_send(Outbound::Close(1000, "bye".into())), Ok(()));
        assert_eq!(queue.try_recv(), Ok(Outbound::Text("123456".into())));
        assert_eq!(frames.try_send(Outbound::Text("12345".into())), Ok(()));
        assert_eq!(frames.try_send(Outbound::Text("1".into())), Ok(()));
        assert_eq!(frames.try_send(Outbound::Text("1".into())), Err(Outbound::Text("1".into())));
    }

    #[test]
    fn a_frame_refused_for_the_count_leaves_the_bytes_as_they_were() {
        let (frames, mut queue) = channel(1, 10);
        assert_eq!(frames.try_send(Outbound::Text("12".into())), Ok(()));
        assert!(frames.try_send(Outbound::Text("12345678".into())).is_err());
        assert_eq!(queue.try_recv(), Ok(Outbound::Text("12".into())));
        assert_eq!(frames.try_send(Outbound::Text("1234567890".into())), Ok(()), "all 10 bytes are free again");
    }
}
