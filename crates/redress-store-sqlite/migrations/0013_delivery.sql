-- Delivery of customer messages: the channel each message goes by, its attempts, the time it
-- is next due (the next attempt while pending, the end of the claim while sending), the claim
-- of the worker sending it, the provider's message id and answer, and when it was sent and
-- when it was delivered or failed.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'none';
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claim TEXT;
ALTER TABLE outbox ADD COLUMN provider_id TEXT;
ALTER TABLE outbox ADD COLUMN detail TEXT;
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
ALTER TABLE outbox ADD COLUMN finished_at INTEGER;

UPDATE outbox SET channel = CASE
    WHEN json_extract(body, '$.recipient') LIKE '%@%' THEN 'email'
    WHEN trim(coalesce(json_extract(body, '$.recipient'), '')) <> '' THEN 'sms'
    ELSE 'none' END,
  due_at = created_at;

DROP INDEX outbox_pending;
CREATE INDEX outbox_due ON outbox (due_at, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_provider ON outbox (channel, provider_id) WHERE provider_id IS NOT NULL;
