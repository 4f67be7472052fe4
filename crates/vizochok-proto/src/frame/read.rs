//! Every frame of both directions, read from JSON text with the rules of
//! `docs/protocol.md`: the `type` first (wherever it stands in the object),
//! unknown types as `Unknown`, then the frame's fields against its shape
//! (`record`): unknown fields skipped, a field given twice refused, required
//! fields present with the right kind of value, optional ones absent or
//! `null`.
//!
//! Each shape lists its fields in the order their absence is reported.

use std::borrow::Cow;

use super::record::{defaulted, fill, list, optional, record, required, Kind, Res, Shape, Slots, Value};
use crate::json::reader::{Field, Object, Reader};
use crate::json::Problem;
use crate::{
    AuthFrame, AuthOk, CartAction, CartChangedEvent, CartItem, ClientFrame, HistoryEntry, PageContext, PageInfo,
    ProductItem, Rating, Reply, Role, SdkInfo, Secret, ServerFrame, ServerLimits, SessionSummary,
};

pub(crate) const fn field(of: &'static str, name: &'static str) -> Field {
    Field { of, name, item: false }
}

const STR: Kind = Kind::Str;
const U64: Kind = Kind::U64;
const F64: Kind = Kind::F64;
const BOOL: Kind = Kind::Bool;

// ----- payload types ---------------------------------------------------------

static PRODUCT: Shape = Shape {
    of: "product",
    fields: &[
        required("sku", STR),
        required("name", STR),
        required("price", F64),
        required("unit", STR),
        required("quantity_step", F64),
        optional("quantity", F64),
        optional("brand", STR),
        optional("image_url", STR),
        optional("promo_price", F64),
    ],
};

pub(crate) fn product(r: &mut Reader<'_>, at: Field) -> Res<ProductItem> {
    record(r, at, &PRODUCT, |s| ProductItem {
        sku: s.string(0),
        name: s.string(1),
        price: s.f64(2),
        unit: s.string(3),
        quantity_step: s.f64(4),
        quantity: s.opt_f64(5),
        brand: s.opt_string(6),
        image_url: s.opt_string(7),
        promo_price: s.opt_f64(8),
    })
}

fn products(r: &mut Reader<'_>, f: Field) -> Res<Value> {
    list(r, f, product).map(Value::Products)
}

static CART_ITEM: Shape = Shape {
    of: "cart item",
    fields: &[
        required("sku", STR),
        required("name", STR),
        required("price", F64),
        optional("promo_price", F64),
        optional("brand", STR),
        required("quantity", F64),
    ],
};

fn cart_item(r: &mut Reader<'_>, at: Field) -> Res<CartItem> {
    record(r, at, &CART_ITEM, |s| CartItem {
        sku: s.string(0),
        name: s.string(1),
        price: s.f64(2),
        promo_price: s.opt_f64(3),
        brand: s.opt_string(4),
        quantity: s.f64(5),
    })
}

fn cart_items(r: &mut Reader<'_>, f: Field) -> Res<Value> {
    list(r, f, cart_item).map(Value::Items)
}

static SUMMARY: Shape = Shape {
    of: "summary",
    fields: &[
        required("selected_items", Kind::Nested(cart_items)),
        required("total", F64),
        required("item_count", U64),
    ],
};

fn summary(r: &mut Reader<'_>, at: Field) -> Res<Value> {
    let build = |s: &mut Slots| SessionSummary { selected_items: s.items(0), total: s.f64(1), item_count: s.u64(2) };
    record(r, at, &SUMMARY, build).map(Value::Summary)
}

const ROLES: [Role; 2] = [Role::User, Role::Assistant];
const RATINGS: [Rating; 2] = [Rating::Up, Rating::Down];
const RATING: Kind = Kind::OneOf { names: &["up", "down"], expected: "up or down" };

static HISTORY_ENTRY: Shape = Shape {
    of: "history entry",
    fields: &[
        required("role", Kind::OneOf { names: &["user", "assistant"], expected: "user or assistant" }),
        required("text", STR),
        optional("products", Kind::Nested(products)),
        optional("message_id", STR),
        optional("rating", RATING),
    ],
};

fn history_entry(r: &mut Reader<'_>, at: Field) -> Res<HistoryEntry> {
    record(r, at, &HISTORY_ENTRY, |s| HistoryEntry {
        role: ROLES.get(s.index(0)).copied().unwrap_or(Role::User),
        text: s.string(1),
        products: s.products(2),
        message_id: s.opt_string(3),
        rating: RATINGS.get(s.index(4)).copied(),
    })
}

