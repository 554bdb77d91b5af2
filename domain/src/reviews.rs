//! Access reviews of guests, as Entra's: an administrator starts a review of a set of guests
//! (all of them, a group's, an app's, or those inactive for some days), names who reviews
//! (each guest's sponsors, the group's or app's owners, or named users), how long it runs
//! and what its decisions do. The guests are snapshotted when it starts, one decision row
//! each with that guest's reviewers. Reviewers approve, deny or say they don't know, with
//! Portico's recommendation beside each guest, and may change their minds until it ends.
//! At the end the decisions are applied, by Portico when the review applies them itself,
//! otherwise by an administrator from its results.
//!
//! Who starts, stops and applies a review: global and user administrators, who manage
//! guests and groups; a review of an app's guests takes a global administrator, the only
//! one who manages apps' assignments. Who decides: only each guest's reviewers, whatever
//! roles they hold.

use types::reviews::{
    Decision, DenyAction, MyReview, NotReviewedAction, ReviewItem, ReviewQueue, ReviewResults,
    ReviewScope, ReviewSummary, ReviewerKind,
};
use types::{FieldError, ObjectKind, UserRef, UserType, format};

use crate::audit::{self, Change};
use crate::outbox::{self, Mail, escape_html};
use crate::store::{self, Tx, reviews::Guests};
use crate::{Error, Permission, Principal, Result, Store, validate};

/// No sign-in for this long and Portico recommends a denial (Entra's 30 days).
pub const RECOMMEND_DENY_AFTER: i64 = 30 * 86_400;
/// The longest a review runs, in days.
pub const LONGEST_DAYS: u32 = 180;
/// Reviewers with guests undecided are reminded this long before the end (or halfway
/// through a shorter review), besides the mail when it starts.
pub const REMIND_BEFORE: i64 = 3 * 86_400;
/// The most users a review names as reviewers.
pub const MOST_NAMED: usize = 10;
const DAY: i64 = 86_400;

/// A review as an administrator sets it up.
#[derive(Clone, Debug)]
pub struct NewReview<'a> {
    pub name: &'a str,
    pub scope: ReviewScope,
    /// The group or app, for the scopes that take one.
    pub scope_id: &'a str,
    /// For inactive guests: how many days without a sign-in.
    pub inactive_days: Option<u32>,
    pub reviewers: ReviewerKind,
    /// For named reviewers: their addresses or ids.
    pub named: &'a [String],
    pub duration_days: u32,
    pub deny_action: DenyAction,
    pub not_reviewed: NotReviewedAction,
    pub auto_apply: bool,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// What Portico recommends for a guest at `now`, and why: a denial when they have not
/// signed in for [`RECOMMEND_DENY_AFTER`] (counting from their creation when they never
/// did), an approval otherwise.
pub fn recommend(last_sign_in_at: Option<i64>, created_at: i64, now: i64) -> (Decision, String) {
    let days = |since: i64| (now - since).max(0) / DAY;
    match last_sign_in_at {
        Some(at) if now - at < RECOMMEND_DENY_AFTER => (
            Decision::Approve,
            format!("Signed in {} days ago.", days(at)),
        ),
        Some(at) => (
            Decision::Deny,
            format!("No sign-in for {} days (30 or more).", days(at)),
        ),
        None if now - created_at < RECOMMEND_DENY_AFTER => (
            Decision::Approve,
            format!(
                "Never signed in, but invited only {} days ago.",
                days(created_at)
            ),
        ),
        None => (
            Decision::Deny,
            format!(
                "Never signed in since being invited {} days ago.",
                days(created_at)
            ),
        ),
    }
}

/// Whether the actor may start, stop and apply a review of this scope.
fn require_admin(actor: &Principal, scope: ReviewScope) -> Result<()> {
    actor.require(Permission::ManageUsers)?;
    if scope == ReviewScope::AppGuests {
        actor.require(Permission::ManageApps)?;
    }
    Ok(())
}

