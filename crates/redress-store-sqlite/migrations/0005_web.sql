-- What the web front end keeps: sessions, failed sign-ins, tracking codes, single-use links,
-- the installation's shared secrets, notification reads; and the indexes of the work queue.

-- The interface language a user chose.
ALTER TABLE users ADD COLUMN language TEXT;

-- Sign-in sessions, by the hash of their id (the cookie never reaches the database).
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER,
    address    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, by throttling key (`user:NAME`, `addr:ADDRESS`); kept a day.
CREATE TABLE sign_in_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

-- The hash of the code a customer who submitted on the web follows their complaint with.
CREATE TABLE tracking_codes (
    complaint_id TEXT PRIMARY KEY REFERENCES complaints (id),
    code_hash    TEXT NOT NULL
);

-- Single-use links, once used.
CREATE TABLE consumed_links (
    link_id      TEXT PRIMARY KEY,
    complaint_id TEXT NOT NULL REFERENCES complaints (id),
    at           INTEGER NOT NULL
);

-- Secrets every application server of the installation shares (signing keys and the like).
CREATE TABLE installation_secrets (
    name   TEXT PRIMARY KEY,
    secret BLOB NOT NULL
);

-- Who has read which notification.
CREATE TABLE notification_reads (
    user_id         TEXT NOT NULL,
    notification_id INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (user_id, notification_id)
) WITHOUT ROWID;

-- The work queue: open complaints by deadline (none last), those of a handler and those of a
-- department that nobody is assigned to. The queries repeat the expression and the conditions
-- to the letter, as SQLite requires to use them. The due state and the columns of the
-- conditions ride along at the end, so the queue's counts read the index alone.
CREATE INDEX complaints_work_assigned ON complaints (handler_id, COALESCE(watch_at, 9223372036854775807), id, due_state, is_open) WHERE is_open = 1;
CREATE INDEX complaints_work_unassigned ON complaints (department, COALESCE(watch_at, 9223372036854775807), id, due_state, is_open, handler_id) WHERE is_open = 1 AND handler_id IS NULL;
