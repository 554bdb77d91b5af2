use super::*;

const NOW: i64 = 1_800_000_000;

fn policy(name: &str, state: PolicyState, rules: Rules) -> Policy {
    Policy {
        id: format!("id-{name}"),
        name: name.into(),
        state,
        rules,
        created_at: 0,
        modified_at: 0,
    }
}

fn everyone() -> People {
    People {
        everyone: true,
        ..People::default()
    }
}

fn all_apps() -> Apps {
    Apps {
        all: true,
        ..Apps::default()
    }
}

fn mfa() -> Grant {
    Grant::Require {
        all: true,
        controls: vec![Control::Mfa],
        terms: vec![],
    }
}

fn rules(include: People, apps: Apps, grant: Grant) -> Rules {
    Rules {
        include,
        exclude: People::default(),
        apps,
        exclude_apps: Vec::new(),
        locations: Vec::new(),
        exclude_locations: Vec::new(),
        grant,
        sign_in_frequency_hours: None,
    }
}

fn ranges(texts: &[&str]) -> Vec<AddressRange> {
    texts
        .iter()
        .map(|t| t.parse().unwrap_or_else(|e| unreachable!("{t}: {e}")))
        .collect()
}

/// The sign-in of every case unless the case changes it: Ann, a guest in the group
/// "partners" with no role, to the Wiki, from 203.0.113.7, with one factor, an hour ago.
struct Case {
    user: &'static str,
    user_type: UserType,
    groups: Vec<String>,
    roles: Vec<Role>,
    target: Target<'static>,
    ip: Option<&'static str>,
    mfa: bool,
    passkey: bool,
    auth_age: i64,
    /// Terms of use accepted (ids).
    accepted: Vec<String>,
}

impl Case {
    fn new() -> Case {
        Case {
            user: "ann",
            user_type: UserType::Guest,
            groups: vec!["partners".into()],
            roles: Vec::new(),
            target: Target::App("wiki"),
            ip: Some("203.0.113.7"),
            mfa: false,
            passkey: false,
            auth_age: 3600,
            accepted: Vec::new(),
        }
    }

    fn run(&self, policies: &[Policy]) -> Evaluation {
        let ip = self
            .ip
            .map(|t| t.parse().unwrap_or_else(|_| unreachable!("{t}")));
        evaluate(
            policies,
            &SignIn {
                person: Person {
                    user_id: self.user,
                    user_type: self.user_type,
                    groups: &self.groups,
                    roles: &self.roles,
                },
                target: self.target,
                ip,
                mfa: self.mfa,
                phishing_resistant: self.passkey,
                accepted_terms: &self.accepted,
                auth_time: NOW - self.auth_age,
                now: NOW,
            },
        )
    }
}

fn step_up(policy: &str, need: Need) -> Decision {
    Decision::StepUp {
        policy: policy.into(),
        need,
    }
}

fn accept_terms(policy: &str, terms: &str) -> Decision {
    Decision::AcceptTerms {
        policy: policy.into(),
        terms: terms.into(),
    }
}

/// A grant of a second factor and terms of use: all, or any one.
fn mfa_and_terms(all: bool, terms: &[&str]) -> Grant {
    Grant::Require {
        all,
        controls: vec![Control::Mfa],
        terms: terms.iter().map(|t| t.to_string()).collect(),
    }
}

fn block(policy: &str) -> Decision {
    Decision::Block {
        policy: policy.into(),
    }
}

