-- The commentary a department writes into a report (the quarterly supervision report's
-- analysis and remediation sections), kept per report and period, with who wrote it last.
CREATE TABLE report_notes (
    report_key TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
