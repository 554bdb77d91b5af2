//! Who may sign in to an app: the one check behind every authorization request. The person
//! must have a user in the app's tenant (a member, or a guest who accepted), enabled, and
//! assigned when the app requires assignment; then the tenant's conditional-access
//! policies have their say ([`crate::conditional_access`]). Every attempt is recorded as
//! a sign-in event, with each policy's result.

use crate::conditional_access::{Decision, Evaluation, Need};
use crate::sessions::SignedIn;
use crate::store::oidc::{Client, NewSignIn, Subject};

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
    /// A conditional-access policy requires a passkey, which this sign-in did not use.
    PasskeyRequired { policy: String },
    /// A conditional-access policy asks for a sign-in more recent than this one.
    SignInAgain { policy: String },
    /// A conditional-access policy asks the person to accept the terms of use `terms`
    /// (an id), which they have not (in the version in force).
    TermsRequired { policy: String, terms: String },
    /// The organization's cross-tenant access settings keep out people from the person's
    /// home organization or identity provider.
    PartnerBlocked,
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
            Refusal::PasskeyRequired { policy } => format!(
                "The organization's policy \u{201c}{policy}\u{201d} requires a passkey, which this sign-in did not use."
            ),
            Refusal::SignInAgain { policy } => format!(
                "The organization's policy \u{201c}{policy}\u{201d} asks you to sign in again."
            ),
            Refusal::TermsRequired { policy, .. } => format!(
                "The organization's policy \u{201c}{policy}\u{201d} asks you to accept its terms of use first."
            ),
            Refusal::PartnerBlocked => format!(
                "{tenant} does not accept people from your organization or identity provider now."
            ),
        }
    }
}

/// The directory's decision about the person's user in the app's tenant (`None` when they
/// have none there), before conditional access.
pub fn decide(subject: Option<&Subject>, client: &Client) -> Result<Subject, Refusal> {
    match subject {
        None => Err(Refusal::NoAccount),
        Some(s) if !s.enabled || !s.holder_enabled => Err(Refusal::Disabled),
        Some(s) if client.assignment_required && !s.assigned => Err(Refusal::NotAssigned),
        Some(s) => Ok(s.clone()),
    }
}

impl Refusal {
    /// What a conditional-access decision refuses, or asks first (`None`: allowed).
    pub fn of(decision: &Decision) -> Option<Refusal> {
        match decision {
            Decision::Allow => None,
            Decision::Block { policy } => Some(Refusal::Blocked {
                policy: policy.clone(),
            }),
            Decision::StepUp { policy, need } => Some(match need {
                Need::SecondFactor => Refusal::MfaRequired {
                    policy: policy.clone(),
                },
                Need::PhishingResistant => Refusal::PasskeyRequired {
                    policy: policy.clone(),
                },
                Need::SignInAgain => Refusal::SignInAgain {
                    policy: policy.clone(),
                },
                // Never made by `evaluate`, which asks for terms with their id
                // (Decision::AcceptTerms); refused rather than let through.
                Need::AcceptTerms => Refusal::Blocked {
                    policy: policy.clone(),
                },
            }),
            Decision::AcceptTerms { policy, terms } => Some(Refusal::TermsRequired {
                policy: policy.clone(),
                terms: terms.clone(),
            }),
        }
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
    policies: &'a PolicyLog,
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
        ca_status: policies.status,
        ca_policies: &policies.results,
    }
}

/// Conditional access's part of a sign-in event: the enforced status and each policy's
/// result, as JSON.
#[derive(Clone, Debug)]
pub struct PolicyLog {
    pub status: &'static str,
    pub results: String,
}

impl PolicyLog {
    /// Nothing was evaluated (the directory refused first, or no policy is in force).
    pub fn none() -> PolicyLog {
        PolicyLog {
            status: "notApplied",
            results: "[]".into(),
        }
    }

    pub fn of(evaluation: &Evaluation) -> PolicyLog {
        PolicyLog {
            status: evaluation.status(),
            results: serde_json::to_string(&evaluation.results).unwrap_or_else(|_| "[]".into()),
        }
    }
}
