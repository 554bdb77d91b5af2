//! Guest access that ends unless renewed, as Entra's sponsors and clean-up do it (reference
//! §8). A tenant sets how long a guest's access lasts from acceptance (or never), how many
//! days before the end the sponsors are told, and how long a guest whose access ended stays
//! before deletion. An invitation carries its own period (the tenant's unless the inviter
//! chose another); accepting starts it.
//!
//! The life of a guest with an end:
//! 1. `notice_days` before the end, each sponsor gets one mail with a link to the guest's
//!    page (`/sponsor/{id}`), where a sponsor or a user administrator renews or lets it end;
//!    the guest is told too. Once per end: renewing sets a new end, which gets its own notice.
//! 2. At the end, Portico disables the guest (their sessions end, their tokens are revoked)
//!    and schedules deletion after the grace period ([`end_access`]; access reviews end
//!    access the same way).
//! 3. During the grace period a sponsor or a user administrator may [`restore`] the guest:
//!    enabled again, with a new period from now. After it, Portico deletes the guest.
//!
//! The periodic part is [`sweep`], which the server runs with the sweeper; `now` is a
//! parameter so tests drive the clock.

use types::{
    FieldError, GuestAccessSettings, GuestAccessState, Sponsored, UserSummary, UserType, format,
};

use crate::audit::{self, Change};
use crate::outbox::{self, Mail, escape_html};
use crate::store::{self, Tx};
use crate::{Actor, Error, Permission, Principal, Result, Store};

const DAY: i64 = 86_400;

/// The longest period, notice and grace (days), and the shortest.
pub const MOST_ACCESS_DAYS: i64 = 3650;
pub const MOST_NOTICE_DAYS: i64 = 365;
pub const MOST_GRACE_DAYS: i64 = 365;

/// Why access ended when the period ran out (the audit trail and the guest's page say it).
pub const PERIOD_ENDED: &str = "the access period ended";

/// The page where a sponsor renews or restores a guest.
pub fn sponsor_link(base_url: &str, guest_id: &str) -> String {
    format!("{}/sponsor/{guest_id}", base_url.trim_end_matches('/'))
}

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid(vec![FieldError {
        field: field.into(),
        message,
    }])
}

/// A period as typed: empty or `never` is no end; otherwise whole days from 1 to
/// [`MOST_ACCESS_DAYS`].
pub fn parse_period(field: &str, text: &str) -> Result<Option<i64>> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(days) if (1..=MOST_ACCESS_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(invalid(
            field,
            format!("Give a number of days from 1 to {MOST_ACCESS_DAYS}, or never."),
        )),
    }
}

/// When access given at `from` for `days` ends (`None`: never).
pub fn end_of(from: i64, days: Option<i64>) -> Option<i64> {
    days.map(|days| from + days * DAY)
}

/// Whether access that ends at `ends_at` (`None`: never) has ended at `now`.
pub fn has_ended(ends_at: Option<i64>, now: i64) -> bool {
    ends_at.is_some_and(|end| end <= now)
}

/// Whether the notice for an access ending at `ends_at` is due at `now`.
pub fn notice_due(ends_at: i64, notice_days: i64, now: i64) -> bool {
    now < ends_at && ends_at - notice_days * DAY <= now
}

