//! The accept loop: every TCP connection passes the admission desk, then
//! hyper serves it (HTTP/1.1, a bounded request head) until it upgrades to
//! a WebSocket, closes, or runs out of its handshake time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{service_fn, Service};
use hyper::Request;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::sleep_until;

use super::admission::{Gate, Pass};
use super::LogSink;

/// Pause after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts until `stop`, then ends every handshake still in progress.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    gate: Arc<Gate>,
    log: LogSink,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                log.line(&serde_json::json!({"kind": "accept_error", "detail": error.to_string()}).to_string());
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // A refused connection is dropped at once: nothing read, nothing answered.
        let Ok(pass) = gate.admit(peer.ip()) else { continue };
        tokio::spawn(connection(stream, pass, router.clone()));
    }
    gate.end_all();
}

/// Serves one connection. The [`Pass`] rides along in each request's
/// extensions, so the WebSocket handler keeps it for the socket's life.
async fn connection(stream: TcpStream, pass: Arc<Pass>, router: Router) {
    let _ = stream.set_nodelay(true);
    let router = TowerToHyperService::new(router);
    let for_requests = pass.clone();
    let asked = Arc::new(AtomicBool::new(false));
    let upgrading = Arc::new(AtomicBool::new(false));
    let (asked_here, upgrading_here) = (asked.clone(), upgrading.clone());
    let service = service_fn(move |mut request: Request<Incoming>| {
        asked_here.store(true, Ordering::Relaxed);
        if request.headers().contains_key(hyper::header::UPGRADE) {
            upgrading_here.store(true, Ordering::Relaxed);
        }
        request.extensions_mut().insert(for_requests.clone());
        router.call(request)
    });
    let limit = pass.gate().limits().max_request_head_bytes.max(MIN_HEAD);
    let served = http1::Builder::new().max_buf_size(limit).serve_connection(TokioIo::new(stream), service);
    let timeout = pass.gate().limits().handshake_timeout_ms;
    // Pinned out here, not inside `select!` (which drops its futures, and
    // with them the socket, before a branch runs): a refusal is logged
    // before the peer sees its connection close.
    let served = std::pin::pin!(served.with_upgrades());
    tokio::select! {
        result = served => {
            if let Err(error) = result {
                if error.is_parse_too_large() {
                    pass.gate().refused(pass.peer(), &format!("request head over {limit} bytes: answered 431"));
                }
            }
        }
        // A plain HTTP connection (images, the site) lives this long too;
        // only one that never finished a request is a refusal.
        () = sleep_until(pass.deadline) => {
            if !asked.load(Ordering::Relaxed) {
                pass.gate().refused(pass.peer(), &format!("no complete request within {timeout} ms of connecting"));
            } else if upgrading.load(Ordering::Relaxed) {
                // The deadline came before the upgraded socket was handed
                // over (the WebSocket's own deadline would have said this).
                pass.gate().refused(pass.peer(), &format!("no auth within {timeout} ms of connecting"));
            }
        }
        // Crowded out (logged by the gate) or shutting down.
        _ = pass.ended() => {}
    }
}

/// hyper's smallest read buffer.
const MIN_HEAD: usize = 8 * 1024;