/// When the reminder goes: [`REMIND_BEFORE`] the end, or halfway for a shorter review.
fn remind_at(starts_at: i64, ends_at: i64) -> i64 {
    (ends_at - REMIND_BEFORE).max(starts_at + (ends_at - starts_at) / 2)
}

/// The enabled user `key` (an id or an address) of the tenant names, as a reviewer.
async fn named_reviewer(tx: &mut Tx, tenant_id: &str, key: &str) -> Result<UserRef> {
    let found = if key.contains('@') {
        store::users::by_email(tx, tenant_id, key).await?
    } else {
        store::users::get(tx, tenant_id, key).await?
    };
    match found {
        Some(user) if user.enabled => Ok(UserRef {
            id: user.id,
            display_name: user.display_name,
            email: user.email,
        }),
        Some(user) => Err(invalid(
            "named",
            format!(
                "{} cannot sign in (disabled), so cannot review.",
                user.email
            ),
        )),
        None => Err(invalid(
            "named",
            format!("{key} is not a user of this organization."),
        )),
    }
}

/// Those of `candidates` who can sign in.
async fn enabled(tx: &mut Tx, tenant_id: &str, candidates: Vec<UserRef>) -> Result<Vec<UserRef>> {
    let mut kept = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        if store::users::get(tx, tenant_id, &candidate.id)
            .await?
            .is_some_and(|user| user.enabled)
        {
            kept.push(candidate);
        }
    }
    Ok(kept)
}

