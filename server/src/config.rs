//! Command-line flags and environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Portico: B2B collaboration. Invite partners as guests and give them your apps.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub storage: Storage,

    /// How much to log: error, warn, info, debug or trace.
    #[arg(long, env = "PORTICO_LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: tracing::Level,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Storage {
    /// Folder for Portico's data; the SQLite database lives here unless --database-url says otherwise.
    #[arg(long, env = "PORTICO_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database to use, e.g. sqlite://data/portico.db. Default: portico.db in the data folder.
    #[arg(long, env = "PORTICO_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
}

impl Storage {
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("portico.db").display()))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve(Serve),
    /// Organizations (tenants).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Users of an organization.
    #[command(subcommand)]
    User(UserCommand),
    /// Groups of an organization.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Apps of an organization.
    #[command(subcommand)]
    App(AppCommand),
    /// Mail Portico has written (all organizations, in full).
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// The keys that sign ID tokens (all organizations).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Invite everyone in a CSV file as guests (email address, then optionally display name,
    /// redirect address, personal message, sponsors). Each line is reported; bad lines
    /// change nothing.
    Invite(InviteArgs),
    /// An organization's audit trail, a hash chain: export it, verify it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The database itself: move an instance to PostgreSQL.
    #[command(subcommand)]
    Db(DbCommand),
    /// Apply once, in every organization, the rules a running server applies every ten
    /// minutes as time passes — prune audit and sign-in events past the retention setting,
    /// apply the access reviews that ended and send their reminders, tell sponsors whose
    /// guests' access ends soon, end the access whose end has come and delete guests whose
    /// grace period is over — and say what was done.
    Lifecycle {
        /// How people reach Portico, for the links in the mail.
        #[arg(long, env = "PORTICO_PUBLIC_URL")]
        public_url: String,
        /// Apply them as of this moment (Unix seconds) instead of now: to see ahead what is
        /// due, and for tests. What they do is real and audited.
        #[arg(long)]
        as_of: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy everything in the SQLite database (the one --data-dir or --database-url names)
    /// into an empty PostgreSQL database, in one transaction: all of it or, on any error,
    /// nothing. The PostgreSQL database must exist; Portico's tables are made in it first,
    /// and it is refused if they hold any row. Stop Portico before copying, then start it
    /// with --database-url set to the new database and the same data folder (its secret.key
    /// opens the sealed secrets, which are copied sealed). Not copied, as they live minutes:
    /// sessions (everyone signs in again), flash messages, authorization codes, waiting
    /// authorization requests, passkey ceremonies and partner sign-ins under way. Each
    /// organization's audit trail records the copy.
    Copy {
        /// The PostgreSQL database to copy into, e.g. postgres://portico@db.example/portico.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write an organization's audit events, oldest first, as JSON Lines: one event a line,
    /// with the hash of the event before it and its own.
    Export {
        #[arg(long)]
        tenant: String,
        /// The file to write; - for standard output.
        #[arg(long, default_value = "-")]
        out: std::path::PathBuf,
    },
    /// Check a chain and name the first event that was altered, is missing or out of order:
    /// an export (FILE; read without the database), or with --tenant an organization's
    /// events in the database.
    Verify {
        /// An export made by `portico audit export`; - for standard input.
        #[arg(required_unless_present = "tenant", conflicts_with = "tenant")]
        file: Option<std::path::PathBuf>,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    #[arg(long)]
    pub tenant: String,
    /// The CSV file, or - for standard input.
    #[arg(long)]
    pub file: std::path::PathBuf,
    /// Do not mail the invitations (hand the links over yourself; they are printed).
    #[arg(long)]
    pub no_mail: bool,
    /// How people reach Portico, for the links in the invitations.
    #[arg(long, env = "PORTICO_PUBLIC_URL")]
    pub public_url: String,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key; the old one stays published until its tokens have expired.
    /// Running servers switch to the new key within seconds.
    Rotate {
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// The newest mail first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Args)]
pub struct Serve {
    /// Address and port to listen on.
    #[arg(long, env = "PORTICO_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// The address people use to reach Portico, e.g. https://portico.example.com. When it
    /// starts with https, cookies are marked Secure and browsers are told to use https
    /// only (Strict-Transport-Security). Forms are accepted only from this origin. Default:
    /// http:// and the listen address.
    #[arg(long, env = "PORTICO_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Folder with the built site (CSS, JavaScript, WebAssembly), as cargo-leptos writes it.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Requests a minute each organization may make to the Graph-compatible API (`/v1.0`),
    /// in bursts of as many; past it, 429 with Retry-After. 0 turns the limit off. Counted
    /// in each process: behind several replicas, each allows this many.
    #[arg(
        long,
        env = "PORTICO_GRAPH_REQUESTS_PER_MINUTE",
        default_value_t = 6000
    )]
    pub graph_requests_per_minute: u32,

    /// Minutes after which an unused session ends.
    #[arg(long, env = "PORTICO_IDLE_TIMEOUT_MINUTES", default_value_t = 480)]
    pub idle_timeout_minutes: i64,

    /// Hours after which every session ends, used or not.
    #[arg(long, env = "PORTICO_SESSION_HOURS", default_value_t = 24)]
    pub session_hours: i64,

    /// Let partners' identity providers run on this machine's loopback (plain http allowed
    /// there). For development and tests only: otherwise Portico calls providers over https,
    /// and never addresses inside private networks.
    #[arg(long, env = "PORTICO_ALLOW_LOOPBACK_PROVIDERS")]
    pub allow_loopback_providers: bool,

    /// The key that seals the client secrets partners' providers gave Portico (32 bytes,
    /// made at first start). Keep it apart from the database's backups: without it, a copy
    /// of the database reads none of them. Default: secret.key in the data folder.
    #[arg(long, env = "PORTICO_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Reverse proxies in front of Portico whose forwarding header names the client:
    /// addresses or blocks, comma-separated, e.g. 127.0.0.1,::1 for one on this machine.
    /// Requests from anywhere else count as coming from their own address, whatever they send.
    #[arg(long, env = "PORTICO_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<domain::proxies::Cidr>,

    /// The header those proxies write the client's address into: x-forwarded-for, or
    /// forwarded (RFC 7239). Only this one is read: a proxy passes the other on as the
    /// client sent it.
    #[arg(
        long,
        env = "PORTICO_FORWARDING_HEADER",
        value_enum,
        default_value = "x-forwarded-for"
    )]
    pub forwarding_header: ForwardingHeader,

    #[command(flatten)]
    pub connections: Connections,

    #[command(flatten)]
    pub smtp: Smtp,

    /// Seconds that requests in flight and the background workers have to finish after
    /// SIGTERM or Ctrl-C (new connections are refused at once); then Portico exits anyway.
    #[arg(long, env = "PORTICO_SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,

    /// Serve figures in Prometheus's text format at /metrics on this address, e.g.
    /// 127.0.0.1:9464; never on the public one. Off unless given.
    #[arg(long, env = "PORTICO_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ForwardingHeader {
    XForwardedFor,
    Forwarded,
}

