//! Frames built from the fuzzer's bytes: every variant of both directions,
//! with fields that are sometimes plain, sometimes extreme.

use vizochok_proto::frame::{AuthFrame, AuthOk, ClientFrame, SdkInfo, ServerFrame, ServerLimits};
use vizochok_proto::{
    CartAction, CartChangedEvent, CartItem, ErrorCode, HistoryEntry, ProductItem, Rating, Reply, Role, Secret, SessionSummary,
};

use crate::Reader;

/// Context that makes generated frames meaningful to a session: the ids it
/// used, so acks and replies can name real actions.
#[derive(Debug, Default)]
pub struct Known {
    /// Action ids the session handed out.
    pub action_ids: Vec<String>,
    /// The session's current `last_seq`.
    pub last_seq: u64,
    /// Session ids offered in `auth_ok`.
    pub session_ids: Vec<String>,
}

/// An id: usually a known one, sometimes anything.
pub fn id(r: &mut Reader, known: &Known) -> String {
    let len = known.action_ids.len();
    if len > 0 && !r.u8().is_multiple_of(8) {
        // Recent ids are the interesting ones.
        let back = usize::from(r.u8()) % len.min(8);
        return known.action_ids[len - 1 - back].clone();
    }
    r.string(12)
}

fn opt<T>(r: &mut Reader, f: impl FnOnce(&mut Reader) -> T) -> Option<T> {
    if r.bool() {
        Some(f(r))
    } else {
        None
    }
}

fn sku(r: &mut Reader) -> String {
    match r.u8() % 4 {
        0 => r.string(8),
        n => format!("sku-{n}"),
    }
}

/// A cart line.
pub fn cart_item(r: &mut Reader) -> CartItem {
    CartItem {
        sku: sku(r),
        name: r.string(10),
        price: r.f64(),
        promo_price: opt(r, |r| r.f64()),
        brand: opt(r, |r| r.string(6)),
        quantity: r.f64(),
    }
}

/// A product card.
pub fn product(r: &mut Reader) -> ProductItem {
    ProductItem {
        sku: sku(r),
        name: r.string(10),
        price: r.f64(),
        unit: r.pick(&["pcs", "kg", "l", ""]).to_owned(),
        quantity_step: r.pick(&[1.0, 0.25, 0.1, 0.0, -1.0, 1e-300, 1e300]),
        quantity: opt(r, |r| r.f64()),
        brand: opt(r, |r| r.string(6)),
        image_url: opt(r, |r| r.string(12)),
        promo_price: opt(r, |r| r.f64()),
    }
}

fn items<T>(r: &mut Reader, max: u8, f: impl Fn(&mut Reader) -> T) -> Vec<T> {
    let n = r.u8() % (max + 1);
    (0..n).map(|_| f(r)).collect()
}

fn summary(r: &mut Reader) -> SessionSummary {
    SessionSummary { selected_items: items(r, 3, cart_item), total: r.f64(), item_count: u64::from(r.u8()) }
}

fn history(r: &mut Reader) -> HistoryEntry {
    HistoryEntry {
        role: if r.bool() { Role::User } else { Role::Assistant },
        text: r.string(12),
        products: opt(r, |r| items(r, 2, product)),
        message_id: opt(r, |r| r.string(8)),
        rating: opt(r, |r| if r.bool() { Rating::Up } else { Rating::Down }),
    }
}

fn cart_action(r: &mut Reader) -> CartAction {
    r.pick(&[CartAction::ItemSelected, CartAction::ItemRemoved, CartAction::QuantityUpdated, CartAction::CartCleared])
}

/// A `seq` near the session's own, or far from it.
fn seq(r: &mut Reader, known: &Known) -> u64 {
    match r.u8() % 8 {
        0 => 0,
        1 => u64::MAX,
        2 => r.u64(),
        n => known.last_seq.saturating_add(u64::from(n)).saturating_sub(3),
    }
}

/// A server error code: every seed code, a client-only code, or an unknown one.
fn code(r: &mut Reader) -> String {
    let i = usize::from(r.u8()) % (ErrorCode::ALL.len() + 1);
    match ErrorCode::ALL.get(i) {
        Some(code) => code.as_str().to_owned(),
        None => r.string(10),
    }
}

