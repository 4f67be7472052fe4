//! Client configuration: credentials, the server URL (checked before any
//! I/O, `docs/protocol.md` "Transport"), every timer and limit of the
//! contract, and the RNG seed.

use vizochok_proto::{frame, Language, SdkInfo, Secret};

use crate::text::{cat, Part};

/// Every timer of the contract (`docs/protocol.md` "Timers"), in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Timers {
    /// From the open request to the socket being open.
    pub socket_open_ms: u64,
    /// From `auth` sent to `auth_ok`.
    pub auth_ms: u64,
    /// Send `ping` after this long with no inbound frame (the server may change it).
    pub heartbeat_ms: u64,
    /// After a `ping`, give up when nothing arrives for this long.
    pub heartbeat_answer_ms: u64,
    /// First reconnect backoff ceiling (doubles each attempt).
    pub backoff_base_ms: u64,
    /// Largest reconnect backoff.
    pub backoff_max_ms: u64,
    /// After a server restart close, the first attempt waits up to this long.
    pub storm_spread_ms: u64,
    /// Wait before retrying `agent_busy`/`rate_limit_exceeded` when the server names none.
    pub retry_after_ms: u64,
    /// Window in which bad frames are counted.
    pub bad_frame_window_ms: u64,
}

/// The longest timer a config may set: 2^31 − 1 ms, about 24.8 days, the
/// longest delay every host's timer takes (a browser's `setTimeout` fires at
/// once beyond it). A longer one is a mistake, seconds given as milliseconds
/// say, and is refused rather than planned.
pub const MAX_TIMER_MS: u64 = (1 << 31) - 1;

impl Timers {
    /// The name of the first timer longer than [`MAX_TIMER_MS`], if any.
    #[cfg(not(target_family = "wasm"))]
    fn too_long(&self) -> Option<&'static str> {
        let Timers {
            socket_open_ms,
            auth_ms,
            heartbeat_ms,
            heartbeat_answer_ms,
            backoff_base_ms,
            backoff_max_ms,
            storm_spread_ms,
            retry_after_ms,
            bad_frame_window_ms,
        } = self;
        [
            ("socket_open_ms", socket_open_ms),
            ("auth_ms", auth_ms),
            ("heartbeat_ms", heartbeat_ms),
            ("heartbeat_answer_ms", heartbeat_answer_ms),
            ("backoff_base_ms", backoff_base_ms),
            ("backoff_max_ms", backoff_max_ms),
            ("storm_spread_ms", storm_spread_ms),
            ("retry_after_ms", retry_after_ms),
            ("bad_frame_window_ms", bad_frame_window_ms),
        ]
        .into_iter()
        .find_map(|(name, &ms)| (ms > MAX_TIMER_MS).then_some(name))
    }
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            socket_open_ms: 10_000,
            auth_ms: 10_000,
            heartbeat_ms: 25_000,
            heartbeat_answer_ms: 10_000,
            backoff_base_ms: 1_000,
            backoff_max_ms: 30_000,
            storm_spread_ms: 5_000,
            retry_after_ms: 2_000,
            bad_frame_window_ms: 60_000,
        }
    }
}

/// Every size and count limit of the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest user message, in Unicode scalar values (the server may lower it).
    pub max_message_chars: usize,
    /// Largest encoded outbound frame, in bytes.
    pub max_outbound_bytes: usize,
    /// Largest inbound frame, in bytes.
    pub max_inbound_bytes: usize,
    /// Actions held before `queue_full`.
    pub queue_capacity: usize,
    /// Reconnect attempts in a row without `auth_ok` before `max_reconnect`.
    pub max_reconnect_attempts: u32,
    /// Retries of an action refused with `agent_busy`/`rate_limit_exceeded`.
    pub max_action_retries: u32,
    /// Bad frames tolerated within the window before the socket is recycled.
    pub max_bad_frames: u32,
    /// Product cards remembered for quantity-step validation.
    pub known_products: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_chars: 2_000,
            max_outbound_bytes: frame::MAX_OUTBOUND_BYTES,
            max_inbound_bytes: frame::MAX_INBOUND_BYTES,
            queue_capacity: 32,
            max_reconnect_attempts: 10,
            max_action_retries: 3,
            max_bad_frames: 20,
            known_products: 4_096,
        }
    }
}

