//! The portal's pages: plain HTML forms rendered on the server, usable without JavaScript.
//! Partners use `/`; approvers sign in through Portico and use `/requests` and `/history`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthorizationCode, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, Scope, TokenResponse,
};
use serde::Deserialize;

use crate::graph::Graph;
use crate::mail::{self, Mailer};
use crate::rules::{self, Fill, Grant, Rules};
use crate::store::{Decision, NewRequest, Request, Session, Store};

pub type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// An approver's sign-in on its way to Portico and back.
pub struct Login {
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started: Instant,
    /// The portal page to go back to.
    next: String,
}

pub struct Inner {
    pub organization: String,
    pub public_url: String,
    pub invite_redirect: String,
    pub terms_url: Option<String>,
    pub rules: Rules,
    /// Group names (or ids) in the rules → ids in Portico.
    pub group_ids: HashMap<String, String>,
    /// The approvers group's id.
    pub approvers: String,
    pub graph: Graph,
    pub store: Store,
    pub mailer: Mailer,
    pub oidc: Client,
    /// Follows no redirects: the portal only talks to the addresses it knows.
    pub http: reqwest::Client,
    pub logins: Mutex<HashMap<String, Login>>,
    /// One decision at a time, so that two approvers never invite the same partner twice.
    pub deciding: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
pub struct App(pub Arc<Inner>);

const SESSION_COOKIE: &str = "portal_session";
const SESSION_SECONDS: i64 = 8 * 3600;

pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(form).post(submit))
        .route("/sent", get(sent))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", post(logout))
        .route("/requests", get(queue))
        .route("/requests/approve", post(bulk_approve))
        .route("/requests/{id}", get(review).post(decide))
        .route("/history", get(history))
        .layer(axum::middleware::map_response(protect))
        .with_state(app)
}

/// Every page: no scripts, no framing (a hidden approve button), no sniffing.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

