-- Text intelligence: search index, fingerprints, readings, incidents, trained models.

-- One row per indexed complaint. Its integer id is the full-text row id, so the index never
-- depends on the complaints table's implicit rowid (which VACUUM may renumber).
CREATE TABLE text_rows (
    id           INTEGER PRIMARY KEY,
    complaint_id TEXT NOT NULL UNIQUE REFERENCES complaints (id),
    received_at  INTEGER NOT NULL,
    fingerprint  BLOB,
    reading      TEXT NOT NULL
);

-- Tokens only (produced by the application: words, CJK bigrams); the text itself lives in the
-- complaint record, so the index keeps no copy of it.
CREATE VIRTUAL TABLE text_search USING fts5 (
    title, narrative, request, notes,
    tokenize = 'unicode61 remove_diacritics 0',
    content = '',
    contentless_delete = 1
);

-- Locality-sensitive-hashing bands of the fingerprints: complaints sharing a key are
-- candidates for similarity.
CREATE TABLE text_bands (
    band_key INTEGER NOT NULL,
    row_id   INTEGER NOT NULL,
    PRIMARY KEY (band_key, row_id)
) WITHOUT ROWID;

CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    members     INTEGER NOT NULL,
    detected_at INTEGER NOT NULL,
    terms       TEXT NOT NULL
);
CREATE INDEX incidents_recent ON incidents (last_seen DESC);

CREATE TABLE incident_members (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    complaint_id TEXT NOT NULL UNIQUE,
    received_at  INTEGER NOT NULL,
    similarity   REAL NOT NULL,
    PRIMARY KEY (incident_id, complaint_id)
);

CREATE TABLE detector_cursors (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO detector_cursors (name, value) VALUES ('incidents', 0);

CREATE TABLE models (
    id         TEXT PRIMARY KEY,
    target     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    summary    TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    content    BLOB NOT NULL
);
CREATE UNIQUE INDEX models_one_active ON models (target) WHERE active = 1;
