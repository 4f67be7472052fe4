//! `cargo xtask <chore>`: every chore of the project, in Rust, with no
//! dependencies, so a fresh clone needs nothing but cargo.
//!
//! - `ci`: everything CI checks (formatting, lints, tests, simulation, and
//!   each runtime's suite).
//! - `sim --seeds N | --seed S`: the deterministic simulator.
//! - `wasm [ci]`, `size`, `demo`: the browser package and its suite (`wasm.rs`).
//! - `python`: the Python wheel (`python.rs`).
//! - `bindgen`: the Kotlin and Swift sources (`mobile.rs`).
//! - `codegen [--check]`: the TypeScript and Python mirrors of the Rust types.
//! - `fuzz --time SECONDS`, `bench`: the proofs (`proof.rs`).

mod ci;
mod codegen;
mod mobile;
mod proof;
mod python;
mod run;
mod wasm;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::ci(),
        Some("sim") => ci::sim(&args[1..]),
        Some("wasm") if args.get(1).map(String::as_str) == Some("ci") => wasm::ci(),
        Some("wasm") => wasm::wasm(),
        Some("size") => wasm::size(),
        Some("demo") => wasm::demo(&args[1..]),
        Some("python") => python::python(),
        Some("bindgen") => mobile::bindgen(&args[1..]),
        Some("codegen") => codegen::codegen(&args[1..]),
        Some("fuzz") => proof::fuzz(&args[1..]),
        Some("bench") => proof::bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | sim --seeds N | sim --seed S | wasm [ci] | size | demo | python | bindgen [--check] | codegen [--check] \
                 | fuzz --time SECONDS | bench>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
