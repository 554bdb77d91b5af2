//! Plain data that Portico shows: what the domain returns, what server functions send to
//! the browser and what the command line prints. No rules live here, only shapes.

/// Stores an enum as the text of its variant, on any database (sqlx's `Any` driver, which
/// its derive does not cover).
#[cfg(feature = "sqlx")]
#[macro_export]
macro_rules! stored_as_text {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl sqlx::Type<sqlx::Any> for $ty {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <&str as sqlx::Type<sqlx::Any>>::type_info()
            }

            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Any>>::compatible(ty)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Any> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let text: &'q str = match self {
                    $($ty::$variant => $text,)+
                };
                <&str as sqlx::Encode<'q, sqlx::Any>>::encode_by_ref(&text, buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $ty {
            fn decode(
                value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                match <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)? {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!("not a {}: {other:?}", stringify!($ty)).into()),
                }
            }
        }
    };
}

/// A yes-or-no column or expression as a database gives it: SQLite gives an integer (0 or
/// 1), PostgreSQL an integer for a stored flag and a boolean for a comparison or
/// `EXISTS`. Read into `bool` through `From` (in a row, `#[sqlx(try_from = "SqlFlag")]`).
#[cfg(feature = "sqlx")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlFlag(pub bool);

#[cfg(feature = "sqlx")]
impl From<SqlFlag> for bool {
    fn from(flag: SqlFlag) -> bool {
        flag.0
    }
}

#[cfg(feature = "sqlx")]
impl sqlx::Type<sqlx::Any> for SqlFlag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
            || <bool as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

#[cfg(feature = "sqlx")]
impl<'r> sqlx::Decode<'r, sqlx::Any> for SqlFlag {
    fn decode(
        value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<'r, sqlx::Any>>::decode(value.clone()) {
            Ok(flag) => Ok(SqlFlag(flag)),
            Err(_) => Ok(SqlFlag(
                <i64 as sqlx::Decode<'r, sqlx::Any>>::decode(value)? != 0,
            )),
        }
    }
}

pub mod csv;
pub mod format;
pub mod paths;
pub mod reviews;

use serde::{Deserialize, Serialize};

/// Whether a user belongs to the tenant or was invited from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserType {
    Member,
    Guest,
}

#[cfg(feature = "sqlx")]
stored_as_text!(UserType { Member = "Member", Guest = "Guest" });

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Member => "Member",
            UserType::Guest => "Guest",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Member" => Some(UserType::Member),
            "Guest" => Some(UserType::Guest),
            _ => None,
        }
    }
}

/// Where a guest is in accepting their invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExternalState {
    PendingAcceptance,
    Accepted,
}

#[cfg(feature = "sqlx")]
stored_as_text!(ExternalState { PendingAcceptance = "PendingAcceptance", Accepted = "Accepted" });

impl ExternalState {
    /// As Graph and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalState::PendingAcceptance => "PendingAcceptance",
            ExternalState::Accepted => "Accepted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [ExternalState::PendingAcceptance, ExternalState::Accepted]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ExternalState::PendingAcceptance => "Pending acceptance",
            ExternalState::Accepted => "Accepted",
        }
    }
}

/// Where an invitation stands. `Expired` is a pending invitation past its lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvitationStatus {
    PendingAcceptance,
    Accepted,
    Expired,
    Revoked,
    /// Pending, but too many wrong one-time codes were typed: only a new invitation helps.
    Locked,
}

#[cfg(feature = "sqlx")]
stored_as_text!(InvitationStatus { PendingAcceptance = "PendingAcceptance", Accepted = "Accepted", Expired = "Expired", Revoked = "Revoked", Locked = "Locked" });

impl InvitationStatus {
    pub fn label(self) -> &'static str {
        match self {
            InvitationStatus::PendingAcceptance => "Pending acceptance",
            InvitationStatus::Accepted => "Accepted",
            InvitationStatus::Expired => "Expired",
            InvitationStatus::Revoked => "Revoked",
            InvitationStatus::Locked => "Locked after wrong codes",
        }
    }
}

/// A tenant-wide administrative role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Everything in the tenant, including roles and apps.
    GlobalAdministrator,
    /// Users and groups, but not apps or roles.
    UserAdministrator,
    /// May invite guests (used by the invitations feature).
    GuestInviter,
}

#[cfg(feature = "sqlx")]
stored_as_text!(Role { GlobalAdministrator = "GlobalAdministrator", UserAdministrator = "UserAdministrator", GuestInviter = "GuestInviter" });

impl Role {
    pub const ALL: [Role; 3] = [
        Role::GlobalAdministrator,
        Role::UserAdministrator,
        Role::GuestInviter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::GlobalAdministrator => "GlobalAdministrator",
            Role::UserAdministrator => "UserAdministrator",
            Role::GuestInviter => "GuestInviter",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The name people read in the console.
    pub fn label(self) -> &'static str {
        match self {
            Role::GlobalAdministrator => "Global administrator",
            Role::UserAdministrator => "User administrator",
            Role::GuestInviter => "Guest inviter",
        }
    }
}

/// An application permission an administrator can grant a program (an app acting on its
/// own, with client credentials), named as Microsoft Graph names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AppPermission {
    UserInviteAll,
    UserReadAll,
    UserReadWriteAll,
    GroupReadAll,
    GroupMemberReadWriteAll,
    ApplicationReadAll,
    AppRoleAssignmentReadWriteAll,
    AuditLogReadAll,
}

impl AppPermission {
    pub const ALL: [AppPermission; 8] = [
        AppPermission::UserInviteAll,
        AppPermission::UserReadAll,
        AppPermission::UserReadWriteAll,
        AppPermission::GroupReadAll,
        AppPermission::GroupMemberReadWriteAll,
        AppPermission::ApplicationReadAll,
        AppPermission::AppRoleAssignmentReadWriteAll,
        AppPermission::AuditLogReadAll,
    ];