/// Starts a review: snapshots its guests, each with their reviewers (a guest never reviews
/// themselves; a guest left with no reviewer gets the administrator who starts it, when a
/// member), and mails each reviewer. Refused, changing nothing, when no guest is in scope.
///
/// **Permissions:** global or user administrators; for an app's guests, global
/// administrators.
pub async fn start(
    store: &Store,
    actor: &Principal,
    input: NewReview<'_>,
    now: i64,
) -> Result<ReviewSummary> {
    require_admin(actor, input.scope)?;
    let name = validate::name("name", input.name, 200);
    let duration = if (1..=LONGEST_DAYS).contains(&input.duration_days) {
        Ok(input.duration_days)
    } else {
        Err(FieldError {
            field: "duration".into(),
            message: format!("Give a number of days from 1 to {LONGEST_DAYS}."),
        })
    };
    let object = match input.scope {
        ReviewScope::GroupGuests => Some(ObjectKind::Group),
        ReviewScope::AppGuests => Some(ObjectKind::App),
        ReviewScope::AllGuests | ReviewScope::InactiveGuests => None,
    };
    let remove_without_object = (input.deny_action == DenyAction::RemoveAccess
        && object.is_none())
    .then(|| FieldError {
        field: "deny_action".into(),
        message: "Removing access takes a group or an app to remove guests from; choose blocking sign-in for all or inactive guests.".into(),
    });
    let owners_without_object =
        (input.reviewers == ReviewerKind::Owners && object.is_none()).then(|| FieldError {
            field: "reviewers".into(),
            message:
                "Owners review the guests of a group or an app; choose sponsors or named users."
                    .into(),
        });
    let named_count = match input.reviewers {
        ReviewerKind::Named if input.named.is_empty() => Err(FieldError {
            field: "named".into(),
            message: "Name at least one reviewer.".into(),
        }),
        ReviewerKind::Named if input.named.len() > MOST_NAMED => Err(FieldError {
            field: "named".into(),
            message: format!("Name at most {MOST_NAMED} reviewers."),
        }),
        _ => Ok(()),
    };
    let cutoff = match input.scope {
        ReviewScope::InactiveGuests => {
            crate::users::inactive_cutoff(input.inactive_days.unwrap_or_default(), now)
                .map(Some)
                .map_err(|_| FieldError {
                    field: "inactive".into(),
                    message: format!(
                        "Give a number of days from 1 to {}.",
                        crate::users::MOST_INACTIVE_DAYS
                    ),
                })
        }
        _ => Ok(None),
    };
    validate::report([
        name.as_ref().err(),
        duration.as_ref().err(),
        remove_without_object.as_ref(),
        owners_without_object.as_ref(),
        named_count.as_ref().err(),
        cutoff.as_ref().err(),
    ])?;
    let (name, duration, cutoff) = (name?, duration?, cutoff?);
    let ends_at = now + i64::from(duration) * DAY;

    let mut tx = store.begin().await?;
    let (scope_id, scope_name, guests, owners) = match (object, cutoff) {
        (Some(kind), _) => {
            let found = store::owners::find(
                &mut tx,
                &actor.tenant_id,
                store::owners::Object {
                    kind,
                    id: input.scope_id,
                },
            )
            .await?
            .ok_or(Error::NotFound(match kind {
                ObjectKind::App => "app",
                ObjectKind::Group => "group",
            }))?;
            let (guests, owners) = match kind {
                ObjectKind::Group => (
                    Guests::GroupMembers(input.scope_id),
                    store::groups::linked_users(
                        &mut tx,
                        store::groups::Link::Owner,
                        input.scope_id,
                    )
                    .await?,
                ),
                ObjectKind::App => (
                    Guests::AssignedTo(input.scope_id),
                    store::apps::owners(&mut tx, input.scope_id).await?,
                ),
            };
            (Some(input.scope_id), found.name, guests, owners)
        }
        (None, Some(cutoff)) => (
            None,
            format!(
                "No sign-in for {} days",
                input.inactive_days.unwrap_or_default()
            ),
            Guests::InactiveBefore(cutoff),
            Vec::new(),
        ),
        (None, None) => (None, String::new(), Guests::All, Vec::new()),
    };
    let guests = store::reviews::guests(&mut tx, &actor.tenant_id, guests).await?;
    if guests.is_empty() {
        return Err(Error::Conflict(
            "No guest is in the scope of this review, so there is nothing to review.".into(),
        ));
    }
    let mut named = Vec::new();
    if input.reviewers == ReviewerKind::Named {
        for key in input.named {
            let reviewer = named_reviewer(&mut tx, &actor.tenant_id, key.trim()).await?;
            if !named.iter().any(|r: &UserRef| r.id == reviewer.id) {
                named.push(reviewer);
            }
        }
    }
    let owners = enabled(&mut tx, &actor.tenant_id, owners).await?;
    let fallback = match actor.user_id() {
        Some(id) => store::users::get(&mut tx, &actor.tenant_id, id)
            .await?
            .filter(|user| user.user_type == UserType::Member)
            .map(|user| UserRef {
                id: user.id,
                display_name: user.display_name,
                email: user.email,
            }),
        None => None,
    };

    let id = crate::new_id();
    store::reviews::insert(
        &mut tx,
        store::reviews::NewReview {
            id: &id,
            tenant_id: &actor.tenant_id,
            name: &name,
            scope: input.scope,
            scope_id,
            scope_name: &scope_name,
            reviewers: input.reviewers,
            deny_action: input.deny_action,
            not_reviewed: input.not_reviewed,
            auto_apply: input.auto_apply,
            started_by: actor.name(),
            starts_at: now,
            ends_at,
            remind_at: remind_at(now, ends_at),
        },
    )
    .await?;
    let mut without_reviewer = 0;
    for guest in &guests {
        store::reviews::insert_guest(&mut tx, &id, guest).await?;
        let chosen = match input.reviewers {
            ReviewerKind::Sponsors => {
                let sponsors = store::sponsors::of_guest(&mut tx, &guest.id).await?;
                enabled(&mut tx, &actor.tenant_id, sponsors).await?
            }
            ReviewerKind::Owners => owners.clone(),
            ReviewerKind::Named => named.clone(),
        };
        let mut chosen: Vec<UserRef> = chosen.into_iter().filter(|r| r.id != guest.id).collect();
        if chosen.is_empty() {
            without_reviewer += 1;
            chosen.extend(fallback.clone());
        }
        for reviewer in &chosen {
            store::reviews::add_reviewer(&mut tx, &id, &guest.id, reviewer).await?;
        }
    }
    let mut detail = format!(
        "{} guests ({}{}); reviewers: {}; denied: {}; not reviewed: {}; {}; ends {}",
        guests.len(),
        input.scope.label(),
        if scope_name.is_empty() {
            String::new()
        } else {
            format!(": {scope_name}")
        },
        input.reviewers.label(),
        input.deny_action.label(),
        input.not_reviewed.label(),
        if input.auto_apply {
            "applied automatically at the end"
        } else {
            "applied by an administrator"
        },
        format::datetime(ends_at),
    );
    if without_reviewer > 0 {
        detail.push_str(&format!(
            "; {without_reviewer} guests had no reviewer and are reviewed by {}",
            fallback
                .as_ref()
                .map_or("nobody".to_string(), |f| f.display_name.clone())
        ));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Start access review",
            target_type: "AccessReview",
            target_id: &id,
            target_name: &name,
            detail,
        },
    )
    .await?;
    remind(&mut tx, &actor.tenant_id, &id, &name, ends_at, false, now).await?;
    let summary = store::reviews::get(&mut tx, &actor.tenant_id, &id)
        .await?
        .ok_or(Error::NotFound("review"))?;
    tx.commit().await?;
    Ok(summary)
}

