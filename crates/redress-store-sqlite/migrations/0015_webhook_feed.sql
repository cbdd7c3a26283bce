-- What the bank's other systems are told (registered, status changed, due soon, overdue): one
-- row per such event, written in the transaction of the change, claimed and posted to every
-- subscribed endpoint by the webhook dispatcher, removed once every endpoint has it.
CREATE TABLE webhook_feed (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id TEXT NOT NULL,
    event        TEXT NOT NULL,
    at           INTEGER NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    due_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    claim        TEXT,
    delivered_to TEXT NOT NULL DEFAULT '[]',
    detail       TEXT
);
CREATE INDEX webhook_feed_due ON webhook_feed (due_at, id) WHERE state IN ('pending', 'sending');
