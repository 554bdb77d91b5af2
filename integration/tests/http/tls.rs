//! A real TLS reverse proxy (nginx, with a self-signed certificate) in front of Portico,
//! for the tests that need Portico at an https address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The address the tests' browser uses: another loopback address than the proxy's, so
/// that the client's address Portico records tells the two apart.
pub const BROWSER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Runs `program` to the end; panics with its output when it fails.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (scripts/test.sh installs it): {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made with the openssl command
/// line in `dir`: `cert.pem` and `key.pem`.
fn self_signed_certificate(dir: &Path) {
    let config = dir.join("openssl.cnf");
    std::fs::write(
        &config,
        "[req]\ndistinguished_name = dn\nx509_extensions = leaf\nprompt = no\n\
         [dn]\nCN = localhost\n\
         [leaf]\nbasicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n\
         subjectAltName = DNS:localhost, IP:127.0.0.1\n",
    )
    .expect("write the openssl configuration");
    let path = |name: &str| dir.join(name).display().to_string();
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-config",
            &path("openssl.cnf"),
            "-keyout",
            &path("key.pem"),
            "-out",
            &path("cert.pem"),
        ],
    );
}

/// A real nginx in front of Portico, as README's deployment section sets it up, with its
/// own configuration and files in a temporary folder; stopped when dropped.
pub struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Nginx {
    /// Listens on `port` of 127.0.0.1 and passes requests on to `upstream`.
    pub fn start(port: u16, upstream: &str) -> Nginx {
        let dir = tempfile::tempdir().expect("temporary folder");
        self_signed_certificate(dir.path());
        let at = dir.path().display();
        // The `location` block is README's; the rest keeps nginx in this folder, in the
        // foreground, as one process that dies with the test.
        let config = format!(
            "daemon off;\nmaster_process off;\npid {at}/nginx.pid;\nerror_log {at}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {at}/client_body;\n\
               proxy_temp_path {at}/proxy;\n\
               fastcgi_temp_path {at}/fastcgi;\n\
               uwsgi_temp_path {at}/uwsgi;\n\
               scgi_temp_path {at}/scgi;\n\
               server {{\n\
                 listen 127.0.0.1:{port} ssl;\n\
                 server_name localhost;\n\
                 ssl_certificate {at}/cert.pem;\n\
                 ssl_certificate_key {at}/key.pem;\n\
                 location / {{\n\
                   proxy_pass http://{upstream};\n\
                   proxy_set_header Host $host;\n\
                   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                   proxy_set_header X-Forwarded-Proto $scheme;\n\
                 }}\n\
               }}\n\
             }}\n"
        );
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, config).expect("write the nginx configuration");
        let program = if Path::new("/usr/sbin/nginx").exists() {
            "/usr/sbin/nginx"
        } else {
            "nginx"
        };
        let prefix = format!("{at}/");
        let error_log = format!("{at}/error.log");
        let mut child = Command::new(program)
            .args(["-p", &prefix, "-e", &error_log, "-c"])
            .arg(&file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nginx (scripts/test.sh installs it): {e}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&error_log).unwrap_or_default();
                panic!("nginx stopped ({status}): {log}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { child, dir, port }
    }

    /// The certificate clients must trust to reach it (PEM).
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// A client that trusts this nginx's certificate (and nothing else), sends from
    /// [`BROWSER`], and follows no redirects.
    pub fn client(&self) -> reqwest::Client {
        let pem = std::fs::read(self.certificate()).expect("the certificate");
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("a certificate"))
            .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], self.port)))
            .local_address(BROWSER)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
