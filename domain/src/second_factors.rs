//! Second factors: an authenticator app (TOTP, RFC 6238) or a passkey
//! ([`crate::passkey_factors`]) a person registers here, and the single-use recovery codes
//! that stand in for them. They belong to the person, by the
//! identity they sign in with (a member, a Portico account, a guest's address, a partner's
//! identity), whichever organization their session is switched to.
//!
//! A factor verified in a session joins that session's methods
//! ([`crate::auth_methods::AuthMethods`]), which apps read as `amr` and `acr`. Conditional
//! access sends a person whose session lacks one to [`step_up_path`].
//!
//! The shared secret is sealed with the server's key ([`Vault`]) for its row; recovery
//! codes are kept as hashes. Using a code is a compare-and-set on its row, so that two
//! uses of one code at once let one through, on either backend.

use ring::hmac;
use types::{ChangesBlocked, FieldError, SecondFactor, SecurityOverview, StepUp, TotpEnrollment};

use crate::audit::{self, Change};
use crate::auth_methods::AuthMethod;
use crate::sessions::{Client, SessionPolicy, SignedIn};
use crate::store::{self, Tx};
use crate::vault::Vault;
use crate::{Error, Identity, Result, Store, secrets};

/// A TOTP code's time step, in seconds.
pub const TOTP_PERIOD: i64 = 30;
/// Digits of a TOTP code.
pub const TOTP_DIGITS: u32 = 6;
/// Steps before and after the current one whose codes are accepted too (clocks drift).
pub const TOTP_WINDOW: i64 = 1;
/// Bytes of a new TOTP secret (160 bits, as RFC 4226 recommends for HMAC-SHA1).
pub const SECRET_BYTES: usize = 20;
/// How long an authenticator app's set-up waits for its first code, in seconds.
pub const ENROLLMENT_LIFETIME: i64 = 15 * 60;
/// How recent a sign-in must be to change one's second factors, in seconds.
pub const RECENT_SIGN_IN: i64 = 10 * 60;
/// Recovery codes a person gets at once.
pub const RECOVERY_CODES: usize = 10;
/// The name an authenticator app gets when the person gives none.
pub const DEFAULT_NAME: &str = "Authenticator app";
/// Characters of a factor's name at most.
pub const NAME_MAX: usize = 64;

/// The `kind` of an authenticator app's row.
const TOTP: &str = "totp";

/// What a policy asks of the step-up page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Any second factor.
    SecondFactor,
    /// A phishing-resistant one: a passkey.
    Passkey,
}

/// The address of the step-up page for a person sent there by the conditional-access
/// policy named `policy`, which asks for `asked`, who goes on to `next` (a path on
/// Portico) afterwards.
pub fn step_up_path(next: &str, policy: &str, asked: Asked) -> String {
    types::paths::step_up(next, policy, asked == Asked::Passkey)
}

// ---- TOTP (RFC 6238 over RFC 4226's HOTP) ----

/// HOTP: the `digits`-digit code of `counter` (RFC 4226 §5.3, dynamic truncation).
fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    let code = u64::from(binary) % 10u64.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

/// The time step `unix_time` falls in.
pub fn step_of(unix_time: i64) -> i64 {
    unix_time.div_euclid(TOTP_PERIOD)
}

/// The code an authenticator app with `secret` shows at `unix_time`.
pub fn totp(secret: &[u8], unix_time: i64) -> String {
    hotp(secret, step_of(unix_time).max(0) as u64, TOTP_DIGITS)
}

/// The code an app shows at `unix_time` for a secret written in base32 (as Portico shows
/// it, spaces allowed); `None` when it is not base32.
pub fn totp_of_base32(secret: &str, unix_time: i64) -> Option<String> {
    Some(totp(&base32_decode(secret)?, unix_time))
}

