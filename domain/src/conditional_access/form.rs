//! The admin console's policy form: names (addresses, group and app names) read into the
//! ids a policy keeps, and back for editing; What If's answer in words.

use types::{FieldError, PolicyForm, Role, WhatIfAnswer, WhatIfRow};

use super::{
    AddressRange, Apps, Control, Decision, Evaluation, Grant, Need, NewPolicy, People, Policy,
    PolicyState, Rules,
};
use crate::store;
use crate::{Error, Permission, Principal, Result, Store};

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// The names of the organization's groups, apps and terms of use, with their ids.
struct Names {
    groups: Vec<(String, String)>,
    apps: Vec<(String, String)>,
    terms: Vec<(String, String)>,
}

impl Names {
    async fn read(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Names> {
        Ok(Names {
            groups: store::groups::list(db, tenant_id)
                .await?
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect(),
            apps: store::apps::list(db, tenant_id)
                .await?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect(),
            terms: store::terms::list(db, tenant_id)
                .await?
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect(),
        })
    }
}

/// Ids for the names one a line in `text`, from `known` (id, name), compared without
/// case; the unknown ones are a field error.
fn ids_of(
    text: &str,
    known: &[(String, String)],
    field: &str,
    kind: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let mut ids = Vec::new();
    for name in lines(text) {
        match known.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
            Some((id, _)) if !ids.contains(id) => ids.push(id.clone()),
            Some(_) => {}
            None => errors.push(FieldError {
                field: field.into(),
                message: format!("There is no {kind} named \u{201c}{name}\u{201d}."),
            }),
        }
    }
    ids
}

fn roles_of(text: &str, field: &str, errors: &mut Vec<FieldError>) -> Vec<Role> {
    let mut roles = Vec::new();
    for name in lines(text) {
        match Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(name)) {
            Some(role) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => errors.push(FieldError {
                field: field.into(),
                message: format!(
                    "\u{201c}{name}\u{201d} is not a role: GlobalAdministrator, UserAdministrator or GuestInviter."
                ),
            }),
        }
    }
    roles
}

fn ranges_of(text: &str, field: &str, errors: &mut Vec<FieldError>) -> Vec<AddressRange> {
    let mut ranges = Vec::new();
    for line in lines(text) {
        match line.parse::<AddressRange>() {
            Ok(range) => ranges.push(range),
            Err(message) => errors.push(FieldError {
                field: field.into(),
                message,
            }),
        }
    }
    ranges
}

async fn users_of(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    text: &str,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for address in lines(text) {
        match store::users::by_email(db, tenant_id, address).await? {
            Some(user) if !ids.contains(&user.id) => ids.push(user.id),
            Some(_) => {}
            None => errors.push(FieldError {
                field: field.into(),
                message: format!("Nobody here has the address \u{201c}{address}\u{201d}."),
            }),
        }
    }
    Ok(ids)
}

