//! The HTTP side: the WebSocket endpoint, product images, and the site at `/`.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;
use vizochok_server::{Catalog, ConnId};

use super::actor::Command;
use super::admission::Pass;
use super::faults::Refusals;
use super::{ws, Faults};
use crate::product_image_svg;

/// Read chunk per socket, which each socket keeps for its life: a page.
/// A client's frames are at most 16 KiB and mostly far smaller; a longer
/// frame takes more reads. tungstenite's 128 KiB default would cost over
/// a gigabyte at 10,000 sockets, and 16 KiB cost 240 MiB more than this at
/// the 15,360 of `docs/performance.md`'s hoard.
const READ_BUFFER: usize = 4 * 1024;

const INDEX: &str = "<!doctype html><meta charset=utf-8><title>VIZOCHOK sandbox</title>\
<h1>VIZOCHOK sandbox</h1><p>A local VIZOCHOK server with a demo store for trying the widget and SDKs. \
Connect a client to <code>ws://HOST/v1/ws</code> with store <code>demo-store</code> and api key \
<code>pk_demo</code>. Product images are at <code>/images/&lt;sku&gt;.svg</code>. \
Start it with <code>--static DIR</code> to serve a demo page here.</p>";

/// What every request handler shares.
pub(crate) struct Shared {
    commands: mpsc::Sender<Command>,
    next_conn: AtomicU64,
    faults: Faults,
    refusals: Refusals,
    catalogs: Vec<Catalog>,
    static_dir: Option<PathBuf>,
    /// Cloned into every socket task; shutdown waits until all are dropped.
    alive: mpsc::Sender<()>,
    /// Largest message a socket reads: the engine's own limit on a client
    /// frame. tungstenite keeps the memory of the largest frame a socket
    /// read for the socket's life, so a larger bound would let each socket
    /// hold that much for frames the engine refuses anyway.
    max_message: usize,
}

impl Shared {
    pub fn new(
        commands: mpsc::Sender<Command>,
        faults: Faults,
        catalogs: Vec<Catalog>,
        static_dir: Option<PathBuf>,
        alive: mpsc::Sender<()>,
        max_message: usize,
    ) -> Shared {
        let refusals = Refusals::new(faults.refuse_auth);
        Shared { commands, next_conn: AtomicU64::new(1), faults, refusals, catalogs, static_dir, alive, max_message }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/ws", get(socket))
        .route("/images/{file}", get(image))
        .fallback(get(site))
        .with_state(shared)
}

/// The WebSocket handshake, done here rather than by axum's extractor so
/// that the socket is tungstenite's own, which can send a message in
/// fragments (`ws.rs`).
async fn socket(
    State(shared): State<Arc<Shared>>,
    Extension(pass): Extension<Arc<Pass>>,
    mut request: Request,
) -> Response {
    let headers = request.headers();
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let version = headers.get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes()));
    let (true, true, true, Some(accept)) =
        (has(header::UPGRADE, "websocket"), has(header::CONNECTION, "upgrade"), version, key)
    else {
        return (StatusCode::BAD_REQUEST, "a WebSocket handshake (version 13) is expected here").into_response();
    };
    let Some(upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let conn = ConnId(shared.next_conn.fetch_add(1, Ordering::Relaxed));
    let refuse = shared.refusals.take();
    let socket = ws::Socket {
        conn,
        origin,
        refuse_auth: refuse,
        faults: shared.faults.clone(),
        commands: shared.commands.clone(),
        alive: shared.alive.clone(),
        pass,
    };
    // The frame limit too: tungstenite reserves and reads a whole frame (up
    // to 16 MiB by default) before it checks the message's size.
    let config = WebSocketConfig::default()
        .max_message_size(Some(shared.max_message))
        .max_frame_size(Some(shared.max_message))
        .read_buffer_size(READ_BUFFER);
    tokio::spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            let stream = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
            socket.run(stream).await;
        }
    });
    let switching = [(header::UPGRADE, "websocket"), (header::CONNECTION, "upgrade")];
    (StatusCode::SWITCHING_PROTOCOLS, switching, [(header::SEC_WEBSOCKET_ACCEPT, accept)]).into_response()
}

async fn image(State(shared): State<Arc<Shared>>, UrlPath(file): UrlPath<String>) -> Response {
    let sku = file.strip_suffix(".svg");
    let product = sku.and_then(|sku| shared.catalogs.iter().find_map(|catalog| catalog.get(sku)));
    match product {
        Some(product) => ([(header::CONTENT_TYPE, "image/svg+xml")], product_image_svg(product)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A file of the static directory, or the built-in page without one.
async fn site(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let Some(dir) = &shared.static_dir else {
        return if uri.path() == "/" { Html(INDEX).into_response() } else { StatusCode::NOT_FOUND.into_response() };
    };
    let Some(path) = file_in(dir, uri.path()) else { return StatusCode::NOT_FOUND.into_response() };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The file a URL path names inside `dir`; `None` for anything that could
/// leave it (`..`, absolute parts). A directory means its `index.html`.
fn file_in(dir: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = Path::new(url_path.trim_start_matches('/'));
    if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let path = dir.join(relative);
    Some(if url_path.ends_with('/') || path.is_dir() { path.join("index.html") } else { path })
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_paths_stay_inside_the_directory() {
        let dir = Path::new("/srv/site");
        assert_eq!(file_in(dir, "/app.js"), Some(PathBuf::from("/srv/site/app.js")));
        assert_eq!(file_in(dir, "/"), Some(PathBuf::from("/srv/site/index.html")));
        assert_eq!(file_in(dir, "/../etc/passwd"), None);
        assert_eq!(file_in(dir, "/a/../../x"), None);
    }
}
