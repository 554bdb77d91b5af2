//! `/v1.0/invitations`: Graph's invitation API, and what Portico adds to it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use types::{InvitationStatus, InvitationSummary};

use super::{GraphError, context};
use crate::invitations::InviteInput;
use crate::{Error, Principal, Store, store};

/// `POST /v1.0/invitations`, as Graph documents it. A property it does not have is refused.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewInvitation {
    /// Graph's client libraries may name the type; nothing else is read from it.
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// Required, as Graph requires it; checked by `invite` so the refusal says so.
    #[schemars(required, with = "String")]
    pub invited_user_email_address: Option<String>,
    #[schemars(required, with = "String")]
    pub invite_redirect_url: Option<String>,
    pub invited_user_display_name: Option<String>,
    pub send_invitation_message: Option<bool>,
    pub invited_user_message_info: Option<MessageInfo>,
    pub invited_user_type: Option<String>,
    pub reset_redemption: Option<bool>,
    pub invited_user: Option<ObjectRef>,
    pub invited_user_sponsors: Option<Vec<ObjectRef>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessageInfo {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub message_language: Option<String>,
    pub customized_message_body: Option<String>,
    pub cc_recipients: Option<Vec<Recipient>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Recipient {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub email_address: Option<EmailAddress>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailAddress {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: Option<String>,
}

/// An invitation as Graph answers `POST /v1.0/invitations` (and Portico its resend): the
/// request echoed, with the redemption link and the invited user's id.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    #[serde(rename = "@odata.context")]
    pub odata_context: String,
    pub id: String,
    pub invite_redeem_url: String,
    pub invited_user_display_name: Option<String>,
    /// Always `Guest`.
    pub invited_user_type: String,
    pub invited_user_email_address: String,
    pub send_invitation_message: bool,
    pub reset_redemption: bool,
    pub invite_redirect_url: String,
    /// `PendingAcceptance`.
    pub status: String,
    pub invited_user_message_info: SentMessageInfo,
    pub invited_user: InvitedUser,
}

/// `invitedUserMessageInfo` as Graph echoes it: with one cc recipient, the one named or an
/// empty one.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentMessageInfo {
    pub message_language: Option<String>,
    pub customized_message_body: Option<String>,
    pub cc_recipients: Vec<SentRecipient>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentRecipient {
    pub email_address: SentAddress,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SentAddress {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// The user an invitation made or reset.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InvitedUser {
    pub id: String,
}

/// An invitation as `GET /v1.0/invitations` shows it (beyond Graph, which lists none).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationRecord {
    #[serde(rename = "@odata.context", skip_serializing_if = "Option::is_none")]
    pub odata_context: Option<String>,
    pub id: String,
    pub invited_user_email_address: String,
    pub invited_user_display_name: String,
    /// Always `Guest`.
    pub invited_user_type: String,
    pub invite_redirect_url: Option<String>,
    /// Graph's `PendingAcceptance` or `Completed`, or Portico's `Expired`, `Revoked`, `Locked`.
    pub status: String,
    pub invited_user: InvitedUser,
    pub created_date_time: String,
    pub expiration_date_time: String,
    pub redeemed_date_time: Option<String>,
}

/// The tenant's invitations, as `GET /v1.0/invitations` lists them (in one page).
#[derive(Debug, Serialize, JsonSchema)]
pub struct InvitationList {
    #[serde(rename = "@odata.context")]
    pub odata_context: String,
    pub value: Vec<InvitationRecord>,
}

/// The message info echoed, with the one copy's recipient (both `null` when none was named).
fn sent_message_info(
    info: &MessageInfo,
    cc_name: Option<String>,
    cc_address: Option<String>,
) -> SentMessageInfo {
    SentMessageInfo {
        message_language: info.message_language.clone(),
        customized_message_body: info.customized_message_body.clone(),
        cc_recipients: vec![SentRecipient {
            email_address: SentAddress {
                name: cc_name,
                address: cc_address,
            },
        }],
    }
}

/// Invites a guest, as `POST /v1.0/invitations`: the guest user is made at once and the
/// answer echoes the request with the redemption link and the new user's id (not the
/// invitation's).
pub async fn invite(
    store: &Store,
    app: &Principal,
    request: NewInvitation,
    public_url: &str,
    now: i64,
) -> Result<Invitation, GraphError> {
    let email = request
        .invited_user_email_address
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| GraphError::bad_request("invitedUserEmailAddress is required."))?;
    let redirect = request
        .invite_redirect_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| GraphError::bad_request("inviteRedirectUrl is required."))?;
    match request.invited_user_type.as_deref() {
        None | Some("Guest") => {}
        Some("Member") => {
            return Err(GraphError::bad_request(
                "invitedUserType Member is not supported: Portico has no member-type external users, so everyone invited is a Guest. Leave it out or send Guest.",
            ));
        }
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "invitedUserType must be Guest, not {other}."
            )));
        }
    }
    let info = request.invited_user_message_info.unwrap_or_default();
    let cc = copy_recipient(&info)?;
    // Sponsors by user id, as Graph takes them; Portico's rule decides who may sponsor.
    let sponsors = request
        .invited_user_sponsors
        .iter()
        .flatten()
        .map(|sponsor| {
            sponsor.id.clone().ok_or_else(|| {
                GraphError::bad_request("Each of invitedUserSponsors needs the id of a user.")
            })
        })
        .collect::<Result<Vec<String>, GraphError>>()?;
    let send = request.send_invitation_message.unwrap_or(false);
    let reset = request.reset_redemption.unwrap_or(false);
    let display_name = request.invited_user_display_name.clone();
    let message = info.customized_message_body.clone().unwrap_or_default();
    let invited = if reset {
        if !sponsors.is_empty() {
            return Err(GraphError::bad_request(
                "invitedUserSponsors is not taken with resetRedemption: the guest keeps their \
                 sponsors (change them with the guest in the console).",
            ));
        }
        if cc.is_some() {
            return Err(GraphError::bad_request(
                "ccRecipients is not taken with resetRedemption: the new link goes to the guest alone.",
            ));
        }
        let user_id = request
            .invited_user
            .and_then(|u| u.id)
            .ok_or_else(|| GraphError::bad_request("resetRedemption needs invitedUser.id."))?;
        let user = store::users::get(&mut *store.read().await?, &app.tenant_id, &user_id)
            .await?
            .ok_or_else(|| GraphError::not_found(&user_id))?;
        if !user.email.eq_ignore_ascii_case(email.trim()) {
            return Err(GraphError::bad_request(
                "invitedUserEmailAddress must be the user's address: change the user's mail first, then reset.",
            ));
        }
        crate::invitations::reset_redemption(store, app, &user_id, public_url, now).await?
    } else {
        // Its rules lock what they need by name (see `invitations::invite_guest_in`).
        let mut tx = store.begin_plain().await?;
        let invited = crate::invitations::invite_guest_in(
            &mut tx,
            app,
            InviteInput {
                email,
                display_name: display_name.as_deref().unwrap_or_default(),
                message: &message,
                redirect_url: redirect,
                send_email: send,
                sponsors: &sponsors,
                access_days: None,
            },
            public_url,
            now,
        )
        .await?;
        // The copy goes with the invitation's own mail, in the same commit; it never holds
        // the link (see `invitations::invitation_copy_mail`).
        if let (Some(cc), true) = (&cc, send) {
            let tenant = store::tenants::find(&mut tx, &app.tenant_id)
                .await?
                .map(|t| t.name)
                .unwrap_or_default();
            let mail = crate::invitations::invitation_copy_mail(
                cc,
                &invited.user,
                &tenant,
                app.name(),
                &message,
            );
            crate::outbox::enqueue(&mut tx, Some(&app.tenant_id), &mail, now).await?;
        }
        tx.commit().await?;
        invited
    };
    let cc_name = info
        .cc_recipients
        .iter()
        .flatten()
        .find_map(|r| r.email_address.as_ref()?.name.clone());
    Ok(Invitation {
        odata_context: context(public_url, "invitations/$entity"),
        id: invited.invitation_id,
        invite_redeem_url: invited.redeem_url,
        invited_user_display_name: display_name,
        invited_user_type: "Guest".into(),
        invited_user_email_address: invited.user.email,
        // A reset always mails the new link (see `invitations::reset_redemption`).
        send_invitation_message: send || reset,
        reset_redemption: reset,
        invite_redirect_url: redirect.to_string(),
        status: "PendingAcceptance".into(),
        invited_user_message_info: sent_message_info(&info, cc_name, cc),
        invited_user: InvitedUser {
            id: invited.user.id,
        },
    })
}

