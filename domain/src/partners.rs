//! Cross-tenant access, inbound: for each partner — another organization on this Portico,
//! or a partner's identity provider the organization registered — and a default for every
//! other one, whether the partner's multi-factor sign-ins count here, and whether its
//! people may collaborate here at all.
//!
//! Trust matters only for what the partner proved: a passkey used at home, or a
//! provider's ID token saying it used more than one factor (`amr`, or an `acr` value the
//! organization names for that provider). A second factor the
//! person verified at Portico's own step-up page counts everywhere, trusted or not: that is
//! the second factor "registered and used here" an organization that does not trust the
//! partner asks for.

use types::{PartnerAccess, PartnerAccessList};

use crate::audit::{self, Change};
use crate::auth_methods::AuthMethods;
use crate::store::partners::PartnerRow;
use crate::store::sessions::Membership;
use crate::{Error, Identity, Permission, Principal, Result, Store, store};
use types::FieldError;

/// A partner of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Partner {
    /// Another organization on this Portico, by id.
    Tenant(String),
    /// A partner's OpenID provider, by issuer.
    Provider(String),
}

impl Partner {
    /// As stored.
    pub fn key(&self) -> String {
        match self {
            Partner::Tenant(id) => format!("tenant:{id}"),
            Partner::Provider(issuer) => format!("idp:{issuer}"),
        }
    }

    fn parse(key: &str) -> Option<Partner> {
        if let Some(id) = key.strip_prefix("tenant:") {
            Some(Partner::Tenant(id.into()))
        } else {
            key.strip_prefix("idp:")
                .map(|issuer| Partner::Provider(issuer.into()))
        }
    }
}

/// Inbound settings for one partner, as they hold (the partner's own, else the default,
/// else the system's: no trust, collaboration allowed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub trust_mfa: bool,
    pub inbound_blocked: bool,
}

/// Whom a person signed in as `identity` (with their users `memberships`) is a partner
/// of, seen from the organization `tenant_id`: the home organization of a member of
/// another one, or the provider that vouched for them; `None` for the organization's own
/// members and for Portico's own accounts and mailbox identities.
pub fn partner_of(
    identity: Option<&Identity>,
    memberships: &[Membership],
    tenant_id: &str,
) -> Option<Partner> {
    match identity? {
        Identity::Member(user_id) => memberships
            .iter()
            .find(|m| m.user_id == *user_id)
            .filter(|home| home.tenant_id != tenant_id)
            .map(|home| Partner::Tenant(home.tenant_id.clone())),
        Identity::Oidc { issuer, .. } => Some(Partner::Provider(issuer.clone())),
        Identity::Account(_) | Identity::Email(_) => None,
    }
}

/// Whom a refresh token's sign-in came through, from the `idp` its grant keeps (see
/// `oidc::authorize`): the issuer of a home organization on this Portico
/// (`<public url>/<tenant id>/v2.0`), a partner's provider's issuer, or nobody's (empty for
/// the organization's own members, `mail` for a passcode).
pub fn partner_of_idp(public_url: &str, idp: &str) -> Option<Partner> {
    if idp.is_empty() || idp == "mail" {
        return None;
    }
    let home = format!("{}/", public_url.trim_end_matches('/'));
    match idp
        .strip_prefix(&home)
        .and_then(|rest| rest.strip_suffix("/v2.0"))
    {
        Some(tenant) if !tenant.contains('/') => Some(Partner::Tenant(tenant.into())),
        _ => Some(Partner::Provider(idp.into())),
    }
}

/// Whether a sign-in with `methods` shows more than one factor to an organization, the
/// person coming from `partner` (see [`partner_of`]) under `settings`. The organization's
/// own people: as the methods say. A partner's people: a second factor verified here
/// always counts; what the partner proved (a passkey at home, its provider's word) counts
/// only when the partner is trusted for it.
pub fn shows_mfa(methods: &AuthMethods, partner: Option<&Partner>, settings: Settings) -> bool {
    if partner.is_none() {
        return methods.multi_factor();
    }
    let verified_here = methods.multi_factor() && methods.has_second_factor();
    let proved_at_home = methods.without_second_factors().multi_factor()
        || methods.contains(crate::auth_methods::AuthMethod::PartnerMfa);
    verified_here || (settings.trust_mfa && proved_at_home)
}

