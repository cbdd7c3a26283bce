-- The statistics tables are keyed by day first. A registration or a save adds a few dozen
-- cells and rollup rows, nearly all of one day; keyed by measure first they fell on as many
-- pages of the keys' indexes. By day first they share a few pages. A question names its days
-- one by one (`day IN (...)`), so it still reads only its measure.
--
-- The rollup also keeps every row (but those by handler) with the department folded
-- (department '*', `redress_analytics::cells::ALL_DEPARTMENTS`): an institution-wide question
-- reads one row per value and day, however many departments there are.
ALTER TABLE stat_cells DROP CONSTRAINT stat_cells_pkey;
ALTER TABLE stat_cells ADD PRIMARY KEY (day, measure, department, handler, channel, business_type, cause, severity, product, value);

INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, '*', handler, breakdown, key, SUM(n), SUM(total) FROM stat_daily
WHERE breakdown <> 'by_handler'
GROUP BY measure, day, handler, breakdown, key;

ALTER TABLE stat_daily DROP CONSTRAINT stat_daily_pkey;
ALTER TABLE stat_daily ADD PRIMARY KEY (day, measure, breakdown, department, handler, key);
