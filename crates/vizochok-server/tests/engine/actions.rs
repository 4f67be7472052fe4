//! Cart actions: ack, confirmation, dedup by id, catalog validation, seq.

use vizochok_proto::{CartAction, ClientFrame, ServerFrame};

use vizochok_server::MAX_QUANTITY;

use crate::harness::*;

#[test]
fn a_cart_action_is_acked_then_confirmed_with_the_whole_cart() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    let out = frames(&h.send(1, &select("a1", "milk-1", 2.0)), 1);
    assert_eq!(kinds(&out), ["ack", "cart_changed"]);
    assert_eq!(out[0], ServerFrame::Ack { id: "a1".into() });
    let ServerFrame::CartChanged { seq, change: CartChangedEvent { action, sku, name, quantity, price, items, total } } =
        &out[1]
    else {
        panic!()
    };
    assert_eq!((*seq, *action), (1, CartAction::ItemSelected));
    assert_eq!(
        (sku.as_deref(), name.as_deref(), *quantity, *price),
        (Some("milk-1"), Some("Milk 2.5%"), Some(2.0), Some(42.5))
    );
    assert_eq!((items.len(), *total), (1, 85.0));
    let cart = h.engine.session_cart(&sid).unwrap();
    assert_eq!((cart.items, cart.total), (items.clone(), 85.0));
}

#[test]
fn a_repeated_action_id_is_acked_again_but_applied_once() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "banana", 1.5));
    let again = frames(&h.send(1, &select("a1", "banana", 1.5)), 1);
    assert_eq!(again, [ServerFrame::Ack { id: "a1".into() }]);
    // Resent after a reconnect, as a client does with its unacknowledged set.
    h.closed(1);
    h.connect(2, Some(&sid), Some(1));
    assert_eq!(frames(&h.send(2, &select("a1", "banana", 1.5)), 2), [ServerFrame::Ack { id: "a1".into() }]);
    assert_eq!(h.applied(&sid, "a1"), 1);
    assert_eq!(h.engine.session_cart(&sid).unwrap().items[0].quantity, 1.5);
}

#[test]
fn update_remove_and_clear_report_their_actions() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "milk-1", 1.0));
    h.send(1, &select("a2", "bread", 1.0));
    let actions = [
        (
            ClientFrame::UpdateQuantity { id: "a3".into(), sku: "milk-1".into(), quantity: 3.0 },
            CartAction::QuantityUpdated,
            2,
        ),
        (ClientFrame::RemoveItem { id: "a4".into(), sku: "bread".into() }, CartAction::ItemRemoved, 1),
        (ClientFrame::ClearCart { id: "a5".into() }, CartAction::CartCleared, 0),
    ];
    for (frame, expected, lines) in actions {
        let out = frames(&h.send(1, &frame), 1);
        let ServerFrame::CartChanged { change: CartChangedEvent { action, items, .. }, .. } = &out[1] else {
            panic!("{out:?}")
        };
        assert_eq!((*action, items.len()), (expected, lines));
    }
    assert_eq!(h.engine.session_cart(&sid).unwrap().total, 0.0);
}

#[test]
fn actions_the_catalog_cannot_honour_are_refused_without_ack_and_may_be_retried() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    for bad in [select("a1", "no-such-sku", 1.0), select("a1", "banana", 0.7), select("a1", "milk-1", -1.0)] {
        let out = frames(&h.send(1, &bad), 1);
        assert!(acks(&out).is_empty());
        assert_eq!(errors(&out), [("invalid_json".into(), Some("a1".into()), None)]);
    }
    assert_eq!(h.applied(&sid, "a1"), 0);
    let out = frames(&h.send(1, &select("a1", "banana", 1.0)), 1);
    assert_eq!(kinds(&out), ["ack", "cart_changed"]);
}

#[test]
fn over_long_action_ids_are_refused() {
    let mut h = Harness::new(config());
    h.connect(1, None, None);
    let id = "x".repeat(65);
    let out = frames(&h.send(1, &select(&id, "bread", 1.0)), 1);
    // Not echoed: no client of ours sends such an id, and a hostile one
    // would have the engine send (and keep for replay) what it sent.
    assert_eq!(errors(&out), [("invalid_json".into(), None, None)]);
    let long = "x".repeat(60_000);
    let out = frames(&h.send(1, &select(&long, "bread", 1.0)), 1);
    assert!(out.iter().all(|f| serde_json::to_string(f).unwrap().len() < 300), "{out:?}");
}

#[test]
fn a_refusal_names_an_unknown_sku_without_echoing_all_of_it() {
    let mut h = Harness::new(config());
    h.connect(1, None, None);
    let out = frames(&h.send(1, &select("a1", &"s".repeat(60_000), 1.0)), 1);
    assert_eq!(errors(&out).len(), 1);
    assert!(out.iter().all(|f| serde_json::to_string(f).unwrap().len() < 300), "{out:?}");
    assert!(h.logs().iter().all(|l| format!("{l:?}").len() < 1_000));
}

#[test]
fn a_quantity_past_what_a_cart_line_holds_is_refused_and_the_cart_stays_finite() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    // 1e303 overflowed the cart's rounding to infinity, sent as `null`, and a
    // snapshot holding it could not be restored.
    for (id, quantity) in [("a1", 1e303), ("a2", MAX_QUANTITY + 1.0)] {
        let out = frames(&h.send(1, &select(id, "bread", quantity)), 1);
        assert_eq!(errors(&out), [("invalid_json".into(), Some(id.into()), None)]);
    }
    assert_eq!(kinds(&frames(&h.send(1, &select("a3", "bread", MAX_QUANTITY - 1.0)), 1)), ["ack", "cart_changed"]);
    // The sum of two allowed adds is held to the same bound (found when the
    // change is applied, after the ack).
    let out = frames(&h.send(1, &select("a4", "bread", 2.0)), 1);
    assert_eq!(errors(&out), [("internal_error".into(), Some("a4".into()), None)]);
    let mut fresh = Harness::new(config());
    fresh.engine.restore(&h.engine.snapshot()).unwrap();
    let summary = auth_ok(&fresh.connect(1, Some(&sid), None).1, 1).summary.unwrap();
    assert_eq!(summary.selected_items[0].quantity, MAX_QUANTITY - 1.0);
}

#[test]
fn seq_increases_by_one_with_every_sequenced_frame() {
    let mut h = Harness::new(config());
    h.connect(1, None, None);
    let mut out = frames(&h.send(1, &select("a1", "bread", 1.0)), 1);
    out.extend(frames(&h.send(1, &message("m1", "milk")), 1));
    out.extend(frames(&h.send(1, &select("a2", "nope", 1.0)), 1));
    let seqs: Vec<u64> = out.iter().filter_map(ServerFrame::seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert!(seqs.len() >= 5);
}
