//! `/v1.0/auditLogs`: the tenant's audit trail (`directoryAudits`) and sign-in log
//! (`signIns`), read-only, newest first, in Graph's shapes.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use types::{ActorKind, AuditEvent, SignInEvent};

use super::users::{clauses, literal};
use super::{Collection, GraphError, Query, api_identifier, context, select, top, values};
use crate::store::audit::LogQuery;
use crate::{Permission, Principal, Store, store};

/// Graph's category of an audit event, from what it changed.
fn category(target_type: &str) -> &'static str {
    match target_type {
        "User" => "UserManagement",
        "Group" => "GroupManagement",
        "App" => "ApplicationManagement",
        "Tenant" | "IdentityProvider" => "Policy",
        _ => "Other",
    }
}

/// Graph's operation type, from the action's first word.
fn operation(action: &str) -> &'static str {
    match action.split(' ').next().unwrap_or_default() {
        "Add" | "Invite" | "Create" | "Grant" => "Add",
        "Delete" | "Remove" | "Revoke" => "Delete",
        "Update" | "Set" | "Change" | "Reset" | "Redeem" | "Enable" | "Disable" => "Update",
        _ => "Other",
    }
}

/// An event of the audit trail, as Graph's `directoryAudit`. `$select` may leave any
/// property out.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::none_required)]
pub struct DirectoryAudit {
    pub id: String,
    /// `UserManagement`, `GroupManagement`, `ApplicationManagement`, `Policy` or `Other`.
    pub category: String,
    /// Always null: Portico keeps no correlation ids.
    pub correlation_id: Option<String>,
    pub activity_date_time: String,
    /// What was done, in the console's words (`Invite guest`, …).
    pub activity_display_name: String,
    /// Always `Core Directory`.
    pub logged_by_service: String,
    /// `Add`, `Update`, `Delete` or `Other`.
    pub operation_type: String,
    /// Always `success`: only what was done is recorded.
    pub result: String,
    pub result_reason: String,
    pub initiated_by: AuditActivityInitiator,
    pub target_resources: Vec<TargetResource>,
    pub additional_details: Vec<KeyValue>,
}

/// Who acted: a user (or an operator) or an app (or Portico itself); the other is null.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditActivityInitiator {
    pub user: Option<UserIdentity>,
    pub app: Option<AppIdentity>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    pub id: Option<String>,
    pub display_name: String,
    /// Always null.
    pub user_principal_name: Option<String>,
    pub ip_address: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppIdentity {
    /// The app's client id (none for Portico itself).
    pub app_id: Option<String>,
    pub service_principal_id: Option<String>,
    pub display_name: String,
    /// Always null.
    pub service_principal_name: Option<String>,
}

/// What an event changed.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    pub id: String,
    pub display_name: String,
    /// `User`, `Group`, `App`, `Tenant`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Always null.
    pub user_principal_name: Option<String>,
    /// Always null.
    pub group_type: Option<String>,
    /// Always empty: the event's detail is in `additionalDetails`.
    #[schemars(extend("maxItems" = 0))]
    pub modified_properties: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

fn directory_audit(event: &AuditEvent) -> DirectoryAudit {
    let initiated_by = match event.actor_kind {
        ActorKind::User | ActorKind::Operator => AuditActivityInitiator {
            user: Some(UserIdentity {
                id: event.actor_id.clone(),
                display_name: event.actor_name.clone(),
                user_principal_name: None,
                ip_address: event.ip.clone(),
            }),
            app: None,
        },
        ActorKind::App | ActorKind::Portico => AuditActivityInitiator {
            user: None,
            app: Some(AppIdentity {
                app_id: event.actor_id.clone(),
                service_principal_id: event.actor_id.clone(),
                display_name: event.actor_name.clone(),
                service_principal_name: None,
            }),
        },
    };
    let additional_details = if event.detail.is_empty() {
        Vec::new()
    } else {
        vec![KeyValue {
            key: "Detail".into(),
            value: event.detail.clone(),
        }]
    };
    DirectoryAudit {
        id: event.id.to_string(),
        category: category(&event.target_type).into(),
        correlation_id: None,
        activity_date_time: types::format::rfc3339(event.at),
        activity_display_name: event.action.clone(),
        logged_by_service: "Core Directory".into(),
        operation_type: operation(&event.action).into(),
        result: "success".into(),
        result_reason: String::new(),
        initiated_by,
        target_resources: vec![TargetResource {
            id: event.target_id.clone(),
            display_name: event.target_name.clone(),
            kind: event.target_type.clone(),
            user_principal_name: None,
            group_type: None,
            modified_properties: Vec::new(),
        }],
        additional_details,
    }
}