fn history(r: &mut Reader<'_>, f: Field) -> Res<Value> {
    list(r, f, history_entry).map(Value::History)
}

static LIMITS: Shape = Shape {
    of: "limits",
    fields: &[
        optional(
            "max_message_chars",
            Kind::Bounded { max: usize::MAX as u64, expected: "an unsigned integer that fits this platform" },
        ),
        optional("heartbeat_ms", U64),
    ],
};

fn limits(r: &mut Reader<'_>, at: Field) -> Res<Value> {
    let build = |s: &mut Slots| ServerLimits {
        // Bounded by the platform's usize when read.
        max_message_chars: s.opt_u64(0).map(|n| n as usize),
        heartbeat_ms: s.opt_u64(1),
    };
    record(r, at, &LIMITS, build).map(Value::Limits)
}

static SDK: Shape = Shape { of: "sdk", fields: &[required("name", STR), required("version", STR)] };

fn sdk(r: &mut Reader<'_>, at: Field) -> Res<Value> {
    record(r, at, &SDK, |s| SdkInfo { name: s.string(0), version: s.string(1) }).map(Value::Sdk)
}

static PAGE: Shape = Shape { of: "page", fields: &[optional("url", STR), optional("title", STR)] };

fn page(r: &mut Reader<'_>, at: Field) -> Res<Value> {
    record(r, at, &PAGE, |s| PageInfo { url: s.opt_string(0), title: s.opt_string(1) }).map(Value::Page)
}

fn strings(r: &mut Reader<'_>, f: Field) -> Res<Value> {
    list(r, f, Reader::string).map(Value::Strings)
}

static CONTEXT: Shape = Shape {
    of: "context",
    fields: &[
        optional("page", Kind::Nested(page)),
        optional("sku", STR),
        optional("category", STR),
        optional("query", STR),
        optional("locale", STR),
        optional("currency", STR),
    ],
};

/// A page context on its own (as a host's API takes it), not inside a frame.
pub(crate) fn page_context(r: &mut Reader<'_>, at: Field) -> Res<PageContext> {
    record(r, at, &CONTEXT, |s| PageContext {
        page: s.page(0),
        sku: s.opt_string(1),
        category: s.opt_string(2),
        query: s.opt_string(3),
        locale: s.opt_string(4),
        currency: s.opt_string(5),
    })
}

// ----- frames ------------------------------------------------------------------

/// One type of frame: its `type`, its fields, and how they become the frame.
struct FrameDef<T: 'static> {
    tag: &'static str,
    shape: Shape,
    build: fn(&mut Slots) -> T,
}

const fn frame<T>(tag: &'static str, fields: &'static [super::record::Def], build: fn(&mut Slots) -> T) -> FrameDef<T> {
    // A field past the slots would be skipped as if unknown.
    assert!(fields.len() <= super::record::MAX_FIELDS, "a frame has more fields than the slots hold");
    FrameDef { tag, shape: Shape { of: tag, fields }, build }
}

/// A frame of a `type` this version does not know: every field skipped.
static UNKNOWN: Shape = Shape { of: "", fields: &[] };

const TYPE: Field = field("frame", "type");

/// Reads the frame's `type` ahead (it may stand anywhere in the object),
/// then opens the object for its fields.
fn open<'a>(r: &mut Reader<'a>) -> Res<(Cow<'a, str>, Object)> {
    if r.peek() != b'{' {
        return Err(r.error(Problem::NotAnObject));
    }
    let mut ahead = r.clone();
    let mut object = ahead.object(TYPE)?;
    let tag = loop {
        match ahead.key(&mut object)? {
            Some(key) if key == "type" => {
                if ahead.peek() != b'"' {
                    return Err(ahead.error(Problem::TypeNotAString));
                }
                break ahead.str(TYPE)?;
            }
            Some(_) => ahead.skip()?,
            None => return Err(ahead.error(Problem::NoType)),
        }
    };
    let object = r.object(TYPE)?;
    Ok((tag, object))
}

/// Reads a frame of one of `defs` (or `unknown`); the text must hold nothing else.
fn read_frame<T>(r: &mut Reader<'_>, defs: &[FrameDef<T>], unknown: fn() -> T) -> Res<T> {
    let (tag, mut object) = open(r)?;
    let def = defs.iter().find(|d| d.tag == tag);
    let mut slots = Slots::default();
    fill(r, &mut object, def.map_or(&UNKNOWN, |d| &d.shape), true, &mut slots)?;
    let frame = def.map_or_else(unknown, |d| (d.build)(&mut slots));
    r.end()?;
    Ok(frame)
}

