//! Encode-then-parse round trips of every client and server frame built
//! from the fuzzer's bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vizochok_fuzz::roundtrip::run(data));
