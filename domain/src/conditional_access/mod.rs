//! Conditional access: an organization's policies over sign-ins to its apps and to Portico
//! itself (the access panel and the admin console).
//!
//! A policy applies to a sign-in when every condition it sets matches: who (everyone, all
//! guests, chosen users, groups or roles, minus exclusions, which win), which app, and
//! from where (address ranges). Every applicable policy that is on must be satisfied; a
//! block in any of them wins. Policies in report-only are evaluated and their results
//! recorded, but never enforced. The evaluation is one pure function, [`evaluate`], over
//! a [`SignIn`]: the sign-in endpoint, token refresh and What If all call it.

pub mod form;
mod manage;
mod network;

pub use manage::{
    Attempt, NewPolicy, Verdict, asking_second_factor, check, create, delete, for_portico, get,
    in_force, in_force_of, list, set_state, update, what_if,
};
pub use network::AddressRange;

use serde::{Deserialize, Serialize};
use types::{Role, UserType};

/// Whether a policy is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyState {
    On,
    Off,
    /// Evaluated and recorded in the sign-in log, never enforced.
    ReportOnly,
}

impl PolicyState {
    pub const ALL: [PolicyState; 3] = [PolicyState::On, PolicyState::ReportOnly, PolicyState::Off];

    /// As stored, and as Microsoft Graph's `state` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyState::On => "enabled",
            PolicyState::Off => "disabled",
            PolicyState::ReportOnly => "enabledForReportingButNotEnforced",
        }
    }

    pub fn parse(text: &str) -> Option<PolicyState> {
        PolicyState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            PolicyState::On => "On",
            PolicyState::Off => "Off",
            PolicyState::ReportOnly => "Report-only",
        }
    }
}

/// People a policy names, to include or to exclude.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct People {
    /// Everyone, guests included (only to include).
    pub everyone: bool,
    /// All guests and external users.
    pub guests: bool,
    /// Users by id.
    pub users: Vec<String>,
    /// Members of these groups, by id.
    pub groups: Vec<String>,
    /// Holders of these roles.
    pub roles: Vec<Role>,
}

impl People {
    fn is_empty(&self) -> bool {
        !self.everyone
            && !self.guests
            && self.users.is_empty()
            && self.groups.is_empty()
            && self.roles.is_empty()
    }

    fn names(&self, person: &Person<'_>) -> bool {
        self.everyone
            || (self.guests && person.user_type == UserType::Guest)
            || self.users.iter().any(|u| u == person.user_id)
            || self.groups.iter().any(|g| person.groups.contains(g))
            || self.roles.iter().any(|r| person.roles.contains(r))
    }
}

/// Apps a policy names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Apps {
    /// Every app of the organization, and Portico itself.
    pub all: bool,
    /// Apps by id.
    pub apps: Vec<String>,
    /// Portico itself: the access panel and the admin console.
    pub portico: bool,
}

impl Apps {
    fn is_empty(&self) -> bool {
        !self.all && self.apps.is_empty() && !self.portico
    }

    fn names(&self, target: &Target<'_>) -> bool {
        match target {
            Target::App(id) => self.all || self.apps.iter().any(|a| a == id),
            Target::Portico => self.all || self.portico,
        }
    }
}

/// What a policy asks of the sign-ins it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grant {
    /// Refused.
    Block,
    /// Allowed with these controls and terms of use (by id) accepted: all of them, or any
    /// one (`all` false).
    Require {
        all: bool,
        controls: Vec<Control>,
        #[serde(default)]
        terms: Vec<String>,
    },
}

/// A control a policy can require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Control {
    /// A second factor (two kinds of factor, or a registered second factor on top of the
    /// first), or a partner's multi-factor sign-in where the partner is trusted for it.
    Mfa,
    /// A passkey.
    PhishingResistantMfa,
}

impl Control {
    pub const ALL: [Control; 2] = [Control::Mfa, Control::PhishingResistantMfa];

    /// As Microsoft Graph names it (`builtInControls`, or the authentication strength).
    pub fn as_str(self) -> &'static str {
        match self {
            Control::Mfa => "mfa",
            Control::PhishingResistantMfa => "phishingResistantMfa",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Control::Mfa => "Require a second factor",
            Control::PhishingResistantMfa => "Require a phishing-resistant second factor (passkey)",
        }
    }
}

