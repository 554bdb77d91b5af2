//! External collaboration settings, as Microsoft Entra has them: who may invite guests
//! (`allowInvitesFrom`; the rule itself is [`crate::invitations::may_invite`]), what guests
//! may see of the directory (the guest access level), and the collaboration restrictions:
//! one list of domains, either the only ones guests may come from or the ones they may
//! not. The list is checked at every invitation and again when a pending invitation is
//! redeemed; guests who have accepted already are not affected.

use sqlx::AnyConnection;
use types::{AllowInvitesFrom, DomainListKind, ExternalCollaboration, FieldError, GuestAccess};
use unicode_normalization::UnicodeNormalization;

use crate::audit::{self, Change};
use crate::store;
use crate::{Actor, Error, Permission, Principal, Result, Store, validate};

/// Entries the list holds at most.
pub const MAX_DOMAINS: usize = 1000;

/// One entry of the list as typed, in the one form Portico compares: NFKC-normalized and
/// lower-cased as addresses are (see [`validate::email`]), without a final dot, and a
/// domain written in other scripts than Latin in its ASCII form (`bücher.example` is
/// `xn--bcher-kva.example`, the form invited addresses are written in). `*.example.com`
/// stands for the subdomains of example.com, not for example.com itself: list both for
/// both. A refusal names the entry.
pub fn parse_entry(typed: &str) -> Result<String, String> {
    let cleaned: String = typed.trim().nfkc().collect::<String>().to_lowercase();
    let (wildcard, name) = match cleaned.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    let refuse = |why: &str| format!("“{}”: {why}", typed.trim());
    if name.contains('*') {
        return Err(refuse(
            "a * may only stand first, as in *.example.com (its subdomains).",
        ));
    }
    // The URL parser would decode `%2e` into a dot: a domain name as typed has no `%`.
    let ascii = match url::Host::parse(name.trim_end_matches('.')) {
        Ok(url::Host::Domain(ascii)) if !name.contains('%') => ascii,
        _ => return Err(refuse("this is not a domain name like example.com.")),
    };
    let ascii = validate::domain_name("domains", &ascii)
        .map_err(|_| refuse("this is not a domain name like example.com."))?;
    Ok(if wildcard {
        format!("*.{ascii}")
    } else {
        ascii
    })
}

/// The list as typed (one entry a line; commas and spaces separate too), each entry in
/// the form [`parse_entry`] gives it, without repeats. Every bad entry is named at once;
/// more than [`MAX_DOMAINS`] entries are refused.
pub fn parse_list(text: &str) -> Result<Vec<String>> {
    let mut entries: Vec<String> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for typed in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
    {
        match parse_entry(typed) {
            Ok(entry) if !entries.contains(&entry) => entries.push(entry),
            Ok(_) => {}
            Err(why) => bad.push(why),
        }
    }
    let problem = if !bad.is_empty() {
        Some(bad.join(" "))
    } else if entries.len() > MAX_DOMAINS {
        Some(format!(
            "The list holds at most {MAX_DOMAINS} domains; this one has {}.",
            entries.len()
        ))
    } else {
        None
    };
    if let Some(message) = problem {
        return Err(Error::Invalid(vec![FieldError {
            field: "domains".into(),
            message,
        }]));
    }
    entries.sort();
    Ok(entries)
}

/// Whether a list entry covers `domain` (an address's domain as [`validate::email`]
/// leaves it): an exact entry that domain only, `*.example.com` the domains under
/// example.com only.
pub fn entry_matches(entry: &str, domain: &str) -> bool {
    match entry.strip_prefix("*.") {
        Some(parent) => domain
            .strip_suffix(parent)
            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        None => entry == domain,
    }
}

