//! Terms of use: texts an organization's administrators write, which a conditional-access
//! policy can ask people to accept before they open an app (or Portico itself).
//!
//! Terms have versions: changing the text makes the next one, and a policy asking for the
//! terms is satisfied only by an acceptance of the version in force, so everybody is asked
//! again. Every acceptance is kept, with its version and time, and audited in the terms'
//! organization. The page that asks is `types::paths::accept_terms`; conditional access
//! sends people there (see `conditional_access::Decision::AcceptTerms`).

use types::{FieldError, Terms, TermsAcceptance, TermsDetail, TermsToAccept};

use crate::audit::{self, Change};
use crate::conditional_access::{self, Grant};
use crate::sessions::SignedIn;
use crate::store::{self, terms::TermsRow};
use crate::{Error, Permission, Principal, Result, Store};

/// Characters of a name at most.
pub const NAME_MAX: usize = 200;
/// Characters of a text at most (about twenty pages).
pub const TEXT_MAX: usize = 50_000;

const DUPLICATE: &str = "Other terms of use already have that name.";

fn from_row(row: TermsRow) -> Terms {
    Terms {
        id: row.id,
        name: row.name,
        text: row.text,
        version: row.version,
        created_at: row.created_at,
        modified_at: row.modified_at,
    }
}

/// Line ends as one kind, trailing space trimmed: what is compared to tell a new version.
fn normalized(text: &str) -> String {
    text.replace("\r\n", "\n").trim().to_string()
}

/// What is wrong with a name and text, field by field.
fn check(name: &str, text: &str) -> Result<()> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    if name.is_empty() {
        error("name", "Give the terms a name.");
    } else if name.chars().count() > NAME_MAX {
        error("name", "The name is too long (200 characters at most).");
    } else if name.chars().any(char::is_control) {
        error(
            "name",
            "Use letters, digits, spaces and punctuation in the name.",
        );
    }
    if text.is_empty() {
        error("text", "Write the terms people are asked to accept.");
    } else if text.chars().count() > TEXT_MAX {
        error("text", "The text is too long (50,000 characters at most).");
    } else if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        error("text", "The text holds characters that cannot be shown.");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

/// The organization's terms of use, by name.
///
/// **Permissions:** global administrators.
pub async fn list(store: &Store, actor: &Principal) -> Result<Vec<Terms>> {
    actor.require(Permission::ManagePolicies)?;
    Ok(
        store::terms::list(&mut *store.read().await?, &actor.tenant_id)
            .await?
            .into_iter()
            .map(from_row)
            .collect(),
    )
}

