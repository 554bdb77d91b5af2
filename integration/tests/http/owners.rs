//! Owners in the access panel: an owner manages only what they own, adds people of the
//! organization, invites and adds a guest in one step, and decides requests to join a
//! group or to use an app.

use std::time::{Duration, Instant};

use integration::{Answer, PASSWORD, Portico};
use serde_json::Value;

use crate::mail::{SmtpServer, delivered, free_port};

/// Contoso with Ada (global administrator); Olive, who owns the Wiki app and the Design
/// group (with `olive_roles`); Max, a member who owns nothing; and the Payroll app and the
/// Finance group, which Olive does not own.
struct Contoso {
    portico: Portico,
    ada: String,
    olive: String,
    max: String,
    wiki: String,
    design: String,
    payroll: String,
    finance: String,
}

impl Contoso {
    async fn start(portico: Portico, olive_roles: &[&str]) -> Contoso {
        let (tenant, _) = portico.seed_tenant(
            "Contoso",
            "contoso.example",
            "ada@contoso.example",
            &["global-administrator"],
        );
        portico.create_user(&tenant, "olive@contoso.example", olive_roles);
        portico.create_user(&tenant, "max@contoso.example", &[]);
        let id = |value: Value| value["id"].as_str().expect("an id").to_string();
        let app = |name: &str| {
            id(portico.cli_json(
                &[
                    "app",
                    "create",
                    "--tenant",
                    &tenant,
                    "--name",
                    name,
                    "--launch-url",
                    "https://apps.contoso.example/",
                ],
                "",
            ))
        };
        let (wiki, payroll) = (app("Wiki"), app("Payroll"));
        let group = |name: &str| {
            id(portico.cli_json(
                &["group", "create", "--tenant", &tenant, "--name", name],
                "",
            ))
        };
        let (design, finance) = (group("Design"), group("Finance"));
        portico.cli_json(
            &[
                "group",
                "add-member",
                "--tenant",
                &tenant,
                "--group",
                "Design",
                "--user",
                "olive@contoso.example",
                "--owner",
            ],
            "",
        );
        let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
        let owner = portico
            .call(
                "admin/app/owner",
                &[
                    ("id", &wiki),
                    ("user", "olive@contoso.example"),
                    ("present", "true"),
                ],
                Some(&ada),
            )
            .await;
        assert!(owner.ok(), "{owner:?}");
        let olive = portico.sign_in("olive@contoso.example", PASSWORD).await;
        let max = portico.sign_in("max@contoso.example", PASSWORD).await;
        Contoso {
            portico,
            ada,
            olive,
            max,
            wiki,
            design,
            payroll,
            finance,
        }
    }

    async fn call(&self, endpoint: &str, form: &[(&str, &str)], session: &str) -> Answer {
        self.portico.call(endpoint, form, Some(session)).await
    }

    async fn manage(&self, kind: &str, id: &str, session: &str) -> Answer {
        self.call("manage", &[("kind", kind), ("id", id)], session)
            .await
    }

    async fn add(&self, kind: &str, id: &str, email: &str, session: &str) -> Answer {
        self.call(
            "manage/add",
            &[
                ("kind", kind),
                ("id", id),
                ("email", email),
                ("message", ""),
            ],
            session,
        )
        .await
    }

    async fn panel(&self, session: &str) -> Value {
        let panel = self.portico.call("panel", &[], Some(session)).await;
        assert!(panel.ok(), "{panel:?}");
        panel.body
    }