/// Whether a sign-in with `methods` used a passkey, as an organization counts it for the
/// person coming from `partner` under `settings` (the same rule as [`shows_mfa`]): the
/// organization's own people, as the methods say; a partner's people, a passkey verified
/// here as a second factor always, and a passkey they signed in with at home only when
/// the partner is trusted. (A policy asking a second factor is met by a phishing-resistant
/// sign-in too, so without this a passkey at home would count against the trust setting.)
pub fn shows_phishing_resistance(
    methods: &AuthMethods,
    partner: Option<&Partner>,
    settings: Settings,
) -> bool {
    if partner.is_none() {
        return methods.phishing_resistant();
    }
    let verified_here =
        methods.multi_factor() && methods.contains(crate::auth_methods::AuthMethod::PasskeyFactor);
    verified_here || (settings.trust_mfa && methods.phishing_resistant())
}

/// The settings that hold for `partner` in `tenant_id`.
pub async fn settings_for(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    partner: &Partner,
) -> Result<Settings> {
    let rows = store::partners::for_partner(db, tenant_id, &partner.key()).await?;
    // The default sorts first (its key is empty); the partner's own row, if any, is last.
    Ok(rows
        .last()
        .map(|row| Settings {
            trust_mfa: row.trust_mfa,
            inbound_blocked: row.inbound_blocked,
        })
        .unwrap_or_default())
}

/// A partner's name in words: the organization's name, or the provider's.
async fn describe(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    partner: &Partner,
) -> Result<String> {
    Ok(match partner {
        Partner::Tenant(id) => store::tenants::find(db, id).await?.map_or_else(
            || format!("An organization no longer here ({id})"),
            |t| t.name,
        ),
        Partner::Provider(issuer) => store::federation::providers(db, tenant_id)
            .await?
            .into_iter()
            .find(|p| p.issuer == *issuer)
            .map_or_else(
                || format!("A provider no longer registered ({issuer})"),
                |p| format!("{} ({issuer})", p.name),
            ),
    })
}

/// The organization's settings: the default, then each partner's.
///
/// **Permissions:** global administrators.
pub async fn list(store: &Store, actor: &Principal) -> Result<PartnerAccessList> {
    actor.require(Permission::ManagePolicies)?;
    let mut db = store.read().await?;
    let rows = store::partners::list(&mut db, &actor.tenant_id).await?;
    let mut default = PartnerAccess {
        key: String::new(),
        partner: "Every other organization and provider".into(),
        trust_mfa: false,
        inbound_blocked: false,
        mfa_acr: String::new(),
    };
    let mut partners = Vec::new();
    for row in rows {
        if row.partner.is_empty() {
            default.trust_mfa = row.trust_mfa;
            default.inbound_blocked = row.inbound_blocked;
        } else if let Some(partner) = Partner::parse(&row.partner) {
            partners.push(PartnerAccess {
                partner: describe(&mut db, &actor.tenant_id, &partner).await?,
                key: row.partner,
                trust_mfa: row.trust_mfa,
                inbound_blocked: row.inbound_blocked,
                mfa_acr: row.mfa_acr,
            });
        }
    }
    Ok(PartnerAccessList { default, partners })
}

/// The partner an administrator typed: empty for the default; another organization here
/// by its domain, slug or id; or the issuer of a provider this organization registered.
async fn resolve(
    db: &mut sqlx::AnyConnection,
    actor: &Principal,
    typed: &str,
) -> Result<Option<Partner>> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let unknown = |message: String| {
        Error::from(FieldError {
            field: "partner".into(),
            message,
        })
    };
    if typed.starts_with("https://") || typed.starts_with("http://") {
        let issuer = typed.trim_end_matches('/');
        let registered = store::federation::providers(db, &actor.tenant_id).await?;
        return registered
            .into_iter()
            .find(|p| p.issuer.trim_end_matches('/') == issuer)
            .map(|p| Some(Partner::Provider(p.issuer)))
            .ok_or_else(|| {
                unknown(format!(
                    "No identity provider with the issuer \u{201c}{typed}\u{201d} is registered here (see External identities)."
                ))
            });
    }
    match store::tenants::find(db, typed).await? {
        Some(tenant) if tenant.id == actor.tenant_id => Err(unknown(
            "That is this organization: its own people are not partners.".into(),
        )),
        Some(tenant) => Ok(Some(Partner::Tenant(tenant.id))),
        None => Err(unknown(format!(
            "No organization on this Portico has the domain \u{201c}{typed}\u{201d}; for a partner's identity provider, give its issuer (https://…)."
        ))),
    }
}

/// `acr` values at most, and characters of one.
const ACR_MAX: (usize, usize) = (20, 200);

