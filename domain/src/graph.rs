//! Portico's Microsoft Graph-compatible API: programs written against Graph's invitation
//! API work here by changing only the base address and the token authority. A program signs
//! in as itself (client credentials) and acts as [`Actor::App`] with the application
//! permissions granted to it, read again at every request: a token cannot be revoked, so
//! what it says is not trusted beyond who the app is.

use serde::Deserialize;
use serde_json::{Value, json};
use types::{InvitationStatus, InvitationSummary};

use crate::invitations::InviteInput;
use crate::oidc::{Signer, issuer, keys};
use crate::{Actor, Error, Principal, Store, store};

/// The scope Microsoft Graph's client libraries ask for; taken as this API's.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The API's identifier: the audience of the tokens it accepts, and the prefix of its
/// `.default` scope.
pub fn api_identifier(public_url: &str) -> String {
    public_url.trim_end_matches('/').to_string()
}

/// Whether a client-credentials request asks for this API (and nothing else).
pub fn is_default_scope(public_url: &str, scope: &str) -> bool {
    let scope = scope.trim();
    scope == GRAPH_DEFAULT_SCOPE || scope == format!("{}/.default", api_identifier(public_url))
}

/// An error as Graph reports it: an HTTP status, a code programs match on, and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code,
            message: message.into(),
        }
    }

    /// No token, or one this API does not accept.
    pub fn unauthenticated(message: impl Into<String>) -> GraphError {
        GraphError::new(401, "InvalidAuthenticationToken", message)
    }

    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(400, "Request_BadRequest", message)
    }

    fn not_found(id: &str) -> GraphError {
        GraphError::new(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }
}

impl From<Error> for GraphError {
    fn from(error: Error) -> GraphError {
        match error {
            Error::AccessDenied | Error::NotAuthenticated => GraphError::new(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
            Error::NotFound(what) => GraphError::new(
                404,
                "Request_ResourceNotFound",
                format!("That {what} does not exist."),
            ),
            Error::Invalid(_) | Error::Conflict(_) | Error::InvalidLink => {
                GraphError::bad_request(error.to_string())
            }
            Error::Throttled { .. } => GraphError::new(429, "TooManyRequests", error.to_string()),
            Error::BadCredentials => GraphError::unauthenticated(error.to_string()),
            Error::Storage(_) | Error::Migration(_) | Error::Hashing(_) => GraphError::new(
                500,
                "generalException",
                "Portico could not do that just now.",
            ),
        }
    }
}

impl From<crate::oidc::Failure> for GraphError {
    fn from(failure: crate::oidc::Failure) -> GraphError {
        match failure {
            crate::oidc::Failure::Protocol(e) => GraphError::bad_request(e.description),
            crate::oidc::Failure::Internal(e) => e.into(),
        }
    }
}

/// The app behind a bearer token, as the actor of this request: the token must be one this
/// Portico signed for this API and not expired, of an app that still exists as a
/// confidential client of the tenant the token names, with the permissions that app holds
/// now.
pub async fn authenticate(
    store: &Store,
    signer: &Signer,
    public_url: &str,
    bearer: Option<&str>,
    ip: Option<&str>,
    now: i64,
) -> Result<Principal, GraphError> {
    let Some(token) = bearer.filter(|t| !t.is_empty()) else {
        return Err(GraphError::unauthenticated("Access token is empty."));
    };
    let invalid =
        |why: &str| GraphError::unauthenticated(format!("Access token validation failure. {why}"));
    let Some(claims) = keys::verified_es256(store, signer, token, now).await? else {
        return Err(invalid("Invalid signature."));
    };
    let text = |name: &str| claims[name].as_str().unwrap_or_default().to_string();
    if claims["aud"] != json!(api_identifier(public_url)) {
        return Err(invalid("Invalid audience."));
    }
    if claims["idtyp"] != "app" {
        return Err(invalid(
            "Only an app's own token (client credentials) is accepted.",
        ));
    }
    let (Some(exp), Some(nbf)) = (claims["exp"].as_i64(), claims["nbf"].as_i64()) else {
        return Err(invalid("The token has no lifetime."));
    };
    // A minute of leeway for clocks that disagree a little.
    if exp <= now || nbf > now + 60 {
        return Err(invalid("The token is expired or not yet valid."));
    }
    let (tid, app_id) = (text("tid"), text("sub"));
    let mut db = store.read().await?;
    let tenant = store::tenants::find(&mut *db, &tid)
        .await?
        .filter(|t| t.id == tid)
        .ok_or_else(|| invalid("Unknown organization."))?;
    let named = [&tenant.id, &tenant.slug, &tenant.primary_domain];
    if !named
        .iter()
        .any(|name| claims["iss"] == json!(issuer(public_url, name)))
    {
        return Err(invalid("Invalid issuer."));
    }
    let client = store::oidc::client(&mut *db, &tenant.id, &app_id)
        .await?
        .filter(|c| c.client_type == types::ClientType::Confidential)
        .ok_or_else(|| invalid("The app no longer exists or no longer signs in as itself."))?;
    let permissions = store::apps::permissions(&mut *db, &client.id).await?;
    Ok(Principal {
        tenant_id: tenant.id,
        actor: Actor::App {
            app_id: client.id,
            name: client.name,
            permissions,
        },
        ip: ip.map(String::from),
    })
}

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

/// Reads a request body, or says in Graph's words what is wrong with it.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GraphError> {
    serde_json::from_slice(body)
        .map_err(|e| GraphError::bad_request(format!("The request body is not valid: {e}.")))
}

