-- What the bank's other systems are told (registered, status changed, due soon, overdue): one
-- row per such event, written in the transaction of the change, claimed and posted to every
-- subscribed endpoint by the webhook dispatcher, removed once every endpoint has it.
CREATE TABLE webhook_feed (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id TEXT COLLATE "C" NOT NULL,
    event        TEXT NOT NULL,
    at           BIGINT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    due_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    claim        TEXT,
    delivered_to TEXT NOT NULL DEFAULT '[]',
    detail       TEXT
);
CREATE INDEX webhook_feed_due ON webhook_feed (due_at, id) WHERE state IN ('pending', 'sending');
