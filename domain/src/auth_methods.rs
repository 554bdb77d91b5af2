//! How a person proved who they are in a session (when it opened, and any second factor
//! verified in it since), kept with the session and handed to apps as the ID token's `amr`
//! claim (RFC 8176 values) and `acr` claim (Portico's own values, below).

use std::fmt;

/// `acr`: one factor shown (a password, a mailed code, a partner's sign-in alone).
pub const ACR_SINGLE_FACTOR: &str = "urn:portico:acr:1fa";
/// `acr`: more than one factor shown (see [`AuthMethods::multi_factor`]).
pub const ACR_MULTI_FACTOR: &str = "urn:portico:acr:mfa";
/// `acr`: more than one factor, one of them phishing-resistant (a passkey: see
/// [`AuthMethods::phishing_resistant`]).
pub const ACR_PHISHING_RESISTANT: &str = "urn:portico:acr:phr";
/// Every `acr` value Portico issues, weakest first (the discovery document lists them).
pub const ACR_VALUES: [&str; 3] = [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR, ACR_PHISHING_RESISTANT];

/// One way of proving who one is at Portico.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthMethod {
    /// A password: `pwd`.
    Password,
    /// A one-time code mailed to the address: `otp`.
    MailedCode,
    /// A passkey, with user verification, as the way of signing in: `swk`. Portico asks for
    /// no attestation, so it cannot know the key is bound to hardware (synced passkeys are
    /// not): `hwk` would claim more than was proven. Both kinds of passkey count: a Portico
    /// account's, and a passkey registered as a second factor (see
    /// [`AuthMethod::PasskeyFactor`]) used to sign in without a password.
    Passkey,
    /// The person's own identity provider (a partner's): `fed`. How they proved
    /// themselves there is the provider's to say, so it counts as no factor here.
    Federated,
    /// A code of an authenticator app the person registered here (TOTP, RFC 6238): `otp`.
    Totp,
    /// One of the person's single-use recovery codes (a look-up secret): `otp`.
    RecoveryCode,
    /// Beside [`AuthMethod::Federated`]: the partner's provider said it used more than one
    /// factor (its ID token's `amr` or `acr`). Whether that counts here is the
    /// organization's trust in the partner (`partners::shows_mfa`); on its own it is no
    /// factor, and apps see `fed`.
    PartnerMfa,
    /// A passkey the person registered here as a second factor, verified on top of the
    /// way they signed in (at the step-up page, or as it was registered): `swk`, as a
    /// passkey sign-in. A method of its own rather than [`AuthMethod::Passkey`] because it
    /// is a second factor shown *here*: for a partner's people it counts whatever the
    /// organization's trust in the partner (`partners::shows_mfa`), as an authenticator
    /// app's code does, where a passkey used to sign in at home counts only when the
    /// partner is trusted. Phishing-resistant, as every passkey.
    PasskeyFactor,
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
    const ALL: [AuthMethod; 8] = [
        AuthMethod::Password,
        AuthMethod::MailedCode,
        AuthMethod::Passkey,
        AuthMethod::Federated,
        AuthMethod::Totp,
        AuthMethod::RecoveryCode,
        AuthMethod::PartnerMfa,
        AuthMethod::PasskeyFactor,
    ];

    /// The `amr` value. Two methods may share one (a mailed code and an authenticator's
    /// are both `otp`); [`AuthMethods::amr`] says each value once.
    pub fn amr(self) -> &'static str {
        match self {
            AuthMethod::Password => "pwd",
            AuthMethod::MailedCode | AuthMethod::Totp | AuthMethod::RecoveryCode => "otp",
            AuthMethod::Passkey | AuthMethod::PasskeyFactor => "swk",
            AuthMethod::Federated | AuthMethod::PartnerMfa => "fed",
        }
    }

    /// The name the method is stored by, one per method. The first four are the `amr`
    /// values they were stored as before second factors existed, so sessions, codes and
    /// refresh tokens stored then read back the same; [`AuthMethod::PasskeyFactor`] has a
    /// name of its own (`swkf`), so that `swk` keeps meaning a passkey sign-in.
    pub fn stored(self) -> &'static str {
        match self {
            AuthMethod::Password => "pwd",
            AuthMethod::MailedCode => "otp",
            AuthMethod::Passkey => "swk",
            AuthMethod::Federated => "fed",
            AuthMethod::Totp => "totp",
            AuthMethod::RecoveryCode => "rcode",
            AuthMethod::PartnerMfa => "fedmfa",
            AuthMethod::PasskeyFactor => "swkf",
        }
    }

    /// Whether the method is a second factor the person registered here (shown on top of
    /// the way they signed in).
    pub fn is_second_factor(self) -> bool {
        matches!(
            self,
            AuthMethod::Totp | AuthMethod::RecoveryCode | AuthMethod::PasskeyFactor
        )
    }

    fn factors(self) -> &'static [Factor] {
        match self {
            AuthMethod::Password => &[Factor::Knowledge],
            AuthMethod::MailedCode | AuthMethod::Totp | AuthMethod::RecoveryCode => {
                &[Factor::Possession]
            }
            AuthMethod::Passkey | AuthMethod::PasskeyFactor => {
                &[Factor::Possession, Factor::Verification]
            }
            AuthMethod::Federated | AuthMethod::PartnerMfa => &[],
        }
    }
}

