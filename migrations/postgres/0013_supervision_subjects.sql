-- Alerts and supervision notices name their subject: a kind (case, order, task, finding,
-- review) and its id, instead of a case number into which hotline orders squeezed theirs. Every
-- subject the office supervises runs the same flow and queues (docs/decisions/0020).
-- Kept in step with migrations/sqlite/0013_supervision_subjects.sql.
ALTER TABLE alert RENAME COLUMN case_no TO subject_id;
ALTER TABLE alert ADD COLUMN subject_kind TEXT NOT NULL DEFAULT 'case';
UPDATE alert SET subject_kind = 'order' WHERE kind LIKE 'order\_%' ESCAPE '\';
DROP INDEX alert_case;
CREATE INDEX alert_subject ON alert(subject_kind, subject_id);

ALTER TABLE supervision_notice RENAME COLUMN case_no TO subject_id;
ALTER TABLE supervision_notice ADD COLUMN subject_kind TEXT NOT NULL DEFAULT 'case';
UPDATE supervision_notice SET subject_kind = (SELECT a.subject_kind FROM alert a WHERE a.id = supervision_notice.alert_id);
DROP INDEX supervision_notice_case;
CREATE INDEX supervision_notice_subject ON supervision_notice(subject_kind, subject_id);

-- The application always names the kind; the default only filled the existing rows.
ALTER TABLE alert ALTER COLUMN subject_kind DROP DEFAULT;
ALTER TABLE supervision_notice ALTER COLUMN subject_kind DROP DEFAULT;