// ---------------------------------------------------------------------------------------
// Pages

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;line-height:1.5;color:#1b1b1b}\
header{background:#0b3d91;color:#fff;padding:.75rem 1rem}header a,header button{color:#fff}\
header nav{display:flex;gap:1rem;flex-wrap:wrap;align-items:center}\
main{max-width:48rem;margin:0 auto;padding:1rem}\
label,legend{display:block;font-weight:600;margin-top:1rem}\
input[type=text],input[type=email],textarea{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:2px solid #555;border-radius:4px}\
input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b00020}\
.checkbox{display:flex;gap:.5rem;align-items:flex-start;margin-top:1rem}.checkbox label{margin:0;font-weight:400}\
.checkbox input{width:1.5rem;height:1.5rem;margin:0}\
.error{color:#b00020;font-weight:600;margin:.25rem 0}\
.summary{border:3px solid #b00020;padding:.5rem 1rem;margin:1rem 0}\
.status{border:3px solid #0b6e2d;padding:.5rem 1rem;margin:1rem 0}\
button{font:inherit;padding:.5rem 1rem;margin-top:1rem;border-radius:4px;border:2px solid #0b3d91;background:#0b3d91;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#b00020;border-color:#b00020}\
header button{background:none;border:1px solid #fff;margin:0;padding:.25rem .75rem}\
.hint{color:#555;margin:.25rem 0}\
.table{overflow-x:auto}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;vertical-align:top;padding:.5rem;border-bottom:1px solid #ccc}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}\
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}@media (max-width:30rem){dl{grid-template-columns:1fr}}";

/// A whole page; `who` is the approver signed in, if any.
fn page(app: &App, title: &str, who: Option<&Session>, body: &str) -> Html<String> {
    let nav = match who {
        Some(who) => format!(
            "<nav aria-label=\"Approvers\"><a href=\"/requests\">Requests</a><a href=\"/history\">History</a>\
             <span>{}</span><form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form></nav>",
            escape(&who.name),
            escape(&who.csrf)
        ),
        None => String::new(),
    };
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {org}</title><style>{STYLE}</style></head>\
         <body><header><p><strong>{org}</strong> partner access</p>{nav}</header>\
         <main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
        org = escape(&app.0.organization),
    ))
}

fn message(app: &App, status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        page(app, title, None, &format!("<p>{}</p>", escape(text))),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// The partner's request

#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    reason: String,
    terms: Option<String>,
}

/// The form's problems: (field, words).
type Problems = Vec<(&'static str, String)>;

fn text_field(
    problems: &mut Problems,
    field: &'static str,
    label: &str,
    value: &str,
    limit: usize,
) {
    let length = value.chars().count();
    if value.is_empty() {
        problems.push((field, format!("Enter {label}.")));
    } else if length > limit {
        problems.push((
            field,
            format!(
                "{} must be {limit} characters or fewer; it has {length}.",
                capitalised(label)
            ),
        ));
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        problems.push((
            field,
            format!(
                "{} has characters that cannot be shown.",
                capitalised(label)
            ),
        ));
    }
}

fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A mail address as Portico takes it: one @, a plain local part, a domain name.
fn check_email(email: &str) -> Result<(), String> {
    let example = "Enter an email address like name@company.com.";
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(example.into());
    };
    let bad_local = local.is_empty()
        || local.contains('@')
        || local.starts_with('.')
        || local.ends_with('.')
        || local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let bad_domain = labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if bad_local || bad_domain || email.len() > rules::EMAIL_LIMIT {
        return Err(example.into());
    }
    Ok(())
}

impl RequestForm {
    /// The values as they will be kept (trimmed, the address in lower case), and what is
    /// wrong with them.
    fn checked(&self) -> (RequestForm, Problems) {
        let clean = RequestForm {
            name: self.name.trim().to_string(),
            email: self.email.trim().to_lowercase(),
            company: self.company.trim().to_string(),
            reason: self.reason.trim().to_string(),
            terms: self.terms.clone(),
        };
        let mut problems = Problems::new();
        text_field(
            &mut problems,
            "name",
            "your name",
            &clean.name,
            rules::NAME_LIMIT,
        );
        if clean.email.is_empty() {
            problems.push(("email", "Enter your work email address.".into()));
        } else if let Err(why) = check_email(&clean.email) {
            problems.push(("email", why));
        }
        text_field(
            &mut problems,
            "company",
            "your company",
            &clean.company,
            rules::COMPANY_LIMIT,
        );
        text_field(
            &mut problems,
            "reason",
            "why you need access",
            &clean.reason,
            1000,
        );
        if clean.terms.is_none() {
            problems.push((
                "terms",
                "Accept the terms of use to send your request.".into(),
            ));
        }
        (clean, problems)
    }
}

/// The request form, with what was typed and what is wrong with it.
fn form_page(app: &App, values: &RequestForm, problems: &Problems) -> Html<String> {
    let error_of = |field: &str| {
        problems
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, why)| why.as_str())
    };
    // The email field's hint describes it too.
    let attributes = |field: &str| {
        let hint = (field == "email").then_some("email-hint");
        let error = error_of(field).map(|_| format!("{field}-error"));
        let described: Vec<&str> = hint.into_iter().chain(error.as_deref()).collect();
        let mut out = String::new();
        if error.is_some() {
            out.push_str(" aria-invalid=\"true\"");
        }
        if !described.is_empty() {
            out.push_str(&format!(" aria-describedby=\"{}\"", described.join(" ")));
        }
        out
    };
    let error = |field: &str| match error_of(field) {
        Some(why) => format!(
            "<p class=\"error\" id=\"{field}-error\"><span class=\"visually-hidden\">Error: </span>{}</p>",
            escape(why)
        ),
        None => String::new(),
    };
    let summary = if problems.is_empty() {
        String::new()
    } else {
        format!(
            "<div class=\"summary\" role=\"alert\"><h2>There is a problem</h2><ul>{}</ul></div>",
            problems
                .iter()
                .map(|(field, why)| format!("<li><a href=\"#{field}\">{}</a></li>", escape(why)))
                .collect::<String>()
        )
    };
    let org = escape(&app.0.organization);
    let terms = match &app.0.terms_url {
        Some(url) => format!("<a href=\"{}\">terms of use</a>", escape(url)),
        None => "terms of use".into(),
    };
    let body = format!(
        "<p>Work with {org}: ask for guest access. Someone at {org} reviews each request; \
         partners of some companies are approved at once. You will get the answer by mail.</p>\
         {summary}\
         <form method=\"post\" action=\"/\" novalidate>\
         <label for=\"name\">Your name</label>{name_error}\
         <input type=\"text\" id=\"name\" name=\"name\" autocomplete=\"name\" maxlength=\"100\" value=\"{name}\"{name_attr}>\
         <label for=\"email\">Work email address</label>\
         <p class=\"hint\" id=\"email-hint\">The invitation is sent here.</p>{email_error}\
         <input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"email\" spellcheck=\"false\" value=\"{email}\"{email_attr}>\
         <label for=\"company\">Company</label>{company_error}\
         <input type=\"text\" id=\"company\" name=\"company\" autocomplete=\"organization\" maxlength=\"100\" value=\"{company}\"{company_attr}>\
         <label for=\"reason\">Why do you need access?</label>{reason_error}\
         <textarea id=\"reason\" name=\"reason\" rows=\"4\" maxlength=\"1000\"{reason_attr}>{reason}</textarea>\
         {terms_error}<div class=\"checkbox\">\
         <input type=\"checkbox\" id=\"terms\" name=\"terms\" value=\"yes\"{checked}{terms_attr}>\
         <label for=\"terms\">I accept the {terms} for guests of {org}</label></div>\
         <button type=\"submit\">Send request</button></form>",
        name = escape(&values.name),
        email = escape(&values.email),
        company = escape(&values.company),
        reason = escape(&values.reason),
        checked = if values.terms.is_some() {
            " checked"
        } else {
            ""
        },
        name_error = error("name"),
        email_error = error("email"),
        company_error = error("company"),
        reason_error = error("reason"),
        terms_error = error("terms"),
        name_attr = attributes("name"),
        email_attr = attributes("email"),
        company_attr = attributes("company"),
        reason_attr = attributes("reason"),
        terms_attr = attributes("terms"),
    );
    let title = if problems.is_empty() {
        "Ask for access"
    } else {
        "Error: ask for access"
    };
    page(app, title, None, &body)
}

/// `GET /`
async fn form(State(app): State<App>) -> Html<String> {
    form_page(&app, &RequestForm::default(), &Vec::new())
}

/// `POST /`: files the request; a domain rule invites at once, otherwise it waits.
async fn submit(State(app): State<App>, Form(input): Form<RequestForm>) -> Response {
    let (values, mut problems) = input.checked();
    if !problems.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(&app, &values, &problems),
        )
            .into_response();
    }
    let rule = app.0.rules.for_email(&values.email);
    let new = NewRequest {
        name: &values.name,
        email: &values.email,
        company: &values.company,
        reason: &values.reason,
    };
    let id = match app.0.store.add(&new, rule.map(|r| r.domain.as_str())).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            problems.push((
                "email",
                "A request from this address is already waiting for review: you will hear by mail."
                    .into(),
            ));
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&app, &values, &problems),
            )
                .into_response();
        }
        Err(e) => return failure(&app, &e.to_string()),
    };
    if let Some(rule) = rule {
        let _one = app.0.deciding.lock().await;
        let request = match app.0.store.get(id).await {
            Ok(Some(request)) => request,
            Ok(None) => return failure(&app, "the request vanished"),
            Err(e) => return failure(&app, &e.to_string()),
        };
        if approve(&app, &request, &rule.grant, None, "").await.is_ok() {
            return Redirect::to("/sent?invited=1").into_response();
        }
        // Portico refused: the request waits for an approver, who sees why.
    }
    let (subject, text) = mail::queued(&app.0.organization, &values.name);
    if let Err(e) = app.0.mailer.send(&values.email, &subject, text).await {
        eprintln!("signup-portal: could not mail {}: {e}", values.email);
    }
    Redirect::to("/sent").into_response()
}

