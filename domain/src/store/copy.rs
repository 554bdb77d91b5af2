//! The statements of `portico db copy`: what SQLite's schema holds (tables, columns,
//! foreign keys), reading a table's rows, and writing them into PostgreSQL.

use futures_util::{Stream, StreamExt};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row, ValueRef};

use crate::Result;

/// A table of SQLite's schema, as its pragmas describe it.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// The columns of its primary key, in key order.
    pub primary_key: Vec<String>,
    /// Its foreign keys: the table each refers to, and the columns here that refer.
    pub references: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub not_null: bool,
}

/// A column's type in PostgreSQL's schema, which decides how a value is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Integer,
    Text,
    Bytes,
}

/// A value read from SQLite, as SQLite stored it.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// `name` quoted as an SQL identifier (both backends read double quotes).
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables of a SQLite database, by name, without sqlx's and SQLite's own.
pub async fn sqlite_tables(db: &mut AnyConnection) -> Result<Vec<Table>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
           AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *db)
    .await?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let columns: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut *db)
                .await?;
        let mut key: Vec<(i64, String)> = columns
            .iter()
            .filter(|(_, _, pk)| *pk > 0)
            .map(|(column, _, pk)| (*pk, column.clone()))
            .collect();
        key.sort();
        let keys: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\" FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *db)
        .await?;
        let mut references: Vec<(i64, String, Vec<String>)> = Vec::new();
        for (id, table, from) in keys {
            match references.last_mut() {
                Some((last, _, columns)) if *last == id => columns.push(from),
                _ => references.push((id, table, vec![from])),
            }
        }
        tables.push(Table {
            name,
            columns: columns
                .into_iter()
                .map(|(name, not_null, _)| Column {
                    name,
                    not_null: not_null != 0,
                })
                .collect(),
            primary_key: key.into_iter().map(|(_, column)| column).collect(),
            references: references
                .into_iter()
                .map(|(_, table, columns)| (table, columns))
                .collect(),
        });
    }
    Ok(tables)
}

/// The columns of a PostgreSQL table and their kinds, or none when it has no such table.
pub async fn postgres_columns(
    db: &mut AnyConnection,
    table: &str,
) -> Result<Vec<(String, Option<Kind>)>> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut *db)
    .await?;
    Ok(columns
        .into_iter()
        .map(|(name, data_type)| {
            let kind = match data_type.as_str() {
                "bigint" | "integer" | "smallint" => Some(Kind::Integer),
                "text" | "character varying" => Some(Kind::Text),
                "bytea" => Some(Kind::Bytes),
                _ => None,
            };
            (name, kind)
        })
        .collect())
}

/// Whether `table` has any row.
pub async fn has_rows(db: &mut AnyConnection, table: &str) -> Result<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) AS any_row",
        quoted(table)
    );
    let count: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *db).await?;
    Ok(count > 0)
}

/// The statement that reads `columns` of every row of `table`, for [`sqlite_rows`].
pub fn select_all(table: &str, columns: &[&str]) -> String {
    let list: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
    format!("SELECT {} FROM {}", list.join(", "), quoted(table))
}

/// The rows `select` (from [`select_all`]) reads, as they come, each value as SQLite
/// stored it: a table is never held in memory whole.
pub fn sqlite_rows<'c>(
    db: &'c mut AnyConnection,
    select: &'c str,
    width: usize,
) -> impl Stream<Item = Result<Vec<Value>>> + Send + 'c {
    sqlx::query(select)
        .fetch(db)
        .map(move |row| values(&row?, width))
}

fn values(row: &AnyRow, width: usize) -> Result<Vec<Value>> {
    use sqlx::any::AnyTypeInfoKind as K;
    let mut out = Vec::with_capacity(width);
    for i in 0..width {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().kind() {
                K::Null => Value::Null,
                K::Bool | K::SmallInt | K::Integer | K::BigInt => Value::Integer(row.try_get(i)?),
                K::Real | K::Double => Value::Real(row.try_get(i)?),
                K::Text => Value::Text(row.try_get(i)?),
                K::Blob => Value::Bytes(row.try_get(i)?),
            }
        };
        out.push(value);
    }
    Ok(out)
}

/// Inserts one row into `table` (PostgreSQL): `values` of `columns`, bound as the kinds
/// say; an SQL NULL is bound as a NULL of its column's kind.
pub async fn insert(
    db: &mut AnyConnection,
    table: &str,
    columns: &[(&str, Kind)],
    values: Vec<Value>,
) -> Result<()> {
    let names: Vec<String> = columns.iter().map(|(c, _)| quoted(c)).collect();
    let places: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quoted(table),
        names.join(", "),
        places.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for ((_, kind), value) in columns.iter().zip(values) {
        query = bind(query, value, *kind);
    }
    query.execute(&mut *db).await?;
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds `value` as it is; a NULL as a NULL of the column's kind (PostgreSQL takes a
/// parameter's type from what is bound).
fn bind(query: Query<'_>, value: Value, kind: Kind) -> Query<'_> {
    match (value, kind) {
        (Value::Null, Kind::Integer) => query.bind(None::<i64>),
        (Value::Null, Kind::Text) => query.bind(None::<String>),
        (Value::Null, Kind::Bytes) => query.bind(None::<Vec<u8>>),
        (Value::Integer(i), _) => query.bind(i),
        (Value::Real(r), _) => query.bind(r),
        (Value::Text(t), _) => query.bind(t),
        (Value::Bytes(b), _) => query.bind(b),
    }
}

/// Sets `columns` (held back when the row was inserted) of the row of `table` whose
/// primary key is `key`.
pub async fn set_columns(
    db: &mut AnyConnection,
    table: &str,
    columns: &[(&str, Kind)],
    values: Vec<Value>,
    key: &[(&str, Kind)],
    key_values: Vec<Value>,
) -> Result<()> {
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{} = ${}", quoted(c), i + 1))
        .collect();
    let wheres: Vec<String> = key
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{} = ${}", quoted(c), columns.len() + i + 1))
        .collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE {}",
        quoted(table),
        sets.join(", "),
        wheres.join(" AND ")
    );
    let mut query = sqlx::query(&sql);
    let bound = values.into_iter().chain(key_values);
    for ((_, kind), value) in columns.iter().chain(key).zip(bound) {
        query = bind(query, value, *kind);
    }
    query.execute(&mut *db).await?;
    Ok(())
}

/// Whether PostgreSQL's `table` has an identity (or serial) column `id`.
pub async fn has_id_sequence(db: &mut AnyConnection, table: &str) -> Result<bool> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id'
            AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
    )
    .bind(table)
    .fetch_one(&mut *db)
    .await?;
    Ok(count > 0)
}

/// Moves the sequence of `table`'s `id` past its largest id, so new rows take new ids.
pub async fn advance_id_sequence(db: &mut AnyConnection, table: &str) -> Result<()> {
    let sql = format!(
        "SELECT CAST(setval(pg_get_serial_sequence($1, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) AS BIGINT) FROM {}",
        quoted(table)
    );
    sqlx::query_scalar::<_, i64>(&sql)
        .bind(quoted(table))
        .fetch_one(&mut *db)
        .await?;
    Ok(())
}

/// The ids of the organizations in a database.
pub async fn tenant_ids(db: &mut AnyConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM tenants ORDER BY id")
        .fetch_all(&mut *db)
        .await?)
}
