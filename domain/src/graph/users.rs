//! `/v1.0/users`: the tenant's users, as Graph shows them — guests with their invitation
//! state, identities and `#EXT#` user principal names.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use types::{ExternalState, UserType};

use super::{Collection, GraphError, Query, api_identifier, context, select, top};
use crate::store::users::{DirectoryFilter, DirectoryUser};
use crate::{Error, Identity, Permission, Principal, Store, store};

/// The properties `GET /users` returns without `$select`, as Graph's.
const DEFAULT_PROPERTIES: [&str; 11] = [
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// A guest's user principal name: the address with `@` as `_`, then `#EXT#@` and the
/// organization's domain (`ann_partner.example#EXT#@contoso.example`); a member's is the
/// address.
pub fn user_principal_name(user: &DirectoryUser, tenant_domain: &str) -> String {
    match user.user_type {
        UserType::Member => user.email.clone(),
        UserType::Guest => format!("{}#EXT#@{tenant_domain}", user.email.replace('@', "_")),
    }
}

/// A user as Graph shows it, with every property Portico has. Without `$select` a listing
/// keeps Graph's default properties, with it the ones named: any may be left out.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::none_required)]
pub struct User {
    #[serde(rename = "@odata.context", skip_serializing_if = "Option::is_none")]
    pub odata_context: Option<String>,
    pub id: String,
    pub display_name: String,
    pub mail: String,
    pub user_principal_name: String,
    pub business_phones: Vec<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub job_title: Option<String>,
    pub mobile_phone: Option<String>,
    pub office_location: Option<String>,
    pub preferred_language: Option<String>,
    pub account_enabled: bool,
    /// `Member` or `Guest`.
    pub user_type: String,
    pub created_date_time: String,
    /// `Invitation` for a guest.
    pub creation_type: Option<String>,
    /// `PendingAcceptance` or `Accepted` for a guest.
    pub external_user_state: Option<String>,
    pub external_user_state_change_date_time: Option<String>,
    pub identities: Vec<ObjectIdentity>,
}

/// How a user signs in: Graph's `objectIdentity`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectIdentity {
    pub sign_in_type: String,
    pub issuer: String,
    pub issuer_assigned_id: Option<String>,
}

/// Every property Portico has of a user, by Graph's names.
fn shown(user: &DirectoryUser, tenant_domain: &str) -> User {
    let upn = user_principal_name(user, tenant_domain);
    let guest = user.user_type == UserType::Guest;
    let mut identities = vec![ObjectIdentity {
        sign_in_type: "userPrincipalName".into(),
        issuer: tenant_domain.into(),
        issuer_assigned_id: Some(upn.clone()),
    }];
    if let Some(identity) = &user.redeemed_identity {
        let issuer = match identity {
            Identity::Email(_) => "mail".to_string(),
            Identity::Oidc { issuer, .. } => issuer.clone(),
            // A member of an organization on this Portico: Entra's "another Entra tenant".
            Identity::Member(_) => "ExternalAzureAD".into(),
            Identity::Account(_) => "Portico".into(),
        };
        identities.insert(
            0,
            ObjectIdentity {
                sign_in_type: "federated".into(),
                issuer,
                issuer_assigned_id: None,
            },
        );
    }
    User {
        odata_context: None,
        id: user.id.clone(),
        display_name: user.display_name.clone(),
        mail: user.email.clone(),
        user_principal_name: upn,
        business_phones: Vec::new(),
        given_name: None,
        surname: None,
        job_title: None,
        mobile_phone: None,
        office_location: None,
        preferred_language: None,
        account_enabled: user.enabled,
        user_type: user.user_type.as_str().into(),
        created_date_time: types::format::rfc3339(user.created_at),
        creation_type: guest.then(|| "Invitation".into()),
        external_user_state: user.external_state.map(|s| s.as_str().into()),
        external_user_state_change_date_time: user
            .state_changed_at
            .filter(|_| guest)
            .map(types::format::rfc3339),
        identities,
    }
}

/// Keeps the default properties unless `$select` names others (which it checks).
fn projected(mut users: Vec<Value>, query: &Query) -> Result<Vec<Value>, GraphError> {
    if query.contains_key("$select") {
        select(&mut users, query, "user")?;
    } else {
        for user in &mut users {
            if let Value::Object(fields) = user {
                fields.retain(|name, _| DEFAULT_PROPERTIES.contains(&name.as_str()));
            }
        }
    }
    Ok(users)
}

