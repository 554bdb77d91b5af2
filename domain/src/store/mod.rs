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

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqlitePool};

use crate::{Error, Result};

/// A write transaction on the writer's connection. Dropped without [`Tx::commit`] (an
/// error, or a request that went away at any await, even while its `BEGIN` or `COMMIT`
/// was on the way), it rolls back before the connection is handed on: a connection is
/// never left inside a transaction nobody owns.
///
/// Not sqlx's `Transaction`: a custom `BEGIN IMMEDIATE` there takes a second trip to the
/// connection's thread after the `BEGIN`, and a request dropped between the two leaves
/// the connection inside an open transaction that every later `BEGIN` refuses.
pub struct Tx {
    conn: Option<PoolConnection<Sqlite>>,
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(mut self) -> Result<()> {
        sqlx::query("COMMIT").execute(&mut *self).await?;
        // Committed: the connection goes back to the pool as it is.
        self.conn = None;
        Ok(())
    }
}

impl Deref for Tx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        // Only `commit` (which consumes the Tx) and `drop` take the connection.
        self.conn.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            // The connection goes back to the pool once the rollback has run.
            Ok(runtime) => {
                runtime.spawn(roll_back(conn));
            }
            // No runtime to roll back on: the connection is closed, which ends its
            // transaction, and the pool opens a fresh one.
            Err(_) => {
                let mut conn = conn;
                conn.close_on_drop();
            }
        }
    }
}

/// Ends whatever transaction is open on `conn`. ROLLBACK only fails when none is (a failed
/// BEGIN, a COMMIT that went through, or one SQLite rolled back itself); if anything else
/// is wrong, the connection is closed rather than handed on, and the pool opens a fresh
/// one.
async fn roll_back(mut conn: PoolConnection<Sqlite>) {
    let ended = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    if let Err(error) = ended
        && !error.to_string().contains("no transaction is active")
    {
        conn.close_on_drop();
    }
}

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
        let mut tx = Tx {
            conn: Some(self.write.acquire().await?),
        };
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *tx).await?;
        Ok(tx)
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
                roll_back(conn).await;
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
