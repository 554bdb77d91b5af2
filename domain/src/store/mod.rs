//! The store: every SQL statement Portico runs lives below this module, so that a second
//! backend (PostgreSQL) is added in one place. SQLite runs in WAL mode with foreign keys
//! on; writes go through a single connection so that they queue instead of failing with
//! "database is locked", while reads use a pool of their own.

pub mod access;
pub mod accounts;
pub mod apps;
pub mod audit;
pub mod federation;
pub mod groups;
pub mod invitations;
pub mod oidc;
pub mod outbox;
pub mod sessions;
pub mod setup;
pub mod tenants;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::{Error, Result};

/// A write transaction.
pub type Tx = Transaction<'static, Sqlite>;

/// The connection pools behind Portico's data.
#[derive(Clone, Debug)]
pub struct Store {
    read: SqlitePool,
    write: SqlitePool,
}

impl Store {
    /// Opens (creating it if needed) the SQLite database at `url`
    /// (`sqlite://path/to/file.db`) and applies the embedded migrations.
    pub async fn open(url: &str) -> Result<Store> {
        if !url.starts_with("sqlite:") {
            return Err(Error::Conflict(format!(
                "Unsupported database URL '{url}': this build stores data in SQLite; use sqlite://path/to/portico.db"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        // A file-backed SQLite connection does not go stale, so handing one out needs no
        // test query first (that would cost a round trip to its thread each time).
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store { read, write })
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock at once, so a
    /// transaction never fails half-way because another process wrote first.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Runs `batch`, statements that begin and commit a transaction of their own, in one
    /// trip to the writer's thread, so that the write lock is held for the statements
    /// alone and never while a request waits for its turn on a worker. It runs on a task
    /// of its own: a request that goes away cannot stop it halfway. When a statement
    /// fails, the transaction is rolled back before the connection is handed on. Returns
    /// the rows the batch's queries gave.
    pub(crate) async fn write_batch(
        &self,
        batch: sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments<'static>>,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
        let pool = self.write.clone();
        let run = tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            let done = batch.fetch_all(&mut *conn).await;
            if done.is_err() {
                // Nothing else can be open on this connection: ending it is always right.
                // ROLLBACK only fails when no transaction is open (a failed BEGIN, or one
                // SQLite rolled back itself); if anything else is wrong, the connection is
                // closed rather than handed on, and the pool opens a fresh one.
                let ended = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                if let Err(error) = ended
                    && !error.to_string().contains("no transaction is active")
                {
                    conn.close_on_drop();
                }
            }
            done
        });
        match run.await {
            Ok(done) => Ok(done?),
            Err(_) => Err(sqlx::Error::WorkerCrashed.into()),
        }
    }

    /// Closes both pools, letting running statements finish.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
