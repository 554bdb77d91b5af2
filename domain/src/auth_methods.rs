//! How a person proved who they are when their session opened, kept with the session and
//! handed to apps as the ID token's `amr` claim (RFC 8176 values).

use std::fmt;

/// One way of proving who one is at Portico.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthMethod {
    /// A password: `pwd`.
    Password,
    /// A one-time code mailed to the address: `otp`.
    MailedCode,
    /// A passkey, with user verification: `swk`. Portico asks for no attestation, so it
    /// cannot know the key is bound to hardware (synced passkeys are not): `hwk` would
    /// claim more than was proven.
    Passkey,
    /// The person's own identity provider (a partner's): `fed`. How they proved
    /// themselves there is the provider's to say, so it counts as no factor here.
    Federated,
}

/// The kinds of factor (NIST SP 800-63B) a method shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Factor {
    Knowledge,
    Possession,
    /// The authenticator checked a PIN or biometric (a passkey's user verification).
    Verification,
}

impl AuthMethod {
    const ALL: [AuthMethod; 4] = [
        AuthMethod::Password,
        AuthMethod::MailedCode,
        AuthMethod::Passkey,
        AuthMethod::Federated,
    ];

    /// The `amr` value.
    pub fn amr(self) -> &'static str {
        match self {
            AuthMethod::Password => "pwd",
            AuthMethod::MailedCode => "otp",
            AuthMethod::Passkey => "swk",
            AuthMethod::Federated => "fed",
        }
    }

    fn factors(self) -> &'static [Factor] {
        match self {
            AuthMethod::Password => &[Factor::Knowledge],
            AuthMethod::MailedCode => &[Factor::Possession],
            AuthMethod::Passkey => &[Factor::Possession, Factor::Verification],
            AuthMethod::Federated => &[],
        }
    }
}

/// The methods a session was opened with (one or more, each once). Stored as their `amr`
/// values separated by spaces; [`AuthMethods::amr`] adds `mfa` when they show two kinds of
/// factor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthMethods(Vec<AuthMethod>);

impl AuthMethods {
    pub fn new(methods: &[AuthMethod]) -> AuthMethods {
        let mut methods = methods.to_vec();
        methods.sort();
        methods.dedup();
        AuthMethods(methods)
    }

    /// The stored form back; values Portico does not make (and `mfa`, which is derived)
    /// are left out.
    pub fn parse(stored: &str) -> AuthMethods {
        let methods: Vec<AuthMethod> = stored
            .split(' ')
            .filter_map(|value| AuthMethod::ALL.into_iter().find(|m| m.amr() == value))
            .collect();
        AuthMethods::new(&methods)
    }

    /// The `amr` claim: each method's value, then `mfa` for two kinds of factor or more.
    pub fn amr(&self) -> Vec<&'static str> {
        let mut factors: Vec<Factor> = self
            .0
            .iter()
            .flat_map(|m| m.factors().iter().copied())
            .collect();
        factors.sort();
        factors.dedup();
        let mut amr: Vec<&'static str> = self.0.iter().map(|m| m.amr()).collect();
        if factors.len() >= 2 {
            amr.push("mfa");
        }
        amr
    }
}

impl From<AuthMethod> for AuthMethods {
    fn from(method: AuthMethod) -> Self {
        AuthMethods::new(&[method])
    }
}

/// The stored form: the methods' `amr` values, space-separated.
impl fmt::Display for AuthMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<&str> = self.0.iter().map(|m| m.amr()).collect();
        f.write_str(&values.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::AuthMethod::*;
    use super::*;

    #[test]
    fn the_amr_claim_says_each_method_and_mfa_for_two_kinds_of_factor() {
        let cases: &[(&[AuthMethod], &[&str])] = &[
            (&[Password], &["pwd"]),
            (&[MailedCode], &["otp"]),
            (&[Passkey], &["swk", "mfa"]),
            (&[Federated], &["fed"]),
            (&[Password, MailedCode], &["pwd", "otp", "mfa"]),
            (&[MailedCode, Password], &["pwd", "otp", "mfa"]),
            (&[Federated, MailedCode], &["otp", "fed"]),
            (&[MailedCode, MailedCode], &["otp"]),
            (&[MailedCode, Passkey], &["otp", "swk", "mfa"]),
            (&[], &[]),
        ];
        for (methods, amr) in cases {
            assert_eq!(AuthMethods::new(methods).amr(), *amr, "{methods:?}");
        }
    }

    #[test]
    fn the_stored_form_reads_back_as_written() {
        for methods in [
            AuthMethods::from(Password),
            AuthMethods::from(Passkey),
            AuthMethods::new(&[Federated, MailedCode]),
            AuthMethods::new(&[Password, MailedCode]),
        ] {
            assert_eq!(AuthMethods::parse(&methods.to_string()), methods);
        }
        assert_eq!(
            AuthMethods::new(&[Password, MailedCode]).to_string(),
            "pwd otp"
        );
        // `mfa` is derived, never stored; unknown values are not Portico's.
        assert_eq!(
            AuthMethods::parse("otp mfa hwk  pwd"),
            AuthMethods::new(&[Password, MailedCode])
        );
    }
}