/// The policy the form describes, or what is wrong with it, field by field.
///
/// **Permissions:** global administrators.
pub async fn read(store: &Store, actor: &Principal, form: &PolicyForm) -> Result<NewPolicy> {
    actor.require(Permission::ManagePolicies)?;
    let mut db = store.read().await?;
    let tenant = &actor.tenant_id;
    let names = Names::read(&mut db, tenant).await?;
    let mut errors = Vec::new();
    let state = PolicyState::parse(&form.state).unwrap_or_else(|| {
        errors.push(FieldError {
            field: "state".into(),
            message: "Choose whether the policy is on, off or report-only.".into(),
        });
        PolicyState::Off
    });
    let include = People {
        everyone: form.users == "everyone",
        guests: form.users == "guests",
        users: if form.users == "selected" {
            users_of(
                &mut db,
                tenant,
                &form.include_users,
                "include_users",
                &mut errors,
            )
            .await?
        } else {
            Vec::new()
        },
        groups: if form.users == "selected" {
            ids_of(
                &form.include_groups,
                &names.groups,
                "include_groups",
                "group",
                &mut errors,
            )
        } else {
            Vec::new()
        },
        roles: if form.users == "selected" {
            roles_of(&form.include_roles, "include_roles", &mut errors)
        } else {
            Vec::new()
        },
    };
    let exclude = People {
        everyone: false,
        guests: form.exclude_guests,
        users: users_of(
            &mut db,
            tenant,
            &form.exclude_users,
            "exclude_users",
            &mut errors,
        )
        .await?,
        groups: ids_of(
            &form.exclude_groups,
            &names.groups,
            "exclude_groups",
            "group",
            &mut errors,
        ),
        roles: roles_of(&form.exclude_roles, "exclude_roles", &mut errors),
    };
    let apps = Apps {
        all: form.apps == "all",
        apps: if form.apps == "all" {
            Vec::new()
        } else {
            ids_of(
                &form.include_apps,
                &names.apps,
                "include_apps",
                "app",
                &mut errors,
            )
        },
        portico: form.apps != "all" && form.portico,
    };
    let exclude_apps = ids_of(
        &form.exclude_apps,
        &names.apps,
        "exclude_apps",
        "app",
        &mut errors,
    );
    let locations = ranges_of(&form.locations, "locations", &mut errors);
    let exclude_locations = ranges_of(&form.exclude_locations, "exclude_locations", &mut errors);
    let grant = if form.grant == "block" {
        Grant::Block
    } else {
        let mut controls = Vec::new();
        if form.mfa {
            controls.push(Control::Mfa);
        }
        if form.passkey {
            controls.push(Control::PhishingResistantMfa);
        }
        Grant::Require {
            all: form.operator != "any",
            controls,
            terms: ids_of(
                &form.terms,
                &names.terms,
                "terms",
                "set of terms of use",
                &mut errors,
            ),
        }
    };
    let hours = form.frequency_hours.trim();
    let sign_in_frequency_hours = if hours.is_empty() {
        None
    } else {
        match hours.parse::<u32>() {
            Ok(h) => Some(h),
            Err(_) => {
                errors.push(FieldError {
                    field: "frequency".into(),
                    message: "Sign-in frequency is a whole number of hours from 1 to 8760.".into(),
                });
                None
            }
        }
    };
    let rules = Rules {
        include,
        exclude,
        apps,
        exclude_apps,
        locations,
        exclude_locations,
        grant,
        sign_in_frequency_hours,
    };
    if let Err(more) = super::validate(&form.name, &rules) {
        errors.extend(more);
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(NewPolicy {
        name: form.name.trim().to_string(),
        state,
        rules,
        accept_lock_out: form.accept_lock_out,
    })
}

/// The form of a new policy, as a starting point: report-only, for everyone and every
/// app, asking for a second factor.
///
/// **Permissions:** global administrators.
pub fn blank(actor: &Principal) -> Result<PolicyForm> {
    actor.require(Permission::ManagePolicies)?;
    Ok(PolicyForm {
        state: PolicyState::ReportOnly.as_str().into(),
        users: "everyone".into(),
        apps: "all".into(),
        grant: "require".into(),
        mfa: true,
        operator: "all".into(),
        ..PolicyForm::default()
    })
}

/// The form for editing `policy`.
///
/// **Permissions:** global administrators.
pub async fn write(store: &Store, actor: &Principal, policy: &Policy) -> Result<PolicyForm> {
    actor.require(Permission::ManagePolicies)?;
    let mut db = store.read().await?;
    let names = Names::read(&mut db, &actor.tenant_id).await?;
    let mut emails = Vec::new();
    for ids in [&policy.rules.include.users, &policy.rules.exclude.users] {
        let mut found = Vec::new();
        for id in ids {
            if let Some(user) = store::users::get(&mut db, &actor.tenant_id, id).await? {
                found.push(user.email);
            }
        }
        emails.push(found.join("\n"));
    }
    let named = |ids: &[String], known: &[(String, String)]| -> String {
        ids.iter()
            .filter_map(|id| known.iter().find(|(k, _)| k == id).map(|(_, n)| n.clone()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let roles = |roles: &[Role]| -> String {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let ranges = |ranges: &[AddressRange]| -> String {
        ranges
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let rules = &policy.rules;
    let (grant, operator, controls, terms) = match &rules.grant {
        Grant::Block => ("block", "all", Vec::new(), &[][..]),
        Grant::Require {
            all,
            controls,
            terms,
        } => (
            "require",
            if *all { "all" } else { "any" },
            controls.clone(),
            &terms[..],
        ),
    };
    let include_users = emails.first().cloned().unwrap_or_default();
    let exclude_users = emails.get(1).cloned().unwrap_or_default();
    Ok(PolicyForm {
        name: policy.name.clone(),
        state: policy.state.as_str().into(),
        users: if rules.include.everyone {
            "everyone"
        } else if rules.include.guests {
            "guests"
        } else {
            "selected"
        }
        .into(),
        include_users,
        include_groups: named(&rules.include.groups, &names.groups),
        include_roles: roles(&rules.include.roles),
        exclude_guests: rules.exclude.guests,
        exclude_users,
        exclude_groups: named(&rules.exclude.groups, &names.groups),
        exclude_roles: roles(&rules.exclude.roles),
        apps: if rules.apps.all { "all" } else { "selected" }.into(),
        include_apps: named(&rules.apps.apps, &names.apps),
        portico: rules.apps.portico,
        exclude_apps: named(&rules.exclude_apps, &names.apps),
        locations: ranges(&rules.locations),
        exclude_locations: ranges(&rules.exclude_locations),
        grant: grant.into(),
        mfa: controls.contains(&Control::Mfa),
        passkey: controls.contains(&Control::PhishingResistantMfa),
        terms: named(terms, &names.terms),
        operator: operator.into(),
        frequency_hours: rules
            .sign_in_frequency_hours
            .map(|h| h.to_string())
            .unwrap_or_default(),
        accept_lock_out: false,
    })
}

/// What a need asks, in words.
fn asks(need: Need) -> &'static str {
    match need {
        Need::SecondFactor => "a second factor",
        Need::PhishingResistant => "a passkey",
        Need::SignInAgain => "a fresh sign-in",
        Need::AcceptTerms => "accepted terms of use",
    }
}

/// What If's evaluation in words, with each policy's state.
pub fn answer(policies: &[Policy], evaluation: &Evaluation) -> WhatIfAnswer {
    let rows = evaluation
        .results
        .iter()
        .map(|r| {
            let state = policies
                .iter()
                .find(|p| p.id == r.id)
                .map_or(PolicyState::Off, |p| p.state);
            let why = match (r.not_applied, &r.controls) {
                (Some(reason), _) => reason.describe().to_string(),
                (None, controls) if controls.iter().any(|c| c == "block") => "Blocks.".to_string(),
                (None, _) => match r.unmet {
                    Some(need) => format!("Applies: asks for {}.", asks(need)),
                    None => "Applies, and is satisfied.".to_string(),
                },
            };
            WhatIfRow {
                name: r.name.clone(),
                state: state.label().into(),
                applies: r.not_applied.is_none(),
                why,
            }
        })
        .collect();
    let outcome = match &evaluation.decision {
        Decision::Allow => "Allowed: no policy that is on asks for anything more.".to_string(),
        Decision::Block { policy } => format!("Blocked by \u{201c}{policy}\u{201d}."),
        Decision::StepUp { policy, need } => format!(
            "Allowed after {}, which \u{201c}{policy}\u{201d} asks for.",
            asks(*need)
        ),
        Decision::AcceptTerms { policy, .. } => format!(
            "Allowed once the person accepts the terms of use \u{201c}{policy}\u{201d} asks for."
        ),
    };
    WhatIfAnswer {
        policies: rows,
        outcome,
    }
}

/// What If from the console's form: the user by address, the app by id (`portico` for
/// Portico itself), the client address as typed (empty: unknown).
///
/// **Permissions:** global administrators.
pub async fn what_if(
    store: &Store,
    actor: &Principal,
    address: &str,
    app: &str,
    ip: &str,
    now: i64,
) -> Result<WhatIfAnswer> {
    actor.require(Permission::ManagePolicies)?;
    let user = store::users::by_email(&mut *store.read().await?, &actor.tenant_id, address.trim())
        .await?
        .ok_or_else(|| {
            Error::from(FieldError {
                field: "user".into(),
                message: format!(
                    "Nobody here has the address \u{201c}{}\u{201d}.",
                    address.trim()
                ),
            })
        })?;
    let ip = ip.trim();
    let ip = if ip.is_empty() {
        None
    } else {
        Some(ip.parse::<std::net::IpAddr>().map_err(|_| {
            Error::from(FieldError {
                field: "ip".into(),
                message: format!("\u{201c}{ip}\u{201d} is not an IPv4 or IPv6 address."),
            })
        })?)
    };
    let target = if app == "portico" {
        super::Target::Portico
    } else {
        super::Target::App(app)
    };
    let (policies, evaluation) = super::what_if(store, actor, &user.id, target, ip, now).await?;
    Ok(answer(&policies, &evaluation))
}
