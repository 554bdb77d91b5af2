-- Access reviews of guests (domain::reviews): an administrator starts one over a set of
-- guests, snapshotted then (one decision row per guest, with that guest's reviewers);
-- reviewers decide until it ends; at the end its decisions are applied, automatically or
-- by an administrator. Names are copied so the results stay readable after a guest, a
-- reviewer or the group or app is deleted.
CREATE TABLE access_reviews (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    -- The group or app reviewed (a group's or app's id; none for all or inactive guests).
    scope_id TEXT,
    scope_name TEXT NOT NULL,
    reviewers TEXT NOT NULL,
    deny_action TEXT NOT NULL,
    not_reviewed TEXT NOT NULL,
    auto_apply INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    -- When reviewers with guests undecided are reminded again, and when that was done.
    remind_at INTEGER NOT NULL,
    reminded_at INTEGER,
    applied_at INTEGER
);
CREATE INDEX access_reviews_by_tenant ON access_reviews (tenant_id, starts_at);
-- Reviews that ended and wait to be applied automatically, or whose reminder is due.
CREATE INDEX access_reviews_open ON access_reviews (ends_at) WHERE applied_at IS NULL;

CREATE TABLE access_review_decisions (
    review_id TEXT NOT NULL REFERENCES access_reviews(id) ON DELETE CASCADE,
    guest_id TEXT NOT NULL,
    guest_name TEXT NOT NULL,
    guest_email TEXT NOT NULL,
    decision TEXT NOT NULL DEFAULT 'NotReviewed',
    reason TEXT NOT NULL DEFAULT '',
    decided_by_id TEXT,
    decided_by TEXT,
    decided_at INTEGER,
    outcome TEXT,
    applied_at INTEGER,
    PRIMARY KEY (review_id, guest_id)
) WITHOUT ROWID;

-- Who decides about each guest of a review.
CREATE TABLE access_review_reviewers (
    review_id TEXT NOT NULL,
    guest_id TEXT NOT NULL,
    reviewer_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reviewer_name TEXT NOT NULL,
    PRIMARY KEY (review_id, guest_id, reviewer_id),
    FOREIGN KEY (review_id, guest_id) REFERENCES access_review_decisions(review_id, guest_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX access_review_reviewers_by_reviewer ON access_review_reviewers (reviewer_id, review_id);
