//! A store's product catalog, as the engine validates cart actions against it
//! and as assistants search it.

use serde::{Deserialize, Serialize};
use vizochok_proto::{Language, ProductItem};

/// One product of a store's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogProduct {
    /// Product SKU, unique in the store.
    pub sku: String,
    /// Display name in the store's main language (Ukrainian for the demo store).
    pub name: String,
    /// English display name, when the store has one.
    #[serde(default)]
    pub name_en: Option<String>,
    /// Brand.
    #[serde(default)]
    pub brand: Option<String>,
    /// Category key (`dairy`, `bakery`, ...).
    #[serde(default)]
    pub category: String,
    /// `pcs`, `kg`, `l`.
    pub unit: String,
    /// Smallest quantity increment (1 for pieces, 0.1 or 0.5 for weighed goods).
    pub quantity_step: f64,
    /// Price per unit.
    pub price: f64,
    /// Promotional price, if active.
    #[serde(default)]
    pub promo_price: Option<f64>,
    /// Image URL (the sandbox serves its own).
    #[serde(default)]
    pub image_url: Option<String>,
    /// Extra search words (synonyms in both languages).
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl CatalogProduct {
    /// The name shown to a shopper speaking `language`.
    pub fn display_name(&self, language: Language) -> &str {
        match (language, &self.name_en) {
            (Language::En, Some(en)) => en,
            _ => &self.name,
        }
    }

    /// The product card sent to clients.
    pub fn card(&self, language: Language) -> ProductItem {
        ProductItem {
            sku: self.sku.clone(),
            name: self.display_name(language).to_owned(),
            price: self.price,
            unit: self.unit.clone(),
            quantity_step: self.quantity_step,
            quantity: None,
            brand: self.brand.clone(),
            image_url: self.image_url.clone(),
            promo_price: self.promo_price,
        }
    }

    /// Whether `quantity` is positive and a whole multiple of the step (within 1e-9).
    pub fn accepts_quantity(&self, quantity: f64) -> bool {
        if !(quantity.is_finite() && quantity > 0.0 && self.quantity_step > 0.0) {
            return false;
        }
        let steps = quantity / self.quantity_step;
        (steps - steps.round()).abs() <= 1e-9 * steps.abs().max(1.0)
    }
}

/// A store's catalog. On the wire (a config file) it is a plain JSON array of
/// products.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Catalog {
    products: Vec<CatalogProduct>,
}

impl Catalog {
    /// A catalog of these products.
    pub fn new(products: Vec<CatalogProduct>) -> Catalog {
        Catalog { products }
    }

    /// Every product, in catalog order.
    pub fn products(&self) -> &[CatalogProduct] {
        &self.products
    }

    /// The product with this SKU.
    pub fn get(&self, sku: &str) -> Option<&CatalogProduct> {
        self.products.iter().find(|p| p.sku == sku)
    }

    /// Whether the store has no products (`no_catalog_data`).
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }
}
