//! Keeping an organization's policies, reading them for sign-ins, and What If.

use types::{Role, UserType};

use super::{Evaluation, Person, Policy, PolicyState, Rules, SignIn, Target, evaluate};
use crate::audit::{self, Change};
use crate::auth_methods::AuthMethods;
use crate::oidc::access::{PolicyLog, Refusal};
use crate::partners::{self, Partner};
use crate::store;
use crate::store::conditional_access::PolicyRow;
use crate::{Error, Permission, Principal, Result, Store};

const DUPLICATE: &str = "Another policy already has that name.";

/// A policy as an administrator writes it.
#[derive(Clone, Debug)]
pub struct NewPolicy {
    pub name: String,
    pub state: PolicyState,
    pub rules: Rules,
    /// The administrator read the warning that this policy, on, would block every global
    /// administrator from the admin console, and saves it anyway.
    pub accept_lock_out: bool,
}

fn from_row(row: PolicyRow) -> Result<Policy> {
    let corrupt = |what: String| Error::Storage(sqlx::Error::Decode(what.into()));
    let state = PolicyState::parse(&row.state)
        .ok_or_else(|| corrupt(format!("policy {} has an unknown state", row.id)))?;
    let rules = serde_json::from_str(&row.rules)
        .map_err(|e| corrupt(format!("policy {} has unreadable rules: {e}", row.id)))?;
    Ok(Policy {
        id: row.id,
        name: row.name,
        state,
        rules,
        created_at: row.created_at,
        modified_at: row.modified_at,
    })
}

