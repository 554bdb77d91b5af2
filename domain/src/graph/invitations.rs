//! `/v1.0/invitations`: Graph's invitation API, and what Portico adds to it.

use serde::Deserialize;
use serde_json::{Value, json};
use types::{InvitationStatus, InvitationSummary};

use super::{GraphError, context};
use crate::invitations::InviteInput;
use crate::{Error, Principal, Store, store};

/// `POST /v1.0/invitations`, as Graph documents it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewInvitation {
    pub invited_user_email_address: Option<String>,
    pub invite_redirect_url: Option<String>,
    pub invited_user_display_name: Option<String>,
    pub send_invitation_message: Option<bool>,
    pub invited_user_message_info: Option<MessageInfo>,
    pub invited_user_type: Option<String>,
    pub reset_redemption: Option<bool>,
    pub invited_user: Option<ObjectRef>,
    pub invited_user_sponsors: Option<Vec<ObjectRef>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageInfo {
    pub message_language: Option<String>,
    pub customized_message_body: Option<String>,
    pub cc_recipients: Option<Vec<Recipient>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: Option<EmailAddress>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EmailAddress {
    pub name: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ObjectRef {
    pub id: Option<String>,
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
) -> Result<Value, GraphError> {
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
    if request
        .invited_user_sponsors
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(GraphError::bad_request(
            "invitedUserSponsors is not supported yet: leave it out.",
        ));
    }
    let send = request.send_invitation_message.unwrap_or(false);
    let reset = request.reset_redemption.unwrap_or(false);
    let display_name = request.invited_user_display_name.clone();
    let message = info.customized_message_body.clone().unwrap_or_default();
    let invited = if reset {
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
        let mut tx = store.begin().await?;
        let invited = crate::invitations::invite_guest_in(
            &mut tx,
            app,
            InviteInput {
                email,
                display_name: display_name.as_deref().unwrap_or_default(),
                message: &message,
                redirect_url: redirect,
                send_email: send,
            },
            public_url,
            now,
        )
        .await?;
        // The copy goes with the invitation's own mail, in the same commit; it never holds
        // the link (see `invitations::invitation_copy_mail`).
        if let (Some(cc), true) = (&cc, send) {
            let tenant = store::tenants::find(&mut *tx, &app.tenant_id)
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
    Ok(json!({
        "@odata.context": context(public_url, "invitations/$entity"),
        "id": invited.invitation_id,
        "inviteRedeemUrl": invited.redeem_url,
        "invitedUserDisplayName": display_name,
        "invitedUserType": "Guest",
        "invitedUserEmailAddress": invited.user.email,
        // A reset always mails the new link (see `invitations::reset_redemption`).
        "sendInvitationMessage": send || reset,
        "resetRedemption": reset,
        "inviteRedirectUrl": redirect,
        "status": "PendingAcceptance",
        "invitedUserMessageInfo": {
            "messageLanguage": info.message_language,
            "customizedMessageBody": info.customized_message_body,
            "ccRecipients": [{ "emailAddress": {
                "name": cc_name,
                "address": cc,
            } }],
        },
        "invitedUser": { "id": invited.user.id },
    }))
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

/// An invitation as `GET /v1.0/invitations` shows it (beyond Graph, which lists none):
/// Graph's status where it has one (`PendingAcceptance`, `Completed`), Portico's otherwise.
fn shown(invitation: &InvitationSummary) -> Value {
    let status = match invitation.status {
        InvitationStatus::PendingAcceptance => "PendingAcceptance",
        InvitationStatus::Accepted => "Completed",
        InvitationStatus::Expired => "Expired",
        InvitationStatus::Revoked => "Revoked",
        InvitationStatus::Locked => "Locked",
    };
    json!({
        "id": invitation.id,
        "invitedUserEmailAddress": invitation.email,
        "invitedUserDisplayName": invitation.display_name,
        "invitedUserType": "Guest",
        "inviteRedirectUrl": invitation.redirect_url,
        "status": status,
        "invitedUser": { "id": invitation.user_id },
        "createdDateTime": types::format::rfc3339(invitation.created_at),
        "expirationDateTime": types::format::rfc3339(invitation.expires_at),
        "redeemedDateTime": invitation.redeemed_at.map(types::format::rfc3339),
    })
}

pub async fn list(
    store: &Store,
    app: &Principal,
    public_url: &str,
    now: i64,
) -> Result<Value, GraphError> {
    let invitations = crate::invitations::list(store, app, now).await?;
    Ok(json!({
        "@odata.context": context(public_url, "invitations"),
        "value": invitations.iter().map(shown).collect::<Vec<_>>(),
    }))
}

pub async fn get(
    store: &Store,
    app: &Principal,
    id: &str,
    public_url: &str,
    now: i64,
) -> Result<Value, GraphError> {
    let invitation = crate::invitations::get(store, app, id, now)
        .await?
        .ok_or_else(|| GraphError::not_found(id))?;
    let mut answer = shown(&invitation);
    answer["@odata.context"] = json!(context(public_url, "invitations/$entity"));
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
) -> Result<Value, GraphError> {
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
        },
        public_url,
        now,
    )
    .await?;
    Ok(json!({
        "@odata.context": context(public_url, "invitations/$entity"),
        "id": invited.invitation_id,
        "inviteRedeemUrl": invited.redeem_url,
        "invitedUserEmailAddress": invited.user.email,
        "status": "PendingAcceptance",
        "invitedUser": { "id": invited.user.id },
    }))
}
