//! The server engine under arbitrary client frames, connections, time and
//! webhook answers decoded from the fuzzer's bytes, with its invariants
//! checked after every step.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vizochok_fuzz::engine::run(data));
