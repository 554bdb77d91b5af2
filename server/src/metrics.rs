//! Figures for Prometheus (`--metrics-listen`), in its text format, on a listener of their
//! own and never the public one. Counted as requests pass: requests by route and status,
//! their latency, sign-ins and refusals. Read from the database when scraped: the
//! invitations kept, the outbox's backlog; and the store's waits for a connection.
//!
//! Routes are labelled with the route that matched (`/fn/sign_in`, `/admin/users/{id}`),
//! never the address asked for, so the set of labels is bounded by the routes Portico has.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::Store;
use tokio::net::TcpListener;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of requests no route matched (static files, pages that do not exist).
const UNMATCHED: &str = "unmatched";

/// The routes that sign people in, and how. Passkeys share theirs with registering one:
/// a passkey sign-in is one that opens a session there.
const SIGN_IN_ROUTES: [(&str, &str); 3] = [
    ("/fn/sign_in", "password"),
    ("/fn/sign_in/code/verify", "code"),
    ("/fn/passkey/finish", "passkey"),
];

pub struct Metrics {
    routes: RwLock<HashMap<Arc<str>, Arc<RouteFigures>>>,
    /// Per entry of [`SIGN_IN_ROUTES`].
    signed_in: [AtomicU64; SIGN_IN_ROUTES.len()],
    refused: [AtomicU64; SIGN_IN_ROUTES.len()],
    /// The name of the session cookie, whose setting tells a sign-in.
    session_cookie: String,
}

#[derive(Default)]
struct RouteFigures {
    /// Answers by status; few statuses per route, found by a read lock.
    statuses: RwLock<Vec<(u16, AtomicU64)>>,
    /// Requests per latency bucket, the last for those slower than every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    micros: AtomicU64,
}

impl Metrics {
    pub fn new(session_cookie: String) -> Metrics {
        Metrics {
            routes: RwLock::default(),
            signed_in: Default::default(),
            refused: Default::default(),
            session_cookie,
        }
    }

    fn route(&self, route: &str) -> Arc<RouteFigures> {
        let known = self.routes.read().ok().and_then(|r| r.get(route).cloned());
        if let Some(figures) = known {
            return figures;
        }
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        routes.entry(Arc::from(route)).or_default().clone()
    }

    fn record(&self, route: &str, status: StatusCode, took: Duration, headers: &HeaderMap) {
        let figures = self.route(route);
        figures.count(status.as_u16());
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        figures.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        figures.micros.fetch_add(micros, Ordering::Relaxed);
        if let Some(which) = SIGN_IN_ROUTES.iter().position(|(r, _)| *r == route) {
            if self.opens_session(headers) {
                self.signed_in[which].fetch_add(1, Ordering::Relaxed);
            } else if status.is_client_error() || status.is_redirection() {
                // A redirect without a session is a form posted without JavaScript, sent
                // back to say why.
                self.refused[which].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn opens_session(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .any(|(name, value)| name == self.session_cookie && !value.is_empty())
    }

    /// The figures counted in this process, in Prometheus's text format.
    fn write_counted(&self, out: &mut String) {
        let mut routes: Vec<(Arc<str>, Arc<RouteFigures>)> = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(route, figures)| (route.clone(), figures.clone()))
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        describe(
            out,
            "portico_http_requests_total",
            "counter",
            "HTTP requests answered, by the route that matched and the status.",
        );
        for (route, figures) in &routes {
            let route = escape(route);
            let mut statuses: Vec<(u16, u64)> = figures
                .statuses
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(status, n)| (*status, n.load(Ordering::Relaxed)))
                .collect();
            statuses.sort_unstable();
            for (status, n) in statuses {
                let class = status / 100;
                let _ = writeln!(
                    out,
                    "portico_http_requests_total{{route=\"{route}\",status=\"{status}\",class=\"{class}xx\"}} {n}"
                );
            }
        }
        describe(
            out,
            "portico_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer's header, by the route that matched.",
        );
        for (route, figures) in &routes {
            let route = escape(route);
            let mut below = 0;
            for (bound, n) in BUCKETS.iter().zip(&figures.buckets) {
                below += n.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "portico_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {below}"
                );
            }
            let all = below + figures.buckets[BUCKETS.len()].load(Ordering::Relaxed);
            let seconds = figures.micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "portico_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {all}\n\
                 portico_http_request_duration_seconds_sum{{route=\"{route}\"}} {seconds}\n\
                 portico_http_request_duration_seconds_count{{route=\"{route}\"}} {all}"
            );
        }
        let by_method = [
            (
                "portico_sign_ins_total",
                "People signed in (a session opened), by how.",
                &self.signed_in,
            ),
            (
                "portico_sign_in_refusals_total",
                "Sign-ins refused (wrong password or code, unknown passkey, throttled), by how.",
                &self.refused,
            ),
        ];
        for (name, help, counts) in by_method {
            describe(out, name, "counter", help);
            for ((_, method), n) in SIGN_IN_ROUTES.iter().zip(counts) {
                let n = n.load(Ordering::Relaxed);
                let _ = writeln!(out, "{name}{{method=\"{method}\"}} {n}");
            }
        }
    }
}

