//! Every frame of both directions, read from JSON text with the rules of
//! `docs/protocol.md`: the `type` first (wherever it stands in the object),
//! unknown types as `Unknown`, unknown fields skipped, a field given twice
//! refused, required fields present with the right kind of value, optional
//! ones absent or `null`.

use std::borrow::Cow;

use crate::json::reader::{Field, Object, Reader};
use crate::json::{Error, Problem};
use crate::{
    AuthFrame, AuthOk, CartAction, CartChangedEvent, CartItem, ClientFrame, HistoryEntry, PageContext, PageInfo,
    ProductItem, Rating, Reply, Role, SdkInfo, Secret, ServerFrame, ServerLimits, SessionSummary,
};

type Res<T> = Result<T, Error>;

pub(crate) const fn field(of: &'static str, name: &'static str) -> Field {
    Field { of, name, item: false }
}

/// Fills `slot` from the value; a field that is already set is a duplicate.
fn set<'a, T>(
    r: &mut Reader<'a>,
    slot: &mut Option<T>,
    field: Field,
    read: impl FnOnce(&mut Reader<'a>, Field) -> Res<T>,
) -> Res<()> {
    if slot.is_some() {
        return Err(r.error(Problem::Duplicate(field)));
    }
    *slot = Some(read(r, field)?);
    Ok(())
}

/// A required field's value, or the error that it is missing.
fn required<T>(r: &mut Reader<'_>, slot: Option<T>, field: Field) -> Res<T> {
    slot.ok_or_else(|| r.error(Problem::Missing(field)))
}

fn opt_string(r: &mut Reader<'_>, f: Field) -> Res<Option<String>> {
    r.nullable(f, Reader::string)
}

fn opt_f64(r: &mut Reader<'_>, f: Field) -> Res<Option<f64>> {
    r.nullable(f, Reader::f64)
}

fn opt_u64(r: &mut Reader<'_>, f: Field) -> Res<Option<u64>> {
    r.nullable(f, Reader::u64)
}

fn u32(r: &mut Reader<'_>, f: Field) -> Res<u32> {
    let at = r.position();
    let n = r.u64(f)?;
    u32::try_from(n).map_err(|_| r.mistyped_at(at, f, "an integer from 0 to 4294967295"))
}

fn opt_usize(r: &mut Reader<'_>, f: Field) -> Res<Option<usize>> {
    let at = r.position();
    match r.nullable(f, Reader::u64)? {
        None => Ok(None),
        Some(n) => usize::try_from(n)
            .map(Some)
            .map_err(|_| r.mistyped_at(at, f, "an unsigned integer that fits this platform")),
    }
}

fn list<'a, T>(r: &mut Reader<'a>, f: Field, mut item: impl FnMut(&mut Reader<'a>, Field) -> Res<T>) -> Res<Vec<T>> {
    let mut array = r.array(f)?;
    let mut items = Vec::new();
    while r.item(&mut array)? {
        items.push(item(r, Field { item: true, ..f })?);
    }
    Ok(items)
}

fn strings(r: &mut Reader<'_>, f: Field) -> Res<Vec<String>> {
    list(r, f, Reader::string)
}

/// A string that must be one of an enum's spellings.
fn spelling<T>(r: &mut Reader<'_>, f: Field, expected: &'static str, parse: fn(&str) -> Option<T>) -> Res<T> {
    let at = r.position();
    let text = r.str(f)?;
    parse(&text).ok_or_else(|| r.mistyped_at(at, f, expected))
}

fn cart_action(r: &mut Reader<'_>, f: Field) -> Res<CartAction> {
    spelling(r, f, "item_selected, item_removed, quantity_updated or cart_cleared", CartAction::parse)
}

fn role(r: &mut Reader<'_>, f: Field) -> Res<Role> {
    let parse = |t: &str| match t {
        "user" => Some(Role::User),
        "assistant" => Some(Role::Assistant),
        _ => None,
    };
    spelling(r, f, "user or assistant", parse)
}

fn rating(r: &mut Reader<'_>, f: Field) -> Res<Rating> {
    spelling(r, f, "up or down", Rating::parse)
}

// ----- payload types ---------------------------------------------------------

