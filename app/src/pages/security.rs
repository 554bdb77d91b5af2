//! Second factors. `/account/security`: the person's authenticator apps and passkeys (add
//! one, remove one) and recovery codes (how many are left, new ones). `/account/verify`:
//! the step-up page conditional access sends people to when a policy asks for a second
//! factor (or a passkey, `need=passkey`) their session has not shown: a code from their
//! app, their passkey (or a recovery code), or, for someone with none yet, setting one up
//! there; then on to where they were going. Every form posts and comes back without
//! JavaScript; passkeys need it (WebAuthn is JavaScript only: see `passkey.rs`).

use leptos::prelude::*;
use leptos_meta::Title;
use types::{ChangesBlocked, SecondFactor, SecurityOverview, StepUp, TotpEnrollment};

use super::passkey::PasskeyButton;
use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// The security page's own address, where its sign-in and step-up come back to.
const SECURITY: &str = "/account/security";

/// **Permissions:** anyone signed in, for themselves.
#[leptos::server(prefix = "/fn", endpoint = "account/security")]
pub async fn security_page() -> Result<SecurityOverview, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    Ok(domain::second_factors::overview(
        &portal.store,
        &portal.vault,
        &signed_in,
        crate::server::now(),
    )
    .await?)
}

/// Begins setting up an authenticator app (a new secret, shown on the page).
///
/// **Permissions:** anyone signed in recently, for themselves (with their second factor
/// verified in this session when they have one).
#[leptos::server(prefix = "/fn", endpoint = "account/security/totp/start")]
pub async fn start_authenticator() -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    domain::second_factors::start_totp(
        &portal.store,
        &portal.vault,
        &signed_in,
        domain::second_factors::Purpose::Settings,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// Says what adding a factor did (`added`: "Authenticator app added.", "Passkey
/// added."), with the recovery codes it came with (shown only now).
#[cfg(feature = "ssr")]
pub(crate) async fn flash_added(added: &str, codes: &[String]) {
    if codes.is_empty() {
        crate::server::flash(
            format!("{added} You stay signed in here; everywhere else you were signed out."),
            None,
        )
        .await;
    } else {
        crate::server::flash(
            format!("{added} Keep these recovery codes somewhere safe: each works once, when your second factor is not at hand."),
            Some(("Your recovery codes", &codes.join(" "))),
        )
        .await;
    }
}

/// Finishes setting up an authenticator app with its first code; returns the recovery
/// codes it came with (the first app's), which the page after shows once.
///
/// **Permissions:** as [`start_authenticator`].
#[leptos::server(prefix = "/fn", endpoint = "account/security/totp/confirm")]
pub async fn confirm_authenticator(name: String, code: String) -> Result<Vec<String>, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    let confirmed = domain::second_factors::confirm_totp(
        &portal.store,
        &portal.vault,
        &portal.policy,
        &signed_in,
        &token,
        domain::second_factors::Purpose::Settings,
        &name,
        &code,
        &crate::server::client(),
        crate::server::now(),
    )
    .await?;
    let codes = confirmed.recovery_codes.unwrap_or_default();
    flash_added("Authenticator app added.", &codes).await;
    Ok(codes)
}

/// **Permissions:** as [`start_authenticator`], for the person's own factor.
#[leptos::server(prefix = "/fn", endpoint = "account/security/remove")]
pub async fn remove_second_factor(id: String) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    domain::second_factors::remove(&portal.store, &signed_in, &token, &id, crate::server::now())
        .await?;
    crate::server::flash(
        "Second factor removed. You stay signed in here; everywhere else you were signed out.",
        None,
    )
    .await;
    Ok(())
}

/// New recovery codes in place of the old ones; returned, and shown once on the page after.
///
/// **Permissions:** as [`start_authenticator`], for someone with an authenticator app.
#[leptos::server(prefix = "/fn", endpoint = "account/security/recovery-codes")]
pub async fn regenerate_recovery_codes() -> Result<Vec<String>, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    let codes = domain::second_factors::regenerate_recovery_codes(
        &portal.store,
        &signed_in,
        &token,
        crate::server::now(),
    )
    .await?;
    crate::server::flash(
        "New recovery codes made; the old ones no longer work. Keep these somewhere safe: each works once.",
        Some(("Your recovery codes", &codes.join(" "))),
    )
    .await;
    Ok(codes)
}

