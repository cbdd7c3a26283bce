-- The statistics cells: for each key (measure, local day, department, handler, channel,
-- business type, cause, severity, product, value; text dimensions empty when there is none),
-- the count and the sum of every complaint's contribution (`redress_analytics::cells`). Intake
-- adds a new complaint's cells and every save adds its difference, in the same transaction as
-- the complaint, upserting in key order so that concurrent transactions lock the rows in one
-- order; a question sums the cells of a measure over a range of days, so the primary key
-- starts with those two. Keys whose count and sum went back to zero stay until a rebuild
-- (`redress stats rebuild`) and are left out of every answer. The "C" collation keeps the
-- order of keys byte-wise, as on SQLite.
CREATE TABLE stat_cells (
    measure       TEXT COLLATE "C" NOT NULL,
    day           INTEGER NOT NULL,
    department    TEXT COLLATE "C" NOT NULL,
    handler       TEXT COLLATE "C" NOT NULL,
    channel       TEXT COLLATE "C" NOT NULL,
    business_type TEXT COLLATE "C" NOT NULL,
    cause         TEXT COLLATE "C" NOT NULL,
    severity      TEXT COLLATE "C" NOT NULL,
    product       TEXT COLLATE "C" NOT NULL,
    value         TEXT COLLATE "C" NOT NULL,
    n             BIGINT NOT NULL,
    total         BIGINT NOT NULL,
    PRIMARY KEY (measure, day, department, handler, channel, business_type, cause, severity, product, value)
);

-- Who complained before: each complaint under the hashed keys of its complainant's ID number,
-- phone and e-mail (`redress_store::columns::identity_keys`), written with the complaint at
-- intake. The keys are SHA-256 hashes computed in Rust, which SQL does not compute here: the
-- complaints stored before this migration are not in this index until `redress stats rebuild`
-- files them (`Store::index_identity`).
CREATE TABLE complainant_keys (
    key          TEXT COLLATE "C" NOT NULL,
    complaint_id TEXT COLLATE "C" NOT NULL REFERENCES complaints (id),
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (key, complaint_id)
);
-- A person's complaints, newest first.
CREATE INDEX complainant_keys_newest ON complainant_keys (key, received_at, complaint_id);

-- What the jobs have told people of already (a hotspot alert per combination and week): a job
-- run on several servers, or again, notifies once (`Store::notify_once`).
CREATE TABLE notified_once (
    key TEXT COLLATE "C" PRIMARY KEY,
    at  BIGINT NOT NULL
);
