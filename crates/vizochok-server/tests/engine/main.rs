//! The engine driven through its public API with real client frames.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actions;
mod auth;
mod dedup;
mod frames;
mod harness;
mod identity;
mod ids;
mod interop;
mod lifecycle;
mod limits;
mod page;
mod properties;
mod resume;
mod secrets;
mod streaming;
mod tabs;
mod webhook;