/// What the step-up page offers; `need` is `passkey` when the policy asks for one.
///
/// **Permissions:** anyone signed in, for themselves.
#[leptos::server(prefix = "/fn", endpoint = "account/verify")]
pub async fn step_up_page(need: Option<String>) -> Result<StepUp, AppError> {
    use domain::second_factors::Asked;
    let (portal, signed_in) = crate::server::signed_in().await?;
    let asked = match need.as_deref() {
        Some("passkey") => Asked::Passkey,
        _ => Asked::SecondFactor,
    };
    Ok(domain::second_factors::step_up(
        &portal.store,
        &portal.vault,
        &signed_in,
        asked,
        crate::server::now(),
    )
    .await?)
}

/// Checks a code of the person's authenticator app; this session gains it, and the browser
/// goes on to `next` (a path on Portico, as after sign-in; anything else leads home).
///
/// **Permissions:** anyone signed in, for themselves.
#[leptos::server(prefix = "/fn", endpoint = "account/verify/code")]
pub async fn verify_code(code: String, next: Option<String>) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    domain::second_factors::verify_totp(
        &portal.store,
        &portal.vault,
        &portal.policy,
        &signed_in,
        &token,
        &code,
        &crate::server::client(),
        crate::server::now(),
    )
    .await?;
    leptos_axum::redirect(&super::signin::after_sign_in(next.as_deref()));
    Ok(())
}

/// Uses up one of the person's recovery codes; this session gains it, and the browser goes
/// on to `next`. Returns how many codes are left.
///
/// **Permissions:** anyone signed in, for themselves.
#[leptos::server(prefix = "/fn", endpoint = "account/verify/recovery-code")]
pub async fn verify_recovery_code(
    recovery_code: String,
    next: Option<String>,
) -> Result<i64, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    let left = domain::second_factors::verify_recovery_code(
        &portal.store,
        &portal.policy,
        &signed_in,
        &token,
        &recovery_code,
        &crate::server::client(),
        crate::server::now(),
    )
    .await?;
    let said = match left {
        0 => "Recovery code accepted. It was your last: make new ones at Security.".to_string(),
        1 => "Recovery code accepted. You have 1 left.".to_string(),
        n => format!("Recovery code accepted. You have {n} left."),
    };
    crate::server::flash(said, None).await;
    leptos_axum::redirect(&super::signin::after_sign_in(next.as_deref()));
    Ok(left)
}

/// Begins setting up a first authenticator app at the step-up page.
///
/// **Permissions:** anyone signed in without a second factor, for themselves.
#[leptos::server(prefix = "/fn", endpoint = "account/verify/totp/start")]
pub async fn start_step_up_authenticator() -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    domain::second_factors::start_totp(
        &portal.store,
        &portal.vault,
        &signed_in,
        domain::second_factors::Purpose::StepUp,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// Finishes setting up a first authenticator app at the step-up page; this session gains
/// it. The browser comes back to the step-up page to see its recovery codes once, with a
/// link on to `next`.
///
/// **Permissions:** anyone signed in without a second factor, for themselves.
#[leptos::server(prefix = "/fn", endpoint = "account/verify/totp/confirm")]
pub async fn confirm_step_up_authenticator(
    name: String,
    code: String,
    next: Option<String>,
    policy: Option<String>,
) -> Result<Vec<String>, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    let confirmed = domain::second_factors::confirm_totp(
        &portal.store,
        &portal.vault,
        &portal.policy,
        &signed_in,
        &token,
        domain::second_factors::Purpose::StepUp,
        &name,
        &code,
        &crate::server::client(),
        crate::server::now(),
    )
    .await?;
    let codes = confirmed.recovery_codes.unwrap_or_default();
    flash_added("Authenticator app added.", &codes).await;
    let next = super::signin::after_sign_in(next.as_deref());
    if codes.is_empty() {
        leptos_axum::redirect(&next);
    } else {
        leptos_axum::redirect(&verify_path(&next, policy.as_deref()));
    }
    Ok(codes)
}