/// A refused sign-in's Entra error code (its `AADSTS` number), from the refusal's words
/// (`oidc::access::Refusal::describe`).
fn failure(reason: &str) -> i64 {
    if reason.contains("blocks this sign-in") {
        53003
    } else if reason.contains("requires a second factor") || reason.contains("requires a passkey") {
        50076
    } else if reason.contains("asks you to accept its terms of use") {
        // Entra logs a sign-in interrupted for terms of use as a challenge it did not
        // see met ("External security challenge not satisfied").
        50158
    } else if reason.contains("asks you to sign in again") {
        // "The session has expired or is invalid due to sign-in frequency checks."
        70044
    } else if reason.contains("does not accept people from") {
        // "Access was blocked by cross-tenant access settings."
        500213
    } else if reason.starts_with("You have not been given this app") {
        50105
    } else if reason.ends_with("is disabled.") {
        50057
    } else {
        // No user here (or not yet accepted): Entra's "account does not exist in tenant".
        50020
    }
}

/// A sign-in, as Graph's `signIn`. `$select` may leave any property out.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = super::none_required)]
pub struct SignIn {
    pub id: String,
    pub created_date_time: String,
    pub user_display_name: String,
    /// The address signed in with, if any.
    pub user_principal_name: Option<String>,
    /// None when no user of the organization was found.
    pub user_id: Option<String>,
    pub app_id: Option<String>,
    pub app_display_name: String,
    pub resource_display_name: String,
    pub resource_id: Option<String>,
    pub ip_address: Option<String>,
    /// Always `Browser`.
    pub client_app_used: String,
    pub is_interactive: bool,
    /// Always null.
    pub correlation_id: Option<String>,
    /// Conditional access as enforced: `success`, `failure` or `notApplied`.
    pub conditional_access_status: String,
    /// Every policy on or in report-only, and its result.
    pub applied_conditional_access_policies: Vec<AppliedConditionalAccessPolicy>,
    /// Always `none`: Portico does not rate risk.
    pub risk_detail: String,
    pub risk_level_aggregated: String,
    pub risk_level_during_sign_in: String,
    pub risk_state: String,
    /// Always null: Portico does not locate sign-ins.
    #[schemars(with = "Option<()>")]
    pub location: Option<Value>,
    /// Always null.
    #[schemars(with = "Option<()>")]
    pub device_detail: Option<Value>,
    pub status: SignInStatus,
}

/// A policy's result for a sign-in. Report-only results are `unknownFutureValue`, as
/// Graph gives them to a client that did not ask for them by name (`Prefer:
/// include-unknown-enum-members`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedConditionalAccessPolicy {
    pub id: String,
    pub display_name: String,
    pub enforced_grant_controls: Vec<String>,
    pub enforced_session_controls: Vec<String>,
    /// `success`, `failure`, `notApplied` or `unknownFutureValue` (report-only).
    pub result: String,
}

