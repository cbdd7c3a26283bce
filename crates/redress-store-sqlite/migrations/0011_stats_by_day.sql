-- The statistics tables are keyed by day first. A registration or a save adds a few dozen
-- cells and rollup rows, nearly all of one day; keyed by measure first they fell on as many
-- pages of the tables, each written at every commit. By day first they share a few pages.
-- A question names its days one by one (`day IN (...)`), so it still reads only its measure.
--
-- The rollup also keeps every row (but those by handler) with the department folded
-- (department '*', `redress_analytics::cells::ALL_DEPARTMENTS`): an institution-wide question
-- reads one row per value and day, however many departments there are.
CREATE TABLE stat_cells_by_day (
    day           INTEGER NOT NULL,
    measure       TEXT NOT NULL,
    department    TEXT NOT NULL,
    handler       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    business_type TEXT NOT NULL,
    cause         TEXT NOT NULL,
    severity      TEXT NOT NULL,
    product       TEXT NOT NULL,
    value         TEXT NOT NULL,
    n             INTEGER NOT NULL,
    total         INTEGER NOT NULL,
    PRIMARY KEY (day, measure, department, handler, channel, business_type, cause, severity, product, value)
) WITHOUT ROWID;

INSERT INTO stat_cells_by_day (day, measure, department, handler, channel, business_type, cause, severity, product, value, n, total)
SELECT day, measure, department, handler, channel, business_type, cause, severity, product, value, n, total FROM stat_cells;

DROP TABLE stat_cells;
ALTER TABLE stat_cells_by_day RENAME TO stat_cells;

CREATE TABLE stat_daily_by_day (
    day        INTEGER NOT NULL,
    measure    TEXT NOT NULL,
    breakdown  TEXT NOT NULL,
    department TEXT NOT NULL,
    handler    TEXT NOT NULL,
    key        TEXT NOT NULL,
    n          INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    PRIMARY KEY (day, measure, breakdown, department, handler, key)
) WITHOUT ROWID;

INSERT INTO stat_daily_by_day (day, measure, breakdown, department, handler, key, n, total)
SELECT day, measure, breakdown, department, handler, key, n, total FROM stat_daily;

INSERT INTO stat_daily_by_day (day, measure, breakdown, department, handler, key, n, total)
SELECT day, measure, breakdown, '*', handler, key, SUM(n), SUM(total) FROM stat_daily
WHERE breakdown <> 'by_handler'
GROUP BY day, measure, breakdown, handler, key;

DROP TABLE stat_daily;
ALTER TABLE stat_daily_by_day RENAME TO stat_daily;
