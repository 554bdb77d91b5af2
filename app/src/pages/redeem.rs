//! Redeeming an invitation: the link's page (which only shows), the passcode page, the
//! consent page, and what follows a decline.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use types::{InvitationInfo, ProofMethod, RedemptionStatus, TicketState};

use super::passkey::PasskeyButton;
use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// What the link leads to. Changes nothing, so mail scanners that open links do no harm.
#[leptos::server(prefix = "/fn", endpoint = "redeem/look_up")]
pub async fn look_up_ticket(ticket: String) -> Result<TicketState, AppError> {
    use crate::server::{now, portal};
    Ok(domain::redemption::look_up(&portal()?.store, &ticket, now()).await?)
}

/// Starts the redemption in this browser and mails a passcode to the invited address.
#[leptos::server(prefix = "/fn", endpoint = "redeem/start")]
pub async fn start_redemption(ticket: String) -> Result<(), AppError> {
    use crate::server::{Cookie, now, portal, set_cookie};
    let portal = portal()?;
    let started = domain::redemption::start(&portal.store, &ticket, now()).await?;
    set_cookie(
        &portal,
        Cookie::Redemption,
        &started.token,
        domain::redemption::REDEMPTION_LIFETIME,
    );
    leptos_axum::redirect("/redeem/code");
    Ok(())
}

/// The invitation behind this browser's redemption, and whether the address is proven.
#[leptos::server(prefix = "/fn", endpoint = "redeem/status")]
pub async fn redemption_progress() -> Result<RedemptionStatus, AppError> {
    use crate::server::now;
    let (portal, token) = redeeming()?;
    Ok(domain::redemption::status(&portal.store, &token, now()).await?)
}

/// The shared state and this browser's redemption in progress (its cookie).
#[cfg(feature = "ssr")]
pub(crate) fn redeeming() -> Result<(crate::server::Portal, String), AppError> {
    use crate::server::{Cookie, cookie, portal};
    let portal = portal()?;
    let token = cookie(&portal, Cookie::Redemption).ok_or_else(|| {
        AppError::Refused("Open the link from your invitation mail to start.".into())
    })?;
    Ok((portal, token))
}

#[leptos::server(prefix = "/fn", endpoint = "redeem/verify")]
pub async fn verify_code(code: String) -> Result<(), AppError> {
    use crate::server::now;
    let (portal, token) = redeeming()?;
    match domain::redemption::verify_code(&portal.store, &token, &code, now()).await? {
        domain::redemption::AfterCode::Consent => leptos_axum::redirect("/redeem/consent"),
        domain::redemption::AfterCode::CreateAccount => leptos_axum::redirect("/redeem/account"),
    }
    Ok(())
}

/// Makes the invited person's Portico account with a password, once the code confirmed
/// the address.
#[leptos::server(prefix = "/fn", endpoint = "redeem/account/create")]
pub async fn create_account(password: String) -> Result<(), AppError> {
    use crate::server::now;
    let (portal, token) = redeeming()?;
    domain::redemption::create_account(&portal.store, &token, &password, now()).await?;
    leptos_axum::redirect("/redeem/consent");
    Ok(())
}

/// Someone with a Portico account proves it is them with its password.
#[leptos::server(prefix = "/fn", endpoint = "redeem/account/password")]
pub async fn verify_account_password(password: String) -> Result<(), AppError> {
    use crate::server::now;
    let (portal, token) = redeeming()?;
    domain::redemption::verify_account_password(
        &portal.store,
        &portal.policy,
        &token,
        &password,
        now(),
    )
    .await?;
    leptos_axum::redirect("/redeem/consent");
    Ok(())
}

/// A member of another organization proves the address with their own password.
#[leptos::server(prefix = "/fn", endpoint = "redeem/password")]
pub async fn verify_home_password(password: String) -> Result<(), AppError> {
    use crate::server::now;
    let (portal, token) = redeeming()?;
    domain::redemption::verify_home_password(
        &portal.store,
        &portal.policy,
        &token,
        &password,
        now(),
    )
    .await?;
    leptos_axum::redirect("/redeem/consent");
    Ok(())
}

/// Goes to the identity provider the inviting organization set up for the address's
/// domain; it sends the person back to `/federation/callback`.
#[leptos::server(prefix = "/fn", endpoint = "redeem/federate")]
pub async fn sign_in_at_provider() -> Result<(), AppError> {
    use crate::server::{leave_for_provider, now};
    let (portal, token) = redeeming()?;
    let departure =
        domain::redemption::depart_to_provider(&portal.store, &portal.federation, &token, now())
            .await?;
    leave_for_provider(&portal, &departure);
    Ok(())
}

