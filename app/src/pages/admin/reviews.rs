//! Access reviews in the console: the organization's reviews, starting one, and a review's
//! results (stop it, apply its decisions, export them as CSV).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use types::reviews::{
    DenyAction, NotReviewedAction, ReviewResults, ReviewScope, ReviewSummary, ReviewerKind,
};
use types::{AppSummary, GroupSummary, format};

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// What the start form offers: the organization's groups and, for global administrators,
/// its apps.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ReviewsPage {
    pub reviews: Vec<ReviewSummary>,
    pub groups: Vec<GroupSummary>,
    pub apps: Vec<AppSummary>,
    /// The server's clock, for saying which reviews are running.
    pub now: i64,
}

/// **Permissions:** global or user administrators (apps are listed to those who read them).
#[leptos::server(prefix = "/fn", endpoint = "admin/reviews")]
pub async fn list_reviews() -> Result<ReviewsPage, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let reviews = domain::reviews::list(&portal.store, &principal).await?;
    let groups = domain::groups::list(&portal.store, &principal).await?;
    let apps = match domain::apps::list(&portal.store, &principal).await {
        Ok(apps) => apps,
        Err(domain::Error::AccessDenied) => Vec::new(),
        Err(other) => return Err(other.into()),
    };
    Ok(ReviewsPage {
        reviews,
        groups,
        apps,
        now: crate::server::now(),
    })
}

#[cfg(feature = "ssr")]
fn days(field: &str, value: &str) -> Result<u32, AppError> {
    value.trim().parse().map_err(|_| {
        AppError::Invalid(vec![types::FieldError {
            field: field.into(),
            message: "Give a whole number of days.".into(),
        }])
    })
}

#[cfg(feature = "ssr")]
fn choice<T>(parsed: Option<T>, what: &str) -> Result<T, AppError> {
    parsed.ok_or_else(|| AppError::Refused(format!("Choose {what}.")))
}

/// Starts a review and opens its results. `group` or `app` names what a review of a group's
/// or an app's guests covers; `named` lists reviewers' addresses; `auto_apply` is a
/// checkbox, present when ticked.
///
/// **Permissions:** global or user administrators; for an app's guests, global
/// administrators.
#[allow(clippy::too_many_arguments)]
#[leptos::server(prefix = "/fn", endpoint = "admin/reviews/start")]
pub async fn start_review(
    name: String,
    scope: String,
    #[server(default)] group: String,
    #[server(default)] app: String,
    #[server(default)] inactive: String,
    reviewers: String,
    #[server(default)] named: String,
    duration: String,
    deny_action: String,
    not_reviewed: String,
    auto_apply: Option<String>,
) -> Result<ReviewSummary, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let scope = choice(ReviewScope::parse(&scope), "which guests to review")?;
    let named = domain::sponsors::parse_list(&named);
    let input = domain::reviews::NewReview {
        name: &name,
        scope,
        scope_id: match scope {
            ReviewScope::GroupGuests => &group,
            ReviewScope::AppGuests => &app,
            ReviewScope::AllGuests | ReviewScope::InactiveGuests => "",
        },
        inactive_days: match scope {
            ReviewScope::InactiveGuests => Some(days("inactive", &inactive)?),
            _ => None,
        },
        reviewers: choice(ReviewerKind::parse(&reviewers), "who reviews")?,
        named: &named,
        duration_days: days("duration", &duration)?,
        deny_action: choice(DenyAction::parse(&deny_action), "what a denial does")?,
        not_reviewed: choice(
            NotReviewedAction::parse(&not_reviewed),
            "what happens to guests nobody reviews",
        )?,
        auto_apply: auto_apply.is_some(),
    };
    let started =
        domain::reviews::start(&portal.store, &principal, input, crate::server::now()).await?;
    crate::server::flash(
        format!(
            "The review \"{}\" started: {} guests; reviewers were told by mail.",
            started.name, started.guests
        ),
        None,
    )
    .await;
    leptos_axum::redirect(&format!("/admin/reviews/{}", started.id));
    Ok(started)
}

