//! What a sandbox is started with, and the config file that fills it in.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use vizochok_server::{RestoreError, ServerConfig};

use super::{ConnectionLimits, Faults};
use crate::{load_store_file, SandboxStore, StoreConfigError, StoreIdentity};

/// The demo store's api key.
pub const DEMO_API_KEY: &str = "pk_demo";

/// Where the sandbox writes its structured log lines (one JSON object per
/// line). Injectable so tests can capture them.
#[derive(Clone)]
pub struct LogSink(Arc<dyn Fn(&str) + Send + Sync>);

impl LogSink {
    /// Every line to standard error.
    pub fn stderr() -> LogSink {
        LogSink::new(|line| eprintln!("{line}"))
    }

    /// Every line to `write`.
    pub fn new(write: impl Fn(&str) + Send + Sync + 'static) -> LogSink {
        LogSink(Arc::new(write))
    }

    /// Writes one line.
    pub(crate) fn line(&self, line: &str) {
        (self.0)(line)
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink")
    }
}

/// Everything a sandbox starts with. `Default` is the demo store on
/// `127.0.0.1:8787`, logging to stderr, nothing on disk, no faults.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where to listen (port 0 picks a free port).
    pub addr: SocketAddr,
    /// The stores; empty means the demo store.
    pub stores: Vec<SandboxStore>,
    /// Verified-identity settings by store id (`identity_secret`,
    /// `require_identity`); a store without an entry has none.
    pub identities: BTreeMap<String, StoreIdentity>,
    /// Timings and limits of the engine; its `stores` are replaced by `stores`.
    pub engine: ServerConfig,
    /// Keep sessions in this directory across restarts.
    pub state_dir: Option<PathBuf>,
    /// Serve files from this directory at `/`.
    pub static_dir: Option<PathBuf>,
    /// Fault injection for tests.
    pub faults: Faults,
    /// Caps and the handshake deadline for incoming connections.
    pub connections: ConnectionLimits,
    /// Where log lines go.
    pub log: LogSink,
}

impl Default for SandboxOptions {
    fn default() -> SandboxOptions {
        SandboxOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            stores: Vec::new(),
            identities: BTreeMap::new(),
            engine: ServerConfig::default(),
            state_dir: None,
            static_dir: None,
            faults: Faults::default(),
            connections: ConnectionLimits::default(),
            log: LogSink::stderr(),
        }
    }
}

/// A sandbox settings file: engine limits and timings, faults, and the
/// store config file (relative to this file).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    #[serde(default)]
    stores_file: Option<PathBuf>,
    #[serde(default)]
    engine: Option<ServerConfig>,
    #[serde(default)]
    faults: Option<Faults>,
    #[serde(default)]
    connections: Option<ConnectionLimits>,
}

impl SandboxOptions {
    /// Applies a config file. Two shapes are accepted:
    /// - a store config (`{"stores": [...]}`, see [`crate::store_config`]);
    /// - sandbox settings: `{"stores_file": "stores.json", "engine": {...},
    ///   "faults": {...}, "connections": {...}}`, where `engine` holds the
    ///   engine's settings and limits (`{"limits": {"rate_limit_actions": 3},
    ///   "heartbeat_ms": 25000}`), `connections` the [`ConnectionLimits`],
    ///   and every key is optional.
    pub fn load_config(&mut self, path: &Path) -> Result<(), SandboxError> {
        let text = std::fs::read_to_string(path).map_err(|source| SandboxError::Io { path: path.into(), source })?;
        let json_error = |source| SandboxError::Json { path: path.into(), source };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(json_error)?;
        if value.get("stores").is_some() {
            return Ok(self.use_stores(path)?);
        }
        let settings: SettingsFile = serde_json::from_value(value).map_err(json_error)?;
        if let Some(stores_file) = settings.stores_file {
            self.use_stores(&path.parent().unwrap_or(Path::new("")).join(stores_file))?;
        }
        if let Some(engine) = settings.engine {
            if !engine.stores.is_empty() {
                let message = "stores go in stores_file, not in engine".to_owned();
                return Err(SandboxError::Invalid { path: path.into(), message });
            }
            self.engine = engine;
        }
        if let Some(faults) = settings.faults {
            self.faults = faults;
        }
        if let Some(connections) = settings.connections {
            self.connections = connections;
        }
        Ok(())
    }
}

impl SandboxOptions {
    fn use_stores(&mut self, path: &Path) -> Result<(), StoreConfigError> {
        let file = load_store_file(path)?;
        self.stores = file.stores;
        self.identities = file.identities;
        Ok(())
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A store config or catalog is wrong.
    #[error(transparent)]
    Stores(#[from] StoreConfigError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A settings file is not valid JSON of the expected shape.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A settings file is well formed but wrong.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The state directory holds a snapshot the engine refuses.
    #[error("{}: {source}", path.display())]
    Restore {
        /// The snapshot file.
        path: PathBuf,
        /// Why.
        source: RestoreError,
    },
    /// The listening socket could not be set up.
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}
