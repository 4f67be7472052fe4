//! The benchmarks' frames, as text: the ones a page really gets.

fn product(i: usize) -> String {
    let promo = if i % 2 == 1 { "37.9" } else { "null" };
    format!(
        r#"{{"sku":"DAI-{i}","name":"Milk 2.5% 870 g","price":44.9,"unit":"pcs","quantity_step":1,"brand":"Галичина","image_url":"/img/DAI-{i}.svg","promo_price":{promo}}}"#
    )
}

fn item(i: usize) -> String {
    format!(
        r#"{{"sku":"DAI-{i}","name":"Halychyna milk 2.5% 870 g","price":44.9,"promo_price":null,"brand":"Галичина","quantity":{i}}}"#
    )
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}

/// A streamed `delta`, a `response` with six cards and a summary, a
/// `cart_changed` with five lines, a restored `auth_ok` with its history.
pub fn frames() -> Vec<(&'static str, String)> {
    let summary = format!(r#"{{"selected_items":[{}],"total":44.9,"item_count":1}}"#, item(1));
    let delta = r#"{"type":"delta","seq":41,"message_id":"r1","reply_to":"m1","text":"Here are some kinds of milk I found for you: "}"#;
    let response = format!(
        r#"{{"type":"response","seq":42,"message_id":"r1","reply_to":"m1","text":"Found 6 products.","products":[{}],"summary":{summary}}}"#,
        join((1..=6).map(product))
    );
    let cart = format!(
        r#"{{"type":"cart_changed","seq":43,"action":"item_selected","sku":"DAI-5","name":"Milk","quantity":5,"price":44.9,"items":[{}],"total":673.5}}"#,
        join((1..=5).map(item))
    );
    let history = format!(
        r#"[{{"role":"user","text":"молоко"}},{{"role":"assistant","text":"Found 2 products.","products":[{}]}},{{"role":"user","text":"add the second"}},{{"role":"assistant","text":"Added."}}]"#,
        join((1..=2).map(product))
    );
    let auth_ok = format!(
        r#"{{"type":"auth_ok","session_id":"s-7f3a","restored":true,"replay":false,"summary":{summary},"history":{history},"limits":{{"max_message_chars":2000,"heartbeat_ms":25000}}}}"#
    );
    vec![("delta", delta.to_owned()), ("response", response), ("cart_changed", cart), ("auth_ok", auth_ok)]
}
