//! `/account`: everyone's own page, members and guests alike: how they sign in (a member
//! changes their password with the current one; a Portico account manages its passkeys
//! and password), a link to their second factors (`/account/security`) and where they are
//! signed in (each session, which they may sign out).

use leptos::prelude::*;
use leptos_meta::Title;
use types::{AccountOverview, MyAccount, MySession, WayIn};

use super::passkey::PasskeyButton;
use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** anyone signed in, for themselves.
#[leptos::server(prefix = "/fn", endpoint = "account")]
pub async fn account_page() -> Result<MyAccount, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    Ok(domain::self_service::overview(
        &portal.store,
        &portal.policy,
        &signed_in,
        &token,
        crate::server::now(),
    )
    .await?)
}

/// A member changes their own password; their other sessions end.
///
/// **Permissions:** a member, for their own password, with the current one.
#[leptos::server(prefix = "/fn", endpoint = "account/change-password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    domain::self_service::change_password(
        &portal.store,
        &portal.policy,
        &signed_in,
        &token,
        &current_password,
        &new_password,
        &crate::server::client(),
        crate::server::now(),
    )
    .await?;
    crate::server::flash(
        "Password changed. You stay signed in here; everywhere else you were signed out.",
        None,
    )
    .await;
    Ok(())
}

/// Signs out one of the person's other sessions.
///
/// **Permissions:** anyone signed in, for their own sessions.
#[leptos::server(prefix = "/fn", endpoint = "account/sessions/end")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    domain::self_service::end_session(
        &portal.store,
        &portal.policy,
        &signed_in,
        &token,
        &id,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("That session is signed out.", None).await;
    Ok(())
}

/// Signs out every other session of the person.
///
/// **Permissions:** anyone signed in, for their own sessions.
#[leptos::server(prefix = "/fn", endpoint = "account/sessions/end-others")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    let token = crate::server::session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    let ended = domain::self_service::end_other_sessions(
        &portal.store,
        &signed_in,
        &token,
        crate::server::now(),
    )
    .await?;
    let done = match ended {
        1 => "1 other session is signed out.".to_string(),
        n => format!("{n} other sessions are signed out."),
    };
    crate::server::flash(done, None).await;
    Ok(())
}

/// **Permissions:** the account's holder, signed in with it less than 15 minutes ago.
#[leptos::server(prefix = "/fn", endpoint = "account/password")]
pub async fn set_account_password(password: String) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    domain::accounts::set_password(
        &portal.store,
        &signed_in,
        &crate::server::session_token(&portal).unwrap_or_default(),
        &password,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Password saved.", None).await;
    Ok(())
}

/// **Permissions:** the account's holder, signed in with it less than 15 minutes ago.
#[leptos::server(prefix = "/fn", endpoint = "account/passkey/remove")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    Ok(domain::accounts::remove_passkey(
        &portal.store,
        &signed_in,
        &crate::server::session_token(&portal).unwrap_or_default(),
        &id,
        crate::server::now(),
    )
    .await?)
}

