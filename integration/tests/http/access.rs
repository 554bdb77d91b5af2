//! Who sees what: the console's pages for the roles that open them (and one clear page,
//! 403, for everyone else), and everyone's own `/account` (their password, their sessions).

use integration::{PASSWORD, Portico};
use serde_json::Value;

/// A page as a browser asks for it: (status, Location, body).
async fn page(
    portico: &Portico,
    path: &str,
    session: Option<&str>,
) -> (u16, Option<String>, String) {
    let mut request = portico
        .http()
        .get(format!("{}{path}", portico.url))
        .header("Accept", "text/html,application/xhtml+xml");
    if let Some(session) = session {
        request = request.header(
            "Cookie",
            format!("{}={session}", portico.cookie_name("portico_session")),
        );
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, response.text().await.unwrap())
}

const CONSOLE_MENU: &str = "aria-label=\"Admin\"";

#[tokio::test]
async fn the_console_sends_the_signed_out_to_sign_in_and_back() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    for (path, back) in [
        ("/admin", "/signin?next=%2Fadmin"),
        ("/admin/users", "/signin?next=%2Fadmin%2Fusers"),
        (
            "/admin/audit?action=Add%20user",
            "/signin?next=%2Fadmin%2Faudit%3Faction%3DAdd%2520user",
        ),
        ("/admin/apps", "/signin?next=%2Fadmin%2Fapps"),
        ("/account", "/signin?next=%2Faccount"),
    ] {
        let (status, location, body) = page(&portico, path, None).await;
        assert!(matches!(status, 302 | 303), "{path}: {status}");
        assert_eq!(location.as_deref(), Some(back), "{path}");
        assert!(
            !body.contains(CONSOLE_MENU),
            "{path}: nothing of the console: {body}"
        );
    }
    // Signing in with that address comes back to the page.
    let answer = portico
        .call(
            "sign_in",
            &[
                ("email", "ada@contoso.example"),
                ("password", PASSWORD),
                ("next", "/admin/users"),
            ],
            None,
        )
        .await;
    assert!(answer.ok(), "{answer:?}");
}

#[tokio::test]
async fn a_console_page_names_the_role_it_needs_and_whom_to_ask() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "gus@contoso.example", &["global-administrator"]);
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    portico.create_user(&tenant, "uma@contoso.example", &["user-administrator"]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;

    // A member without a role: one page (403), the role named, the global administrators
    // (who give roles) to ask; none of the console's menu, search or forms.
    let mia = portico.sign_in("mia@contoso.example", PASSWORD).await;
    let (status, _, body) = page(&portico, "/admin/users", Some(&mia)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains(
            "You need the User administrator or Global administrator role to manage users"
        ),
        "{body}"
    );
    assert!(
        body.contains("Roles in Contoso are given by its global administrators")
            && body.contains("ask ada@contoso.example or gus@contoso.example")
            && body.contains("mailto:gus@contoso.example"),
        "{body}"
    );
    let main = body.split("<main").nth(1).expect("a main");
    assert!(
        !body.contains(CONSOLE_MENU) && !main.contains("<form"),
        "{body}"
    );
    let (status, _, body) = page(&portico, "/admin/audit", Some(&mia)).await;
    assert_eq!(status, 403);
    assert!(body.contains("role to read the audit log"), "{body}");

    // A user administrator: the pages their role opens (their data loads), and for the
    // others the one role that does.
    let uma = portico.sign_in("uma@contoso.example", PASSWORD).await;
    for path in [
        "/admin/users",
        "/admin/groups",
        "/admin/audit",
        "/admin/invitations",
        "/admin/outbox",
        "/admin/settings",
        "/admin/external-collaboration",
        "/admin/reviews",
    ] {
        let (status, _, body) = page(&portico, path, Some(&uma)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(CONSOLE_MENU), "{path}: {body}");
        assert!(
            !body.contains("You are not allowed") && !body.contains("Not for you"),
            "{path}: {body}"
        );
    }
    // Their menu links the pages their role opens, and no other.
    let (_, _, body) = page(&portico, "/admin/users", Some(&uma)).await;
    let menu = body
        .split(CONSOLE_MENU)
        .nth(1)
        .and_then(|rest| rest.split("</nav>").next())
        .expect("the console's menu");
    assert!(
        menu.contains("href=\"/admin/audit\"") && menu.contains("href=\"/admin/reviews\""),
        "{menu}"
    );
    for global_only in [
        "/admin/apps",
        "/admin/sign-ins",
        "/admin/external-identities",
    ] {
        assert!(!menu.contains(global_only), "{global_only} in {menu}");
    }
    for (path, task) in [
        ("/admin/apps", "manage apps"),
        ("/admin/sign-ins", "see sign-ins to apps"),
        ("/admin/external-identities", "manage identity providers"),
    ] {
        let (status, _, body) = page(&portico, path, Some(&uma)).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(
            body.contains(&format!("You need the Global administrator role to {task}")),
            "{path}: {body}"
        );
        assert!(!body.contains(CONSOLE_MENU), "{path}: {body}");
    }
    // A global administrator gets each of them.
    for path in [
        "/admin/apps",
        "/admin/sign-ins",
        "/admin/external-identities",
        "/admin/users",
    ] {
        let (status, _, body) = page(&portico, path, Some(&ada)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(CONSOLE_MENU), "{path}");
    }

    // A guest gets the same page, pointed at the organization: its directory is not theirs.
    let guest = portico.invite_and_redeem(&ada, "gia@partner.example").await;
    let (status, _, body) = page(&portico, "/admin/users", Some(&guest)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains(
            "You need the User administrator or Global administrator role to manage users"
        ) && body.contains("Ask an administrator of Contoso"),
        "{body}"
    );
    assert!(
        !body.contains("ada@contoso.example") && !body.contains(CONSOLE_MENU),
        "{body}"
    );
}

