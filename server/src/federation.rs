//! `GET /federation/callback`: where partners' identity providers send people back. A thin
//! adapter: `domain::federation::arrive` checks the answer and decides what follows.

use app::server::{ClientAddress, Cookie, Portal};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, USER_AGENT};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use domain::federation::{Answer, Arrival};
use serde::Deserialize;

pub fn router(portal: Portal) -> Router {
    Router::new()
        .route("/federation/callback", get(callback))
        .with_state(portal)
}

#[derive(Deserialize)]
struct Callback {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(portal): State<Portal>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    Query(query): Query<Callback>,
) -> Response {
    let cookie = |which| app::server::cookie_in(&headers, &portal.cookie_name(which));
    let answer = Answer {
        state: query.state,
        code: query.code,
        error: query.error,
        error_description: query.error_description,
        state_cookie: cookie(Cookie::Federation),
        redemption_cookie: cookie(Cookie::Redemption),
        previous_session: cookie(Cookie::Session),
    };
    let client = domain::sessions::Client {
        ip: address.map(|Extension(a)| a.0),
        user_agent: headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect()),
    };
    let redeeming = answer.redemption_cookie.is_some();
    let now = app::server::now();
    let arrived = domain::federation::arrive(
        &portal.store,
        &portal.federation,
        &portal.policy,
        &answer,
        &client,
        now,
    )
    .await;
    let mut cookies = vec![portal.set_cookie_header(Cookie::Federation, "", 0)];
    let mut response = match arrived {
        Ok(Arrival::Redemption { code_also: false }) => {
            Redirect::to("/redeem/consent").into_response()
        }
        Ok(Arrival::Redemption { code_also: true }) => Redirect::to("/redeem/code").into_response(),
        Ok(Arrival::SignedIn { session, next }) => {
            cookies.push(portal.set_cookie_header(
                Cookie::Session,
                &session.token,
                session.expires_at - now,
            ));
            Redirect::to(next.as_deref().unwrap_or("/")).into_response()
        }
        Err(
            error @ (domain::Error::Storage(_)
            | domain::Error::Migration(_)
            | domain::Error::Hashing(_)),
        ) => crate::oidc::internal(error),
        Err(error) => {
            let again = if redeeming {
                "Go back to your invitation (the link in the mail) to try again."
            } else {
                "Go back to the sign-in page to try again."
            };
            crate::oidc::page(
                StatusCode::BAD_REQUEST,
                "You could not be signed in",
                &[&error.to_string(), again],
            )
        }
    };
    for cookie in cookies.into_iter().flatten() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