/// The one-click review of the guests with no sign-in for `inactive` days: each guest's
/// sponsors review for 14 days; a denial blocks the guest's sign-in (then deletion after
/// the grace period); a guest nobody decides about keeps their access; applied
/// automatically at the end.
///
/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/reviews/inactive")]
pub async fn review_inactive_guests(inactive: String) -> Result<ReviewSummary, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let inactive_days = days("inactive", &inactive)?;
    let name = format!("Guests with no sign-in for {inactive_days} days");
    let input = domain::reviews::NewReview {
        name: &name,
        scope: ReviewScope::InactiveGuests,
        scope_id: "",
        inactive_days: Some(inactive_days),
        reviewers: ReviewerKind::Sponsors,
        named: &[],
        duration_days: INACTIVE_REVIEW_DAYS,
        deny_action: DenyAction::DisableThenDelete,
        not_reviewed: NotReviewedAction::Keep,
        auto_apply: true,
    };
    let started =
        domain::reviews::start(&portal.store, &principal, input, crate::server::now()).await?;
    crate::server::flash(
        format!(
            "The review \"{}\" started: {} guests; their sponsors were told by mail.",
            started.name, started.guests
        ),
        None,
    )
    .await;
    leptos_axum::redirect(&format!("/admin/reviews/{}", started.id));
    Ok(started)
}

/// How long the one-click review of inactive guests runs.
pub const INACTIVE_REVIEW_DAYS: u32 = 14;

/// **Permissions:** global or user administrators (for an app's guests, global
/// administrators).
#[leptos::server(prefix = "/fn", endpoint = "admin/review")]
pub async fn get_review_results(id: String) -> Result<ReviewResults, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::reviews::results(&portal.store, &principal, &id, crate::server::now()).await?)
}

/// **Permissions:** as for starting the review.
#[leptos::server(prefix = "/fn", endpoint = "admin/review/stop")]
pub async fn stop_review(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::reviews::stop(&portal.store, &principal, &id, crate::server::now()).await?;
    crate::server::flash(
        "The review was stopped: reviewers can no longer decide.",
        None,
    )
    .await;
    Ok(())
}

/// **Permissions:** as for starting the review.
#[leptos::server(prefix = "/fn", endpoint = "admin/review/apply")]
pub async fn apply_review(id: String) -> Result<u64, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let denied =
        domain::reviews::apply(&portal.store, &principal, &id, crate::server::now()).await?;
    crate::server::flash(
        format!("The decisions were applied: {denied} guests lost access."),
        None,
    )
    .await;
    Ok(denied)
}