    /// The name tokens carry in their `roles` claim, and the store keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            AppPermission::UserInviteAll => "User.Invite.All",
            AppPermission::UserReadAll => "User.Read.All",
            AppPermission::UserReadWriteAll => "User.ReadWrite.All",
            AppPermission::GroupReadAll => "Group.Read.All",
            AppPermission::GroupMemberReadWriteAll => "GroupMember.ReadWrite.All",
            AppPermission::ApplicationReadAll => "Application.Read.All",
            AppPermission::AppRoleAssignmentReadWriteAll => "AppRoleAssignment.ReadWrite.All",
            AppPermission::AuditLogReadAll => "AuditLog.Read.All",
        }
    }

    pub fn parse(name: &str) -> Option<AppPermission> {
        AppPermission::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// What it lets a program do, for the administrator who grants it.
    pub fn description(self) -> &'static str {
        match self {
            AppPermission::UserInviteAll => "Invite guests into the organization",
            AppPermission::UserReadAll => "Read every user's profile",
            AppPermission::UserReadWriteAll => "Read and change every user, and invite guests",
            AppPermission::GroupReadAll => "Read every group and its members",
            AppPermission::GroupMemberReadWriteAll => "Add people to groups and remove them",
            AppPermission::ApplicationReadAll => "Read every app and who it is assigned to",
            AppPermission::AppRoleAssignmentReadWriteAll => {
                "Assign apps to people and groups, and take assignments away (with Application.Read.All, as in Microsoft Graph)"
            }
            AppPermission::AuditLogReadAll => "Read the audit and sign-in logs",
        }
    }
}

/// Which kind of actor made a change, as the audit trail records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorKind {
    /// A signed-in person.
    User,
    /// The operator at the server's command line, or first-run setup.
    Operator,
    /// A program with its own credentials.
    App,
    /// Portico itself, applying a rule.
    Portico,
}

#[cfg(feature = "sqlx")]
stored_as_text!(ActorKind { User = "user", Operator = "operator", App = "app", Portico = "portico" });

impl ActorKind {
    /// How the audit trail shows it beside the actor's name.
    pub fn label(self) -> &'static str {
        match self {
            ActorKind::User => "person",
            ActorKind::Operator => "command line",
            ActorKind::App => "app",
            ActorKind::Portico => "rule",
        }
    }
}

/// An audit event as the tenant's hash chain covers it, and as `portico audit export`
/// writes it (one JSON object a line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
#[serde(deny_unknown_fields)]
pub struct ChainedEvent {
    pub id: i64,
    pub tenant_id: String,
    /// Unix seconds.
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub actor_kind: ActorKind,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
    pub detail: String,
    pub ip: Option<String>,
    /// SHA-256 (hex) of the tenant's event before this one; empty for its first.
    pub prev_hash: String,
    /// SHA-256 (hex) of this event's canonical encoding, `prev_hash` included.
    pub hash: String,
}

/// The newest event of a tenant's audit chain, which an auditor notes to detect events cut
/// from the end later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub id: i64,
    pub at: i64,
    pub hash: String,
    pub events: i64,
}

/// What pruning leaves where the removed audit events were: the newest removed event and
/// its hash, from which the chain goes on, signed by Portico. An export begins with it, so
/// that the events after the cut still verify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
#[serde(deny_unknown_fields)]
pub struct AuditCheckpoint {
    pub tenant_id: String,
    /// The newest event removed.
    pub event_id: i64,
    /// Its hash: the first event kept names it as the one before.
    pub event_hash: String,
    /// Events removed in all, by this pruning and every one before it.
    pub events_removed: i64,
    /// Events written before this time (Unix seconds) were removed.
    pub cutoff: i64,
    /// When the events were removed (Unix seconds).
    pub at: i64,
    /// A compact JWS (ES256) whose payload holds the fields above.
    pub signature: String,
    /// The public key (a JWK) the signature verifies with.
    pub public_jwk: String,
}

/// What the last form did, for the page it leads back to (a flash), shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub message: String,
    /// A value to copy (label, value), such as a secret shown only now.
    pub copy: Option<(String, String)>,
    /// A form the server refused: its page shows the error and what was typed again.
    #[serde(default)]
    pub rejected: Option<RejectedForm>,
}

/// A form posted without JavaScript that the server refused, for the page it returns to:
/// which server function refused it, the error as that function encodes it, and the
/// values that were typed (never a password or other secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedForm {
    /// The server function's path, e.g. `/fn/admin/invite`.
    pub action: String,
    /// The error, encoded as Leptos puts it into an address (`__err`).
    pub error: String,
    /// The fields as posted, in order, secrets left out.
    pub values: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub primary_domain: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub user_type: UserType,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "SqlFlag"))]
    pub enabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// For guests only.
    pub external_state: Option<ExternalState>,
    /// When they last signed in (Unix seconds); never: `None`.
    #[serde(default)]
    #[cfg_attr(feature = "sqlx", sqlx(default))]
    pub last_sign_in_at: Option<i64>,
}

/// A user as another object (a group, an app) lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct UserRef {
    pub id: String,
    pub display_name: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct GroupRef {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AppRef {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserSummary,
    pub roles: Vec<Role>,
    pub groups: Vec<GroupRef>,
    pub apps: Vec<AppRef>,
    /// A guest's sponsors (members have none).
    pub sponsors: Vec<UserRef>,
    /// Where a guest's access stands: when it ends, or when they are deleted.
    #[serde(default)]
    pub access: GuestAccessState,
}

/// The organization's fallback sponsor, who takes the place of a sponsor who is disabled
/// or deleted, and the guests left without a sponsor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SponsorSettings {
    pub fallback: Option<UserRef>,
    /// False when the fallback sponsor is disabled: then nobody takes a leaver's place.
    pub fallback_enabled: bool,
    pub unsponsored: Vec<UserRef>,
}

/// One page of a longer list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// Zero-based.
    pub page: u32,
    pub page_size: u32,
}

