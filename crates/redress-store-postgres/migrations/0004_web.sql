-- What the web front end keeps: sessions, failed sign-ins, tracking codes, single-use links,
-- the installation's shared secrets, notification reads; and the indexes of the work queue.

-- The interface language a user chose.
ALTER TABLE users ADD COLUMN language TEXT;

-- Sign-in sessions, by the hash of their id (the cookie never reaches the database).
CREATE TABLE sessions (
    id_hash    TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at BIGINT,
    address    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, by throttling key (`user:NAME`, `addr:ADDRESS`); kept a day.
CREATE TABLE sign_in_failures (
    id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

-- The hash of the code a customer who submitted on the web follows their complaint with.
CREATE TABLE tracking_codes (
    complaint_id TEXT COLLATE "C" PRIMARY KEY REFERENCES complaints (id),
    code_hash    TEXT NOT NULL
);

-- Single-use links, once used.
CREATE TABLE consumed_links (
    link_id      TEXT COLLATE "C" PRIMARY KEY,
    complaint_id TEXT COLLATE "C" NOT NULL REFERENCES complaints (id),
    at           BIGINT NOT NULL
);

-- Secrets every application server of the installation shares (signing keys and the like).
CREATE TABLE installation_secrets (
    name   TEXT COLLATE "C" PRIMARY KEY,
    secret BYTEA NOT NULL
);

-- Who has read which notification.
CREATE TABLE notification_reads (
    user_id         TEXT COLLATE "C" NOT NULL,
    notification_id BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);

-- The work queue: open complaints by deadline (none last), those of a handler and those of a
-- department that nobody is assigned to. The queries repeat the expression to the letter. The
-- due state rides along, so the queue's counts read the index alone.
CREATE INDEX complaints_work_assigned ON complaints (handler_id, (COALESCE(watch_at, 9223372036854775807)), id) INCLUDE (due_state) WHERE is_open;
CREATE INDEX complaints_work_unassigned ON complaints (department, (COALESCE(watch_at, 9223372036854775807)), id) INCLUDE (due_state) WHERE is_open AND handler_id IS NULL;