/// The tenant's settings.
pub(crate) async fn settings_in(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<GuestAccessSettings> {
    store::guest_access::settings(db, tenant_id)
        .await?
        .ok_or(Error::NotFound("organization"))
}

/// The tenant's settings for guests' access.
///
/// **Permissions:** global or user administrators.
pub async fn settings(store: &Store, actor: &Principal) -> Result<GuestAccessSettings> {
    actor.require(Permission::ManageUsers)?;
    settings_in(&mut *store.read().await?, &actor.tenant_id).await
}

/// Sets the tenant's period (`access_days`: typed as for [`parse_period`]), notice and
/// grace (days). Guests who accepted already keep their end; new invitations take the new
/// period.
///
/// **Permissions:** global administrators.
pub async fn set_settings(
    store: &Store,
    actor: &Principal,
    access_days: &str,
    notice_days: &str,
    grace_days: &str,
    now: i64,
) -> Result<GuestAccessSettings> {
    actor.require(Permission::ManageRoles)?;
    let days = |field: &str, text: &str, least: i64, most: i64| match text.trim().parse::<i64>() {
        Ok(days) if (least..=most).contains(&days) => Ok(days),
        _ => Err(FieldError {
            field: field.into(),
            message: format!("Give a number of days from {least} to {most}."),
        }),
    };
    let access = parse_period("access_days", access_days);
    let notice = days("notice_days", notice_days, 1, MOST_NOTICE_DAYS);
    let grace = days("grace_days", grace_days, 0, MOST_GRACE_DAYS);
    let mut errors: Vec<FieldError> = Vec::new();
    if let Err(Error::Invalid(fields)) = &access {
        errors.extend(fields.iter().cloned());
    }
    errors.extend(notice.as_ref().err().cloned());
    errors.extend(grace.as_ref().err().cloned());
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let wanted = GuestAccessSettings {
        access_days: access?,
        notice_days: notice.map_err(Error::from)?,
        grace_days: grace.map_err(Error::from)?,
    };
    let mut tx = store.begin().await?;
    let before = settings_in(&mut tx, &actor.tenant_id).await?;
    store::guest_access::set_settings(&mut tx, &actor.tenant_id, &wanted).await?;
    let tenant = crate::collaboration::read_in(&mut tx, &actor.tenant_id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update external collaboration settings",
            target_type: "Tenant",
            target_id: &actor.tenant_id,
            target_name: &tenant.tenant_name,
            detail: format!(
                "guest access {} (was {}); notice {} days (was {}); deletion {} days after \
                 the end (was {})",
                describe_period(wanted.access_days),
                describe_period(before.access_days),
                wanted.notice_days,
                before.notice_days,
                wanted.grace_days,
                before.grace_days
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(wanted)
}

/// "180 days" or "never ends".
pub fn describe_period(days: Option<i64>) -> String {
    match days {
        Some(1) => "1 day".into(),
        Some(days) => format!("{days} days"),
        None => "never ends".into(),
    }
}

/// The period a new invitation carries: `typed` when the inviter chose one (see
/// [`parse_period`]; `None` or empty text: the tenant's default). A period longer than the
/// tenant's (or none when the tenant has one) takes someone who manages users: inviters
/// may shorten a guest's access, not stretch the organization's rule.
pub(crate) async fn period_for_invitation(
    tx: &mut Tx,
    actor: &Principal,
    typed: Option<&str>,
) -> Result<Option<i64>> {
    let default = settings_in(tx, &actor.tenant_id).await?.access_days;
    let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    let chosen = parse_period("access_days", typed)?;
    let longer = match (chosen, default) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(chosen), Some(default)) => chosen > default,
    };
    if longer && !actor.may(Permission::ManageUsers) {
        return Err(Error::Forbidden(format!(
            "Guest access here ends after {} at most; only user administrators give longer.",
            describe_period(default)
        )));
    }
    Ok(chosen)
}

/// Starts the period of the invitation `invitation_id`, which `user_id` accepted at `now`.
pub(crate) async fn start(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
    invitation_id: &str,
    now: i64,
) -> Result<Option<i64>> {
    let days = store::guest_access::invitation_period(tx, invitation_id).await?;
    let ends_at = end_of(now, days);
    store::guest_access::set_end(tx, tenant_id, user_id, ends_at, now).await?;
    Ok(ends_at)
}

/// The period a renewal or a restore gives: the guest's accepted invitation's, else the
/// tenant's.
async fn period_of(tx: &mut Tx, tenant_id: &str, guest_id: &str) -> Result<Option<i64>> {
    match store::guest_access::accepted_period(tx, guest_id).await? {
        Some(days) => Ok(days),
        None => Ok(settings_in(tx, tenant_id).await?.access_days),
    }
}

/// The guest `guest_id` of the actor's tenant.
async fn guest(tx: &mut Tx, tenant_id: &str, guest_id: &str) -> Result<UserSummary> {
    let user = store::users::get(tx, tenant_id, guest_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if user.user_type != UserType::Guest {
        return Err(Error::Conflict(format!(
            "{} is a member; only guests' access ends.",
            user.display_name
        )));
    }
    Ok(user)
}

/// Where the access of a user of the tenant stands, inside the caller's transaction.
pub(crate) async fn of_user_in(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
) -> Result<GuestAccessState> {
    access_of(tx, tenant_id, user_id).await
}

async fn access_of(tx: &mut Tx, tenant_id: &str, user_id: &str) -> Result<GuestAccessState> {
    store::guest_access::of_user(tx, tenant_id, user_id)
        .await?
        .ok_or(Error::NotFound("user"))
}

/// Whether `actor` answers for the guest: a user administrator (or the operator, or a
/// program that manages users), or one of the guest's sponsors.
async fn may_answer_for(tx: &mut Tx, actor: &Principal, guest_id: &str) -> Result<()> {
    if actor.may(Permission::ManageUsers) {
        return Ok(());
    }
    if let Actor::User {
        user_id,
        guest: false,
        ..
    } = &actor.actor
        && store::guest_access::is_sponsor(tx, guest_id, user_id).await?
    {
        return Ok(());
    }
    Err(Error::AccessDenied)
}

/// What [`end_access`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    /// False when the guest's access had ended already: nothing changed, nothing audited.
    pub newly: bool,
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
    /// When the guest is deleted unless restored.
    pub delete_after: i64,
}

/// Ends a guest's access now, inside the caller's transaction: disables the guest, ends
/// their sessions, revokes their tokens, and schedules deletion after the tenant's grace
/// period (`now + grace_days`), audited as `actor` with `reason` ("the access period
/// ended", "denied in the access review …"). A guest whose access had ended already is left
/// as is (`Ended::newly` false). Members are refused: their access does not end this way.
///
/// **Permissions:** the caller's to decide (Portico at the end of the period, an access
/// review's outcome): this function checks none.
pub(crate) async fn end_access(
    tx: &mut Tx,
    actor: &Principal,
    user_id: &str,
    now: i64,
    reason: &str,
) -> Result<Ended> {
    let user = guest(tx, &actor.tenant_id, user_id).await?;
    let access = access_of(tx, &actor.tenant_id, user_id).await?;
    if let Some(delete_after) = access.delete_after {
        return Ok(Ended {
            newly: false,
            sessions_ended: 0,
            tokens_revoked: 0,
            delete_after,
        });
    }
    let grace = settings_in(tx, &actor.tenant_id).await?.grace_days;
    let delete_after = now + grace * DAY;
    store::guest_access::set_ended(tx, &actor.tenant_id, user_id, reason, delete_after, now)
        .await?;
    let sessions_ended = store::sessions::delete_for_user(tx, user_id).await?;
    let tokens_revoked = store::guest_access::revoke_tokens(tx, user_id, now).await?;
    audit::record(
        tx,
        actor,
        now,
        Change {
            action: "End guest access",
            target_type: "User",
            target_id: user_id,
            target_name: &user.display_name,
            detail: format!(
                "{reason}; disabled, {sessions_ended} sessions ended, {tokens_revoked} tokens \
                 revoked; deleted after {} unless restored",
                format::datetime(delete_after)
            ),
        },
    )
    .await?;
    Ok(Ended {
        newly: true,
        sessions_ended,
        tokens_revoked,
        delete_after,
    })
}

/// Where a guest's access stands.
///
/// **Permissions:** global or user administrators, the guest's sponsors, and the guest.
pub async fn of_guest(
    store: &Store,
    actor: &Principal,
    guest_id: &str,
) -> Result<GuestAccessState> {
    let mut tx = store.begin().await?;
    if !actor.is_user(guest_id) && !actor.may(Permission::ReadUsers) {
        may_answer_for(&mut tx, actor, guest_id).await?;
    }
    guest(&mut tx, &actor.tenant_id, guest_id).await?;
    access_of(&mut tx, &actor.tenant_id, guest_id).await
}

/// The guest and their access, for the page the notice links to.
///
/// **Permissions:** global or user administrators, and the guest's sponsors.
pub async fn sponsored(store: &Store, actor: &Principal, guest_id: &str) -> Result<Sponsored> {
    let mut tx = store.begin().await?;
    // Who may act first: whether the id is a user, or a member, is not told to others.
    may_answer_for(&mut tx, actor, guest_id).await?;
    let user = guest(&mut tx, &actor.tenant_id, guest_id).await?;
    Ok(Sponsored {
        access: access_of(&mut tx, &actor.tenant_id, guest_id).await?,
        renewal_days: period_of(&mut tx, &actor.tenant_id, guest_id).await?,
        guest: user,
    })
}

/// Renews a guest's access before it ends: the new end is the old one plus the guest's
/// period (their invitation's, else the tenant's; with neither, access no longer ends).
/// Answers the guest's access as it is now.
///
/// **Permissions:** global or user administrators, and the guest's sponsors.
pub async fn renew(
    store: &Store,
    actor: &Principal,
    guest_id: &str,
    now: i64,
) -> Result<GuestAccessState> {
    let mut tx = store.begin().await?;
    // Who may act first: whether the id is a user, or a member, is not told to others.
    may_answer_for(&mut tx, actor, guest_id).await?;
    let user = guest(&mut tx, &actor.tenant_id, guest_id).await?;
    let access = access_of(&mut tx, &actor.tenant_id, guest_id).await?;
    if access.delete_after.is_some() {
        return Err(Error::Conflict(format!(
            "{}'s access has ended already; restore it instead.",
            user.display_name
        )));
    }
    let Some(ends_at) = access.ends_at else {
        return Err(Error::Conflict(format!(
            "{}'s access does not end; there is nothing to renew.",
            user.display_name
        )));
    };
    let days = period_of(&mut tx, &actor.tenant_id, guest_id).await?;
    let new_end = end_of(ends_at.max(now), days);
    store::guest_access::set_end(&mut tx, &actor.tenant_id, guest_id, new_end, now).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Renew guest access",
            target_type: "User",
            target_id: guest_id,
            target_name: &user.display_name,
            detail: format!(
                "ends {} (was {})",
                describe_end(new_end),
                format::datetime(ends_at)
            ),
        },
    )
    .await?;
    let after = access_of(&mut tx, &actor.tenant_id, guest_id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Records that a sponsor (or an administrator) lets the guest's access end as scheduled:
/// nothing about the guest changes; the trail says who decided.
///
/// **Permissions:** global or user administrators, and the guest's sponsors.
pub async fn let_end(store: &Store, actor: &Principal, guest_id: &str, now: i64) -> Result<()> {
    let mut tx = store.begin().await?;
    // Who may act first: whether the id is a user, or a member, is not told to others.
    may_answer_for(&mut tx, actor, guest_id).await?;
    let user = guest(&mut tx, &actor.tenant_id, guest_id).await?;
    let access = access_of(&mut tx, &actor.tenant_id, guest_id).await?;
    let Some(ends_at) = access.ends_at.filter(|_| access.delete_after.is_none()) else {
        return Err(Error::Conflict(format!(
            "{}'s access is not due to end.",
            user.display_name
        )));
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Let guest access end",
            target_type: "User",
            target_id: guest_id,
            target_name: &user.display_name,
            detail: format!("ends {}", format::datetime(ends_at)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn describe_end(ends_at: Option<i64>) -> String {
    ends_at.map_or_else(|| "never".into(), format::datetime)
}

/// Restores a guest whose access ended, during the grace period: enabled again, deletion
/// called off, and a new end of now plus the guest's period. Answers the guest's access as
/// it is now.
///
/// **Permissions:** global or user administrators, and the guest's sponsors.
pub async fn restore(
    store: &Store,
    actor: &Principal,
    guest_id: &str,
    now: i64,
) -> Result<GuestAccessState> {
    let mut tx = store.begin().await?;
    may_answer_for(&mut tx, actor, guest_id).await?;
    let access = restore_in(&mut tx, actor, guest_id, now).await?;
    tx.commit().await?;
    Ok(access)
}

/// [`restore`] inside the caller's transaction, without the permission check (the caller
/// has made it).
pub(crate) async fn restore_in(
    tx: &mut Tx,
    actor: &Principal,
    guest_id: &str,
    now: i64,
) -> Result<GuestAccessState> {
    let user = guest(tx, &actor.tenant_id, guest_id).await?;
    let access = access_of(tx, &actor.tenant_id, guest_id).await?;
    let Some(ended_at) = access.ended_at.filter(|_| access.delete_after.is_some()) else {
        return Err(Error::Conflict(format!(
            "{}'s access has not ended; there is nothing to restore.",
            user.display_name
        )));
    };
    let days = period_of(tx, &actor.tenant_id, guest_id).await?;
    let new_end = end_of(now, days);
    store::guest_access::set_restored(tx, &actor.tenant_id, guest_id, new_end, now).await?;
    audit::record(
        tx,
        actor,
        now,
        Change {
            action: "Restore guest access",
            target_type: "User",
            target_id: guest_id,
            target_name: &user.display_name,
            detail: format!(
                "enabled; access had ended {} ({}); ends {}",
                format::datetime(ended_at),
                access.end_reason.as_deref().unwrap_or("no reason noted"),
                describe_end(new_end)
            ),
        },
    )
    .await?;
    access_of(tx, &actor.tenant_id, guest_id).await
}

/// For a guest enabled by hand whose end has passed (disabled by hand, not ended): a new
/// period from now, audited as a renewal, so that the next sweep does not end what an
/// administrator just allowed. Nothing for an end still ahead, or none.
pub(crate) async fn renew_if_past(
    tx: &mut Tx,
    actor: &Principal,
    guest_id: &str,
    access: &GuestAccessState,
    now: i64,
) -> Result<()> {
    let Some(ends_at) = access.ends_at.filter(|_| has_ended(access.ends_at, now)) else {
        return Ok(());
    };
    let user = guest(tx, &actor.tenant_id, guest_id).await?;
    let new_end = end_of(now, period_of(tx, &actor.tenant_id, guest_id).await?);
    store::guest_access::set_end(tx, &actor.tenant_id, guest_id, new_end, now).await?;
    audit::record(
        tx,
        actor,
        now,
        Change {
            action: "Renew guest access",
            target_type: "User",
            target_id: guest_id,
            target_name: &user.display_name,
            detail: format!(
                "enabled after the end had passed; ends {} (was {})",
                describe_end(new_end),
                format::datetime(ends_at)
            ),
        },
    )
    .await
}

/// What a [`sweep`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    /// Guests whose sponsors were told their access ends soon.
    pub noticed: u64,
    /// Guests whose access ended (disabled).
    pub ended: u64,
    /// Guests deleted after their grace period.
    pub deleted: u64,
}

/// Portico's part, run now and then (with the sweeper): sends the notices that are due,
/// ends the access of guests whose end has come, and deletes guests whose grace period is
/// over. Each guest is handled in a transaction of its own, audited as Portico. `base_url`
/// is Portico's public address, for the link in the notices.
pub async fn sweep(store: &Store, base_url: &str, now: i64) -> Result<Swept> {
    let mut swept = Swept::default();
    let ending = store::guest_access::ending_unnoticed(
        &mut *store.read().await?,
        now,
        now + MOST_NOTICE_DAYS * DAY,
    )
    .await?;
    for due in ending {
        let Some(ends_at) = due.ends_at else { continue };
        if !notice_due(ends_at, due.notice_days, now) {
            continue;
        }
        let mut tx = store.begin().await?;
        send_notice(&mut tx, &due, ends_at, base_url, now).await?;
        tx.commit().await?;
        swept.noticed += 1;
    }
    for due in store::guest_access::ended_unhandled(&mut *store.read().await?, now).await? {
        let mut tx = store.begin().await?;
        let portico = Principal::portico(&due.tenant_id);
        if end_access(&mut tx, &portico, &due.id, now, PERIOD_ENDED)
            .await?
            .newly
        {
            swept.ended += 1;
        }
        tx.commit().await?;
    }
    for due in store::guest_access::past_grace(&mut *store.read().await?, now).await? {
        let mut tx = store.begin().await?;
        if delete_past_grace(&mut tx, &due, now).await? {
            swept.deleted += 1;
        }
        tx.commit().await?;
    }
    Ok(swept)
}

/// Deletes a guest whose grace period is over, unless they were restored meanwhile (read
/// again inside the transaction). True when the guest went.
async fn delete_past_grace(tx: &mut Tx, due: &store::guest_access::Due, now: i64) -> Result<bool> {
    let Some(user) = store::users::get(tx, &due.tenant_id, &due.id).await? else {
        return Ok(false);
    };
    let access = access_of(tx, &due.tenant_id, &due.id).await?;
    let Some(delete_after) = access.delete_after.filter(|at| *at <= now && !user.enabled) else {
        return Ok(false);
    };
    store::sessions::delete_for_user(tx, &due.id).await?;
    store::users::delete(tx, &due.tenant_id, &due.id).await?;
    audit::record_by_portico(
        tx,
        &due.tenant_id,
        now,
        Change {
            action: "Delete user",
            target_type: "User",
            target_id: &due.id,
            target_name: &user.display_name,
            detail: format!(
                "{}; guest access ended {} ({}); not restored by {}",
                user.email,
                access.ended_at.map_or_else(String::new, format::datetime),
                access.end_reason.as_deref().unwrap_or("no reason noted"),
                format::datetime(delete_after)
            ),
        },
    )
    .await?;
    Ok(true)
}

/// Mails each sponsor, and the guest, that the guest's access ends at `ends_at`, and notes
/// it so that the notice goes once for this end.
async fn send_notice(
    tx: &mut Tx,
    due: &store::guest_access::Due,
    ends_at: i64,
    base_url: &str,
    now: i64,
) -> Result<()> {
    let sponsors = store::sponsors::of_guest(tx, &due.id).await?;
    let link = sponsor_link(base_url, &due.id);
    let when = format::datetime(ends_at);
    for sponsor in &sponsors {
        let mail = sponsor_notice(&sponsor.email, due, &when, &link);
        outbox::enqueue(tx, Some(&due.tenant_id), &mail, now).await?;
    }
    let mail = guest_notice(due, &when, &sponsors);
    outbox::enqueue(tx, Some(&due.tenant_id), &mail, now).await?;
    store::guest_access::set_notice_sent(tx, &due.id, ends_at).await?;
    audit::record_by_portico(
        tx,
        &due.tenant_id,
        now,
        Change {
            action: "Send guest access notice",
            target_type: "User",
            target_id: &due.id,
            target_name: &due.display_name,
            detail: format!(
                "ends {when}; told {} and the guest",
                crate::sponsors::describe(&sponsors)
            ),
        },
    )
    .await
}

fn sponsor_notice(to: &str, due: &store::guest_access::Due, when: &str, link: &str) -> Mail {
    let (guest, tenant) = (&due.display_name, &due.tenant_name);
    let subject = format!("{guest}'s guest access to {tenant} ends on {when}");
    let text = format!(
        "You sponsor {guest} ({}), a guest of {tenant}. Their access ends on {when} unless \
         a sponsor renews it.\n\n\
         Renew it or let it end (sign in first): {link}\n\n\
         If nobody renews it, {guest} is disabled then and deleted later; until the deletion a \
         sponsor or an administrator can still restore them.\n",
        due.email
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <p>You sponsor <strong>{}</strong> ({}), a guest of {}. Their access ends on \
         <strong>{}</strong> unless a sponsor renews it.</p>\
         <p><a href=\"{}\">Renew it or let it end</a> (you sign in first).</p>\
         <p>If nobody renews it, they are disabled then and deleted later; until the deletion \
         a sponsor or an administrator can still restore them.</p></body></html>",
        escape_html(guest),
        escape_html(&due.email),
        escape_html(tenant),
        escape_html(when),
        escape_html(link)
    );
    Mail {
        recipient: to.into(),
        subject,
        text,
        html,
        // The link only names the page; acting there takes signing in as a sponsor.
        secret: false,
    }
}

fn guest_notice(due: &store::guest_access::Due, when: &str, sponsors: &[types::UserRef]) -> Mail {
    let tenant = &due.tenant_name;
    let contacts = crate::sponsors::describe(sponsors);
    let subject = format!("Your guest access to {tenant} ends on {when}");
    let text = format!(
        "Your access to {tenant}'s apps as a guest ends on {when} unless one of your sponsors \
         renews it.\nYour sponsors: {contacts}. Ask them if you still need access.\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <p>Your access to {}'s apps as a guest ends on <strong>{}</strong> unless one of \
         your sponsors renews it.</p><p>Your sponsors: {}. Ask them if you still need \
         access.</p></body></html>",
        escape_html(tenant),
        escape_html(when),
        escape_html(&contacts)
    );
    Mail {
        recipient: due.email.clone(),
        subject,
        text,
        html,
        secret: false,
    }
}