#[test]
fn policies_decide_by_who_which_app_and_where() {
    let guests = People {
        guests: true,
        ..People::default()
    };
    let wiki = Apps {
        apps: vec!["wiki".into()],
        ..Apps::default()
    };
    let with = |f: &dyn Fn(&mut Rules)| {
        let mut r = rules(everyone(), all_apps(), mfa());
        f(&mut r);
        r
    };
    // (what the case is, the policy's rules, how the sign-in differs, the decision, the
    // policy's result, why it did not apply)
    type Tweak = fn(&mut Case);
    let same: Tweak = |_| {};
    type Row = (
        &'static str,
        Rules,
        Tweak,
        Decision,
        Outcome,
        Option<NotApplied>,
    );
    let cases: Vec<Row> = vec![
        (
            "everyone, all apps: a second factor is asked",
            with(&|_| {}),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "with a second factor it passes",
            with(&|_| {}),
            |c| c.mfa = true,
            Decision::Allow,
            Outcome::Success,
            None,
        ),
        (
            "a passkey is a second factor too",
            with(&|_| {}),
            |c| c.passkey = true,
            Decision::Allow,
            Outcome::Success,
            None,
        ),
        (
            "guests only: a guest is asked",
            rules(guests.clone(), wiki.clone(), mfa()),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "guests only: a member is not",
            rules(guests.clone(), wiki.clone(), mfa()),
            |c| c.user_type = UserType::Member,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "another app is not",
            rules(guests.clone(), wiki.clone(), mfa()),
            |c| c.target = Target::App("crm"),
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Application),
        ),
        (
            "Portico itself is not among chosen apps",
            rules(guests.clone(), wiki.clone(), mfa()),
            |c| c.target = Target::Portico,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Application),
        ),
        (
            "all apps take in Portico itself",
            with(&|_| {}),
            |c| c.target = Target::Portico,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "Portico alone",
            rules(
                everyone(),
                Apps {
                    portico: true,
                    ..Apps::default()
                },
                Grant::Block,
            ),
            |c| c.target = Target::Portico,
            block("P"),
            Outcome::Failure,
            None,
        ),
        (
            "Portico alone leaves apps out",
            rules(
                everyone(),
                Apps {
                    portico: true,
                    ..Apps::default()
                },
                Grant::Block,
            ),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Application),
        ),
        (
            "an excluded app",
            with(&|r| r.exclude_apps = vec!["wiki".into()]),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Application),
        ),
        (
            "a chosen user",
            with(&|r| {
                r.include = People {
                    users: vec!["ann".into()],
                    ..People::default()
                }
            }),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "another chosen user",
            with(&|r| {
                r.include = People {
                    users: vec!["bob".into()],
                    ..People::default()
                }
            }),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "a chosen group",
            with(&|r| {
                r.include = People {
                    groups: vec!["partners".into()],
                    ..People::default()
                }
            }),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "a role the person lacks",
            with(&|r| {
                r.include = People {
                    roles: vec![Role::GlobalAdministrator],
                    ..People::default()
                }
            }),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "a role the person has",
            with(&|r| {
                r.include = People {
                    roles: vec![Role::GlobalAdministrator],
                    ..People::default()
                }
            }),
            |c| c.roles = vec![Role::GlobalAdministrator],
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "exclusion by user wins over everyone",
            with(&|r| r.exclude.users = vec!["ann".into()]),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "exclusion by group wins",
            with(&|r| r.exclude.groups = vec!["partners".into()]),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "exclusion of guests wins over a chosen user",
            with(&|r| {
                r.include = People {
                    users: vec!["ann".into()],
                    ..People::default()
                };
                r.exclude.guests = true;
            }),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "exclusion by role",
            with(&|r| r.exclude.roles = vec![Role::UserAdministrator]),
            |c| c.roles = vec![Role::UserAdministrator],
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "inside an included range",
            with(&|r| r.locations = ranges(&["203.0.113.0/24"])),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "outside every included range",
            with(&|r| r.locations = ranges(&["198.51.100.0/24", "2001:db8::/32"])),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Location),
        ),
        (
            "inside an excluded range (the office)",
            with(&|r| r.exclude_locations = ranges(&["203.0.113.0/24"])),
            same,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Location),
        ),
        (
            "an unknown address escapes no exclusion",
            with(&|r| r.exclude_locations = ranges(&["203.0.113.0/24"])),
            |c| c.ip = None,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "an unknown address is in no included range",
            with(&|r| r.locations = ranges(&["203.0.113.0/24"])),
            |c| c.ip = None,
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Location),
        ),
        (
            "users are checked before apps",
            rules(guests.clone(), wiki.clone(), mfa()),
            |c| {
                c.user_type = UserType::Member;
                c.target = Target::App("crm");
            },
            Decision::Allow,
            Outcome::NotApplied,
            Some(NotApplied::Users),
        ),
        (
            "a block",
            with(&|r| r.grant = Grant::Block),
            |c| {
                c.mfa = true;
                c.passkey = true;
            },
            block("P"),
            Outcome::Failure,
            None,
        ),
        (
            "a passkey is asked",
            with(&|r| {
                r.grant = Grant::Require {
                    all: true,
                    controls: vec![Control::PhishingResistantMfa],
                    terms: vec![],
                }
            }),
            |c| c.mfa = true,
            step_up("P", Need::PhishingResistant),
            Outcome::Failure,
            None,
        ),
        (
            "a passkey satisfies it",
            with(&|r| {
                r.grant = Grant::Require {
                    all: true,
                    controls: vec![Control::PhishingResistantMfa],
                    terms: vec![],
                }
            }),
            |c| c.passkey = true,
            Decision::Allow,
            Outcome::Success,
            None,
        ),
        (
            "all of two: the stronger is asked",
            with(&|r| {
                r.grant = Grant::Require {
                    all: true,
                    controls: vec![Control::Mfa, Control::PhishingResistantMfa],
                    terms: vec![],
                }
            }),
            same,
            step_up("P", Need::PhishingResistant),
            Outcome::Failure,
            None,
        ),
        (
            "any of two: the easier is asked",
            with(&|r| {
                r.grant = Grant::Require {
                    all: false,
                    controls: vec![Control::PhishingResistantMfa, Control::Mfa],
                    terms: vec![],
                }
            }),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "any of two: one is enough",
            with(&|r| {
                r.grant = Grant::Require {
                    all: false,
                    controls: vec![Control::PhishingResistantMfa, Control::Mfa],
                    terms: vec![],
                }
            }),
            |c| c.mfa = true,
            Decision::Allow,
            Outcome::Success,
            None,
        ),
        (
            "sign-in frequency lapsed",
            with(&|r| {
                r.grant = Grant::Require {
                    all: true,
                    controls: vec![],
                    terms: vec![],
                };
                r.sign_in_frequency_hours = Some(1);
            }),
            |c| c.auth_age = 3601,
            step_up("P", Need::SignInAgain),
            Outcome::Failure,
            None,
        ),
        (
            "sign-in frequency not lapsed",
            with(&|r| {
                r.grant = Grant::Require {
                    all: true,
                    controls: vec![],
                    terms: vec![],
                };
                r.sign_in_frequency_hours = Some(1);
            }),
            |c| c.auth_age = 3600,
            Decision::Allow,
            Outcome::Success,
            None,
        ),
        (
            "terms of use are asked after the second factor",
            with(&|r| r.grant = mfa_and_terms(true, &["tou"])),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "with the second factor, the terms are asked",
            with(&|r| r.grant = mfa_and_terms(true, &["tou"])),
            |c| c.mfa = true,
            accept_terms("P", "tou"),
            Outcome::Failure,
            None,
        ),
        (
            "the second factor and the terms accepted satisfy it",
            with(&|r| r.grant = mfa_and_terms(true, &["tou"])),
            |c| {
                c.mfa = true;
                c.accepted = vec!["tou".into()];
            },
            Decision::Allow,
            Outcome::Success,
            None,
        ),
        (
            "an earlier version accepted is not the terms accepted",
            with(&|r| r.grant = mfa_and_terms(true, &["tou"])),
            |c| {
                c.mfa = true;
                c.accepted = vec!["other".into()];
            },
            accept_terms("P", "tou"),
            Outcome::Failure,
            None,
        ),
        (
            "the first terms not accepted are asked",
            with(&|r| {
                r.grant = Grant::Require {
                    all: true,
                    controls: vec![],
                    terms: vec!["tou".into(), "privacy".into()],
                }
            }),
            |c| c.accepted = vec!["tou".into()],
            accept_terms("P", "privacy"),
            Outcome::Failure,
            None,
        ),
        (
            "any one: the second factor is asked before the terms",
            with(&|r| r.grant = mfa_and_terms(false, &["tou"])),
            same,
            step_up("P", Need::SecondFactor),
            Outcome::Failure,
            None,
        ),
        (
            "any one: accepted terms are enough",
            with(&|r| r.grant = mfa_and_terms(false, &["tou"])),
            |c| c.accepted = vec!["tou".into()],
            Decision::Allow,
            Outcome::Success,
            None,
        ),
        (
            "signing in again comes before the second factor",
            with(&|r| r.sign_in_frequency_hours = Some(1)),
            |c| c.auth_age = 7200,
            step_up("P", Need::SignInAgain),
            Outcome::Failure,
            None,
        ),
    ];
    for (what, rules, tweak, decision, result, why) in cases {
        for state in [PolicyState::On, PolicyState::ReportOnly, PolicyState::Off] {
            let mut case = Case::new();
            tweak(&mut case);
            let evaluation = case.run(&[policy("P", state, rules.clone())]);
            let (expected_decision, expected_result, expected_why) = match state {
                PolicyState::On => (decision.clone(), result, why),
                // Report-only is evaluated the same way and never enforced.
                PolicyState::ReportOnly => (
                    Decision::Allow,
                    match result {
                        Outcome::Success => Outcome::ReportOnlySuccess,
                        Outcome::Failure => Outcome::ReportOnlyFailure,
                        _ => Outcome::ReportOnlyNotApplied,
                    },
                    why,
                ),
                PolicyState::Off => (
                    Decision::Allow,
                    Outcome::NotEnabled,
                    Some(NotApplied::PolicyNotEnabled),
                ),
            };
            assert_eq!(evaluation.decision, expected_decision, "{what} ({state:?})");
            let r = &evaluation.results[0];
            assert_eq!(r.result, expected_result, "{what} ({state:?})");
            assert_eq!(r.not_applied, expected_why, "{what} ({state:?})");
        }
    }
}

