//! The VIZOCHOK wire protocol, version 1 (`docs/protocol.md`).
//!
//! Everything both ends of a connection agree on lives here, once: every
//! frame of both directions and its text form, the store developer's
//! payload types with their exact field names, the error codes, the
//! client's text catalog, and the secrets that must never leak. The client
//! core (`vizochok-core`) and the reference server engine
//! (`vizochok-server`) both build on this crate; neither depends on the
//! other.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blank;
mod error_code;
pub mod frame;
pub mod i18n;
pub mod json;
pub mod markdown;
mod secret;
mod types;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("vizochok_proto");

pub use error_code::ErrorCode;
pub use frame::{
    AuthFrame, AuthOk, ClientFrame, FrameError, PageContext, PageInfo, Rating, Reply, SdkInfo, ServerFrame,
    ServerLimits,
};
pub use i18n::{Language, UiText};
pub use secret::Secret;
pub use types::{
    Cart, CartAction, CartChangedEvent, CartItem, HistoryEntry, ProductItem, Role, SessionSummary, WidgetError,
};
