//! Fuzzing, benchmarks and security gates.
//!
//! - `cargo xtask fuzz --time SECONDS [TARGET...]`: every cargo-fuzz target
//!   (or the named ones) for that long each, on nightly; installs nightly and
//!   cargo-fuzz when missing. The growing corpus lives in
//!   `~/.cache/vizochok/fuzz-corpus/<target>`; the committed seeds
//!   (`fuzz/corpus/<target>`) and past crashes (`fuzz/regressions/<target>`)
//!   are replayed first.
//! - `cargo xtask bench [criterion args]`: the core's criterion benchmarks
//!   and the memory measurement.
//! - `ci()`: the security gates, cargo-deny, and a 20-second fuzz smoke of
//!   every target.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::run::{cmd, probe, root, run, target_dir, Result};

/// Every fuzz target in `fuzz/Cargo.toml`.
const TARGETS: [&str; 5] = ["frame_parse", "frame_roundtrip", "frame_diff", "session", "engine"];
/// Seconds per target in CI.
const SMOKE_SECONDS: u64 = 20;
/// Tools installed with `cargo install`, pinned; a different version is reinstalled.
const CARGO_FUZZ: (&str, &str) = ("cargo-fuzz", "0.13.2");
const CARGO_DENY: (&str, &str) = ("cargo-deny", "0.20.2");

fn cache() -> PathBuf {
    target_dir().parent().map(Path::to_path_buf).unwrap_or_else(|| root().join(".cache"))
}

fn tools_bin() -> PathBuf {
    cache().join("tools/bin")
}

/// PATH with our tools first, so `cargo fuzz` / `cargo deny` find them.
fn path_with_tools() -> std::ffi::OsString {
    let mut paths = vec![tools_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

fn tool_cmd(program: &str, args: &[&str]) -> Command {
    let mut command = cmd(program, args);
    command.env("PATH", path_with_tools());
    command
}

/// `cargo install NAME --version V` into `~/.cache/vizochok/tools` unless
/// that exact version is there.
fn install_tool((name, version): (&str, &str)) -> Result {
    let binary = tools_bin().join(name);
    let installed = Command::new(&binary)
        .arg(name.trim_start_matches("cargo-"))
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version));
    if installed {
        return Ok(());
    }
    let tools = cache().join("tools");
    let tools = tools.to_string_lossy();
    let install = |locked: &[&str]| {
        let mut command = cmd("cargo", &[&["install", name, "--version", version, "--root", &tools], locked].concat());
        // A tool runs for seconds in a CI run: its own release profile
        // (cargo-deny's: fat LTO, one codegen unit) would take minutes to
        // build on a fresh machine.
        command.env("CARGO_PROFILE_RELEASE_LTO", "off").env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
        run(&mut command)
    };
    if install(&["--locked"]).is_err() {
        // The registry mirror may lack a version the tool's lock names.
        install(&[])?;
    }
    Ok(())
}

fn setup_fuzz() -> Result {
    let nightly = || probe("rustup", &["run", "nightly", "rustc", "--version"]);
    if !nightly() {
        let installed = run(&mut cmd("rustup", &["toolchain", "install", "nightly", "--profile", "minimal"]));
        // Another rustup may have held the lock and installed it meanwhile.
        if installed.is_err() && !nightly() {
            return installed;
        }
    }
    install_tool(CARGO_FUZZ)
}

/// `cargo xtask fuzz --time SECONDS [TARGET...]`.
pub fn fuzz(args: &[String]) -> Result {
    let mut seconds = None;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--time" => {
                let value = it.next().ok_or("--time needs SECONDS")?;
                seconds = Some(value.parse::<u64>().map_err(|_| format!("--time {value}: not a number of seconds"))?);
            }
            name if TARGETS.contains(&name) => targets.push(name.to_owned()),
            other => return Err(format!("fuzz: unknown argument {other:?} (targets: {})", TARGETS.join(", "))),
        }
    }
    let seconds = seconds.ok_or("usage: cargo xtask fuzz --time SECONDS [TARGET...]")?;
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    setup_fuzz()?;
    let mut report = Vec::new();
    for target in &targets {
        report.push(fuzz_target(target, seconds)?);
    }
    println!("\nfuzz summary ({seconds} s per target):");
    for line in &report {
        println!("  {line}");
    }
    Ok(())
}