#[test]
fn every_policy_on_must_pass_and_a_block_wins() {
    let needs_mfa = policy(
        "Guests need MFA",
        PolicyState::On,
        rules(everyone(), all_apps(), mfa()),
    );
    let blocks = policy(
        "Block the Wiki",
        PolicyState::On,
        rules(everyone(), all_apps(), Grant::Block),
    );
    let passkey = policy(
        "Passkeys",
        PolicyState::On,
        rules(
            everyone(),
            all_apps(),
            Grant::Require {
                all: true,
                controls: vec![Control::PhishingResistantMfa],
                terms: vec![],
            },
        ),
    );
    let mut case = Case::new();
    let evaluation = case.run(&[needs_mfa.clone(), blocks.clone(), passkey.clone()]);
    assert_eq!(evaluation.decision, block("Block the Wiki"));
    assert_eq!(evaluation.status(), "failure");
    assert!(
        evaluation
            .results
            .iter()
            .all(|r| r.result == Outcome::Failure)
    );
    // Without the block, the strongest need is asked first, by the policy that asks it.
    assert_eq!(
        case.run(&[needs_mfa.clone(), passkey.clone()]).decision,
        step_up("Passkeys", Need::PhishingResistant)
    );
    // A second factor satisfies one policy, not the other.
    case.mfa = true;
    let evaluation = case.run(&[needs_mfa.clone(), passkey]);
    assert_eq!(evaluation.results[0].result, Outcome::Success);
    assert_eq!(evaluation.results[1].result, Outcome::Failure);
    assert_eq!(evaluation.results[1].unmet, Some(Need::PhishingResistant));
    // A report-only block blocks nothing; the enforced status is the policies' on.
    let watching = policy(
        "Watch",
        PolicyState::ReportOnly,
        rules(everyone(), all_apps(), Grant::Block),
    );
    let evaluation = case.run(&[needs_mfa, watching]);
    assert_eq!(evaluation.decision, Decision::Allow);
    assert_eq!(evaluation.status(), "success");
    assert_eq!(evaluation.results[1].result, Outcome::ReportOnlyFailure);
    assert_eq!(evaluation.results[1].controls, vec!["block".to_string()]);
    // No policies: nothing applied.
    assert_eq!(case.run(&[]).status(), "notApplied");
    assert_eq!(case.run(&[]).decision, Decision::Allow);
}

