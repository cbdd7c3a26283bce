-- Complaints: one JSON document per complaint plus the columns that are queried.
-- Ids and names that lists sort on use the "C" collation, so that ordering and keyset
-- comparisons are byte-wise, whatever the database's locale.
CREATE TABLE complaints (
    id            TEXT COLLATE "C" PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL,
    is_open       BOOLEAN NOT NULL,
    being_handled BOOLEAN NOT NULL,
    channel       TEXT NOT NULL,
    received_at   BIGINT NOT NULL,
    department    TEXT NOT NULL,
    handler_id    TEXT,
    business_type TEXT,
    cause         TEXT,
    severity      TEXT NOT NULL,
    due_state     TEXT NOT NULL,
    watch_at      BIGINT,
    duplicate_key TEXT,
    external_ref  TEXT UNIQUE,
    version       BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX complaints_newest ON complaints (received_at DESC, id DESC);
CREATE INDEX complaints_department_newest ON complaints (department, received_at DESC, id DESC);
CREATE INDEX complaints_handler_newest ON complaints (handler_id, received_at DESC, id DESC);
CREATE INDEX complaints_status_newest ON complaints (status, received_at DESC, id DESC);
CREATE INDEX complaints_watch ON complaints (watch_at) WHERE watch_at IS NOT NULL;
CREATE INDEX complaints_duplicates ON complaints (duplicate_key, received_at) WHERE duplicate_key IS NOT NULL AND being_handled;

-- The history: append-only, enforced by the database itself.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id TEXT COLLATE "C" NOT NULL REFERENCES complaints (id),
    seq          BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    action       TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (complaint_id, seq)
);
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the history is append-only';
END;
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id TEXT COLLATE "C" NOT NULL REFERENCES complaints (id),
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    created_at   BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX outbox_complaint ON outbox (complaint_id, id);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';

CREATE TABLE notifications (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role         TEXT NOT NULL,
    department   TEXT,
    complaint_id TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (role, department, id);

CREATE TABLE label_corrections (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id TEXT NOT NULL,
    at           BIGINT NOT NULL,
    body         TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    department    TEXT,
    token_hash    TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    open_load     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX users_least_loaded ON users (department, role, active, open_load, id);

CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    complaint_id TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Complaint-number serial. A sequence rather than a counter row, so concurrent registrations
-- never wait on each other for a number; a rolled-back registration leaves a gap.
CREATE SEQUENCE complaint_serial AS BIGINT START WITH 1 MINVALUE 1;