/// Any server frame. `key` is sometimes put where a hostile server might
/// echo it (error texts), to check that the client redacts it.
pub fn server_frame(r: &mut Reader, known: &Known, key: &str) -> ServerFrame {
    match r.u8() % 11 {
        0 => ServerFrame::AuthOk(AuthOk {
            session_id: match (r.u8() % 4, known.session_ids.last()) {
                (0, _) | (_, None) => r.pick(&["s1", "s2", "s3"]).to_owned(),
                (_, Some(last)) => last.clone(),
            },
            restored: r.bool(),
            replay: r.bool(),
            summary: opt(r, summary),
            history: opt(r, |r| items(r, 3, history)),
            limits: opt(r, |r| ServerLimits {
                max_message_chars: opt(r, |r| r.pick(&[0, 1, 5, 2_000, usize::MAX])),
                heartbeat_ms: opt(r, |r| r.pick(&[0, 1, 1_000, 30_000, u64::MAX])),
            }),
        }),
        1 => ServerFrame::AuthError {
            code: r.pick(&["invalid_api_key", "unknown_store", "origin_not_allowed", "unsupported_version"]).to_owned(),
            message: opt(r, |r| if r.bool() { format!("bad key {key}") } else { r.string(10) }),
        },
        2 | 3 => ServerFrame::Ack { id: id(r, known) },
        4 => ServerFrame::Typing { seq: seq(r, known), reply_to: opt(r, |r| id(r, known)) },
        5 => ServerFrame::Delta {
            seq: seq(r, known),
            message_id: r.string(4),
            reply_to: id(r, known),
            text: r.string(16),
        },
        6 => {
            let (seq, message_id, reply_to, text) = (seq(r, known), r.string(4), id(r, known), r.string(16));
            let (products, summary) = (items(r, 3, product), opt(r, summary));
            // One byte for both flags, so the corpus reads as before this one was added.
            let flags = r.u8();
            let suggestions = items(r, 4, |r| r.string(12));
            let cancelled = flags.is_multiple_of(4);
            let reply = Reply { message_id, reply_to, text, products, summary, cancelled, suggestions };
            ServerFrame::Response { seq, reply, again: flags % 8 == 1 }
        }
        7 => ServerFrame::CartChanged {
            seq: seq(r, known),
            change: CartChangedEvent {
                action: cart_action(r),
                sku: opt(r, sku),
                name: opt(r, |r| r.string(8)),
                quantity: opt(r, |r| r.f64()),
                price: opt(r, |r| r.f64()),
                items: items(r, 4, cart_item),
                total: r.f64(),
            },
        },
        8 => ServerFrame::Error {
            seq: seq(r, known),
            code: code(r),
            message: opt(r, |r| if r.bool() { format!("{key} leaked") } else { r.string(10) }),
            reply_to: opt(r, |r| id(r, known)),
            retry_after_ms: opt(r, |r| r.pick(&[0, 1, 500, 2_000, u64::MAX])),
        },
        9 => ServerFrame::Ping { ts: opt(r, |r| r.f64()) },
        _ => ServerFrame::Pong { ts: opt(r, |r| r.f64()) },
    }
}

/// Any client frame.
pub fn client_frame(r: &mut Reader) -> ClientFrame {
    let known = Known::default();
    match r.u8() % 8 {
        0 => {
            // `new_session` comes from `v`'s bytes, so the corpus reads as before the flag.
            let v = r.u32();
            ClientFrame::Auth(AuthFrame {
                v,
                api_key: Secret::new(r.string(12)),
                store_id: r.string(8),
                user_id: opt(r, |r| r.string(8)),
                user_token: opt(r, |r| Secret::new(r.string(8))),
                session_id: opt(r, |r| r.string(8)),
                last_seq: opt(r, |r| r.u64()),
                language: r.string(5),
                sdk: SdkInfo { name: r.string(8), version: r.string(5) },
                new_session: v % 2 == 1,
            })
        }
        1 => ClientFrame::Message { id: id(r, &known), text: r.string(32) },
        2 => ClientFrame::SelectItem { id: id(r, &known), sku: sku(r), quantity: r.f64() },
        3 => ClientFrame::UpdateQuantity { id: id(r, &known), sku: sku(r), quantity: r.f64() },
        4 => ClientFrame::RemoveItem { id: id(r, &known), sku: sku(r) },
        5 => ClientFrame::ClearCart { id: id(r, &known) },
        6 => ClientFrame::Ping { ts: opt(r, |r| r.f64()) },
        _ => ClientFrame::Pong { ts: opt(r, |r| r.f64()) },
    }
}
