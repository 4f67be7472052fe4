//! The `user_token` examples of `docs/identity.md` (Python and Node), run
//! for real: the sandbox accepts the tokens they print, and refuses a
//! token that is off by one character.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;
use support::{Logs, Raw};
use vizochok_sandbox::StoreIdentity;
use vizochok_server::user_token;

const SECRET: &str = "idsec_docs_example_7d1e";
/// Non-ASCII on purpose: the token signs the UTF-8 bytes of the id.
const USERS: [&str; 2] = ["customer-1042", "олена.коваль@приклад.укр"];

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples")
}

/// What `program example user_id` prints, with the secret in the environment.
fn run(program: &str, example: &str, user_id: &str) -> String {
    let output = Command::new(program)
        .arg(examples().join(example))
        .arg(user_id)
        .env("VIZOCHOK_IDENTITY_SECRET", SECRET)
        .output()
        .unwrap_or_else(|e| panic!("`{program}` must be installed to check docs/examples/{example}: {e}"));
    assert!(output.status.success(), "{example}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_python_and_node_examples_make_tokens_the_sandbox_accepts() {
    let mut options = support::options(&Logs::default());
    let identity = StoreIdentity { identity_secret: Some(SECRET.into()), require_identity: true };
    options.identities.insert("demo-store".into(), identity);
    let sandbox = vizochok_sandbox::start(options).await.unwrap();
    for user in USERS {
        let python = run("python3", "user_token.py", user);
        let node = run("node", "user_token.mjs", user);
        assert_eq!(python, node, "{user}");
        assert_eq!(python, user_token(SECRET, user), "{user}: the engine's own computation");
        let (_raw, answer) = Raw::connect(&sandbox, json!({"user_id": user, "user_token": python})).await;
        assert_eq!(answer["type"], "auth_ok", "{user}: {answer}");

        let mut tampered = python.clone();
        let last = if tampered.ends_with('0') { "1" } else { "0" };
        tampered.replace_range(63.., last);
        let (mut raw, answer) = Raw::connect(&sandbox, json!({"user_id": user, "user_token": tampered})).await;
        assert_eq!(answer["code"], "invalid_user_token", "{user}: {answer}");
        assert_eq!(raw.closed().await.0, 4001);
    }
    sandbox.shutdown().await;
}