/// Mails each reviewer with guests undecided.
async fn remind(
    tx: &mut Tx,
    tenant_id: &str,
    review_id: &str,
    name: &str,
    ends_at: i64,
    again: bool,
    now: i64,
) -> Result<()> {
    for (email, reviewer, waiting) in store::reviews::reviewers_waiting(tx, review_id).await? {
        let subject = if again {
            format!("Reminder: guests wait for your review in \"{name}\"")
        } else {
            format!("Please review guests' access: \"{name}\"")
        };
        let body = format!(
            "Hello {reviewer},\n\n{waiting} guest(s) wait for your decision in the access review \"{name}\", \
             which ends {}. Sign in to Portico and open \"Reviews for you\" on your apps page: \
             approve, deny or say you don't know for each guest. Guests nobody decides about are \
             treated as the review's settings say.",
            format::datetime(ends_at)
        );
        let mail = Mail {
            recipient: email,
            html: format!(
                "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>{}</p></body></html>",
                escape_html(&body).replace("\n\n", "</p><p>")
            ),
            text: format!("{body}\n"),
            subject,
            secret: false,
        };
        outbox::enqueue(tx, Some(tenant_id), &mail, now).await?;
    }
    Ok(())
}

/// The running reviews in which the signed-in person decides about guests.
///
/// **Permissions:** anyone signed in (their own reviews); nothing for other actors.
pub async fn mine(store: &Store, actor: &Principal, now: i64) -> Result<Vec<MyReview>> {
    let Some(user_id) = actor.user_id() else {
        return Ok(Vec::new());
    };
    store::reviews::of_reviewer(&mut *store.read().await?, &actor.tenant_id, user_id, now).await
}

/// The guests of a review the signed-in person decides about, each with their last sign-in
/// and Portico's recommendation.
///
/// **Permissions:** the review's reviewers (their own guests only).
pub async fn queue(
    store: &Store,
    actor: &Principal,
    review_id: &str,
    now: i64,
) -> Result<ReviewQueue> {
    let user_id = actor.user_id().ok_or(Error::AccessDenied)?;
    let mut db = store.read().await?;
    let review = store::reviews::get(&mut db, &actor.tenant_id, review_id)
        .await?
        .ok_or(Error::NotFound("review"))?;
    let rows = store::reviews::queue(&mut db, review_id, user_id).await?;
    if rows.is_empty() {
        return Err(Error::AccessDenied);
    }
    let items = rows
        .into_iter()
        .map(|row| {
            let (recommendation, recommendation_reason) = match row.created_at {
                Some(created_at) => recommend(row.last_sign_in_at, created_at, now),
                None => (Decision::Deny, "The guest was deleted.".to_string()),
            };
            ReviewItem {
                guest_id: row.guest_id,
                display_name: row.guest_name,
                email: row.guest_email,
                last_sign_in_at: row.last_sign_in_at,
                decision: row.decision,
                reason: row.reason,
                decided_by: row.decided_by,
                recommendation,
                recommendation_reason,
            }
        })
        .collect();
    Ok(ReviewQueue {
        open: is_open(&review, now),
        review,
        items,
    })
}

