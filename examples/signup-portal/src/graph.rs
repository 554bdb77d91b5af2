//! Portico's Microsoft Graph-compatible API, as the portal's app: a `client_credentials`
//! token, invitations, groups and their members. Nothing else of Portico is used.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

pub struct Graph {
    /// Portico's public address, without a trailing slash.
    base: String,
    token_endpoint: String,
    client_id: String,
    client_secret: String,
    http: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

/// What Portico answered to an invitation.
pub struct Invited {
    pub invitation_id: String,
    pub user_id: String,
}

/// A group as `GET /v1.0/groups` lists it.
pub struct Group {
    pub id: String,
    pub name: String,
}

/// The words of an error in Graph's envelope, or of the status.
fn graph_error(status: reqwest::StatusCode, body: &Value) -> String {
    match (
        body["error"]["code"].as_str(),
        body["error"]["message"].as_str(),
    ) {
        (Some(code), Some(message)) => format!("{message} ({code})"),
        _ => format!("Portico answered {status}"),
    }
}

impl Graph {
    pub fn new(
        base: &str,
        token_endpoint: &str,
        client_id: &str,
        client_secret: &str,
        http: reqwest::Client,
    ) -> Graph {
        Graph {
            base: base.trim_end_matches('/').to_string(),
            token_endpoint: token_endpoint.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            http,
            token: Mutex::new(None),
        }
    }

    /// The app's token for the API, asked for again a minute before it runs out.
    async fn token(&self) -> Result<String, String> {
        let mut held = self.token.lock().await;
        if let Some((token, until)) = held.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let scope = format!("{}/.default", self.base);
        let response = self
            .http
            .post(&self.token_endpoint)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
                ("scope", scope.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("cannot reach Portico's token endpoint: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let Some(token) = body["access_token"].as_str() else {
            return Err(format!(
                "Portico gave the portal no API token ({status}): {} {}",
                body["error"].as_str().unwrap_or_default(),
                body["error_description"].as_str().unwrap_or_default()
            ));
        };
        let lifetime = body["expires_in"]
            .as_u64()
            .unwrap_or(300)
            .saturating_sub(60);
        *held = Some((
            token.to_string(),
            Instant::now() + Duration::from_secs(lifetime),
        ));
        Ok(token.to_string())
    }

    /// Calls the API; the JSON answer (Null for 204), or the error in words.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let token = self.token().await?;
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("cannot reach Portico's API: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(graph_error(status, &body))
        }
    }

    /// Every item of a collection, following `@odata.nextLink`.
    async fn all(&self, path: &str) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        let mut next = Some(format!("{}{path}", self.base));
        while let Some(url) = next.take() {
            let page = self.call(reqwest::Method::GET, &url, None).await?;
            items.extend(page["value"].as_array().cloned().unwrap_or_default());
            // The token goes only to Portico: a next page elsewhere is an error.
            next = match page["@odata.nextLink"].as_str() {
                Some(link) if link.starts_with(&format!("{}/", self.base)) => {
                    Some(link.to_string())
                }
                Some(link) => return Err(format!("Portico's next page is elsewhere: {link}")),
                None => None,
            };
        }
        Ok(items)
    }

    /// `GET /v1.0/groups`
    pub async fn groups(&self) -> Result<Vec<Group>, String> {
        Ok(self
            .all("/v1.0/groups")
            .await?
            .iter()
            .filter_map(|g| {
                Some(Group {
                    id: g["id"].as_str()?.to_string(),
                    name: g["displayName"].as_str().unwrap_or_default().to_string(),
                })
            })
            .collect())
    }

    /// Whether the user is a member of the group: `GET /v1.0/groups/{id}/members`.
    pub async fn is_member(&self, group_id: &str, user_id: &str) -> Result<bool, String> {
        let members = self
            .all(&format!("/v1.0/groups/{group_id}/members"))
            .await?;
        Ok(members.iter().any(|m| m["id"].as_str() == Some(user_id)))
    }

    /// `POST /v1.0/invitations`, with Portico mailing the invitation.
    pub async fn invite(
        &self,
        email: &str,
        name: &str,
        redirect: &str,
        message: &str,
    ) -> Result<Invited, String> {
        let mut body = json!({
            "invitedUserEmailAddress": email,
            "invitedUserDisplayName": name,
            "inviteRedirectUrl": redirect,
            "sendInvitationMessage": true,
        });
        if !message.is_empty() {
            body["invitedUserMessageInfo"] = json!({ "customizedMessageBody": message });
        }
        let answer = self
            .call(
                reqwest::Method::POST,
                &format!("{}/v1.0/invitations", self.base),
                Some(body),
            )
            .await?;
        match (answer["id"].as_str(), answer["invitedUser"]["id"].as_str()) {
            (Some(invitation), Some(user)) => Ok(Invited {
                invitation_id: invitation.to_string(),
                user_id: user.to_string(),
            }),
            _ => Err("Portico's answer to the invitation had no invitedUser.id".into()),
        }
    }

    /// `POST /v1.0/groups/{id}/members/$ref`; a member already is fine.
    pub async fn add_member(&self, group_id: &str, user_id: &str) -> Result<(), String> {
        let reference = json!({
            "@odata.id": format!("{}/v1.0/directoryObjects/{user_id}", self.base)
        });
        match self
            .call(
                reqwest::Method::POST,
                &format!("{}/v1.0/groups/{group_id}/members/$ref", self.base),
                Some(reference),
            )
            .await
        {
            Err(e) if e.contains("already exist") => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

/// The id of the group named `wanted` (its id, or its name in any case), among `groups`.
pub fn find_group<'a>(groups: &'a [Group], wanted: &str) -> Result<&'a str, String> {
    if let Some(group) = groups.iter().find(|g| g.id == wanted) {
        return Ok(&group.id);
    }
    let named: Vec<&Group> = groups
        .iter()
        .filter(|g| g.name.eq_ignore_ascii_case(wanted.trim()))
        .collect();
    match named.as_slice() {
        [one] => Ok(&one.id),
        [] => Err(format!(
            "Portico has no group named {wanted} (or the portal's app may not read groups: grant it Group.Read.All)"
        )),
        _ => Err(format!(
            "Portico has several groups named {wanted}: give its id instead"
        )),
    }
}
