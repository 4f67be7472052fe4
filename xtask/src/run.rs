//! Running commands: echo them, fail loudly, keep build caches outside the clone.

use std::path::PathBuf;
use std::process::Command;
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
