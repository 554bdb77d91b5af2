//! Who is acting, in which tenant, and what they may do there.

use crate::{Error, Result};
use types::{ActorKind, AppPermission, Role};

/// Who acts. Every change names one, and the audit trail records which kind it was: a
/// program is never taken for the operator, nor Portico's own rules for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in to the tenant, with the roles they hold there.
    User {
        user_id: String,
        name: String,
        roles: Vec<Role>,
        /// Whether they are a guest of the tenant (not a member).
        guest: bool,
        /// The app they act through, with the delegated scopes of its token; `None` in the
        /// console. Through an app they may only what both allow.
        via: Option<Delegation>,
    },
    /// Whoever runs `portico` commands on the server itself, or first-run setup: acts as a
    /// global administrator, and alone may do what no organization decides for itself.
    Operator { name: String },
    /// A program signed in with its own client credentials, with the application
    /// permissions an administrator granted it, and no others.
    App {
        app_id: String,
        name: String,
        permissions: Vec<AppPermission>,
    },
    /// Portico itself, applying a rule that nobody asked for at that moment (expiry,
    /// clean-up).
    Portico,
}

/// An app a signed-in person acts through (a delegated token of the Graph-compatible API):
/// it may do only what its scopes allow, and only what the person may do themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    pub app_id: String,
    pub app_name: String,
    /// The token's scopes that the app is still allowed to ask for.
    pub scopes: Vec<AppPermission>,
}

impl Delegation {
    /// Whether the scopes allow what an operation needs (the same names, with the same
    /// reach, as the application permissions).
    pub fn allows(&self, permission: Permission) -> bool {
        self.scopes.iter().any(|s| app_allows(*s, permission))
    }
}

/// Whether an application permission allows what an operation needs.
fn app_allows(granted: AppPermission, permission: Permission) -> bool {
    use AppPermission::*;
    use Permission::*;
    matches!(
        (granted, permission),
        (UserInviteAll | UserReadWriteAll, ManageInvitations)
            | (UserReadAll | UserReadWriteAll, ReadUsers)
            | (UserReadWriteAll, ManageUsers)
            | (GroupReadAll | GroupMemberReadWriteAll, ReadGroups)
            | (GroupMemberReadWriteAll, ManageGroups)
            | (ApplicationReadAll, ReadApps)
            | (AppRoleAssignmentReadWriteAll, ManageApps)
            | (AuditLogReadAll, ReadAudit)
    )
}

/// Whether a role held in a tenant allows what an operation needs there.
fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    use Role::*;
    matches!(
        (role, permission),
        (GlobalAdministrator, _)
            | (
                UserAdministrator,
                ReadUsers | ManageUsers | ReadGroups | ManageGroups | ReadAudit | ManageInvitations
            )
    )
}

impl Permission {
    /// The roles that allow this, the narrowest first: what a person is told to ask for
    /// when a page needs it.
    pub fn granted_by_roles(self) -> Vec<Role> {
        let mut roles: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| role_allows(*role, self))
            .collect();
        // Global administrator allows everything: it comes last.
        roles.sort_by_key(|role| *role == Role::GlobalAdministrator);
        roles
    }

    /// The application permissions that allow this, for describing the API.
    pub fn granted_by(self) -> Vec<AppPermission> {
        AppPermission::ALL
            .into_iter()
            .filter(|granted| app_allows(*granted, self))
            .collect()
    }
}

/// The acting party of an operation, the tenant it acts in, and the address its request
/// came from. Every operation is scoped to `tenant_id`; nothing else is trusted from the
/// caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: String,
    pub actor: Actor,
    /// The address the request came from, for the audit trail.
    pub ip: Option<String>,
}

/// What an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// See every user of the tenant.
    ReadUsers,
    ManageUsers,
    /// See every group of the tenant and its members.
    ReadGroups,
    ManageGroups,
    /// See every app of the tenant and who it is assigned to.
    ReadApps,
    ManageApps,
    ManageRoles,
    ReadAudit,
    /// See, revoke and resend the tenant's invitations and their mail, and reset a guest's
    /// redemption. Who may *send* an invitation is a tenant setting: see
    /// [`crate::invitations::may_invite`].
    ManageInvitations,
    ManageIdentityProviders,
    /// See and change conditional-access policies, and ask What If.
    ManagePolicies,
}

impl Principal {
    /// The operator running `portico` commands on the server itself.
    pub fn operator(tenant_id: impl Into<String>) -> Principal {
        Principal::operator_named(tenant_id, "Command line", None)
    }

