-- Fewer index entries to write per case event (decision 0016). Kept in step with
-- migrations/sqlite/0010_lean_case_writes.sql (where the tallies also become one tree keyed by
-- their primary key; PostgreSQL keeps a heap and its key's index).

-- A case's whole state is no longer stored beside its columns: the case page projects it from
-- the events it shows.
ALTER TABLE case_record DROP COLUMN state;

-- Only open cases have a time signal and a next signal instant; closed ones (nearly all, over
-- the years) stay out of these indexes.
DROP INDEX case_record_signal_due;
CREATE INDEX case_record_signal_due ON case_record(signal_due) WHERE signal_due IS NOT NULL;
DROP INDEX case_record_signal;
CREATE INDEX case_record_signal ON case_record(time_signal, venue_code, anomalies) WHERE time_signal IS NOT NULL;
