//! Who may invite guests (`allowInvitesFrom`), and the collaboration restrictions' list of
//! domains, at invitation and at redemption, against the real binary.

use integration::{Answer, PASSWORD, Portico};

/// Contoso with a global administrator (Ada) signed in.
async fn contoso(portico: &Portico) -> (String, String) {
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    (tenant, ada)
}

/// Invites `email` from the access panel's Invite a guest form, as `who`.
async fn invite_from_panel(portico: &Portico, who: &str, email: &str) -> Answer {
    portico
        .call(
            "invite",
            &[("email", email), ("display_name", ""), ("message", "")],
            Some(who),
        )
        .await
}

/// Sets a setting of the external collaboration page as `admin`; must succeed.
async fn set(portico: &Portico, admin: &str, endpoint: &str, form: &[(&str, &str)]) {
    let answer = portico
        .call(
            &format!("admin/collaboration/{endpoint}"),
            form,
            Some(admin),
        )
        .await;
    assert!(answer.ok(), "{endpoint}: {answer:?}");
}

/// The addresses invited in `admin`'s organization.
async fn invited(portico: &Portico, admin: &str) -> Vec<String> {
    let list = portico.call("admin/invitations", &[], Some(admin)).await;
    assert!(list.ok(), "{list:?}");
    list.body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn each_invite_setting_lets_exactly_its_people_invite() {
    let portico = Portico::start();
    let (tenant, ada) = contoso(&portico).await;
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    portico.create_user(&tenant, "gil@contoso.example", &["guest-inviter"]);
    portico.create_user(&tenant, "uma@contoso.example", &["user-administrator"]);
    let gus = portico.invite_and_redeem(&ada, "gus@partner.example").await;
    let actors = [
        (
            "member",
            portico.sign_in("mia@contoso.example", PASSWORD).await,
        ),
        (
            "guest inviter",
            portico.sign_in("gil@contoso.example", PASSWORD).await,
        ),
        (
            "user administrator",
            portico.sign_in("uma@contoso.example", PASSWORD).await,
        ),
        ("accepted guest", gus),
        ("global administrator", ada.clone()),
    ];
    // Who may, in the order of `actors`.
    let matrix = [
        ("everyone", [true, true, true, true, true]),
        (
            "adminsGuestInvitersAndAllMembers",
            [true, true, true, false, true],
        ),
        ("adminsAndGuestInviters", [false, true, true, false, true]),
        ("none", [false, false, false, false, false]),
    ];
    for (setting, expected) in matrix {
        set(
            &portico,
            &ada,
            "invites",
            &[("allow_invites_from", setting)],
        )
        .await;
        for ((who, session), may) in actors.iter().zip(expected) {
            let email =
                format!("{}-{setting}@partner.example", who.replace(' ', "-")).to_lowercase();
            let answer = invite_from_panel(&portico, session, &email).await;
            assert_eq!(answer.ok(), may, "{who} under {setting}: {answer:?}");
            if !may {
                assert_eq!(
                    answer.error_kind().as_deref(),
                    Some("Refused"),
                    "{answer:?}"
                );
                assert!(answer.message().contains(setting), "{}", answer.message());
                assert!(!invited(&portico, &ada).await.contains(&email), "{email}");
            }
            // The panel shows the way to the form to exactly those who may use it, and
            // the form is there for them only.
            let page = |path: &'static str| {
                let request = portico
                    .http()
                    .get(format!("{}{path}", portico.url))
                    .header("Cookie", format!("portico_session={session}"));
                async move { request.send().await.unwrap().text().await.unwrap() }
            };
            let panel = page("/").await;
            assert_eq!(
                panel.contains("href=\"/invite\""),
                may,
                "{who} under {setting}"
            );
            let form = page("/invite").await;
            assert_eq!(
                form.contains("Send the invitation"),
                may,
                "{who} under {setting}"
            );
            assert_eq!(form.contains("You cannot invite guests"), !may);
        }
    }
    // The console's form follows the same rule.
    let uma = &actors[2].1;
    let console = portico
        .call(
            "admin/invite",
            &[
                ("email", "console@partner.example"),
                ("display_name", ""),
                ("message", ""),
                ("redirect_url", ""),
            ],
            Some(uma),
        )
        .await;
    assert_eq!(
        console.error_kind().as_deref(),
        Some("Refused"),
        "{console:?}"
    );
    // The operator at the command line may invite whatever the setting.
    let (ok, out, err) = portico.cli(
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
        "operator@partner.example\n",
    );
    assert!(ok && out.contains("invited:"), "{out} {err}");
}

