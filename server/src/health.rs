//! `GET /healthz` and `GET /readyz`, for load balancers and orchestrators: whether the
//! process runs, and whether it can serve (database reachable, migrations applied, not
//! stopping).

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use domain::Store;

use crate::shutdown::Stopping;

/// How long `/readyz` waits for the database before saying it does not answer.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct Readiness {
    store: Store,
    stopping: Stopping,
}

pub fn router(store: Store, stopping: Stopping) -> Router {
    Router::new()
        .route("/healthz", get(alive))
        .route("/readyz", get(ready))
        .with_state(Readiness { store, stopping })
}

/// The process runs and answers; nothing else is looked at.
///
/// **Permissions:** anyone.
async fn alive() -> &'static str {
    "ok"
}

/// 200 when the database answers and has every migration this build carries; 503 with
/// the reason otherwise, and from the moment Portico begins to stop.
///
/// **Permissions:** anyone (the reasons name no data).
async fn ready(State(readiness): State<Readiness>) -> (StatusCode, String) {
    let unready = |reason: String| (StatusCode::SERVICE_UNAVAILABLE, reason);
    if *readiness.stopping.borrow() {
        return unready("shutting down".into());
    }
    match tokio::time::timeout(DATABASE_WAIT, readiness.store.missing_migrations()).await {
        Ok(Ok(0)) => (StatusCode::OK, "ready".into()),
        Ok(Ok(missing)) => unready(format!("{missing} database migrations not applied")),
        Ok(Err(error)) => unready(format!("database unreachable: {error}")),
        Err(_) => unready(format!(
            "database did not answer within {} s",
            DATABASE_WAIT.as_secs()
        )),
    }
}
