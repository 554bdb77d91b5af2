//! Checks on what people type. Each check returns the cleaned value or a [`FieldError`]
//! naming the field and saying in words what is wrong.

use crate::{Error, Result};
use types::FieldError;
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Refuses the whole input if any check failed, listing every failure at once.
pub fn report<const N: usize>(checks: [Option<&FieldError>; N]) -> Result<()> {
    let errors: Vec<FieldError> = checks.into_iter().flatten().cloned().collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A name people read: trimmed, 1 to `max` characters, no control characters.
pub fn name(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(field_error(field, "Enter a name."));
    }
    if value.chars().count() > max {
        return Err(field_error(field, format!("Use at most {max} characters.")));
    }
    if has_control(value) {
        return Err(field_error(field, "Remove the control characters."));
    }
    Ok(value.to_string())
}

/// Free text such as a description: trimmed, at most `max` characters, may be empty.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(field_error(field, format!("Use at most {max} characters.")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(field_error(field, "Remove the control characters."));
    }
    Ok(value.to_string())
}

/// An email address in the one form Portico compares: NFKC-normalized (full-width and
/// other compatibility forms become the plain letters they stand for), then lower-cased.
/// Deliberately strict: one `@`, a local part without spaces, quotes or angle brackets and
/// written in one script (so that `guеst` with a Cyrillic `е` is not a second `guest`),
/// and a domain name with at least one dot.
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let value: String = value.trim().nfkc().collect::<String>().to_lowercase();
    let invalid = || field_error(field, "Enter an email address like name@example.com.");
    if value.is_empty() {
        return Err(field_error(field, "Enter an email address."));
    }
    if value.len() > 254 {
        return Err(field_error(
            field,
            "An email address has at most 254 characters.",
        ));
    }
    let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "._%+-'&=!#$*/?^`{|}~".contains(c));
    if local_ok && let Some((first, second)) = mixed_scripts(local) {
        return Err(field_error(
            field,
            format!(
                "The part before the @ mixes {} and {} letters, as look-alike addresses do. Type it in one script.",
                first.full_name(),
                second.full_name()
            ),
        ));
    }
    match domain_name(field, domain) {
        // The domain as written, but without a final dot (`x.example.` is `x.example`).
        Ok(domain) if local_ok => Ok(format!("{local}@{domain}")),
        _ => Err(invalid()),
    }
}

/// Two scripts that `text` mixes, if it mixes any, by the "highly restrictive" level of
/// Unicode's identifier profile (UTS #39 §5.2): letters of one script (digits and
/// punctuation belong to all), except that Latin, Han, Hiragana and Katakana go together
/// (Japanese), as do Latin, Han and Bopomofo (Chinese) and Latin, Han and Hangul (Korean).
fn mixed_scripts(text: &str) -> Option<(Script, Script)> {
    use Script::{Bopomofo, Han, Hangul, Hiragana, Katakana, Latin};
    const WRITINGS: [&[Script]; 3] = [
        &[Latin, Han, Hiragana, Katakana],
        &[Latin, Han, Bopomofo],
        &[Latin, Han, Hangul],
    ];
    let mut scripts: Vec<Script> = Vec::new();
    for c in text.chars() {
        let script = c.script();
        if !matches!(script, Script::Common | Script::Inherited) && !scripts.contains(&script) {
            scripts.push(script);
        }
    }
    if scripts.len() < 2
        || WRITINGS
            .iter()
            .any(|w| scripts.iter().all(|s| w.contains(s)))
    {
        return None;
    }
    // Name two that no one writing allows together.
    let first = scripts[0];
    let second = scripts[1..]
        .iter()
        .copied()
        .find(|s| !WRITINGS.iter().any(|w| w.contains(&first) && w.contains(s)))
        .unwrap_or(scripts[1]);
    Some((first, second))
}

