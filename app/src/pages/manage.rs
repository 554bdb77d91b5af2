//! An app or a group the signed-in person owns, managed from the access panel: who has
//! access (guests with where they stand), adding people by email address (someone new is
//! invited as a guest), removing them, the owner's own invitations still waiting, and the
//! requests waiting for a decision. Plain forms: it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use types::{AccessRequest, GroupRef, Holder, InvitationSummary, Managed, ObjectKind, format};

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// The object named by the address's `kind` (`apps` or `groups`) and `id`.
#[cfg(feature = "ssr")]
fn object<'a>(kind: &str, id: &'a str) -> Result<domain::owners::Object<'a>, AppError> {
    let kind = ObjectKind::parse_path(kind)
        .ok_or_else(|| AppError::NotFound("There is no such page.".into()))?;
    Ok(domain::owners::Object { kind, id })
}

/// **Permissions:** the object's owners.
#[leptos::server(prefix = "/fn", endpoint = "manage")]
pub async fn get_managed(kind: String, id: String) -> Result<Managed, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let object = object(&kind, &id)?;
    Ok(domain::owners::manage(&portal.store, &principal, object, crate::server::now()).await?)
}

/// Adds someone by email address; an address new here is invited as a guest by mail.
///
/// **Permissions:** the object's owners (and, to invite, whoever may invite).
#[leptos::server(prefix = "/fn", endpoint = "manage/add")]
pub async fn add_holder(
    kind: String,
    id: String,
    email: String,
    message: String,
) -> Result<types::Added, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let object = object(&kind, &id)?;
    let added = domain::owners::add(
        &portal.store,
        &principal,
        object,
        &email,
        &message,
        &portal.public_url,
        crate::server::now(),
    )
    .await?;
    let done = if added.invited {
        format!(
            "{} was invited by mail and has access; they see it once they accept.",
            added.user.email
        )
    } else {
        format!("{} was added.", added.user.display_name)
    };
    crate::server::flash(done, None).await;
    Ok(added)
}

/// Takes access away from a user (`user`) or, for an app, a group (`group`).
///
/// **Permissions:** the object's owners.
#[leptos::server(prefix = "/fn", endpoint = "manage/remove")]
pub async fn remove_holder(
    kind: String,
    id: String,
    user: Option<String>,
    group: Option<String>,
) -> Result<(), AppError> {
    use domain::owners::Grantee;
    let (portal, principal) = crate::server::principal().await?;
    let object = object(&kind, &id)?;
    let grantee = match (&user, &group) {
        (Some(user), None) => Grantee::User(user),
        (None, Some(group)) => Grantee::Group(group),
        _ => return Err(AppError::Refused("Choose one user or one group.".into())),
    };
    domain::owners::remove(
        &portal.store,
        &principal,
        object,
        grantee,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Access removed.", None).await;
    Ok(())
}

/// Sends one of the owner's own invitations again, with a new link.
///
/// **Permissions:** the object's owners, for invitations they made.
#[leptos::server(prefix = "/fn", endpoint = "manage/resend")]
pub async fn resend_invitation(
    kind: String,
    id: String,
    invitation: String,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let object = object(&kind, &id)?;
    let invited = domain::owners::resend(
        &portal.store,
        &principal,
        object,
        &invitation,
        &portal.public_url,
        crate::server::now(),
    )
    .await?;
    crate::server::flash(
        format!(
            "A new invitation was mailed to {}; the old link no longer works.",
            invited.user.email
        ),
        None,
    )
    .await;
    Ok(())
}

/// Revokes one of the owner's own invitations.
///
/// **Permissions:** the object's owners, for invitations they made.
#[leptos::server(prefix = "/fn", endpoint = "manage/revoke")]
pub async fn revoke_invitation(
    kind: String,
    id: String,
    invitation: String,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let object = object(&kind, &id)?;
    domain::owners::revoke(
        &portal.store,
        &principal,
        object,
        &invitation,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Invitation revoked: its link no longer works.", None).await;
    Ok(())
}

/// Approves (`decision` = `approve`) or denies a request.
///
/// **Permissions:** the owners of the app or group asked for.
#[leptos::server(prefix = "/fn", endpoint = "manage/decide")]
pub async fn decide_request(request: String, decision: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return Err(AppError::Refused("Choose approve or deny.".into())),
    };
    domain::requests::decide(
        &portal.store,
        &principal,
        &request,
        approve,
        crate::server::now(),
    )
    .await?;
    let done = if approve {
        "Request approved; they were told by mail."
    } else {
        "Request denied; they were told by mail."
    };
    crate::server::flash(done, None).await;
    Ok(())
}

/// The forms of the page.
#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddHolder>,
    remove: ServerAction<RemoveHolder>,
    resend: ServerAction<ResendInvitation>,
    revoke: ServerAction<RevokeInvitation>,
    decide: ServerAction<DecideRequest>,
}

