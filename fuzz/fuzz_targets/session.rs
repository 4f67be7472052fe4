//! The client session under arbitrary sequences of inputs, user actions and
//! time steps decoded from the fuzzer's bytes, with its invariants checked
//! after every step.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vizochok_fuzz::session::run(data));
