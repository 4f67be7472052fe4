//! Where the engine's random bytes come from, and the identifiers made of
//! them (`docs/protocol.md`, "Session ids are secrets").
//!
//! The engine never reads an OS random source itself: the host hands it a
//! [`RandomSource`]. A server passes one backed by the operating system's
//! CSPRNG; tests and simulations pass a [`SeededRandom`] so that a run
//! replays exactly.

/// Bytes of randomness in a session id (128 bits, the contract's minimum).
const SESSION_ID_BYTES: usize = 16;
/// Bytes of a session's public tag (message ids, webhook keys).
const TAG_BYTES: usize = 8;
/// Longest prefix of a session id that may appear in a log line.
pub(crate) const LOG_PREFIX_CHARS: usize = 8;

/// A source of random bytes for identifiers that grant access.
///
/// A production host must back it with a cryptographically secure generator
/// (the OS's, for instance); whoever can predict its output can take over
/// sessions.
pub trait RandomSource: Send {
    /// Fills `bytes` with random bytes, or says why it could not. The
    /// engine then refuses to open a session rather than use weak bytes.
    fn fill(&mut self, bytes: &mut [u8]) -> Result<(), RandomError>;
}

/// The random source failed; developer-facing English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("random source failed: {0}")]
pub struct RandomError(pub String);

/// A deterministic generator (xoshiro256**, seeded through splitmix64).
///
/// **For tests and simulations only.** Everything it yields follows from
/// its seed, so ids made from it can be predicted by whoever knows the
/// seed; a real server uses the operating system's random source.
#[derive(Debug, Clone)]
pub struct SeededRandom {
    state: [u64; 4],
}

impl SeededRandom {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> SeededRandom {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        SeededRandom { state: [next(), next(), next(), next()] }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, bytes: &mut [u8]) -> Result<(), RandomError> {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

/// A fresh session id: `s-` and 32 lowercase hex digits, all 128 bits
/// drawn from `random` (nothing of a counter, a clock or another id).
pub(crate) fn session_id(random: &mut dyn RandomSource) -> Result<String, RandomError> {
    Ok(format!("s-{}", hex_of(random, SESSION_ID_BYTES)?))
}

/// A session's public tag: 16 hex digits that name its replies
/// (`<tag>-m<n>`) without revealing anything of the session id.
pub(crate) fn session_tag(random: &mut dyn RandomSource) -> Result<String, RandomError> {
    hex_of(random, TAG_BYTES)
}

fn hex_of(random: &mut dyn RandomSource, len: usize) -> Result<String, RandomError> {
    let mut bytes = vec![0u8; len];
    random.fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// What of a session id a log line may carry: its first
/// [`LOG_PREFIX_CHARS`] characters, enough to correlate lines.
pub(crate) fn log_prefix(session_id: &str) -> String {
    session_id.chars().take(LOG_PREFIX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_output_replays_and_differs_by_seed() {
        let draw = |seed| {
            let mut random = SeededRandom::new(seed);
            (session_id(&mut random).unwrap(), session_id(&mut random).unwrap())
        };
        let (a, b) = draw(7);
        assert_eq!(draw(7), (a.clone(), b.clone()));
        assert_ne!(a, b);
        assert_ne!(draw(8).0, a);
        assert_eq!(a.len(), 34);
        assert!(a[2..].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn a_log_prefix_is_at_most_eight_characters() {
        assert_eq!(log_prefix("s-0123456789abcdef0123456789abcdef"), "s-012345");
        assert_eq!(log_prefix("s-1"), "s-1");
    }
}
