//! The frame codec against the derive-based one it replaced, in the same
//! run (`cargo bench -p vizochok-proto`):
//!
//! - `parse/<frame>/{codec,serde}`: `frame::parse` (size check, one pass
//!   with the depth limit) against `frame::derived::parse` (size check,
//!   depth pre-scan, `serde_json::from_str`) of the same text;
//! - `encode/<frame>/{codec,serde}`: `frame::encode` against
//!   `frame::derived::encode` (`serde_json::to_string`) of the same frame.
//!
//! The frames are the ones a page really gets: a streamed `delta`, a
//! `response` with six product cards and a summary, a `cart_changed` with
//! five lines, and a restored `auth_ok` with its summary and history.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vizochok_proto::frame::{self, derived, ServerFrame, MAX_INBOUND_BYTES};

mod frames;
use frames::frames;

fn bench(c: &mut Criterion) {
    for (name, text) in frames() {
        // Both read the same frame, and write the same text back.
        let frame: ServerFrame = frame::parse(&text, MAX_INBOUND_BYTES).unwrap();
        assert_eq!(derived::parse::<ServerFrame>(&text, MAX_INBOUND_BYTES).unwrap(), frame);
        assert_eq!(frame::encode(&frame), derived::encode(&frame));
        println!("{name}: {} bytes", text.len());

        let mut parse = c.benchmark_group(format!("parse/{name}"));
        parse.throughput(Throughput::Bytes(text.len() as u64));
        parse.bench_function("codec", |b| {
            b.iter(|| frame::parse::<ServerFrame>(black_box(&text), MAX_INBOUND_BYTES).unwrap())
        });
        parse.bench_function("serde", |b| {
            b.iter(|| derived::parse::<ServerFrame>(black_box(&text), MAX_INBOUND_BYTES).unwrap())
        });
        parse.finish();

        let mut encode = c.benchmark_group(format!("encode/{name}"));
        encode.throughput(Throughput::Bytes(text.len() as u64));
        encode.bench_function("codec", |b| b.iter(|| frame::encode(black_box(&frame))));
        encode.bench_function("serde", |b| b.iter(|| derived::encode(black_box(&frame))));
        encode.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