/// Reads a server frame; the text must hold nothing else.
pub(crate) fn server_frame(r: &mut Reader<'_>) -> Res<ServerFrame> {
    read_frame(r, &SERVER, || ServerFrame::Unknown)
}

/// Reads a client frame; the text must hold nothing else.
pub(crate) fn client_frame(r: &mut Reader<'_>) -> Res<ClientFrame> {
    read_frame(r, &CLIENT, || ClientFrame::Unknown)
}

const CART_ACTION: Kind = Kind::OneOf {
    names: &["item_selected", "item_removed", "quantity_updated", "cart_cleared"],
    expected: "item_selected, item_removed, quantity_updated or cart_cleared",
};

static SERVER: [FrameDef<ServerFrame>; 11] = [
    frame(
        "auth_ok",
        &[
            required("session_id", STR),
            required("restored", BOOL),
            required("replay", BOOL),
            optional("summary", Kind::Nested(summary)),
            optional("history", Kind::Nested(history)),
            optional("limits", Kind::Nested(limits)),
        ],
        |s| {
            ServerFrame::AuthOk(AuthOk {
                session_id: s.string(0),
                restored: s.bool(1),
                replay: s.bool(2),
                summary: s.summary(3),
                history: s.history(4),
                limits: s.limits(5),
            })
        },
    ),
    frame("auth_error", &[required("code", STR), optional("message", STR)], |s| ServerFrame::AuthError {
        code: s.string(0),
        message: s.opt_string(1),
    }),
    frame("ack", &[required("id", STR)], |s| ServerFrame::Ack { id: s.string(0) }),
    frame("typing", &[required("seq", U64), optional("reply_to", STR)], |s| ServerFrame::Typing {
        seq: s.u64(0),
        reply_to: s.opt_string(1),
    }),
    frame(
        "delta",
        &[required("seq", U64), required("message_id", STR), required("reply_to", STR), required("text", STR)],
        |s| ServerFrame::Delta { seq: s.u64(0), message_id: s.string(1), reply_to: s.string(2), text: s.string(3) },
    ),
    frame(
        "response",
        &[
            required("message_id", STR),
            required("reply_to", STR),
            required("text", STR),
            required("products", Kind::Nested(products)),
            optional("summary", Kind::Nested(summary)),
            defaulted("cancelled", BOOL),
            defaulted("suggestions", Kind::Nested(strings)),
            required("seq", U64),
            defaulted("again", BOOL),
        ],
        |s| {
            let reply = Reply {
                message_id: s.string(0),
                reply_to: s.string(1),
                text: s.string(2),
                products: s.products(3).unwrap_or_default(),
                summary: s.summary(4),
                cancelled: s.bool(5),
                suggestions: s.strings(6),
            };
            ServerFrame::Response { seq: s.u64(7), reply, again: s.bool(8) }
        },
    ),
    frame(
        "cart_changed",
        &[
            required("action", CART_ACTION),
            optional("sku", STR),
            optional("name", STR),
            optional("quantity", F64),
            optional("price", F64),
            required("items", Kind::Nested(cart_items)),
            required("total", F64),
            required("seq", U64),
        ],
        |s| {
            let change = CartChangedEvent {
                action: CartAction::ALL.get(s.index(0)).copied().unwrap_or(CartAction::CartCleared),
                sku: s.opt_string(1),
                name: s.opt_string(2),
                quantity: s.opt_f64(3),
                price: s.opt_f64(4),
                items: s.items(5),
                total: s.f64(6),
            };
            ServerFrame::CartChanged { seq: s.u64(7), change }
        },
    ),
    frame("user_message", &[required("seq", U64), required("id", STR), required("text", STR)], |s| {
        ServerFrame::UserMessage { seq: s.u64(0), id: s.string(1), text: s.string(2) }
    }),
    frame(
        "error",
        &[
            required("seq", U64),
            required("code", STR),
            optional("message", STR),
            optional("reply_to", STR),
            optional("retry_after_ms", U64),
        ],
        |s| ServerFrame::Error {
            seq: s.u64(0),
            code: s.string(1),
            message: s.opt_string(2),
            reply_to: s.opt_string(3),
            retry_after_ms: s.opt_u64(4),
        },
    ),
    frame("ping", &[optional("ts", F64)], |s| ServerFrame::Ping { ts: s.opt_f64(0) }),
    frame("pong", &[optional("ts", F64)], |s| ServerFrame::Pong { ts: s.opt_f64(0) }),
];

