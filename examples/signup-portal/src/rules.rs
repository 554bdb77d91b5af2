//! The rules file: which partners' domains are approved in advance, and what an approved
//! requester gets (groups to join, the message in the invitation).
//!
//! ```json
//! {
//!   "approved_by_hand": { "groups": ["Partners"], "message": "Welcome, {{name}}!" },
//!   "domains": [
//!     { "domain": "fabrikam.example", "groups": ["Partners", "Fabrikam project"],
//!       "message": "Welcome to {{organization}}, {{name}} of {{company}}." }
//!   ]
//! }
//! ```
//!
//! A domain rule covers the domain and its subdomains; the most specific rule wins. A
//! request from any other domain waits for an approver, and is given `approved_by_hand`
//! when approved.

use serde::Deserialize;

/// Portico refuses a personal message longer than this (`customizedMessageBody`).
pub const MESSAGE_LIMIT: usize = 1000;

/// The longest values a request may hold, so that every message fits after filling in.
pub const NAME_LIMIT: usize = 100;
pub const COMPANY_LIMIT: usize = 100;
pub const EMAIL_LIMIT: usize = 254;
pub const ORGANIZATION_LIMIT: usize = 100;

/// What approval gives: groups (names or ids in Portico) and the invitation's message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub message: String,
}

/// A domain approved in advance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainRule {
    pub domain: String,
    #[serde(flatten)]
    pub grant: Grant,
}

/// The whole file, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub approved_by_hand: Grant,
    #[serde(default)]
    pub domains: Vec<DomainRule>,
}

/// What fills a message's placeholders.
pub struct Fill<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub company: &'a str,
    pub organization: &'a str,
}

const PLACEHOLDERS: [&str; 4] = ["name", "email", "company", "organization"];

impl Rules {
    /// Reads and checks the rules; every problem is named, with where it is.
    pub fn parse(text: &str) -> Result<Rules, Vec<String>> {
        let mut rules: Rules = serde_json::from_str(text).map_err(|e| vec![e.to_string()])?;
        let mut problems = Vec::new();
        check_grant("approved_by_hand", &rules.approved_by_hand, &mut problems);
        for (i, rule) in rules.domains.iter_mut().enumerate() {
            let at = format!("domains[{i}]");
            rule.domain = rule.domain.trim().to_ascii_lowercase();
            if let Err(why) = check_domain(&rule.domain) {
                problems.push(format!("{at}.domain: {why}"));
            }
            check_grant(&at, &rule.grant, &mut problems);
        }
        for (i, rule) in rules.domains.iter().enumerate() {
            if rules.domains[..i].iter().any(|r| r.domain == rule.domain) {
                problems.push(format!(
                    "domains[{i}].domain: {} has a rule already; give each domain one rule.",
                    rule.domain
                ));
            }
        }
        if problems.is_empty() {
            Ok(rules)
        } else {
            Err(problems)
        }
    }

    /// The rule that approves `email` in advance: the most specific domain that covers it.
    pub fn for_email(&self, email: &str) -> Option<&DomainRule> {
        let domain = email.rsplit_once('@')?.1.to_ascii_lowercase();
        self.domains
            .iter()
            .filter(|r| {
                domain == r.domain
                    || domain
                        .strip_suffix(&r.domain)
                        .is_some_and(|rest| rest.ends_with('.'))
            })
            .max_by_key(|r| r.domain.len())
    }

    /// Every group the rules name, once each.
    pub fn groups(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        let named = self
            .approved_by_hand
            .groups
            .iter()
            .chain(self.domains.iter().flat_map(|r| r.grant.groups.iter()));
        for group in named {
            if !all.contains(&group.as_str()) {
                all.push(group);
            }
        }
        all
    }
}

fn check_grant(at: &str, grant: &Grant, problems: &mut Vec<String>) {
    for (i, group) in grant.groups.iter().enumerate() {
        if group.trim().is_empty() {
            problems.push(format!("{at}.groups[{i}]: name a group (its name or id)."));
        } else if grant.groups[..i].contains(group) {
            problems.push(format!("{at}.groups[{i}]: {group} is listed twice."));
        }
    }
    if let Err(why) = check_template(&grant.message) {
        problems.push(format!("{at}.message: {why}"));
    }
}

/// A domain name: letters, digits and hyphens in dot-separated labels, at least two labels.
fn check_domain(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(format!(
            "'{domain}' is not a domain name like partner.example (no @, no wildcard)."
        ));
    }
    Ok(())
}

/// The template's placeholders are known and its braces closed, and it fits Portico's limit
/// however long the filled-in values are.
fn check_template(template: &str) -> Result<(), String> {
    let longest = Fill {
        name: &"n".repeat(NAME_LIMIT),
        email: &"e".repeat(EMAIL_LIMIT),
        company: &"c".repeat(COMPANY_LIMIT),
        organization: &"o".repeat(ORGANIZATION_LIMIT),
    };
    let filled = render(template, &longest)?;
    let length = filled.chars().count();
    if length > MESSAGE_LIMIT {
        return Err(format!(
            "with the longest name, address and company it is {length} characters; Portico takes at most {MESSAGE_LIMIT}. Shorten it."
        ));
    }
    Ok(())
}

