//! Domain tests against a real SQLite file, with time injected.

use types::{Role, UserType};

use crate::apps::{AppInput, Assignee};
use crate::groups::Link;
use crate::sessions::{Client, SessionPolicy};
use crate::setup::SetupInput;
use crate::tenants::NewTenant;
use crate::users::{NewMember, UserQuery};
use crate::{Error, Principal, Store};

const T0: i64 = 1_800_000_000;
const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    store: Store,
    place: TestDatabase,
}

/// Where a test's database lives: a SQLite file in a folder of its own, or a PostgreSQL
/// database of its own (made for the test and dropped after it). `PORTICO_TEST_DATABASE`
/// picks: `sqlite` (the default) or `postgres`, on the server `PORTICO_TEST_POSTGRES_URL`
/// names (default `postgres://postgres@127.0.0.1:5432`).
enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { server: String, name: String },
}

impl TestDatabase {
    async fn new() -> TestDatabase {
        match std::env::var("PORTICO_TEST_DATABASE").as_deref() {
            Ok("postgres") => {
                let server = std::env::var("PORTICO_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
                let random = crate::secrets::random_bytes::<8>();
                let name = format!("portico_test_{}", u64::from_le_bytes(random));
                let mut admin = Self::admin(&server).await;
                // Tests check behaviour, not what survives the machine losing power: a
                // commit need not wait for the disk.
                // (One statement each: CREATE DATABASE cannot share a transaction.)
                for statement in [
                    format!("CREATE DATABASE {name}"),
                    format!("ALTER DATABASE {name} SET synchronous_commit = off"),
                ] {
                    sqlx::raw_sql(&statement).execute(&mut admin).await.unwrap();
                }
                TestDatabase::Postgres { server, name }
            }
            Ok("sqlite") | Err(_) => TestDatabase::Sqlite(tempfile::tempdir().unwrap()),
            Ok(other) => panic!("PORTICO_TEST_DATABASE is sqlite or postgres, not {other:?}"),
        }
    }

    async fn admin(server: &str) -> sqlx::postgres::PgConnection {
        use sqlx::Connection;
        sqlx::postgres::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot reach PostgreSQL at {server} ({e}): start one, or set PORTICO_TEST_POSTGRES_URL to postgres://user@host:port of a server where that user may create databases"
                )
            })
    }

    fn url(&self) -> String {
        match self {
            TestDatabase::Sqlite(dir) => {
                format!("sqlite://{}", dir.path().join("test.db").display())
            }
            TestDatabase::Postgres { server, name } => format!("{server}/{name}"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let TestDatabase::Postgres { server, name } = self else {
            return;
        };
        let (server, name) = (server.clone(), name.clone());
        // A runtime of its own: a test's runtime is busy ending.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let mut admin = TestDatabase::admin(&server).await;
                    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await
                })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) && !std::thread::panicking() {
            panic!(
                "the test database {} was not dropped: {dropped:?}",
                self.url()
            );
        }
    }
}

async fn fixture() -> Fixture {
    let place = TestDatabase::new().await;
    Fixture {
        store: Store::open(&place.url()).await.unwrap(),
        place,
    }
}

impl Fixture {
    fn is_postgres(&self) -> bool {
        matches!(self.place, TestDatabase::Postgres { .. })
    }

