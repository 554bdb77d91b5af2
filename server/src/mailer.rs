//! Delivers the outbox over SMTP: a worker claims due mail, hands each to the mail server
//! and records the answer. A failure waits and tries again, doubling the wait each time; a
//! mail the server accepted is marked sent and never sent again. Without SMTP configured
//! the worker does not run: mail stays in the outbox, where administrators see it.

use std::time::Duration;

use domain::Store;
use domain::outbox::Due;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Smtp, SmtpTls};
use crate::shutdown::Stopping;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retry_base: i64,
}

impl Mailer {
    /// `None` when no SMTP host is configured.
    pub fn from_config(config: &Smtp) -> Result<Option<Mailer>, String> {
        let Some(host) = config.smtp_host.as_deref() else {
            return Ok(None);
        };
        let from: Mailbox = config.mail_from.parse().map_err(|e| {
            format!(
                "--mail-from '{}' is not a mail address: {e}",
                config.mail_from
            )
        })?;
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
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            retry_base: config.mail_retry_seconds.max(1),
        }))
    }

    async fn deliver(&self, mail: &Due) -> Result<(), String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| format!("bad recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                mail.html_body.clone(),
            ))
            .map_err(|e| format!("cannot build the mail: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Delivers what is due, then looks again a second later, until Portico stops: the
    /// mail being handed over then is finished, the rest waits for the next start.
    pub async fn run(self, store: Store, stopping: Stopping) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let stopped = crate::shutdown::stopped(stopping.clone());
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = &mut stopped => return,
            }
            let due = match domain::outbox::claim_due(&store, app::server::now(), 50).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the outbox");
                    continue;
                }
            };
            for mail in due {
                if *stopping.borrow() {
                    // Claimed but not tried: its lease runs out and it is due again.
                    return;
                }
                let now = app::server::now();
                let outcome = match self.deliver(&mail).await {
                    Ok(()) => domain::outbox::mark_sent(&store, mail.id, now).await,
                    Err(error) => {
                        tracing::warn!(mail = mail.id, to = %mail.recipient, %error, "mail not delivered; will try again");
                        domain::outbox::mark_failed(&store, &mail, &error, self.retry_base, now)
                            .await
                    }
                };
                if let Err(error) = outcome {
                    tracing::warn!(mail = mail.id, %error, "cannot record a delivery attempt");
                }
            }
        }
    }
}
