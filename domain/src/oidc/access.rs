//! Who may sign in to an app: the one check behind every authorization request. The person
//! must have a user in the app's tenant (a member, or a guest who accepted), enabled, and
//! assigned when the app requires assignment; then the tenant's conditional-access
//! policies have their say. Every attempt is recorded as a sign-in event.

use crate::sessions::SignedIn;
use crate::store::oidc::{Client, NewSignIn, Subject};

/// What conditional access asks of a sign-in that the directory allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyOutcome {
    Allow,
    /// A second factor is required first (by the named policy).
    RequireMfa {
        policy: String,
    },
    /// Refused (by the named policy).
    Block {
        policy: String,
    },
}

/// Why a person may not sign in to an app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The person has no user in the app's organization, or has not accepted its invitation.
    NoAccount,
    /// Their user there is disabled.
    Disabled,
    /// The app is only for assigned users and groups, and they are not among them.
    NotAssigned,
    /// A conditional-access policy blocks it.
    Blocked { policy: String },
    /// A conditional-access policy requires a second factor, which this sign-in lacks.
    MfaRequired { policy: String },
}

impl Refusal {
    /// Why, in words for the person and the sign-in log.
    pub fn describe(&self, tenant: &str) -> String {
        match self {
            Refusal::NoAccount => format!(
                "You have no account in {tenant} that you could use here, or you have not accepted its invitation yet."
            ),
            Refusal::Disabled => format!("Your account in {tenant} is disabled."),
            Refusal::NotAssigned => {
                "You have not been given this app. Ask its owner or an administrator to assign it to you.".into()
            }
            Refusal::Blocked { policy } => {
                format!("The organization's policy \u{201c}{policy}\u{201d} blocks this sign-in.")
            }
            Refusal::MfaRequired { policy } => format!(
                "The organization's policy \u{201c}{policy}\u{201d} requires a second factor, which this sign-in did not use."
            ),
        }
    }
}

/// The tenant's conditional-access policies for this sign-in. The tenant has none to
/// evaluate until policies are built, so every sign-in the directory allows goes through.
fn conditional_access(_subject: &Subject, _client: &Client) -> PolicyOutcome {
    PolicyOutcome::Allow
}

/// The decision about the person's user in the app's tenant (`None` when they have none
/// there). The caller records it with [`record`] in the transaction that acts on it.
pub fn decide(subject: Option<&Subject>, client: &Client) -> Result<Subject, Refusal> {
    match subject {
        None => Err(Refusal::NoAccount),
        Some(s) if !s.enabled || !s.holder_enabled => Err(Refusal::Disabled),
        Some(s) if client.assignment_required && !s.assigned => Err(Refusal::NotAssigned),
        Some(s) => match conditional_access(s, client) {
            PolicyOutcome::Allow => Ok(s.clone()),
            PolicyOutcome::Block { policy } => Err(Refusal::Blocked { policy }),
            PolicyOutcome::RequireMfa { policy } => Err(Refusal::MfaRequired { policy }),
        },
    }
}

/// How a refused sign-in is shown in the log when who tried may not be recorded.
pub const UNIDENTIFIED: &str = "Someone with no user here";

/// The sign-in event recording a decision: allowed (`reason` "Allowed") or refused (the
/// refusal in words). Who tried is recorded only when they have a user in the app's
/// organization and the attempt was not silent (`prompt=none`): otherwise any
/// organization could register an app and learn, from its own log, who visits a page of
/// theirs while signed in here.
pub fn sign_in_event<'a>(
    person: &'a SignedIn,
    client: &'a Client,
    subject: Option<&'a Subject>,
    reason: &'a str,
    success: bool,
    silent: bool,
) -> NewSignIn<'a> {
    let known = subject.filter(|_| !silent);
    NewSignIn {
        tenant_id: &client.tenant_id,
        user_id: known.map(|s| s.id.as_str()),
        user_name: known.map_or(UNIDENTIFIED, |s| s.display_name.as_str()),
        user_email: known.map_or("", |s| s.email.as_str()),
        app_id: &client.id,
        app_name: &client.name,
        success,
        reason,
        ip: known.and(person.principal.ip.as_deref()),
    }
}
