//! The Microsoft Graph-compatible API under `/v1.0`, for programs signed in as themselves
//! (client credentials) or acting for a person signed in to them (delegated tokens, from the
//! authorization code flow). Thin adapters: who the caller is and what it may do is decided in
//! `domain::graph`, and errors come back in Graph's envelope. Every operation is one entry
//! of [`operations`], which both registers its route and describes it in the OpenAPI
//! document (`GET /v1.0/openapi.json`, see `openapi`).

mod openapi;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use app::server::ClientAddress;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, Request};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::graph::audit_logs::{DirectoryAudit, SignIn};
use domain::graph::groups::{DirectoryObject, Group, Reference};
use domain::graph::invitations::{Invitation, InvitationList, InvitationRecord, NewInvitation};
use domain::graph::limit::RequestLimit;
use domain::graph::service_principals::{AppRoleAssignment, NewAssignment, ServicePrincipal};
use domain::graph::users::{User, UserChange};
use domain::graph::{Collection, ErrorDetail, ErrorEnvelope, GraphError, InnerError};
use domain::{Permission, Principal};
use serde::Serialize;

use crate::oidc::Provider;
use openapi::{Operation, Parameter, link};

/// What the API's handlers share: Portico's state and the request limit.
#[derive(Clone)]
pub struct Api {
    provider: Provider,
    limit: Arc<RequestLimit>,
}

/// The API's routes: every entry of [`operations`], and its OpenAPI document.
pub fn router(provider: Provider, requests_per_minute: u32) -> Router {
    let api = Api {
        provider,
        limit: Arc::new(RequestLimit::new(requests_per_minute)),
    };
    openapi::routes(operations())
        .route(
            "/v1.0/openapi.json",
            axum::routing::get(openapi::serve_document),
        )
        .with_state(api)
}

