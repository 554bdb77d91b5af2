//! `/admin/security/cross-tenant-access`: inbound settings for partners (other
//! organizations on this Portico, partners' identity providers) and the default for every
//! other one: whether their multi-factor sign-ins count here, and whether their people may
//! collaborate here. Global administrators only.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{PartnerAccess, PartnerAccessList};

use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/partners")]
pub async fn list_partners() -> Result<PartnerAccessList, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::partners::list(&portal.store, &principal).await?)
}

/// `partner`: empty for the default, a domain of an organization here, or a provider's
/// issuer; the checkboxes are present when ticked; `mfa_acr`: for a provider, the `acr`
/// values meaning multi-factor (absent or empty: none).
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/partners/set")]
pub async fn set_partner(
    partner: String,
    trust_mfa: Option<String>,
    inbound_blocked: Option<String>,
    mfa_acr: Option<String>,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::partners::set(
        &portal.store,
        &principal,
        &partner,
        domain::partners::Settings {
            trust_mfa: trust_mfa.is_some(),
            inbound_blocked: inbound_blocked.is_some(),
        },
        mfa_acr.as_deref().unwrap_or_default(),
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Saved the cross-tenant access settings.", None).await;
    Ok(())
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/partners/remove")]
pub async fn remove_partner(key: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::partners::remove(&portal.store, &principal, &key, crate::server::now()).await?;
    crate::server::flash(
        "Removed the partner's own settings: the default holds for it.",
        None,
    )
    .await;
    Ok(())
}

fn says(setting: &PartnerAccess) -> (String, &'static str) {
    let trust = if setting.trust_mfa {
        "Trusted"
    } else {
        "Not trusted"
    };
    (
        if setting.mfa_acr.is_empty() {
            trust.to_string()
        } else {
            format!("{trust} (acr meaning multi-factor: {})", setting.mfa_acr)
        },
        if setting.inbound_blocked {
            "Blocked"
        } else {
            "Allowed"
        },
    )
}

#[component]
pub fn CrossTenantAccess() -> impl IntoView {
    let set = ServerAction::<SetPartner>::new();
    let remove = ServerAction::<RemovePartner>::new();
    let error = action_error(set.value());
    let remove_error = action_error(remove.value());
    let list = Resource::new(
        move || (set.version().get(), remove.version().get()),
        |_| list_partners(),
    );
    view! {
        <Title text="Cross-tenant access · Portico admin" />
        <h1>"Cross-tenant access"</h1>
        <p>"Inbound settings for partners: other organizations on this Portico, and partners' identity providers registered under External identities. A partner's own settings replace the default for it."</p>
        <p>"Trusting a partner's multi-factor authentication means a guest whose sign-in at home already used two factors (a passkey at their organization here, or their provider's word in its ID token: its amr, or an acr value named here) is not asked for a second factor again by this organization's policies. Without trust, they use a second factor registered here. A second factor verified at Portico's step-up always counts."</p>
        <p>"Blocking collaboration keeps the partner's people out: they cannot sign in to this organization's apps or be invited (their refresh tokens stop working too)."</p>
        <FormError error=remove_error />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(PartnerAccessList { default, partners }) => {
                        let (trust, inbound) = says(&default);
                        view! {
                            <table>
                                <thead><tr><th scope="col">"Partner"</th><th scope="col">"Multi-factor sign-ins"</th><th scope="col">"Collaboration"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    <tr><td><strong>{default.partner.clone()}</strong>" (default)"</td><td>{trust}</td><td>{inbound}</td><td></td></tr>
                                    {partners.into_iter().map(|p| {
                                        let (trust, inbound) = says(&p);
                                        let about = p.partner.clone();
                                        let key = p.key.clone();
                                        view! {
                                            <tr>
                                                <td>{p.partner}</td>
                                                <td>{trust}</td>
                                                <td>{inbound}</td>
                                                <td>
                                                    <Confirm ask="Remove" about consequence="The default settings will hold for this partner.">
                                                        <ActionForm action=remove>
                                                            <input type="hidden" name="key" value=key />
                                                            <Submit label="Remove its settings" busy_label="Removing…" pending=remove.pending() class="danger" />
                                                        </ActionForm>
                                                    </Confirm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="set-partner">
            <h2 id="set-partner">"Set a partner's settings, or the default"</h2>
            <ActionForm action=set attr:class="grid">
                <FormError error />
                <Field label="Partner" name="partner" hint="The domain of another organization on this Portico (fabrikam.example), or the issuer of a partner's identity provider (https://…); empty for the default." error />
                <div class="field check">
                    <input type="checkbox" id="field-trust_mfa" name="trust_mfa" value="on" />
                    <label for="field-trust_mfa">"Trust multi-factor authentication from this partner"</label>
                </div>
                <div class="field check">
                    <input type="checkbox" id="field-inbound_blocked" name="inbound_blocked" value="on" />
                    <label for="field-inbound_blocked">"Block collaboration: keep all of its people out"</label>
                </div>
                <Field label="acr values meaning multi-factor (a provider only)" name="mfa_acr" hint="Separated by spaces, as the provider writes them in its ID tokens' acr claim, e.g. http://schemas.openid.net/pape/policies/2007/06/multi-factor. Such a sign-in counts as multi-factor where the partner is trusted, as an amr of mfa does." error />
                <Submit label="Save" busy_label="Saving…" pending=set.pending() />
            </ActionForm>
        </section>
    }
}
