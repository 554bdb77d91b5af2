//! The Graph-compatible API's contract: requests it refuses before acting (unknown
//! properties, bodies that are not JSON or too large), the per-organization request limit,
//! and the OpenAPI document generated from its route table, checked against the live server
//! by schemathesis.

use integration::{PASSWORD, Portico};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};

/// An organization with an app that holds `permissions`, and the app's token.
struct Organization {
    tenant: String,
    token: String,
}

impl Organization {
    async fn new(portico: &Portico, name: &str, domain: &str, permissions: &[&str]) -> Self {
        let admin = format!("admin@{domain}");
        let (tenant, _) = portico.seed_tenant(name, domain, &admin, &["global-administrator"]);
        let (client_id, secret) = portico.app_with_secret(&tenant, "Onboarding");
        let session = portico.sign_in(&admin, PASSWORD).await;
        for permission in permissions {
            let granted = portico
                .call(
                    "admin/app/api-permission",
                    &[
                        ("id", &client_id),
                        ("permission", permission),
                        ("present", "true"),
                        ("understood", "yes"),
                    ],
                    Some(&session),
                )
                .await;
            assert!(granted.ok(), "{granted:?}");
        }
        let answer: Value = portico
            .http()
            .post(format!("{}/{tenant}/oauth2/v2.0/token", portico.url))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("scope", &format!("{}/.default", portico.url)),
            ])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("JSON");
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {answer}"))
            .to_string();
        Organization { tenant, token }
    }
}

