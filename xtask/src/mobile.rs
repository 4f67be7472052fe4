//! The Kotlin and Swift SDKs. SCAFFOLD: owned by the mobile-SDK work.

use crate::run::Result;

pub fn bindgen(_args: &[String]) -> Result {
    Err("xtask bindgen: not built yet".into())
}

pub fn ci() -> Result {
    Ok(())
}
