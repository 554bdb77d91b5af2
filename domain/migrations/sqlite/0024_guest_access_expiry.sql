-- Guest access that ends unless renewed (Entra's sponsors and clean-up, reference §8).
--
-- The tenant's settings: how long a guest's access lasts from acceptance (NULL: never,
-- the default, so nothing changes for an organization until it chooses a period), how many
-- days before the end the sponsors and the guest are told, and how long a guest whose
-- access ended stays (disabled, restorable) before being deleted.
ALTER TABLE tenants ADD COLUMN guest_access_days INTEGER
    CHECK (guest_access_days IS NULL OR guest_access_days BETWEEN 1 AND 3650);
ALTER TABLE tenants ADD COLUMN guest_access_notice_days INTEGER NOT NULL DEFAULT 14
    CHECK (guest_access_notice_days BETWEEN 1 AND 365);
ALTER TABLE tenants ADD COLUMN guest_deletion_grace_days INTEGER NOT NULL DEFAULT 30
    CHECK (guest_deletion_grace_days BETWEEN 0 AND 365);

-- The period chosen for an invitation (NULL: never): the tenant's default unless the
-- inviter chose another. Accepting starts it.
ALTER TABLE invitations ADD COLUMN access_days INTEGER
    CHECK (access_days IS NULL OR access_days BETWEEN 1 AND 3650);

-- A guest's access: when it ends (NULL: never; guests who accepted before this migration
-- have no end), the end the notice was sent for (so it goes once per period), and once it
-- ended, when and why, and when the guest is deleted unless restored.
ALTER TABLE users ADD COLUMN access_ends_at INTEGER;
ALTER TABLE users ADD COLUMN access_notice_for INTEGER;
ALTER TABLE users ADD COLUMN access_ended_at INTEGER;
ALTER TABLE users ADD COLUMN access_end_reason TEXT;
ALTER TABLE users ADD COLUMN delete_after INTEGER;

CREATE INDEX users_by_access_end ON users (access_ends_at) WHERE access_ends_at IS NOT NULL;
CREATE INDEX users_by_delete_after ON users (delete_after) WHERE delete_after IS NOT NULL;
