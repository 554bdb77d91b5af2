//! Portico's Microsoft Graph-compatible API: programs written against Graph's invitation
//! API work here by changing only the base address and the token authority. A program signs
//! in as itself (client credentials) and acts as [`Actor::App`] with the application
//! permissions granted to it, read again at every request: a token cannot be revoked, so
//! what it says is not trusted beyond who the app is. Or a person signs in to the program
//! (the authorization code flow) and gives it delegated scopes: it then acts as that
//! person ([`Actor::User`] through a [`Delegation`]), with only what both the scopes and the
//! person's own rights allow, each read again at every request.

pub mod audit_logs;
pub mod groups;
pub mod invitations;
pub mod limit;
pub mod service_principals;
pub mod users;

use std::collections::HashMap;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::oidc::{Signer, issuer, keys};
use crate::{Actor, Delegation, Error, Permission, Principal, Store, store};
use types::AppPermission;

/// The scope Microsoft Graph's client libraries ask for; taken as this API's.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The API's identifier: the audience of the tokens it accepts, and the prefix of its
/// `.default` scope.
pub fn api_identifier(public_url: &str) -> String {
    public_url.trim_end_matches('/').to_string()
}

/// Whether a client-credentials request asks for this API (and nothing else).
pub fn is_default_scope(public_url: &str, scope: &str) -> bool {
    let scope = scope.trim();
    scope == GRAPH_DEFAULT_SCOPE || scope == format!("{}/.default", api_identifier(public_url))
}

/// Microsoft Graph's resource prefix of a delegated scope (`https://graph.microsoft.com/User.Invite.All`).
const GRAPH_RESOURCE: &str = "https://graph.microsoft.com/";

/// What one scope of an authorization request asks of this API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    /// A delegated permission, by the same name as the application permission.
    One(AppPermission),
    /// `.default`: every delegated permission the app is allowed.
    Default,
    /// A scope of this API (by its prefix) that it does not have.
    Unknown,
}

/// What `scope` asks of this API: with Graph's prefix or this API's identifier, or a
/// permission's bare name (Microsoft's identity platform reads an unprefixed scope as
/// Microsoft Graph's, as in `scope=openid User.Read`); `None` for any other scope
/// (`openid`, `profile`, an app's own).
fn asked(public_url: &str, scope: &str) -> Option<Asked> {
    let ours = format!("{}/", api_identifier(public_url));
    let name = scope
        .strip_prefix(GRAPH_RESOURCE)
        .or_else(|| scope.strip_prefix(ours.as_str()));
    match name {
        Some(".default") => Some(Asked::Default),
        Some(name) => Some(AppPermission::parse(name).map_or(Asked::Unknown, Asked::One)),
        None => AppPermission::parse(scope).map(Asked::One),
    }
}

/// Whether an authorization request's scopes (space-separated) ask anything of this API.
pub fn asks_api(public_url: &str, scope: &str) -> bool {
    scope.split(' ').any(|s| asked(public_url, s).is_some())
}

/// The scopes an authorization request is granted, when it asks for this API's: its other
/// scopes as asked, then the delegated permissions by their bare names (as Microsoft Graph
/// answers them), each of which the app must be `allowed` to ask for. The refusal
/// (`invalid_scope`) names the scope.
pub fn grant_delegated(
    public_url: &str,
    scope: &str,
    allowed: &[AppPermission],
) -> Result<String, String> {
    let mut kept: Vec<&str> = Vec::new();
    let mut granted: Vec<AppPermission> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        let wanted = match asked(public_url, s) {
            None => {
                kept.push(s);
                continue;
            }
            Some(Asked::Unknown) => {
                return Err(format!(
                    "The scope {s} is not one of this API's delegated permissions."
                ));
            }
            Some(Asked::Default) if allowed.is_empty() => {
                return Err(format!(
                    "{s}: this app is allowed no delegated permissions (an administrator allows them under API permissions)."
                ));
            }
            Some(Asked::Default) => allowed.to_vec(),
            Some(Asked::One(permission)) if allowed.contains(&permission) => vec![permission],
            Some(Asked::One(_)) => {
                return Err(format!(
                    "This app may not ask for the scope {s}: an administrator has not allowed it under the app's API permissions."
                ));
            }
        };
        for permission in wanted {
            if !granted.contains(&permission) {
                granted.push(permission);
            }
        }
    }
    granted.sort_by_key(|p| AppPermission::ALL.iter().position(|q| q == p));
    kept.extend(granted.iter().map(|p| p.as_str()));
    Ok(kept.join(" "))
}