impl RouteFigures {
    fn count(&self, status: u16) {
        let counted = self
            .statuses
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, n)| n.fetch_add(1, Ordering::Relaxed))
            .is_some();
        if !counted {
            let mut statuses = self.statuses.write().unwrap_or_else(|p| p.into_inner());
            match statuses.iter().find(|(s, _)| *s == status) {
                Some((_, n)) => {
                    n.fetch_add(1, Ordering::Relaxed);
                }
                None => statuses.push((status, AtomicU64::new(1))),
            }
        }
    }
}

/// Counts every request passing, under the route that matched.
pub async fn count(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    metrics.record(
        route,
        response.status(),
        started.elapsed(),
        response.headers(),
    );
    response
}

#[derive(Clone)]
struct Scrape {
    metrics: Arc<Metrics>,
    store: Store,
}

/// Serves `/metrics` on `listener` until `stopped`.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    store: Store,
    stopped: impl Future<Output = ()> + Send + 'static,
) {
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { metrics, store });
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::warn!(%error, "the metrics listener failed");
    }
}

/// Every figure, the database's read now.
///
/// **Permissions:** whoever reaches the metrics address (keep it private).
async fn scrape(State(scrape): State<Scrape>) -> Response {
    let mut out = String::with_capacity(16 * 1024);
    scrape.metrics.write_counted(&mut out);
    let (reads, writes) = scrape.store.connection_waits();
    let kinds = [("read", reads), ("write", writes)];
    describe(
        &mut out,
        "portico_database_connection_waits_total",
        "counter",
        "Times a query found every database connection of its kind in use and waited.",
    );
    for (kind, waits) in kinds {
        let _ = writeln!(
            out,
            "portico_database_connection_waits_total{{connections=\"{kind}\"}} {}",
            waits.waits
        );
    }
    describe(
        &mut out,
        "portico_database_connection_wait_seconds_total",
        "counter",
        "Time spent waiting for a database connection.",
    );
    for (kind, waits) in kinds {
        let _ = writeln!(
            out,
            "portico_database_connection_wait_seconds_total{{connections=\"{kind}\"}} {}",
            waits.waited.as_secs_f64()
        );
    }
    match domain::outbox::backlog(&scrape.store).await {
        Ok(backlog) => {
            describe(
                &mut out,
                "portico_outbox_unsent",
                "gauge",
                "Mail in the outbox not sent yet.",
            );
            let _ = writeln!(out, "portico_outbox_unsent {}", backlog.unsent);
            describe(
                &mut out,
                "portico_outbox_failing",
                "gauge",
                "Mail not sent yet whose delivery failed at least once.",
            );
            let _ = writeln!(out, "portico_outbox_failing {}", backlog.failing);
        }
        Err(error) => tracing::warn!(%error, "cannot read the outbox's backlog for the metrics"),
    }
    match domain::invitations::count(&scrape.store).await {
        Ok(invitations) => {
            describe(
                &mut out,
                "portico_invitations",
                "gauge",
                "Invitations kept, whatever their state; it grows by those made.",
            );
            let _ = writeln!(out, "portico_invitations {invitations}");
        }
        Err(error) => tracing::warn!(%error, "cannot count the invitations for the metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

fn describe(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
