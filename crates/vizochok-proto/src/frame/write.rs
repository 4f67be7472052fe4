//! Every frame of both directions written as JSON text: `type` first, then
//! the fields in their declaration order; optional fields are left out when
//! absent, except the payload fields the callback contract spells as
//! explicit `null`s (`CartItem`'s and `ProductItem`'s `brand`, `promo_price`,
//! `image_url`).

use crate::json::Writer;
use crate::{
    AuthFrame, AuthOk, CartChangedEvent, CartItem, ClientFrame, HistoryEntry, PageContext, ProductItem, Reply,
    ServerFrame, SessionSummary,
};

fn begin(w: &mut Writer, kind: &str) {
    w.begin_object();
    w.str_field("type", kind);
}

fn seq(w: &mut Writer, seq: u64) {
    w.key("seq");
    w.u64(seq);
}

fn ts(w: &mut Writer, kind: &str, ts: Option<f64>) {
    begin(w, kind);
    w.optional_f64_field("ts", ts);
    w.end_object();
}

pub(crate) fn product(w: &mut Writer, p: &ProductItem) {
    w.begin_object();
    w.str_field("sku", &p.sku);
    w.str_field("name", &p.name);
    w.key("price");
    w.f64(p.price);
    w.str_field("unit", &p.unit);
    w.key("quantity_step");
    w.f64(p.quantity_step);
    w.optional_f64_field("quantity", p.quantity);
    w.nullable_str_field("brand", p.brand.as_deref());
    w.nullable_str_field("image_url", p.image_url.as_deref());
    w.nullable_f64_field("promo_price", p.promo_price);
    w.end_object();
}

fn products(w: &mut Writer, products: &[ProductItem]) {
    w.begin_array();
    for p in products {
        product(w, p);
    }
    w.end_array();
}

fn cart_item(w: &mut Writer, item: &CartItem) {
    w.begin_object();
    w.str_field("sku", &item.sku);
    w.str_field("name", &item.name);
    w.key("price");
    w.f64(item.price);
    w.nullable_f64_field("promo_price", item.promo_price);
    w.nullable_str_field("brand", item.brand.as_deref());
    w.key("quantity");
    w.f64(item.quantity);
    w.end_object();
}

pub(crate) fn cart_items(w: &mut Writer, items: &[CartItem]) {
    w.begin_array();
    for item in items {
        cart_item(w, item);
    }
    w.end_array();
}

pub(crate) fn summary(w: &mut Writer, s: &SessionSummary) {
    w.begin_object();
    w.key("selected_items");
    cart_items(w, &s.selected_items);
    w.key("total");
    w.f64(s.total);
    w.key("item_count");
    w.u64(s.item_count);
    w.end_object();
}

pub(crate) fn history_entry(w: &mut Writer, entry: &HistoryEntry) {
    w.begin_object();
    w.str_field("role", entry.role.as_str());
    w.str_field("text", &entry.text);
    if let Some(list) = &entry.products {
        w.key("products");
        products(w, list);
    }
    if let Some(id) = &entry.message_id {
        w.str_field("message_id", id);
    }
    if let Some(rating) = entry.rating {
        w.str_field("rating", rating.as_str());
    }
    w.end_object();
}

fn auth_ok(w: &mut Writer, ok: &AuthOk) {
    begin(w, "auth_ok");
    w.str_field("session_id", &ok.session_id);
    w.key("restored");
    w.bool(ok.restored);
    w.key("replay");
    w.bool(ok.replay);
    if let Some(s) = &ok.summary {
        w.key("summary");
        summary(w, s);
    }
    if let Some(entries) = &ok.history {
        w.key("history");
        w.begin_array();
        for entry in entries {
            history_entry(w, entry);
        }
        w.end_array();
    }
    if let Some(limits) = &ok.limits {
        w.key("limits");
        w.begin_object();
        w.optional_u64_field("max_message_chars", limits.max_message_chars.map(|n| n as u64));
        w.optional_u64_field("heartbeat_ms", limits.heartbeat_ms);
        w.end_object();
    }
    w.end_object();
}

pub(crate) fn reply(w: &mut Writer, reply: &Reply) {
    w.str_field("message_id", &reply.message_id);
    w.str_field("reply_to", &reply.reply_to);
    w.str_field("text", &reply.text);
    w.key("products");
    products(w, &reply.products);
    if let Some(s) = &reply.summary {
        w.key("summary");
        summary(w, s);
    }
    if reply.cancelled {
        w.key("cancelled");
        w.bool(true);
    }
    if !reply.suggestions.is_empty() {
        w.key("suggestions");
        w.begin_array();
        for s in &reply.suggestions {
            w.str(s);
        }
        w.end_array();
    }
}

pub(crate) fn cart_changed(w: &mut Writer, change: &CartChangedEvent) {
    w.str_field("action", change.action.as_str());
    w.optional_str_field("sku", change.sku.as_deref());
    w.optional_str_field("name", change.name.as_deref());
    w.optional_f64_field("quantity", change.quantity);
    w.optional_f64_field("price", change.price);
    w.key("items");
    cart_items(w, &change.items);
    w.key("total");
    w.f64(change.total);
}

/// Writes a server frame.
pub(crate) fn server_frame(frame: &ServerFrame) -> String {
    let mut w = Writer::with_capacity(128);
    server_fields(&mut w, frame);
    w.finish()
}