/// The policies a sign-in to an app of `tenant_id` is evaluated against: those on or in
/// report-only. Read by the sign-in endpoint and token refresh, for nobody in particular.
pub async fn in_force(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<Policy>> {
    store::conditional_access::in_force(db, tenant_id)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// [`in_force`] as read lately: every sign-in of an organization reads its policies, which
/// change seldom. A read stands in for the next ones while this process has made no
/// transaction since (a change of a policy here applies at once), for a second at most (a
/// change made by another replica applies within that).
pub async fn in_force_of(store: &Store, tenant_id: &str) -> Result<std::sync::Arc<Vec<Policy>>> {
    let writes = store.writes();
    if let Some(known) = store.policies.get(tenant_id, writes) {
        return Ok(known);
    }
    let read = std::sync::Arc::new(in_force(&mut *store.read().await?, tenant_id).await?);
    store
        .policies
        .put(tenant_id.to_string(), read.clone(), writes);
    Ok(read)
}

/// **Permissions:** global administrators.
pub async fn list(store: &Store, actor: &Principal) -> Result<Vec<Policy>> {
    actor.require(Permission::ManagePolicies)?;
    store::conditional_access::list(&mut *store.read().await?, &actor.tenant_id)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// **Permissions:** global administrators.
pub async fn get(store: &Store, actor: &Principal, id: &str) -> Result<Policy> {
    actor.require(Permission::ManagePolicies)?;
    let row = store::conditional_access::get(&mut *store.read().await?, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("policy"))?;
    from_row(row)
}

/// The users, groups, apps and terms of use a policy names must be the organization's.
async fn check_names(db: &mut sqlx::AnyConnection, tenant_id: &str, rules: &Rules) -> Result<()> {
    for people in [&rules.include, &rules.exclude] {
        for user in &people.users {
            if store::users::get(db, tenant_id, user).await?.is_none() {
                return Err(Error::NotFound("user"));
            }
        }
        for group in &people.groups {
            if store::groups::get(db, tenant_id, group).await?.is_none() {
                return Err(Error::NotFound("group"));
            }
        }
    }
    for app in rules.apps.apps.iter().chain(&rules.exclude_apps) {
        if store::apps::get(db, tenant_id, app).await?.is_none() {
            return Err(Error::NotFound("app"));
        }
    }
    if let super::Grant::Require { terms, .. } = &rules.grant {
        for id in terms {
            let found = store::terms::by_id(db, id).await?;
            if found.is_none_or(|t| t.tenant_id != tenant_id) {
                return Err(Error::NotFound("terms of use"));
            }
        }
    }
    Ok(())
}

/// Checks a policy about to be saved: its form, its names, and that (when on) it does
/// not lock every global administrator out unless that was accepted.
async fn check_new(tx: &mut store::Tx, tenant_id: &str, policy: &NewPolicy) -> Result<String> {
    let name = policy.name.trim().to_string();
    super::validate(&name, &policy.rules).map_err(Error::Invalid)?;
    check_names(tx, tenant_id, &policy.rules).await?;
    if policy.state == PolicyState::On && !policy.accept_lock_out {
        let admins = store::conditional_access::global_admins(tx, tenant_id).await?;
        if super::locks_out_admins(&policy.rules, &admins) {
            return Err(Error::Conflict(
                "On, this policy would block every global administrator from the admin console, and nobody could turn it off there. Leave yourself out of it, save it as report-only first, or confirm that you mean it.".into(),
            ));
        }
    }
    Ok(name)
}

fn stored_rules(rules: &Rules) -> Result<String> {
    serde_json::to_string(rules).map_err(|e| Error::Storage(sqlx::Error::Encode(Box::new(e))))
}

/// **Permissions:** global administrators.
pub async fn create(
    store: &Store,
    actor: &Principal,
    policy: &NewPolicy,
    now: i64,
) -> Result<Policy> {
    actor.require(Permission::ManagePolicies)?;
    let mut tx = store.begin().await?;
    let name = check_new(&mut tx, &actor.tenant_id, policy).await?;
    let row = PolicyRow {
        id: crate::new_id(),
        name,
        state: policy.state.as_str().into(),
        rules: stored_rules(&policy.rules)?,
        created_at: now,
        modified_at: now,
    };
    store::conditional_access::insert(&mut tx, &actor.tenant_id, &row)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Add conditional access policy",
            target_type: "Policy",
            target_id: &row.id,
            target_name: &row.name,
            detail: format!("{}; {}", policy.state.label(), policy.rules.summary()),
        },
    )
    .await?;
    tx.commit().await?;
    from_row(row)
}

/// **Permissions:** global administrators.
pub async fn update(
    store: &Store,
    actor: &Principal,
    id: &str,
    policy: &NewPolicy,
    now: i64,
) -> Result<Policy> {
    actor.require(Permission::ManagePolicies)?;
    let mut tx = store.begin().await?;
    let before = store::conditional_access::get(&mut tx, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("policy"))?;
    let name = check_new(&mut tx, &actor.tenant_id, policy).await?;
    let row = PolicyRow {
        id: id.to_string(),
        name,
        state: policy.state.as_str().into(),
        rules: stored_rules(&policy.rules)?,
        created_at: before.created_at,
        modified_at: now,
    };
    store::conditional_access::update(&mut tx, &actor.tenant_id, &row)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update conditional access policy",
            target_type: "Policy",
            target_id: id,
            target_name: &row.name,
            detail: format!("{}; {}", policy.state.label(), policy.rules.summary()),
        },
    )
    .await?;
    tx.commit().await?;
    from_row(row)
}

/// Turns a policy on or off, or to report-only.
///
/// **Permissions:** global administrators.
pub async fn set_state(
    store: &Store,
    actor: &Principal,
    id: &str,
    state: PolicyState,
    accept_lock_out: bool,
    now: i64,
) -> Result<Policy> {
    let policy = get(store, actor, id).await?;
    update(
        store,
        actor,
        id,
        &NewPolicy {
            name: policy.name,
            state,
            rules: policy.rules,
            accept_lock_out,
        },
        now,
    )
    .await
}

