//! Verified identity (`docs/identity.md`): a store's backend signs the
//! shopper's `user_id` with the store's identity secret, and the engine
//! checks that signature in `auth`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use vizochok_proto::frame::MAX_USER_ID_BYTES;
use vizochok_proto::Secret;

use crate::StoreConfig;

/// Length of a `user_token`: 32 bytes of HMAC-SHA256 in hex.
const TOKEN_HEX_LEN: usize = 64;

/// The `user_token` a store's backend hands the page for `user_id`:
/// lowercase hex of HMAC-SHA256(key = `identity_secret`, message = the UTF-8
/// `user_id`). For store backends written in Rust, and for tests.
pub fn user_token(identity_secret: &str, user_id: &str) -> String {
    hex::encode(mac(identity_secret, user_id).finalize().into_bytes())
}

fn mac(secret: &str, user_id: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length: this constructor cannot fail, and the
    // fallback (an empty key) is never reached.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default()));
    mac.update(user_id.as_bytes());
    mac
}

/// Whether `token` is `user_id`'s token under `secret`, compared in
/// constant time. Only the exact lowercase hex form is accepted.
fn token_matches(secret: &str, user_id: &str, token: &str) -> bool {
    let well_formed = token.len() == TOKEN_HEX_LEN && token.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let Some(bytes) = well_formed.then(|| hex::decode(token).ok()).flatten() else { return false };
    mac(secret, user_id).verify_slice(&bytes).is_ok()
}

/// Why an `auth` was refused for its identity (`invalid_user_token`, close 4001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentityRefusal {
    /// The store requires proof and the `auth` brought none.
    Missing,
    /// A token that is not the `user_id`'s.
    Wrong,
    /// A token without a `user_id`: it proves nothing.
    WithoutUser,
    /// A token for a store that has no identity secret to check it with.
    Unverifiable,
    /// A `user_id` over [`MAX_USER_ID_BYTES`]: each session keeps its own.
    TooLong,
}

impl IdentityRefusal {
    /// The developer-facing reason (never the token).
    pub fn reason(self) -> &'static str {
        match self {
            IdentityRefusal::Missing => "this store requires a user_token with user_id",
            IdentityRefusal::Wrong => "user_token does not match user_id",
            IdentityRefusal::WithoutUser => "user_token without user_id",
            IdentityRefusal::Unverifiable => "user_token sent, but the store has no identity secret",
            IdentityRefusal::TooLong => "user_id is longer than 256 bytes",
        }
    }
}

/// Whether `auth`'s `user_id` is verified (`Ok(true)`), merely claimed or
/// absent (`Ok(false)`), or the `auth` must be refused.
pub(crate) fn check(
    store: &StoreConfig,
    user_id: Option<&str>,
    user_token: Option<&Secret>,
) -> Result<bool, IdentityRefusal> {
    if user_id.is_some_and(|user| user.len() > MAX_USER_ID_BYTES) {
        return Err(IdentityRefusal::TooLong);
    }
    match (user_id, user_token) {
        (None, None) => Ok(false),
        (None, Some(_)) => Err(IdentityRefusal::WithoutUser),
        (Some(_), None) if store.require_identity => Err(IdentityRefusal::Missing),
        (Some(_), None) => Ok(false),
        (Some(user), Some(token)) => match store.identity_secret.as_ref().filter(|s| !s.is_blank()) {
            // A present but wrong token is refused even where identity is
            // optional: the page believes it is signed in, and silently
            // treating it as a mere claim would hide the store's mistake.
            Some(secret) if token_matches(secret.expose(), user, token.expose()) => Ok(true),
            Some(_) => Err(IdentityRefusal::Wrong),
            None => Err(IdentityRefusal::Unverifiable),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    fn store(secret: Option<&str>, required: bool) -> StoreConfig {
        StoreConfig {
            identity_secret: secret.map(Secret::new),
            require_identity: required,
            ..StoreConfig::new("s", vec!["pk".into()], Catalog::default())
        }
    }

    #[test]
    fn the_token_is_lowercase_hex_hmac_sha256_of_the_user_id() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            user_token("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_exact_token_verifies() {
        let token = user_token("whsec", "alice");
        assert!(token_matches("whsec", "alice", &token));
        assert!(!token_matches("whsec", "bob", &token));
        assert!(!token_matches("other", "alice", &token));
        assert!(!token_matches("whsec", "alice", &token.to_uppercase()));
        assert!(!token_matches("whsec", "alice", &token[..63]));
        assert!(!token_matches("whsec", "alice", ""));
    }

    #[test]
    fn each_combination_of_user_token_and_store_settings() {
        let token = Secret::new(user_token("k", "alice"));
        let wrong = Secret::new(user_token("k", "bob"));
        let optional = store(Some("k"), false);
        let required = store(Some("k"), true);
        assert_eq!(check(&optional, None, None), Ok(false));
        assert_eq!(check(&required, None, None), Ok(false), "anonymous shoppers stay allowed");
        assert_eq!(check(&optional, Some("alice"), None), Ok(false));
        assert_eq!(check(&required, Some("alice"), None), Err(IdentityRefusal::Missing));
        assert_eq!(check(&required, Some("alice"), Some(&token)), Ok(true));
        assert_eq!(check(&optional, Some("alice"), Some(&token)), Ok(true));
        assert_eq!(check(&optional, Some("alice"), Some(&wrong)), Err(IdentityRefusal::Wrong));
        assert_eq!(check(&optional, None, Some(&token)), Err(IdentityRefusal::WithoutUser));
        assert_eq!(check(&store(None, false), Some("alice"), Some(&token)), Err(IdentityRefusal::Unverifiable));
        assert_eq!(check(&store(None, true), Some("alice"), None), Err(IdentityRefusal::Missing));
    }
}
