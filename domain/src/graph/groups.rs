//! `/v1.0/groups`: the tenant's groups and their members, as Graph shows them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use types::{GroupSummary, UserRef};

use super::{Collection, GraphError, Query, context, page, values};
use crate::groups::Link;
use crate::{Error, Principal, Store};

/// A group as Graph shows it: Portico's groups are security groups. `$select` may leave
/// any property out.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::none_required)]
pub struct Group {
    #[serde(rename = "@odata.context", skip_serializing_if = "Option::is_none")]
    pub odata_context: Option<String>,
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub mail_enabled: bool,
    pub security_enabled: bool,
    pub group_types: Vec<String>,
}

fn shown(group: &GroupSummary) -> Group {
    Group {
        odata_context: None,
        id: group.id.clone(),
        display_name: group.name.clone(),
        description: (!group.description.is_empty()).then(|| group.description.clone()),
        mail_enabled: false,
        security_enabled: true,
        group_types: Vec::new(),
    }
}

/// A group's member, as a directory object (a user). `$select` may leave any property out.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::none_required)]
pub struct DirectoryObject {
    /// `#microsoft.graph.user`.
    #[serde(rename = "@odata.type")]
    pub odata_type: String,
    pub id: String,
    pub display_name: String,
    pub mail: String,
}

pub(super) fn member(user: &UserRef) -> DirectoryObject {
    DirectoryObject {
        odata_type: "#microsoft.graph.user".into(),
        id: user.id.clone(),
        display_name: user.display_name.clone(),
        mail: user.email.clone(),
    }
}

/// Which of two ids a "not found" is about.
fn missing(error: Error, group_id: &str, user_id: &str) -> GraphError {
    match error {
        Error::NotFound("group") => GraphError::not_found(group_id),
        Error::NotFound(_) => GraphError::not_found(user_id),
        other => other.into(),
    }
}

/// `GET /v1.0/groups`
pub async fn list(
    store: &Store,
    app: &Principal,
    query: &Query,
    eventual: bool,
    public_url: &str,
) -> Result<Collection<Group>, GraphError> {
    if query.contains_key("$filter") || query.contains_key("$search") {
        return Err(GraphError::unsupported(
            "Groups are listed whole: $filter and $search are not supported on /groups.",
        ));
    }
    let groups = crate::groups::list(store, app).await?;
    page(
        public_url,
        "/v1.0/groups",
        "group",
        values(groups.iter().map(shown)),
        query,
        eventual,
    )
}

/// `GET /v1.0/groups/{id}`
pub async fn get(
    store: &Store,
    app: &Principal,
    id: &str,
    public_url: &str,
) -> Result<Group, GraphError> {
    let detail = crate::groups::get(store, app, id)
        .await
        .map_err(|e| missing(e, id, id))?;
    let mut answer = shown(&detail.group);
    answer.odata_context = Some(context(public_url, "groups/$entity"));
    Ok(answer)
}

/// `GET /v1.0/groups/{id}/members`
pub async fn members(
    store: &Store,
    app: &Principal,
    id: &str,
    query: &Query,
    eventual: bool,
    public_url: &str,
) -> Result<Collection<DirectoryObject>, GraphError> {
    let detail = crate::groups::get(store, app, id)
        .await
        .map_err(|e| missing(e, id, id))?;
    page(
        public_url,
        &format!("/v1.0/groups/{id}/members"),
        "directoryObject",
        values(detail.members.iter().map(member)),
        query,
        eventual,
    )
}

/// The body of `POST /v1.0/groups/{id}/members/$ref`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
}

/// The id a reference names: the last segment of `…/v1.0/directoryObjects/{id}` (or
/// `…/users/{id}`), on any host, as Graph's libraries write it.
fn referenced(reference: &str) -> Option<&str> {
    let path = reference.split(['?', '#']).next()?;
    let (collection, id) = path.trim_end_matches('/').rsplit_once('/')?;
    let kind = collection.rsplit('/').next()?;
    (matches!(kind, "directoryObjects" | "users") && !id.is_empty()).then_some(id)
}

/// `POST /v1.0/groups/{id}/members/$ref`: adds a user of the tenant to the group.
pub async fn add_member(
    store: &Store,
    app: &Principal,
    group_id: &str,
    reference: Reference,
    now: i64,
) -> Result<(), GraphError> {
    let user_id = referenced(&reference.odata_id).ok_or_else(|| {
        GraphError::bad_request(format!(
            "'{}' is not a reference to a user: send …/v1.0/directoryObjects/{{id}}.",
            reference.odata_id
        ))
    })?;
    let added = crate::groups::set_link(store, app, group_id, user_id, Link::Member, true, now)
        .await
        .map_err(|e| missing(e, group_id, user_id))?;
    if added {
        Ok(())
    } else {
        Err(GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'members'.",
        ))
    }
}

/// `DELETE /v1.0/groups/{id}/members/{member}/$ref`: takes a user out of the group.
pub async fn remove_member(
    store: &Store,
    app: &Principal,
    group_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), GraphError> {
    let removed = crate::groups::set_link(store, app, group_id, user_id, Link::Member, false, now)
        .await
        .map_err(|e| missing(e, group_id, user_id))?;
    if removed {
        Ok(())
    } else {
        Err(GraphError::bad_request(
            "One or more removed object references do not exist for the following modified properties: 'members'.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::referenced;

    #[test]
    fn a_reference_names_a_directory_object_or_a_user() {
        for (reference, id) in [
            (
                "https://graph.microsoft.com/v1.0/directoryObjects/u1",
                Some("u1"),
            ),
            ("https://portico.example/v1.0/users/u2", Some("u2")),
            (
                "https://portico.example/v1.0/directoryObjects/u3/",
                Some("u3"),
            ),
            ("https://portico.example/v1.0/groups/g1", None),
            ("https://portico.example/v1.0/directoryObjects/", None),
            ("u4", None),
        ] {
            assert_eq!(referenced(reference), id, "{reference}");
        }
    }
}
