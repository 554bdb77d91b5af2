//! The store: every SQL statement Portico runs lives below this module. The statements are
//! written once, in SQL that SQLite and PostgreSQL both read (`$N` parameters, integers for
//! flags, no functions of one of them alone; where they must differ, [`Backend`] picks), and
//! run through sqlx's `Any` driver on either.
//!
//! SQLite (the default) runs in WAL mode with foreign keys on; writes go through a single
//! connection so that they queue instead of failing with "database is locked", reads use
//! connections of their own, and small writes on the hot path are grouped into one
//! transaction by a writer thread ([`Store::write_batch`]). PostgreSQL uses sqlx's pool and
//! plain transactions; several Portico processes may share one database. Rules of the
//! form "check, then act" run in write transactions, which on SQLite are serial (one
//! writer, `BEGIN IMMEDIATE`). On PostgreSQL a transaction of [`Store::begin`] takes one
//! transaction-scoped advisory lock first ([`POSTGRES_BEGIN`]), so those are serial there
//! too, across processes. Reads, the grouped writes (codes, tokens, sign-in events, which
//! decide nothing by reading first: one statement each) and transactions of
//! [`Store::begin_plain`] run beside them; the last lock by name just what their rules
//! decide on ([`lock`]: an invitation its address, an audit event its tenant's chain).

/// Whether whoever holds the identity (the SQL expression its parts make) at home on this
/// Portico still does: for `member:<id>` that member exists and is enabled, for
/// `account:<id>` that the account exists; other identities (an address, a partner's
/// provider) have no holder here, and count as holding. NULL when the member is gone.
macro_rules! identity_holder_enabled {
    ($($identity:literal),+) => {
        concat!(
            "CASE WHEN substr(", $($identity),+, ", 1, 7) = 'member:'
                  THEN (SELECT h.enabled FROM users h WHERE h.id = substr(", $($identity),+, ", 8))
                  WHEN substr(", $($identity),+, ", 1, 8) = 'account:'
                  THEN (SELECT COUNT(*) FROM accounts h WHERE h.id = substr(", $($identity),+, ", 9))
                  ELSE 1 END"
        )
    };
}

/// SQL that the two backends spell differently, for the few statements that build JSON,
/// take a list or hint the planner: each takes `sqlite` or `postgres` first. A statement
/// that needs them is a macro of the backend, and [`for_backend`] picks its text.
macro_rules! json_object {
    (sqlite) => {
        "json_object("
    };
    (postgres) => {
        "json_build_object("
    };
}

/// A JSON array of `$value` over the rows of the enclosing `SELECT`, in `$order`; `[]`
/// when there are none.
macro_rules! json_array_of {
    (sqlite, $value:expr, $order:expr) => {
        concat!("json_group_array(", $value, " ORDER BY ", $order, ")")
    };
    (postgres, $value:expr, $order:expr) => {
        concat!(
            "coalesce(json_agg(",
            $value,
            " ORDER BY ",
            $order,
            "), '[]')"
        )
    };
}

/// A JSON `true` or `false`, as `$condition` is.
macro_rules! json_bool {
    (sqlite, $condition:expr) => {
        concat!(
            "json(CASE WHEN ",
            $condition,
            " THEN 'true' ELSE 'false' END)"
        )
    };
    (postgres, $condition:expr) => {
        concat!("(", $condition, ")")
    };
}

/// JSON given as text (what [`Json`] reads).
macro_rules! json_text {
    (sqlite, $json:expr) => {
        $json
    };
    (postgres, $json:expr) => {
        concat!("CAST(", $json, " AS TEXT)")
    };
}

/// The strings of the JSON array `$list` (a parameter) as rows of a table `j` with one
/// column, `value`.
macro_rules! json_values {
    (sqlite, $list:literal) => {
        concat!("json_each(", $list, ") j")
    };
    (postgres, $list:literal) => {
        concat!(
            "json_array_elements_text(CAST(",
            $list,
            " AS json)) AS j(value)"
        )
    };
}

