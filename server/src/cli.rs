//! The operator's commands: script the directory against the same database the server
//! uses, acting as a global administrator of the named organization. Every change goes
//! through the same domain operations as the web console and is audited as "Command line".

use std::io::{BufRead, Write};

use domain::apps::{AppInput, Assignee};
use domain::groups::Link;
use domain::tenants::NewTenant;
use domain::users::NewMember;
use domain::{Principal, Store};
use serde::Serialize;
use types::Role;

use crate::config::{
    AppCommand, AuditCommand, DbCommand, DomainArgs, GroupCommand, InviteArgs, KeysCommand,
    OutboxCommand, Output, RoleArg, TenantCommand, UserCommand,
};

fn now() -> i64 {
    app::server::now()
}

fn show<T: Serialize>(output: &Output, value: &T, text: String) -> Result<(), String> {
    if output.json {
        let json = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        println!("{text}");
    }
    Ok(())
}

fn failed(error: domain::Error) -> String {
    error.to_string()
}

async fn operator(store: &Store, tenant: &str) -> Result<Principal, String> {
    let tenant = domain::tenants::find(store, tenant)
        .await
        .map_err(|_| format!("no organization has the id, slug or domain '{tenant}'"))?;
    Ok(Principal::operator(tenant.id))
}

pub async fn tenant(store: &Store, command: TenantCommand) -> Result<(), String> {
    match command {
        TenantCommand::Create {
            name,
            domain,
            output,
        } => {
            let input = NewTenant {
                name: &name,
                primary_domain: &domain,
            };
            let tenant = domain::tenants::create(store, input, now())
                .await
                .map_err(failed)?;
            let text = format!(
                "Created organization {} ({}), slug {}, id {}",
                tenant.name, tenant.primary_domain, tenant.slug, tenant.id
            );
            show(&output, &tenant, text)
        }
        TenantCommand::AddDomain(args) => {
            let actor = operator(store, &args.tenant).await?;
            let held = domain::tenants::add_domain(store, &actor, &args.domain, now()).await;
            show_domains(&args, held)
        }
        TenantCommand::RemoveDomain(args) => {
            let actor = operator(store, &args.tenant).await?;
            let held = domain::tenants::remove_domain(store, &actor, &args.domain, now()).await;
            show_domains(&args, held)
        }
    }
}

/// The domains an organization holds after a change to them.
fn show_domains(args: &DomainArgs, held: domain::Result<Vec<String>>) -> Result<(), String> {
    let domains = held.map_err(failed)?;
    let text = format!("Members may have addresses at: {}", domains.join(", "));
    show(&args.output, &domains, text)
}

fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::GlobalAdministrator => Role::GlobalAdministrator,
        RoleArg::UserAdministrator => Role::UserAdministrator,
        RoleArg::GuestInviter => Role::GuestInviter,
    }
}

pub async fn user(store: &Store, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Create {
            tenant,
            email,
            name,
            roles,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']);
            let input = NewMember {
                email: &email,
                display_name: &name,
                password,
            };
            let user = domain::users::create_member(store, &actor, input, now())
                .await
                .map_err(failed)?;
            for arg in roles {
                domain::users::set_role(store, &actor, &user.id, role(arg), true, now())
                    .await
                    .map_err(failed)?;
            }
            let text = format!(
                "Created member {} <{}>, id {}",
                user.display_name, user.email, user.id
            );
            show(&output, &user, text)
        }
        UserCommand::Import {
            tenant,
            file,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let rows = types::csv::parse(&read_input(&file)?)?;
            let report = domain::users::import_members(store, &actor, &rows, now())
                .await
                .map_err(failed)?;
            let mut summary = format!(
                "Created {} members; refused {} lines.",
                report.created,
                report.refused.len()
            );
            for (line, reason) in &report.refused {
                summary.push_str(&format!("\n  line {line}: {reason}"));
            }
            show(&output, &report, summary)
        }
    }
}

/// An app by id or by name (any case).
async fn find_app(
    store: &Store,
    actor: &Principal,
    key: &str,
) -> Result<types::AppSummary, String> {
    let apps = domain::apps::list(store, actor).await.map_err(failed)?;
    apps.into_iter()
        .find(|a| a.id == key || a.name.eq_ignore_ascii_case(key))
        .ok_or_else(|| format!("no app has the id or name '{key}'"))
}

