-- No query can use an index on a case's paths: a scope is matched with substr(), exact on both
-- backends (decision 0003), so these two trees were only written, once per case and event.
-- Kept in step with migrations/postgres/0011_unused_case_indexes.sql.
DROP INDEX case_record_path;
DROP INDEX case_record_department_path;
