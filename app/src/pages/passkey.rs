//! Passkeys in the browser. WebAuthn is JavaScript only: `public/passkey.js` shows the
//! passkey buttons where the browser has passkeys, runs the ceremony between these two
//! server functions and the browser's authenticator, and goes where the server says.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A ceremony begun: what the browser hands to WebAuthn, and the token to finish it with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasskeyBegun {
    pub ceremony: String,
    /// WebAuthn options, JSON.
    pub options: String,
}

/// Begins a passkey ceremony: `register` (an invited person's new account), `redeem` (an
/// invited person's existing account), `add` (another passkey for the signed-in person's
/// account), `sign_in` (with `email`, and `next`), `add_factor` (a passkey as the
/// signed-in person's second factor, called `name`, then `next` or the security page),
/// `add_first_factor` (the same as their first, at the step-up page, then `next`) or
/// `verify_factor` (their passkey factor at the step-up page, then `next`).
///
/// **Permissions:** `register` and `redeem`, the browser redeeming; `add`, the account's
/// holder; the factors' purposes, anyone signed in, for themselves (the domain checks the
/// second factors' rules); `sign_in`, anyone (throttled).
#[leptos::server(prefix = "/fn", endpoint = "passkey/begin")]
pub async fn begin_passkey(
    purpose: String,
    email: Option<String>,
    next: Option<String>,
    name: Option<String>,
) -> Result<PasskeyBegun, AppError> {
    use crate::server::{client, now, portal};
    use domain::passkeys;
    use domain::second_factors::Purpose as Where;
    let portal = portal()?;
    let next_path = next.as_deref().and_then(super::local_path);
    let redemption = || super::redeem::redeeming().map(|(_, token)| token);
    let begun = match purpose.as_str() {
        "register" => {
            passkeys::begin_registration(&portal.store, &portal.passkeys, &redemption()?, now())
                .await?
        }
        "redeem" => {
            passkeys::begin_redemption(&portal.store, &portal.passkeys, &redemption()?, now())
                .await?
        }
        "add" => {
            let (_, signed_in) = crate::server::signed_in().await?;
            passkeys::begin_adding(&portal.store, &portal.passkeys, &signed_in, now()).await?
        }
        "sign_in" => {
            passkeys::begin_sign_in(
                &portal.store,
                &portal.passkeys,
                &portal.policy,
                email.as_deref().unwrap_or_default(),
                &client(),
                next_path,
                now(),
            )
            .await?
        }
        "add_factor" | "add_first_factor" => {
            let (_, signed_in) = crate::server::signed_in().await?;
            let session =
                crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
            let place = match purpose.as_str() {
                "add_factor" => Where::Settings,
                _ => Where::StepUp,
            };
            domain::passkey_factors::begin_adding(
                &portal.store,
                &portal.passkeys,
                &signed_in,
                &session,
                place,
                name.as_deref().unwrap_or_default(),
                next_path,
                now(),
            )
            .await?
        }
        "verify_factor" => {
            let (_, signed_in) = crate::server::signed_in().await?;
            let session =
                crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
            domain::passkey_factors::begin_verifying(
                &portal.store,
                &portal.passkeys,
                &signed_in,
                &session,
                next_path,
                now(),
            )
            .await?
        }
        _ => return Err(AppError::Refused("Unknown passkey request.".into())),
    };
    Ok(PasskeyBegun {
        ceremony: begun.ceremony,
        options: begun.options,
    })
}

/// Finishes a ceremony with the browser's credential (JSON); answers where to go next.
#[leptos::server(prefix = "/fn", endpoint = "passkey/finish")]
pub async fn finish_passkey(ceremony: String, credential: String) -> Result<String, AppError> {
    use crate::server::{Cookie, client, cookie, now, portal, session_token, set_session_cookie};
    use domain::passkeys::{Finish, Finished};
    let portal = portal()?;
    let redemption = cookie(&portal, Cookie::Redemption);
    let session = session_token(&portal);
    let signed_in = crate::server::current_principal().await?;
    let finish = Finish {
        signed_in: signed_in.as_ref(),
        ceremony: &ceremony,
        credential: &credential,
        redemption_cookie: redemption.as_deref(),
        session: session.as_deref(),
    };
    let finished = domain::passkeys::finish(
        &portal.store,
        &portal.passkeys,
        &portal.policy,
        &finish,
        &client(),
        now(),
    )
    .await?;
    Ok(match finished {
        Finished::Redemption => "/redeem/consent".to_string(),
        Finished::Added => "/account".to_string(),
        Finished::SignedIn { session, next } => {
            set_session_cookie(&portal, &session.token, session.expires_at - now());
            next.unwrap_or_else(|| "/".to_string())
        }
        Finished::FactorAdded {
            recovery_codes,
            next,
        } => {
            let codes = recovery_codes.unwrap_or_default();
            super::security::flash_added("Passkey added.", &codes).await;
            match next {
                // At the step-up page: its recovery codes there once, then on.
                Some(next) if !codes.is_empty() => super::security::verify_path(&next, None),
                Some(next) => next,
                None => "/account/security".to_string(),
            }
        }
        Finished::FactorVerified { next } => next.unwrap_or_else(|| "/".to_string()),
    })
}

/// A passkey button, hidden until `passkey.js` finds the browser can use passkeys, with a
/// live status line for progress and problems; with `named`, a field before it names the
/// new passkey (hidden with it).
#[component]
pub fn PasskeyButton(
    purpose: &'static str,
    label: &'static str,
    #[prop(optional, into)] email: String,
    /// Where to go after signing in; empty for the panel.
    #[prop(optional, into)]
    next: String,
    /// Whether a field names the new passkey (a second factor's).
    #[prop(optional)]
    named: bool,
    #[prop(optional)] secondary: bool,
) -> impl IntoView {
    let status = format!("passkey-status-{purpose}");
    let name_field = format!("passkey-name-{purpose}");
    view! {
        <div class="passkey" hidden=true data-passkey-box="">
            {named.then(|| view! {
                <div class="field">
                    <label for=name_field.clone()>"Name for the passkey (optional)"</label>
                    <input type="text" id=name_field.clone() maxlength="64" aria-describedby=format!("{name_field}-hint") />
                    <p class="hint" id=format!("{name_field}-hint")>"So you can tell your passkeys apart, e.g. “Laptop”."</p>
                </div>
            })}
            <button
                type="button"
                class=if secondary { "secondary" } else { "primary" }
                data-passkey=purpose
                data-email=email
                data-next=next
                data-name-field=named.then_some(name_field.clone())
                data-status=status.clone()
            >
                {label}
            </button>
            <p class="hint" role="status" aria-live="polite" id=status></p>
        </div>
    }
}
