-- Every e-mail taken in, kept whole with what became of it: a complaint registered, a reply
-- joined to one, a receipt, ignored (automatic replies, loops, lists) or refused (unreadable,
-- too large). The key (the SHA-256 of the message) makes taking the same message again a no-op.
CREATE TABLE inbound_mail (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          TEXT COLLATE "C" NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    taken_at     BIGINT NOT NULL,
    message_id   TEXT,
    sender       TEXT,
    subject      TEXT,
    outcome      TEXT NOT NULL,
    complaint_id TEXT,
    reason       TEXT,
    size         BIGINT NOT NULL,
    raw          BYTEA NOT NULL
);
CREATE INDEX inbound_mail_outcome ON inbound_mail (outcome, id);