    /// The operator under another name (first-run setup), from an address.
    pub fn operator_named(
        tenant_id: impl Into<String>,
        name: impl Into<String>,
        ip: Option<&str>,
    ) -> Principal {
        Principal {
            tenant_id: tenant_id.into(),
            actor: Actor::Operator { name: name.into() },
            ip: ip.map(String::from),
        }
    }

    /// A signed-in person of the tenant.
    pub fn user(
        tenant_id: impl Into<String>,
        user_id: impl Into<String>,
        name: impl Into<String>,
        roles: Vec<Role>,
        guest: bool,
        ip: Option<&str>,
    ) -> Principal {
        Principal {
            tenant_id: tenant_id.into(),
            actor: Actor::User {
                user_id: user_id.into(),
                name: name.into(),
                roles,
                guest,
                via: None,
            },
            ip: ip.map(String::from),
        }
    }

    /// Portico itself, applying a rule in the tenant.
    pub fn portico(tenant_id: impl Into<String>) -> Principal {
        Principal {
            tenant_id: tenant_id.into(),
            actor: Actor::Portico,
            ip: None,
        }
    }

    pub fn kind(&self) -> ActorKind {
        match self.actor {
            Actor::User { .. } => ActorKind::User,
            Actor::Operator { .. } => ActorKind::Operator,
            Actor::App { .. } => ActorKind::App,
            Actor::Portico => ActorKind::Portico,
        }
    }

