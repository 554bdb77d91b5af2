//! Moving an instance from SQLite to PostgreSQL (`portico db copy`): every table of the
//! SQLite database, row by row, into an empty PostgreSQL database, in one transaction.
//!
//! The copy is generic: the tables and their columns come from SQLite's schema, and each
//! value is written as SQLite stored it, so a table a later migration adds is copied
//! without a change here. Tables go in an order that their foreign keys allow; where the
//! keys form a loop (an organization's fallback sponsor is one of its users), a nullable
//! column that closes it is written once every table is in. Sealed secrets stay sealed:
//! they are bytes to the copy, and the key that opens them stays in the data folder.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use serde::Serialize;

use crate::audit::{Change, record};
use crate::store::copy::{self as sql, Kind, Table};
use crate::store::{Backend, Store};
use crate::{Error, Principal, Result};

/// Tables of rows that live minutes, tied to a browser or a sign-in under way, which the
/// copy leaves behind: people sign in again, and a sign-in that was under way starts again.
pub const NOT_COPIED: &[&str] = &[
    "sessions",
    "flashes",
    "authorization_codes",
    "pending_authorizations",
    "passkey_ceremonies",
    "federation_requests",
];

/// What a copy wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Copied {
    /// Each table copied and its rows, by name.
    pub tables: Vec<TableRows>,
    /// Rows in all.
    pub total: u64,
    /// The tables left behind ([`NOT_COPIED`]).
    pub not_copied: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TableRows {
    pub table: String,
    pub rows: u64,
}

/// Refuses a database to copy from that is not SQLite: checked before it is opened, as
/// opening a database makes Portico's tables in it.
pub fn check_source(url: &str) -> Result<()> {
    if Backend::of(url)? != Backend::Sqlite {
        return Err(not_sqlite());
    }
    Ok(())
}

fn not_sqlite() -> Error {
    Error::Conflict(
        "The database to copy from must be SQLite (name it with --data-dir or --database-url sqlite://…)."
            .into(),
    )
}

/// Copies everything in `source` (SQLite) into the PostgreSQL database at `target_url`,
/// which is migrated first and must hold no rows; nothing is written when it does, or when
/// anything fails. Each organization's audit trail records the copy as the operator's.
pub async fn to_postgres(source: &Store, target_url: &str, now: i64) -> Result<Copied> {
    if source.backend() != Backend::Sqlite {
        return Err(not_sqlite());
    }
    // A data folder mistyped opens a new, empty database: nothing worth copying.
    if crate::store::tenants::count(&mut *source.read().await?).await? == 0 {
        return Err(Error::Conflict(
            "The SQLite database holds no organization: is --data-dir (or --database-url) the \
             one Portico runs with? Nothing was written."
                .into(),
        ));
    }
    if Backend::of(target_url)? != Backend::Postgres {
        return Err(Error::Conflict(
            "Copy to a PostgreSQL database: --to postgres://user@host/database".into(),
        ));
    }
    let target = Store::open(target_url).await?;
    let copied = copy(source, &target, now).await;
    target.close().await;
    copied
}

async fn copy(source: &Store, target: &Store, now: i64) -> Result<Copied> {
    // One read transaction: the tables as they were at one moment.
    let mut read = source.read().await?;
    sqlx::query("BEGIN").execute(&mut *read).await?;
    let tables = sql::sqlite_tables(&mut read).await;
    let copied = match tables {
        Ok(tables) => write(&mut read, tables, target, now).await,
        Err(error) => Err(error),
    };
    // Only read: ending it cannot lose anything.
    let _ = sqlx::query("ROLLBACK").execute(&mut *read).await;
    copied
}

