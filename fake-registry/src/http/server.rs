//! The server loop: accepts TCP (optionally TLS) connections and serves HTTP/1.1 on each
//! until shut down; a fault can close a connection without an answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::middleware::CloseConnection;

/// How long a client may take to send request headers or finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long in-flight requests get to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The error that makes hyper drop a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by an injected fault")]
struct ClosedByFault;

/// Serves `router` on `listener` until `shutdown` changes or its sender is dropped.
pub fn spawn(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: watch::Receiver<()>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut stop = shutdown.clone();
        loop {
            let accepted = tokio::select! {
                _ = stop.changed() => break,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else {
                // Out of file descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (router, shutdown, tls) = (router.clone(), shutdown.clone(), tls.clone());
            tokio::spawn(async move {
                let Some(acceptor) = tls else {
                    return serve_connection(stream, router, shutdown).await;
                };
                let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                if let Ok(Ok(stream)) = handshake.await {
                    serve_connection(stream, router, shutdown).await;
                }
            });
        }
    })
}

async fn serve_connection<S>(stream: S, router: Router, mut shutdown: watch::Receiver<()>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let router = Arc::new(router);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = Router::clone(&router);
        async move {
            let response = router
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            if response.extensions().get::<CloseConnection>().is_some() {
                return Err(ClosedByFault);
            }
            Ok(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, connection).await;
        }
    }
}