/// Everything a policy says besides its name and state (stored as one JSON document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub include: People,
    #[serde(default)]
    pub exclude: People,
    pub apps: Apps,
    /// Apps left out, by id.
    #[serde(default)]
    pub exclude_apps: Vec<String>,
    /// Where sign-ins come from: only these ranges when any are given...
    #[serde(default)]
    pub locations: Vec<AddressRange>,
    /// ...and never these.
    #[serde(default)]
    pub exclude_locations: Vec<AddressRange>,
    pub grant: Grant,
    /// Sign in again after this many hours (a session control).
    #[serde(default)]
    pub sign_in_frequency_hours: Option<u32>,
}

impl People {
    /// In words, for lists and the audit log.
    fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.everyone {
            parts.push("everyone".into());
        }
        if self.guests {
            parts.push("guests".into());
        }
        let count = |n: usize, one: &str, many: &str| match n {
            0 => None,
            1 => Some(format!("1 {one}")),
            n => Some(format!("{n} {many}")),
        };
        parts.extend(count(self.users.len(), "user", "users"));
        parts.extend(count(self.groups.len(), "group", "groups"));
        parts.extend(count(self.roles.len(), "role", "roles"));
        parts.join(", ")
    }
}

impl Rules {
    /// In words: whom, which apps, where, and what is asked.
    pub fn summary(&self) -> String {
        let mut who = self.include.summary();
        let except = self.exclude.summary();
        if !except.is_empty() {
            who.push_str(&format!(" except {except}"));
        }
        let mut apps: Vec<String> = Vec::new();
        if self.apps.all {
            apps.push("all apps".into());
        } else {
            match self.apps.apps.len() {
                0 => {}
                1 => apps.push("1 app".into()),
                n => apps.push(format!("{n} apps")),
            }
            if self.apps.portico {
                apps.push("Portico".into());
            }
        }
        let mut text = format!("{who}; {}", apps.join(", "));
        if !self.exclude_apps.is_empty() {
            text.push_str(&format!(" except {} app(s)", self.exclude_apps.len()));
        }
        if !self.locations.is_empty() {
            text.push_str(&format!("; from {} range(s)", self.locations.len()));
        }
        if !self.exclude_locations.is_empty() {
            text.push_str(&format!(
                "; not from {} range(s)",
                self.exclude_locations.len()
            ));
        }
        let grant = match &self.grant {
            Grant::Block => "block".to_string(),
            Grant::Require {
                all,
                controls,
                terms,
            } => {
                let mut names: Vec<&str> = controls
                    .iter()
                    .map(|c| match c {
                        Control::Mfa => "a second factor",
                        Control::PhishingResistantMfa => "a passkey",
                    })
                    .collect();
                if !terms.is_empty() {
                    names.push("accepted terms of use");
                }
                names.join(if *all { " and " } else { " or " })
            }
        };
        if !grant.is_empty() {
            text.push_str(&format!("; {grant}"));
        }
        if let Some(hours) = self.sign_in_frequency_hours {
            text.push_str(&format!("; sign in again after {hours} h"));
        }
        text
    }
}

/// A policy as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub state: PolicyState,
    pub rules: Rules,
    pub created_at: i64,
    pub modified_at: i64,
}

/// The sign-in's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// An app of the organization, by id.
    App(&'a str),
    /// Portico itself.
    Portico,
}

/// Who signs in, as policies see them: their user in the organization.
#[derive(Clone, Copy, Debug)]
pub struct Person<'a> {
    pub user_id: &'a str,
    pub user_type: UserType,
    /// Ids of the groups the user is in.
    pub groups: &'a [String],
    pub roles: &'a [Role],
}

/// A sign-in, as policies see it.
#[derive(Clone, Copy, Debug)]
pub struct SignIn<'a> {
    pub person: Person<'a>,
    pub target: Target<'a>,
    /// The client's address, when known.
    pub ip: Option<std::net::IpAddr>,
    /// The session showed two factors (here, or at a partner trusted for it).
    pub mfa: bool,
    /// The session used a passkey.
    pub phishing_resistant: bool,
    /// The terms of use (ids) whose version in force the person accepted.
    pub accepted_terms: &'a [String],
    /// When the person last proved who they are (Unix seconds).
    pub auth_time: i64,
    pub now: i64,
}