#[tokio::test]
async fn only_global_administrators_change_the_settings_and_each_change_is_audited() {
    let portico = Portico::start();
    let (tenant, ada) = contoso(&portico).await;
    portico.create_user(&tenant, "uma@contoso.example", &["user-administrator"]);
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    let uma = portico.sign_in("uma@contoso.example", PASSWORD).await;
    let mia = portico.sign_in("mia@contoso.example", PASSWORD).await;

    let read = portico.call("admin/collaboration", &[], Some(&uma)).await;
    assert!(read.ok(), "{read:?}");
    assert_eq!(
        read.body[0]["allow_invites_from"],
        "AdminsGuestInvitersAndAllMembers"
    );
    assert_eq!(read.body[0]["guest_access"], "Limited");
    assert_eq!(read.body[1], false, "a user administrator reads only");
    let member = portico.call("admin/collaboration", &[], Some(&mia)).await;
    assert_eq!(member.error_kind().as_deref(), Some("AccessDenied"));
    for (endpoint, form) in [
        ("invites", vec![("allow_invites_from", "none")]),
        (
            "guest-access",
            vec![("guest_access", "2af84b1e-32c8-42b7-82bc-daa82404023b")],
        ),
        ("domains", vec![("domains", "partner.example")]),
        ("switch", vec![("kind", "allow")]),
    ] {
        let refused = portico
            .call(
                &format!("admin/collaboration/{endpoint}"),
                &form,
                Some(&uma),
            )
            .await;
        assert_eq!(
            refused.error_kind().as_deref(),
            Some("AccessDenied"),
            "{endpoint}"
        );
    }
    let unchanged = portico.call("admin/collaboration", &[], Some(&ada)).await;
    assert_eq!(unchanged.body[0], read.body[0]);

    // A global administrator's plain form post, as a browser without JavaScript sends it.
    let page = format!("{}/admin/external-collaboration", portico.url);
    let posted = portico
        .http()
        .post(format!(
            "{}/fn/admin/collaboration/guest-access",
            portico.url
        ))
        .header("Origin", &portico.url)
        .header("Referer", &page)
        .header("Accept", "text/html")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", format!("portico_session={ada}"))
        .body(integration::encode_form(&[(
            "guest_access",
            "2af84b1e-32c8-42b7-82bc-daa82404023b",
        )]))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_redirection(), "{}", posted.status());
    let shown = portico
        .http()
        .get(&page)
        .header("Cookie", format!("portico_session={ada}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("External collaboration"), "{shown}");
    let restricted = shown
        .split("<input")
        .find(|tag| tag.contains("value=\"2af84b1e-32c8-42b7-82bc-daa82404023b\""))
        .and_then(|tag| tag.split('>').next())
        .expect("the restricted level's radio button");
    assert!(restricted.contains("checked"), "{restricted}");
    assert!(shown.contains("Guests who have accepted already are not affected"));
    let audited = portico
        .audited(&ada, "Update external collaboration settings")
        .await;
    assert_eq!(audited["total"], 1, "refusals audit nothing: {audited}");
    let detail = audited["items"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("Restricted") && detail.contains("was Limited"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_domain_list_allows_or_denies_with_subdomains_and_in_any_case() {
    let portico = Portico::start();
    let (tenant, ada) = contoso(&portico).await;
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    let mia = portico.sign_in("mia@contoso.example", PASSWORD).await;

    // A deny list: an exact domain and the subdomains of another.
    set(
        &portico,
        &ada,
        "domains",
        &[("domains", "Partner.EXAMPLE\n*.Fabrikam.example")],
    )
    .await;
    for (email, may) in [
        ("a@partner.example", false),
        ("b@PARTNER.example", false),
        ("c@eu.partner.example", true),
        ("d@eu.fabrikam.example", false),
        ("e@fabrikam.example", true),
        ("f@elsewhere.example", true),
    ] {
        let answer = invite_from_panel(&portico, &mia, email).await;
        assert_eq!(answer.ok(), may, "{email}: {answer:?}");
        if !may {
            assert!(
                answer
                    .message()
                    .contains("on Contoso's list of domains guests may not come from"),
                "{}",
                answer.message()
            );
        }
    }
    // A bad entry is named, and the list stays as it was.
    let bad = portico
        .call(
            "admin/collaboration/domains",
            &[("domains", "ok.example\nbad..example")],
            Some(&ada),
        )
        .await;
    assert_eq!(bad.error_kind().as_deref(), Some("Invalid"), "{bad:?}");
    assert!(bad.body.to_string().contains("bad..example"), "{bad:?}");
    let kept = portico.call("admin/collaboration", &[], Some(&ada)).await;
    assert_eq!(
        kept.body[0]["domains"],
        serde_json::json!(["*.fabrikam.example", "partner.example"])
    );

    // Switching to an allow list asks before it discards the list.
    let unasked = portico
        .call(
            "admin/collaboration/switch",
            &[("kind", "allow")],
            Some(&ada),
        )
        .await;
    assert_eq!(
        unasked.error_kind().as_deref(),
        Some("Refused"),
        "{unasked:?}"
    );
    assert!(
        unasked.message().contains("partner.example"),
        "{}",
        unasked.message()
    );
    let still = portico.call("admin/collaboration", &[], Some(&ada)).await;
    assert_eq!(still.body[0], kept.body[0]);
    set(
        &portico,
        &ada,
        "switch",
        &[("kind", "allow"), ("discard", "on")],
    )
    .await;
    let switched = portico.call("admin/collaboration", &[], Some(&ada)).await;
    assert_eq!(switched.body[0]["list_kind"], "Allow");
    assert_eq!(switched.body[0]["domains"], serde_json::json!([]));

    // An allow list of subdomains only.
    set(
        &portico,
        &ada,
        "domains",
        &[("domains", "*.PARTNER.example")],
    )
    .await;
    let allowed = invite_from_panel(&portico, &mia, "g@EU.partner.example").await;
    assert!(allowed.ok(), "{allowed:?}");
    let refused = invite_from_panel(&portico, &mia, "h@partner.example").await;
    assert_eq!(
        refused.message(),
        "partner.example is not on Contoso's list of domains guests may come from."
    );
    // The CSV file and the command line meet the same list.
    let rows = serde_json::json!({
        "rows": [
            {"line": 2, "fields": ["i@eu.partner.example"]},
            {"line": 3, "fields": ["j@fabrikam.example"]}
        ],
        "send_email": false
    });
    let bulk = portico
        .call_json("admin/invite/bulk", &rows, Some(&ada))
        .await;
    assert!(bulk.ok(), "{bulk:?}");
    assert!(bulk.body[0]["outcome"]["Invited"].is_object(), "{bulk:?}");
    let reason = bulk.body[1]["outcome"]["Invalid"]["reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("fabrikam.example is not on Contoso's list"),
        "{reason}"
    );
    let (_, out, _) = portico.cli(
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
        "k@fabrikam.example\n",
    );
    assert!(out.contains("not on Contoso's list"), "{out}");
    let mut emails = invited(&portico, &ada).await;
    emails.sort();
    assert_eq!(
        emails,
        [
            "c@eu.partner.example",
            "e@fabrikam.example",
            "f@elsewhere.example",
            "g@eu.partner.example",
            "i@eu.partner.example"
        ]
    );
}

#[tokio::test]
async fn a_pending_invitation_to_a_domain_blocked_since_fails_at_redemption() {
    let portico = Portico::start();
    let (_, ada) = contoso(&portico).await;
    let sam = portico.invite_and_redeem(&ada, "sam@partner.example").await;
    let ticket = portico.invite(&ada, "pat@partner.example").await;
    // Pat opened the link before, and started.
    let redemption = portico.start_redemption(&ticket).await;
    set(&portico, &ada, "domains", &[("domains", "partner.example")]).await;

    let page = portico
        .http()
        .get(format!("{}/redeem?ticket={ticket}", portico.url))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            "Contoso no longer accepts guests from partner.example; ask the person who invited you."
        ),
        "{page}"
    );
    let again = portico
        .call_with_cookies("redeem/start", &[("ticket", &ticket)], "")
        .await
        .0;
    assert_eq!(again.error_kind().as_deref(), Some("Refused"), "{again:?}");
    // The redemption Pat had started cannot be finished either.
    let code = portico.latest_code("pat@partner.example");
    let verified = portico
        .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
        .await;
    assert!(verified.ok(), "{verified:?}");
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert!(
        accepted
            .message()
            .contains("no longer accepts guests from partner.example"),
        "{accepted:?}"
    );
    let refusals = portico.audited(&ada, "Refuse invitation redemption").await;
    // Opening the link, starting again, and accepting: each attempt.
    assert_eq!(refusals["total"], 3, "{refusals}");
    let refusal = &refusals["items"][0];
    assert!(
        refusal["detail"]
            .as_str()
            .unwrap()
            .contains("pat@partner.example")
    );
    assert_eq!(refusal["actor_kind"], "Portico");
    // Nothing else changed: Pat's invitation is still pending, and Sam, who accepted
    // before, still gets in.
    let list = portico.call("admin/invitations", &[], Some(&ada)).await;
    let pat = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "pat@partner.example")
        .unwrap()
        .clone();
    assert_eq!(pat["status"], "PendingAcceptance");
    let panel = portico.call("panel", &[], Some(&sam)).await;
    assert!(panel.ok(), "{panel:?}");
}

#[tokio::test]
async fn a_program_invites_by_its_grant_whatever_the_setting_but_meets_the_domain_list() {
    let f = crate::graph::fixture().await;
    let granted = f.set_permission("User.Invite.All", true).await;
    assert!(granted.ok(), "{granted:?}");
    set(
        &f.portico,
        &f.ada,
        "invites",
        &[("allow_invites_from", "none")],
    )
    .await;
    set(
        &f.portico,
        &f.ada,
        "domains",
        &[("domains", "*.partner.example")],
    )
    .await;
    let token = f.api_token().await;
    let invite = |email: &'static str| {
        f.api(
            reqwest::Method::POST,
            "invitations",
            Some(&token),
            Some(crate::graph::invitation(email)),
        )
    };
    let (status, made) = invite("ann@partner.example").await;
    assert_eq!(status, 201, "{made}");
    let (status, refused) = invite("bob@EU.partner.example").await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(
        refused["error"]["message"],
        "eu.partner.example is on Contoso's list of domains guests may not come from \
         (as *.partner.example)."
    );
    assert_eq!(invited(&f.portico, &f.ada).await, ["ann@partner.example"]);
}
