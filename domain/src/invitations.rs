//! Inviting people from partner organizations as guests: a guest user exists at once
//! (pending acceptance), so it can be put in groups and given apps before it accepts; the
//! invitation carries a single-use link whose ticket is stored only as a hash; the mail
//! with the link is written to the outbox in the same transaction.

use types::{
    BulkInviteResult, BulkInviteRow, BulkOutcome, ExternalState, FieldError, InvitationSummary,
    Invited, UserSummary, UserType,
};

use crate::audit::{self, Change};
use crate::outbox::{self, Mail, escape_html};
use crate::store::{self, Tx, invitations::NewInvitation, users::NewUser};
use crate::{Error, Permission, Principal, Result, Store, secrets, validate};

/// An invitation as an inviter fills it in.
pub struct InviteInput<'a> {
    pub email: &'a str,
    /// Empty: the part of the address before the @.
    pub display_name: &'a str,
    pub message: &'a str,
    /// Where the guest lands after accepting; empty: the access panel.
    pub redirect_url: &'a str,
    /// Whether Portico mails the link (else the inviter hands it over).
    pub send_email: bool,
}

/// Invites `input.email` into the actor's tenant. An address that is a pending guest
/// already gets a new link (the old one dies); a member or an accepted guest is refused.
/// `base_url` is Portico's public address, for the link.
///
/// **Permissions:** global administrators (who else may invite is a tenant setting to come).
pub async fn invite_guest(
    store: &Store,
    actor: &Principal,
    input: InviteInput<'_>,
    base_url: &str,
    now: i64,
) -> Result<Invited> {
    let mut tx = store.begin().await?;
    let invited = invite_guest_in(&mut tx, actor, input, base_url, now).await?;
    tx.commit().await?;
    Ok(invited)
}

/// [`invite_guest`] inside a transaction of the caller's, so that what the invitation is
/// for (an owner's app or group) is given in the same commit. Every rule of inviting is
/// checked here: whoever calls this invites on the same terms.
pub(crate) async fn invite_guest_in(
    tx: &mut Tx,
    actor: &Principal,
    input: InviteInput<'_>,
    base_url: &str,
    now: i64,
) -> Result<Invited> {
    actor.require(Permission::InviteGuests)?;
    let Checked {
        email,
        display_name,
        message,
        redirect,
    } = check(&input)?;

    let existing = store::users::by_email(&mut **tx, &actor.tenant_id, &email).await?;
    let (user, resent) = match existing {
        Some(user) if user.user_type == UserType::Member => {
            return Err(Error::Conflict(format!(
                "{email} is a member of this organization already."
            )));
        }
        Some(user) if user.external_state == Some(ExternalState::Accepted) => {
            return Err(Error::Conflict(format!(
                "{email} is a guest here already and has accepted."
            )));
        }
        Some(user) => {
            store::invitations::supersede_pending(&mut **tx, &user.id).await?;
            (user, true)
        }
        None => (
            create_guest(tx, actor, &email, &display_name, now).await?,
            false,
        ),
    };
    let link = Link {
        email: &email,
        message: &message,
        redirect: redirect.as_deref(),
        send_email: input.send_email,
    };
    let inviting = Inviting::read(tx, actor, base_url).await?;
    let (invitation_id, redeem_url) = issue(tx, &inviting, &user, link, now).await?;
    let detail = format!(
        "{email}{}{}",
        if resent {
            "; new link, the old one no longer works"
        } else {
            ""
        },
        if input.send_email {
            "; mail queued"
        } else {
            "; no mail"
        }
    );
    record_invitation(tx, actor, &user, detail, now).await?;
    Ok(Invited {
        user,
        invitation_id,
        redeem_url,
        resent,
    })
}

/// An invitation's fields once validated.
struct Checked {
    email: String,
    display_name: String,
    message: String,
    redirect: Option<String>,
}

