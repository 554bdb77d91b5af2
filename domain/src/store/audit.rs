//! SQL for the audit trail.

use super::sql::Sql;

use types::{ActorKind, AuditCheckpoint, AuditEvent, ChainedEvent};

use crate::Result;

pub struct NewEvent<'a> {
    pub tenant_id: &'a str,
    pub at: i64,
    pub actor_id: Option<&'a str>,
    pub actor_name: &'a str,
    pub actor_kind: ActorKind,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub target_name: &'a str,
    pub detail: &'a str,
    pub ip: Option<&'a str>,
}

/// Writes the event, not yet chained; its id.
pub async fn insert(db: &mut sqlx::AnyConnection, event: NewEvent<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO audit_events (tenant_id, at, actor_id, actor_name, actor_kind, action, target_type, target_id, target_name, detail, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(event.tenant_id)
    .bind(event.at)
    .bind(event.actor_id)
    .bind(event.actor_name)
    .bind(event.actor_kind)
    .bind(event.action)
    .bind(event.target_type)
    .bind(event.target_id)
    .bind(event.target_name)
    .bind(event.detail)
    .bind(event.ip)
    .fetch_one(db)
    .await?)
}

const CHAINED: &str =
    "SELECT id, tenant_id, at, actor_id, actor_name, actor_kind, action, target_type,
        target_id, target_name, detail, ip, COALESCE(prev_hash, '') AS prev_hash,
        COALESCE(hash, '') AS hash FROM audit_events";

/// The tenant's newest event that is chained (every event is, once the store has opened).
pub async fn chain_head(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    before: Option<i64>,
) -> Result<Option<ChainedEvent>> {
    Ok(sqlx::query_as(&format!(
        "{CHAINED} WHERE tenant_id = $1 AND hash IS NOT NULL AND id < $2 ORDER BY id DESC LIMIT 1"
    ))
    .bind(tenant_id)
    .bind(before.unwrap_or(i64::MAX))
    .fetch_optional(db)
    .await?)
}

/// The expression of [`head_hash`], for the tenant `$1`.
macro_rules! head_hash_sql {
    () => {
        "coalesce(
            (SELECT hash FROM audit_events WHERE tenant_id = $1 AND hash IS NOT NULL
              ORDER BY id DESC LIMIT 1),
            (SELECT event_hash FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1),
            '')"
    };
}

