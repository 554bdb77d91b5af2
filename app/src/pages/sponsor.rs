//! `/sponsor/{id}`: a guest's access, for one of their sponsors (or a user administrator),
//! where the notice before the end links: renew it, let it end, or, once it ended and
//! before the deletion, restore the guest. The link is no secret: the page asks its visitor
//! to sign in, and the domain decides who may act. Plain forms: it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use types::{Sponsored, format::datetime};

use crate::components::{FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** the guest's sponsors, and global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "sponsor/guest")]
pub async fn get_sponsored(id: String) -> Result<Sponsored, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::guest_access::sponsored(&portal.store, &principal, &id).await?)
}

/// Renews the guest's access before it ends.
///
/// **Permissions:** the guest's sponsors, and global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "sponsor/renew")]
pub async fn renew_access(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let access =
        domain::guest_access::renew(&portal.store, &principal, &id, crate::server::now()).await?;
    let done = match access.ends_at {
        Some(at) => format!("Renewed: access now ends on {}.", datetime(at)),
        None => "Renewed: access no longer ends.".to_string(),
    };
    crate::server::flash(done, None).await;
    Ok(())
}

/// Says that the guest's access may end as scheduled.
///
/// **Permissions:** the guest's sponsors, and global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "sponsor/let-end")]
pub async fn let_access_end(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::guest_access::let_end(&portal.store, &principal, &id, crate::server::now()).await?;
    crate::server::flash(
        "Noted: the access ends as scheduled. You can still renew it until then.",
        None,
    )
    .await;
    Ok(())
}

/// Restores a guest whose access ended, before the deletion.
///
/// **Permissions:** the guest's sponsors, and global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "sponsor/restore")]
pub async fn restore_access(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let access =
        domain::guest_access::restore(&portal.store, &principal, &id, crate::server::now()).await?;
    let done = match access.ends_at {
        Some(at) => format!(
            "Restored: the guest can sign in again until {}.",
            datetime(at)
        ),
        None => "Restored: the guest can sign in again.".to_string(),
    };
    crate::server::flash(done, None).await;
    Ok(())
}

#[derive(Clone, Copy)]
struct Actions {
    renew: ServerAction<RenewAccess>,
    let_end: ServerAction<LetAccessEnd>,
    restore: ServerAction<RestoreAccess>,
}

#[component]
pub fn SponsorGuest() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions {
        renew: ServerAction::new(),
        let_end: ServerAction::new(),
        restore: ServerAction::new(),
    };
    let sponsored = Resource::new(
        move || {
            (
                id(),
                actions.renew.version().get(),
                actions.let_end.version().get(),
                actions.restore.version().get(),
            )
        },
        |(id, _, _, _)| get_sponsored(id),
    );
    view! {
        <Title text="Guest access · Portico" />
        <p><a href="/">"← My apps"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sponsored.await {
                    Ok(sponsored) => view! { <SponsoredView sponsored actions /> }.into_any(),
                    // Back here once signed in: the mail's link is where the sponsor started.
                    Err(AppError::NotAuthenticated) => view! {
                        <Redirect path=format!("/signin?next=/sponsor/{}", id()) />
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SponsoredView(sponsored: Sponsored, actions: Actions) -> impl IntoView {
    let Sponsored {
        guest,
        access,
        renewal_days,
    } = sponsored;
    let id = StoredValue::new(guest.id.clone());
    let period = match renewal_days {
        Some(days) => format!("{days} days"),
        None => "good (it will no longer end)".to_string(),
    };
    let state = match (access.delete_after, access.ends_at) {
        (Some(delete_after), _) => format!(
            "Access ended on {} ({}). {} is disabled and will be deleted on {} unless restored.",
            access.ended_at.map(datetime).unwrap_or_default(),
            access.end_reason.clone().unwrap_or_default(),
            guest.display_name,
            datetime(delete_after)
        ),
        (None, Some(ends_at)) => format!("Access ends on {}.", datetime(ends_at)),
        (None, None) => "Access does not end.".to_string(),
    };
    let ended = access.delete_after.is_some();
    let ending = !ended && access.ends_at.is_some();
    view! {
        <h1>{format!("Guest access of {}", guest.display_name)}</h1>
        <p class="muted">{format!("{} · guest · you answer for them as a sponsor", guest.email)}</p>
        <section class="card" aria-labelledby="access-state">
            <h2 id="access-state">"Access"</h2>
            <p id="access-summary">{state}</p>
            <FormError error=action_error(actions.renew.value()) />
            <FormError error=action_error(actions.let_end.value()) />
            <FormError error=action_error(actions.restore.value()) />
            {ending.then(|| view! {
                <p>{format!("Renewing extends the access by {period}. If they no longer need it, let it end: nothing more is needed.")}</p>
                <div class="actions">
                    <ActionForm action=actions.renew>
                        <input type="hidden" name="id" value=id.get_value() />
                        <Submit label="Renew access" busy_label="Renewing…" pending=actions.renew.pending() />
                    </ActionForm>
                    <ActionForm action=actions.let_end>
                        <input type="hidden" name="id" value=id.get_value() />
                        <Submit label="Let it end" busy_label="Saving…" pending=actions.let_end.pending() class="secondary" />
                    </ActionForm>
                </div>
            })}
            {ended.then(|| view! {
                <p>{format!("Restoring enables them again, with access for {period} from now.")}</p>
                <ActionForm action=actions.restore>
                    <input type="hidden" name="id" value=id.get_value() />
                    <Submit label="Restore access" busy_label="Restoring…" pending=actions.restore.pending() />
                </ActionForm>
            })}
        </section>
    }
}
