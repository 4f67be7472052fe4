//! Cart arithmetic: one change applied to a cart against the catalog.

use vizochok_proto::frame::MAX_QUANTITY;
use vizochok_proto::{Cart, CartAction, CartItem, Language, SessionSummary};

use crate::{CartOp, Catalog};

/// A change that can be applied, and the cart it leads to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub action: CartAction,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub quantity: Option<f64>,
    pub price: Option<f64>,
    pub cart: Cart,
}

/// Why a change cannot be applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unfit {
    /// The catalog has no such product. The SKU is foreign text, whole, for
    /// `Engine::shown` to scrub and cut.
    UnknownSku(String),
    /// Anything else, in developer-facing English that names only numbers
    /// and the catalog's own SKUs.
    Reason(String),
}

/// Checks that `op` can be applied against the catalog.
pub(crate) fn check(op: &CartOp, catalog: &Catalog) -> Result<(), Unfit> {
    let (sku, quantity) = match op {
        CartOp::Add { sku, quantity } | CartOp::SetQuantity { sku, quantity } => (sku, Some(*quantity)),
        CartOp::Remove { sku } => (sku, None),
        CartOp::Clear => return Ok(()),
    };
    let product = catalog.get(sku).ok_or_else(|| Unfit::UnknownSku(sku.clone()))?;
    match quantity {
        Some(q) if !product.accepts_quantity(q) => Err(Unfit::Reason(format!(
            "quantity {q} of {sku:?} is not a positive multiple of {}",
            product.quantity_step
        ))),
        Some(q) if q > MAX_QUANTITY => Err(Unfit::Reason(format!("a quantity of {sku:?} above {MAX_QUANTITY}"))),
        _ => Ok(()),
    }
}

/// Applies `op` to `cart`, naming products in `language`.
pub(crate) fn apply(cart: &Cart, op: &CartOp, catalog: &Catalog, language: Language) -> Result<Change, Unfit> {
    check(op, catalog)?;
    let mut items = cart.items.clone();
    let (action, sku, quantity) = match op {
        CartOp::Clear => {
            return Ok(Change {
                action: CartAction::CartCleared,
                sku: None,
                name: None,
                quantity: None,
                price: None,
                cart: Cart::default(),
            });
        }
        CartOp::Remove { sku } => {
            items.retain(|item| &item.sku != sku);
            (CartAction::ItemRemoved, sku, 0.0)
        }
        CartOp::Add { sku, quantity } => {
            let before = items.iter().find(|item| &item.sku == sku).map_or(0.0, |item| item.quantity);
            (CartAction::ItemSelected, sku, before + quantity)
        }
        CartOp::SetQuantity { sku, quantity } => (CartAction::QuantityUpdated, sku, *quantity),
    };
    let product = catalog.get(sku).ok_or_else(|| Unfit::UnknownSku(sku.clone()))?;
    if quantity > MAX_QUANTITY {
        return Err(Unfit::Reason(format!("the cart would hold more than {MAX_QUANTITY} of {sku:?}")));
    }
    // Sums of float steps drift (0.1 + 0.2); the cart shows clean quantities.
    let quantity = round6(quantity);
    if action != CartAction::ItemRemoved {
        match items.iter_mut().find(|item| &item.sku == sku) {
            Some(item) => item.quantity = quantity,
            None => items.push(CartItem {
                sku: sku.clone(),
                name: product.display_name(language).to_owned(),
                price: product.price,
                promo_price: product.promo_price,
                brand: product.brand.clone(),
                quantity,
            }),
        }
    }
    let total = total(&items);
    Ok(Change {
        action,
        sku: Some(sku.clone()),
        name: Some(product.display_name(language).to_owned()),
        quantity: Some(quantity),
        price: Some(product.price),
        cart: Cart { items, total },
    })
}

/// The cart as a session summary.
pub(crate) fn summary(cart: &Cart) -> SessionSummary {
    SessionSummary { selected_items: cart.items.clone(), total: cart.total, item_count: cart.items.len() as u64 }
}

/// What the shopper pays: promo prices where active, rounded to cents.
fn total(items: &[CartItem]) -> f64 {
    // A fold from +0.0: `Iterator::sum` of no floats is -0.0, which would show as "-0" in a store's UI.
    let sum = items.iter().map(|item| item.promo_price.unwrap_or(item.price) * item.quantity).fold(0.0, |a, b| a + b);
    (sum * 100.0).round() / 100.0
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CatalogProduct;

    fn catalog() -> Catalog {
        let product = |sku: &str, step: f64, price: f64, promo: Option<f64>| CatalogProduct {
            sku: sku.into(),
            name: format!("Name {sku}"),
            name_en: None,
            brand: None,
            category: String::new(),
            unit: "pcs".into(),
            quantity_step: step,
            price,
            promo_price: promo,
            image_url: None,
            keywords: vec![],
        };
        Catalog::new(vec![product("a", 1.0, 10.0, Some(8.0)), product("w", 0.1, 3.0, None)])
    }

    #[test]
    fn an_empty_cart_totals_positive_zero() {
        assert_eq!(serde_json::to_string(&total(&[])).unwrap(), "0.0");
    }

    #[test]
    fn adds_accumulate_and_totals_use_promo_prices() {
        let c = catalog();
        let one = apply(&Cart::default(), &CartOp::Add { sku: "a".into(), quantity: 2.0 }, &c, Language::En).unwrap();
        let two = apply(&one.cart, &CartOp::Add { sku: "w".into(), quantity: 0.1 }, &c, Language::En).unwrap();
        let three = apply(&two.cart, &CartOp::Add { sku: "w".into(), quantity: 0.2 }, &c, Language::En).unwrap();
        assert_eq!(three.quantity, Some(0.3));
        assert_eq!(three.cart.total, 16.9);
        let removed = apply(&three.cart, &CartOp::Remove { sku: "a".into() }, &c, Language::En).unwrap();
        assert_eq!(removed.cart.items.len(), 1);
        assert_eq!(removed.action, CartAction::ItemRemoved);
    }

    #[test]
    fn unknown_skus_and_off_step_quantities_are_refused() {
        let c = catalog();
        assert!(check(&CartOp::Add { sku: "zz".into(), quantity: 1.0 }, &c).is_err());
        assert!(check(&CartOp::SetQuantity { sku: "a".into(), quantity: 1.5 }, &c).is_err());
        assert!(check(&CartOp::SetQuantity { sku: "a".into(), quantity: 0.0 }, &c).is_err());
        assert!(check(&CartOp::SetQuantity { sku: "w".into(), quantity: 0.7 }, &c).is_ok());
    }
}
