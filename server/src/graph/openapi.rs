//! The API's route table and its OpenAPI 3.1 document. Each [`Operation`] registers its
//! handler and says what it needs, takes and answers; the document is generated from those
//! entries and the JSON Schemas (2020-12, OpenAPI 3.1's dialect) of the request and answer
//! types, so it cannot drift from the routes.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::handler::Handler;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, on};
use domain::Permission;
use domain::graph::ErrorEnvelope;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use super::Api;

/// Describes a type's schema into the generator's components, as a reference to it.
type SchemaOf = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// One operation of the API: its route and its description.
pub(super) struct Operation {
    method: Method,
    path: &'static str,
    summary: &'static str,
    /// What the app must be allowed: each of these, each by any permission that grants it.
    needs: Vec<Permission>,
    query: Vec<Parameter>,
    takes: Option<SchemaOf>,
    /// The status of success, and the schema of its body (none for 204).
    answers: (StatusCode, Option<SchemaOf>),
    /// Operations its answer supplies a parameter of (OpenAPI links, for stateful tests).
    links: Vec<Link>,
    route: MethodRouter<Api>,
}

/// A parameter of another operation taken from this one's answer or request.
#[derive(Clone, Debug)]
pub(super) struct Link {
    pub(super) to: (Method, &'static str),
    pub(super) parameters: &'static [(&'static str, &'static str)],
}

/// `to` is given `parameters`: (name, runtime expression such as `$response.body#/id`).
pub(super) fn link(
    method: Method,
    path: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> Link {
    Link {
        to: (method, path),
        parameters,
    }
}

impl Operation {
    pub(super) fn new<H, T>(method: Method, path: &'static str, handler: H) -> Operation
    where
        H: Handler<T, Api>,
        T: 'static,
    {
        let filter = match method {
            Method::POST => axum::routing::MethodFilter::POST,
            Method::PATCH => axum::routing::MethodFilter::PATCH,
            Method::DELETE => axum::routing::MethodFilter::DELETE,
            Method::PUT => axum::routing::MethodFilter::PUT,
            _ => axum::routing::MethodFilter::GET,
        };
        Operation {
            method,
            path,
            summary: "",
            needs: Vec::new(),
            query: Vec::new(),
            takes: None,
            answers: (StatusCode::NO_CONTENT, None),
            links: Vec::new(),
            route: on(filter, handler),
        }
    }

    pub(super) fn summary(mut self, summary: &'static str) -> Operation {
        self.summary = summary;
        self
    }

    /// What the app must be allowed (any application permission that grants it); called
    /// again, something it must be allowed as well (as Graph asks `Application.Read.All`
    /// beside `AppRoleAssignment.ReadWrite.All`).
    pub(super) fn needs(mut self, permission: Permission) -> Operation {
        self.needs.push(permission);
        self
    }

    pub(super) fn query(mut self, options: &[Parameter]) -> Operation {
        self.query = options.to_vec();
        self
    }

    /// The JSON body it takes.
    pub(super) fn takes<T: JsonSchema>(mut self) -> Operation {
        self.takes = Some(schema_of::<T>);
        self
    }

    /// What it answers when it works.
    pub(super) fn answers<T: JsonSchema>(mut self, status: StatusCode) -> Operation {
        self.answers = (status, Some(schema_of::<T>));
        self
    }

    /// 204 No Content when it works.
    pub(super) fn answers_nothing(mut self) -> Operation {
        self.answers = (StatusCode::NO_CONTENT, None);
        self
    }

    /// Operations that can be called with what this one answers.
    pub(super) fn links(mut self, links: Vec<Link>) -> Operation {
        self.links = links;
        self
    }

    /// `{name}` segments of the path.
    fn path_parameters(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect()
    }

    fn describe(&self, generator: &mut SchemaGenerator) -> Value {
        // Per need, the application permissions that grant it.
        let needs: Vec<Vec<&str>> = self
            .needs
            .iter()
            .map(|p| p.granted_by().into_iter().map(|g| g.as_str()).collect())
            .collect();
        let mut parameters: Vec<Value> = self
            .path_parameters()
            .into_iter()
            .map(|name| {
                json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": { "type": "string", "minLength": 1 },
                })
            })
            .collect();
        parameters.extend(self.query.iter().map(|p| p.describe()));
        let error = generator.subschema_for::<ErrorEnvelope>();
        let refusal = |description: &str| {
            json!({
                "description": description,
                "content": { "application/json": { "schema": error } },
            })
        };
        let mut responses = Map::new();
        let (status, body) = self.answers;
        let success = match body {
            Some(schema) => json!({
                "description": status.canonical_reason().unwrap_or("Done"),
                "content": { "application/json": { "schema": schema(generator) } },
            }),
            None => json!({ "description": "Done; nothing to answer." }),
        };
        let mut success = success;
        if !self.links.is_empty() {
            let links: Map<String, Value> = self
                .links
                .iter()
                .map(|link| {
                    let (method, path) = &link.to;
                    let id = operation_id(method, path);
                    let parameters: Map<String, Value> = link
                        .parameters
                        .iter()
                        .map(|(name, from)| ((*name).to_string(), json!(from)))
                        .collect();
                    (
                        id.clone(),
                        json!({ "operationId": id, "parameters": parameters }),
                    )
                })
                .collect();
            success["links"] = Value::Object(links);
        }
        responses.insert(status.as_u16().to_string(), success);
        responses.insert(
            "400".into(),
            refusal("Request_BadRequest or Request_UnsupportedQuery: what is wrong, in words"),
        );
        responses.insert(
            "401".into(),
            refusal("InvalidAuthenticationToken: no token, or one this API does not accept"),
        );
        responses.insert(
            "403".into(),
            refusal("Authorization_RequestDenied: the app does not hold the permission, or a rule of the organization refuses"),
        );
        responses.insert(
            "404".into(),
            refusal("Request_ResourceNotFound: an object the path or the body names is not in this organization"),
        );
        responses.insert(
            "413".into(),
            refusal("Request_EntityTooLarge: the body is over 64 KiB"),
        );
        let mut throttled = refusal("TooManyRequests: the organization's request limit is reached");
        throttled["headers"] = json!({
            "Retry-After": {
                "description": "Seconds to wait before the next request",
                "schema": { "type": "integer", "minimum": 1 },
            }
        });
        responses.insert("429".into(), throttled);
        let said: Vec<String> = needs
            .iter()
            .map(|any| format!("one of: {}", any.join(", ")))
            .collect();
        let needs_said = if said.is_empty() {
            String::new()
        } else {
            format!(" Needs {}.", said.join("; and "))
        };
        let mut operation = json!({
            "operationId": self.operation_id(),
            "summary": self.summary,
            "description": format!("{}.{needs_said}", self.summary),
            "x-permissions": needs.first().cloned().unwrap_or_default(),
            "parameters": parameters,
            "responses": responses,
        });
        if needs.len() > 1 {
            // Each further need, any of its permissions as well as one of `x-permissions`.
            operation["x-permissions-also"] = json!(needs[1..]);
        }
        if let Some(schema) = self.takes {
            operation["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": schema(generator) } },
            });
        }
        operation
    }

    fn operation_id(&self) -> String {
        operation_id(&self.method, self.path)
    }
}