/// **Permissions:** global administrators.
pub async fn delete(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManagePolicies)?;
    let mut tx = store.begin().await?;
    let before = store::conditional_access::get(&mut tx, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("policy"))?;
    store::conditional_access::delete(&mut tx, &actor.tenant_id, id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Delete conditional access policy",
            target_type: "Policy",
            target_id: id,
            target_name: &before.name,
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a sign-in of `user_id` to `target` from `ip` would meet, without signing in: every
/// policy's result (off ones as `notEnabled`), why each that does not apply does not (the
/// first unmet condition), and the decision for a sign-in with one factor, just made; with
/// the policies evaluated.
///
/// **Permissions:** global administrators.
pub async fn what_if(
    store: &Store,
    actor: &Principal,
    user_id: &str,
    target: Target<'_>,
    ip: Option<std::net::IpAddr>,
    now: i64,
) -> Result<(Vec<Policy>, Evaluation)> {
    let policies = list(store, actor).await?;
    let mut db = store.read().await?;
    let user = store::users::get(&mut db, &actor.tenant_id, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if let Target::App(app) = target {
        store::apps::get(&mut db, &actor.tenant_id, app)
            .await?
            .ok_or(Error::NotFound("app"))?;
    }
    drop(db);
    let (groups, roles) = groups_and_roles(store, &policies, user_id).await?;
    let accepted_terms = accepted_terms(store, &policies, user_id).await?;
    let evaluation = evaluate(
        &policies,
        &SignIn {
            person: Person {
                user_id,
                user_type: user.user_type,
                groups: &groups,
                roles: &roles,
            },
            target,
            ip,
            mfa: false,
            phishing_resistant: false,
            accepted_terms: &accepted_terms,
            auth_time: now,
            now,
        },
    );
    Ok((policies, evaluation))
}

/// The user's groups' ids and roles, each read only when one of `policies` asks about them.
async fn groups_and_roles(
    store: &Store,
    policies: &[Policy],
    user_id: &str,
) -> Result<(Vec<String>, Vec<Role>)> {
    let groups = if super::need_groups(policies) {
        store::users::groups_of(&mut *store.read().await?, user_id)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect()
    } else {
        Vec::new()
    };
    let roles = if super::need_roles(policies) {
        store::users::roles(&mut *store.read().await?, user_id).await?
    } else {
        Vec::new()
    };
    Ok((groups, roles))
}

/// The terms of use whose version in force the user accepted, read only when one of
/// `policies` asks for terms.
async fn accepted_terms(store: &Store, policies: &[Policy], user_id: &str) -> Result<Vec<String>> {
    if super::need_terms(policies) {
        crate::terms::accepted_by(store, user_id).await
    } else {
        Ok(Vec::new())
    }
}

/// A sign-in as cross-tenant access and conditional access see it: to an app, at a
/// refresh, or to Portico itself.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    /// The organization signed in to, and the person's user there.
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub user_type: UserType,
    /// Whom the person comes through (see `partners::partner_of`).
    pub partner: Option<Partner>,
    /// How the person proved who they are.
    pub methods: &'a AuthMethods,
    pub target: Target<'a>,
    /// The client's address, when known.
    pub ip: Option<std::net::IpAddr>,
    /// When the person last proved who they are (Unix seconds).
    pub auth_time: i64,
    pub now: i64,
}

/// What [`check`] decides.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// The organization keeps out the person's home organization or provider.
    PartnerBlocked,
    /// No policy is on or in report-only.
    NoPolicies,
    Evaluated(Evaluation),
}

impl Verdict {
    /// What the person is refused, or asked first; `None`: nothing.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Verdict::PartnerBlocked => Some(Refusal::PartnerBlocked),
            Verdict::NoPolicies => None,
            Verdict::Evaluated(evaluation) => Refusal::of(&evaluation.decision),
        }
    }

    /// What the sign-in log keeps of it.
    pub fn log(&self) -> PolicyLog {
        match self {
            Verdict::Evaluated(evaluation) => PolicyLog::of(evaluation),
            _ => PolicyLog::none(),
        }
    }
}