/// The hash the tenant's next event follows: its newest chained event's, or, when pruning
/// removed every event, its newest checkpoint's; empty for a chain not begun.
pub async fn head_hash(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<String> {
    Ok(sqlx::query_scalar(concat!("SELECT ", head_hash_sql!()))
        .bind(tenant_id)
        .fetch_one(db)
        .await?)
}

/// PostgreSQL: the id the tenant's next event takes and the hash it follows (see
/// [`head_hash`]), in one trip; `None` on SQLite, where the id comes with the row
/// ([`insert`]). The caller holds the tenant's chain lock.
pub async fn next_id_and_head(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<Option<(i64, String)>> {
    if !super::is_postgres(db) {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_as(concat!(
            "SELECT nextval(pg_get_serial_sequence('audit_events', 'id')), ",
            head_hash_sql!()
        ))
        .bind(tenant_id)
        .fetch_one(db)
        .await?,
    ))
}

/// Writes an event already chained, with its id (from [`next_id_and_head`]).
pub async fn insert_chained(db: &mut sqlx::AnyConnection, event: &ChainedEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, at, actor_id, actor_name, actor_kind, action,
            target_type, target_id, target_name, detail, ip, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(event.id)
    .bind(&event.tenant_id)
    .bind(event.at)
    .bind(&event.actor_id)
    .bind(&event.actor_name)
    .bind(event.actor_kind)
    .bind(&event.action)
    .bind(&event.target_type)
    .bind(&event.target_id)
    .bind(&event.target_name)
    .bind(&event.detail)
    .bind(&event.ip)
    .bind(&event.prev_hash)
    .bind(&event.hash)
    .execute(db)
    .await?;
    Ok(())
}

/// Sets an event's place in the chain.
pub async fn seal(
    db: &mut sqlx::AnyConnection,
    id: i64,
    prev_hash: &str,
    hash: &str,
) -> Result<()> {
    sqlx::query("UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE id = $3")
        .bind(prev_hash)
        .bind(hash)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Events not chained yet (written before the chain existed), oldest first, at most `limit`.
pub async fn unchained(db: &mut sqlx::AnyConnection, limit: i64) -> Result<Vec<ChainedEvent>> {
    Ok(sqlx::query_as(&format!(
        "{CHAINED} WHERE hash IS NULL ORDER BY id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The tenant's events after `after_id`, oldest first, at most `limit`, as chained.
pub async fn chained_page(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<ChainedEvent>> {
    Ok(sqlx::query_as(&format!(
        "{CHAINED} WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// How many events the tenant's trail holds.
pub async fn count(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(db)
            .await?,
    )
}

/// What to look for in the audit trail; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Matches the start of the actor's name.
    pub actor: String,
    /// Matches the start of the target's name, or its id exactly.
    pub target: String,
    /// Matches the action exactly.
    pub action: String,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

fn push_filter(query: &mut Sql, tenant_id: &str, filter: &Filter) {
    query
        .push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if !filter.actor.is_empty() {
        query
            .push(" AND actor_name LIKE ")
            .push_bind(format!("{}%", escape_like(&filter.actor)))
            .push(" ESCAPE '\\'");
    }
    if !filter.target.is_empty() {
        query
            .push(" AND (target_id = ")
            .push_bind(filter.target.clone())
            .push(" OR target_name LIKE ")
            .push_bind(format!("{}%", escape_like(&filter.target)))
            .push(" ESCAPE '\\')");
    }
    if !filter.action.is_empty() {
        query
            .push(" AND action = ")
            .push_bind(filter.action.clone());
    }
    if let Some(from) = filter.from {
        query.push(" AND at >= ").push_bind(from);
    }
    if let Some(until) = filter.until {
        query.push(" AND at < ").push_bind(until);
    }
}

/// Makes `%`, `_` and `\` match themselves in a LIKE pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

pub async fn list(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AuditEvent>, i64)> {
    let mut count = Sql::new("SELECT COUNT(*) FROM audit_events");
    push_filter(&mut count, tenant_id, filter);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *db).await?;
    let mut query = Sql::new(
        "SELECT id, at, actor_id, actor_name, actor_kind, action, target_type, target_id, target_name, detail, ip FROM audit_events",
    );
    push_filter(&mut query, tenant_id, filter);
    query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let events = query.build_query_as().fetch_all(&mut *db).await?;
    Ok((events, total))
}

pub async fn actions(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT action FROM audit_events WHERE tenant_id = $1 ORDER BY action",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

/// What a listing of Graph's `/auditLogs` asks for, newest first. Empty fields match
/// everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    /// The audit trail: who acted. Sign-ins: the user (`actor_kind` unused).
    pub actor: Option<(ActorKind, String)>,
    /// Sign-ins only: the app signed in to.
    pub app_id: Option<String>,
    /// Only events older than this one (the id of the last of the previous page).
    pub before: Option<i64>,
}

/// A page of the tenant's audit events, newest first.
pub async fn log_page(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    query: &LogQuery,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    let mut sql = Sql::new(
        "SELECT id, at, actor_id, actor_name, actor_kind, action, target_type, target_id, target_name, detail, ip FROM audit_events WHERE tenant_id = ",
    );
    sql.push_bind(tenant_id.to_string());
    if let Some(from) = query.from {
        sql.push(" AND at >= ").push_bind(from);
    }
    if let Some(until) = query.until {
        sql.push(" AND at < ").push_bind(until);
    }
    if let Some((kind, id)) = &query.actor {
        sql.push(" AND actor_kind = ")
            .push_bind(*kind)
            .push(" AND actor_id = ")
            .push_bind(id.clone());
    }
    if let Some(before) = query.before {
        sql.push(" AND id < ").push_bind(before);
    }
    sql.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(db).await?)
}

/// Each organization that keeps its events for a limited time, and for how many days.
pub async fn retention_settings(db: &mut sqlx::AnyConnection) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT id, audit_retention_days FROM tenants WHERE audit_retention_days IS NOT NULL",
    )
    .fetch_all(db)
    .await?)
}

/// How many days the organization keeps its events; `None` keeps them for good.
pub async fn retention_days(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT audit_retention_days FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

pub async fn set_retention_days(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    days: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET audit_retention_days = $1 WHERE id = $2")
        .bind(days)
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Where the next pruning of at most `limit` events cuts: the newest of the tenant's
/// oldest `limit` events written before `cutoff`.
pub async fn prune_cut(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    cutoff: i64,
    limit: i64,
) -> Result<Option<ChainedEvent>> {
    Ok(sqlx::query_as(&format!(
        "{CHAINED} WHERE id = (SELECT MAX(id) FROM (SELECT id FROM audit_events
                                WHERE tenant_id = $1 AND at < $2 ORDER BY id LIMIT $3) oldest)
                     AND tenant_id = $1"
    ))
    .bind(tenant_id)
    .bind(cutoff)
    .bind(limit)
    .fetch_optional(db)
    .await?)
}

/// Removes the tenant's events up to and including `id`; how many went.
pub async fn delete_through(db: &mut sqlx::AnyConnection, tenant_id: &str, id: i64) -> Result<i64> {
    let done = sqlx::query("DELETE FROM audit_events WHERE tenant_id = $1 AND id <= $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(i64::try_from(done.rows_affected()).unwrap_or(i64::MAX))
}

/// Removes at most `limit` of the tenant's sign-in events written before `cutoff`; how
/// many went.
pub async fn delete_sign_ins_before(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    cutoff: i64,
    limit: i64,
) -> Result<i64> {
    let done = sqlx::query(
        "DELETE FROM sign_in_events WHERE id IN
            (SELECT id FROM sign_in_events WHERE tenant_id = $1 AND created_at < $2 ORDER BY id LIMIT $3)",
    )
    .bind(tenant_id)
    .bind(cutoff)
    .bind(limit)
    .execute(db)
    .await?;
    Ok(i64::try_from(done.rows_affected()).unwrap_or(i64::MAX))
}

const CHECKPOINT: &str = "SELECT tenant_id, event_id, event_hash, events_removed, cutoff, at,
        signature, public_jwk FROM audit_checkpoints";

/// The tenant's newest checkpoint: where its chain now starts.
pub async fn latest_checkpoint(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<Option<AuditCheckpoint>> {
    Ok(sqlx::query_as(&format!(
        "{CHECKPOINT} WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1"
    ))
    .bind(tenant_id)
    .fetch_optional(db)
    .await?)
}

pub async fn insert_checkpoint(
    db: &mut sqlx::AnyConnection,
    checkpoint: &AuditCheckpoint,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (tenant_id, event_id, event_hash, events_removed, cutoff, at, signature, public_jwk)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&checkpoint.tenant_id)
    .bind(checkpoint.event_id)
    .bind(&checkpoint.event_hash)
    .bind(checkpoint.events_removed)
    .bind(checkpoint.cutoff)
    .bind(checkpoint.at)
    .bind(&checkpoint.signature)
    .bind(&checkpoint.public_jwk)
    .execute(db)
    .await?;
    Ok(())
}