#[tokio::test]
async fn a_page_outside_the_console_that_is_not_for_someone_says_so_with_403() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    let (app, _) = portico.app_with_secret(&tenant, "Wiki");
    let path = format!("/manage/apps/{app}");
    // Signed out: to sign in, and back here after.
    let (status, location, _) = page(&portico, &path, None).await;
    assert!(matches!(status, 302 | 303), "{status}");
    assert_eq!(
        location,
        Some(format!("/signin?next=%2Fmanage%2Fapps%2F{app}"))
    );
    // Someone who does not own the app.
    let mia = portico.sign_in("mia@contoso.example", PASSWORD).await;
    let (status, _, body) = page(&portico, &path, Some(&mia)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("This page is not open to you"), "{body}");
}

/// The person's sessions as `/account` lists them.
async fn sessions(portico: &Portico, session: &str) -> Vec<Value> {
    let account = portico.call("account", &[], Some(session)).await;
    assert!(account.ok(), "{account:?}");
    account.body["sessions"]
        .as_array()
        .expect("sessions")
        .clone()
}

async fn signed_in(portico: &Portico, session: &str) -> bool {
    let me = portico.call("me", &[], Some(session)).await;
    assert!(me.ok(), "{me:?}");
    !me.body.is_null()
}

#[tokio::test]
async fn a_member_changes_their_password_with_the_current_one() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let here = portico.sign_in("mia@contoso.example", PASSWORD).await;
    let elsewhere = portico.sign_in("mia@contoso.example", PASSWORD).await;
    let new = "a brand new passphrase 42";

    let account = portico.call("account", &[], Some(&here)).await;
    assert_eq!(
        account.body["way_in"],
        serde_json::json!({ "Member": { "organization": "Contoso", "has_password": true } })
    );

    // A wrong current password, a weak new one: refused on their fields, nothing changes.
    let change = |current: &'static str, next: &'static str| {
        let (portico, here) = (&portico, here.clone());
        async move {
            portico
                .call(
                    "account/change-password",
                    &[("current_password", current), ("new_password", next)],
                    Some(&here),
                )
                .await
        }
    };
    let wrong = change("not my password", new).await;
    assert_eq!(wrong.error_kind().as_deref(), Some("Invalid"), "{wrong:?}");
    assert_eq!(wrong.body["Invalid"][0]["field"], "current_password");
    let weak = change(PASSWORD, "password").await;
    assert_eq!(weak.body["Invalid"][0]["field"], "new_password", "{weak:?}");
    assert!(signed_in(&portico, &elsewhere).await);
    assert_eq!(
        portico.audited(&ada, "Change own password").await["items"],
        serde_json::json!([])
    );

    // The change: the old password is refused after it, the new one signs in, the other
    // session has ended and this one goes on.
    let changed = change(PASSWORD, new).await;
    assert!(changed.ok(), "{changed:?}");
    let old = portico
        .call(
            "sign_in",
            &[("email", "mia@contoso.example"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(old.error_kind().as_deref(), Some("Refused"), "{old:?}");
    portico.sign_in("mia@contoso.example", new).await;
    assert!(
        !signed_in(&portico, &elsewhere).await,
        "the other session ended"
    );
    assert!(signed_in(&portico, &here).await, "this session goes on");

    // The organization's audit log says who changed it, and that nothing was shown.
    let events = portico.audited(&ada, "Change own password").await["items"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["actor_name"], "mia@contoso.example");
    assert_eq!(events[0]["target_name"], "mia@contoso.example");
    assert_eq!(events[0]["detail"], "1 other sessions ended");

    // A guest (a code by mail) has no password here to change.
    let guest = portico.invite_and_redeem(&ada, "gia@partner.example").await;
    let account = portico.call("account", &[], Some(&guest)).await;
    assert_eq!(account.body["way_in"], "MailedCode", "{account:?}");
    let refused = portico
        .call(
            "account/change-password",
            &[
                ("current_password", "anything at all"),
                ("new_password", new),
            ],
            Some(&guest),
        )
        .await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Refused"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_person_signs_out_their_other_sessions_one_or_all() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let here = portico.sign_in("mia@contoso.example", PASSWORD).await;
    let second = portico.sign_in("mia@contoso.example", PASSWORD).await;
    let third = portico.sign_in("mia@contoso.example", PASSWORD).await;

    // Her three sessions, this one marked; none of Ada's.
    let listed = sessions(&portico, &here).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        listed
            .iter()
            .all(|s| s["organization"] == "Contoso" && s["signed_in_at"].as_i64().is_some())
    );
    let current = listed.iter().find(|s| s["current"] == true).unwrap()["id"].clone();
    let other = listed.iter().find(|s| s["current"] == false).unwrap()["id"].clone();

    // Not this one (that is signing out), and not somebody else's.
    let end = |id: String, session: String| {
        let portico = &portico;
        async move {
            portico
                .call("account/sessions/end", &[("id", &id)], Some(&session))
                .await
        }
    };
    let refused = end(current.as_str().unwrap().into(), here.clone()).await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Refused"),
        "{refused:?}"
    );
    let adas = sessions(&portico, &ada).await[0]["id"].clone();
    let refused = end(adas.as_str().unwrap().into(), here.clone()).await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("NotFound"),
        "{refused:?}"
    );
    assert!(signed_in(&portico, &ada).await);

    // One other session.
    let ended = end(other.as_str().unwrap().into(), here.clone()).await;
    assert!(ended.ok(), "{ended:?}");
    let still = [
        signed_in(&portico, &second).await,
        signed_in(&portico, &third).await,
    ];
    assert_eq!(
        still.iter().filter(|s| **s).count(),
        1,
        "exactly one of the others ended"
    );
    assert_eq!(sessions(&portico, &here).await.len(), 2);

    // All the others.
    let ended = portico
        .call("account/sessions/end-others", &[], Some(&here))
        .await;
    assert!(ended.ok(), "{ended:?}");
    assert!(!signed_in(&portico, &second).await && !signed_in(&portico, &third).await);
    assert!(signed_in(&portico, &here).await);
    assert_eq!(sessions(&portico, &here).await.len(), 1);

    // Both are in the audit log.
    let one = portico.audited(&ada, "Sign out a session").await["items"].clone();
    assert_eq!(one.as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one[0]["actor_name"], "mia@contoso.example");
    let all = portico.audited(&ada, "Sign out other sessions").await["items"].clone();
    assert_eq!(all[0]["detail"], "1 sessions ended", "{all}");

    // A guest has their sessions too; signed out, there is nothing to list.
    let guest = portico.invite_and_redeem(&ada, "gia@partner.example").await;
    assert_eq!(sessions(&portico, &guest).await.len(), 1);
    let nobody = portico.call("account", &[], None).await;
    assert_eq!(nobody.error_kind().as_deref(), Some("NotAuthenticated"));
}