/// The methods a session was opened with, and the second factors verified in it since
/// (one or more, each once). Stored as their [`AuthMethod::stored`] names separated by
/// spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthMethods(Vec<AuthMethod>);

impl AuthMethods {
    pub fn new(methods: &[AuthMethod]) -> AuthMethods {
        let mut methods = methods.to_vec();
        methods.sort();
        methods.dedup();
        AuthMethods(methods)
    }

    /// The stored form back; names Portico does not store (and `mfa`, which is derived)
    /// are left out.
    pub fn parse(stored: &str) -> AuthMethods {
        let methods: Vec<AuthMethod> = stored
            .split(' ')
            .filter_map(|value| AuthMethod::ALL.into_iter().find(|m| m.stored() == value))
            .collect();
        AuthMethods::new(&methods)
    }

    /// These methods and `method`.
    pub fn with(&self, method: AuthMethod) -> AuthMethods {
        let mut methods = self.0.clone();
        methods.push(method);
        AuthMethods::new(&methods)
    }

    /// Whether `method` is among them.
    pub fn contains(&self, method: AuthMethod) -> bool {
        self.0.contains(&method)
    }

    /// Whether a second factor the person registered here was verified.
    pub fn has_second_factor(&self) -> bool {
        self.0.iter().any(|m| m.is_second_factor())
    }

    /// The ways of signing in alone, without the second factors verified since.
    pub fn without_second_factors(&self) -> AuthMethods {
        AuthMethods(
            self.0
                .iter()
                .copied()
                .filter(|m| !m.is_second_factor())
                .collect(),
        )
    }

    /// Whether the person showed more than one factor. Either of two rules makes it so:
    /// - the ways of signing in show two kinds of factor (NIST SP 800-63B: something known,
    ///   something had, a verification by the authenticator): a password and a mailed
    ///   code, or a passkey with its user verification;
    /// - a second factor the person registered here (an authenticator app's code, a
    ///   recovery code, a passkey) was verified on top of a way of signing in (any of the
    ///   others, a partner's sign-in included): it is a factor independent of that way in,
    ///   even where both are of one kind (a mailed code, then an authenticator's).
    ///
    /// A second factor alone (no way of signing in beside it) is not enough, not even a
    /// passkey verified as one.
    pub fn multi_factor(&self) -> bool {
        let mut factors: Vec<Factor> = self
            .0
            .iter()
            .filter(|m| !m.is_second_factor())
            .flat_map(|m| m.factors().iter().copied())
            .collect();
        factors.sort();
        factors.dedup();
        let second = self.0.iter().any(|m| m.is_second_factor());
        let primary = self.0.iter().any(|m| !m.is_second_factor());
        factors.len() >= 2 || (second && primary)
    }

