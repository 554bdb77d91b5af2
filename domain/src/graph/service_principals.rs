//! `/v1.0/servicePrincipals`: the tenant's apps, as Graph shows service principals, and
//! who each is assigned to (`appRoleAssignedTo`), backed by the same assignments the
//! console makes. Portico's apps define no app roles: an assignment is Graph's "default
//! access" (the all-zero app role id), and nothing else can be assigned.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use types::AppSummary;

use super::users::{clauses, literal};
use super::{Collection, GraphError, Query, context, page, values};
use crate::apps::Assignee;
use crate::{Error, Permission, Principal, Store, store};

/// Graph's app role id for "default access": assigned, with no particular role.
pub const DEFAULT_ACCESS: &str = "00000000-0000-0000-0000-000000000000";

/// An app as Graph shows a service principal: its id is the app's client id, as is its
/// `appId`. `$select` may leave any property out.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::none_required)]
pub struct ServicePrincipal {
    #[serde(rename = "@odata.context", skip_serializing_if = "Option::is_none")]
    pub odata_context: Option<String>,
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    pub app_display_name: String,
    pub description: Option<String>,
    /// Always true: Portico's apps cannot be switched off.
    pub account_enabled: bool,
    pub app_role_assignment_required: bool,
    /// Always empty: Portico's apps define no app roles (assignments are default access).
    #[schemars(extend("maxItems" = 0))]
    pub app_roles: Vec<Value>,
    /// The organization's id.
    pub app_owner_organization_id: String,
    pub homepage: String,
    pub info: InformationalUrl,
    pub service_principal_names: Vec<String>,
    /// Always `Application`.
    pub service_principal_type: String,
    /// Always `AzureADMyOrg`: an app is its organization's.
    pub sign_in_audience: String,
    pub tags: Vec<String>,
}

/// Graph's `informationalUrl`: where the app's logo is.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InformationalUrl {
    pub logo_url: Option<String>,
}

fn shown(app: &AppSummary, tenant_id: &str) -> ServicePrincipal {
    ServicePrincipal {
        odata_context: None,
        id: app.id.clone(),
        app_id: app.id.clone(),
        display_name: app.name.clone(),
        app_display_name: app.name.clone(),
        description: (!app.description.is_empty()).then(|| app.description.clone()),
        account_enabled: true,
        app_role_assignment_required: app.assignment_required,
        app_roles: Vec::new(),
        app_owner_organization_id: tenant_id.to_string(),
        homepage: app.launch_url.clone(),
        info: InformationalUrl {
            logo_url: app.logo_url.clone(),
        },
        service_principal_names: vec![app.id.clone()],
        service_principal_type: "Application".into(),
        sign_in_audience: "AzureADMyOrg".into(),
        tags: Vec::new(),
    }
}

/// What `$filter` on `/servicePrincipals` may ask: `displayName` or `appId` (or `id`)
/// `eq`, `startswith(displayName,'…')`, joined with `and`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AppFilter {
    pub display_name: Option<String>,
    pub display_name_prefix: Option<String>,
    pub app_id: Option<String>,
}

impl AppFilter {
    fn matches(&self, app: &AppSummary) -> bool {
        self.display_name.as_ref().is_none_or(|n| *n == app.name)
            && self.app_id.as_ref().is_none_or(|id| *id == app.id)
            && self
                .display_name_prefix
                .as_ref()
                .is_none_or(|prefix| app.name.to_lowercase().starts_with(&prefix.to_lowercase()))
    }
}

