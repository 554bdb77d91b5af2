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
/// account) or `sign_in` (with `email`, and `next`).
#[leptos::server(prefix = "/fn", endpoint = "passkey/begin")]
pub async fn begin_passkey(
    purpose: String,
    email: Option<String>,
    next: Option<String>,
) -> Result<PasskeyBegun, AppError> {
    use crate::server::{client, now, portal};
    use domain::passkeys;
    let portal = portal()?;
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
            let next = next.as_deref().and_then(super::local_path);
            passkeys::begin_sign_in(
                &portal.store,
                &portal.passkeys,
                &portal.policy,
                email.as_deref().unwrap_or_default(),
                &client(),
                next,
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
    let previous = session_token(&portal);
    let signed_in = crate::server::current_principal().await?;
    let finish = Finish {
        signed_in: signed_in.as_ref(),
        ceremony: &ceremony,
        credential: &credential,
        redemption_cookie: redemption.as_deref(),
        previous_session: previous.as_deref(),
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
    })
}

/// A passkey button, hidden until `passkey.js` finds the browser can use passkeys, with a
/// live status line for progress and problems.
#[component]
pub fn PasskeyButton(
    purpose: &'static str,
    label: &'static str,
    #[prop(optional, into)] email: String,
    /// Where to go after signing in; empty for the panel.
    #[prop(optional, into)]
    next: String,
) -> impl IntoView {
    let status = format!("passkey-status-{purpose}");
    view! {
        <div class="passkey" hidden=true data-passkey-box="">
            <button
                type="button"
                class="primary"
                data-passkey=purpose
                data-email=email
                data-next=next
                data-status=status.clone()
            >
                {label}
            </button>
            <p class="hint" role="status" aria-live="polite" id=status></p>
        </div>
    }
}