fn context(public_url: &str, what: &str) -> String {
    format!("{}/v1.0/$metadata#{what}", api_identifier(public_url))
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
                "invitedUserType Member is not supported: Portico invites guests. Leave it out or send Guest.",
            ));
        }
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "invitedUserType must be Guest, not {other}."
            )));
        }
    }
    let info = request.invited_user_message_info.unwrap_or_default();
    if info
        .cc_recipients
        .as_ref()
        .is_some_and(|cc| cc.iter().any(|r| r.email_address.is_some()))
    {
        return Err(GraphError::bad_request(
            "ccRecipients is not supported yet: leave it out.",
        ));
    }
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
        crate::invitations::invite_guest(
            store,
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
        .await?
    };
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
            "ccRecipients": [{ "emailAddress": { "name": null, "address": null } }],
        },
        "invitedUser": { "id": invited.user.id },
    }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_apis_default_scope_or_graphs_gives_an_app_token() {
        let public = "https://portico.contoso.example/";
        assert!(is_default_scope(
            public,
            "https://portico.contoso.example/.default"
        ));
        assert!(is_default_scope(
            public,
            " https://graph.microsoft.com/.default "
        ));
        for other in [
            "",
            "api",
            "https://portico.contoso.example/User.Read",
            "https://portico.contoso.example/.default openid",
            "https://other.example/.default",
            "HTTPS://GRAPH.MICROSOFT.COM/.default",
        ] {
            assert!(!is_default_scope(public, other), "{other:?}");
        }
    }

    #[test]
    fn errors_come_back_in_graphs_codes() {
        let denied = GraphError::from(Error::AccessDenied);
        assert_eq!(
            (denied.status, denied.code),
            (403, "Authorization_RequestDenied")
        );
        let missing = GraphError::from(Error::NotFound("invitation"));
        assert_eq!(
            (missing.status, missing.code),
            (404, "Request_ResourceNotFound")
        );
        let conflict = GraphError::from(Error::Conflict("taken".into()));
        assert_eq!((conflict.status, conflict.message.as_str()), (400, "taken"));
        let busy = GraphError::from(Error::Throttled { retry_after: 3 });
        assert_eq!(busy.status, 429);
    }
}
