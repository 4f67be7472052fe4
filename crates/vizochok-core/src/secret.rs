//! The api key, kept out of everything the core emits but the `auth` frame.

use serde::{Deserialize, Serialize};

/// An api key. Its `Debug` never shows the key; only the `auth` frame's
/// serialization carries it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the `auth` frame and for server-side checks.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Removes every occurrence of the key from `text`, so that a message
    /// built from foreign input (a server's text, a parser's complaint) can
    /// never carry it out of the core.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() || !text.contains(&self.0) {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_redact_hide_the_key() {
        let key = ApiKey::new("pk_canary_123");
        assert!(!format!("{key:?}").contains("canary"));
        assert_eq!(key.redact("bad key pk_canary_123!"), "bad key [redacted]!");
        assert_eq!(key.expose(), "pk_canary_123");
    }
}
