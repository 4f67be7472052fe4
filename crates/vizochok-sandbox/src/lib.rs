//! The VIZOCHOK sandbox: a demo store, its product images and a
//! deterministic shopping assistant, for trying the protocol locally.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assistant;
pub mod images;
pub mod server;
pub mod store_config;

pub use assistant::DemoAssistant;
pub use images::product_image_svg;
pub use server::{
    start, ConnectionLimits, Faults, LogSink, RunningSandbox, SandboxError, SandboxOptions, DEMO_API_KEY,
};
pub use store_config::{
    demo_catalog, load_catalog, load_store_file, load_stores, SandboxStore, StoreConfigError, StoreFile, StoreIdentity,
    DEMO_STORE_ID,
};