/// A group by id or by name (any case).
async fn find_group(
    store: &Store,
    actor: &Principal,
    key: &str,
) -> Result<types::GroupSummary, String> {
    let groups = domain::groups::list(store, actor).await.map_err(failed)?;
    groups
        .into_iter()
        .find(|g| g.id == key || g.name.eq_ignore_ascii_case(key))
        .ok_or_else(|| format!("no group has the id or name '{key}'"))
}

pub async fn group(store: &Store, command: GroupCommand) -> Result<(), String> {
    match command {
        GroupCommand::Create {
            tenant,
            name,
            description,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let group = domain::groups::create(store, &actor, &name, &description, now())
                .await
                .map_err(failed)?;
            let text = format!("Created group {}, id {}", group.name, group.id);
            show(&output, &group, text)
        }
        GroupCommand::AddMember {
            tenant,
            group,
            user,
            owner,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let group = find_group(store, &actor, &group).await?;
            let user = domain::users::resolve(store, &actor, &user)
                .await
                .map_err(failed)?;
            let link = if owner { Link::Owner } else { Link::Member };
            domain::groups::set_link(store, &actor, &group.id, &user.id, link, true, now())
                .await
                .map_err(failed)?;
            let relation = if owner { "owner" } else { "member" };
            let text = format!("{} is now {relation} of {}", user.email, group.name);
            let result =
                serde_json::json!({ "group": group.id, "user": user.id, "relation": relation });
            show(&output, &result, text)
        }
    }
}

pub async fn app(store: &Store, command: AppCommand) -> Result<(), String> {
    match command {
        AppCommand::Create {
            tenant,
            name,
            launch_url,
            description,
            logo_url,
            open_to_all,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let input = AppInput {
                name: &name,
                description: &description,
                launch_url: &launch_url,
                logo_url: &logo_url,
                assignment_required: !open_to_all,
            };
            let app = domain::apps::create(store, &actor, input, now())
                .await
                .map_err(failed)?;
            let text = format!("Created app {}, id {}", app.name, app.id);
            show(&output, &app, text)
        }
        AppCommand::SignIn {
            tenant,
            app,
            client_type,
            id_token_alg,
            redirect_uris,
            post_logout_uris,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let app = find_app(store, &actor, &app).await?;
            let input = domain::oidc::clients::ClientInput {
                client_type: &client_type,
                id_token_alg: &id_token_alg,
                redirect_uris: &redirect_uris.join("\n"),
                post_logout_uris: &post_logout_uris.join("\n"),
            };
            let settings = domain::oidc::clients::configure(store, &actor, &app.id, input, now())
                .await
                .map_err(failed)?;
            let text = format!(
                "{} signs in as a {} client (client id {}); redirect addresses: {}",
                app.name,
                settings.client_type.as_str(),
                app.id,
                settings.redirect_uris.join(" ")
            );
            show(&output, &settings, text)
        }
        AppCommand::Secret {
            tenant,
            app,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let app = find_app(store, &actor, &app).await?;
            let secret = domain::oidc::clients::new_secret(store, &actor, &app.id, now())
                .await
                .map_err(failed)?;
            let text = format!(
                "Client id: {}\nClient secret (shown this once): {secret}",
                app.id
            );
            let result = serde_json::json!({ "client_id": app.id, "client_secret": secret });
            show(&output, &result, text)
        }
        AppCommand::Assign {
            tenant,
            app,
            user,
            group,
            output,
        } => {
            let actor = operator(store, &tenant).await?;
            let app = find_app(store, &actor, &app).await?;
            let (assignee_id, kind, label) = match (user, group) {
                (Some(user), _) => {
                    let user = domain::users::resolve(store, &actor, &user)
                        .await
                        .map_err(failed)?;
                    (user.id, "user", user.email)
                }
                (None, Some(group)) => {
                    let group = find_group(store, &actor, &group).await?;
                    (group.id, "group", group.name)
                }
                (None, None) => return Err("name a --user or a --group".into()),
            };
            let assignee = if kind == "user" {
                Assignee::User(&assignee_id)
            } else {
                Assignee::Group(&assignee_id)
            };
            domain::apps::set_assignment(store, &actor, &app.id, assignee, true, now())
                .await
                .map_err(failed)?;
            let text = format!("{} is assigned to {kind} {label}", app.name);
            let result = serde_json::json!({ "app": app.id, kind: assignee_id });
            show(&output, &result, text)
        }
    }
}

