//! Inviting guests and redeeming invitations, against the real binary.

use integration::{PASSWORD, Portico};

fn ticket_of(link: &str) -> String {
    link.split("ticket=").nth(1).expect("a ticket").to_string()
}

async fn invite(portico: &Portico, admin: &str, email: &str) -> serde_json::Value {
    let answer = portico
        .call(
            "admin/invite",
            &[
                ("email", email),
                ("display_name", ""),
                ("message", "Welcome aboard!"),
                ("redirect_url", ""),
                ("send_email", "on"),
            ],
            Some(admin),
        )
        .await;
    assert!(answer.ok(), "{answer:?}");
    answer.body
}

#[tokio::test]
async fn an_invited_guest_redeems_with_a_passcode_and_finds_the_app_given_before_acceptance() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            &tenant,
            "--name",
            "Wiki",
            "--launch-url",
            "https://wiki.contoso.example/",
        ],
        "",
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;

    let invited = invite(&portico, &ada, "Ann@Partner.example").await;
    assert_eq!(invited["user"]["user_type"], "Guest");
    assert_eq!(invited["user"]["external_state"], "PendingAcceptance");
    assert_eq!(invited["user"]["display_name"], "ann");
    let link = invited["redeem_url"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/redeem?ticket=", portico.url)));
    let app_id = portico.cli_json(
        &[
            "app",
            "assign",
            "--tenant",
            &tenant,
            "--app",
            "Wiki",
            "--user",
            "ann@partner.example",
        ],
        "",
    )["app"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!app_id.is_empty());

    // The mail with the same link waits in the outbox; admins see it too.
    let mail = portico.outbox();
    assert_eq!(mail[0]["recipient"], "ann@partner.example");
    assert!(mail[0]["text_body"].as_str().unwrap().contains(&link));
    assert!(
        mail[0]["text_body"]
            .as_str()
            .unwrap()
            .contains("Welcome aboard!")
    );
    let admin_view = portico.call("admin/outbox", &[], Some(&ada)).await;
    assert_eq!(admin_view.body[0]["recipient"], "ann@partner.example");

    // Opening the link (as a mail scanner would, twice) consumes nothing.
    for _ in 0..2 {
        let page = portico
            .http()
            .get(&link)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Contoso invites you"), "{page}");
    }
    let redemption = portico.start_redemption(&ticket_of(&link)).await;
    let code = portico.latest_code("ann@partner.example");
    let admin_mail = portico.call("admin/outbox", &[], Some(&ada)).await;
    assert!(
        !admin_mail.body.to_string().contains(&code),
        "administrators never see a passcode"
    );

    // Accepting before proving the address is refused.
    let early = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert_eq!(early.error_kind().as_deref(), Some("Refused"));
    let wrong = portico
        .call_redeeming("redeem/verify", &[("code", "00000000")], &redemption)
        .await;
    assert_eq!(wrong.body["Invalid"][0]["field"], "code");
    assert!(
        wrong.body["Invalid"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4 tries left")
    );
    let right = portico
        .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
        .await;
    assert!(right.ok(), "{right:?}");
    // Another browser, without this redemption, gets nowhere.
    let stranger = portico.call("redeem/accept", &[], None).await;
    assert_eq!(stranger.error_kind().as_deref(), Some("Refused"));

    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert!(accepted.ok(), "{accepted:?}");
    let ann = accepted.cookie.expect("the guest is signed in");
    let panel = portico.call("panel", &[], Some(&ann)).await;
    assert_eq!(panel.body["apps"][0]["name"], "Wiki");
    let me = portico.call("me", &[], Some(&ann)).await;
    assert_eq!(me.body["tenant_name"], "Contoso");
    // A guest is no administrator.
    let users = portico
        .call(
            "admin/users",
            &[("search", ""), ("user_type", ""), ("page", "0")],
            Some(&ann),
        )
        .await;
    assert_eq!(users.error_kind().as_deref(), Some("AccessDenied"));

    // Single use: the link now says it was used, and a second acceptance fails.
    let page = portico
        .http()
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("You accepted this invitation already"),
        "{page}"
    );
    let again = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert_eq!(again.error_kind().as_deref(), Some("Refused"));

    let invitations = portico.call("admin/invitations", &[], Some(&ada)).await;
    assert_eq!(invitations.body[0]["status"], "Accepted");
    let accepted = portico
        .call(
            "admin/users",
            &[
                ("search", ""),
                ("user_type", "GuestAccepted"),
                ("page", "0"),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(accepted.body["items"][0]["email"], "ann@partner.example");
    let pending = portico
        .call(
            "admin/users",
            &[("search", ""), ("user_type", "GuestPending"), ("page", "0")],
            Some(&ada),
        )
        .await;
    assert_eq!(pending.body["total"], 0);
    let events = portico.audited(&ada, "Redeem external user invite").await;
    assert_eq!(events["total"], 1);
    assert_eq!(events["items"][0]["actor_name"], "ann");

    // Inviting the same address again is refused now that it has accepted.
    let twice = portico
        .call(
            "admin/invite",
            &[
                ("email", "ann@partner.example"),
                ("display_name", ""),
                ("message", ""),
                ("redirect_url", ""),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(twice.error_kind().as_deref(), Some("Refused"));
}

#[tokio::test]
async fn five_wrong_codes_use_the_code_up() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let link = invite(&portico, &ada, "bob@partner.example").await["redeem_url"]
        .as_str()
        .unwrap()
        .to_string();
    let redemption = portico.start_redemption(&ticket_of(&link)).await;
    let code = portico.latest_code("bob@partner.example");
    for _ in 0..5 {
        let wrong = portico
            .call_redeeming("redeem/verify", &[("code", "12345678")], &redemption)
            .await;
        assert_eq!(wrong.error_kind().as_deref(), Some("Invalid"));
    }
    let late = portico
        .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
        .await;
    assert_eq!(late.error_kind().as_deref(), Some("Refused"));
    assert!(late.message().contains("Too many wrong codes"), "{late:?}");
}

#[tokio::test]
async fn revoked_and_replaced_links_stop_working_and_say_why() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;

    let first = invite(&portico, &ada, "cy@partner.example").await["redeem_url"]
        .as_str()
        .unwrap()
        .to_string();
    let second = invite(&portico, &ada, "cy@partner.example").await;
    assert_eq!(second["resent"], true);
    let second = second["redeem_url"].as_str().unwrap().to_string();
    let old = portico
        .http()
        .get(&first)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(old.contains("was withdrawn"), "{old}");
    let started = portico
        .http()
        .post(format!("{}/fn/redeem/start", portico.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(integration::encode_form(&[("ticket", &ticket_of(&first))]))
        .send()
        .await
        .unwrap();
    assert_ne!(started.status(), 200, "a replaced link starts nothing");

    let invitations = portico.call("admin/invitations", &[], Some(&ada)).await;
    let pending = invitations
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["status"] == "PendingAcceptance")
        .unwrap();
    let revoke = portico
        .call(
            "admin/invitation/revoke",
            &[("id", pending["id"].as_str().unwrap())],
            Some(&ada),
        )
        .await;
    assert!(revoke.ok(), "{revoke:?}");
    let page = portico
        .http()
        .get(&second)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("was withdrawn"), "{page}");
    let tampered = portico
        .http()
        .get(format!("{}/redeem?ticket=made-up", portico.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tampered.contains("This invitation link does not work"));
}

#[tokio::test]
async fn invitations_refuse_bad_addresses_members_and_other_tenants() {
    let portico = Portico::start();
    let (_, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (_, _) = portico.seed_tenant(
        "Fabrikam",
        "fabrikam.example",
        "fay@fabrikam.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    for bad in [
        "a+b@partner.example",
        ".ann@partner.example",
        "ann-@partner.example",
        "not an address",
    ] {
        let answer = portico
            .call(
                "admin/invite",
                &[
                    ("email", bad),
                    ("display_name", ""),
                    ("message", ""),
                    ("redirect_url", ""),
                ],
                Some(&ada),
            )
            .await;
        assert_eq!(answer.body["Invalid"][0]["field"], "email", "{bad}");
    }
    let member = portico
        .call(
            "admin/invite",
            &[
                ("email", "ada@contoso.example"),
                ("display_name", ""),
                ("message", ""),
                ("redirect_url", ""),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(member.error_kind().as_deref(), Some("Refused"));
    // Fabrikam's admin sees none of Contoso's invitations and cannot revoke them.
    invite(&portico, &ada, "dee@partner.example").await;
    let contoso = portico.call("admin/invitations", &[], Some(&ada)).await;
    let id = contoso.body[0]["id"].as_str().unwrap().to_string();
    let fay = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    let theirs = portico.call("admin/invitations", &[], Some(&fay)).await;
    assert_eq!(theirs.body, serde_json::json!([]));
    let revoke = portico
        .call("admin/invitation/revoke", &[("id", &id)], Some(&fay))
        .await;
    assert_eq!(revoke.error_kind().as_deref(), Some("NotFound"));
    let still = portico.call("admin/invitations", &[], Some(&ada)).await;
    assert_eq!(still.body[0]["status"], "PendingAcceptance");
}

#[tokio::test]
async fn a_guest_signs_in_again_with_a_code_switches_organizations_and_leaves_one() {
    let portico = Portico::start();
    let (contoso, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (fabrikam, _) = portico.seed_tenant(
        "Fabrikam",
        "fabrikam.example",
        "fay@fabrikam.example",
        &["global-administrator"],
    );
    portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            &fabrikam,
            "--name",
            "Fabrikam Portal",
            "--launch-url",
            "https://portal.fabrikam.example/",
            "--open-to-all",
        ],
        "",
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let fay = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    let first = portico.invite_and_redeem(&ada, "ann@partner.example").await;
    portico.invite_and_redeem(&fay, "ann@partner.example").await;
    portico.call("sign_out", &[], Some(&first)).await;

    // An address that is no guest anywhere gets the same answer and no mail.
    let mail_before = portico.outbox().len();
    let (nobody, _) = portico
        .call_with_cookies(
            "sign_in/code/send",
            &[("email", "nobody@partner.example")],
            "",
        )
        .await;
    assert!(nobody.ok(), "{nobody:?}");
    assert_eq!(portico.outbox().len(), mail_before);

    let (sent, cookies) = portico
        .call_with_cookies("sign_in/code/send", &[("email", "ann@partner.example")], "")
        .await;
    assert!(sent.ok(), "{sent:?}");
    let pending = cookies
        .iter()
        .find(|(k, _)| k == "portico_signin")
        .expect("a sign-in cookie")
        .1
        .clone();
    let code = portico.latest_code("ann@partner.example");
    let (wrong, _) = portico
        .call_with_cookies(
            "sign_in/code/verify",
            &[("code", "00000000")],
            &format!("portico_signin={pending}"),
        )
        .await;
    assert_eq!(wrong.error_kind().as_deref(), Some("Invalid"));
    let (signed_in, _) = portico
        .call_with_cookies(
            "sign_in/code/verify",
            &[("code", &code)],
            &format!("portico_signin={pending}"),
        )
        .await;
    assert!(signed_in.ok(), "{signed_in:?}");
    let ann = signed_in.cookie.expect("a session");

    let me = portico.call("me", &[], Some(&ann)).await;
    assert_eq!(me.body["tenant_name"], "Contoso");
    assert_eq!(me.body["guest"], true);
    let organizations = portico.call("organizations", &[], Some(&ann)).await;
    let names: Vec<&str> = organizations
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["tenant_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Contoso", "Fabrikam"]);

    let switched = portico
        .call(
            "organizations/switch",
            &[("tenant_id", &fabrikam)],
            Some(&ann),
        )
        .await;
    assert!(switched.ok(), "{switched:?}");
    assert_eq!(
        portico.call("me", &[], Some(&ann)).await.body["tenant_name"],
        "Fabrikam"
    );
    assert_eq!(
        portico.call("panel", &[], Some(&ann)).await.body["apps"][0]["name"],
        "Fabrikam Portal"
    );
    // Nobody switches into an organization where they are not a guest.
    let (other, _) = portico.seed_tenant("Other", "other.example", "oz@other.example", &[]);
    let refused = portico
        .call("organizations/switch", &[("tenant_id", &other)], Some(&ann))
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("NotFound"));

    let left = portico.call("organizations/leave", &[], Some(&ann)).await;
    assert!(left.ok(), "{left:?}");
    assert_eq!(
        portico.call("me", &[], Some(&ann)).await.body["tenant_name"],
        "Contoso",
        "still signed in, at Contoso"
    );
    let guests = portico
        .call(
            "admin/users",
            &[("search", "ann"), ("user_type", "Guest"), ("page", "0")],
            Some(&fay),
        )
        .await;
    assert_eq!(guests.body["total"], 0, "Fabrikam's guest user is gone");
    let events = portico.audited(&fay, "Leave organization").await;
    assert_eq!(events["total"], 1);
    let still = portico
        .call(
            "admin/users",
            &[("search", "ann"), ("user_type", "Guest"), ("page", "0")],
            Some(&ada),
        )
        .await;
    assert_eq!(still.body["total"], 1);
    let _ = contoso;
}

#[tokio::test]
async fn resetting_a_redemption_keeps_the_apps_and_asks_the_guest_to_accept_again() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            &tenant,
            "--name",
            "Wiki",
            "--launch-url",
            "https://wiki.contoso.example/",
        ],
        "",
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let ann = portico.invite_and_redeem(&ada, "ann@partner.example").await;
    portico.cli_json(
        &[
            "app",
            "assign",
            "--tenant",
            &tenant,
            "--app",
            "Wiki",
            "--user",
            "ann@partner.example",
        ],
        "",
    );
    let ann_id = portico.call("me", &[], Some(&ann)).await.body["user_id"]
        .as_str()
        .unwrap()
        .to_string();

    let reset = portico
        .call(
            "admin/user/reset_redemption",
            &[("id", &ann_id)],
            Some(&ada),
        )
        .await;
    assert!(reset.ok(), "{reset:?}");
    assert_eq!(reset.body["user"]["external_state"], "PendingAcceptance");
    assert_eq!(
        portico.call("me", &[], Some(&ann)).await.body,
        serde_json::Value::Null,
        "her sessions ended"
    );
    let link = reset.body["redeem_url"].as_str().unwrap().to_string();
    let redemption = portico.start_redemption(&ticket_of(&link)).await;
    let code = portico.latest_code("ann@partner.example");
    assert!(
        portico
            .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
            .await
            .ok()
    );
    // Accepting in a browser where someone else was signed in ends that session.
    let bob = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let (again, _) = portico
        .call_with_cookies(
            "redeem/accept",
            &[],
            &format!("portico_redeem={redemption}; portico_session={bob}"),
        )
        .await;
    assert_eq!(
        portico.call("me", &[], Some(&bob)).await.body,
        serde_json::Value::Null
    );
    let ann = again.cookie.expect("signed in again");
    assert_eq!(
        portico.call("panel", &[], Some(&ann)).await.body["apps"][0]["name"],
        "Wiki",
        "assignments survive a reset"
    );
    let members_refused = portico
        .call(
            "admin/user/reset_redemption",
            &[(
                "id",
                portico.call("me", &[], Some(&ada)).await.body["user_id"]
                    .as_str()
                    .unwrap(),
            )],
            Some(&ada),
        )
        .await;
    assert_eq!(members_refused.error_kind().as_deref(), Some("Refused"));
}

#[tokio::test]
async fn settings_set_the_invitation_lifetime_and_the_privacy_statement_on_the_consent_page() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "uma@contoso.example", &["user-administrator"]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let uma = portico.sign_in("uma@contoso.example", PASSWORD).await;
    let bad = portico
        .call(
            "admin/settings/update",
            &[
                ("invitation_lifetime_days", "0"),
                ("privacy_url", "javascript:x"),
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
    assert_eq!(fields, ["invitation_lifetime_days", "privacy_url"]);
    let denied = portico
        .call(
            "admin/settings/update",
            &[("invitation_lifetime_days", "3"), ("privacy_url", "")],
            Some(&uma),
        )
        .await;
    assert_eq!(denied.error_kind().as_deref(), Some("AccessDenied"));
    let saved = portico
        .call(
            "admin/settings/update",
            &[
                ("invitation_lifetime_days", "3"),
                ("privacy_url", "https://contoso.example/privacy"),
            ],
            Some(&ada),
        )
        .await;
    assert!(saved.ok(), "{saved:?}");

    let link = invite(&portico, &ada, "ann@partner.example").await["redeem_url"]
        .as_str()
        .unwrap()
        .to_string();
    let list = portico.call("admin/invitations", &[], Some(&ada)).await;
    let lifetime =
        list.body[0]["expires_at"].as_i64().unwrap() - list.body[0]["created_at"].as_i64().unwrap();
    assert_eq!(lifetime, 3 * 86_400);
    let redemption = portico.start_redemption(&ticket_of(&link)).await;
    let code = portico.latest_code("ann@partner.example");
    assert!(
        portico
            .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
            .await
            .ok()
    );
    let consent = portico
        .http()
        .get(format!("{}/redeem/consent", portico.url))
        .header("Cookie", format!("portico_redeem={redemption}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        consent.contains("Review permissions")
            && consent.contains("https://contoso.example/privacy"),
        "{consent}"
    );
}

#[tokio::test]
async fn a_member_of_another_organization_redeems_with_their_own_password_and_switches_home() {
    let portico = Portico::start();
    let (_contoso, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (fabrikam, _) =
        portico.seed_tenant("Fabrikam", "fabrikam.example", "fay@fabrikam.example", &[]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let mail_before = portico.outbox().len();
    let invited = invite(&portico, &ada, "fay@fabrikam.example").await;
    let link = invited["redeem_url"].as_str().unwrap().to_string();
    let redemption = portico.start_redemption(&ticket_of(&link)).await;
    assert_eq!(
        portico.outbox().len(),
        mail_before + 1,
        "only the invitation: no code for a member"
    );

    let status = portico
        .call_redeeming("redeem/status", &[], &redemption)
        .await;
    assert_eq!(status.body["method"], "HomePassword");
    let code = portico
        .call_redeeming("redeem/resend", &[], &redemption)
        .await;
    assert_eq!(
        code.error_kind().as_deref(),
        Some("Refused"),
        "members use their password, not a code"
    );
    let wrong = portico
        .call_redeeming(
            "redeem/password",
            &[("password", "not her password")],
            &redemption,
        )
        .await;
    assert_eq!(wrong.body["Invalid"][0]["field"], "password");
    let right = portico
        .call_redeeming("redeem/password", &[("password", PASSWORD)], &redemption)
        .await;
    assert!(right.ok(), "{right:?}");
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    let fay = accepted.cookie.expect("signed in as the guest");
    assert_eq!(
        portico.call("me", &[], Some(&fay)).await.body["tenant_name"],
        "Contoso"
    );

    // Her home organization and the one that invited her, in one switcher.
    let organizations = portico.call("organizations", &[], Some(&fay)).await;
    let names: Vec<&str> = organizations
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["tenant_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Fabrikam", "Contoso"], "home first");
    let home = portico
        .call(
            "organizations/switch",
            &[("tenant_id", &fabrikam)],
            Some(&fay),
        )
        .await;
    assert!(home.ok(), "{home:?}");
    assert_eq!(
        portico.call("me", &[], Some(&fay)).await.body["guest"],
        false
    );
    // Signing in at home later reaches the guest organization too.
    let again = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    let organizations = portico.call("organizations", &[], Some(&again)).await;
    assert_eq!(organizations.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_bulk_invitation_creates_the_good_rows_and_reports_each_of_the_others() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let rows = serde_json::json!({
        "rows": [
            {"line": 2, "fields": ["bob@partner.example", "Bob", "", "Hello"]},
            {"line": 3, "fields": ["bob@@partner.example", "Bad"]},
            {"line": 4, "fields": ["mia@contoso.example"]},
            {"line": 5, "fields": ["cat@partner.example", "Cat", "ftp://files.example/"]},
            {"line": 6, "fields": ["dan@partner.example"]}
        ],
        "send_email": false
    });
    let mia = portico.sign_in("mia@contoso.example", PASSWORD).await;
    // Members may invite unless the organization says otherwise; here it does.
    let restricted = portico
        .call(
            "admin/collaboration/invites",
            &[("allow_invites_from", "adminsAndGuestInviters")],
            Some(&ada),
        )
        .await;
    assert!(restricted.ok(), "{restricted:?}");
    let refused = portico
        .call_json("admin/invite/bulk", &rows, Some(&mia))
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("Refused"));
    assert!(refused.message().contains("adminsAndGuestInviters"));

    let answer = portico
        .call_json("admin/invite/bulk", &rows, Some(&ada))
        .await;
    assert!(answer.ok(), "{answer:?}");
    let outcomes: Vec<String> = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let outcome = r["outcome"].as_object().unwrap();
            format!("{} {}", r["line"], outcome.keys().next().unwrap())
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "2 Invited",
            "3 Invalid",
            "4 AlreadyUser",
            "5 Invalid",
            "6 Invited"
        ]
    );
    assert!(
        answer.body[3]["outcome"]["Invalid"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("Redirect address:")
    );
    let invitations = portico.call("admin/invitations", &[], Some(&ada)).await;
    let mut invited: Vec<&str> = invitations
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    invited.sort();
    assert_eq!(invited, ["bob@partner.example", "dan@partner.example"]);
    assert!(portico.outbox().is_empty(), "no mail was asked for");

    let too_many = serde_json::json!({
        "rows": (0..101).map(|i| serde_json::json!({"line": i + 1, "fields": [format!("g{i}@partner.example")]})).collect::<Vec<_>>(),
        "send_email": true
    });
    let answer = portico
        .call_json("admin/invite/bulk", &too_many, Some(&ada))
        .await;
    assert_eq!(answer.status, 422, "{answer:?}");
    let invitations = portico.call("admin/invitations", &[], Some(&ada)).await;
    assert_eq!(invitations.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_command_line_invites_a_file_and_prints_the_links_when_it_mails_nothing() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let csv = "email,name\nbob@partner.example,Bob\nnot-an-address\nada@contoso.example\n";
    let results = portico.cli_json(
        &[
            "invite",
            "--tenant",
            &tenant,
            "--file",
            "-",
            "--no-mail",
            "--public-url",
            &portico.url,
        ],
        csv,
    );
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 3);
    let link = results[0]["outcome"]["Invited"]["redeem_url"]
        .as_str()
        .unwrap();
    assert!(link.starts_with(&format!("{}/redeem?ticket=", portico.url)));
    assert!(results[1]["outcome"]["Invalid"].is_object());
    assert!(results[2]["outcome"]["AlreadyUser"].is_object());
    assert!(portico.outbox().is_empty());
    // The printed link works.
    let ticket = link.split("ticket=").nth(1).unwrap();
    let redemption = portico.start_redemption(ticket).await;
    assert!(!redemption.is_empty());
}
