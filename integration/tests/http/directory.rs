//! Sign-in, the admin console, tenant isolation and the command line.

use integration::{PASSWORD, Portico};
use serde_json::Value;

fn ticket_of(link: &str) -> String {
    link.split("ticket=").nth(1).expect("a ticket").to_string()
}

fn setup_form<'a>(ticket: &'a str, email: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ticket", ticket),
        ("tenant_name", "Contoso"),
        ("primary_domain", "contoso.example"),
        ("display_name", "Ada Admin"),
        ("email", email),
        ("password", password),
    ]
}

#[tokio::test]
async fn setup_link_creates_the_first_admin_once() {
    let portico = Portico::start();
    let link = portico
        .setup_link
        .clone()
        .expect("a fresh instance prints a setup link");
    let ticket = ticket_of(&link);

    // A weak password is refused with a field error, and the link stays usable.
    let weak = portico
        .call(
            "setup",
            &setup_form(&ticket, "ada@contoso.example", "password1"),
            None,
        )
        .await;
    assert_eq!(weak.error_kind().as_deref(), Some("Invalid"), "{weak:?}");
    assert_eq!(weak.body["Invalid"][0]["field"], "password");

    let done = portico
        .call(
            "setup",
            &setup_form(&ticket, "ada@contoso.example", PASSWORD),
            None,
        )
        .await;
    assert!(done.ok(), "{done:?}");
    let cookie = done.cookie.expect("the new admin is signed in");
    let me = portico.call("me", &[], Some(&cookie)).await;
    assert_eq!(me.body["email"], "ada@contoso.example");
    assert_eq!(me.body["roles"][0], "GlobalAdministrator");

    // Single use: the same ticket now changes nothing.
    let again = portico
        .call(
            "setup",
            &setup_form(&ticket, "eve@contoso.example", PASSWORD),
            None,
        )
        .await;
    assert_eq!(again.error_kind().as_deref(), Some("Refused"));
    let page = portico
        .http()
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("This setup link cannot be used"), "{page}");
    let (ok, _, _) = portico.cli(
        &[
            "tenant",
            "create",
            "--name",
            "Other",
            "--domain",
            "contoso.example",
        ],
        "",
    );
    assert!(!ok, "the domain is taken by the tenant setup created");
}

#[tokio::test]
async fn a_made_up_setup_ticket_is_refused() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let tampered = portico
        .call(
            "setup",
            &setup_form("not-a-ticket", "x@contoso.example", PASSWORD),
            None,
        )
        .await;
    assert_eq!(tampered.error_kind().as_deref(), Some("Refused"));
}