impl<T> Page<T> {
    pub fn page_count(&self) -> u32 {
        let size = i64::from(self.page_size.max(1));
        u32::try_from((self.total + size - 1) / size).unwrap_or(u32::MAX)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct GroupSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub member_count: i64,
    pub owner_count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group: GroupSummary,
    pub join_policy: JoinPolicy,
    pub owners: Vec<UserRef>,
    pub members: Vec<UserRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AppSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub launch_url: String,
    pub logo_url: Option<String>,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "SqlFlag"))]
    pub assignment_required: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppDetail {
    pub app: AppSummary,
    /// Whether the access panel offers "Request access" for it.
    pub requestable: bool,
    /// What the app may do as itself, with its own credentials.
    pub api_permissions: Vec<AppPermission>,
    /// What the app may ask a person signing in to let it do as them (scopes of the API).
    pub delegated_permissions: Vec<AppPermission>,
    pub owners: Vec<UserRef>,
    pub assigned_users: Vec<UserRef>,
    pub assigned_groups: Vec<GroupRef>,
}

/// Who is signed in, as the pages need to know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: String,
    /// Whether this user is a guest in the current organization.
    pub guest: bool,
    pub display_name: String,
    pub email: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub roles: Vec<Role>,
    /// Signed in with a Portico account (its passkeys and password are theirs to manage).
    pub has_account: bool,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.roles
            .iter()
            .any(|role| matches!(role, Role::GlobalAdministrator | Role::UserAdministrator))
    }
}

/// What a signed-in person sees in the access panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPanel {
    pub apps: Vec<AppSummary>,
    pub groups: Vec<MyGroup>,
    /// The apps and groups the person owns, each with its Manage view.
    #[serde(default)]
    pub owned: Vec<OwnedRef>,
    /// Groups the person may join, or ask to join.
    #[serde(default)]
    pub joinable: Vec<JoinableGroup>,
    /// Apps the person cannot open and may ask for.
    #[serde(default)]
    pub requestable: Vec<AppRef>,
    /// The person's own requests, newest first.
    #[serde(default)]
    pub requests: Vec<MyRequest>,
    /// A guest's sponsors: their contacts in the organization.
    #[serde(default)]
    pub sponsors: Vec<UserRef>,
}

/// What an owner manages from the access panel: an app or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    App,
    Group,
}

#[cfg(feature = "sqlx")]
stored_as_text!(ObjectKind { App = "App", Group = "Group" });

impl ObjectKind {
    /// Its part of a Manage address: `/manage/apps/…`, `/manage/groups/…`.
    pub fn path(self) -> &'static str {
        match self {
            ObjectKind::App => "apps",
            ObjectKind::Group => "groups",
        }
    }

    pub fn parse_path(text: &str) -> Option<ObjectKind> {
        match text {
            "apps" => Some(ObjectKind::App),
            "groups" => Some(ObjectKind::Group),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::App => "App",
            ObjectKind::Group => "Group",
        }
    }
}

/// An app or a group the signed-in person owns, with how many requests wait for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct OwnedRef {
    pub kind: ObjectKind,
    pub id: String,
    pub name: String,
    pub pending_requests: i64,
}

/// Whether members may ask to join a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JoinPolicy {
    /// Only owners and administrators add people.
    #[default]
    Closed,
    /// A request waits until an owner approves or denies it.
    OwnerApproval,
    /// A member joins at once.
    Open,
}

#[cfg(feature = "sqlx")]
stored_as_text!(JoinPolicy { Closed = "Closed", OwnerApproval = "OwnerApproval", Open = "Open" });

impl JoinPolicy {
    pub const ALL: [JoinPolicy; 3] = [
        JoinPolicy::Closed,
        JoinPolicy::OwnerApproval,
        JoinPolicy::Open,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JoinPolicy::Closed => "Closed",
            JoinPolicy::OwnerApproval => "OwnerApproval",
            JoinPolicy::Open => "Open",
        }
    }

    pub fn parse(text: &str) -> Option<JoinPolicy> {
        JoinPolicy::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            JoinPolicy::Closed => "Closed — only owners and administrators add people",
            JoinPolicy::OwnerApproval => "Owner approval — members ask, an owner decides",
            JoinPolicy::Open => "Open — members join at once",
        }
    }
}

/// Where a request to join a group or to use an app stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RequestState {
    Pending,
    Approved,
    Denied,
}

#[cfg(feature = "sqlx")]
stored_as_text!(RequestState { Pending = "Pending", Approved = "Approved", Denied = "Denied" });

impl RequestState {
    pub fn label(self) -> &'static str {
        match self {
            RequestState::Pending => "Waiting for an owner",
            RequestState::Approved => "Approved",
            RequestState::Denied => "Denied",
        }
    }
}

/// A group the signed-in person is not in and may join or ask to join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct JoinableGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub join_policy: JoinPolicy,
}

/// A request the signed-in person made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct MyRequest {
    pub id: String,
    pub kind: ObjectKind,
    pub name: String,
    pub state: RequestState,
    pub created_at: i64,
}

/// A request waiting for an owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AccessRequest {
    pub id: String,
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub created_at: i64,
}

/// A user who has access to an owned app or group, as its owner sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Holder {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub user_type: UserType,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "SqlFlag"))]
    pub enabled: bool,
    pub external_state: Option<ExternalState>,
}

impl Holder {
    /// What the owner is told of them: a member, or a guest and where they stand.
    pub fn state_label(&self) -> &'static str {
        match (self.user_type, self.enabled, self.external_state) {
            (UserType::Member, true, _) => "Member",
            (UserType::Member, false, _) => "Member, disabled",
            (UserType::Guest, false, _) => "Guest, disabled",
            (UserType::Guest, true, Some(ExternalState::Accepted)) => "Guest, accepted",
            (UserType::Guest, true, _) => "Guest, pending acceptance",
        }
    }
}

/// An owned app or group as its owner manages it from the access panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Managed {
    pub kind: ObjectKind,
    pub id: String,
    pub name: String,
    pub description: String,
    /// For a group: whether members may ask to join.
    pub join_policy: Option<JoinPolicy>,
    /// Who has access; empty when the organization's guest access level keeps this
    /// (guest) owner from seeing other people (`people_hidden`).
    pub users: Vec<Holder>,
    pub people_hidden: bool,
    /// For an app: the groups it is assigned to.
    pub groups: Vec<GroupRef>,
    /// The owner's own invitations still waiting, of people who have access here.
    pub invitations: Vec<InvitationSummary>,
    pub requests: Vec<AccessRequest>,
}