pub fn parse_filter(filter: &str) -> Result<AppFilter, GraphError> {
    let unsupported = |clause: &str| {
        GraphError::unsupported(format!(
            "Unsupported or invalid query filter clause specified: '{}'. Portico takes eq on displayName, appId and id, and startswith on displayName, joined with and.",
            clause.trim()
        ))
    };
    let mut parsed = AppFilter::default();
    for clause in clauses(filter.trim()) {
        let clause = clause.trim();
        if let Some(arguments) = clause
            .get(.."startswith(".len())
            .filter(|head| head.eq_ignore_ascii_case("startswith("))
            .and_then(|_| clause["startswith(".len()..].strip_suffix(')'))
        {
            let (property, value) = arguments
                .split_once(',')
                .ok_or_else(|| unsupported(clause))?;
            if property.trim() != "displayName" {
                return Err(unsupported(clause));
            }
            parsed.display_name_prefix = Some(literal(value).ok_or_else(|| unsupported(clause))?);
            continue;
        }
        let (property, value) = clause
            .split_once(" eq ")
            .ok_or_else(|| unsupported(clause))?;
        let value = literal(value).ok_or_else(|| unsupported(clause))?;
        match property.trim() {
            "displayName" => parsed.display_name = Some(value),
            "appId" | "id" => parsed.app_id = Some(value),
            _ => return Err(unsupported(clause)),
        }
    }
    Ok(parsed)
}

/// `GET /v1.0/servicePrincipals`
///
/// **Permissions:** `Application.Read.All`.
pub async fn list(
    store: &Store,
    app: &Principal,
    query: &Query,
    eventual: bool,
    public_url: &str,
) -> Result<Collection<ServicePrincipal>, GraphError> {
    app.require(Permission::ReadApps)?;
    if query.contains_key("$search") || query.contains_key("$orderby") {
        return Err(GraphError::unsupported(
            "$search and $orderby are not supported on /servicePrincipals: use $filter.",
        ));
    }
    let filter = match query.get("$filter") {
        Some(text) => parse_filter(text)?,
        None => AppFilter::default(),
    };
    let apps = store::apps::list(&mut *store.read().await?, &app.tenant_id).await?;
    page(
        public_url,
        "/v1.0/servicePrincipals",
        "servicePrincipal",
        values(
            apps.iter()
                .filter(|a| filter.matches(a))
                .map(|a| shown(a, &app.tenant_id)),
        ),
        query,
        eventual,
    )
}

async fn find(store: &Store, app: &Principal, id: &str) -> Result<AppSummary, GraphError> {
    store::apps::get(&mut *store.read().await?, &app.tenant_id, id)
        .await?
        .ok_or_else(|| GraphError::not_found(id))
}

/// `GET /v1.0/servicePrincipals/{id}`, with the properties `$select` names (a
/// [`ServicePrincipal`] in part, so held as JSON).
///
/// **Permissions:** `Application.Read.All`.
pub async fn get(
    store: &Store,
    app: &Principal,
    id: &str,
    query: &Query,
    public_url: &str,
) -> Result<Value, GraphError> {
    app.require(Permission::ReadApps)?;
    let found = find(store, app, id).await?;
    let mut answer = values([shown(&found, &app.tenant_id)].into_iter());
    super::select(&mut answer, query, "servicePrincipal")?;
    let mut answer = answer.remove(0);
    answer["@odata.context"] = json!(context(public_url, "servicePrincipals/$entity"));
    Ok(answer)
}

/// An assignment's id: its principal's, encoded as Graph's ids of assignments are (an
/// opaque base64url string), so that it names the assignment within its app.
fn assignment_id(principal_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(principal_id)
}

/// One of the app's assignments: (principal id, display name, `User` or `Group`).
struct Assigned {
    principal_id: String,
    name: String,
    kind: &'static str,
}

async fn assignments(store: &Store, app_id: &str) -> Result<Vec<Assigned>, GraphError> {
    let mut db = store.read().await?;
    let users = store::apps::assigned_users(&mut db, app_id).await?;
    let groups = store::apps::assigned_groups(&mut db, app_id).await?;
    Ok(users
        .into_iter()
        .map(|u| Assigned {
            principal_id: u.id,
            name: u.display_name,
            kind: "User",
        })
        .chain(groups.into_iter().map(|g| Assigned {
            principal_id: g.id,
            name: g.name,
            kind: "Group",
        }))
        .collect())
}