    /// A connection of its own to the fixture's database, as another process would open
    /// it; on SQLite it gives up at once when the file is locked.
    async fn other_process(&self) -> sqlx::AnyConnection {
        use sqlx::ConnectOptions;
        sqlx::any::install_default_drivers();
        let url = match &self.place {
            TestDatabase::Sqlite(_) => format!("{}?mode=rw", self.place.url()),
            TestDatabase::Postgres { .. } => self.place.url(),
        };
        let mut conn = url
            .parse::<sqlx::any::AnyConnectOptions>()
            .unwrap()
            .connect()
            .await
            .unwrap();
        if !self.is_postgres() {
            sqlx::raw_sql("PRAGMA busy_timeout = 0")
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn
    }
}

/// A session of `email`, opened with the default policy at `T0`; its token.
async fn session_of(store: &Store, email: &str) -> String {
    let policy = SessionPolicy::default();
    crate::sessions::sign_in(
        store,
        &policy,
        email,
        PASSWORD,
        &Client::default(),
        None,
        T0,
    )
    .await
    .unwrap()
    .token
}

async fn tenant_with_admin(store: &Store, domain: &str) -> (Principal, String) {
    let tenant = crate::tenants::create(
        store,
        NewTenant {
            name: domain,
            primary_domain: domain,
        },
        T0,
    )
    .await
    .unwrap();
    let operator = Principal::operator(&tenant.id);
    let email = format!("admin@{domain}");
    let admin = crate::users::create_member(
        store,
        &operator,
        NewMember {
            email: &email,
            display_name: "Admin",
            password: PASSWORD,
        },
        T0,
    )
    .await
    .unwrap();
    crate::users::set_role(
        store,
        &operator,
        &admin.id,
        Role::GlobalAdministrator,
        true,
        T0,
    )
    .await
    .unwrap();
    (operator, admin.id)
}

/// The organization's audit events of `action`, newest first (the latest 500).
async fn audit_events(store: &Store, operator: &Principal, action: &str) -> Vec<types::AuditEvent> {
    crate::audit::list(store, operator, &Default::default(), 0, 500)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

async fn member(store: &Store, actor: &Principal, email: &str) -> String {
    crate::users::create_member(
        store,
        actor,
        NewMember {
            email,
            display_name: email,
            password: PASSWORD,
        },
        T0,
    )
    .await
    .unwrap()
    .id
}

#[test]
fn password_rules_follow_asvs() {
    use crate::password::check_new;
    assert!(check_new("p", "seven77", "").is_err(), "shorter than 8");
    assert!(
        check_new("p", &"x".repeat(129), "").is_err(),
        "longer than 128"
    );
    assert!(
        check_new("p", &"long passphrase ".repeat(4), "").is_ok(),
        "64+ allowed"
    );
    assert!(
        check_new("p", "Password1", "").is_err(),
        "common, in any case"
    );
    assert!(check_new("p", "iloveyou2", "").is_err());
    assert!(
        check_new("p", "ann@example.com", "ann@example.com").is_err(),
        "not the email"
    );
    assert!(check_new("p", "no composition rules here", "").is_ok());
}

#[test]
fn hashes_are_argon2id_and_salted() {
    let a = crate::password::hash(PASSWORD).unwrap();
    let b = crate::password::hash(PASSWORD).unwrap();
    assert!(a.0.starts_with("$argon2id$"));
    assert_ne!(a.0, b.0);
    assert!(crate::password::verify(PASSWORD, &a.0));
    assert!(!crate::password::verify("wrong", &a.0));
    assert!(!crate::password::verify(PASSWORD, "not a hash"));
}

#[tokio::test]
async fn setup_ticket_works_once_and_expires_after_an_hour() {
    let f = fixture().await;
    let input = || SetupInput {
        tenant_name: "Contoso",
        primary_domain: "contoso.example",
        admin_email: "ada@contoso.example",
        admin_name: "Ada",
        admin_password: PASSWORD,
    };
    let expired = crate::setup::issue_ticket(&f.store, T0)
        .await
        .unwrap()
        .unwrap();
    let late = crate::setup::complete(&f.store, &expired, input(), None, T0 + 3600).await;
    assert!(matches!(late, Err(Error::InvalidLink)));

    let ticket = crate::setup::issue_ticket(&f.store, T0 + 3600)
        .await
        .unwrap()
        .unwrap();
    let elsewhere = SetupInput {
        admin_email: "ada@gmail.example",
        ..input()
    };
    let refused = crate::setup::complete(&f.store, &ticket, elsewhere, None, T0 + 3601).await;
    assert!(
        matches!(&refused, Err(Error::Invalid(fields)) if fields[0].field == "email"
            && fields[0].message.contains("contoso.example")),
        "{refused:?}"
    );
    let (tenant, admin) =
        crate::setup::complete(&f.store, &ticket, input(), Some("10.0.0.1"), T0 + 3601)
            .await
            .unwrap();
    assert_eq!(tenant.slug, "contoso");
    let again = crate::setup::complete(&f.store, &ticket, input(), None, T0 + 3602).await;
    assert!(matches!(again, Err(Error::InvalidLink)));
    assert!(
        crate::setup::issue_ticket(&f.store, T0 + 4000)
            .await
            .unwrap()
            .is_none(),
        "no more links once set up"
    );

    let opened = crate::sessions::sign_in(
        &f.store,
        &SessionPolicy::default(),
        "ada@contoso.example",
        PASSWORD,
        &Client::default(),
        None,
        T0 + 3700,
    )
    .await
    .unwrap();
    let principal = crate::sessions::principal(
        &f.store,
        &SessionPolicy::default(),
        &opened.token,
        None,
        T0 + 3701,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(principal.principal.user_id(), Some(admin.id.as_str()));
    assert_eq!(principal.principal.roles(), [Role::GlobalAdministrator]);
    assert_eq!(principal.me.tenant_name, "Contoso");
    assert_eq!(principal.me.email, "ada@contoso.example");
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_timeouts() {
    let f = fixture().await;
    tenant_with_admin(&f.store, "contoso.example").await;
    let policy = SessionPolicy {
        idle_timeout: 600,
        absolute_timeout: 3600,
        ..SessionPolicy::default()
    };
    let sign_in = |now| {
        let store = f.store.clone();
        async move {
            crate::sessions::sign_in(
                &store,
                &policy,
                "admin@contoso.example",
                PASSWORD,
                &Client::default(),
                None,
                now,
            )
            .await
            .unwrap()
            .token
        }
    };
    let alive = |token: String, now| {
        let store = f.store.clone();
        async move {
            crate::sessions::principal(&store, &policy, &token, None, now)
                .await
                .unwrap()
                .is_some()
        }
    };

    let idle = sign_in(T0).await;
    assert!(alive(idle.clone(), T0 + 599).await);
    assert!(
        !alive(idle.clone(), T0 + 599 + 600).await,
        "unused for the idle timeout"
    );
    assert!(!alive(idle, T0 + 1).await, "an ended session stays ended");

    let busy = sign_in(T0).await;
    for minute in 1..60 {
        assert!(
            alive(busy.clone(), T0 + minute * 60).await,
            "in use at minute {minute}"
        );
    }
    assert!(
        !alive(busy, T0 + 3600).await,
        "the absolute timeout ends even a busy session"
    );
}

#[tokio::test]
async fn the_address_decides_how_a_person_signs_in() {
    use crate::sessions::{SignInMethod, sign_in_method};
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    member(&f.store, &operator, "mia@contoso.example").await;
    assert_eq!(
        sign_in_method(&f.store, " MIA@contoso.example ")
            .await
            .unwrap(),
        SignInMethod::Password
    );
    assert_eq!(
        sign_in_method(&f.store, "nobody@partner.example")
            .await
            .unwrap(),
        SignInMethod::EmailCode
    );
    assert!(matches!(
        sign_in_method(&f.store, "not an address").await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account_until_the_window_passes() {
    let f = fixture().await;
    tenant_with_admin(&f.store, "contoso.example").await;
    let policy = SessionPolicy::default();
    let attempt = |password: &'static str, ip: &'static str, now: i64| {
        let store = f.store.clone();
        async move {
            let client = Client {
                ip: Some(ip.into()),
                user_agent: None,
            };
            crate::sessions::sign_in(
                &store,
                &policy,
                "admin@contoso.example",
                password,
                &client,
                None,
                now,
            )
            .await
        }
    };
    for i in 0..policy.max_failures_per_account {
        let from = if i % 2 == 0 { "192.0.2.1" } else { "192.0.2.2" };
        assert!(matches!(
            attempt("wrong", from, T0 + i).await,
            Err(Error::BadCredentials)
        ));
    }
    let locked = attempt(PASSWORD, "192.0.2.3", T0 + 20).await;
    assert!(
        matches!(locked, Err(Error::Throttled { retry_after }) if retry_after > 0 && retry_after <= policy.throttle_window)
    );
    let later = attempt(PASSWORD, "192.0.2.3", T0 + policy.throttle_window + 1).await;
    assert!(later.is_ok(), "the window closed: {later:?}");
}

#[tokio::test]
async fn failed_sign_ins_lock_out_their_own_address_and_accounts_never_everyone() {
    let f = fixture().await;
    tenant_with_admin(&f.store, "contoso.example").await;
    let policy = SessionPolicy::default();
    let sign_in = |email: String, password: &'static str, ip: Option<&'static str>| {
        let store = f.store.clone();
        async move {
            let client = Client {
                ip: ip.map(String::from),
                user_agent: None,
            };
            crate::sessions::sign_in(&store, &policy, &email, password, &client, None, T0).await
        }
    };
    // Wrong passwords for many accounts, from one address and from requests without one.
    for ip in [Some("192.0.2.66"), None] {
        for i in 0..policy.max_failures_per_address {
            let email = format!("guess{i}@contoso.example");
            let failed = sign_in(email, "wrong", ip).await;
            assert!(matches!(failed, Err(Error::BadCredentials)), "{failed:?}");
        }
    }
    let admin = || "admin@contoso.example".to_string();
    assert!(matches!(
        sign_in(admin(), PASSWORD, Some("192.0.2.66")).await,
        Err(Error::Throttled { .. })
    ));
    let elsewhere = sign_in(admin(), PASSWORD, Some("198.51.100.7")).await;
    assert!(elsewhere.is_ok(), "another address: {elsewhere:?}");
    let unknown = sign_in(admin(), PASSWORD, None).await;
    assert!(
        unknown.is_ok(),
        "no shared bucket without an address: {unknown:?}"
    );
}

#[tokio::test]
async fn each_change_writes_one_audit_event_and_a_refused_change_writes_none() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let before = crate::audit::list(&f.store, &operator, &Default::default(), 0, 200)
        .await
        .unwrap()
        .total;
    let bad = crate::groups::create(&f.store, &operator, "  ", "", T0).await;
    assert!(matches!(bad, Err(Error::Invalid(_))));
    crate::groups::create(&f.store, &operator, "Sales", "", T0)
        .await
        .unwrap();
    let dup = crate::groups::create(&f.store, &operator, "sales", "", T0).await;
    assert!(
        matches!(dup, Err(Error::Conflict(_))),
        "names are unique in any case"
    );
    let events = crate::audit::list(&f.store, &operator, &Default::default(), 0, 200)
        .await
        .unwrap();
    assert_eq!(events.total, before + 1);
    assert_eq!(events.items[0].action, "Add group");
    assert_eq!(events.items[0].actor_name, "Command line");
    assert_eq!(events.items[0].actor_kind, types::ActorKind::Operator);
    assert_eq!(events.items[0].actor_id, None);
}

#[tokio::test]
async fn user_administrators_manage_users_but_not_apps_roles_or_global_admins() {
    let f = fixture().await;
    let (operator, admin_id) = tenant_with_admin(&f.store, "contoso.example").await;
    let helper = member(&f.store, &operator, "helper@contoso.example").await;
    let bob = member(&f.store, &operator, "bob@contoso.example").await;
    let user_admin = Principal::user(
        &operator.tenant_id,
        &helper,
        "Helper",
        vec![Role::UserAdministrator],
        false,
        None,
    );
    crate::users::set_enabled(&f.store, &user_admin, &bob, false, T0)
        .await
        .unwrap();
    let events = crate::audit::list(&f.store, &user_admin, &Default::default(), 0, 1)
        .await
        .unwrap();
    let event = &events.items[0];
    assert_eq!(
        (
            event.actor_kind,
            event.actor_id.as_deref(),
            event.actor_name.as_str()
        ),
        (types::ActorKind::User, Some(helper.as_str()), "Helper"),
        "the person who acted is named, as a person"
    );
    let admin = crate::users::set_enabled(&f.store, &user_admin, &admin_id, false, T0).await;
    assert!(matches!(admin, Err(Error::AccessDenied)));
    let renamed = crate::users::update(
        &f.store,
        &user_admin,
        &admin_id,
        "mine@contoso.example",
        "Mine",
        T0,
    )
    .await;
    assert!(
        matches!(renamed, Err(Error::AccessDenied)),
        "a user admin cannot take over a global admin's address"
    );
    let role = crate::users::set_role(
        &f.store,
        &user_admin,
        &bob,
        Role::GlobalAdministrator,
        true,
        T0,
    )
    .await;
    assert!(matches!(role, Err(Error::AccessDenied)));
    let app = crate::apps::list(&f.store, &user_admin).await;
    assert!(matches!(app, Err(Error::AccessDenied)));
    let nobody = Principal::user(&operator.tenant_id, &helper, "Helper", vec![], false, None);
    assert!(matches!(
        crate::users::list(&f.store, &nobody, &UserQuery::default(), T0).await,
        Err(Error::AccessDenied)
    ));
}

#[tokio::test]
async fn access_panel_lists_apps_by_assignment_group_or_openness() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let bob = member(&f.store, &operator, "bob@contoso.example").await;
    let app = |name: &'static str, required: bool| {
        let (store, operator) = (f.store.clone(), operator.clone());
        async move {
            let input = AppInput {
                name,
                description: "",
                launch_url: "https://x.example/",
                logo_url: "",
                assignment_required: required,
            };
            crate::apps::create(&store, &operator, input, T0)
                .await
                .unwrap()
                .id
        }
    };
    let direct = app("Direct", true).await;
    let via_group = app("Via group", true).await;
    app("Everyone", false).await;
    app("Hidden", true).await;
    let group = crate::groups::create(&f.store, &operator, "Team", "", T0)
        .await
        .unwrap();
    crate::groups::set_link(&f.store, &operator, &group.id, &bob, Link::Member, true, T0)
        .await
        .unwrap();
    crate::apps::set_assignment(&f.store, &operator, &direct, Assignee::User(&bob), true, T0)
        .await
        .unwrap();
    crate::apps::set_assignment(
        &f.store,
        &operator,
        &via_group,
        Assignee::Group(&group.id),
        true,
        T0,
    )
    .await
    .unwrap();
    let as_bob = Principal::user(&operator.tenant_id, &bob, "Bob", vec![], false, None);
    let panel = crate::access::panel(&f.store, &as_bob).await.unwrap();
    let names: Vec<_> = panel.apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Direct", "Everyone", "Via group"]);

    crate::groups::set_link(
        &f.store,
        &operator,
        &group.id,
        &bob,
        Link::Member,
        false,
        T0,
    )
    .await
    .unwrap();
    let panel = crate::access::panel(&f.store, &as_bob).await.unwrap();
    assert_eq!(panel.apps.len(), 2, "leaving the group takes its apps away");
}

#[tokio::test]
async fn an_organization_makes_members_only_at_the_domains_the_operator_gave_it() {
    use crate::tenants::{add_domain, remove_domain};
    let f = fixture().await;
    let (a, a_admin) = tenant_with_admin(&f.store, "contoso.example").await;
    let (b, _) = tenant_with_admin(&f.store, "fabrikam.example").await;
    let outside = |result: crate::Result<types::UserSummary>| {
        matches!(result, Err(Error::Invalid(fields)) if fields[0].field == "email"
            && fields[0].message.starts_with("Members have addresses at contoso.example"))
    };
    let create = |email: &'static str| {
        let (store, a) = (&f.store, &a);
        async move {
            let input = NewMember {
                email,
                display_name: "Sam",
                password: PASSWORD,
            };
            crate::users::create_member(store, a, input, T0).await
        }
    };
    // At the primary domain and under it, yes; anywhere else, no.
    create("sam@contoso.example").await.unwrap();
    create("kim@eu.contoso.example").await.unwrap();
    for email in [
        "sam@partner.example",
        "sam@fabrikam.example",
        "sam@evilcontoso.example",
        "sam@contoso.example.evil.example",
    ] {
        assert!(outside(create(email).await), "{email}");
    }
    // An address of another organization's member is not B's to take either.
    let twice = crate::users::create_member(
        &f.store,
        &b,
        NewMember {
            email: "SAM@contoso.example",
            display_name: "Sam",
            password: PASSWORD,
        },
        T0,
    )
    .await;
    assert!(matches!(twice, Err(Error::Invalid(_))), "{twice:?}");

    // Imports and address changes keep to the domains too.
    let rows = types::csv::parse("lee@contoso.example,Lee\nlee@partner.example,Lee\n").unwrap();
    let report = crate::users::import_members(&f.store, &a, &rows, T0)
        .await
        .unwrap();
    assert_eq!(report.created, 1);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].0, 2);
    let moved =
        crate::users::update(&f.store, &a, &a_admin, "admin@partner.example", "Admin", T0).await;
    assert!(outside(moved));

    // Only the operator gives a domain, and no domain is held twice or inside another.
    let admin_of_a = Principal::user(
        &a.tenant_id,
        &a_admin,
        "Admin of A",
        vec![Role::GlobalAdministrator],
        false,
        None,
    );
    let taken = add_domain(&f.store, &admin_of_a, "partner.example", T0).await;
    assert!(matches!(taken, Err(Error::AccessDenied)), "{taken:?}");
    for (domain, why) in [
        (
            "fabrikam.example",
            "Another organization holds fabrikam.example already.",
        ),
        (
            "eu.fabrikam.example",
            "Another organization holds fabrikam.example, which covers eu.fabrikam.example.",
        ),
        (
            "eu.contoso.example",
            "This organization holds contoso.example, which covers eu.contoso.example.",
        ),
    ] {
        let refused = add_domain(&f.store, &a, domain, T0).await;
        assert!(
            matches!(&refused, Err(Error::Conflict(m)) if m == why),
            "{refused:?}"
        );
    }
    let held = add_domain(&f.store, &a, " Partner.Example. ", T0)
        .await
        .unwrap();
    assert_eq!(held, ["contoso.example", "partner.example"]);
    let refused = add_domain(&f.store, &b, "example", T0).await;
    assert!(matches!(refused, Err(Error::Invalid(_))), "{refused:?}");
    // A domain above one held elsewhere is refused as well.
    let refused = add_domain(&f.store, &b, "eu.partner.example", T0).await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    create("sam@partner.example").await.unwrap();
    let settings = crate::tenants::settings(&f.store, &admin_of_a)
        .await
        .unwrap();
    assert_eq!(settings.domains, ["contoso.example", "partner.example"]);

    // A domain goes only when no member is at it, and the primary domain stays.
    let refused = remove_domain(&f.store, &a, "partner.example", T0).await;
    assert!(
        matches!(&refused, Err(Error::Conflict(m)) if m.starts_with("1 member has an address at partner.example.")),
        "{refused:?}"
    );
    let refused = remove_domain(&f.store, &a, "contoso.example", T0).await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    let refused = remove_domain(&f.store, &b, "partner.example", T0).await;
    assert!(
        matches!(&refused, Err(Error::Conflict(m)) if m == "This organization does not hold partner.example."),
        "{refused:?}"
    );
    let sam = crate::users::resolve(&f.store, &a, "sam@partner.example")
        .await
        .unwrap();
    crate::users::delete(&f.store, &a, &sam.id, T0)
        .await
        .unwrap();
    let held = remove_domain(&f.store, &a, "partner.example", T0)
        .await
        .unwrap();
    assert_eq!(held, ["contoso.example"]);
    assert!(outside(create("sam@partner.example").await));

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE action LIKE '%domain' ORDER BY id",
    )
    .fetch_all(&mut *f.store.read().await.unwrap())
    .await
    .unwrap();
    assert_eq!(actions, ["Add domain", "Remove domain"]);