/// A join that SQLite's planner must keep in the order written (PostgreSQL's plans
/// without being told).
macro_rules! ordered_join {
    (sqlite) => {
        "CROSS JOIN"
    };
    (postgres) => {
        "JOIN"
    };
}

/// `$column = $value` for a column SQLite compares without regard to ASCII case (declared
/// `COLLATE NOCASE`, and indexed so); PostgreSQL's is indexed on `lower(column)`.
macro_rules! nocase_eq {
    (sqlite, $column:literal, $value:literal) => {
        concat!($column, " = ", $value)
    };
    (postgres, $column:literal, $value:literal) => {
        concat!("lower(", $column, ") = lower(", $value, ")")
    };
}

/// The text of `$sql!` (a statement macro taking the backend) for `$db`'s backend.
macro_rules! for_backend {
    ($db:expr, $sql:ident) => {
        if $crate::store::is_postgres($db) {
            $sql!(postgres)
        } else {
            $sql!(sqlite)
        }
    };
}

pub mod access;
pub mod accounts;
pub mod apps;
pub mod audit;
pub mod collaboration;
pub mod conditional_access;
pub mod copy;
pub mod federation;
pub mod flashes;
pub mod groups;
pub mod guest_access;
pub mod invitations;
pub mod oidc;
pub mod outbox;
pub mod owners;
pub mod partners;
pub mod passkeys;
pub mod reviews;
pub mod second_factors;
pub mod sessions;
pub mod setup;
pub mod sponsors;
mod sql;
pub mod sweeper;
pub mod tenants;
pub mod terms;
pub mod users;

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc, oneshot};

use crate::{Error, Result};

/// How long a request waits for a connection before it gives up with an error.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// Connections of one kind (read-only, or the writer), opened when first needed and
/// handed out and back in order of asking. Unlike sqlx's pool, a connection that comes
/// back costs no trip to its thread (that pool pings each one on its return, a second
/// trip per query) and no task of its own. A read left unfinished by a request that went
/// away needs no tidying: the connection's next command queues behind it. The writer's
/// transactions tidy up after themselves ([`Tx`]).
#[derive(Debug)]
struct Connections {
    options: AnyConnectOptions,
    /// Run on each connection once it is opened (the SQLite settings that live with a
    /// connection, not with the file).
    setup: &'static str,
    idle: Mutex<Vec<AnyConnection>>,
    permits: Arc<Semaphore>,
    /// Requests that found every connection in use, and how long (microseconds) they waited.
    waits: AtomicU64,
    waited_micros: AtomicU64,
}

/// How often requests found every connection of a kind in use, and how long they waited
/// in all, since the store was opened.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionWaits {
    pub waits: u64,
    pub waited: Duration,
}

impl Connections {
    fn new(options: AnyConnectOptions, setup: &'static str, size: usize) -> Arc<Connections> {
        Arc::new(Connections {
            options,
            setup,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Arc::new(Semaphore::new(size)),
            waits: AtomicU64::new(0),
            waited_micros: AtomicU64::new(0),
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<AnyConnection>> {
        // The list is only pushed to and popped from: a panic elsewhere cannot leave it
        // half-changed.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn get(self: &Arc<Self>) -> Result<Conn> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return Err(sqlx::Error::PoolClosed.into()),
            // All in use: wait in line, but not forever.
            Err(TryAcquireError::NoPermits) => {
                let started = Instant::now();
                let waited =
                    tokio::time::timeout(WAIT_LIMIT, self.permits.clone().acquire_owned()).await;
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.waits.fetch_add(1, Ordering::Relaxed);
                self.waited_micros.fetch_add(micros, Ordering::Relaxed);
                waited
                    .map_err(|_| sqlx::Error::PoolTimedOut)?
                    .map_err(|_| sqlx::Error::PoolClosed)?
            }
        };
        let idle = self.idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let mut conn = AnyConnection::connect_with(&self.options).await?;
                // A statement's text alone, so that PostgreSQL takes it as a simple query (which
                // may hold several) and the future stays Send (sqlx's `raw_sql` is not, here).
                sqlx::Executor::execute(&mut conn, self.setup).await?;
                conn
            }
        };
        Ok(Conn::Own(OwnConn {
            conn: Some(conn),
            home: self.clone(),
            _permit: permit,
        }))
    }