/// Every operation of the API: its route, what it needs, takes and answers. A new endpoint
/// is one more entry here (and its handler below).
fn operations() -> Vec<Operation> {
    use Parameter::{
        AppFilter, AuditFilter, Count, Eventual, Select, SignInFilter, SkipToken, Top, UserFilter,
    };
    const INVITATION: &[(&str, &str)] = &[("id", "$response.body#/id")];
    const INVITED_USER: &[(&str, &str)] = &[("id", "$response.body#/invitedUser/id")];
    const FIRST: &[(&str, &str)] = &[("id", "$response.body#/value/0/id")];
    const FIRST_MEMBER: &[(&str, &str)] = &[
        ("id", "$request.path.id"),
        ("member", "$response.body#/value/0/id"),
    ];
    const FIRST_ASSIGNMENT: &[(&str, &str)] = &[
        ("id", "$request.path.id"),
        ("assignment", "$response.body#/value/0/id"),
    ];
    const ASSIGNMENT: &[(&str, &str)] = &[
        ("id", "$request.path.id"),
        ("assignment", "$response.body#/id"),
    ];
    let page: &[Parameter] = &[Top, SkipToken, Select, Count, Eventual];
    vec![
        Operation::new(Method::POST, "/v1.0/invitations", create)
            .summary("Invite a guest: the guest user is made at once")
            .needs(Permission::ManageInvitations)
            .takes::<NewInvitation>()
            .answers::<Invitation>(StatusCode::CREATED)
            .links(vec![
                link(Method::GET, "/v1.0/invitations/{id}", INVITATION),
                link(Method::POST, "/v1.0/invitations/{id}/resend", INVITATION),
                link(Method::DELETE, "/v1.0/invitations/{id}", INVITATION),
                link(Method::GET, "/v1.0/users/{id}", INVITED_USER),
                link(Method::PATCH, "/v1.0/users/{id}", INVITED_USER),
                link(Method::DELETE, "/v1.0/users/{id}", INVITED_USER),
            ]),
        Operation::new(Method::GET, "/v1.0/invitations", list)
            .summary("The organization's invitations (beyond Graph)")
            .needs(Permission::ManageInvitations)
            .answers::<InvitationList>(StatusCode::OK),
        Operation::new(Method::GET, "/v1.0/invitations/{id}", read)
            .summary("An invitation and its status (beyond Graph)")
            .needs(Permission::ManageInvitations)
            .answers::<InvitationRecord>(StatusCode::OK),
        Operation::new(Method::DELETE, "/v1.0/invitations/{id}", revoke)
            .summary("Revokes a pending invitation (beyond Graph)")
            .needs(Permission::ManageInvitations)
            .answers_nothing(),
        Operation::new(Method::POST, "/v1.0/invitations/{id}/resend", resend)
            .summary("Mails an invitation again with a new link (beyond Graph)")
            .needs(Permission::ManageInvitations)
            .answers::<Invitation>(StatusCode::OK),
        Operation::new(Method::GET, "/v1.0/users", users)
            .summary("The organization's users, in pages")
            .needs(Permission::ReadUsers)
            .query(&[Top, SkipToken, Select, UserFilter, Count, Eventual])
            .answers::<Collection<User>>(StatusCode::OK),
        Operation::new(Method::GET, "/v1.0/users/{id}", user)
            .summary("A user, with the guest properties")
            .needs(Permission::ReadUsers)
            .query(&[Select])
            .answers::<User>(StatusCode::OK),
        Operation::new(Method::GET, "/v1.0/users/{id}/sponsors", user_sponsors)
            .summary("A guest's sponsors: the members who answer for them")
            .needs(Permission::ReadUsers)
            .query(page)
            .answers::<Collection<DirectoryObject>>(StatusCode::OK),
        Operation::new(Method::PATCH, "/v1.0/users/{id}", update_user)
            .summary("Changes a user's name or whether the account may sign in")
            .needs(Permission::ManageUsers)
            .takes::<UserChange>()
            .answers_nothing(),
        Operation::new(Method::DELETE, "/v1.0/users/{id}", delete_user)
            .summary("Deletes a user at once")
            .needs(Permission::ManageUsers)
            .answers_nothing(),
        Operation::new(Method::GET, "/v1.0/groups", groups)
            .summary("The organization's groups, in pages")
            .needs(Permission::ReadGroups)
            .query(page)
            .answers::<Collection<Group>>(StatusCode::OK)
            .links(vec![
                link(Method::GET, "/v1.0/groups/{id}", FIRST),
                link(Method::GET, "/v1.0/groups/{id}/members", FIRST),
                link(Method::POST, "/v1.0/groups/{id}/members/$ref", FIRST),
            ]),
        Operation::new(Method::GET, "/v1.0/groups/{id}", group)
            .summary("A group")
            .needs(Permission::ReadGroups)
            .answers::<Group>(StatusCode::OK),
        Operation::new(Method::GET, "/v1.0/groups/{id}/members", group_members)
            .summary("A group's members, in pages")
            .needs(Permission::ReadGroups)
            .query(page)
            .answers::<Collection<DirectoryObject>>(StatusCode::OK)
            .links(vec![link(
                Method::DELETE,
                "/v1.0/groups/{id}/members/{member}/$ref",
                FIRST_MEMBER,
            )]),
        Operation::new(
            Method::POST,
            "/v1.0/groups/{id}/members/$ref",
            add_group_member,
        )
        .summary("Adds a user to a group by reference")
        .needs(Permission::ManageGroups)
        .takes::<Reference>()
        .answers_nothing(),
        Operation::new(
            Method::DELETE,
            "/v1.0/groups/{id}/members/{member}/$ref",
            remove_group_member,
        )
        .summary("Takes a user out of a group")
        .needs(Permission::ManageGroups)
        .answers_nothing(),
        Operation::new(Method::GET, "/v1.0/servicePrincipals", service_principals)
            .summary("The organization's apps, as service principals, in pages")
            .needs(Permission::ReadApps)
            .query(&[Top, SkipToken, Select, AppFilter, Count, Eventual])
            .answers::<Collection<ServicePrincipal>>(StatusCode::OK)
            .links(vec![
                link(Method::GET, "/v1.0/servicePrincipals/{id}", FIRST),
                link(
                    Method::GET,
                    "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
                    FIRST,
                ),
                link(
                    Method::POST,
                    "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
                    FIRST,
                ),
            ]),
        Operation::new(
            Method::GET,
            "/v1.0/servicePrincipals/{id}",
            service_principal,
        )
        .summary("An app, as a service principal")
        .needs(Permission::ReadApps)
        .query(&[Select])
        .answers::<ServicePrincipal>(StatusCode::OK),
        Operation::new(
            Method::GET,
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            assigned_to,
        )
        .summary("The users and groups an app is assigned to, in pages")
        .needs(Permission::ReadApps)
        .query(page)
        .answers::<Collection<AppRoleAssignment>>(StatusCode::OK)
        .links(vec![link(
            Method::DELETE,
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            FIRST_ASSIGNMENT,
        )]),
        Operation::new(
            Method::POST,
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            assign,
        )
        .summary("Assigns an app to a user or group of the organization (default access)")
        .needs(Permission::ManageApps)
        .needs(Permission::ReadApps)
        .takes::<NewAssignment>()
        .answers::<AppRoleAssignment>(StatusCode::CREATED)
        .links(vec![link(
            Method::DELETE,
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            ASSIGNMENT,
        )]),
        Operation::new(
            Method::DELETE,
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            unassign,
        )
        .summary("Takes an app's assignment away")
        .needs(Permission::ManageApps)
        .needs(Permission::ReadApps)
        .answers_nothing(),
        Operation::new(
            Method::GET,
            "/v1.0/auditLogs/directoryAudits",
            directory_audits,
        )
        .summary("The organization's audit trail, newest first, in pages")
        .needs(Permission::ReadAudit)
        .query(&[Top, SkipToken, Select, AuditFilter])
        .answers::<Collection<DirectoryAudit>>(StatusCode::OK),
        Operation::new(Method::GET, "/v1.0/auditLogs/signIns", sign_ins)
            .summary("The organization's sign-ins, newest first, in pages")
            .needs(Permission::ReadAudit)
            .query(&[Top, SkipToken, Select, SignInFilter])
            .answers::<Collection<SignIn>>(StatusCode::OK),
    ]
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
        let date = types::format::rfc3339(now());
        let body = ErrorEnvelope {
            error: ErrorDetail {
                code: error.code.to_string(),
                message: error.message,
                inner_error: InnerError {
                    date: date.trim_end_matches('Z').to_string(),
                    request_id: self.request.clone(),
                    client_request_id: self
                        .client
                        .as_ref()
                        .and_then(|c| c.to_str().ok())
                        .map(String::from),
                },
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
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
            Ok(Reply::Json(status, body)) => self.stamp((status, axum::Json(body)).into_response()),
            Ok(Reply::Empty) => self.stamp(StatusCode::NO_CONTENT.into_response()),
            Err(error) => self.error(error),
        }
    }
}