static CLIENT: [FrameDef<ClientFrame>; 11] = [
    frame(
        "auth",
        &[
            required("v", Kind::Bounded { max: u32::MAX as u64, expected: "an integer from 0 to 4294967295" }),
            required("api_key", STR),
            required("store_id", STR),
            optional("user_id", STR),
            optional("user_token", STR),
            optional("session_id", STR),
            optional("last_seq", U64),
            required("language", STR),
            required("sdk", Kind::Nested(sdk)),
            defaulted("new_session", BOOL),
        ],
        |s| {
            ClientFrame::Auth(AuthFrame {
                // Bounded by u32 when read.
                v: s.u64(0) as u32,
                api_key: Secret::new(s.string(1)),
                store_id: s.string(2),
                user_id: s.opt_string(3),
                user_token: s.opt_string(4).map(Secret::new),
                session_id: s.opt_string(5),
                last_seq: s.opt_u64(6),
                language: s.string(7),
                sdk: s.sdk(8),
                new_session: s.bool(9),
            })
        },
    ),
    frame("message", &[required("id", STR), required("text", STR)], |s| ClientFrame::Message {
        id: s.string(0),
        text: s.string(1),
    }),
    frame("select_item", &[required("id", STR), required("sku", STR), required("quantity", F64)], |s| {
        ClientFrame::SelectItem { id: s.string(0), sku: s.string(1), quantity: s.f64(2) }
    }),
    frame("update_quantity", &[required("id", STR), required("sku", STR), required("quantity", F64)], |s| {
        ClientFrame::UpdateQuantity { id: s.string(0), sku: s.string(1), quantity: s.f64(2) }
    }),
    frame("remove_item", &[required("id", STR), required("sku", STR)], |s| ClientFrame::RemoveItem {
        id: s.string(0),
        sku: s.string(1),
    }),
    frame("clear_cart", &[required("id", STR)], |s| ClientFrame::ClearCart { id: s.string(0) }),
    frame(
        "context",
        &[
            required("id", STR),
            optional("page", Kind::Nested(page)),
            optional("sku", STR),
            optional("category", STR),
            optional("query", STR),
            optional("locale", STR),
            optional("currency", STR),
        ],
        |s| {
            let context = PageContext {
                page: s.page(1),
                sku: s.opt_string(2),
                category: s.opt_string(3),
                query: s.opt_string(4),
                locale: s.opt_string(5),
                currency: s.opt_string(6),
            };
            ClientFrame::Context { id: s.string(0), context }
        },
    ),
    frame("cancel", &[required("id", STR), required("reply_to", STR)], |s| ClientFrame::Cancel {
        id: s.string(0),
        reply_to: s.string(1),
    }),
    frame(
        "feedback",
        &[required("id", STR), required("message_id", STR), required("rating", RATING), optional("comment", STR)],
        |s| ClientFrame::Feedback {
            id: s.string(0),
            message_id: s.string(1),
            rating: RATINGS.get(s.index(2)).copied().unwrap_or(Rating::Up),
            comment: s.opt_string(3),
        },
    ),
    frame("ping", &[optional("ts", F64)], |s| ClientFrame::Ping { ts: s.opt_f64(0) }),
    frame("pong", &[optional("ts", F64)], |s| ClientFrame::Pong { ts: s.opt_f64(0) }),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::record::MAX_FIELDS;

    #[test]
    fn every_record_fits_the_slots() {
        for shape in [&PRODUCT, &CART_ITEM, &SUMMARY, &HISTORY_ENTRY, &LIMITS, &SDK, &PAGE, &CONTEXT] {
            assert!(shape.fields.len() <= MAX_FIELDS, "{} has {} fields", shape.of, shape.fields.len());
        }
    }

    /// A page context on its own has the `context` frame's fields but its
    /// `id` (two lists: one shared list cost the module 110-151 B brotli).
    #[test]
    fn a_page_context_reads_as_the_context_frame_does() {
        let spelled = |defs: &[crate::frame::record::Def]| -> Vec<String> {
            defs.iter().map(|d| format!("{} {:?} {:?}", d.name, d.presence, d.kind)).collect()
        };
        let frame = CLIENT.iter().find(|def| def.tag == "context").unwrap();
        assert_eq!(spelled(&frame.shape.fields[1..]), spelled(CONTEXT.fields));
    }
}
