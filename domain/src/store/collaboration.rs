//! SQL for the external collaboration settings and the collaboration restrictions' list.

use sqlx::AnyConnection;

use super::sql::Sql;
use types::{AllowInvitesFrom, DomainListKind, ExternalCollaboration, GuestAccess};

use crate::{Error, Result};

/// The tenant's settings and list, or `None` for an unknown tenant. A value the schema's
/// checks let through but this build does not know is an error, not a silent default.
pub async fn read(
    db: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Option<ExternalCollaboration>> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT name, allow_invites_from, guest_user_role_id, collaboration_list
         FROM tenants WHERE id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(&mut *db)
    .await?;
    let Some((tenant_name, allow, guest, list)) = row else {
        return Ok(None);
    };
    let unknown = |what: &str, value: &str| {
        Error::Storage(sqlx::Error::Decode(
            format!("unknown {what} {value:?}").into(),
        ))
    };
    let domains = sqlx::query_scalar(
        "SELECT entry FROM collaboration_domains WHERE tenant_id = $1 ORDER BY entry",
    )
    .bind(tenant_id)
    .fetch_all(&mut *db)
    .await?;
    Ok(Some(ExternalCollaboration {
        tenant_name,
        allow_invites_from: AllowInvitesFrom::parse(&allow)
            .ok_or_else(|| unknown("allowInvitesFrom", &allow))?,
        guest_access: GuestAccess::from_role_id(&guest)
            .ok_or_else(|| unknown("guestUserRoleId", &guest))?,
        list_kind: DomainListKind::parse(&list).ok_or_else(|| unknown("list kind", &list))?,
        domains,
    }))
}

pub async fn set_allow_invites_from(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    value: AllowInvitesFrom,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET allow_invites_from = $1 WHERE id = $2")
        .bind(value.as_str())
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_guest_access(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    value: GuestAccess,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET guest_user_role_id = $1 WHERE id = $2")
        .bind(value.role_id())
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces the list with `entries` (already checked), of `kind`.
pub async fn replace_list(
    db: &mut AnyConnection,
    tenant_id: &str,
    kind: DomainListKind,
    entries: &[String],
) -> Result<()> {
    sqlx::query("UPDATE tenants SET collaboration_list = $1 WHERE id = $2")
        .bind(kind.as_str())
        .bind(tenant_id)
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM collaboration_domains WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(&mut *db)
        .await?;
    if !entries.is_empty() {
        let mut insert = Sql::new("INSERT INTO collaboration_domains (tenant_id, entry) VALUES ");
        for (i, entry) in entries.iter().enumerate() {
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(tenant_id.to_string()).push(", ");
            insert.push_bind(entry.to_string()).push(")");
        }
        insert.build().execute(&mut *db).await?;
    }
    Ok(())
}