/// The step-up page's address, leading on to `next`.
#[cfg(feature = "ssr")]
pub(crate) fn verify_path(next: &str, policy: Option<&str>) -> String {
    types::paths::step_up(next, policy.unwrap_or_default(), false)
}

/// The QR code of an `otpauth://` address, as SVG to put inline in the page (no XML
/// declaration); empty if the address does not fit a QR code.
#[cfg(feature = "ssr")]
fn qr_svg(uri: &str) -> String {
    use qrcode::render::svg;
    let Ok(code) = qrcode::QrCode::new(uri.as_bytes()) else {
        return String::new();
    };
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    match image.find("<svg") {
        Some(start) => image[start..].to_string(),
        None => String::new(),
    }
}

/// The secret of an authenticator app being set up: as a QR code to scan, as a key to
/// type, and as a link for an app on this device.
#[component]
fn ShowSecret(enrollment: TotpEnrollment) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let qr = qr_svg(&enrollment.uri);
    #[cfg(not(feature = "ssr"))]
    let qr = String::new();
    view! {
        <p>"In your authenticator app (such as Google Authenticator, Microsoft Authenticator, 1Password or Aegis), add an account and scan this QR code:"</p>
        <div class="qr" role="img" aria-label="QR code for your authenticator app: it holds the key written below" inner_html=qr></div>
        <p>"Or type this key into the app (time-based, 6 digits, every 30 seconds):"</p>
        <p><code class="secret" id="totp-secret">{enrollment.secret}</code></p>
        <p class="hint"><a href=enrollment.uri>"Open it in an authenticator app on this device"</a></p>
    }
}

/// The fields that finish a set-up: a name for the app and its first code.
#[component]
fn FirstCode(error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <Field label="Name (optional)" name="name" hint="So you can tell your apps apart, e.g. “Phone”." error />
        <Field label="Code from the app" name="code" autocomplete="one-time-code" required=true hint="The 6 digits the app shows now." error />
    }
}