/// Runs one target; returns a one-line summary or the crash it found.
fn fuzz_target(target: &str, seconds: u64) -> Result<String> {
    let fuzz_dir = root().join("fuzz");
    let work = cache().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let artifacts = cache().join("fuzz-artifacts").join(target);
    std::fs::create_dir_all(&artifacts).map_err(|e| format!("cannot create {}: {e}", artifacts.display()))?;
    let fuzz_target_dir = cache().join("fuzz-target");
    let log_path = cache().join(format!("fuzz-{target}.log"));
    let mut command = tool_cmd("cargo", &["+nightly", "fuzz", "run", "--sanitizer", "none", "--debug-assertions"]);
    command.arg("--fuzz-dir").arg(&fuzz_dir).arg("--target-dir").arg(&fuzz_target_dir).arg(target).arg(&work);
    for dir in [fuzz_dir.join("corpus").join(target), fuzz_dir.join("regressions").join(target)] {
        if dir.is_dir() {
            command.arg(dir);
        }
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg("-max_len=4096")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    let log = File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    command.stdout(Stdio::from(log)).stderr(Stdio::from(log_err));
    println!("\n$ cargo +nightly fuzz run {target} (log: {})", log_path.display());
    let started = Instant::now();
    let status = command.status().map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let lines: Vec<String> = File::open(&log_path)
        .map(|f| BufReader::new(f).lines().map_while(std::result::Result::ok).collect())
        .unwrap_or_default();
    let stat = |name: &str| {
        lines.iter().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned())).unwrap_or_else(|| "?".into())
    };
    let coverage = lines
        .iter()
        .rev()
        .find_map(|l| l.split("cov: ").nth(1).and_then(|c| c.split_whitespace().next()).map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    if !status.success() {
        for line in lines.iter().skip(lines.len().saturating_sub(40)) {
            eprintln!("  | {line}");
        }
        return Err(format!(
            "fuzz target {target} failed after {elapsed:.0} s; the crashing input is in {} (replay it with \
             `cd fuzz && VIZOCHOK_FUZZ_FILE=<file> cargo test --test corpus`, then add it to fuzz/regressions/{target}/ \
             and a test to the core)",
            artifacts.display()
        ));
    }
    let corpus = std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0);
    let line = format!(
        "{target}: {} execs in {elapsed:.0} s ({} /s), coverage {coverage} edges, {corpus} corpus files, no failure",
        stat("stat::number_of_executed_units:"),
        stat("stat::average_exec_per_sec:"),
    );
    println!("  {line}");
    Ok(line)
}

/// `cargo xtask bench [criterion args]`: short criterion runs, then memory.
pub fn bench(args: &[String]) -> Result {
    let mut command = cmd("cargo", &["bench", "-p", "vizochok-core", "--locked", "--bench", "core", "--"]);
    if args.is_empty() {
        command.args(["--warm-up-time", "1", "--measurement-time", "2"]);
    } else {
        command.args(args);
    }
    run(&mut command)?;
    run(&mut cmd("cargo", &["bench", "-p", "vizochok-core", "--locked", "--bench", "memory"]))
}

/// CI: security gates, cargo-deny, fuzz smoke.
pub fn ci() -> Result {
    gates()?;
    deny()?;
    // Every crash the fuzzers ever found, and the seed corpus, replayed on stable.
    run(&mut cmd("cargo", &["test", "--locked", "--manifest-path", "fuzz/Cargo.toml"]))?;
    setup_fuzz()?;
    // A fuzzer runs on one thread, and CI machines have two cores: two at a
    // time. The first run of each pair builds what both need (cargo's lock
    // holds the other back until it is built).
    let next = AtomicUsize::new(0);
    let results: Vec<Result<String>> = std::thread::scope(|scope| {
        let worker = || {
            let mut results = Vec::new();
            while let Some(target) = TARGETS.get(next.fetch_add(1, Ordering::Relaxed)) {
                results.push(fuzz_target(target, SMOKE_SECONDS));
            }
            results
        };
        let workers = [scope.spawn(worker), scope.spawn(worker)];
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|_| vec![Err("a fuzz worker panicked".into())]))
            .collect()
    });
    results.into_iter().try_for_each(|result| result.map(drop))
}

/// The core forbids `unsafe`; `ws://` to a remote host is refused before any I/O.
fn gates() -> Result {
    let lib = std::fs::read_to_string(root().join("crates/vizochok-core/src/lib.rs")).map_err(|e| e.to_string())?;
    if !lib.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]") {
        return Err("gate: crates/vizochok-core/src/lib.rs lost #![forbid(unsafe_code)]".into());
    }
    println!("gate: vizochok-core has #![forbid(unsafe_code)]");
    // `--workspace`, not `-p`: the features `cargo test --workspace` built with, so nothing is compiled again.
    run(&mut cmd("cargo", &["test", "--workspace", "--locked", "--test", "it", "gates::"]))
}

/// cargo-deny: licenses, bans and sources always; advisories when the
/// advisory database can be fetched (it lives on github.com, which this
/// project's CI machines cannot reach — then we say so instead of pretending).
fn deny() -> Result {
    install_tool(CARGO_DENY)?;
    run(&mut tool_cmd("cargo", &["deny", "--locked", "check", "licenses", "bans", "sources"]))?;
    let mut fetch = tool_cmd("cargo", &["deny", "fetch", "db"]);
    fetch.stdout(Stdio::null()).stderr(Stdio::null());
    let fetched = match fetch.spawn() {
        Ok(mut child) => {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => break status.success(),
                    Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break false;
                    }
                }
            }
        }
        Err(_) => false,
    };
    if fetched {
        run(&mut tool_cmd("cargo", &["deny", "--locked", "check", "--disable-fetch", "advisories"]))
    } else {
        println!(
            "\ncargo-deny advisories: NOT CHECKED — the RustSec database (github.com/rustsec/advisory-db) cannot be \
             fetched from this machine. Licenses, bans and sources were checked."
        );
        Ok(())
    }
}
