//! Serving connections with limits: how long a client may take over a request's header and
//! body, how long a connection may stay open with nothing moving, and how many connections
//! are open at once. Without them a few thousand half-sent requests hold sockets until the
//! process runs out of file descriptors, and then neither new requests nor the database
//! get one.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// To send a request's header, or to start the next one on a kept-alive connection.
    pub header: Duration,
    /// To send a request's body, from the end of its header.
    pub body: Duration,
    /// With nothing sent or received either way.
    pub idle: Duration,
    pub max_connections: usize,
}

/// Files the process keeps open besides connections: the database's, the listener, mail
/// and calls to partners' providers.
const RESERVED_FILES: u64 = 128;

/// Raises the soft limit of open files to the hard one (as nginx and Go's runtime do) and
/// returns how many connections fit below it, at most `wanted`.
pub fn connections_that_fit(wanted: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        // The hard limit may be "unlimited", which the kernel refuses for files: keep the soft one.
        let _ = setrlimit(Resource::Nofile, limit);
    }
    let Some(files) = getrlimit(Resource::Nofile).current else {
        return wanted;
    };
    let fit = files.saturating_sub(RESERVED_FILES).max(16);
    usize::try_from(fit).map_or(wanted, |fit| fit.min(wanted))
}

/// Accepts connections and serves `router` on them until `shutdown`, then stops listening
/// and lets the open ones finish the requests they have begun, for `grace` at most.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let slots = Arc::new(Slots::new(limits.max_connections));
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of files, most likely: wait for some to close rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match slots.free.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                slots.close_longest_waiting();
                tokio::select! {
                    permit = slots.free.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let connection = Arc::new(Connection::new(slots.clone()));
        let (router, stopping) = (router.clone(), stopping.clone());
        tokio::spawn(async move {
            serve_connection(stream, peer, router, limits, connection, stopping).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(());
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, slots.free.acquire_many(all))
        .await
        .is_err()
    {
        let open = limits.max_connections - slots.free.available_permits();
        tracing::warn!(
            "{open} connections were still busy after {} s; they are cut off",
            grace.as_secs()
        );
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    connection: Arc<Connection>,
    mut stopping: watch::Receiver<()>,
) {
    connection.waits();
    let io = TokioIo::new(Watched {
        stream,
        connection: connection.clone(),
    });
    let service = {
        let connection = connection.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            answer(
                request,
                peer,
                router.clone(),
                limits.body,
                connection.clone(),
            )
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header);
    let served = builder.serve_connection(io, service);
    tokio::pin!(served);
    let mut stopped = false;
    loop {
        let quiet_until = connection.last_active() + limits.idle;
        tokio::select! {
            _ = served.as_mut() => break,
            () = connection.close.notified() => break,
            () = tokio::time::sleep_until(quiet_until) => {
                if connection.last_active() + limits.idle <= Instant::now() {
                    break;
                }
            }
            _ = stopping.changed(), if !stopped => {
                stopped = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Answers one request: the body gets its deadline, the router the peer's address.
async fn answer(
    request: Request<Incoming>,
    peer: SocketAddr,
    router: Router,
    body_limit: Duration,
    connection: Arc<Connection>,
) -> Result<Response<Answering>, Infallible> {
    connection.busy();
    let expired = Arc::new(AtomicBool::new(false));
    let mut request = request.map(|body| {
        if body.is_end_stream() {
            Body::new(body)
        } else {
            Body::new(Deadline {
                body,
                at: Box::pin(tokio::time::sleep(body_limit)),
                expired: expired.clone(),
            })
        }
    });
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let response = if expired.load(Ordering::Relaxed) {
        let mut refused = (
            StatusCode::REQUEST_TIMEOUT,
            "The request's body came too slowly.",
        )
            .into_response();
        refused
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        refused
    } else {
        response
    };
    Ok(response.map(|body| Answering { body, connection }))
}

/// The open connections. Those waiting for a request (not yet sent, or the next one on a
/// kept-alive connection) are the ones a new connection may replace when every slot is
/// taken, the longest-waiting first: a client that sends its request at once is never
/// among them for long, however many others dawdle.
struct Slots {
    free: Arc<Semaphore>,
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    next: u64,
    /// By when each started waiting: the close signal of its connection.
    since: BTreeMap<u64, Arc<Notify>>,
}

impl Slots {
    fn new(max: usize) -> Slots {
        Slots {
            free: Arc::new(Semaphore::new(max)),
            waiting: Mutex::new(Waiting::default()),
        }
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close_longest_waiting(&self) {
        if let Some((_, close)) = self.waiting().since.pop_first() {
            close.notify_one();
        }
    }
}

/// One connection's part in [`Slots`], and when anything last moved on it.
struct Connection {
    slots: Arc<Slots>,
    close: Arc<Notify>,
    waiting_since: Mutex<Option<u64>>,
    opened: Instant,
    /// Milliseconds after `opened`.
    active: AtomicU64,
}

impl Connection {
    fn new(slots: Arc<Slots>) -> Connection {
        Connection {
            slots,
            close: Arc::new(Notify::new()),
            waiting_since: Mutex::new(None),
            opened: Instant::now(),
            active: AtomicU64::new(0),
        }
    }

    fn waiting_since(&self) -> MutexGuard<'_, Option<u64>> {
        self.waiting_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn waits(&self) {
        let mut since = self.waiting_since();
        if since.is_none() {
            let mut waiting = self.slots.waiting();
            let at = waiting.next;
            waiting.next += 1;
            waiting.since.insert(at, self.close.clone());
            *since = Some(at);
        }
    }

    fn busy(&self) {
        if let Some(at) = self.waiting_since().take() {
            self.slots.waiting().since.remove(&at);
        }
    }

    fn touch(&self) {
        let millis = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.active.store(millis, Ordering::Relaxed);
    }

    fn last_active(&self) -> Instant {
        self.opened + Duration::from_millis(self.active.load(Ordering::Relaxed))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.busy();
    }
}

/// The socket, noting when bytes move either way.
struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.connection.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.connection.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.connection.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A request body that fails once its time is up, however slowly it keeps coming.
struct Deadline {
    body: Incoming,
    at: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if self.at.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err("the request's body came too slowly".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body; when it is done (sent, or dropped with the connection) the
/// connection waits for its next request.
struct Answering {
    body: Body,
    connection: Arc<Connection>,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.connection.waits();
    }
}

impl HttpBody for Answering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