/// The digits a person typed, without the spaces apps show in the middle; `None` when that
/// is not a code of [`TOTP_DIGITS`] digits.
fn typed_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == TOTP_DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// The step whose code `code` is, among the steps [`TOTP_WINDOW`] around `now`'s (the
/// latest, if several), compared without stopping at the first difference.
fn accepted_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let current = step_of(now);
    (current - TOTP_WINDOW..=current + TOTP_WINDOW)
        .rev()
        .filter(|step| *step >= 0)
        .find(|step| secrets::same(&hotp(secret, *step as u64, TOTP_DIGITS), code))
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Bytes in base32 (RFC 4648), without padding: how authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The bytes of base32 text (either case; spaces and padding ignored).
fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32
            .iter()
            .position(|b| char::from(*b) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// Base32 in groups of four, for a person to read and type.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://` address (Key Uri Format) that hands the secret to an app, labelled
/// with the person's address under the issuer Portico.
pub fn otpauth_uri(address: &str, secret: &str) -> String {
    let label: String = address
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' | b'+' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "otpauth://totp/Portico:{label}?secret={secret}&issuer=Portico&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD}"
    )
}

// ---- Recovery codes ----

/// The characters of recovery codes: digits and lower-case letters, less i, l, o and u,
/// which are read wrong (Crockford's base32).
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new recovery code: 10 random characters (50 bits) as `xxxxx-xxxxx`.
fn new_recovery_code() -> String {
    let random = secrets::random_bytes::<10>();
    let chars: String = random
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// What a person typed as a recovery code, as it is hashed: lower case, without the dash
/// or spaces; `None` when it cannot be one.
fn typed_recovery_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == 10 && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(code)
}

/// How a recovery code is stored: hashed with the identity it belongs to.
fn recovery_code_hash(identity: &Identity, code: &str) -> String {
    secrets::hash_secret(&format!("recovery-code:{identity}:{code}"))
}

/// Makes `RECOVERY_CODES` new codes for the identity in `tx`, in place of any it had;
/// returns them (the only time they are seen).
pub(crate) async fn replace_recovery_codes(
    tx: &mut Tx,
    identity: &Identity,
    now: i64,
) -> Result<Vec<String>> {
    store::second_factors::delete_recovery_codes(tx, identity).await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let code = new_recovery_code();
        if codes.contains(&code) {
            continue;
        }
        let plain = typed_recovery_code(&code).unwrap_or_default();
        store::second_factors::insert_recovery_code(
            tx,
            identity,
            &recovery_code_hash(identity, &plain),
            now,
        )
        .await?;
        codes.push(code);
    }
    Ok(codes)
}

// ---- Rules ----

/// Whether the person signed in recently enough to change their second factors.
pub fn signed_in_recently(signed_in: &SignedIn, now: i64) -> bool {
    signed_in.auth_time + RECENT_SIGN_IN >= now
}

/// Why the person's second factors cannot be changed from this session now, if they
/// cannot: the sign-in must be recent ([`RECENT_SIGN_IN`]), and someone who has a second
/// factor must have shown more than one factor in this session (a second factor verified
/// in it, or a passkey), so that a password alone cannot take the second factor away.
pub fn changes_blocked(signed_in: &SignedIn, has_factor: bool, now: i64) -> Option<ChangesBlocked> {
    if !signed_in_recently(signed_in, now) {
        Some(ChangesBlocked::SignInAgain)
    } else if has_factor && !signed_in.auth_methods.multi_factor() {
        Some(ChangesBlocked::VerifyFirst)
    } else {
        None
    }
}

pub(crate) fn blocked_error(blocked: ChangesBlocked) -> Error {
    Error::Conflict(match blocked {
        ChangesBlocked::SignInAgain => {
            "For your safety, sign in again first: changing your second factors needs a sign-in less than 10 minutes ago.".into()
        }
        ChangesBlocked::VerifyFirst => {
            "Verify your second factor first (a code from your authenticator app, or your passkey, on the page that asks for it), then make the change.".into()
        }
    })
}

/// Where a second factor (an authenticator app, a passkey) is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `/account/security`: under [`changes_blocked`]'s rule.
    Settings,
    /// `/account/verify`, for someone a policy asks for a second factor who has none yet:
    /// only their first.
    StepUp,
}

/// Whether the identity has a second factor of any kind (a confirmed authenticator app, a
/// passkey).
pub async fn has_second_factor(store: &Store, identity: &Identity) -> Result<bool> {
    has_any(&mut *store.read().await?, identity).await
}

