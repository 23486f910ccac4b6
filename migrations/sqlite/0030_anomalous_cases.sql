-- The cases with an anomaly, by the day they settled: the evaluation's `cases.anomalies` counts
-- them per department over a period, and without this index read every case of the table.
-- Few cases carry an anomaly, so the index is small and costs the writes little.
-- Kept in step with migrations/postgres/0030_anomalous_cases.sql.
CREATE INDEX case_record_anomalous ON case_record(outcome_date) WHERE anomalies > 0;