fn check(input: &InviteInput<'_>) -> Result<Checked> {
    let email = validate::invited_email("email", input.email);
    let local = email
        .as_deref()
        .unwrap_or_default()
        .split('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let name = if input.display_name.trim().is_empty() {
        Ok(local)
    } else {
        validate::name("display_name", input.display_name, 256)
    };
    let message = validate::text("message", input.message, 1000);
    let redirect = validate::optional_web_url("redirect_url", input.redirect_url);
    validate::report([
        email.as_ref().err(),
        name.as_ref().err(),
        message.as_ref().err(),
        redirect.as_ref().err(),
    ])?;
    Ok(Checked {
        email: email?,
        display_name: name?,
        message: message?,
        redirect: redirect?,
    })
}

/// Rows one call of [`invite_many`] takes at most. The console sends a file in parts of
/// this size, so that it can show how far it got.
pub const BULK_ROWS: usize = 100;

/// Invites the rows of a bulk invitation file (columns: email address, display name,
/// redirect address, personal message) in one transaction. Each row is reported: invited,
/// already a user of this tenant (member or guest; left as it is), or invalid with the
/// reason. Bad rows change nothing; the good ones are created, each with its audit event.
///
/// **Permissions:** those who may invite guests.
pub async fn invite_many(
    store: &Store,
    actor: &Principal,
    rows: &[BulkInviteRow],
    send_email: bool,
    base_url: &str,
    now: i64,
) -> Result<Vec<BulkInviteResult>> {
    actor.require(Permission::InviteGuests)?;
    if rows.len() > BULK_ROWS {
        return Err(Error::Invalid(vec![FieldError {
            field: "rows".into(),
            message: format!("Send at most {BULK_ROWS} rows at a time."),
        }]));
    }
    let mut tx = store.begin().await?;
    let inviting = Inviting::read(&mut tx, actor, base_url).await?;
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        results.push(BulkInviteResult {
            line: row.line,
            email: row.fields.first().cloned().unwrap_or_default(),
            outcome: invite_row(&mut tx, &inviting, row, send_email, now).await?,
        });
    }
    tx.commit().await?;
    Ok(results)
}

/// One row of a bulk invitation, inside its transaction.
async fn invite_row(
    tx: &mut Tx,
    inviting: &Inviting<'_>,
    row: &BulkInviteRow,
    send_email: bool,
    now: i64,
) -> Result<BulkOutcome> {
    if row.fields.len() > 4 {
        return Ok(BulkOutcome::Invalid {
            reason: format!(
                "It has {} columns; a row has at most 4: email address, display name, \
                 redirect address, personal message.",
                row.fields.len()
            ),
        });
    }
    let column = |i: usize| row.fields.get(i).map(String::as_str).unwrap_or_default();
    let valid = match check(&InviteInput {
        email: column(0),
        display_name: column(1),
        redirect_url: column(2),
        message: column(3),
        send_email,
    }) {
        Ok(valid) => valid,
        Err(error) => {
            return Ok(BulkOutcome::Invalid {
                reason: describe_row_error(&error),
            });
        }
    };
    let actor = inviting.actor;
    if let Some(user) = store::users::by_email(&mut **tx, &actor.tenant_id, &valid.email).await? {
        return Ok(BulkOutcome::AlreadyUser { user_id: user.id });
    }
    let user = create_guest(tx, actor, &valid.email, &valid.display_name, now).await?;
    let link = Link {
        email: &valid.email,
        message: &valid.message,
        redirect: valid.redirect.as_deref(),
        send_email,
    };
    let (_, redeem_url) = issue(tx, inviting, &user, link, now).await?;
    let detail = format!(
        "{}; bulk invitation, line {}; {}",
        valid.email,
        row.line,
        if send_email { "mail queued" } else { "no mail" }
    );
    record_invitation(tx, actor, &user, detail, now).await?;
    Ok(BulkOutcome::Invited {
        user_id: user.id,
        redeem_url,
    })
}

