-- External collaboration settings, with Microsoft Entra's values: who may invite guests
-- (`allowInvitesFrom`), what guests may see of the directory (the `guestUserRoleId` of
-- the level: same as members, limited, restricted), and the collaboration restrictions,
-- one list of domains that is either the only ones guests may come from ('allow') or
-- the ones they may not come from ('deny'; empty, the default, lets anyone in).
ALTER TABLE tenants ADD COLUMN allow_invites_from TEXT NOT NULL
    DEFAULT 'adminsGuestInvitersAndAllMembers'
    CHECK (allow_invites_from IN ('everyone', 'adminsGuestInvitersAndAllMembers',
                                  'adminsAndGuestInviters', 'none'));
ALTER TABLE tenants ADD COLUMN guest_user_role_id TEXT NOT NULL
    DEFAULT '10dae51f-b6af-4016-8d66-8c2a99b929b3'
    CHECK (guest_user_role_id IN ('a0b1b346-4d3e-4e8b-98f8-753987be4970',
                                  '10dae51f-b6af-4016-8d66-8c2a99b929b3',
                                  '2af84b1e-32c8-42b7-82bc-daa82404023b'));
ALTER TABLE tenants ADD COLUMN collaboration_list TEXT NOT NULL DEFAULT 'deny'
    CHECK (collaboration_list IN ('allow', 'deny'));

-- The list's entries, in the one form Portico compares (lower case, ASCII): `example.com`
-- or `*.example.com` (its subdomains only).
CREATE TABLE collaboration_domains (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    entry TEXT NOT NULL,
    PRIMARY KEY (tenant_id, entry)
) WITHOUT ROWID;
