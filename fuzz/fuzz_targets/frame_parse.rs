//! The frame parser on arbitrary bytes: never panics, and whatever it
//! accepts re-encodes to a frame that parses to the same value.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vizochok_fuzz::parse::run(data));