/// What adding someone by email address did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Added {
    pub user: UserRef,
    /// True when the address was new here: a guest was invited by mail.
    pub invited: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct MyGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "SqlFlag"))]
    pub is_owner: bool,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "SqlFlag"))]
    pub is_member: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AuditEvent {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub actor_kind: ActorKind,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// A reason one field of a form was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct InvitationSummary {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub status: InvitationStatus,
    pub inviter_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
    /// Where the guest lands after accepting; none: the access panel.
    pub redirect_url: Option<String>,
}

/// The answer to an invitation: the guest user and the link to hand over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    pub user: UserSummary,
    pub invitation_id: String,
    pub redeem_url: String,
    /// True when the address was a pending guest already and got a new link.
    pub resent: bool,
}

/// What an invited person is shown before they prove who they are and accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub tenant_name: String,
    pub tenant_domain: String,
    pub privacy_url: Option<String>,
    pub inviter_name: String,
    pub email: String,
    pub display_name: String,
    pub message: String,
    /// Days the guest's access lasts from acceptance unless a sponsor renews it; `None`:
    /// it does not end.
    #[serde(default)]
    pub access_days: Option<i64>,
}

/// What a redemption link leads to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketState {
    Open(InvitationInfo),
    Expired {
        tenant_name: String,
        inviter_name: String,
    },
    /// Withdrawn by the inviter, or replaced by a newer invitation.
    Revoked {
        tenant_name: String,
    },
    /// Locked after too many wrong one-time codes: the inviter must send a new one.
    Locked {
        tenant_name: String,
        inviter_name: String,
    },
    /// Pending, but the organization's collaboration restrictions no longer let guests
    /// come from the invited address's domain.
    Blocked {
        tenant_name: String,
        domain: String,
    },
    /// Accepted already: the guest goes to their apps instead.
    Accepted {
        tenant_name: String,
    },
    /// Mistyped or made up.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct OutboxMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

/// An organization the signed-in person can switch to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub tenant_id: String,
    pub tenant_name: String,
    /// Whether the person is a guest there (else it is their home organization).
    pub guest: bool,
    pub current: bool,
}

/// Who may invite guests: Microsoft Entra's `allowInvitesFrom`, with its values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllowInvitesFrom {
    /// Members and guests (who have accepted: nobody else signs in).
    Everyone,
    /// Global and user administrators, Guest inviters, and every member; not guests.
    #[default]
    AdminsGuestInvitersAndAllMembers,
    /// Global administrators, user administrators and Guest inviters only.
    AdminsAndGuestInviters,
    /// Nobody signed in, administrators included.
    None,
}

impl AllowInvitesFrom {
    pub const ALL: [AllowInvitesFrom; 4] = [
        AllowInvitesFrom::Everyone,
        AllowInvitesFrom::AdminsGuestInvitersAndAllMembers,
        AllowInvitesFrom::AdminsAndGuestInviters,
        AllowInvitesFrom::None,
    ];

    /// Entra's value.
    pub fn as_str(self) -> &'static str {
        match self {
            AllowInvitesFrom::Everyone => "everyone",
            AllowInvitesFrom::AdminsGuestInvitersAndAllMembers => {
                "adminsGuestInvitersAndAllMembers"
            }
            AllowInvitesFrom::AdminsAndGuestInviters => "adminsAndGuestInviters",
            AllowInvitesFrom::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<AllowInvitesFrom> {
        AllowInvitesFrom::ALL
            .into_iter()
            .find(|v| v.as_str() == value)
    }

    /// Who may invite, in words.
    pub fn label(self) -> &'static str {
        match self {
            AllowInvitesFrom::Everyone => "Everyone: members and guests",
            AllowInvitesFrom::AdminsGuestInvitersAndAllMembers => {
                "Members, Guest inviters and administrators (not guests)"
            }
            AllowInvitesFrom::AdminsAndGuestInviters => {
                "Only global administrators, user administrators and Guest inviters"
            }
            AllowInvitesFrom::None => {
                "Nobody, administrators included (only the operator's command line)"
            }
        }
    }
}

/// What guests may see of the directory: Microsoft Entra's guest user access levels, each
/// stored as the id of the role Entra gives guests for it (`guestUserRoleId`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuestAccess {
    /// Guests see what members see.
    SameAsMembers,
    /// Guests look up other people by name or address (no listing) and see the members
    /// of the groups they belong to.
    #[default]
    Limited,
    /// Guests see their own profile and nothing of other people.
    Restricted,
}

impl GuestAccess {
    pub const ALL: [GuestAccess; 3] = [
        GuestAccess::SameAsMembers,
        GuestAccess::Limited,
        GuestAccess::Restricted,
    ];

    /// Entra's `guestUserRoleId` for this level.
    pub fn role_id(self) -> &'static str {
        match self {
            GuestAccess::SameAsMembers => "a0b1b346-4d3e-4e8b-98f8-753987be4970",
            GuestAccess::Limited => "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            GuestAccess::Restricted => "2af84b1e-32c8-42b7-82bc-daa82404023b",
        }
    }

    pub fn from_role_id(id: &str) -> Option<GuestAccess> {
        GuestAccess::ALL.into_iter().find(|g| g.role_id() == id)
    }

    pub fn label(self) -> &'static str {
        match self {
            GuestAccess::SameAsMembers => "Same as members",
            GuestAccess::Limited => "Limited",
            GuestAccess::Restricted => "Restricted",
        }
    }
}

/// Whether the collaboration restrictions list the only domains guests may come from, or
/// domains they may not come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DomainListKind {
    /// Only the listed domains; an empty list lets nobody in.
    Allow,
    /// Every domain but the listed ones; an empty list (the default) lets anyone in.
    #[default]
    Deny,
}

