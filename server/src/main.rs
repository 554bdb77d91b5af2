//! The Portico server and its command line: `portico` (or `portico serve`) runs the web
//! server; `portico tenant|user|group|app …` script the directory against the same database.

// The pages' view types nest deeply; the release build lays them out past the default limit.
#![recursion_limit = "256"]

mod cli;
mod config;
mod connections;
mod federation;
mod graph;
mod health;
mod mailer;
mod metrics;
mod oidc;
mod reviews;
mod shutdown;
mod web;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use app::server::{Cookie, Portal};
use clap::Parser;
use config::{Cli, Command, Serve};
use domain::Store;
use domain::sessions::SessionPolicy;
use leptos::config::LeptosOptions;
use shutdown::Stopping;
use tokio::task::JoinSet;

/// A faster allocator than the system's for many small, short-lived allocations per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        cli = Cli::parse_from(std::env::args().chain(["serve".to_string()]));
    }
    tracing_subscriber::fmt()
        .with_max_level(cli.log_level)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("portico: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("portico: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    // An export is verified without the database (an auditor's copy may be anywhere).
    if let Some(Command::Audit(config::AuditCommand::Verify {
        file: Some(file), ..
    })) = &cli.command
    {
        return cli::verify_export(file);
    }
    if cli.storage.database_url.is_none() {
        std::fs::create_dir_all(&cli.storage.data_dir).map_err(|e| {
            format!(
                "cannot create the data folder {}: {e}",
                cli.storage.data_dir.display()
            )
        })?;
    }
    let url = cli.storage.url();
    // Opening a database makes Portico's tables in it: a copy's source is checked first.
    if let Some(Command::Db(_)) = &cli.command {
        domain::copy::check_source(&url).map_err(|e| e.to_string())?;
    }
    let store = Store::open(&url)
        .await
        .map_err(|e| format!("cannot open the database {url}: {e}"))?;
    let result = match cli.command {
        Some(Command::Serve(serve)) => serve_web(store.clone(), serve, &cli.storage.data_dir).await,
        Some(Command::Tenant(command)) => cli::tenant(&store, command).await,
        Some(Command::User(command)) => cli::user(&store, command).await,
        Some(Command::Group(command)) => cli::group(&store, command).await,
        Some(Command::App(command)) => cli::app(&store, command).await,
        Some(Command::Outbox(command)) => cli::outbox(&store, command).await,
        Some(Command::Keys(command)) => cli::keys(&store, command).await,
        Some(Command::Invite(args)) => cli::invite(&store, args).await,
        Some(Command::Audit(command)) => cli::audit(&store, command).await,
        Some(Command::Db(command)) => cli::db(&store, command).await,
        Some(Command::Lifecycle {
            public_url,
            as_of,
            output,
        }) => cli::lifecycle(&store, &public_url, as_of, &output).await,
        None => Err("no command given".into()),
    };
    store.close().await;
    result
}

fn origin_of(url: &str) -> Result<String, String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("--public-url '{url}' is not a URL: {e}"))?;
    Ok(parsed.origin().ascii_serialization())
}

/// Prints a line for the operator; a closed standard output is no reason to stop serving.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Everything under the site root is served to anyone: the data folder and the key file
/// (`what`, at `path`) must not be there.
fn refuse_to_publish(site_root: &Path, what: &str, path: &Path) -> Result<(), String> {
    let site = site_root
        .canonicalize()
        .unwrap_or_else(|_| site_root.to_path_buf());
    let inside = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if inside.starts_with(&site) {
        return Err(format!(
            "{what} {} is inside the site root {}, which is served to anyone; keep them apart",
            inside.display(),
            site.display()
        ));
    }
    Ok(())
}

/// Picks up a signing key rotated by the command line (or another server), until Portico
/// stops.
async fn watch_keys(
    store: Store,
    signer: Arc<std::sync::RwLock<domain::oidc::Signer>>,
    stopping: Stopping,
) {
    let every = Duration::from_secs(domain::oidc::keys::RELOAD_SECONDS);
    let stopped = shutdown::stopped(stopping);
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = &mut stopped => return,
        }
        let current = match signer.read() {
            Ok(current) => current.clone(),
            Err(_) => return,
        };
        match domain::oidc::keys::changed_since(&store, &current).await {
            Ok(Some(newer)) => {
                if let Ok(mut current) = signer.write() {
                    tracing::info!("signing ID tokens with keys {:?} from now on", newer.kids());
                    *current = newer;
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!("could not look for a rotated signing key: {error}"),
        }
    }
}