fn is_open(review: &ReviewSummary, now: i64) -> bool {
    review.applied_at.is_none() && now < review.ends_at
}

/// Records a reviewer's decision about one guest, in place of any before it (theirs or
/// another reviewer's: the last decision stands). A denial takes a reason; approving and
/// "don't know" may give one.
///
/// **Permissions:** the guest's reviewers in this review, until it ends.
pub async fn decide(
    store: &Store,
    actor: &Principal,
    review_id: &str,
    guest_id: &str,
    decision: Decision,
    reason: &str,
    now: i64,
) -> Result<()> {
    let user_id = actor.user_id().ok_or(Error::AccessDenied)?;
    if decision == Decision::NotReviewed {
        return Err(invalid("decision", "Choose approve, deny or don't know."));
    }
    let reason = validate::text("reason", reason, 500)?;
    if decision == Decision::Deny && reason.is_empty() {
        return Err(invalid(
            "reason",
            "Say why you deny: the guest's sponsors and administrators see it.",
        ));
    }
    let mut tx = store.begin().await?;
    let review = store::reviews::get(&mut tx, &actor.tenant_id, review_id)
        .await?
        .ok_or(Error::NotFound("review"))?;
    if !store::reviews::is_reviewer(&mut tx, review_id, guest_id, user_id).await? {
        return Err(Error::AccessDenied);
    }
    if !is_open(&review, now) {
        return Err(Error::Conflict(format!(
            "The review \"{}\" ended {}; its decisions no longer change.",
            review.name,
            format::datetime(review.ends_at)
        )));
    }
    store::reviews::decide(
        &mut tx,
        review_id,
        guest_id,
        store::reviews::Decided {
            decision,
            reason: &reason,
            by_id: user_id,
            by_name: actor.name(),
            at: now,
        },
    )
    .await?;
    let guest = store::reviews::results(&mut tx, review_id)
        .await?
        .into_iter()
        .find(|row| row.guest_id == guest_id)
        .ok_or(Error::NotFound("guest"))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Review guest access",
            target_type: "User",
            target_id: guest_id,
            target_name: &guest.guest_name,
            detail: format!(
                "{} in the access review \"{}\"{}",
                decision.label(),
                review.name,
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The organization's reviews, newest first.
///
/// **Permissions:** global or user administrators.
pub async fn list(store: &Store, actor: &Principal) -> Result<Vec<ReviewSummary>> {
    actor.require(Permission::ManageUsers)?;
    store::reviews::list(&mut *store.read().await?, &actor.tenant_id).await
}

/// A review with every guest, their reviewers, decision and what applying it did.
///
/// **Permissions:** global or user administrators (for an app's guests, global
/// administrators).
pub async fn results(
    store: &Store,
    actor: &Principal,
    review_id: &str,
    now: i64,
) -> Result<ReviewResults> {
    actor.require(Permission::ManageUsers)?;
    let mut db = store.read().await?;
    let review = store::reviews::get(&mut db, &actor.tenant_id, review_id)
        .await?
        .ok_or(Error::NotFound("review"))?;
    require_admin(actor, review.scope)?;
    let rows = store::reviews::results(&mut db, review_id).await?;
    Ok(ReviewResults {
        may_apply: review.applied_at.is_none() && now >= review.ends_at,
        may_stop: is_open(&review, now),
        review,
        rows,
    })
}

/// Ends a running review now; its decisions are then applied as for any review that ended.
///
/// **Permissions:** as for starting it.
pub async fn stop(store: &Store, actor: &Principal, review_id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManageUsers)?;
    let mut tx = store.begin().await?;
    let review = store::reviews::get(&mut tx, &actor.tenant_id, review_id)
        .await?
        .ok_or(Error::NotFound("review"))?;
    require_admin(actor, review.scope)?;
    if !is_open(&review, now) {
        return Err(Error::Conflict(format!(
            "The review \"{}\" has ended already.",
            review.name
        )));
    }
    store::reviews::stop(&mut tx, review_id, now).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Stop access review",
            target_type: "AccessReview",
            target_id: review_id,
            target_name: &review.name,
            detail: format!("{} of {} guests decided", review.decided, review.guests),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Applies the decisions of a review that ended: what was denied (and, as the review says,
/// what nobody decided) loses access. Answers how many guests lost access.
///
/// **Permissions:** as for starting it.
pub async fn apply(store: &Store, actor: &Principal, review_id: &str, now: i64) -> Result<u64> {
    actor.require(Permission::ManageUsers)?;
    let mut tx = store.begin().await?;
    let review = store::reviews::get(&mut tx, &actor.tenant_id, review_id)
        .await?
        .ok_or(Error::NotFound("review"))?;
    require_admin(actor, review.scope)?;
    if now < review.ends_at {
        return Err(Error::Conflict(format!(
            "The review \"{}\" runs until {}; stop it first to apply its decisions now.",
            review.name,
            format::datetime(review.ends_at)
        )));
    }
    let denied = apply_in(&mut tx, actor, &review, now).await?;
    tx.commit().await?;
    Ok(denied)
}

/// What applying does to one guest.
fn outcome_of(review: &ReviewSummary, row: &store::reviews::QueueRow, now: i64) -> Decision {
    match row.decision {
        Decision::Approve => Decision::Approve,
        Decision::Deny => Decision::Deny,
        Decision::NotReviewed | Decision::DontKnow => match review.not_reviewed {
            NotReviewedAction::Keep => Decision::Approve,
            NotReviewedAction::Deny => Decision::Deny,
            NotReviewedAction::Recommendation => match row.created_at {
                Some(created_at) => recommend(row.last_sign_in_at, created_at, now).0,
                None => Decision::Approve,
            },
        },
    }
}

async fn apply_in(tx: &mut Tx, actor: &Principal, review: &ReviewSummary, now: i64) -> Result<u64> {
    if !store::reviews::set_applied(tx, &review.id, now).await? {
        return Err(Error::Conflict(format!(
            "The decisions of \"{}\" were applied already.",
            review.name
        )));
    }
    let scope_id = store::reviews::scope_id(tx, &review.id).await?;
    let (mut denied, mut kept) = (0u64, 0u64);
    for row in store::reviews::unapplied(tx, &review.id).await? {
        let by_default = matches!(row.decision, Decision::NotReviewed | Decision::DontKnow);
        let outcome = match outcome_of(review, &row, now) {
            Decision::Deny if row.created_at.is_none() => "The guest no longer exists".to_string(),
            Decision::Deny => {
                denied += 1;
                deny(
                    tx,
                    actor,
                    review,
                    scope_id.as_deref(),
                    &row,
                    by_default,
                    now,
                )
                .await?
            }
            _ => {
                kept += 1;
                "Kept".to_string()
            }
        };
        store::reviews::set_outcome(tx, &review.id, &row.guest_id, &outcome, now).await?;
    }
    audit::record(
        tx,
        actor,
        now,
        Change {
            action: "Apply access review",
            target_type: "AccessReview",
            target_id: &review.id,
            target_name: &review.name,
            detail: format!("{denied} guests lost access; {kept} kept it"),
        },
    )
    .await?;
    Ok(denied)
}

/// Takes a denied guest's access away as the review says; what was done, for the results.
async fn deny(
    tx: &mut Tx,
    actor: &Principal,
    review: &ReviewSummary,
    scope_id: Option<&str>,
    row: &store::reviews::QueueRow,
    by_default: bool,
    now: i64,
) -> Result<String> {
    let why = format!(
        "{} in the access review \"{}\"",
        if by_default {
            "not reviewed, so treated as denied"
        } else {
            "denied"
        },
        review.name
    );
    let who = format!("{} ({})", row.guest_name, row.guest_email);
    match (review.deny_action, review.scope, scope_id) {
        (DenyAction::RemoveAccess, ReviewScope::GroupGuests, Some(group_id)) => {
            if store::groups::get(tx, &actor.tenant_id, group_id)
                .await?
                .is_none()
            {
                return Ok(format!("{} no longer exists", review.scope_name));
            }
            let removed = store::groups::remove_link(
                tx,
                store::groups::Link::Member,
                group_id,
                &row.guest_id,
            )
            .await?;
            if !removed {
                return Ok(format!("Was no longer in {}", review.scope_name));
            }
            audit::record(
                tx,
                actor,
                now,
                Change {
                    action: crate::owners::grant_action(ObjectKind::Group, false),
                    target_type: "Group",
                    target_id: group_id,
                    target_name: &review.scope_name,
                    detail: format!("{who}: {why}"),
                },
            )
            .await?;
            Ok(format!("Removed from {}", review.scope_name))
        }
        (DenyAction::RemoveAccess, ReviewScope::AppGuests, Some(app_id)) => {
            let removed =
                store::apps::unassign(tx, app_id, store::apps::Assignee::User(&row.guest_id))
                    .await?;
            if !removed {
                return Ok(format!("Was no longer assigned {}", review.scope_name));
            }
            audit::record(
                tx,
                actor,
                now,
                Change {
                    action: crate::owners::grant_action(ObjectKind::App, false),
                    target_type: "App",
                    target_id: app_id,
                    target_name: &review.scope_name,
                    detail: format!("{who}: {why}"),
                },
            )
            .await?;
            Ok(format!("Removed from {}", review.scope_name))
        }
        // A review without a group or app only blocks sign-in (start refuses the rest).
        _ => block_sign_in(tx, actor, row, &why, now).await,
    }
}

/// Ends a denied guest's access with the shared core (see
/// [`crate::guest_access::end_access`]): sign-in blocked, sessions and tokens ended now, the
/// guest deleted after the organization's grace period unless restored meanwhile.
async fn block_sign_in(
    tx: &mut Tx,
    actor: &Principal,
    row: &store::reviews::QueueRow,
    why: &str,
    now: i64,
) -> Result<String> {
    match crate::guest_access::end_access(tx, actor, &row.guest_id, now, why).await {
        Ok(ended) if ended.newly => Ok(format!(
            "Sign-in blocked; deleted after {} unless restored",
            format::datetime(ended.delete_after)
        )),
        Ok(ended) => Ok(format!(
            "Access had ended already; deleted after {}",
            format::datetime(ended.delete_after)
        )),
        Err(Error::NotFound(_)) => Ok("The guest no longer exists".into()),
        Err(other) => Err(other),
    }
}

/// Portico's part at the end of reviews (from the sweeper): applies the decisions of the
/// reviews that ended and apply them automatically, acting as Portico, and sends the
/// reminders that are due. Answers how many reviews were applied.
pub async fn conclude_due(store: &Store, now: i64) -> Result<u64> {
    let due = store::reviews::due_for_auto_apply(&mut *store.read().await?, now).await?;
    let mut applied = 0;
    for (tenant_id, review_id) in due {
        let portico = Principal::portico(&tenant_id);
        let mut tx = store.begin().await?;
        let Some(review) = store::reviews::get(&mut tx, &tenant_id, &review_id).await? else {
            continue;
        };
        // Another replica may have applied it since the list was read.
        if review.applied_at.is_some() {
            continue;
        }
        apply_in(&mut tx, &portico, &review, now).await?;
        tx.commit().await?;
        applied += 1;
    }
    let reminders = store::reviews::due_for_reminder(&mut *store.read().await?, now).await?;
    for (tenant_id, review_id) in reminders {
        let mut tx = store.begin().await?;
        let Some(review) = store::reviews::get(&mut tx, &tenant_id, &review_id).await? else {
            continue;
        };
        store::reviews::set_reminded(&mut tx, &review_id, now).await?;
        remind(
            &mut tx,
            &tenant_id,
            &review_id,
            &review.name,
            review.ends_at,
            true,
            now,
        )
        .await?;
        tx.commit().await?;
    }
    Ok(applied)
}