    async fn audit_total(&self) -> i64 {
        let audit = self
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
                &self.ada,
            )
            .await;
        audit.body["events"]["total"].as_i64().expect("a total")
    }

    /// Sets how a group takes requests to join, as an administrator.
    async fn join_policy(&self, group: &str, policy: &str) {
        let set = self
            .call(
                "admin/group/join-policy",
                &[("id", group), ("policy", policy)],
                &self.ada,
            )
            .await;
        assert!(set.ok(), "{set:?}");
    }

    /// The id of the one request waiting in the Manage view.
    async fn waiting_request(&self, kind: &str, id: &str) -> String {
        let managed = self.manage(kind, id, &self.olive).await;
        assert!(managed.ok(), "{managed:?}");
        assert_eq!(
            managed.body["requests"].as_array().unwrap().len(),
            1,
            "{managed:?}"
        );
        managed.body["requests"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn every_owner_operation_on_an_app_or_group_one_does_not_own_is_refused_and_changes_nothing()
{
    let c = Contoso::start(Portico::start(), &[]).await;
    // Something to act on in the objects Olive does not own: a guest with an invitation
    // (Ada's), given Payroll and Finance, and Max's request for Payroll.
    let ticket = c.portico.invite(&c.ada, "ann@partner.example").await;
    assert!(!ticket.is_empty());
    let invitations = c.call("admin/invitations", &[], &c.ada).await;
    let invitation = invitations.body[0]["id"].as_str().unwrap().to_string();
    let ann = invitations.body[0]["user_id"].as_str().unwrap().to_string();
    let given = c
        .call(
            "admin/app/assignment",
            &[
                ("id", &c.payroll),
                ("kind", "user"),
                ("who", &ann),
                ("present", "true"),
            ],
            &c.ada,
        )
        .await;
    assert!(given.ok(), "{given:?}");
    let member = c
        .call(
            "admin/group/link",
            &[
                ("id", &c.finance),
                ("user", &ann),
                ("relation", "member"),
                ("present", "true"),
            ],
            &c.ada,
        )
        .await;
    assert!(member.ok(), "{member:?}");
    let requestable = c
        .call(
            "admin/app/requestable",
            &[("id", &c.payroll), ("requestable", "on")],
            &c.ada,
        )
        .await;
    assert!(requestable.ok(), "{requestable:?}");
    let asked = c.call("panel/request", &[("id", &c.payroll)], &c.max).await;
    assert!(asked.ok(), "{asked:?}");
    let request: (String,) = {
        let managed = c.manage("apps", &c.payroll, &c.ada).await;
        assert_eq!(
            managed.error_kind().as_deref(),
            Some("AccessDenied"),
            "admins use the console"
        );
        let waiting = c.panel(&c.max).await;
        (waiting["requests"][0]["id"].as_str().unwrap().to_string(),)
    };

    let events = c.audit_total().await;
    let mails = c.portico.outbox().len();
    for (kind, id) in [("apps", &c.payroll), ("groups", &c.finance)] {
        let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("manage", vec![("kind", kind), ("id", id)]),
            (
                "manage/add",
                vec![
                    ("kind", kind),
                    ("id", id),
                    ("email", "max@contoso.example"),
                    ("message", ""),
                ],
            ),
            (
                "manage/add",
                vec![
                    ("kind", kind),
                    ("id", id),
                    ("email", "new@partner.example"),
                    ("message", ""),
                ],
            ),
            (
                "manage/remove",
                vec![("kind", kind), ("id", id), ("user", &ann)],
            ),
            (
                "manage/resend",
                vec![("kind", kind), ("id", id), ("invitation", &invitation)],
            ),
            (
                "manage/revoke",
                vec![("kind", kind), ("id", id), ("invitation", &invitation)],
            ),
        ];
        for (endpoint, form) in attempts {
            let answer = c.call(endpoint, &form, &c.olive).await;
            assert_eq!(
                answer.error_kind().as_deref(),
                Some("AccessDenied"),
                "{endpoint} on {kind}: {answer:?}"
            );
        }
    }
    for decision in ["approve", "deny"] {
        let answer = c
            .call(
                "manage/decide",
                &[("request", &request.0), ("decision", decision)],
                &c.olive,
            )
            .await;
        assert_eq!(
            answer.error_kind().as_deref(),
            Some("AccessDenied"),
            "{decision}: {answer:?}"
        );
    }
    // Nor, through her own app and group, anything an administrator does: owners, roles.
    let admin_paths: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "admin/group/link",
            vec![
                ("id", &c.design),
                ("user", "max@contoso.example"),
                ("relation", "owner"),
                ("present", "true"),
            ],
        ),
        (
            "admin/app/owner",
            vec![
                ("id", &c.wiki),
                ("user", "max@contoso.example"),
                ("present", "true"),
            ],
        ),
        (
            "admin/user/role",
            vec![
                ("id", &ann),
                ("role", "GlobalAdministrator"),
                ("granted", "true"),
            ],
        ),
    ];
    for (endpoint, form) in admin_paths {
        let answer = c.call(endpoint, &form, &c.olive).await;
        assert_eq!(
            answer.error_kind().as_deref(),
            Some("AccessDenied"),
            "{endpoint}: {answer:?}"
        );
    }

    assert_eq!(c.audit_total().await, events, "refusals write no event");
    assert_eq!(c.portico.outbox().len(), mails, "refusals send no mail");
    let payroll = c.call("admin/app", &[("id", &c.payroll)], &c.ada).await;
    assert_eq!(
        payroll.body["assigned_users"].as_array().unwrap().len(),
        1,
        "{payroll:?}"
    );
    let finance = c.call("admin/group", &[("id", &c.finance)], &c.ada).await;
    assert_eq!(
        finance.body["members"].as_array().unwrap().len(),
        1,
        "{finance:?}"
    );
    let invitations = c.call("admin/invitations", &[], &c.ada).await;
    assert_eq!(
        invitations.body.as_array().unwrap().len(),
        1,
        "nobody new was invited"
    );
    assert_eq!(
        invitations.body[0]["status"], "PendingAcceptance",
        "not revoked"
    );
    assert_eq!(c.panel(&c.max).await["requests"][0]["state"], "Pending");
}

