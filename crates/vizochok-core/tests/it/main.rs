//! The core's integration tests, in one binary: the contract row by row,
//! the driver's delivery rules, property tests, the scenario suite, and the
//! security gates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod contract;
mod driver;
mod gates;
mod properties;
mod scenarios;
mod support;
mod tabs_and_page;
