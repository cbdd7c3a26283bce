-- The daily rollup of the statistics cells: each cell with the complaint dimensions (channel,
-- business type, cause, severity, product) folded away, by its measure's breakdown
-- (breakdown 'value'), and for received complaints also by each of those dimensions. The
-- questions most analyses ask (by department, handler, day, breakdown, or received complaints
-- by one dimension) read a few rows per department and day here, whatever the number of
-- combinations; a question filtering on a dimension reads the cells. Kept in the same
-- transaction as the cells (`redress_analytics::cells::daily_of`).
CREATE TABLE stat_daily (
    measure    TEXT COLLATE "C" NOT NULL,
    day        INTEGER NOT NULL,
    department TEXT COLLATE "C" NOT NULL,
    handler    TEXT COLLATE "C" NOT NULL,
    breakdown  TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    n          BIGINT NOT NULL,
    total      BIGINT NOT NULL,
    PRIMARY KEY (measure, breakdown, day, department, handler, key)
);

INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'value', value, SUM(n), SUM(total) FROM stat_cells
GROUP BY measure, day, department, handler, value;
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'business_type', business_type, SUM(n), SUM(total) FROM stat_cells WHERE measure = 'received'
GROUP BY measure, day, department, handler, business_type;
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'cause', cause, SUM(n), SUM(total) FROM stat_cells WHERE measure = 'received'
GROUP BY measure, day, department, handler, cause;
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'channel', channel, SUM(n), SUM(total) FROM stat_cells WHERE measure = 'received'
GROUP BY measure, day, department, handler, channel;
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'severity', severity, SUM(n), SUM(total) FROM stat_cells WHERE measure = 'received'
GROUP BY measure, day, department, handler, severity;
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'product', product, SUM(n), SUM(total) FROM stat_cells WHERE measure = 'received'
GROUP BY measure, day, department, handler, product;
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'business_cause', business_type || chr(31) || cause, SUM(n), SUM(total) FROM stat_cells
WHERE measure = 'received' GROUP BY measure, day, department, handler, business_type, cause;
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, '', 'fca', business_type || chr(31) || cause || chr(31) || product || chr(31) || value, SUM(n), SUM(total) FROM stat_cells
WHERE measure IN ('received', 'closed', 'closed_within', 'upheld', 'redress', 'reopened')
GROUP BY measure, day, department, business_type, cause, product, value;
