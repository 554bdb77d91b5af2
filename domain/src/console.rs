//! Which pages of the admin console a person's roles open. A page needs the permission
//! of the domain functions it loads its data from; the console shows a page, and links
//! to it, only to those who have it. Every server function still checks on its own.

use types::{ConsoleAccess, ConsoleDenial, ConsolePage};

use crate::sessions::SignedIn;
use crate::{Permission, Principal, Result, Store};

/// What the page is for (completing "You need … to") and the permission it needs.
pub fn needs(page: ConsolePage) -> (&'static str, Permission) {
    use Permission::*;
    match page {
        // users::list, get
        ConsolePage::Users => ("manage users", ManageUsers),
        // groups::list, get
        ConsolePage::Groups => ("manage groups", ReadGroups),
        // apps::list, get
        ConsolePage::Apps => ("manage apps", ManageApps),
        // oidc::clients::sign_ins
        ConsolePage::SignIns => ("see sign-ins to apps", ManageApps),
        // federation::list
        ConsolePage::ExternalIdentities => ("manage identity providers", ManageIdentityProviders),
        // invitations::list
        ConsolePage::Invitations => ("manage invitations", ManageInvitations),
        // collaboration::settings
        ConsolePage::ExternalCollaboration => ("see who may collaborate with guests", ManageUsers),
        // reviews::list, results
        ConsolePage::Reviews => ("manage access reviews", ManageUsers),
        // outbox::list
        ConsolePage::Outbox => ("see the mail Portico sends", ManageInvitations),
        // audit::list
        ConsolePage::Audit => ("read the audit log", ReadAudit),
        // conditional_access::list, get, what_if
        ConsolePage::ConditionalAccess => ("manage conditional access", ManagePolicies),
        // terms::list, detail
        ConsolePage::TermsOfUse => ("manage terms of use", ManagePolicies),
        // partners::list
        ConsolePage::CrossTenantAccess => ("manage cross-tenant access", ManagePolicies),
        // tenants::settings
        ConsolePage::Settings => ("see the organization's settings", ManageInvitations),
    }
}

/// The console pages `principal` may open, in the navigation's order.
pub fn pages(principal: &Principal) -> Vec<ConsolePage> {
    ConsolePage::ALL
        .into_iter()
        .filter(|page| principal.may(needs(*page).1))
        .collect()
}

/// Whether the person signed in may open the console page at `path`: the pages they may
/// open, or the role it needs and whom to ask for it.
///
/// **Permissions:** anyone signed in (it says only what they may open).
pub async fn access(store: &Store, signed_in: &SignedIn, path: &str) -> Result<ConsoleAccess> {
    let principal = &signed_in.principal;
    let (task, permission) = needs(ConsolePage::at(path));
    if principal.may(permission) {
        return Ok(ConsoleAccess::Open {
            pages: pages(principal),
        });
    }
    Ok(ConsoleAccess::Denied(ConsoleDenial {
        task: task.to_string(),
        roles: permission.granted_by_roles(),
        organization: signed_in.me.tenant_name.clone(),
        ask: crate::users::role_givers(store, principal).await?,
    }))
}

#[cfg(test)]
mod tests {
    use types::{ConsolePage, Role};

    use super::pages;
    use crate::Principal;

    fn with(roles: &[Role]) -> Principal {
        Principal::user("tenant", "user", "Ada", roles.to_vec(), false, None)
    }

    #[test]
    fn each_address_is_its_page_and_the_console_root_is_users() {
        for page in ConsolePage::ALL {
            assert_eq!(ConsolePage::at(page.href()), page);
            assert_eq!(ConsolePage::at(&format!("{}/42", page.href())), page);
        }
        assert_eq!(ConsolePage::at("/admin"), ConsolePage::Users);
        assert_eq!(ConsolePage::at("/admin/"), ConsolePage::Users);
        // A prefix of a page's name is not that page.
        assert_eq!(ConsolePage::at("/admin/apps-and-more"), ConsolePage::Users);
    }

    #[test]
    fn the_navigation_lists_the_pages_the_roles_open() {
        use ConsolePage::*;
        assert_eq!(pages(&with(&[Role::GlobalAdministrator])), ConsolePage::ALL);
        assert_eq!(
            pages(&with(&[Role::UserAdministrator])),
            [
                Users,
                Groups,
                Invitations,
                ExternalCollaboration,
                Reviews,
                Outbox,
                Audit,
                Settings
            ]
        );
        assert_eq!(pages(&with(&[])), []);
    }
}
