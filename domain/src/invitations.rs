//! Inviting people from partner organizations as guests: a guest user exists at once
//! (pending acceptance), so it can be put in groups and given apps before it accepts; the
//! invitation carries a single-use link whose ticket is stored only as a hash; the mail
//! with the link is written to the outbox in the same transaction.

use types::{
    AllowInvitesFrom, BulkInviteResult, BulkInviteRow, BulkOutcome, ExternalCollaboration,
    ExternalState, FieldError, InvitationSummary, Invited, Role, UserSummary, UserType,
};

use crate::audit::{self, Change};
use crate::collaboration;
use crate::outbox::{self, Mail, escape_html};
use crate::store::{self, Tx, invitations::NewInvitation, users::NewUser};
use crate::{Actor, Error, Permission, Principal, Result, Store, secrets, validate};

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
    /// The guest's sponsors: ids or addresses of members. Empty: the inviter when a
    /// member, else the fallback sponsor (see [`crate::sponsors::choose`]); for a pending
    /// guest invited again, empty keeps the sponsors they have.
    pub sponsors: &'a [String],
    /// How long the guest's access lasts from acceptance, as typed (days, or `never`; see
    /// [`crate::guest_access::parse_period`]). `None` or empty: the organization's default.
    pub access_days: Option<&'a str>,
}

/// Invites `input.email` into the actor's tenant. An address that is a pending guest
/// already gets a new link (the old one dies); a member or an accepted guest is refused.
/// `base_url` is Portico's public address, for the link.
///
/// **Permissions:** whom the tenant's `allowInvitesFrom` lets invite ([`may_invite`]), to
/// a domain its collaboration restrictions let guests come from.
pub async fn invite_guest(
    store: &Store,
    actor: &Principal,
    input: InviteInput<'_>,
    base_url: &str,
    now: i64,
) -> Result<Invited> {
    // The rules that read and then write take their locks by name (see
    // `invite_guest_in`), so invitations run beside each other on PostgreSQL.
    let mut tx = store.begin_plain().await?;
    let invited = invite_guest_in(&mut tx, actor, input, base_url, now).await?;
    tx.commit().await?;
    Ok(invited)
}

