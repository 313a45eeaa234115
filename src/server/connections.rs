//! Accepting connections with bounded cost: a cap on open connections, a deadline for
//! each request head (which also ends idle keep-alive connections), and the client
//! address every handler sees.
//!
//! `axum::serve` has none of these knobs: a client that sends one header byte every
//! few seconds was held forever, so 2,000 of them used 2,000 file descriptors. Here
//! hyper's HTTP/1 connection is driven directly, with its header-read timer.

use super::client_addr::{ClientIp, TrustedProxies};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// What one client may hold of the server.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Time to send a whole request head, counted from the connection's start or from
    /// the end of the previous response: slow senders and idle keep-alive connections
    /// are closed when it passes.
    pub header_timeout: Duration,
    /// Time to send a whole request body (`api::read_limited`).
    pub body_timeout: Duration,
    /// Connections open at once; further clients wait in the listen backlog until one
    /// closes, so a flood of slow clients costs at most this many descriptors.
    pub max_connections: usize,
    /// Peers whose `Forwarded` / `X-Forwarded-For` headers name the real client.
    pub trusted_proxies: TrustedProxies,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Largest request head hyper buffers. Our own limits on the target and the headers
/// (`request_limits`) are far below it, so they answer first, with a JSON message.
const MAX_HEAD_BUFFER: usize = 256 * 1024;
/// Most header fields hyper parses, likewise above `request_limits::MAX_HEADERS`.
const HYPER_MAX_HEADERS: usize = 256;

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests
/// finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(HYPER_MAX_HEADERS)
        .max_buf_size(MAX_HEAD_BUFFER);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors or a connection reset before accept: the listener
                // itself is fine, so wait a moment rather than spin.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (app, proxies) = (app.clone(), limits.trusted_proxies.clone());
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            let client = proxies.client(peer.ip(), request.headers());
            request.extensions_mut().insert(ClientIp(client));
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are clients going away or timing out: nothing to answer.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