impl AppliedConditionalAccessPolicy {
    fn of(policy: &types::AppliedPolicy) -> AppliedConditionalAccessPolicy {
        let (session, grant): (Vec<String>, Vec<String>) = policy
            .controls
            .iter()
            .cloned()
            .partition(|c| c == "signInFrequency");
        let result = match policy.result.as_str() {
            r @ ("success" | "failure" | "notApplied") => r,
            _ => "unknownFutureValue",
        };
        AppliedConditionalAccessPolicy {
            id: policy.id.clone(),
            display_name: policy.name.clone(),
            enforced_grant_controls: grant,
            enforced_session_controls: session,
            result: result.into(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInStatus {
    /// 0 when it worked, otherwise Entra's code (its `AADSTS` number).
    pub error_code: i64,
    pub failure_reason: Option<String>,
    /// Always null.
    pub additional_details: Option<String>,
}

fn sign_in(event: &SignInEvent) -> SignIn {
    let code = if event.success {
        0
    } else {
        failure(&event.reason)
    };
    SignIn {
        id: event.id.to_string(),
        created_date_time: types::format::rfc3339(event.created_at),
        user_display_name: event.user_name.clone(),
        user_principal_name: (!event.user_email.is_empty()).then(|| event.user_email.clone()),
        user_id: event.user_id.clone(),
        app_id: event.app_id.clone(),
        app_display_name: event.app_name.clone(),
        resource_display_name: event.app_name.clone(),
        resource_id: event.app_id.clone(),
        ip_address: event.ip.clone(),
        client_app_used: "Browser".into(),
        is_interactive: true,
        correlation_id: None,
        conditional_access_status: event.ca_status.clone(),
        applied_conditional_access_policies: event
            .ca_policies
            .iter()
            .map(AppliedConditionalAccessPolicy::of)
            .collect(),
        risk_detail: "none".into(),
        risk_level_aggregated: "none".into(),
        risk_level_during_sign_in: "none".into(),
        risk_state: "none".into(),
        location: None,
        device_detail: None,
        status: SignInStatus {
            error_code: code,
            failure_reason: (!event.success).then(|| event.reason.clone()),
            additional_details: None,
        },
    }
}

/// A time as OData writes it (`2026-12-07T09:15:00Z`, unquoted or quoted, or a date).
fn instant(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = literal(text).unwrap_or_else(|| text.to_string());
    if let Ok(at) =
        time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
    {
        return Some(at.unix_timestamp());
    }
    let date = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(&text, &date)
        .ok()
        .map(|day| day.midnight().assume_utc().unix_timestamp())
}

/// The log a `$filter` is for: which property holds the time, and which names the user
/// (and, for sign-ins, the app).
#[derive(Clone, Copy)]
enum Log {
    DirectoryAudits,
    SignIns,
}

impl Log {
    fn time_property(self) -> &'static str {
        match self {
            Log::DirectoryAudits => "activityDateTime",
            Log::SignIns => "createdDateTime",
        }
    }
}

/// Reads a `$filter` on a log: the time `ge`/`gt`/`le`/`lt`, and who `eq`
/// (`initiatedBy/user/id` or `initiatedBy/app/appId`; `userId` or `appId` for sign-ins),
/// joined with `and`.
fn parse_filter(filter: &str, log: Log) -> Result<LogQuery, GraphError> {
    let time = log.time_property();
    let unsupported = |clause: &str| {
        let who = match log {
            Log::DirectoryAudits => "eq on initiatedBy/user/id and initiatedBy/app/appId",
            Log::SignIns => "eq on userId and appId",
        };
        GraphError::unsupported(format!(
            "Unsupported or invalid query filter clause specified: '{}'. Portico takes ge, gt, le and lt on {time} and {who}, joined with and.",
            clause.trim()
        ))
    };
    let mut parsed = LogQuery::default();
    for clause in clauses(filter.trim()) {
        let mut words = clause.trim().splitn(3, ' ');
        let (Some(property), Some(op), Some(value)) = (words.next(), words.next(), words.next())
        else {
            return Err(unsupported(clause));
        };
        if property == time {
            let at = instant(value).ok_or_else(|| unsupported(clause))?;
            let (from, until) = match op {
                "ge" => (Some(at), None),
                "gt" => (Some(at + 1), None),
                "le" => (None, Some(at + 1)),
                "lt" => (None, Some(at)),
                _ => return Err(unsupported(clause)),
            };
            if let Some(from) = from {
                parsed.from = Some(parsed.from.map_or(from, |f| f.max(from)));
            }
            if let Some(until) = until {
                parsed.until = Some(parsed.until.map_or(until, |u| u.min(until)));
            }
            continue;
        }
        if op != "eq" {
            return Err(unsupported(clause));
        }
        let value = literal(value).ok_or_else(|| unsupported(clause))?;
        match (log, property) {
            (Log::DirectoryAudits, "initiatedBy/user/id") => {
                parsed.actor = Some((ActorKind::User, value));
            }
            (Log::DirectoryAudits, "initiatedBy/app/appId") => {
                parsed.actor = Some((ActorKind::App, value));
            }
            (Log::SignIns, "userId") => parsed.actor = Some((ActorKind::User, value)),
            (Log::SignIns, "appId") => parsed.app_id = Some(value),
            _ => return Err(unsupported(clause)),
        }
    }
    Ok(parsed)
}

/// The query and page size a log listing asks for; refuses what it cannot do.
fn read_query(query: &Query, log: Log) -> Result<(LogQuery, usize), GraphError> {
    if query.contains_key("$search") || query.contains_key("$orderby") {
        return Err(GraphError::unsupported(
            "$search and $orderby are not supported on /auditLogs: the newest come first; use $filter.",
        ));
    }
    let mut parsed = match query.get("$filter") {
        Some(text) => parse_filter(text, log)?,
        None => LogQuery::default(),
    };
    if let Some(token) = query.get("$skiptoken") {
        parsed.before =
            Some(token.parse().map_err(|_| {
                GraphError::bad_request("The $skiptoken is not one this API gave.")
            })?);
    }
    Ok((parsed, top(query)?))
}

/// A page of a log: `items` holds one more than the page when another follows.
fn answer<T: Serialize>(
    public_url: &str,
    path: &str,
    kind: &str,
    mut items: Vec<(i64, T)>,
    top: usize,
    query: &Query,
) -> Result<Collection<T>, GraphError> {
    let more = items.len() > top;
    items.truncate(top);
    let last = items.last().map(|(id, _)| *id);
    let mut value = values(items.into_iter().map(|(_, v)| v));
    select(&mut value, query, kind)?;
    let mut answer = Collection::new(
        context(public_url, path.trim_start_matches("/v1.0/")),
        value,
    );
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
        next.append_pair("$skiptoken", &last.to_string());
        answer.odata_next_link = Some(format!(
            "{}{path}?{}",
            api_identifier(public_url),
            next.finish()
        ));
    }
    Ok(answer)
}

/// `GET /v1.0/auditLogs/directoryAudits`
///
/// **Permissions:** `AuditLog.Read.All`.
pub async fn directory_audits(
    store: &Store,
    app: &Principal,
    query: &Query,
    public_url: &str,
) -> Result<Collection<DirectoryAudit>, GraphError> {
    app.require(Permission::ReadAudit)?;
    let (filter, top) = read_query(query, Log::DirectoryAudits)?;
    let events = store::audit::log_page(
        &mut *store.read().await?,
        &app.tenant_id,
        &filter,
        i64::try_from(top + 1).unwrap_or(i64::MAX),
    )
    .await?;
    answer(
        public_url,
        "/v1.0/auditLogs/directoryAudits",
        "directoryAudit",
        events.iter().map(|e| (e.id, directory_audit(e))).collect(),
        top,
        query,
    )
}

/// `GET /v1.0/auditLogs/signIns`
///
/// **Permissions:** `AuditLog.Read.All`.
pub async fn sign_ins(
    store: &Store,
    app: &Principal,
    query: &Query,
    public_url: &str,
) -> Result<Collection<SignIn>, GraphError> {
    app.require(Permission::ReadAudit)?;
    let (filter, top) = read_query(query, Log::SignIns)?;
    let events = store::oidc::sign_in_page(
        &mut *store.read().await?,
        &app.tenant_id,
        &filter,
        i64::try_from(top + 1).unwrap_or(i64::MAX),
    )
    .await?;
    answer(
        public_url,
        "/v1.0/auditLogs/signIns",
        "signIn",
        events.iter().map(|e| (e.id, sign_in(e))).collect(),
        top,
        query,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::access::Refusal;

    /// Reads back the words the sign-in log keeps: a change of words shows here.
    #[test]
    fn each_refusal_has_its_entra_code() {
        let policy = || "Partners need MFA".to_string();
        for (refusal, code) in [
            (Refusal::NoAccount, 50020),
            (Refusal::Disabled, 50057),
            (Refusal::NotAssigned, 50105),
            (Refusal::Blocked { policy: policy() }, 53003),
            (Refusal::MfaRequired { policy: policy() }, 50076),
            (Refusal::PasskeyRequired { policy: policy() }, 50076),
            (Refusal::SignInAgain { policy: policy() }, 70044),
            (
                Refusal::TermsRequired {
                    policy: policy(),
                    terms: "t".into(),
                },
                50158,
            ),
            (Refusal::PartnerBlocked, 500213),
        ] {
            assert_eq!(failure(&refusal.describe("Contoso")), code, "{refusal:?}");
        }
    }

    #[test]
    fn a_log_filter_reads_times_and_who() {
        let parsed = parse_filter(
            "activityDateTime ge 2026-12-01T00:00:00Z and activityDateTime le '2026-12-02' and initiatedBy/user/id eq 'u1'",
            Log::DirectoryAudits,
        )
        .unwrap();
        assert_eq!(parsed.from, Some(1_796_083_200));
        assert_eq!(parsed.until, Some(1_796_169_600 + 1));
        assert_eq!(parsed.actor, Some((ActorKind::User, "u1".into())));
        let sign_ins = parse_filter(
            "createdDateTime lt 2026-12-01T00:00:10Z and userId eq 'u2' and appId eq 'a'",
            Log::SignIns,
        )
        .unwrap();
        assert_eq!(sign_ins.until, Some(1_796_083_210));
        assert_eq!(sign_ins.actor, Some((ActorKind::User, "u2".into())));
        assert_eq!(sign_ins.app_id.as_deref(), Some("a"));
    }

    #[test]
    fn other_log_filters_are_unsupported() {
        for (filter, log) in [
            (
                "createdDateTime ge 2026-12-01T00:00:00Z",
                Log::DirectoryAudits,
            ),
            ("userId eq 'u'", Log::DirectoryAudits),
            ("initiatedBy/user/id eq 'u'", Log::SignIns),
            (
                "activityDateTime eq 2026-12-01T00:00:00Z",
                Log::DirectoryAudits,
            ),
            ("activityDateTime ge yesterday", Log::DirectoryAudits),
            ("category eq 'UserManagement'", Log::DirectoryAudits),
            ("userId eq 'u' or appId eq 'a'", Log::SignIns),
        ] {
            assert_eq!(
                parse_filter(filter, log).unwrap_err().code,
                "Request_UnsupportedQuery",
                "{filter}"
            );
        }
    }
}
