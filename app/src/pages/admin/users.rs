//! The list of users, with search, type filter, paging, and creating a member.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use types::{Page, UserSummary};

use super::reviews::{INACTIVE_REVIEW_DAYS, ReviewInactiveGuests};
use super::{Pager, encode};
use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;
use types::format::datetime;

#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 25;

/// **Permissions:** global or user administrators (checked in the domain).
/// `inactive`: a number of days without a sign-in, or empty for everyone.
#[leptos::server(prefix = "/fn", endpoint = "admin/users")]
pub async fn list_users(
    search: String,
    user_type: String,
    #[server(default)] inactive: String,
    page: u32,
) -> Result<Page<UserSummary>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let query = domain::users::UserQuery {
        search,
        // The type filter also offers guests by the state of their invitation.
        user_type: match user_type.as_str() {
            "GuestPending" | "GuestAccepted" => Some(types::UserType::Guest),
            other => types::UserType::parse(other),
        },
        external_state: match user_type.as_str() {
            "GuestPending" => Some(types::ExternalState::PendingAcceptance),
            "GuestAccepted" => Some(types::ExternalState::Accepted),
            _ => None,
        },
        inactive_days: match inactive.trim() {
            "" => None,
            days => Some(days.parse().map_err(|_| {
                AppError::Refused("Choose how many days without a sign-in.".into())
            })?),
        },
        page,
        page_size: PAGE_SIZE,
    };
    Ok(domain::users::list(&portal.store, &principal, &query, crate::server::now()).await?)
}

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/users/create")]
pub async fn create_member(
    email: String,
    display_name: String,
    password: String,
) -> Result<UserSummary, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let input = domain::users::NewMember {
        email: &email,
        display_name: &display_name,
        password: &password,
    };
    let created =
        domain::users::create_member(&portal.store, &principal, input, crate::server::now())
            .await?;
    crate::server::flash(format!("Created {}.", created.display_name), None).await;
    Ok(created)
}

#[component]
pub fn Users() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let kind = move || query.read().get("type").unwrap_or_default();
    let inactive = move || query.read().get("inactive").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0u32)
    };
    let create = ServerAction::<CreateMember>::new();
    let users = Resource::new(
        move || (search(), kind(), inactive(), page()),
        |(search, kind, inactive, page)| list_users(search, kind, inactive, page),
    );
    view! {
        <Title text="Users · Portico admin" />
        <h1>"Users"</h1>
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            <div class="field">
                <label for="q">"Search"</label>
                <input id="q" type="search" name="q" value=search placeholder="Name or email starts with…" />
            </div>
            <div class="field">
                <label for="type">"Type"</label>
                <select id="type" name="type">
                    <option value="" selected=move || kind().is_empty()>"All"</option>
                    <option value="Member" selected=move || kind() == "Member">"Members"</option>
                    <option value="Guest" selected=move || kind() == "Guest">"Guests"</option>
                    <option value="GuestPending" selected=move || kind() == "GuestPending">"Guests pending acceptance"</option>
                    <option value="GuestAccepted" selected=move || kind() == "GuestAccepted">"Guests who accepted"</option>
                </select>
            </div>
            <div class="field">
                <label for="inactive">"Last sign-in"</label>
                <select id="inactive" name="inactive">
                    <option value="" selected=move || inactive().is_empty()>"Any time"</option>
                    {[30, 60, 90, 180, 365].into_iter().map(|days| {
                        let value = days.to_string();
                        let chosen = value.clone();
                        view! { <option value=value selected=move || inactive() == chosen>{format!("None for {days} days")}</option> }
                    }).collect_view()}
                </select>
            </div>
            <button type="submit">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => {
                        let base = format!(
                            "/admin/users?q={}&type={}&inactive={}&",
                            encode(&search()),
                            encode(&kind()),
                            encode(&inactive())
                        );
                        view! { <UserTable list base /> }.into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            let days = inactive();
            (!days.is_empty()).then(|| view! { <ReviewInactive days /> })
        }}
        <CreateMemberForm create />
    }
}

/// Beside the "no sign-in for N days" filter: a review of those guests by their sponsors,
/// after a confirmation.
#[component]
fn ReviewInactive(days: String) -> impl IntoView {
    let start = ServerAction::<ReviewInactiveGuests>::new();
    let error = action_error(start.value());
    let explained = format!(
        "Each guest with no sign-in for {days} days is reviewed by their sponsors for {INACTIVE_REVIEW_DAYS} days; \
         sponsors are told by mail. A guest a sponsor denies cannot sign in from the end of the review and is \
         deleted after the grace period set under External collaboration (30 days unless changed), unless restored meanwhile; a guest nobody decides about keeps their access. Members are not reviewed."
    );
    let label = format!("Start a review of guests with no sign-in for {days} days");
    view! {
        <section class="card" aria-labelledby="review-inactive">
            <h2 id="review-inactive">"Review inactive guests"</h2>
            <FormError error />
            <details class="confirm">
                <summary>{format!("Review the guests with no sign-in for {days} days…")}</summary>
                <p>{explained}</p>
                <ActionForm action=start>
                    <input type="hidden" name="inactive" value=days />
                    <button type="submit" class="danger">{label}</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn UserTable(list: Page<UserSummary>, base: String) -> impl IntoView {
    let pages = list.page_count();
    let (page, total) = (list.page, list.total);
    view! {
        <table>
            <thead>
                <tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Type"</th><th scope="col">"Status"</th><th scope="col">"Created"</th><th scope="col">"Last sign-in"</th></tr>
            </thead>
            <tbody>
                {list.items.into_iter().map(|user| view! {
                    <tr>
                        <td><a href=format!("/admin/users/{}", user.id)>{user.display_name}</a></td>
                        <td>{user.email}</td>
                        <td>{match user.external_state {
                            Some(state) => format!("Guest · {}", state.label()),
                            None => user.user_type.as_str().to_string(),
                        }}</td>
                        <td>{if user.enabled { "Enabled" } else { "Disabled" }}</td>
                        <td>{datetime(user.created_at)}</td>
                        <td>{user.last_sign_in_at.map_or_else(|| "Never".to_string(), datetime)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <Pager page pages total base />
    }
}

#[component]
fn CreateMemberForm(create: ServerAction<CreateMember>) -> impl IntoView {
    let error = action_error(create.value());
    view! {
        <section class="card" aria-labelledby="create-member">
            <h2 id="create-member">"Create member"</h2>
            <ActionForm action=create attr:class="grid">
                <FormError error />
                <Field label="Display name" name="display_name" required=true error />
                <Field label="Email address" name="email" kind="email" required=true error />
                <Field label="Password" name="password" kind="password" required=true autocomplete="new-password" hint="At least 8 characters; not a common password." error />
                <Submit label="Create member" busy_label="Creating…" pending=create.pending() />
            </ActionForm>
        </section>
    }
}
