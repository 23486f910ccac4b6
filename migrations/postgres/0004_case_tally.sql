-- Tallies of settled cases (on time / overdue) by venue, department and item, per month
-- (period 'YYYY-MM') and per day ('YYYY-MM-DD'): a report reads whole months from the first and
-- the days at its ends from the second. Kept exact by ingestion (old contribution out, new in).
-- Kept in step with migrations/sqlite/0004_case_tally.sql.

CREATE TABLE case_tally (
    period          TEXT NOT NULL,
    venue_code      TEXT NOT NULL,
    department_code TEXT NOT NULL,
    item_code       TEXT NOT NULL,
    level           INTEGER NOT NULL,
    path            TEXT NOT NULL,
    department_path TEXT NOT NULL,
    on_time         BIGINT NOT NULL,
    overdue         BIGINT NOT NULL,
    PRIMARY KEY (period, venue_code, department_code, item_code)
);

INSERT INTO case_tally (period, venue_code, department_code, item_code, level, path, department_path, on_time, overdue)
SELECT to_char(outcome_date, 'YYYY-MM'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, ''),
       COALESCE(MAX(level), 0), MAX(path), MAX(department_path),
       SUM(CASE WHEN outcome = 'on_time' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'overdue' THEN 1 ELSE 0 END)
FROM case_record WHERE outcome IN ('on_time', 'overdue')
GROUP BY to_char(outcome_date, 'YYYY-MM'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, '');

INSERT INTO case_tally (period, venue_code, department_code, item_code, level, path, department_path, on_time, overdue)
SELECT to_char(outcome_date, 'YYYY-MM-DD'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, ''),
       COALESCE(MAX(level), 0), MAX(path), MAX(department_path),
       SUM(CASE WHEN outcome = 'on_time' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'overdue' THEN 1 ELSE 0 END)
FROM case_record WHERE outcome IN ('on_time', 'overdue')
GROUP BY to_char(outcome_date, 'YYYY-MM-DD'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, '');