impl DomainListKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainListKind::Allow => "allow",
            DomainListKind::Deny => "deny",
        }
    }

    pub fn parse(value: &str) -> Option<DomainListKind> {
        [DomainListKind::Allow, DomainListKind::Deny]
            .into_iter()
            .find(|k| k.as_str() == value)
    }

    pub fn other(self) -> DomainListKind {
        match self {
            DomainListKind::Allow => DomainListKind::Deny,
            DomainListKind::Deny => DomainListKind::Allow,
        }
    }
}

/// A tenant's external collaboration settings: who may invite, what guests may see, and
/// which domains guests may come from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalCollaboration {
    pub tenant_name: String,
    pub allow_invites_from: AllowInvitesFrom,
    pub guest_access: GuestAccess,
    pub list_kind: DomainListKind,
    /// Exact domains and `*.example.com` entries (subdomains only), in order.
    pub domains: Vec<String>,
}

/// A tenant's settings for guests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct TenantSettings {
    pub name: String,
    pub primary_domain: String,
    /// Days an invitation link works.
    pub invitation_lifetime_days: i64,
    /// Shown to invited people on the consent page.
    pub privacy_url: Option<String>,
    /// How invited people redeem.
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub redemption_order: RedemptionOrder,
    /// The domains members have addresses at (each with its subdomains), in order.
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub domains: Vec<String>,
}

/// How an invited person proves they own the invited address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProofMethod {
    /// The address is a member of another organization here: they sign in at home.
    HomePassword,
    /// The partner's own OpenID Connect provider, set up for the address's domain.
    Federated,
    /// A one-time code mailed to the address.
    EmailCode,
    /// A code mailed to the address, then a Portico account of their own (a passkey or a
    /// password) made on the spot.
    NewAccount,
    /// The Portico account they made earlier: its passkey or password (or, to recover, a
    /// code mailed to the address).
    Account,
}

/// Where a redemption in progress stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionStatus {
    pub info: InvitationInfo,
    pub method: ProofMethod,
    pub proven: bool,
    /// With [`ProofMethod::Federated`]: the provider's display name.
    pub provider: Option<String>,
    /// The provider vouched for the person but not for the address: a mailed code must
    /// confirm it too.
    pub code_also: bool,
    /// With [`ProofMethod::NewAccount`]: the code confirmed the address; the account is
    /// to be made next.
    pub address_confirmed: bool,
}

/// A way an invited person may redeem an invitation. The first two are primary (used
/// when they apply), the others fallbacks (used when no primary one does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RedemptionMethod {
    /// Their member account in another organization on this Portico.
    HomeOrganization,
    /// The OpenID Connect provider the inviting organization set up for their domain.
    Federation,
    /// A one-time passcode mailed to the invited address.
    EmailCode,
    /// A Portico account they make for themselves (a passkey or a password), after a
    /// passcode proves the address.
    NewAccount,
}

impl RedemptionMethod {
    pub const ALL: [RedemptionMethod; 4] = [
        RedemptionMethod::HomeOrganization,
        RedemptionMethod::Federation,
        RedemptionMethod::EmailCode,
        RedemptionMethod::NewAccount,
    ];

    /// How it is written in settings and forms.
    pub fn key(self) -> &'static str {
        match self {
            RedemptionMethod::HomeOrganization => "home",
            RedemptionMethod::Federation => "federation",
            RedemptionMethod::EmailCode => "code",
            RedemptionMethod::NewAccount => "account",
        }
    }

    pub fn from_key(key: &str) -> Option<RedemptionMethod> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            RedemptionMethod::HomeOrganization => "Their organization's account on this Portico",
            RedemptionMethod::Federation => "Their organization's identity provider (federation)",
            RedemptionMethod::EmailCode => "A one-time passcode mailed to them",
            RedemptionMethod::NewAccount => "A Portico account they create (passkey or password)",
        }
    }

    pub fn is_primary(self) -> bool {
        matches!(
            self,
            RedemptionMethod::HomeOrganization | RedemptionMethod::Federation
        )
    }
}

/// The organization's redemption order: the primary methods tried in turn, then the
/// fallbacks. Only the methods switched on are listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionOrder {
    pub primary: Vec<RedemptionMethod>,
    pub fallback: Vec<RedemptionMethod>,
}

impl Default for RedemptionOrder {
    /// Entra's default: the home organization, then federation, then a passcode.
    fn default() -> Self {
        RedemptionOrder {
            primary: vec![
                RedemptionMethod::HomeOrganization,
                RedemptionMethod::Federation,
            ],
            fallback: vec![RedemptionMethod::EmailCode],
        }
    }
}

impl RedemptionOrder {
    /// The keys of `list` in order, as forms write them: `home,federation`.
    pub fn keys(list: &[RedemptionMethod]) -> String {
        list.iter().map(|m| m.key()).collect::<Vec<_>>().join(",")
    }

    /// As stored: `home,federation;code`.
    pub fn to_setting(&self) -> String {
        format!(
            "{};{}",
            Self::keys(&self.primary),
            Self::keys(&self.fallback)
        )
    }

    /// Reads what [`RedemptionOrder::to_setting`] wrote; unknown methods are skipped.
    pub fn from_setting(text: &str) -> RedemptionOrder {
        let (primary, fallback) = text.split_once(';').unwrap_or((text, ""));
        let parse = |list: &str| {
            list.split(',')
                .filter_map(RedemptionMethod::from_key)
                .collect::<Vec<_>>()
        };
        RedemptionOrder {
            primary: parse(primary),
            fallback: parse(fallback),
        }
    }
}

/// What Portico asks of a partner's provider unless its admin says otherwise.
pub const DEFAULT_PROVIDER_SCOPES: &str = "openid email profile";

/// How Portico proves itself with its client secret at a provider's token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenAuthMethod {
    /// From the provider's discovery document (`token_endpoint_auth_methods_supported`):
    /// HTTP Basic when it offers it or says nothing (Basic is the default then), else the
    /// form post.
    #[default]
    Automatic,
    /// `client_secret_basic`: the secret in an HTTP Basic `Authorization` header.
    ClientSecretBasic,
    /// `client_secret_post`: the secret in the form posted to the token endpoint.
    ClientSecretPost,
}

