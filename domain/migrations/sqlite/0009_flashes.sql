-- What a form did, waiting for the page it leads back to (forms post without JavaScript).
-- Kept here, not in one process, so that any replica shows it. The content is sealed with
-- a key derived from the random id in the browser's cookie, which is never stored: a copy
-- of the database reads no secret a flash carries (a new client secret, a reset link).
CREATE TABLE flashes (
    id_hash TEXT PRIMARY KEY NOT NULL,
    -- The hash of the session it was made in; NULL when made signed out.
    session_hash TEXT,
    sealed BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX flashes_expiry ON flashes (expires_at);
