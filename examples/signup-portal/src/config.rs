//! Flags, each also read from an environment variable.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SmtpTls {
    /// Plain SMTP (a mail server on this machine).
    None,
    Starttls,
    Tls,
}

/// A self-service sign-up portal for partners of an organization in Portico.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Config {
    /// Where the portal listens.
    #[arg(long, env = "PORTAL_LISTEN", default_value = "127.0.0.1:4200")]
    pub listen: String,
    /// The portal's own address as people reach it (default: http://{listen}). Portico
    /// sends approvers back to {this}/callback.
    #[arg(long, env = "PORTAL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Portico's public address, e.g. https://portico.contoso.com.
    #[arg(long, env = "PORTICO_URL")]
    pub portico_url: String,
    /// The organization in Portico: its primary domain (or id).
    #[arg(long, env = "PORTICO_TENANT")]
    pub tenant: String,
    /// The organization's name, as the portal's pages and mail say it.
    #[arg(long, env = "PORTAL_ORGANIZATION")]
    pub organization: String,
    /// The client id of the portal's app in Portico (used to sign approvers in and to call
    /// the API).
    #[arg(long, env = "PORTAL_CLIENT_ID")]
    pub client_id: String,
    /// That app's client secret.
    #[arg(long, env = "PORTAL_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: String,
    /// The Portico group whose members may approve requests (its name or id).
    #[arg(long, env = "PORTAL_APPROVERS_GROUP")]
    pub approvers_group: String,
    /// The rules file (JSON; see the README).
    #[arg(long, env = "PORTAL_RULES")]
    pub rules: PathBuf,
    /// The portal's SQLite database (made if missing).
    #[arg(long, env = "PORTAL_DATABASE", default_value = "signup-portal.db")]
    pub database: PathBuf,
    /// Where invited partners land after accepting (default: Portico's own address, where
    /// their apps are).
    #[arg(long, env = "PORTAL_INVITE_REDIRECT_URL")]
    pub invite_redirect_url: Option<String>,
    /// The terms partners accept, linked from the form.
    #[arg(long, env = "PORTAL_TERMS_URL")]
    pub terms_url: Option<String>,
    /// The SMTP server that carries the portal's mail to requesters.
    #[arg(long, env = "PORTAL_SMTP_HOST")]
    pub smtp_host: String,
    #[arg(long, env = "PORTAL_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// How to talk to the SMTP server.
    #[arg(long, env = "PORTAL_SMTP_TLS", value_enum, default_value = "starttls")]
    pub smtp_tls: SmtpTls,
    /// Sign in to the SMTP server with this name (and --smtp-password).
    #[arg(long, env = "PORTAL_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    #[arg(long, env = "PORTAL_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender of the portal's mail.
    #[arg(long, env = "PORTAL_MAIL_FROM")]
    pub mail_from: String,
}
