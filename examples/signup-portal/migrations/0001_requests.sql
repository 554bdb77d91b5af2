-- Partners' requests and what became of them.
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    company TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- pending: waiting for an approver; approved: by an approver; auto_approved: by a
    -- domain rule; denied: by an approver.
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'auto_approved', 'denied')),
    -- The domain rule that approved it in advance.
    rule_domain TEXT,
    decided_at INTEGER,
    decided_by_name TEXT,
    decided_by_email TEXT,
    comment TEXT NOT NULL DEFAULT '',
    -- From Portico's answer to the invitation.
    invitation_id TEXT,
    user_id TEXT,
    -- What went wrong last (an invitation Portico refused, a group it could not add to).
    problem TEXT
);

-- One open request per address.
CREATE UNIQUE INDEX requests_pending_email ON requests (email) WHERE status = 'pending';
CREATE INDEX requests_status ON requests (status, id);

-- Approvers signed in to the portal.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