/// The delegated permissions among a granted scope (as [`grant_delegated`] wrote it), in
/// the order written: a token that has any is a token for this API.
pub fn delegated_in(scope: &str) -> Vec<AppPermission> {
    scope.split(' ').filter_map(AppPermission::parse).collect()
}

/// An error as Graph reports it: an HTTP status, a code programs match on, and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code,
            message: message.into(),
        }
    }

    /// No token, or one this API does not accept.
    pub fn unauthenticated(message: impl Into<String>) -> GraphError {
        GraphError::new(401, "InvalidAuthenticationToken", message)
    }

    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(400, "Request_BadRequest", message)
    }

    /// A body larger than the API reads.
    pub fn too_large() -> GraphError {
        GraphError::new(
            413,
            "Request_EntityTooLarge",
            format!(
                "The request body is larger than {} KiB, the most this API takes.",
                MAX_BODY_BYTES / 1024
            ),
        )
    }

    /// The organization's request limit is reached (answered with `Retry-After`).
    pub fn throttled(retry_after_seconds: u64) -> GraphError {
        GraphError::new(
            429,
            "TooManyRequests",
            format!(
                "Too many requests for this organization. Retry after {retry_after_seconds} seconds."
            ),
        )
    }

    /// A query option this API does not take.
    pub fn unsupported(message: impl Into<String>) -> GraphError {
        GraphError::new(400, "Request_UnsupportedQuery", message)
    }

    pub(crate) fn not_found(id: &str) -> GraphError {
        GraphError::new(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }
}

/// The body of every error answer, in Graph's envelope.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// What programs match on: `Request_BadRequest`, `Request_ResourceNotFound`,
    /// `Authorization_RequestDenied`, `InvalidAuthenticationToken`, `TooManyRequests`, …
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
    pub inner_error: InnerError,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InnerError {
    /// When, in UTC, without a zone (`2021-05-18T19:03:10`), as Graph writes it.
    pub date: String,
    /// This request's id, also in the `request-id` header.
    #[serde(rename = "request-id")]
    pub request_id: String,
    /// The client's `client-request-id` header, when it sent one.
    #[serde(rename = "client-request-id")]
    pub client_request_id: Option<String>,
}

impl From<Error> for GraphError {
    fn from(error: Error) -> GraphError {
        match error {
            Error::AccessDenied | Error::NotAuthenticated => GraphError::new(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
            // A rule of the organization (the collaboration restrictions' list): said in
            // its own words, which name the rule.
            Error::Forbidden(message) => {
                GraphError::new(403, "Authorization_RequestDenied", message)
            }
            Error::NotFound(what) => GraphError::new(
                404,
                "Request_ResourceNotFound",
                format!("That {what} does not exist."),
            ),
            Error::Invalid(_) | Error::Conflict(_) | Error::InvalidLink => {
                GraphError::bad_request(error.to_string())
            }
            Error::Throttled { .. } => GraphError::new(429, "TooManyRequests", error.to_string()),
            Error::BadCredentials => GraphError::unauthenticated(error.to_string()),
            Error::Storage(_) | Error::Migration(_) | Error::Hashing(_) => GraphError::new(
                500,
                "generalException",
                "Portico could not do that just now.",
            ),
        }
    }
}

impl From<crate::oidc::Failure> for GraphError {
    fn from(failure: crate::oidc::Failure) -> GraphError {
        match failure {
            crate::oidc::Failure::Protocol(e) => GraphError::bad_request(e.description),
            crate::oidc::Failure::Internal(e) => e.into(),
        }
    }
}

/// The largest request body the API reads; a larger one is refused before it is read whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads a request's JSON body, or says in Graph's words what is wrong with it: none, not
/// sent as JSON, not JSON, a property the request does not take (named), or a value of the
/// wrong kind. Nothing is done with a body that is refused.
pub fn parse_body<T: serde::de::DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, GraphError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(GraphError::bad_request(
            "The request needs a JSON body (Content-Type: application/json).",
        ));
    }
    let media_type = content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !media_type.eq_ignore_ascii_case("application/json") {
        let sent = if media_type.is_empty() {
            "none".to_string()
        } else {
            format!("'{media_type}'")
        };
        return Err(GraphError::bad_request(format!(
            "Send the body as JSON with Content-Type: application/json (this request's content type: {sent})."
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        let text = e.to_string();
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                GraphError::bad_request(format!("The request body is not valid JSON: {text}."))
            }
            Category::Data => match text
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split_once('`'))
            {
                Some((name, expected)) => GraphError::bad_request(format!(
                    "Property '{name}' does not exist here ({}).",
                    expected.trim_start_matches(',').trim()
                )),
                None => GraphError::bad_request(format!("The request body is not valid: {text}.")),
            },
        }
    })
}