#[tokio::test]
async fn wrong_password_and_unknown_account_get_the_same_answer_and_are_throttled() {
    let portico = Portico::start();
    portico.seed_tenant("Contoso", "contoso.example", "ada@contoso.example", &[]);
    let wrong = portico
        .call(
            "sign_in",
            &[
                ("email", "ada@contoso.example"),
                ("password", "wrong password!"),
            ],
            None,
        )
        .await;
    let unknown = portico
        .call(
            "sign_in",
            &[
                ("email", "nobody@contoso.example"),
                ("password", "wrong password!"),
            ],
            None,
        )
        .await;
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(
        wrong.message(),
        "The email address or password is not right."
    );
    assert!(wrong.cookie.is_none());

    for _ in 0..9 {
        portico
            .call(
                "sign_in",
                &[
                    ("email", "ada@contoso.example"),
                    ("password", "wrong password!"),
                ],
                None,
            )
            .await;
    }
    // Ten failures: even the right password is now refused for a while.
    let locked = portico
        .call(
            "sign_in",
            &[("email", "ada@contoso.example"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(locked.error_kind().as_deref(), Some("Refused"));
    assert!(
        locked.message().starts_with("Too many attempts"),
        "{locked:?}"
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server_and_sign_in_rotates_it() {
    let portico = Portico::start();
    portico.seed_tenant("Contoso", "contoso.example", "ada@contoso.example", &[]);
    let first = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let second = portico
        .call(
            "sign_in",
            &[("email", "ada@contoso.example"), ("password", PASSWORD)],
            Some(&first),
        )
        .await;
    let second = second.cookie.expect("a new session");
    assert_ne!(first, second, "signing in again issues a new session id");
    assert_eq!(
        portico.call("me", &[], Some(&first)).await.body,
        Value::Null,
        "the old id is dead"
    );
    assert_eq!(
        portico.call("me", &[], Some(&second)).await.body["email"],
        "ada@contoso.example"
    );

    let out = portico.call("sign_out", &[], Some(&second)).await;
    assert!(out.ok());
    assert_eq!(
        portico.call("me", &[], Some(&second)).await.body,
        Value::Null
    );
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site() {
    let portico = Portico::start();
    portico.seed_tenant("Contoso", "contoso.example", "ada@contoso.example", &[]);
    let response = portico
        .http()
        .post(format!("{}/fn/sign_in", portico.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(integration::encode_form(&[
            ("email", "ada@contoso.example"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let portico = Portico::start();
    let (_, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let cookie = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let form = integration::encode_form(&[("name", "Evil"), ("description", "")]);
    for (header, value) in [
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let response = portico
            .http()
            .post(format!("{}/fn/admin/groups/create", portico.url))
            .header(header, value)
            .header("Cookie", format!("portico_session={cookie}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{header}: {value}");
    }
    let groups = portico.call("admin/groups", &[], Some(&cookie)).await;
    assert_eq!(groups.body, serde_json::json!([]), "no group was created");
}

#[tokio::test]
async fn get_never_runs_a_state_changing_function() {
    let portico = Portico::start();
    portico.seed_tenant("Contoso", "contoso.example", "ada@contoso.example", &[]);
    let cookie = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let response = portico
        .http()
        .get(format!("{}/fn/sign_out", portico.url))
        .header("Cookie", format!("portico_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 200);
    assert_eq!(
        portico.call("me", &[], Some(&cookie)).await.body["email"],
        "ada@contoso.example"
    );
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let portico = Portico::start();
    let response = portico
        .http()
        .get(format!("{}/signin", portico.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && !csp.contains("'unsafe-eval'")
            && !csp.contains("'unsafe-inline'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy")
        .to_string();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let body = response.text().await.unwrap();
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts carry the policy's nonce"
    );
    let missing = portico
        .http()
        .get(format!("{}/no/such/page", portico.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_member_sees_apps_assigned_directly_through_a_group_or_open_to_all() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "bob@contoso.example", &[]);
    let cli = |args: &[&str]| portico.cli_json(args, "");
    for (name, extra) in [
        ("Wiki", None),
        ("Payroll", None),
        ("Intranet", Some("--open-to-all")),
        ("Secret", None),
    ] {
        let mut args = vec![
            "app",
            "create",
            "--tenant",
            &tenant,
            "--name",
            name,
            "--launch-url",
            "https://apps.contoso.example/",
        ];
        args.extend(extra);
        cli(&args);
    }
    cli(&["group", "create", "--tenant", &tenant, "--name", "Finance"]);
    cli(&[
        "group",
        "add-member",
        "--tenant",
        &tenant,
        "--group",
        "finance",
        "--user",
        "bob@contoso.example",
    ]);
    cli(&[
        "app", "assign", "--tenant", &tenant, "--app", "Payroll", "--group", "Finance",
    ]);
    cli(&[
        "app",
        "assign",
        "--tenant",
        &tenant,
        "--app",
        "Wiki",
        "--user",
        "bob@contoso.example",
    ]);

    let bob = portico.sign_in("bob@contoso.example", PASSWORD).await;
    let panel = portico.call("panel", &[], Some(&bob)).await;
    let names: Vec<&str> = panel.body["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Intranet", "Payroll", "Wiki"]);
    assert_eq!(panel.body["groups"][0]["name"], "Finance");
    assert_eq!(panel.body["groups"][0]["is_member"], true);

    // Bob is no admin: the console's functions refuse him.
    for endpoint in ["admin/users", "admin/groups", "admin/apps"] {
        let answer = portico
            .call(
                endpoint,
                &[("search", ""), ("user_type", ""), ("page", "0")],
                Some(&bob),
            )
            .await;
        assert_eq!(
            answer.error_kind().as_deref(),
            Some("AccessDenied"),
            "{endpoint}"
        );
    }
    let anonymous = portico.call("panel", &[], None).await;
    assert_eq!(anonymous.error_kind().as_deref(), Some("NotAuthenticated"));
}

#[tokio::test]
async fn admin_console_manages_users_groups_and_apps_and_audits_every_change() {
    let portico = Portico::start();
    let (_tenant, ada_id) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;

    let bad = portico
        .call(
            "admin/users/create",
            &[
                ("email", "not an email"),
                ("display_name", ""),
                ("password", "short"),
            ],
            Some(&ada),
        )
        .await;
    let fields: Vec<&str> = bad.body["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "display_name", "password"]);

    let carol = portico
        .call(
            "admin/users/create",
            &[
                ("email", "Carol@Contoso.example"),
                ("display_name", "Carol"),
                ("password", PASSWORD),
            ],
            Some(&ada),
        )
        .await;
    assert!(carol.ok(), "{carol:?}");
    let carol_id = carol.body["id"].as_str().unwrap().to_string();
    assert_eq!(carol.body["email"], "carol@contoso.example");
    let duplicate = portico
        .call(
            "admin/users/create",
            &[
                ("email", "carol@contoso.example"),
                ("display_name", "Carol 2"),
                ("password", PASSWORD),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(duplicate.error_kind().as_deref(), Some("Refused"));

    let list = portico
        .call(
            "admin/users",
            &[("search", "car"), ("user_type", "Member"), ("page", "0")],
            Some(&ada),
        )
        .await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["display_name"], "Carol");

    let group = portico
        .call(
            "admin/groups/create",
            &[("name", "Sales"), ("description", "Sales team")],
            Some(&ada),
        )
        .await;
    let group_id = group.body["id"].as_str().unwrap().to_string();
    let add = portico
        .call(
            "admin/group/link",
            &[
                ("id", &group_id),
                ("user", "carol@contoso.example"),
                ("relation", "member"),
                ("present", "true"),
            ],
            Some(&ada),
        )
        .await;
    assert!(add.ok(), "{add:?}");
    let app = portico
        .call(
            "admin/apps/create",
            &[
                ("name", "CRM"),
                ("description", ""),
                ("launch_url", "javascript:alert(1)"),
                ("logo_url", ""),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(
        app.body["Invalid"][0]["field"], "launch_url",
        "only web addresses become tiles"
    );
    let app = portico
        .call(
            "admin/apps/create",
            &[
                ("name", "CRM"),
                ("description", ""),
                ("launch_url", "https://crm.contoso.example"),
                ("logo_url", ""),
                ("assignment_required", "on"),
            ],
            Some(&ada),
        )
        .await;
    let app_id = app.body["id"].as_str().unwrap().to_string();
    let assign = portico
        .call(
            "admin/app/assignment",
            &[
                ("id", &app_id),
                ("kind", "group"),
                ("who", &group_id),
                ("present", "true"),
            ],
            Some(&ada),
        )
        .await;
    assert!(assign.ok(), "{assign:?}");

    let carol_session = portico.sign_in("carol@contoso.example", PASSWORD).await;
    let panel = portico.call("panel", &[], Some(&carol_session)).await;
    assert_eq!(panel.body["apps"][0]["name"], "CRM");

    // Disabling Carol ends her session at once.
    let disable = portico
        .call(
            "admin/user/enabled",
            &[("id", &carol_id), ("enabled", "false")],
            Some(&ada),
        )
        .await;
    assert!(disable.ok(), "{disable:?}");
    assert_eq!(
        portico.call("me", &[], Some(&carol_session)).await.body,
        Value::Null
    );
    let refused = portico
        .call(
            "sign_in",
            &[("email", "carol@contoso.example"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("Refused"));

    // Ada cannot lock herself out, nor leave the tenant without a global administrator.
    let own = portico
        .call(
            "admin/user/enabled",
            &[("id", &ada_id), ("enabled", "false")],
            Some(&ada),
        )
        .await;
    assert_eq!(own.error_kind().as_deref(), Some("Refused"));
    let demote = portico
        .call(
            "admin/user/role",
            &[
                ("id", &ada_id),
                ("role", "GlobalAdministrator"),
                ("granted", "false"),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(demote.error_kind().as_deref(), Some("Refused"));

    let audit = portico
        .call(
            "admin/audit",
            &[
                ("query[actor]", "ada"),
                ("query[target]", ""),
                ("query[action]", ""),
                ("query[from]", ""),
                ("query[to]", ""),
                ("query[page]", "0"),
            ],
            Some(&ada),
        )
        .await;
    assert!(audit.ok(), "{audit:?}");
    let actions: Vec<&str> = audit.body["events"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "Disable account",
            "Add app role assignment",
            "Add application",
            "Add member to group",
            "Add group",
            "Add user"
        ],
        "newest first, one event per change, none for refused input"
    );
    assert!(
        audit.body["events"]["items"][0]["ip"]
            .as_str()
            .is_some_and(|ip| ip == "127.0.0.1")
    );
}

/// An administrator of tenant A tries every admin operation on tenant B's objects.
#[tokio::test]
async fn an_admin_of_one_tenant_cannot_touch_another_tenants_objects() {
    let portico = Portico::start();
    let (_a, a_admin) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (b, b_admin) = portico.seed_tenant(
        "Fabrikam",
        "fabrikam.example",
        "fay@fabrikam.example",
        &["global-administrator"],
    );
    let b_user = portico.create_user(&b, "bert@fabrikam.example", &[]);
    let b_group =
        portico.cli_json(&["group", "create", "--tenant", &b, "--name", "B Team"], "")["id"]
            .as_str()
            .unwrap()
            .to_string();
    let b_app = portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            &b,
            "--name",
            "B App",
            "--launch-url",
            "https://b.example",
        ],
        "",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let a_group = portico
        .call(
            "admin/groups/create",
            &[("name", "A Team"), ("description", "")],
            Some(&ada),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a_app = portico
        .call(
            "admin/apps/create",
            &[
                ("name", "A App"),
                ("description", ""),
                ("launch_url", "https://a.example"),
                ("logo_url", ""),
            ],
            Some(&ada),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("admin/user", vec![("id", &b_user)]),
        (
            "admin/user/update",
            vec![
                ("id", &b_user),
                ("email", "x@fabrikam.example"),
                ("display_name", "X"),
            ],
        ),
        (
            "admin/user/enabled",
            vec![("id", &b_user), ("enabled", "false")],
        ),
        (
            "admin/user/password",
            vec![("id", &b_user), ("password", "a brand new password")],
        ),
        (
            "admin/user/role",
            vec![
                ("id", &b_user),
                ("role", "GlobalAdministrator"),
                ("granted", "true"),
            ],
        ),
        ("admin/user/delete", vec![("id", &b_admin)]),
        ("admin/group", vec![("id", &b_group)]),
        (
            "admin/group/update",
            vec![("id", &b_group), ("name", "Mine now"), ("description", "")],
        ),
        ("admin/group/delete", vec![("id", &b_group)]),
        (
            "admin/group/link",
            vec![
                ("id", &b_group),
                ("user", &a_admin),
                ("relation", "member"),
                ("present", "true"),
            ],
        ),
        (
            "admin/group/link",
            vec![
                ("id", &a_group),
                ("user", &b_user),
                ("relation", "owner"),
                ("present", "true"),
            ],
        ),
        (
            "admin/group/link",
            vec![
                ("id", &a_group),
                ("user", "bert@fabrikam.example"),
                ("relation", "member"),
                ("present", "true"),
            ],
        ),
        ("admin/app", vec![("id", &b_app)]),
        (
            "admin/app/update",
            vec![
                ("id", &b_app),
                ("name", "Mine"),
                ("description", ""),
                ("launch_url", "https://evil.example"),
                ("logo_url", ""),
            ],
        ),
        ("admin/app/delete", vec![("id", &b_app)]),
        (
            "admin/app/owner",
            vec![("id", &b_app), ("user", &a_admin), ("present", "true")],
        ),
        (
            "admin/app/owner",
            vec![("id", &a_app), ("user", &b_user), ("present", "true")],
        ),
        (
            "admin/app/assignment",
            vec![
                ("id", &b_app),
                ("kind", "user"),
                ("who", &a_admin),
                ("present", "true"),
            ],
        ),
        (
            "admin/app/assignment",
            vec![
                ("id", &a_app),
                ("kind", "user"),
                ("who", &b_user),
                ("present", "true"),
            ],
        ),
        (
            "admin/app/assignment",
            vec![
                ("id", &a_app),
                ("kind", "group"),
                ("who", &b_group),
                ("present", "true"),
            ],
        ),
    ];
    for (endpoint, form) in &attempts {
        let answer = portico.call(endpoint, form, Some(&ada)).await;
        let kind = answer.error_kind();
        assert!(
            matches!(kind.as_deref(), Some("NotFound") | Some("Invalid")),
            "{endpoint} {form:?} was not refused: {answer:?}"
        );
    }
    // Nothing of B changed: Fay still sees her objects as they were, and Bert can sign in.
    let fay = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    let group = portico
        .call("admin/group", &[("id", &b_group)], Some(&fay))
        .await;
    assert_eq!(group.body["group"]["name"], "B Team");
    assert_eq!(group.body["members"], serde_json::json!([]));
    let app = portico
        .call("admin/app", &[("id", &b_app)], Some(&fay))
        .await;
    assert_eq!(app.body["app"]["launch_url"], "https://b.example/");
    assert_eq!(app.body["owners"], serde_json::json!([]));
    assert_eq!(app.body["assigned_users"], serde_json::json!([]));
    let bert = portico
        .call("admin/user", &[("id", &b_user)], Some(&fay))
        .await;
    assert_eq!(bert.body["user"]["enabled"], true);
    assert_eq!(bert.body["roles"], serde_json::json!([]));
    portico.sign_in("bert@fabrikam.example", PASSWORD).await;
    let users = portico
        .call(
            "admin/users",
            &[("search", ""), ("user_type", ""), ("page", "0")],
            Some(&ada),
        )
        .await;
    assert_eq!(users.body["total"], 1, "A's list holds only A's users");
    let audit = portico
        .call(
            "admin/audit",
            &[
                ("query[actor]", ""),
                ("query[target]", ""),
                ("query[action]", ""),
                ("query[from]", ""),
                ("query[to]", ""),
                ("query[page]", "0"),
            ],
            Some(&fay),
        )
        .await;
    let b_actors: Vec<&str> = audit.body["events"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap())
        .collect();
    assert!(
        b_actors.iter().all(|a| *a == "Command line"),
        "no event in B is Ada's: {b_actors:?}"
    );
}

#[tokio::test]
async fn command_line_reports_bad_input_without_changing_anything() {
    let portico = Portico::start();
    let (ok, _, err) = portico.cli(&["tenant", "create", "--name", "", "--domain", "nodot"], "");
    assert!(!ok);
    assert!(
        err.contains("Enter a name") && err.contains("Enter a domain name"),
        "{err}"
    );
    let (tenant, _) = portico.seed_tenant("Contoso", "contoso.example", "ada@contoso.example", &[]);
    let (ok, _, err) = portico.cli(
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "x@contoso.example",
            "--name",
            "X",
        ],
        "123456\n",
    );
    assert!(!ok);
    assert!(err.contains("at least 8 characters"), "{err}");
    let (ok, _, err) = portico.cli(
        &[
            "user",
            "create",
            "--tenant",
            "nope.example",
            "--email",
            "x@y.example",
            "--name",
            "X",
        ],
        "",
    );
    assert!(!ok);
    assert!(err.contains("no organization"), "{err}");
    let (ok, out, _) = portico.cli(&["--help"], "");
    assert!(
        ok && out.contains("tenant") && out.contains("--data-dir"),
        "{out}"
    );
}

#[tokio::test]
async fn import_creates_the_good_lines_and_reports_the_bad_ones() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let file = "kim@contoso.example,Kim Lee\nnot-an-email,Nobody\nada@contoso.example,Ada Again\nlou@contoso.example,Doe, Lou\n";
    let report = portico.cli_json(
        &["user", "import", "--tenant", &tenant, "--file", "-"],
        file,
    );
    assert_eq!(report["created"], 2);
    assert_eq!(report["refused"][0][0], 2);
    assert_eq!(report["refused"][1][0], 3);
    assert!(
        report["refused"][1][1]
            .as_str()
            .unwrap()
            .contains("already has an account")
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let list = portico
        .call(
            "admin/users",
            &[("search", "doe"), ("user_type", ""), ("page", "0")],
            Some(&ada),
        )
        .await;
    assert_eq!(
        list.body["items"][0]["email"], "lou@contoso.example",
        "commas may stand in names"
    );
    // Imported members have no password until one is set, so nobody signs in as them.
    let refused = portico
        .call(
            "sign_in",
            &[("email", "kim@contoso.example"), ("password", "")],
            None,
        )
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("Refused"));
}

#[tokio::test]
async fn portico_refuses_to_serve_its_data_folder() {
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(integration::binary())
        .arg("--data-dir")
        .arg(data.path().join("inner"))
        .args(["serve", "--listen", "127.0.0.1:0", "--site-root"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("served to anyone"));
}

#[tokio::test]
async fn members_are_made_only_at_the_domains_the_operator_gives_the_organization() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.seed_tenant("Fabrikam", "fabrikam.example", "fay@fabrikam.example", &[]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let create = || {
        portico.call(
            "admin/users/create",
            &[
                ("email", "kim@contoso.co.uk"),
                ("display_name", "Kim"),
                ("password", PASSWORD),
            ],
            Some(&ada),
        )
    };

    let outside = create().await;
    assert_eq!(
        outside.error_kind().as_deref(),
        Some("Invalid"),
        "{outside:?}"
    );
    assert_eq!(outside.body["Invalid"][0]["field"], "email");
    assert_eq!(
        outside.body["Invalid"][0]["message"],
        "Members have addresses at contoso.example. Invite people from other organizations as guests."
    );

    let held = portico.cli_json(
        &[
            "tenant",
            "add-domain",
            "--tenant",
            "contoso",
            "--domain",
            "Contoso.co.uk",
        ],
        "",
    );
    assert_eq!(
        held,
        serde_json::json!(["contoso.co.uk", "contoso.example"])
    );
    let kim = create().await;
    assert!(kim.ok(), "{kim:?}");
    assert_eq!(kim.body["email"], "kim@contoso.co.uk");

    // Another organization cannot have it, nor anything under it.
    for domain in ["contoso.co.uk", "shop.contoso.co.uk"] {
        let (ok, _, err) = portico.cli(
            &[
                "tenant",
                "add-domain",
                "--tenant",
                "fabrikam.example",
                "--domain",
                domain,
            ],
            "",
        );
        assert!(!ok);
        assert!(
            err.contains("Another organization holds contoso.co.uk"),
            "{err}"
        );
    }
    // Nor does it go while Kim is at it.
    let (ok, _, err) = portico.cli(
        &[
            "tenant",
            "remove-domain",
            "--tenant",
            "contoso",
            "--domain",
            "contoso.co.uk",
        ],
        "",
    );
    assert!(!ok);
    assert!(
        err.contains("1 member has an address at contoso.co.uk."),
        "{err}"
    );

    let settings = portico
        .http()
        .get(format!("{}/admin/settings", portico.url))
        .header("Cookie", format!("portico_session={ada}"))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);
    let page = settings.text().await.unwrap();
    let listed = |domain: &str| page.find(&format!("<li>{domain}<"));
    assert!(listed("contoso.co.uk").is_some(), "{page}");
    assert!(
        listed("contoso.co.uk") < listed("contoso.example"),
        "{page}"
    );

    let added = portico.audited(&ada, "Add domain").await;
    assert_eq!(added["total"], 1, "{added:?}");
    assert_eq!(added["items"][0]["actor_name"], "Command line");
    assert_eq!(added["items"][0]["detail"], "domain contoso.co.uk");
}
