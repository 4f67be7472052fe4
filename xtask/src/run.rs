//! Running commands: echo them, fail loudly, keep build caches outside the clone.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The result of a chore: an error says what failed.
pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`). `cargo run` says where
/// `xtask/` is now; the path compiled in is where it was built, which is
/// another checkout when two share a target dir and this one's sources are older.
pub fn root() -> PathBuf {
    let manifest =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where builds go: `CARGO_TARGET_DIR` if set, else `~/.cache/vizochok/target`,
/// so a fresh clone on the same machine reuses earlier builds.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| root().join(".cache"));
    home.join(".cache/vizochok/target")
}

/// A command run from the workspace root with the shared target dir.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(root()).env("CARGO_TARGET_DIR", target_dir());
    command
}

/// Runs a command, printing it and how long it took; fails on a non-zero exit.
pub fn run(command: &mut Command) -> Result {
    let shown = format!("{command:?}").replace('"', "");
    println!("\n$ {shown}");
    let started = Instant::now();
    let status = command.status().map_err(|e| format!("cannot start {shown}: {e}"))?;
    println!("  ({:.1} s)", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// Runs a command and returns whether it succeeded, quietly (for probes).
pub fn probe(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether this process has run `cargo test --workspace` ([`workspace_tests`]).
static WORKSPACE_TESTED: AtomicBool = AtomicBool::new(false);

/// `cargo test --workspace`: every crate's tests; then the codec's as the
/// browser's module builds it (no `std-floats`), which the workspace's
/// features leave out.
pub fn workspace_tests() -> Result {
    run(&mut cmd("cargo", &["test", "--workspace", "--locked"]))?;
    let browser = ["test", "--locked", "-p", "vizochok-proto", "--no-default-features", "--test", "no_float_fallback"];
    run(&mut cmd("cargo", &browser))?;
    WORKSPACE_TESTED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Builds `packages` (each alone) into `target/debug`. After
/// [`workspace_tests`] (CI) it builds every workspace library and binary at
/// once instead, with the features `cargo test --workspace` resolved, so only
/// the final links run: `-p` resolves features for one package and compiles
/// most of its dependencies again (on a fresh 2-core machine, 127 s for the
/// CLI and about 340 s for the FFI library and uniffi-bindgen).
pub fn debug_build(packages: &[&str]) -> Result {
    if WORKSPACE_TESTED.load(Ordering::Relaxed) {
        return run(&mut cmd("cargo", &["build", "--workspace", "--tests", "--bins", "--lib", "--locked"]));
    }
    for package in packages {
        run(&mut cmd("cargo", &["build", "--locked", "-p", package]))?;
    }
    Ok(())
}

/// The `vizochok` binary the suites start the sandbox with (debug build:
/// quick to build, fast enough to serve; in CI, the one the CLI's tests ran).
pub fn sandbox_bin() -> Result<PathBuf> {
    debug_build(&["vizochok-cli"])?;
    Ok(target_dir().join("debug/vizochok"))
}
