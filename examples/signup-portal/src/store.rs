//! The portal's own SQLite database: requests, decisions and approvers' sessions.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// A partner's request, with its decision once there is one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Request {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub company: String,
    pub reason: String,
    /// When it came, in UTC, as SQLite writes it.
    pub created: String,
    pub status: String,
    pub rule_domain: Option<String>,
    pub decided: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_by_email: Option<String>,
    pub comment: String,
    pub problem: Option<String>,
}

/// What the form gave, checked.
pub struct NewRequest<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub company: &'a str,
    pub reason: &'a str,
}

/// An approver signed in here.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub csrf: String,
    pub user_id: String,
    pub name: String,
    pub email: String,
}

/// How a decision ends a request.
pub struct Decision<'a> {
    pub status: &'a str,
    pub by_name: Option<&'a str>,
    pub by_email: Option<&'a str>,
    pub comment: &'a str,
    pub invitation_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub problem: Option<&'a str>,
}

const COLUMNS: &str = "id, name, email, company, reason, \
    strftime('%Y-%m-%d %H:%M UTC', created_at, 'unixepoch') AS created, status, rule_domain, \
    strftime('%Y-%m-%d %H:%M UTC', decided_at, 'unixepoch') AS decided, decided_by_name, \
    decided_by_email, comment, problem";

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Store {
    /// Opens (or creates) the database and brings its tables up to date.
    pub async fn open(path: &Path) -> Result<Store, String> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| e.to_string())?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| format!("cannot update the database {}: {e}", path.display()))?;
        Ok(Store { pool })
    }

    /// Files a request; `None` when the address has one waiting already.
    pub async fn add(
        &self,
        new: &NewRequest<'_>,
        rule_domain: Option<&str>,
    ) -> sqlx::Result<Option<i64>> {
        let inserted = sqlx::query(
            "INSERT INTO requests (name, email, company, reason, created_at, status, rule_domain)
             VALUES (?, ?, ?, ?, ?, 'pending', ?)",
        )
        .bind(new.name)
        .bind(new.email)
        .bind(new.company)
        .bind(new.reason)
        .bind(now())
        .bind(rule_domain)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(done) => Ok(Some(done.last_insert_rowid())),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn get(&self, id: i64) -> sqlx::Result<Option<Request>> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM requests WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Requests waiting for an approver, oldest first.
    pub async fn pending(&self) -> sqlx::Result<Vec<Request>> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM requests WHERE status = 'pending' ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
    }

    /// Decided requests, newest decision first.
    pub async fn history(&self) -> sqlx::Result<Vec<Request>> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM requests WHERE status <> 'pending' ORDER BY decided_at DESC, id DESC"
        ))
        .fetch_all(&self.pool)
        .await
    }

    /// Ends a waiting request; false if it was decided already.
    pub async fn decide(&self, id: i64, decision: &Decision<'_>) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE requests SET status = ?, decided_at = ?, decided_by_name = ?, decided_by_email = ?,
                 comment = ?, invitation_id = ?, user_id = ?, problem = ?
             WHERE id = ? AND status = 'pending'",
        )
        .bind(decision.status)
        .bind(now())
        .bind(decision.by_name)
        .bind(decision.by_email)
        .bind(decision.comment)
        .bind(decision.invitation_id)
        .bind(decision.user_id)
        .bind(decision.problem)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Notes why a waiting request could not be approved; it stays waiting.
    pub async fn note_problem(&self, id: i64, problem: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE requests SET problem = ? WHERE id = ? AND status = 'pending'")
            .bind(problem)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn start_session(
        &self,
        id: &str,
        session: &Session,
        lifetime: i64,
    ) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at < ?")
            .bind(now())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id, csrf, user_id, name, email, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&session.csrf)
        .bind(&session.user_id)
        .bind(&session.name)
        .bind(&session.email)
        .bind(now() + lifetime)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, id: &str) -> sqlx::Result<Option<Session>> {
        sqlx::query_as(
            "SELECT csrf, user_id, name, email FROM sessions WHERE id = ? AND expires_at > ?",
        )
        .bind(id)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn end_session(&self, id: &str) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