async fn write(
    read: &mut sqlx::AnyConnection,
    tables: Vec<Table>,
    target: &Store,
    now: i64,
) -> Result<Copied> {
    let (copied_tables, not_copied): (Vec<Table>, Vec<Table>) = tables
        .into_iter()
        .partition(|t| !NOT_COPIED.contains(&t.name.as_str()));
    let order = in_key_order(copied_tables)?;
    let mut tx = target.begin().await?;
    for (table, _) in &order {
        if sql::has_rows(&mut tx, &table.name).await? {
            return Err(Error::Conflict(format!(
                "The PostgreSQL database is not empty (its table {} has rows): copy into a new, \
                 empty database. Nothing was written.",
                table.name
            )));
        }
    }
    let mut counts = Vec::with_capacity(order.len());
    let mut held_back = Vec::new();
    for (table, held) in &order {
        let kinds = sql::postgres_columns(&mut tx, &table.name).await?;
        let kind_of = |column: &str| -> Result<Kind> {
            match kinds.iter().find(|(name, _)| name == column) {
                Some((_, Some(kind))) => Ok(*kind),
                Some((_, None)) => Err(Error::Conflict(format!(
                    "PostgreSQL's column {}.{column} has a type the copy does not write.",
                    table.name
                ))),
                None => Err(Error::Conflict(format!(
                    "PostgreSQL's schema has no column {}.{column}: is this Portico older than \
                     the SQLite database?",
                    table.name
                ))),
            }
        };
        let mut now_columns = Vec::new();
        let mut later_columns = Vec::new();
        for column in &table.columns {
            let entry = (column.name.as_str(), kind_of(&column.name)?);
            if held.contains(&column.name) {
                later_columns.push(entry);
            } else {
                now_columns.push(entry);
            }
        }
        let key: Vec<(&str, Kind)> = table
            .primary_key
            .iter()
            .map(|k| Ok((k.as_str(), kind_of(k)?)))
            .collect::<Result<_>>()?;
        let names: Vec<&str> = now_columns
            .iter()
            .chain(&later_columns)
            .map(|(name, _)| *name)
            .collect();
        let select = sql::select_all(&table.name, &names);
        let mut rows = sql::sqlite_rows(read, &select, names.len());
        let mut count = 0;
        while let Some(mut row) = rows.try_next().await? {
            count += 1;
            let later = row.split_off(now_columns.len());
            if later.iter().any(|v| !matches!(v, sql::Value::Null)) {
                // The row is found again by its primary key, which is never held back.
                let key_values = key
                    .iter()
                    .filter_map(|(k, _)| now_columns.iter().position(|(c, _)| c == k))
                    .map(|i| row[i].clone())
                    .collect::<Vec<_>>();
                if key.is_empty() || key_values.len() != key.len() {
                    return Err(Error::Conflict(format!(
                        "The copy cannot write {} in two steps: it has no primary key.",
                        table.name
                    )));
                }
                held_back.push((
                    table.name.clone(),
                    later_columns.clone(),
                    later,
                    key.clone(),
                    key_values,
                ));
            }
            sql::insert(&mut tx, &table.name, &now_columns, row).await?;
        }
        counts.push(TableRows {
            table: table.name.clone(),
            rows: count,
        });
    }
    for (table, columns, values, key, key_values) in held_back {
        sql::set_columns(&mut tx, &table, &columns, values, &key, key_values).await?;
    }
    for (table, _) in &order {
        if sql::has_id_sequence(&mut tx, &table.name).await? {
            sql::advance_id_sequence(&mut tx, &table.name).await?;
        }
    }
    counts.sort_by(|a, b| a.table.cmp(&b.table));
    let total = counts.iter().map(|c| c.rows).sum();
    let mut not_copied: Vec<String> = not_copied.into_iter().map(|t| t.name).collect();
    not_copied.sort();
    let detail = format!(
        "Copied {total} rows in {} tables from SQLite; not copied: {}.",
        counts.len(),
        not_copied.join(", ")
    );
    for tenant in sql::tenant_ids(&mut tx).await? {
        let change = Change {
            action: "Copy database to PostgreSQL",
            target_type: "database",
            target_id: "",
            target_name: "PostgreSQL",
            detail: detail.clone(),
        };
        record(&mut tx, &Principal::operator(tenant), now, change).await?;
    }
    tx.commit().await?;
    Ok(Copied {
        tables: counts,
        total,
        not_copied,
    })
}

/// `tables` in an order in which each one's foreign keys refer to tables before it, each
/// with the columns to write after all are in (those that close a loop of keys).
fn in_key_order(tables: Vec<Table>) -> Result<Vec<(Table, Vec<String>)>> {
    let names: HashSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut remaining = tables;
    let mut order = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let unmet = |table: &Table| -> Vec<(String, Vec<String>)> {
            table
                .references
                .iter()
                .filter(|(to, _)| names.contains(to) && !done.contains(to))
                .cloned()
                .collect()
        };
        let ready = remaining.iter().position(|t| unmet(t).is_empty());
        let (at, held) = match ready {
            Some(at) => (at, Vec::new()),
            None => {
                // A loop: write first a table whose unmet keys may all be NULL for a while.
                let nullable = |table: &Table, column: &String| {
                    table
                        .columns
                        .iter()
                        .any(|c| &c.name == column && !c.not_null)
                        && !table.primary_key.contains(column)
                };
                let breaks = remaining.iter().position(|t| {
                    unmet(t)
                        .iter()
                        .all(|(_, columns)| columns.iter().all(|c| nullable(t, c)))
                });
                let Some(at) = breaks else {
                    let stuck: Vec<&str> = remaining.iter().map(|t| t.name.as_str()).collect();
                    return Err(Error::Conflict(format!(
                        "The foreign keys of {} refer to each other through columns that may \
                         not be empty: the copy cannot order them.",
                        stuck.join(", ")
                    )));
                };
                let held = unmet(&remaining[at])
                    .into_iter()
                    .flat_map(|(_, columns)| columns)
                    .collect();
                (at, held)
            }
        };
        let table = remaining.remove(at);
        done.insert(table.name.clone());
        order.push((table, held));
    }
    Ok(order)
}
