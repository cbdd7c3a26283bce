-- Complaints: one JSON document per complaint plus the columns that are queried.
CREATE TABLE complaints (
    id            TEXT PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL,
    is_open       INTEGER NOT NULL,
    being_handled INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    department    TEXT NOT NULL,
    handler_id    TEXT,
    business_type TEXT,
    cause         TEXT,
    severity      TEXT NOT NULL,
    due_state     TEXT NOT NULL,
    watch_at      INTEGER,
    duplicate_key TEXT,
    external_ref  TEXT UNIQUE,
    version       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX complaints_newest ON complaints (received_at DESC, id DESC);
CREATE INDEX complaints_department_newest ON complaints (department, received_at DESC, id DESC);
CREATE INDEX complaints_handler_newest ON complaints (handler_id, received_at DESC, id DESC);
CREATE INDEX complaints_status_newest ON complaints (status, received_at DESC, id DESC);
CREATE INDEX complaints_watch ON complaints (watch_at) WHERE watch_at IS NOT NULL;
CREATE INDEX complaints_duplicates ON complaints (duplicate_key, received_at) WHERE duplicate_key IS NOT NULL AND being_handled = 1;

-- The history: append-only, enforced by the database itself.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id TEXT NOT NULL REFERENCES complaints (id),
    seq          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    action       TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (complaint_id, seq)
);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id TEXT NOT NULL REFERENCES complaints (id),
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    created_at   INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX outbox_complaint ON outbox (complaint_id, id);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';

CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    role         TEXT NOT NULL,
    department   TEXT,
    complaint_id TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (role, department, id);

CREATE TABLE label_corrections (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id TEXT NOT NULL,
    at           INTEGER NOT NULL,
    body         TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    department    TEXT,
    token_hash    TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    open_load     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX users_least_loaded ON users (department, role, active, open_load, id);

CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    complaint_id TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE serials (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO serials (name, value) VALUES ('complaint', 0);