/// A quoted OData string: `'it''s'` is `it's`.
pub(super) fn literal(text: &str) -> Option<String> {
    let inner = text.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

/// Splits at top-level ` and ` (outside quotes and parentheses).
pub(super) fn clauses(filter: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    let bytes = filter.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            b' ' if !quoted
                && depth == 0
                && filter[i..].to_ascii_lowercase().starts_with(" and ") =>
            {
                parts.push(&filter[start..i]);
                start = i + 5;
                i += 4;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&filter[start..]);
    parts
}

/// Reads the `$filter` Graph's guests listings use: `eq` and `in` on `userType`, `mail` and
/// `externalUserState`, `startswith` on `displayName` and `mail`, joined with `and`.
pub fn parse_filter(filter: &str) -> Result<DirectoryFilter, GraphError> {
    let unsupported = |clause: &str| {
        GraphError::unsupported(format!(
            "Unsupported or invalid query filter clause specified: '{}'. Portico takes eq and in on userType, mail and externalUserState, and startswith on displayName and mail, joined with and.",
            clause.trim()
        ))
    };
    let mut parsed = DirectoryFilter::default();
    for clause in clauses(filter.trim()) {
        let clause = clause.trim();
        let lower = clause.to_ascii_lowercase();
        if let Some(arguments) = lower
            .strip_prefix("startswith(")
            .and_then(|_| clause.get("startswith(".len()..))
            .and_then(|rest| rest.strip_suffix(')'))
        {
            let (property, value) = arguments
                .split_once(',')
                .ok_or_else(|| unsupported(clause))?;
            let value = literal(value).ok_or_else(|| unsupported(clause))?;
            match property.trim() {
                "displayName" => parsed.display_name_prefix = Some(value),
                "mail" => parsed.mail_prefix = Some(value),
                _ => return Err(unsupported(clause)),
            }
            continue;
        }
        let (property, values) = if let Some((property, value)) = clause.split_once(" eq ") {
            (
                property,
                vec![literal(value).ok_or_else(|| unsupported(clause))?],
            )
        } else if let Some((property, list)) = clause.split_once(" in ") {
            let list = list
                .trim()
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .ok_or_else(|| unsupported(clause))?;
            let values: Option<Vec<String>> = list.split(',').map(literal).collect();
            (property, values.ok_or_else(|| unsupported(clause))?)
        } else {
            return Err(unsupported(clause));
        };
        match property.trim() {
            "userType" => {
                for value in values {
                    parsed
                        .user_types
                        .push(UserType::parse(&value).ok_or_else(|| unsupported(clause))?);
                }
            }
            "externalUserState" => {
                for value in values {
                    parsed
                        .external_states
                        .push(ExternalState::parse(&value).ok_or_else(|| unsupported(clause))?);
                }
            }
            "mail" => parsed.mails.extend(values),
            _ => return Err(unsupported(clause)),
        }
    }
    Ok(parsed)
}

async fn tenant_domain(store: &Store, tenant_id: &str) -> Result<String, GraphError> {
    Ok(store::tenants::find(&mut *store.read().await?, tenant_id)
        .await?
        .map(|t| t.primary_domain)
        .unwrap_or_default())
}

/// `GET /v1.0/users`: pages in id order, `@odata.nextLink` while more remain.
pub async fn list(
    store: &Store,
    app: &Principal,
    query: &Query,
    eventual: bool,
    public_url: &str,
) -> Result<Collection<User>, GraphError> {
    app.require(Permission::ReadUsers)?;
    if query.contains_key("$search") || query.contains_key("$orderby") {
        return Err(GraphError::unsupported(
            "$search and $orderby are not supported on /users: use $filter.",
        ));
    }
    let filter = match query.get("$filter") {
        Some(text) => parse_filter(text)?,
        None => DirectoryFilter::default(),
    };
    let top = top(query)?;
    let after = match query.get("$skiptoken") {
        None => None,
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|id| String::from_utf8(id).ok())
                .ok_or_else(|| {
                    GraphError::bad_request("The $skiptoken is not one this API gave.")
                })?,
        ),
    };
    let domain = tenant_domain(store, &app.tenant_id).await?;
    let mut db = store.read().await?;
    // One more than a page, to know whether another follows.
    let mut users = store::users::directory_page(
        &mut db,
        &app.tenant_id,
        &filter,
        after.as_deref(),
        i64::try_from(top + 1).unwrap_or(i64::MAX),
    )
    .await?;
    let more = users.len() > top;
    users.truncate(top);
    let count = if super::count_asked(query, eventual)? {
        Some(store::users::directory_count(&mut db, &app.tenant_id, &filter).await?)
    } else {
        None
    };
    drop(db);
    let last = users.last().map(|u| u.id.clone());
    let value = projected(
        super::values(users.iter().map(|u| shown(u, &domain))),
        query,
    )?;
    let mut answer = Collection::new(context(public_url, "users"), value);
    answer.odata_count = count.and_then(|c| usize::try_from(c).ok());
    if let (true, Some(last)) = (more, last) {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        let mut kept: Vec<(&String, &String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .collect();
        kept.sort();
        for (name, value) in kept {
            next.append_pair(name, value);
        }
        next.append_pair("$skiptoken", &URL_SAFE_NO_PAD.encode(last));
        answer.odata_next_link = Some(format!(
            "{}/v1.0/users?{}",
            api_identifier(public_url),
            next.finish()
        ));
    }
    Ok(answer)
}

