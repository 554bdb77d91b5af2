//! SQL for Portico as an OpenID Connect provider: clients, signing keys, codes, tokens and
//! sign-in events.

use crate::store::Json;
use sqlx::AnyConnection;
use types::{ClientSettings, ClientType, SignInEvent, SigningAlg};

use crate::{Identity, Result};

/// An app seen as an OpenID Connect client.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Client {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub client_type: ClientType,
    pub id_token_alg: SigningAlg,
    #[sqlx(try_from = "types::SqlFlag")]
    pub assignment_required: bool,
    pub secret_hash: Option<String>,
    /// The addresses registered for it of the kind asked for (see [`client_redirecting`]);
    /// whether one matches is the domain's decision (`oidc::clients::redirect_uri_matches`).
    pub redirect_uris: Json<Vec<String>>,
}

/// Which of an app's registered addresses: where answers to sign-in go, or where a
/// sign-out may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectKind {
    SignIn,
    SignOut,
}

types::stored_as_text!(RedirectKind { SignIn = "sign-in", SignOut = "sign-out" });

/// What a stored token is: an access token, or a refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

types::stored_as_text!(TokenKind { Access = "access", Refresh = "refresh" });

/// The query behind [`client_redirecting`]: tenant `$1`, client `$2`, kind `$3`.
macro_rules! client_select {
    ($db:ident) => {
        concat!(
            "SELECT a.id, a.tenant_id, a.name, a.client_type, a.id_token_alg, a.assignment_required,
                    s.secret_hash,
                    (SELECT ",
            json_text!($db, json_array_of!($db, "r.uri", "r.uri")),
            " FROM app_redirect_uris r WHERE r.app_id = a.id AND r.kind = $3) AS redirect_uris
             FROM apps a JOIN tenants t ON t.id = a.tenant_id
                  LEFT JOIN client_secrets s ON s.app_id = a.id
             WHERE a.id = $2 AND (t.id = $1 OR t.slug = $1 OR ",
            nocase_eq!($db, "t.primary_domain", "$1"),
            ")"
        )
    };
}

/// The app `client_id` of the tenant named by `tenant` (its id, slug or primary domain,
/// as in the endpoints' paths), in one query.
pub async fn client(
    db: &mut sqlx::AnyConnection,
    tenant: &str,
    client_id: &str,
) -> Result<Option<Client>> {
    client_redirecting(db, tenant, client_id, None).await
}

/// [`client`], with its addresses of `kind` as registered (none without a kind). One
/// query, because every authorization and sign-out request asks both.
pub async fn client_redirecting(
    db: &mut sqlx::AnyConnection,
    tenant: &str,
    client_id: &str,
    kind: Option<RedirectKind>,
) -> Result<Option<Client>> {
    Ok(sqlx::query_as(for_backend!(&*db, client_select))
        .bind(tenant)
        .bind(client_id)
        .bind(kind)
        .fetch_optional(db)
        .await?)
}

pub async fn settings(db: &mut AnyConnection, app_id: &str) -> Result<ClientSettings> {
    let (client_type, id_token_alg, has_secret): (ClientType, SigningAlg, types::SqlFlag) =
        sqlx::query_as(
        "SELECT client_type, id_token_alg, EXISTS (SELECT 1 FROM client_secrets WHERE app_id = a.id)
         FROM apps a WHERE id = $1",
    )
    .bind(app_id)
    .fetch_one(&mut *db)
    .await?;
    let uris: Vec<(RedirectKind, String)> =
        sqlx::query_as("SELECT kind, uri FROM app_redirect_uris WHERE app_id = $1 ORDER BY uri")
            .bind(app_id)
            .fetch_all(&mut *db)
            .await?;
    let of = |kind: RedirectKind| {
        uris.iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, u)| u.clone())
            .collect()
    };
    Ok(ClientSettings {
        client_type,
        id_token_alg,
        redirect_uris: of(RedirectKind::SignIn),
        post_logout_uris: of(RedirectKind::SignOut),
        has_secret: has_secret.into(),
    })
}