pub(crate) fn product(r: &mut Reader<'_>, at: Field) -> Res<ProductItem> {
    const OF: &str = "product";
    const SKU: Field = field(OF, "sku");
    const NAME: Field = field(OF, "name");
    const PRICE: Field = field(OF, "price");
    const UNIT: Field = field(OF, "unit");
    const STEP: Field = field(OF, "quantity_step");
    let (mut sku, mut name, mut price, mut unit, mut step) = (None, None, None, None, None);
    let (mut quantity, mut brand, mut image_url, mut promo_price) = (None, None, None, None);
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        match &*key {
            "sku" => set(r, &mut sku, SKU, Reader::string)?,
            "name" => set(r, &mut name, NAME, Reader::string)?,
            "price" => set(r, &mut price, PRICE, Reader::f64)?,
            "unit" => set(r, &mut unit, UNIT, Reader::string)?,
            "quantity_step" => set(r, &mut step, STEP, Reader::f64)?,
            "quantity" => set(r, &mut quantity, field(OF, "quantity"), opt_f64)?,
            "brand" => set(r, &mut brand, field(OF, "brand"), opt_string)?,
            "image_url" => set(r, &mut image_url, field(OF, "image_url"), opt_string)?,
            "promo_price" => set(r, &mut promo_price, field(OF, "promo_price"), opt_f64)?,
            _ => r.skip()?,
        }
    }
    Ok(ProductItem {
        sku: required(r, sku, SKU)?,
        name: required(r, name, NAME)?,
        price: required(r, price, PRICE)?,
        unit: required(r, unit, UNIT)?,
        quantity_step: required(r, step, STEP)?,
        quantity: quantity.flatten(),
        brand: brand.flatten(),
        image_url: image_url.flatten(),
        promo_price: promo_price.flatten(),
    })
}

fn cart_item(r: &mut Reader<'_>, at: Field) -> Res<CartItem> {
    const OF: &str = "cart item";
    const SKU: Field = field(OF, "sku");
    const NAME: Field = field(OF, "name");
    const PRICE: Field = field(OF, "price");
    const QUANTITY: Field = field(OF, "quantity");
    let (mut sku, mut name, mut price, mut promo_price, mut brand, mut quantity) = (None, None, None, None, None, None);
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        match &*key {
            "sku" => set(r, &mut sku, SKU, Reader::string)?,
            "name" => set(r, &mut name, NAME, Reader::string)?,
            "price" => set(r, &mut price, PRICE, Reader::f64)?,
            "promo_price" => set(r, &mut promo_price, field(OF, "promo_price"), opt_f64)?,
            "brand" => set(r, &mut brand, field(OF, "brand"), opt_string)?,
            "quantity" => set(r, &mut quantity, QUANTITY, Reader::f64)?,
            _ => r.skip()?,
        }
    }
    Ok(CartItem {
        sku: required(r, sku, SKU)?,
        name: required(r, name, NAME)?,
        price: required(r, price, PRICE)?,
        promo_price: promo_price.flatten(),
        brand: brand.flatten(),
        quantity: required(r, quantity, QUANTITY)?,
    })
}

fn summary(r: &mut Reader<'_>, at: Field) -> Res<SessionSummary> {
    const OF: &str = "summary";
    const ITEMS: Field = field(OF, "selected_items");
    const TOTAL: Field = field(OF, "total");
    const COUNT: Field = field(OF, "item_count");
    let (mut items, mut total, mut count) = (None, None, None);
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        match &*key {
            "selected_items" => set(r, &mut items, ITEMS, |r, f| list(r, f, cart_item))?,
            "total" => set(r, &mut total, TOTAL, Reader::f64)?,
            "item_count" => set(r, &mut count, COUNT, Reader::u64)?,
            _ => r.skip()?,
        }
    }
    Ok(SessionSummary {
        selected_items: required(r, items, ITEMS)?,
        total: required(r, total, TOTAL)?,
        item_count: required(r, count, COUNT)?,
    })
}

fn opt_summary(r: &mut Reader<'_>, f: Field) -> Res<Option<SessionSummary>> {
    r.nullable(f, summary)
}

