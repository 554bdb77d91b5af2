//! The Microsoft Graph-compatible API under `/v1.0`, for programs signed in as themselves
//! (client credentials). Thin adapters: who the caller is and what it may do is decided in
//! `domain::graph`, and errors come back in Graph's envelope.

use app::server::ClientAddress;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::Principal;
use domain::graph::GraphError;
use domain::graph::groups::Reference;
use domain::graph::invitations::NewInvitation;
use domain::graph::service_principals::NewAssignment;
use serde_json::{Value, json};

use crate::oidc::Provider;

pub fn router(provider: Provider) -> Router {
    Router::new()
        .route("/v1.0/invitations", post(create).get(list))
        .route("/v1.0/invitations/{id}", get(read).delete(revoke))
        .route("/v1.0/invitations/{id}/resend", post(resend))
        .route("/v1.0/users", get(users))
        .route(
            "/v1.0/users/{id}",
            get(user).patch(update_user).delete(delete_user),
        )
        .route("/v1.0/groups", get(groups))
        .route("/v1.0/groups/{id}", get(group))
        .route("/v1.0/groups/{id}/members", get(group_members))
        .route("/v1.0/groups/{id}/members/$ref", post(add_group_member))
        .route(
            "/v1.0/groups/{id}/members/{member}/$ref",
            axum::routing::delete(remove_group_member),
        )
        .route("/v1.0/servicePrincipals", get(service_principals))
        .route("/v1.0/servicePrincipals/{id}", get(service_principal))
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            get(assigned_to).post(assign),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            axum::routing::delete(unassign),
        )
        .route("/v1.0/auditLogs/directoryAudits", get(directory_audits))
        .route("/v1.0/auditLogs/signIns", get(sign_ins))
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

    fn answer(&self, result: Result<Reply, GraphError>) -> Response {
        match result {
            Ok(Reply::Json(status, body)) => self.stamp((status, Json(body)).into_response()),
            Ok(Reply::Empty) => self.stamp(StatusCode::NO_CONTENT.into_response()),
            Err(error) => self.error(error),
        }
    }
}

/// What a request that worked answers.
enum Reply {
    Json(StatusCode, Value),
    /// 204 No Content.
    Empty,
}

fn ok(body: Value) -> Reply {
    Reply::Json(StatusCode::OK, body)
}

/// What each handler has: the shared state, the caller's headers and address.
struct Call {
    provider: Provider,
    headers: HeaderMap,
    address: Option<ClientAddress>,
}

impl Call {
    fn store(&self) -> &domain::Store {
        &self.provider.portal.store
    }

    fn public_url(&self) -> &str {
        &self.provider.portal.public_url
    }

    /// Whether the client asked for Graph's advanced queries (`ConsistencyLevel: eventual`).
    fn eventual(&self) -> bool {
        self.headers
            .get("consistencylevel")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
    }

