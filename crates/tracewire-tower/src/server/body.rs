//! [`ResponseBody`]: keeps the span open until the response body ends.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Buf as _;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::{EndState, Outcome};

pin_project! {
    /// The response body of [`Server`](super::Server): the inner body, unchanged, ending the
    /// request's span when it yields its last frame, fails, or is dropped.
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        end: Option<EndState>,
        // The bytes still due by the response's declared length: the server stops polling (and
        // drops the body) once they are written, without waiting for the body's end.
        remaining: Option<u64>,
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("traced", &self.end.is_some())
            .finish_non_exhaustive()
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn untraced(inner: B) -> Self {
        Self {
            inner,
            end: None,
            remaining: None,
        }
    }

    /// A body that ends `end` when it ends, or once `length` bytes (the response's declared
    /// length, when known) have been yielded.
    pub(crate) fn traced(inner: B, end: EndState, length: Option<u64>) -> Self {
        Self {
            inner,
            end: Some(end),
            remaining: length,
        }
    }
}

impl<B: Body> Body for ResponseBody<B>
where
    B::Error: std::fmt::Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let Some(end) = this.end.as_mut() else {
            return this.inner.poll_frame(cx);
        };
        let polled = {
            // A streaming body may do work (and log) while producing frames.
            let _guard = end.cx.clone().attach();
            this.inner.as_mut().poll_frame(cx)
        };
        let mut end = match &polled {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Ok(frame))) => {
                let all_sent = match (this.remaining.as_mut(), frame.data_ref()) {
                    (Some(left), Some(data)) => {
                        let len = u64::try_from(data.remaining()).unwrap_or(u64::MAX);
                        *left = left.saturating_sub(len);
                        *left == 0
                    }
                    _ => false,
                };
                if !all_sent && !this.inner.is_end_stream() {
                    return polled;
                }
                match this.end.take() {
                    Some(end) => end,
                    None => return polled,
                }
            }
            _ => match this.end.take() {
                Some(end) => end,
                None => return polled,
            },
        };
        match &polled {
            Poll::Ready(Some(Err(e))) => {
                end.finish(Outcome::BodyError(std::any::type_name::<B::Error>(), e));
            }
            _ => end.finish(Outcome::Complete),
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