/// The `acr` values an administrator typed (separated by spaces or lines), for `partner`:
/// only a provider's ID tokens carry them.
fn acr_values(typed: &str, partner: Option<&Partner>) -> Result<String> {
    let values: Vec<&str> = typed.split_whitespace().collect();
    let refuse = |message: &str| {
        Error::from(FieldError {
            field: "mfa_acr".into(),
            message: message.into(),
        })
    };
    if values.is_empty() {
        return Ok(String::new());
    }
    if !matches!(partner, Some(Partner::Provider(_))) {
        return Err(refuse(
            "acr values are for a partner's identity provider: give its issuer as the partner.",
        ));
    }
    if values.len() > ACR_MAX.0 || values.iter().any(|v| v.len() > ACR_MAX.1) {
        return Err(refuse(
            "Give at most 20 values of at most 200 characters each.",
        ));
    }
    if values.iter().any(|v| v.chars().any(|c| c.is_control())) {
        return Err(refuse("acr values are printable text."));
    }
    let mut kept: Vec<&str> = Vec::new();
    for value in values {
        if !kept.contains(&value) {
            kept.push(value);
        }
    }
    Ok(kept.join(" "))
}

/// Whether an ID token's `acr` is one of `configured` (space-separated), compared exactly.
pub fn acr_means_mfa(acr: Option<&str>, configured: &str) -> bool {
    acr.is_some_and(|acr| {
        configured
            .split(' ')
            .any(|value| !value.is_empty() && value == acr)
    })
}