    /// Authenticates the caller, then does `act` as it; answers in Graph's shapes.
    async fn run(
        self,
        act: impl AsyncFnOnce(&Call, Principal) -> Result<Reply, GraphError>,
    ) -> Response {
        let ids = Ids::of(&self.headers);
        let result = match caller(&self.provider, &self.headers, self.address.as_ref()).await {
            Ok(app) => act(&self, app).await,
            Err(error) => Err(error),
        };
        ids.answer(result)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Call
where
    Provider: axum::extract::FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Call, Self::Rejection> {
        Ok(Call {
            provider: axum::extract::FromRef::from_ref(state),
            headers: parts.headers.clone(),
            address: parts.extensions.get::<ClientAddress>().cloned(),
        })
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
async fn create(call: Call, body: Bytes) -> Response {
    call.run(async |call, app| {
        let request: NewInvitation = domain::graph::parse_body(&body)?;
        let made = domain::graph::invitations::invite(
            call.store(),
            &app,
            request,
            call.public_url(),
            now(),
        )
        .await?;
        Ok(Reply::Json(StatusCode::CREATED, made))
    })
    .await
}

/// `GET /v1.0/invitations` (beyond Graph)
async fn list(call: Call) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::invitations::list(
            call.store(),
            &app,
            call.public_url(),
            now(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/invitations/{id}` (beyond Graph)
async fn read(call: Call, Path(id): Path<String>) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::invitations::get(
            call.store(),
            &app,
            &id,
            call.public_url(),
            now(),
        )
        .await?))
    })
    .await
}

/// `DELETE /v1.0/invitations/{id}` (beyond Graph): revokes a pending invitation.
async fn revoke(call: Call, Path(id): Path<String>) -> Response {
    call.run(async |call, app| {
        domain::graph::invitations::revoke(call.store(), &app, &id, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `POST /v1.0/invitations/{id}/resend` (beyond Graph)
async fn resend(call: Call, Path(id): Path<String>) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::invitations::resend(
            call.store(),
            &app,
            &id,
            call.public_url(),
            now(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/groups`
async fn groups(call: Call, Query(query): Query<domain::graph::Query>) -> Response {
    call.run(async |call, app| {
        let eventual = call.eventual();
        Ok(ok(domain::graph::groups::list(
            call.store(),
            &app,
            &query,
            eventual,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/groups/{id}`
async fn group(call: Call, Path(id): Path<String>) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::groups::get(
            call.store(),
            &app,
            &id,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/groups/{id}/members`
async fn group_members(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<domain::graph::Query>,
) -> Response {
    call.run(async |call, app| {
        let eventual = call.eventual();
        Ok(ok(domain::graph::groups::members(
            call.store(),
            &app,
            &id,
            &query,
            eventual,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `POST /v1.0/groups/{id}/members/$ref`
async fn add_group_member(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    call.run(async |call, app| {
        let reference: Reference = domain::graph::parse_body(&body)?;
        domain::graph::groups::add_member(call.store(), &app, &id, reference, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `DELETE /v1.0/groups/{id}/members/{member}/$ref`
async fn remove_group_member(call: Call, Path((id, member)): Path<(String, String)>) -> Response {
    call.run(async |call, app| {
        domain::graph::groups::remove_member(call.store(), &app, &id, &member, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `GET /v1.0/users`
async fn users(call: Call, Query(query): Query<domain::graph::Query>) -> Response {
    call.run(async |call, app| {
        let eventual = call.eventual();
        Ok(ok(domain::graph::users::list(
            call.store(),
            &app,
            &query,
            eventual,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/users/{id}`
async fn user(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<domain::graph::Query>,
) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::users::get(
            call.store(),
            &app,
            &id,
            &query,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `PATCH /v1.0/users/{id}`
async fn update_user(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    call.run(async |call, app| {
        let change: domain::graph::users::UserChange = domain::graph::parse_body(&body)?;
        domain::graph::users::update(call.store(), &app, &id, change, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `DELETE /v1.0/users/{id}`
async fn delete_user(call: Call, Path(id): Path<String>) -> Response {
    call.run(async |call, app| {
        domain::graph::users::delete(call.store(), &app, &id, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `GET /v1.0/servicePrincipals`
async fn service_principals(call: Call, Query(query): Query<domain::graph::Query>) -> Response {
    call.run(async |call, app| {
        let eventual = call.eventual();
        Ok(ok(domain::graph::service_principals::list(
            call.store(),
            &app,
            &query,
            eventual,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/servicePrincipals/{id}`
async fn service_principal(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<domain::graph::Query>,
) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::service_principals::get(
            call.store(),
            &app,
            &id,
            &query,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo`
async fn assigned_to(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<domain::graph::Query>,
) -> Response {
    call.run(async |call, app| {
        let eventual = call.eventual();
        Ok(ok(domain::graph::service_principals::assigned_to(
            call.store(),
            &app,
            &id,
            &query,
            eventual,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo`
async fn assign(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    call.run(async |call, app| {
        let request: NewAssignment = domain::graph::parse_body(&body)?;
        let made = domain::graph::service_principals::assign(
            call.store(),
            &app,
            &id,
            request,
            call.public_url(),
            now(),
        )
        .await?;
        Ok(Reply::Json(StatusCode::CREATED, made))
    })
    .await
}

/// `DELETE /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}`
async fn unassign(call: Call, Path((id, assignment)): Path<(String, String)>) -> Response {
    call.run(async |call, app| {
        domain::graph::service_principals::unassign(call.store(), &app, &id, &assignment, now())
            .await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `GET /v1.0/auditLogs/directoryAudits`
async fn directory_audits(call: Call, Query(query): Query<domain::graph::Query>) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::audit_logs::directory_audits(
            call.store(),
            &app,
            &query,
            call.public_url(),
        )
        .await?))
    })
    .await
}

/// `GET /v1.0/auditLogs/signIns`
async fn sign_ins(call: Call, Query(query): Query<domain::graph::Query>) -> Response {
    call.run(async |call, app| {
        Ok(ok(domain::graph::audit_logs::sign_ins(
            call.store(),
            &app,
            &query,
            call.public_url(),
        )
        .await?))
    })
    .await
}

fn now() -> i64 {
    app::server::now()
}