    fn waits(&self) -> ConnectionWaits {
        ConnectionWaits {
            waits: self.waits.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.waited_micros.load(Ordering::Relaxed)),
        }
    }

    /// Refuses new requests and closes the idle connections; those in use close when
    /// they come back.
    async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle());
        for conn in idle {
            // Closing only fails when the connection is already gone.
            let _ = conn.close().await;
        }
    }
}

/// A connection: SQLite's from [`Connections`], PostgreSQL's from sqlx's pool. It goes
/// back when dropped.
pub(crate) enum Conn {
    Own(OwnConn),
    Pooled(PoolConnection<Any>),
}

/// A connection taken from [`Connections`].
pub(crate) struct OwnConn {
    conn: Option<AnyConnection>,
    home: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

impl Conn {
    /// Closes the connection instead of handing it on; the next to ask opens a new one.
    fn discard(self) {
        match self {
            // Dropping the connection ends its thread, which closes it.
            Conn::Own(mut own) => own.conn = None,
            Conn::Pooled(pooled) => drop(pooled.detach()),
        }
    }
}

impl Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            // Only `discard` and `drop`, which end the Conn, take the connection.
            Conn::Own(own) => own.conn.as_ref().unwrap_or_else(|| unreachable!()),
            Conn::Pooled(pooled) => pooled,
        }
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Conn::Own(own) => own.conn.as_mut().unwrap_or_else(|| unreachable!()),
            Conn::Pooled(pooled) => pooled,
        }
    }
}

impl Drop for OwnConn {
    fn drop(&mut self) {
        // Back before the permit (a field, dropped after this) lets the next one in.
        if let Some(conn) = self.conn.take()
            && !self.home.permits.is_closed()
        {
            self.home.idle().push(conn);
        }
    }
}

/// A write transaction on the writer's connection. Dropped without [`Tx::commit`] (an
/// error, or a request that went away at any await, even while its `BEGIN` or `COMMIT`
/// was on the way), it rolls back before the connection is handed on: a connection is
/// never left inside a transaction nobody owns.
///
/// Not sqlx's `Transaction`: a custom `BEGIN IMMEDIATE` there takes a second trip to the
/// connection's thread after the `BEGIN`, and a request dropped between the two leaves
/// the connection inside an open transaction that every later `BEGIN` refuses.
pub struct Tx {
    conn: Option<Conn>,
    writes: Arc<AtomicU64>,
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(mut self) -> Result<()> {
        let committed = sqlx::query("COMMIT").execute(&mut *self).await;
        // Counted whether it went through or not: an uncertain write is a write.
        self.writes.fetch_add(1, Ordering::Release);
        committed?;
        // Committed: the connection goes back as it is.
        self.conn = None;
        Ok(())
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        // Only `commit` (which consumes the Tx) and `drop` take the connection.
        self.conn.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            // The connection goes back once the rollback has run. Counted as a write after
            // it: a COMMIT already on its way when the request went away still commits.
            Ok(runtime) => {
                let writes = self.writes.clone();
                runtime.spawn(async move {
                    roll_back(conn).await;
                    writes.fetch_add(1, Ordering::Release);
                });
            }
            // No runtime to roll back on: closing the connection ends its transaction.
            Err(_) => conn.discard(),
        }
    }
}

/// Ends whatever transaction is open on `conn`. ROLLBACK only fails when none is (a failed
/// BEGIN, a COMMIT that went through, or one SQLite rolled back itself); if anything else
/// is wrong, the connection is closed rather than handed on, and a fresh one is opened
/// when next needed.
async fn roll_back(mut conn: Conn) {
    let ended = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    if let Err(error) = ended
        && !error.to_string().contains("no transaction is active")
    {
        conn.discard();
    }
}

