//! Replays the committed seed corpus and every saved crash through the
//! targets' bodies on stable (`cargo test` in `fuzz/`), so a fixed crash
//! stays fixed, and every frame of the scenario suite through `frame_diff`.
//! `VIZOCHOK_FUZZ_FILE=path` replays one file.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(file) = std::env::var_os("VIZOCHOK_FUZZ_FILE") {
        if Path::new(&file).to_string_lossy().contains(target) {
            run(&std::fs::read(&file).expect("readable file"));
        }
        return;
    }
    let mut files = 0;
    for dir in [root.join("corpus").join(target), root.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.expect("entry").path();
            run(&std::fs::read(&path).expect("readable file"));
            files += 1;
        }
    }
    assert!(files > 0, "no corpus for {target}");
}

#[test]
fn frame_parse_corpus() {
    replay("frame_parse", vizochok_fuzz::parse::run);
}

#[test]
fn frame_roundtrip_corpus() {
    replay("frame_roundtrip", vizochok_fuzz::roundtrip::run);
}

#[test]
fn frame_diff_corpus() {
    replay("frame_diff", vizochok_fuzz::diff::run);
}

/// Every frame the scenario suite receives or expects to be sent, as text,
/// through both codecs (new scenarios are covered without a corpus update).
#[test]
fn frame_diff_scenario_frames() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut frames = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("readable scenario");
        let scenario: serde_json::Value = serde_json::from_str(&text).expect("a scenario is JSON");
        for step in scenario["steps"].as_array().expect("steps") {
            let sent = step["expect"].as_array().into_iter().flatten().map(|e| &e["send"]);
            for frame in sent.chain([&step["recv"]]).filter(|f| f.is_object()) {
                vizochok_fuzz::diff::run(frame.to_string().as_bytes());
                frames += 1;
            }
            if let Some(raw) = step["recv_text"].as_str() {
                vizochok_fuzz::diff::run(raw.as_bytes());
                frames += 1;
            }
        }
    }
    assert!(frames > 100, "only {frames} scenario frames");
}

#[test]
fn session_corpus() {
    replay("session", vizochok_fuzz::session::run);
}

#[test]
fn engine_corpus() {
    replay("engine", vizochok_fuzz::engine::run);
}