/// Sets the default (`partner` empty) or one partner's settings; `mfa_acr`, for a
/// provider, names the `acr` values by which it says it used more than one factor.
///
/// **Permissions:** global administrators.
pub async fn set(
    store: &Store,
    actor: &Principal,
    partner: &str,
    settings: Settings,
    mfa_acr: &str,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManagePolicies)?;
    let mut tx = store.begin().await?;
    let resolved = resolve(&mut tx, actor, partner).await?;
    let mfa_acr = acr_values(mfa_acr, resolved.as_ref())?;
    let (key, name) = match &resolved {
        None => (String::new(), "the default".to_string()),
        Some(p) => (p.key(), describe(&mut tx, &actor.tenant_id, p).await?),
    };
    store::partners::upsert(
        &mut tx,
        &actor.tenant_id,
        &PartnerRow {
            partner: key.clone(),
            trust_mfa: settings.trust_mfa,
            inbound_blocked: settings.inbound_blocked,
            updated_at: now,
            mfa_acr: mfa_acr.clone(),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Set cross-tenant access",
            target_type: "Partner",
            target_id: &key,
            target_name: &name,
            detail: format!(
                "multi-factor sign-ins {}; collaboration {}{}",
                if settings.trust_mfa {
                    "trusted"
                } else {
                    "not trusted"
                },
                if settings.inbound_blocked {
                    "blocked"
                } else {
                    "allowed"
                },
                if mfa_acr.is_empty() {
                    String::new()
                } else {
                    format!("; acr meaning multi-factor: {mfa_acr}")
                }
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a partner's own settings: the default holds for it again.
///
/// **Permissions:** global administrators.
pub async fn remove(store: &Store, actor: &Principal, key: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManagePolicies)?;
    let partner = Partner::parse(key).ok_or(Error::NotFound("partner"))?;
    let mut tx = store.begin().await?;
    let name = describe(&mut tx, &actor.tenant_id, &partner).await?;
    if !store::partners::delete(&mut tx, &actor.tenant_id, key).await? {
        return Err(Error::NotFound("partner"));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Remove cross-tenant access",
            target_type: "Partner",
            target_id: key,
            target_name: &name,
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth_methods::AuthMethod::*;

    fn member_of(tenant: &str) -> Membership {
        Membership {
            user_id: format!("u-{tenant}"),
            tenant_id: tenant.into(),
            tenant_name: tenant.into(),
            user_type: types::UserType::Member,
        }
    }

    #[test]
    fn partners_are_other_organizations_and_providers() {
        let home = Identity::Member("u-fabrikam".into());
        let memberships = [member_of("fabrikam"), member_of("contoso")];
        assert_eq!(
            partner_of(Some(&home), &memberships, "contoso"),
            Some(Partner::Tenant("fabrikam".into()))
        );
        assert_eq!(partner_of(Some(&home), &memberships, "fabrikam"), None);
        let federated = Identity::Oidc {
            issuer: "https://idp.partner.example".into(),
            subject: "s".into(),
        };
        assert_eq!(
            partner_of(Some(&federated), &[], "contoso"),
            Some(Partner::Provider("https://idp.partner.example".into()))
        );
        assert_eq!(
            partner_of(Some(&Identity::Email("a@b.example".into())), &[], "contoso"),
            None
        );
        assert_eq!(
            partner_of(Some(&Identity::Account("a".into())), &[], "contoso"),
            None
        );
        assert_eq!(partner_of(None, &[], "contoso"), None);
        for partner in [
            Partner::Tenant("t".into()),
            Partner::Provider("https://i.example".into()),
        ] {
            assert_eq!(Partner::parse(&partner.key()), Some(partner));
        }
    }

    #[test]
    fn what_a_partner_proved_counts_only_when_trusted_and_a_factor_verified_here_always() {
        let fabrikam = Partner::Tenant("fabrikam".into());
        let trusted = Settings {
            trust_mfa: true,
            inbound_blocked: false,
        };
        let untrusted = Settings::default();
        let cases: &[(
            &[crate::auth_methods::AuthMethod],
            Option<&Partner>,
            Settings,
            bool,
        )] = &[
            // The organization's own people: as the methods say.
            (&[Password], None, untrusted, false),
            (&[Passkey], None, untrusted, true),
            (&[Password, Totp], None, untrusted, true),
            // A partner's member who used a passkey at home: only when trusted.
            (&[Passkey], Some(&fabrikam), trusted, true),
            (&[Passkey], Some(&fabrikam), untrusted, false),
            (&[Password], Some(&fabrikam), trusted, false),
            // A second factor verified here: always.
            (&[Password, Totp], Some(&fabrikam), untrusted, true),
            (&[Passkey, RecoveryCode], Some(&fabrikam), untrusted, true),
            // A provider's word that it used two factors: only when trusted.
            (&[Federated, PartnerMfa], Some(&fabrikam), trusted, true),
            (&[Federated, PartnerMfa], Some(&fabrikam), untrusted, false),
            (&[Federated], Some(&fabrikam), trusted, false),
            (&[Federated, Totp], Some(&fabrikam), untrusted, true),
        ];
        for (methods, partner, settings, mfa) in cases {
            assert_eq!(
                shows_mfa(&AuthMethods::new(methods), *partner, *settings),
                *mfa,
                "{methods:?} from {partner:?} with {settings:?}"
            );
        }
    }

    #[test]
    fn a_providers_acr_values_are_its_own_and_compared_exactly() {
        let provider = Partner::Provider("https://idp.partner.example".into());
        let tenant = Partner::Tenant("fabrikam".into());
        let typed = " loa3\nloa2 loa3 ";
        assert_eq!(
            acr_values(typed, Some(&provider)).ok().as_deref(),
            Some("loa3 loa2")
        );
        assert_eq!(acr_values("  ", None).ok().as_deref(), Some(""));
        assert!(acr_values("loa3", Some(&tenant)).is_err());
        assert!(acr_values("loa3", None).is_err());
        assert!(acr_values(&"x".repeat(201), Some(&provider)).is_err());
        assert!(acr_means_mfa(Some("loa3"), "loa3 loa2"));
        assert!(!acr_means_mfa(Some("LOA3"), "loa3 loa2"));
        assert!(!acr_means_mfa(Some("loa"), "loa3"));
        assert!(!acr_means_mfa(Some(""), ""));
        assert!(!acr_means_mfa(None, "loa3"));
    }

    #[test]
    fn a_passkey_used_at_a_partner_counts_only_when_trusted_and_one_verified_here_always() {
        let fabrikam = Partner::Tenant("fabrikam".into());
        let trusted = Settings {
            trust_mfa: true,
            inbound_blocked: false,
        };
        let untrusted = Settings::default();
        let cases: &[(
            &[crate::auth_methods::AuthMethod],
            Option<&Partner>,
            Settings,
            bool,
        )] = &[
            // The organization's own people: as the methods say.
            (&[Passkey], None, untrusted, true),
            (&[Password, PasskeyFactor], None, untrusted, true),
            (&[Password, Totp], None, untrusted, false),
            // A partner's member who signed in at home with a passkey: only when trusted.
            (&[Passkey], Some(&fabrikam), trusted, true),
            (&[Passkey], Some(&fabrikam), untrusted, false),
            // A passkey verified here as a second factor: always.
            (&[Password, PasskeyFactor], Some(&fabrikam), untrusted, true),
            (&[Passkey, PasskeyFactor], Some(&fabrikam), untrusted, true),
            (
                &[Federated, PasskeyFactor],
                Some(&fabrikam),
                untrusted,
                true,
            ),
            // No passkey at all: never.
            (&[Password, Totp], Some(&fabrikam), trusted, false),
            (&[Federated, PartnerMfa], Some(&fabrikam), trusted, false),
        ];
        for (methods, partner, settings, passkey) in cases {
            assert_eq!(
                shows_phishing_resistance(&AuthMethods::new(methods), *partner, *settings),
                *passkey,
                "{methods:?} from {partner:?} with {settings:?}"
            );
        }
    }
}
