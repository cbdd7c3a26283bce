-- The daily rollup folds the handler in its 'value' rows (most questions do not ask by
-- handler, and a large institution has many) and keeps the handler-carrying measures by
-- handler in rows of their own ('by_handler'), as `redress_analytics::cells::daily_of` now
-- writes them.
INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, handler, 'by_handler', key, n, total FROM stat_daily
WHERE breakdown = 'value' AND measure IN ('repeat', 'closed', 'closed_on_time', 'resolution', 'upheld', 'redress', 'handling_days', 'closed_within', 'reopened', 'escalated', 'closed_referral', 'follow_up');

CREATE TEMPORARY TABLE folded_daily AS
SELECT measure, day, department, key, SUM(n) AS n, SUM(total) AS total FROM stat_daily
WHERE breakdown = 'value' AND measure IN ('repeat', 'closed', 'closed_on_time', 'resolution', 'upheld', 'redress', 'handling_days', 'closed_within', 'reopened', 'escalated', 'closed_referral', 'follow_up')
GROUP BY measure, day, department, key;

DELETE FROM stat_daily WHERE breakdown = 'value' AND measure IN ('repeat', 'closed', 'closed_on_time', 'resolution', 'upheld', 'redress', 'handling_days', 'closed_within', 'reopened', 'escalated', 'closed_referral', 'follow_up');

INSERT INTO stat_daily (measure, day, department, handler, breakdown, key, n, total)
SELECT measure, day, department, '', 'value', key, n, total FROM folded_daily;

DROP TABLE folded_daily;
