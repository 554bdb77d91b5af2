//! Access reviews for the signed-in reviewer: "Reviews for you" on the access panel, and a
//! review's guests with their last sign-in and Portico's recommendation, each with a form
//! to approve, deny or say "don't know". Plain forms: it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use types::format;
use types::reviews::{Decision, MyReview, ReviewItem, ReviewQueue};

use crate::components::{FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// The running reviews in which the signed-in person decides about guests.
///
/// **Permissions:** anyone signed in (their own).
#[leptos::server(prefix = "/fn", endpoint = "reviews/mine")]
pub async fn my_reviews() -> Result<Vec<MyReview>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::reviews::mine(&portal.store, &principal, crate::server::now()).await?)
}

/// **Permissions:** the review's reviewers.
#[leptos::server(prefix = "/fn", endpoint = "reviews/queue")]
pub async fn get_review_queue(id: String) -> Result<ReviewQueue, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::reviews::queue(&portal.store, &principal, &id, crate::server::now()).await?)
}

/// `decision`: `Approve`, `Deny` or `DontKnow`; a denial takes a `reason`.
///
/// **Permissions:** the guest's reviewers, until the review ends.
#[leptos::server(prefix = "/fn", endpoint = "reviews/decide")]
pub async fn decide_guest(
    review: String,
    guest: String,
    #[server(default)] decision: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let decision = Decision::parse(&decision)
        .filter(|d| *d != Decision::NotReviewed)
        .ok_or_else(|| AppError::Refused("Choose approve, deny or don't know.".into()))?;
    domain::reviews::decide(
        &portal.store,
        &principal,
        &review,
        &guest,
        decision,
        &reason,
        crate::server::now(),
    )
    .await?;
    crate::server::flash(
        format!(
            "Saved: {}. You can change it until the review ends.",
            decision.label()
        ),
        None,
    )
    .await;
    Ok(())
}

/// "Reviews for you" on the access panel; nothing when no review waits for the person.
#[component]
pub fn ReviewsForYou() -> impl IntoView {
    let reviews = Resource::new(|| (), |_| my_reviews());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let reviews = reviews.await.unwrap_or_default();
                (!reviews.is_empty()).then(|| view! {
                    <section class="card" aria-labelledby="reviews-title">
                        <h2 id="reviews-title">"Reviews for you"</h2>
                        <p class="muted">"Say whether guests you answer for still need their access."</p>
                        <ul class="rows">
                            {reviews.into_iter().map(|review| view! {
                                <li>
                                    <a href=format!("/reviews/{}", review.id)>{format!("Review {}", review.name)}</a>
                                    <strong class="waiting">{format!("{} of {} guests waiting", review.undecided, review.guests)}</strong>
                                    <span class="muted">{format!("ends {}", format::datetime(review.ends_at))}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
}

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let decide = ServerAction::<DecideGuest>::new();
    let queue = Resource::new(id, get_review_queue);
    view! {
        <Title text="Review guests · Portico" />
        <p><a href="/">"← My apps"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(queue) => view! { <QueueView queue decide /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn QueueView(queue: ReviewQueue, decide: ServerAction<DecideGuest>) -> impl IntoView {
    let ReviewQueue {
        review,
        open,
        items,
    } = queue;
    let review_id = StoredValue::new(review.id.clone());
    view! {
        <h1>{format!("Review: {}", review.name)}</h1>
        <p class="muted">{if open {
            format!("Decide for each guest by {}. You can change a decision until then. {}", format::datetime(review.ends_at), review.deny_action.label())
        } else {
            "This review has ended: decisions no longer change.".to_string()
        }}</p>
        <FormError error=action_error(decide.value()) />
        <ul class="rows">
            {items.into_iter().map(|item| view! { <GuestItem item open review_id decide /> }).collect_view()}
        </ul>
    }
}

#[component]
fn GuestItem(
    item: ReviewItem,
    open: bool,
    review_id: StoredValue<String>,
    decide: ServerAction<DecideGuest>,
) -> impl IntoView {
    let ReviewItem {
        guest_id,
        display_name,
        email,
        last_sign_in_at,
        decision,
        reason,
        decided_by,
        recommendation,
        recommendation_reason,
    } = item;
    let base = format!("decide-{guest_id}");
    let last = last_sign_in_at.map_or_else(
        || "Never signed in".to_string(),
        |at| format!("Last sign-in {}", format::datetime(at)),
    );
    let current = match (decision, decided_by) {
        (Decision::NotReviewed, _) => "Not reviewed yet".to_string(),
        (decision, Some(by)) => format!("{} (by {by})", decision.label()),
        (decision, None) => decision.label().to_string(),
    };
    // A decision the server refused (a denial without a reason, say) comes back as chosen
    // and typed, in this guest's row only.
    let refused = crate::components::typed(action_error(decide.value()))
        .filter(|typed| typed.get("guest").as_deref() == Some(guest_id.as_str()));
    let decision = refused
        .as_ref()
        .and_then(|typed| typed.get("decision"))
        .and_then(|chosen| Decision::parse(&chosen))
        .unwrap_or(decision);
    let reason = refused
        .and_then(|typed| typed.get("reason"))
        .unwrap_or(reason);
    let options = [Decision::Approve, Decision::Deny, Decision::DontKnow];
    let legend = format!("Decision for {display_name}");
    let save = format!("Save decision for {display_name}");
    view! {
        <li class="review-item">
            <strong>{display_name.clone()}</strong>
            <span class="muted">{email}</span>
            <span>{last}</span>
            <p>
                <span class="badge">{format!("Recommended: {}", recommendation.label())}</span>
                " "{recommendation_reason}
            </p>
            <p>{format!("Decision: {current}")}</p>
            {open.then(|| view! {
                <ActionForm action=decide>
                    <input type="hidden" name="review" value=review_id.get_value() />
                    <input type="hidden" name="guest" value=guest_id.clone() />
                    <fieldset>
                        <legend>{legend}</legend>
                        {options.into_iter().map(|option| {
                            let id = format!("{base}-{}", option.as_str());
                            view! {
                                <span class="check">
                                    <input type="radio" id=id.clone() name="decision" value=option.as_str() required=true checked=decision == option />
                                    <label for=id>{option.label()}</label>
                                </span>
                            }
                        }).collect_view()}
                    </fieldset>
                    <div class="field">
                        <label for=format!("{base}-reason")>"Reason (required to deny)"</label>
                        <textarea id=format!("{base}-reason") name="reason" maxlength="500">{reason}</textarea>
                    </div>
                    <Submit label=save busy_label="Saving…" pending=decide.pending() />
                </ActionForm>
            })}
        </li>
    }
}