fn history_entry(r: &mut Reader<'_>, at: Field) -> Res<HistoryEntry> {
    const OF: &str = "history entry";
    const ROLE: Field = field(OF, "role");
    const TEXT: Field = field(OF, "text");
    let (mut role_, mut text, mut products) = (None, None, None);
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        match &*key {
            "role" => set(r, &mut role_, ROLE, role)?,
            "text" => set(r, &mut text, TEXT, Reader::string)?,
            "products" => {
                set(r, &mut products, field(OF, "products"), |r, f| r.nullable(f, |r, f| list(r, f, product)))?
            }
            _ => r.skip()?,
        }
    }
    Ok(HistoryEntry { role: required(r, role_, ROLE)?, text: required(r, text, TEXT)?, products: products.flatten() })
}

fn limits(r: &mut Reader<'_>, at: Field) -> Res<ServerLimits> {
    const OF: &str = "limits";
    let (mut chars, mut heartbeat) = (None, None);
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        match &*key {
            "max_message_chars" => set(r, &mut chars, field(OF, "max_message_chars"), opt_usize)?,
            "heartbeat_ms" => set(r, &mut heartbeat, field(OF, "heartbeat_ms"), opt_u64)?,
            _ => r.skip()?,
        }
    }
    Ok(ServerLimits { max_message_chars: chars.flatten(), heartbeat_ms: heartbeat.flatten() })
}

fn sdk(r: &mut Reader<'_>, at: Field) -> Res<SdkInfo> {
    const OF: &str = "sdk";
    const NAME: Field = field(OF, "name");
    const VERSION: Field = field(OF, "version");
    let (mut name, mut version) = (None, None);
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        match &*key {
            "name" => set(r, &mut name, NAME, Reader::string)?,
            "version" => set(r, &mut version, VERSION, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(SdkInfo { name: required(r, name, NAME)?, version: required(r, version, VERSION)? })
}

/// A page context on its own (as a host's API takes it), not inside a frame.
pub(crate) fn page_context(r: &mut Reader<'_>, at: Field) -> Res<PageContext> {
    const OF: &str = "context";
    let mut c = PageContext::default();
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        let slot = match &*key {
            "page" => {
                c.page = r.nullable(field(OF, "page"), page)?;
                continue;
            }
            "sku" => &mut c.sku,
            "category" => &mut c.category,
            "query" => &mut c.query,
            "locale" => &mut c.locale,
            "currency" => &mut c.currency,
            _ => {
                r.skip()?;
                continue;
            }
        };
        *slot = opt_string(r, field(OF, "field"))?;
    }
    Ok(c)
}

fn page(r: &mut Reader<'_>, at: Field) -> Res<PageInfo> {
    const OF: &str = "page";
    let (mut url, mut title) = (None, None);
    let mut object = r.object(at)?;
    while let Some(key) = r.key(&mut object)? {
        match &*key {
            "url" => set(r, &mut url, field(OF, "url"), opt_string)?,
            "title" => set(r, &mut title, field(OF, "title"), opt_string)?,
            _ => r.skip()?,
        }
    }
    Ok(PageInfo { url: url.flatten(), title: title.flatten() })
}

// ----- frames ------------------------------------------------------------------

/// The keys of a frame's object after its `type`, which was read ahead:
/// its first occurrence is skipped here, a second one is a duplicate.
struct Keys {
    object: Object,
    seen_type: bool,
}

const TYPE: Field = field("frame", "type");

impl Keys {
    fn next<'a>(&mut self, r: &mut Reader<'a>) -> Res<Option<Cow<'a, str>>> {
        loop {
            match r.key(&mut self.object)? {
                Some(key) if key == "type" => {
                    if self.seen_type {
                        return Err(r.error(Problem::Duplicate(TYPE)));
                    }
                    self.seen_type = true;
                    r.skip()?;
                }
                other => return Ok(other),
            }
        }
    }

    /// Skips the rest of a frame whose type is unknown.
    fn skip_all(&mut self, r: &mut Reader<'_>) -> Res<()> {
        while self.next(r)?.is_some() {
            r.skip()?;
        }
        Ok(())
    }
}

/// Reads the frame's `type` ahead (it may stand anywhere in the object),
/// then opens the object for its fields.
fn open<'a>(r: &mut Reader<'a>) -> Res<(Cow<'a, str>, Keys)> {
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
    Ok((tag, Keys { object, seen_type: false }))
}