async fn serve_web(store: Store, serve: Serve, data_dir: &Path) -> Result<(), String> {
    refuse_to_publish(&serve.site_root, "the data folder", data_dir)?;
    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", serve.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics_listener = match serve.metrics_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen for metrics on {at}: {e}"))?,
        ),
        None => None,
    };
    let public_url = serve
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"))
        .trim_end_matches('/')
        .to_string();
    let guard = web::Guard {
        public_origin: origin_of(&public_url)?,
        forwarding: web::Forwarding {
            proxies: domain::proxies::TrustedProxies::new(serve.trusted_proxies.clone()),
            header: serve.forwarding_header,
        },
        graph_requests_per_minute: serve.graph_requests_per_minute,
    };
    let policy = SessionPolicy {
        idle_timeout: serve.idle_timeout_minutes * 60,
        absolute_timeout: serve.session_hours * 3600,
        ..SessionPolicy::default()
    };
    let key_file = serve
        .secret_key_file
        .clone()
        .unwrap_or_else(|| data_dir.join("secret.key"));
    refuse_to_publish(&serve.site_root, "the key file", &key_file)?;
    let federation = domain::federation::Federation::new(
        &public_url,
        serve.allow_loopback_providers,
        domain::vault::Vault::load_or_create(&key_file)?,
    );
    let sealed = domain::federation::seal_stored_secrets(&store, &federation)
        .await
        .map_err(|e| format!("cannot seal the providers' client secrets: {e}"))?;
    if sealed > 0 {
        say(&format!(
            "Sealed {sealed} client secrets of partners' providers with {}.",
            key_file.display()
        ));
    }
    let portal = Portal {
        store: store.clone(),
        policy,
        secure_cookies: public_url.starts_with("https://"),
        public_url: public_url.clone(),
        federation: std::sync::Arc::new(federation),
        passkeys: std::sync::Arc::new(domain::passkeys::Passkeys::new(&public_url)),
        vault: std::sync::Arc::new(domain::vault::Vault::load_or_create(&key_file)?),
    };
    let signer = domain::oidc::keys::load_or_create(&store, app::server::now())
        .await
        .map_err(|e| format!("cannot load or make the token signing key: {e}"))?;
    let signer = Arc::new(std::sync::RwLock::new(signer));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut workers = JoinSet::new();
    workers.spawn(watch_keys(store.clone(), signer.clone(), stopping.clone()));
    let options = LeptosOptions::builder()
        .output_name("portico")
        .site_root(serve.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(address)
        .build();
    say(&format!(
        "Portico is running at {public_url} (listening on {address})."
    ));
    let metrics = match metrics_listener {
        Some(listener) => {
            let at = listener.local_addr().map_err(|e| e.to_string())?;
            say(&format!("Metrics for Prometheus at http://{at}/metrics"));
            let session_cookie = portal.cookie_name(Cookie::Session);
            let metrics = Arc::new(metrics::Metrics::new(session_cookie));
            let stopped = shutdown::stopped(stopping.clone());
            workers.spawn(metrics::serve(
                listener,
                metrics.clone(),
                store.clone(),
                stopped,
            ));
            Some(metrics)
        }
        None => None,
    };
    match mailer::Mailer::from_config(&serve.smtp)? {
        Some(mailer) => {
            workers.spawn(mailer.run(store.clone(), stopping.clone()));
        }
        None => say(
            "No SMTP server is configured (--smtp-host): mail stays in the outbox, where administrators see it.",
        ),
    }
    match domain::setup::issue_ticket(&store, app::server::now()).await {
        Ok(Some(ticket)) => say(&format!(
            "\nPortico is not set up yet. Within one hour, open this single-use link to create\n\
             your organization and its first administrator:\n\n    {public_url}/setup?ticket={ticket}\n"
        )),
        Ok(None) => say(&format!("Sign in at {public_url}/signin")),
        Err(e) => return Err(format!("cannot prepare the setup link: {e}")),
    }
    workers.spawn(sweep(
        store.clone(),
        policy,
        public_url.clone(),
        stopping.clone(),
    ));

    let limits = connection_limits(&serve.connections);
    let mut router = web::router(portal, signer, options, guard)
        .merge(health::router(store.clone(), stopping.clone()));
    if let Some(metrics) = metrics {
        router = router.layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::count,
        ));
    }
    let grace = Duration::from_secs(serve.shutdown_grace_seconds);
    let shutdown = async move {
        shutdown::signal().await;
        say("Portico is shutting down.");
        let _ = stop.send(true);
    };
    // Requests and workers are given the same grace, from the same signal.
    let stop_workers = async move {
        shutdown::stopped(stopping).await;
        let all_stopped = async { while workers.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all_stopped).await.is_err() {
            tracing::warn!(
                "background workers still busy after {} s; they are cut off",
                grace.as_secs()
            );
        }
    };
    tokio::join!(
        connections::serve(listener, router, limits, shutdown, grace),
        stop_workers
    );
    Ok(())
}

fn connection_limits(config: &config::Connections) -> connections::Limits {
    let wanted = usize::try_from(config.max_connections).unwrap_or(usize::MAX);
    let max_connections = connections::connections_that_fit(wanted);
    if max_connections < wanted {
        tracing::warn!(
            "serving at most {max_connections} connections at once, not {wanted}: \
             the limit of open files is lower (ulimit -n)"
        );
    }
    connections::Limits {
        header: Duration::from_secs(config.header_timeout_seconds),
        body: Duration::from_secs(config.body_timeout_seconds),
        idle: Duration::from_secs(config.connection_idle_seconds),
        max_connections,
    }
}

/// Removes what has outlived its use (ended sessions, expired codes, tokens, redemptions,
/// old sent mail) and applies the rules that act as time passes (audit retention, access
/// reviews, guests' access periods: `domain::sweeper::lifecycle`) every ten minutes, until
/// Portico stops.
async fn sweep(store: Store, policy: SessionPolicy, public_url: String, stopping: Stopping) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    let stopped = shutdown::stopped(stopping);
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut stopped => return,
        }
        if let Err(error) = domain::sweeper::sweep(&store, &policy, app::server::now()).await {
            tracing::warn!(%error, "could not remove what has outlived its use");
        }
        match domain::sweeper::lifecycle(&store, &public_url, app::server::now()).await {
            Ok(done) if done != domain::sweeper::Lifecycle::default() => tracing::info!(
                pruned = done.pruned,
                noticed = done.guests.noticed,
                ended = done.guests.ended,
                deleted = done.guests.deleted,
                reviews_applied = done.reviews_applied,
                "rules that act as time passes"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "could not apply the rules that act as time passes")
            }
        }
    }
}
