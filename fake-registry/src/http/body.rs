//! Request bodies: an idle read timeout on every body, and reading one into memory with a size
//! limit that refuses a larger declared length before reading a byte.

use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::SharedState;
use super::errors::BodyError;

/// Default for how long a request body may go without sending any data.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Most memory reserved up front for a body, whatever length it declares.
const MAX_PREALLOCATION: usize = 16 * 1024 * 1024;

/// The error a stalled body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body sent no data for {0:?}")]
pub struct BodyStalled(Duration);

/// A body that fails with [`BodyStalled`] when no frame arrives for `idle`.
#[derive(Debug)]
pub struct IdleTimeoutBody {
    inner: Body,
    idle: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl IdleTimeoutBody {
    /// Wraps `inner`.
    pub fn new(inner: Body, idle: Duration) -> Self {
        IdleTimeoutBody {
            inner,
            idle,
            sleep: None,
        }
    }
}

impl HttpBody for IdleTimeoutBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let idle = this.idle;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyStalled(idle)))));
        }
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        sleep.as_mut().reset(Instant::now() + idle);
        Poll::Ready(frame)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

/// Puts the configured idle read timeout on every request body.
pub async fn read_timeout(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let idle = state.body_read_timeout;
    next.run(request.map(|body| Body::new(IdleTimeoutBody::new(body, idle))))
        .await
}

fn too_large(limit: usize) -> BodyError {
    BodyError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("request body larger than {limit} bytes"),
    }
}

fn read_error(error: axum::Error) -> BodyError {
    let mut chain =
        std::iter::successors(Some(&error as &(dyn StdError + 'static)), |e| (*e).source());
    match chain.find_map(|e| e.downcast_ref::<BodyStalled>()) {
        Some(stalled) => BodyError {
            status: StatusCode::REQUEST_TIMEOUT,
            message: stalled.to_string(),
        },
        None => BodyError {
            status: StatusCode::BAD_REQUEST,
            message: format!("could not read the request body: {error}"),
        },
    }
}

/// Reads a request body of at most `limit` bytes. A declared length (`Content-Length`) over
/// the limit is refused with 413 before anything is read; a body that stalls gets 408.
pub async fn read_body(mut body: Body, limit: usize) -> Result<Vec<u8>, BodyError> {
    let declared = body.size_hint().lower();
    if declared > limit as u64 {
        return Err(BodyError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "request body declares {declared} bytes; the limit here is {limit} bytes"
            ),
        });
    }
    let mut data = Vec::with_capacity((declared as usize).min(MAX_PREALLOCATION));
    while let Some(frame) = body.frame().await {
        let Ok(chunk) = frame.map_err(read_error)?.into_data() else {
            continue;
        };
        if chunk.len() > limit - data.len() {
            return Err(too_large(limit));
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::StreamBody;

    #[tokio::test]
    async fn declared_length_over_the_limit_is_refused_unread() {
        let body = Body::from(vec![0_u8; 10]);
        let error = read_body(body, 9).await.unwrap_err();
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            error.message.contains("declares 10 bytes"),
            "{}",
            error.message
        );
        assert_eq!(read_body(Body::from("abc"), 3).await.unwrap(), b"abc");
    }

    #[tokio::test]
    async fn undeclared_bodies_are_cut_at_the_limit() {
        let chunks = futures_util::stream::iter(
            [&b"ab"[..], b"cd", b"ef"]
                .map(|c| Ok::<_, std::io::Error>(Frame::data(Bytes::from(c)))),
        );
        let error = read_body(Body::new(StreamBody::new(chunks)), 5)
            .await
            .unwrap_err();
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_stalled_body_times_out() {
        let stalled = futures_util::stream::pending::<Result<Frame<Bytes>, std::io::Error>>();
        let idle = Duration::from_millis(50);
        let body = IdleTimeoutBody::new(Body::new(StreamBody::new(stalled)), idle);
        let error = read_body(Body::new(body), 100).await.unwrap_err();
        assert_eq!(error.status, StatusCode::REQUEST_TIMEOUT);
        assert!(error.message.contains("no data"), "{}", error.message);
    }
}
