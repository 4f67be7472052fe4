//! `vizochok-sim --seeds N [--from S]` runs N seeds and prints the first
//! failing one; `vizochok-sim --seed S` replays one seed with its trace.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| -> Option<u64> {
        let i = args.iter().position(|a| a == flag)?;
        args.get(i + 1)?.parse().ok()
    };
    if let Some(seed) = value("--seed") {
        let report = vizochok_sim::run(seed, true);
        for line in &report.trace {
            println!("{line}");
        }
        print_summary(&report);
        return if report.violations.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    let Some(seeds) = value("--seeds") else {
        eprintln!("usage: vizochok-sim --seeds N [--from S] | --seed S");
        return ExitCode::from(2);
    };
    let from = value("--from").unwrap_or(0);
    let (mut accepted, mut acked, mut failed, mut queued, mut virtual_ms) = (0, 0, 0, 0, 0);
    let (mut rolled_over, mut forgotten, mut most_lines, mut resets) = (0, 0, 0, 0);
    let (mut clients, mut shared, mut connections, mut pushed_out, mut shown, mut again) = (0, 0, 0, 0, 0, 0);
    let (mut cancelled, mut silent) = (0, 0);
    for seed in from..from + seeds {
        let report = vizochok_sim::run(seed, false);
        if !report.violations.is_empty() {
            println!("seed {seed} FAILED:");
            for v in &report.violations {
                println!("  {v}");
            }
            println!("replay it with: cargo xtask sim --seed {seed}");
            return ExitCode::FAILURE;
        }
        clients += report.clients;
        shared += report.shared_clients;
        connections += report.connections;
        pushed_out += report.pushed_out;
        silent += report.silent_closed;
        shown += report.messages_shown;
        again += report.replies_again;
        cancelled += report.cancelled;
        resets += report.resets;
        accepted += report.accepted;
        acked += report.acknowledged;
        failed += report.failed;
        queued += report.still_queued;
        virtual_ms += report.virtual_ms;
        rolled_over += u64::from(report.forgotten_ids > 0);
        forgotten += report.forgotten_ids;
        most_lines = most_lines.max(report.dedup_lines);
    }
    println!(
        "{seeds} seeds held every check: {clients} clients ({shared} sharing a session with another at rest), \
         {connections} connections ({pushed_out} pushed out by a ninth, \
         {silent} closed by the server's heartbeat); {accepted} actions accepted, {acked} acknowledged, {failed} ended by onError, \
         {queued} still queued at destroy; {} virtual hours simulated; dedup sets rolled over in {rolled_over} \
         seeds ({forgotten} applied ids forgotten; at most {most_lines} lines in a session), none applied twice; \
         {shown} messages shown in another client, {again} replies sent again after a restore, \
         {cancelled} replies stopped; {resets} resets, each into a new session",
        virtual_ms / 3_600_000
    );
    ExitCode::SUCCESS
}

fn print_summary(report: &vizochok_sim::Report) {
    println!(
        "seed {}: {} clients ({} sharing), {} connections ({} pushed out, {} closed by the heartbeat), {} accepted, {} acknowledged, {} failed, \
         {} still queued, {} virtual ms, {} applied ids forgotten, {} messages shown in another client, \
         {} replies sent again, {} replies stopped, {} resets",
        report.seed,
        report.clients,
        report.shared_clients,
        report.connections,
        report.pushed_out,
        report.silent_closed,
        report.accepted,
        report.acknowledged,
        report.failed,
        report.still_queued,
        report.virtual_ms,
        report.forgotten_ids,
        report.messages_shown,
        report.replies_again,
        report.cancelled,
        report.resets
    );
    for v in &report.violations {
        println!("VIOLATION: {v}");
    }
}