/// Whether guests may come from `domain` under the organization's collaboration
/// restrictions; a refusal names the rule.
pub fn check_domain(settings: &ExternalCollaboration, domain: &str) -> Result<(), String> {
    let listed = settings
        .domains
        .iter()
        .find(|entry| entry_matches(entry, domain));
    let tenant = &settings.tenant_name;
    match (settings.list_kind, listed) {
        (DomainListKind::Allow, Some(_)) | (DomainListKind::Deny, None) => Ok(()),
        (DomainListKind::Allow, None) => Err(format!(
            "{domain} is not on {tenant}'s list of domains guests may come from."
        )),
        (DomainListKind::Deny, Some(entry)) if entry == domain => Err(format!(
            "{domain} is on {tenant}'s list of domains guests may not come from."
        )),
        (DomainListKind::Deny, Some(entry)) => Err(format!(
            "{domain} is on {tenant}'s list of domains guests may not come from (as {entry})."
        )),
    }
}

/// Whether `actor` may see who else is in a group they belong to: members may; guests
/// unless restricted (then they know only which groups they are in).
pub fn may_see_members_of_own_groups(actor: &Actor, level: GuestAccess) -> bool {
    !is_guest(actor) || level != GuestAccess::Restricted
}

fn is_guest(actor: &Actor) -> bool {
    matches!(actor, Actor::User { guest: true, .. })
}

/// The tenant's external collaboration settings, inside a transaction or a read.
pub(crate) async fn read_in(
    db: &mut AnyConnection,
    tenant_id: &str,
) -> Result<ExternalCollaboration> {
    store::collaboration::read(db, tenant_id)
        .await?
        .ok_or(Error::NotFound("organization"))
}

/// The tenant's external collaboration settings.
///
/// **Permissions:** global and user administrators (only global administrators change
/// them).
pub async fn settings(store: &Store, actor: &Principal) -> Result<ExternalCollaboration> {
    actor.require(Permission::ManageUsers)?;
    read_in(&mut *store.read().await?, &actor.tenant_id).await
}

/// Sets who may invite guests, by Entra's value of `allowInvitesFrom`.
///
/// **Permissions:** global administrators.
pub async fn set_allow_invites_from(
    store: &Store,
    actor: &Principal,
    value: &str,
    now: i64,
) -> Result<ExternalCollaboration> {
    actor.require(Permission::ManageRoles)?;
    let value = AllowInvitesFrom::parse(value)
        .ok_or_else(|| field_error("allow_invites_from", "Choose who may invite guests."))?;
    let mut tx = store.begin().await?;
    let before = read_in(&mut tx, &actor.tenant_id).await?;
    store::collaboration::set_allow_invites_from(&mut tx, &actor.tenant_id, value).await?;
    let detail = format!(
        "allowInvitesFrom {} (was {})",
        value.as_str(),
        before.allow_invites_from.as_str()
    );
    changed(tx, actor, &before.tenant_name, detail, now).await
}

/// Sets what guests may see of the directory.
///
/// **Permissions:** global administrators.
pub async fn set_guest_access(
    store: &Store,
    actor: &Principal,
    role_id: &str,
    now: i64,
) -> Result<ExternalCollaboration> {
    actor.require(Permission::ManageRoles)?;
    let level = GuestAccess::from_role_id(role_id)
        .ok_or_else(|| field_error("guest_access", "Choose what guests may see."))?;
    let mut tx = store.begin().await?;
    let before = read_in(&mut tx, &actor.tenant_id).await?;
    store::collaboration::set_guest_access(&mut tx, &actor.tenant_id, level).await?;
    let detail = format!(
        "guest access {} ({}) (was {})",
        level.label(),
        level.role_id(),
        before.guest_access.label()
    );
    changed(tx, actor, &before.tenant_name, detail, now).await
}

/// Replaces the domains of the list, which stays of the kind it is (see
/// [`switch_list_kind`]).
///
/// **Permissions:** global administrators.
pub async fn set_domains(
    store: &Store,
    actor: &Principal,
    text: &str,
    now: i64,
) -> Result<ExternalCollaboration> {
    actor.require(Permission::ManageRoles)?;
    let entries = parse_list(text)?;
    let mut tx = store.begin().await?;
    let before = read_in(&mut tx, &actor.tenant_id).await?;
    store::collaboration::replace_list(&mut tx, &actor.tenant_id, before.list_kind, &entries)
        .await?;
    let detail = format!(
        "{} list: {}",
        before.list_kind.as_str(),
        if entries.is_empty() {
            "empty".to_string()
        } else {
            entries.join(", ")
        }
    );
    changed(tx, actor, &before.tenant_name, detail, now).await
}

