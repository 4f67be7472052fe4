//! The browser package. SCAFFOLD: owned by the browser-package work.

use crate::run::Result;

pub fn wasm() -> Result {
    Err("xtask wasm: not built yet".into())
}

pub fn size() -> Result {
    Err("xtask size: not built yet".into())
}

pub fn demo(_args: &[String]) -> Result {
    Err("xtask demo: not built yet".into())
}

pub fn ci() -> Result {
    Ok(())
}
