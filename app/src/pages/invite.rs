//! `/invite`: inviting a guest from outside the admin console, for the people the
//! organization's "who may invite guests" setting lets invite without being administrators
//! (Guest inviters, and members when the setting allows). The same domain rule decides as
//! everywhere else; administrators have the console's invitations page (with CSV files) too.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// Whether the signed-in person may invite guests now.
///
/// **Permissions:** anyone signed in.
#[leptos::server(prefix = "/fn", endpoint = "invite/allowed")]
pub async fn may_invite() -> Result<bool, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::invitations::may_invite_here(&portal.store, &principal).await?)
}

/// Invites a guest and mails them the link (which the inviter is not shown: it is the
/// guest's).
///
/// **Permissions:** whom the organization's `allowInvitesFrom` lets invite, to a domain its
/// collaboration restrictions let guests come from.
#[leptos::server(prefix = "/fn", endpoint = "invite")]
pub async fn send_invitation(
    email: String,
    display_name: String,
    message: String,
    sponsors: Option<String>,
) -> Result<String, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let sponsors = domain::sponsors::parse_list(sponsors.as_deref().unwrap_or_default());
    let input = domain::invitations::InviteInput {
        email: &email,
        display_name: &display_name,
        message: &message,
        redirect_url: "",
        send_email: true,
        sponsors: &sponsors,
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
    let email = invited.user.email;
    crate::server::flash(
        format!("Invited {email}: a mail with the link is on its way to them."),
        None,
    )
    .await;
    Ok(email)
}

#[component]
pub fn InviteGuest() -> impl IntoView {
    let allowed = Resource::new(|| (), |_| may_invite());
    view! {
        <Title text="Invite a guest · Portico" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match allowed.await {
                    Ok(true) => view! { <InviteForm /> }.into_any(),
                    Ok(false) => view! {
                        <section class="card narrow">
                            <h1>"You cannot invite guests"</h1>
                            <p>"Your organization's setting for who may invite guests does not include you. If your work needs it, ask an administrator for the Guest inviter role."</p>
                            <p><a href="/">"Back to my apps"</a></p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn InviteForm() -> impl IntoView {
    let invite = ServerAction::<SendInvitation>::new();
    let error = action_error(invite.value());
    view! {
        <section class="card narrow" aria-labelledby="invite-title">
            <h1 id="invite-title">"Invite a guest"</h1>
            <p>"They get a mail with a link. They sign in with an identity of their own (no new password), and see the apps and groups they are given."</p>
            <ActionForm action=invite attr:class="grid">
                <FormError error />
                <Field label="Email address" name="email" kind="email" required=true error />
                <Field label="Display name" name="display_name" hint="Optional." error />
                <Field label="Personal message" name="message" hint="Optional; quoted in the mail." error />
                <Field label="Sponsors" name="sponsors" hint="Optional: up to 5 addresses of members who answer for this guest, separated by commas. Empty: you." error />
                <Submit label="Send the invitation" busy_label="Inviting…" pending=invite.pending() />
            </ActionForm>
            <p><a href="/">"Back to my apps"</a></p>
        </section>
    }
}
