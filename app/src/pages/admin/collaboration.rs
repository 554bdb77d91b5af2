//! `/admin/external-collaboration`: who may invite guests, what guests may see of the
//! directory, the domains guests may (or may not) come from, and guests' sponsors (the
//! fallback sponsor, and the guests left without one), and how long guests' access lasts.
//! Global administrators change them; user administrators read them.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{
    AllowInvitesFrom, DomainListKind, ExternalCollaboration, GuestAccess, SponsorSettings,
};

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// The settings, and whether the caller may change them.
///
/// **Permissions:** global and user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration")]
pub async fn get_collaboration() -> Result<(ExternalCollaboration, bool), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let settings = domain::collaboration::settings(&portal.store, &principal).await?;
    Ok((
        settings,
        principal.has_role(types::Role::GlobalAdministrator),
    ))
}

/// `allow_invites_from` is Entra's value.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration/invites")]
pub async fn set_allow_invites_from(
    allow_invites_from: String,
) -> Result<ExternalCollaboration, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let saved = domain::collaboration::set_allow_invites_from(
        &portal.store,
        &principal,
        &allow_invites_from,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Saved who may invite guests.", None).await;
    Ok(saved)
}

/// `guest_access` is the level's role id.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration/guest-access")]
pub async fn set_guest_access(guest_access: String) -> Result<ExternalCollaboration, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let saved = domain::collaboration::set_guest_access(
        &portal.store,
        &principal,
        &guest_access,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Saved what guests may see.", None).await;
    Ok(saved)
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration/domains")]
pub async fn set_collaboration_domains(domains: String) -> Result<ExternalCollaboration, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let saved = domain::collaboration::set_domains(
        &portal.store,
        &principal,
        &domains,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Saved the list of domains.", None).await;
    Ok(saved)
}

/// `discard` is a checkbox: present when ticked.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration/switch")]
pub async fn switch_collaboration_list(
    kind: String,
    discard: Option<String>,
) -> Result<ExternalCollaboration, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let saved = domain::collaboration::switch_list_kind(
        &portal.store,
        &principal,
        &kind,
        discard.is_some(),
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Switched the kind of list; it is empty now.", None).await;
    Ok(saved)
}

/// **Permissions:** global and user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration/sponsors")]
pub async fn get_sponsor_settings() -> Result<SponsorSettings, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::sponsors::settings(&portal.store, &principal).await?)
}

/// `fallback`: an address or user id of a member; empty, none.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration/fallback-sponsor")]
pub async fn set_fallback_sponsor(fallback: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::sponsors::set_fallback(&portal.store, &principal, &fallback, crate::server::now())
        .await?;
    crate::server::flash("Saved the fallback sponsor.", None).await;
    Ok(())
}