/// [`invite_guest`] inside a transaction of the caller's, so that what the invitation is
/// for (an owner's app or group) is given in the same commit. Every rule of inviting is
/// checked here: whoever calls this invites on the same terms.
///
/// Correct in a transaction of [`Store::begin_plain`]: it locks the address before it
/// looks for its user (one invitation of an address at a time, so two make one guest and
/// the newer link supersedes the older), and the audit event locks the tenant's chain.
/// The tenant's settings it reads are those in force when it began.
pub(crate) async fn invite_guest_in(
    tx: &mut Tx,
    actor: &Principal,
    input: InviteInput<'_>,
    base_url: &str,
    now: i64,
) -> Result<Invited> {
    let inviting = Inviting::read(tx, actor, base_url).await?;
    let Checked {
        email,
        display_name,
        message,
        redirect,
    } = check(&input)?;
    inviting.permit(&email)?;
    let sponsors = crate::sponsors::choose(tx, actor, input.sponsors).await?;
    store::lock(tx, store::Lock::Address(&actor.tenant_id, &email)).await?;
    let existing = store::users::by_email(tx, &actor.tenant_id, &email).await?;
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
            // A new link is anyone's who may invite; changing who answers for a guest is
            // an administrator's (as adding and removing sponsors is).
            if !input.sponsors.is_empty() && !actor.may(Permission::ManageUsers) {
                return Err(Error::Forbidden(format!(
                    "{email} is a pending guest already: sending a new link keeps their \
                     sponsors, and only user administrators change them. Invite again without \
                     naming sponsors."
                )));
            }
            store::invitations::supersede_pending(tx, &user.id).await?;
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
        access_days: input.access_days,
    };
    let (invitation_id, redeem_url) = issue(tx, &inviting, &user, link, now).await?;
    let sponsored = if !resent || !input.sponsors.is_empty() {
        crate::sponsors::replace(tx, &user.id, &sponsors, now).await?;
        format!("; sponsors: {}", crate::sponsors::describe(&sponsors))
    } else {
        String::new()
    };
    let detail = format!(
        "{email}{}{}{sponsored}",
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
/// redirect address, personal message, sponsors) in one transaction. Each row is reported: invited,
/// already a user of this tenant (member or guest; left as it is), or invalid with the
/// reason. Bad rows change nothing; the good ones are created, each with its audit event.
///
/// Each address must be at a domain the collaboration restrictions let guests come from;
/// a row that is not is reported invalid, with the rule.
///
/// **Permissions:** whom the tenant's `allowInvitesFrom` lets invite ([`may_invite`]).
pub async fn invite_many(
    store: &Store,
    actor: &Principal,
    rows: &[BulkInviteRow],
    send_email: bool,
    base_url: &str,
    now: i64,
) -> Result<Vec<BulkInviteResult>> {
    if rows.len() > BULK_ROWS {
        return Err(Error::Invalid(vec![FieldError {
            field: "rows".into(),
            message: format!("Send at most {BULK_ROWS} rows at a time."),
        }]));
    }
    let mut tx = store.begin().await?;
    // The file's addresses are locked before any is looked at, as one invitation locks its
    // own (see `invite_guest_in`): an invitation of one of them running beside this waits,
    // or this waits for it.
    let addresses: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|row| validate::invited_email("email", row.fields.first()?).ok())
        .collect();
    for address in &addresses {
        store::lock(&mut tx, store::Lock::Address(&actor.tenant_id, address)).await?;
    }
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
    if row.fields.len() > 5 {
        return Ok(BulkOutcome::Invalid {
            reason: format!(
                "It has {} columns; a row has at most 5: email address, display name, \
                 redirect address, personal message, sponsors.",
                row.fields.len()
            ),
        });
    }
    let column = |i: usize| row.fields.get(i).map(String::as_str).unwrap_or_default();
    let named = crate::sponsors::parse_list(column(4));
    let valid = match check(&InviteInput {
        email: column(0),
        display_name: column(1),
        redirect_url: column(2),
        message: column(3),
        send_email,
        sponsors: &named,
        access_days: None,
    }) {
        Ok(valid) => valid,
        Err(error) => {
            return Ok(BulkOutcome::Invalid {
                reason: describe_row_error(&error),
            });
        }
    };
    let actor = inviting.actor;
    if let Some(user) = store::users::by_email(tx, &actor.tenant_id, &valid.email).await? {
        return Ok(BulkOutcome::AlreadyUser { user_id: user.id });
    }
    if let Err(refused) = inviting.permit(&valid.email) {
        return Ok(BulkOutcome::Invalid {
            reason: refused.to_string(),
        });
    }
    let sponsors = match crate::sponsors::choose(tx, actor, &named).await {
        Ok(sponsors) => sponsors,
        Err(error) => {
            return Ok(BulkOutcome::Invalid {
                reason: describe_row_error(&error),
            });
        }
    };
    let user = create_guest(tx, actor, &valid.email, &valid.display_name, now).await?;
    crate::sponsors::replace(tx, &user.id, &sponsors, now).await?;
    let link = Link {
        email: &valid.email,
        message: &valid.message,
        redirect: valid.redirect.as_deref(),
        send_email,
        access_days: None,
    };
    let (_, redeem_url) = issue(tx, inviting, &user, link, now).await?;
    let detail = format!(
        "{}; bulk invitation, line {}; {}; sponsors: {}",
        valid.email,
        row.line,
        if send_email { "mail queued" } else { "no mail" },
        crate::sponsors::describe(&sponsors)
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
                    "sponsors" => "Sponsors",
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
    /// The guest's access period as the inviter typed it; `None`: the tenant's.
    access_days: Option<&'a str>,
}

/// Who invites and into what: read once per transaction, by someone who may invite
/// there ([`may_invite`]).
struct Inviting<'a> {
    actor: &'a Principal,
    tenant_name: String,
    lifetime_days: i64,
    /// Portico's public address, for the links.
    base_url: &'a str,
    collaboration: ExternalCollaboration,
    /// Domains of organizations on this Portico whose people this one keeps out
    /// (cross-tenant access, see `partners`).
    blocked_partners: Vec<String>,
}

