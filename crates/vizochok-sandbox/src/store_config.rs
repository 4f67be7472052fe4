//! The sandbox's stores: a JSON config file listing them, each with a JSON
//! or CSV catalog, and the embedded demo store.
//!
//! ```json
//! {
//!   "stores": [{
//!     "store_id": "my-store",
//!     "api_keys": ["pk_test_1"],
//!     "allowed_origins": ["http://localhost:5173"],
//!     "catalog": "my-store.csv",
//!     "webhook_url": "http://localhost:3000/vizochok",
//!     "webhook_secret": "whsec_...",
//!     "identity_secret": "idsec_...",
//!     "require_identity": true
//!   }]
//! }
//! ```
//!
//! Catalog paths are relative to the config file. `identity_secret` signs
//! shoppers' `user_id`s (`docs/identity.md`); with `require_identity` (false
//! by default) an `auth` with a `user_id` must prove it. These are plain
//! structs: the server maps them onto its own configuration types.

mod csv;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vizochok_server::{Catalog, CatalogProduct};

/// Store id of the embedded demo store.
pub const DEMO_STORE_ID: &str = "demo-store";

const DEMO_JSON: &str = include_str!("../data/demo-store.json");

/// Units a catalog may use.
const UNITS: [&str; 3] = ["pcs", "kg", "l"];

/// Why a config file or catalog could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON or does not have the expected shape.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error (it names line and column).
        source: serde_json::Error,
    },
    /// A CSV line is malformed or holds an invalid product.
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed input with invalid content (a bad product or store).
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the product or store.
        message: String,
    },
    /// The catalog file is neither `.json` nor `.csv`.
    #[error("{}: unsupported catalog format (expected a .json or .csv file)", path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
}

/// One store from the config file, with its catalog loaded.
#[derive(Clone)]
pub struct SandboxStore {
    /// Store id clients send in `auth`.
    pub store_id: String,
    /// API keys accepted for this store.
    pub api_keys: Vec<String>,
    /// Allowed `Origin` headers; empty means no check.
    pub allowed_origins: Vec<String>,
    /// The store's products.
    pub catalog: Catalog,
    /// Where cart changes are posted, if anywhere.
    pub webhook_url: Option<String>,
    /// Secret for signing webhook calls.
    pub webhook_secret: Option<String>,
}

// Hand-written so logs never show keys or the webhook secret, nor a whole catalog.
impl fmt::Debug for SandboxStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxStore")
            .field("store_id", &self.store_id)
            .field("api_keys", &format_args!("[{} redacted]", self.api_keys.len()))
            .field("allowed_origins", &self.allowed_origins)
            .field("products", &self.catalog.products().len())
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A store's verified-identity settings (`docs/identity.md`). Kept beside
/// [`SandboxStore`], keyed by store id, so code that builds a store by hand
/// needs no change.
#[derive(Clone, Default, PartialEq)]
pub struct StoreIdentity {
    /// The secret the store's backend signs `user_id`s with.
    pub identity_secret: Option<String>,
    /// Whether an `auth` with a `user_id` must carry its `user_token`.
    pub require_identity: bool,
}

// Hand-written so a log or a panic can never show the secret.
impl fmt::Debug for StoreIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreIdentity")
            .field("identity_secret", &self.identity_secret.as_ref().map(|_| "<redacted>"))
            .field("require_identity", &self.require_identity)
            .finish()
    }
}

/// Every store of a config file, and the identity settings of those that have any.
#[derive(Debug, Clone, Default)]
pub struct StoreFile {
    /// The stores, with their catalogs.
    pub stores: Vec<SandboxStore>,
    /// Identity settings by store id.
    pub identities: BTreeMap<String, StoreIdentity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    stores: Vec<StoreEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreEntry {
    store_id: String,
    api_keys: Vec<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    catalog: PathBuf,
    #[serde(default)]
    webhook_url: Option<String>,
    #[serde(default)]
    webhook_secret: Option<String>,
    #[serde(default)]
    identity_secret: Option<String>,
    #[serde(default)]
    require_identity: bool,
}

/// A catalog file in object form; other fields (such as `store_id`) are descriptive.
#[derive(Deserialize)]
struct CatalogFile {
    products: Vec<CatalogProduct>,
}

/// The embedded demo store's catalog (store id [`DEMO_STORE_ID`]).
pub fn demo_catalog() -> Catalog {
    // The embedded file is checked by this crate's tests, so the empty
    // fallback (which the engine reports as `no_catalog_data`) never ships.
    catalog_from_json(DEMO_JSON, Path::new("data/demo-store.json")).unwrap_or_default()
}

/// Loads every store of a config file, with their catalogs (and without
/// their identity settings: [`load_store_file`] has those too).
pub fn load_stores(config_path: &Path) -> Result<Vec<SandboxStore>, StoreConfigError> {
    load_store_file(config_path).map(|file| file.stores)
}

/// Loads every store of a config file, with their catalogs and identity settings.
pub fn load_store_file(config_path: &Path) -> Result<StoreFile, StoreConfigError> {
    let text = read(config_path)?;
    let file: ConfigFile =
        serde_json::from_str(&text).map_err(|source| StoreConfigError::Json { path: config_path.into(), source })?;
    let base = config_path.parent().unwrap_or(Path::new(""));
    let mut seen = HashSet::new();
    let mut loaded = StoreFile::default();
    for entry in file.stores {
        let invalid = |message: String| StoreConfigError::Invalid {
            path: config_path.into(),
            message: format!("store {:?}: {message}", entry.store_id),
        };
        if entry.store_id.trim().is_empty() {
            return Err(invalid("store_id is empty".into()));
        }
        if !seen.insert(entry.store_id.clone()) {
            return Err(invalid("store_id appears twice".into()));
        }
        if entry.api_keys.is_empty() || entry.api_keys.iter().any(|k| k.trim().is_empty()) {
            return Err(invalid("api_keys must list at least one non-empty key".into()));
        }
        if let Some(url) = &entry.webhook_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(format!("webhook_url {url:?} is not an http(s) URL")));
            }
        }
        if entry.identity_secret.as_ref().is_some_and(|s| s.trim().is_empty()) {
            return Err(invalid("identity_secret is empty".into()));
        }
        if entry.require_identity && entry.identity_secret.is_none() {
            return Err(invalid("require_identity needs an identity_secret to check tokens with".into()));
        }
        let catalog = load_catalog(&base.join(&entry.catalog))?;
        if entry.identity_secret.is_some() {
            let identity =
                StoreIdentity { identity_secret: entry.identity_secret, require_identity: entry.require_identity };
            loaded.identities.insert(entry.store_id.clone(), identity);
        }
        loaded.stores.push(SandboxStore {
            store_id: entry.store_id,
            api_keys: entry.api_keys,
            allowed_origins: entry.allowed_origins,
            catalog,
            webhook_url: entry.webhook_url,
            webhook_secret: entry.webhook_secret,
        });
    }
    Ok(loaded)
}