    // An organization may widen to a domain above its own.
    let (c, _) = tenant_with_admin(&f.store, "sales.tailspin.example").await;
    let held = add_domain(&f.store, &c, "tailspin.example", T0)
        .await
        .unwrap();
    assert_eq!(held, ["sales.tailspin.example", "tailspin.example"]);

    // A database from before the rule may hold a domain under another organization's, and
    // members at domains their organization does not hold. The most specific domain
    // decides whose an address is, and a domain with others' members is not given away.
    let mut db = f.other_process().await;
    sqlx::query("INSERT INTO tenant_domains (domain, tenant_id, added_at) VALUES ('eu.contoso.example', $1, 0)")
        .bind(&b.tenant_id)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, user_type, email, display_name, created_at, updated_at)
         VALUES ('early', $1, 'Member', 'early@northwind.example', 'Early', 0, 0)",
    )
    .bind(&a.tenant_id)
    .execute(&mut db)
    .await
    .unwrap();
    assert!(outside(create("lou@eu.contoso.example").await));
    assert!(outside(create("lou@sales.eu.contoso.example").await));
    create("lou@contoso.example").await.unwrap();
    let at_b = crate::users::create_member(
        &f.store,
        &b,
        NewMember {
            email: "lou@eu.contoso.example",
            display_name: "Lou",
            password: PASSWORD,
        },
        T0,
    )
    .await;
    assert!(at_b.is_ok(), "{at_b:?}");
    let refused = add_domain(&f.store, &b, "northwind.example", T0).await;
    assert!(
        matches!(&refused, Err(Error::Conflict(m)) if m.starts_with("Other organizations have 1 member at northwind.example.")),
        "{refused:?}"
    );
}

#[test]
fn validation_refuses_what_would_be_dangerous_or_wrong() {
    use crate::validate::{domain_name, email, web_url};
    assert_eq!(email("e", " Ann@Example.COM ").unwrap(), "ann@example.com");
    for bad in [
        "ann",
        "ann@",
        "@x.com",
        "a b@x.com",
        "ann@localhost",
        ".ann@x.com",
        "ann@x..com",
        "<a>@x.com",
    ] {
        assert!(email("e", bad).is_err(), "{bad}");
    }
    assert!(domain_name("d", "-x.com").is_err());
    assert_eq!(
        domain_name("d", "Contoso.Example.").unwrap(),
        "contoso.example"
    );
    for bad in [
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://x.example",
        "https://user:pw@x.example",
        "/relative",
    ] {
        assert!(web_url("u", bad).is_err(), "{bad}");
    }
    assert_eq!(
        web_url("u", "https://wiki.example").unwrap(),
        "https://wiki.example/"
    );
}

mod guests {
    use super::*;
    use crate::invitations::InviteInput;
    use crate::redemption;
    use types::TicketState;

    fn ticket_of(link: &str) -> String {
        link.split("ticket=").nth(1).unwrap().to_string()
    }

