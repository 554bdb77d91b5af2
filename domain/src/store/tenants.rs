//! SQL for tenants.

use types::{Tenant, TenantSettings};

use super::sql::Sql;

use crate::Result;

pub async fn insert(db: &mut sqlx::AnyConnection, tenant: &Tenant, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO tenants (id, name, slug, primary_domain, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&tenant.id)
    .bind(&tenant.name)
    .bind(&tenant.slug)
    .bind(&tenant.primary_domain)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn count(db: &mut sqlx::AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
        .fetch_one(db)
        .await?)
}

/// A tenant by its id, its slug or its primary domain: how operators name it on the
/// command line.
pub async fn find(db: &mut sqlx::AnyConnection, key: &str) -> Result<Option<Tenant>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, name, slug, primary_domain FROM tenants
          WHERE id = $1 OR slug = $1 OR {} = $1",
        super::nocase(db, "primary_domain")
    ))
    .bind(super::folded(key))
    .fetch_optional(db)
    .await?)
}

pub async fn slug_taken(db: &mut sqlx::AnyConnection, slug: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, types::SqlFlag>(
        "SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = $1)",
    )
    .bind(slug)
    .fetch_one(db)
    .await?
    .0)
}

pub async fn settings(db: &mut sqlx::AnyConnection, id: &str) -> Result<Option<TenantSettings>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        settings: TenantSettings,
        redemption_order: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT name, primary_domain, invitation_lifetime_days, privacy_url, redemption_order
         FROM tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| TenantSettings {
        redemption_order: types::RedemptionOrder::from_setting(&r.redemption_order),
        ..r.settings
    }))
}

pub async fn update_settings(
    db: &mut sqlx::AnyConnection,
    id: &str,
    lifetime_days: i64,
    privacy_url: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET invitation_lifetime_days = $1, privacy_url = $2 WHERE id = $3")
        .bind(lifetime_days)
        .bind(privacy_url)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The domains a tenant holds, in order.
pub async fn domains(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar(
            "SELECT domain FROM tenant_domains WHERE tenant_id = $1 ORDER BY domain",
        )
        .bind(tenant_id)
        .fetch_all(db)
        .await?,
    )
}

/// The domains a tenant holds, and those other tenants hold under them; with whether the
/// tenant holds each.
pub async fn domains_within(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<Vec<(String, bool)>> {
    let domains: Vec<(String, types::SqlFlag)> = sqlx::query_as(
        "SELECT d.domain, d.tenant_id = $1 FROM tenant_domains d
         WHERE d.tenant_id = $1
            OR EXISTS (SELECT 1 FROM tenant_domains m
                       WHERE m.tenant_id = $1 AND d.domain LIKE '%.' || m.domain)
         ORDER BY d.domain",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?;
    Ok(domains
        .into_iter()
        .map(|(domain, own)| (domain, own.into()))
        .collect())
}

/// Domains held by any tenant that are `domain`, above it (in `parents`) or under it, with
/// the tenant holding each.
pub async fn overlapping_domains(
    db: &mut sqlx::AnyConnection,
    domain: &str,
    parents: &[&str],
) -> Result<Vec<(String, String)>> {
    // Domain names hold no `%` or `_` (validated), so LIKE matches the suffix literally;
    // they are kept in lower case, so LIKE's case rules (SQLite's ignore ASCII case,
    // PostgreSQL's do not) do not matter.
    let mut query = Sql::new("SELECT domain, tenant_id FROM tenant_domains WHERE domain = ");
    query.push_bind(domain.to_string());
    query.push(" OR domain LIKE '%.' || ");
    query.push_bind(domain.to_string());
    if !parents.is_empty() {
        query.push(" OR domain IN (");
        query.push_binds(parents.iter().map(|parent| parent.to_string()), ", ");
        query.push(")");
    }
    query.push(" ORDER BY domain");
    Ok(query.build_query_as().fetch_all(db).await?)
}

pub async fn insert_domain(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO tenant_domains (domain, tenant_id, added_at) VALUES ($1, $2, $3)")
        .bind(domain)
        .bind(tenant_id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn delete_domain(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM tenant_domains WHERE tenant_id = $1 AND domain = $2")
        .bind(tenant_id)
        .bind(domain)
        .execute(db)
        .await?;
    Ok(())
}

/// How many of the tenant's members have addresses at `domain` or under it.
pub async fn members_at(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain: &str,
) -> Result<i64> {
    count_members(db, tenant_id, domain, true).await
}

/// How many members of other tenants have addresses at `domain` or under it.
pub async fn members_elsewhere(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain: &str,
) -> Result<i64> {
    count_members(db, tenant_id, domain, false).await
}

/// Members at `domain` or under it, of the tenant (`own`) or of the others.
async fn count_members(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain: &str,
    own: bool,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE (tenant_id = $1) = $3 AND user_type = 'Member'
         AND (email LIKE '%@' || $2 OR email LIKE '%.' || $2)",
    )
    .bind(tenant_id)
    .bind(domain)
    .bind(own)
    .fetch_one(db)
    .await?)
}