/// Loads a catalog file, JSON or CSV by its extension.
pub fn load_catalog(path: &Path) -> Result<Catalog, StoreConfigError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("json") => catalog_from_json(&read(path)?, path),
        Some("csv") => catalog_from_csv(&read(path)?, path),
        _ => Err(StoreConfigError::UnsupportedFormat { path: path.into() }),
    }
}

/// Parses a JSON catalog: an array of products, or an object with a
/// `products` array. `path` only names the source in errors.
pub fn catalog_from_json(text: &str, path: &Path) -> Result<Catalog, StoreConfigError> {
    let json_error = |source| StoreConfigError::Json { path: path.into(), source };
    // Picking the shape by its first character keeps serde's line/column
    // errors, which an untagged enum would replace with a vague message.
    let products: Vec<CatalogProduct> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(json_error)?
    } else {
        serde_json::from_str::<CatalogFile>(text).map_err(json_error)?.products
    };
    let mut skus = HashSet::new();
    for (index, product) in products.iter().enumerate() {
        check_product(product, &mut skus).map_err(|message| StoreConfigError::Invalid {
            path: path.into(),
            message: format!("product {} (sku {:?}): {message}", index + 1, product.sku),
        })?;
    }
    Ok(Catalog::new(products))
}

/// Parses a CSV catalog with the header
/// `sku,name,name_en,brand,category,unit,quantity_step,price,promo_price,image_url,keywords`
/// (columns in any order; keywords separated by `|`). `path` only names the source in errors.
pub fn catalog_from_csv(text: &str, path: &Path) -> Result<Catalog, StoreConfigError> {
    let line_error = |line, message| StoreConfigError::Line { path: path.into(), line, message };
    let rows = csv::parse_products(text).map_err(|(line, message)| line_error(line, message))?;
    let mut skus = HashSet::new();
    let mut products = Vec::with_capacity(rows.len());
    for (line, product) in rows {
        check_product(&product, &mut skus).map_err(|message| line_error(line, message))?;
        products.push(product);
    }
    Ok(Catalog::new(products))
}

/// Checks one product, recording its SKU in `skus` to catch duplicates.
fn check_product(product: &CatalogProduct, skus: &mut HashSet<String>) -> Result<(), String> {
    if product.sku.trim().is_empty() || product.sku.trim() != product.sku {
        return Err("sku must be non-empty, without surrounding spaces".into());
    }
    if !skus.insert(product.sku.clone()) {
        return Err(format!("duplicate sku {:?}", product.sku));
    }
    if product.name.trim().is_empty() {
        return Err("name is empty".into());
    }
    if !UNITS.contains(&product.unit.as_str()) {
        return Err(format!("unit {:?} is not one of pcs, kg, l", product.unit));
    }
    if !(product.quantity_step.is_finite() && product.quantity_step > 0.0) {
        return Err(format!("quantity_step {} must be positive", product.quantity_step));
    }
    if !(product.price.is_finite() && product.price >= 0.0) {
        return Err(format!("price {} must be zero or positive", product.price));
    }
    if let Some(promo) = product.promo_price {
        if !(promo.is_finite() && promo >= 0.0 && promo <= product.price) {
            return Err(format!("promo_price {promo} must be between 0 and the price"));
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, StoreConfigError> {
    std::fs::read_to_string(path).map_err(|source| StoreConfigError::Read { path: path.into(), source })
}

#[cfg(test)]
mod tests;