pub async fn set_settings(
    db: &mut AnyConnection,
    app_id: &str,
    client_type: ClientType,
    id_token_alg: SigningAlg,
    redirect_uris: &[String],
    post_logout_uris: &[String],
) -> Result<()> {
    sqlx::query("UPDATE apps SET client_type = $1, id_token_alg = $2 WHERE id = $3")
        .bind(client_type)
        .bind(id_token_alg)
        .bind(app_id)
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM app_redirect_uris WHERE app_id = $1")
        .bind(app_id)
        .execute(&mut *db)
        .await?;
    for (kind, uris) in [
        (RedirectKind::SignIn, redirect_uris),
        (RedirectKind::SignOut, post_logout_uris),
    ] {
        for uri in uris {
            sqlx::query(
                "INSERT INTO app_redirect_uris (app_id, kind, uri) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(app_id)
            .bind(kind)
            .bind(uri)
            .execute(&mut *db)
            .await?;
        }
    }
    Ok(())
}

pub async fn set_secret(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
    secret_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO client_secrets (app_id, secret_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (app_id) DO UPDATE SET secret_hash = excluded.secret_hash,
                                            created_at = excluded.created_at",
    )
    .bind(app_id)
    .bind(secret_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// What an authorization request needs, read in one query: the client with its registered
/// redirect addresses, its organization's name, and the person's user there
/// (the one of `user_ids` in the app's tenant, a member before a guest), seen from the app.
pub struct Authorizing {
    pub client: Client,
    pub tenant_name: String,
    pub subject: Option<Subject>,
}

#[derive(sqlx::FromRow)]
struct AuthorizingRow {
    #[sqlx(flatten)]
    client: Client,
    tenant_name: String,
    #[sqlx(flatten)]
    subject: JoinedSubject,
}

/// The query behind [`authorizing`]: tenant `$1`, client `$2`, the person's user ids `$3`
/// (a JSON array).
macro_rules! authorizing_sql {
    ($db:ident) => {
        concat!(
            "SELECT a.id, a.tenant_id, a.name, a.client_type, a.id_token_alg, a.assignment_required,
                    s.secret_hash,
                    (SELECT ",
            json_text!($db, json_array_of!($db, "r.uri", "r.uri")),
            " FROM app_redirect_uris r
                     WHERE r.app_id = a.id AND r.kind = 'sign-in') AS redirect_uris,
                    t.name AS tenant_name, ",
            subject_columns!("u", "a.id"),
            " FROM apps a JOIN tenants t ON t.id = a.tenant_id
                  LEFT JOIN client_secrets s ON s.app_id = a.id
                  -- The person's users are looked up by id, one by one (in the order
                  -- written): never by tenant, which would walk all of a large tenant's users.
                  LEFT JOIN users u ON u.id = (
                      SELECT x.id FROM ",
            json_values!($db, "$3"),
            " ",
            ordered_join!($db),
            " users x ON x.id = j.value
                      WHERE x.tenant_id = a.tenant_id ORDER BY x.user_type DESC LIMIT 1)
             WHERE a.id = $2 AND (t.id = $1 OR t.slug = $1 OR ",
            nocase_eq!($db, "t.primary_domain", "$1"),
            ")"
        )
    };
}

pub async fn authorizing(
    db: &mut sqlx::AnyConnection,
    tenant: &str,
    client_id: &str,
    user_ids: &[&str],
) -> Result<Option<Authorizing>> {
    let user_ids = serde_json::to_string(user_ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let row: Option<AuthorizingRow> = sqlx::query_as(for_backend!(&*db, authorizing_sql))
        .bind(tenant)
        .bind(client_id)
        .bind(user_ids)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|row| Authorizing {
        client: row.client,
        tenant_name: row.tenant_name,
        subject: row.subject.subject(),
    }))
}

/// A signing key as stored.
#[derive(sqlx::FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub private_der: Vec<u8>,
    pub public_jwk: String,
}

/// The key that signs with `alg` now: the newest one not retired.
pub async fn current_key(db: &mut sqlx::AnyConnection, alg: &str) -> Result<Option<StoredKey>> {
    Ok(sqlx::query_as(
        "SELECT kid, alg, private_der, public_jwk FROM signing_keys
         WHERE retired_at IS NULL AND alg = $1 ORDER BY created_at DESC, kid LIMIT 1",
    )
    .bind(alg)
    .fetch_optional(db)
    .await?)
}

pub async fn insert_key(db: &mut sqlx::AnyConnection, key: &StoredKey, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(&key.private_der)
    .bind(&key.public_jwk)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn retire_keys(db: &mut sqlx::AnyConnection, now: i64) -> Result<()> {
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Public keys to publish: every key not retired, and retired ones until `retired_after`.
pub async fn published_keys(
    db: &mut sqlx::AnyConnection,
    retired_after: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1
         ORDER BY created_at DESC, kid",
    )
    .bind(retired_after)
    .fetch_all(db)
    .await?)
}

/// What an authorization code stands for.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Grant {
    pub app_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub idp: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ExchangeRow {
    #[sqlx(flatten)]
    grant: Grant,
    #[sqlx(flatten)]
    subject: JoinedSubject,
}

/// A code and its user, seen from the code's app: the code's hash is parameter `$n`.
macro_rules! code_select {
    ($n:literal) => {
        concat!(
            "SELECT c.app_id, c.user_id, c.redirect_uri, c.scope, c.nonce, c.code_challenge,
                    c.auth_time, c.amr, c.idp, c.expires_at, c.used_at, ",
            subject_columns!("u", "c.app_id"),
            " FROM authorization_codes c LEFT JOIN users u ON u.id = c.user_id
             WHERE c.code_hash = $",
            $n
        )
    };
}

/// A code exchange's client (as [`client`]) and its code with the code's user, in one trip
/// to the read connection's thread: every exchange asks both.
pub async fn client_and_code(
    db: &mut sqlx::AnyConnection,
    tenant: &str,
    client_id: &str,
    code_hash: &str,
) -> Result<(Option<Client>, Option<(Grant, Option<Subject>)>)> {
    use sqlx::{FromRow, Row};
    if super::is_postgres(db) {
        let client = client(&mut *db, tenant, client_id).await?;
        let code: Option<ExchangeRow> = sqlx::query_as(code_select!("1"))
            .bind(code_hash)
            .fetch_optional(db)
            .await?;
        return Ok((
            client,
            code.map(|found| (found.grant, found.subject.subject())),
        ));
    }
    // SQLite: both statements in one query, one trip to the connection's thread.
    let rows = sqlx::query(concat!(client_select!(sqlite), ";", code_select!("4"), ";"))
        .bind(tenant)
        .bind(client_id)
        .bind("")
        .bind(code_hash)
        .fetch_all(db)
        .await?;
    let (mut client, mut code) = (None, None);
    for row in &rows {
        // Only the client's row has a client type.
        if row.try_column("client_type").is_ok() {
            client = Some(Client::from_row(row)?);
        } else {
            let found = ExchangeRow::from_row(row)?;
            code = Some((found.grant, found.subject.subject()));
        }
    }
    Ok((client, code))
}

/// Marks a code used; false when it was used already.
pub async fn use_code(db: &mut sqlx::AnyConnection, code_hash: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE authorization_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(code_hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A token as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Token {
    pub kind: TokenKind,
    pub app_id: String,
    pub user_id: Option<String>,
    pub family: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: Option<i64>,
    pub amr: Option<String>,
    pub idp: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert_token(
    db: &mut sqlx::AnyConnection,
    token_hash: &str,
    token: &Token,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_tokens (token_hash, kind, app_id, user_id, family, scope, nonce,
            auth_time, amr, idp, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(token_hash)
    .bind(token.kind)
    .bind(&token.app_id)
    .bind(&token.user_id)
    .bind(&token.family)
    .bind(&token.scope)
    .bind(&token.nonce)
    .bind(token.auth_time)
    .bind(&token.amr)
    .bind(&token.idp)
    .bind(now)
    .bind(token.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn token(db: &mut sqlx::AnyConnection, token_hash: &str) -> Result<Option<Token>> {
    Ok(sqlx::query_as(
        "SELECT kind, app_id, user_id, family, scope, nonce, auth_time, amr, idp, expires_at,
                used_at, revoked_at
         FROM oauth_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?)
}

/// Marks a refresh token used (rotated); false when it was used already.
pub async fn use_token(db: &mut sqlx::AnyConnection, token_hash: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE oauth_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL
                                              AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn revoke_family(db: &mut sqlx::AnyConnection, family: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Revokes every token of the users whose redemption used `identity`, and of the member
/// `member_id` itself: an identity disabled or reset at home keeps no access anywhere.
pub async fn revoke_for_identity(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
    member_id: Option<&str>,
    now: i64,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $1
         WHERE revoked_at IS NULL
           AND (user_id IN (SELECT id FROM users WHERE redeemed_identity = $2) OR user_id = $3)",
    )
    .bind(now)
    .bind(identity)
    .bind(member_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A sign-in attempt to record.
pub struct NewSignIn<'a> {
    pub tenant_id: &'a str,
    pub user_id: Option<&'a str>,
    pub user_name: &'a str,
    pub user_email: &'a str,
    pub app_id: &'a str,
    pub app_name: &'a str,
    pub success: bool,
    pub reason: &'a str,
    pub ip: Option<&'a str>,
    /// Conditional access as enforced (`success`, `failure`, `notApplied`) and every
    /// evaluated policy's result, as JSON.
    pub ca_status: &'a str,
    pub ca_policies: &'a str,
}

macro_rules! insert_sign_in_sql {
    () => {
        "INSERT INTO sign_in_events (tenant_id, user_id, user_name, user_email, app_id, app_name,
            success, reason, ip, created_at, ca_status, ca_policies)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    };
}

/// The authorization code of [`insert_sign_in_with_code`], with the twelve parameters its
/// values are (13 to 24, after the event's 12).
macro_rules! insert_code_sql {
    ($values:literal) => {
        concat!(
            "INSERT INTO authorization_codes (code_hash, app_id, user_id, redirect_uri, scope,
                nonce, code_challenge, auth_time, amr, idp, created_at, expires_at)
             VALUES (",
            $values,
            ")"
        )
    };
}

type Statement = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>>;

/// `query` with the event's values bound, owned, so that the query can also run as a
/// batch on the writer's own task.
fn bind_sign_in(query: Statement, event: &NewSignIn<'_>, now: i64) -> Statement {
    let owned = |s: &str| s.to_string();
    query
        .bind(owned(event.tenant_id))
        .bind(event.user_id.map(owned))
        .bind(owned(event.user_name))
        .bind(owned(event.user_email))
        .bind(owned(event.app_id))
        .bind(owned(event.app_name))
        .bind(i64::from(event.success))
        .bind(owned(event.reason))
        .bind(event.ip.map(owned))
        .bind(now)
        .bind(owned(event.ca_status))
        .bind(owned(event.ca_policies))
}

/// `query` with the code's values bound.
fn bind_code(query: Statement, code_hash: &str, grant: &Grant, now: i64) -> Statement {
    query
        .bind(code_hash.to_string())
        .bind(grant.app_id.clone())
        .bind(grant.user_id.clone())
        .bind(grant.redirect_uri.clone())
        .bind(grant.scope.clone())
        .bind(grant.nonce.clone())
        .bind(grant.code_challenge.clone())
        .bind(grant.auth_time)
        .bind(grant.amr.clone())
        .bind(grant.idp.clone())
        .bind(now)
        .bind(grant.expires_at)
}

/// Keeps a sign-in event on its own (one that gives no code): as a write batch, so that on
/// SQLite it joins the writer's next group and on PostgreSQL it is one statement.
pub async fn insert_sign_in(store: &crate::Store, event: &NewSignIn<'_>, now: i64) -> Result<()> {
    let text = match store.backend() {
        crate::store::Backend::Postgres => insert_sign_in_sql!(),
        crate::store::Backend::Sqlite => super::batch_sql!(insert_sign_in_sql!(), ";"),
    };
    store
        .write_batch(bind_sign_in(sqlx::query(text), event, now))
        .await?;
    Ok(())
}

/// Signing in to an app counts as the user's sign-in (for finding inactive users), with
/// its time and user as the two parameters named. The time only moves forward, and an
/// update that would not move it writes nothing: an app's sign-ins in the same second
/// leave the user's row alone, so that they do not wait for each other's lock on it.
macro_rules! last_sign_in_sql {
    ($now:literal, $user:literal) => {
        concat!(
            "UPDATE users SET last_sign_in_at = ",
            $now,
            " WHERE id = ",
            $user,
            " AND (last_sign_in_at IS NULL OR last_sign_in_at < ",
            $now,
            ")"
        )
    };
}

/// An allowed sign-in and the authorization code it gives, committed together: on SQLite
/// in one trip to the writer, on PostgreSQL as one statement (see
/// [`crate::Store::write_batch`]).
pub async fn insert_sign_in_with_code(
    store: &crate::Store,
    event: &NewSignIn<'_>,
    code_hash: &str,
    grant: &Grant,
    now: i64,
) -> Result<()> {
    let text = match store.backend() {
        crate::store::Backend::Postgres => concat!(
            "WITH event AS (",
            insert_sign_in_sql!(),
            "), code AS (",
            insert_code_sql!("$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24"),
            ") ",
            last_sign_in_sql!("$25", "$26")
        ),
        crate::store::Backend::Sqlite => super::batch_sql!(
            insert_sign_in_sql!(),
            ";",
            insert_code_sql!("$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24"),
            ";",
            last_sign_in_sql!("$25", "$26"),
            ";"
        ),
    };
    let query = bind_code(
        bind_sign_in(sqlx::query(text), event, now),
        code_hash,
        grant,
        now,
    )
    .bind(now)
    .bind(grant.user_id.clone());
    store.write_batch(query).await?;
    Ok(())
}
/// `query` with the time, the code (the tokens' family) and the grant bound to its
/// parameters 1 to 9.
fn bind_token(query: Statement, code_hash: &str, token: &Token, now: i64) -> Statement {
    query
        .bind(now)
        .bind(code_hash.to_string())
        .bind(token.app_id.clone())
        .bind(token.user_id.clone())
        .bind(token.scope.clone())
        .bind(token.nonce.clone())
        .bind(token.auth_time)
        .bind(token.amr.clone())
        .bind(token.idp.clone())
}

/// Uses the code `code_hash` up and keeps the tokens it gives (`tokens`: kind, hash,
/// expiry; all of one family, the code's), committed together: on SQLite in one trip to
/// the writer. False, and nothing kept, when the code was used already.
pub async fn use_code_for_tokens(
    store: &crate::Store,
    code_hash: &str,
    token: &Token,
    tokens: &[(TokenKind, String, i64)],
    now: i64,
) -> Result<bool> {
    // The token's columns, and where each comes from: parameters 1 to 9 are the time,
    // the code (the tokens' family) and the grant, as [`bind_token`] binds them.
    macro_rules! insert_token {
        ($hash:literal, $kind:literal, $expires:literal) => {
            concat!(
                "INSERT INTO oauth_tokens (token_hash, kind, app_id, user_id, family, scope,
                    nonce, auth_time, amr, idp, created_at, expires_at)
                 SELECT $",
                $hash,
                ", $",
                $kind,
                ", $3, $4, $2, $5, $6, $7, $8, $9, $1, $",
                $expires
            )
        };
    }
    // Each token only if the code was ours (the update changed its row), then whether the
    // first token was kept. Its hash, kind and expiry are parameters 10 to 12, and 13 to
    // 15 for a second token. A second exchange of the same code waits for this one's lock
    // on the code's row, then finds it used: exactly one of them goes on.
    let batch: &'static str = match (store.backend(), tokens.len()) {
        (crate::store::Backend::Postgres, 1) => concat!(
            "WITH used AS (UPDATE authorization_codes SET used_at = $1
                            WHERE code_hash = $2 AND used_at IS NULL RETURNING code_hash),
                  kept AS (",
            insert_token!("10", "11", "12"),
            " FROM used RETURNING token_hash)
             SELECT COUNT(*) FROM kept"
        ),
        (crate::store::Backend::Postgres, _) => concat!(
            "WITH used AS (UPDATE authorization_codes SET used_at = $1
                            WHERE code_hash = $2 AND used_at IS NULL RETURNING code_hash),
                  kept AS (",
            insert_token!("10", "11", "12"),
            " FROM used RETURNING token_hash),
                  also AS (",
            insert_token!("13", "14", "15"),
            " FROM used)
             SELECT COUNT(*) FROM kept"
        ),
        (crate::store::Backend::Sqlite, 1) => super::batch_sql!(
            "UPDATE authorization_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL;",
            insert_token!("10", "11", "12"),
            " WHERE changes() = 1;",
            "SELECT COUNT(*) FROM oauth_tokens WHERE token_hash = $10;"
        ),
        (crate::store::Backend::Sqlite, _) => super::batch_sql!(
            "UPDATE authorization_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL;",
            insert_token!("10", "11", "12"),
            " WHERE changes() = 1;",
            insert_token!("13", "14", "15"),
            " WHERE changes() = 1;",
            "SELECT COUNT(*) FROM oauth_tokens WHERE token_hash = $10;"
        ),
    };
    let mut query = bind_token(sqlx::query(batch), code_hash, token, now);
    for (kind, hash, expires_at) in tokens {
        query = query.bind(hash.clone()).bind(*kind).bind(*expires_at);
    }
    let rows = store.write_batch(query).await?;
    Ok(rows
        .first()
        .is_some_and(|row| sqlx::Row::get::<i64, _>(row, 0) == 1))
}

const SIGN_IN: &str = "SELECT id, user_id, user_name, user_email, app_id, app_name, success,
                              reason, ip, created_at, ca_status, ca_policies
                       FROM sign_in_events";

/// The tenant's newest sign-in events; with `policy`, only those that evaluated the
/// conditional-access policy of that id (an id Portico made: hexadecimal digits and
/// dashes, so it needs no escaping in the pattern).
pub async fn sign_ins(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    policy: Option<&str>,
    limit: i64,
) -> Result<Vec<SignInEvent>> {
    let pattern = policy.map(|id| format!("%\"id\":\"{id}\"%"));
    Ok(sqlx::query_as(&format!(
        "{SIGN_IN} WHERE tenant_id = $1 AND ($2 IS NULL OR ca_policies LIKE $2)
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(pattern)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// A page of the tenant's sign-in events, newest first, as Graph's
/// `/auditLogs/signIns` asks for it (`query.actor` is the user).
pub async fn sign_in_page(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    query: &crate::store::audit::LogQuery,
    limit: i64,
) -> Result<Vec<SignInEvent>> {
    let mut sql = super::sql::Sql::new(SIGN_IN);
    sql.push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if let Some(from) = query.from {
        sql.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(until) = query.until {
        sql.push(" AND created_at < ").push_bind(until);
    }
    if let Some((_, user_id)) = &query.actor {
        sql.push(" AND user_id = ").push_bind(user_id.clone());
    }
    if let Some(app_id) = &query.app_id {
        sql.push(" AND app_id = ").push_bind(app_id.clone());
    }
    if let Some(before) = query.before {
        sql.push(" AND id < ").push_bind(before);
    }
    sql.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
    Ok(sql.build_query_as().fetch_all(db).await?)
}

/// What tokens say about a user, and whether the user is assigned to the app a token is
/// for (directly or through a group).
#[derive(Clone, Debug)]
pub struct Subject {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub email: String,
    pub user_type: types::UserType,
    pub enabled: bool,
    pub external_state: Option<types::ExternalState>,
    /// Whether the home member or account a guest redeemed with is still there and
    /// enabled (always true for members and for identities with no holder here).
    pub holder_enabled: bool,
    pub assigned: bool,
}

/// The columns of a [`Subject`]: the user `$user` (a table alias, perhaps of a LEFT JOIN)
/// seen from the app whose id is the SQL expression `$app`.
macro_rules! subject_columns {
    ($user:literal, $app:literal) => {
        concat!(
            $user, ".id AS s_id, ", $user, ".tenant_id AS s_tenant_id, ",
            $user, ".display_name AS s_display_name, ", $user, ".email AS s_email, ",
            $user, ".user_type AS s_user_type, ", $user, ".enabled AS s_enabled, ",
            $user, ".external_state AS s_external_state, ",
            identity_holder_enabled!($user, ".redeemed_identity"),
            " AS s_holder_enabled,
             EXISTS (SELECT 1 FROM app_assignments WHERE app_id = ", $app, " AND user_id = ", $user, ".id)
              OR EXISTS (SELECT 1 FROM app_assignments g JOIN group_members m ON m.group_id = g.group_id
                         WHERE g.app_id = ", $app, " AND m.user_id = ", $user, ".id) AS s_assigned"
        )
    };
}
use subject_columns;

/// [`subject_columns`] as read, all empty when the join found no user.
#[derive(sqlx::FromRow)]
struct JoinedSubject {
    s_id: Option<String>,
    s_tenant_id: Option<String>,
    s_display_name: Option<String>,
    s_email: Option<String>,
    s_user_type: Option<types::UserType>,
    s_enabled: Option<types::SqlFlag>,
    s_external_state: Option<types::ExternalState>,
    s_holder_enabled: Option<types::SqlFlag>,
    #[sqlx(try_from = "types::SqlFlag")]
    s_assigned: bool,
}

impl JoinedSubject {
    fn subject(self) -> Option<Subject> {
        Some(Subject {
            id: self.s_id?,
            tenant_id: self.s_tenant_id?,
            display_name: self.s_display_name?,
            email: self.s_email?,
            user_type: self.s_user_type?,
            enabled: self.s_enabled?.into(),
            external_state: self.s_external_state,
            holder_enabled: self.s_holder_enabled.is_some_and(bool::from),
            assigned: self.s_assigned,
        })
    }
}

/// The user `user_id`, seen from the app `app_id`.
pub async fn subject(
    db: &mut sqlx::AnyConnection,
    user_id: &str,
    app_id: &str,
) -> Result<Option<Subject>> {
    let row: Option<JoinedSubject> = sqlx::query_as(concat!(
        "SELECT ",
        subject_columns!("u", "$2"),
        " FROM users u WHERE u.id = $1"
    ))
    .bind(user_id)
    .bind(app_id)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(JoinedSubject::subject))
}

/// Keeps an authorization request while the person signs in (see
/// `oidc::authorize::park`).
pub async fn insert_pending(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    request: &str,
    ip: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO pending_authorizations (id_hash, request, ip, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_hash)
    .bind(request)
    .bind(ip)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// How many requests made from `ip` are kept at `now`, and when the oldest of them
/// expires.
pub async fn pending_from(
    db: &mut sqlx::AnyConnection,
    ip: Option<&str>,
    now: i64,
) -> Result<(i64, Option<i64>)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), MIN(expires_at) FROM pending_authorizations
         WHERE ip IS NOT DISTINCT FROM $1 AND expires_at > $2",
    )
    .bind(ip)
    .bind(now)
    .fetch_one(db)
    .await?)
}

/// The request kept under `id_hash`, unless it expired by `now`.
pub async fn pending(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    now: i64,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT request FROM pending_authorizations WHERE id_hash = $1 AND expires_at > $2",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(db)
    .await?)
}