pub(crate) fn context(public_url: &str, what: &str) -> String {
    format!("{}/v1.0/$metadata#{what}", api_identifier(public_url))
}

/// The query options of a collection request (`$top`, `$skiptoken`, `$select`, …), as sent.
pub type Query = HashMap<String, String>;

/// Items a page holds unless `$top` says otherwise, and at most.
const DEFAULT_TOP: usize = 100;
const MAX_TOP: usize = 999;

/// `$top`: 1 to 999, 100 when not given.
pub(crate) fn top(query: &Query) -> Result<usize, GraphError> {
    match query.get("$top") {
        None => Ok(DEFAULT_TOP),
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_TOP).contains(n))
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "Invalid page size specified: '{text}'. Must be between 1 and {MAX_TOP} inclusive."
                ))
            }),
    }
}

/// Whether `$count=true` asks for `@odata.count`: only with `ConsistencyLevel: eventual`
/// (Graph ignores it otherwise); a value other than `true` or `false` is refused.
pub(crate) fn count_asked(query: &Query, eventual: bool) -> Result<bool, GraphError> {
    match query.get("$count").map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(eventual),
        Some(other) => Err(GraphError::bad_request(format!(
            "Invalid $count value '{other}': send true or false."
        ))),
    }
}

/// Keeps only the properties `$select` names (all without it); a name the type does not
/// have is refused, as Graph refuses it.
pub(crate) fn select(items: &mut [Value], query: &Query, kind: &str) -> Result<(), GraphError> {
    let Some(list) = query.get("$select") else {
        return Ok(());
    };
    let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
    let known = |name: &str| items.first().is_none_or(|item| item.get(name).is_some());
    if let Some(unknown) = wanted.iter().find(|name| name.is_empty() || !known(name)) {
        return Err(GraphError::bad_request(format!(
            "Could not find a property named '{unknown}' on type 'microsoft.graph.{kind}'."
        )));
    }
    for item in items.iter_mut() {
        if let Value::Object(fields) = item {
            fields.retain(|name, _| name.starts_with('@') || wanted.contains(&name.as_str()));
        }
    }
    Ok(())
}

/// A page of a collection as Graph answers it: its items, `@odata.nextLink` while more
/// remain, and `@odata.count` when it was asked for.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}Collection")]
pub struct Collection<T> {
    #[serde(rename = "@odata.context")]
    pub odata_context: String,
    #[serde(rename = "@odata.count", skip_serializing_if = "Option::is_none")]
    pub odata_count: Option<usize>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub odata_next_link: Option<String>,
    /// The items, with the properties `$select` kept (so held as JSON, described as `T`).
    #[schemars(with = "Vec<T>")]
    pub value: Vec<Value>,
    #[serde(skip)]
    item: PhantomData<T>,
}

impl<T> Collection<T> {
    pub(crate) fn new(odata_context: String, value: Vec<Value>) -> Collection<T> {
        Collection {
            odata_context,
            odata_count: None,
            odata_next_link: None,
            value,
            item: PhantomData,
        }
    }
}

