//! Accepting connections with bounded cost: a cap on open connections, a deadline for
//! each request head (which also ends idle keep-alive connections), and the client
//! address every handler sees.
//!
//! `axum::serve` has none of these knobs: a client that sends one header byte every
//! few seconds was held forever, so 2,000 of them used 2,000 file descriptors. Here
//! hyper's HTTP/1 connection is driven directly, with its header-read timer.

use super::client_addr::{ClientIp, TrustedProxies};
use super::error::ApiError;
use super::request_limits::{MAX_HEADERS, MAX_HEADER_BYTES, MAX_TARGET_BYTES};
use super::security_headers;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
    /// Time to send a whole request body (`extract::read_limited`).
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
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(JsonRefusals::new(stream)), service));
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

/// A connection whose refusals by hyper itself are JSON like every other.
///
/// hyper answers a request it cannot parse (a malformed head, a target over 64 KiB, a
/// head over `MAX_HEAD_BUFFER`) before any handler runs, with a 4xx and an empty body,
/// then closes the connection. No hook lets us write that answer, so it is recognised
/// on its way out, as the only 4xx this server ever sends with `content-length: 0`
/// (every refusal of ours carries a JSON body), and replaced whole.
struct JsonRefusals<S> {
    inner: S,
    /// The replacement being written, how much of it is written, and how many of
    /// hyper's bytes it stands for (reported once it is all out).
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<S> JsonRefusals<S> {
    fn new(inner: S) -> Self {
        JsonRefusals {
            inner,
            replacing: None,
        }
    }
}

/// The JSON answer standing in for hyper's own refusal at the start of `out`, if it is
/// one.
fn replacement(out: &[u8]) -> Option<Vec<u8>> {
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &out[..head_end + 2];
    let status = head
        .strip_prefix(b"HTTP/1.1 4")
        .or_else(|| head.strip_prefix(b"HTTP/1.0 4"))?;
    let empty = head
        .windows(21)
        .any(|w| w.eq_ignore_ascii_case(b"\r\ncontent-length: 0\r\n"));
    if !empty {
        return None;
    }
    let code: u16 = std::str::from_utf8(status.get(..2)?).ok()?.parse().ok()?;
    let message = match code + 400 {
        414 => ApiError::UriTooLong(MAX_TARGET_BYTES).to_string(),
        431 => ApiError::HeadersTooLarge(MAX_HEADER_BYTES, MAX_HEADERS).to_string(),
        _ => "malformed HTTP request: see RFC 9112 for the message syntax".to_owned(),
    };
    let status = axum::http::StatusCode::from_u16(code + 400).ok()?;
    let body = serde_json::json!({ "error": message }).to_string();
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\nx-content-type-options: nosniff\r\n\
             content-security-policy: {}\r\n\r\n{body}",
            body.len(),
            security_headers::NOTHING,
        )
        .into_bytes(),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonRefusals<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> JsonRefusals<S> {
    /// Writes the replacement; done, it reports hyper's bytes as written.
    fn poll_replacing(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let (bytes, written, stands_for) = self.replacing.as_mut().expect("replacing");
        while *written < bytes.len() {
            match ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))? {
                0 => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                n => *written += n,
            }
        }
        Poll::Ready(Ok(*stands_for))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if self.replacing.is_none() {
            let first = bufs.iter().find(|b| !b.is_empty());
            match first.and_then(|b| replacement(b)) {
                Some(bytes) => {
                    let stands_for = bufs.iter().map(|b| b.len()).sum();
                    self.replacing = Some((bytes, 0, stands_for));
                }
                None => return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
            }
        }
        self.poll_replacing(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn hypers_own_refusals_become_json_and_nothing_else_changes() {
        let hyper = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let json = String::from_utf8(replacement(hyper).unwrap()).unwrap();
        assert!(json.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{json}");
        assert!(
            json.ends_with(r#"{"error":"request target is longer than the 8192-byte limit"}"#),
            "{json}"
        );
        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"error\":\"\"}";
        assert!(replacement(ours).is_none());
        let redirect = b"HTTP/1.1 303 See Other\r\nlocation: /\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(redirect).is_none());
        assert!(
            replacement(b"HTTP/1.1 400 Bad Req").is_none(),
            "an incomplete head is left alone"
        );
    }
}
