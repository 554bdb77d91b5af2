//! Access reviews of guests: what a review covers, who reviews, what its decisions do, and
//! what reviewers and administrators see of it.

#[cfg(feature = "sqlx")]
use crate::SqlFlag;
use serde::{Deserialize, Serialize};

/// Which guests a review covers (snapshotted when it starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReviewScope {
    /// Every guest of the organization.
    AllGuests,
    /// The guests who are members of a group.
    GroupGuests,
    /// The guests an app is assigned to directly.
    AppGuests,
    /// The guests with no sign-in for a number of days.
    InactiveGuests,
}

#[cfg(feature = "sqlx")]
stored_as_text!(ReviewScope { AllGuests = "AllGuests", GroupGuests = "GroupGuests", AppGuests = "AppGuests", InactiveGuests = "InactiveGuests" });

impl ReviewScope {
    pub const ALL: [ReviewScope; 4] = [
        ReviewScope::AllGuests,
        ReviewScope::GroupGuests,
        ReviewScope::AppGuests,
        ReviewScope::InactiveGuests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewScope::AllGuests => "AllGuests",
            ReviewScope::GroupGuests => "GroupGuests",
            ReviewScope::AppGuests => "AppGuests",
            ReviewScope::InactiveGuests => "InactiveGuests",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewScope::AllGuests => "All guests",
            ReviewScope::GroupGuests => "Guests in a group",
            ReviewScope::AppGuests => "Guests assigned to an app",
            ReviewScope::InactiveGuests => "Inactive guests",
        }
    }
}

/// Who decides about each guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReviewerKind {
    /// Each guest's sponsors.
    Sponsors,
    /// The owners of the group or app reviewed.
    Owners,
    /// Users named when the review starts.
    Named,
}

#[cfg(feature = "sqlx")]
stored_as_text!(ReviewerKind { Sponsors = "Sponsors", Owners = "Owners", Named = "Named" });

impl ReviewerKind {
    pub const ALL: [ReviewerKind; 3] = [
        ReviewerKind::Sponsors,
        ReviewerKind::Owners,
        ReviewerKind::Named,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewerKind::Sponsors => "Sponsors",
            ReviewerKind::Owners => "Owners",
            ReviewerKind::Named => "Named",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewerKind::Sponsors => "The guest's sponsors",
            ReviewerKind::Owners => "The group's or app's owners",
            ReviewerKind::Named => "Named users",
        }
    }
}

/// What a denial does when it is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DenyAction {
    /// The guest leaves the group, or loses the app; their account stays.
    RemoveAccess,
    /// The guest cannot sign in from then on, and is deleted after the grace period.
    DisableThenDelete,
}

#[cfg(feature = "sqlx")]
stored_as_text!(DenyAction { RemoveAccess = "RemoveAccess", DisableThenDelete = "DisableThenDelete" });

impl DenyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyAction::RemoveAccess => "RemoveAccess",
            DenyAction::DisableThenDelete => "DisableThenDelete",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [DenyAction::RemoveAccess, DenyAction::DisableThenDelete]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            DenyAction::RemoveAccess => "Remove from the group or app",
            DenyAction::DisableThenDelete => "Block sign-in, then delete after the grace period",
        }
    }
}

/// What happens to a guest nobody decided about (or only with "don't know").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotReviewedAction {
    /// Nothing: the guest keeps their access.
    Keep,
    /// As a denial.
    Deny,
    /// The recommendation at the end: a denial for a guest inactive then.
    Recommendation,
}

#[cfg(feature = "sqlx")]
stored_as_text!(NotReviewedAction { Keep = "Keep", Deny = "Deny", Recommendation = "Recommendation" });

impl NotReviewedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            NotReviewedAction::Keep => "Keep",
            NotReviewedAction::Deny => "Deny",
            NotReviewedAction::Recommendation => "Recommendation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            NotReviewedAction::Keep,
            NotReviewedAction::Deny,
            NotReviewedAction::Recommendation,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            NotReviewedAction::Keep => "Nothing: they keep their access",
            NotReviewedAction::Deny => "As if denied",
            NotReviewedAction::Recommendation => "Follow the recommendation",
        }
    }
}