/// The statements of a batch for [`Store::write_batch`], in a savepoint of their own: the
/// batch is undone alone when one of them fails, whatever other batches share its
/// transaction.
macro_rules! batch_sql {
    ($($part:expr),+ $(,)?) => {
        concat!("SAVEPOINT batch;", $($part,)+ "RELEASE batch;")
    };
}
pub(crate) use batch_sql;

/// Statements written with [`batch_sql`], and their arguments.
pub(crate) type Batch = sqlx::query::Query<'static, Any, AnyArguments<'static>>;

/// Where a batch's rows go once they are committed, or its error.
type Answer = oneshot::Sender<Result<Vec<AnyRow>>>;

/// A batch waiting for the writer.
struct Job {
    batch: Batch,
    done: Answer,
}

/// How many batches share one transaction at most.
const GROUP: usize = 64;

/// Starts the thread that writes batches, and gives the way to hand it them.
///
/// Batches come from many requests at once, and each one alone is a few inserts: one
/// transaction for each would spend the writer's time on commits and, between them, on
/// waiting for the next request's task to be scheduled. So the thread takes every batch
/// waiting, runs them in one transaction (each in its savepoint) and commits once; batches
/// that arrive meanwhile wait for the next group. The thread runs a runtime of its own so
/// that the writer is never queued behind the requests' work (signing tokens, rendering
/// pages) on their worker threads. It ends when the last [`Store`] is dropped.
fn start_batches(write: Arc<Connections>) -> Result<mpsc::UnboundedSender<Job>> {
    let (batches, jobs) = mpsc::unbounded_channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(sqlx::Error::Io)?;
    std::thread::Builder::new()
        .name("portico-batches".into())
        .spawn(move || runtime.block_on(write_batches(write, jobs)))
        .map_err(sqlx::Error::Io)?;
    Ok(batches)
}

async fn write_batches(write: Arc<Connections>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut group = Vec::with_capacity(GROUP);
    while jobs.recv_many(&mut group, GROUP).await > 0 {
        write_group(&write, group.drain(..)).await;
    }
}

/// Runs `group` in one transaction and answers each batch once it is committed: with its
/// rows, or with its own error when it failed (and was undone alone), or with the error
/// that lost the whole transaction.
async fn write_group(write: &Arc<Connections>, mut jobs: std::vec::Drain<'_, Job>) {
    let mut conn = match write.get().await {
        Ok(conn) => conn,
        Err(error) => return fail(Vec::new(), jobs, &error),
    };
    if let Err(error) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
        roll_back(conn).await;
        return fail(Vec::new(), jobs, &error.into());
    }
    let mut ran = Vec::with_capacity(jobs.len());
    let mut lost = None;
    for Job { batch, done } in jobs.by_ref() {
        let rows = batch.fetch_all(&mut *conn).await.map_err(Error::from);
        if rows.is_err() {
            let undone = sqlx::query("ROLLBACK TO batch; RELEASE batch;")
                .execute(&mut *conn)
                .await;
            // Some errors (a full disk, say) end the whole transaction, and the savepoint
            // with it.
            if let Err(error) = undone {
                lost = Some(error);
                ran.push((done, rows));
                break;
            }
        }
        ran.push((done, rows));
    }
    if lost.is_none() {
        lost = sqlx::query("COMMIT").execute(&mut *conn).await.err();
    }
    match lost {
        None => {
            drop(conn);
            for (done, rows) in ran {
                // The request may have gone away; what it asked for is kept all the same.
                let _ = done.send(rows);
            }
        }
        Some(error) => {
            roll_back(conn).await;
            fail(ran, jobs, &error.into());
        }
    }
}