#[leptos::server(prefix = "/fn", endpoint = "redeem/resend")]
pub async fn resend_code() -> Result<(), AppError> {
    use crate::server::now;
    let (portal, token) = redeeming()?;
    domain::redemption::resend_code(&portal.store, &token, now()).await?;
    crate::server::flash(
        "A code is on its way; any code sent before no longer works.",
        None,
    )
    .await;
    Ok(())
}

/// Accepts: the guest is signed in to the inviting organization and sent on.
#[leptos::server(prefix = "/fn", endpoint = "redeem/accept")]
pub async fn accept_invitation() -> Result<(), AppError> {
    use crate::server::*;
    let (portal, token) = redeeming()?;
    let previous = session_token(&portal);
    let accepted = domain::redemption::accept(
        &portal.store,
        &portal.policy,
        &token,
        &client(),
        previous.as_deref(),
        now(),
    )
    .await?;
    set_cookie(&portal, Cookie::Redemption, "", 0);
    set_session_cookie(
        &portal,
        &accepted.session.token,
        accepted.session.expires_at - now(),
    );
    leave_for(&portal, accepted.redirect_url.as_deref().unwrap_or("/"));
    Ok(())
}

#[leptos::server(prefix = "/fn", endpoint = "redeem/decline")]
pub async fn decline_invitation() -> Result<(), AppError> {
    use crate::server::{Cookie, now, set_cookie};
    let (portal, token) = redeeming()?;
    domain::redemption::decline(&portal.store, &token, now()).await?;
    set_cookie(&portal, Cookie::Redemption, "", 0);
    leptos_axum::redirect("/redeem/declined");
    Ok(())
}