impl TokenAuthMethod {
    pub const ALL: [TokenAuthMethod; 3] = [
        TokenAuthMethod::Automatic,
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
    ];

    /// How it is written in the store and in forms (the discovery names for the two
    /// methods).
    pub fn key(self) -> &'static str {
        match self {
            TokenAuthMethod::Automatic => "automatic",
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
        }
    }

    pub fn from_key(key: &str) -> Option<TokenAuthMethod> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenAuthMethod::Automatic => "Automatic (as the provider's discovery document says)",
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic (HTTP Basic)",
            TokenAuthMethod::ClientSecretPost => "client_secret_post (in the form)",
        }
    }
}

/// What a signed-in person sees of themselves at `/account`: how they sign in, and where
/// they are signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccount {
    pub display_name: String,
    pub email: String,
    pub way_in: WayIn,
    /// Their sessions in every organization, the most recently used first.
    pub sessions: Vec<MySession>,
}

/// How a person proves who they are, and so what they manage here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WayIn {
    /// A member of an organization on this Portico: their password there.
    Member {
        organization: String,
        has_password: bool,
    },
    /// A Portico account they made when invited: its password and passkeys.
    Account(AccountOverview),
    /// A code mailed to their address each time.
    MailedCode,
    /// Their own organization's sign-in (a partner's identity provider).
    Provider,
}

/// One of a person's sessions (a browser signed in), as they see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySession {
    /// Names the session without being able to open it (not its secret, nor its hash).
    pub id: String,
    /// The organization it is switched to.
    pub organization: String,
    /// Unix seconds.
    pub signed_in_at: i64,
    pub last_seen_at: i64,
    /// The address it signed in from, if known.
    pub ip: Option<String>,
    /// The browser's own description of itself, if it sent one.
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}

/// A page of the admin console, in the order its navigation lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsolePage {
    Users,
    Groups,
    Apps,
    SignIns,
    ExternalIdentities,
    Invitations,
    ExternalCollaboration,
    Reviews,
    Outbox,
    Audit,
    ConditionalAccess,
    TermsOfUse,
    CrossTenantAccess,
    Settings,
}

impl ConsolePage {
    pub const ALL: [ConsolePage; 14] = [
        ConsolePage::Users,
        ConsolePage::Groups,
        ConsolePage::Apps,
        ConsolePage::SignIns,
        ConsolePage::ExternalIdentities,
        ConsolePage::Invitations,
        ConsolePage::ExternalCollaboration,
        ConsolePage::Reviews,
        ConsolePage::Outbox,
        ConsolePage::Audit,
        ConsolePage::ConditionalAccess,
        ConsolePage::TermsOfUse,
        ConsolePage::CrossTenantAccess,
        ConsolePage::Settings,
    ];

    /// Its address.
    pub fn href(self) -> &'static str {
        match self {
            ConsolePage::Users => "/admin/users",
            ConsolePage::Groups => "/admin/groups",
            ConsolePage::Apps => "/admin/apps",
            ConsolePage::SignIns => "/admin/sign-ins",
            ConsolePage::ExternalIdentities => "/admin/external-identities",
            ConsolePage::Invitations => "/admin/invitations",
            ConsolePage::ExternalCollaboration => "/admin/external-collaboration",
            ConsolePage::Reviews => "/admin/reviews",
            ConsolePage::Outbox => "/admin/outbox",
            ConsolePage::Audit => "/admin/audit",
            ConsolePage::ConditionalAccess => "/admin/security/conditional-access",
            ConsolePage::TermsOfUse => "/admin/security/terms-of-use",
            ConsolePage::CrossTenantAccess => "/admin/security/cross-tenant-access",
            ConsolePage::Settings => "/admin/settings",
        }
    }

    /// Its name in the navigation.
    pub fn label(self) -> &'static str {
        match self {
            ConsolePage::Users => "Users",
            ConsolePage::Groups => "Groups",
            ConsolePage::Apps => "Apps",
            ConsolePage::SignIns => "Sign-ins",
            ConsolePage::ExternalIdentities => "External identities",
            ConsolePage::Invitations => "Invitations",
            ConsolePage::ExternalCollaboration => "External collaboration",
            ConsolePage::Reviews => "Access reviews",
            ConsolePage::Outbox => "Outbox",
            ConsolePage::Audit => "Audit log",
            ConsolePage::ConditionalAccess => "Conditional access",
            ConsolePage::TermsOfUse => "Terms of use",
            ConsolePage::CrossTenantAccess => "Cross-tenant access",
            ConsolePage::Settings => "Settings",
        }
    }

    /// The page at `path` or below it (`/admin/users/42` is the users page); `/admin`
    /// itself, and anything unknown under it, is the users page.
    pub fn at(path: &str) -> ConsolePage {
        let path = path.trim_end_matches('/');
        ConsolePage::ALL
            .into_iter()
            .find(|page| {
                path.strip_prefix(page.href())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .unwrap_or(ConsolePage::Users)
    }
}

/// Whether the signed-in person may open a page of the admin console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleAccess {
    /// They may; `pages`: every console page their roles open, for the navigation.
    Open {
        pages: Vec<ConsolePage>,
    },
    Denied(ConsoleDenial),
}

/// Why a console page is not for someone, and whom to ask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleDenial {
    /// What the page is for, completing "You need … to": e.g. "manage users".
    pub task: String,
    /// The roles that would open it, the narrowest first.
    pub roles: Vec<Role>,
    pub organization: String,
    /// Who can give roles there (its global administrators), named to its members; empty
    /// for guests, who are pointed at the organization.
    pub ask: Vec<UserRef>,
}

/// A Portico account, as its holder sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub email: String,
    pub has_password: bool,
    pub passkeys: Vec<PasskeySummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct PasskeySummary {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A partner's OpenID Connect provider that guests of some domains sign in with. The
/// client secret is never shown again after it is saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProvider {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub scopes: String,
    /// The email domains it serves, lower case.
    pub domains: Vec<String>,
    /// How Portico authenticates at its token endpoint, as the admin set it.
    pub token_auth_method: TokenAuthMethod,
    pub created_at: i64,
}