/// The organization's terms `id`.
async fn own(db: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<TermsRow> {
    store::terms::by_id(db, id)
        .await?
        .filter(|row| row.tenant_id == tenant_id)
        .ok_or(Error::NotFound("terms of use"))
}

/// The names of the organization's policies (in any state) that ask for the terms `id`.
async fn asking_policies(store: &Store, actor: &Principal, id: &str) -> Result<Vec<String>> {
    Ok(conditional_access::list(store, actor)
        .await?
        .into_iter()
        .filter(|p| matches!(&p.rules.grant, Grant::Require { terms, .. } if terms.iter().any(|t| t == id)))
        .map(|p| p.name)
        .collect())
}

/// The terms, the policies asking for them and every acceptance.
///
/// **Permissions:** global administrators.
pub async fn detail(store: &Store, actor: &Principal, id: &str) -> Result<TermsDetail> {
    actor.require(Permission::ManagePolicies)?;
    let mut db = store.read().await?;
    let terms = from_row(own(&mut db, &actor.tenant_id, id).await?);
    let acceptances = store::terms::acceptances(&mut db, id)
        .await?
        .into_iter()
        .map(|a| TermsAcceptance {
            user_id: a.user_id,
            display_name: a.display_name,
            email: a.email,
            version: a.version,
            accepted_at: a.accepted_at,
        })
        .collect();
    drop(db);
    Ok(TermsDetail {
        policies: asking_policies(store, actor, id).await?,
        terms,
        acceptances,
    })
}

/// Adds terms of use (version 1).
///
/// **Permissions:** global administrators.
pub async fn create(
    store: &Store,
    actor: &Principal,
    name: &str,
    text: &str,
    now: i64,
) -> Result<Terms> {
    actor.require(Permission::ManagePolicies)?;
    let (name, text) = (name.trim().to_string(), normalized(text));
    check(&name, &text)?;
    let row = TermsRow {
        id: crate::new_id(),
        tenant_id: actor.tenant_id.clone(),
        name,
        text,
        version: 1,
        created_at: now,
        modified_at: now,
    };
    let mut tx = store.begin().await?;
    store::terms::insert(&mut tx, &row)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Add terms of use",
            target_type: "TermsOfUse",
            target_id: &row.id,
            target_name: &row.name,
            detail: "version 1".into(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(from_row(row))
}

/// Renames the terms or changes their text. A changed text is the next version: people
/// who accepted an earlier one are asked again.
///
/// **Permissions:** global administrators.
pub async fn update(
    store: &Store,
    actor: &Principal,
    id: &str,
    name: &str,
    text: &str,
    now: i64,
) -> Result<Terms> {
    actor.require(Permission::ManagePolicies)?;
    let (name, text) = (name.trim().to_string(), normalized(text));
    check(&name, &text)?;
    let mut tx = store.begin().await?;
    let before = own(&mut tx, &actor.tenant_id, id).await?;
    let new_text = before.text != text;
    let row = TermsRow {
        version: before.version + i64::from(new_text),
        name,
        text,
        modified_at: now,
        ..before
    };
    store::terms::update(&mut tx, &row)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    let detail = if new_text {
        format!(
            "version {}: a new text, which people accept anew",
            row.version
        )
    } else {
        format!("version {}: the text is unchanged", row.version)
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update terms of use",
            target_type: "TermsOfUse",
            target_id: id,
            target_name: &row.name,
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(from_row(row))
}

/// Deletes terms no policy asks for, with their acceptances.
///
/// **Permissions:** global administrators.
pub async fn delete(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManagePolicies)?;
    if let Some(policy) = asking_policies(store, actor, id).await?.first() {
        return Err(Error::Conflict(format!(
            "The policy \u{201c}{policy}\u{201d} asks people to accept these terms: take them out of it (or delete it) first."
        )));
    }
    let mut tx = store.begin().await?;
    let before = own(&mut tx, &actor.tenant_id, id).await?;
    store::terms::delete(&mut tx, &actor.tenant_id, id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Delete terms of use",
            target_type: "TermsOfUse",
            target_id: id,
            target_name: &before.name,
            detail: format!("at version {}", before.version),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The person's user in the organization whose terms these are, and that organization's
/// name; terms of an organization the person is not in do not exist for them.
fn membership<'a>(
    signed_in: &'a SignedIn,
    row: &TermsRow,
) -> Result<&'a store::sessions::Membership> {
    signed_in
        .memberships
        .iter()
        .find(|m| m.tenant_id == row.tenant_id)
        .ok_or(Error::NotFound("terms of use"))
}

/// The terms `id` as the signed-in person is asked to accept them, and whether they have
/// accepted this version.
///
/// **Permissions:** anyone signed in with a user in the terms' organization.
pub async fn to_accept(store: &Store, signed_in: &SignedIn, id: &str) -> Result<TermsToAccept> {
    let mut db = store.read().await?;
    let row = store::terms::by_id(&mut db, id)
        .await?
        .ok_or(Error::NotFound("terms of use"))?;
    let membership = membership(signed_in, &row)?;
    let accepted_at =
        store::terms::accepted_at(&mut db, id, &membership.user_id, row.version).await?;
    Ok(TermsToAccept {
        organization: membership.tenant_name.clone(),
        accepted_at,
        terms: from_row(row),
    })
}

/// Records that the signed-in person accepts `version` of the terms `id`, as their user
/// in the terms' organization, and audits it there. The version must be the one in force:
/// terms changed while the person read them are shown again.
///
/// **Permissions:** anyone signed in with a user in the terms' organization.
pub async fn accept(
    store: &Store,
    signed_in: &SignedIn,
    id: &str,
    version: i64,
    now: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let row = store::terms::by_id(&mut tx, id)
        .await?
        .ok_or(Error::NotFound("terms of use"))?;
    let membership = membership(signed_in, &row)?;
    if version != row.version {
        return Err(Error::Conflict(
            "These terms changed while you read them. Read the new version, then accept it.".into(),
        ));
    }
    if !store::terms::accept(&mut tx, id, &membership.user_id, version, now).await? {
        // Accepted already (another tab): nothing more to record.
        return Ok(());
    }
    let name = &signed_in.me.display_name;
    let actor = Principal::user(
        &row.tenant_id,
        &membership.user_id,
        name,
        Vec::new(),
        membership.user_type == types::UserType::Guest,
        signed_in.principal.ip.as_deref(),
    );
    audit::record(
        &mut tx,
        &actor,
        now,
        Change {
            action: "Accept terms of use",
            target_type: "TermsOfUse",
            target_id: id,
            target_name: &row.name,
            detail: format!("version {version}"),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The ids of the terms whose version in force the user accepted: read by conditional
/// access when a policy in force asks for terms.
pub async fn accepted_by(store: &Store, user_id: &str) -> Result<Vec<String>> {
    store::terms::accepted_current(&mut *store.read().await?, user_id).await
}