/// A DNS domain name, lower-cased: dot-separated labels of letters, digits and hyphens.
pub fn domain_name(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim().trim_end_matches('.').to_lowercase();
    let invalid = || field_error(field, "Enter a domain name like example.com.");
    if value.len() > 253 || !value.contains('.') {
        return Err(invalid());
    }
    let labels_ok = value.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if labels_ok { Ok(value) } else { Err(invalid()) }
}

/// An absolute `https` (or, for local development, `http`) address. Anything else, such
/// as `javascript:` or `data:`, is refused, because these become links people click.
pub fn web_url(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let parsed = url::Url::parse(value)
        .map_err(|_| field_error(field, "Enter a full web address starting with https://."))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(field_error(
            field,
            "Enter a web address starting with https:// (or http://).",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(field_error(
            field,
            "Leave user names and passwords out of the address.",
        ));
    }
    Ok(parsed.to_string())
}

/// An optional web address: empty means none.
pub fn optional_web_url(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        web_url(field, value).map(Some)
    }
}

/// A short identifier for URLs, made from a name: lower-case letters, digits and hyphens.
pub fn slug_from(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "tenant".into()
    } else {
        slug.chars().take(48).collect()
    }
}

/// A calendar date `YYYY-MM-DD` as the Unix second its day starts (UTC); empty is none.
pub fn date(field: &str, value: &str) -> Result<Option<i64>, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &format)
        .map(|day| Some(day.midnight().assume_utc().unix_timestamp()))
        .map_err(|_| field_error(field, "Enter a date as YYYY-MM-DD."))
}

/// An address to invite, by the rules Microsoft Graph applies to `invitedUserEmailAddress`:
/// an email address without any of `~!#$%^&*()+=[]{}\/|;:"<>?,`, whose local part does not
/// start or end with `.` or `-`.
pub fn invited_email(field: &str, value: &str) -> Result<String, FieldError> {
    let email = email(field, value)?;
    let local = email.split('@').next().unwrap_or_default();
    if let Some(bad) = local
        .chars()
        .find(|c| "~!#$%^&*()+=[]{}\\/|;:\"<>?,".contains(*c))
    {
        return Err(field_error(
            field,
            format!("An invited address cannot contain '{bad}'."),
        ));
    }
    if local.starts_with(['.', '-']) || local.ends_with(['.', '-']) {
        return Err(field_error(
            field,
            "An invited address cannot start or end with '.' or '-' before the @.",
        ));
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_compared_in_one_form() {
        for (typed, kept) in [
            ("Ann@Partner.Example", "ann@partner.example"),
            // Full-width letters are the letters they stand for.
            ("\u{ff41}dmin@contoso.example", "admin@contoso.example"),
            ("ADMIN@\u{ff43}ontoso.example", "admin@contoso.example"),
            // A final dot of the domain is dropped.
            ("bob@contoso.example.", "bob@contoso.example"),
            // One script other than Latin is fine, as is a Japanese mix.
            (
                "\u{432}\u{430}\u{43d}\u{44f}@partner.example",
                "\u{432}\u{430}\u{43d}\u{44f}@partner.example",
            ),
            (
                "\u{7530}\u{4e2d}\u{305f}\u{308d}\u{3046}.tanaka@partner.example",
                "\u{7530}\u{4e2d}\u{305f}\u{308d}\u{3046}.tanaka@partner.example",
            ),
        ] {
            assert_eq!(email("email", typed).as_deref(), Ok(kept), "{typed}");
        }
    }

    #[test]
    fn look_alike_addresses_that_mix_scripts_are_refused() {
        for typed in [
            // A Cyrillic e among Latin letters.
            "gu\u{435}st@contoso.example",
            // A Greek omicron.
            "b\u{3bf}b@contoso.example",
            // Cyrillic and Greek together.
            "\u{432}\u{3b1}@contoso.example",
        ] {
            let refused = email("email", typed).expect_err(typed);
            assert!(
                refused.message.contains("mixes"),
                "{typed}: {}",
                refused.message
            );
        }
    }
}