/// A partner's provider a person may sign in with, and the organization that set it up
/// (so that a provider of one organization never stands in silently for another's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ProviderChoice {
    pub id: String,
    pub name: String,
    pub tenant_name: String,
}

/// What an admin needs to register Portico at a partner's provider, and its providers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProviders {
    /// The redirect URI to register at every provider.
    pub redirect_uri: String,
    pub providers: Vec<IdentityProvider>,
}

/// One row of a bulk invitation file: its line and its columns (email address, display
/// name, redirect address, personal message; all but the first may be empty or missing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkInviteRow {
    pub line: u32,
    pub fields: Vec<String>,
}

impl BulkInviteRow {
    /// The rows of a bulk invitation file; a first line whose first column names the email
    /// column (as in the downloadable template) is a header and skipped.
    pub fn from_csv(text: &str) -> Result<Vec<BulkInviteRow>, String> {
        let mut records = csv::parse(text)?;
        if records
            .first()
            .is_some_and(|r| r.fields[0].to_ascii_lowercase().starts_with("email"))
        {
            records.remove(0);
        }
        Ok(records
            .into_iter()
            .map(|r| BulkInviteRow {
                line: r.line,
                fields: r.fields,
            })
            .collect())
    }
}

/// What became of one row of a bulk invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkOutcome {
    /// A guest user and its invitation were created; the link, for those who hand it over.
    Invited { user_id: String, redeem_url: String },
    /// The address already has a user here (member or guest); nothing changed.
    AlreadyUser { user_id: String },
    /// The row was refused; nothing changed.
    Invalid { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkInviteResult {
    pub line: u32,
    pub email: String,
    pub outcome: BulkOutcome,
}

/// Whether an app can keep a secret: a server-side web app can (confidential); a browser or
/// mobile app cannot (public) and must prove itself with PKCE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientType {
    #[default]
    Confidential,
    Public,
}

#[cfg(feature = "sqlx")]
stored_as_text!(ClientType { Confidential = "confidential", Public = "public" });

impl ClientType {
    pub fn parse(text: &str) -> Option<ClientType> {
        match text {
            "confidential" => Some(ClientType::Confidential),
            "public" => Some(ClientType::Public),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }
}

/// How an app's ID tokens are signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum SigningAlg {
    /// RSA with SHA-256, what every client understands.
    #[default]
    RS256,
    /// ECDSA P-256 with SHA-256: smaller tokens, faster to sign.
    ES256,
}

#[cfg(feature = "sqlx")]
stored_as_text!(SigningAlg { RS256 = "RS256", ES256 = "ES256" });

impl SigningAlg {
    pub fn parse(text: &str) -> Option<SigningAlg> {
        match text {
            "RS256" => Some(SigningAlg::RS256),
            "ES256" => Some(SigningAlg::ES256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }
}

/// How an app signs people in through Portico (OpenID Connect).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSettings {
    pub client_type: ClientType,
    pub id_token_alg: SigningAlg,
    /// Where Portico may send the browser back with a code, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where Portico may send the browser after signing out, matched exactly.
    pub post_logout_uris: Vec<String>,
    pub has_secret: bool,
}

/// One attempt to sign in to an app, allowed or not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct SignInEvent {
    pub id: i64,
    pub user_id: Option<String>,
    pub user_name: String,
    pub user_email: String,
    pub app_id: Option<String>,
    pub app_name: String,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "SqlFlag"))]
    pub success: bool,
    pub reason: String,
    pub ip: Option<String>,
    pub created_at: i64,
    /// Conditional access, as enforced: `success`, `failure` or `notApplied`.
    #[serde(default)]
    pub ca_status: String,
    /// Each policy on or in report-only, and its result.
    #[serde(default)]
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "AppliedPolicies"))]
    pub ca_policies: Vec<AppliedPolicy>,
}

/// A conditional-access policy's result for one sign-in (Graph's
/// `appliedConditionalAccessPolicy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPolicy {
    pub id: String,
    pub name: String,
    /// `success`, `failure`, `notApplied`, `reportOnlySuccess`, `reportOnlyFailure` or
    /// `reportOnlyNotApplied`.
    pub result: String,
    /// The controls it asked for (`block`, `mfa`, `phishingResistantMfa`, `termsOfUse`,
    /// `signInFrequency`), when it applied.
    #[serde(default)]
    pub controls: Vec<String>,
}

/// [`SignInEvent::ca_policies`] as stored: a JSON array in a text column.
#[cfg(feature = "sqlx")]
pub struct AppliedPolicies(Vec<AppliedPolicy>);

#[cfg(feature = "sqlx")]
impl From<AppliedPolicies> for Vec<AppliedPolicy> {
    fn from(policies: AppliedPolicies) -> Self {
        policies.0
    }
}

#[cfg(feature = "sqlx")]
impl sqlx::Type<sqlx::Any> for AppliedPolicies {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <String as sqlx::Type<sqlx::Any>>::type_info()
    }
}

#[cfg(feature = "sqlx")]
impl<'r> sqlx::Decode<'r, sqlx::Any> for AppliedPolicies {
    fn decode(
        value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <String as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
        Ok(AppliedPolicies(serde_json::from_str(&text)?))
    }
}

/// What an administrator pastes into an app so that it signs people in through Portico.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSignIn {
    pub client_id: String,
    pub issuer: String,
    pub discovery_url: String,
    pub settings: ClientSettings,
}

/// A tenant's rules for how long guests keep access (see `domain::guest_access`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct GuestAccessSettings {
    /// Days a guest's access lasts from acceptance, unless renewed; `None`: it never ends.
    pub access_days: Option<i64>,
    /// Days before the end the sponsors and the guest are told.
    pub notice_days: i64,
    /// Days a guest whose access ended stays, disabled and restorable, before deletion.
    pub grace_days: i64,
}

