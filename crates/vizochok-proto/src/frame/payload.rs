//! The callback contract's payloads as JSON on their own, for a host that
//! hands them to a page or takes them from one (the browser binding): the
//! same readers and writers as the frames, so a payload is spelled exactly
//! as inside a frame.

use super::codec::read_with;
use super::read::{field, page_context, product};
use super::{write, FrameError};
use crate::json::Writer;
use crate::markdown::Block;
use crate::{Cart, CartChangedEvent, HistoryEntry, PageContext, ProductItem, WidgetError};

fn written(write: impl FnOnce(&mut Writer)) -> String {
    let mut w = Writer::with_capacity(256);
    write(&mut w);
    w.finish()
}

fn object(write: impl FnOnce(&mut Writer)) -> String {
    written(|w| {
        w.begin_object();
        write(w);
        w.end_object();
    })
}

/// Reads a `ProductItem` (one object, nothing after it).
pub fn read_product(text: &str) -> Result<ProductItem, FrameError> {
    read_with(text, |r| {
        let p = product(r, field("value", "product"))?;
        r.end()?;
        Ok(p)
    })
}

/// Reads a `PageContext` (one object, nothing after it; unknown keys are ignored).
pub fn read_context(text: &str) -> Result<PageContext, FrameError> {
    read_with(text, |r| {
        let c = page_context(r, field("value", "context"))?;
        r.end()?;
        Ok(c)
    })
}

/// A `ProductItem`.
pub fn product_json(p: &ProductItem) -> String {
    written(|w| write::product(w, p))
}

/// A `HistoryEntry`, as an `auth_ok`'s history holds it.
pub fn history_entry_json(e: &HistoryEntry) -> String {
    written(|w| write::history_entry(w, e))
}

/// A `CartChangedEvent`.
pub fn cart_changed_json(e: &CartChangedEvent) -> String {
    object(|w| write::cart_changed(w, e))
}

/// A `Cart` (`{"items": …, "total": …}`).
pub fn cart_json(c: &Cart) -> String {
    object(|w| {
        w.key("items");
        write::cart_items(w, &c.items);
        w.key("total");
        w.f64(c.total);
    })
}

/// A `WidgetError`.
pub fn error_json(e: &WidgetError) -> String {
    object(|w| {
        w.str_field("code", e.code.as_str());
        w.str_field("message", &e.message);
        w.optional_str_field("detail", e.detail.as_deref());
        w.optional_str_field("reply_to", e.reply_to.as_deref());
        w.optional_u64_field("retry_after_ms", e.retry_after_ms);
    })
}

/// `{"type": kind, …}` with string fields (absent ones left out): a
/// message a page hands to its `onMessage`.
pub fn message_json(kind: &str, fields: &[(&str, Option<&str>)]) -> String {
    object(|w| {
        w.str_field("type", kind);
        for (name, value) in fields {
            w.optional_str_field(name, *value);
        }
    })
}

/// A reply's Markdown blocks.
pub fn blocks_json(blocks: &[Block]) -> String {
    written(|w| {
        w.begin_array();
        for block in blocks {
            w.begin_object();
            w.str_field("kind", block.kind.as_str());
            w.optional_u64_field("number", block.number.map(u64::from));
            w.key("spans");
            w.begin_array();
            for span in &block.spans {
                w.begin_object();
                w.str_field("text", &span.text);
                w.key("bold");
                w.bool(span.bold);
                w.key("italic");
                w.bool(span.italic);
                w.optional_str_field("link", span.link.as_deref());
                w.end_object();
            }
            w.end_array();
            w.end_object();
        }
        w.end_array();
    })
}

/// A JSON string.
pub fn string_json(text: &str) -> String {
    written(|w| w.str(text))
}

/// An object of string fields.
pub fn strings_json<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    object(|w| {
        for (name, value) in fields {
            w.str_field(name, value);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_s_product_and_context_read_back_and_bad_ones_are_refused() {
        let p =
            read_product(r#"{"sku":"a","name":"A","price":1.5,"unit":"kg","quantity_step":0.5,"extra":1}"#).unwrap();
        assert_eq!((p.sku.as_str(), p.quantity_step, p.brand.as_deref()), ("a", 0.5, None));
        assert_eq!(read_product(&product_json(&p)).unwrap(), p);
        assert!(matches!(read_product(r#"{"sku":"a"}"#), Err(FrameError::Malformed(_))));
        assert!(read_product(r#"{"sku":"a","name":"A","price":1,"unit":"kg","quantity_step":1} x"#).is_err());
        let c =
            read_context(r#"{"sku":"milk-1","page":{"url":"https://s.example/p"},"currency":"UAH","x":[1]}"#).unwrap();
        assert_eq!(c.sku.as_deref(), Some("milk-1"));
        assert_eq!(c.page.and_then(|p| p.url).as_deref(), Some("https://s.example/p"));
        assert!(read_context(r#"{"sku":5}"#).is_err());
    }

    #[test]
    fn a_bad_context_field_is_named_in_the_error() {
        for (text, name) in
            [(r#"{"sku":5}"#, "sku"), (r#"{"page":null,"locale":5}"#, "locale"), (r#"{"currency":[]}"#, "currency")]
        {
            let error = read_context(text).unwrap_err().to_string();
            assert!(error.contains(&format!("field `{name}` of `context`")), "{text}: {error}");
        }
        assert_eq!(read_context(r#"{"sku":null,"page":null,"query":"milk"}"#).unwrap().query.as_deref(), Some("milk"));
    }

    #[test]
    fn page_messages_carry_their_type() {
        assert_eq!(message_json("ack", &[("id", Some("a-1")), ("none", None)]), r#"{"type":"ack","id":"a-1"}"#);
        assert_eq!(string_json("a\"b"), r#""a\"b""#);
    }
}
