//! Portico at the edge of the network: behind a real TLS reverse proxy (nginx, with a
//! self-signed certificate), the cross-site check against the public origin, and
//! connections that are half-sent, trickled, or too many.

use std::time::{Duration, Instant};

use integration::{PASSWORD, Portico};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tls::{BROWSER, Nginx, free_port};

#[tokio::test]
async fn behind_a_tls_proxy_cookies_are_secure_and_the_client_is_the_proxys_client() {
    let proxy_port = free_port();
    let public_url = format!("https://localhost:{proxy_port}");
    let mut portico = Portico::start_with(&[
        "--public-url",
        &public_url,
        "--trusted-proxies",
        "127.0.0.1",
    ]);
    let nginx = Nginx::start(proxy_port, &portico.listening);
    portico.use_http(nginx.client());
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );

    let page = portico
        .http()
        .get(format!("{public_url}/signin"))
        .send()
        .await
        .expect("the sign-in page through nginx");
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    // Sign-in end to end through the proxy; the browser also claims to be someone else.
    let signed_in = portico
        .http()
        .post(format!("{public_url}/fn/sign_in"))
        .header("Origin", &public_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Forwarded-For", "203.0.113.7")
        .body(integration::encode_form(&[
            ("email", "ada@contoso.example"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .expect("sign-in through nginx");
    assert_eq!(signed_in.status(), 200);
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set_cookie.starts_with("__Host-portico_session=")
            && set_cookie.contains("; Secure")
            && set_cookie.contains("; HttpOnly")
            && set_cookie.contains("; Path=/")
            && !set_cookie.contains("Domain="),
        "{set_cookie}"
    );
    let session = integration::set_cookies(&signed_in)
        .into_iter()
        .find(|(name, _)| name == "__Host-portico_session")
        .map(|(_, value)| value)
        .expect("a session cookie");
    let me = portico.call("me", &[], Some(&session)).await;
    assert_eq!(me.body["email"], "ada@contoso.example", "{me:?}");

    // What the admin does is recorded with the browser's address, not the proxy's nor the
    // one it made up.
    let created = portico
        .call(
            "admin/groups/create",
            &[("name", "Through nginx"), ("description", "")],
            Some(&session),
        )
        .await;
    assert!(created.ok(), "{created:?}");
    let events = portico.audited(&session, "Add group").await;
    assert_eq!(events["items"][0]["ip"], "127.0.0.2", "{events}");

    // Reaching Portico around the proxy, the peer is the client whatever it forwards.
    let direct = reqwest::Client::builder()
        .local_address(BROWSER)
        .build()
        .expect("http client");
    let around = direct
        .post(format!(
            "http://{}/fn/admin/groups/create",
            portico.listening
        ))
        .header("Origin", &public_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Forwarded-For", "198.51.100.1")
        .header("Cookie", format!("__Host-portico_session={session}"))
        .body(integration::encode_form(&[
            ("name", "Around nginx"),
            ("description", ""),
        ]))
        .send()
        .await
        .expect("a request around nginx");
    assert_eq!(around.status(), 200);
    let events = portico.audited(&session, "Add group").await;
    assert_eq!(
        events["items"][0]["target_name"], "Around nginx",
        "{events}"
    );
    assert_eq!(events["items"][0]["ip"], "127.0.0.2", "{events}");

    // A page on the plain-http origin is not the site, though the host and port match.
    let cross = portico
        .http()
        .post(format!("{public_url}/fn/admin/groups/create"))
        .header("Origin", format!("http://localhost:{proxy_port}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", format!("__Host-portico_session={session}"))
        .body(integration::encode_form(&[
            ("name", "Plain"),
            ("description", ""),
        ]))
        .send()
        .await
        .expect("a cross-origin post");
    assert_eq!(cross.status(), 403);
    drop(nginx);
}

#[tokio::test]
async fn forms_are_accepted_from_the_public_origin_only() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let session = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let port = portico.url.rsplit(':').next().expect("a port").to_string();
    let create = |origin: String, name: &'static str| {
        let request = portico
            .http()
            .post(format!("{}/fn/admin/groups/create", portico.url))
            .header("Origin", origin)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Cookie", format!("portico_session={session}"))
            .body(integration::encode_form(&[
                ("name", name),
                ("description", ""),
            ]));
        async move { request.send().await.expect("a post").status().as_u16() }
    };
    assert_eq!(
        create(format!("https://127.0.0.1:{port}"), "Other scheme").await,
        403,
        "the https origin of an http site"
    );
    assert_eq!(
        create(format!("http://localhost:{port}"), "Other name").await,
        403
    );
    assert_eq!(create(portico.url.clone(), "Same origin").await, 200);
    let groups = portico.call("admin/groups", &[], Some(&session)).await;
    let names: Vec<_> = groups
        .body
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("Same origin")]);
    let page = portico
        .http()
        .get(format!("{}/signin", portico.url))
        .send()
        .await
        .expect("a page");
    assert!(
        page.headers().get("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
}

/// Lets this test process hold `files` open files (the tests share one process).
fn allow_open_files(files: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|current| current < files) {
        limit.current = Some(limit.maximum.map_or(files, |max| max.min(files)));
        setrlimit(Resource::Nofile, limit).expect("raise the limit of open files");
    }
}

#[tokio::test]
async fn a_thousand_half_sent_requests_do_not_stop_a_sign_in() {
    const HALF_SENT: usize = 1000;
    const SERVER_FILES: u64 = 512;
    allow_open_files(HALF_SENT as u64 + 1024);
    // Fewer files than half-sent requests: without a cap on connections they would take
    // every one, and the sign-in would never be accepted.
    let portico = Portico::start_with_open_files(SERVER_FILES, &[]);
    portico.seed_tenant("Contoso", "contoso.example", "ada@contoso.example", &[]);
    let mut held = Vec::with_capacity(HALF_SENT);
    for _ in 0..HALF_SENT {
        let connect = TcpStream::connect(&portico.listening);
        let mut socket = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .expect("connected within 5 s")
            .expect("connected");
        socket
            .write_all(b"POST /fn/sign_in HTTP/1.1\r\nHost: ")
            .await
            .expect("a partial request line");
        held.push(socket);
    }
    let started = Instant::now();
    let session = tokio::time::timeout(
        Duration::from_secs(8),
        portico.sign_in("ada@contoso.example", PASSWORD),
    )
    .await
    .expect("a sign-in within 8 s, past a thousand half-sent requests");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "signed in after {:?}",
        started.elapsed()
    );
    let me = portico.call("me", &[], Some(&session)).await;
    assert_eq!(me.body["email"], "ada@contoso.example");
    // The half-sent requests that waited longest were closed to make room.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut buffer = [0u8; 16];
    let still_open = held
        .iter()
        .filter(|socket| {
            matches!(socket.try_read(&mut buffer), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .count();
    assert!(
        still_open < SERVER_FILES as usize,
        "{still_open} half-sent requests held open"
    );
}

#[tokio::test]
async fn slow_headers_and_trickled_bodies_are_cut_off() {
    let portico = Portico::start_with(&[
        "--header-timeout-seconds",
        "1",
        "--body-timeout-seconds",
        "2",
    ]);
    // A request whose header never ends.
    let mut slow = TcpStream::connect(&portico.listening)
        .await
        .expect("connect");
    slow.write_all(b"GET /signin HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("a partial header");
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest))
        .await
        .expect("the connection closed within 5 s")
        .ok();
    assert!(started.elapsed() >= Duration::from_millis(500));

    // A kept-alive connection left idle after its answer.
    let mut idle = TcpStream::connect(&portico.listening)
        .await
        .expect("connect");
    idle.write_all(b"HEAD /signin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("a request");
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buffer))
            .await
            .expect("an answer within 5 s")
            .expect("an answer");
        assert!(read > 0, "closed before answering");
        head.extend_from_slice(&buffer[..read]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest))
        .await
        .expect("the idle connection closed within 5 s")
        .ok();
    assert!(started.elapsed() >= Duration::from_millis(500));

    // A body trickled at a byte a second.
    let stream = TcpStream::connect(&portico.listening)
        .await
        .expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /fn/sign_in HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
        portico.listening, portico.url
    );
    writer.write_all(head.as_bytes()).await.expect("the header");
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for _ in 0..20 {
            if writer.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(8), reader.read_to_end(&mut answer))
        .await
        .expect("the connection closed within 8 s")
        .ok();
    let elapsed = started.elapsed();
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(6),
        "cut off after {elapsed:?}"
    );
}

#[tokio::test]
async fn a_connection_on_which_nothing_moves_is_closed() {
    let portico = Portico::start_with(&[
        "--connection-idle-seconds",
        "1",
        "--body-timeout-seconds",
        "30",
    ]);
    // A request whose body stops coming: long before its 30 s are up, nothing has moved
    // on the connection for a second.
    let mut stalled = TcpStream::connect(&portico.listening)
        .await
        .expect("connect");
    let head = format!(
        "POST /fn/sign_in HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
        portico.listening, portico.url
    );
    stalled
        .write_all(head.as_bytes())
        .await
        .expect("the header");
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut answer))
        .await
        .expect("the connection closed within 5 s")
        .ok();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "closed after {:?}",
        started.elapsed()
    );
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
}