/// A refused row's reason, each problem named by its column.
fn describe_row_error(error: &Error) -> String {
    match error {
        Error::Invalid(fields) => fields
            .iter()
            .map(|f| {
                let column = match f.field.as_str() {
                    "email" => "Email address",
                    "display_name" => "Display name",
                    "redirect_url" => "Redirect address",
                    _ => "Personal message",
                };
                format!("{column}: {}", f.message)
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// What a new invitation link carries.
struct Link<'a> {
    email: &'a str,
    message: &'a str,
    redirect: Option<&'a str>,
    send_email: bool,
}

/// Writes a new invitation for `user` (and its mail, when asked) inside `tx`; returns the
/// invitation's id and link.
/// Who invites and into what: read once per transaction.
struct Inviting<'a> {
    actor: &'a Principal,
    tenant_name: String,
    lifetime_days: i64,
    /// Portico's public address, for the links.
    base_url: &'a str,
}

impl<'a> Inviting<'a> {
    async fn read(tx: &mut Tx, actor: &'a Principal, base_url: &'a str) -> Result<Inviting<'a>> {
        let (tenant_name, lifetime_days) =
            store::invitations::tenant_settings(&mut **tx, &actor.tenant_id).await?;
        Ok(Inviting {
            actor,
            tenant_name,
            lifetime_days,
            base_url,
        })
    }
}

/// The audit event of an invitation.
async fn record_invitation(
    tx: &mut Tx,
    actor: &Principal,
    user: &UserSummary,
    detail: String,
    now: i64,
) -> Result<()> {
    audit::record(
        tx,
        actor,
        now,
        Change {
            action: "Invite external user",
            target_type: "User",
            target_id: &user.id,
            target_name: &user.display_name,
            detail,
        },
    )
    .await
}

async fn issue(
    tx: &mut Tx,
    inviting: &Inviting<'_>,
    user: &UserSummary,
    link: Link<'_>,
    now: i64,
) -> Result<(String, String)> {
    let actor = inviting.actor;
    let ticket = secrets::new_secret();
    let invitation_id = crate::new_id();
    store::invitations::insert(
        &mut **tx,
        NewInvitation {
            id: &invitation_id,
            tenant_id: &actor.tenant_id,
            user_id: &user.id,
            email: link.email,
            redirect_url: link.redirect,
            message: link.message,
            inviter_id: actor.user_id(),
            inviter_name: actor.name(),
            ticket_hash: &secrets::hash_secret(&ticket),
            expires_at: now + inviting.lifetime_days * 86_400,
        },
        now,
    )
    .await?;
    let redeem_url = format!(
        "{}/redeem?ticket={ticket}",
        inviting.base_url.trim_end_matches('/')
    );
    if link.send_email {
        let mail = invitation_mail(
            link.email,
            &inviting.tenant_name,
            actor.name(),
            link.message,
            &redeem_url,
        );
        outbox::enqueue(tx, Some(&actor.tenant_id), &mail, now).await?;
    }
    Ok((invitation_id, redeem_url))
}

/// Resets a guest's redemption: the guest keeps its groups and apps, goes back to pending
/// acceptance, forgets the identity it redeemed with (the next redemption may bind another)
/// and gets a new invitation by mail. Its sessions end.
///
/// **Permissions:** those who may invite guests.
pub async fn reset_redemption(
    store: &Store,
    actor: &Principal,
    user_id: &str,
    base_url: &str,
    now: i64,
) -> Result<Invited> {
    actor.require(Permission::InviteGuests)?;
    let mut tx = store.begin().await?;
    let user = store::users::get(&mut *tx, &actor.tenant_id, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if user.user_type != UserType::Guest {
        return Err(Error::Conflict(
            "Only a guest's redemption can be reset.".into(),
        ));
    }
    store::invitations::supersede_pending(&mut *tx, &user.id).await?;
    store::invitations::set_external_state(
        &mut *tx,
        &user.id,
        ExternalState::PendingAcceptance,
        None,
        now,
    )
    .await?;
    store::sessions::delete_for_user(&mut *tx, &user.id).await?;
    let link = Link {
        email: &user.email,
        message: "",
        redirect: None,
        send_email: true,
    };
    let inviting = Inviting::read(&mut tx, actor, base_url).await?;
    let (invitation_id, redeem_url) = issue(&mut tx, &inviting, &user, link, now).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Reset redemption",
            target_type: "User",
            target_id: &user.id,
            target_name: &user.display_name,
            detail: format!("{}; new invitation mailed", user.email),
        },
    )
    .await?;
    tx.commit().await?;
    let user = UserSummary {
        external_state: Some(ExternalState::PendingAcceptance),
        ..user
    };
    Ok(Invited {
        user,
        invitation_id,
        redeem_url,
        resent: true,
    })
}

