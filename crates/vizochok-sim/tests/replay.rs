//! The simulator's own promises: a seed replays exactly, and runs exercise
//! the faults they claim to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn a_seed_replays_the_same_trace() {
    let first = vizochok_sim::run(12_832, true);
    let second = vizochok_sim::run(12_832, true);
    assert!(first.trace.len() > 100);
    assert_eq!(first.trace, second.trace);
    assert_eq!(first.violations, second.violations);
}

#[test]
fn different_seeds_take_different_paths() {
    assert_ne!(vizochok_sim::run(1, true).trace, vizochok_sim::run(2, true).trace);
}

#[test]
fn a_batch_of_seeds_holds_every_check_and_meets_every_fault() {
    let mut seen = std::collections::BTreeSet::new();
    let (mut shared, mut shown, mut second_clients_traced) = (0, 0, 0);
    for seed in 0..40 {
        let report = vizochok_sim::run(seed, true);
        assert!(report.violations.is_empty(), "seed {seed}: {:?}", report.violations);
        assert!(report.acknowledged > 0, "seed {seed} got nothing done");
        shared += report.shared_clients;
        shown += report.messages_shown;
        second_clients_traced += report.trace.iter().filter(|line| line.contains(" c1 ")).count();
        for line in &report.trace {
            let faults =
                ["DROPPED", "lost in silence", "] cut", "vanishes", "restarts", "accepted=false", "(ok=false)"];
            for fault in faults {
                if line.contains(fault) {
                    seen.insert(fault);
                }
            }
        }
    }
    assert_eq!(seen.len(), 7, "faults met: {seen:?}");
    assert!(shared > 40, "{shared} clients shared a session at rest");
    assert!(shown > 1_000, "{shown} messages of one client shown in another");
    assert!(second_clients_traced > 1_000, "the trace names the second client");
}

#[test]
fn a_signed_in_shoppers_other_devices_join_the_tabs_session() {
    // Seed 6: a tab and two devices (no saved session id, a valid user_token).
    let report = vizochok_sim::run(6, true);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let devices: Vec<String> = report
        .trace
        .iter()
        .filter(|line| line.contains("opens as a Device"))
        .filter_map(|line| line.split_whitespace().nth(1).map(str::to_owned))
        .collect();
    assert_eq!(devices.len(), 2);
    for device in &devices {
        // Its first `auth_ok`: joined by identity, an existing session with its history.
        let first = report.trace.iter().find(|line| {
            line.split_whitespace().nth(1) == Some(device.as_str()) && line.contains(r#""type":"auth_ok""#)
        });
        assert!(first.is_some_and(|line| line.contains(r#""restored":true"#)), "{device}: {first:?}");
    }
    assert!(report.messages_shown > 0, "the clients showed one another's messages");
}

#[test]
fn a_ninth_connection_pushes_the_oldest_out_and_nothing_else_does() {
    // Seed 231 opens a crowd of tabs: more clients than a session holds connections.
    let report = vizochok_sim::run(231, false);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.clients > 8, "{} clients", report.clients);
    assert!(report.pushed_out > 0, "nobody was pushed out");
    assert!(report.shared_clients >= 2, "the crowd's two staying tabs share the session at rest");
}

#[test]
fn connections_whose_network_vanished_are_let_go_by_the_server_s_heartbeat() {
    // Seed 183: a crowd of tabs, whose networks vanish under them now and then.
    let report = vizochok_sim::run(183, false);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.silent_closed > 0, "no connection was closed for its silence");
    assert_eq!(report.pushed_out, 0, "the places the vanished left went to the new tabs");
}

#[test]
fn long_sessions_roll_their_dedup_lines_over_and_still_apply_nothing_twice() {
    // Every 16th seed is an hour-long session of a busy shopper.
    let report = vizochok_sim::run(16, false);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.accepted > 2_000, "{} actions", report.accepted);
    assert!(report.forgotten_ids > 1_000, "{} ids forgotten", report.forgotten_ids);
    assert_eq!(report.resets, 0, "a long session stays one conversation");
    // One line per client, however often each reconnects.
    assert!(report.connections > 64, "{} connections", report.connections);
    assert!(report.dedup_lines <= report.clients, "{} lines for {} clients", report.dedup_lines, report.clients);
}