/// Switches the list between allow-only and deny, which discards its domains (as Entra
/// does: an entry means the opposite on the other kind of list). A list that holds
/// domains switches only when `discard` says the administrator agreed to lose them;
/// otherwise nothing changes and the refusal names them.
///
/// **Permissions:** global administrators.
pub async fn switch_list_kind(
    store: &Store,
    actor: &Principal,
    kind: &str,
    discard: bool,
    now: i64,
) -> Result<ExternalCollaboration> {
    actor.require(Permission::ManageRoles)?;
    let kind = DomainListKind::parse(kind)
        .ok_or_else(|| field_error("kind", "Choose an allow list or a deny list."))?;
    let mut tx = store.begin().await?;
    let before = read_in(&mut tx, &actor.tenant_id).await?;
    if before.list_kind == kind {
        return Err(Error::Conflict(format!(
            "The list is a {} list already.",
            kind.as_str()
        )));
    }
    if !before.domains.is_empty() && !discard {
        return Err(Error::Conflict(format!(
            "Switching discards the {} domains on the list ({}). Tick the box to agree, or \
             keep the list as it is.",
            before.domains.len(),
            before.domains.join(", ")
        )));
    }
    store::collaboration::replace_list(&mut tx, &actor.tenant_id, kind, &[]).await?;
    let detail = format!(
        "{} list (was a {} list{})",
        kind.as_str(),
        before.list_kind.as_str(),
        if before.domains.is_empty() {
            String::new()
        } else {
            format!("; discarded {}", before.domains.join(", "))
        }
    );
    changed(tx, actor, &before.tenant_name, detail, now).await
}