/// Fills `{{name}}`, `{{email}}`, `{{company}}` and `{{organization}}` in.
pub fn render(template: &str, fill: &Fill) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a {{ is not closed with }}.".to_string())?;
        let value = match after[..end].trim() {
            "name" => fill.name,
            "email" => fill.email,
            "company" => fill.company,
            "organization" => fill.organization,
            other => {
                return Err(format!(
                    "{{{{{other}}}}} is not a placeholder; use {}.",
                    PLACEHOLDERS.map(|p| format!("{{{{{p}}}}}")).join(", ")
                ));
            }
        };
        out.push_str(value);
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err("a }} has no {{ before it.".into());
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Rules {
        Rules::parse(text).expect("valid rules")
    }

    const SAMPLE: &str = r#"{
        "approved_by_hand": { "groups": ["Partners"], "message": "Welcome, {{name}}." },
        "domains": [
            { "domain": "Fabrikam.example", "groups": ["Partners", "Fabrikam"], "message": "Hello {{ name }} of {{company}}, from {{organization}} ({{email}})." },
            { "domain": "eu.fabrikam.example", "groups": ["Europe"] },
            { "domain": "northwind.example" }
        ]
    }"#;

    #[test]
    fn a_domain_covers_itself_and_its_subdomains_and_the_most_specific_rule_wins() {
        let rules = rules(SAMPLE);
        let at = |email: &str| rules.for_email(email).map(|r| r.domain.as_str());
        assert_eq!(at("ann@fabrikam.example"), Some("fabrikam.example"));
        assert_eq!(at("ann@FABRIKAM.example"), Some("fabrikam.example"));
        assert_eq!(at("ann@us.fabrikam.example"), Some("fabrikam.example"));
        assert_eq!(at("ann@eu.fabrikam.example"), Some("eu.fabrikam.example"));
        assert_eq!(at("ann@x.eu.fabrikam.example"), Some("eu.fabrikam.example"));
        assert_eq!(at("ann@northwind.example"), Some("northwind.example"));
        // Not a subdomain, only a longer name.
        assert_eq!(at("ann@notfabrikam.example"), None);
        assert_eq!(at("ann@fabrikam.example.evil"), None);
        assert_eq!(at("ann@contoso.example"), None);
        assert_eq!(at("no-at-sign"), None);
    }

    #[test]
    fn groups_and_messages_come_from_the_rule() {
        let rules = rules(SAMPLE);
        let rule = rules.for_email("ann@fabrikam.example").unwrap();
        assert_eq!(rule.grant.groups, ["Partners", "Fabrikam"]);
        let fill = Fill {
            name: "Ann",
            email: "ann@fabrikam.example",
            company: "Fabrikam",
            organization: "Contoso",
        };
        assert_eq!(
            render(&rule.grant.message, &fill).unwrap(),
            "Hello Ann of Fabrikam, from Contoso (ann@fabrikam.example)."
        );
        let bare = rules.for_email("bo@northwind.example").unwrap();
        assert!(bare.grant.groups.is_empty());
        assert_eq!(render(&bare.grant.message, &fill).unwrap(), "");
        assert_eq!(rules.approved_by_hand.groups, ["Partners"]);
        assert_eq!(rules.groups(), ["Partners", "Fabrikam", "Europe"]);
    }

    #[test]
    fn an_empty_file_queues_everyone() {
        let rules = rules("{}");
        assert_eq!(rules.for_email("ann@fabrikam.example"), None);
        assert!(rules.groups().is_empty());
    }

    #[test]
    fn every_problem_is_named_with_where_it_is() {
        let problems = Rules::parse(
            r#"{
                "approved_by_hand": { "groups": [""], "message": "Hi {{nmae}}" },
                "domains": [
                    { "domain": "*.fabrikam.example", "groups": ["A", "A"] },
                    { "domain": "ann@fabrikam.example" },
                    { "domain": "localhost" },
                    { "domain": "northwind.example", "message": "Hi {{name" },
                    { "domain": "NORTHWIND.example" },
                    { "domain": "-x.example", "message": "oops }}" }
                ]
            }"#,
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "approved_by_hand.groups[0]: name a group (its name or id).",
                "approved_by_hand.message: {{nmae}} is not a placeholder; use {{name}}, {{email}}, {{company}}, {{organization}}.",
                "domains[0].domain: '*.fabrikam.example' is not a domain name like partner.example (no @, no wildcard).",
                "domains[0].groups[1]: A is listed twice.",
                "domains[1].domain: 'ann@fabrikam.example' is not a domain name like partner.example (no @, no wildcard).",
                "domains[2].domain: 'localhost' is not a domain name like partner.example (no @, no wildcard).",
                "domains[3].message: a {{ is not closed with }}.",
                "domains[5].domain: '-x.example' is not a domain name like partner.example (no @, no wildcard).",
                "domains[5].message: a }} has no {{ before it.",
                "domains[4].domain: northwind.example has a rule already; give each domain one rule.",
            ]
        );
    }

    #[test]
    fn unknown_fields_and_broken_json_are_refused() {
        let unknown =
            Rules::parse(r#"{"domains": [{"domain": "a.example", "group": ["A"]}]}"#).unwrap_err();
        assert!(unknown[0].contains("unknown field `group`"), "{unknown:?}");
        let broken = Rules::parse(r#"{"domains": ["#).unwrap_err();
        assert!(broken[0].contains("EOF"), "{broken:?}");
    }

    #[test]
    fn a_message_must_fit_portico_limit_with_the_longest_values() {
        // 1000 characters of text alone fit; one placeholder more does not.
        let text = "x".repeat(MESSAGE_LIMIT);
        assert!(
            Rules::parse(&format!(
                r#"{{"approved_by_hand": {{"message": "{text}"}}}}"#
            ))
            .is_ok()
        );
        let problems = Rules::parse(&format!(
            r#"{{"approved_by_hand": {{"message": "{}{{{{email}}}}"}}}}"#,
            "x".repeat(800)
        ))
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "approved_by_hand.message: with the longest name, address and company it is 1054 characters; Portico takes at most 1000. Shorten it."
            ]
        );
    }
}
