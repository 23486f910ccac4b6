-- A tally row is matched to a viewer's scope by its venue's and department's codes (looked up
-- in org_unit when a report runs), so it no longer carries their paths: a third of each row,
-- and of the pages every ingestion chunk rewrites (decision 0019).
-- Kept in step with migrations/postgres/0012_tallies_without_paths.sql.
CREATE TABLE case_tally_lean (
    period          TEXT NOT NULL,
    venue_code      TEXT NOT NULL,
    department_code TEXT NOT NULL,
    item_code       TEXT NOT NULL,
    level           INTEGER NOT NULL,
    on_time         BIGINT NOT NULL,
    overdue         BIGINT NOT NULL,
    PRIMARY KEY (period, venue_code, department_code, item_code)
) WITHOUT ROWID;
INSERT INTO case_tally_lean (period, venue_code, department_code, item_code, level, on_time, overdue)
SELECT period, venue_code, department_code, item_code, level, on_time, overdue FROM case_tally;
DROP TABLE case_tally;
ALTER TABLE case_tally_lean RENAME TO case_tally;
