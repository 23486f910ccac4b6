-- A tally row is matched to a viewer's scope by its venue's and department's codes (looked up
-- in org_unit when a report runs), so it no longer carries their paths (decision 0019).
-- Kept in step with migrations/sqlite/0012_tallies_without_paths.sql.
ALTER TABLE case_tally DROP COLUMN path, DROP COLUMN department_path;