    fn code_in_outbox(mail: &[types::OutboxMail]) -> String {
        let text = &mail
            .iter()
            .find(|m| m.subject.contains("verification code"))
            .unwrap()
            .text_body;
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 8)
            .unwrap()
            .to_string()
    }

    async fn invited(f: &Fixture) -> (Principal, String) {
        let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
        let input = InviteInput {
            email: "ann@partner.example",
            display_name: "Ann",
            message: "",
            redirect_url: "",
            send_email: true,
            sponsors: &[],
            access_days: None,
        };
        let done = crate::invitations::invite_guest(
            &f.store,
            &operator,
            input,
            "https://portico.example",
            T0,
        )
        .await
        .unwrap();
        (operator, ticket_of(&done.redeem_url))
    }

    #[tokio::test]
    async fn a_bulk_file_invites_the_good_rows_and_reports_the_others() {
        use types::{BulkInviteRow, BulkOutcome};
        let f = fixture().await;
        let (operator, ticket) = invited(&f).await;
        member(&f.store, &operator, "mia@contoso.example").await;
        let csv = "Email address,Display name,Redirect,Message\n\
                   bob@partner.example,Bob,,\"Hello, Bob\"\n\
                   not-an-address,Nobody\n\
                   ann@partner.example,Ann again\n\
                   mia@contoso.example\n\
                   cat@partner.example,Cat,javascript:alert(1)\n\
                   dan@partner.example,Dan,https://wiki.contoso.example/,,extra\n\
                   BOB@partner.example,Bob twice\n\
                   eve@partner.example\n";
        let rows = BulkInviteRow::from_csv(csv).unwrap();
        let audit_before = crate::audit::list(&f.store, &operator, &Default::default(), 0, 1)
            .await
            .unwrap()
            .total;
        let results = crate::invitations::invite_many(
            &f.store,
            &operator,
            &rows,
            true,
            "https://portico.example",
            T0,
        )
        .await
        .unwrap();
        let summary: Vec<(u32, &str)> = results
            .iter()
            .map(|r| {
                let kind = match &r.outcome {
                    BulkOutcome::Invited { .. } => "invited",
                    BulkOutcome::AlreadyUser { .. } => "already",
                    BulkOutcome::Invalid { .. } => "invalid",
                };
                (r.line, kind)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (2, "invited"),
                (3, "invalid"),
                (4, "already"),
                (5, "already"),
                (6, "invalid"),
                (7, "invalid"),
                (8, "already"),
                (9, "invited"),
            ]
        );
        let BulkOutcome::Invalid { reason } = &results[4].outcome else {
            unreachable!()
        };
        assert!(reason.starts_with("Redirect address: "), "{reason}");
        // Two guests, two invitations, two mails, two audit events; nothing for the rest.
        let guests = crate::users::list(
            &f.store,
            &operator,
            &UserQuery {
                user_type: Some(UserType::Guest),
                ..Default::default()
            },
            T0,
        )
        .await
        .unwrap();
        assert_eq!(guests.total, 3, "ann, bob and eve");
        let audit_after = crate::audit::list(&f.store, &operator, &Default::default(), 0, 1)
            .await
            .unwrap()
            .total;
        assert_eq!(audit_after, audit_before + 2);
        let mails = crate::outbox::list_for_operator(&f.store, 100)
            .await
            .unwrap();
        assert_eq!(mails.len(), 3);
        assert!(mails.iter().any(|m| m.recipient == "bob@partner.example"
            && m.text_body.contains("Hello, Bob")));
        // Ann's pending invitation was left alone: her link still works.
        let state = redemption::look_up(&f.store, &ticket, T0).await.unwrap();
        assert!(matches!(state, TicketState::Open(_)));

        let too_many = vec![rows[0].clone(); crate::invitations::BULK_ROWS + 1];
        let refused = crate::invitations::invite_many(
            &f.store,
            &operator,
            &too_many,
            true,
            "https://portico.example",
            T0,
        )
        .await;
        assert!(matches!(refused, Err(Error::Invalid(_))));
    }

    #[tokio::test]
    async fn an_invitation_expires_after_the_tenants_lifetime() {
        let f = fixture().await;
        let (_, ticket) = invited(&f).await;
        let open = redemption::look_up(&f.store, &ticket, T0 + 14 * 86_400 - 1)
            .await
            .unwrap();
        assert!(matches!(open, TicketState::Open(_)));
        let late = redemption::look_up(&f.store, &ticket, T0 + 14 * 86_400)
            .await
            .unwrap();
        assert!(matches!(late, TicketState::Expired { .. }));
        let start = redemption::start(&f.store, &ticket, T0 + 14 * 86_400).await;
        assert!(matches!(start, Err(Error::InvalidLink)));
    }

    #[tokio::test]
    async fn codes_expire_after_ten_minutes_and_resends_wait_a_minute() {
        let f = fixture().await;
        let (_, ticket) = invited(&f).await;
        let started = redemption::start(&f.store, &ticket, T0).await.unwrap();
        let code = code_in_outbox(
            &crate::outbox::list_for_operator(&f.store, 10)
                .await
                .unwrap(),
        );
        let resend = redemption::resend_code(&f.store, &started.token, T0 + 30).await;
        assert!(matches!(resend, Err(Error::Throttled { retry_after: 30 })));
        let stale = redemption::verify_code(
            &f.store,
            &started.token,
            &code,
            T0 + redemption::CODE_LIFETIME,
        )
        .await;
        assert!(matches!(stale, Err(Error::Conflict(_))));
        redemption::resend_code(&f.store, &started.token, T0 + 61)
            .await
            .unwrap();
        let old = redemption::verify_code(&f.store, &started.token, &code, T0 + 62).await;
        assert!(
            matches!(old, Err(Error::Invalid(_))),
            "a new code replaces the old one"
        );
        let fresh = code_in_outbox(
            &crate::outbox::list_for_operator(&f.store, 10)
                .await
                .unwrap(),
        );
        redemption::verify_code(&f.store, &started.token, &fresh, T0 + 63)
            .await
            .unwrap();
    }

    /// Fabrikam's administrator, a member here, invited by `inviter`'s organization: she
    /// redeems with her Fabrikam password, and no code is mailed. Answers the ticket.
    async fn member_elsewhere_invited(f: &Fixture, inviter: &Principal) -> String {
        tenant_with_admin(&f.store, "fabrikam.example").await;
        let done = crate::invitations::invite_guest(
            &f.store,
            inviter,
            InviteInput {
                email: "admin@fabrikam.example",
                display_name: "Fab",
                message: "",
                redirect_url: "",
                send_email: false,
                sponsors: &[],
                access_days: None,
            },
            "https://portico.example",
            T0,
        )
        .await
        .unwrap();
        ticket_of(&done.redeem_url)
    }

    #[tokio::test]
    async fn fifty_browsers_accepting_one_invitation_at_once_make_one_guest() {
        let f = fixture().await;
        let (operator, _) = invited(&f).await;
        // Proven with a password at home, so that no mailbox limit holds the browsers back.
        let ticket = member_elsewhere_invited(&f, &operator).await;
        let mut tokens = Vec::new();
        for i in 0..50 {
            // Spread out: one invitation starts at most 20 redemptions in 15 minutes.
            let at = T0 + i * 46;
            let started = redemption::start(&f.store, &ticket, at).await.unwrap();
            redemption::verify_home_password(
                &f.store,
                &SessionPolicy::default(),
                &started.token,
                PASSWORD,
                at,
            )
            .await
            .unwrap();
            tokens.push(started.token);
        }
        let policy = SessionPolicy::default();
        let attempts = tokens.into_iter().map(|token| {
            let store = f.store.clone();
            tokio::spawn(async move {
                redemption::accept(&store, &policy, &token, &Client::default(), None, T0 + 2300)
                    .await
                    .is_ok()
            })
        });
        let mut accepted = 0;
        for attempt in attempts.collect::<Vec<_>>() {
            accepted += usize::from(attempt.await.unwrap());
        }
        assert_eq!(accepted, 1);
        let events = crate::audit::list(&f.store, &operator, &Default::default(), 0, 200)
            .await
            .unwrap();
        let redeemed = events
            .items
            .iter()
            .filter(|e| e.action == "Redeem external user invite")
            .count();
        assert_eq!(redeemed, 1);
    }

    /// A code that is surely not `code`.
    fn other_than(code: &str) -> String {
        let first = if code.starts_with('0') { '1' } else { '0' };
        format!("{first}{}", &code[1..])
    }

    #[tokio::test]
    async fn declining_and_starting_again_gives_no_more_guesses_and_locks_the_invitation() {
        let f = fixture().await;
        let (operator, ticket) = invited(&f).await;
        // Four redemptions of five wrong codes each: twenty in all locks the invitation,
        // however the redemptions ended in between.
        for round in 0..4 {
            let at = T0 + round;
            let started = redemption::start(&f.store, &ticket, at).await.unwrap();
            let code =
                code_in_outbox(&crate::outbox::list_for_operator(&f.store, 1).await.unwrap());
            for attempt in 0..redemption::MAX_CODE_ATTEMPTS {
                let guess =
                    redemption::verify_code(&f.store, &started.token, &other_than(&code), at).await;
                if round == 3 && attempt == redemption::MAX_CODE_ATTEMPTS - 1 {
                    assert!(
                        matches!(&guess, Err(Error::Conflict(m)) if m.contains("locked")),
                        "the twentieth wrong code locks it: {guess:?}"
                    );
                } else {
                    assert!(matches!(guess, Err(Error::Invalid(_))), "{guess:?}");
                }
            }
            let declined = redemption::decline(&f.store, &started.token, at).await;
            if round < 3 {
                declined.unwrap();
            } else {
                assert!(
                    matches!(declined, Err(Error::InvalidLink)),
                    "locking ended the redemption"
                );
            }
        }
        // Locked: no redemption starts, even after the limits' windows, and the link says so.
        let later = T0 + 2 * 3600;
        let start = redemption::start(&f.store, &ticket, later).await;
        assert!(matches!(start, Err(Error::InvalidLink)), "{start:?}");
        let state = redemption::look_up(&f.store, &ticket, later).await.unwrap();
        assert!(matches!(state, TicketState::Locked { .. }), "{state:?}");
        let listed = crate::invitations::list(&f.store, &operator, later)
            .await
            .unwrap();
        assert_eq!(listed[0].status, types::InvitationStatus::Locked);
        let events = crate::audit::list(&f.store, &operator, &Default::default(), 0, 50)
            .await
            .unwrap();
        let lock = events
            .items
            .iter()
            .find(|e| e.action == "Lock invitation")
            .expect("the lock is audited");
        assert_eq!(lock.actor_name, "Portico");
        assert_eq!(lock.actor_kind, types::ActorKind::Portico);
        assert!(
            lock.detail.contains("ann@partner.example"),
            "{}",
            lock.detail
        );

        // An administrator sends a new invitation, and that one works.
        let again = crate::invitations::invite_guest(
            &f.store,
            &operator,
            InviteInput {
                email: "ann@partner.example",
                display_name: "Ann",
                message: "",
                redirect_url: "",
                send_email: true,
                sponsors: &[],
                access_days: None,
            },
            "https://portico.example",
            later,
        )
        .await
        .unwrap();
        let started = redemption::start(&f.store, &ticket_of(&again.redeem_url), later)
            .await
            .unwrap();
        let code = code_in_outbox(&crate::outbox::list_for_operator(&f.store, 1).await.unwrap());
        redemption::verify_code(&f.store, &started.token, &code, later)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn one_mailbox_gets_five_codes_a_quarter_hour_for_sign_in_and_redemption_together() {
        let f = fixture().await;
        let (_, ticket) = invited(&f).await;
        for i in 0..3 {
            crate::organizations::send_sign_in_code(
                &f.store,
                "Ann@partner.example",
                Some(&format!("192.0.2.{i}")),
                T0 + i,
            )
            .await
            .unwrap();
        }
        redemption::start(&f.store, &ticket, T0 + 10).await.unwrap();
        let started = redemption::start(&f.store, &ticket, T0 + 11).await.unwrap();
        let sixth = redemption::start(&f.store, &ticket, T0 + 12).await;
        assert!(matches!(sixth, Err(Error::Throttled { .. })), "{sixth:?}");
        let resend = redemption::resend_code(&f.store, &started.token, T0 + 100).await;
        assert!(matches!(resend, Err(Error::Throttled { .. })), "{resend:?}");
        let sign_in =
            crate::organizations::send_sign_in_code(&f.store, "ann@partner.example", None, T0 + 13)
                .await;
        assert!(
            matches!(sign_in, Err(Error::Throttled { .. })),
            "{sign_in:?}"
        );
        redemption::start(&f.store, &ticket, T0 + 901)
            .await
            .expect("the window passes");
    }

    #[tokio::test]
    async fn starts_still_count_after_their_redemptions_ended() {
        let f = fixture().await;
        let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
        // A member of another organization here proves herself with her password: no code
        // is mailed, so only the limit on starts holds her link back.
        let ticket = member_elsewhere_invited(&f, &contoso).await;
        for i in 0..redemption::MAX_STARTS_PER_WINDOW {
            let started = redemption::start(&f.store, &ticket, T0 + i).await.unwrap();
            redemption::decline(&f.store, &started.token, T0 + i)
                .await
                .unwrap();
        }
        let again = redemption::start(&f.store, &ticket, T0 + 30).await;
        assert!(matches!(again, Err(Error::Throttled { .. })), "{again:?}");
        redemption::start(&f.store, &ticket, T0 + redemption::START_WINDOW + 1)
            .await
            .expect("the window passes");
    }

    #[tokio::test]
    async fn administrators_do_not_see_invitation_links_in_the_outbox() {
        let f = fixture().await;
        let (operator, ticket) = invited(&f).await;
        let seen = crate::outbox::list(&f.store, &operator).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert!(
            !seen[0].text_body.contains(&ticket),
            "{}",
            seen[0].text_body
        );
        let operators = crate::outbox::list_for_operator(&f.store, 10)
            .await
            .unwrap();
        assert!(operators[0].text_body.contains(&ticket));
    }
}