/// Answers the batches of a group whose transaction was not committed: those that ran
/// (`ran`, with their own outcome) and those that did not (`waiting`).
fn fail(
    ran: Vec<(Answer, Result<Vec<AnyRow>>)>,
    waiting: impl Iterator<Item = Job>,
    error: &Error,
) {
    let unkept = || -> Error {
        sqlx::Error::Io(std::io::Error::other(format!(
            "the write was not kept: {error}"
        )))
        .into()
    };
    for (done, rows) in ran {
        let _ = done.send(rows.and_then(|_| Err(unkept())));
    }
    for job in waiting {
        let _ = job.done.send(Err(unkept()));
    }
}

/// What was read lately, by key, standing in for the next reads of the same thing while
/// this process has written nothing since (every transaction counts, see
/// [`Store::writes`]): a change made here applies to the very next read. A change made by
/// another process on the same file (the command line) applies within [`Recent::FOR`].
#[derive(Debug)]
pub(crate) struct Recent<V>(Mutex<HashMap<String, Known<V>>>);

#[derive(Debug)]
struct Known<V> {
    value: V,
    /// [`Store::writes`] before it was read.
    writes: u64,
    read_at: Instant,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent(Mutex::new(HashMap::new()))
    }
}

impl<V: Clone> Recent<V> {
    /// How long a read stands in for the next ones at most.
    const FOR: Duration = Duration::from_secs(1);
    /// Beyond this many, what is too old to use is let go.
    const MANY: usize = 10_000;

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known<V>>> {
        // Entries are only inserted and removed whole: a panic elsewhere leaves no half.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value last read for `key`, if nothing was written since `writes` was counted
    /// and it is recent enough.
    pub(crate) fn get(&self, key: &str, writes: u64) -> Option<V> {
        let known = self.known();
        let found = known.get(key)?;
        (found.writes == writes && found.read_at.elapsed() < Self::FOR).then(|| found.value.clone())
    }

    /// Keeps `value`, read after `writes` was counted.
    pub(crate) fn put(&self, key: String, value: V, writes: u64) {
        let mut known = self.known();
        if known.len() >= Self::MANY {
            known.retain(|_, found| found.read_at.elapsed() < Self::FOR);
        }
        if known.len() < Self::MANY {
            let read_at = Instant::now();
            known.insert(
                key,
                Known {
                    value,
                    writes,
                    read_at,
                },
            );
        }
    }
}

/// A column holding JSON text, read into `T` (sqlx's own `Json` does not work through the
/// `Any` driver). Queries give JSON as text on both backends.
#[derive(Clone, Debug)]
pub struct Json<T>(pub T);

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> sqlx::Type<Any> for Json<T> {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <&str as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <&str as sqlx::Type<Any>>::compatible(ty)
    }
}

impl<'r, T: serde::de::DeserializeOwned> sqlx::Decode<'r, Any> for Json<T> {
    fn decode(
        value: sqlx::any::AnyValueRef<'r>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'r, Any>>::decode(value)?;
        Ok(Json(serde_json::from_str(text)?))
    }
}

/// An address, domain or lookup key as the store compares it: in ASCII lower case, as
/// addresses and domains are kept (`validate::email`, `validate::domain_name`). SQLite's
/// columns compare without regard to case anyway (`NOCASE`); PostgreSQL's do not, so every
/// lookup by something a person typed goes through this one rule.
pub(crate) fn folded(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// What a write transaction locks by name, on PostgreSQL, before a rule of its reads and
/// then writes, when it did not begin with [`Store::begin`]'s lock (see
/// [`Store::begin_plain`]). On SQLite the transaction holds the single writer already, and
/// taking one is nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lock<'a> {
    /// A tenant's audit chain: each event follows the one before it, so the tenant's events
    /// are written one after another.
    AuditChain(&'a str),
    /// An address in a tenant (folded): one invitation of it at a time, so that two
    /// invitations of one new address make one guest, and a new link supersedes the old.
    Address(&'a str, &'a str),
}

impl Lock<'_> {
    /// The lock's 64-bit key: the first eight bytes of the SHA-256 of its kind and parts,
    /// the same in every process.
    fn key(self) -> i64 {
        use sha2::{Digest, Sha256};
        let named = match self {
            Lock::AuditChain(tenant) => format!("audit chain\0{tenant}"),
            Lock::Address(tenant, address) => format!("address\0{tenant}\0{}", folded(address)),
        };
        let digest = Sha256::digest(named.as_bytes());
        let mut key = [0; 8];
        key.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(key)
    }
}