#[component]
pub fn ExternalCollaborationPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_collaboration());
    view! {
        <Title text="External collaboration · Portico admin" />
        <h1>"External collaboration"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok((current, editable)) => view! {
                        {(!editable).then(|| view! { <p class="banner" role="status">"Only global administrators change these settings; you can read them."</p> })}
                        <WhoMayInvite current=current.allow_invites_from editable />
                        <WhatGuestsSee current=current.guest_access editable />
                        <DomainList current editable />
                        <Sponsors editable />
                        <AccessPeriods editable />
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Sponsors(editable: bool) -> impl IntoView {
    let save = ServerAction::<SetFallbackSponsor>::new();
    let error = action_error(save.value());
    let settings = Resource::new(move || save.version().get(), |_| get_sponsor_settings());
    view! {
        <section class="card" aria-labelledby="sponsors">
            <h2 id="sponsors">"Sponsors"</h2>
            <p>"Every guest has one to five sponsors: members who answer for them, the inviter unless others are named. When a sponsor is disabled or deleted, the fallback sponsor takes their place; it also sponsors guests invited from the command line or by a program that names nobody."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(current) => view! { <SponsorSettingsView current editable save error /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SponsorSettingsView(
    current: SponsorSettings,
    editable: bool,
    save: ServerAction<SetFallbackSponsor>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let now = match (&current.fallback, current.fallback_enabled) {
        (None, _) => {
            "No fallback sponsor is set: a guest whose only sponsor leaves is left without one."
                .to_string()
        }
        (Some(user), true) => format!(
            "The fallback sponsor is {} ({}).",
            user.display_name, user.email
        ),
        (Some(user), false) => format!(
            "The fallback sponsor is {} ({}), who is disabled and so takes nobody's place: choose another.",
            user.display_name, user.email
        ),
    };
    let value = current.fallback.map(|u| u.email).unwrap_or_default();
    let unsponsored = current.unsponsored;
    view! {
        <p>{now}</p>
        {editable.then(|| view! {
            <ActionForm action=save attr:class="grid">
                <FormError error />
                <Field label="Fallback sponsor" name="fallback" kind="email" value hint="The address of a member; empty for none." error />
                <Submit label="Save the fallback sponsor" busy_label="Saving…" pending=save.pending() />
            </ActionForm>
        })}
        <h3>"Guests without a sponsor"</h3>
        {if unsponsored.is_empty() {
            view! { <p class="empty">"None: every guest has a sponsor."</p> }.into_any()
        } else {
            view! {
                <ul>
                    {unsponsored.into_iter().map(|g| view! {
                        <li><a href=format!("/admin/users/{}", g.id)>{g.display_name}</a>" "<span class="muted">{g.email}</span></li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
fn WhoMayInvite(current: AllowInvitesFrom, editable: bool) -> impl IntoView {
    let save = ServerAction::<SetAllowInvitesFrom>::new();
    let error = action_error(save.value());
    view! {
        <section class="card" aria-labelledby="who-invites">
            <h2 id="who-invites">"Who may invite guests"</h2>
            <p>"Who may send invitations from this organization, here, from the access panel's Invite a guest page and through the command line's files (the operator of this Portico may always invite)."</p>
            <ActionForm action=save>
                <FormError error />
                <fieldset disabled=!editable>
                    <legend>"Guest invite restrictions (allowInvitesFrom)"</legend>
                    {AllowInvitesFrom::ALL.into_iter().map(|value| {
                        let id = format!("invites-{}", value.as_str());
                        view! {
                            <div class="field check">
                                <input type="radio" id=id.clone() name="allow_invites_from" value=value.as_str() checked={value == current} />
                                <label for=id>{value.label()}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <p class="hint">"The default lets members, Guest inviters and administrators invite, but not guests: the people who work with partners can bring them in without asking IT, and access does not spread from one guest to the next."</p>
                {editable.then(|| view! { <Submit label="Save who may invite" busy_label="Saving…" pending=save.pending() /> })}
            </ActionForm>
        </section>
    }
}

#[component]
fn WhatGuestsSee(current: GuestAccess, editable: bool) -> impl IntoView {
    let save = ServerAction::<SetGuestAccess>::new();
    let error = action_error(save.value());
    let explain = |level: GuestAccess| match level {
        GuestAccess::SameAsMembers => "Guests see what members see.",
        GuestAccess::Limited => {
            "Guests can look up the people they work with and see who else is in their groups, but cannot list the directory."
        }
        GuestAccess::Restricted => {
            "Guests see their own profile only: not other people, nor who else is in their groups."
        }
    };
    view! {
        <section class="card" aria-labelledby="guest-access">
            <h2 id="guest-access">"What guests may see"</h2>
            <p>"How much of this organization's people and groups guests see wherever Portico shows them. Today that is one place: the Manage page of an app or group a guest owns, which under Restricted does not show who else has access. Nobody can browse the directory in Portico yet, members included."</p>
            <ActionForm action=save>
                <FormError error />
                <fieldset disabled=!editable>
                    <legend>"Guest user access"</legend>
                    {GuestAccess::ALL.into_iter().map(|level| {
                        let id = format!("guest-access-{}", level.role_id());
                        view! {
                            <div class="field check">
                                <input type="radio" id=id.clone() name="guest_access" value=level.role_id() checked={level == current} />
                                <label for=id>{format!("{}: {}", level.label(), explain(level))}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <p class="hint">"Limited is the default: a guest can find the people they work with, while the rest of the directory stays private."</p>
                {editable.then(|| view! { <Submit label="Save what guests see" busy_label="Saving…" pending=save.pending() /> })}
            </ActionForm>
        </section>
    }
}

#[component]
fn DomainList(current: ExternalCollaboration, editable: bool) -> impl IntoView {
    let save = ServerAction::<SetCollaborationDomains>::new();
    let switch = ServerAction::<SwitchCollaborationList>::new();
    let save_error = action_error(save.value());
    let switch_error = action_error(switch.value());
    let kind = current.list_kind;
    let count = current.domains.len();
    let (now_is, other_is) = match kind {
        DomainListKind::Allow => (
            "Guests may come only from the domains on this list; with the list empty, nobody can be invited.",
            "Switch to a deny list (guests from anywhere but the domains listed)",
        ),
        DomainListKind::Deny => (
            "Guests may come from anywhere except the domains on this list; with the list empty (the default), from anywhere.",
            "Switch to an allow list (guests only from the domains listed)",
        ),
    };
    view! {
        <section class="card" aria-labelledby="restrictions">
            <h2 id="restrictions">"Collaboration restrictions"</h2>
            <p>{format!("This is {} list. {now_is}", if kind == DomainListKind::Allow { "an allow" } else { "a deny" })}</p>
            <p>"Every invitation is checked against it, and so is a pending invitation when it is redeemed. Guests who have accepted already are not affected: remove them yourself if they should go."</p>
            <ActionForm action=save>
                <FormError error=save_error />
                <div class="field">
                    <label for="field-domains">"Domains (one a line)"</label>
                    <textarea id="field-domains" name="domains" rows="6" disabled=!editable aria-describedby="field-domains-hint">{crate::components::typed(save_error).and_then(|typed| typed.get("domains")).unwrap_or_else(|| current.domains.join("\n"))}</textarea>
                    <p class="hint" id="field-domains-hint">"An exact domain (partner.example), or *.partner.example for its subdomains only: list both for both. Case does not matter; at most 1,000 domains."</p>
                    {move || save_error.get().and_then(|e| e.field("domains")).map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </div>
                {editable.then(|| view! { <Submit label="Save the list" busy_label="Saving…" pending=save.pending() /> })}
            </ActionForm>
            {editable.then(|| view! {
                <ActionForm action=switch>
                    <FormError error=switch_error />
                    <input type="hidden" name="kind" value=kind.other().as_str() />
                    {(count > 0).then(|| view! {
                        <div class="field check">
                            <input type="checkbox" id="field-discard" name="discard" value="on" />
                            <label for="field-discard">{format!("Discard the {count} domains on the list: on the other kind of list they would mean the opposite.")}</label>
                        </div>
                    })}
                    <Submit label=other_is busy_label="Switching…" pending=switch.pending() class="secondary" />
                </ActionForm>
            })}
        </section>
    }
}

/// **Permissions:** global and user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/collaboration/guest-access-period")]
pub async fn get_guest_access_settings() -> Result<types::GuestAccessSettings, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::guest_access::settings(&portal.store, &principal).await?)
}

/// `access_days`: days, or empty / `never`; `notice_days` and `grace_days`: days.
///
/// **Permissions:** global administrators.
#[leptos::server(
    prefix = "/fn",
    endpoint = "admin/collaboration/guest-access-period/set"
)]
pub async fn set_guest_access_settings(
    access_days: String,
    notice_days: String,
    grace_days: String,
) -> Result<types::GuestAccessSettings, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let saved = domain::guest_access::set_settings(
        &portal.store,
        &principal,
        &access_days,
        &notice_days,
        &grace_days,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Saved how long guests' access lasts.", None).await;
    Ok(saved)
}

#[component]
fn AccessPeriods(editable: bool) -> impl IntoView {
    let save = ServerAction::<SetGuestAccessSettings>::new();
    let error = action_error(save.value());
    let settings = Resource::new(
        move || save.version().get(),
        |_| get_guest_access_settings(),
    );
    view! {
        <section class="card" aria-labelledby="access-period">
            <h2 id="access-period">"How long guests' access lasts"</h2>
            <p>"A guest's access ends this many days after they accept, unless one of their sponsors renews it (an inviter may choose another period for one invitation). Sponsors and the guest are told by mail before the end; at the end the guest is disabled, and deleted after the grace period unless a sponsor or an administrator restores them. Guests who accepted before a period was set keep access that does not end."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(current) => view! {
                            <ActionForm action=save attr:class="grid">
                                <FormError error />
                                <fieldset disabled=!editable>
                                    <legend>"Guest access"</legend>
                                    <Field label="Guest access ends after (days)" name="access_days" value=current.access_days.map(|d| d.to_string()).unwrap_or_else(|| "never".into()) hint="For example 180; never, or empty, for access that does not end." error />
                                    <Field label="Tell sponsors this many days before the end" name="notice_days" kind="number" value=current.notice_days.to_string() required=true error />
                                    <Field label="Delete this many days after the end" name="grace_days" kind="number" value=current.grace_days.to_string() required=true hint="Until then the guest is disabled and can be restored; 0 deletes at the next sweep." error />
                                </fieldset>
                                {editable.then(|| view! { <Submit label="Save guest access" busy_label="Saving…" pending=save.pending() /> })}
                            </ActionForm>
                        }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
