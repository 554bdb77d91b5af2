//! Mail to requesters over SMTP: that their request waits for review, or was denied.
//! (Invitations are mailed by Portico itself.)

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, SmtpTls};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &Config) -> Result<Mailer, String> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| {
            format!(
                "--mail-from '{}' is not a mail address: {e}",
                config.mail_from
            )
        })?;
        let host = config.smtp_host.as_str();
        let builder = match config.smtp_tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("cannot use {host} with STARTTLS: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("cannot use {host} with TLS: {e}"))?,
        };
        let mut builder = builder
            .port(config.smtp_port)
            .timeout(Some(Duration::from_secs(20)));
        if let Some(user) = &config.smtp_username {
            let password = config.smtp_password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Hands a plain-text mail to the SMTP server.
    pub async fn send(&self, to: &str, subject: &str, text: String) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("bad address {to}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(text)
            .map_err(|e| format!("cannot build the mail: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("the mail server refused the mail: {e}"))
    }
}

/// The mail that says a request waits for an approver.
pub fn queued(organization: &str, name: &str) -> (String, String) {
    (
        format!("Your request to join {organization} is waiting for review"),
        format!(
            "Hello {name},\n\nThank you for your request to work with {organization}. \
             Someone at {organization} will review it; you will get an invitation by mail \
             if it is approved, or a mail saying it was not.\n"
        ),
    )
}

/// The mail that says a request was denied, with the approver's comment if any.
pub fn denied(organization: &str, name: &str, comment: &str) -> (String, String) {
    let mut text =
        format!("Hello {name},\n\nYour request to work with {organization} was not approved.\n");
    if !comment.trim().is_empty() {
        text.push_str(&format!("\nThe reviewer wrote:\n{}\n", comment.trim()));
    }
    (
        format!("Your request to join {organization} was not approved"),
        text,
    )
}