async fn find(store: &Store, app: &Principal, id: &str) -> Result<DirectoryUser, GraphError> {
    store::users::directory_user(&mut *store.read().await?, &app.tenant_id, id)
        .await?
        .ok_or_else(|| GraphError::not_found(id))
}

/// `GET /v1.0/users/{id}`
pub async fn get(
    store: &Store,
    app: &Principal,
    id: &str,
    query: &Query,
    public_url: &str,
) -> Result<Value, GraphError> {
    app.require(Permission::ReadUsers)?;
    let user = find(store, app, id).await?;
    let domain = tenant_domain(store, &app.tenant_id).await?;
    let mut answer = projected(super::values([shown(&user, &domain)].into_iter()), query)?;
    let mut answer = answer.pop().unwrap_or_default();
    answer["@odata.context"] = json!(context(public_url, "users/$entity"));
    Ok(answer)
}

/// The body of `PATCH /v1.0/users/{id}`: what Portico lets a program change.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserChange {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
}

/// `PATCH /v1.0/users/{id}`: the name, and whether the account may sign in.
pub async fn update(
    store: &Store,
    app: &Principal,
    id: &str,
    change: UserChange,
    now: i64,
) -> Result<(), GraphError> {
    app.require(Permission::ManageUsers)?;
    let user = find(store, app, id).await?;
    let not_found = |e: Error| match e {
        Error::NotFound(_) => GraphError::not_found(id),
        other => other.into(),
    };
    if let Some(name) = change.display_name {
        crate::users::update(store, app, id, &user.email, &name, now)
            .await
            .map_err(not_found)?;
    }
    if let Some(enabled) = change.account_enabled {
        crate::users::set_enabled(store, app, id, enabled, now)
            .await
            .map_err(not_found)?;
    }
    Ok(())
}

/// `DELETE /v1.0/users/{id}`: the user is deleted at once (Graph keeps them 30 days).
pub async fn delete(store: &Store, app: &Principal, id: &str, now: i64) -> Result<(), GraphError> {
    crate::users::delete(store, app, id, now)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => GraphError::not_found(id),
            other => other.into(),
        })
}

/// `GET /v1.0/users/{id}/sponsors`: the user's sponsors, as Graph lists them (members have
/// none).
pub async fn sponsors(
    store: &Store,
    app: &Principal,
    id: &str,
    query: &Query,
    eventual: bool,
    public_url: &str,
) -> Result<Collection<super::groups::DirectoryObject>, GraphError> {
    let sponsors =
        crate::sponsors::of_guest(store, app, id)
            .await
            .map_err(|error| match error {
                Error::NotFound(_) => GraphError::not_found(id),
                other => other.into(),
            })?;
    super::page(
        public_url,
        &format!("/v1.0/users/{id}/sponsors"),
        "directoryObject",
        super::values(sponsors.iter().map(super::groups::member)),
        query,
        eventual,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_guest_listings_use_are_read() {
        let parsed = parse_filter(
            "userType eq 'Guest' and externalUserState in ('PendingAcceptance','Accepted') and startswith(displayName,'O''Brien')",
        )
        .unwrap();
        assert_eq!(parsed.user_types, [UserType::Guest]);
        assert_eq!(
            parsed.external_states,
            [ExternalState::PendingAcceptance, ExternalState::Accepted]
        );
        assert_eq!(parsed.display_name_prefix.as_deref(), Some("O'Brien"));
        let mail = parse_filter("mail eq 'a and b@x.example'").unwrap();
        assert_eq!(mail.mails, ["a and b@x.example"]);
    }

    #[test]
    fn anything_else_is_an_unsupported_query() {
        for filter in [
            "userType ne 'Guest'",
            "userType eq 'Alien'",
            "jobTitle eq 'x'",
            "endswith(mail,'x')",
            "userType eq Guest",
            "mail eq 'a'b'",
            "userType eq 'Guest' or userType eq 'Member'",
        ] {
            let refused = parse_filter(filter).unwrap_err();
            assert_eq!(refused.code, "Request_UnsupportedQuery", "{filter}");
        }
    }

    #[test]
    fn a_guests_principal_name_has_the_ext_form() {
        let user = DirectoryUser {
            id: "u".into(),
            email: "ann@partner.example".into(),
            display_name: "Ann".into(),
            user_type: UserType::Guest,
            enabled: true,
            created_at: 0,
            external_state: None,
            state_changed_at: None,
            redeemed_identity: None,
        };
        assert_eq!(
            user_principal_name(&user, "contoso.example"),
            "ann_partner.example#EXT#@contoso.example"
        );
    }
}