async fn create_guest(
    tx: &mut Tx,
    actor: &Principal,
    email: &str,
    display_name: &str,
    now: i64,
) -> Result<UserSummary> {
    let id = crate::new_id();
    store::users::insert(
        &mut **tx,
        NewUser {
            id: &id,
            tenant_id: &actor.tenant_id,
            user_type: UserType::Guest,
            email,
            display_name,
            password_hash: None,
        },
        now,
    )
    .await?;
    store::invitations::set_external_state(
        &mut **tx,
        &id,
        ExternalState::PendingAcceptance,
        None,
        now,
    )
    .await?;
    Ok(UserSummary {
        id,
        email: email.into(),
        display_name: display_name.into(),
        user_type: UserType::Guest,
        enabled: true,
        created_at: now,
        external_state: Some(ExternalState::PendingAcceptance),
    })
}

fn invitation_mail(email: &str, tenant: &str, inviter: &str, message: &str, link: &str) -> Mail {
    let subject =
        format!("{inviter} invited you to access apps within their organization {tenant}");
    let quoted = if message.is_empty() {
        String::new()
    } else {
        format!("\nMessage from {inviter}:\n{message}\n")
    };
    let text = format!(
        "{inviter} ({tenant}) invited you to collaborate with them.\n{quoted}\n\
         Accept the invitation: {link}\n\n\
         You sign in with an identity of your own; no new password is needed.\n\
         If you did not expect this, ignore this mail: nothing happens until you accept.\n"
    );
    let html_message = if message.is_empty() {
        String::new()
    } else {
        format!("<blockquote>{}</blockquote>", escape_html(message))
    };
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <p><strong>{}</strong> ({}) invited you to collaborate with them.</p>{html_message}\
         <p><a href=\"{}\">Accept the invitation</a></p>\
         <p>You sign in with an identity of your own; no new password is needed. \
         If you did not expect this, ignore this mail: nothing happens until you accept.</p>\
         </body></html>",
        escape_html(inviter),
        escape_html(tenant),
        escape_html(link)
    );
    Mail {
        recipient: email.into(),
        subject,
        text,
        html,
        // The link redeems the invitation: whoever reads it can become the guest.
        secret: true,
    }
}

/// The tenant's invitations, newest first.
///
/// **Permissions:** those who may invite guests.
pub async fn list(store: &Store, actor: &Principal, now: i64) -> Result<Vec<InvitationSummary>> {
    actor.require(Permission::InviteGuests)?;
    store::invitations::list(&mut *store.read().await?, &actor.tenant_id, now).await
}

/// One of the tenant's invitations.
///
/// **Permissions:** those who may invite guests.
pub async fn get(
    store: &Store,
    actor: &Principal,
    id: &str,
    now: i64,
) -> Result<Option<InvitationSummary>> {
    actor.require(Permission::InviteGuests)?;
    store::invitations::get(&mut *store.read().await?, &actor.tenant_id, id, now).await
}

/// How many invitations every tenant has made and still keeps, whatever their state
/// (those of deleted guests go with them): for the operator's figures.
pub async fn count(store: &Store) -> Result<i64> {
    store::invitations::count(&mut *store.read().await?).await
}

/// Revokes a pending invitation: its link stops working; the guest user stays.
///
/// **Permissions:** those who may invite guests.
pub async fn revoke(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::InviteGuests)?;
    let mut tx = store.begin().await?;
    let invitation = store::invitations::get(&mut *tx, &actor.tenant_id, id, now)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    if !store::invitations::revoke(&mut *tx, &actor.tenant_id, id).await? {
        return Err(Error::Conflict(format!(
            "This invitation is {} and cannot be revoked.",
            invitation.status.label().to_lowercase()
        )));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Revoke invitation",
            target_type: "User",
            target_id: &invitation.user_id,
            target_name: &invitation.display_name,
            detail: invitation.email.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
