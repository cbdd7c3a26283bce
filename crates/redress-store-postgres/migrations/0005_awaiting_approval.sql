-- Whether a complaint waits for someone's approval: a proposed resolution in status
-- `awaiting_approval`, or an extension request waiting for its decision (in any status). Derived
-- from the record like the other queried columns (`redress_store::columns`); the approvals list
-- reads it through its partial index instead of scanning the documents.
-- With a constant default, adding the column does not rewrite the table.
ALTER TABLE complaints ADD COLUMN awaiting_approval BOOLEAN NOT NULL DEFAULT FALSE;

-- Existing rows, from their documents. The documents are compact JSON (serde_json), so a
-- pending request always shows as `"pending_extension":{`; the cheap LIKE skips the jsonb parse
-- for every other row, and the jsonb path confirms (the text could also occur inside a string).
-- Only the rows that change are written.
UPDATE complaints SET awaiting_approval = TRUE
WHERE status = 'awaiting_approval'
   OR (body LIKE '%"pending_extension":{%' AND jsonb_typeof(body::jsonb #> '{clock,pending_extension}') = 'object');

-- The approvals list: newest first, per department.
CREATE INDEX complaints_awaiting_approval ON complaints (department, received_at DESC, id DESC) WHERE awaiting_approval;