mod returning_guests {
    use super::*;
    use crate::invitations::InviteInput;
    use crate::redemption;

    /// The code in the newest mail.
    async fn newest_code(store: &Store) -> String {
        let mail = crate::outbox::list_for_operator(store, 1).await.unwrap();
        mail[0]
            .text_body
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 8)
            .unwrap()
            .to_string()
    }

    /// Invites `email` into the inviter's tenant and accepts with the mailed code.
    async fn invite_and_accept(store: &Store, inviter: &Principal, email: &str) -> String {
        let input = InviteInput {
            email,
            display_name: "",
            message: "",
            redirect_url: "",
            send_email: false,
            sponsors: &[],
            access_days: None,
        };
        let done = crate::invitations::invite_guest(store, inviter, input, "https://p.example", T0)
            .await
            .unwrap();
        let ticket = done.redeem_url.split("ticket=").nth(1).unwrap();
        let started = redemption::start(store, ticket, T0).await.unwrap();
        let code = newest_code(store).await;
        redemption::verify_code(store, &started.token, &code, T0)
            .await
            .unwrap();
        redemption::accept(
            store,
            &SessionPolicy::default(),
            &started.token,
            &Client::default(),
            None,
            T0,
        )
        .await
        .unwrap();
        code
    }

    #[tokio::test]
    async fn one_address_of_origin_cannot_send_codes_to_many_mailboxes() {
        use crate::organizations::{MAX_CODES_PER_ORIGIN, send_sign_in_code};
        let f = fixture().await;
        let from = Some("203.0.113.9");
        for i in 0..MAX_CODES_PER_ORIGIN {
            send_sign_in_code(
                &f.store,
                &format!("person{i}@partner.example"),
                from,
                T0 + i,
            )
            .await
            .unwrap();
        }
        let refused = send_sign_in_code(&f.store, "one-more@partner.example", from, T0 + 60).await;
        assert!(matches!(refused, Err(Error::Throttled { .. })));
        send_sign_in_code(
            &f.store,
            "one-more@partner.example",
            Some("198.51.100.7"),
            T0 + 60,
        )
        .await
        .expect("another address of origin is not held back");
        send_sign_in_code(&f.store, "later@partner.example", from, T0 + 60 + 900)
            .await
            .expect("the window passes");
    }

    #[tokio::test]
    async fn an_accepted_guest_signs_in_again_with_a_code() {
        let f = fixture().await;
        let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
        let (fabrikam, _) = tenant_with_admin(&f.store, "fabrikam.example").await;
        let first = invite_and_accept(&f.store, &contoso, "ann@partner.example").await;
        invite_and_accept(&f.store, &fabrikam, "ann@partner.example").await;

        crate::organizations::send_sign_in_code(&f.store, "nobody@partner.example", None, T0 + 9)
            .await
            .unwrap();
        let token =
            crate::organizations::send_sign_in_code(&f.store, "Ann@Partner.example", None, T0 + 10)
                .await
                .unwrap();
        let again = newest_code(&f.store).await;
        assert_ne!(first, again);
        let wrong = crate::organizations::verify_sign_in_code(
            &f.store,
            &SessionPolicy::default(),
            &token,
            "00000000",
            &Client::default(),
            T0 + 11,
        )
        .await;
        assert!(matches!(wrong, Err(Error::Invalid(_))));
        let opened = crate::organizations::verify_sign_in_code(
            &f.store,
            &SessionPolicy::default(),
            &token,
            &again,
            &Client::default(),
            T0 + 11,
        )
        .await;
        assert!(opened.is_ok(), "{opened:?}");
    }
}