pub async fn outbox(store: &Store, command: OutboxCommand) -> Result<(), String> {
    match command {
        OutboxCommand::List { limit, output } => {
            let mail = domain::outbox::list_for_operator(store, limit)
                .await
                .map_err(failed)?;
            let text = mail
                .iter()
                .map(|m| {
                    let state = if m.sent_at.is_some() {
                        "sent"
                    } else {
                        "waiting"
                    };
                    format!(
                        "#{} to {} ({state}): {}\n{}",
                        m.id, m.recipient, m.subject, m.text_body
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            show(&output, &mail, text)
        }
    }
}

pub async fn keys(store: &Store, command: KeysCommand) -> Result<(), String> {
    match command {
        KeysCommand::Rotate { output } => {
            let kids = domain::oidc::keys::rotate(store, now())
                .await
                .map_err(failed)?;
            let text = format!(
                "New signing keys {} (RS256) and {} (ES256); the previous ones stay published for an hour.",
                kids[0], kids[1]
            );
            show(&output, &serde_json::json!({ "kids": kids }), text)
        }
    }
}

/// Exports or verifies an organization's audit chain from the database.
pub async fn audit(store: &Store, command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::Export { tenant, out } => {
            let actor = operator(store, &tenant).await?;
            let mut writer: Box<dyn std::io::Write> = if out.as_os_str() == "-" {
                Box::new(std::io::stdout().lock())
            } else {
                let file = std::fs::File::create(&out)
                    .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                Box::new(std::io::BufWriter::new(file))
            };
            let (checkpoint, mut page) = domain::audit::export_start(store, &actor)
                .await
                .map_err(failed)?;
            if let Some(checkpoint) = checkpoint {
                let line = serde_json::json!({ "checkpoint": checkpoint });
                writeln!(writer, "{line}").map_err(|e| format!("cannot write: {e}"))?;
            }
            let mut written = 0u64;
            while let Some(last) = page.last() {
                let after = last.id;
                for event in &page {
                    let line = serde_json::to_string(event).map_err(|e| e.to_string())?;
                    writeln!(writer, "{line}").map_err(|e| format!("cannot write: {e}"))?;
                    written += 1;
                }
                page = domain::audit::export_page(store, &actor, after)
                    .await
                    .map_err(failed)?;
            }
            writer.flush().map_err(|e| format!("cannot write: {e}"))?;
            if out.as_os_str() != "-" {
                eprintln!("{written} events written to {}", out.display());
            }
            Ok(())
        }
        AuditCommand::Verify { tenant, .. } => {
            let tenant = tenant.ok_or("name an export file or --tenant")?;
            let actor = operator(store, &tenant).await?;
            let (checkpoint, mut events) = domain::audit::export_start(store, &actor)
                .await
                .map_err(failed)?;
            while let Some(last) = events.last() {
                let page = domain::audit::export_page(store, &actor, last.id)
                    .await
                    .map_err(failed)?;
                if page.is_empty() {
                    break;
                }
                events.extend(page);
            }
            report(domain::audit::verify(
                checkpoint.as_ref(),
                events.into_iter().map(Ok),
            ))
        }
    }
}

/// Copies the SQLite database into an empty PostgreSQL one.
pub async fn db(store: &Store, command: DbCommand) -> Result<(), String> {
    match command {
        DbCommand::Copy { to, output } => {
            let copied = domain::copy::to_postgres(store, &to, now())
                .await
                .map_err(failed)?;
            let width = copied
                .tables
                .iter()
                .map(|t| t.table.len())
                .max()
                .unwrap_or(0);
            let mut text: Vec<String> = copied
                .tables
                .iter()
                .map(|t| format!("  {:<width$}  {}", t.table, t.rows))
                .collect();
            text.push(format!(
                "Copied {} rows in {} tables into PostgreSQL.",
                copied.total,
                copied.tables.len()
            ));
            text.push(format!(
                "Not copied (they live minutes; people sign in again): {}.",
                copied.not_copied.join(", ")
            ));
            text.push(
                "Start Portico with --database-url set to the new database and the same data \
                 folder: its secret.key opens the sealed secrets."
                    .into(),
            );
            show(&output, &copied, text.join("\n"))
        }
    }
}

/// Applies the rules that act as time passes, once, as of `as_of` or now.
pub async fn lifecycle(
    store: &Store,
    public_url: &str,
    as_of: Option<i64>,
    output: &Output,
) -> Result<(), String> {
    let done = domain::sweeper::lifecycle(store, public_url, as_of.unwrap_or_else(now))
        .await
        .map_err(failed)?;
    let text = format!(
        "{} old audit and sign-in events pruned; {} notices sent, {} guests' access ended, {} \
         guests deleted; {} access reviews applied.",
        done.pruned,
        done.guests.noticed,
        done.guests.ended,
        done.guests.deleted,
        done.reviews_applied
    );
    show(output, &done, text)
}

/// Verifies an export, line by line, without the database.
pub fn verify_export(file: &std::path::Path) -> Result<(), String> {
    let text = read_input(file)?;
    let mut lines = text.lines().peekable();
    // An export of a pruned chain starts with the checkpoint it goes on from.
    let checkpoint = match lines.peek() {
        Some(first) if first.starts_with(r#"{"checkpoint""#) => {
            let line: Checkpointed = serde_json::from_str(first).map_err(|e| {
                format!("the audit chain is broken: line 1: not a checkpoint ({e})")
            })?;
            lines.next();
            Some(line.checkpoint)
        }
        _ => None,
    };
    let events = lines.map(|line| {
        serde_json::from_str::<types::ChainedEvent>(line)
            .map_err(|e| format!("not an exported audit event ({e})"))
    });
    report(domain::audit::verify(checkpoint.as_ref(), events))
}

/// The first line of an export whose older events were pruned.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Checkpointed {
    checkpoint: types::AuditCheckpoint,
}

fn report(verified: Result<domain::audit::Verified, String>) -> Result<(), String> {
    let verified = verified.map_err(|why| format!("the audit chain is broken: {why}"))?;
    if let Some(checkpoint) = &verified.checkpoint {
        println!(
            "The chain starts from a checkpoint: {} older events (up to event {}, written \
             before {}) were removed by the retention setting; the checkpoint is signed by \
             key {} (RFC 7638 thumbprint {}). Compare the key with the organization's \
             published keys you hold.",
            checkpoint.events_removed,
            checkpoint.event_id,
            types::format::datetime(checkpoint.cutoff),
            checkpoint.kid,
            checkpoint.thumbprint
        );
    }
    match verified.head {
        Some((id, hash)) => println!(
            "The chain holds: {} events; the newest is event {id}, sha256 {hash}. Compare it \
             with the head noted earlier (Admin → Audit log) to see that none were cut from the end.",
            verified.events
        ),
        None => println!("The chain is empty."),
    }
    Ok(())
}

/// The text of `file`, or of standard input for `-`.
fn read_input(file: &std::path::Path) -> Result<String, String> {
    if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| format!("cannot read standard input: {e}"))
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    }
}

pub async fn invite(store: &Store, args: InviteArgs) -> Result<(), String> {
    let actor = operator(store, &args.tenant).await?;
    let rows = types::BulkInviteRow::from_csv(&read_input(&args.file)?)?;
    let mut results = Vec::with_capacity(rows.len());
    for part in rows.chunks(domain::invitations::BULK_ROWS) {
        let done = domain::invitations::invite_many(
            store,
            &actor,
            part,
            !args.no_mail,
            &args.public_url,
            now(),
        )
        .await
        .map_err(failed)?;
        results.extend(done);
    }
    let lines: Vec<String> = results
        .iter()
        .map(|r| {
            let what = match &r.outcome {
                types::BulkOutcome::Invited { redeem_url, .. } => format!("invited: {redeem_url}"),
                types::BulkOutcome::AlreadyUser { .. } => "already a user here; unchanged".into(),
                types::BulkOutcome::Invalid { reason } => format!("not valid: {reason}"),
            };
            format!("line {}: {} {what}", r.line, r.email)
        })
        .collect();
    show(&args.output, &results, lines.join("\n"))
}