#[component]
pub fn Account() -> impl IntoView {
    let overview = Resource::new(|| (), |_| account_page());
    view! {
        <Title text="Your account · Portico" />
        <h1>"Your account"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(account) => {
                        let MyAccount { display_name, email, way_in, sessions } = account;
                        view! {
                            <p>{format!("{display_name} · {email}")}</p>
                            {match way_in {
                                WayIn::Member { organization, has_password } => {
                                    view! { <MemberPassword email=email.clone() organization has_password /> }.into_any()
                                }
                                WayIn::Account(account) => view! { <PorticoAccount account /> }.into_any(),
                                WayIn::MailedCode => view! {
                                    <section class="card" aria-labelledby="way-in">
                                        <h2 id="way-in">"How you sign in"</h2>
                                        <p>{format!("With a code mailed to {email} each time: there is no password to manage here.")}</p>
                                    </section>
                                }.into_any(),
                                WayIn::Provider => view! {
                                    <section class="card" aria-labelledby="way-in">
                                        <h2 id="way-in">"How you sign in"</h2>
                                        <p>"With your own organization's account: change its password where your organization manages it."</p>
                                    </section>
                                }.into_any(),
                            }}
                            <section class="card" aria-labelledby="security">
                                <h2 id="security">"Second factors"</h2>
                                <p>"An authenticator app adds a second step to your sign-in when your organization asks for one. Recovery codes stand in for it when it is not at hand."</p>
                                <p><a href="/account/security">"Manage second factors and recovery codes"</a></p>
                            </section>
                            <Sessions sessions />
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A member's password: changed with the current one.
#[component]
fn MemberPassword(email: String, organization: String, has_password: bool) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = action_error(change.value());
    view! {
        <section class="card" aria-labelledby="password">
            <h2 id="password">"Change your password"</h2>
            {if has_password {
                view! {
                    <p class="muted">{format!("Your password at {organization}. After the change, you are signed out everywhere but here.")}</p>
                    <ActionForm action=change attr:class="grid">
                        <FormError error />
                        <input type="email" name="username" value=email autocomplete="username" hidden=true readonly=true />
                        <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" required=true error />
                        <Field label="New password" name="new_password" kind="password" autocomplete="new-password" required=true hint="At least 8 characters; not a common password, not your email address." error />
                        <Submit label="Change password" busy_label="Changing…" pending=change.pending() />
                    </ActionForm>
                }.into_any()
            } else {
                view! { <p>{format!("You have no password yet: an administrator of {organization} sets the first one.")}</p> }.into_any()
            }}
        </section>
    }
}

/// A Portico account's passkeys and password.
#[component]
fn PorticoAccount(account: AccountOverview) -> impl IntoView {
    let password = ServerAction::<SetAccountPassword>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let password_error = action_error(password.value());
    let remove_error = action_error(remove.value());
    view! {
        <p>{format!("You sign in with your Portico account, {}. If you lose every way below, a code mailed to this address gets you back in.", account.email)}</p>
        <section class="card" aria-labelledby="passkeys">
            <h2 id="passkeys">"Passkeys"</h2>
            <FormError error=remove_error />
            {if account.passkeys.is_empty() {
                view! { <p class="empty">"No passkeys yet."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr><th scope="col">"Added"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {account.passkeys.into_iter().enumerate().map(|(i, p)| view! {
                                <tr>
                                    <td>{types::format::datetime(p.created_at)}</td>
                                    <td>{p.last_used_at.map(types::format::datetime).unwrap_or_else(|| "never".into())}</td>
                                    <td>
                                        <ActionForm action=remove>
                                            <input type="hidden" name="id" value=p.id />
                                            <button type="submit" class="secondary" aria-label=format!("Remove passkey {}", i + 1)>"Remove"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <PasskeyButton purpose="add" label="Add a passkey" />
        </section>
        <section class="card" aria-labelledby="password">
            <h2 id="password">{if account.has_password { "Change your password" } else { "Set a password" }}</h2>
            <ActionForm action=password attr:class="grid">
                <FormError error=password_error />
                <input type="email" name="username" value=account.email.clone() autocomplete="username" hidden=true readonly=true />
                <Field label="New password" name="password" kind="password" autocomplete="new-password" required=true hint="At least 8 characters; not a common password." error=password_error />
                <Submit label="Save password" busy_label="Saving…" pending=password.pending() />
            </ActionForm>
        </section>
    }
}

/// Where the person is signed in, with a way to sign out each other session or all of them.
#[component]
fn Sessions(sessions: Vec<MySession>) -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let end_error = action_error(end.value());
    let others_error = action_error(end_others.value());
    let others = sessions.iter().filter(|s| !s.current).count();
    view! {
        <section class="card" aria-labelledby="sessions">
            <h2 id="sessions">"Where you are signed in"</h2>
            <FormError error=end_error />
            <FormError error=others_error />
            <ul class="rows sessions">
                {sessions.into_iter().map(|s| {
                    let browser = describe_browser(s.user_agent.as_deref());
                    let signed_in = types::format::datetime(s.signed_in_at);
                    let label = format!("Sign out {browser}, signed in {signed_in}");
                    view! {
                        <li>
                            <strong>{browser.clone()}</strong>
                            {s.current.then(|| view! { <span class="badge">"This browser"</span> })}
                            <span class="muted">{format!(
                                "Signed in {signed_in} from {} · last active {} · in {}",
                                s.ip.as_deref().unwrap_or("an unknown address"),
                                types::format::datetime(s.last_seen_at),
                                s.organization
                            )}</span>
                            {(!s.current).then(|| view! {
                                <ActionForm action=end>
                                    <input type="hidden" name="id" value=s.id />
                                    <button type="submit" class="secondary" aria-label=label>"Sign out"</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(others > 0).then(|| view! {
                <ActionForm action=end_others>
                    <Submit label="Sign out everywhere else" busy_label="Signing out…" pending=end_others.pending() class="secondary" />
                </ActionForm>
            })}
        </section>
    }
}

/// "Firefox on Windows", from what a browser says of itself; "A browser" when it says
/// nothing we know.
fn describe_browser(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "A browser".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_browser;

    #[test]
    fn a_browser_is_named_by_what_it_says_of_itself() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(describe_browser(Some(chrome)), "Chrome on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        assert_eq!(describe_browser(Some(edge)), "Edge on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_browser(Some(iphone)), "Safari on iOS");
        assert_eq!(describe_browser(Some("curl/8.5.0")), "A browser");
        assert_eq!(describe_browser(None), "A browser");
    }
}
