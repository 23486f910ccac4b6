-- Fewer trees to write per case event (decision 0016). Kept in step with
-- migrations/postgres/0010_lean_case_writes.sql.

-- A case's whole state is no longer stored beside its columns: the case page projects it from
-- the events it shows.
ALTER TABLE case_record DROP COLUMN state;

-- Only open cases have a time signal and a next signal instant; closed ones (nearly all, over
-- the years) stay out of these indexes.
DROP INDEX case_record_signal_due;
CREATE INDEX case_record_signal_due ON case_record(signal_due) WHERE signal_due IS NOT NULL;
DROP INDEX case_record_signal;
CREATE INDEX case_record_signal ON case_record(time_signal, venue_code, anomalies) WHERE time_signal IS NOT NULL;

-- A tally row is found by its key alone: one tree keyed by it, instead of a table and an index.
CREATE TABLE case_tally_by_key (
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
) WITHOUT ROWID;
INSERT INTO case_tally_by_key (period, venue_code, department_code, item_code, level, path, department_path, on_time,
    overdue)
SELECT period, venue_code, department_code, item_code, level, path, department_path, on_time, overdue FROM case_tally;
DROP TABLE case_tally;
ALTER TABLE case_tally_by_key RENAME TO case_tally;