/// Takes `lock` until the transaction on `db` ends (PostgreSQL's transaction-scoped
/// advisory lock: other processes wait for it too); nothing on SQLite.
pub(crate) async fn lock(db: &mut AnyConnection, lock: Lock<'_>) -> Result<()> {
    if is_postgres(db) {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock.key())
            .execute(db)
            .await?;
    }
    Ok(())
}

/// Has PostgreSQL look afresh at how `table`'s rows are spread (`ANALYZE`), after a bulk
/// change: its plans rest on that, and its autovacuum may not look for a minute or more.
/// Until it did, after 100,000 members were imported, code flows ran at a sixth of their
/// rate (a user looked up by scanning). Nothing on SQLite, whose plans do without.
pub(crate) async fn refresh_statistics(db: &mut AnyConnection, table: &'static str) -> Result<()> {
    if is_postgres(db) {
        sqlx::Executor::execute(db, format!("ANALYZE {table}").as_str()).await?;
    }
    Ok(())
}

/// `column` (a column SQLite declares `COLLATE NOCASE`) as a lookup compares it with a
/// [`folded`] value, so that the lookup uses its index: the column itself on SQLite,
/// `lower(column)` on PostgreSQL, whose index on it is on that. (The column holds folded
/// text on both; compared as it is, PostgreSQL would read every row of the range.)
pub(crate) fn nocase(db: &AnyConnection, column: &str) -> String {
    if is_postgres(db) {
        format!("lower({column})")
    } else {
        column.to_string()
    }
}

/// Whether `db` is a PostgreSQL connection, for the few statements the two backends do not
/// share.
pub(crate) fn is_postgres(db: &AnyConnection) -> bool {
    db.backend_name() == "PostgreSQL"
}

/// The migrations this build carries for each backend, applied at start. PostgreSQL's
/// start from the schema SQLite's reached when PostgreSQL came: what a migration adds
/// later is written for both.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database holds Portico's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or why it names none.
    pub fn of(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Conflict(format!(
                "Unsupported database URL '{url}': use sqlite://path/to/portico.db (the default) or postgres://user@host/database"
            )))
        }
    }

    fn migrations(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// How a write transaction starts on PostgreSQL: it takes a transaction-scoped advisory
/// lock (the key is "PORTICO" in ASCII), so that rules which read and then write (the last
/// global administrator, sign-in throttles, single-use codes and tickets, domain overlap)
/// see no other writer between the two, in this process or another, as on SQLite. Sent as
/// one simple query: one trip, and a request dropped after it leaves nothing half-begun
/// that the transaction's drop does not roll back.
const POSTGRES_BEGIN: &str = "BEGIN; SELECT pg_advisory_xact_lock(22605213156852559)";

/// PostgreSQL's settings for each connection of the pool. Every statement is prepared once
/// per connection; PostgreSQL would otherwise plan it anew at each run for its values
/// until it finds a plan for any values no dearer, and for the access panel's query it
/// never does: planning it took 2 to 4 ms, running it 0.3 ms. Portico's statements look
/// rows up by key and index ranges, which one plan serves for any values.
const POSTGRES_SESSION: &str = "SET plan_cache_mode = force_generic_plan";

/// SQLite's settings that live with a connection rather than the file.
const SQLITE_SETUP: &str = "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;
    PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY;";

/// Where connections come from.
#[derive(Clone, Debug)]
enum Source {
    /// SQLite: read-only connections, and the single writer with its batch thread.
    Sqlite {
        read: Arc<Connections>,
        write: Arc<Connections>,
        batches: mpsc::UnboundedSender<Job>,
    },
    /// PostgreSQL: sqlx's pool, with how often and how long requests waited for it.
    Postgres {
        pool: AnyPool,
        waits: Arc<(AtomicU64, AtomicU64)>,
    },
}

/// How many connections a PostgreSQL pool keeps at most.
const POSTGRES_CONNECTIONS: u32 = 16;

/// The connections behind Portico's data.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    source: Source,
    /// Counts the transactions this process has made, so that what was read before one is
    /// known to be old (see [`Store::writes`]).
    writes: Arc<AtomicU64>,
    /// Sessions read lately, by the hash of their id (see `sessions::principal`).
    pub(crate) sessions: Arc<Recent<crate::sessions::Remembered>>,
    /// Organizations' conditional-access policies in force, read lately, by tenant id
    /// (see `conditional_access::in_force_of`).
    pub(crate) policies: Arc<Recent<Arc<Vec<crate::conditional_access::Policy>>>>,
}

