//! Pieces every form and page uses: labelled fields with their errors (and, after the
//! server refused a form, what was typed into it), error banners that take the focus,
//! submit buttons that show progress, a question before a destructive action, and what a
//! failed load shows.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::error::AppError;

/// What was typed into a form the server refused (secrets left out), given to the page it
/// returns to; see `provide_rejected_form`.
#[derive(Clone, Debug, Default)]
pub struct Typed(Vec<(String, String)>);

impl Typed {
    /// The value typed into the field `name`, if it was posted.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
    }
}

/// What was typed into the form whose errors `error` carries, when the server refused it
/// and sent the browser back to this page; `None` for every other form.
pub fn typed(error: Signal<Option<AppError>>) -> Option<Typed> {
    error
        .get_untracked()
        .is_some()
        .then(use_context::<Typed>)
        .flatten()
}

/// Gives the page the form its last post left refused (see `server::TakenFlash`): the error
/// for the `ServerAction` of that form, as Leptos would read it from the address, and what
/// was typed. The server keeps both in a flash instead of the address, where errors piled
/// up and the values were lost.
pub fn provide_rejected_form() {
    #[cfg(feature = "ssr")]
    if let Some(rejected) = crate::server::take_flash().and_then(|flash| flash.rejected) {
        provide_context(leptos::server::ServerActionError::new(
            &rejected.action,
            &rejected.error,
        ));
        provide_context(Typed(rejected.values));
    }
}

/// A labelled input; shows the server's message for this field under it, tied to the
/// input with `aria-describedby` so screen readers read it. After the server refused its
/// form, it holds what was typed again (never a password).
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(optional)] required: bool,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    /// The first field of a step whose page is only that form takes the focus on load.
    #[prop(optional)]
    autofocus: bool,
    /// Defaults to `field-{name}`; set it when one page has two fields of one name.
    #[prop(optional, into)]
    id: Option<String>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let value = match typed(error) {
        Some(typed) if kind != "password" => typed.get(name).unwrap_or(value),
        _ => value,
    };
    let message_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().and_then(|e| e.field(name));
    let described = {
        let message_id = message_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if !hint.is_empty() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(message_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=value
                required=required
                autocomplete=autocomplete
                autofocus=autofocus
                aria-invalid=move || message().is_some().then_some("true")
                aria-describedby=described
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {move || message().map(|m| view! { <p class="field-error" id=message_id.clone()>{m}</p> })}
        </div>
    }
}

/// The error of a form: what went wrong, or that fields below are marked. It takes the
/// focus when the page opens with it, so that keyboard and screen-reader users start there.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <p class="banner error" role="alert" tabindex="-1" autofocus=true>
                    {e.to_string()}
                </p>
            }
        })
    }
}

/// Asks before a destructive action, without JavaScript: the button opens a disclosure that
/// says what will happen, and the form inside it (`children`) does it.
#[component]
pub fn Confirm(
    /// The disclosure's visible words, e.g. "Revoke"; an ellipsis follows.
    #[prop(into)]
    ask: String,
    /// Words screen readers hear after `ask`, saying what it acts on where the row around it
    /// shows that to the eye, e.g. "the invitation of ann@partner.example".
    #[prop(optional, into)]
    about: String,
    /// What will happen, in words for the person deciding.
    #[prop(into)]
    consequence: String,
    children: Children,
) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary>
                {ask}
                {(!about.is_empty()).then(|| view! { <span class="visually-hidden">{format!(" {about}")}</span> })}
                "…"
            </summary>
            <p>{consequence}</p>
            {children()}
        </details>
    }
}

/// A submit button that says it is working while the request runs.
#[component]
pub fn Submit(
    #[prop(into)] label: String,
    busy_label: &'static str,
    #[prop(into)] pending: Signal<bool>,
    #[prop(default = "primary")] class: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class=class disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            {move || if pending.get() { busy_label.to_string() } else { label.clone() }}
        </button>
    }
}

/// Sends someone signed out to sign in (on the server: a redirect, nothing of the page),
/// and back to this page after (their apps, where a sign-in ends anyway, need no address).
#[component]
pub fn SignInFirst() -> impl IntoView {
    let here = here();
    let path = if here == "/" {
        "/signin".to_string()
    } else {
        format!("/signin?next={}", crate::pages::admin::encode(&here))
    };
    view! { <Redirect path /> }
}

/// This page's address, with its query.
fn here() -> String {
    let location = use_location();
    match location.search.get_untracked() {
        query if query.is_empty() => location.pathname.get_untracked(),
        query => format!("{}?{query}", location.pathname.get_untracked()),
    }
}

/// What a page shows when loading its data failed: sign-in for the signed out, a page
/// answered with 403 for those it is not for, a plain message for everything else.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    match error {
        AppError::NotAuthenticated => view! { <SignInFirst /> }.into_any(),
        // What a policy asks first (a second factor, accepted terms of use, a fresh
        // sign-in), and back to this page after.
        AppError::SecondFactor(policy) => {
            let path = types::paths::step_up(&here(), &policy, false);
            view! { <Redirect path /> }.into_any()
        }
        AppError::Passkey(policy) => {
            let path = types::paths::step_up(&here(), &policy, true);
            view! { <Redirect path /> }.into_any()
        }
        AppError::TermsOfUse { policy, terms } => {
            let path = types::paths::accept_terms(&terms, &here(), &policy);
            view! { <Redirect path /> }.into_any()
        }
        AppError::SignInAgain(_) => {
            let path = format!("/signin?next={}", types::paths::encode(&here()));
            view! { <Redirect path /> }.into_any()
        }
        AppError::AccessDenied => {
            #[cfg(feature = "ssr")]
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::FORBIDDEN);
            }
            view! {
                <section class="card narrow">
                    <h1>"This page is not open to you"</h1>
                    <p>"It is for people with a role, an ownership or a task here that your account does not have. If your work needs it, ask an administrator of your organization."</p>
                    <p><a href="/">"Back to my apps"</a></p>
                </section>
            }
            .into_any()
        }
        other => view! {
            <p class="banner error" role="alert">{other.to_string()}</p>
        }
        .into_any(),
    }
}

/// The error of a finished action, as a signal.
pub fn action_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// The flash the last form left for this page (see `server::flash`).
#[component]
pub fn FlashMessage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let flash = crate::server::take_flash();
    #[cfg(not(feature = "ssr"))]
    let flash: Option<types::Flash> = None;
    flash
        .filter(|flash| !flash.message.is_empty())
        .map(|flash| {
            view! {
                <div class="banner ok" role="status">
                    <p>{flash.message}</p>
                    {flash.copy.map(|(label, value)| view! {
                        <p>{format!("{label} (shown only now):")}</p>
                        <input class="copy" readonly=true value=value aria-label=label />
                    })}
                </div>
            }
        })
}