/// Cross-tenant access, then the organization's policies in force, for `attempt`: the one
/// check behind every sign-in to an app, every refresh and every page of Portico itself.
/// Connections are taken one at a time, and only for what is asked: a partner's
/// settings, the user's groups or roles, the terms of use they accepted.
pub async fn check(store: &Store, attempt: &Attempt<'_>) -> Result<Verdict> {
    let settings = match &attempt.partner {
        Some(partner) => {
            partners::settings_for(&mut *store.read().await?, attempt.tenant_id, partner).await?
        }
        None => partners::Settings::default(),
    };
    if settings.inbound_blocked {
        return Ok(Verdict::PartnerBlocked);
    }
    let in_force = in_force_of(store, attempt.tenant_id).await?;
    if in_force.is_empty() {
        return Ok(Verdict::NoPolicies);
    }
    let (groups, roles) = groups_and_roles(store, &in_force, attempt.user_id).await?;
    let accepted_terms = accepted_terms(store, &in_force, attempt.user_id).await?;
    Ok(Verdict::Evaluated(evaluate(
        &in_force,
        &SignIn {
            person: Person {
                user_id: attempt.user_id,
                user_type: attempt.user_type,
                groups: &groups,
                roles: &roles,
            },
            target: attempt.target,
            ip: attempt.ip,
            mfa: partners::shows_mfa(attempt.methods, attempt.partner.as_ref(), settings),
            phishing_resistant: partners::shows_phishing_resistance(
                attempt.methods,
                attempt.partner.as_ref(),
                settings,
            ),
            accepted_terms: &accepted_terms,
            auth_time: attempt.auth_time,
            now: attempt.now,
        },
    )))
}

/// What cross-tenant access and the organization's policies for Portico itself (the
/// access panel and the admin console) ask of the person signed in, in the organization
/// they are in: `None` when nothing more. Every page and form of the panel and the
/// console asks this first.
pub async fn for_portico(
    store: &Store,
    signed_in: &crate::sessions::SignedIn,
    now: i64,
) -> Result<Option<Refusal>> {
    let principal = &signed_in.principal;
    let crate::Actor::User { user_id, guest, .. } = &principal.actor else {
        return Ok(None);
    };
    let attempt = Attempt {
        tenant_id: &principal.tenant_id,
        user_id,
        user_type: if *guest {
            UserType::Guest
        } else {
            UserType::Member
        },
        partner: partners::partner_of(
            signed_in.identity.as_ref(),
            &signed_in.memberships,
            &principal.tenant_id,
        ),
        methods: &signed_in.auth_methods,
        target: Target::Portico,
        ip: principal.ip.as_deref().and_then(|ip| ip.parse().ok()),
        auth_time: signed_in.auth_time,
        now,
    };
    Ok(check(store, &attempt).await?.refusal())
}

/// The first policy that is on in one of the person's organizations (their users there,
/// `memberships`) and asks them for a second factor (see [`super::asks_second_factor`]).
pub async fn asking_second_factor(
    db: &mut sqlx::AnyConnection,
    memberships: &[crate::store::sessions::Membership],
) -> Result<Option<String>> {
    for membership in memberships {
        let policies = in_force(db, &membership.tenant_id).await?;
        if policies.is_empty() {
            continue;
        }
        let groups: Vec<String> = store::users::groups_of(db, &membership.user_id)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect();
        let roles = store::users::roles(db, &membership.user_id).await?;
        let person = Person {
            user_id: &membership.user_id,
            user_type: membership.user_type,
            groups: &groups,
            roles: &roles,
        };
        if let Some(policy) = policies
            .iter()
            .find(|p| super::asks_second_factor(p, &person))
        {
            return Ok(Some(policy.name.clone()));
        }
    }
    Ok(None)
}