/// How long clients may take and how many connections are open at once, so that slow or
/// half-sent requests cannot hold every socket.
#[derive(Debug, Args)]
pub struct Connections {
    /// Seconds a client has to send a request's header. Waiting for the next request on a
    /// kept-alive connection counts too: an idle connection is closed after this long.
    #[arg(long, env = "PORTICO_HEADER_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_seconds: u64,

    /// Seconds a client has to send a request's body, counted from the end of its header.
    #[arg(long, env = "PORTICO_BODY_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_seconds: u64,

    /// Seconds a connection stays open with nothing sent or received either way (a client
    /// that stops reading its answer, say).
    #[arg(long, env = "PORTICO_CONNECTION_IDLE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub connection_idle_seconds: u64,

    /// Connections open at once, at most; fewer when the limit of open files is lower. A
    /// new connection that finds them all taken closes the one that has waited longest
    /// for a request.
    #[arg(long, env = "PORTICO_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
}

/// How mail leaves: without --smtp-host it stays in the outbox for administrators to see.
#[derive(Debug, Args)]
pub struct Smtp {
    /// The SMTP server that delivers Portico's mail.
    #[arg(long, env = "PORTICO_SMTP_HOST")]
    pub smtp_host: Option<String>,

    #[arg(long, env = "PORTICO_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,