/// Reads a server frame; the text must hold nothing else.
pub(crate) fn server_frame(r: &mut Reader<'_>) -> Res<ServerFrame> {
    let (tag, mut keys) = open(r)?;
    let frame = match &*tag {
        "auth_ok" => ServerFrame::AuthOk(auth_ok(r, &mut keys)?),
        "auth_error" => auth_error(r, &mut keys)?,
        "ack" => ack(r, &mut keys)?,
        "typing" => typing(r, &mut keys)?,
        "delta" => delta(r, &mut keys)?,
        "response" => response(r, &mut keys)?,
        "cart_changed" => cart_changed(r, &mut keys)?,
        "user_message" => user_message(r, &mut keys)?,
        "error" => server_error(r, &mut keys)?,
        "ping" => ServerFrame::Ping { ts: ts(r, &mut keys, "ping")? },
        "pong" => ServerFrame::Pong { ts: ts(r, &mut keys, "pong")? },
        _ => {
            keys.skip_all(r)?;
            ServerFrame::Unknown
        }
    };
    r.end()?;
    Ok(frame)
}

/// Reads a client frame; the text must hold nothing else.
pub(crate) fn client_frame(r: &mut Reader<'_>) -> Res<ClientFrame> {
    let (tag, mut keys) = open(r)?;
    let frame = match &*tag {
        "auth" => ClientFrame::Auth(auth(r, &mut keys)?),
        "message" => message(r, &mut keys)?,
        "select_item" => quantity_frame(r, &mut keys, "select_item")?,
        "update_quantity" => quantity_frame(r, &mut keys, "update_quantity")?,
        "remove_item" => remove_item(r, &mut keys)?,
        "clear_cart" => clear_cart(r, &mut keys)?,
        "context" => context(r, &mut keys)?,
        "cancel" => cancel(r, &mut keys)?,
        "feedback" => feedback(r, &mut keys)?,
        "ping" => ClientFrame::Ping { ts: ts(r, &mut keys, "ping")? },
        "pong" => ClientFrame::Pong { ts: ts(r, &mut keys, "pong")? },
        _ => {
            keys.skip_all(r)?;
            ClientFrame::Unknown
        }
    };
    r.end()?;
    Ok(frame)
}

fn auth_ok(r: &mut Reader<'_>, keys: &mut Keys) -> Res<AuthOk> {
    const OF: &str = "auth_ok";
    const SESSION: Field = field(OF, "session_id");
    const RESTORED: Field = field(OF, "restored");
    const REPLAY: Field = field(OF, "replay");
    let (mut session_id, mut restored, mut replay) = (None, None, None);
    let (mut summary, mut history, mut limits_) = (None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "session_id" => set(r, &mut session_id, SESSION, Reader::string)?,
            "restored" => set(r, &mut restored, RESTORED, Reader::bool)?,
            "replay" => set(r, &mut replay, REPLAY, Reader::bool)?,
            "summary" => set(r, &mut summary, field(OF, "summary"), opt_summary)?,
            "history" => {
                set(r, &mut history, field(OF, "history"), |r, f| r.nullable(f, |r, f| list(r, f, history_entry)))?
            }
            "limits" => set(r, &mut limits_, field(OF, "limits"), |r, f| r.nullable(f, limits))?,
            _ => r.skip()?,
        }
    }
    Ok(AuthOk {
        session_id: required(r, session_id, SESSION)?,
        restored: required(r, restored, RESTORED)?,
        replay: required(r, replay, REPLAY)?,
        summary: summary.flatten(),
        history: history.flatten(),
        limits: limits_.flatten(),
    })
}

fn auth_error(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const CODE: Field = field("auth_error", "code");
    let (mut code, mut message) = (None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "code" => set(r, &mut code, CODE, Reader::string)?,
            "message" => set(r, &mut message, field("auth_error", "message"), opt_string)?,
            _ => r.skip()?,
        }
    }
    Ok(ServerFrame::AuthError { code: required(r, code, CODE)?, message: message.flatten() })
}

fn ack(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const ID: Field = field("ack", "id");
    let mut id = None;
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, ID, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(ServerFrame::Ack { id: required(r, id, ID)? })
}

fn typing(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const SEQ: Field = field("typing", "seq");
    let (mut seq, mut reply_to) = (None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "seq" => set(r, &mut seq, SEQ, Reader::u64)?,
            "reply_to" => set(r, &mut reply_to, field("typing", "reply_to"), opt_string)?,
            _ => r.skip()?,
        }
    }
    Ok(ServerFrame::Typing { seq: required(r, seq, SEQ)?, reply_to: reply_to.flatten() })
}

