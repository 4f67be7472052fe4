//! The CI pipeline and the simulator chore.

use crate::run::{cmd, probe, run, Result};

/// Seeds the simulation runs in CI.
const CI_SEEDS: &str = "10000";

/// Everything CI checks, in order of how fast each fails.
pub fn ci() -> Result {
    setup_rust()?;
    run(&mut cmd("cargo", &["fmt", "--all", "--check"]))?;
    run(&mut cmd("cargo", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    crate::codegen::codegen(&["--check".into()])?;
    crate::run::workspace_tests()?;
    sim(&["--seeds".into(), CI_SEEDS.into()])?;
    crate::proof::ci()?;
    crate::python::ci()?;
    crate::wasm::ci()?;
    crate::mobile::ci()?;
    println!("\nxtask ci: every check passed");
    Ok(())
}

/// `sim --seeds N [--from S] [--threads T]` or `sim --seed S` (with a trace).
pub fn sim(args: &[String]) -> Result {
    let mut command = cmd("cargo", &["run", "--quiet", "--release", "--locked", "-p", "vizochok-sim", "--"]);
    command.args(args);
    run(&mut command)
}

/// The Rust components CI needs; `rustup` skips what is installed.
fn setup_rust() -> Result {
    if !probe("cargo", &["fmt", "--version"]) || !probe("cargo", &["clippy", "--version"]) {
        run(&mut cmd("rustup", &["component", "add", "rustfmt", "clippy"]))?;
    }
    Ok(())
}
