//! `GET /admin/reviews/{id}/results.csv`: an access review's results as a CSV file, for
//! administrators. A thin adapter over `domain::reviews::results`.

use app::server::{ClientAddress, Portal};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

pub fn router(portal: Portal) -> Router {
    Router::new()
        .route("/admin/reviews/{id}/results.csv", get(results_csv))
        .with_state(portal)
}

/// **Permissions:** global or user administrators (for an app's guests, global
/// administrators), signed in with their session cookie.
async fn results_csv(
    State(portal): State<Portal>,
    Path(id): Path<String>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let now = app::server::now();
    let ip = address.map(|Extension(a)| a.0);
    let signed_in = app::server::signed_in_by_cookie(&portal, &headers, ip.as_deref()).await;
    let principal = match signed_in {
        Ok(Some(signed_in)) => signed_in.principal,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response(),
        Err(error) => return refused(error),
    };
    match domain::reviews::results(&portal.store, &principal, &id, now).await {
        Ok(results) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"access-review-results.csv\"".to_string(),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            types::reviews::results_csv(&results),
        )
            .into_response(),
        Err(error) => refused(error),
    }
}

fn refused(error: domain::Error) -> Response {
    let status = match error {
        domain::Error::AccessDenied => StatusCode::FORBIDDEN,
        domain::Error::NotFound(_) => StatusCode::NOT_FOUND,
        domain::Error::NotAuthenticated => StatusCode::UNAUTHORIZED,
        other => {
            tracing::error!(error = %other, "could not export an access review");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Please try again in a moment.",
            )
                .into_response();
        }
    };
    (status, error.to_string()).into_response()
}