/// Everything a [`Session`](crate::Session) needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The store's public api key (sent only in the `auth` frame).
    pub api_key: Secret,
    /// The store.
    pub store_id: String,
    /// The shopper, if known.
    pub user_id: Option<String>,
    /// Proof of `user_id` from the store's backend (verified identity).
    pub user_token: Option<Secret>,
    /// Language of error texts and UI strings.
    pub language: Language,
    /// `wss://…`, or `ws://` to a loopback host.
    pub url: String,
    /// A session to resume (saved by an earlier run of the app). Nothing else
    /// needs saving: a client that applied nothing is answered with the
    /// session's summary and history. A secret: it resumes the conversation.
    pub session_id: Option<Secret>,
    /// Who is talking, for the server's logs.
    pub sdk: SdkInfo,
    /// Timers.
    pub timers: Timers,
    /// Limits.
    pub limits: Limits,
    /// Seed of the PRNG behind backoff jitter and action ids. Give each
    /// client a different one (e.g. from the OS), or replay a run with the same.
    pub seed: u64,
}

impl Config {
    /// A config with every default; `seed` should come from the host's random source.
    pub fn new(api_key: &str, store_id: &str, url: &str, seed: u64) -> Config {
        Config {
            api_key: Secret::new(api_key),
            store_id: store_id.to_owned(),
            user_id: None,
            user_token: None,
            language: Language::En,
            url: url.to_owned(),
            session_id: None,
            sdk: SdkInfo { name: "vizochok-rust".into(), version: env!("CARGO_PKG_VERSION").into() },
            timers: Timers::default(),
            limits: Limits::default(),
            seed,
        }
    }

    /// Checks the config before any I/O.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.api_key.is_blank() {
            return Err(ConfigError::MissingApiKey);
        }
        if vizochok_proto::blank::is_blank(&self.store_id) {
            return Err(ConfigError::MissingStoreId);
        }
        // Before the URL's own checks, whose texts name parts of the URL:
        // so no error ever carries a secret, in any host.
        let url = percent_decoded(&self.url);
        let secrets = std::iter::once(&self.api_key).chain(&self.user_token);
        if secrets.filter(|s| !s.is_blank()).any(|s| contains(&url, s.expose().as_bytes())) {
            return Err(ConfigError::CredentialsInUrl);
        }
        check_url(&self.url)?;
        if self.user_id.as_ref().is_some_and(|user| user.len() > frame::MAX_USER_ID_BYTES) {
            return Err(ConfigError::UserIdTooLong);
        }
        if self.limits.queue_capacity == 0 || self.limits.max_message_chars == 0 {
            return Err(ConfigError::BadLimit("queue_capacity and max_message_chars must be positive"));
        }
        if self.timers.heartbeat_ms == 0 || self.timers.backoff_base_ms == 0 {
            return Err(ConfigError::BadLimit("heartbeat_ms and backoff_base_ms must be positive"));
        }
        // A page cannot set timers (the browser's `create` takes none), so
        // its module leaves this check out: about 200 B it would never run.
        #[cfg(not(target_family = "wasm"))]
        if let Some(timer) = self.timers.too_long() {
            return Err(ConfigError::TimerTooLong(timer));
        }
        Ok(())
    }
}