/// Items as JSON, for `$select` to trim.
pub(crate) fn values<T: Serialize>(items: impl Iterator<Item = T>) -> Vec<Value> {
    items
        .map(|item| serde_json::to_value(item).unwrap_or(Value::Null))
        .collect()
}

/// For the schema of a type `$select` applies to: any of its properties may be left out.
pub(crate) fn none_required(schema: &mut schemars::Schema) {
    schema.remove("required");
}

/// One page of a collection held in full: `$top` items from the `$skiptoken` offset on,
/// with `@odata.nextLink` to the next page while more remain, and `@odata.count` when
/// `$count=true` came with `ConsistencyLevel: eventual` (Graph ignores it otherwise).
pub(crate) fn page<T>(
    public_url: &str,
    path: &str,
    what: &str,
    mut items: Vec<Value>,
    query: &Query,
    eventual: bool,
) -> Result<Collection<T>, GraphError> {
    let top = top(query)?;
    let from = match query.get("$skiptoken") {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| GraphError::bad_request("The $skiptoken is not one this API gave."))?,
    };
    let total = items.len();
    let mut page: Vec<Value> = items.drain(from.min(total)..).take(top).collect();
    select(&mut page, query, what)?;
    let mut answer = Collection::new(context(public_url, path.trim_start_matches("/v1.0/")), page);
    if count_asked(query, eventual)? {
        answer.odata_count = Some(total);
    }
    if from.saturating_add(top) < total {
        let mut next: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        next.sort();
        next.push(("$skiptoken".into(), (from + top).to_string()));
        let encoded: Vec<String> = next
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        answer.odata_next_link = Some(format!(
            "{}{path}?{}",
            api_identifier(public_url),
            encoded.join("&")
        ));
    }
    Ok(answer)
}

/// Percent-encodes a query name or value.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Who a bearer token acts for, as the actor of this request: the token must be one this
/// Portico signed for this API and not expired, issued by the tenant it names.
///
/// An app's own token (`idtyp` app) acts as [`Actor::App`]: the app must still exist as a
/// confidential client of that tenant, with the application permissions it holds now.
///
/// A delegated token (`idtyp` user, with `scp`) acts as the person who signed in to the
/// app, through it: the app must still exist, the person must still be able to sign in to
/// it (enabled, a guest still accepted, still assigned when the app requires it), and only
/// the token's scopes the app is still allowed to ask for count; the person's roles are
/// read now.
pub async fn authenticate(
    store: &Store,
    signer: &Signer,
    public_url: &str,
    bearer: Option<&str>,
    ip: Option<&str>,
    now: i64,
) -> Result<Principal, GraphError> {
    let Some(token) = bearer.filter(|t| !t.is_empty()) else {
        return Err(GraphError::unauthenticated("Access token is empty."));
    };
    let invalid =
        |why: &str| GraphError::unauthenticated(format!("Access token validation failure. {why}"));
    let Some(claims) = keys::verified_es256(store, signer, token, now).await? else {
        return Err(invalid("Invalid signature."));
    };
    let text = |name: &str| claims[name].as_str().unwrap_or_default().to_string();
    if claims["aud"] != json!(api_identifier(public_url)) {
        return Err(invalid("Invalid audience."));
    }
    let delegated = match claims["idtyp"].as_str() {
        Some("app") => false,
        Some("user") if claims["scp"].is_string() => true,
        _ => {
            return Err(invalid(
                "Only an app's own token or a delegated token for this API is accepted.",
            ));
        }
    };
    let (Some(exp), Some(nbf)) = (claims["exp"].as_i64(), claims["nbf"].as_i64()) else {
        return Err(invalid("The token has no lifetime."));
    };
    // A minute of leeway for clocks that disagree a little.
    if exp <= now || nbf > now + 60 {
        return Err(invalid("The token is expired or not yet valid."));
    }
    let tid = text("tid");
    let app_id = if delegated { text("azp") } else { text("sub") };
    let mut db = store.read().await?;
    let tenant = store::tenants::find(&mut db, &tid)
        .await?
        .filter(|t| t.id == tid)
        .ok_or_else(|| invalid("Unknown organization."))?;
    let named = [&tenant.id, &tenant.slug, &tenant.primary_domain];
    if !named
        .iter()
        .any(|name| claims["iss"] == json!(issuer(public_url, name)))
    {
        return Err(invalid("Invalid issuer."));
    }
    let client = store::oidc::client(&mut db, &tenant.id, &app_id)
        .await?
        .filter(|c| delegated || c.client_type == types::ClientType::Confidential)
        .ok_or_else(|| invalid("The app no longer exists or no longer signs in as itself."))?;
    if !delegated {
        let permissions = store::apps::permissions(&mut db, &client.id).await?;
        return Ok(Principal {
            tenant_id: tenant.id,
            actor: Actor::App {
                app_id: client.id,
                name: client.name,
                permissions,
            },
            ip: ip.map(String::from),
        });
    }
    let user_id = text("oid");
    let subject = store::oidc::subject(&mut db, &user_id, &client.id)
        .await?
        .filter(|s| s.tenant_id == tenant.id)
        .filter(crate::oidc::tokens::may_hold_tokens)
        .filter(|s| s.assigned || !client.assignment_required)
        .ok_or_else(|| invalid("The user can no longer sign in to this app."))?;
    let allowed = store::apps::delegated_permissions(&mut db, &client.id).await?;
    let scopes = delegated_in(&text("scp"))
        .into_iter()
        .filter(|s| allowed.contains(s))
        .collect();
    let roles = store::users::roles(&mut db, &subject.id).await?;
    let person = Principal::user(
        tenant.id,
        subject.id,
        subject.display_name,
        roles,
        subject.user_type == types::UserType::Guest,
        ip,
    );
    Ok(person.through(Delegation {
        app_id: client.id,
        app_name: client.name,
        scopes,
    }))
}