impl<'a> Inviting<'a> {
    /// Reads the tenant's settings inside `tx` and checks that `actor` may invite under
    /// them: the check and the invitations it allows see the same settings.
    async fn read(tx: &mut Tx, actor: &'a Principal, base_url: &'a str) -> Result<Inviting<'a>> {
        let collaboration = collaboration::read_in(tx, &actor.tenant_id).await?;
        may_invite(actor, &collaboration)?;
        let (tenant_name, lifetime_days) =
            store::invitations::tenant_settings(tx, &actor.tenant_id).await?;
        let blocked_partners = store::partners::blocked_domains(tx, &actor.tenant_id).await?;
        Ok(Inviting {
            actor,
            tenant_name,
            lifetime_days,
            base_url,
            collaboration,
            blocked_partners,
        })
    }

    /// Refuses a (validated) address at a domain the collaboration restrictions keep
    /// guests out of. This holds for the operator at the command line too: the list is the
    /// organization's decision about whom it works with, and an invitation to a domain it
    /// keeps out could not be redeemed anyway (redemption checks the list again).
    fn permit(&self, email: &str) -> Result<()> {
        let domain = crate::tenants::domain_of(email);
        if self
            .blocked_partners
            .iter()
            .any(|blocked| blocked.eq_ignore_ascii_case(domain))
        {
            return Err(Error::Forbidden(format!(
                "{domain} is an organization on this Portico whose people {} does not accept (cross-tenant access settings).",
                self.tenant_name
            )));
        }
        collaboration::check_domain(&self.collaboration, domain).map_err(Error::Forbidden)
    }
}

/// Whether `actor` may invite guests into the tenant under its `allowInvitesFrom`, as
/// Microsoft Entra decides it: global administrators, user administrators and Guest
/// inviters unless it is `none`; members too unless it is `adminsAndGuestInviters` or
/// `none`; guests (who have accepted; others do not sign in) only with `everyone`. The
/// operator at the command line always may: the setting is about the organization's own
/// people, and the operator is who repairs it. A program may with the permission it was
/// granted (User.Invite.All), whatever the setting (as in Entra, where the setting does
/// not limit applications). A person acting through an app (a delegated token) may only
/// if they may themselves and the app's scopes allow inviting (User.Invite.All). A refusal
/// names the setting.
pub fn may_invite(actor: &Principal, settings: &ExternalCollaboration) -> Result<()> {
    use AllowInvitesFrom::*;
    if !actor.delegation_allows(Permission::ManageInvitations) {
        return Err(Error::AccessDenied);
    }
    let (roles, guest) = match &actor.actor {
        Actor::Operator { .. } => return Ok(()),
        Actor::App { .. } => return actor.require(Permission::ManageInvitations),
        Actor::Portico => return Err(Error::AccessDenied),
        Actor::User { roles, guest, .. } => (roles, *guest),
    };
    let setting = settings.allow_invites_from;
    let inviter = roles.iter().any(|role| {
        matches!(
            role,
            Role::GlobalAdministrator | Role::UserAdministrator | Role::GuestInviter
        )
    });
    let allowed = match setting {
        Everyone => true,
        AdminsGuestInvitersAndAllMembers => inviter || !guest,
        AdminsAndGuestInviters => inviter,
        None => false,
    };
    if allowed {
        return Ok(());
    }
    let tenant = &settings.tenant_name;
    let who = match setting {
        None => "nobody, administrators included, may invite guests".to_string(),
        AdminsAndGuestInviters => {
            "only global administrators, user administrators and Guest inviters may invite \
             guests"
                .to_string()
        }
        _ => format!(
            "only members of {tenant}, Guest inviters and administrators may invite guests; \
             guests may not"
        ),
    };
    Err(Error::Forbidden(format!(
        "{tenant}'s setting “Who may invite guests” (allowInvitesFrom: {}) says {who}. \
         Global administrators change it under Admin → External collaboration.",
        setting.as_str()
    )))
}

