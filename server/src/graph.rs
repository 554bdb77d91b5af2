//! The Microsoft Graph-compatible API under `/v1.0`, for programs signed in as themselves
//! (client credentials). Thin adapters: who the caller is and what it may do is decided in
//! `domain::graph`, and errors come back in Graph's envelope.

use app::server::ClientAddress;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use domain::Principal;
use domain::graph::{GraphError, NewInvitation};
use serde_json::{Value, json};

use crate::oidc::Provider;

pub fn router(provider: Provider) -> Router {
    Router::new()
        .route("/v1.0/invitations", post(create).get(list))
        .route("/v1.0/invitations/{id}", get(read).delete(revoke))
        .route("/v1.0/invitations/{id}/resend", post(resend))
        .with_state(provider)
}

/// The request's ids, as Graph names them: one of its own, and the client's echoed.
struct Ids {
    request: String,
    client: Option<HeaderValue>,
}

impl Ids {
    fn of(headers: &HeaderMap) -> Ids {
        Ids {
            request: domain::secrets::new_secret(),
            client: headers.get("client-request-id").cloned(),
        }
    }

    fn stamp(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&self.request) {
            headers.insert(HeaderName::from_static("request-id"), value);
        }
        if let Some(client) = &self.client {
            headers.insert(HeaderName::from_static("client-request-id"), client.clone());
        }
        response
    }

    fn error(&self, error: GraphError) -> Response {
        let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
        let date = types::format::rfc3339(app::server::now());
        let body = json!({
            "error": {
                "code": error.code,
                "message": error.message,
                "innerError": {
                    "date": date.trim_end_matches('Z'),
                    "request-id": self.request,
                    "client-request-id": self.client.as_ref().and_then(|c| c.to_str().ok()),
                },
            }
        });
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        self.stamp(response)
    }

    fn answer(&self, status: StatusCode, result: Result<Value, GraphError>) -> Response {
        match result {
            Ok(body) => self.stamp((status, Json(body)).into_response()),
            Err(error) => self.error(error),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// The app making the request, or the error to answer with.
async fn caller(
    provider: &Provider,
    headers: &HeaderMap,
    address: Option<&ClientAddress>,
) -> Result<Principal, GraphError> {
    let signer = provider
        .signer
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    domain::graph::authenticate(
        &provider.portal.store,
        &signer,
        &provider.portal.public_url,
        bearer(headers),
        address.map(|a| a.0.as_str()),
        app::server::now(),
    )
    .await
}

/// `POST /v1.0/invitations`
async fn create(
    State(provider): State<Provider>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = Ids::of(&headers);
    let result = async {
        let app = caller(&provider, &headers, address.as_deref()).await?;
        let request: NewInvitation = domain::graph::parse_body(&body)?;
        let portal = &provider.portal;
        domain::graph::invite(
            &portal.store,
            &app,
            request,
            &portal.public_url,
            app::server::now(),
        )
        .await
    }
    .await;
    ids.answer(StatusCode::CREATED, result)
}

/// `GET /v1.0/invitations` (beyond Graph)
async fn list(
    State(provider): State<Provider>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let ids = Ids::of(&headers);
    let result = async {
        let app = caller(&provider, &headers, address.as_deref()).await?;
        let portal = &provider.portal;
        domain::graph::list(&portal.store, &app, &portal.public_url, app::server::now()).await
    }
    .await;
    ids.answer(StatusCode::OK, result)
}

/// `GET /v1.0/invitations/{id}` (beyond Graph)
async fn read(
    State(provider): State<Provider>,
    Path(id): Path<String>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let ids = Ids::of(&headers);
    let result = async {
        let app = caller(&provider, &headers, address.as_deref()).await?;
        let portal = &provider.portal;
        domain::graph::get(
            &portal.store,
            &app,
            &id,
            &portal.public_url,
            app::server::now(),
        )
        .await
    }
    .await;
    ids.answer(StatusCode::OK, result)
}

/// `DELETE /v1.0/invitations/{id}` (beyond Graph): revokes a pending invitation.
async fn revoke(
    State(provider): State<Provider>,
    Path(id): Path<String>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let ids = Ids::of(&headers);
    let result = async {
        let app = caller(&provider, &headers, address.as_deref()).await?;
        domain::graph::revoke(&provider.portal.store, &app, &id, app::server::now()).await
    }
    .await;
    match result {
        Ok(()) => ids.stamp(StatusCode::NO_CONTENT.into_response()),
        Err(error) => ids.error(error),
    }
}

/// `POST /v1.0/invitations/{id}/resend` (beyond Graph)
async fn resend(
    State(provider): State<Provider>,
    Path(id): Path<String>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let ids = Ids::of(&headers);
    let result = async {
        let app = caller(&provider, &headers, address.as_deref()).await?;
        let portal = &provider.portal;
        domain::graph::resend(
            &portal.store,
            &app,
            &id,
            &portal.public_url,
            app::server::now(),
        )
        .await
    }
    .await;
    ids.answer(StatusCode::OK, result)
}