/// A configuration the client refuses at construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// No api key.
    MissingApiKey,
    /// No store id.
    MissingStoreId,
    /// Not a ws:// or wss:// URL with a host.
    InvalidUrl(String),
    /// Plain ws:// to a host that is not loopback.
    InsecureUrl(String),
    /// Credentials (user info, or the api key or user token anywhere) in the URL.
    CredentialsInUrl,
    /// A user id over [`frame::MAX_USER_ID_BYTES`] (the server refuses it).
    UserIdTooLong,
    /// A limit or timer that cannot work.
    BadLimit(&'static str),
    /// The named timer is longer than [`MAX_TIMER_MS`].
    TimerTooLong(&'static str),
}

impl ConfigError {
    /// The developer-facing English text (built without `core::fmt`).
    pub fn message(&self) -> String {
        match self {
            ConfigError::MissingApiKey => "the api key is required".into(),
            ConfigError::MissingStoreId => "the store id is required".into(),
            ConfigError::InvalidUrl(why) => {
                cat(&[Part::T("the server URL is not a valid ws:// or wss:// URL: "), Part::T(why)])
            }
            ConfigError::InsecureUrl(host) => cat(&[
                Part::T(
                    "plain ws:// is allowed only for loopback hosts (localhost, 127.0.0.0/8, [::1]); use wss:// for ",
                ),
                Part::T(host),
            ]),
            ConfigError::CredentialsInUrl => {
                "credentials must not be put in the server URL; they go in the auth frame".into()
            }
            ConfigError::UserIdTooLong => "the user id is over 256 bytes".into(),
            ConfigError::BadLimit(why) => cat(&[Part::T("invalid limit: "), Part::T(why)]),
            ConfigError::TimerTooLong(timer) => cat(&[
                Part::T("invalid limit: "),
                Part::T(timer),
                Part::T(" must be at most "),
                Part::N(MAX_TIMER_MS),
                Part::T(" ms (about 24 days)"),
            ]),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ConfigError {}

/// Checks a server URL: `wss://` anywhere, `ws://` only to loopback, no userinfo.
pub fn check_url(url: &str) -> Result<(), ConfigError> {
    let (secure, rest) = if let Some(rest) = url.strip_prefix("wss://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("ws://") {
        (false, rest)
    } else {
        return Err(ConfigError::InvalidUrl("scheme must be ws:// or wss://".into()));
    };
    let authority = before(rest, b"/?#");
    if authority.bytes().any(|b| b == b'@') {
        return Err(ConfigError::CredentialsInUrl);
    }
    let host =
        host_of(authority).ok_or_else(|| ConfigError::InvalidUrl(cat(&[Part::T("no host in "), Part::T(url)])))?;
    if !secure && !is_loopback(host) {
        return Err(ConfigError::InsecureUrl(host.to_owned()));
    }
    Ok(())
}

/// `text` up to the first of the ASCII bytes `stops` (all of it if none).
/// Byte loops here and below, rather than `str`'s pattern searchers, keep
/// the browser build small.
fn before<'a>(text: &'a str, stops: &[u8]) -> &'a str {
    let end = text.bytes().position(|b| stops.contains(&b)).unwrap_or(text.len());
    text.get(..end).unwrap_or(text)
}

/// The host of an authority (`host`, `host:port`, `[v6]:port`).
fn host_of(authority: &str) -> Option<&str> {
    let host = match authority.strip_prefix('[') {
        Some(v6) => Some(before(v6, b"]")).filter(|host| host.len() < v6.len())?,
        None => before(authority, b":"),
    };
    (!host.is_empty()).then_some(host)
}

/// The URL's bytes with `%XX` escapes decoded (invalid ones are kept as
/// they are), so an escaped secret is found too.
fn percent_decoded(url: &str) -> Vec<u8> {
    let bytes = url.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Whether `needle` (not empty) occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "::1" {
        return true;
    }
    // 127.a.b.c, each part a u8 as `str::parse` reads one: an optional `+`, then digits.
    let octet = |part: &[u8]| {
        let digits = part.strip_prefix(b"+").unwrap_or(part);
        let value = digits.iter().try_fold(0u32, |n, &d| {
            let n = n * 10 + u32::from(d.wrapping_sub(b'0'));
            (d.is_ascii_digit() && n <= 255).then_some(n)
        });
        !digits.is_empty() && value.is_some()
    };
    let mut parts = 0;
    let mut valid = true;
    for (i, part) in host.as_bytes().split(|&b| b == b'.').enumerate() {
        parts += 1;
        valid &= octet(part) && (i > 0 || part == b"127");
    }
    parts == 4 && valid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wss_anywhere_ws_only_on_loopback() {
        for ok in [
            "wss://api.vizochok.example/v1/ws",
            "ws://localhost:8787/v1/ws",
            "ws://127.0.0.1:8787/v1/ws",
            "ws://127.5.6.7/x",
            "ws://[::1]:8787/v1/ws",
            "ws://LOCALHOST",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for insecure in [
            "ws://example.com/v1/ws",
            "ws://10.0.0.1:80",
            "ws://127.0.0.1.evil.com/",
            "ws://[::2]/",
            "ws://127.0.0.256/",
        ] {
            assert!(matches!(check_url(insecure), Err(ConfigError::InsecureUrl(_))), "{insecure}");
        }
        for invalid in ["http://localhost", "wss://", "ws://:80/", "localhost:8787", "ws://[::1/"] {
            assert!(matches!(check_url(invalid), Err(ConfigError::InvalidUrl(_))), "{invalid}");
        }
        assert_eq!(check_url("wss://pk_demo@host/"), Err(ConfigError::CredentialsInUrl));
    }

    #[test]
    fn a_url_carrying_a_secret_anywhere_is_refused() {
        for url in [
            "wss://host/v1/ws?key=pk_canary_secret",
            "wss://host/pk_canary_secret/ws",
            "wss://host/v1/ws#pk_canary_secret",
            "wss://host/v1/ws?k=pk%5Fcanary%5Fsecret",
            "wss://host/v1/ws?t=tok_canary",
        ] {
            let mut config = Config::new("pk_canary_secret", "store", url, 1);
            config.user_token = Some(Secret::new("tok_canary"));
            assert_eq!(config.validate(), Err(ConfigError::CredentialsInUrl), "{url}");
        }
        assert_eq!(Config::new("pk_canary_secret", "store", "wss://host/v1/ws?x=%zz", 1).validate(), Ok(()));
    }

    #[test]
    fn a_user_id_the_server_would_refuse_is_refused_here() {
        let mut config = Config::new("pk", "store", "wss://host/", 1);
        config.user_id = Some("ї".repeat(128));
        assert_eq!(config.validate(), Ok(()));
        config.user_id = Some("ї".repeat(128) + "x");
        assert_eq!(config.validate(), Err(ConfigError::UserIdTooLong));
    }

    #[test]
    fn a_timer_longer_than_every_host_can_hold_is_refused_by_name() {
        let mut config = Config::new("pk", "store", "wss://host/", 1);
        config.timers.backoff_max_ms = MAX_TIMER_MS;
        config.timers.heartbeat_answer_ms = MAX_TIMER_MS;
        assert_eq!(config.validate(), Ok(()));
        config.timers.heartbeat_answer_ms = MAX_TIMER_MS + 1;
        let err = config.validate().unwrap_err();
        assert_eq!(err, ConfigError::TimerTooLong("heartbeat_answer_ms"));
        assert_eq!(err.message(), "invalid limit: heartbeat_answer_ms must be at most 2147483647 ms (about 24 days)");
        config.timers.heartbeat_answer_ms = 1;
        config.timers.bad_frame_window_ms = u64::MAX;
        assert_eq!(config.validate(), Err(ConfigError::TimerTooLong("bad_frame_window_ms")));
    }

    #[test]
    fn config_errors_never_show_the_key() {
        let mut config = Config::new("pk_canary_secret", "store", "ws://evil.example/", 1);
        let err = config.validate().unwrap_err();
        assert!(!err.to_string().contains("pk_canary_secret"));
        assert!(!format!("{config:?}").contains("pk_canary_secret"));
        config.url = "wss://evil.example/".into();
        assert_eq!(config.validate(), Ok(()));
        // URLs the URL checks refuse by themselves, with the key where their
        // texts would name the host or the scheme.
        for url in ["ws://pk_canary_secret/v1/ws", "pk_canary_secret://host/", "wss://pk_canary_secret:99999/"] {
            config.url = url.into();
            let err = config.validate().unwrap_err();
            assert_eq!(err, ConfigError::CredentialsInUrl, "{url}");
            assert!(!err.message().contains("pk_canary_secret"), "{url}: {err}");
        }
    }
}
