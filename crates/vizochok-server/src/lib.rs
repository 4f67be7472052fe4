//! Sans-IO reference server engine of the VIZOCHOK protocol.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod assistant;
mod catalog;

pub use assistant::{Assistant, CartOp, Reply, Turn};
pub use catalog::{Catalog, CatalogProduct};
