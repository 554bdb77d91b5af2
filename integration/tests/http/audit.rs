//! The audit chain from the command line: `portico audit export` writes JSON Lines that
//! `portico audit verify` checks without the database, naming the first event altered,
//! missing or out of order; the console shows the chain's head.

use integration::{PASSWORD, Portico};
use serde_json::Value;

/// Verifies `lines` (an export, changed or not) from a file, with no database anywhere near.
fn verify(lines: &[String]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    // An empty data folder of its own: the command must not need one.
    let nowhere = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(integration::binary())
        .arg("--data-dir")
        .arg(nowhere.path().join("absent"))
        .args(["audit", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        !nowhere.path().join("absent").exists(),
        "verifying an export opened a database"
    );
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_export_verifies_offline_and_each_kind_of_tampering_is_named() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    for n in 0..4 {
        portico.create_user(&tenant, &format!("m{n}@contoso.example"), &[]);
    }
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    portico.invite(&ada, "pat@partner.example").await;

    let (ok, out, err) = portico.cli(&["audit", "export", "--tenant", "contoso.example"], "");
    assert!(ok, "{err}");
    let lines: Vec<String> = out.lines().map(str::to_string).collect();
    assert!(lines.len() >= 7, "{out}");
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["prev_hash"], "");
    let last = events.last().unwrap();
    assert_eq!(last["action"], "Invite external user");

    let (ok, out, err) = verify(&lines);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "{} events; the newest is event {}, sha256 {}",
            lines.len(),
            last["id"],
            last["hash"].as_str().unwrap()
        )),
        "{out}"
    );
    // The console shows the same head.
    let page = portico
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
            Some(&ada),
        )
        .await;
    assert_eq!(page.body["head"]["hash"], last["hash"]);
    assert_eq!(page.body["head"]["id"], last["id"]);

    let id = |i: usize| events[i]["id"].to_string();
    let mut altered = lines.clone();
    altered[3] = altered[3].replace("\"detail\":\"", "\"detail\":\"(edited) ");
    let (ok, _, err) = verify(&altered);
    assert!(!ok);
    assert!(
        err.contains(&format!("line 4: event {} was altered", id(3))),
        "{err}"
    );

    let mut deleted = lines.clone();
    deleted.remove(3);
    let (ok, _, err) = verify(&deleted);
    assert!(!ok);
    assert!(
        err.contains(&format!("event {} does not follow event {}", id(4), id(2))),
        "{err}"
    );

    let mut reordered = lines.clone();
    reordered.swap(3, 4);
    let (ok, _, err) = verify(&reordered);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "line 4: event {} does not follow event {}",
            id(4),
            id(2)
        )),
        "{err}"
    );
    assert!(err.contains("reordered"), "{err}");

    let mut garbled = lines.clone();
    garbled[2] = "{\"id\": 1}".into();
    let (ok, _, err) = verify(&garbled);
    assert!(!ok);
    assert!(err.contains("line 3: not an exported audit event"), "{err}");

    // The database's own chain verifies too.
    let (ok, out, err) = portico.cli(&["audit", "verify", "--tenant", "contoso.example"], "");
    assert!(ok, "{err}");
    assert!(out.contains("The chain holds"), "{out}");
}

fn audit_page_query() -> Vec<(&'static str, &'static str)> {
    vec![
        ("query[actor]", ""),
        ("query[target]", ""),
        ("query[action]", ""),
        ("query[from]", ""),
        ("query[to]", ""),
        ("query[page]", "0"),
    ]
}