fn delta(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const OF: &str = "delta";
    const SEQ: Field = field(OF, "seq");
    const MESSAGE: Field = field(OF, "message_id");
    const REPLY_TO: Field = field(OF, "reply_to");
    const TEXT: Field = field(OF, "text");
    let (mut seq, mut message_id, mut reply_to, mut text) = (None, None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "seq" => set(r, &mut seq, SEQ, Reader::u64)?,
            "message_id" => set(r, &mut message_id, MESSAGE, Reader::string)?,
            "reply_to" => set(r, &mut reply_to, REPLY_TO, Reader::string)?,
            "text" => set(r, &mut text, TEXT, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(ServerFrame::Delta {
        seq: required(r, seq, SEQ)?,
        message_id: required(r, message_id, MESSAGE)?,
        reply_to: required(r, reply_to, REPLY_TO)?,
        text: required(r, text, TEXT)?,
    })
}

fn response(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const OF: &str = "response";
    const SEQ: Field = field(OF, "seq");
    const MESSAGE: Field = field(OF, "message_id");
    const REPLY_TO: Field = field(OF, "reply_to");
    const TEXT: Field = field(OF, "text");
    const PRODUCTS: Field = field(OF, "products");
    let (mut seq, mut message_id, mut reply_to, mut text, mut products) = (None, None, None, None, None);
    let (mut summary, mut cancelled, mut suggestions) = (None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "seq" => set(r, &mut seq, SEQ, Reader::u64)?,
            "message_id" => set(r, &mut message_id, MESSAGE, Reader::string)?,
            "reply_to" => set(r, &mut reply_to, REPLY_TO, Reader::string)?,
            "text" => set(r, &mut text, TEXT, Reader::string)?,
            "products" => set(r, &mut products, PRODUCTS, |r, f| list(r, f, product))?,
            "summary" => set(r, &mut summary, field(OF, "summary"), opt_summary)?,
            "cancelled" => set(r, &mut cancelled, field(OF, "cancelled"), Reader::bool)?,
            "suggestions" => set(r, &mut suggestions, field(OF, "suggestions"), strings)?,
            _ => r.skip()?,
        }
    }
    let reply = Reply {
        message_id: required(r, message_id, MESSAGE)?,
        reply_to: required(r, reply_to, REPLY_TO)?,
        text: required(r, text, TEXT)?,
        products: required(r, products, PRODUCTS)?,
        summary: summary.flatten(),
        cancelled: cancelled.unwrap_or(false),
        suggestions: suggestions.unwrap_or_default(),
    };
    Ok(ServerFrame::Response { seq: required(r, seq, SEQ)?, reply })
}

fn cart_changed(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const OF: &str = "cart_changed";
    const SEQ: Field = field(OF, "seq");
    const ACTION: Field = field(OF, "action");
    const ITEMS: Field = field(OF, "items");
    const TOTAL: Field = field(OF, "total");
    let (mut seq, mut action, mut sku, mut name) = (None, None, None, None);
    let (mut quantity, mut price, mut items, mut total) = (None, None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "seq" => set(r, &mut seq, SEQ, Reader::u64)?,
            "action" => set(r, &mut action, ACTION, cart_action)?,
            "sku" => set(r, &mut sku, field(OF, "sku"), opt_string)?,
            "name" => set(r, &mut name, field(OF, "name"), opt_string)?,
            "quantity" => set(r, &mut quantity, field(OF, "quantity"), opt_f64)?,
            "price" => set(r, &mut price, field(OF, "price"), opt_f64)?,
            "items" => set(r, &mut items, ITEMS, |r, f| list(r, f, cart_item))?,
            "total" => set(r, &mut total, TOTAL, Reader::f64)?,
            _ => r.skip()?,
        }
    }
    let change = CartChangedEvent {
        action: required(r, action, ACTION)?,
        sku: sku.flatten(),
        name: name.flatten(),
        quantity: quantity.flatten(),
        price: price.flatten(),
        items: required(r, items, ITEMS)?,
        total: required(r, total, TOTAL)?,
    };
    Ok(ServerFrame::CartChanged { seq: required(r, seq, SEQ)?, change })
}

