//! Whatever a client resends across drops and restarts, no action id is
//! applied twice, and the engine never stalls a timer.

use proptest::prelude::*;
use vizochok_proto::ClientFrame;
use vizochok_server::ServerConfig;

use crate::harness::*;

#[derive(Debug, Clone)]
enum Step {
    Select(u8, u8),
    Message(u8),
    Clear(u8),
    Drop,
    Advance(u16),
    Restart(bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6, 0u8..4).prop_map(|(id, sku)| Step::Select(id, sku)),
        (0u8..6).prop_map(Step::Message),
        (0u8..6).prop_map(Step::Clear),
        Just(Step::Drop),
        (0u16..3_000).prop_map(Step::Advance),
        any::<bool>().prop_map(Step::Restart),
    ]
}

proptest! {
    #[test]
    fn no_action_is_applied_twice(steps in prop::collection::vec(step(), 1..60)) {
        let skus = ["milk-1", "milk-2", "banana", "bread"];
        let mut h = Harness::new(ServerConfig { delta_interval_ms: 40, delta_chars: 5, ..config() });
        let (sid, _) = h.connect(0, None, None);
        let mut conn = 0;
        let mut connected = true;
        for step in steps {
            if !connected {
                conn += 1;
                h.connect(conn, Some(&sid), Some(0));
                connected = true;
            }
            let frame = match step {
                Step::Select(id, sku) => Some(select(&format!("a{id}"), skus[sku as usize], 1.0)),
                Step::Message(id) => Some(message(&format!("a{id}"), "milk")),
                Step::Clear(id) => Some(ClientFrame::ClearCart { id: format!("a{id}") }),
                Step::Drop => { h.closed(conn); connected = false; None }
                Step::Advance(ms) => { h.advance(u64::from(ms)); None }
                Step::Restart(keep) => { h.engine.restart(h.now, keep); h.drain(); connected = false; None }
            };
            if let Some(frame) = frame {
                h.send(conn, &frame);
            }
            for n in 0..6 {
                let id = format!("a{n}");
                prop_assert!(h.applied(&sid, &id) <= 1, "{} applied twice", id);
            }
        }
    }
}
