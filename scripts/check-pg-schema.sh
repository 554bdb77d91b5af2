#!/usr/bin/env bash
# Checks that the PostgreSQL schema (domain/migrations/postgres) matches what the SQLite
# migrations build: every table with the same columns in the same order, each with the
# matching type (INTEGER → bigint, TEXT → text COLLATE "C", BLOB → bytea, REAL → double
# precision), nullability, default, primary-key position and auto-assigned id (SQLite's
# INTEGER PRIMARY KEY → identity); the same foreign keys and number of CHECK constraints;
# and indexes of the same shape (unique or not, partial or not, key columns; a NOCASE
# column of SQLite is lower(column) in PostgreSQL), with every named SQLite index present
# by name. It prints the differences and fails when there are any.
#
# Needs sqlite3 and psql only. PostgreSQL is reached with the usual libpq variables
# (PGHOST, PGPORT, PGUSER, PGPASSWORD; defaults 127.0.0.1 and postgres); a scratch
# database is made and dropped.
#
#   scripts/check-pg-schema.sh
set -euo pipefail

cd "$(dirname "$0")/.."
export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-postgres}"

sqlite_dir=domain/migrations/sqlite
pg_dir=domain/migrations/postgres

work=$(mktemp -d)
db="pgschema_check_$$"
cleanup() {
    psql -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# SQLite: every migration in order into an empty file, as sqlx applies them.
{ echo "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;"; cat "$sqlite_dir"/*.sql; } \
    | sqlite3 -bail "$work/sqlite.db" >/dev/null

# PostgreSQL: a scratch database with the PostgreSQL migrations, each in a transaction.
psql -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null
for file in "$pg_dir"/*.sql; do
    psql -q -1 -v ON_ERROR_STOP=1 -d "$db" -f "$file" >/dev/null
done

# One line per fact, the same format from both sides.
sqlite_facts() {
    sqlite3 "$work/sqlite.db" <<'SQL'
CREATE TEMP VIEW t AS SELECT name, sql FROM sqlite_master
    WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> '_sqlx_migrations';
-- Columns: table|position|name|type|null|default|pk position|identity|collation
SELECT 'column|' || t.name || '|' || p.cid || '|' || p.name || '|'
    || CASE upper(p.type) WHEN 'INTEGER' THEN 'bigint' WHEN 'TEXT' THEN 'text'
           WHEN 'BLOB' THEN 'bytea' WHEN 'REAL' THEN 'double precision'
           ELSE lower(p.type) END || '|'
    || CASE WHEN p."notnull" OR p.pk > 0 THEN 'not null' ELSE 'null' END || '|'
    || coalesce(CASE WHEN p.dflt_value LIKE '%now%' OR p.dflt_value LIKE '%unixepoch%'
                     THEN 'now' ELSE p.dflt_value END, '') || '|'
    || p.pk || '|'
    || CASE WHEN upper(p.type) = 'INTEGER' AND p.pk = 1
             AND (SELECT count(*) FROM pragma_table_info(t.name) WHERE pk > 0) = 1
            THEN 'identity' ELSE '' END || '|'
    || CASE upper(p.type) WHEN 'TEXT' THEN 'C' ELSE '' END
FROM t, pragma_table_info(t.name) p;
-- Foreign keys: table|columns|referenced table|referenced columns|on delete
SELECT 'fk|' || t.name || '|' || group_concat(f."from", ',') || '|' || f."table" || '|'
    || group_concat(coalesce(f."to",
           (SELECT k.name FROM pragma_table_info(f."table") k WHERE k.pk = f.seq + 1)), ',')
    || '|' || f.on_delete
FROM t, pragma_foreign_key_list(t.name) f GROUP BY t.name, f.id;
-- CHECK constraints per table.
SELECT 'checks|' || t.name || '|'
    || ((length(upper(t.sql)) - length(replace(upper(t.sql), 'CHECK (', ''))) / 7
        + (length(upper(t.sql)) - length(replace(upper(t.sql), 'CHECK(', ''))) / 6)
FROM t;
-- Index shapes: table|unique|partial|key columns. Primary keys are in the columns, except
-- a primary key on a NOCASE column, which is a unique index on lower(column) as well.
SELECT 'index|' || t.name || '|' || CASE WHEN l."unique" THEN 'unique' ELSE 'index' END || '|'
    || CASE WHEN l.partial THEN 'partial' ELSE 'full' END || '|'
    || (SELECT group_concat(key, ',') FROM (
            SELECT CASE WHEN x.cid = -2 THEN 'expr'
                        WHEN upper(x.coll) = 'NOCASE' THEN 'lower(' || x.name || ')'
                        ELSE x.name END
                   || CASE WHEN x."desc" THEN ' DESC' ELSE '' END AS key
            FROM pragma_index_xinfo(l.name) x WHERE x.key ORDER BY x.seqno))
FROM t, pragma_index_list(t.name) l
WHERE l.origin <> 'pk' OR EXISTS (SELECT 1 FROM pragma_index_xinfo(l.name) x
                                  WHERE x.key AND upper(x.coll) = 'NOCASE');
SQL
}

pg_facts() {
    psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE TEMP VIEW t AS SELECT c.oid, c.relname AS name FROM pg_class c
    WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
      AND c.relname <> '_sqlx_migrations';
SELECT 'column|' || t.name || '|' || (row_number() OVER (PARTITION BY t.name ORDER BY a.attnum) - 1)
    || '|' || a.attname || '|' || format_type(a.atttypid, a.atttypmod) || '|'
    || CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END || '|'
    || coalesce((SELECT CASE WHEN e ILIKE '%now()%' THEN 'now'
                             ELSE regexp_replace(
                                      regexp_replace(e, '::(text|bigint|integer|bytea|double precision)', '', 'g'),
                                      '^''(-?[0-9.]+)''$', '\1') END
                 FROM pg_get_expr(d.adbin, d.adrelid) e), '') || '|'
    || coalesce(array_position(pk.conkey, a.attnum), 0) || '|'
    || CASE WHEN a.attidentity <> '' THEN 'identity' ELSE '' END || '|'
    || coalesce((SELECT collname FROM pg_collation WHERE oid = a.attcollation), '')
FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
LEFT JOIN pg_constraint pk ON pk.conrelid = t.oid AND pk.contype = 'p';
SELECT 'fk|' || t.name || '|'
    || (SELECT string_agg(attname, ',' ORDER BY i) FROM unnest(c.conkey) WITH ORDINALITY u(n, i)
        JOIN pg_attribute ON attrelid = c.conrelid AND attnum = u.n) || '|'
    || (SELECT relname FROM pg_class WHERE oid = c.confrelid) || '|'
    || (SELECT string_agg(attname, ',' ORDER BY i) FROM unnest(c.confkey) WITH ORDINALITY u(n, i)
        JOIN pg_attribute ON attrelid = c.confrelid AND attnum = u.n) || '|'
    || CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                          WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END
FROM t JOIN pg_constraint c ON c.conrelid = t.oid AND c.contype = 'f';
SELECT 'checks|' || t.name || '|'
    || (SELECT count(*) FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'c')
FROM t;
SELECT 'index|' || t.name || '|' || CASE WHEN x.indisunique THEN 'unique' ELSE 'index' END || '|'
    || CASE WHEN x.indpred IS NULL THEN 'full' ELSE 'partial' END || '|'
    || (SELECT string_agg(
                   CASE WHEN key ~ '^[a-z_][a-z0-9_]*$' THEN key
                        WHEN key ~ '^lower\([a-z_][a-z0-9_]*\)$' THEN key
                        ELSE 'expr' END
                   || CASE WHEN x.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END,
                   ',' ORDER BY k)
        FROM generate_series(1, x.indnkeyatts) k,
             replace(pg_get_indexdef(x.indexrelid, k, true), '"', '') key)
FROM t JOIN pg_index x ON x.indrelid = t.oid AND NOT x.indisprimary;
SQL
}

sqlite_facts | LC_ALL=C sort >"$work/sqlite.facts"
pg_facts | LC_ALL=C sort >"$work/pg.facts"

# Every index a SQLite migration names exists by that name.
sqlite3 "$work/sqlite.db" "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL" \
    | LC_ALL=C sort >"$work/sqlite.indexes"
psql -X -A -t -q -d "$db" -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'" \
    | LC_ALL=C sort >"$work/pg.indexes"

status=0
if ! cmp -s "$work/sqlite.facts" "$work/pg.facts"; then
    diff -U0 --label sqlite --label postgres "$work/sqlite.facts" "$work/pg.facts" \
        | grep -v '^@@' || true
    status=1
fi
missing=$(LC_ALL=C comm -23 "$work/sqlite.indexes" "$work/pg.indexes")
if [ -n "$missing" ]; then
    echo "Indexes of the SQLite migrations missing from the PostgreSQL schema:"
    echo "$missing"
    status=1
fi

tables=$(grep -c '^checks|' "$work/sqlite.facts" || true)
if [ "$status" -eq 0 ]; then
    echo "PostgreSQL schema matches the SQLite migrations:" \
        "$tables tables, $(grep -c '^column|' "$work/sqlite.facts") columns," \
        "$(grep -c '^fk|' "$work/sqlite.facts") foreign keys," \
        "$(grep -c '^index|' "$work/sqlite.facts") indexes."
else
    echo "PostgreSQL schema differs from the SQLite migrations (lines above: - sqlite, + postgres)."
fi
exit "$status"
