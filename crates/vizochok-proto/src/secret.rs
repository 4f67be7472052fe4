//! Secrets (the api key, a user token): kept out of everything but the
//! `auth` frame.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// A credential. Its `Debug` never shows it, and only the `auth` frame's
/// text form carries it; everything else that might repeat foreign text
/// passes through [`Secret::redact`].
#[derive(Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(transparent))]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The credential itself, for the `auth` frame and for server-side checks.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the credential is empty (or only white space).
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Removes every occurrence of the credential from `text`, so that a
    /// message built from foreign input (a server's text, a parser's
    /// complaint) can never carry it out.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() || !text.contains(&self.0) {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_redact_hide_the_secret() {
        let key = Secret::new("pk_canary_123");
        assert!(!format!("{key:?}").contains("canary"));
        assert_eq!(key.redact("bad key pk_canary_123!"), "bad key [redacted]!");
        assert_eq!(key.expose(), "pk_canary_123");
        assert_eq!(Secret::new("").redact("text"), "text");
    }
}