#[tokio::test]
async fn the_access_panel_finds_an_app_by_its_words_without_javascript() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let names = ["Wiki", "CRM", "Payroll", "Travel", "Tickets", "Timesheets"];
    for name in names {
        portico.app_with_secret(&tenant, name);
        portico.assign(&tenant, name, "ada@contoso.example");
    }
    let tiles = |html: &str| -> Vec<String> {
        html.split("<span class=\"tile-name\">")
            .skip(1)
            .map(|rest| rest.split('<').next().unwrap_or_default().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    // Six apps: all shown, no search box.
    let (status, _, html) = page(&portico, "/", Some(&ada)).await;
    assert_eq!(status, 200);
    assert_eq!(tiles(&html).len(), 6, "{html}");
    assert!(!html.contains("Find an app"), "{html}");

    // A seventh: the search box appears; a search keeps the apps whose words match.
    portico.app_with_secret(&tenant, "Expenses");
    portico.assign(&tenant, "Expenses", "ada@contoso.example");
    let (_, _, html) = page(&portico, "/", Some(&ada)).await;
    assert!(
        html.contains("<label for=\"app-search\">Find an app</label>"),
        "{html}"
    );
    let (_, _, html) = page(&portico, "/?q=ti", Some(&ada)).await;
    assert_eq!(tiles(&html), ["Tickets", "Timesheets"]);
    assert!(html.contains("2 of 7 apps match “ti”."), "{html}");
    let (_, _, html) = page(&portico, "/?q=TIME%20sheets", Some(&ada)).await;
    assert_eq!(tiles(&html), ["Timesheets"]);
    assert!(
        html.contains("1 of 7 apps matches “TIME sheets”."),
        "{html}"
    );
    let (_, _, html) = page(&portico, "/?q=nothing", Some(&ada)).await;
    assert!(tiles(&html).is_empty());
    assert!(html.contains("No app matches “nothing”."), "{html}");
    assert!(html.contains("Show all apps"), "{html}");
}
