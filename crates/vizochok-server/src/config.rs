//! The engine's configuration, loadable from a JSON file. Every limit has a
//! generous default so a config only names what it changes; unknown fields
//! are refused so a typo in a limit's name is not silently ignored.

use std::num::NonZeroU64;

use serde::{de::Error as _, Deserialize, Deserializer};
use vizochok_proto::Secret;

use crate::Catalog;

/// The whole engine configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The stores this server serves.
    pub stores: Vec<StoreConfig>,
    /// How long a session whose socket dropped keeps its replay buffer.
    pub replay_window_ms: u64,
    /// Most frames a session's replay buffer holds; older ones fall out and a
    /// client behind them is answered `restored` instead.
    pub replay_max_frames: usize,
    /// Most conversation entries kept per session (and sent on restore).
    pub history_max: usize,
    /// Quotas and protocol limits.
    pub limits: LimitsConfig,
    /// Send `ping` after this much client silence, close after twice as
    /// much. The default is the client's own ping interval (25 s; it is
    /// announced in `auth_ok`, and every client answers a `ping`). `None`
    /// (`null` in a config file) switches it off, and then a client whose
    /// network vanished without a close keeps its socket, and its place
    /// under the connection caps, until TCP gives up on it. It cannot be 0,
    /// which would ping and close every connection at once.
    #[serde(deserialize_with = "heartbeat")]
    pub heartbeat_ms: Option<NonZeroU64>,
    /// Virtual time between two `delta` frames of a streamed reply; 0 streams
    /// a whole reply at once.
    pub delta_interval_ms: u64,
    /// Characters (Unicode scalar values) per `delta`; 0 sends one delta.
    pub delta_chars: usize,
    /// How long a webhook may go unanswered before the change counts as refused.
    pub webhook_timeout_ms: u64,
    /// A session no connection has used for this long (no `auth`, no
    /// frame, no connection leaving) is forgotten: a resume then opens a new
    /// session.
    pub session_ttl_ms: u64,
    /// Most sessions held; opening one more forgets one that has no
    /// connection and no work in progress: the least recently used of those
    /// holding nothing (no cart line, no conversation), else of the rest.
    pub max_sessions: usize,
    /// Applied action ids remembered per client of a session (per
    /// connection for ids that name no client): the client queue's
    /// capacity (§4), so every id its client may still resend is
    /// recognised (`docs/protocol.md`). The name predates lines per client.
    pub dedup_per_connection: usize,
    /// Clients (tabs, devices, page loads; live or gone) whose ids a
    /// session remembers.
    pub dedup_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            stores: Vec::new(),
            replay_window_ms: 120_000,
            replay_max_frames: 1_024,
            history_max: 100,
            limits: LimitsConfig::default(),
            heartbeat_ms: NonZeroU64::new(25_000),
            delta_interval_ms: 50,
            delta_chars: 24,
            webhook_timeout_ms: 30_000,
            session_ttl_ms: 24 * 60 * 60 * 1_000,
            max_sessions: 100_000,
            dedup_per_connection: 32,
            dedup_connections: 64,
        }
    }
}

/// `null` switches the heartbeat off; a 0 is refused with what to write instead.
fn heartbeat<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NonZeroU64>, D::Error> {
    match Option::<u64>::deserialize(d)? {
        Some(0) => Err(D::Error::custom("heartbeat_ms must be above 0 (null switches the heartbeat off)")),
        ms => Ok(ms.and_then(NonZeroU64::new)),
    }
}

/// One store (tenant).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The store's id, as clients send it in `auth`.
    pub store_id: String,
    /// Public api keys accepted for this store.
    pub api_keys: Vec<String>,
    /// Browser origins allowed to connect; empty allows any.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// The products shoppers can put in the cart.
    #[serde(default)]
    pub catalog: Catalog,
    /// Whether cart changes are confirmed by the store's backend through
    /// [`ServerOutput::Webhook`](crate::ServerOutput::Webhook) first.
    #[serde(default)]
    pub webhook: bool,
    /// A disabled store refuses every connection (close 4003).
    #[serde(default)]
    pub disabled: bool,
    /// The secret the store's backend signs `user_id`s with (`user_token`,
    /// `docs/identity.md`); never sent to a client, never logged.
    #[serde(default)]
    pub identity_secret: Option<Secret>,
    /// Whether an `auth` with a `user_id` must prove it with a `user_token`.
    #[serde(default)]
    pub require_identity: bool,
}

impl StoreConfig {
    /// An enabled store without webhook, origin restrictions or verified identity.
    pub fn new(store_id: impl Into<String>, api_keys: Vec<String>, catalog: Catalog) -> StoreConfig {
        StoreConfig {
            store_id: store_id.into(),
            api_keys,
            allowed_origins: Vec::new(),
            catalog,
            webhook: false,
            disabled: false,
            identity_secret: None,
            require_identity: false,
        }
    }
}

// Hand-written so that printing a config can never leak an api key.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("store_id", &self.store_id)
            .field("api_keys", &format_args!("[{} redacted]", self.api_keys.len()))
            .field("allowed_origins", &self.allowed_origins)
            .field("catalog_products", &self.catalog.products().len())
            .field("webhook", &self.webhook)
            .field("disabled", &self.disabled)
            .field("identity_secret", &self.identity_secret.as_ref().map(|_| "[redacted]"))
            .field("require_identity", &self.require_identity)
            .finish()
    }
}