#[component]
pub fn Manage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let params = params.read();
        (
            params.get("kind").unwrap_or_default(),
            params.get("id").unwrap_or_default(),
        )
    };
    let actions = Actions {
        add: ServerAction::new(),
        remove: ServerAction::new(),
        resend: ServerAction::new(),
        revoke: ServerAction::new(),
        decide: ServerAction::new(),
    };
    let managed = Resource::new(key, |(kind, id)| get_managed(kind, id));
    view! {
        <Title text="Manage · Portico" />
        <p><a href="/">"← My apps"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match managed.await {
                    Ok(managed) => view! { <ManageView managed actions /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ManageView(managed: Managed, actions: Actions) -> impl IntoView {
    let Managed {
        kind,
        id,
        name,
        description,
        join_policy,
        users,
        people_hidden,
        groups,
        invitations,
        requests,
    } = managed;
    let add_error = action_error(actions.add.value());
    let target = StoredValue::new((kind.path(), id, name.clone()));
    let what = match kind {
        ObjectKind::App => "App you own",
        ObjectKind::Group => "Group you own",
    };
    let nobody = users.is_empty() && groups.is_empty() && !people_hidden;
    view! {
        <h1>{format!("Manage {name}")}</h1>
        <p class="muted">{what}{(!description.is_empty()).then(|| format!(" · {description}"))}</p>
        {join_policy.map(|policy| view! { <p class="muted">{format!("Requests to join: {}.", policy.label())}</p> })}
        <section class="card" aria-labelledby="add-title">
            <h2 id="add-title">"Add someone"</h2>
            <ActionForm action=actions.add attr:class="grid">
                <input type="hidden" name="kind" value=target.get_value().0 />
                <input type="hidden" name="id" value=target.get_value().1 />
                <FormError error=add_error />
                <Field label="Email address" name="email" kind="email" required=true error=add_error
                    hint="Someone of your organization is added at once; an address new here is invited as a guest by mail and added in the same step." />
                <Field label="Message for a new guest" name="message" error=add_error hint="Optional; it goes into the invitation mail." />
                <Submit label="Add" busy_label="Adding…" pending=actions.add.pending() />
            </ActionForm>
        </section>
        <Requests requests actions target />
        <section class="card" aria-labelledby="access-title">
            <h2 id="access-title">"Who has access"</h2>
            <FormError error=action_error(actions.remove.value()) />
            {nobody.then(|| view! { <p class="empty">"Nobody yet. Add someone by email address above."</p> })}
            {people_hidden.then(|| view! { <p class="banner">"Your organization lets guests see only their own profile, so who else has access is not shown to you. Its administrators can change this under External collaboration."</p> })}
            <ul class="rows">
                {users.into_iter().map(|user| view! { <UserRow user actions target /> }).collect_view()}
                {groups.into_iter().map(|group| view! { <GroupRow group actions target /> }).collect_view()}
            </ul>
        </section>
        <Invitations invitations actions target />
    }
}

type Target = StoredValue<(&'static str, String, String)>;

/// Hidden fields naming the managed object, for each form.
#[component]
fn TargetFields(target: Target) -> impl IntoView {
    let (kind, id, _) = target.get_value();
    view! {
        <input type="hidden" name="kind" value=kind />
        <input type="hidden" name="id" value=id />
    }
}

#[component]
fn UserRow(user: Holder, actions: Actions, target: Target) -> impl IntoView {
    let state = user.state_label();
    let object_name = target.get_value().2;
    let warning = format!(
        "{} loses access to {object_name}. Their account stays; you can add them again.",
        user.display_name
    );
    view! {
        <li>
            <strong>{user.display_name.clone()}</strong>
            <span class="muted">{user.email.clone()}</span>
            <span class="badge">{state}</span>
            <details class="confirm">
                <summary>{format!("Remove {}…", user.display_name)}</summary>
                <p>{warning}</p>
                <ActionForm action=actions.remove>
                    <TargetFields target />
                    <input type="hidden" name="user" value=user.id />
                    <button type="submit" class="danger">{format!("Remove {}", user.display_name)}</button>
                </ActionForm>
            </details>
        </li>
    }
}

#[component]
fn GroupRow(group: GroupRef, actions: Actions, target: Target) -> impl IntoView {
    let object_name = target.get_value().2;
    let warning = format!(
        "The members of {} lose the access they have through it to {object_name}.",
        group.name
    );
    view! {
        <li>
            <strong>{group.name.clone()}</strong>
            <span class="badge">"Group"</span>
            <details class="confirm">
                <summary>{format!("Remove group {}…", group.name)}</summary>
                <p>{warning}</p>
                <ActionForm action=actions.remove>
                    <TargetFields target />
                    <input type="hidden" name="group" value=group.id />
                    <button type="submit" class="danger">{format!("Remove group {}", group.name)}</button>
                </ActionForm>
            </details>
        </li>
    }
}

#[component]
fn Requests(requests: Vec<AccessRequest>, actions: Actions, target: Target) -> impl IntoView {
    let object_name = target.get_value().2;
    // Shown only when a request waits: most apps and groups take none.
    (!requests.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="requests-title">
                <h2 id="requests-title">"Requests waiting"</h2>
                <FormError error=action_error(actions.decide.value()) />
                <ul class="rows">
                    {requests.into_iter().map(|request| {
                        let object_name = object_name.clone();
                        view! { <RequestRow request object_name decide=actions.decide /> }
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

#[component]
fn Invitations(
    invitations: Vec<InvitationSummary>,
    actions: Actions,
    target: Target,
) -> impl IntoView {
    let none = invitations.is_empty();
    view! {
        <section class="card" aria-labelledby="invitations-title">
            <h2 id="invitations-title">"Your invitations waiting"</h2>
            <FormError error=action_error(actions.resend.value()) />
            <FormError error=action_error(actions.revoke.value()) />
            {none.then(|| view! { <p class="empty">"None of your invitations is waiting to be accepted."</p> })}
            <ul class="rows">
                {invitations.into_iter().map(|invitation| view! { <InvitationRow invitation actions target /> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn RequestRow(
    request: AccessRequest,
    object_name: String,
    decide: ServerAction<DecideRequest>,
) -> impl IntoView {
    let who = request.display_name.clone();
    let approve_label = format!("Approve {who}");
    let deny_summary = format!("Deny {who}…");
    let deny_text = format!("{who} is told by mail that the request for {object_name} was denied.");
    let deny_label = format!("Deny {who}");
    let (approve_id, deny_id) = (request.id.clone(), request.id);
    view! {
        <li>
            <strong>{request.display_name}</strong>
            <span class="muted">{request.email}</span>
            <span class="muted">{format!("asked {}", format::datetime(request.created_at))}</span>
            <span class="actions">
                <ActionForm action=decide>
                    <input type="hidden" name="request" value=approve_id />
                    <input type="hidden" name="decision" value="approve" />
                    <button type="submit" class="primary">{approve_label}</button>
                </ActionForm>
                <details class="confirm">
                    <summary>{deny_summary}</summary>
                    <p>{deny_text}</p>
                    <ActionForm action=decide>
                        <input type="hidden" name="request" value=deny_id />
                        <input type="hidden" name="decision" value="deny" />
                        <button type="submit" class="danger">{deny_label}</button>
                    </ActionForm>
                </details>
            </span>
        </li>
    }
}

#[component]
fn InvitationRow(invitation: InvitationSummary, actions: Actions, target: Target) -> impl IntoView {
    let email = invitation.email.clone();
    let resend_label = format!("Send again to {email}");
    let revoke_summary = format!("Revoke the invitation to {email}…");
    let revoke_text = format!(
        "The link in the mail to {email} stops working. They stay on the list until you remove them."
    );
    let revoke_label = format!("Revoke the invitation to {email}");
    let (resend_id, revoke_id) = (invitation.id.clone(), invitation.id);
    view! {
        <li>
            <strong>{invitation.email}</strong>
            <span class="badge">{invitation.status.label()}</span>
            <span class="muted">{format!("sent {}", format::datetime(invitation.created_at))}</span>
            <span class="actions">
                <ActionForm action=actions.resend>
                    <TargetFields target />
                    <input type="hidden" name="invitation" value=resend_id />
                    <button type="submit" class="secondary" aria-label=resend_label>"Send again"</button>
                </ActionForm>
                <details class="confirm">
                    <summary>{revoke_summary}</summary>
                    <p>{revoke_text}</p>
                    <ActionForm action=actions.revoke>
                        <TargetFields target />
                        <input type="hidden" name="invitation" value=revoke_id />
                        <button type="submit" class="danger">{revoke_label}</button>
                    </ActionForm>
                </details>
            </span>
        </li>
    }
}
