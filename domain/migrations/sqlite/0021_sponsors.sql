-- A guest's sponsors: members of the guest's organization who answer for them (one to
-- five; the inviter unless chosen). A sponsor who is disabled or deleted is replaced by
-- the organization's fallback sponsor in the same transaction (domain::sponsors); the
-- rows go with either user.
CREATE TABLE sponsors (
    guest_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sponsor_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (guest_id, sponsor_id)
) WITHOUT ROWID;
CREATE INDEX sponsors_by_sponsor ON sponsors (sponsor_id);

-- Who takes the place of a sponsor who leaves, and sponsors guests invited by the command
-- line or a program without a sponsor named.
ALTER TABLE tenants ADD COLUMN fallback_sponsor_id TEXT REFERENCES users(id) ON DELETE SET NULL;

-- Guests invited before sponsors existed: the latest of their inviters who is an enabled
-- member of the guest's organization (one sponsor each; SQLite takes the bare columns from
-- the row of the max).
INSERT OR IGNORE INTO sponsors (guest_id, sponsor_id, added_at)
SELECT i.user_id, i.inviter_id, max(i.created_at)
FROM invitations i
JOIN users g ON g.id = i.user_id
JOIN users s ON s.id = i.inviter_id
WHERE g.user_type = 'Guest' AND s.user_type = 'Member' AND s.enabled = 1
  AND s.tenant_id = g.tenant_id
GROUP BY i.user_id;