/// A policy's result for one sign-in, as the sign-in log records it (Microsoft Graph's
/// `appliedConditionalAccessPolicy.result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Success,
    Failure,
    NotApplied,
    ReportOnlySuccess,
    ReportOnlyFailure,
    ReportOnlyNotApplied,
    /// The policy is off (What If only; the sign-in log leaves off policies out).
    NotEnabled,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::NotApplied,
        Outcome::ReportOnlySuccess,
        Outcome::ReportOnlyFailure,
        Outcome::ReportOnlyNotApplied,
        Outcome::NotEnabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::NotApplied => "notApplied",
            Outcome::ReportOnlySuccess => "reportOnlySuccess",
            Outcome::ReportOnlyFailure => "reportOnlyFailure",
            Outcome::ReportOnlyNotApplied => "reportOnlyNotApplied",
            Outcome::NotEnabled => "notEnabled",
        }
    }
}

/// Why a policy does not apply: the first condition the sign-in does not meet, in the
/// order they are checked (Microsoft Graph's What If `analysisReasons`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NotApplied {
    PolicyNotEnabled,
    Users,
    Application,
    Location,
}

impl NotApplied {
    /// In words, for What If.
    pub fn describe(self) -> &'static str {
        match self {
            NotApplied::PolicyNotEnabled => "The policy is off.",
            NotApplied::Users => "The user is not included, or is excluded.",
            NotApplied::Application => "The app is not included, or is excluded.",
            NotApplied::Location => "The address is outside the policy's locations, or excluded.",
        }
    }
}

/// What a sign-in must do to satisfy a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Need {
    /// Prove a second factor.
    SecondFactor,
    /// Use a passkey.
    PhishingResistant,
    /// Sign in again: the session is older than the policy's sign-in frequency.
    SignInAgain,
    /// Accept terms of use.
    AcceptTerms,
}

/// One policy's result for a sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub id: String,
    pub name: String,
    pub result: Outcome,
    /// Why it did not apply (for `notApplied` results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applied: Option<NotApplied>,
    /// The controls it asks for, as Graph names them (`block`, `mfa`,
    /// `phishingResistantMfa`, `signInFrequency`), when it applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// What the sign-in still lacked, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmet: Option<Need>,
}

/// What the policies decide for a sign-in, once evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Refused by the named policy.
    Block {
        policy: String,
    },
    /// The person must do `need` first (sign in again, a second factor, a passkey), then
    /// the sign-in goes on; `policy` is the first that asked.
    StepUp {
        policy: String,
        need: Need,
    },
    /// The person must accept the terms of use `terms` (an id), which the policy named
    /// `policy` asks for, then the sign-in goes on. Asked after any other step.
    AcceptTerms {
        policy: String,
        terms: String,
    },
}

/// Every policy's result and the decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub results: Vec<PolicyResult>,
    pub decision: Decision,
}

impl Evaluation {
    /// The sign-in log's `conditionalAccessStatus`: `success` when an enforced policy
    /// applied and was satisfied, `failure` when one was not, `notApplied` otherwise.
    pub fn status(&self) -> &'static str {
        if self.decision != Decision::Allow {
            "failure"
        } else if self.results.iter().any(|r| r.result == Outcome::Success) {
            "success"
        } else {
            "notApplied"
        }
    }
}

/// Whether any of `policies` not off names groups (so that callers read the person's only
/// then).
fn need_groups(policies: &[Policy]) -> bool {
    policies.iter().any(|p| {
        p.state != PolicyState::Off
            && !(p.rules.include.groups.is_empty() && p.rules.exclude.groups.is_empty())
    })
}

/// Whether any of `policies` not off asks for terms of use (so that callers read the
/// person's acceptances only then).
fn need_terms(policies: &[Policy]) -> bool {
    policies.iter().any(|p| {
        p.state != PolicyState::Off
            && matches!(&p.rules.grant, Grant::Require { terms, .. } if !terms.is_empty())
    })
}

/// Whether any of `policies` not off names roles.
fn need_roles(policies: &[Policy]) -> bool {
    policies.iter().any(|p| {
        p.state != PolicyState::Off
            && !(p.rules.include.roles.is_empty() && p.rules.exclude.roles.is_empty())
    })
}

/// The first condition of `rules` that `sign_in` does not meet, if any.
fn unmet_condition(rules: &Rules, sign_in: &SignIn<'_>) -> Option<NotApplied> {
    let person = &sign_in.person;
    if !rules.include.names(person) || rules.exclude.names(person) {
        return Some(NotApplied::Users);
    }
    let excluded_app = match sign_in.target {
        Target::App(id) => rules.exclude_apps.iter().any(|a| a == id),
        Target::Portico => false,
    };
    if !rules.apps.names(&sign_in.target) || excluded_app {
        return Some(NotApplied::Application);
    }
    let inside = |ranges: &[AddressRange]| {
        sign_in
            .ip
            .is_some_and(|ip| ranges.iter().any(|r| r.contains(ip)))
    };
    // An unknown address is in no range: it meets no included location and escapes no
    // excluded one.
    if (!rules.locations.is_empty() && !inside(&rules.locations))
        || inside(&rules.exclude_locations)
    {
        return Some(NotApplied::Location);
    }
    None
}