    /// The id the audit trail names the actor by: the user's or the app's.
    pub fn actor_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { user_id, .. } => Some(user_id),
            Actor::App { app_id, .. } => Some(app_id),
            Actor::Operator { .. } | Actor::Portico => None,
        }
    }

    /// The signed-in person's id; `None` for any other actor.
    pub fn user_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        match &self.actor {
            Actor::User { name, .. } | Actor::Operator { name } | Actor::App { name, .. } => name,
            Actor::Portico => "Portico",
        }
    }

    /// The roles a signed-in person holds; none for other actors.
    pub fn roles(&self) -> &[Role] {
        match &self.actor {
            Actor::User { roles, .. } => roles,
            _ => &[],
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// The app a person acts through, if they do (a delegated token).
    pub fn via(&self) -> Option<&Delegation> {
        match &self.actor {
            Actor::User { via, .. } => via.as_ref(),
            _ => None,
        }
    }

    /// The same person acting through `app` with its token's scopes.
    pub fn through(mut self, app: Delegation) -> Principal {
        if let Actor::User { via, .. } = &mut self.actor {
            *via = Some(app);
        }
        self
    }

    /// Whether the app a person acts through (if any) is allowed what an operation needs;
    /// true in the console.
    pub fn delegation_allows(&self, permission: Permission) -> bool {
        self.via().is_none_or(|app| app.allows(permission))
    }

    /// The actor's name as the audit trail records it: a person acting through an app is
    /// named with the app.
    pub fn audit_name(&self) -> String {
        match self.via() {
            Some(app) => format!("{} (via {})", self.name(), app.app_name),
            None => self.name().to_string(),
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        if !self.delegation_allows(permission) {
            return false;
        }
        match &self.actor {
            Actor::User { roles, .. } => roles.iter().any(|role| role_allows(*role, permission)),
            Actor::Operator { .. } => true,
            Actor::App { permissions, .. } => {
                permissions.iter().any(|p| app_allows(*p, permission))
            }
            // Portico's rules change what they change without asking anyone's leave, and
            // are never an answer to a request.
            Actor::Portico => false,
        }
    }

    pub(crate) fn require(&self, permission: Permission) -> Result<()> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(Error::AccessDenied)
        }
    }

    /// The operator at the command line (or first-run setup) only, not a signed-in user
    /// whatever their roles, nor a program whatever it was granted: for what no
    /// organization decides for itself.
    pub(crate) fn require_operator(&self) -> Result<()> {
        if matches!(self.actor, Actor::Operator { .. }) {
            Ok(())
        } else {
            Err(Error::AccessDenied)
        }
    }

    /// Whether this principal is the user with this id.
    pub fn is_user(&self, user_id: &str) -> bool {
        self.user_id() == Some(user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(permissions: Vec<AppPermission>) -> Principal {
        Principal {
            tenant_id: "t".into(),
            actor: Actor::App {
                app_id: "a".into(),
                name: "HR sync".into(),
                permissions,
            },
            ip: None,
        }
    }

    #[test]
    fn an_app_is_never_the_operator_whatever_it_holds() {
        let app = app(AppPermission::ALL.to_vec());
        assert!(matches!(app.require_operator(), Err(Error::AccessDenied)));
        assert_eq!(app.kind(), ActorKind::App);
        assert_eq!(app.actor_id(), Some("a"));
        assert_eq!(app.user_id(), None);
        assert!(!app.may(Permission::ManageRoles));
        assert!(!app.may(Permission::ManageIdentityProviders));
        assert!(Principal::operator("t").require_operator().is_ok());
    }

    #[test]
    fn a_permission_names_the_roles_that_allow_it_narrowest_first() {
        use Role::*;
        assert_eq!(
            Permission::ManageUsers.granted_by_roles(),
            vec![UserAdministrator, GlobalAdministrator]
        );
        assert_eq!(
            Permission::ManageApps.granted_by_roles(),
            vec![GlobalAdministrator]
        );
        // Each role named is one that lets a person in, and no other role does.
        for permission in [Permission::ReadAudit, Permission::ManageIdentityProviders] {
            for role in Role::ALL {
                let person = Principal::user("t", "u", "U", vec![role], false, None);
                assert_eq!(
                    person.may(permission),
                    permission.granted_by_roles().contains(&role),
                    "{role:?} and {permission:?}"
                );
            }
        }
    }

    #[test]
    fn an_app_may_only_what_it_was_granted() {
        let inviter = app(vec![AppPermission::UserInviteAll]);
        assert!(inviter.may(Permission::ManageInvitations));
        assert!(!inviter.may(Permission::ManageUsers));
        assert!(!app(vec![]).may(Permission::ManageInvitations));
        assert!(app(vec![AppPermission::AuditLogReadAll]).may(Permission::ReadAudit));
        let reader = app(vec![AppPermission::GroupReadAll]);
        assert!(reader.may(Permission::ReadGroups) && !reader.may(Permission::ManageGroups));
        let writer = app(vec![AppPermission::GroupMemberReadWriteAll]);
        assert!(writer.may(Permission::ReadGroups) && writer.may(Permission::ManageGroups));
        let apps = app(vec![AppPermission::ApplicationReadAll]);
        assert!(apps.may(Permission::ReadApps) && !apps.may(Permission::ManageApps));
        let assigner = app(vec![AppPermission::AppRoleAssignmentReadWriteAll]);
        assert!(assigner.may(Permission::ManageApps) && !assigner.may(Permission::ReadApps));
    }

    #[test]
    fn people_may_what_their_roles_allow_and_portico_answers_no_request() {
        let admin = Principal::user("t", "u", "Ada", vec![Role::UserAdministrator], false, None);
        assert!(admin.may(Permission::ManageUsers));
        assert!(!admin.may(Permission::ManageApps));
        assert!(matches!(admin.require_operator(), Err(Error::AccessDenied)));
        assert!(!Principal::portico("t").may(Permission::ReadAudit));
        assert_eq!(Principal::portico("t").kind(), ActorKind::Portico);
    }

    #[test]
    fn a_person_through_an_app_may_only_what_both_their_roles_and_its_scopes_allow() {
        let through = |roles: Vec<Role>, scopes: Vec<AppPermission>| {
            Principal::user("t", "u", "Uma", roles, false, None).through(Delegation {
                app_id: "a".into(),
                app_name: "Portal".into(),
                scopes,
            })
        };
        let admin_reading = through(
            vec![Role::UserAdministrator],
            vec![AppPermission::UserReadAll],
        );
        assert!(admin_reading.may(Permission::ReadUsers));
        assert!(
            !admin_reading.may(Permission::ManageUsers),
            "no scope for it"
        );
        let member_reading = through(vec![], vec![AppPermission::UserReadWriteAll]);
        assert!(!member_reading.may(Permission::ReadUsers), "no role for it");
        // A global administrator's token is still only as wide as its scopes.
        let global = through(
            vec![Role::GlobalAdministrator],
            vec![AppPermission::UserInviteAll],
        );
        assert!(global.may(Permission::ManageInvitations));
        assert!(!global.may(Permission::ManageRoles));
        assert!(!global.may(Permission::ReadAudit));
        assert_eq!(global.kind(), ActorKind::User);
        assert_eq!(global.actor_id(), Some("u"));
        assert_eq!(global.via().map(|d| d.app_id.as_str()), Some("a"));
        // Only a person acts through an app.
        let app = app(vec![AppPermission::UserReadAll]).through(Delegation {
            app_id: "b".into(),
            app_name: "Other".into(),
            scopes: vec![],
        });
        assert!(app.via().is_none() && app.may(Permission::ReadUsers));
    }

    #[test]
    fn permission_names_read_back() {
        for p in AppPermission::ALL {
            assert_eq!(AppPermission::parse(p.as_str()), Some(p));
        }
        assert_eq!(AppPermission::parse("Directory.ReadWrite.All"), None);
    }
}