fn user_message(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const OF: &str = "user_message";
    const SEQ: Field = field(OF, "seq");
    const ID: Field = field(OF, "id");
    const TEXT: Field = field(OF, "text");
    let (mut seq, mut id, mut text) = (None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "seq" => set(r, &mut seq, SEQ, Reader::u64)?,
            "id" => set(r, &mut id, ID, Reader::string)?,
            "text" => set(r, &mut text, TEXT, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(ServerFrame::UserMessage {
        seq: required(r, seq, SEQ)?,
        id: required(r, id, ID)?,
        text: required(r, text, TEXT)?,
    })
}

fn server_error(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ServerFrame> {
    const OF: &str = "error";
    const SEQ: Field = field(OF, "seq");
    const CODE: Field = field(OF, "code");
    let (mut seq, mut code, mut message, mut reply_to, mut retry) = (None, None, None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "seq" => set(r, &mut seq, SEQ, Reader::u64)?,
            "code" => set(r, &mut code, CODE, Reader::string)?,
            "message" => set(r, &mut message, field(OF, "message"), opt_string)?,
            "reply_to" => set(r, &mut reply_to, field(OF, "reply_to"), opt_string)?,
            "retry_after_ms" => set(r, &mut retry, field(OF, "retry_after_ms"), opt_u64)?,
            _ => r.skip()?,
        }
    }
    Ok(ServerFrame::Error {
        seq: required(r, seq, SEQ)?,
        code: required(r, code, CODE)?,
        message: message.flatten(),
        reply_to: reply_to.flatten(),
        retry_after_ms: retry.flatten(),
    })
}

/// The optional `ts` of `ping` and `pong`, both directions.
fn ts(r: &mut Reader<'_>, keys: &mut Keys, of: &'static str) -> Res<Option<f64>> {
    let mut ts = None;
    while let Some(key) = keys.next(r)? {
        match &*key {
            "ts" => set(r, &mut ts, field(of, "ts"), opt_f64)?,
            _ => r.skip()?,
        }
    }
    Ok(ts.flatten())
}

fn auth(r: &mut Reader<'_>, keys: &mut Keys) -> Res<AuthFrame> {
    const OF: &str = "auth";
    const V: Field = field(OF, "v");
    const KEY: Field = field(OF, "api_key");
    const STORE: Field = field(OF, "store_id");
    const LANGUAGE: Field = field(OF, "language");
    const SDK: Field = field(OF, "sdk");
    let (mut v, mut api_key, mut store_id, mut user_id, mut user_token) = (None, None, None, None, None);
    let (mut session_id, mut last_seq, mut language, mut sdk_) = (None, None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "v" => set(r, &mut v, V, u32)?,
            "api_key" => set(r, &mut api_key, KEY, Reader::string)?,
            "store_id" => set(r, &mut store_id, STORE, Reader::string)?,
            "user_id" => set(r, &mut user_id, field(OF, "user_id"), opt_string)?,
            "user_token" => set(r, &mut user_token, field(OF, "user_token"), opt_string)?,
            "session_id" => set(r, &mut session_id, field(OF, "session_id"), opt_string)?,
            "last_seq" => set(r, &mut last_seq, field(OF, "last_seq"), opt_u64)?,
            "language" => set(r, &mut language, LANGUAGE, Reader::string)?,
            "sdk" => set(r, &mut sdk_, SDK, sdk)?,
            _ => r.skip()?,
        }
    }
    Ok(AuthFrame {
        v: required(r, v, V)?,
        api_key: Secret::new(required(r, api_key, KEY)?),
        store_id: required(r, store_id, STORE)?,
        user_id: user_id.flatten(),
        user_token: user_token.flatten().map(Secret::new),
        session_id: session_id.flatten(),
        last_seq: last_seq.flatten(),
        language: required(r, language, LANGUAGE)?,
        sdk: required(r, sdk_, SDK)?,
    })
}

fn message(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ClientFrame> {
    const ID: Field = field("message", "id");
    const TEXT: Field = field("message", "text");
    let (mut id, mut text) = (None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, ID, Reader::string)?,
            "text" => set(r, &mut text, TEXT, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(ClientFrame::Message { id: required(r, id, ID)?, text: required(r, text, TEXT)? })
}

/// `select_item` and `update_quantity`: the same fields.
fn quantity_frame(r: &mut Reader<'_>, keys: &mut Keys, of: &'static str) -> Res<ClientFrame> {
    let (id_field, sku_field, quantity_field) = (field(of, "id"), field(of, "sku"), field(of, "quantity"));
    let (mut id, mut sku, mut quantity) = (None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, id_field, Reader::string)?,
            "sku" => set(r, &mut sku, sku_field, Reader::string)?,
            "quantity" => set(r, &mut quantity, quantity_field, Reader::f64)?,
            _ => r.skip()?,
        }
    }
    let (id, sku, quantity) =
        (required(r, id, id_field)?, required(r, sku, sku_field)?, required(r, quantity, quantity_field)?);
    Ok(if of == "select_item" {
        ClientFrame::SelectItem { id, sku, quantity }
    } else {
        ClientFrame::UpdateQuantity { id, sku, quantity }
    })
}

fn remove_item(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ClientFrame> {
    const ID: Field = field("remove_item", "id");
    const SKU: Field = field("remove_item", "sku");
    let (mut id, mut sku) = (None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, ID, Reader::string)?,
            "sku" => set(r, &mut sku, SKU, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(ClientFrame::RemoveItem { id: required(r, id, ID)?, sku: required(r, sku, SKU)? })
}

fn clear_cart(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ClientFrame> {
    const ID: Field = field("clear_cart", "id");
    let mut id = None;
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, ID, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(ClientFrame::ClearCart { id: required(r, id, ID)? })
}

fn context(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ClientFrame> {
    const OF: &str = "context";
    const ID: Field = field(OF, "id");
    let (mut id, mut page_, mut sku, mut category) = (None, None, None, None);
    let (mut query, mut locale, mut currency) = (None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, ID, Reader::string)?,
            "page" => set(r, &mut page_, field(OF, "page"), |r, f| r.nullable(f, page))?,
            "sku" => set(r, &mut sku, field(OF, "sku"), opt_string)?,
            "category" => set(r, &mut category, field(OF, "category"), opt_string)?,
            "query" => set(r, &mut query, field(OF, "query"), opt_string)?,
            "locale" => set(r, &mut locale, field(OF, "locale"), opt_string)?,
            "currency" => set(r, &mut currency, field(OF, "currency"), opt_string)?,
            _ => r.skip()?,
        }
    }
    let context = PageContext {
        page: page_.flatten(),
        sku: sku.flatten(),
        category: category.flatten(),
        query: query.flatten(),
        locale: locale.flatten(),
        currency: currency.flatten(),
    };
    Ok(ClientFrame::Context { id: required(r, id, ID)?, context })
}

fn cancel(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ClientFrame> {
    const ID: Field = field("cancel", "id");
    const REPLY_TO: Field = field("cancel", "reply_to");
    let (mut id, mut reply_to) = (None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, ID, Reader::string)?,
            "reply_to" => set(r, &mut reply_to, REPLY_TO, Reader::string)?,
            _ => r.skip()?,
        }
    }
    Ok(ClientFrame::Cancel { id: required(r, id, ID)?, reply_to: required(r, reply_to, REPLY_TO)? })
}

fn feedback(r: &mut Reader<'_>, keys: &mut Keys) -> Res<ClientFrame> {
    const OF: &str = "feedback";
    const ID: Field = field(OF, "id");
    const MESSAGE: Field = field(OF, "message_id");
    const RATING: Field = field(OF, "rating");
    let (mut id, mut message_id, mut rating_, mut comment) = (None, None, None, None);
    while let Some(key) = keys.next(r)? {
        match &*key {
            "id" => set(r, &mut id, ID, Reader::string)?,
            "message_id" => set(r, &mut message_id, MESSAGE, Reader::string)?,
            "rating" => set(r, &mut rating_, RATING, rating)?,
            "comment" => set(r, &mut comment, field(OF, "comment"), opt_string)?,
            _ => r.skip()?,
        }
    }
    Ok(ClientFrame::Feedback {
        id: required(r, id, ID)?,
        message_id: required(r, message_id, MESSAGE)?,
        rating: required(r, rating_, RATING)?,
        comment: comment.flatten(),
    })
}
