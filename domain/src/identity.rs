//! Who a person proved they are, independent of any one organization's user: the identity
//! a session carries and a guest's redemption records. One parser and one printer; the
//! store keeps the printed form, and reads it back through the same parser.

use std::fmt;

use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type, encode::IsNull};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// A member of an organization on this Portico, who signs in at home (`member:<user id>`).
    Member(String),
    /// A Portico account: a guest's own password or passkey here (`account:<account id>`).
    Account(String),
    /// Whoever reads this mailbox, proved by a one-time code (`email:<address>`).
    Email(String),
    /// A person a partner's OpenID provider vouched for (`oidc:<issuer>#<subject>`). An
    /// issuer has no fragment (OpenID Connect Discovery §3), so the first `#` ends it; the
    /// subject may hold any character.
    Oidc { issuer: String, subject: String },
}

impl Identity {
    pub fn parse(text: &str) -> Option<Identity> {
        let (kind, rest) = text.split_once(':')?;
        if rest.is_empty() {
            return None;
        }
        match kind {
            "member" => Some(Identity::Member(rest.into())),
            "account" => Some(Identity::Account(rest.into())),
            "email" => Some(Identity::Email(rest.into())),
            "oidc" => {
                let (issuer, subject) = rest.split_once('#')?;
                (!issuer.is_empty() && !subject.is_empty()).then(|| Identity::Oidc {
                    issuer: issuer.into(),
                    subject: subject.into(),
                })
            }
            _ => None,
        }
    }

    /// The member's id, for a member's own identity.
    pub fn member(&self) -> Option<&str> {
        match self {
            Identity::Member(id) => Some(id),
            _ => None,
        }
    }

    /// The account's id, for a Portico account.
    pub fn account(&self) -> Option<&str> {
        match self {
            Identity::Account(id) => Some(id),
            _ => None,
        }
    }

    /// Whether a partner's provider vouched for it.
    pub fn is_federated(&self) -> bool {
        matches!(self, Identity::Oidc { .. })
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Member(id) => write!(f, "member:{id}"),
            Identity::Account(id) => write!(f, "account:{id}"),
            Identity::Email(address) => write!(f, "email:{address}"),
            Identity::Oidc { issuer, subject } => write!(f, "oidc:{issuer}#{subject}"),
        }
    }
}

impl Type<Any> for Identity {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Any> for Identity {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Any>>::encode(self.to_string(), buf)
    }
}

impl<'r> Decode<'r, Any> for Identity {
    fn decode(value: AnyValueRef<'r>) -> Result<Identity, BoxDynError> {
        let text = <&str as Decode<'r, Any>>::decode(value)?;
        Identity::parse(text).ok_or_else(|| format!("not an identity: {text:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_identity_reads_back_as_printed() {
        for identity in [
            Identity::Member("0193".into()),
            Identity::Account("a1".into()),
            Identity::Email("ann@partner.example".into()),
            Identity::Oidc {
                issuer: "https://id.partner.example/tenant".into(),
                subject: "x#y:z".into(),
            },
        ] {
            assert_eq!(Identity::parse(&identity.to_string()), Some(identity));
        }
    }

    #[test]
    fn the_subject_keeps_every_hash_and_the_issuer_none() {
        assert_eq!(
            Identity::parse("oidc:https://id.example#a#b"),
            Some(Identity::Oidc {
                issuer: "https://id.example".into(),
                subject: "a#b".into()
            })
        );
    }

    #[test]
    fn anything_else_is_no_identity() {
        for text in [
            "",
            "member:",
            "member",
            "Member:1",
            "user:1",
            "oidc:https://id.example",
            "oidc:#sub",
            "oidc:https://id.example#",
        ] {
            assert_eq!(Identity::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn only_a_partner_provider_is_federated() {
        assert!(Identity::parse("oidc:https://i#s").unwrap().is_federated());
        assert!(!Identity::Email("a@b".into()).is_federated());
        assert_eq!(Identity::Member("m".into()).member(), Some("m"));
        assert_eq!(Identity::Member("m".into()).account(), None);
    }
}
