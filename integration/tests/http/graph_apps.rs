//! The Graph-compatible API's apps (`/servicePrincipals` and who they are assigned to),
//! its read-only logs (`/auditLogs`), and copies of invitations (`ccRecipients`).

use integration::PASSWORD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::graph::{Fixture, fixture};

const DEFAULT_ACCESS: &str = "00000000-0000-0000-0000-000000000000";

impl Fixture {
    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.api(Method::GET, path, Some(token), None).await
    }

    fn group(&self, name: &str) -> String {
        self.portico.cli_json(
            &["group", "create", "--tenant", &self.tenant, "--name", name],
            "",
        )["id"]
            .as_str()
            .expect("group id")
            .to_string()
    }

    fn app(&self, name: &str) -> String {
        self.portico.cli_json(
            &[
                "app",
                "create",
                "--tenant",
                &self.tenant,
                "--name",
                name,
                "--launch-url",
                "https://wiki.contoso.example/",
            ],
            "",
        )["id"]
            .as_str()
            .expect("app id")
            .to_string()
    }
}

/// The path of a `@odata.nextLink` under this API.
fn next_of(f: &Fixture, page: &Value) -> Option<String> {
    let link = page["@odata.nextLink"].as_str()?;
    Some(
        link.strip_prefix(&format!("{}/v1.0/", f.portico.url))
            .expect("on this API")
            .to_string(),
    )
}

fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(
        (answer.0, answer.1["error"]["code"].as_str()),
        (status, Some(code)),
        "{}",
        answer.1
    );
}

