//! Self-service: members ask to join a group or to use an app, and the group's or the app's
//! owners decide. A group says whether it takes requests (`JoinPolicy`: closed, owner
//! approval, or open, where a member joins at once); an app is requestable or not. The
//! requester is told the decision by mail and on their access panel.

use types::{JoinPolicy, ObjectKind, RequestState};

use crate::audit::{self, Change};
use crate::outbox::{self, Mail, escape_html};
use crate::owners::{grant, grant_action, require_owner, target_type};
use crate::store::{self, owners::Object};
use crate::{Actor, Error, Principal, Result, Store};

/// What asking to join a group did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Joining {
    /// The group is open: the member is in.
    Joined,
    /// The request waits for an owner.
    Requested,
}

/// The signed-in member asking, or `AccessDenied`: guests do not browse the tenant's groups
/// and apps, so they do not ask for them either.
fn requester(actor: &Principal) -> Result<&str> {
    match &actor.actor {
        Actor::User {
            user_id,
            guest: false,
            ..
        } => Ok(user_id),
        _ => Err(Error::AccessDenied),
    }
}

const ALREADY_ASKED: &str = "You asked already; an owner will decide.";

/// Joins an open group at once, or files a request with its owners when the group takes
/// requests with approval.
///
/// **Permissions:** members of the tenant (not guests), for groups that take requests.
pub async fn join_group(
    store: &Store,
    actor: &Principal,
    group_id: &str,
    now: i64,
) -> Result<Joining> {
    let user_id = requester(actor)?;
    let object = Object {
        kind: ObjectKind::Group,
        id: group_id,
    };
    let mut tx = store.begin().await?;
    let found = store::owners::find(&mut tx, &actor.tenant_id, object)
        .await?
        .ok_or(Error::NotFound("group"))?;
    let policy = store::owners::join_policy(&mut tx, &actor.tenant_id, group_id)
        .await?
        .unwrap_or_default();
    if store::owners::holds(&mut tx, object, user_id).await? {
        return Err(Error::Conflict(format!(
            "You are a member of {} already.",
            found.name
        )));
    }
    let (joining, action) = match policy {
        JoinPolicy::Closed => {
            return Err(Error::Conflict(format!(
                "{} does not take requests to join; ask one of its owners.",
                found.name
            )));
        }
        JoinPolicy::Open => {
            grant(&mut tx, object, user_id).await?;
            (Joining::Joined, grant_action(ObjectKind::Group, true))
        }
        JoinPolicy::OwnerApproval => {
            store::owners::insert_request(
                &mut tx,
                &crate::new_id(),
                &actor.tenant_id,
                user_id,
                object,
                now,
            )
            .await
            .map_err(|e| Error::conflict_on_unique(e, ALREADY_ASKED))?;
            (Joining::Requested, "Request to join group")
        }
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action,
            target_type: "Group",
            target_id: group_id,
            target_name: &found.name,
            detail: format!("{}; self-service", actor.name()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(joining)
}

/// Files a request for a requestable app the member cannot open yet.
///
/// **Permissions:** members of the tenant (not guests), for requestable apps.
pub async fn request_app(store: &Store, actor: &Principal, app_id: &str, now: i64) -> Result<()> {
    let user_id = requester(actor)?;
    let object = Object {
        kind: ObjectKind::App,
        id: app_id,
    };
    let mut tx = store.begin().await?;
    let found = store::owners::find(&mut tx, &actor.tenant_id, object)
        .await?
        .ok_or(Error::NotFound("app"))?;
    if store::owners::requestable(&mut tx, &actor.tenant_id, app_id).await? != Some(true) {
        return Err(Error::Conflict(format!(
            "{} does not take requests; ask one of its owners.",
            found.name
        )));
    }
    if store::owners::may_open(&mut tx, &actor.tenant_id, app_id, user_id).await? {
        return Err(Error::Conflict(format!(
            "You can open {} already.",
            found.name
        )));
    }
    store::owners::insert_request(
        &mut tx,
        &crate::new_id(),
        &actor.tenant_id,
        user_id,
        object,
        now,
    )
    .await
    .map_err(|e| Error::conflict_on_unique(e, ALREADY_ASKED))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Request access to application",
            target_type: "App",
            target_id: app_id,
            target_name: &found.name,
            detail: format!("{}; self-service", actor.name()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Approves (gives the access asked for) or denies a waiting request, and tells the
/// requester by mail.
///
/// **Permissions:** the owners of the app or the group asked for.
pub async fn decide(
    store: &Store,
    actor: &Principal,
    request_id: &str,
    approve: bool,
    now: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let request = store::owners::request(&mut tx, &actor.tenant_id, request_id)
        .await?
        .ok_or(Error::NotFound("request"))?;
    let object = Object {
        kind: request.kind,
        id: &request.object_id,
    };
    require_owner(&mut tx, actor, object).await?;
    let state = if approve {
        RequestState::Approved
    } else {
        RequestState::Denied
    };
    if !store::owners::decide(&mut tx, request_id, state, actor.name(), now).await? {
        return Err(Error::Conflict(format!(
            "This request was {} already.",
            request.state.label().to_lowercase()
        )));
    }
    if approve {
        grant(&mut tx, object, &request.user_id).await?;
    }
    let what = match request.kind {
        ObjectKind::App => "request for application",
        ObjectKind::Group => "request to join group",
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: if approve {
                match request.kind {
                    ObjectKind::App => "Approve request for application",
                    ObjectKind::Group => "Approve request to join group",
                }
            } else {
                match request.kind {
                    ObjectKind::App => "Deny request for application",
                    ObjectKind::Group => "Deny request to join group",
                }
            },
            target_type: target_type(request.kind),
            target_id: &request.object_id,
            target_name: &request.object_name,
            detail: format!("{} ({}); {what}", request.display_name, request.email),
        },
    )
    .await?;
    let mail = decision_mail(&request.email, &request.object_name, request.kind, approve);
    outbox::enqueue(&mut tx, Some(&actor.tenant_id), &mail, now).await?;
    tx.commit().await?;
    Ok(())
}

fn decision_mail(email: &str, name: &str, kind: ObjectKind, approved: bool) -> Mail {
    let asked = match kind {
        ObjectKind::App => format!("access to {name}"),
        ObjectKind::Group => format!("to join {name}"),
    };
    let (subject, outcome) = if approved {
        (
            format!("Your request {asked} was approved"),
            match kind {
                ObjectKind::App => format!("You can open {name} from your apps now."),
                ObjectKind::Group => format!("You are a member of {name} now."),
            },
        )
    } else {
        (
            format!("Your request {asked} was denied"),
            "An owner decided not to give it. Ask them if you need to know why.".to_string(),
        )
    };
    Mail {
        recipient: email.into(),
        text: format!("{subject}.\n\n{outcome}\n"),
        html: format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>{}.</p><p>{}</p></body></html>",
            escape_html(&subject),
            escape_html(&outcome)
        ),
        subject,
        secret: false,
    }
}