/// An assignment of an app to a user or group, as Graph's `appRoleAssignment`. `$select`
/// may leave any property out of a listing.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::none_required)]
pub struct AppRoleAssignment {
    #[serde(rename = "@odata.context", skip_serializing_if = "Option::is_none")]
    pub odata_context: Option<String>,
    /// Names the assignment within its app.
    pub id: String,
    /// Always null: Portico deletes assignments at once.
    pub deleted_date_time: Option<String>,
    /// Always the default access, `00000000-0000-0000-0000-000000000000`.
    pub app_role_id: String,
    /// When it was made: in the answer that makes it (Portico keeps no time for them).
    pub created_date_time: Option<String>,
    pub principal_display_name: String,
    pub principal_id: String,
    /// `User` or `Group`.
    pub principal_type: String,
    pub resource_display_name: String,
    /// The app's id (its service principal's).
    pub resource_id: String,
}

/// An assignment as Graph's `appRoleAssignment`. Portico keeps no time for assignments.
fn assignment(assigned: &Assigned, app: &AppSummary, created: Option<i64>) -> AppRoleAssignment {
    AppRoleAssignment {
        odata_context: None,
        id: assignment_id(&assigned.principal_id),
        deleted_date_time: None,
        app_role_id: DEFAULT_ACCESS.into(),
        created_date_time: created.map(types::format::rfc3339),
        principal_display_name: assigned.name.clone(),
        principal_id: assigned.principal_id.clone(),
        principal_type: assigned.kind.into(),
        resource_display_name: app.name.clone(),
        resource_id: app.id.clone(),
    }
}

/// `GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo`: the users and groups the app is
/// assigned to.
///
/// **Permissions:** `Application.Read.All`.
pub async fn assigned_to(
    store: &Store,
    app: &Principal,
    id: &str,
    query: &Query,
    eventual: bool,
    public_url: &str,
) -> Result<Collection<AppRoleAssignment>, GraphError> {
    app.require(Permission::ReadApps)?;
    if query.contains_key("$filter") || query.contains_key("$search") {
        return Err(GraphError::unsupported(
            "Assignments are listed whole: $filter and $search are not supported on appRoleAssignedTo.",
        ));
    }
    let found = find(store, app, id).await?;
    let items = values(
        assignments(store, id)
            .await?
            .iter()
            .map(|a| assignment(a, &found, None)),
    );
    page(
        public_url,
        &format!("/v1.0/servicePrincipals/{id}/appRoleAssignedTo"),
        "appRoleAssignment",
        items,
        query,
        eventual,
    )
}

/// The body of `POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo`, as Graph documents
/// it. A property it does not have is refused.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAssignment {
    /// `#microsoft.graph.appRoleAssignment`, if named.
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// The user or group to assign. Required, as Graph requires it; checked by `assign` so
    /// the refusal says so.
    #[schemars(required, with = "String")]
    pub principal_id: Option<String>,
    /// The service principal in the address.
    #[schemars(required, with = "String")]
    pub resource_id: Option<String>,
    /// The default access, `00000000-0000-0000-0000-000000000000`: Portico's apps define no
    /// app roles.
    #[schemars(required, with = "String")]
    pub app_role_id: Option<String>,
}

