//! Microsoft's JavaScript libraries (`@azure/msal-node` and
//! `@microsoft/microsoft-graph-client`, pinned in `integration/clients/package.json`)
//! against Portico behind a real TLS proxy, changed only in their addresses.

use integration::{PASSWORD, Portico};
use serde_json::{Value, json};

use crate::tls::{Nginx, free_port};

/// Runs `integration/clients/graph_js.mjs` with Node; returns the one line of JSON it
/// prints.
fn run_graph_js(nginx: &Nginx, args: &[&str]) -> Value {
    let clients = concat!(env!("CARGO_MANIFEST_DIR"), "/clients");
    assert!(
        std::path::Path::new(clients)
            .join("node_modules/@azure/msal-node")
            .exists(),
        "Microsoft's JavaScript libraries are not installed: run `npm ci` in {clients} (scripts/test.sh does)"
    );
    let output = std::process::Command::new("node")
        .arg(format!("{clients}/graph_js.mjs"))
        .args(args)
        .env("NODE_EXTRA_CA_CERTS", nginx.certificate())
        .output()
        .unwrap_or_else(|e| panic!("cannot run node (scripts/test.sh installs it): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Graph JavaScript script failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_javascript_libraries_invite_list_add_and_assign_through_portico() {
    let proxy_port = free_port();
    let public_url = format!("https://localhost:{proxy_port}");
    let mut portico = Portico::start_with(&[
        "--public-url",
        &public_url,
        "--trusted-proxies",
        "127.0.0.1",
    ]);
    let nginx = Nginx::start(proxy_port, &portico.listening);
    portico.use_http(nginx.client());
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (client_id, secret) = portico.app_with_secret(&tenant, "Partner portal");
    let partners = portico.cli_json(
        &["group", "create", "--tenant", &tenant, "--name", "Partners"],
        "",
    )["id"]
        .as_str()
        .expect("group id")
        .to_string();
    let wiki = portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            &tenant,
            "--name",
            "Partner wiki",
            "--launch-url",
            "https://wiki.contoso.example/",
        ],
        "",
    )["id"]
        .as_str()
        .expect("app id")
        .to_string();
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    // A guest already there, so that the listing of guests has two pages.
    portico.invite(&ada, "kim@partner.example").await;

    let args = [
        public_url.as_str(),
        tenant.as_str(),
        client_id.as_str(),
        secret.as_str(),
        "lee@partner.example",
        "Partners",
        "Partner wiki",
    ];
    let refused = tokio::task::block_in_place(|| run_graph_js(&nginx, &args));
    assert_eq!(
        refused,
        json!({ "error": "Authorization_RequestDenied", "status": 403 })
    );

    for permission in [
        "User.Invite.All",
        "User.Read.All",
        "GroupMember.ReadWrite.All",
        "Application.Read.All",
        "AppRoleAssignment.ReadWrite.All",
    ] {
        let granted = portico
            .call(
                "admin/app/api-permission",
                &[
                    ("id", &client_id),
                    ("permission", permission),
                    ("present", "true"),
                    ("understood", "yes"),
                ],
                Some(&ada),
            )
            .await;
        assert!(granted.ok(), "{permission}: {granted:?}");
    }
    let done = tokio::task::block_in_place(|| run_graph_js(&nginx, &args));
    assert_eq!(done["status"], "PendingAcceptance", "{done}");
    assert!(
        done["inviteRedeemUrl"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{public_url}/redeem?ticket=")),
        "{done}"
    );
    let guest = done["guestId"]
        .as_str()
        .expect("the guest's id")
        .to_string();
    assert_ne!(done["invitationId"], guest.as_str());
    assert_eq!(done["pagesFollowed"], true, "{done}");
    let mut guests: Vec<&str> = done["guests"]
        .as_array()
        .expect("guests")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    guests.sort();
    assert_eq!(guests, ["kim@partner.example", "lee@partner.example"]);
    assert_eq!(done["groupId"], partners.as_str());
    assert_eq!(done["members"], json!([guest]));
    assert_eq!(done["servicePrincipalId"], wiki.as_str());
    assert_eq!(
        done["assignment"],
        json!({
            "id": done["assignment"]["id"],
            "principalId": guest,
            "resourceId": wiki,
            "appRoleId": "00000000-0000-0000-0000-000000000000",
        })
    );

    // What the libraries did is what the console shows, and the app is its actor.
    let app = portico
        .call("admin/app", &[("id", &wiki)], Some(&ada))
        .await;
    assert_eq!(
        app.body["assigned_users"][0]["id"],
        guest.as_str(),
        "{app:?}"
    );
    for action in ["Add app role assignment", "Add member to group"] {
        let events = portico.audited(&ada, action).await;
        assert_eq!(
            (
                events["items"][0]["actor_kind"].as_str(),
                events["items"][0]["actor_name"].as_str()
            ),
            (Some("App"), Some("Partner portal")),
            "{action}: {events}"
        );
    }
}