#[tokio::test]
async fn retention_prunes_old_events_at_a_signed_checkpoint_that_an_export_verifies() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "uma@contoso.example", &["user-administrator"]);
    for n in 0..3 {
        portico.create_user(&tenant, &format!("m{n}@contoso.example"), &[]);
    }
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let uma = portico.sign_in("uma@contoso.example", PASSWORD).await;

    // Only a global administrator sets it, and only to a sensible number of days.
    let refused = portico
        .call(
            "admin/audit/retention",
            &[("retention_days", "90")],
            Some(&uma),
        )
        .await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("AccessDenied"),
        "{refused:?}"
    );
    let bad = portico
        .call(
            "admin/audit/retention",
            &[("retention_days", "5")],
            Some(&ada),
        )
        .await;
    assert_eq!(bad.error_kind().as_deref(), Some("Invalid"), "{bad:?}");
    assert!(bad.body.to_string().contains("from 30 to 3650"), "{bad:?}");
    let page = portico
        .call("admin/audit", &audit_page_query(), Some(&ada))
        .await;
    assert_eq!(page.body["retention_days"], Value::Null);
    assert_eq!(page.body["may_set_retention"], true);
    let theirs = portico
        .call("admin/audit", &audit_page_query(), Some(&uma))
        .await;
    assert_eq!(theirs.body["may_set_retention"], false, "{theirs:?}");
    let saved = portico
        .call(
            "admin/audit/retention",
            &[("retention_days", "30")],
            Some(&ada),
        )
        .await;
    assert!(saved.ok(), "{saved:?}");

    let (ok, out, err) = portico.cli(&["audit", "export", "--tenant", "contoso.example"], "");
    assert!(ok, "{err}");
    let before: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    // Forty days on, everything written today is past the retention.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let later = (now + 40 * 86_400).to_string();
    let (ok, out, err) = portico.cli(
        &["lifecycle", "--public-url", &portico.url, "--as-of", &later],
        "",
    );
    assert!(ok, "{err}");
    // Today's audit events, and any sign-ins the log holds.
    let pruned: usize = out.split(' ').next().unwrap().parse().unwrap();
    assert!(pruned >= before.len(), "{out}");
    assert!(out.contains("old audit and sign-in events pruned"), "{out}");

    let (ok, out, err) = portico.cli(&["audit", "export", "--tenant", "contoso.example"], "");
    assert!(ok, "{err}");
    let lines: Vec<String> = out.lines().map(str::to_string).collect();
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    let checkpoint = &first["checkpoint"];
    let last_removed = before.last().unwrap();
    assert_eq!(checkpoint["event_id"], last_removed["id"]);
    assert_eq!(checkpoint["event_hash"], last_removed["hash"]);
    assert_eq!(checkpoint["events_removed"], before.len());
    assert_eq!(
        lines.len(),
        2,
        "the checkpoint and the pruning's own event: {out}"
    );
    let pruned: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(pruned["action"], "Prune audit log");
    assert_eq!(pruned["actor_kind"], "Portico");
    assert_eq!(pruned["prev_hash"], last_removed["hash"]);

    let (ok, out, err) = verify(&lines);
    assert!(ok, "{err}");
    assert!(out.contains("The chain starts from a checkpoint"), "{out}");
    assert!(
        out.contains(&format!("{} older events", before.len())),
        "{out}"
    );
    let (ok, out, err) = portico.cli(&["audit", "verify", "--tenant", "contoso.example"], "");
    assert!(ok, "{err}");
    assert!(out.contains("starts from a checkpoint"), "{out}");

    // The checkpoint altered, or dropped, is caught.
    let mut altered = lines.clone();
    altered[0] = altered[0].replace(
        &format!("\"events_removed\":{}", before.len()),
        &format!("\"events_removed\":{}", before.len() - 1),
    );
    assert_ne!(altered[0], lines[0]);
    let (ok, _, err) = verify(&altered);
    assert!(!ok);
    assert!(
        err.contains("line 1: the checkpoint does not hold"),
        "{err}"
    );
    let (ok, _, err) = verify(&lines[1..]);
    assert!(!ok);
    assert!(err.contains("the events before it are missing"), "{err}");

    // The console says where the chain now starts.
    let page = portico
        .call("admin/audit", &audit_page_query(), Some(&ada))
        .await;
    assert_eq!(page.body["retention_days"], 30);
    assert_eq!(page.body["checkpoint"]["event_hash"], last_removed["hash"]);
    assert_eq!(page.body["head"]["hash"], pruned["hash"]);
}
