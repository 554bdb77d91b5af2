//! Access reviews through the real binary: an administrator starts one from the console's
//! form, the guest's sponsor denies from the access panel, and when the review ends
//! Portico applies it: the guest can no longer sign in to the app.

use integration::{PASSWORD, Portico};
use serde_json::Value;

const CALLBACK: &str = "https://wiki.contoso.example/callback";

/// GETs the app's authorization endpoint with the session; the status.
async fn authorize(portico: &Portico, tenant: &str, wiki: &str, session: &str) -> u16 {
    let url = format!(
        "{}/{tenant}/oauth2/v2.0/authorize?client_id={wiki}&redirect_uri={}&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        portico.url,
        integration::encode(CALLBACK)
    );
    portico
        .http()
        .get(url)
        .header("Cookie", format!("portico_session={session}"))
        .send()
        .await
        .expect("authorize")
        .status()
        .as_u16()
}

async fn get_page(portico: &Portico, path: &str, session: &str) -> (u16, String, String) {
    let response = portico
        .http()
        .get(format!("{}{path}", portico.url))
        .header("Cookie", format!("portico_session={session}"))
        .send()
        .await
        .expect("page");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.text().await.expect("body"))
}

fn kinds(events: &Value) -> Vec<String> {
    events["items"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["actor_kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_sponsor_denies_a_guest_from_the_panel_and_the_guest_loses_the_app_when_the_review_ends()
{
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "sam@contoso.example", &[]);
    portico.create_user(&tenant, "max@contoso.example", &[]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let sam = portico.sign_in("sam@contoso.example", PASSWORD).await;
    let max = portico.sign_in("max@contoso.example", PASSWORD).await;
    // Sam invites Pat, and so sponsors Pat.
    let pat = portico.invite_and_redeem(&sam, "pat@partner.example").await;
    let wiki = portico.cli_json(
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
    )["id"]
        .as_str()
        .expect("app id")
        .to_string();
    for args in [
        vec![
            "app",
            "sign-in",
            "--app",
            "Wiki",
            "--redirect-uri",
            CALLBACK,
        ],
        vec![
            "app",
            "assign",
            "--app",
            "Wiki",
            "--user",
            "pat@partner.example",
        ],
    ] {
        let mut args = args;
        args.extend(["--tenant", &tenant]);
        let (ok, _, err) = portico.cli(&args, "");
        assert!(ok, "{err}");
    }
    assert_eq!(authorize(&portico, &tenant, &wiki, &pat).await, 303);

    // Ada starts the review with the console's form.
    let form = |name: &'static str| {
        vec![
            ("name", name),
            ("scope", "AppGuests"),
            ("group", ""),
            ("app", wiki.as_str()),
            ("inactive", "90"),
            ("reviewers", "Sponsors"),
            ("named", ""),
            ("duration", "14"),
            ("deny_action", "RemoveAccess"),
            ("not_reviewed", "Keep"),
            ("auto_apply", "on"),
        ]
    };
    // Removing access from all guests has nothing to remove them from: refused field by field.
    let mut bad = form("Everyone");
    bad[1] = ("scope", "AllGuests");
    let refused = portico.call("admin/reviews/start", &bad, Some(&ada)).await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Invalid"),
        "{refused:?}"
    );
    assert!(
        refused.body.to_string().contains("deny_action"),
        "{refused:?}"
    );
    // A member may not start one.
    let refused = portico
        .call("admin/reviews/start", &form("Wiki guests"), Some(&sam))
        .await;
    assert_eq!(refused.status, 403, "{refused:?}");
    let started = portico
        .call("admin/reviews/start", &form("Wiki guests"), Some(&ada))
        .await;
    assert!(
        started.status == 200 || started.status == 302,
        "{started:?}"
    );
    let reviews = portico.call("admin/reviews", &[], Some(&ada)).await;
    assert!(reviews.ok(), "{reviews:?}");
    assert_eq!(
        reviews.body["reviews"].as_array().unwrap().len(),
        1,
        "{reviews:?}"
    );
    let review = reviews.body["reviews"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(reviews.body["reviews"][0]["guests"], 1);
    // Sam is told by mail.
    let mail = portico.outbox();
    assert!(
        mail.iter().any(|m| m["recipient"] == "sam@contoso.example"
            && m["subject"].as_str().unwrap().contains("Wiki guests")),
        "{mail:?}"
    );

    // Sam sees the review on his panel, with Pat and a recommendation.
    let (status, _, panel) = get_page(&portico, "/", &sam).await;
    assert_eq!(status, 200);
    assert!(
        panel.contains("Reviews for you") && panel.contains(&format!("/reviews/{review}")),
        "{panel}"
    );
    let (status, _, page) = get_page(&portico, &format!("/reviews/{review}"), &sam).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("pat@partner.example") && page.contains("Recommended: Approve"),
        "{page}"
    );
    let queue = portico
        .call("reviews/queue", &[("id", &review)], Some(&sam))
        .await;
    assert!(queue.ok(), "{queue:?}");
    let pat_id = queue.body["items"][0]["guest_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(queue.body["items"][0]["recommendation"], "Approve");

    let decide = |decision: &'static str, reason: &'static str| {
        vec![
            ("review", review.clone()),
            ("guest", pat_id.clone()),
            ("decision", decision.to_string()),
            ("reason", reason.to_string()),
        ]
    };
    let call_decide = |session: String, form: Vec<(&'static str, String)>| {
        let portico = &portico;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            portico.call("reviews/decide", &form, Some(&session)).await
        }
    };
    // Max is not Pat's reviewer; Ada neither, administrator as she is.
    for outsider in [&max, &ada] {
        let refused = call_decide(outsider.clone(), decide("Deny", "Not needed")).await;
        assert_eq!(refused.status, 403, "{refused:?}");
    }
    // A denial says why.
    let refused = call_decide(sam.clone(), decide("Deny", "")).await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Invalid"),
        "{refused:?}"
    );
    let denied = call_decide(sam.clone(), decide("Deny", "The project ended")).await;
    assert!(denied.status == 200 || denied.status == 302, "{denied:?}");
    // Until the end Pat keeps the app.
    assert_eq!(authorize(&portico, &tenant, &wiki, &pat).await, 303);
    let (ok, out, _) = portico.cli(&["lifecycle", "--public-url", &portico.url], "");
    assert!(ok && out.contains("0 access reviews"), "{out}");
    assert_eq!(authorize(&portico, &tenant, &wiki, &pat).await, 303);

    // Ada ends the review early; Portico applies it at its next sweep (run here by hand).
    let stopped = portico
        .call("admin/review/stop", &[("id", &review)], Some(&ada))
        .await;
    assert!(stopped.ok(), "{stopped:?}");
    let late = call_decide(sam.clone(), decide("Approve", "")).await;
    assert_eq!(late.error_kind().as_deref(), Some("Refused"), "{late:?}");
    let (ok, out, err) = portico.cli(&["lifecycle", "--public-url", &portico.url], "");
    assert!(ok && out.contains("1 access reviews"), "{out}{err}");
    assert_eq!(authorize(&portico, &tenant, &wiki, &pat).await, 403);

    // The results say who decided what and what was done; as CSV too.
    let results = portico
        .call("admin/review", &[("id", &review)], Some(&ada))
        .await;
    assert!(results.ok(), "{results:?}");
    let row = &results.body["rows"][0];
    assert_eq!(row["decision"], "Deny");
    assert_eq!(row["reason"], "The project ended");
    assert_eq!(row["reviewers"], "sam@contoso.example");
    assert_eq!(row["outcome"], "Removed from Wiki");
    assert_eq!(results.body["may_apply"], false);
    let csv_path = format!("/admin/reviews/{review}/results.csv");
    let (status, kind, csv) = get_page(&portico, &csv_path, &ada).await;
    assert_eq!(status, 200, "{csv}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(
        csv.contains("pat@partner.example,sam@contoso.example,Deny,The project ended"),
        "{csv}"
    );
    assert!(csv.contains("Removed from Wiki"), "{csv}");
    let (status, _, _) = get_page(&portico, &csv_path, &sam).await;
    assert_eq!(status, 403);

    // The decision is audited as Sam's, the removal as Portico's.
    let decisions = portico.audited(&ada, "Review guest access").await;
    assert_eq!(kinds(&decisions), ["User"].map(String::from).to_vec());
    let removals = portico.audited(&ada, "Remove app role assignment").await;
    assert_eq!(kinds(&removals), ["Portico"].map(String::from).to_vec());
}

#[tokio::test]
async fn the_users_list_offers_a_review_of_inactive_guests_and_starts_it_after_confirmation() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["user-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let (status, _, page) = get_page(&portico, "/admin/users?inactive=90", &ada).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Review the guests with no sign-in for 90 days")
            && page.contains("Start a review of guests with no sign-in for 90 days"),
        "{page}"
    );
    // Nobody has been away for 90 days on a new Portico: nothing to review, and no review.
    let refused = portico
        .call("admin/reviews/inactive", &[("inactive", "90")], Some(&ada))
        .await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Refused"),
        "{refused:?}"
    );
    assert!(refused.message().contains("No guest"), "{refused:?}");
    let reviews = portico.call("admin/reviews", &[], Some(&ada)).await;
    assert_eq!(
        reviews.body["reviews"],
        serde_json::json!([]),
        "{reviews:?}"
    );
}
