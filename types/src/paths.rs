//! Addresses of Portico's own pages that the server, the domain and the browser all build:
//! one way of writing each, so that a page and the code sending people to it agree.

/// Percent-encodes a query value or path segment: everything but RFC 3986's unreserved
/// characters.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The step-up page, for a person a conditional-access policy (named `policy`; empty for
/// none) asks for a second factor (with `passkey`, a phishing-resistant one), who goes on
/// to `next` (a path on Portico) afterwards.
pub fn step_up(next: &str, policy: &str, passkey: bool) -> String {
    let mut path = format!("/account/verify?next={}", encode(next));
    if !policy.is_empty() {
        path.push_str(&format!("&policy={}", encode(policy)));
    }
    if passkey {
        path.push_str("&need=passkey");
    }
    path
}

/// The page asking the person to accept the terms of use `terms_id`, which the policy
/// named `policy` asks for; they go on to `next` once they do.
pub fn accept_terms(terms_id: &str, next: &str, policy: &str) -> String {
    format!(
        "/account/terms/{}?next={}&policy={}",
        encode(terms_id),
        encode(next),
        encode(policy)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_carry_next_and_the_policy_encoded() {
        assert_eq!(
            step_up("/oauth2/continue?x=1&y=2", "Guests need MFA", false),
            "/account/verify?next=%2Foauth2%2Fcontinue%3Fx%3D1%26y%3D2&policy=Guests%20need%20MFA"
        );
        assert_eq!(step_up("/", "", false), "/account/verify?next=%2F");
        assert_eq!(
            step_up("/", "Passkeys", true),
            "/account/verify?next=%2F&policy=Passkeys&need=passkey"
        );
        assert_eq!(
            accept_terms("t/1", "/admin", "Häuser"),
            "/account/terms/t%2F1?next=%2Fadmin&policy=H%C3%A4user"
        );
    }
}
