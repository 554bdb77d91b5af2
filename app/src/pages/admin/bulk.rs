//! Inviting many people from a CSV file. The browser reads the file, sends its rows in
//! parts and shows how far it got; each row comes back with what became of it.

use leptos::prelude::*;
use types::{BulkInviteResult, BulkInviteRow, BulkOutcome};

use crate::error::AppError;

/// Rows sent per request: small enough that the progress bar moves, large enough that a
/// file of thousands of rows is done in seconds.
const PART: usize = 50;

/// **Permissions:** those who may invite guests.
#[leptos::server(
    prefix = "/fn",
    endpoint = "admin/invite/bulk",
    input = leptos::server_fn::codec::Json
)]
pub async fn invite_bulk(
    rows: Vec<BulkInviteRow>,
    send_email: bool,
) -> Result<Vec<BulkInviteResult>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::invitations::invite_many(
        &portal.store,
        &principal,
        &rows,
        send_email,
        &portal.public_url,
        crate::server::now(),
    )
    .await?)
}

/// Where a bulk invitation stands.
#[derive(Clone, Default)]
struct Run {
    total: usize,
    results: Vec<BulkInviteResult>,
    running: bool,
    /// Why it stopped before the end, if it did.
    problem: Option<String>,
}

/// The file's text, read by the browser.
async fn read_file(input: &leptos::web_sys::HtmlInputElement) -> Result<String, String> {
    let file = input
        .files()
        .and_then(|files| files.get(0))
        .ok_or_else(|| "Choose a CSV file first.".to_string())?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|_| format!("The browser could not read {}.", file.name()))?;
    text.as_string()
        .ok_or_else(|| format!("{} is not a text file.", file.name()))
}

/// Inviting everyone in a CSV file: the card around [`BulkInviteForm`], rendered on the
/// server only. Its `<noscript>` stays out of the island: with scripting on, a browser
/// keeps a `<noscript>`'s content as plain text, which hydration cannot match (in a release
/// build that stopped the whole island).
#[component]
pub fn BulkInvite() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="bulk">
            <h2 id="bulk">"Invite from a file"</h2>
            <p class="hint">
                "A CSV file with one person per line: email address, then optionally display name, redirect address, personal message and sponsors (addresses of members separated by semicolons; empty: you). "
                "A first line starting with \u{201c}email\u{201d} is taken as headings. Rows that are wrong or already users are reported and change nothing."
            </p>
            <noscript><p class="banner error">"Reading a file needs JavaScript; invite people one by one above, or use the command line."</p></noscript>
            <BulkInviteForm />
        </section>
    }
}

/// The form that reads the file and invites its rows: an island, the one part of the
/// console that runs in the browser. The list of invitations shows the new ones when the
/// page is opened again (the report links to it).
#[island]
fn BulkInviteForm() -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    // Read from the box itself when the form is sent: what the person sees is what counts.
    let send_box = NodeRef::<leptos::html::Input>::new();
    let run = RwSignal::new(Run::default());
    let start = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if run.with_untracked(|r| r.running) {
            return;
        }
        let (Some(input), Some(send_box)) = (file_input.get_untracked(), send_box.get_untracked())
        else {
            return;
        };
        let send = send_box.checked();
        run.set(Run {
            running: true,
            ..Run::default()
        });
        leptos::task::spawn_local(async move {
            let rows = match read_file(&input)
                .await
                .and_then(|text| BulkInviteRow::from_csv(&text))
            {
                Ok(rows) if rows.is_empty() => Err("The file has no rows.".to_string()),
                other => other,
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(problem) => {
                    run.set(Run {
                        problem: Some(problem),
                        ..Run::default()
                    });
                    return;
                }
            };
            run.update(|r| r.total = rows.len());
            for part in rows.chunks(PART) {
                match invite_bulk(part.to_vec(), send).await {
                    Ok(results) => run.update(|r| r.results.extend(results)),
                    Err(error) => {
                        run.update(|r| {
                            r.problem = Some(stopped_because(&error, r.results.len()));
                        });
                        break;
                    }
                }
            }
            run.update(|r| r.running = false);
        });
    };
    view! {
        <form class="grid" on:submit=start>
            <div class="field">
                <label for="bulk-file">"CSV file"</label>
                <input id="bulk-file" type="file" accept=".csv,text/csv,text/plain" required=true node_ref=file_input />
            </div>
            <div class="field check">
                <input id="bulk-send" type="checkbox" checked=true node_ref=send_box />
                <label for="bulk-send">"Send each invitation by mail"</label>
            </div>
            <button type="submit" disabled=move || run.with(|r| r.running)>
                {move || if run.with(|r| r.running) { "Inviting…" } else { "Invite everyone in the file" }}
            </button>
        </form>
        {move || run.with(|r| (r.running || !r.results.is_empty() || r.problem.is_some()).then(|| r.clone())).map(|r| view! { <BulkReport run=r /> })}
    }
}

fn stopped_because(error: &AppError, handled: usize) -> String {
    format!(
        "Stopped after {handled} rows: {error} The rows reported below are done; \
         invite the rest again from a file without them."
    )
}

#[component]
fn BulkReport(run: Run) -> impl IntoView {
    let handled = run.results.len();
    let count = |f: fn(&BulkOutcome) -> bool| run.results.iter().filter(|r| f(&r.outcome)).count();
    let invited = count(|o| matches!(o, BulkOutcome::Invited { .. }));
    let existing = count(|o| matches!(o, BulkOutcome::AlreadyUser { .. }));
    let invalid = count(|o| matches!(o, BulkOutcome::Invalid { .. }));
    let status = if run.running {
        format!("Invited {handled} of {} rows…", run.total)
    } else {
        format!("Done: {invited} invited, {existing} already users, {invalid} not valid.")
    };
    view! {
        <div class="bulk-report">
            <progress max=run.total.max(1) value=handled aria-label="Rows handled"></progress>
            <p role="status">{status}</p>
            {(!run.running).then(|| view! { <p><a href="/admin/invitations">"See the new invitations in the list"</a></p> })}
            {run.problem.map(|p| view! { <p class="banner error" role="alert">{p}</p> })}
            {(!run.results.is_empty()).then(|| view! {
                <table>
                    <thead><tr><th scope="col">"Line"</th><th scope="col">"Email address"</th><th scope="col">"Result"</th></tr></thead>
                    <tbody>
                        {run.results.into_iter().map(|r| {
                            let (class, text) = match r.outcome {
                                BulkOutcome::Invited { .. } => ("ok", "Invited".to_string()),
                                BulkOutcome::AlreadyUser { .. } => ("muted", "Already a user here; left as it is".to_string()),
                                BulkOutcome::Invalid { reason } => ("field-error", format!("Not valid: {reason}")),
                            };
                            view! { <tr><td>{r.line}</td><td>{r.email}</td><td class=class>{text}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </div>
    }
}