/// Sends `body` as is, with `content_type`; (status, headers, JSON answer or Null).
async fn send(
    portico: &Portico,
    token: &str,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = portico
        .http()
        .request(method, format!("{}/v1.0/{path}", portico.url))
        .bearer_auth(token)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    let response = request.send().await.expect("API request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn send_json(
    portico: &Portico,
    token: &str,
    method: Method,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let (status, _, answer) = send(
        portico,
        token,
        method,
        path,
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await;
    (status, answer)
}

/// Posts an invitation whose body is `chunks` chunks of `size` bytes, with
/// `Transfer-Encoding: chunked`, over a raw connection; stops sending when Portico answers.
/// (status, JSON answer).
async fn chunked_post(portico: &Portico, token: &str, size: usize, chunks: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut connection = tokio::net::TcpStream::connect(&portico.listening)
        .await
        .expect("connect");
    let head = format!(
        "POST /v1.0/invitations HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        portico.listening
    );
    connection.write_all(head.as_bytes()).await.expect("head");
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for _ in 0..chunks {
        // Portico may answer and close before every chunk is sent.
        if connection.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = connection.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = connection.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let (_, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn refused_with(answer: &Value, status: u16, expected: u16, code: &str, says: &str) {
    assert_eq!(status, expected, "{answer}");
    assert_eq!(answer["error"]["code"], code, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{says:?} not in {message:?}");
    assert!(
        answer["error"]["innerError"]["request-id"].is_string(),
        "{answer}"
    );
}

#[tokio::test]
async fn bodies_with_unknown_properties_not_json_or_too_large_are_refused_and_change_nothing() {
    let portico = Portico::start();
    let org = Organization::new(
        &portico,
        "Contoso",
        "contoso.example",
        &["User.ReadWrite.All"],
    )
    .await;
    let t = &org.token;
    let invitation = json!({
        "@odata.type": "#microsoft.graph.invitation",
        "invitedUserEmailAddress": "pat@partner.example",
        "inviteRedirectUrl": "https://wiki.contoso.example/",
    });
    let (status, made) = send_json(&portico, t, Method::POST, "invitations", &invitation).await;
    assert_eq!(status, 201, "{made}");
    let user = made["invitedUser"]["id"]
        .as_str()
        .expect("user id")
        .to_string();

    let mut unknown = invitation.clone();
    unknown["invitedUserEmailAddress"] = json!("sam@partner.example");
    unknown["colour"] = json!("red");
    let (status, answer) = send_json(&portico, t, Method::POST, "invitations", &unknown).await;
    refused_with(&answer, status, 400, "Request_BadRequest", "'colour'");
    let mut nested = invitation.clone();
    nested["invitedUserEmailAddress"] = json!("sam@partner.example");
    nested["invitedUserMessageInfo"] = json!({ "bodyText": "Welcome" });
    let (status, answer) = send_json(&portico, t, Method::POST, "invitations", &nested).await;
    refused_with(&answer, status, 400, "Request_BadRequest", "'bodyText'");
    let (status, answer) = send_json(
        &portico,
        t,
        Method::PATCH,
        &format!("users/{user}"),
        &json!({ "displayName": "Sam", "jobTitle": "Buyer" }),
    )
    .await;
    refused_with(&answer, status, 400, "Request_BadRequest", "'jobTitle'");

    let sam = br#"{"invitedUserEmailAddress":"sam@partner.example","inviteRedirectUrl":"https://wiki.contoso.example/"}"#;
    for (content_type, body, says) in [
        (
            Some("application/json"),
            &br#"{"invitedUserEmailAddress":"sam@partner.example","#[..],
            "not valid JSON",
        ),
        (
            Some("text/plain"),
            &sam[..],
            "Content-Type: application/json",
        ),
        (None, &sam[..], "content type: none"),
        (Some("application/json"), &b""[..], "needs a JSON body"),
    ] {
        let (status, _, answer) = send(
            &portico,
            t,
            Method::POST,
            "invitations",
            content_type,
            body.to_vec(),
        )
        .await;
        refused_with(&answer, status, 400, "Request_BadRequest", says);
    }

    // Over 64 KiB: refused as too large, in Graph's envelope, even when it is well-formed.
    let mut large = invitation.clone();
    large["invitedUserEmailAddress"] = json!("sam@partner.example");
    large["invitedUserMessageInfo"] = json!({ "customizedMessageBody": "a".repeat(70 * 1024) });
    let (status, headers, answer) = send(
        &portico,
        t,
        Method::POST,
        "invitations",
        Some("application/json"),
        large.to_string().into_bytes(),
    )
    .await;
    refused_with(&answer, status, 413, "Request_EntityTooLarge", "64 KiB");
    assert!(headers.contains_key("request-id"));
    // Sent in chunks with no length given: refused once past 64 KiB, the rest unread.
    let (status, answer) = chunked_post(&portico, t, 16 * 1024, 8).await;
    refused_with(&answer, status, 413, "Request_EntityTooLarge", "64 KiB");

    // Just under the limit is read (JSON may be padded with spaces).
    let mut kim = invitation.clone();
    kim["invitedUserEmailAddress"] = json!("kim@partner.example");
    let padded = format!("{kim}{}", " ".repeat(63 * 1024));
    let (status, _, answer) = send(
        &portico,
        t,
        Method::POST,
        "invitations",
        Some("application/json"),
        padded.into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");

    // Nothing refused changed anything: Sam was never invited, Pat keeps the name.
    let (status, listed) = send_json(&portico, t, Method::GET, "invitations", &Value::Null).await;
    assert_eq!(status, 200, "{listed}");
    let invited: Vec<&str> = listed["value"]
        .as_array()
        .expect("invitations")
        .iter()
        .filter_map(|i| i["invitedUserEmailAddress"].as_str())
        .collect();
    assert_eq!(invited.len(), 2, "{listed}");
    assert!(!invited.contains(&"sam@partner.example"), "{listed}");
    let (_, pat) = send_json(
        &portico,
        t,
        Method::GET,
        &format!("users/{user}"),
        &Value::Null,
    )
    .await;
    assert_eq!(pat["displayName"], "pat", "{pat}");

    // Query options and paths are checked too, in the same envelope.
    let (status, answer) =
        send_json(&portico, t, Method::GET, "users?$count=maybe", &Value::Null).await;
    refused_with(&answer, status, 400, "Request_BadRequest", "$count");
    let (status, answer) = send_json(&portico, t, Method::GET, "nothing/here", &Value::Null).await;
    refused_with(
        &answer,
        status,
        404,
        "Request_ResourceNotFound",
        "/v1.0/nothing/here",
    );
}

#[tokio::test]
async fn each_organization_has_its_own_request_limit_answered_with_retry_after() {
    let portico = Portico::start_with(&["--graph-requests-per-minute", "3"]);
    let contoso =
        Organization::new(&portico, "Contoso", "contoso.example", &["User.Read.All"]).await;
    let fabrikam =
        Organization::new(&portico, "Fabrikam", "fabrikam.example", &["User.Read.All"]).await;
    for _ in 0..3 {
        let (status, answer) =
            send_json(&portico, &contoso.token, Method::GET, "users", &Value::Null).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, headers, answer) = send(
        &portico,
        &contoso.token,
        Method::GET,
        "users",
        None,
        Vec::new(),
    )
    .await;
    refused_with(&answer, status, 429, "TooManyRequests", "Retry after");
    // Three a minute: the next comes back in about 20 seconds.
    let retry: u64 = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=20).contains(&retry), "{retry}");
    // Another organization is not held back by Contoso's calls.
    let (status, answer) = send_json(
        &portico,
        &fabrikam.token,
        Method::GET,
        "users",
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_against_the_generated_openapi_document() {
    let portico = Portico::start_with(&["--graph-requests-per-minute", "0"]);
    let org = Organization::new(
        &portico,
        "Contoso",
        "contoso.example",
        &[
            "User.Invite.All",
            "User.ReadWrite.All",
            "GroupMember.ReadWrite.All",
            "Application.Read.All",
            "AppRoleAssignment.ReadWrite.All",
            "AuditLog.Read.All",
        ],
    )
    .await;
    // Something to find: a guest, a group, an app assigned to the guest, and the audit trail
    // of all that.
    let (status, made) = send_json(
        &portico,
        &org.token,
        Method::POST,
        "invitations",
        &json!({
            "invitedUserEmailAddress": "pat@partner.example",
            "inviteRedirectUrl": "https://wiki.contoso.example/",
        }),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let group = portico.cli_json(
        &[
            "group",
            "create",
            "--tenant",
            &org.tenant,
            "--name",
            "Partners",
        ],
        "",
    );
    let group = group["id"].as_str().expect("group id").to_string();
    let (status, added) = send_json(
        &portico,
        &org.token,
        Method::POST,
        &format!("groups/{group}/members/$ref"),
        &json!({ "@odata.id": format!("{}/v1.0/directoryObjects/{}", portico.url, made["invitedUser"]["id"].as_str().unwrap_or_default()) }),
    )
    .await;
    assert_eq!(status, 204, "{added}");
    let (status, apps) = send_json(
        &portico,
        &org.token,
        Method::GET,
        "servicePrincipals",
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{apps}");
    let app = apps["value"][0]["id"].as_str().expect("an app").to_string();
    let (status, assigned) = send_json(
        &portico,
        &org.token,
        Method::POST,
        &format!("servicePrincipals/{app}/appRoleAssignedTo"),
        &json!({
            "principalId": made["invitedUser"]["id"],
            "resourceId": app,
            "appRoleId": "00000000-0000-0000-0000-000000000000",
        }),
    )
    .await;
    assert_eq!(status, 201, "{assigned}");

    // The document is anyone's, and describes every route with Graph's errors.
    let document: Value = portico
        .http()
        .get(format!("{}/v1.0/openapi.json", portico.url))
        .send()
        .await
        .expect("document")
        .json()
        .await
        .expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], portico.url.as_str());
    let invite = &document["paths"]["/v1.0/invitations"]["post"];
    assert_eq!(
        invite["x-permissions"],
        json!(["User.Invite.All", "User.ReadWrite.All"])
    );
    assert_eq!(
        invite["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewInvitation"
    );
    assert_eq!(
        invite["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorEnvelope"
    );
    // Assigning needs two permissions, as Graph.
    let assign = &document["paths"]["/v1.0/servicePrincipals/{id}/appRoleAssignedTo"]["post"];
    assert_eq!(
        assign["x-permissions"],
        json!(["AppRoleAssignment.ReadWrite.All"])
    );
    assert_eq!(
        assign["x-permissions-also"],
        json!([["Application.Read.All"]])
    );
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["NewInvitation"]["additionalProperties"], false);
    assert_eq!(schemas["NewAssignment"]["additionalProperties"], false);
    assert_eq!(
        schemas["DirectoryAuditCollection"]["properties"]["value"]["items"]["$ref"],
        "#/components/schemas/DirectoryAudit"
    );
    assert!(schemas["User"]["properties"]["externalUserState"].is_object());
    assert_eq!(
        schemas["UserCollection"]["properties"]["value"]["items"]["$ref"],
        "#/components/schemas/User"
    );
    // Links name operations that exist, so the stateful tests follow them.
    let ids: Vec<&Value> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .map(|operation| &operation["operationId"])
        .collect();
    let created = &invite["responses"]["201"]["links"];
    assert_eq!(
        created["getUsersId"]["parameters"]["id"],
        "$response.body#/invitedUser/id"
    );
    for operation in document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
    {
        for response in operation["responses"]
            .as_object()
            .expect("responses")
            .values()
        {
            for link in response["links"]
                .as_object()
                .into_iter()
                .flat_map(|l| l.values())
            {
                assert!(ids.contains(&&link["operationId"]), "{link}");
            }
        }
    }
    for (path, method) in [
        ("/v1.0/users/{id}", "patch"),
        ("/v1.0/groups/{id}/members/$ref", "post"),
        ("/v1.0/groups/{id}/members/{member}/$ref", "delete"),
        ("/v1.0/invitations/{id}/resend", "post"),
        ("/v1.0/servicePrincipals/{id}", "get"),
        (
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            "delete",
        ),
        ("/v1.0/auditLogs/directoryAudits", "get"),
        ("/v1.0/auditLogs/signIns", "get"),
    ] {
        assert!(
            document["paths"][path][method].is_object(),
            "{path} {method}"
        );
    }

    // schemathesis, from the live document: no 5xx, every answer as the document says.
    // scripts/test.sh installs it at the pinned version and names it in PORTICO_SCHEMATHESIS.
    let schemathesis =
        std::env::var("PORTICO_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let report = tempfile::tempdir().expect("temporary folder");
    let output = std::process::Command::new(&schemathesis)
        .args([
            "run",
            &format!("{}/v1.0/openapi.json", portico.url),
            "--header",
            &format!("Authorization: Bearer {}", org.token),
            "--checks",
            "all",
            // Valid-looking data the schema cannot tell from invalid (an address that is
            // not one, a $filter Portico does not take, an id that names nothing) is refused
            // with a 400, as it should be. DELETE /v1.0/invitations/{id} revokes: the
            // invitation stays readable with status Revoked, so that a program can see what
            // became of it, which the use-after-free check takes for a deleted resource
            // still served (deleted users are gone: see graph.rs). Deleting a guest deletes
            // their invitations, which the resource-availability check, following the links
            // of a new invitation, takes for an invitation that went missing.
            "--exclude-checks",
            "positive_data_acceptance,use_after_free,ensure_resource_availability",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "40",
            // One at a time: the stateful tests of two workers would delete each other's
            // guests between a step and the next.
            "--workers",
            "1",
            "--no-color",
            "--report-dir",
        ])
        .arg(report.path())
        // It keeps a cache in the folder it runs in.
        .current_dir(report.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {schemathesis} (scripts/test.sh installs it): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("22 selected"), "{stdout}");
}
