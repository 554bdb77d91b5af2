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