/// `getUsers`, `deleteGroupsIdMembersMemberRef`, …: the method and the path's words.
fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for word in path.trim_start_matches("/v1.0/").split('/') {
        let word = word.trim_matches(|c| matches!(c, '{' | '}' | '$'));
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// A query option or header an operation reads.
#[derive(Clone, Copy, Debug)]
pub(super) enum Parameter {
    Top,
    SkipToken,
    Select,
    /// `$filter` on `/users`.
    UserFilter,
    /// `$filter` on `/servicePrincipals`.
    AppFilter,
    /// `$filter` on `/auditLogs/directoryAudits`.
    AuditFilter,
    /// `$filter` on `/auditLogs/signIns`.
    SignInFilter,
    Count,
    /// The `ConsistencyLevel` header.
    Eventual,
}

impl Parameter {
    fn describe(self) -> Value {
        let (name, place, description, schema) = match self {
            Parameter::Top => (
                "$top",
                "query",
                "Items per page, 1 to 999 (100 when not given)",
                json!({ "type": "integer", "minimum": 1, "maximum": 999 }),
            ),
            Parameter::SkipToken => (
                "$skiptoken",
                "query",
                "Where the next page starts: take it from @odata.nextLink",
                json!({ "type": "string" }),
            ),
            Parameter::Select => (
                "$select",
                "query",
                "The properties to return, comma-separated",
                json!({ "type": "string" }),
            ),
            Parameter::UserFilter => (
                "$filter",
                "query",
                "eq and in on userType, mail and externalUserState; startswith on displayName and mail; joined with and",
                json!({ "type": "string" }),
            ),
            Parameter::AppFilter => (
                "$filter",
                "query",
                "eq on displayName, appId and id; startswith on displayName; joined with and",
                json!({ "type": "string" }),
            ),
            Parameter::AuditFilter => (
                "$filter",
                "query",
                "ge, gt, le and lt on activityDateTime; eq on initiatedBy/user/id and initiatedBy/app/appId; joined with and",
                json!({ "type": "string" }),
            ),
            Parameter::SignInFilter => (
                "$filter",
                "query",
                "ge, gt, le and lt on createdDateTime; eq on userId and appId; joined with and",
                json!({ "type": "string" }),
            ),
            Parameter::Count => (
                "$count",
                "query",
                "true adds @odata.count (with ConsistencyLevel: eventual)",
                json!({ "type": "boolean" }),
            ),
            Parameter::Eventual => (
                "ConsistencyLevel",
                "header",
                "eventual, for $count",
                json!({ "type": "string" }),
            ),
        };
        json!({ "name": name, "in": place, "description": description, "schema": schema })
    }
}

/// The routes of `operations`, one method router per path.
pub(super) fn routes(operations: Vec<Operation>) -> Router<Api> {
    let mut paths: BTreeMap<&'static str, MethodRouter<Api>> = BTreeMap::new();
    for operation in operations {
        // The handler learns what the operation needs, to hold delegated tokens to it.
        let own = operation
            .route
            .layer(axum::Extension(super::Needs(operation.needs.clone())));
        let route = match paths.remove(operation.path) {
            Some(methods) => methods.merge(own),
            None => own,
        };
        paths.insert(operation.path, route);
    }
    paths
        .into_iter()
        .fold(Router::new(), |router, (path, route)| {
            router.route(path, route)
        })
        .route("/v1.0/{*rest}", axum::routing::any(unknown_resource))
}

/// A path under `/v1.0` that names nothing: Graph's 404, in its envelope.
async fn unknown_resource(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    super::Ids::of(&headers).error(domain::graph::GraphError {
        status: 404,
        code: "Request_ResourceNotFound",
        message: format!("There is no resource at {}.", uri.path()),
    })
}

/// The OpenAPI 3.1 document of `operations`, for a Portico at `public_url`.
pub(super) fn document(operations: &[Operation], public_url: &str) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .into_generator();
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for operation in operations {
        let described = operation.describe(&mut generator);
        paths
            .entry(operation.path)
            .or_default()
            .insert(operation.method.as_str().to_ascii_lowercase(), described);
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Portico's Microsoft Graph-compatible API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Graph's invitation, user, group, service principal and audit log API for programs signed in as themselves (client credentials). Errors come in Graph's envelope.",
        },
        "servers": [{ "url": domain::graph::api_identifier(public_url) }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A client-credentials token for scope {public URL}/.default (x-permissions: the application permissions in its roles), or a delegated token from the authorization code flow with scopes of the same names (in its scp), acting as the signed-in person within their own rights",
                }
            },
            "schemas": generator.take_definitions(true),
        },
    })
}

/// `GET /v1.0/openapi.json`: the document, to anyone (it holds no data).
pub(super) async fn serve_document(State(api): State<Api>) -> Response {
    let document = document(&super::operations(), &api.provider.portal.public_url);
    (StatusCode::OK, axum::Json(document)).into_response()
}