/// The one address `ccRecipients` may name (Graph takes one), checked; `None` when it
/// names none (Graph's libraries send an empty recipient).
fn copy_recipient(info: &MessageInfo) -> Result<Option<String>, GraphError> {
    let named: Vec<&str> = info
        .cc_recipients
        .iter()
        .flatten()
        .filter_map(|r| r.email_address.as_ref()?.address.as_deref())
        .filter(|a| !a.trim().is_empty())
        .collect();
    match named.as_slice() {
        [] => Ok(None),
        [address] => crate::validate::email("ccRecipients", address)
            .map(Some)
            .map_err(|e| GraphError::bad_request(format!("ccRecipients: {}", e.message))),
        _ => Err(GraphError::bad_request(
            "ccRecipients takes one recipient, as Graph's invitation manager does.",
        )),
    }
}

/// Graph's status where it has one (`PendingAcceptance`, `Completed`), Portico's otherwise.
fn shown(invitation: &InvitationSummary) -> InvitationRecord {
    let status = match invitation.status {
        InvitationStatus::PendingAcceptance => "PendingAcceptance",
        InvitationStatus::Accepted => "Completed",
        InvitationStatus::Expired => "Expired",
        InvitationStatus::Revoked => "Revoked",
        InvitationStatus::Locked => "Locked",
    };
    InvitationRecord {
        odata_context: None,
        id: invitation.id.clone(),
        invited_user_email_address: invitation.email.clone(),
        invited_user_display_name: invitation.display_name.clone(),
        invited_user_type: "Guest".into(),
        invite_redirect_url: invitation.redirect_url.clone(),
        status: status.into(),
        invited_user: InvitedUser {
            id: invitation.user_id.clone(),
        },
        created_date_time: types::format::rfc3339(invitation.created_at),
        expiration_date_time: types::format::rfc3339(invitation.expires_at),
        redeemed_date_time: invitation.redeemed_at.map(types::format::rfc3339),
    }
}

