//! Inviting external users, the invitations with their state (revoke, resend), and the
//! outbox of mail waiting to be or already delivered.

use leptos::prelude::*;
use leptos_meta::Title;
use types::format::datetime;
use types::{InvitationStatus, InvitationSummary, Invited, OutboxMail};

use super::bulk::BulkInvite;
use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error, typed};
use crate::error::AppError;

/// `send_email` is a checkbox: present when ticked. `sponsors`: addresses of members,
/// separated by commas or spaces; empty, the inviter. `access_days`: days, or `never`;
/// empty, the organization's period.
///
/// **Permissions:** whom the organization's `allowInvitesFrom` lets invite (see
/// `domain::invitations::may_invite`), to a domain its collaboration restrictions allow.
#[leptos::server(prefix = "/fn", endpoint = "admin/invite")]
pub async fn invite_user(
    email: String,
    display_name: String,
    message: String,
    redirect_url: String,
    send_email: Option<String>,
    sponsors: Option<String>,
    access_days: Option<String>,
) -> Result<Invited, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let sponsors = domain::sponsors::parse_list(sponsors.as_deref().unwrap_or_default());
    let input = domain::invitations::InviteInput {
        email: &email,
        display_name: &display_name,
        message: &message,
        redirect_url: &redirect_url,
        send_email: send_email.is_some(),
        sponsors: &sponsors,
        access_days: access_days.as_deref(),
    };
    let invited = domain::invitations::invite_guest(
        &portal.store,
        &principal,
        input,
        &portal.public_url,
        crate::server::now(),
    )
    .await?;
    flash_invited(&invited).await;
    Ok(invited)
}

/// Tells the invitations page whom it invited, and their link.
#[cfg(feature = "ssr")]
async fn flash_invited(invited: &Invited) {
    let done = if invited.resent {
        format!("A new invitation went to {}.", invited.user.email)
    } else {
        format!(
            "Invited {}. They can be added to groups and apps now, before they accept.",
            invited.user.email
        )
    };
    crate::server::flash(done, Some(("Invitation link", &invited.redeem_url))).await;
}

/// **Permissions:** those who may invite guests.
#[leptos::server(prefix = "/fn", endpoint = "admin/invitations")]
pub async fn list_invitations() -> Result<Vec<InvitationSummary>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::invitations::list(&portal.store, &principal, crate::server::now()).await?)
}

/// **Permissions:** those who may invite guests.
#[leptos::server(prefix = "/fn", endpoint = "admin/invitation/revoke")]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::invitations::revoke(&portal.store, &principal, &id, crate::server::now()).await?)
}

/// A new link (and mail) for a pending guest; the old link stops working.
///
/// **Permissions:** those who may invite guests.
#[leptos::server(prefix = "/fn", endpoint = "admin/invitation/resend")]
pub async fn resend_invitation(email: String) -> Result<Invited, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let input = domain::invitations::InviteInput {
        email: &email,
        display_name: "",
        message: "",
        redirect_url: "",
        send_email: true,
        sponsors: &[],
        access_days: None,
    };
    let invited = domain::invitations::invite_guest(
        &portal.store,
        &principal,
        input,
        &portal.public_url,
        crate::server::now(),
    )
    .await?;
    flash_invited(&invited).await;
    Ok(invited)
}

/// **Permissions:** those who may invite guests.
#[leptos::server(prefix = "/fn", endpoint = "admin/outbox")]
pub async fn list_outbox() -> Result<Vec<OutboxMail>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::outbox::list(&portal.store, &principal).await?)
}

