//! SQL for terms of use and their acceptances (see `domain::terms`).

use crate::Result;

/// Terms of use as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TermsRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub text: String,
    pub version: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

/// An acceptance, with who accepted.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AcceptanceRow {
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub version: i64,
    pub accepted_at: i64,
}

const COLUMNS: &str =
    "SELECT id, tenant_id, name, text, version, created_at, modified_at FROM terms_of_use";

/// The organization's terms of use, by name.
pub async fn list(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<TermsRow>> {
    Ok(sqlx::query_as(&format!(
        "{COLUMNS} WHERE tenant_id = $1 ORDER BY lower(name), id"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

/// Terms of use by id, in whichever organization they are.
pub async fn by_id(db: &mut sqlx::AnyConnection, id: &str) -> Result<Option<TermsRow>> {
    Ok(sqlx::query_as(&format!("{COLUMNS} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

pub async fn insert(db: &mut sqlx::AnyConnection, row: &TermsRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO terms_of_use (id, tenant_id, name, text, version, created_at, modified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.tenant_id)
    .bind(&row.name)
    .bind(&row.text)
    .bind(row.version)
    .bind(row.created_at)
    .bind(row.modified_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update(db: &mut sqlx::AnyConnection, row: &TermsRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE terms_of_use SET name = $3, text = $4, version = $5, modified_at = $6
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&row.tenant_id)
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.text)
    .bind(row.version)
    .bind(row.modified_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM terms_of_use WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records that `user_id` accepted `version` of the terms; a second acceptance of one
/// version keeps the first's time. False when it was recorded already.
pub async fn accept(
    db: &mut sqlx::AnyConnection,
    terms_id: &str,
    user_id: &str,
    version: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO terms_acceptances (terms_id, user_id, version, accepted_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (terms_id, user_id, version) DO NOTHING",
    )
    .bind(terms_id)
    .bind(user_id)
    .bind(version)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The ids of the terms whose current version `user_id` accepted.
pub async fn accepted_current(db: &mut sqlx::AnyConnection, user_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT a.terms_id FROM terms_acceptances a
           JOIN terms_of_use t ON t.id = a.terms_id AND t.version = a.version
          WHERE a.user_id = $1
          ORDER BY a.terms_id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// When `user_id` accepted `version` of the terms, if they did.
pub async fn accepted_at(
    db: &mut sqlx::AnyConnection,
    terms_id: &str,
    user_id: &str,
    version: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT accepted_at FROM terms_acceptances
          WHERE terms_id = $1 AND user_id = $2 AND version = $3",
    )
    .bind(terms_id)
    .bind(user_id)
    .bind(version)
    .fetch_optional(db)
    .await?)
}

/// Every acceptance of the terms, latest first, with who accepted.
pub async fn acceptances(
    db: &mut sqlx::AnyConnection,
    terms_id: &str,
) -> Result<Vec<AcceptanceRow>> {
    Ok(sqlx::query_as(
        "SELECT a.user_id, u.display_name, u.email, a.version, a.accepted_at
           FROM terms_acceptances a JOIN users u ON u.id = a.user_id
          WHERE a.terms_id = $1
          ORDER BY a.accepted_at DESC, a.version DESC, lower(u.email)",
    )
    .bind(terms_id)
    .fetch_all(db)
    .await?)
}
