//! A small seeded PRNG (SplitMix64). The core never reads an OS random
//! source: the host seeds it once, so a run replays exactly from its seed.

/// SplitMix64: tiny, fast, and good enough for jitter and id prefixes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[lo, hi]` (inclusive); `lo` when `hi <= lo`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        // `[0, u64::MAX]` has 2^64 values: the span wraps to 0, and any value will do.
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.next_u64() % span,
            None => self.next_u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_range_of_u64_is_a_range_too() {
        let mut rng = Rng::new(7);
        let values: Vec<u64> = (0..4).map(|_| rng.range(0, u64::MAX)).collect();
        assert!(values.windows(2).all(|w| w[0] != w[1]), "{values:?}");
        assert_eq!(rng.range(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn same_seed_same_sequence_and_ranges_hold() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            let x = a.range(500, 1000);
            assert_eq!(x, b.range(500, 1000));
            assert!((500..=1000).contains(&x));
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        assert_eq!(Rng::new(3).range(7, 7), 7);
    }
}