#[test]
fn terms_of_use_come_after_every_factor_and_a_block_wins_over_them() {
    let terms_only = Grant::Require {
        all: true,
        controls: vec![],
        terms: vec!["house-rules".into()],
    };
    let house_rules = policy(
        "House rules",
        PolicyState::On,
        rules(everyone(), all_apps(), terms_only),
    );
    let needs_mfa = policy(
        "Guests need MFA",
        PolicyState::On,
        rules(everyone(), all_apps(), mfa()),
    );
    let mut case = Case::new();
    let both = [house_rules.clone(), needs_mfa];
    assert_eq!(
        case.run(&both).decision,
        step_up("Guests need MFA", Need::SecondFactor)
    );
    case.mfa = true;
    let evaluation = case.run(&both);
    assert_eq!(
        evaluation.decision,
        accept_terms("House rules", "house-rules")
    );
    assert_eq!(evaluation.results[0].unmet, Some(Need::AcceptTerms));
    assert_eq!(
        evaluation.results[0].controls,
        vec!["termsOfUse".to_string()]
    );
    case.accepted = vec!["house-rules".into()];
    assert_eq!(case.run(&both).decision, Decision::Allow);
    case.accepted.clear();
    let blocks = policy(
        "Block",
        PolicyState::On,
        rules(everyone(), all_apps(), Grant::Block),
    );
    assert_eq!(case.run(&[house_rules, blocks]).decision, block("Block"));
}

