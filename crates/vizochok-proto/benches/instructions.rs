//! The same work as `codec.rs`, counted in instructions instead of time, so
//! that the figures do not move with the load of a shared machine:
//!
//! ```sh
//! cargo bench -p vizochok-proto --bench instructions --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='*instructions::measured*' \
//!     target/release/deps/instructions-* response parse codec 1000
//! ```
//!
//! Arguments: frame (`delta`, `response`, `cart_changed`, `auth_ok`),
//! `parse` or `encode`, `codec` or `serde`, repetitions. Divide the
//! collected instructions by the repetitions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use vizochok_proto::frame::{self, derived, ServerFrame, MAX_INBOUND_BYTES};

mod frames;

#[inline(never)]
fn measured(times: usize, work: &dyn Fn()) {
    for _ in 0..times {
        work();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let [name, op, codec, times] = args.as_slice() else {
        return println!("usage: instructions FRAME parse|encode codec|serde REPETITIONS");
    };
    let times: usize = times.parse().expect("repetitions");
    let text = frames::frames().into_iter().find(|(n, _)| n == name).expect("a frame of the benchmark").1;
    let parsed: ServerFrame = frame::parse(&text, MAX_INBOUND_BYTES).unwrap();
    match (op.as_str(), codec.as_str()) {
        ("parse", "codec") => measured(times, &|| {
            black_box(frame::parse::<ServerFrame>(black_box(&text), MAX_INBOUND_BYTES).unwrap());
        }),
        ("parse", "serde") => measured(times, &|| {
            black_box(derived::parse::<ServerFrame>(black_box(&text), MAX_INBOUND_BYTES).unwrap());
        }),
        ("encode", "codec") => measured(times, &|| {
            black_box(frame::encode(black_box(&parsed)));
        }),
        ("encode", "serde") => measured(times, &|| {
            black_box(derived::encode(black_box(&parsed)));
        }),
        _ => panic!("parse|encode codec|serde"),
    }
}