/// Where a guest's access stands (all times Unix seconds).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct GuestAccessState {
    /// When access ends unless renewed; `None`: never (or not accepted yet).
    pub ends_at: Option<i64>,
    /// The end the sponsors were told about, if they were.
    pub notice_for: Option<i64>,
    /// When access ended (the guest was disabled), if it did.
    pub ended_at: Option<i64>,
    /// Why it ended: the period ran out, an access review, …
    pub end_reason: Option<String>,
    /// When the guest is deleted unless restored; set while access has ended.
    pub delete_after: Option<i64>,
}

/// A guest as their sponsor's page shows them: who, where their access stands, and the
/// period a renewal or a restore gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sponsored {
    pub guest: UserSummary,
    pub access: GuestAccessState,
    /// Days a renewal or a restore gives (`None`: the access would no longer end).
    pub renewal_days: Option<i64>,
}

/// A conditional-access policy as the admin console's form writes it: one field per
/// control, names where the policy keeps ids (addresses of users, names of groups and
/// apps, one a line), checkboxes present when ticked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyForm {
    pub name: String,
    /// `enabled`, `enabledForReportingButNotEnforced` or `disabled`.
    pub state: String,
    /// `everyone`, `guests` or `selected`.
    pub users: String,
    pub include_users: String,
    pub include_groups: String,
    /// Roles' names (`GlobalAdministrator`, …), one a line.
    pub include_roles: String,
    pub exclude_guests: bool,
    pub exclude_users: String,
    pub exclude_groups: String,
    pub exclude_roles: String,
    /// `all` or `selected`.
    pub apps: String,
    pub include_apps: String,
    pub portico: bool,
    pub exclude_apps: String,
    pub locations: String,
    pub exclude_locations: String,
    /// `block` or `require`.
    pub grant: String,
    pub mfa: bool,
    pub passkey: bool,
    /// Names of terms of use to accept, one a line.
    pub terms: String,
    /// `all` or `any`.
    pub operator: String,
    /// Hours, or empty.
    pub frequency_hours: String,
    pub accept_lock_out: bool,
}

/// A policy in the console's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub id: String,
    pub name: String,
    /// `On`, `Off` or `Report-only`.
    pub state: String,
    pub summary: String,
    pub modified_at: i64,
}

/// What If's answer for one policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIfRow {
    pub name: String,
    /// `On`, `Off` or `Report-only`.
    pub state: String,
    pub applies: bool,
    /// Why it does not apply, or what it asks when it does.
    pub why: String,
}

/// What If's answer: each policy, then the outcome in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIfAnswer {
    pub policies: Vec<WhatIfRow>,
    pub outcome: String,
}

/// Terms of use that conditional-access policies can ask people to accept. A new text is
/// a new version, which everyone accepts anew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub id: String,
    pub name: String,
    pub text: String,
    pub version: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

/// Someone's acceptance of a version of terms of use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsAcceptance {
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub version: i64,
    pub accepted_at: i64,
}

/// Terms of use in the console: the terms, the policies that ask for them, and who
/// accepted which version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsDetail {
    pub terms: Terms,
    /// Names of the policies that ask for these terms.
    pub policies: Vec<String>,
    pub acceptances: Vec<TermsAcceptance>,
}

/// Terms of use as the person asked to accept them sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsToAccept {
    pub terms: Terms,
    /// The organization whose terms they are.
    pub organization: String,
    /// When the person accepted this version, if they did.
    pub accepted_at: Option<i64>,
}

/// A second factor a person registered, as they see it at `/account/security`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactor {
    /// Names the factor in the person's own requests (remove).
    pub id: String,
    /// What kind it is, in words ("Authenticator app").
    pub kind: String,
    /// The name the person gave it.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// An authenticator app being set up: the secret to type or scan, waiting for its first
/// code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrollment {
    /// The secret in base32, in groups of four for reading.
    pub secret: String,
    /// The `otpauth://` address a QR code carries to the app.
    pub uri: String,
}

/// What a person sees at `/account/security`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityOverview {
    pub email: String,
    pub factors: Vec<SecondFactor>,
    pub recovery_codes_left: i64,
    /// An authenticator app being set up, if one is.
    pub enrollment: Option<TotpEnrollment>,
    /// Why changes cannot be made in this session now (an old sign-in, a second factor not
    /// verified in it), with `verify` telling whether verifying one here would do; `None`
    /// when they can.
    pub blocked: Option<ChangesBlocked>,
}

/// Why the person's second factors cannot be changed from this session now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangesBlocked {
    /// They signed in too long ago: they sign in again.
    SignInAgain,
    /// They have a second factor and this session has not used it: they verify it.
    VerifyFirst,
}

/// What the step-up page (`/account/verify`) shows the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepUp {
    pub email: String,
    /// Whether they have a second factor of any kind (else they set one up).
    pub has_factor: bool,
    /// Whether they have an authenticator app to enter a code from.
    pub has_app: bool,
    /// Whether they have a passkey registered as a second factor.
    pub has_passkey: bool,
    /// Whether the policy asks for a passkey (a phishing-resistant factor), which only a
    /// passkey answers.
    pub passkey_asked: bool,
    /// Whether this session has verified what is asked already.
    pub verified: bool,
    /// Why they could not add a factor beside the ones they have from this session now
    /// (as at the security page); `None` when they could.
    pub blocked: Option<ChangesBlocked>,
    pub recovery_codes_left: i64,
    /// An authenticator app being set up, if one is.
    pub enrollment: Option<TotpEnrollment>,
}

/// A partner's inbound settings, as the console's cross-tenant access page shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerAccess {
    /// `tenant:<id>` or `idp:<issuer>`; empty for the default.
    pub key: String,
    /// Who, in words.
    pub partner: String,
    pub trust_mfa: bool,
    pub inbound_blocked: bool,
    /// For a provider: the `acr` values of its ID tokens that mean multi-factor,
    /// space-separated.
    pub mfa_acr: String,
}

/// The default, then each partner with settings of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerAccessList {
    pub default: PartnerAccess,
    pub partners: Vec<PartnerAccess>,
}
