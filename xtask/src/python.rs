//! The Python package. SCAFFOLD: owned by the Python-package work.

use crate::run::Result;

pub fn python() -> Result {
    Err("xtask python: not built yet".into())
}

pub fn ci() -> Result {
    Ok(())
}