#[test]
fn a_policy_must_say_whom_which_apps_and_what() {
    let fields = |name: &str, rules: &Rules| -> Vec<String> {
        validate(name, rules)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    };
    assert!(fields("Guests need MFA", &rules(everyone(), all_apps(), mfa())).is_empty());
    assert_eq!(
        fields("  ", &rules(everyone(), all_apps(), mfa())),
        ["name"]
    );
    assert_eq!(
        fields(
            "P",
            &rules(
                People::default(),
                Apps::default(),
                Grant::Require {
                    all: true,
                    controls: vec![],
                    terms: vec![],
                }
            )
        ),
        ["users", "apps", "grant"]
    );
    let mut r = rules(everyone(), all_apps(), mfa());
    r.exclude.everyone = true;
    r.sign_in_frequency_hours = Some(0);
    assert_eq!(fields("P", &r), ["exclude", "frequency"]);
}

#[test]
fn a_block_of_the_console_for_every_global_administrator_is_a_lock_out() {
    let admins = vec![
        ("root".to_string(), vec![]),
        ("eve".to_string(), vec!["it".to_string()]),
    ];
    let portico = Apps {
        portico: true,
        ..Apps::default()
    };
    assert!(locks_out_admins(
        &rules(everyone(), all_apps(), Grant::Block),
        &admins
    ));
    assert!(locks_out_admins(
        &rules(everyone(), portico.clone(), Grant::Block),
        &admins
    ));
    // Not a block, not the console, one admin left out, or only from some places: no.
    assert!(!locks_out_admins(
        &rules(everyone(), portico.clone(), mfa()),
        &admins
    ));
    let wiki = Apps {
        apps: vec!["wiki".into()],
        ..Apps::default()
    };
    assert!(!locks_out_admins(
        &rules(everyone(), wiki, Grant::Block),
        &admins
    ));
    let mut spared = rules(everyone(), portico.clone(), Grant::Block);
    spared.exclude.groups = vec!["it".into()];
    assert!(!locks_out_admins(&spared, &admins));
    let mut somewhere = rules(everyone(), portico, Grant::Block);
    somewhere.exclude_locations = ranges(&["203.0.113.0/24"]);
    assert!(!locks_out_admins(&somewhere, &admins));
    let guests = People {
        guests: true,
        ..People::default()
    };
    assert!(!locks_out_admins(
        &rules(guests, all_apps(), Grant::Block),
        &admins
    ));
}

#[test]
fn rules_read_back_as_stored() {
    let mut r = rules(everyone(), all_apps(), mfa());
    r.exclude.roles = vec![Role::GlobalAdministrator];
    r.locations = ranges(&["203.0.113.0/24", "2001:db8::/32"]);
    r.sign_in_frequency_hours = Some(12);
    let stored = serde_json::to_string(&r).unwrap_or_default();
    let back: Rules =
        serde_json::from_str(&stored).unwrap_or_else(|e| unreachable!("{e}: {stored}"));
    assert_eq!(back, r);
    for state in PolicyState::ALL {
        assert_eq!(PolicyState::parse(state.as_str()), Some(state));
    }
}

#[test]
fn a_policy_on_that_asks_a_factor_of_someone_keeps_their_last_one() {
    let groups = vec!["partners".to_string()];
    let ann = Person {
        user_id: "ann",
        user_type: UserType::Guest,
        groups: &groups,
        roles: &[],
    };
    let guests = People {
        guests: true,
        ..People::default()
    };
    let asks = |state, rules| asks_second_factor(&policy("P", state, rules), &ann);
    assert!(asks(
        PolicyState::On,
        rules(guests.clone(), all_apps(), mfa())
    ));
    // Whatever the apps and places: some sign-in of hers would be asked.
    let mut somewhere = rules(
        guests.clone(),
        Apps {
            apps: vec!["crm".into()],
            ..Apps::default()
        },
        mfa(),
    );
    somewhere.locations = ranges(&["10.0.0.0/8"]);
    assert!(asks(PolicyState::On, somewhere));
    // Not when it is not on, not for her, or asks no factor.
    assert!(!asks(
        PolicyState::ReportOnly,
        rules(guests.clone(), all_apps(), mfa())
    ));
    assert!(!asks(
        PolicyState::Off,
        rules(guests.clone(), all_apps(), mfa())
    ));
    let mut spared = rules(guests.clone(), all_apps(), mfa());
    spared.exclude.groups = groups.clone();
    assert!(!asks(PolicyState::On, spared));
    assert!(!asks(
        PolicyState::On,
        rules(guests.clone(), all_apps(), Grant::Block)
    ));
    let members = rules(
        People {
            users: vec!["bob".into()],
            ..People::default()
        },
        all_apps(),
        mfa(),
    );
    assert!(!asks(PolicyState::On, members));
}
