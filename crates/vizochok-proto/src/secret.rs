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
        crate::blank::is_blank(&self.0)
    }

    /// Removes every occurrence of the credential from `text`, so that a
    /// message built from foreign input (a server's text, a parser's
    /// complaint) can never carry it out.
    pub fn redact(&self, text: &str) -> String {
        // std's searcher takes time linear in both texts, which a server
        // needs: it scrubs a client's own key (up to a frame long) out of
        // the client's other fields, where the plain scan below took 13 ms
        // for one frame. The browser's module keeps the plain scan (std's
        // searcher is more than a kilobyte there), for its own key only.
        #[cfg(not(target_family = "wasm"))]
        if !self.0.is_empty() {
            return text.replace(self.0.as_str(), "[redacted]");
        }
        plain_redact(self.0.as_bytes(), text)
    }
}

/// [`Secret::redact`] as a plain scan, left to right, like `str::replace`
/// (inlined: the browser's module is smallest with it in `redact`).
#[inline(always)]
fn plain_redact(secret: &[u8], text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !secret.is_empty() {
        // A match of a UTF-8 string starts and ends on character boundaries.
        let found = (0..rest.len()).find(|&at| rest.as_bytes().get(at..).is_some_and(|b| b.starts_with(secret)));
        let Some((before, after)) = found.and_then(|at| Some((rest.get(..at)?, rest.get(at + secret.len()..)?))) else {
            break;
        };
        out.push_str(before);
        out.push_str("[redacted]");
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Stands in, in a `Debug` form, for a value that grants access.
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
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
    fn the_plain_scan_agrees_with_std() {
        let words = ["", "a", "aa", "ab", "ba", "aab", "абв", "б", "€", "key"];
        for secret in words.iter().filter(|w| !w.is_empty()) {
            for a in words {
                for b in words {
                    for c in words {
                        let text = [a, secret, b, secret, c].concat();
                        let half = (0..=text.len() / 2).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                        for text in [text.as_str(), &text[..half], a] {
                            assert_eq!(plain_redact(secret.as_bytes(), text), text.replace(secret, "[redacted]"));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn debug_and_redact_hide_the_secret() {
        let key = Secret::new("pk_canary_123");
        assert!(!format!("{key:?}").contains("canary"));
        assert_eq!(key.redact("bad key pk_canary_123!"), "bad key [redacted]!");
        assert_eq!(key.expose(), "pk_canary_123");
        assert_eq!(Secret::new("").redact("text"), "text");
        assert_eq!(Secret::new("aa").redact("aaa-aa-é"), "[redacted]a-[redacted]-é");
        assert_eq!(Secret::new("ключ").redact("ключключ і ключ"), "[redacted][redacted] і [redacted]");
    }
}