/// Whether the caller may attempt an operation that needs `needs` (each of them): a person
/// acting through an app needs a scope that allows each (their own rights are checked by
/// the operation); an app's own token and the console are not limited here. Refused as
/// Graph refuses a token without the scope.
pub fn scopes_allow(caller: &Principal, needs: &[Permission]) -> Result<(), GraphError> {
    if needs.iter().all(|p| caller.delegation_allows(*p)) {
        Ok(())
    } else {
        Err(GraphError::from(Error::AccessDenied))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_apis_default_scope_or_graphs_gives_an_app_token() {
        let public = "https://portico.contoso.example/";
        assert!(is_default_scope(
            public,
            "https://portico.contoso.example/.default"
        ));
        assert!(is_default_scope(
            public,
            " https://graph.microsoft.com/.default "
        ));
        for other in [
            "",
            "api",
            "https://portico.contoso.example/User.Read",
            "https://portico.contoso.example/.default openid",
            "https://other.example/.default",
            "HTTPS://GRAPH.MICROSOFT.COM/.default",
        ] {
            assert!(!is_default_scope(public, other), "{other:?}");
        }
    }

    #[test]
    fn delegated_scopes_are_granted_only_as_the_app_was_allowed() {
        use AppPermission::{UserInviteAll, UserReadAll};
        let public = "https://portico.contoso.example/";
        let allowed = [UserInviteAll, UserReadAll];
        let granted = |scope: &str| grant_delegated(public, scope, &allowed);
        // Graph's prefix, this API's, and the bare name (Graph's, as Entra reads it) are
        // the same scope; the grant names it bare, after the other scopes.
        assert_eq!(
            granted("openid https://graph.microsoft.com/User.Invite.All offline_access"),
            Ok("openid offline_access User.Invite.All".into())
        );
        assert_eq!(
            granted("openid https://portico.contoso.example/User.Read.All User.Invite.All"),
            Ok("openid User.Invite.All User.Read.All".into())
        );
        assert_eq!(
            granted("openid https://graph.microsoft.com/.default User.Read.All"),
            Ok("openid User.Invite.All User.Read.All".into())
        );
        for refused in [
            "openid https://graph.microsoft.com/User.ReadWrite.All",
            "openid GroupMember.ReadWrite.All",
            "openid https://graph.microsoft.com/Mail.Read",
            "openid https://portico.contoso.example/Nothing",
        ] {
            assert!(granted(refused).is_err(), "{refused}");
        }
        assert!(
            grant_delegated(public, "openid https://graph.microsoft.com/.default", &[]).is_err()
        );
        // Scopes of nobody else's API are not this API's business.
        assert!(!asks_api(
            public,
            "openid profile email offline_access api://other/x"
        ));
        assert!(asks_api(public, "openid User.Read.All"));
        assert!(asks_api(
            public,
            "openid https://graph.microsoft.com/Mail.Read"
        ));
        assert_eq!(
            delegated_in("openid offline_access User.Invite.All User.Read.All"),
            vec![UserInviteAll, UserReadAll]
        );
        assert!(delegated_in("openid profile").is_empty());
    }

    #[test]
    fn a_delegated_token_is_held_to_its_scopes_for_every_operation() {
        let person = |via: Option<Vec<AppPermission>>| {
            let p = Principal::user("t", "u", "Gia", vec![], false, None);
            match via {
                Some(scopes) => p.through(Delegation {
                    app_id: "a".into(),
                    app_name: "Portal".into(),
                    scopes,
                }),
                None => p,
            }
        };
        let needs = [Permission::ReadApps, Permission::ManageApps];
        assert!(scopes_allow(&person(None), &needs).is_ok());
        let refused = scopes_allow(&person(Some(vec![AppPermission::UserInviteAll])), &needs);
        assert_eq!(refused.unwrap_err().code, "Authorization_RequestDenied");
        let both = person(Some(vec![
            AppPermission::ApplicationReadAll,
            AppPermission::AppRoleAssignmentReadWriteAll,
        ]));
        assert!(scopes_allow(&both, &needs).is_ok());
        assert_eq!(both.audit_name(), "Gia (via Portal)");
    }

    #[test]
    fn a_body_must_be_json_sent_as_json_with_only_known_properties() {
        use invitations::NewInvitation;
        let json = Some("application/json; charset=utf-8");
        let refused = |content_type: Option<&str>, body: &str| {
            let error = parse_body::<NewInvitation>(content_type, body.as_bytes()).unwrap_err();
            assert_eq!((error.status, error.code), (400, "Request_BadRequest"));
            error.message
        };
        assert!(refused(json, " ").contains("needs a JSON body"));
        assert!(refused(None, "{}").contains("content type: none"));
        assert!(refused(Some("text/plain"), "{}").contains("'text/plain'"));
        assert!(refused(json, "{\"invitedUserEmailAddress\":").contains("not valid JSON"));
        let unknown = refused(
            json,
            r#"{"invitedUserEmailAddress":"a@b.example","colour":"red"}"#,
        );
        assert!(
            unknown.starts_with("Property 'colour' does not exist"),
            "{unknown}"
        );
        let nested = refused(json, r#"{"invitedUserMessageInfo":{"bodyText":"hi"}}"#);
        assert!(nested.starts_with("Property 'bodyText'"), "{nested}");
        assert!(refused(json, r#"{"sendInvitationMessage":"yes"}"#).contains("not valid"));
        let taken: NewInvitation = parse_body(
            Some("Application/JSON"),
            br##"{"@odata.type":"#microsoft.graph.invitation","invitedUserEmailAddress":"a@b.example"}"##,
        )
        .unwrap();
        assert_eq!(
            taken.invited_user_email_address.as_deref(),
            Some("a@b.example")
        );
    }

    #[test]
    fn errors_come_back_in_graphs_codes() {
        let denied = GraphError::from(Error::AccessDenied);
        assert_eq!(
            (denied.status, denied.code),
            (403, "Authorization_RequestDenied")
        );
        let missing = GraphError::from(Error::NotFound("invitation"));
        assert_eq!(
            (missing.status, missing.code),
            (404, "Request_ResourceNotFound")
        );
        let conflict = GraphError::from(Error::Conflict("taken".into()));
        assert_eq!((conflict.status, conflict.message.as_str()), (400, "taken"));
        let busy = GraphError::from(Error::Throttled { retry_after: 3 });
        assert_eq!(busy.status, 429);
    }
}