fn field_error(field: &str, message: &str) -> Error {
    Error::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// Audits a change of the settings, commits, and answers the settings as they are now.
async fn changed(
    mut tx: store::Tx,
    actor: &Principal,
    tenant_name: &str,
    detail: String,
    now: i64,
) -> Result<ExternalCollaboration> {
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update external collaboration settings",
            target_type: "Tenant",
            target_id: &actor.tenant_id,
            target_name: tenant_name,
            detail,
        },
    )
    .await?;
    let after = read_in(&mut tx, &actor.tenant_id).await?;
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(kind: DomainListKind, entries: &[&str]) -> ExternalCollaboration {
        ExternalCollaboration {
            tenant_name: "Contoso".into(),
            list_kind: kind,
            domains: entries.iter().map(|e| e.to_string()).collect(),
            ..ExternalCollaboration::default()
        }
    }

    #[test]
    fn entries_are_kept_in_the_form_addresses_are_compared_in() {
        for (typed, kept) in [
            ("Partner.Example", "partner.example"),
            ("  partner.example.  ", "partner.example"),
            ("*.Partner.EXAMPLE", "*.partner.example"),
            // Full-width letters are the letters they stand for.
            ("\u{ff50}artner.example", "partner.example"),
            // A domain in another script is kept in its ASCII form.
            ("b\u{fc}cher.example", "xn--bcher-kva.example"),
            ("*.B\u{dc}CHER.example", "*.xn--bcher-kva.example"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ] {
            assert_eq!(parse_entry(typed).as_deref(), Ok(kept), "{typed}");
        }
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        for typed in [
            "partner",
            "*.com",
            "*partner.example",
            "a.*.partner.example",
            "partner..example",
            "-partner.example",
            "10.0.0.1",
            "part ner.example",
            "ann@partner.example",
            "https://partner.example",
            "partner%2eexample",
        ] {
            let refused = parse_list(typed).expect_err(typed);
            let Error::Invalid(fields) = refused else {
                panic!("{typed}: {refused:?}")
            };
            assert_eq!(fields[0].field, "domains");
            let first = typed.split_whitespace().next().unwrap_or(typed);
            assert!(
                fields[0].message.contains(first),
                "{typed}: {}",
                fields[0].message
            );
        }
        let many: Vec<String> = (0..=MAX_DOMAINS).map(|i| format!("d{i}.example")).collect();
        assert!(parse_list(&many.join("\n")).is_err());
        assert_eq!(
            parse_list(&many[..MAX_DOMAINS].join("\n"))
                .map(|l| l.len())
                .ok(),
            Some(MAX_DOMAINS)
        );
    }

    #[test]
    fn a_list_is_lines_commas_or_spaces_without_repeats() {
        assert_eq!(
            parse_list("b.example\r\nA.example, a.example  *.c.example\n\n").ok(),
            Some(vec![
                "*.c.example".to_string(),
                "a.example".into(),
                "b.example".into()
            ])
        );
        assert_eq!(parse_list("  \n").ok(), Some(vec![]));
    }

    #[test]
    fn an_exact_entry_matches_that_domain_only() {
        assert!(entry_matches("partner.example", "partner.example"));
        assert!(!entry_matches("partner.example", "eu.partner.example"));
        assert!(!entry_matches("partner.example", "otherpartner.example"));
        assert!(!entry_matches("partner.example", "partner.example.org"));
    }

    #[test]
    fn a_wildcard_matches_subdomains_only() {
        assert!(entry_matches("*.partner.example", "eu.partner.example"));
        assert!(entry_matches("*.partner.example", "a.b.partner.example"));
        assert!(!entry_matches("*.partner.example", "partner.example"));
        assert!(!entry_matches("*.partner.example", "evilpartner.example"));
        assert!(!entry_matches("*.partner.example", ".partner.example"));
    }

    #[test]
    fn typed_entries_match_addresses_as_validated() {
        // What an address's domain becomes, and what a typed entry becomes, meet.
        let email = validate::email("email", "Ann@EU.Partner.Example.").expect("valid");
        let domain = crate::tenants::domain_of(&email);
        for typed in ["*.PARTNER.example.", "eu.partner.EXAMPLE"] {
            let entry = parse_entry(typed).expect("valid");
            assert!(entry_matches(&entry, domain), "{typed} against {domain}");
        }
    }

    #[test]
    fn an_allow_list_lets_in_only_its_domains() {
        let allow = list(
            DomainListKind::Allow,
            &["partner.example", "*.fabrikam.example"],
        );
        assert_eq!(check_domain(&allow, "partner.example"), Ok(()));
        assert_eq!(check_domain(&allow, "eu.fabrikam.example"), Ok(()));
        assert_eq!(
            check_domain(&allow, "fabrikam.example"),
            Err(
                "fabrikam.example is not on Contoso's list of domains guests may come from.".into()
            )
        );
        assert!(check_domain(&allow, "eu.partner.example").is_err());
        assert!(check_domain(&list(DomainListKind::Allow, &[]), "partner.example").is_err());
    }

    #[test]
    fn a_deny_list_keeps_out_only_its_domains() {
        let deny = list(
            DomainListKind::Deny,
            &["gmail.example", "*.partner.example"],
        );
        assert_eq!(check_domain(&deny, "partner.example"), Ok(()));
        assert_eq!(
            check_domain(&deny, "eu.partner.example"),
            Err(
                "eu.partner.example is on Contoso's list of domains guests may not come from \
                 (as *.partner.example)."
                    .into()
            )
        );
        assert_eq!(
            check_domain(&deny, "gmail.example"),
            Err("gmail.example is on Contoso's list of domains guests may not come from.".into())
        );
        assert_eq!(check_domain(&deny, "mail.gmail.example"), Ok(()));
        // The default: an empty deny list lets anyone in.
        assert_eq!(
            check_domain(&ExternalCollaboration::default(), "anyone.example"),
            Ok(())
        );
    }

    #[test]
    fn what_guests_see_follows_the_access_level_and_members_see_everything() {
        let person = |guest| Actor::User {
            user_id: "u".into(),
            name: "Pat".into(),
            roles: vec![],
            guest,
            via: None,
        };
        let (member, guest) = (person(false), person(true));
        // (level, whether a guest sees the members of what they belong to)
        for (level, members) in [
            (GuestAccess::SameAsMembers, true),
            (GuestAccess::Limited, true),
            (GuestAccess::Restricted, false),
        ] {
            assert_eq!(
                may_see_members_of_own_groups(&guest, level),
                members,
                "{level:?}"
            );
            assert!(may_see_members_of_own_groups(&member, level));
        }
    }
}