    /// Whether a phishing-resistant method was used: a passkey, to sign in or as a second
    /// factor (bound to Portico's domain by the browser, so a look-alike site cannot replay
    /// it).
    pub fn phishing_resistant(&self) -> bool {
        self.contains(AuthMethod::Passkey) || self.contains(AuthMethod::PasskeyFactor)
    }

    /// The `amr` claim: each method's value once, then `mfa` exactly when
    /// [`AuthMethods::multi_factor`].
    pub fn amr(&self) -> Vec<&'static str> {
        let mut amr: Vec<&'static str> = Vec::with_capacity(self.0.len() + 1);
        for value in self.0.iter().map(|m| m.amr()) {
            if !amr.contains(&value) {
                amr.push(value);
            }
        }
        if self.multi_factor() {
            amr.push("mfa");
        }
        amr
    }

    /// The `acr` claim: [`ACR_PHISHING_RESISTANT`] for more than one factor with a
    /// phishing-resistant one among them, [`ACR_MULTI_FACTOR`] for more than one factor,
    /// else [`ACR_SINGLE_FACTOR`].
    pub fn acr(&self) -> &'static str {
        match (self.multi_factor(), self.phishing_resistant()) {
            (true, true) => ACR_PHISHING_RESISTANT,
            (true, false) => ACR_MULTI_FACTOR,
            (false, _) => ACR_SINGLE_FACTOR,
        }
    }
}

impl From<AuthMethod> for AuthMethods {
    fn from(method: AuthMethod) -> Self {
        AuthMethods::new(&[method])
    }
}