/// [`has_second_factor`], read on `db` (inside a write transaction, that transaction).
pub(crate) async fn has_any(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<bool> {
    Ok(store::second_factors::has_confirmed(db, identity).await?
        || store::passkeys::has_factor(db, identity).await?)
}

/// The identity the person signed in with; sessions opened before identities were kept
/// have none and manage nothing here.
pub(crate) fn identity_of(signed_in: &SignedIn) -> Result<&Identity> {
    signed_in.identity.as_ref().ok_or(Error::AccessDenied)
}

fn refuse(field: &str, message: &str) -> Error {
    Error::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// The name given for a new factor: trimmed, `default` when empty.
pub(crate) fn factor_name(name: &str, default: &str) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > NAME_MAX {
        return Err(refuse("name", "Use at most 64 characters."));
    }
    if name.chars().any(char::is_control) {
        return Err(refuse("name", "Use letters, digits and spaces."));
    }
    Ok(if name.is_empty() { default } else { name }.to_string())
}

/// The owner a factor's secret is sealed for: moved to another row, it does not open.
fn sealed_for(id: &str) -> String {
    format!("second-factor:{id}")
}

/// The secret of a stored factor, opened; an error when it does not open (another key,
/// altered) or was not sealed.
fn secret_of(vault: &Vault, factor: &store::second_factors::Factor) -> Result<Vec<u8>> {
    let unreadable = || {
        Error::Conflict(
            "This authenticator app's secret cannot be read on this server (was its key file replaced?). Use a recovery code, or ask an administrator."
                .into(),
        )
    };
    if !Vault::is_sealed(&factor.secret) {
        return Err(unreadable());
    }
    vault
        .open(&sealed_for(&factor.id), &factor.secret)
        .and_then(|text| base32_decode(&text))
        .ok_or_else(unreadable)
}

/// The factor waiting for its first code, if one is and it has not expired.
fn waiting(
    factors: &[store::second_factors::Factor],
    now: i64,
) -> Option<&store::second_factors::Factor> {
    factors
        .iter()
        .rev()
        .find(|f| f.confirmed_at.is_none() && f.created_at + ENROLLMENT_LIFETIME > now)
}

fn enrollment_of(
    vault: &Vault,
    address: &str,
    factor: &store::second_factors::Factor,
) -> Result<TotpEnrollment> {
    let secret = base32(&secret_of(vault, factor)?);
    Ok(TotpEnrollment {
        uri: otpauth_uri(address, &secret),
        secret: grouped(&secret),
    })
}

/// The kind of an authenticator app, in words.
const APP: &str = "Authenticator app";
/// The kind of a passkey factor, in words.
const PASSKEY: &str = "Passkey";

fn shown(factor: store::second_factors::Factor) -> SecondFactor {
    SecondFactor {
        id: factor.id,
        kind: match factor.kind.as_str() {
            TOTP => APP.into(),
            other => other.to_string(),
        },
        name: factor.name,
        created_at: factor.created_at,
        last_used_at: factor.last_used_at,
    }
}

fn shown_passkey(factor: store::passkeys::Factor) -> SecondFactor {
    SecondFactor {
        id: factor.id,
        kind: PASSKEY.into(),
        name: factor.name,
        created_at: factor.created_at,
        last_used_at: factor.last_used_at,
    }
}

/// The person's second factors (authenticator apps and passkeys, oldest first), recovery
/// codes left and an authenticator app's set-up under way.
///
/// **Permissions:** anyone signed in, for themselves.
pub async fn overview(
    store: &Store,
    vault: &Vault,
    signed_in: &SignedIn,
    now: i64,
) -> Result<SecurityOverview> {
    let identity = identity_of(signed_in)?;
    let mut db = store.read().await?;
    let factors = store::second_factors::of_identity(&mut db, identity).await?;
    let passkeys = store::passkeys::factors_of(&mut db, identity).await?;
    let recovery_codes_left = store::second_factors::recovery_codes_left(&mut db, identity).await?;
    drop(db);
    let enrollment = waiting(&factors, now)
        .map(|f| enrollment_of(vault, &signed_in.me.email, f))
        .transpose()?;
    let mut confirmed: Vec<SecondFactor> = factors
        .into_iter()
        .filter(|f| f.confirmed_at.is_some())
        .map(shown)
        .chain(passkeys.into_iter().map(shown_passkey))
        .collect();
    confirmed.sort_by_key(|f| f.created_at);
    Ok(SecurityOverview {
        email: signed_in.me.email.clone(),
        blocked: changes_blocked(signed_in, !confirmed.is_empty(), now),
        factors: confirmed,
        recovery_codes_left,
        enrollment,
    })
}

/// What the step-up page shows, for a policy asking `asked`: the person's factors to use
/// (a code from their app, their passkey, a recovery code), else the set-up of their
/// first. Only a passkey answers [`Asked::Passkey`]; someone without one who has another
/// factor adds one under the security page's rule (verifying that factor first).
///
/// **Permissions:** anyone signed in, for themselves.
pub async fn step_up(
    store: &Store,
    vault: &Vault,
    signed_in: &SignedIn,
    asked: Asked,
    now: i64,
) -> Result<StepUp> {
    let overview = overview(store, vault, signed_in, now).await?;
    let methods = &signed_in.auth_methods;
    Ok(StepUp {
        email: overview.email,
        has_factor: !overview.factors.is_empty(),
        has_app: overview.factors.iter().any(|f| f.kind == APP),
        has_passkey: overview.factors.iter().any(|f| f.kind == PASSKEY),
        passkey_asked: asked == Asked::Passkey,
        verified: match asked {
            Asked::SecondFactor => methods.has_second_factor(),
            Asked::Passkey => methods.has_second_factor() && methods.phishing_resistant(),
        },
        blocked: overview.blocked,
        recovery_codes_left: overview.recovery_codes_left,
        enrollment: overview.enrollment,
    })
}

/// Checks that the person may set up a second factor here (see [`Purpose`]).
pub(crate) fn may_enroll(
    signed_in: &SignedIn,
    purpose: Purpose,
    has_factor: bool,
    now: i64,
) -> Result<()> {
    match purpose {
        Purpose::Settings => match changes_blocked(signed_in, has_factor, now) {
            Some(blocked) => Err(blocked_error(blocked)),
            None => Ok(()),
        },
        Purpose::StepUp if has_factor => Err(Error::Conflict(
            "You have a second factor set up already: use it (or add another at Security).".into(),
        )),
        Purpose::StepUp => Ok(()),
    }
}

/// Begins setting up an authenticator app: a new secret, sealed and kept waiting for the
/// first code (for [`ENROLLMENT_LIFETIME`]); a set-up begun before is dropped.
///
/// **Permissions:** anyone signed in, for themselves, under [`Purpose`]'s rule.
pub async fn start_totp(
    store: &Store,
    vault: &Vault,
    signed_in: &SignedIn,
    purpose: Purpose,
    now: i64,
) -> Result<()> {
    let identity = identity_of(signed_in)?;
    let id = crate::new_id();
    let secret = base32(&secrets::random_bytes::<SECRET_BYTES>());
    let sealed = vault.seal(&sealed_for(&id), &secret)?;
    let mut tx = store.begin().await?;
    let has_factor = has_any(&mut tx, identity).await?;
    may_enroll(signed_in, purpose, has_factor, now)?;
    store::second_factors::delete_pending(&mut tx, identity).await?;
    store::second_factors::insert_pending(
        &mut tx,
        store::second_factors::NewFactor {
            id: &id,
            identity,
            kind: TOTP,
            name: DEFAULT_NAME,
            secret: &sealed,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The throttle keys of attempts at a person's second factor: their identity, and the
/// client's address when known. Guesses count like failed sign-ins, so that a 6-digit code
/// cannot be found by trying.
fn attempt_keys(identity: &Identity, client: &Client) -> (String, Option<String>) {
    (
        format!("second-factor:{identity}"),
        crate::sessions::client_key("second-factor-from", client),
    )
}

async fn reserve(
    store: &Store,
    policy: &SessionPolicy,
    keys: &(String, Option<String>),
    now: i64,
) -> Result<()> {
    let mut limits = vec![(&keys.0, policy.max_failures_per_account)];
    limits.extend(
        keys.1
            .as_ref()
            .map(|key| (key, policy.max_failures_per_address)),
    );
    crate::sessions::reserve_attempt(store, policy, &limits, now).await
}

/// Forgives the attempt that succeeded: the person's count starts again, the address's
/// loses one.
async fn forgive(tx: &mut Tx, keys: &(String, Option<String>)) -> Result<()> {
    store::sessions::clear_failures(tx, &keys.0).await?;
    if let Some(key) = &keys.1 {
        store::sessions::forgive_one(tx, key).await?;
    }
    Ok(())
}

/// The session `session` (its token) gains `method`.
pub(crate) async fn gain(
    tx: &mut Tx,
    signed_in: &SignedIn,
    session: &str,
    method: AuthMethod,
) -> Result<()> {
    let methods = signed_in.auth_methods.with(method);
    store::sessions::set_amr(tx, &secrets::hash_secret(session), &methods.to_string()).await?;
    Ok(())
}

/// An event about the person's own second factors, in the organization they are looking
/// at.
pub(crate) async fn record(
    tx: &mut Tx,
    signed_in: &SignedIn,
    action: &str,
    detail: String,
    now: i64,
) -> Result<()> {
    let change = Change {
        action,
        target_type: "User",
        target_id: &signed_in.me.user_id,
        target_name: &signed_in.me.display_name,
        detail,
    };
    audit::record(tx, &signed_in.principal, now, change).await
}

/// Ends the person's other sessions after a change to their factors; says how many ended,
/// for the audit log.
pub(crate) async fn end_others(tx: &mut Tx, identity: &Identity, session: &str) -> Result<String> {
    let ended =
        store::sessions::delete_for_identity_except(tx, identity, &secrets::hash_secret(session))
            .await?;
    Ok(match ended {
        1 => "1 other session ended".into(),
        n => format!("{n} other sessions ended"),
    })
}

/// What confirming an authenticator app gave.
#[derive(Debug)]
pub struct Confirmed {
    /// New recovery codes, shown this once: when the person had none left (their first
    /// factor).
    pub recovery_codes: Option<Vec<String>>,
}

/// Finishes setting up an authenticator app with the first code it shows: the code is
/// checked before anything is saved (guesses count against the same limits as sign-in),
/// the app is kept under `name`, this session gains it, the person's other sessions end,
/// and the organization's audit log says so. The first factor comes with recovery codes.
///
/// **Permissions:** anyone signed in, for themselves, under [`Purpose`]'s rule.
#[allow(clippy::too_many_arguments)]
pub async fn confirm_totp(
    store: &Store,
    vault: &Vault,
    policy: &SessionPolicy,
    signed_in: &SignedIn,
    session: &str,
    purpose: Purpose,
    name: &str,
    code: &str,
    client: &Client,
    now: i64,
) -> Result<Confirmed> {
    let identity = identity_of(signed_in)?;
    let name = factor_name(name, DEFAULT_NAME)?;
    let code =
        typed_code(code).ok_or_else(|| refuse("code", "Enter the 6-digit code your app shows."))?;
    let mut db = store.read().await?;
    let factors = store::second_factors::of_identity(&mut db, identity).await?;
    let has_factor = has_any(&mut db, identity).await?;
    drop(db);
    may_enroll(signed_in, purpose, has_factor, now)?;
    let factor = waiting(&factors, now).ok_or_else(|| {
        Error::Conflict(
            "There is no set-up waiting for a code (it lasts 15 minutes): start again.".into(),
        )
    })?;
    let secret = secret_of(vault, factor)?;
    let keys = attempt_keys(identity, client);
    reserve(store, policy, &keys, now).await?;
    let step = accepted_step(&secret, &code, now).ok_or_else(|| {
        refuse(
            "code",
            "That code is not right. Check that your device's clock is right and enter the code the app shows now.",
        )
    })?;
    let mut tx = store.begin().await?;
    if !store::second_factors::confirm(&mut tx, identity, &factor.id, &name, step, now).await? {
        return Err(Error::Conflict(
            "This set-up was finished or replaced meanwhile: look at your second factors again."
                .into(),
        ));
    }
    forgive(&mut tx, &keys).await?;
    let recovery_codes = match store::second_factors::recovery_codes_left(&mut tx, identity).await?
    {
        0 => Some(replace_recovery_codes(&mut tx, identity, now).await?),
        _ => None,
    };
    gain(&mut tx, signed_in, session, AuthMethod::Totp).await?;
    let ended = end_others(&mut tx, identity, session).await?;
    let detail = format!(
        "authenticator app \u{201c}{name}\u{201d}{}; {ended}",
        if recovery_codes.is_some() {
            ", with new recovery codes"
        } else {
            ""
        }
    );
    record(&mut tx, signed_in, "Add second factor", detail, now).await?;
    tx.commit().await?;
    Ok(Confirmed { recovery_codes })
}

/// Removes one of the person's second factors (an authenticator app or a passkey); with
/// the last, their recovery codes go too. Their other sessions end.
///
/// **Permissions:** anyone signed in, for their own factors, under [`changes_blocked`]'s
/// rule.
pub async fn remove(
    store: &Store,
    signed_in: &SignedIn,
    session: &str,
    id: &str,
    now: i64,
) -> Result<()> {
    let identity = identity_of(signed_in)?;
    let mut tx = store.begin().await?;
    let apps: Vec<_> = store::second_factors::of_identity(&mut tx, identity)
        .await?
        .into_iter()
        .filter(|f| f.confirmed_at.is_some())
        .collect();
    let passkeys = store::passkeys::factors_of(&mut tx, identity).await?;
    let has_factor = !apps.is_empty() || !passkeys.is_empty();
    if let Some(blocked) = changes_blocked(signed_in, has_factor, now) {
        return Err(blocked_error(blocked));
    }
    let app = apps.iter().find(|f| secrets::same(&f.id, id));
    let passkey = passkeys.iter().find(|f| secrets::same(&f.id, id));
    let (kind, name) = match (app, passkey) {
        (Some(app), _) => ("authenticator app", app.name.clone()),
        (None, Some(passkey)) => ("passkey", passkey.name.clone()),
        (None, None) => return Err(Error::NotFound("second factor")),
    };
    let last = apps.len() + passkeys.len() == 1;
    if last
        && let Some(policy) =
            crate::conditional_access::asking_second_factor(&mut tx, &signed_in.memberships).await?
    {
        return Err(Error::Conflict(format!(
            "Your organization's policy \u{201c}{policy}\u{201d} asks you for a second factor: add another (an authenticator app or a passkey) before you remove the last one."
        )));
    }
    if app.is_some() {
        store::second_factors::delete(&mut tx, identity, id).await?;
    } else {
        store::passkeys::delete_factor(&mut tx, identity, id).await?;
    }
    let codes = if last {
        store::second_factors::delete_recovery_codes(&mut tx, identity).await?
    } else {
        0
    };
    let ended = end_others(&mut tx, identity, session).await?;
    let detail = format!(
        "{kind} \u{201c}{name}\u{201d}{}; {ended}",
        if last {
            format!(", the last, with its {codes} recovery codes")
        } else {
            String::new()
        }
    );
    record(&mut tx, signed_in, "Remove second factor", detail, now).await?;
    tx.commit().await?;
    Ok(())
}

/// New recovery codes in place of all the person had; returned this once. Their other
/// sessions end.
///
/// **Permissions:** anyone signed in with a second factor, for themselves, under
/// [`changes_blocked`]'s rule.
pub async fn regenerate_recovery_codes(
    store: &Store,
    signed_in: &SignedIn,
    session: &str,
    now: i64,
) -> Result<Vec<String>> {
    let identity = identity_of(signed_in)?;
    let mut tx = store.begin().await?;
    let has_factor = has_any(&mut tx, identity).await?;
    if let Some(blocked) = changes_blocked(signed_in, has_factor, now) {
        return Err(blocked_error(blocked));
    }
    if !has_factor {
        return Err(Error::Conflict(
            "Set up a second factor first (an authenticator app or a passkey): recovery codes stand in for it when it is not at hand."
                .into(),
        ));
    }
    let codes = replace_recovery_codes(&mut tx, identity, now).await?;
    let ended = end_others(&mut tx, identity, session).await?;
    let detail = format!("{} new codes; {ended}", codes.len());
    record(&mut tx, signed_in, "Regenerate recovery codes", detail, now).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Verifies a code of the person's authenticator app in this session, which gains it (so
/// that a policy asking for a second factor is met). Each step's code works once per app:
/// the same code again, or an older one, is refused, and of two uses at once one gets in.
/// Wrong codes count against the same limits as sign-ins.
///
/// **Permissions:** anyone signed in, for themselves.
#[allow(clippy::too_many_arguments)]
pub async fn verify_totp(
    store: &Store,
    vault: &Vault,
    policy: &SessionPolicy,
    signed_in: &SignedIn,
    session: &str,
    code: &str,
    client: &Client,
    now: i64,
) -> Result<()> {
    let identity = identity_of(signed_in)?;
    let code =
        typed_code(code).ok_or_else(|| refuse("code", "Enter the 6-digit code your app shows."))?;
    let factors: Vec<_> = store::second_factors::of_identity(&mut *store.read().await?, identity)
        .await?
        .into_iter()
        .filter(|f| f.confirmed_at.is_some())
        .collect();
    if factors.is_empty() {
        return Err(Error::Conflict(
            "You have no authenticator app set up here yet.".into(),
        ));
    }
    let keys = attempt_keys(identity, client);
    reserve(store, policy, &keys, now).await?;
    let mut matched = None;
    for factor in &factors {
        if let Some(step) = accepted_step(&secret_of(vault, factor)?, &code, now) {
            matched = Some((factor, step));
            break;
        }
    }
    let Some((factor, step)) = matched else {
        return Err(refuse(
            "code",
            "That code is not right. Enter the code your app shows now.",
        ));
    };
    // The conditional UPDATE decides: no lock beyond the factor's row is needed.
    let mut tx = store.begin_plain().await?;
    if !store::second_factors::use_step(&mut tx, &factor.id, step, now).await? {
        return Err(refuse(
            "code",
            "That code was used already. Wait for the next one your app shows.",
        ));
    }
    forgive(&mut tx, &keys).await?;
    gain(&mut tx, signed_in, session, AuthMethod::Totp).await?;
    let detail = format!("authenticator app \u{201c}{}\u{201d}", factor.name);
    record(&mut tx, signed_in, "Verify second factor", detail, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Verifies one of the person's recovery codes in this session, which gains it; the code
/// is used up (of two uses at once, one gets in). Returns how many are left. Wrong codes
/// count against the same limits as sign-ins.
///
/// **Permissions:** anyone signed in, for themselves.
pub async fn verify_recovery_code(
    store: &Store,
    policy: &SessionPolicy,
    signed_in: &SignedIn,
    session: &str,
    code: &str,
    client: &Client,
    now: i64,
) -> Result<i64> {
    let identity = identity_of(signed_in)?;
    let code = typed_recovery_code(code).ok_or_else(|| {
        refuse(
            "recovery_code",
            "Enter one of your recovery codes: ten letters and digits, like abcde-12345.",
        )
    })?;
    let keys = attempt_keys(identity, client);
    reserve(store, policy, &keys, now).await?;
    let mut tx = store.begin_plain().await?;
    let hash = recovery_code_hash(identity, &code);
    if !store::second_factors::use_recovery_code(&mut tx, identity, &hash).await? {
        return Err(refuse(
            "recovery_code",
            "That recovery code is not right, or it was used already.",
        ));
    }
    forgive(&mut tx, &keys).await?;
    gain(&mut tx, signed_in, session, AuthMethod::RecoveryCode).await?;
    let left = store::second_factors::recovery_codes_left(&mut tx, identity).await?;
    record(
        &mut tx,
        signed_in,
        "Use recovery code",
        format!("{left} left"),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(left)
}

/// Drops set-ups that waited too long for their first code; run with the other purges.
pub(crate) async fn purge_stale(tx: &mut Tx, now: i64) -> Result<u64> {
    store::second_factors::delete_stale_pending(tx, now - ENROLLMENT_LIFETIME).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1: the secret is the ASCII of "12345678901234567890" and
    /// the codes have 8 digits.
    #[test]
    fn the_rfc_6238_test_vectors_hold() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(secret, step_of(time) as u64, 8), code, "at {time}");
            // Six digits are the last six of the eight.
            assert_eq!(totp(secret, time), code[2..], "at {time}");
        }
    }

    /// RFC 4226 Appendix D: HOTP's own vectors, counters 0 to 9.
    #[test]
    fn the_rfc_4226_test_vectors_hold() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", counter as u64, 6), *code);
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = b"12345678901234567890";
        let now = 1_800_000_015;
        let here = step_of(now);
        for offset in [-1, 0, 1] {
            let code = totp(secret, now + offset * TOTP_PERIOD);
            assert_eq!(
                accepted_step(secret, &code, now),
                Some(here + offset),
                "{offset}"
            );
        }
        for offset in [-3, -2, 2, 3] {
            let code = totp(secret, now + offset * TOTP_PERIOD);
            assert_eq!(accepted_step(secret, &code, now), None, "{offset}");
        }
        assert_eq!(
            accepted_step(b"another secret of twenty", &totp(secret, now), now),
            None
        );
    }

    #[test]
    fn typed_codes_may_carry_spaces_but_nothing_else() {
        assert_eq!(typed_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(typed_code("12345"), None);
        assert_eq!(typed_code("1234567"), None);
        assert_eq!(typed_code("12345a"), None);
        assert_eq!(typed_code("١٢٣٤٥٦"), None);
    }

    #[test]
    fn base32_is_rfc_4648_without_padding_and_reads_back() {
        // RFC 4648 §10, padding left off.
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
        let secret = secrets::random_bytes::<SECRET_BYTES>();
        let text = base32(&secret);
        assert_eq!(text.len(), 32);
        assert_eq!(
            base32_decode(&grouped(&text).to_lowercase()).as_deref(),
            Some(&secret[..])
        );
        assert_eq!(base32_decode("MZ1W"), None);
        assert_eq!(
            totp_of_base32(&text, 1_800_000_000),
            Some(totp(&secret, 1_800_000_000))
        );
    }

    #[test]
    fn the_otpauth_address_names_portico_and_the_person() {
        assert_eq!(
            otpauth_uri("mia@contoso.example", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Portico:mia@contoso.example?secret=JBSWY3DPEHPK3PXP&issuer=Portico&algorithm=SHA1&digits=6&period=30"
        );
        assert!(
            otpauth_uri("a b?c@x.example", "A")
                .starts_with("otpauth://totp/Portico:a%20b%3Fc@x.example?")
        );
    }

    #[test]
    fn recovery_codes_are_ten_characters_in_two_groups_and_read_back_loosely() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
        let plain = typed_recovery_code(&code).unwrap_or_default();
        assert_eq!(plain.len(), 10);
        assert_eq!(
            typed_recovery_code(&format!(" {} ", code.to_uppercase())),
            Some(plain.clone())
        );
        assert_eq!(typed_recovery_code(&plain), Some(plain));
        assert_eq!(typed_recovery_code("abcde-1234"), None);
        assert_eq!(typed_recovery_code("abcde-1234i"), None);
        let identity = Identity::Email("ann@partner.example".into());
        let other = Identity::Email("bob@partner.example".into());
        assert_ne!(
            recovery_code_hash(&identity, "abcde12345"),
            recovery_code_hash(&other, "abcde12345")
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            factor_name("  Phone ", DEFAULT_NAME).ok().as_deref(),
            Some("Phone")
        );
        assert_eq!(
            factor_name("", DEFAULT_NAME).ok().as_deref(),
            Some(DEFAULT_NAME)
        );
        assert_eq!(factor_name(" ", "Passkey").ok().as_deref(), Some("Passkey"));
        assert!(factor_name(&"x".repeat(65), DEFAULT_NAME).is_err());
        assert!(factor_name("a\u{7}b", DEFAULT_NAME).is_err());
    }
}