#[component]
pub fn Reviews() -> impl IntoView {
    let start = ServerAction::<StartReview>::new();
    let page = Resource::new(|| (), |_| list_reviews());
    view! {
        <Title text="Access reviews · Portico admin" />
        <h1>"Access reviews"</h1>
        <p class="muted">"Ask sponsors, owners or named people whether guests still need their access. What they deny (and, as you choose, what nobody decides) loses access when the review ends."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading reviews…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! {
                        <ReviewList reviews=page.reviews now=page.now />
                        <StartForm start groups=page.groups apps=page.apps />
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn state_of(review: &ReviewSummary, running: bool) -> String {
    match review.applied_at {
        Some(at) => format!("Applied {}", format::datetime(at)),
        None if running => format!("Running until {}", format::datetime(review.ends_at)),
        None if review.auto_apply => "Ended; applied at the next sweep".to_string(),
        None => "Ended; waiting to be applied".to_string(),
    }
}

#[component]
fn ReviewList(reviews: Vec<ReviewSummary>, now: i64) -> impl IntoView {
    if reviews.is_empty() {
        return view! { <p class="empty">"No reviews yet."</p> }.into_any();
    }
    view! {
        <table>
            <thead><tr><th scope="col">"Review"</th><th scope="col">"Guests"</th><th scope="col">"Reviewers"</th><th scope="col">"Decided"</th><th scope="col">"State"</th></tr></thead>
            <tbody>
                {reviews.into_iter().map(|r| {
                    let state = state_of(&r, now < r.ends_at);
                    view! {
                        <tr>
                            <td><a href=format!("/admin/reviews/{}", r.id)>{r.name.clone()}</a></td>
                            <td>{if r.scope_name.is_empty() { r.scope.label().to_string() } else { format!("{}: {}", r.scope.label(), r.scope_name) }}</td>
                            <td>{r.reviewers.label()}</td>
                            <td>{format!("{} of {}", r.decided, r.guests)}</td>
                            <td>{state}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A labelled list to choose from, with the server's message for it.
#[component]
fn Choice(
    label: &'static str,
    name: &'static str,
    options: Vec<(String, String)>,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let message_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().and_then(|e| e.field(name));
    let described = {
        let (message_id, hint_id) = (message_id.clone(), hint_id.clone());
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
            <select id=id name=name aria-describedby=described aria-invalid=move || message().is_some().then_some("true")>
                {options.into_iter().map(|(value, text)| view! { <option value=value>{text}</option> }).collect_view()}
            </select>
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {move || message().map(|m| view! { <p class="field-error" id=message_id.clone()>{m}</p> })}
        </div>
    }
}

#[component]
fn StartForm(
    start: ServerAction<StartReview>,
    groups: Vec<GroupSummary>,
    apps: Vec<AppSummary>,
) -> impl IntoView {
    let error = action_error(start.value());
    let query = use_query_map();
    let inactive = query
        .read_untracked()
        .get("inactive")
        .unwrap_or_else(|| "90".into());
    let pair = |value: &str, text: &str| (value.to_string(), text.to_string());
    let scopes = ReviewScope::ALL
        .into_iter()
        .filter(|s| *s != ReviewScope::AppGuests || !apps.is_empty())
        .map(|s| pair(s.as_str(), s.label()))
        .collect();
    let reviewers = ReviewerKind::ALL
        .into_iter()
        .map(|k| pair(k.as_str(), k.label()))
        .collect();
    let deny = [DenyAction::RemoveAccess, DenyAction::DisableThenDelete]
        .into_iter()
        .map(|a| pair(a.as_str(), a.label()))
        .collect();
    let not_reviewed = [
        NotReviewedAction::Keep,
        NotReviewedAction::Deny,
        NotReviewedAction::Recommendation,
    ]
    .into_iter()
    .map(|a| pair(a.as_str(), a.label()))
    .collect();
    let mut group_options = vec![pair("", "(none)")];
    group_options.extend(groups.into_iter().map(|g| (g.id, g.name)));
    let has_apps = !apps.is_empty();
    let mut app_options = vec![pair("", "(none)")];
    app_options.extend(apps.into_iter().map(|a| (a.id, a.name)));
    view! {
        <section class="card" aria-labelledby="start-review">
            <h2 id="start-review">"Start a review"</h2>
            <ActionForm action=start attr:class="grid">
                <FormError error />
                <Field label="Name" name="name" required=true error />
                <Choice label="Guests to review" name="scope" options=scopes error
                    hint="The guests are fixed when the review starts; only enabled guests are reviewed." />
                <Choice label="Group (for guests in a group)" name="group" options=group_options error />
                {has_apps.then(|| view! { <Choice label="App (for guests assigned to an app)" name="app" options=app_options error
                    hint="Guests given the app directly; access through a group is reviewed with the group." /> })}
                <Field label="Days without a sign-in (for inactive guests)" name="inactive" kind="number" value=inactive error />
                <Choice label="Reviewers" name="reviewers" options=reviewers error
                    hint="A guest left without a reviewer is reviewed by you." />
                <Field label="Named reviewers (for named users)" name="named" error hint="Addresses of users of your organization, separated by commas; at most 10." />
                <Field label="Duration in days" name="duration" kind="number" value="14" required=true error hint="From 1 to 180; reviewers are mailed at the start and again before the end." />
                <Choice label="When a reviewer denies" name="deny_action" options=deny error
                    hint="Removing takes a group or an app. Blocking sign-in keeps the guest for the grace period set under External collaboration (30 days unless changed), during which an administrator or a sponsor can restore them." />
                <Choice label="When nobody decides (or only \"don't know\")" name="not_reviewed" options=not_reviewed error
                    hint="The recommendation denies guests with no sign-in for 30 days." />
                <div class="field check">
                    <input type="checkbox" id="field-auto_apply" name="auto_apply" value="on" checked=true />
                    <label for="field-auto_apply">"Apply the decisions automatically when the review ends"</label>
                </div>
                <Submit label="Start review" busy_label="Starting…" pending=start.pending() />
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let stop = ServerAction::<StopReview>::new();
    let apply = ServerAction::<ApplyReview>::new();
    let results = Resource::new(id, get_review_results);
    view! {
        <Title text="Access review · Portico admin" />
        <p><a href="/admin/reviews">"← Access reviews"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(results) => view! { <ResultsView results stop apply /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ResultsView(
    results: ReviewResults,
    stop: ServerAction<StopReview>,
    apply: ServerAction<ApplyReview>,
) -> impl IntoView {
    let ReviewResults {
        review,
        may_apply,
        may_stop,
        rows,
    } = results;
    let state = state_of(&review, may_stop);
    let id = review.id.clone();
    let (stop_id, apply_id) = (id.clone(), id.clone());
    view! {
        <h1>{review.name.clone()}</h1>
        <dl class="facts">
            <dt>"Guests"</dt>
            <dd>{if review.scope_name.is_empty() { review.scope.label().to_string() } else { format!("{}: {}", review.scope.label(), review.scope_name) }}</dd>
            <dt>"Reviewers"</dt><dd>{review.reviewers.label()}</dd>
            <dt>"When denied"</dt><dd>{review.deny_action.label()}</dd>
            <dt>"When nobody decides"</dt><dd>{review.not_reviewed.label()}</dd>
            <dt>"Applied"</dt><dd>{if review.auto_apply { "Automatically at the end" } else { "By an administrator" }}</dd>
            <dt>"Started"</dt><dd>{format!("{} by {}", format::datetime(review.starts_at), review.started_by)}</dd>
            <dt>"State"</dt><dd>{state}</dd>
            <dt>"Decided"</dt><dd>{format!("{} of {}", review.decided, review.guests)}</dd>
        </dl>
        <FormError error=action_error(stop.value()) />
        <FormError error=action_error(apply.value()) />
        <p class="actions">
            <a href=format!("/admin/reviews/{id}/results.csv") download="">"Download the results (CSV)"</a>
        </p>
        {may_stop.then(|| view! {
            <details class="confirm">
                <summary>"Stop the review now…"</summary>
                <p>"Reviewers can no longer decide. The decisions are then applied as when the review ends."</p>
                <ActionForm action=stop>
                    <input type="hidden" name="id" value=stop_id />
                    <button type="submit" class="danger">"Stop the review"</button>
                </ActionForm>
            </details>
        })}
        {may_apply.then(|| view! {
            <details class="confirm">
                <summary>"Apply the decisions…"</summary>
                <p>"Guests denied (and, as the review says, those nobody decided about) lose access now."</p>
                <ActionForm action=apply>
                    <input type="hidden" name="id" value=apply_id />
                    <button type="submit" class="danger">"Apply the decisions"</button>
                </ActionForm>
            </details>
        })}
        <table>
            <caption>"Guests and decisions"</caption>
            <thead>
                <tr><th scope="col">"Guest"</th><th scope="col">"Reviewers"</th><th scope="col">"Decision"</th><th scope="col">"Reason"</th><th scope="col">"Decided"</th><th scope="col">"Applied"</th></tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| view! {
                    <tr>
                        <td><a href=format!("/admin/users/{}", row.guest_id)>{row.guest_name}</a><br /><span class="muted">{row.guest_email}</span></td>
                        <td>{if row.reviewers.is_empty() { "Nobody".to_string() } else { row.reviewers }}</td>
                        <td>{row.decision.label()}</td>
                        <td>{row.reason}</td>
                        <td>{match (row.decided_by, row.decided_at) {
                            (Some(by), Some(at)) => format!("{by}, {}", format::datetime(at)),
                            _ => String::new(),
                        }}</td>
                        <td>{match (row.outcome, row.applied_at) {
                            (Some(outcome), Some(at)) => format!("{outcome} ({})", format::datetime(at)),
                            _ => "Not yet".to_string(),
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
