//! Who is acting, in which tenant, and what they may do there.

use crate::{Error, Result};
use types::Role;

/// The acting party of an operation: a signed-in user, or the operator at the command line.
/// Every operation is scoped to `tenant_id`; nothing else is trusted from the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: String,
    /// `None` for the operator at the command line.
    pub user_id: Option<String>,
    pub name: String,
    pub roles: Vec<Role>,
    /// The address the request came from, for the audit trail.
    pub ip: Option<String>,
}

/// What an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    ManageUsers,
    ManageGroups,
    ManageApps,
    ManageRoles,
    ReadAudit,
    InviteGuests,
    ManageIdentityProviders,
}

impl Principal {
    /// The operator running `portico` commands on the server itself: a global
    /// administrator of the tenant named on the command line.
    pub fn operator(tenant_id: impl Into<String>) -> Principal {
        Principal {
            tenant_id: tenant_id.into(),
            user_id: None,
            name: "Command line".into(),
            roles: vec![Role::GlobalAdministrator],
            ip: None,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn may(&self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        self.roles.iter().any(|role| {
            matches!(
                (role, permission),
                (GlobalAdministrator, _)
                    | (UserAdministrator, ManageUsers | ManageGroups | ReadAudit)
            )
        })
    }

    pub(crate) fn require(&self, permission: Permission) -> Result<()> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(Error::AccessDenied)
        }
    }

    /// The operator at the command line (or first-run setup) only, not a signed-in user,
    /// whatever their roles: for what no organization decides for itself.
    pub(crate) fn require_operator(&self) -> Result<()> {
        if self.user_id.is_none() {
            Ok(())
        } else {
            Err(Error::AccessDenied)
        }
    }

    /// Whether this principal is the user with this id.
    pub fn is_user(&self, user_id: &str) -> bool {
        self.user_id.as_deref() == Some(user_id)
    }
}