pub async fn list(
    store: &Store,
    app: &Principal,
    public_url: &str,
    now: i64,
) -> Result<InvitationList, GraphError> {
    let invitations = crate::invitations::list(store, app, now).await?;
    Ok(InvitationList {
        odata_context: context(public_url, "invitations"),
        value: invitations.iter().map(shown).collect(),
    })
}

pub async fn get(
    store: &Store,
    app: &Principal,
    id: &str,
    public_url: &str,
    now: i64,
) -> Result<InvitationRecord, GraphError> {
    let invitation = crate::invitations::get(store, app, id, now)
        .await?
        .ok_or_else(|| GraphError::not_found(id))?;
    let mut answer = shown(&invitation);
    answer.odata_context = Some(context(public_url, "invitations/$entity"));
    Ok(answer)
}

/// Revokes a pending invitation (`DELETE /v1.0/invitations/{id}`).
pub async fn revoke(store: &Store, app: &Principal, id: &str, now: i64) -> Result<(), GraphError> {
    crate::invitations::revoke(store, app, id, now)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => GraphError::not_found(id),
            other => other.into(),
        })
}

/// Sends a pending or expired invitation again, by mail, with a new link
/// (`POST /v1.0/invitations/{id}/resend`); the old link stops working.
pub async fn resend(
    store: &Store,
    app: &Principal,
    id: &str,
    public_url: &str,
    now: i64,
) -> Result<Invitation, GraphError> {
    let invitation = crate::invitations::get(store, app, id, now)
        .await?
        .ok_or_else(|| GraphError::not_found(id))?;
    if invitation.status == InvitationStatus::Accepted {
        return Err(GraphError::bad_request(
            "This invitation was accepted: there is nothing to send again.",
        ));
    }
    let invited = crate::invitations::invite_guest(
        store,
        app,
        InviteInput {
            email: &invitation.email,
            display_name: &invitation.display_name,
            message: "",
            redirect_url: invitation.redirect_url.as_deref().unwrap_or_default(),
            send_email: true,
            sponsors: &[],
            access_days: None,
        },
        public_url,
        now,
    )
    .await?;
    Ok(Invitation {
        odata_context: context(public_url, "invitations/$entity"),
        id: invited.invitation_id,
        invite_redeem_url: invited.redeem_url,
        invited_user_display_name: Some(invitation.display_name),
        invited_user_type: "Guest".into(),
        invited_user_email_address: invited.user.email,
        send_invitation_message: true,
        reset_redemption: false,
        invite_redirect_url: invitation.redirect_url.unwrap_or_default(),
        status: "PendingAcceptance".into(),
        invited_user_message_info: sent_message_info(&MessageInfo::default(), None, None),
        invited_user: InvitedUser {
            id: invited.user.id,
        },
    })
}
