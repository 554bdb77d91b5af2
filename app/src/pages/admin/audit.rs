//! The audit log: every change to the directory, newest first, filtered by actor,
//! target, action and date.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use types::{ActorKind, AuditCheckpoint, AuditEvent, ChainHead, Page};

use super::{Pager, encode};
use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;
use types::format::datetime;

#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 50;

/// What the filters ask for, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: String,
    pub target: String,
    pub action: String,
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    /// `YYYY-MM-DD`, inclusive.
    pub to: String,
    pub page: u32,
}

/// A page of events and the actions to choose from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Page<AuditEvent>,
    pub actions: Vec<String>,
    /// The newest event of the organization's chain, for auditors to note.
    pub head: Option<ChainHead>,
    /// Where the chain starts when older events were pruned.
    pub checkpoint: Option<AuditCheckpoint>,
    /// How many days events are kept; `None`: for good.
    pub retention_days: Option<i64>,
    /// Whether the viewer may change it.
    pub may_set_retention: bool,
}

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/audit")]
pub async fn audit_events(query: AuditQuery) -> Result<AuditPage, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let filter = domain::audit::Filter::from_form(
        &query.actor,
        &query.target,
        &query.action,
        &query.from,
        &query.to,
    )?;
    Ok(AuditPage {
        events: domain::audit::list(&portal.store, &principal, &filter, query.page, PAGE_SIZE)
            .await?,
        actions: domain::audit::actions(&portal.store, &principal).await?,
        head: domain::audit::chain_head(&portal.store, &principal).await?,
        checkpoint: domain::audit::checkpoint(&portal.store, &principal).await?,
        retention_days: domain::retention::retention(&portal.store, &principal).await?,
        may_set_retention: domain::retention::may_set(&principal),
    })
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/audit/retention")]
pub async fn set_audit_retention(retention_days: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let days = domain::retention::parse_days(&retention_days)?;
    domain::retention::set_retention(&portal.store, &principal, days, crate::server::now()).await?;
    let said = days.map_or("Events are now kept for good.".to_string(), |days| {
        format!("Events are now kept {days} days; older ones are removed within ten minutes.")
    });
    crate::server::flash(&said, None).await;
    Ok(())
}

#[component]
pub fn Audit() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        let params = params.read();
        let text = |key: &str| params.get(key).unwrap_or_default();
        AuditQuery {
            actor: text("actor"),
            target: text("target"),
            action: text("action"),
            from: text("from"),
            to: text("to"),
            page: text("page").parse().unwrap_or(0),
        }
    };
    let events = Resource::new(query, audit_events);
    view! {
        <Title text="Audit log · Portico admin" />
        <h1>"Audit log"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                let q = query();
                match events.await {
                    Ok(page) => view! {
                        <Filters q=q.clone() actions=page.actions />
                        <EventTable q events=page.events />
                        {page.head.map(|head| view! { <Head head checkpoint=page.checkpoint /> })}
                        <Retention days=page.retention_days may_set=page.may_set_retention />
                    }.into_any(),
                    Err(error) => view! { <Filters q actions=vec![] /> <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The chain's head: what an auditor notes, to see later that no event was cut from the end.
#[component]
fn Head(head: ChainHead, checkpoint: Option<AuditCheckpoint>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="chain">
            <h2 id="chain">"Tamper evidence"</h2>
            <p>{format!(
                "Each event carries the hash of the one before it. The chain holds {} events; the newest is event {} of {}, SHA-256:",
                head.events, head.id, datetime(head.at)
            )}</p>
            <p><code class="wrap">{head.hash}</code></p>
            <p class="hint">"Note it: portico audit export writes the chain and portico audit verify checks it (without the database), naming the first event altered, missing or out of order."</p>
            {checkpoint.map(|c| view! {
                <p>{format!(
                    "Events written before {} were removed by the retention setting ({} in all). The chain goes on from a checkpoint Portico signed at {}: event {}, SHA-256:",
                    datetime(c.cutoff), c.events_removed, datetime(c.at), c.event_id
                )}</p>
                <p><code class="wrap">{c.event_hash}</code></p>
            })}
        </section>
    }
}

/// How long events are kept.
#[component]
fn Retention(days: Option<i64>, may_set: bool) -> impl IntoView {
    let save = ServerAction::<SetAuditRetention>::new();
    let error = action_error(save.value());
    let kept = days.map_or("Events are kept for good.".to_string(), |days| {
        format!("Audit and sign-in events are kept {days} days.")
    });
    view! {
        <section class="card" aria-labelledby="retention">
            <h2 id="retention">"Retention"</h2>
            <p>{kept}</p>
            {if may_set {
                view! {
                    <ActionForm action=save attr:class="grid">
                        <FormError error />
                        <Field label="Keep audit and sign-in events for (days)" name="retention_days" kind="number" value=days.map(|d| d.to_string()).unwrap_or_default() hint="30 to 3650; empty keeps them for good. Older events are removed every day; a signed checkpoint keeps the chain verifiable." error />
                        <Submit label="Save retention" busy_label="Saving…" pending=save.pending() />
                    </ActionForm>
                }.into_any()
            } else {
                view! { <p class="hint">"A global administrator can change this."</p> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Filters(q: AuditQuery, actions: Vec<String>) -> impl IntoView {
    view! {
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            <div class="field">
                <label for="actor">"Actor"</label>
                <input id="actor" name="actor" value=q.actor placeholder="Name starts with…" />
            </div>
            <div class="field">
                <label for="target">"Target"</label>
                <input id="target" name="target" value=q.target placeholder="Name starts with, or id" />
            </div>
            <div class="field">
                <label for="action">"Action"</label>
                <select id="action" name="action">
                    <option value="">"Any"</option>
                    {actions.into_iter().map(|a| {
                        let selected = a == q.action;
                        let label = a.clone();
                        view! { <option value=a selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="from">"From"</label>
                <input id="from" name="from" type="date" value=q.from />
            </div>
            <div class="field">
                <label for="to">"To"</label>
                <input id="to" name="to" type="date" value=q.to />
            </div>
            <button type="submit">"Filter"</button>
        </Form>
    }
}

#[component]
fn EventTable(q: AuditQuery, events: Page<AuditEvent>) -> impl IntoView {
    let pages = events.page_count();
    let (page, total) = (events.page, events.total);
    let base = format!(
        "/admin/audit?actor={}&target={}&action={}&from={}&to={}&",
        encode(&q.actor),
        encode(&q.target),
        encode(&q.action),
        encode(&q.from),
        encode(&q.to)
    );
    view! {
        {events.items.is_empty().then(|| view! { <p class="empty">"No events match."</p> })}
        <table>
            <thead>
                <tr><th scope="col">"When"</th><th scope="col">"Actor"</th><th scope="col">"Action"</th><th scope="col">"Target"</th><th scope="col">"Details"</th><th scope="col">"From"</th></tr>
            </thead>
            <tbody>
                {events.items.into_iter().map(|e| view! {
                    <tr>
                        <td>{datetime(e.at)}</td>
                        <td>
                            {e.actor_name}
                            {(e.actor_kind != ActorKind::User)
                                .then(|| view! { <span class="muted">{format!(" ({})", e.actor_kind.label())}</span> })}
                        </td>
                        <td>{e.action}</td>
                        <td>{format!("{} {}", e.target_type, e.target_name)}</td>
                        <td>{e.detail}</td>
                        <td>{e.ip.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <Pager page pages total base />
    }
}