/// What a request that worked answers.
enum Reply {
    Json(StatusCode, serde_json::Value),
    /// 204 No Content.
    Empty,
}

fn ok(body: impl Serialize) -> Result<Reply, GraphError> {
    json(StatusCode::OK, body)
}

fn json(status: StatusCode, body: impl Serialize) -> Result<Reply, GraphError> {
    let body = serde_json::to_value(body).map_err(|e| {
        tracing::error!("an API answer could not be written as JSON: {e}");
        GraphError {
            status: 500,
            code: "generalException",
            message: "Portico could not write its answer.".into(),
        }
    })?;
    Ok(Reply::Json(status, body))
}

/// Everything a handler has: the shared state, the caller's headers and address, and the
/// request's path parameters, query options and body, each read without failing so that
/// whatever is wrong with them is answered in Graph's envelope, after the caller is known.
struct Call {
    api: Api,
    headers: HeaderMap,
    address: Option<ClientAddress>,
    path: Result<HashMap<String, String>, GraphError>,
    query: domain::graph::Query,
    body: Result<Bytes, GraphError>,
    /// What the operation needs (its entry of [`operations`]): a delegated token must have
    /// scopes that allow each.
    needs: Needs,
}

/// What an operation needs, as its route carries it to the handler.
#[derive(Clone, Debug, Default)]
pub(crate) struct Needs(pub(crate) Vec<Permission>);

impl Call {
    fn store(&self) -> &domain::Store {
        &self.api.provider.portal.store
    }

    fn public_url(&self) -> &str {
        &self.api.provider.portal.public_url
    }

    /// A path parameter the route has.
    fn path(&self, name: &str) -> Result<&str, GraphError> {
        match &self.path {
            Ok(params) => params
                .get(name)
                .map(String::as_str)
                .ok_or_else(|| GraphError::bad_request(format!("The path has no {name}."))),
            Err(error) => Err(error.clone()),
        }
    }