/// `url` with its options replaced by `mode` (SQLite's `ro` or `rwc`).
fn sqlite_url(url: &str, mode: &str) -> Result<AnyConnectOptions> {
    let path = url.split_once('?').map_or(url, |(path, _)| path);
    Ok(AnyConnectOptions::from_str(&format!("{path}?mode={mode}"))?)
}

impl Store {
    /// Opens the database at `url` (`sqlite://path/to/file.db`, created if missing, or
    /// `postgres://…`, which must exist) and applies the embedded migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let source = match backend {
            Backend::Sqlite => {
                let write = Connections::new(sqlite_url(url, "rwc")?, SQLITE_SETUP, 1);
                {
                    let mut conn = write.get().await?;
                    sqlx::Executor::execute(&mut *conn, "PRAGMA journal_mode = WAL").await?;
                    SQLITE_MIGRATIONS.run(&mut *conn).await?;
                }
                let read = Connections::new(sqlite_url(url, "ro")?, SQLITE_SETUP, 8);
                let batches = start_batches(write.clone())?;
                Source::Sqlite {
                    read,
                    write,
                    batches,
                }
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(url)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    .acquire_timeout(WAIT_LIMIT)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::Executor::execute(conn, POSTGRES_SESSION).await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                // Replicas starting together: sqlx's migrator holds an advisory lock while
                // it applies migrations, so one applies them and the others wait.
                POSTGRES_MIGRATIONS.run(&pool).await?;
                Source::Postgres {
                    pool,
                    waits: Arc::default(),
                }
            }
        };
        let store = Store {
            backend,
            source,
            writes: Arc::new(AtomicU64::new(0)),
            sessions: Arc::default(),
            policies: Arc::default(),
        };
        // Events written before the audit chain existed join it before anything else is
        // written.
        crate::audit::chain_backlog(&store).await?;
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many transactions this process has finished (committed or not; write batches,
    /// which change no session, are not counted). Read it before a read: when it has moved
    /// on since, what was read may have changed.
    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    /// A connection from PostgreSQL's pool, counting the wait when there was none idle.
    async fn pooled(pool: &AnyPool, waits: &(AtomicU64, AtomicU64)) -> Result<Conn> {
        if pool.num_idle() > 0 || pool.size() < POSTGRES_CONNECTIONS {
            return Ok(Conn::Pooled(pool.acquire().await?));
        }
        let started = Instant::now();
        let conn = pool.acquire().await;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        waits.0.fetch_add(1, Ordering::Relaxed);
        waits.1.fetch_add(micros, Ordering::Relaxed);
        Ok(Conn::Pooled(conn?))
    }

    /// A connection for reading, for one query or a few in a row: hold it no longer.
    pub(crate) async fn read(&self) -> Result<Conn> {
        match &self.source {
            Source::Sqlite { read, .. } => read.get().await,
            Source::Postgres { pool, waits } => Self::pooled(pool, waits).await,
        }
    }

    /// Starts a write transaction. On SQLite `BEGIN IMMEDIATE` takes the write lock at
    /// once, so a transaction never fails half-way because another process wrote first; on
    /// PostgreSQL the transaction takes the lock of [`POSTGRES_BEGIN`] first, with the same effect.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        let (conn, begin) = match &self.source {
            Source::Sqlite { write, .. } => (write.get().await?, "BEGIN IMMEDIATE"),
            Source::Postgres { pool, waits } => (Self::pooled(pool, waits).await?, POSTGRES_BEGIN),
        };
        let mut tx = Tx {
            conn: Some(conn),
            writes: self.writes.clone(),
        };
        sqlx::Executor::execute(&mut *tx, begin).await?;
        Ok(tx)
    }

    /// Runs `batch` and gives the rows its queries gave, once they are committed.
    ///
    /// On SQLite, `batch` is statements written with [`batch_sql`]. A thread of its own
    /// writes them together with the batches other requests hand in meanwhile (see
    /// [`start_batches`]), so the write lock is held for the statements alone and never
    /// while a request waits for its turn on a worker. A request that goes away cannot stop
    /// it halfway. When a statement fails, the batch is undone alone and that error given.
    ///
    /// On PostgreSQL, `batch` is one statement (its writes as parts of a `WITH`), which is a
    /// transaction of its own: one trip to the database, holding no lock beyond its rows.
    ///
    /// Only for rows no session shows (codes, tokens, sign-in events): a batch does not set
    /// aside the sessions read lately (see [`Store::writes`]), so an app's sign-ins do not
    /// make every page read its session again. What changes a session, its users, their
    /// roles or organizations goes through [`Store::begin`].
    pub(crate) async fn write_batch(&self, batch: Batch) -> Result<Vec<AnyRow>> {
        match &self.source {
            Source::Sqlite { batches, .. } => {
                let (done, rows) = oneshot::channel();
                batches
                    .send(Job { batch, done })
                    .map_err(|_| sqlx::Error::PoolClosed)?;
                rows.await.map_err(|_| sqlx::Error::WorkerCrashed)?
            }
            Source::Postgres { pool, waits } => {
                let mut conn = Self::pooled(pool, waits).await?;
                Ok(batch.fetch_all(&mut *conn).await?)
            }
        }
    }

    /// A write transaction that takes no lock beyond the rows it writes and those it names
    /// ([`lock`]): for writes that decide nothing by what they read first (PostgreSQL's way
    /// of writing a batch), and for rules that lock just what they decide on, so that they
    /// run beside each other on PostgreSQL. On SQLite it is [`Store::begin`].
    pub(crate) async fn begin_plain(&self) -> Result<Tx> {
        if self.backend == Backend::Sqlite {
            return self.begin().await;
        }
        let mut tx = Tx {
            conn: Some(self.read().await?),
            writes: self.writes.clone(),
        };
        sqlx::Executor::execute(&mut *tx, "BEGIN").await?;
        Ok(tx)
    }

    /// How many of the migrations this build carries the database lacks (0 when it is
    /// ready to serve); an error when it does not answer.
    pub async fn missing_migrations(&self) -> Result<usize> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&mut *self.read().await?)
                .await?;
        Ok(self
            .backend
            .migrations()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .count())
    }

    /// Waits for a connection so far: `(reads, writes)`. PostgreSQL's one pool serves
    /// both, and its waits are given as reads.
    pub fn connection_waits(&self) -> (ConnectionWaits, ConnectionWaits) {
        match &self.source {
            Source::Sqlite { read, write, .. } => (read.waits(), write.waits()),
            Source::Postgres { waits, .. } => (
                ConnectionWaits {
                    waits: waits.0.load(Ordering::Relaxed),
                    waited: Duration::from_micros(waits.1.load(Ordering::Relaxed)),
                },
                ConnectionWaits {
                    waits: 0,
                    waited: Duration::ZERO,
                },
            ),
        }
    }

    /// Closes the connections, letting running statements finish.
    pub async fn close(&self) {
        match &self.source {
            Source::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Source::Postgres { pool, .. } => pool.close().await,
        }
    }
}
