//! The hand-written frame codec against the derive-based one on arbitrary
//! text: the same decisions, the same frames, and an encoding that is a
//! fixed point.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vizochok_fuzz::diff::run(data));
