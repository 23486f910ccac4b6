-- An order's deadlines may count days of a year whose official schedule is not entered yet
-- (Monday to Friday, reported as an estimate); they are recomputed when the year is entered.
-- Kept in step with migrations/postgres/0009_estimated_deadlines.sql.

ALTER TABLE work_order ADD COLUMN deadline_estimated INTEGER NOT NULL DEFAULT 0;
