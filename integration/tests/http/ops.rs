//! What operators and orchestrators use: `/healthz` and `/readyz`, the Prometheus figures
//! on their own address, and stopping on SIGTERM within a bound.

use std::time::{Duration, Instant};

use integration::{PASSWORD, Portico, encode_form};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

async fn get(portico: &Portico, url: &str) -> (u16, String) {
    let response = portico.http().get(url).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The value of the sample named exactly `series` (name and labels) in a scrape.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(value.parse().expect("a number"))
    })
}

/// Checks the text format: each family's samples come together, right after its `# TYPE`
/// (a histogram's as `_bucket`, `_sum` and `_count`), and every value is a number.
fn assert_well_formed(scrape: &str) {
    let mut families: Vec<&str> = Vec::new();
    for line in scrape.lines() {
        if let Some(described) = line.strip_prefix("# TYPE ") {
            let family = described.split(' ').next().expect("a name");
            assert!(!families.contains(&family), "{family} described twice");
            families.push(family);
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().expect("a name");
            let family = families.last().expect("a TYPE before the first sample");
            let in_family = name == *family
                || name
                    .strip_prefix(family)
                    .is_some_and(|end| ["_bucket", "_sum", "_count"].contains(&end));
            assert!(in_family, "{name} among {family}'s samples");
            let value = line.rsplit(' ').next().expect("a value");
            assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
        }
    }
}

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let portico = Portico::start();
    let (status, body) = get(&portico, &format!("{}/healthz", portico.url)).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn readyz_is_ready_and_says_so_when_a_migration_is_missing() {
    let portico = Portico::start();
    let (status, body) = get(&portico, &format!("{}/readyz", portico.url)).await;
    assert_eq!((status, body.as_str()), (200, "ready"));

    // The database as an older build left it: its newest migration not applied.
    portico.sql(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    );
    let (status, body) = get(&portico, &format!("{}/readyz", portico.url)).await;
    assert_eq!(status, 503);
    assert_eq!(body, "1 database migrations not applied");
    let (status, _) = get(&portico, &format!("{}/healthz", portico.url)).await;
    assert_eq!(status, 200, "alive, though not ready");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_only() {
    let off = Portico::start();
    assert!(off.metrics_url.is_none());
    let (status, _) = get(&off, &format!("{}/metrics", off.url)).await;
    assert_eq!(status, 404, "no figures unless asked for");

    let portico = Portico::start_with(&["--metrics-listen", "127.0.0.1:0"]);
    let metrics_url = portico.metrics_url.clone().expect("the metrics address");
    let (status, _) = get(&portico, &format!("{}/metrics", portico.url)).await;
    assert_eq!(status, 404, "never on the public address");

    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let admin = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let refused = portico
        .call(
            "sign_in",
            &[("email", "ada@contoso.example"), ("password", "wrong")],
            None,
        )
        .await;
    assert!(!refused.ok());
    portico.invite(&admin, "guest@partner.example").await;
    for _ in 0..2 {
        get(&portico, &format!("{}/healthz", portico.url)).await;
    }
    let (status, _) = get(&portico, &format!("{}/no-such-page/4711", portico.url)).await;
    assert_eq!(status, 404);
    get(
        &portico,
        &format!("{}/admin/users/made-up-4711", portico.url),
    )
    .await;

    let response = portico
        .http()
        .get(&metrics_url)
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    let scrape = response.text().await.expect("body");
    assert_well_formed(&scrape);

    let healthz = "{route=\"/healthz\",status=\"200\",class=\"2xx\"}";
    assert_eq!(
        sample(&scrape, &format!("portico_http_requests_total{healthz}")),
        Some(2.0),
        "{scrape}"
    );
    let signed_in = "{route=\"/fn/sign_in\",status=\"200\",class=\"2xx\"}";
    assert_eq!(
        sample(&scrape, &format!("portico_http_requests_total{signed_in}")),
        Some(1.0)
    );
    // The latency histogram: cumulative buckets, ending with every request.
    let bucket = |le: &str| {
        let series = format!(
            "portico_http_request_duration_seconds_bucket{{route=\"/healthz\",le=\"{le}\"}}"
        );
        sample(&scrape, &series).unwrap_or_else(|| panic!("no {series} in {scrape}"))
    };
    assert!(bucket("0.005") <= bucket("0.1") && bucket("0.1") <= bucket("10"));
    assert_eq!(bucket("+Inf"), 2.0);
    assert_eq!(
        sample(
            &scrape,
            "portico_http_request_duration_seconds_count{route=\"/healthz\"}"
        ),
        Some(2.0)
    );
    // Routes, never addresses: a page that does not exist adds no label of its own.
    assert!(!scrape.contains("no-such-page"), "{scrape}");
    assert!(scrape.contains("route=\"unmatched\",status=\"404\""));
    assert!(!scrape.contains("made-up-4711"), "{scrape}");
    assert!(scrape.contains("{route=\"/admin/users/{id}\",status="));

    assert_eq!(
        sample(&scrape, "portico_sign_ins_total{method=\"password\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "portico_sign_in_refusals_total{method=\"password\"}"
        ),
        Some(1.0)
    );
    // Read from the database: the invitation, and its mail waiting (no SMTP server here).
    assert_eq!(sample(&scrape, "portico_invitations"), Some(1.0));
    assert_eq!(sample(&scrape, "portico_outbox_unsent"), Some(1.0));
    assert_eq!(sample(&scrape, "portico_outbox_failing"), Some(0.0));
    assert!(
        sample(
            &scrape,
            "portico_database_connection_waits_total{connections=\"write\"}"
        )
        .is_some()
    );
}

/// Opens a connection and sends a sign-in's header and the first half of its body; returns
/// the connection and the rest of the body.
async fn half_sent_sign_in(portico: &Portico) -> (TcpStream, Vec<u8>) {
    let body = encode_form(&[("email", "ada@contoso.example"), ("password", PASSWORD)]);
    let head = format!(
        "POST /fn/sign_in HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        portico.listening,
        portico.url,
        body.len()
    );
    let mut stream = TcpStream::connect(&portico.listening)
        .await
        .expect("connect");
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.expect("the header");
    stream.write_all(first).await.expect("half the body");
    // Long enough for the server to have read the header and begun the request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    (stream, rest.to_vec())
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits() {
    let mut portico = Portico::start_with(&["--shutdown-grace-seconds", "10"]);
    portico.seed_tenant("Contoso", "contoso.example", "ada@contoso.example", &[]);
    let (mut in_flight, rest) = half_sent_sign_in(&portico).await;

    portico.terminate();
    let refused_by = Instant::now() + Duration::from_secs(3);
    while TcpStream::connect(&portico.listening).await.is_ok() {
        assert!(
            Instant::now() < refused_by,
            "still accepting connections 3 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    in_flight
        .write_all(&rest)
        .await
        .expect("the rest of the body");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), in_flight.read_to_end(&mut answer))
        .await
        .expect("the answer within the grace")
        .expect("the answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("portico_session="), "signed in: {answer}");

    // Nothing else to wait for: the workers stop at once, well before the grace is up.
    let status = portico
        .exit_within(Duration::from_secs(3))
        .expect("exited within 3 s of its last answer");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn sigterm_exits_once_the_grace_is_up_whatever_is_still_in_flight() {
    let mut portico = Portico::start_with(&["--shutdown-grace-seconds", "1"]);
    // A body that will not come (its own deadline is 30 s away).
    let (_stalled, _) = half_sent_sign_in(&portico).await;

    portico.terminate();
    let signalled = Instant::now();
    let status = portico
        .exit_within(Duration::from_secs(6))
        .expect("exited within 6 s of SIGTERM");
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took >= Duration::from_millis(900),
        "the request in flight was given its grace: exited after {took:?}"
    );
}

/// An SMTP server that takes its time over a mail: it says on `received` when a mail's
/// data has arrived, and accepts it `delay` later.
async fn slow_smtp(listener: TcpListener, delay: Duration, received: mpsc::UnboundedSender<()>) {
    while let Ok((stream, _)) = listener.accept().await {
        let received = received.clone();
        tokio::spawn(async move {
            let (reader, mut writer) = stream.into_split();
            let mut lines = BufReader::new(reader).lines();
            let _ = writer.write_all(b"220 slow.example ESMTP\r\n").await;
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                let reply: &[u8] = if in_data {
                    if line != "." {
                        continue;
                    }
                    in_data = false;
                    let _ = received.send(());
                    tokio::time::sleep(delay).await;
                    b"250 accepted\r\n"
                } else {
                    match line
                        .get(..4)
                        .map(|verb| verb.to_ascii_uppercase())
                        .as_deref()
                    {
                        Some("DATA") => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        Some("QUIT") => {
                            let _ = writer.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    }
                };
                if writer.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_mail_being_handed_over_finish() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener
        .local_addr()
        .expect("its address")
        .port()
        .to_string();
    let (received, mut arrived) = mpsc::unbounded_channel();
    tokio::spawn(slow_smtp(listener, Duration::from_secs(2), received));
    let mut portico = Portico::start_with(&[
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--smtp-tls",
        "none",
        "--shutdown-grace-seconds",
        "10",
    ]);
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    portico.invite(&ada, "guest@partner.example").await;
    tokio::time::timeout(Duration::from_secs(20), arrived.recv())
        .await
        .expect("the mail handed over within 20 s");

    // Stopped while the mail server has the mail but has not accepted it yet.
    portico.terminate();
    let status = portico
        .exit_within(Duration::from_secs(10))
        .expect("exited within the grace");
    assert!(status.success(), "{status:?}");
    let mail = portico
        .outbox()
        .into_iter()
        .find(|mail| mail["recipient"] == "guest@partner.example")
        .expect("the invitation's mail");
    assert!(
        mail["sent_at"].is_i64(),
        "the accepted mail is recorded as sent, not sent again at the next start: {mail}"
    );
}