/// A reviewer's decision about one guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decision {
    NotReviewed,
    Approve,
    Deny,
    DontKnow,
}

#[cfg(feature = "sqlx")]
stored_as_text!(Decision { NotReviewed = "NotReviewed", Approve = "Approve", Deny = "Deny", DontKnow = "DontKnow" });

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::NotReviewed => "NotReviewed",
            Decision::Approve => "Approve",
            Decision::Deny => "Deny",
            Decision::DontKnow => "DontKnow",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Decision::NotReviewed,
            Decision::Approve,
            Decision::Deny,
            Decision::DontKnow,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::NotReviewed => "Not reviewed",
            Decision::Approve => "Approve",
            Decision::Deny => "Deny",
            Decision::DontKnow => "Don't know",
        }
    }
}

/// An access review as listed and at the head of its pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ReviewSummary {
    pub id: String,
    pub name: String,
    pub scope: ReviewScope,
    /// The group or app, or how many days without a sign-in; empty for all guests.
    pub scope_name: String,
    pub reviewers: ReviewerKind,
    pub deny_action: DenyAction,
    pub not_reviewed: NotReviewedAction,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "SqlFlag"))]
    pub auto_apply: bool,
    pub started_by: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// When the decisions were applied (automatically or by an administrator).
    pub applied_at: Option<i64>,
    pub guests: i64,
    pub decided: i64,
}

/// One guest in a reviewer's queue, with what Portico recommends and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub guest_id: String,
    pub display_name: String,
    pub email: String,
    pub last_sign_in_at: Option<i64>,
    pub decision: Decision,
    pub reason: String,
    /// Who decided last, when someone did.
    pub decided_by: Option<String>,
    pub recommendation: Decision,
    pub recommendation_reason: String,
}

/// A review as one of its reviewers sees it: the guests they decide about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewQueue {
    pub review: ReviewSummary,
    /// False once the review ended: decisions are shown, not taken.
    pub open: bool,
    pub items: Vec<ReviewItem>,
}

/// A review waiting for the signed-in person, for the access panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct MyReview {
    pub id: String,
    pub name: String,
    pub ends_at: i64,
    pub guests: i64,
    pub undecided: i64,
}

/// One guest of a review on its results page and in its CSV export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ReviewResult {
    pub guest_id: String,
    pub guest_name: String,
    pub guest_email: String,
    /// The guest's reviewers, by name, separated by commas.
    pub reviewers: String,
    pub decision: Decision,
    pub reason: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// What applying did ("Removed from Wiki", "Kept", …), once applied.
    pub outcome: Option<String>,
    pub applied_at: Option<i64>,
}

/// A review's results, for administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewResults {
    pub review: ReviewSummary,
    /// The review has ended and its decisions wait to be applied.
    pub may_apply: bool,
    /// The review is running and may be stopped early.
    pub may_stop: bool,
    pub rows: Vec<ReviewResult>,
}

/// The results as CSV: a header line, then one line per guest.
pub fn results_csv(results: &ReviewResults) -> String {
    let mut out = String::from(
        "guest,email,reviewers,decision,reason,decided by,decided at,outcome,applied at\r\n",
    );
    let time = |at: Option<i64>| at.map(crate::format::datetime).unwrap_or_default();
    for row in &results.rows {
        let fields = [
            row.guest_name.clone(),
            row.guest_email.clone(),
            row.reviewers.clone(),
            row.decision.label().to_string(),
            row.reason.clone(),
            row.decided_by.clone().unwrap_or_default(),
            time(row.decided_at),
            row.outcome.clone().unwrap_or_default(),
            time(row.applied_at),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV field, quoted when it must be; a leading formula character is defused so that a
/// spreadsheet does not run a guest's display name.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Pat"), "Pat");
        assert_eq!(csv_field("Doe, Pat"), "\"Doe, Pat\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