/// Quotas and protocol limits. Token counts are estimates: characters / 4,
/// rounded up, of the shopper's text plus the reply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Actions accepted per session within `rate_limit_window_ms`.
    pub rate_limit_actions: u32,
    /// The sliding window of the action rate limit.
    pub rate_limit_window_ms: u64,
    /// Messages per shopper (`user_id`, else the session) per store and day.
    pub user_messages_max: u32,
    /// Conversations (sessions with at least one message) per `user_id` and store.
    pub user_conversations_max: u32,
    /// Tokens per store and day (day = `now / 86_400_000`).
    pub tenant_daily_tokens: u64,
    /// Tokens per store and month (month = 30 days of `now`).
    pub tenant_monthly_tokens: u64,
    /// Tokens per session.
    pub session_tokens: u64,
    /// Most reasoning rounds a reply may take.
    pub max_rounds: u32,
    /// Longest message text, in Unicode scalar values (announced in `auth_ok`).
    pub max_message_chars: usize,
    /// Largest client frame accepted, in bytes.
    pub max_inbound_bytes: usize,
    /// Time a fresh connection has to send `auth`.
    pub auth_timeout_ms: u64,
    /// Smallest `retry_after_ms` given with `agent_busy`.
    pub busy_retry_after_ms: u64,
    /// Frames answered with `invalid_json` that one connection may send
    /// within `refusal_window_ms`; one more closes it (1008).
    pub invalid_frames_max: u32,
    /// Frames refused at receipt for any reason (`invalid_json` included)
    /// that one connection may send within `refusal_window_ms`; one more
    /// closes it (1008).
    pub refused_frames_max: u32,
    /// The window of `invalid_frames_max` and `refused_frames_max`.
    pub refusal_window_ms: u64,
    /// Sessions one address (an IPv4 address, an IPv6 /64) may open within
    /// `new_session_window_ms` and still have a full engine forget another
    /// shopper's idle session to make room; past it, while the engine is
    /// full, a new session from there is refused (close 1013).
    pub new_sessions_per_address: u32,
    /// The window of `new_sessions_per_address`.
    pub new_session_window_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig {
            rate_limit_actions: 60,
            rate_limit_window_ms: 10_000,
            user_messages_max: 1_000,
            user_conversations_max: 100,
            tenant_daily_tokens: 50_000_000,
            tenant_monthly_tokens: 1_000_000_000,
            session_tokens: 1_000_000,
            max_rounds: 10,
            max_message_chars: 2_000,
            max_inbound_bytes: 64 * 1024,
            auth_timeout_ms: 10_000,
            busy_retry_after_ms: 1_000,
            invalid_frames_max: 20,
            refused_frames_max: 200,
            refusal_window_ms: 60_000,
            new_sessions_per_address: 100,
            new_session_window_ms: 600_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_names_only_what_it_changes() {
        let json = r#"{"stores":[{"store_id":"demo","api_keys":["pk_1"],"webhook":true,
            "catalog":[{"sku":"m","name":"Milk","unit":"pcs","quantity_step":1,"price":2}]}],
            "limits":{"max_rounds":3},"heartbeat_ms":25000}"#;
        let config: ServerConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.stores[0].catalog.products().len(), 1);
        assert!(config.stores[0].webhook);
        assert_eq!(config.limits.max_rounds, 3);
        assert_eq!(config.limits.max_message_chars, 2_000);
        assert_eq!(config.replay_window_ms, 120_000);
        assert!(serde_json::from_str::<ServerConfig>(r#"{"limits":{"max_round":3}}"#).is_err());
    }

    #[test]
    fn the_heartbeat_is_on_unless_a_config_switches_it_off() {
        let beat = |config: &ServerConfig| config.heartbeat_ms.map(NonZeroU64::get);
        // On: a client whose network vanished without a close is let go.
        assert_eq!(beat(&ServerConfig::default()), Some(25_000));
        let unnamed: ServerConfig = serde_json::from_str(r#"{"limits":{"max_rounds":3}}"#).unwrap();
        assert_eq!(beat(&unnamed), Some(25_000));
        let off: ServerConfig = serde_json::from_str(r#"{"heartbeat_ms":null}"#).unwrap();
        assert_eq!(off.heartbeat_ms, None);
        let zero = serde_json::from_str::<ServerConfig>(r#"{"heartbeat_ms":0}"#).unwrap_err();
        assert!(zero.to_string().contains("above 0 (null switches the heartbeat off)"), "{zero}");
    }

    #[test]
    fn debug_never_shows_keys_or_the_identity_secret() {
        let store = StoreConfig {
            identity_secret: Some(Secret::new("idsec_canary")),
            ..StoreConfig::new("demo", vec!["pk_secret_1".into()], Catalog::default())
        };
        let debug = format!("{store:?}");
        assert!(!debug.contains("pk_secret_1") && !debug.contains("idsec_canary"), "{debug}");
    }

    #[test]
    fn a_store_names_its_identity_settings() {
        let json = r#"{"store_id":"s","api_keys":["pk"],"identity_secret":"idsec","require_identity":true}"#;
        let store: StoreConfig = serde_json::from_str(json).unwrap();
        assert_eq!(store.identity_secret.as_ref().map(Secret::expose), Some("idsec"));
        assert!(store.require_identity);
        let plain: StoreConfig = serde_json::from_str(r#"{"store_id":"s","api_keys":["pk"]}"#).unwrap();
        assert_eq!((plain.identity_secret, plain.require_identity), (None, false));
    }
}