/// The grant's and session's controls, as Graph names them.
fn controls(rules: &Rules) -> Vec<String> {
    let mut names: Vec<String> = match &rules.grant {
        Grant::Block => vec!["block".into()],
        Grant::Require {
            controls, terms, ..
        } => {
            let mut names: Vec<String> = controls.iter().map(|c| c.as_str().into()).collect();
            if !terms.is_empty() {
                names.push("termsOfUse".into());
            }
            names
        }
    };
    if rules.sign_in_frequency_hours.is_some() {
        names.push("signInFrequency".into());
    }
    names
}

/// What an applicable policy still needs of the sign-in (`None`: satisfied), and with
/// [`Need::AcceptTerms`] which terms (the first not accepted). A block needs nothing the
/// person could do, and is answered by the caller.
fn unmet_need<'p>(rules: &'p Rules, sign_in: &SignIn<'_>) -> Option<(Need, Option<&'p str>)> {
    if let Some(hours) = rules.sign_in_frequency_hours
        && sign_in.now - sign_in.auth_time > i64::from(hours) * 3600
    {
        return Some((Need::SignInAgain, None));
    }
    let Grant::Require {
        all,
        controls,
        terms,
    } = &rules.grant
    else {
        return None;
    };
    let met = |c: &Control| match c {
        Control::Mfa => sign_in.mfa || sign_in.phishing_resistant,
        Control::PhishingResistantMfa => sign_in.phishing_resistant,
    };
    let need = |c: &Control| match c {
        Control::Mfa => Need::SecondFactor,
        Control::PhishingResistantMfa => Need::PhishingResistant,
    };
    let unaccepted = terms
        .iter()
        .find(|t| !sign_in.accepted_terms.contains(t))
        .map(String::as_str);
    let any_accepted = terms.iter().any(|t| sign_in.accepted_terms.contains(t));
    if *all {
        // The strongest unmet control first (a passkey also gives the second factor);
        // terms of use after every factor, as Entra asks them.
        match controls.iter().filter(|c| !met(c)).map(need).max() {
            Some(need) => Some((need, None)),
            None => unaccepted.map(|t| (Need::AcceptTerms, Some(t))),
        }
    } else if controls.iter().any(met) || any_accepted || (controls.is_empty() && terms.is_empty())
    {
        None
    } else {
        // Any one will do: the first that can be satisfied, a second factor before a
        // passkey, factors before terms.
        match controls.iter().map(need).min() {
            Some(need) => Some((need, None)),
            None => unaccepted.map(|t| (Need::AcceptTerms, Some(t))),
        }
    }
}

/// Evaluates `policies` (all of the organization's; off ones are reported as such) for
/// `sign_in`.
pub fn evaluate(policies: &[Policy], sign_in: &SignIn<'_>) -> Evaluation {
    let mut results = Vec::with_capacity(policies.len());
    let mut block: Option<&str> = None;
    let mut step_up: Option<(&str, Need, Option<&str>)> = None;
    for policy in policies {
        let report_only = policy.state == PolicyState::ReportOnly;
        let not_applied = if policy.state == PolicyState::Off {
            Some(NotApplied::PolicyNotEnabled)
        } else {
            unmet_condition(&policy.rules, sign_in)
        };
        let mut result = PolicyResult {
            id: policy.id.clone(),
            name: policy.name.clone(),
            result: Outcome::NotApplied,
            not_applied,
            controls: Vec::new(),
            unmet: None,
        };
        if let Some(why) = not_applied {
            result.result = match (why, report_only) {
                (NotApplied::PolicyNotEnabled, _) => Outcome::NotEnabled,
                (_, true) => Outcome::ReportOnlyNotApplied,
                (_, false) => Outcome::NotApplied,
            };
            results.push(result);
            continue;
        }
        result.controls = controls(&policy.rules);
        let unmet = if policy.rules.grant == Grant::Block {
            None
        } else {
            unmet_need(&policy.rules, sign_in)
        };
        let failed = policy.rules.grant == Grant::Block || unmet.is_some();
        result.unmet = unmet.map(|(need, _)| need);
        result.result = match (failed, report_only) {
            (false, false) => Outcome::Success,
            (true, false) => Outcome::Failure,
            (false, true) => Outcome::ReportOnlySuccess,
            (true, true) => Outcome::ReportOnlyFailure,
        };
        if !report_only {
            if policy.rules.grant == Grant::Block {
                block = block.or(Some(&policy.name));
            } else if let Some((need, terms)) = unmet {
                // Signing in again comes first (a fresh sign-in may bring the factors
                // too); then the strongest factor asked for; terms of use last.
                let stronger = match step_up {
                    None => true,
                    Some((_, held, _)) => rank(need) > rank(held),
                };
                if stronger {
                    step_up = Some((&policy.name, need, terms));
                }
            }
        }
        results.push(result);
    }
    let decision = match (block, step_up) {
        (Some(policy), _) => Decision::Block {
            policy: policy.to_string(),
        },
        (None, Some((policy, Need::AcceptTerms, Some(terms)))) => Decision::AcceptTerms {
            policy: policy.to_string(),
            terms: terms.to_string(),
        },
        (None, Some((policy, need, _))) => Decision::StepUp {
            policy: policy.to_string(),
            need,
        },
        (None, None) => Decision::Allow,
    };
    Evaluation { results, decision }
}

