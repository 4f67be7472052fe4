//! Replays the committed seed corpus and every saved crash through the
//! targets' bodies on stable (`cargo test` in `fuzz/`), so a fixed crash
//! stays fixed. `VIZOCHOK_FUZZ_FILE=path` replays one file.

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
fn session_corpus() {
    replay("session", vizochok_fuzz::session::run);
}

#[test]
fn engine_corpus() {
    replay("engine", vizochok_fuzz::engine::run);
}