/// `/redeem?ticket=…`: says what the link is and offers to continue.
#[component]
pub fn Redeem() -> impl IntoView {
    let query = use_query_map();
    let ticket = move || query.read().get("ticket").unwrap_or_default();
    let state = Resource::new(ticket, look_up_ticket);
    view! {
        <Title text="Invitation · Portico" />
        <Suspense fallback=|| view! { <p class="loading">"Checking your invitation…"</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(TicketState::Open(info)) => view! { <OpenInvitation info ticket=ticket() /> }.into_any(),
                    Ok(TicketState::Expired { tenant_name, inviter_name }) => view! {
                        <Notice title="This invitation has expired">
                            {format!("Ask {inviter_name} at {tenant_name} to send you a new one.")}
                        </Notice>
                    }.into_any(),
                    Ok(TicketState::Locked { tenant_name, inviter_name }) => view! {
                        <Notice title="This invitation is locked">
                            {format!("Too many wrong codes were typed for it, so it no longer works. Ask {inviter_name} at {tenant_name} to send you a new one.")}
                        </Notice>
                    }.into_any(),
                    Ok(TicketState::Blocked { tenant_name, domain }) => view! {
                        <Notice title="This invitation can no longer be accepted">
                            {format!("{tenant_name} no longer accepts guests from {domain}; ask the person who invited you.")}
                        </Notice>
                    }.into_any(),
                    Ok(TicketState::Revoked { tenant_name }) => view! {
                        <Notice title="This invitation was withdrawn">
                            {format!("{tenant_name} withdrew it or sent a newer one. Use the newest invitation mail, or ask the person who invited you.")}
                        </Notice>
                    }.into_any(),
                    Ok(TicketState::Accepted { tenant_name }) => view! {
                        <Notice title="You accepted this invitation already">
                            {format!("The link works once. To use {tenant_name}'s apps, ")}
                            <a href="/">"go to your apps"</a>
                            "."
                        </Notice>
                    }.into_any(),
                    Ok(TicketState::Unknown) => view! {
                        <Notice title="This invitation link does not work">
                            "Check that the whole link was copied from the mail, or ask the person who invited you to send it again."
                        </Notice>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Notice(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>{title}</h1>
            <p>{children()}</p>
        </section>
    }
}

#[component]
fn OpenInvitation(info: InvitationInfo, ticket: String) -> impl IntoView {
    let start = ServerAction::<StartRedemption>::new();
    let error = action_error(start.value());
    view! {
        <section class="card narrow">
            <h1>{format!("{} invites you", info.tenant_name)}</h1>
            <p>{format!("{} at {} ({}) invited {} to use some of their apps.", info.inviter_name, info.tenant_name, info.tenant_domain, info.email)}</p>
            {(!info.message.is_empty()).then(|| view! { <blockquote>{info.message.clone()}</blockquote> })}
            <p>"To continue, confirm that this address is yours: with the password of your account here if you have one, else with a code we mail to it."</p>
            <ActionForm action=start>
                <input type="hidden" name="ticket" value=ticket />
                <FormError error />
                <Submit label="Continue" busy_label="One moment…" pending=start.pending() />
            </ActionForm>
        </section>
    }
}

/// `/redeem/code`: the passcode from the mail.
#[component]
pub fn RedeemCode() -> impl IntoView {
    let verify = ServerAction::<VerifyCode>::new();
    let resend = ServerAction::<ResendCode>::new();
    let home = ServerAction::<VerifyHomePassword>::new();
    let status = Resource::new(|| (), |_| redemption_progress());
    let error = action_error(verify.value());
    let home_error = action_error(home.value());
    let resend_error = action_error(resend.value());
    let federate = ServerAction::<SignInAtProvider>::new();
    let federate_error = action_error(federate.value());
    let account = ServerAction::<VerifyAccountPassword>::new();
    let account_error = action_error(account.value());
    view! {
        <Title text="Confirm your address · Portico" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(RedemptionStatus { info, method: ProofMethod::HomePassword, .. }) => view! {
                        <section class="card narrow">
                            <h1>"Sign in with your own account"</h1>
                            <p>{format!("{} has an account on this Portico already. Confirm it is you with its password; no new account is made.", info.email)}</p>
                            <ActionForm action=home>
                                <FormError error=home_error />
                                <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true autofocus=true error=home_error />
                                <Submit label="Continue" busy_label="Checking…" pending=home.pending() />
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Ok(RedemptionStatus { info, method: ProofMethod::Federated, provider, code_also: false, .. }) => {
                        let provider = provider.unwrap_or_default();
                        view! {
                            <section class="card narrow">
                                <h1>{format!("Sign in with {provider}")}</h1>
                                <p>{format!("{} signs in people of your organization. Sign in there as {}; Portico makes no new account and keeps no password of yours.", info.tenant_name, info.email)}</p>
                                <ActionForm action=federate>
                                    <FormError error=federate_error />
                                    <Submit label=format!("Continue to {provider}") busy_label="One moment…" pending=federate.pending() />
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                    Ok(RedemptionStatus { info, method: ProofMethod::Account, .. }) => view! {
                        <section class="card narrow">
                            <h1>"Sign in with your Portico account"</h1>
                            <p>{format!("{} has a Portico account already. Confirm it is you with its passkey or password.", info.email)}</p>
                            <PasskeyButton purpose="redeem" label="Use your passkey" />
                            <ActionForm action=account>
                                <FormError error=account_error />
                                <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true autofocus=true error=account_error />
                                <Submit label="Continue" busy_label="Checking…" pending=account.pending() />
                            </ActionForm>
                            <h2>"Forgot your password?"</h2>
                            <ActionForm action=resend>
                                <FormError error=resend_error />
                                <button type="submit" class="link">"Email me a code instead"</button>
                            </ActionForm>
                            <ActionForm action=verify>
                                <FormError error />
                                <Field label="Code" name="code" kind="text" autocomplete="one-time-code" required=true error />
                                <Submit label="Continue with the code" busy_label="Checking…" pending=verify.pending() class="secondary" />
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Ok(RedemptionStatus { info, method, provider, code_also, .. }) => view! {
                        <section class="card narrow">
                            <h1>"Check your mail"</h1>
                            {(method == ProofMethod::NewAccount).then(|| view! {
                                <p>"First confirm your address; then you make a Portico account to sign in with next time."</p>
                            })}
                            {(method == ProofMethod::Federated && code_also).then(|| view! {
                                <p>{format!("{} signed you in, but did not confirm that {} is your address.", provider.clone().unwrap_or_default(), info.email)}</p>
                            })}
                            <p>{format!("We sent an 8-digit code to {}. It works for 10 minutes.", info.email)}</p>
                            <ActionForm action=verify>
                                <FormError error />
                                <Field label="Code" name="code" kind="text" autocomplete="one-time-code" required=true autofocus=true error />
                                <Submit label="Continue" busy_label="Checking…" pending=verify.pending() />
                            </ActionForm>
                            <ActionForm action=resend>
                                <FormError error=resend_error />
                                <button type="submit" class="link">"Send a new code"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/redeem/consent`: who invites, what is shared, accept or decline.
#[component]
pub fn RedeemConsent() -> impl IntoView {
    let accept = ServerAction::<AcceptInvitation>::new();
    let decline = ServerAction::<DeclineInvitation>::new();
    let status = Resource::new(|| (), |_| redemption_progress());
    let accept_error = action_error(accept.value());
    let decline_error = action_error(decline.value());
    view! {
        <Title text="Accept the invitation · Portico" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(RedemptionStatus { info, proven: true, method, provider, .. }) => view! {
                        <section class="card narrow">
                            <h1>"Review permissions"</h1>
                            <p>{format!("{} ({}) would like to:", info.tenant_name, info.tenant_domain)}</p>
                            <ul>
                                <li>{format!("Know your name ({}) and email address ({})", info.display_name, info.email)}</li>
                                <li>"Let you use the apps and groups they give you"</li>
                            </ul>
                            <p id="access-ends">{match info.access_days {
                                Some(days) => format!("Your access ends {days} days after you accept, unless one of your sponsors at {} renews it.", info.tenant_name),
                                None => "Your access does not end unless they end it.".to_string(),
                            }}</p>
                            {match info.privacy_url.clone() {
                                Some(url) => view! { <p>"Read their " <a href=url rel="noopener noreferrer">"privacy statement"</a> "."</p> }.into_any(),
                                None => view! { <p class="muted">"This organization has not published a privacy statement here."</p> }.into_any(),
                            }}
                            <p class="muted" id="identity-used">{match method {
                                ProofMethod::HomePassword => "You confirmed who you are with your own account.".to_string(),
                                ProofMethod::Federated => format!("You signed in with {}: that account is how you will sign in here.", provider.unwrap_or_default()),
                                ProofMethod::EmailCode => "You confirmed your address with a code sent to it.".to_string(),
                                ProofMethod::NewAccount | ProofMethod::Account => "You will sign in with your Portico account.".to_string(),
                            }}</p>
                            <FormError error=accept_error />
                            <FormError error=decline_error />
                            <div class="actions">
                                <ActionForm action=accept>
                                    <Submit label="Accept" busy_label="Accepting…" pending=accept.pending() />
                                </ActionForm>
                                <ActionForm action=decline>
                                    <Submit label="Decline" busy_label="Declining…" pending=decline.pending() class="secondary" />
                                </ActionForm>
                            </div>
                        </section>
                    }.into_any(),
                    Ok(RedemptionStatus { proven: false, .. }) => view! {
                        <Notice title="Confirm your address first">
                            "Go back to the " <a href="/redeem/code">"previous page"</a> " and confirm it is you."
                        </Notice>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/redeem/account`: the address is confirmed; the invited person makes their account.
#[component]
pub fn RedeemAccount() -> impl IntoView {
    let create = ServerAction::<CreateAccount>::new();
    let error = action_error(create.value());
    let status = Resource::new(|| (), |_| redemption_progress());
    view! {
        <Title text="Create your account · Portico" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(RedemptionStatus { info, method: ProofMethod::NewAccount, address_confirmed: true, .. }) => view! {
                        <section class="card narrow">
                            <h1>"Create your Portico account"</h1>
                            <p>{format!("You sign in with it next time, as {}. If you lose it, a code mailed to you gets you back in.", info.email)}</p>
                            <PasskeyButton purpose="register" label="Create a passkey (recommended)" />
                            <h2>"Or choose a password"</h2>
                            <ActionForm action=create>
                                <FormError error />
                                <input type="email" name="username" value=info.email.clone() autocomplete="username" hidden=true readonly=true />
                                <Field label="New password" name="password" kind="password" autocomplete="new-password" required=true autofocus=true hint="At least 8 characters; not a common password." error />
                                <Submit label="Create account" busy_label="Creating…" pending=create.pending() />
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Ok(_) => view! {
                        <Notice title="Confirm your address first">
                            "Go back to the " <a href="/redeem/code">"previous page"</a> " and enter the code we mailed you."
                        </Notice>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// After a decline.
#[component]
pub fn RedeemDeclined() -> impl IntoView {
    view! {
        <Title text="Invitation declined · Portico" />
        <Notice title="You declined the invitation">
            "Nothing about you was shared. If you change your mind, the link in the mail still works until it expires."
        </Notice>
    }
}
