//! Guest access that ends unless renewed, through the real binary: the notice goes to the
//! sponsor with the link to the guest's page, the page asks for a sign-in, the
//! sponsor renews there; at the end Portico disables the guest and, after the grace period,
//! deletes them. The clock moves with `portico lifecycle --as-of`.

use std::time::{SystemTime, UNIX_EPOCH};

use integration::{PASSWORD, Portico};
use serde_json::Value;

const DAY: i64 = 86_400;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sweep_at(portico: &Portico, at: i64) -> Value {
    portico.cli_json(
        &[
            "lifecycle",
            "--public-url",
            &portico.url,
            "--as-of",
            &at.to_string(),
        ],
        "",
    )["guests"]
        .clone()
}

/// The mail to `to` in the outbox whose text contains `needle` (the sweep dates its mail
/// at the moment `--as-of` names, so the mailer sends it then; the outbox shows it now, as it
/// will leave).
fn mail_to(portico: &Portico, to: &str, needle: &str) -> String {
    portico
        .outbox()
        .into_iter()
        .find(|m| {
            m["recipient"] == to && m["text_body"].as_str().unwrap_or_default().contains(needle)
        })
        .map(|m| m["text_body"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no mail to {to} with {needle}: {:?}", portico.outbox()))
}

/// Who acted in a page of audit events, newest first.
fn actors(events: &Value) -> Vec<String> {
    events["items"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_sponsor_is_told_by_mail_signs_in_from_the_link_and_renews_then_access_ends_and_the_guest_goes()
 {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "sam@contoso.example", &[]);
    portico.create_user(&tenant, "fred@contoso.example", &[]);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let sam = portico.sign_in("sam@contoso.example", PASSWORD).await;
    let fred = portico.sign_in("fred@contoso.example", PASSWORD).await;

    // Contoso's guests keep access 180 days; sponsors hear 14 days before the end.
    let settings = portico
        .call(
            "admin/collaboration/guest-access-period/set",
            &[
                ("access_days", "180"),
                ("notice_days", "14"),
                ("grace_days", "30"),
            ],
            Some(&ada),
        )
        .await;
    assert!(settings.ok(), "{settings:?}");
    let refused = portico
        .call(
            "admin/collaboration/guest-access-period/set",
            &[
                ("access_days", "never"),
                ("notice_days", "14"),
                ("grace_days", "30"),
            ],
            Some(&sam),
        )
        .await;
    assert_eq!(refused.status, 403, "{refused:?}");

    // Sam invites Pat, who accepts: Sam is Pat's sponsor.
    let accepted_at = now();
    let pat = portico.invite_and_redeem(&sam, "pat@partner.example").await;
    let users = portico
        .call(
            "admin/users",
            &[("search", "pat@"), ("user_type", ""), ("page", "0")],
            Some(&ada),
        )
        .await;
    let pat_id = users.body["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{users:?}"))
        .to_string();
    let detail = portico
        .call("admin/user", &[("id", &pat_id)], Some(&ada))
        .await;
    let ends_at = detail.body["access"]["ends_at"]
        .as_i64()
        .unwrap_or_else(|| panic!("{detail:?}"));
    assert!(
        (accepted_at + 180 * DAY..=now() + 180 * DAY).contains(&ends_at),
        "{detail:?}"
    );

    // Fifteen days before the end nothing is due; fourteen days before, the notice goes.
    assert_eq!(sweep_at(&portico, ends_at - 15 * DAY)["noticed"], 0);
    assert_eq!(sweep_at(&portico, ends_at - 14 * DAY)["noticed"], 1);
    assert_eq!(sweep_at(&portico, ends_at - 13 * DAY)["noticed"], 0, "once");
    let link = format!("{}/sponsor/{pat_id}", portico.url);
    let notice = mail_to(&portico, "sam@contoso.example", &link);
    assert!(notice.contains("ends on"), "{notice}");
    let to_pat = mail_to(&portico, "pat@partner.example", "ends on");
    assert!(
        to_pat.contains("sam@contoso.example"),
        "names the sponsor: {to_pat}"
    );
    assert_eq!(
        portico
            .outbox()
            .iter()
            .filter(|m| m["text_body"]
                .as_str()
                .unwrap_or_default()
                .contains("/sponsor/"))
            .count(),
        1,
        "one notice to the one sponsor"
    );

    // The link is no key: signed out, the page sends the visitor to sign in and back.
    let signed_out = portico.http().get(&link).send().await.unwrap();
    let status = signed_out.status().as_u16();
    let location = signed_out
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = signed_out.text().await.unwrap();
    assert!(
        location.contains("/signin?next=/sponsor/") || body.contains("/signin?next=/sponsor/"),
        "{status} {location} {body}"
    );
    assert!(!body.contains("Renew access"), "{body}");
    // Nor may another member act on it.
    let stranger = portico
        .call("sponsor/renew", &[("id", &pat_id)], Some(&fred))
        .await;
    assert_eq!(stranger.status, 403, "{stranger:?}");

    // Sam, signed in, opens the link and renews.
    let page = portico
        .http()
        .get(&link)
        .header(
            "Cookie",
            format!("{}={sam}", portico.cookie_name("portico_session")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Renew access"), "{page}");
    let renewed = portico
        .call("sponsor/renew", &[("id", &pat_id)], Some(&sam))
        .await;
    assert!(renewed.ok(), "{renewed:?}");
    let sponsored = portico
        .call("sponsor/guest", &[("id", &pat_id)], Some(&sam))
        .await;
    let new_end = sponsored.body["access"]["ends_at"].as_i64().unwrap();
    assert_eq!(new_end, ends_at + 180 * DAY, "{sponsored:?}");

    let notices = portico.audited(&ada, "Send guest access notice").await;
    assert_eq!(actors(&notices), ["Portico"]);
    let renewals = portico.audited(&ada, "Renew guest access").await;
    assert_eq!(actors(&renewals), ["sam@contoso.example"]);

    // The old end passes: Pat keeps access. The new one passes: Pat is disabled and signed out.
    assert_eq!(sweep_at(&portico, ends_at + DAY)["ended"], 0);
    assert!(portico.call("panel", &[], Some(&pat)).await.ok());
    assert_eq!(sweep_at(&portico, new_end)["ended"], 1);
    let detail = portico
        .call("admin/user", &[("id", &pat_id)], Some(&ada))
        .await;
    assert_eq!(detail.body["user"]["enabled"], false, "{detail:?}");
    assert_eq!(
        detail.body["access"]["delete_after"],
        new_end + 30 * DAY,
        "{detail:?}"
    );
    let ended = portico.audited(&ada, "End guest access").await;
    assert_eq!(actors(&ended), ["Portico"]);
    // Pat's session went with it (the server, which wrote nothing since, may still trust
    // what it read of the session for up to a minute; the sweep inside the server does not
    // have that delay).
    let detail = ended["items"][0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("1 sessions ended"), "{detail}");

    // Ada restores Pat within the grace period; the next end, left alone, leads to deletion.
    let restored = portico
        .call("sponsor/restore", &[("id", &pat_id)], Some(&ada))
        .await;
    assert!(restored.ok(), "{restored:?}");
    assert_eq!(
        actors(&portico.audited(&ada, "Restore guest access").await),
        ["ada@contoso.example"]
    );
    let later = now() + 181 * DAY;
    assert_eq!(sweep_at(&portico, later)["ended"], 1);
    assert_eq!(sweep_at(&portico, later + 29 * DAY)["deleted"], 0);
    assert_eq!(sweep_at(&portico, later + 30 * DAY)["deleted"], 1);
    let gone = portico
        .call("admin/user", &[("id", &pat_id)], Some(&ada))
        .await;
    assert_eq!(gone.status, 404, "{gone:?}");
    let deleted = portico.audited(&ada, "Delete user").await;
    assert_eq!(actors(&deleted), ["Portico"]);
}