fn server_fields(w: &mut Writer, frame: &ServerFrame) {
    match frame {
        ServerFrame::AuthOk(ok) => auth_ok(w, ok),
        ServerFrame::AuthError { code, message } => {
            begin(w, "auth_error");
            w.str_field("code", code);
            w.optional_str_field("message", message.as_deref());
            w.end_object();
        }
        ServerFrame::Ack { id } => {
            begin(w, "ack");
            w.str_field("id", id);
            w.end_object();
        }
        ServerFrame::Typing { seq: n, reply_to } => {
            begin(w, "typing");
            seq(w, *n);
            w.optional_str_field("reply_to", reply_to.as_deref());
            w.end_object();
        }
        ServerFrame::Delta { seq: n, message_id, reply_to, text } => {
            begin(w, "delta");
            seq(w, *n);
            w.str_field("message_id", message_id);
            w.str_field("reply_to", reply_to);
            w.str_field("text", text);
            w.end_object();
        }
        ServerFrame::Response { seq: n, reply: r, again } => {
            begin(w, "response");
            seq(w, *n);
            reply(w, r);
            if *again {
                w.key("again");
                w.bool(true);
            }
            w.end_object();
        }
        ServerFrame::CartChanged { seq: n, change } => {
            begin(w, "cart_changed");
            seq(w, *n);
            cart_changed(w, change);
            w.end_object();
        }
        ServerFrame::UserMessage { seq: n, id, text } => {
            begin(w, "user_message");
            seq(w, *n);
            w.str_field("id", id);
            w.str_field("text", text);
            w.end_object();
        }
        ServerFrame::Error { seq: n, code, message, reply_to, retry_after_ms } => {
            begin(w, "error");
            seq(w, *n);
            w.str_field("code", code);
            w.optional_str_field("message", message.as_deref());
            w.optional_str_field("reply_to", reply_to.as_deref());
            w.optional_u64_field("retry_after_ms", *retry_after_ms);
            w.end_object();
        }
        ServerFrame::Ping { ts: t } => ts(w, "ping", *t),
        ServerFrame::Pong { ts: t } => ts(w, "pong", *t),
        ServerFrame::Unknown => {
            begin(w, "unknown");
            w.end_object();
        }
    }
}

fn auth(w: &mut Writer, auth: &AuthFrame) {
    begin(w, "auth");
    w.key("v");
    w.u64(u64::from(auth.v));
    w.str_field("api_key", auth.api_key.expose());
    w.str_field("store_id", &auth.store_id);
    w.optional_str_field("user_id", auth.user_id.as_deref());
    w.optional_str_field("user_token", auth.user_token.as_ref().map(|t| t.expose()));
    w.optional_str_field("session_id", auth.session_id.as_deref());
    w.optional_u64_field("last_seq", auth.last_seq);
    w.str_field("language", &auth.language);
    w.key("sdk");
    w.begin_object();
    w.str_field("name", &auth.sdk.name);
    w.str_field("version", &auth.sdk.version);
    w.end_object();
    if auth.new_session {
        w.key("new_session");
        w.bool(true);
    }
    w.end_object();
}

fn context(w: &mut Writer, id: &str, c: &PageContext) {
    begin(w, "context");
    w.str_field("id", id);
    if let Some(page) = &c.page {
        w.key("page");
        w.begin_object();
        w.optional_str_field("url", page.url.as_deref());
        w.optional_str_field("title", page.title.as_deref());
        w.end_object();
    }
    w.optional_str_field("sku", c.sku.as_deref());
    w.optional_str_field("category", c.category.as_deref());
    w.optional_str_field("query", c.query.as_deref());
    w.optional_str_field("locale", c.locale.as_deref());
    w.optional_str_field("currency", c.currency.as_deref());
    w.end_object();
}

/// Writes a client frame.
pub(crate) fn client_frame(frame: &ClientFrame) -> String {
    let mut w = Writer::with_capacity(128);
    match frame {
        ClientFrame::Auth(a) => auth(&mut w, a),
        ClientFrame::Message { id, text } => {
            begin(&mut w, "message");
            w.str_field("id", id);
            w.str_field("text", text);
            w.end_object();
        }
        ClientFrame::SelectItem { id, sku, quantity } | ClientFrame::UpdateQuantity { id, sku, quantity } => {
            let kind = if matches!(frame, ClientFrame::SelectItem { .. }) { "select_item" } else { "update_quantity" };
            begin(&mut w, kind);
            w.str_field("id", id);
            w.str_field("sku", sku);
            w.key("quantity");
            w.f64(*quantity);
            w.end_object();
        }
        ClientFrame::RemoveItem { id, sku } => {
            begin(&mut w, "remove_item");
            w.str_field("id", id);
            w.str_field("sku", sku);
            w.end_object();
        }
        ClientFrame::ClearCart { id } => {
            begin(&mut w, "clear_cart");
            w.str_field("id", id);
            w.end_object();
        }
        ClientFrame::Context { id, context: c } => context(&mut w, id, c),
        ClientFrame::Cancel { id, reply_to } => {
            begin(&mut w, "cancel");
            w.str_field("id", id);
            w.str_field("reply_to", reply_to);
            w.end_object();
        }
        ClientFrame::Feedback { id, message_id, rating, comment } => {
            begin(&mut w, "feedback");
            w.str_field("id", id);
            w.str_field("message_id", message_id);
            w.str_field("rating", rating.as_str());
            w.optional_str_field("comment", comment.as_deref());
            w.end_object();
        }
        ClientFrame::Ping { ts: t } => ts(&mut w, "ping", *t),
        ClientFrame::Pong { ts: t } => ts(&mut w, "pong", *t),
        ClientFrame::Unknown => {
            begin(&mut w, "unknown");
            w.end_object();
        }
    }
    w.finish()
}