/// `POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo`: assigns the app to a user or a
/// group of the tenant (Graph's default access).
///
/// **Permissions:** `AppRoleAssignment.ReadWrite.All` and `Application.Read.All`, as Graph
/// asks.
pub async fn assign(
    store: &Store,
    app: &Principal,
    id: &str,
    request: NewAssignment,
    public_url: &str,
    now: i64,
) -> Result<AppRoleAssignment, GraphError> {
    app.require(Permission::ReadApps)?;
    app.require(Permission::ManageApps)?;
    let required = |value: Option<String>, name: &str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| GraphError::bad_request(format!("{name} is required.")))
    };
    let principal_id = required(request.principal_id, "principalId")?;
    let resource_id = required(request.resource_id, "resourceId")?;
    let app_role_id = required(request.app_role_id, "appRoleId")?;
    if request
        .odata_type
        .as_deref()
        .is_some_and(|t| t.trim_start_matches('#') != "microsoft.graph.appRoleAssignment")
    {
        return Err(GraphError::bad_request(
            "@odata.type must be #microsoft.graph.appRoleAssignment.",
        ));
    }
    let resource = find(store, app, id).await?;
    if resource_id != id {
        return Err(GraphError::bad_request(format!(
            "resourceId '{resource_id}' must be the service principal in the address, '{id}'."
        )));
    }
    if !app_role_id.eq_ignore_ascii_case(DEFAULT_ACCESS) {
        return Err(GraphError::bad_request(format!(
            "Permission being assigned was not found on application '{id}'. Portico's apps define no app roles: assign {DEFAULT_ACCESS} (default access)."
        )));
    }
    let (assignee, name, kind) = {
        let mut db = store.read().await?;
        if let Some(user) = store::users::get(&mut db, &app.tenant_id, &principal_id).await? {
            (Assignee::User(&principal_id), user.display_name, "User")
        } else if let Some(group) =
            store::groups::get(&mut db, &app.tenant_id, &principal_id).await?
        {
            (Assignee::Group(&principal_id), group.name, "Group")
        } else {
            return Err(GraphError::not_found(&principal_id));
        }
    };
    let added = crate::apps::set_assignment(store, app, id, assignee, true, now)
        .await
        .map_err(|e| match e {
            Error::NotFound("app") => GraphError::not_found(id),
            Error::NotFound(_) => GraphError::not_found(&principal_id),
            other => other.into(),
        })?;
    if !added {
        return Err(GraphError::bad_request(
            "Permission being assigned already exists on the object",
        ));
    }
    let assigned = Assigned {
        principal_id: principal_id.clone(),
        name,
        kind,
    };
    let mut answer = assignment(&assigned, &resource, Some(now));
    answer.odata_context = Some(context(
        public_url,
        &format!("servicePrincipals('{id}')/appRoleAssignedTo/$entity"),
    ));
    Ok(answer)
}

/// `DELETE /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}`: takes the
/// assignment away.
///
/// **Permissions:** `AppRoleAssignment.ReadWrite.All` and `Application.Read.All`.
pub async fn unassign(
    store: &Store,
    app: &Principal,
    id: &str,
    assignment: &str,
    now: i64,
) -> Result<(), GraphError> {
    app.require(Permission::ReadApps)?;
    app.require(Permission::ManageApps)?;
    find(store, app, id).await?;
    let found = assignments(store, id)
        .await?
        .into_iter()
        .find(|a| assignment_id(&a.principal_id) == assignment)
        .ok_or_else(|| GraphError::not_found(assignment))?;
    let assignee = match found.kind {
        "User" => Assignee::User(&found.principal_id),
        _ => Assignee::Group(&found.principal_id),
    };
    let removed = crate::apps::set_assignment(store, app, id, assignee, false, now)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => GraphError::not_found(assignment),
            other => other.into(),
        })?;
    // Taken away meanwhile by another request: there was nothing left to delete.
    if !removed {
        return Err(GraphError::not_found(assignment));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_app_listings_use_are_read() {
        let parsed =
            parse_filter("startswith(displayName,'HR') and appId eq 'a1' and displayName eq 'HR'")
                .unwrap();
        assert_eq!(
            parsed,
            AppFilter {
                display_name: Some("HR".into()),
                display_name_prefix: Some("HR".into()),
                app_id: Some("a1".into()),
            }
        );
        for refused in [
            "servicePrincipalType eq 'Application'",
            "startswith(appId,'a')",
            "displayName ne 'x'",
            "displayName eq x",
        ] {
            assert_eq!(
                parse_filter(refused).unwrap_err().code,
                "Request_UnsupportedQuery",
                "{refused}"
            );
        }
    }

    #[test]
    fn a_prefix_matches_whatever_the_case_and_names_match_exactly() {
        let app = AppSummary {
            id: "a1".into(),
            name: "HR onboarding".into(),
            description: String::new(),
            launch_url: "https://hr.example/".into(),
            logo_url: None,
            assignment_required: true,
        };
        assert!(
            parse_filter("startswith(displayName,'hr')")
                .unwrap()
                .matches(&app)
        );
        assert!(
            !parse_filter("displayName eq 'hr onboarding'")
                .unwrap()
                .matches(&app)
        );
        assert!(!parse_filter("appId eq 'a2'").unwrap().matches(&app));
    }
}