    /// none (plain, for a relay on this machine), starttls, or tls (implicit, port 465).
    #[arg(long, env = "PORTICO_SMTP_TLS", value_enum, default_value = "starttls")]
    pub smtp_tls: SmtpTls,

    #[arg(long, env = "PORTICO_SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    /// Prefer the environment variable: flags show in process lists.
    #[arg(long, env = "PORTICO_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,

    /// The sender of Portico's mail.
    #[arg(
        long,
        env = "PORTICO_MAIL_FROM",
        default_value = "Portico <portico@localhost>"
    )]
    pub mail_from: String,

    /// Seconds before the first retry of a failed delivery; each further failure doubles it (at most an hour).
    #[arg(long, env = "PORTICO_MAIL_RETRY_SECONDS", default_value_t = 30)]
    pub mail_retry_seconds: i64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

/// Options every directory command has.
#[derive(Debug, Args)]
pub struct Output {
    /// Print the result as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create an organization.
    Create {
        #[arg(long)]
        name: String,
        /// Its primary domain, e.g. example.com.
        #[arg(long)]
        domain: String,
        #[command(flatten)]
        output: Output,
    },
    /// Give an organization another domain for its members' addresses (with its
    /// subdomains). Check first that the organization owns it.
    AddDomain(DomainArgs),
    /// Take a domain from an organization (not its primary domain, nor one its members
    /// still have addresses at).
    RemoveDomain(DomainArgs),
}

#[derive(Debug, Args)]
pub struct DomainArgs {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub domain: String,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    GlobalAdministrator,
    UserAdministrator,
    GuestInviter,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a member. The password is read from the first line of standard input.
    Create {
        /// The organization: its id, slug or primary domain.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Roles to give the new user (repeat for several).
        #[arg(long = "role", value_enum)]
        roles: Vec<RoleArg>,
        #[command(flatten)]
        output: Output,
    },
    /// Create members in bulk from a file with one `email,display name` a line (no header).
    /// They have no password until an administrator sets one.
    Import {
        #[arg(long)]
        tenant: String,
        /// The file to read; `-` for standard input.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        output: Output,
    },
    /// Add a user (email or id) to a group (name or id), as member or with --owner as owner.
    AddMember {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        group: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        owner: bool,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an app.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Where its tile takes people.
        #[arg(long)]
        launch_url: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, default_value = "")]
        logo_url: String,
        /// Everyone in the organization may use it, without assignment.
        #[arg(long)]
        open_to_all: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Set how an app (name or id) signs people in through Portico's OpenID Connect
    /// endpoints: client type and the addresses it may be sent back to.
    SignIn {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        app: String,
        /// confidential (a server that keeps a secret) or public (must use PKCE).
        #[arg(long, default_value = "confidential")]
        client_type: String,
        /// How its ID tokens are signed: RS256 or ES256.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
        /// A redirect address, matched exactly (a public client's http loopback address on any
        /// port); repeat for several.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// An address to return to after signing out; repeat for several.
        #[arg(long = "post-logout-uri")]
        post_logout_uris: Vec<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Make a new client secret for an app (name or id) and print it, this once; the old
    /// one stops working.
    Secret {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        app: String,
        #[command(flatten)]
        output: Output,
    },
    /// Assign an app (name or id) to a user (email or id) or a group (name or id).
    Assign {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        app: String,
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        user: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        output: Output,
    },
}