#[component]
pub fn Invitations() -> impl IntoView {
    let invite = ServerAction::<InviteUser>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let resend = ServerAction::<ResendInvitation>::new();
    let invitations = Resource::new(|| (), |_| list_invitations());
    let error = action_error(invite.value());
    // Ticked unless a refused invitation left it unticked.
    let send_email = typed(error).is_none_or(|typed| typed.get("send_email").is_some());
    let row_error = Signal::derive(move || {
        action_error(revoke.value())
            .get()
            .or_else(|| action_error(resend.value()).get())
    });
    view! {
        <Title text="Invitations · Portico admin" />
        <h1>"Invite external user"</h1>
        <section class="card" aria-labelledby="invite">
            <h2 id="invite">"New invitation"</h2>
            <ActionForm action=invite attr:class="grid">
                <FormError error />
                <Field label="Email address" name="email" kind="email" required=true error />
                <Field label="Display name" name="display_name" hint="Optional." error />
                <Field label="Redirect address" name="redirect_url" kind="url" hint="Where they land after accepting; empty: their apps." error />
                <Field label="Personal message" name="message" error />
                <Field label="Sponsors" name="sponsors" hint="Members who answer for this guest: up to 5 addresses, separated by commas. Empty: you (or the fallback sponsor, if you are not a member)." error />
                <Field label="Guest access ends after (days)" name="access_days" hint="Days from acceptance, or never. Empty: the organization's period (set under External collaboration). Longer than that takes a user administrator." error />
                <div class="field check">
                    <input id="field-send_email" type="checkbox" name="send_email" value="on" checked=send_email />
                    <label for="field-send_email">"Send the invitation by mail"</label>
                </div>
                <Submit label="Invite" busy_label="Inviting…" pending=invite.pending() />
            </ActionForm>
        </section>
        <BulkInvite />
        <h2>"Invitations"</h2>
        <FormError error=row_error />
        <Transition fallback=|| view! { <p class="loading">"Loading invitations…"</p> }>
            {move || Suspend::new(async move {
                match invitations.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Nobody has been invited yet."</p> }.into_any(),
                    Ok(list) => view! { <InvitationTable list revoke resend /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn InvitationTable(
    list: Vec<InvitationSummary>,
    revoke: ServerAction<RevokeInvitation>,
    resend: ServerAction<ResendInvitation>,
) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr><th scope="col">"Guest"</th><th scope="col">"State"</th><th scope="col">"Invited by"</th><th scope="col">"Sent"</th><th scope="col">"Expires / accepted"</th><th scope="col">"Actions"</th></tr>
            </thead>
            <tbody>
                {list.into_iter().map(|i| {
                    let pending = matches!(i.status, InvitationStatus::PendingAcceptance | InvitationStatus::Locked);
                    let can_resend = matches!(i.status, InvitationStatus::PendingAcceptance | InvitationStatus::Expired | InvitationStatus::Locked);
                    let revoke_label = format!("Revoke the invitation of {}", i.email);
                    let resend_label = format!("Send {} a new link", i.email);
                    let email = i.email.clone();
                    let when = match i.redeemed_at {
                        Some(at) => datetime(at),
                        None => datetime(i.expires_at),
                    };
                    view! {
                        <tr>
                            <td><a href=format!("/admin/users/{}", i.user_id)>{i.display_name.clone()}</a><br /><span class="muted">{i.email.clone()}</span></td>
                            <td>{i.status.label()}</td>
                            <td>{i.inviter_name}</td>
                            <td>{datetime(i.created_at)}</td>
                            <td>{when}</td>
                            <td class="actions">
                                {pending.then(|| view! {
                                    <Confirm
                                        ask="Revoke"
                                        about=format!("the invitation of {}", i.email)
                                        consequence=format!("The link sent to {} stops working, so they cannot accept. Their guest account stays, pending; Resend gives them a new link.", i.email)
                                    >
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="id" value=i.id.clone() />
                                            <button type="submit" class="danger">{revoke_label}</button>
                                        </ActionForm>
                                    </Confirm>
                                })}
                                {can_resend.then(|| view! {
                                    <ActionForm action=resend>
                                        <input type="hidden" name="email" value=email />
                                        <button type="submit" class="secondary" aria-label=resend_label>"Resend"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn Outbox() -> impl IntoView {
    let mail = Resource::new(|| (), |_| list_outbox());
    view! {
        <Title text="Outbox · Portico admin" />
        <h1>"Outbox"</h1>
        <p class="muted">"Mail Portico has written. Until an SMTP server is configured, mail stays here and nothing is lost; deliver links yourself if needed."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading mail…"</p> }>
            {move || Suspend::new(async move {
                match mail.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No mail yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="mail">
                            {list.into_iter().map(|m| view! {
                                <li class="card">
                                    <p><strong>{m.subject}</strong></p>
                                    <p class="muted">{format!("To {} · written {} · {}", m.recipient, datetime(m.created_at), match m.sent_at {
                                        Some(at) => format!("delivered {}", datetime(at)),
                                        None => match m.last_error { Some(e) => format!("not delivered yet ({} tries; last: {e})", m.attempts), None => "waiting".into() },
                                    })}</p>
                                    <pre>{m.text_body}</pre>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