/// `/account/security`.
#[component]
pub fn Security() -> impl IntoView {
    let overview = Resource::new(|| (), |_| security_page());
    view! {
        <Title text="Security · Portico" />
        <h1>"Security"</h1>
        <p><a href="/account">"Back to your account"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => {
                        let SecurityOverview { email: _, factors, recovery_codes_left, enrollment, blocked } = overview;
                        let has_factor = !factors.is_empty();
                        let may_change = blocked.is_none();
                        view! {
                            {blocked.map(|blocked| view! { <Blocked blocked /> })}
                            <Factors factors may_change />
                            {may_change.then(|| view! { <SetUp enrollment has_factor /> })}
                            {may_change.then(|| view! { <AddPasskey /> })}
                            {has_factor.then(|| view! { <RecoveryCodes left=recovery_codes_left may_change /> })}
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Why the page offers no changes now, and the way to be let.
#[component]
fn Blocked(blocked: ChangesBlocked) -> impl IntoView {
    let back = super::admin::encode(SECURITY);
    match blocked {
        ChangesBlocked::SignInAgain => view! {
            <div class="banner" role="status">
                <p>"To change your second factors, sign in again first: for your safety, the sign-in must be less than 10 minutes old."</p>
                <p><a href=format!("/signin?next={back}")>"Sign in again"</a></p>
            </div>
        }
        .into_any(),
        ChangesBlocked::VerifyFirst => view! {
            <div class="banner" role="status">
                <p>"To change your second factors, first verify one: a code from your authenticator app, or your passkey."</p>
                <p><a href=format!("/account/verify?next={back}")>"Verify it"</a></p>
            </div>
        }
        .into_any(),
    }
}

/// The person's authenticator apps and passkeys, each with a way to remove it.
#[component]
fn Factors(factors: Vec<SecondFactor>, may_change: bool) -> impl IntoView {
    let remove = ServerAction::<RemoveSecondFactor>::new();
    let error = action_error(remove.value());
    view! {
        <section class="card" aria-labelledby="factors">
            <h2 id="factors">"Second factors"</h2>
            <p class="muted">"A second factor is asked for after your usual sign-in when your organization's policy wants one, so a stolen password alone does not let anyone in."</p>
            <FormError error />
            {if factors.is_empty() {
                view! { <p class="empty">"None yet."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Added"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {factors.into_iter().map(|f| {
                                let about = format!("{} “{}”", f.kind.to_lowercase(), f.name);
                                view! {
                                    <tr>
                                        <td>{f.kind.clone()}</td>
                                        <td>{f.name.clone()}</td>
                                        <td>{types::format::datetime(f.created_at)}</td>
                                        <td>{f.last_used_at.map(types::format::datetime).unwrap_or_else(|| "never".into())}</td>
                                        <td>
                                            {may_change.then(|| view! {
                                                <Confirm ask="Remove" about=about consequence="You will no longer be able to use it; with your last second factor, your recovery codes stop working too. You will be signed out everywhere else.">
                                                    <ActionForm action=remove>
                                                        <input type="hidden" name="id" value=f.id.clone() />
                                                        <button type="submit" class="danger">"Remove it"</button>
                                                    </ActionForm>
                                                </Confirm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// Setting up an authenticator app: a button that makes a secret, then the secret and the
/// form for the first code.
#[component]
fn SetUp(enrollment: Option<TotpEnrollment>, has_factor: bool) -> impl IntoView {
    let start = ServerAction::<StartAuthenticator>::new();
    let confirm = ServerAction::<ConfirmAuthenticator>::new();
    let start_error = action_error(start.value());
    let confirm_error = action_error(confirm.value());
    let heading = if has_factor {
        "Add another authenticator app"
    } else {
        "Set up an authenticator app"
    };
    view! {
        <section class="card" aria-labelledby="set-up">
            <h2 id="set-up">{heading}</h2>
            <FormError error=start_error />
            {match enrollment {
                Some(enrollment) => view! {
                    <ShowSecret enrollment />
                    <ActionForm action=confirm attr:class="grid">
                        <FormError error=confirm_error />
                        <FirstCode error=confirm_error />
                        <Submit label="Add the app" busy_label="Checking…" pending=confirm.pending() />
                    </ActionForm>
                    <ActionForm action=start>
                        <button type="submit" class="link">"Start again with a new key"</button>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <p>"An app on your phone shows a new 6-digit code every 30 seconds. You will need it with your usual sign-in when your organization asks for a second factor."</p>
                    <ActionForm action=start>
                        <Submit label="Set up an authenticator app" busy_label="One moment…" pending=start.pending() />
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}

/// Registering a passkey as a second factor: a name, then the browser's passkey dialog
/// (JavaScript; the button shows only where the browser has passkeys).
#[component]
fn AddPasskey() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="add-passkey">
            <h2 id="add-passkey">"Add a passkey"</h2>
            <p>"A passkey on this device or your phone (unlocked with your fingerprint, face or PIN) is a second factor that a fake sign-in page cannot reuse. It also signs you in without a password. Adding one needs a browser with passkeys, and JavaScript."</p>
            <PasskeyButton purpose="add_factor" label="Add a passkey" named=true />
        </section>
    }
}

/// How many recovery codes are left, and new ones in place of them.
#[component]
fn RecoveryCodes(left: i64, may_change: bool) -> impl IntoView {
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    let error = action_error(regenerate.value());
    let said = match left {
        0 => "You have no recovery codes left.".to_string(),
        1 => "You have 1 recovery code left.".to_string(),
        n => format!("You have {n} recovery codes left."),
    };
    view! {
        <section class="card" aria-labelledby="recovery">
            <h2 id="recovery">"Recovery codes"</h2>
            <p>"When your second factor is not at hand, a recovery code stands in for it, once. " {said}</p>
            <FormError error />
            {may_change.then(|| view! {
                <Confirm ask="Make new recovery codes" consequence="Your current recovery codes stop working, and you will be signed out everywhere else. The new ones are shown once.">
                    <ActionForm action=regenerate>
                        <Submit label="Make new codes" busy_label="Making…" pending=regenerate.pending() />
                    </ActionForm>
                </Confirm>
            })}
        </section>
    }
}

/// `/account/verify?next=…&policy=…`: the step-up.
#[component]
pub fn Verify() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let next = query.read_untracked().get("next");
    let policy = query
        .read_untracked()
        .get("policy")
        .filter(|p| !p.is_empty());
    let need = query.read_untracked().get("need");
    let what = if need.as_deref() == Some("passkey") {
        "a passkey"
    } else {
        "a second factor"
    };
    let asked = match &policy {
        Some(policy) => format!("Your organization's policy “{policy}” asks for {what}."),
        None => format!("{} is needed to go on.", capitalised(what)),
    };
    let step = Resource::new(move || need.clone(), step_up_page);
    view! {
        <Title text="Second factor · Portico" />
        <section class="card narrow">
            <h1>"Confirm it is you"</h1>
            <p>{asked}</p>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let (next, policy) = (next.clone(), policy.clone());
                    Suspend::new(async move {
                        match step.await {
                            Ok(step) => view! { <StepUpForms step next policy /> }.into_any(),
                            Err(error) => view! { <LoadError error /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// "A second factor", "A passkey".
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// What the step-up page asks for: nothing more once verified; the person's passkey, a
/// code from their app or a recovery code when they have factors (only a passkey when one
/// is asked for); else setting up the first.
#[component]
fn StepUpForms(step: StepUp, next: Option<String>, policy: Option<String>) -> impl IntoView {
    let onward = next
        .as_deref()
        .and_then(super::local_path)
        .unwrap_or("/")
        .to_string();
    if step.verified {
        return view! {
            <p class="banner ok" role="status">"Your second factor is verified for this session."</p>
            <p><a href=onward class="button">"Continue"</a></p>
        }
        .into_any();
    }
    let passkey = step.has_passkey.then(|| {
        view! {
            <PasskeyButton purpose="verify_factor" label="Use a passkey" next=onward.clone() secondary=!step.passkey_asked />
        }
    });
    if step.passkey_asked && !step.has_passkey {
        return view! { <PasskeyFirst step next=onward policy /> }.into_any();
    }
    if step.passkey_asked {
        return view! {
            {passkey}
            <noscript><p class="hint">"Using a passkey needs JavaScript."</p></noscript>
        }
        .into_any();
    }
    if step.has_factor {
        view! {
            {passkey}
            <EnterCode next recovery_codes_left=step.recovery_codes_left with_app=step.has_app />
        }
        .into_any()
    } else {
        view! {
            <FirstApp enrollment=step.enrollment next=next.clone() policy />
            <PasskeyButton purpose="add_first_factor" label="Add a passkey instead, and continue" next=onward named=true secondary=true />
        }
        .into_any()
    }
}

/// A policy asks for a passkey and the person has none: they add one here — as their first
/// second factor, or, when they have others, once one of those is verified in this session
/// (the security page's rule).
#[component]
fn PasskeyFirst(step: StepUp, next: String, policy: Option<String>) -> impl IntoView {
    if !step.has_factor {
        return view! {
            <p>"You have no passkey here yet. Add one: your device asks for your fingerprint, face or PIN."</p>
            <PasskeyButton purpose="add_first_factor" label="Add a passkey and continue" next named=true />
        }
        .into_any();
    }
    match step.blocked {
        None => view! {
            <p>"You have no passkey here yet. Add one as another second factor: your device asks for your fingerprint, face or PIN."</p>
            <PasskeyButton purpose="add_factor" label="Add a passkey and continue" next named=true />
        }
        .into_any(),
        Some(ChangesBlocked::SignInAgain) => {
            let here = super::admin::encode(&passkey_step_up(&next, policy.as_deref()));
            view! {
                <p>"You have no passkey here yet. To add one, sign in again first: for your safety, the sign-in must be less than 10 minutes old."</p>
                <p><a href=format!("/signin?next={here}")>"Sign in again"</a></p>
            }
            .into_any()
        }
        Some(ChangesBlocked::VerifyFirst) => {
            // Back to this page once verified, where adding a passkey is then offered.
            let here = Some(passkey_step_up(&next, policy.as_deref()));
            view! {
                <p>"You have no passkey here yet. To add one, first verify the second factor you have; this page then offers to add a passkey."</p>
                <EnterCode next=here recovery_codes_left=step.recovery_codes_left with_app=step.has_app />
            }
            .into_any()
        }
    }
}

/// This page's address when a passkey is asked for, leading on to `next`.
fn passkey_step_up(next: &str, policy: Option<&str>) -> String {
    let mut path = format!(
        "/account/verify?next={}&need=passkey",
        super::admin::encode(next)
    );
    if let Some(policy) = policy {
        path.push_str(&format!("&policy={}", super::admin::encode(policy)));
    }
    path
}

/// A code from the person's app, or one of their recovery codes instead.
#[component]
fn EnterCode(
    next: Option<String>,
    recovery_codes_left: i64,
    /// Whether the person has an authenticator app (else only the recovery code is asked).
    #[prop(default = true)]
    with_app: bool,
) -> impl IntoView {
    let verify = ServerAction::<VerifyCode>::new();
    let recover = ServerAction::<VerifyRecoveryCode>::new();
    let verify_error = action_error(verify.value());
    let recover_error = action_error(recover.value());
    let recovering = recover_error.get_untracked().is_some() || !with_app;
    let next_again = next.clone();
    view! {
        {with_app.then(|| view! {
            <ActionForm action=verify>
                <FormError error=verify_error />
                {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                <Field label="Code from your authenticator app" name="code" autocomplete="one-time-code" required=true autofocus=!recovering hint="The 6 digits the app shows now." error=verify_error />
                <Submit label="Verify" busy_label="Checking…" pending=verify.pending() />
            </ActionForm>
        })}
        {(recovery_codes_left > 0).then(|| view! {
            <details class="recovery" open=recovering>
                <summary>"Use a recovery code instead"</summary>
                <ActionForm action=recover>
                    <FormError error=recover_error />
                    {next_again.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                    <Field label="Recovery code" name="recovery_code" required=true hint="One of the codes you kept when you set up your second factor, like abcde-12345. Each works once." error=recover_error />
                    <Submit label="Use this code" busy_label="Checking…" pending=recover.pending() class="secondary" />
                </ActionForm>
            </details>
        })}
    }
}

/// Setting up a first authenticator app, for someone a policy asks for one.
#[component]
fn FirstApp(
    enrollment: Option<TotpEnrollment>,
    next: Option<String>,
    policy: Option<String>,
) -> impl IntoView {
    let start = ServerAction::<StartStepUpAuthenticator>::new();
    let confirm = ServerAction::<ConfirmStepUpAuthenticator>::new();
    let start_error = action_error(start.value());
    let confirm_error = action_error(confirm.value());
    view! {
        <FormError error=start_error />
        {match enrollment {
            Some(enrollment) => view! {
                <ShowSecret enrollment />
                <ActionForm action=confirm attr:class="grid">
                    <FormError error=confirm_error />
                    {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                    {policy.map(|policy| view! { <input type="hidden" name="policy" value=policy /> })}
                    <FirstCode error=confirm_error />
                    <Submit label="Add the app and continue" busy_label="Checking…" pending=confirm.pending() />
                </ActionForm>
                <ActionForm action=start>
                    <button type="submit" class="link">"Start again with a new key"</button>
                </ActionForm>
            }.into_any(),
            None => view! {
                <p>"You have no second factor yet. Set up an authenticator app on your phone: it shows a new 6-digit code every 30 seconds."</p>
                <ActionForm action=start>
                    <Submit label="Set up an authenticator app" busy_label="One moment…" pending=start.pending() />
                </ActionForm>
            }.into_any(),
        }}
    }
}
