//! `vizochok-sim --seeds N [--from S] [--threads T]` runs N seeds, T at a
//! time (default: one per core), and prints the lowest failing one;
//! `vizochok-sim --seed S` replays one seed with its trace.
//!
//! Each seed is a world of its own, so seeds run on several threads and the
//! totals are the same whatever their number or order.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;

use vizochok_sim::Report;

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
        eprintln!("usage: vizochok-sim --seeds N [--from S] [--threads T] | --seed S");
        return ExitCode::from(2);
    };
    let from = value("--from").unwrap_or(0);
    let cores = thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let threads = value("--threads").unwrap_or(cores).clamp(1, seeds.max(1));
    let (totals, failed) = run_seeds(from, seeds, threads, |seed| vizochok_sim::run(seed, false));
    if let Some(report) = failed {
        println!("seed {} FAILED:", report.seed);
        for v in &report.violations {
            println!("  {v}");
        }
        println!("replay it with: cargo xtask sim --seed {}", report.seed);
        return ExitCode::FAILURE;
    }
    totals.print(seeds);
    ExitCode::SUCCESS
}

/// Runs seeds `from..from + seeds` through `run` on `threads` threads: the
/// totals, and the lowest failing seed's report. Seeds are handed out in rising order and a
/// failure only stops new ones from being taken, so every seed below a
/// failing one still runs: the lowest failing seed is the same on any run.
fn run_seeds(from: u64, seeds: u64, threads: u64, run: impl Fn(u64) -> Report + Sync) -> (Totals, Option<Report>) {
    let next = AtomicU64::new(from);
    let stop = AtomicBool::new(false);
    let totals = Mutex::new(Totals::default());
    let failed = Mutex::new(None::<Report>);
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut mine = Totals::default();
                while !stop.load(Ordering::Relaxed) {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= from + seeds {
                        break;
                    }
                    let report = run(seed);
                    if report.violations.is_empty() {
                        mine.add(&report);
                        continue;
                    }
                    stop.store(true, Ordering::Relaxed);
                    let mut lowest = failed.lock().unwrap_or_else(|e| e.into_inner());
                    if lowest.as_ref().is_none_or(|r| r.seed > seed) {
                        *lowest = Some(report);
                    }
                }
                totals.lock().unwrap_or_else(|e| e.into_inner()).merge(&mine);
            });
        }
    });
    (into_inner(totals), into_inner(failed))
}

/// A mutex's value, also after a thread panicked holding it (the panic
/// itself ends the run).
fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// What the seeds that held add up to.
#[derive(Default)]
struct Totals {
    clients: usize,
    shared: usize,
    connections: usize,
    pushed_out: u64,
    silent: u64,
    shown: u64,
    again: u64,
    below: u64,
    cancelled: u64,
    resets: u64,
    accepted: usize,
    acked: usize,
    failed: usize,
    queued: usize,
    virtual_ms: u64,
    rolled_over: u64,
    forgotten: u64,
    most_lines: usize,
}

impl Totals {
    fn add(&mut self, r: &Report) {
        self.merge(&Totals {
            clients: r.clients,
            shared: r.shared_clients,
            connections: r.connections,
            pushed_out: r.pushed_out,
            silent: r.silent_closed,
            shown: r.messages_shown,
            again: r.replies_again,
            below: r.replies_below,
            cancelled: r.cancelled,
            resets: r.resets,
            accepted: r.accepted,
            acked: r.acknowledged,
            failed: r.failed,
            queued: r.still_queued,
            virtual_ms: r.virtual_ms,
            rolled_over: u64::from(r.forgotten_ids > 0),
            forgotten: r.forgotten_ids,
            most_lines: r.dedup_lines,
        });
    }

    fn merge(&mut self, o: &Totals) {
        self.clients += o.clients;
        self.shared += o.shared;
        self.connections += o.connections;
        self.pushed_out += o.pushed_out;
        self.silent += o.silent;
        self.shown += o.shown;
        self.again += o.again;
        self.below += o.below;
        self.cancelled += o.cancelled;
        self.resets += o.resets;
        self.accepted += o.accepted;
        self.acked += o.acked;
        self.failed += o.failed;
        self.queued += o.queued;
        self.virtual_ms += o.virtual_ms;
        self.rolled_over += o.rolled_over;
        self.forgotten += o.forgotten;
        self.most_lines = self.most_lines.max(o.most_lines);
    }

    fn print(&self, seeds: u64) {
        let Totals { clients, shared, connections, pushed_out, silent, shown, again, cancelled, resets, .. } = self;
        let Totals { accepted, acked, failed, queued, rolled_over, forgotten, most_lines, below, .. } = self;
        println!(
            "{seeds} seeds held every check: {clients} clients ({shared} sharing a session with another at rest), \
             {connections} connections ({pushed_out} pushed out by a ninth, \
             {silent} closed by the server's heartbeat); {accepted} actions accepted, {acked} acknowledged, {failed} ended by onError, \
             {queued} still queued at destroy; {} virtual hours simulated; dedup sets rolled over in {rolled_over} \
             seeds ({forgotten} applied ids forgotten; at most {most_lines} lines in a session), none applied twice; \
             {shown} messages shown in another client, {again} replies sent again after a restore \
             ({below} of them shown below a history that had lost them), {cancelled} replies stopped; {resets} resets, each into a new session",
            self.virtual_ms / 3_600_000
        );
    }
}

fn print_summary(report: &Report) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed's report: seeds divisible by 7 from 70 on fail, each seed has
    /// as many clients as its number.
    fn fake(seed: u64) -> Report {
        let violations = if seed >= 70 && seed.is_multiple_of(7) { vec![format!("seed {seed} broke")] } else { vec![] };
        Report { seed, violations, clients: seed as usize, dedup_lines: (seed % 13) as usize, ..Report::default() }
    }

    #[test]
    fn the_lowest_failing_seed_is_reported_on_any_number_of_threads() {
        for threads in [1, 2, 3, 8] {
            let (_, failed) = run_seeds(0, 500, threads, fake);
            let failed = failed.expect("seed 70 fails");
            assert_eq!((failed.seed, failed.violations), (70, vec!["seed 70 broke".to_owned()]), "{threads} threads");
        }
    }

    #[test]
    fn totals_do_not_depend_on_the_number_of_threads() {
        for threads in [1, 2, 5] {
            let (totals, failed) = run_seeds(10, 60, threads, fake);
            assert!(failed.is_none());
            assert_eq!(totals.clients, (10..70).sum::<u64>() as usize, "{threads} threads");
            assert_eq!(totals.most_lines, 12, "{threads} threads");
        }
    }
}