    /// The body, read as `T` (see `domain::graph::parse_body`).
    fn body<T: serde::de::DeserializeOwned>(&self) -> Result<T, GraphError> {
        let body = self.body.as_ref().map_err(Clone::clone)?;
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        domain::graph::parse_body(content_type, body)
    }

    /// Whether the client asked for Graph's advanced queries (`ConsistencyLevel: eventual`).
    fn eventual(&self) -> bool {
        self.headers
            .get("consistencylevel")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
    }

    /// Authenticates the caller, counts the request against its organization's limit,
    /// refuses a body that could not be read, then does `act` as the caller; answers in
    /// Graph's shapes.
    async fn run(
        self,
        act: impl AsyncFnOnce(&Call, Principal) -> Result<Reply, GraphError>,
    ) -> Response {
        let ids = Ids::of(&self.headers);
        let app = match caller(&self.api.provider, &self.headers, self.address.as_ref()).await {
            Ok(app) => app,
            Err(error) => return ids.error(error),
        };
        if let Err(seconds) = self.api.limit.take(&app.tenant_id, now_ms()) {
            let mut response = ids.error(GraphError::throttled(seconds));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        if let Err(error) = domain::graph::scopes_allow(&app, &self.needs.0) {
            return ids.error(error);
        }
        if let Err(error) = &self.body {
            return ids.error(error.clone());
        }
        let result = act(&self, app).await;
        ids.answer(result)
    }
}

impl FromRequest<Api> for Call {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, api: &Api) -> Result<Call, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let path = RawPathParams::from_request_parts(&mut parts, api)
            .await
            .map(|params| {
                params
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.to_string()))
                    .collect()
            })
            .map_err(|rejection| {
                GraphError::bad_request(format!("The path is not valid: {}", rejection.body_text()))
            });
        let query = url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = if declared.is_some_and(|n| n > domain::graph::MAX_BODY_BYTES as u64) {
            Err(GraphError::too_large())
        } else {
            read_body(body, domain::graph::MAX_BODY_BYTES).await
        };
        Ok(Call {
            api: api.clone(),
            needs: parts.extensions.get::<Needs>().cloned().unwrap_or_default(),
            address: parts.extensions.get::<ClientAddress>().cloned(),
            headers: parts.headers,
            path,
            query,
            body,
        })
    }
}

/// Reads a body of at most `limit` bytes, stopping as soon as it is longer.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, GraphError> {
    let mut read = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            GraphError::bad_request(format!("The request body could not be read: {e}"))
        })?;
        if let Ok(data) = frame.into_data() {
            if read.len() + data.len() > limit {
                return Err(GraphError::too_large());
            }
            read.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(read))
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
        now(),
    )
    .await
}

/// `POST /v1.0/invitations`
async fn create(call: Call) -> Response {
    call.run(async |call, app| {
        let request: NewInvitation = call.body()?;
        let made = domain::graph::invitations::invite(
            call.store(),
            &app,
            request,
            call.public_url(),
            now(),
        )
        .await?;
        json(StatusCode::CREATED, made)
    })
    .await
}

/// `GET /v1.0/invitations` (beyond Graph)
async fn list(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::invitations::list(call.store(), &app, call.public_url(), now()).await?)
    })
    .await
}

/// `GET /v1.0/invitations/{id}` (beyond Graph)
async fn read(call: Call) -> Response {
    call.run(async |call, app| {
        let id = call.path("id")?;
        ok(
            domain::graph::invitations::get(call.store(), &app, id, call.public_url(), now())
                .await?,
        )
    })
    .await
}

