//! `codegen [--check]`: the foreign mirrors of the Rust types (the
//! TypeScript declarations, the Python dataclasses), written by
//! `crates/vizochok-codegen`; `--check` fails when a committed one is stale.

use crate::run::{cmd, run, Result};

pub fn codegen(args: &[String]) -> Result {
    let mut command = cmd("cargo", &["run", "--quiet", "--locked", "-p", "vizochok-codegen", "--"]);
    command.args(args);
    run(&mut command)
}