/// The stored form: the methods' stored names, space-separated.
impl fmt::Display for AuthMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<&str> = self.0.iter().map(|m| m.stored()).collect();
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

    /// Every way in, with and without each second factor: `amr`, `multi_factor`,
    /// `phishing_resistant` and `acr` together.
    #[test]
    fn second_factors_make_any_way_in_multi_factor_and_say_otp_once() {
        /// Methods; then `amr`, multi-factor, phishing-resistant and `acr`.
        type Case = (
            &'static [AuthMethod],
            &'static [&'static str],
            bool,
            bool,
            &'static str,
        );
        let cases: &[Case] = &[
            (&[Password], &["pwd"], false, false, ACR_SINGLE_FACTOR),
            (
                &[Password, Totp],
                &["pwd", "otp", "mfa"],
                true,
                false,
                ACR_MULTI_FACTOR,
            ),
            (
                &[Password, RecoveryCode],
                &["pwd", "otp", "mfa"],
                true,
                false,
                ACR_MULTI_FACTOR,
            ),
            (
                &[MailedCode, Totp],
                &["otp", "mfa"],
                true,
                false,
                ACR_MULTI_FACTOR,
            ),
            (
                &[MailedCode, RecoveryCode],
                &["otp", "mfa"],
                true,
                false,
                ACR_MULTI_FACTOR,
            ),
            (
                &[Federated, Totp],
                &["fed", "otp", "mfa"],
                true,
                false,
                ACR_MULTI_FACTOR,
            ),
            (&[Federated], &["fed"], false, false, ACR_SINGLE_FACTOR),
            (
                &[Passkey],
                &["swk", "mfa"],
                true,
                true,
                ACR_PHISHING_RESISTANT,
            ),
            (
                &[Passkey, Totp],
                &["swk", "otp", "mfa"],
                true,
                true,
                ACR_PHISHING_RESISTANT,
            ),
            (
                &[Password, Totp, RecoveryCode],
                &["pwd", "otp", "mfa"],
                true,
                false,
                ACR_MULTI_FACTOR,
            ),
            // A passkey as a second factor: on top of any way in, multi-factor and
            // phishing-resistant; `swk` once, also beside a passkey sign-in.
            (
                &[Password, PasskeyFactor],
                &["pwd", "swk", "mfa"],
                true,
                true,
                ACR_PHISHING_RESISTANT,
            ),
            (
                &[MailedCode, PasskeyFactor],
                &["otp", "swk", "mfa"],
                true,
                true,
                ACR_PHISHING_RESISTANT,
            ),
            (
                &[Federated, PasskeyFactor],
                &["fed", "swk", "mfa"],
                true,
                true,
                ACR_PHISHING_RESISTANT,
            ),
            (
                &[Passkey, PasskeyFactor],
                &["swk", "mfa"],
                true,
                true,
                ACR_PHISHING_RESISTANT,
            ),
            // A second factor alone proves no way in.
            (&[Totp], &["otp"], false, false, ACR_SINGLE_FACTOR),
            (&[PasskeyFactor], &["swk"], false, true, ACR_SINGLE_FACTOR),
            (
                &[Totp, RecoveryCode],
                &["otp"],
                false,
                false,
                ACR_SINGLE_FACTOR,
            ),
            (&[], &[], false, false, ACR_SINGLE_FACTOR),
        ];
        for &(methods, amr, multi, phishing_resistant, acr) in cases {
            let methods = AuthMethods::new(methods);
            assert_eq!(methods.amr(), amr, "{methods:?}");
            assert_eq!(methods.multi_factor(), multi, "{methods:?}");
            assert_eq!(
                methods.phishing_resistant(),
                phishing_resistant,
                "{methods:?}"
            );
            assert_eq!(methods.acr(), acr, "{methods:?}");
            // `mfa` exactly when multi-factor, and no value twice.
            assert_eq!(methods.amr().contains(&"mfa"), multi, "{methods:?}");
            let mut unique = methods.amr();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), methods.amr().len(), "{methods:?}");
        }
    }

    #[test]
    fn the_stored_form_reads_back_as_written() {
        for methods in [
            AuthMethods::from(Password),
            AuthMethods::from(Passkey),
            AuthMethods::new(&[Federated, MailedCode]),
            AuthMethods::new(&[Password, MailedCode]),
            AuthMethods::new(&[MailedCode, Totp]),
            AuthMethods::new(&[Password, RecoveryCode]),
            AuthMethods::new(&[Password, Totp, RecoveryCode]),
            AuthMethods::new(&[Password, PasskeyFactor]),
            AuthMethods::new(&[Passkey, PasskeyFactor]),
        ] {
            assert_eq!(AuthMethods::parse(&methods.to_string()), methods);
        }
        assert_eq!(
            AuthMethods::new(&[Password, MailedCode]).to_string(),
            "pwd otp"
        );
        // A mailed code and an authenticator's code share `amr` but not their stored name.
        assert_eq!(
            AuthMethods::new(&[MailedCode, Totp, RecoveryCode]).to_string(),
            "otp totp rcode"
        );
        assert_eq!(AuthMethods::parse("totp"), AuthMethods::from(Totp));
        // A passkey sign-in keeps its stored name; a passkey verified as a second factor
        // has its own, and only it is a second factor.
        assert_eq!(
            AuthMethods::new(&[Password, PasskeyFactor]).to_string(),
            "pwd swkf"
        );
        assert_eq!(AuthMethods::parse("swk"), AuthMethods::from(Passkey));
        assert!(!AuthMethods::from(Passkey).has_second_factor());
        assert!(AuthMethods::new(&[Password, PasskeyFactor]).has_second_factor());
        assert_eq!(
            AuthMethods::new(&[Password, PasskeyFactor]).without_second_factors(),
            AuthMethods::from(Password)
        );
        // `mfa` is derived, never stored; unknown values are not Portico's.
        assert_eq!(
            AuthMethods::parse("otp mfa hwk  pwd"),
            AuthMethods::new(&[Password, MailedCode])
        );
        assert_eq!(
            AuthMethods::from(Password).with(Totp),
            AuthMethods::new(&[Totp, Password])
        );
    }
}
