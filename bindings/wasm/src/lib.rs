//! The browser binding of the VIZOCHOK client: the core's `Driver` for a
//! JavaScript host.
//!
//! This crate adapts types only: the protocol and the run loop live in
//! `vizochok-core`. Each widget gets a core (a driver, by handle);
//! `widget.js` hands it socket events, the timer and the page's actions
//! through two entry points (`input`, `act`), and receives what the driver
//! asks for through the methods of its host object (`open`, `send`,
//! `close`, `timer`, `save`, `event`, `frame`, `report`). An event whose
//! data is the frame being handled reaches the page as `frame(kind)`: the
//! page turns its own parse of the frame into the callback's object, so a
//! frame's JSON is read once by Rust (to check it and apply it) and once by
//! the browser, never written out again. Other events come as
//! `event(kind, json)`.
//!
//! The module has no generated glue: `abi` is its boundary with
//! `js/src/core.js`, `page` what each of its exports does, `alloc` its
//! allocator and `utf8` the check of the text it is given. Only those two
//! are built for other targets (their tests run natively).

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod abi;
#[allow(unsafe_code)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod alloc;
#[cfg(target_arch = "wasm32")]
mod page;
#[allow(unsafe_code)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod utf8;
