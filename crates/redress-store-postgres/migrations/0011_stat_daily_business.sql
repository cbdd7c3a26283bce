-- The rollup by business type, for the questions filtered by one: every measure by business
-- type and breakdown value ('by_business_type', key `business type ␟ value`, handlers
-- folded), and received complaints by business type and channel, severity or product, as
-- `redress_analytics::cells::daily_of` now writes them; each also with the departments folded.
INSERT INTO stat_daily (day, measure, breakdown, department, handler, key, n, total)
SELECT day, measure, 'by_business_type', department, '', business_type || chr(31) || value, SUM(n), SUM(total) FROM stat_cells
GROUP BY day, measure, department, business_type, value
HAVING SUM(n) <> 0 OR SUM(total) <> 0;

INSERT INTO stat_daily (day, measure, breakdown, department, handler, key, n, total)
SELECT day, measure, 'business_channel', department, handler, business_type || chr(31) || channel, SUM(n), SUM(total) FROM stat_cells
WHERE measure = 'received'
GROUP BY day, measure, department, handler, business_type, channel
HAVING SUM(n) <> 0 OR SUM(total) <> 0;

INSERT INTO stat_daily (day, measure, breakdown, department, handler, key, n, total)
SELECT day, measure, 'business_severity', department, handler, business_type || chr(31) || severity, SUM(n), SUM(total) FROM stat_cells
WHERE measure = 'received'
GROUP BY day, measure, department, handler, business_type, severity
HAVING SUM(n) <> 0 OR SUM(total) <> 0;

INSERT INTO stat_daily (day, measure, breakdown, department, handler, key, n, total)
SELECT day, measure, 'business_product', department, handler, business_type || chr(31) || product, SUM(n), SUM(total) FROM stat_cells
WHERE measure = 'received'
GROUP BY day, measure, department, handler, business_type, product
HAVING SUM(n) <> 0 OR SUM(total) <> 0;

INSERT INTO stat_daily (day, measure, breakdown, department, handler, key, n, total)
SELECT day, measure, breakdown, '*', handler, key, SUM(n), SUM(total) FROM stat_daily
WHERE breakdown IN ('by_business_type', 'business_channel', 'business_severity', 'business_product')
GROUP BY day, measure, breakdown, handler, key;
