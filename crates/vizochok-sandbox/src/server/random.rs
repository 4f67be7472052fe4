//! The operating system's random source, which the engine draws session
//! ids from (`docs/protocol.md`, "Session ids are secrets").

use vizochok_server::{RandomError, RandomSource};

/// The OS's CSPRNG (`getrandom`).
#[derive(Debug, Default)]
pub(crate) struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, bytes: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(bytes).map_err(|e| RandomError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        OsRandom.fill(&mut a).unwrap();
        OsRandom.fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