#[tokio::test]
async fn an_owner_adds_a_member_of_the_organization_and_removes_them_and_a_member_who_owns_nothing_sees_no_manage()
 {
    let c = Contoso::start(Portico::start(), &[]).await;
    let panel = c.panel(&c.olive).await;
    let owned: Vec<(&str, &str)> = panel["owned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["kind"].as_str().unwrap(), o["name"].as_str().unwrap()))
        .collect();
    assert_eq!(owned, [("App", "Wiki"), ("Group", "Design")]);
    assert_eq!(c.panel(&c.max).await["owned"], serde_json::json!([]));

    for (kind, id) in [("apps", &c.wiki), ("groups", &c.design)] {
        let added = c.add(kind, id, "Max@Contoso.example", &c.olive).await;
        assert!(added.ok(), "{added:?}");
        assert_eq!(added.body["invited"], false);
        let managed = c.manage(kind, id, &c.olive).await;
        assert_eq!(
            managed.body["users"][0]["email"], "max@contoso.example",
            "{managed:?}"
        );
        assert_eq!(managed.body["users"][0]["user_type"], "Member");
    }
    let panel = c.panel(&c.max).await;
    assert_eq!(names(&panel["apps"]), ["Wiki"]);
    assert_eq!(names(&panel["groups"]), ["Design"]);
    let max_id = c.manage("groups", &c.design, &c.olive).await.body["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (kind, id) in [("apps", &c.wiki), ("groups", &c.design)] {
        let removed = c
            .call(
                "manage/remove",
                &[("kind", kind), ("id", id), ("user", &max_id)],
                &c.olive,
            )
            .await;
        assert!(removed.ok(), "{removed:?}");
    }
    let panel = c.panel(&c.max).await;
    assert_eq!(panel["apps"], serde_json::json!([]));
    assert_eq!(panel["groups"], serde_json::json!([]));
    let audited = c.portico.audited(&c.ada, "Remove member from group").await;
    assert_eq!(audited["items"][0]["actor_name"], "olive@contoso.example");
    assert!(
        audited["items"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("by an owner")
    );
}

/// A mail's text with quoted-printable undone, as far as an ASCII link needs: soft line
/// breaks joined, `=3D` back to `=`.
fn quoted_printable(mail: &str) -> String {
    mail.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// Olive invites Pat to the Wiki from her access panel; Pat redeems from the mail the SMTP
/// server received and finds the Wiki tile.
async fn owner_invites_and_adds_a_guest_who_redeems_from_the_delivered_mail(olive_roles: &[&str]) {
    let port = free_port();
    let maildir = tempfile::tempdir().unwrap();
    let _smtp = SmtpServer::start(port, maildir.path());
    let port = port.to_string();
    let portico = Portico::start_with(&[
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--smtp-tls",
        "none",
        "--mail-retry-seconds",
        "1",
    ]);
    let c = Contoso::start(portico, olive_roles).await;
    let added = c
        .add("apps", &c.wiki, "pat@partner.example", &c.olive)
        .await;
    assert!(added.ok(), "{added:?}");
    assert_eq!(added.body["invited"], true);
    let managed = c.manage("apps", &c.wiki, &c.olive).await;
    assert_eq!(
        managed.body["users"][0]["external_state"],
        "PendingAcceptance"
    );
    assert_eq!(
        managed.body["invitations"][0]["email"],
        "pat@partner.example"
    );
    let invited = c.portico.audited(&c.ada, "Invite external user").await;
    assert_eq!(
        invited["items"][0]["actor_name"], "olive@contoso.example",
        "the owner invites"
    );

    let started = Instant::now();
    let mail = loop {
        if let Some(mail) = delivered(maildir.path())
            .into_iter()
            .map(|m| quoted_printable(&m))
            .find(|m| m.contains("To: pat@partner.example") && m.contains("/redeem?ticket="))
        {
            break mail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no invitation was delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let ticket: String = mail
        .split("/redeem?ticket=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let redemption = c.portico.start_redemption(&ticket).await;
    let code = c.portico.latest_code("pat@partner.example");
    let verified = c
        .portico
        .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
        .await;
    assert!(verified.ok(), "{verified:?}");
    let accepted = c
        .portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert!(accepted.ok(), "{accepted:?}");
    let pat = accepted.cookie.expect("a session");
    assert_eq!(
        names(&c.panel(&pat).await["apps"]),
        ["Wiki"],
        "the tile shows"
    );
    let managed = c.manage("apps", &c.wiki, &c.olive).await;
    assert_eq!(managed.body["users"][0]["external_state"], "Accepted");
    assert_eq!(managed.body["invitations"], serde_json::json!([]));

    // Pat is a user here now: adding her to the Design group sends no invitation.
    let added = c
        .add("groups", &c.design, "pat@partner.example", &c.olive)
        .await;
    assert_eq!(added.body["invited"], false, "{added:?}");
    assert_eq!(names(&c.panel(&pat).await["groups"]), ["Design"]);
}

/// What the issue asks: a member who owns the Wiki, no administrator, invites. Passes once
/// who-may-invite (default `adminsGuestInvitersAndAllMembers`) is in.
#[tokio::test]
async fn a_member_who_owns_an_app_invites_a_guest_who_redeems_and_sees_the_tile() {
    owner_invites_and_adds_a_guest_who_redeems_from_the_delivered_mail(&[]).await;
}

#[tokio::test]
async fn an_owner_who_may_invite_invites_a_guest_who_redeems_and_sees_the_tile() {
    owner_invites_and_adds_a_guest_who_redeems_from_the_delivered_mail(&["global-administrator"])
        .await;
}

#[tokio::test]
async fn an_owner_sends_again_or_revokes_only_the_invitations_they_made() {
    let c = Contoso::start(Portico::start(), &["global-administrator"]).await;
    let added = c
        .add("groups", &c.design, "pat@partner.example", &c.olive)
        .await;
    assert!(added.ok(), "{added:?}");
    let first = c.manage("groups", &c.design, &c.olive).await.body["invitations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resent = c
        .call(
            "manage/resend",
            &[
                ("kind", "groups"),
                ("id", &c.design),
                ("invitation", &first),
            ],
            &c.olive,
        )
        .await;
    assert!(resent.ok(), "{resent:?}");
    let second = c.manage("groups", &c.design, &c.olive).await.body["invitations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second, "a new link");
    // Ada also owns Design now; Olive's invitation is not hers to revoke.
    c.portico.cli_json(
        &[
            "group",
            "add-member",
            "--tenant",
            "contoso",
            "--group",
            "Design",
            "--user",
            "ada@contoso.example",
            "--owner",
        ],
        "",
    );
    let theirs = c
        .call(
            "manage/revoke",
            &[
                ("kind", "groups"),
                ("id", &c.design),
                ("invitation", &second),
            ],
            &c.ada,
        )
        .await;
    assert_eq!(
        theirs.error_kind().as_deref(),
        Some("AccessDenied"),
        "{theirs:?}"
    );
    let revoked = c
        .call(
            "manage/revoke",
            &[
                ("kind", "groups"),
                ("id", &c.design),
                ("invitation", &second),
            ],
            &c.olive,
        )
        .await;
    assert!(revoked.ok(), "{revoked:?}");
    let managed = c.manage("groups", &c.design, &c.olive).await;
    assert_eq!(managed.body["invitations"], serde_json::json!([]));
    assert_eq!(
        managed.body["users"][0]["email"], "pat@partner.example",
        "stays until removed"
    );
}

#[tokio::test]
async fn join_requests_are_approved_or_denied_by_the_owner_and_the_requester_is_told() {
    let c = Contoso::start(Portico::start(), &[]).await;
    let closed = c.call("panel/join", &[("id", &c.design)], &c.max).await;
    assert_eq!(
        closed.error_kind().as_deref(),
        Some("Refused"),
        "closed by default: {closed:?}"
    );

    c.join_policy(&c.design, "OwnerApproval").await;
    let panel = c.panel(&c.max).await;
    assert_eq!(names(&panel["joinable"]), ["Design"]);
    let asked = c.call("panel/join", &[("id", &c.design)], &c.max).await;
    assert!(asked.ok(), "{asked:?}");
    assert_eq!(c.panel(&c.max).await["requests"][0]["state"], "Pending");
    let request = c.waiting_request("groups", &c.design).await;
    let denied = c
        .call(
            "manage/decide",
            &[("request", &request), ("decision", "deny")],
            &c.olive,
        )
        .await;
    assert!(denied.ok(), "{denied:?}");
    let panel = c.panel(&c.max).await;
    assert_eq!(panel["requests"][0]["state"], "Denied");
    assert_eq!(panel["groups"], serde_json::json!([]));
    let told = c.portico.outbox();
    assert_eq!(told[0]["recipient"], "max@contoso.example");
    assert!(
        told[0]["subject"].as_str().unwrap().contains("denied"),
        "{told:?}"
    );

    let asked = c.call("panel/join", &[("id", &c.design)], &c.max).await;
    assert!(asked.ok(), "{asked:?}");
    let request = c.waiting_request("groups", &c.design).await;
    let approved = c
        .call(
            "manage/decide",
            &[("request", &request), ("decision", "approve")],
            &c.olive,
        )
        .await;
    assert!(approved.ok(), "{approved:?}");
    let panel = c.panel(&c.max).await;
    assert_eq!(panel["requests"][0]["state"], "Approved");
    assert_eq!(names(&panel["groups"]), ["Design"]);
    let told = c.portico.outbox();
    assert!(
        told[0]["subject"].as_str().unwrap().contains("approved"),
        "{told:?}"
    );
    let again = c
        .call(
            "manage/decide",
            &[("request", &request), ("decision", "deny")],
            &c.olive,
        )
        .await;
    assert_eq!(
        again.error_kind().as_deref(),
        Some("Refused"),
        "decided once: {again:?}"
    );

    // An open group: a member joins at once.
    c.join_policy(&c.finance, "Open").await;
    let joined = c.call("panel/join", &[("id", &c.finance)], &c.max).await;
    assert!(joined.ok(), "{joined:?}");
    assert_eq!(
        names(&c.panel(&c.max).await["groups"]),
        ["Design", "Finance"]
    );
}

#[tokio::test]
async fn a_requestable_app_is_asked_for_from_the_panel_and_its_owner_approves() {
    let c = Contoso::start(Portico::start(), &[]).await;
    let not_yet = c.call("panel/request", &[("id", &c.wiki)], &c.max).await;
    assert_eq!(
        not_yet.error_kind().as_deref(),
        Some("Refused"),
        "{not_yet:?}"
    );
    let set = c
        .call(
            "admin/app/requestable",
            &[("id", &c.wiki), ("requestable", "on")],
            &c.ada,
        )
        .await;
    assert!(set.ok(), "{set:?}");
    assert_eq!(names(&c.panel(&c.max).await["requestable"]), ["Wiki"]);
    let asked = c.call("panel/request", &[("id", &c.wiki)], &c.max).await;
    assert!(asked.ok(), "{asked:?}");
    let request = c.waiting_request("apps", &c.wiki).await;
    let approved = c
        .call(
            "manage/decide",
            &[("request", &request), ("decision", "approve")],
            &c.olive,
        )
        .await;
    assert!(approved.ok(), "{approved:?}");
    let panel = c.panel(&c.max).await;
    assert_eq!(names(&panel["apps"]), ["Wiki"], "the tile shows");
    assert_eq!(panel["requestable"], serde_json::json!([]));
    assert_eq!(panel["requests"][0]["state"], "Approved");
}