/// Which need is met first when several policies ask.
fn rank(need: Need) -> u8 {
    match need {
        Need::SignInAgain => 3,
        Need::PhishingResistant => 2,
        Need::SecondFactor => 1,
        Need::AcceptTerms => 0,
    }
}

/// Checks a policy's name and rules: what a person would get wrong in the form, in words.
pub fn validate(name: &str, rules: &Rules) -> std::result::Result<(), Vec<types::FieldError>> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: &str| {
        errors.push(types::FieldError {
            field: field.to_string(),
            message: message.to_string(),
        })
    };
    let name = name.trim();
    if name.is_empty() {
        error("name", "Give the policy a name.");
    } else if name.chars().count() > 200 {
        error("name", "The name is too long (200 characters at most).");
    }
    if rules.include.is_empty() {
        error("users", "Choose whom the policy is for.");
    }
    if rules.exclude.everyone {
        error("exclude", "A policy cannot leave out everyone.");
    }
    if rules.apps.is_empty() {
        error("apps", "Choose which apps the policy is for.");
    }
    if let Grant::Require {
        controls, terms, ..
    } = &rules.grant
        && controls.is_empty()
        && terms.is_empty()
        && rules.sign_in_frequency_hours.is_none()
    {
        error(
            "grant",
            "Choose what the policy asks for: block, a second factor, a passkey, terms of use, or signing in again after some hours.",
        );
    }
    if let Some(hours) = rules.sign_in_frequency_hours
        && !(1..=24 * 365).contains(&hours)
    {
        error(
            "frequency",
            "Sign-in frequency is a whole number of hours from 1 to 8760.",
        );
    }
    if rules.locations.len() + rules.exclude_locations.len() > 200 {
        error("locations", "A policy can name at most 200 address ranges.");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Whether `policy`, on, asks `person` for a second factor (or a passkey) for some app or
/// for Portico, from some address: while one does, the person may not remove their last
/// second factor.
pub fn asks_second_factor(policy: &Policy, person: &Person<'_>) -> bool {
    let rules = &policy.rules;
    policy.state == PolicyState::On
        && rules.include.names(person)
        && !rules.exclude.names(person)
        && matches!(&rules.grant, Grant::Require { controls, .. } if !controls.is_empty())
}

/// Whether a policy that is on would block every one of `admins` (each with their user
/// id, groups and roles) from the admin console whatever they do: the console's page
/// says so before the policy is saved.
pub fn locks_out_admins(rules: &Rules, admins: &[(String, Vec<String>)]) -> bool {
    if rules.grant != Grant::Block || !rules.apps.names(&Target::Portico) || admins.is_empty() {
        return false;
    }
    // Locations can be left; a block for some addresses only is not a lock-out.
    if !rules.locations.is_empty() || !rules.exclude_locations.is_empty() {
        return false;
    }
    admins.iter().all(|(user_id, groups)| {
        let person = Person {
            user_id,
            user_type: UserType::Member,
            groups,
            roles: &[Role::GlobalAdministrator],
        };
        rules.include.names(&person) && !rules.exclude.names(&person)
    })
}

#[cfg(test)]
mod tests;
