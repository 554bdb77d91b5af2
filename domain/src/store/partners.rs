//! SQL for cross-tenant access settings (see `domain::partners`).

use crate::Result;

/// A partner's row (`partner` empty: the default).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub partner: String,
    #[sqlx(try_from = "types::SqlFlag")]
    pub trust_mfa: bool,
    #[sqlx(try_from = "types::SqlFlag")]
    pub inbound_blocked: bool,
    pub updated_at: i64,
    /// A provider's `acr` values meaning multi-factor, space-separated.
    pub mfa_acr: String,
}

const COLUMNS: &str =
    "SELECT partner, trust_mfa, inbound_blocked, updated_at, mfa_acr FROM partner_settings";

/// The organization's settings, the default first.
pub async fn list(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<PartnerRow>> {
    Ok(
        sqlx::query_as(&format!("{COLUMNS} WHERE tenant_id = $1 ORDER BY partner"))
            .bind(tenant_id)
            .fetch_all(db)
            .await?,
    )
}

/// The settings for `partner` and the default (at most two rows, the default first).
pub async fn for_partner(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    partner: &str,
) -> Result<Vec<PartnerRow>> {
    Ok(sqlx::query_as(&format!(
        "{COLUMNS} WHERE tenant_id = $1 AND partner IN ('', $2) ORDER BY partner"
    ))
    .bind(tenant_id)
    .bind(partner)
    .fetch_all(db)
    .await?)
}

pub async fn upsert(db: &mut sqlx::AnyConnection, tenant_id: &str, row: &PartnerRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO partner_settings (tenant_id, partner, trust_mfa, inbound_blocked, updated_at, mfa_acr)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, partner) DO UPDATE
            SET trust_mfa = $3, inbound_blocked = $4, updated_at = $5, mfa_acr = $6",
    )
    .bind(tenant_id)
    .bind(&row.partner)
    .bind(i64::from(row.trust_mfa))
    .bind(i64::from(row.inbound_blocked))
    .bind(row.updated_at)
    .bind(&row.mfa_acr)
    .execute(db)
    .await?;
    Ok(())
}

/// The `acr` values (space-separated) by which the partner `partner`'s provider says it
/// used more than one factor, as `tenant_id` set them; empty when it set none.
pub async fn mfa_acr(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    partner: &str,
) -> Result<String> {
    Ok(sqlx::query_scalar(
        "SELECT mfa_acr FROM partner_settings WHERE tenant_id = $1 AND partner = $2",
    )
    .bind(tenant_id)
    .bind(partner)
    .fetch_optional(db)
    .await?
    .unwrap_or_default())
}

/// False when there was none.
pub async fn delete(db: &mut sqlx::AnyConnection, tenant_id: &str, partner: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM partner_settings WHERE tenant_id = $1 AND partner = $2")
        .bind(tenant_id)
        .bind(partner)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The primary domains of the other organizations on this Portico whose people
/// `tenant_id` keeps out: by their own settings, else by the default.
pub async fn blocked_domains(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT t.primary_domain FROM tenants t
           LEFT JOIN partner_settings p ON p.tenant_id = $1 AND p.partner = 'tenant:' || t.id
           LEFT JOIN partner_settings d ON d.tenant_id = $1 AND d.partner = ''
          WHERE t.id <> $1 AND COALESCE(p.inbound_blocked, d.inbound_blocked, 0) = 1",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}