/// `DELETE /v1.0/invitations/{id}` (beyond Graph): revokes a pending invitation.
async fn revoke(call: Call) -> Response {
    call.run(async |call, app| {
        domain::graph::invitations::revoke(call.store(), &app, call.path("id")?, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `POST /v1.0/invitations/{id}/resend` (beyond Graph)
async fn resend(call: Call) -> Response {
    call.run(async |call, app| {
        let id = call.path("id")?;
        ok(
            domain::graph::invitations::resend(call.store(), &app, id, call.public_url(), now())
                .await?,
        )
    })
    .await
}

/// `GET /v1.0/groups`
async fn groups(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::groups::list(
            call.store(),
            &app,
            &call.query,
            call.eventual(),
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `GET /v1.0/groups/{id}`
async fn group(call: Call) -> Response {
    call.run(async |call, app| {
        let id = call.path("id")?;
        ok(domain::graph::groups::get(call.store(), &app, id, call.public_url()).await?)
    })
    .await
}

/// `GET /v1.0/groups/{id}/members`
async fn group_members(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::groups::members(
            call.store(),
            &app,
            call.path("id")?,
            &call.query,
            call.eventual(),
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `POST /v1.0/groups/{id}/members/$ref`
async fn add_group_member(call: Call) -> Response {
    call.run(async |call, app| {
        let reference: Reference = call.body()?;
        domain::graph::groups::add_member(call.store(), &app, call.path("id")?, reference, now())
            .await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `DELETE /v1.0/groups/{id}/members/{member}/$ref`
async fn remove_group_member(call: Call) -> Response {
    call.run(async |call, app| {
        let (id, member) = (call.path("id")?, call.path("member")?);
        domain::graph::groups::remove_member(call.store(), &app, id, member, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `GET /v1.0/users`
async fn users(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::users::list(
            call.store(),
            &app,
            &call.query,
            call.eventual(),
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `GET /v1.0/users/{id}`
async fn user(call: Call) -> Response {
    call.run(async |call, app| {
        let id = call.path("id")?;
        ok(
            domain::graph::users::get(call.store(), &app, id, &call.query, call.public_url())
                .await?,
        )
    })
    .await
}

/// `GET /v1.0/users/{id}/sponsors`
async fn user_sponsors(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::users::sponsors(
            call.store(),
            &app,
            call.path("id")?,
            &call.query,
            call.eventual(),
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `PATCH /v1.0/users/{id}`
async fn update_user(call: Call) -> Response {
    call.run(async |call, app| {
        let change: UserChange = call.body()?;
        domain::graph::users::update(call.store(), &app, call.path("id")?, change, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `DELETE /v1.0/users/{id}`
async fn delete_user(call: Call) -> Response {
    call.run(async |call, app| {
        domain::graph::users::delete(call.store(), &app, call.path("id")?, now()).await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `GET /v1.0/servicePrincipals`
async fn service_principals(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::service_principals::list(
            call.store(),
            &app,
            &call.query,
            call.eventual(),
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `GET /v1.0/servicePrincipals/{id}`
async fn service_principal(call: Call) -> Response {
    call.run(async |call, app| {
        let id = call.path("id")?;
        ok(domain::graph::service_principals::get(
            call.store(),
            &app,
            id,
            &call.query,
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo`
async fn assigned_to(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::service_principals::assigned_to(
            call.store(),
            &app,
            call.path("id")?,
            &call.query,
            call.eventual(),
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo`
async fn assign(call: Call) -> Response {
    call.run(async |call, app| {
        let request: NewAssignment = call.body()?;
        let made = domain::graph::service_principals::assign(
            call.store(),
            &app,
            call.path("id")?,
            request,
            call.public_url(),
            now(),
        )
        .await?;
        json(StatusCode::CREATED, made)
    })
    .await
}

/// `DELETE /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}`
async fn unassign(call: Call) -> Response {
    call.run(async |call, app| {
        let (id, assignment) = (call.path("id")?, call.path("assignment")?);
        domain::graph::service_principals::unassign(call.store(), &app, id, assignment, now())
            .await?;
        Ok(Reply::Empty)
    })
    .await
}

/// `GET /v1.0/auditLogs/directoryAudits`
async fn directory_audits(call: Call) -> Response {
    call.run(async |call, app| {
        ok(domain::graph::audit_logs::directory_audits(
            call.store(),
            &app,
            &call.query,
            call.public_url(),
        )
        .await?)
    })
    .await
}

/// `GET /v1.0/auditLogs/signIns`
async fn sign_ins(call: Call) -> Response {
    call.run(async |call, app| {
        ok(
            domain::graph::audit_logs::sign_ins(call.store(), &app, &call.query, call.public_url())
                .await?,
        )
    })
    .await
}

fn now() -> i64 {
    app::server::now()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
