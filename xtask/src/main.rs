//! `cargo xtask <chore>`: every chore of the project, in Rust, with no
//! dependencies, so a fresh clone needs nothing but cargo.
//!
//! - `ci`: everything CI checks (formatting, lints, tests, simulation).
//! - `sim --seeds N | --seed S`: the deterministic simulator.

mod ci;
mod run;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::ci(),
        Some("sim") => ci::sim(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci | sim --seeds N | sim --seed S>");
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