/// Whether `actor` may invite guests into their tenant now, for showing them the way.
///
/// **Permissions:** anyone signed in (it says only whether they may).
pub async fn may_invite_here(store: &Store, actor: &Principal) -> Result<bool> {
    let settings = collaboration::read_in(&mut *store.read().await?, &actor.tenant_id).await?;
    Ok(may_invite(actor, &settings).is_ok())
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

/// Writes a new invitation for `user` (and its mail, when asked) inside `tx`; returns the
/// invitation's id and link.
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
    let access_days =
        crate::guest_access::period_for_invitation(tx, actor, link.access_days).await?;
    store::invitations::insert(
        tx,
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
            access_days,
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
/// The new invitation is one like any other: the guest's address must be at a domain the
/// collaboration restrictions let guests come from.
///
/// **Permissions:** those who manage invitations (administrators), and may invite under
/// the tenant's `allowInvitesFrom` ([`may_invite`]).
pub async fn reset_redemption(
    store: &Store,
    actor: &Principal,
    user_id: &str,
    base_url: &str,
    now: i64,
) -> Result<Invited> {
    actor.require(Permission::ManageInvitations)?;
    let mut tx = store.begin().await?;
    let inviting = Inviting::read(&mut tx, actor, base_url).await?;
    let user = store::users::get(&mut tx, &actor.tenant_id, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if user.user_type != UserType::Guest {
        return Err(Error::Conflict(
            "Only a guest's redemption can be reset.".into(),
        ));
    }
    inviting.permit(&user.email)?;
    store::invitations::supersede_pending(&mut tx, &user.id).await?;
    store::invitations::set_external_state(
        &mut tx,
        &user.id,
        ExternalState::PendingAcceptance,
        None,
        now,
    )
    .await?;
    store::sessions::delete_for_user(&mut tx, &user.id).await?;
    let link = Link {
        email: &user.email,
        message: "",
        redirect: None,
        send_email: true,
        access_days: None,
    };
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
        tx,
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
    store::invitations::set_external_state(tx, &id, ExternalState::PendingAcceptance, None, now)
        .await?;
    Ok(UserSummary {
        id,
        email: email.into(),
        display_name: display_name.into(),
        user_type: UserType::Guest,
        enabled: true,
        created_at: now,
        external_state: Some(ExternalState::PendingAcceptance),
        last_sign_in_at: None,
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

/// The copy of an invitation for someone the inviter named (Graph's `ccRecipients`): who
/// was invited, by whom, and the inviter's message, but not the link. The link redeems the
/// invitation: whoever holds it can become the guest, so it goes to the invited address
/// alone.
pub(crate) fn invitation_copy_mail(
    recipient: &str,
    guest: &UserSummary,
    tenant: &str,
    inviter: &str,
    message: &str,
) -> Mail {
    let subject = format!("{inviter} invited {} to {tenant}", guest.display_name);
    let quoted = if message.is_empty() {
        String::new()
    } else {
        format!("\nMessage from {inviter}:\n{message}\n")
    };
    let text = format!(
        "{inviter} ({tenant}) invited {} <{}> to collaborate with them, and asked that you \
         get a copy.\n{quoted}\n\
         The invitation's link went to {} only: this copy cannot be used to accept it.\n",
        guest.display_name, guest.email, guest.email
    );
    let html_message = if message.is_empty() {
        String::new()
    } else {
        format!("<blockquote>{}</blockquote>", escape_html(message))
    };
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <p><strong>{inviter}</strong> ({tenant}) invited {name} &lt;{email}&gt; to collaborate \
         with them, and asked that you get a copy.</p>{html_message}\
         <p>The invitation's link went to {email} only: this copy cannot be used to accept it.</p>\
         </body></html>",
        inviter = escape_html(inviter),
        tenant = escape_html(tenant),
        name = escape_html(&guest.display_name),
        email = escape_html(&guest.email),
    );
    Mail {
        recipient: recipient.into(),
        subject,
        text,
        html,
        secret: false,
    }
}

/// The tenant's invitations, newest first.
///
/// **Permissions:** those who manage invitations (global and user administrators).
pub async fn list(store: &Store, actor: &Principal, now: i64) -> Result<Vec<InvitationSummary>> {
    actor.require(Permission::ManageInvitations)?;
    store::invitations::list(&mut *store.read().await?, &actor.tenant_id, now).await
}

/// One of the tenant's invitations.
///
/// **Permissions:** those who manage invitations (global and user administrators).
pub async fn get(
    store: &Store,
    actor: &Principal,
    id: &str,
    now: i64,
) -> Result<Option<InvitationSummary>> {
    actor.require(Permission::ManageInvitations)?;
    store::invitations::get(&mut *store.read().await?, &actor.tenant_id, id, now).await
}

/// How many invitations every tenant has made and still keeps, whatever their state
/// (those of deleted guests go with them): for the operator's figures.
pub async fn count(store: &Store) -> Result<i64> {
    store::invitations::count(&mut *store.read().await?).await
}

/// Revokes a pending invitation: its link stops working; the guest user stays.
///
/// **Permissions:** those who manage invitations (global and user administrators).
pub async fn revoke(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManageInvitations)?;
    let mut tx = store.begin().await?;
    let invitation = store::invitations::get(&mut tx, &actor.tenant_id, id, now)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    if !store::invitations::revoke(&mut tx, &actor.tenant_id, id).await? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use types::AppPermission;

    fn person(roles: Vec<Role>, guest: bool) -> Principal {
        Principal::user("t", "u", "Pat", roles, guest, None)
    }

    fn under(allow_invites_from: AllowInvitesFrom) -> ExternalCollaboration {
        ExternalCollaboration {
            tenant_name: "Contoso".into(),
            allow_invites_from,
            ..ExternalCollaboration::default()
        }
    }

    #[test]
    fn who_may_invite_under_each_setting() {
        use AllowInvitesFrom::*;
        let actors = [
            ("member", person(vec![], false)),
            ("accepted guest", person(vec![], true)),
            ("guest inviter", person(vec![Role::GuestInviter], false)),
            (
                "guest who is a guest inviter",
                person(vec![Role::GuestInviter], true),
            ),
            (
                "user administrator",
                person(vec![Role::UserAdministrator], false),
            ),
            (
                "global administrator",
                person(vec![Role::GlobalAdministrator], false),
            ),
        ];
        // Who may, per setting, in the order of `actors`.
        let matrix = [
            (Everyone, [true, true, true, true, true, true]),
            (
                AdminsGuestInvitersAndAllMembers,
                [true, false, true, true, true, true],
            ),
            (
                AdminsAndGuestInviters,
                [false, false, true, true, true, true],
            ),
            (None, [false, false, false, false, false, false]),
        ];
        for (setting, expected) in matrix {
            for ((who, actor), may) in actors.iter().zip(expected) {
                let answer = may_invite(actor, &under(setting));
                assert_eq!(answer.is_ok(), may, "{who} under {}", setting.as_str());
                if let Err(refused) = answer {
                    let message = refused.to_string();
                    assert!(
                        message.contains(setting.as_str()) && message.contains("Contoso"),
                        "{message}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_operator_always_may_invite_portico_never_and_a_program_by_its_grant() {
        let none = under(AllowInvitesFrom::None);
        assert!(may_invite(&Principal::operator("t"), &none).is_ok());
        assert!(matches!(
            may_invite(&Principal::portico("t"), &under(AllowInvitesFrom::Everyone)),
            Err(Error::AccessDenied)
        ));
        let app = |permissions| Principal {
            tenant_id: "t".into(),
            actor: Actor::App {
                app_id: "a".into(),
                name: "Onboarding".into(),
                permissions,
            },
            ip: None,
        };
        assert!(may_invite(&app(vec![AppPermission::UserInviteAll]), &none).is_ok());
        assert!(may_invite(&app(vec![AppPermission::UserReadAll]), &none).is_err());
    }

    #[test]
    fn a_person_through_an_app_invites_only_with_the_scope_and_their_own_right() {
        let through = |roles, scopes| {
            person(roles, false).through(crate::Delegation {
                app_id: "a".into(),
                app_name: "Portal".into(),
                scopes,
            })
        };
        let strict = under(AllowInvitesFrom::AdminsAndGuestInviters);
        let inviter = through(vec![Role::GuestInviter], vec![AppPermission::UserInviteAll]);
        assert!(may_invite(&inviter, &strict).is_ok());
        // The scope alone is not enough: the setting still decides for the person.
        let member = through(vec![], vec![AppPermission::UserInviteAll]);
        assert!(matches!(
            may_invite(&member, &strict),
            Err(Error::Forbidden(_))
        ));
        // Nor the person's right alone: the app was not given the scope.
        let unscoped = through(
            vec![Role::GlobalAdministrator],
            vec![AppPermission::UserReadAll],
        );
        assert!(matches!(
            may_invite(&unscoped, &strict),
            Err(Error::AccessDenied)
        ));
    }
}
