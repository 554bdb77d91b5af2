-- The order a person's requests were made in. created_at counts seconds, so two requests
-- made in one second need a tie-break, and it must be one that PostgreSQL keeps too
-- (it has no rowid): each request of a person takes the next number.
ALTER TABLE access_requests ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE access_requests SET seq = rowid;
