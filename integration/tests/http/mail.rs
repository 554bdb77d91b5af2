//! Delivery of the outbox to a real SMTP server (Python's aiosmtpd).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration::{PASSWORD, Portico};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd writing every mail it accepts into a Maildir.
pub(crate) struct SmtpServer {
    child: Child,
}

impl SmtpServer {
    pub(crate) fn start(port: u16, maildir: &std::path::Path) -> SmtpServer {
        for folder in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(folder)).unwrap();
        }
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpServer { child }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn delivered(maildir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return vec![];
    };
    entries
        .filter_map(Result::ok)
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn mail_waits_while_smtp_is_down_and_each_is_delivered_once_when_it_is_back() {
    let port = free_port();
    let maildir = tempfile::tempdir().unwrap();
    let port_text = port.to_string();
    let portico = Portico::start_with(&[
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port_text,
        "--smtp-tls",
        "none",
        "--mail-retry-seconds",
        "1",
        "--mail-from",
        "Contoso via Portico <portico@contoso.example>",
    ]);
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    for i in 0..200 {
        let email = format!("guest{i:03}@partner.example");
        let answer = portico
            .call(
                "admin/invite",
                &[
                    ("email", &email),
                    ("display_name", ""),
                    ("message", ""),
                    ("redirect_url", ""),
                    ("send_email", "on"),
                ],
                Some(&ada),
            )
            .await;
        assert!(answer.ok(), "{answer:?}");
    }
    // Nobody listens yet: attempts fail and are recorded.
    let started = Instant::now();
    loop {
        let failed = portico
            .outbox()
            .iter()
            .filter(|m| m["last_error"].is_string())
            .count();
        if failed >= 50 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no failed attempt was recorded"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(delivered(maildir.path()).is_empty());

    let _smtp = SmtpServer::start(port, maildir.path());
    let started = Instant::now();
    loop {
        let waiting = portico
            .outbox()
            .iter()
            .filter(|m| m["sent_at"].is_null())
            .count();
        if waiting == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{waiting} mails still waiting"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mails = delivered(maildir.path());
    assert_eq!(mails.len(), 200, "each mail exactly once");
    let mut recipients: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("To: "))
                .map(|l| l[4..].trim().to_string())
        })
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 200);
    let first = &mails[0];
    assert!(
        first.contains("From: \"Contoso via Portico\" <portico@contoso.example>")
            || first.contains("From: Contoso via Portico <portico@contoso.example>"),
        "{first}"
    );
    assert!(
        first.contains("multipart/alternative") && first.contains("text/html"),
        "{first}"
    );
    assert!(first.contains("/redeem?ticket="));
}
