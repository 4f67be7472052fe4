//! Fuzzing, benchmarks and security gates. SCAFFOLD: owned by the proof work.

use crate::run::Result;

pub fn fuzz(_args: &[String]) -> Result {
    Err("xtask fuzz: not built yet".into())
}

pub fn bench(_args: &[String]) -> Result {
    Err("xtask bench: not built yet".into())
}

pub fn ci() -> Result {
    Ok(())
}
