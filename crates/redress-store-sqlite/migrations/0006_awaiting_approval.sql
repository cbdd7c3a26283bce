-- Whether a complaint waits for someone's approval: a proposed resolution in status
-- `awaiting_approval`, or an extension request waiting for its decision (in any status). Derived
-- from the record like the other queried columns (`redress_store::columns`); the approvals list
-- reads it through its partial index instead of scanning the documents.
ALTER TABLE complaints ADD COLUMN awaiting_approval INTEGER NOT NULL DEFAULT 0;

-- Existing rows, from their documents. The documents are compact JSON (serde_json), so a
-- pending request always shows as `"pending_extension":{`; the cheap `instr` skips the parse for
-- every other row, and `json_extract` confirms (the text could also occur inside a string).
UPDATE complaints SET awaiting_approval = 1
WHERE status = 'awaiting_approval'
   OR (instr(body, '"pending_extension":{') > 0 AND json_type(body, '$.clock.pending_extension') = 'object');

-- The approvals list: newest first, per department, and for those who see every department
-- (without statistics SQLite would otherwise walk `complaints_newest` through the whole table to
-- find the few waiting rows). Both hold only the waiting complaints. The queries repeat the
-- condition (`= 1`) to the letter, as SQLite requires to use them.
CREATE INDEX complaints_awaiting_approval ON complaints (department, received_at DESC, id DESC) WHERE awaiting_approval = 1;
CREATE INDEX complaints_awaiting_approval_newest ON complaints (received_at DESC, id DESC) WHERE awaiting_approval = 1;
