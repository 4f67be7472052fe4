//! Cart webhooks: the engine's body is POSTed to the store's backend as
//! JSON, signed with HMAC-SHA256 over `timestamp + "." + body`
//! (`X-Vizochok-Timestamp`, `X-Vizochok-Signature: sha256=<hex>`). A
//! 2xx confirms the change, any other answer refuses it; failures to get an
//! answer (connection refused, 5xx, timeout) are retried with backoff.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{header, Request, Uri};
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use tokio::net::TcpStream;

use crate::SandboxStore;

/// Tries per webhook.
const ATTEMPTS: u32 = 3;
/// Wait before the second try; doubles after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Longest wait for one answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// A store's backend.
#[derive(Clone)]
pub(crate) struct WebhookTarget {
    url: String,
    secret: Option<String>,
}

impl WebhookTarget {
    /// The store's webhook, keyed by store id, if it names one.
    pub fn of_store(store: &SandboxStore) -> Option<(String, WebhookTarget)> {
        let url = store.webhook_url.clone()?;
        Some((store.store_id.clone(), WebhookTarget { url, secret: store.webhook_secret.clone() }))
    }
}

/// The signature header's value for `body` sent at `timestamp`.
pub(crate) fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delivers one webhook: whether the store accepted, and why not.
pub(crate) async fn deliver(target: &WebhookTarget, body: &str) -> (bool, Option<String>) {
    let mut backoff = FIRST_BACKOFF;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match tokio::time::timeout(ATTEMPT_TIMEOUT, post(target, body)).await {
            Ok(Ok(status)) if (200..300).contains(&status) => return (true, None),
            // The store answered: a refusal is final, a server error is worth another try.
            Ok(Ok(status)) if status < 500 => return (false, Some(format!("the store's backend answered {status}"))),
            Ok(Ok(status)) => last = format!("the store's backend answered {status}"),
            Ok(Err(error)) => last = format!("webhook failed: {error}"),
            Err(_) => last = format!("no answer within {} ms", ATTEMPT_TIMEOUT.as_millis()),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    (false, Some(format!("{last} (after {ATTEMPTS} tries)")))
}

/// One signed POST over HTTP/1.1; the status code.
async fn post(target: &WebhookTarget, body: &str) -> Result<u16, String> {
    let uri: Uri = target.url.parse().map_err(|e| format!("bad webhook_url: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err("the sandbox delivers webhooks over http:// only".into());
    }
    let host = uri.host().ok_or("webhook_url has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host.trim_matches(['[', ']']), port)).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = Request::post(path)
        .header(header::HOST, uri.authority().map_or(host, |a| a.as_str()))
        .header(header::CONTENT_TYPE, "application/json")
        .header("X-Vizochok-Timestamp", timestamp.to_string());
    if let Some(secret) = &target.secret {
        request = request.header("X-Vizochok-Signature", signature(secret, timestamp, body));
    }
    let request = request.body(Full::new(Bytes::from(body.to_owned()))).map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}