#[tokio::test]
async fn the_redemption_order_keeps_methods_to_their_kind_and_one_fallback_on() {
    use types::{RedemptionMethod::*, RedemptionOrder};
    let f = fixture().await;
    let (admin, admin_id) = tenant_with_admin(&f.store, "contoso.example").await;
    let order =
        |primary: Vec<types::RedemptionMethod>, fallback| RedemptionOrder { primary, fallback };
    let refused = [
        order(vec![Federation], vec![]),
        order(vec![EmailCode], vec![EmailCode]),
        order(vec![Federation, Federation], vec![EmailCode]),
        order(vec![], vec![HomeOrganization]),
        order(vec![], vec![EmailCode, EmailCode]),
    ];
    for wrong in refused {
        let result = crate::federation::set_redemption_order(&f.store, &admin, &wrong, T0).await;
        assert!(
            matches!(result, Err(Error::Invalid(_))),
            "{wrong:?}: {result:?}"
        );
    }
    let settings = crate::tenants::settings(&f.store, &admin).await.unwrap();
    assert_eq!(settings.redemption_order, RedemptionOrder::default());

    let user_admin = Principal::user(
        &admin.tenant_id,
        &admin_id,
        "Admin",
        vec![Role::UserAdministrator],
        false,
        None,
    );
    let fine = order(vec![Federation], vec![EmailCode]);
    assert!(matches!(
        crate::federation::set_redemption_order(&f.store, &user_admin, &fine, T0).await,
        Err(Error::AccessDenied)
    ));
    crate::federation::set_redemption_order(&f.store, &admin, &fine, T0)
        .await
        .unwrap();
    let settings = crate::tenants::settings(&f.store, &admin).await.unwrap();
    assert_eq!(settings.redemption_order, fine);
    assert_eq!(fine.to_setting(), "federation;code");
    assert_eq!(RedemptionOrder::from_setting("federation;code"), fine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guesses_sent_at_once_cannot_slip_under_the_throttle() {
    let f = fixture().await;
    tenant_with_admin(&f.store, "contoso.example").await;
    let policy = SessionPolicy::default();
    let guesses = (0..30).map(|i| {
        let store = f.store.clone();
        tokio::spawn(async move {
            let client = Client {
                ip: Some(format!("192.0.2.{i}")),
                user_agent: None,
            };
            crate::sessions::sign_in(
                &store,
                &policy,
                "admin@contoso.example",
                "a wrong guess",
                &client,
                None,
                T0,
            )
            .await
        })
    });
    let mut checked = 0;
    let mut throttled = 0;
    for guess in guesses.collect::<Vec<_>>() {
        match guess.await.unwrap() {
            Err(Error::BadCredentials) => checked += 1,
            Err(Error::Throttled { .. }) => throttled += 1,
            other => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(checked, policy.max_failures_per_account);
    assert_eq!(throttled, 30 - policy.max_failures_per_account);
    // Once the window has passed, the right password works again.
    let client = Client {
        ip: Some("192.0.2.1".into()),
        user_agent: None,
    };
    let later = T0 + policy.throttle_window + 1;
    let opened = crate::sessions::sign_in(
        &f.store,
        &policy,
        "admin@contoso.example",
        PASSWORD,
        &client,
        None,
        later,
    )
    .await;
    assert!(opened.is_ok(), "{opened:?}");
}

/// An app with a member, for writing sign-ins and codes straight to the store.
struct SigningIn {
    tenant_id: String,
    user_id: String,
    app_id: String,
}

impl SigningIn {
    async fn new(store: &Store) -> SigningIn {
        let (operator, _) = tenant_with_admin(store, "contoso.example").await;
        let user_id = member(store, &operator, "bob@contoso.example").await;
        let input = AppInput {
            name: "Wiki",
            description: "",
            launch_url: "https://wiki.contoso.example/",
            logo_url: "",
            assignment_required: false,
        };
        let app = crate::apps::create(store, &operator, input, T0)
            .await
            .unwrap();
        SigningIn {
            tenant_id: operator.tenant_id,
            user_id,
            app_id: app.id,
        }
    }

    /// Records an allowed sign-in and the code it gives, as the authorization endpoint does.
    async fn code(&self, store: &Store, code_hash: &str) -> crate::Result<()> {
        let event = crate::store::oidc::NewSignIn {
            tenant_id: &self.tenant_id,
            user_id: Some(&self.user_id),
            user_name: "Bob",
            user_email: "bob@contoso.example",
            app_id: &self.app_id,
            app_name: "Wiki",
            success: true,
            reason: "Allowed",
            ip: None,
            ca_status: "notApplied",
            ca_policies: "[]",
        };
        let grant = crate::store::oidc::Grant {
            app_id: self.app_id.clone(),
            user_id: self.user_id.clone(),
            redirect_uri: "https://wiki.contoso.example/callback".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: None,
            auth_time: T0,
            amr: "pwd".into(),
            idp: String::new(),
            expires_at: T0 + 60,
            used_at: None,
        };
        crate::store::oidc::insert_sign_in_with_code(store, &event, code_hash, &grant, T0).await
    }

    async fn events(&self, store: &Store) -> usize {
        crate::store::oidc::sign_ins(
            &mut store.read().await.unwrap(),
            &self.tenant_id,
            None,
            1000,
        )
        .await
        .unwrap()
        .len()
    }
}

#[tokio::test]
async fn a_write_batch_that_fails_halfway_keeps_nothing_and_the_writer_goes_on() {
    let f = fixture().await;
    let app = SigningIn::new(&f.store).await;
    app.code(&f.store, "code-1").await.unwrap();
    assert_eq!(app.events(&f.store).await, 1);
    // The same code again: its insert fails after the event's, and the event goes too.
    let again = app.code(&f.store, "code-1").await;
    assert!(again.is_err(), "a second code with one hash was kept");
    assert_eq!(
        app.events(&f.store).await,
        1,
        "half of a failed batch was kept"
    );
    // The writer's connection is not left inside the failed transaction.
    app.code(&f.store, "code-2").await.unwrap();
    assert_eq!(app.events(&f.store).await, 2);
    // Read back as an exchange reads it: the client and the code in one trip.
    let (client, kept) = crate::store::oidc::client_and_code(
        &mut f.store.read().await.unwrap(),
        "contoso.example",
        &app.app_id,
        "code-2",
    )
    .await
    .unwrap();
    assert_eq!(client.map(|c| c.id), Some(app.app_id.clone()));
    assert_eq!(
        kept.map(|(g, s)| (g.user_id, s.map(|s| s.id))),
        Some((app.user_id.clone(), Some(app.user_id.clone())))
    );
    let (client, none) = crate::store::oidc::client_and_code(
        &mut f.store.read().await.unwrap(),
        "fabrikam.example",
        &app.app_id,
        "code-3",
    )
    .await
    .unwrap();
    assert!(client.is_none() && none.is_none());
}

/// Batches handed in while the writer is busy are written together, in one transaction:
/// one that fails is undone alone, and the others are kept and said to be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_written_together_succeed_or_fail_each_on_its_own() {
    let f = fixture().await;
    let app = std::sync::Arc::new(SigningIn::new(&f.store).await);
    // Holding the writer makes the batches queue up behind it.
    let held = f.store.begin().await.unwrap();
    let writes: Vec<_> = (0..40)
        .map(|i| {
            let (store, app) = (f.store.clone(), app.clone());
            // Ten hashes come twice: one of each pair must fail.
            tokio::spawn(async move { app.code(&store, &format!("code-{}", i % 30)).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(held);
    let mut kept = 0;
    for write in writes {
        match write.await.unwrap() {
            Ok(()) => kept += 1,
            Err(error) => assert!(
                error.to_string().to_lowercase().contains("unique"),
                "a batch failed for another reason: {error}"
            ),
        }
    }
    assert_eq!(kept, 30, "each hash is kept once");
    assert_eq!(
        app.events(&f.store).await,
        30,
        "a failed batch kept its event"
    );
    let mut db = f.store.read().await.unwrap();
    for i in 0..30 {
        let (_, code) = crate::store::oidc::client_and_code(
            &mut db,
            "contoso.example",
            &app.app_id,
            &format!("code-{i}"),
        )
        .await
        .unwrap();
        assert!(code.is_some(), "code-{i} was said to be kept but is not");
    }
}

/// A request that goes away (a browser closing its connection) drops its future at
/// whatever await it reached: while waiting for the writer, for `BEGIN`'s answer, inside
/// the transaction, or for `COMMIT`'s answer. Whatever point that is, nothing it began is
/// kept, and the writer is not left inside a transaction: later writes go on, and another
/// connection to the file can take the write lock.
#[tokio::test]
async fn a_write_abandoned_at_any_await_leaves_no_transaction_open() {
    use std::future::Future;
    use std::task::Poll;
    /// Polls `future` at most `polls` times, pausing in between so that the connection's
    /// thread gets on with what it was sent, then drops it.
    async fn abandon_after<F: Future>(future: F, polls: usize) {
        let mut future = std::pin::pin!(future);
        for _ in 0..polls {
            let ready =
                std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await;
            if ready {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let store = &f.store;
    for polls in 1..=12 {
        abandon_after(store.begin(), polls).await;
        let mut tx = store.begin().await.unwrap();
        let id = crate::new_id();
        let name = format!("Dropped {polls}");
        crate::store::groups::insert(&mut tx, &id, &operator.tenant_id, &name, "", T0)
            .await
            .unwrap();
        abandon_after(tx.commit(), polls).await;
    }
    // Writes go on after all that.
    crate::groups::create(store, &operator, "Kept", "", T0)
        .await
        .expect("the writer refuses to begin after abandoned writes");
    let names: Vec<String> =
        crate::store::groups::list(&mut store.read().await.unwrap(), &operator.tenant_id)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
    assert!(names.contains(&"Kept".to_string()));
    let mut other = f.other_process().await;
    if f.is_postgres() {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity
              WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        )
        .fetch_one(&mut other)
        .await
        .unwrap();
        assert_eq!(open, 0, "a transaction was left open");
    } else {
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .expect("another connection cannot take the write lock: a transaction was left open");
        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    }
}

/// A flash is taken once, only by the session that made it and before it expires; the
/// database holds it sealed, so a secret it carries is not in there to read.
#[tokio::test]
async fn a_flash_is_sealed_in_the_database_and_taken_once_by_its_own_session() {
    use crate::flashes::{LIFETIME, keep, take};
    use types::Flash;
    let f = fixture().await;
    let store = &f.store;
    let secret = "client-secret-7f3a9c0d1e2b";
    let flash = Flash {
        message: "Created a secret.".into(),
        copy: Some(("Client secret".into(), secret.into())),
        rejected: None,
    };
    let id = keep(store, Some("session-a"), &flash, T0).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM flashes")
        .fetch_one(&mut *store.read().await.unwrap())
        .await
        .unwrap();
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is readable in the database"
    );
    assert_eq!(
        take(store, &id, Some("session-a"), T0 + 1).await.unwrap(),
        Some(flash.clone())
    );
    assert_eq!(
        take(store, &id, Some("session-a"), T0 + 2).await.unwrap(),
        None,
        "taken twice"
    );

    // Another session gets nothing, and the flash is gone for its own session too.
    let id = keep(store, Some("session-a"), &flash, T0).await.unwrap();
    assert_eq!(
        take(store, &id, Some("session-b"), T0 + 1).await.unwrap(),
        None
    );
    assert_eq!(
        take(store, &id, Some("session-a"), T0 + 1).await.unwrap(),
        None
    );
    // Nor does a signed-out browser holding a signed-in session's flash id.
    let id = keep(store, Some("session-a"), &flash, T0).await.unwrap();
    assert_eq!(take(store, &id, None, T0 + 1).await.unwrap(), None);

    // Too late.
    let id = keep(store, None, &flash, T0).await.unwrap();
    assert_eq!(take(store, &id, None, T0 + LIFETIME).await.unwrap(), None);
    // An id that was never handed out.
    assert_eq!(take(store, "made-up", None, T0).await.unwrap(), None);
    // Flashes nobody took are swept with ended sessions.
    keep(store, None, &flash, T0).await.unwrap();
    crate::sessions::purge_expired(store, &SessionPolicy::default(), T0 + LIFETIME)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM flashes")
        .fetch_one(&mut *store.read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// A session just read stands in for the next reads, but any write here sets it aside, so
/// disabling a user or changing a role applies at once; a write by another process on the
/// same file (the command line) applies within a second.
#[tokio::test]
async fn a_session_read_lately_gives_way_to_any_change() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let policy = SessionPolicy::default();
    let bob = member(&f.store, &operator, "bob@contoso.example").await;
    let open = || session_of(&f.store, "bob@contoso.example");
    let who = |token: String| {
        let store = f.store.clone();
        async move {
            crate::sessions::principal(&store, &policy, &token, Some("10.0.0.9"), T0 + 1)
                .await
                .unwrap()
        }
    };
    // A change made here applies to the very next read.
    let token = open().await;
    assert!(
        who(token.clone())
            .await
            .unwrap()
            .principal
            .roles()
            .is_empty()
    );
    crate::users::set_role(&f.store, &operator, &bob, Role::UserAdministrator, true, T0)
        .await
        .unwrap();
    let signed_in = who(token.clone()).await.unwrap();
    assert_eq!(signed_in.principal.roles(), [Role::UserAdministrator]);
    assert_eq!(signed_in.principal.ip.as_deref(), Some("10.0.0.9"));
    crate::users::set_enabled(&f.store, &operator, &bob, false, T0)
        .await
        .unwrap();
    assert!(
        who(token).await.is_none(),
        "a disabled user's session went on"
    );

    // Another process disables the user behind Portico's back.
    crate::users::set_enabled(&f.store, &operator, &bob, true, T0)
        .await
        .unwrap();
    let token = open().await;
    assert!(who(token.clone()).await.is_some());
    let mut other = f.other_process().await;
    sqlx::query("UPDATE users SET enabled = 0 WHERE id = $1")
        .bind(&bob)
        .execute(&mut other)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(
        who(token).await.is_none(),
        "another process's change was missed"
    );
}

/// A COMMIT already on its way when its request goes away still commits: the sessions read
/// before it are set aside all the same.
#[tokio::test]
async fn a_commit_whose_request_went_away_still_sets_sessions_aside() {
    use std::future::Future;
    use std::task::Poll;
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let policy = SessionPolicy::default();
    let bob = member(&f.store, &operator, "bob@contoso.example").await;
    let token = session_of(&f.store, "bob@contoso.example").await;
    let who = || crate::sessions::principal(&f.store, &policy, &token, None, T0 + 1);
    /// Polls `future` once, then drops it; whether it was ready.
    async fn poll_once<F: Future>(future: F) -> bool {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await
    }
    assert!(
        who().await.unwrap().is_some(),
        "the session is not there to remember"
    );
    let mut tx = f.store.begin().await.unwrap();
    sqlx::query("UPDATE users SET enabled = 0 WHERE id = $1")
        .bind(&bob)
        .execute(&mut *tx)
        .await
        .unwrap();
    // The connection's thread is kept busy for a moment (a query whose asker went away),
    // so the COMMIT sent next is surely still on its way when its request goes away.
    let busy = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000)
                SELECT count(*) FROM n";
    assert!(!poll_once(sqlx::query(busy).execute(&mut *tx)).await);
    assert!(!poll_once(tx.commit()).await, "the COMMIT answered at once");
    // No other write follows (one would set the sessions aside by itself): the COMMIT
    // goes through behind the busy query, then the rollback queued behind it runs.
    let mut disabled = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        disabled =
            sqlx::query_scalar::<_, types::SqlFlag>("SELECT enabled = 0 FROM users WHERE id = $1")
                .bind(&bob)
                .fetch_one(&mut *f.store.read().await.unwrap())
                .await
                .unwrap()
                .into();
        if disabled {
            break;
        }
    }
    // SQLite's connection thread runs every command it was handed; a PostgreSQL
    // connection may or may not have sent the COMMIT before its request went away.
    if !f.is_postgres() {
        assert!(disabled, "the abandoned COMMIT did not go through");
    }
    // The rollback after it, which counts the write, is next on the connection.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        who().await.unwrap().is_none(),
        disabled,
        "the session taken from memory disagrees with the database"
    );
}

/// Whether `token` carries a valid signature by one of the keys of `jwks`, checked with
/// `ring` (not the library that signed it).
fn verifies(jwks: &serde_json::Value, token: &str) -> bool {
    use base64::Engine;
    use ring::signature::{
        ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
        UnparsedPublicKey,
    };
    let b64 = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    };
    let (input, signature) = token.rsplit_once('.').unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&b64(input.split('.').next().unwrap())).unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap();
    let field = |name: &str| b64(key[name].as_str().unwrap());
    let (message, signature) = (input.as_bytes(), b64(signature));
    match key["alg"].as_str().unwrap() {
        "RS256" => RsaPublicKeyComponents {
            n: field("n"),
            e: field("e"),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, message, &signature)
        .is_ok(),
        "ES256" => {
            let point = [&[4u8][..], &field("x"), &field("y")].concat();
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message, &signature)
                .is_ok()
        }
        alg => unreachable!("no test key signs with {alg}"),
    }
}

#[tokio::test]
async fn id_tokens_verify_against_the_published_keys_whoever_made_them() {
    use crate::oidc::keys;
    use crate::store::oidc::StoredKey;
    use types::SigningAlg;

    let f = fixture().await;
    let claims = serde_json::json!({ "sub": "someone", "nonce": "n-0S6_WzA2Mj" });
    let signer = keys::load_or_create(&f.store, T0).await.unwrap();
    let jwks = keys::jwks(&f.store, T0).await.unwrap();
    for alg in [SigningAlg::RS256, SigningAlg::ES256] {
        let token = signer.sign(alg, &claims).unwrap();
        assert!(verifies(&jwks, &token), "{alg:?}");
        // The same signature over other claims does not verify.
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let other = serde_json::json!({ "sub": "someone else", "nonce": "n-0S6_WzA2Mj" });
        let forged = format!(
            "{head}.{}.{signature}",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                other.to_string()
            )
        );
        assert!(!verifies(&jwks, &forged), "{alg:?}");
    }

    // A key stored by a release that made RSA keys with the `rsa` crate still signs.
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::traits::PublicKeyParts;
    let earlier = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let b64 = |bytes: Vec<u8>| {
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    };
    let stored = StoredKey {
        kid: "made-by-rsa".into(),
        alg: "RS256".into(),
        private_der: earlier.to_pkcs8_der().unwrap().as_bytes().to_vec(),
        public_jwk: serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "made-by-rsa",
            "n": b64(earlier.n().to_bytes_be()), "e": b64(earlier.e().to_bytes_be()),
        })
        .to_string(),
    };
    let mut tx = f.store.begin().await.unwrap();
    crate::store::oidc::insert_key(&mut tx, &stored, T0 + 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let signer = keys::changed_since(&f.store, &signer)
        .await
        .unwrap()
        .expect("the newer key is picked up");
    assert_eq!(signer.kids()[0], "made-by-rsa");
    let token = signer.sign(SigningAlg::RS256, &claims).unwrap();
    assert!(verifies(
        &keys::jwks(&f.store, T0 + 1).await.unwrap(),
        &token
    ));
}

#[tokio::test]
async fn partners_client_secrets_are_sealed_at_rest_under_a_key_file_of_their_own() {
    use crate::federation::{Federation, seal_stored_secrets};
    use crate::vault::Vault;
    let f = fixture().await;
    let (a, _) = tenant_with_admin(&f.store, "contoso.example").await;
    // A provider kept by an earlier release, with its secret as given.
    let mut tx = f.store.begin().await.unwrap();
    crate::store::federation::insert_provider(
        &mut tx,
        "p1",
        &a.tenant_id,
        "Partner",
        "https://idp.partner.example",
        "portico",
        "s3cret-as-given",
        "openid email",
        "automatic",
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let tempdir = tempfile::tempdir().unwrap();
    let path = tempdir.path().join("keys").join("secret.key");
    let federation = Federation::new(
        "https://portico.example",
        false,
        Vault::load_or_create(&path).unwrap(),
    );
    assert_eq!(std::fs::read(&path).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is readable by others");
    }
    assert_eq!(seal_stored_secrets(&f.store, &federation).await.unwrap(), 1);
    assert_eq!(seal_stored_secrets(&f.store, &federation).await.unwrap(), 0);
    let stored: String =
        sqlx::query_scalar("SELECT client_secret FROM identity_providers WHERE id = 'p1'")
            .fetch_one(&mut *f.store.read().await.unwrap())
            .await
            .unwrap();
    assert!(
        Vault::is_sealed(&stored) && !stored.contains("s3cret"),
        "{stored}"
    );

    // The same file opens it again; only for its own provider, and no other key does.
    let again = Vault::load_or_create(&path).unwrap();
    assert_eq!(
        again.open("p1", &stored).as_deref(),
        Some("s3cret-as-given")
    );
    assert_eq!(again.open("p2", &stored), None);
    // One character of the tag changed.
    let at = stored.len() - 10;
    let changed = if &stored[at..=at] == "A" { "B" } else { "A" };
    let altered = format!("{}{changed}{}", &stored[..at], &stored[at + 1..]);
    assert_eq!(again.open("p1", &altered), None);
    assert_eq!(Vault::with_key(&[7; 32]).unwrap().open("p1", &stored), None);
    // A file that holds no key is refused, not replaced.
    let bad = tempdir.path().join("bad.key");
    std::fs::write(&bad, b"not a key").unwrap();
    assert!(Vault::load_or_create(&bad).is_err());
    assert_eq!(std::fs::read(&bad).unwrap(), b"not a key");
}

mod identity_ends {
    use super::*;
    use crate::invitations::InviteInput;
    use crate::redemption;

    /// Fabrikam invites Mia, a member of Contoso, who accepts with her Contoso password.
    /// Answers Contoso's operator, Mia's member id, and her session (now in Fabrikam).
    async fn mia_as_fabrikam_guest(f: &Fixture) -> (Principal, String, String) {
        let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
        let (fabrikam, _) = tenant_with_admin(&f.store, "fabrikam.example").await;
        let mia = member(&f.store, &contoso, "mia@contoso.example").await;
        let done = crate::invitations::invite_guest(
            &f.store,
            &fabrikam,
            InviteInput {
                email: "mia@contoso.example",
                display_name: "Mia",
                message: "",
                redirect_url: "",
                send_email: false,
                sponsors: &[],
                access_days: None,
            },
            "https://portico.example",
            T0,
        )
        .await
        .unwrap();
        let ticket = done.redeem_url.split("ticket=").nth(1).unwrap();
        let policy = SessionPolicy::default();
        let started = redemption::start(&f.store, ticket, T0).await.unwrap();
        redemption::verify_home_password(&f.store, &policy, &started.token, PASSWORD, T0)
            .await
            .unwrap();
        let accepted = redemption::accept(
            &f.store,
            &policy,
            &started.token,
            &Client::default(),
            None,
            T0,
        )
        .await
        .unwrap();
        let token = accepted.session.token;
        let signed_in = signed_in(&f.store, &token).await.expect("signed in");
        assert_eq!(signed_in.principal.tenant_id, fabrikam.tenant_id);
        (contoso, mia, token)
    }

    async fn signed_in(store: &Store, token: &str) -> Option<crate::sessions::SignedIn> {
        crate::sessions::principal(store, &SessionPolicy::default(), token, None, T0 + 1)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn disabling_a_member_at_home_ends_her_sessions_in_partner_organizations() {
        let f = fixture().await;
        let (contoso, mia, token) = mia_as_fabrikam_guest(&f).await;
        crate::users::set_enabled(&f.store, &contoso, &mia, false, T0)
            .await
            .unwrap();
        assert!(signed_in(&f.store, &token).await.is_none());
    }

    #[tokio::test]
    async fn deleting_or_resetting_a_member_ends_her_sessions_in_partner_organizations() {
        let f = fixture().await;
        let (contoso, mia, token) = mia_as_fabrikam_guest(&f).await;
        crate::users::reset_password(&f.store, &contoso, &mia, "a brand new passphrase", T0)
            .await
            .unwrap();
        assert!(signed_in(&f.store, &token).await.is_none());

        let f = fixture().await;
        let (contoso, mia, token) = mia_as_fabrikam_guest(&f).await;
        crate::users::delete(&f.store, &contoso, &mia, T0)
            .await
            .unwrap();
        assert!(signed_in(&f.store, &token).await.is_none());
    }

    #[tokio::test]
    async fn a_session_elsewhere_needs_its_member_enabled_at_home() {
        let f = fixture().await;
        let (contoso, mia, token) = mia_as_fabrikam_guest(&f).await;
        // Disabled by a path that ends no session (as another process, or an older
        // release, could): the session still must not stand.
        let mut tx = f.store.begin().await.unwrap();
        crate::store::users::set_enabled(&mut tx, &contoso.tenant_id, &mia, false, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(signed_in(&f.store, &token).await.is_none());
    }

    #[tokio::test]
    async fn guests_are_given_no_administrator_roles() {
        let f = fixture().await;
        let (_, mia, _) = mia_as_fabrikam_guest(&f).await;
        let fabrikam_admin = tenant_admin(&f, "fabrikam.example").await;
        let guest = crate::users::list(
            &f.store,
            &fabrikam_admin,
            &UserQuery {
                user_type: Some(UserType::Guest),
                ..Default::default()
            },
            T0,
        )
        .await
        .unwrap()
        .items
        .remove(0);
        assert_ne!(guest.id, mia);
        for role in [Role::GlobalAdministrator, Role::UserAdministrator] {
            let refused =
                crate::users::set_role(&f.store, &fabrikam_admin, &guest.id, role, true, T0).await;
            assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
        }
        crate::users::set_role(
            &f.store,
            &fabrikam_admin,
            &guest.id,
            Role::GuestInviter,
            true,
            T0,
        )
        .await
        .expect("inviting is no administration");
    }

    /// The operator of the tenant with this domain.
    async fn tenant_admin(f: &Fixture, domain: &str) -> Principal {
        let id: String = sqlx::query_scalar("SELECT id FROM tenants WHERE primary_domain = $1")
            .bind(domain)
            .fetch_one(&mut *f.store.read().await.unwrap())
            .await
            .unwrap();
        Principal::operator(id)
    }

    #[tokio::test]
    async fn a_disabled_global_administrator_can_be_deleted_while_an_enabled_one_remains() {
        let f = fixture().await;
        let (operator, _admin) = tenant_with_admin(&f.store, "contoso.example").await;
        let old = member(&f.store, &operator, "old@contoso.example").await;
        crate::users::set_role(
            &f.store,
            &operator,
            &old,
            Role::GlobalAdministrator,
            true,
            T0,
        )
        .await
        .unwrap();
        crate::users::set_enabled(&f.store, &operator, &old, false, T0)
            .await
            .unwrap();
        crate::users::set_role(
            &f.store,
            &operator,
            &old,
            Role::GlobalAdministrator,
            false,
            T0,
        )
        .await
        .expect("a disabled one's role can go");
        crate::users::set_role(
            &f.store,
            &operator,
            &old,
            Role::GlobalAdministrator,
            true,
            T0,
        )
        .await
        .unwrap();
        crate::users::delete(&f.store, &operator, &old, T0)
            .await
            .expect("a disabled one can be deleted");
    }

    #[tokio::test]
    async fn a_guest_holding_the_last_global_administrator_role_cannot_leave() {
        let f = fixture().await;
        let (_, _, token) = mia_as_fabrikam_guest(&f).await;
        let fabrikam = tenant_admin(&f, "fabrikam.example").await;
        let signed_in = signed_in(&f.store, &token).await.unwrap();
        // A role given before guests were refused roles; the member administrator gone.
        let mut tx = f.store.begin().await.unwrap();
        crate::store::users::add_role(&mut tx, &signed_in.me.user_id, Role::GlobalAdministrator)
            .await
            .unwrap();
        sqlx::query("UPDATE users SET enabled = 0 WHERE tenant_id = $1 AND user_type = 'Member'")
            .bind(&fabrikam.tenant_id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let signed_in = signed_in_fresh(&f.store, &token).await;
        let refused = crate::organizations::leave(&f.store, &signed_in, &token, T0 + 2).await;
        assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    }

    async fn signed_in_fresh(store: &Store, token: &str) -> crate::sessions::SignedIn {
        crate::sessions::principal(store, &SessionPolicy::default(), token, None, T0 + 120)
            .await
            .unwrap()
            .unwrap()
    }
}

#[tokio::test]
async fn the_sweeper_removes_what_has_outlived_its_use() {
    let f = fixture().await;
    let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let done = crate::invitations::invite_guest(
        &f.store,
        &contoso,
        crate::invitations::InviteInput {
            email: "ann@partner.example",
            display_name: "Ann",
            message: "",
            redirect_url: "",
            send_email: true,
            sponsors: &[],
            access_days: None,
        },
        "https://portico.example",
        T0,
    )
    .await
    .unwrap();
    let ticket = done.redeem_url.split("ticket=").nth(1).unwrap();
    crate::redemption::start(&f.store, ticket, T0)
        .await
        .unwrap();
    crate::organizations::send_sign_in_code(&f.store, "bob@partner.example", None, T0)
        .await
        .unwrap();
    let count = |table: &'static str| {
        let store = f.store.clone();
        async move {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *store.read().await.unwrap())
                .await
                .unwrap();
            n
        }
    };
    let tables = [
        "redemptions",
        "one_time_codes",
        "redemption_starts",
        "sign_in_codes",
        "mailbox_codes",
    ];
    let policy = SessionPolicy::default();
    // Nothing has outlived its use yet.
    crate::sweeper::sweep(&f.store, &policy, T0 + 60)
        .await
        .unwrap();
    for table in tables {
        assert!(count(table).await > 0, "{table} kept while in use");
    }
    crate::sweeper::sweep(
        &f.store,
        &policy,
        T0 + crate::redemption::REDEMPTION_LIFETIME,
    )
    .await
    .unwrap();
    for table in tables {
        assert_eq!(count(table).await, 0, "{table} swept");
    }
    // Sent mail stays for a month, then goes; mail not sent yet stays.
    let mut tx = f.store.begin().await.unwrap();
    sqlx::query("UPDATE outbox SET sent_at = $1 WHERE subject LIKE '%invited you%'")
        .bind(T0)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mail = count("outbox").await;
    crate::sweeper::sweep(&f.store, &policy, T0 + crate::sweeper::SENT_MAIL_KEPT)
        .await
        .unwrap();
    assert!(count("outbox").await < mail);
    assert!(count("outbox").await > 0, "unsent mail stays");
}

#[tokio::test]
async fn an_authorization_request_waits_under_a_short_id_until_it_expires_and_is_purged() {
    use crate::oidc::authorize::{AuthorizeRequest, MAX_PENDING_BYTES, PENDING_LIFETIME};
    let f = fixture().await;
    let request = AuthorizeRequest {
        client_id: Some("wiki".into()),
        state: Some("s".repeat(45_000)),
        ..AuthorizeRequest::default()
    };
    let id = crate::oidc::authorize::park(&f.store, &request, Some("192.0.2.1"), T0)
        .await
        .unwrap()
        .unwrap();
    assert!(id.len() < 64, "{id}");
    let resumed = |at| crate::oidc::authorize::resume(&f.store, &id, at);
    let kept = resumed(T0 + PENDING_LIFETIME - 1).await.unwrap().unwrap();
    assert_eq!(kept.state, request.state);
    assert_eq!(kept.client_id.as_deref(), Some("wiki"));
    assert!(resumed(T0 + PENDING_LIFETIME).await.unwrap().is_none());
    assert!(
        crate::oidc::authorize::resume(&f.store, "not-an-id", T0)
            .await
            .unwrap()
            .is_none()
    );
    // Only the hash of the id is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM pending_authorizations")
        .fetch_all(&mut *f.store.read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(stored, vec![crate::secrets::hash_secret(&id)]);
    // Too large to keep: refused, nothing kept.
    let huge = AuthorizeRequest {
        state: Some("s".repeat(MAX_PENDING_BYTES)),
        ..AuthorizeRequest::default()
    };
    assert!(
        crate::oidc::authorize::park(&f.store, &huge, None, T0)
            .await
            .unwrap()
            .is_none()
    );
    // The purge forgets what expired, and only that.
    let fresh = crate::oidc::authorize::park(&f.store, &request, None, T0 + PENDING_LIFETIME)
        .await
        .unwrap()
        .unwrap();
    crate::sweeper::sweep(&f.store, &SessionPolicy::default(), T0 + PENDING_LIFETIME)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_authorizations")
        .fetch_one(&mut *f.store.read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(left, 1);
    assert!(
        crate::oidc::authorize::resume(&f.store, &fresh, T0 + PENDING_LIFETIME)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn one_address_cannot_fill_the_database_with_authorization_requests() {
    use crate::oidc::authorize::{
        AuthorizeRequest, MAX_PENDING_PER_ADDRESS, PENDING_LIFETIME, park,
    };
    let f = fixture().await;
    let request = AuthorizeRequest {
        state: Some("s".repeat(1000)),
        ..AuthorizeRequest::default()
    };
    for _ in 0..MAX_PENDING_PER_ADDRESS {
        park(&f.store, &request, Some("192.0.2.1"), T0)
            .await
            .unwrap();
    }
    let refused = park(&f.store, &request, Some("192.0.2.1"), T0 + 60).await;
    assert!(
        matches!(refused, Err(Error::Throttled { retry_after }) if retry_after == PENDING_LIFETIME - 60),
        "{refused:?}"
    );
    // Another address is not held up; the first is, until its requests expire.
    assert!(
        park(&f.store, &request, Some("192.0.2.2"), T0 + 60)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        park(&f.store, &request, Some("192.0.2.1"), T0 + PENDING_LIFETIME)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn resetting_a_redemption_meets_the_domain_list_and_refusals_change_nothing() {
    use types::DomainListKind;
    let f = fixture().await;
    let (operator, admin_id) = tenant_with_admin(&f.store, "contoso.example").await;
    let admin = Principal::user(
        &operator.tenant_id,
        &admin_id,
        "Admin",
        vec![Role::GlobalAdministrator],
        false,
        None,
    );
    let invited = crate::invitations::invite_guest(
        &f.store,
        &admin,
        crate::invitations::InviteInput {
            email: "ann@partner.example",
            display_name: "Ann",
            message: "",
            redirect_url: "",
            send_email: false,
            sponsors: &[],
            access_days: None,
        },
        "https://portico.example",
        T0,
    )
    .await
    .unwrap();
    crate::collaboration::set_domains(&f.store, &admin, "partner.example", T0)
        .await
        .unwrap();

    let reset = crate::invitations::reset_redemption(
        &f.store,
        &admin,
        &invited.user.id,
        "https://portico.example",
        T0,
    )
    .await;
    assert!(
        matches!(&reset, Err(Error::Forbidden(m)) if m.contains("partner.example is on")),
        "{reset:?}"
    );
    let invitations = crate::invitations::list(&f.store, &admin, T0)
        .await
        .unwrap();
    assert_eq!(
        invitations.len(),
        1,
        "no new invitation, the old one stands"
    );
    assert_eq!(
        invitations[0].status,
        types::InvitationStatus::PendingAcceptance
    );

    // Switching the kind of list without agreeing to lose it keeps it.
    let unasked =
        crate::collaboration::switch_list_kind(&f.store, &admin, "allow", false, T0).await;
    assert!(matches!(unasked, Err(Error::Conflict(_))), "{unasked:?}");
    let kept = crate::collaboration::settings(&f.store, &admin)
        .await
        .unwrap();
    assert_eq!(
        (kept.list_kind, kept.domains.as_slice()),
        (
            DomainListKind::Deny,
            ["partner.example".to_string()].as_slice()
        )
    );
    // A user administrator reads the settings and changes none.
    let user_admin = Principal::user(
        &operator.tenant_id,
        &admin_id,
        "Admin",
        vec![Role::UserAdministrator],
        false,
        None,
    );
    assert_eq!(
        crate::collaboration::settings(&f.store, &user_admin)
            .await
            .unwrap(),
        kept
    );
    assert!(matches!(
        crate::collaboration::set_domains(&f.store, &user_admin, "", T0).await,
        Err(Error::AccessDenied)
    ));
    assert!(matches!(
        crate::collaboration::set_allow_invites_from(&f.store, &user_admin, "everyone", T0).await,
        Err(Error::AccessDenied)
    ));
    assert_eq!(
        crate::collaboration::settings(&f.store, &admin)
            .await
            .unwrap(),
        kept
    );
}

mod audit_chain;
mod guest_access;
mod lifecycle;
mod owners;
mod passkey_factors;
mod retention;
mod reviews;
mod second_factors;
mod self_service;
mod sponsors;
mod terms;