#[tokio::test]
async fn an_app_lists_the_apps_and_assigns_them_to_users_and_groups() {
    let f = fixture().await;
    let wiki = f.app("Wiki");
    let payroll = f.app("Payroll");
    let design = f.group("Design");
    let mia = f.portico.create_user(&f.tenant, "mia@contoso.example", &[]);
    let token = f.api_token().await;

    // Reading apps needs Application.Read.All.
    assert_error(
        &f.get("servicePrincipals", &token).await,
        403,
        "Authorization_RequestDenied",
    );
    assert!(f.set_permission("Application.Read.All", true).await.ok());
    let (status, first) = f.get("servicePrincipals?$top=2", &token).await;
    assert_eq!(status, 200, "{first}");
    let names: Vec<&str> = first["value"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|sp| sp["displayName"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["HR onboarding", "Payroll"], "by name");
    assert_eq!(first["value"][1]["id"], payroll.as_str());
    assert_eq!(first["value"][1]["appId"], payroll.as_str());
    assert_eq!(first["value"][1]["servicePrincipalType"], "Application");
    assert_eq!(first["value"][1]["accountEnabled"], true);
    assert_eq!(first["value"][1]["appRoles"], json!([]));
    let (_, second) = f
        .get(&next_of(&f, &first).expect("a second page"), &token)
        .await;
    assert_eq!(second["value"][0]["displayName"], "Wiki");
    assert!(next_of(&f, &second).is_none(), "{second}");

    let (_, found) = f
        .get(
            "servicePrincipals?$filter=startswith(displayName,'wi')&$select=id,displayName",
            &token,
        )
        .await;
    assert_eq!(
        found["value"],
        json!([{ "id": wiki, "displayName": "Wiki" }]),
        "{found}"
    );
    let (_, by_app_id) = f
        .get(
            &format!("servicePrincipals?$filter=appId eq '{payroll}'"),
            &token,
        )
        .await;
    assert_eq!(by_app_id["value"][0]["displayName"], "Payroll");
    assert_error(
        &f.get(
            "servicePrincipals?$filter=servicePrincipalType eq 'Application'",
            &token,
        )
        .await,
        400,
        "Request_UnsupportedQuery",
    );
    let (status, one) = f.get(&format!("servicePrincipals/{wiki}"), &token).await;
    assert_eq!((status, one["displayName"].as_str()), (200, Some("Wiki")));
    assert!(
        one["@odata.context"]
            .as_str()
            .unwrap_or_default()
            .ends_with("$metadata#servicePrincipals/$entity")
    );
    assert_error(
        &f.get("servicePrincipals/no-such-app", &token).await,
        404,
        "Request_ResourceNotFound",
    );
    let (status, nobody) = f
        .get(
            &format!("servicePrincipals/{wiki}/appRoleAssignedTo"),
            &token,
        )
        .await;
    assert_eq!((status, nobody["value"].clone()), (200, json!([])));

    // Assigning needs AppRoleAssignment.ReadWrite.All as well, as Graph has it.
    let assign = |principal: &str, role: &str| json!({ "principalId": principal, "resourceId": wiki, "appRoleId": role });
    let post = |body: Value| {
        let (f, token, wiki) = (&f, &token, &wiki);
        async move {
            f.api(
                Method::POST,
                &format!("servicePrincipals/{wiki}/appRoleAssignedTo"),
                Some(token),
                Some(body),
            )
            .await
        }
    };
    assert_error(
        &post(assign(&mia, DEFAULT_ACCESS)).await,
        403,
        "Authorization_RequestDenied",
    );
    assert!(
        f.set_permission("AppRoleAssignment.ReadWrite.All", true)
            .await
            .ok()
    );
    let (status, made) = post(assign(&mia, DEFAULT_ACCESS)).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["principalId"], mia.as_str());
    assert_eq!(made["principalType"], "User");
    assert_eq!(made["principalDisplayName"], "mia@contoso.example");
    assert_eq!(made["resourceId"], wiki.as_str());
    assert_eq!(made["resourceDisplayName"], "Wiki");
    assert_eq!(made["appRoleId"], DEFAULT_ACCESS);
    assert!(made["createdDateTime"].is_string(), "{made}");
    let (status, group) = post(assign(&design, DEFAULT_ACCESS)).await;
    assert_eq!(
        (status, group["principalType"].as_str()),
        (201, Some("Group"))
    );

    // Graph's errors: the same assignment again, a role the app does not define, someone
    // not in the organization, another resource than the one in the address.
    let again = post(assign(&mia, DEFAULT_ACCESS)).await;
    assert_error(&again, 400, "Request_BadRequest");
    assert_eq!(
        again.1["error"]["message"],
        "Permission being assigned already exists on the object"
    );
    let role = post(assign(&mia, "11111111-2222-3333-4444-555555555555")).await;
    assert_error(&role, 400, "Request_BadRequest");
    assert!(
        role.1["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Permission being assigned was not found on application"),
        "{}",
        role.1
    );
    assert_error(
        &post(assign("no-such-user", DEFAULT_ACCESS)).await,
        404,
        "Request_ResourceNotFound",
    );
    assert_error(
        &post(json!({ "principalId": mia, "resourceId": payroll, "appRoleId": DEFAULT_ACCESS }))
            .await,
        400,
        "Request_BadRequest",
    );
    assert_error(
        &post(json!({ "principalId": mia, "resourceId": wiki, "appRoleId": DEFAULT_ACCESS, "startTime": "now" }))
            .await,
        400,
        "Request_BadRequest",
    );
    assert_error(
        &f.api(
            Method::POST,
            "servicePrincipals/no-such-app/appRoleAssignedTo",
            Some(&token),
            Some(assign(&mia, DEFAULT_ACCESS)),
        )
        .await,
        404,
        "Request_ResourceNotFound",
    );

    // The console shows the same assignments.
    let shown = f
        .portico
        .call("admin/app", &[("id", &wiki)], Some(&f.ada))
        .await;
    assert_eq!(
        shown.body["assigned_users"][0]["id"],
        mia.as_str(),
        "{shown:?}"
    );
    assert_eq!(shown.body["assigned_groups"][0]["id"], design.as_str());

    let (_, listed) = f
        .get(
            &format!("servicePrincipals/{wiki}/appRoleAssignedTo"),
            &token,
        )
        .await;
    let listed = listed["value"].as_array().expect("a list").clone();
    assert_eq!(listed.len(), 2);
    let mine = listed
        .iter()
        .find(|a| a["principalId"] == mia.as_str())
        .expect("Mia's assignment");
    assert_eq!(mine["id"], made["id"]);

    // Audited, with the app as the actor.
    let events = f.portico.audited(&f.ada, "Add app role assignment").await;
    let event = &events["items"][0];
    assert_eq!(
        (
            event["actor_name"].as_str(),
            event["actor_kind"].as_str(),
            event["target_id"].as_str()
        ),
        (Some("HR onboarding"), Some("App"), Some(wiki.as_str())),
        "{event}"
    );

    // Taken away by its id; a second time it is not there.
    let path = format!(
        "servicePrincipals/{wiki}/appRoleAssignedTo/{}",
        made["id"].as_str().expect("an id")
    );
    let (status, _) = f.api(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(status, 204);
    assert_error(
        &f.api(Method::DELETE, &path, Some(&token), None).await,
        404,
        "Request_ResourceNotFound",
    );
    let removed = f
        .portico
        .audited(&f.ada, "Remove app role assignment")
        .await;
    assert_eq!(removed["items"][0]["actor_kind"], "App");
    let (_, left) = f
        .get(
            &format!("servicePrincipals/{wiki}/appRoleAssignedTo"),
            &token,
        )
        .await;
    assert_eq!(left["value"][0]["principalId"], design.as_str());
    assert_eq!(left["value"].as_array().map(Vec::len), Some(1));

    // Without Application.Read.All, the write permission alone assigns nothing.
    assert!(f.set_permission("Application.Read.All", false).await.ok());
    assert_error(
        &post(assign(&mia, DEFAULT_ACCESS)).await,
        403,
        "Authorization_RequestDenied",
    );
}

#[tokio::test]
async fn an_app_reads_the_audit_trail_and_the_sign_in_log_newest_first_in_pages() {
    let f = fixture().await;
    let token = f.api_token().await;
    for log in ["auditLogs/directoryAudits", "auditLogs/signIns"] {
        assert_error(
            &f.get(log, &token).await,
            403,
            "Authorization_RequestDenied",
        );
    }
    assert!(f.set_permission("AuditLog.Read.All", true).await.ok());

    // Ada (a person) granted those; the operator adds people and a group; the app (a
    // program) puts one of them in the group.
    let mia = f.portico.create_user(&f.tenant, "mia@contoso.example", &[]);
    let max = f.portico.create_user(&f.tenant, "max@contoso.example", &[]);
    let design = f.group("Design");
    assert!(
        f.set_permission("GroupMember.ReadWrite.All", true)
            .await
            .ok()
    );
    let (status, _) = f
        .api(
            Method::POST,
            &format!("groups/{design}/members/$ref"),
            Some(&token),
            Some(json!({
                "@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{max}")
            })),
        )
        .await;
    assert_eq!(status, 204);

    let (status, first) = f.get("auditLogs/directoryAudits?$top=2", &token).await;
    assert_eq!(status, 200, "{first}");
    let newest = &first["value"][0];
    assert_eq!(
        newest["activityDisplayName"], "Add member to group",
        "{newest}"
    );
    assert_eq!(newest["category"], "GroupManagement");
    assert_eq!(newest["result"], "success");
    assert_eq!(newest["initiatedBy"]["app"]["displayName"], "HR onboarding");
    assert_eq!(newest["initiatedBy"]["app"]["appId"], f.client_id.as_str());
    assert!(newest["initiatedBy"]["user"].is_null());
    assert_eq!(newest["targetResources"][0]["id"], design.as_str());
    assert!(
        newest["activityDateTime"]
            .as_str()
            .unwrap_or_default()
            .ends_with('Z')
    );
    // Paging goes on to older events, never repeating one.
    let mut seen: Vec<String> = first["value"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["id"].as_str().expect("an id").to_string())
        .collect();
    let mut next = next_of(&f, &first);
    while let Some(path) = next {
        let (status, page) = f.get(&path, &token).await;
        assert_eq!(status, 200, "{page}");
        for event in page["value"].as_array().expect("a list") {
            let id = event["id"].as_str().expect("an id").to_string();
            assert!(!seen.contains(&id), "{id} twice");
            seen.push(id);
        }
        next = next_of(&f, &page);
    }
    let ids: Vec<i64> = seen
        .iter()
        .map(|id| id.parse().expect("a number"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert!(ids.len() >= 5, "{ids:?}");

    // By who: Ada's own changes, and the app's.
    let granted = f
        .portico
        .audited(&f.ada, "Grant application permission")
        .await;
    let ada_id = granted["items"][0]["actor_id"]
        .as_str()
        .expect("Ada's id")
        .to_string();
    let (_, hers) = f
        .get(
            &format!("auditLogs/directoryAudits?$filter=initiatedBy/user/id eq '{ada_id}'"),
            &token,
        )
        .await;
    let hers = hers["value"].as_array().expect("a list").clone();
    assert!(!hers.is_empty());
    assert!(
        hers.iter()
            .all(|e| e["initiatedBy"]["user"]["id"] == ada_id.as_str()),
        "{hers:?}"
    );
    let (_, apps) = f
        .get(
            &format!(
                "auditLogs/directoryAudits?$filter=initiatedBy/app/appId eq '{}'",
                f.client_id
            ),
            &token,
        )
        .await;
    assert_eq!(apps["value"].as_array().map(Vec::len), Some(1), "{apps}");

    // By time: nothing after tomorrow, everything since yesterday.
    let (_, future) = f
        .get(
            "auditLogs/directoryAudits?$filter=activityDateTime ge 2999-01-01T00:00:00Z",
            &token,
        )
        .await;
    assert_eq!(future["value"], json!([]));
    let (_, past) = f
        .get(
            "auditLogs/directoryAudits?$filter=activityDateTime ge 2000-01-01T00:00:00Z and activityDateTime le 2999-01-01T00:00:00Z&$top=999",
            &token,
        )
        .await;
    assert_eq!(past["value"].as_array().map(Vec::len), Some(ids.len()));
    assert_error(
        &f.get(
            "auditLogs/directoryAudits?$filter=category eq 'Policy'",
            &token,
        )
        .await,
        400,
        "Request_UnsupportedQuery",
    );

    // Sign-ins: Mia, assigned, signs in to the app; Max, not assigned, is refused.
    let wiki = f.app("Wiki");
    f.portico.cli_json(
        &[
            "app",
            "sign-in",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--redirect-uri",
            "https://wiki.contoso.example/callback",
        ],
        "",
    );
    f.portico.cli_json(
        &[
            "app",
            "assign",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--user",
            "mia@contoso.example",
        ],
        "",
    );
    for who in ["mia@contoso.example", "max@contoso.example"] {
        let session = f.portico.sign_in(who, PASSWORD).await;
        let url = format!(
            "{}/{}/oauth2/v2.0/authorize?client_id={wiki}&redirect_uri={}&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            f.portico.url,
            f.tenant,
            integration::encode("https://wiki.contoso.example/callback")
        );
        let response = f
            .portico
            .http()
            .get(url)
            .header("Cookie", format!("portico_session={session}"))
            .send()
            .await
            .expect("authorize");
        assert!(response.status().is_redirection() || response.status() == 403);
    }
    let (status, log) = f.get("auditLogs/signIns", &token).await;
    assert_eq!(status, 200, "{log}");
    let entries = log["value"].as_array().expect("a list");
    assert_eq!(entries.len(), 2, "{log}");
    let (refused, allowed) = (&entries[0], &entries[1]);
    assert_eq!(allowed["userId"], mia.as_str());
    assert_eq!(allowed["userPrincipalName"], "mia@contoso.example");
    assert_eq!(allowed["appId"], wiki.as_str());
    assert_eq!(allowed["appDisplayName"], "Wiki");
    assert_eq!(allowed["status"]["errorCode"], 0);
    assert!(allowed["ipAddress"].is_string(), "{allowed}");
    assert_eq!(refused["userPrincipalName"], "max@contoso.example");
    assert_eq!(refused["status"]["errorCode"], 50105);
    assert!(
        refused["status"]["failureReason"]
            .as_str()
            .unwrap_or_default()
            .contains("not been given this app")
    );
    assert!(refused["conditionalAccessStatus"].is_string());
    let (_, hers) = f
        .get(
            &format!("auditLogs/signIns?$filter=userId eq '{mia}'"),
            &token,
        )
        .await;
    assert_eq!(hers["value"].as_array().map(Vec::len), Some(1));
    let (_, paged) = f.get("auditLogs/signIns?$top=1", &token).await;
    let (_, older) = f
        .get(&next_of(&f, &paged).expect("a second page"), &token)
        .await;
    assert_eq!(older["value"][0]["id"], allowed["id"]);
    assert!(next_of(&f, &older).is_none());
    let (_, none) = f
        .get(
            "auditLogs/signIns?$filter=createdDateTime lt 2000-01-01T00:00:00Z",
            &token,
        )
        .await;
    assert_eq!(none["value"], json!([]));
}

#[tokio::test]
async fn an_invitation_may_copy_one_person_without_the_link() {
    let f = fixture().await;
    assert!(f.set_permission("User.Invite.All", true).await.ok());
    let token = f.api_token().await;
    let invite = |cc: Value, send: bool| {
        json!({
            "invitedUserEmailAddress": "pat@partner.example",
            "inviteRedirectUrl": "https://wiki.contoso.example/",
            "invitedUserDisplayName": "Pat",
            "sendInvitationMessage": send,
            "invitedUserMessageInfo": {
                "customizedMessageBody": "Welcome to the wiki",
                "ccRecipients": cc,
            },
        })
    };
    let one = |address: &str| json!([{ "emailAddress": { "name": "Sam", "address": address } }]);

    for (cc, says) in [
        (
            json!([
                { "emailAddress": { "address": "sam@contoso.example" } },
                { "emailAddress": { "address": "kim@contoso.example" } },
            ]),
            "one recipient",
        ),
        (one("not an address"), "ccRecipients"),
    ] {
        let refused = f
            .api(
                Method::POST,
                "invitations",
                Some(&token),
                Some(invite(cc, true)),
            )
            .await;
        assert_error(&refused, 400, "Request_BadRequest");
        let message = refused.1["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message}");
    }
    assert!(f.portico.outbox().is_empty(), "refused: nothing sent");

    let (status, made) = f
        .api(
            Method::POST,
            "invitations",
            Some(&token),
            Some(invite(one("Sam@Contoso.example"), true)),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        made["invitedUserMessageInfo"]["ccRecipients"],
        json!([{ "emailAddress": { "name": "Sam", "address": "sam@contoso.example" } }])
    );
    let mail = f.portico.outbox();
    assert_eq!(mail.len(), 2, "{mail:?}");
    let copy = mail
        .iter()
        .find(|m| m["recipient"] == "sam@contoso.example")
        .expect("a copy for Sam");
    let text = copy["text_body"].as_str().unwrap_or_default();
    assert!(text.contains("pat@partner.example"), "{text}");
    assert!(text.contains("HR onboarding"), "who invited: {text}");
    assert!(text.contains("Welcome to the wiki"), "{text}");
    let link = made["inviteRedeemUrl"].as_str().expect("a link");
    let ticket = link.split("ticket=").nth(1).expect("a ticket");
    assert!(
        !text.contains(ticket),
        "the copy never has the link: {text}"
    );
    assert!(!text.contains("/redeem"), "{text}");
    let guest = mail
        .iter()
        .find(|m| m["recipient"] == "pat@partner.example")
        .expect("the invitation");
    assert!(
        guest["text_body"]
            .as_str()
            .unwrap_or_default()
            .contains(ticket)
    );

    // No mail asked for: no copy either.
    let (status, _) = f
        .api(
            Method::POST,
            "invitations",
            Some(&token),
            Some(json!({
                "invitedUserEmailAddress": "lee@partner.example",
                "inviteRedirectUrl": "https://wiki.contoso.example/",
                "invitedUserMessageInfo": { "ccRecipients": [{ "emailAddress": { "address": "sam@contoso.example" } }] },
            })),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(f.portico.outbox().len(), 2);

    // A member-type external user is something Portico does not have.
    let member = f
        .api(
            Method::POST,
            "invitations",
            Some(&token),
            Some(json!({
                "invitedUserEmailAddress": "kim@partner.example",
                "inviteRedirectUrl": "https://wiki.contoso.example/",
                "invitedUserType": "Member",
            })),
        )
        .await;
    assert_error(&member, 400, "Request_BadRequest");
    assert!(
        member.1["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no member-type external users"),
        "{}",
        member.1
    );
}
