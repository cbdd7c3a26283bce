-- Text intelligence: search index, fingerprints, readings, incidents, trained models.

-- One row per indexed complaint: its search vector (tokens produced by the application, with
-- positions and field weights: A title, B narrative, C request, D notes), fingerprint and reading.
CREATE TABLE text_rows (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES complaints (id),
    received_at  BIGINT NOT NULL,
    document     TSVECTOR NOT NULL,
    fingerprint  BYTEA,
    reading      TEXT NOT NULL
);
CREATE INDEX text_rows_document ON text_rows USING GIN (document);

CREATE TABLE text_bands (
    band_key BIGINT NOT NULL,
    row_id   BIGINT NOT NULL,
    PRIMARY KEY (band_key, row_id)
);

CREATE TABLE incidents (
    id          TEXT COLLATE "C" PRIMARY KEY,
    label       TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    members     BIGINT NOT NULL,
    detected_at BIGINT NOT NULL,
    terms       TEXT NOT NULL
);
CREATE INDEX incidents_recent ON incidents (last_seen DESC);

CREATE TABLE incident_members (
    incident_id  TEXT COLLATE "C" NOT NULL REFERENCES incidents (id),
    complaint_id TEXT COLLATE "C" NOT NULL UNIQUE,
    received_at  BIGINT NOT NULL,
    similarity   REAL NOT NULL,
    PRIMARY KEY (incident_id, complaint_id)
);

CREATE TABLE detector_cursors (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO detector_cursors (name, value) VALUES ('incidents', 0);

CREATE TABLE models (
    id         TEXT COLLATE "C" PRIMARY KEY,
    target     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT FALSE,
    summary    TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    content    BYTEA NOT NULL
);
CREATE UNIQUE INDEX models_one_active ON models (target) WHERE active;