#[derive(Deserialize)]
struct SentQuery {
    invited: Option<String>,
}

/// `GET /sent`: what happens next.
async fn sent(State(app): State<App>, Query(query): Query<SentQuery>) -> Html<String> {
    let org = escape(&app.0.organization);
    if query.invited.is_some() {
        page(
            &app,
            "Check your mail",
            None,
            &format!(
                "<p role=\"status\">Your company is approved already: an invitation from {org} is on its way to you. \
                 Open the link in it to accept.</p>"
            ),
        )
    } else {
        page(
            &app,
            "Request sent",
            None,
            &format!(
                "<p role=\"status\">Thank you. Someone at {org} will review your request; you will hear by mail.</p>"
            ),
        )
    }
}

fn failure(app: &App, detail: &str) -> Response {
    eprintln!("signup-portal: {detail}");
    message(
        app,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The portal could not save that. Try again in a moment.",
    )
}

// ---------------------------------------------------------------------------------------
// Deciding

/// Invites the requester and adds them to the grant's groups, then records the approval
/// (by `by`, or by the domain rule). If Portico refuses the invitation the request keeps
/// waiting, with the reason noted. Problems adding groups are noted on the approval.
async fn approve(
    app: &App,
    request: &Request,
    grant: &Grant,
    by: Option<&Session>,
    comment: &str,
) -> Result<Option<String>, String> {
    let fill = Fill {
        name: &request.name,
        email: &request.email,
        company: &request.company,
        organization: &app.0.organization,
    };
    let text = rules::render(&grant.message, &fill)?;
    let invited = match app
        .0
        .graph
        .invite(&request.email, &request.name, &app.0.invite_redirect, &text)
        .await
    {
        Ok(invited) => invited,
        Err(e) => {
            let why = format!("Portico did not invite {}: {e}", request.email);
            let _ = app.0.store.note_problem(request.id, &why).await;
            return Err(why);
        }
    };
    let mut problems = Vec::new();
    for group in &grant.groups {
        let Some(id) = app.0.group_ids.get(group) else {
            problems.push(format!("no group {group}"));
            continue;
        };
        if let Err(e) = app.0.graph.add_member(id, &invited.user_id).await {
            problems.push(format!("not added to {group}: {e}"));
        }
    }
    let problem = (!problems.is_empty()).then(|| problems.join("; "));
    app.0
        .store
        .decide(
            request.id,
            &Decision {
                status: if by.is_some() {
                    "approved"
                } else {
                    "auto_approved"
                },
                by_name: by.map(|s| s.name.as_str()),
                by_email: by.map(|s| s.email.as_str()),
                comment,
                invitation_id: Some(&invited.invitation_id),
                user_id: Some(&invited.user_id),
                problem: problem.as_deref(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(problem)
}

/// Records a denial and tells the requester.
async fn deny(app: &App, request: &Request, by: &Session, comment: &str) -> Result<(), String> {
    let decided = app
        .0
        .store
        .decide(
            request.id,
            &Decision {
                status: "denied",
                by_name: Some(&by.name),
                by_email: Some(&by.email),
                comment,
                invitation_id: None,
                user_id: None,
                problem: None,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    if !decided {
        return Err(format!("{} was decided already.", request.email));
    }
    let (subject, text) = mail::denied(&app.0.organization, &request.name, comment);
    app.0
        .mailer
        .send(&request.email, &subject, text)
        .await
        .map_err(|e| {
            format!(
                "Denied, but {} could not be told by mail: {e}",
                request.email
            )
        })
}

// ---------------------------------------------------------------------------------------
// Approvers

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// The approver making this request, checked against the approvers group now; or the
/// answer for anyone else.
/// `next` is the page asked for, to return to after signing in.
async fn approver(app: &App, headers: &HeaderMap, next: &str) -> Result<Session, Response> {
    let session = match cookie(headers) {
        Some(id) => app
            .0
            .store
            .session(&id)
            .await
            .map_err(|e| failure(app, &e.to_string()))?,
        None => None,
    };
    let Some(session) = session else {
        return Err(Redirect::to(&format!("/login?next={next}")).into_response());
    };
    member_of_approvers(app, &session.user_id).await?;
    Ok(session)
}

async fn member_of_approvers(app: &App, user_id: &str) -> Result<(), Response> {
    match app.0.graph.is_member(&app.0.approvers, user_id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(message(
            app,
            StatusCode::FORBIDDEN,
            "You are not an approver",
            "Only members of the approvers group in Portico review requests here. Ask an administrator to add you.",
        )),
        Err(e) => Err(message(
            app,
            StatusCode::BAD_GATEWAY,
            "Portico did not answer",
            &format!("The portal could not check who approves requests: {e}"),
        )),
    }
}

/// The refusal of a form that does not carry this session's token; `None` when it does.
fn csrf_refusal(app: &App, session: &Session, given: &str) -> Option<Response> {
    (given != session.csrf).then(|| {
        message(
            app,
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form is from an earlier sign-in. Go back, reload the page and try again.",
        )
    })
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// A page of the portal's own to go back to: a path here, never another site.
fn local_path(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_".contains(&b))
    })
    .unwrap_or_else(|| "/requests".into())
}

/// `GET /login`: to Portico with PKCE, state and nonce.
async fn login(State(app): State<App>, Query(query): Query<LoginQuery>) -> Response {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = app
        .0
        .oidc
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    if let Ok(mut logins) = app.0.logins.lock() {
        logins.retain(|_, l| l.started.elapsed() < Duration::from_secs(600));
        logins.insert(
            state.secret().clone(),
            Login {
                nonce,
                verifier,
                started: Instant::now(),
                next: local_path(query.next),
            },
        );
    }
    Redirect::to(url.as_str()).into_response()
}

/// The `oid` claim (the user's id in Portico) of a verified ID token.
fn object_id(id_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["oid"].as_str().map(str::to_string)
}

/// `GET /callback`: the code for tokens, the ID token checked, the approver checked, a
/// session here.
async fn callback(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let refuse = |why: &str| message(&app, StatusCode::BAD_REQUEST, "Not signed in", why);
    if let Some(error) = query.get("error") {
        let detail = query.get("error_description").cloned().unwrap_or_default();
        return refuse(&format!("Portico answered {error}: {detail}"));
    }
    let login = query
        .get("state")
        .and_then(|s| app.0.logins.lock().ok()?.remove(s));
    let (Some(login), Some(code)) = (login, query.get("code")) else {
        return refuse("This sign-in is unknown or was used already. Sign in again.");
    };
    let tokens = match app
        .0
        .oidc
        .exchange_code(AuthorizationCode::new(code.clone()))
    {
        Ok(request) => {
            request
                .set_pkce_verifier(login.verifier)
                .request_async(&app.0.http)
                .await
        }
        Err(e) => return refuse(&e.to_string()),
    };
    let tokens = match tokens {
        Ok(tokens) => tokens,
        Err(e) => return refuse(&format!("Portico refused the code: {e}")),
    };
    let Some(id_token) = tokens.id_token() else {
        return refuse("Portico sent no ID token.");
    };
    let claims = match id_token.claims(&app.0.oidc.id_token_verifier(), &login.nonce) {
        Ok(claims) => claims,
        Err(e) => return refuse(&format!("The ID token is not valid: {e}")),
    };
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string())
        .unwrap_or_default();
    let email = claims.email().map(|e| e.to_string()).unwrap_or_default();
    let Some(user_id) = object_id(&id_token.to_string()) else {
        return refuse("The ID token does not say who you are in Portico (no oid claim).");
    };
    if let Err(response) = member_of_approvers(&app, &user_id).await {
        return response;
    }
    let id = CsrfToken::new_random().secret().clone();
    let session = Session {
        csrf: CsrfToken::new_random().secret().clone(),
        user_id,
        name: if name.is_empty() { email.clone() } else { name },
        email,
    };
    if let Err(e) = app
        .0
        .store
        .start_session(&id, &session, SESSION_SECONDS)
        .await
    {
        return failure(&app, &e.to_string());
    }
    let secure = if app.0.public_url.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let mut response = Redirect::to(&login.next).into_response();
    if let Ok(value) = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{secure}"
    )
    .parse()
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`: the portal forgets the approver.
async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(id) = cookie(&headers)
        && let Ok(Some(session)) = app.0.store.session(&id).await
        && session.csrf == form.csrf
    {
        let _ = app.0.store.end_session(&id).await;
    }
    let mut response = page(
        &app,
        "Signed out",
        None,
        "<p>You are signed out of the portal.</p><p><a href=\"/login\">Sign in again</a></p>",
    )
    .into_response();
    if let Ok(value) =
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0").parse()
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct Done {
    approved: Option<usize>,
    denied: Option<i64>,
}

/// What an approval of `request` by hand gives: the domain's rule if one covers it now
/// (a rule added after it came), otherwise `approved_by_hand`.
fn grant_for<'a>(app: &'a App, request: &Request) -> &'a Grant {
    app.0
        .rules
        .for_email(&request.email)
        .map(|r| &r.grant)
        .unwrap_or(&app.0.rules.approved_by_hand)
}

fn queue_page(
    app: &App,
    who: &Session,
    requests: &[Request],
    status: &str,
    alerts: &[String],
) -> Html<String> {
    let alerts = if alerts.is_empty() {
        String::new()
    } else {
        format!(
            "<div class=\"summary\" role=\"alert\"><h2>Not everything worked</h2><ul>{}</ul></div>",
            alerts
                .iter()
                .map(|a| format!("<li>{}</li>", escape(a)))
                .collect::<String>()
        )
    };
    let status = if status.is_empty() {
        String::new()
    } else {
        format!("<p class=\"status\" role=\"status\">{}</p>", escape(status))
    };
    let body = if requests.is_empty() {
        format!("{status}{alerts}<p>No requests are waiting.</p>")
    } else {
        let rows: String = requests
            .iter()
            .map(|r| {
                format!(
                    "<tr><td><input type=\"checkbox\" name=\"id\" value=\"{id}\" id=\"select-{id}\" \
                     aria-label=\"Select {name} ({email})\"></td>\
                     <td><a href=\"/requests/{id}\">{name}</a><br>{email}</td><td>{company}</td>\
                     <td>{reason}</td><td>{created}</td><td>{problem}</td></tr>",
                    id = r.id,
                    name = escape(&r.name),
                    email = escape(&r.email),
                    company = escape(&r.company),
                    reason = escape(&r.reason),
                    created = escape(&r.created),
                    problem = escape(r.problem.as_deref().unwrap_or("")),
                )
            })
            .collect();
        format!(
            "{status}{alerts}<p>Open a request to approve or deny it, or select several and approve them together.</p>\
             <form method=\"post\" action=\"/requests/approve\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <div class=\"table\"><table><caption>{count} waiting</caption><thead><tr><th scope=\"col\">Select</th>\
             <th scope=\"col\">Requester</th><th scope=\"col\">Company</th><th scope=\"col\">Reason</th>\
             <th scope=\"col\">Received</th><th scope=\"col\">Last problem</th></tr></thead><tbody>{rows}</tbody></table></div>\
             <label for=\"bulk-comment\">Comment for the selected requests (optional)</label>\
             <textarea id=\"bulk-comment\" name=\"comment\" rows=\"2\" maxlength=\"1000\"></textarea>\
             <button type=\"submit\">Approve selected</button></form>",
            csrf = escape(&who.csrf),
            count = requests.len(),
        )
    };
    page(app, "Requests", Some(who), &body)
}

/// `GET /requests`: the queue.
async fn queue(State(app): State<App>, headers: HeaderMap, Query(done): Query<Done>) -> Response {
    let who = match approver(&app, &headers, "/requests").await {
        Ok(who) => who,
        Err(response) => return response,
    };
    let requests = match app.0.store.pending().await {
        Ok(requests) => requests,
        Err(e) => return failure(&app, &e.to_string()),
    };
    let denied = match done.denied {
        Some(id) => app.0.store.get(id).await.ok().flatten(),
        None => None,
    };
    let status = match (done.approved, denied) {
        (Some(1), _) => "Approved: 1 invitation sent.".to_string(),
        (Some(n), _) => format!("Approved: {n} invitations sent."),
        (None, Some(request)) if request.status == "denied" => {
            format!("Denied {}; they were told by mail.", request.email)
        }
        _ => String::new(),
    };
    queue_page(&app, &who, &requests, &status, &[]).into_response()
}

/// `POST /requests/approve`: approves every selected request.
async fn bulk_approve(
    State(app): State<App>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let who = match approver(&app, &headers, "/requests").await {
        Ok(who) => who,
        Err(response) => return response,
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if let Some(response) = csrf_refusal(&app, &who, &field("csrf")) {
        return response;
    }
    let comment = field("comment");
    let ids: Vec<i64> = fields
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let mut alerts = Vec::new();
    if ids.is_empty() {
        alerts.push("Select at least one request to approve.".to_string());
    }
    if comment.chars().count() > 1000 {
        alerts.push("The comment must be 1000 characters or fewer.".to_string());
    }
    let mut approved = 0;
    if alerts.is_empty() {
        let _one = app.0.deciding.lock().await;
        for id in ids {
            match app.0.store.get(id).await {
                Ok(Some(request)) if request.status == "pending" => {
                    match approve(
                        &app,
                        &request,
                        grant_for(&app, &request),
                        Some(&who),
                        &comment,
                    )
                    .await
                    {
                        Ok(None) => approved += 1,
                        Ok(Some(problem)) => {
                            approved += 1;
                            alerts.push(format!("{} was invited, but {problem}", request.email));
                        }
                        Err(why) => alerts.push(why),
                    }
                }
                Ok(Some(request)) => {
                    alerts.push(format!("{} was decided already.", request.email));
                }
                Ok(None) => alerts.push(format!("There is no request {id}.")),
                Err(e) => return failure(&app, &e.to_string()),
            }
        }
    }
    if alerts.is_empty() {
        return Redirect::to(&format!("/requests?approved={approved}")).into_response();
    }
    let requests = match app.0.store.pending().await {
        Ok(requests) => requests,
        Err(e) => return failure(&app, &e.to_string()),
    };
    let status = if approved > 0 {
        format!("Approved: {approved} invitations sent.")
    } else {
        String::new()
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        queue_page(&app, &who, &requests, &status, &alerts),
    )
        .into_response()
}

fn status_words(request: &Request) -> String {
    match request.status.as_str() {
        "pending" => "Waiting for review".into(),
        "approved" => "Approved".into(),
        "auto_approved" => format!(
            "Approved by the rule for {}",
            request.rule_domain.as_deref().unwrap_or("its domain")
        ),
        "denied" => "Denied".into(),
        other => other.into(),
    }
}

fn review_page(
    app: &App,
    who: &Session,
    request: &Request,
    error: Option<&str>,
    comment: &str,
) -> Html<String> {
    let grant = grant_for(app, request);
    let groups = if grant.groups.is_empty() {
        "none".to_string()
    } else {
        grant.groups.join(", ")
    };
    let details = format!(
        "<dl><dt>Name</dt><dd>{}</dd><dt>Email address</dt><dd>{}</dd><dt>Company</dt><dd>{}</dd>\
         <dt>Reason</dt><dd>{}</dd><dt>Received</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd>\
         <dt>Last problem</dt><dd>{}</dd></dl>",
        escape(&request.name),
        escape(&request.email),
        escape(&request.company),
        escape(&request.reason),
        escape(&request.created),
        escape(&status_words(request)),
        escape(request.problem.as_deref().unwrap_or("none")),
    );
    let body = if request.status == "pending" {
        let (error_text, invalid) = match error {
            Some(why) => (
                format!(
                    "<p class=\"error\" id=\"comment-error\" role=\"alert\">{}</p>",
                    escape(why)
                ),
                " aria-invalid=\"true\" aria-describedby=\"comment-error\"",
            ),
            None => (String::new(), ""),
        };
        format!(
            "{details}<form method=\"post\" action=\"/requests/{id}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"comment\">Comment</label>\
             <p class=\"hint\">Kept in the history. On a denial it is mailed to the requester, and it is needed.</p>\
             {error_text}<textarea id=\"comment\" name=\"comment\" rows=\"3\" maxlength=\"1000\"{invalid}>{comment}</textarea>\
             <p class=\"hint\">Approving invites {email} and adds them to: {groups}.</p>\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Approve and invite</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
            id = request.id,
            csrf = escape(&who.csrf),
            comment = escape(comment),
            email = escape(&request.email),
            groups = escape(&groups),
        )
    } else {
        details
    };
    page(
        app,
        &format!("Request from {}", request.name),
        Some(who),
        &body,
    )
}

/// `GET /requests/{id}`
async fn review(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let who = match approver(&app, &headers, &format!("/requests/{id}")).await {
        Ok(who) => who,
        Err(response) => return response,
    };
    match app.0.store.get(id).await {
        Ok(Some(request)) => review_page(&app, &who, &request, None, "").into_response(),
        Ok(None) => message(
            &app,
            StatusCode::NOT_FOUND,
            "No such request",
            "There is no request with that number.",
        ),
        Err(e) => failure(&app, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    decision: String,
}

/// `POST /requests/{id}`: approve or deny one request.
async fn decide(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let who = match approver(&app, &headers, &format!("/requests/{id}")).await {
        Ok(who) => who,
        Err(response) => return response,
    };
    if let Some(response) = csrf_refusal(&app, &who, &form.csrf) {
        return response;
    }
    let _one = app.0.deciding.lock().await;
    let request = match app.0.store.get(id).await {
        Ok(Some(request)) => request,
        Ok(None) => {
            return message(
                &app,
                StatusCode::NOT_FOUND,
                "No such request",
                "There is no request with that number.",
            );
        }
        Err(e) => return failure(&app, &e.to_string()),
    };
    let comment = form.comment.trim();
    let again = |why: &str, request: &Request| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            review_page(&app, &who, request, Some(why), comment),
        )
            .into_response()
    };
    if request.status != "pending" {
        return again("This request was decided already.", &request);
    }
    if comment.chars().count() > 1000 {
        return again("The comment must be 1000 characters or fewer.", &request);
    }
    match form.decision.as_str() {
        "approve" => match approve(
            &app,
            &request,
            grant_for(&app, &request),
            Some(&who),
            comment,
        )
        .await
        {
            Ok(None) => Redirect::to("/requests?approved=1").into_response(),
            Ok(Some(problem)) => {
                let request = app.0.store.get(id).await.ok().flatten().unwrap_or(request);
                again(&format!("Invited, but {problem}"), &request)
            }
            Err(why) => {
                let request = app.0.store.get(id).await.ok().flatten().unwrap_or(request);
                again(&why, &request)
            }
        },
        "deny" => {
            if comment.is_empty() {
                return again(
                    "Enter a comment saying why the request is denied.",
                    &request,
                );
            }
            match deny(&app, &request, &who, comment).await {
                Ok(()) => Redirect::to(&format!("/requests?denied={}", request.id)).into_response(),
                Err(why) => {
                    let request = app.0.store.get(id).await.ok().flatten().unwrap_or(request);
                    again(&why, &request)
                }
            }
        }
        _ => again("Choose Approve and invite or Deny.", &request),
    }
}

/// `GET /history`: every decision, newest first.
async fn history(State(app): State<App>, headers: HeaderMap) -> Response {
    let who = match approver(&app, &headers, "/history").await {
        Ok(who) => who,
        Err(response) => return response,
    };
    let decided = match app.0.store.history().await {
        Ok(decided) => decided,
        Err(e) => return failure(&app, &e.to_string()),
    };
    let body = if decided.is_empty() {
        "<p>No decisions yet.</p>".to_string()
    } else {
        let rows: String = decided
            .iter()
            .map(|r| {
                let by = match (&r.decided_by_name, &r.decided_by_email) {
                    (Some(name), Some(email)) => format!("{} ({})", escape(name), escape(email)),
                    _ => "Domain rule".into(),
                };
                format!(
                    "<tr><td>{name}<br>{email}<br>{company}</td><td>{decision}</td><td>{by}</td>\
                     <td>{when}</td><td>{comment}</td><td>{problem}</td></tr>",
                    name = escape(&r.name),
                    email = escape(&r.email),
                    company = escape(&r.company),
                    decision = escape(&status_words(r)),
                    when = escape(r.decided.as_deref().unwrap_or("")),
                    comment = escape(&r.comment),
                    problem = escape(r.problem.as_deref().unwrap_or("")),
                )
            })
            .collect();
        format!(
            "<div class=\"table\"><table><caption>{} decisions, newest first</caption><thead><tr>\
             <th scope=\"col\">Requester</th><th scope=\"col\">Decision</th><th scope=\"col\">By</th>\
             <th scope=\"col\">When</th><th scope=\"col\">Comment</th><th scope=\"col\">Problem</th>\
             </tr></thead><tbody>{rows}</tbody></table></div>",
            decided.len()
        )
    };
    page(&app, "History", Some(&who), &body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, email: &str, company: &str, reason: &str, terms: bool) -> RequestForm {
        RequestForm {
            name: name.into(),
            email: email.into(),
            company: company.into(),
            reason: reason.into(),
            terms: terms.then(|| "yes".into()),
        }
    }

    #[test]
    fn a_good_request_is_kept_trimmed_with_the_address_in_lower_case() {
        let (clean, problems) = form(
            " Ann ",
            " Ann@Fabrikam.Example ",
            "Fabrikam",
            "Project X",
            true,
        )
        .checked();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(clean.name, "Ann");
        assert_eq!(clean.email, "ann@fabrikam.example");
    }

    #[test]
    fn every_missing_or_wrong_field_is_named_in_words() {
        let (_, problems) = form("", "not-an-address", " ", "", false).checked();
        assert_eq!(
            problems,
            [
                ("name", "Enter your name.".to_string()),
                (
                    "email",
                    "Enter an email address like name@company.com.".to_string()
                ),
                ("company", "Enter your company.".to_string()),
                ("reason", "Enter why you need access.".to_string()),
                (
                    "terms",
                    "Accept the terms of use to send your request.".to_string()
                ),
            ]
        );
        let (_, long) = form(&"n".repeat(101), "a@b.example", "C", "R", true).checked();
        assert_eq!(
            long,
            [(
                "name",
                "Your name must be 100 characters or fewer; it has 101.".to_string()
            )]
        );
    }

    #[test]
    fn after_signing_in_an_approver_goes_back_to_a_page_here_and_nowhere_else() {
        let next = |n: &str| local_path(Some(n.into()));
        assert_eq!(next("/history"), "/history");
        assert_eq!(next("/requests/12"), "/requests/12");
        for elsewhere in [
            "//evil.example/x",
            "https://evil.example/",
            "/\\evil.example",
            "/a?b=c",
            "history",
            "",
        ] {
            assert_eq!(next(elsewhere), "/requests", "{elsewhere}");
        }
        assert_eq!(local_path(None), "/requests");
    }

    #[test]
    fn addresses_portico_would_refuse_are_refused_here() {
        for bad in [
            "a@b",
            "a b@c.example",
            "@c.example",
            "a@-c.example",
            "a@c..example",
            ".a@c.example",
            "a<b>@c.example",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        for good in ["a@c.example", "a.b_c-d+e@sub.c.example"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
    }
}
