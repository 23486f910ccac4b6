-- What each API key is for (space-separated words: case_events task_events orders open311
-- reports); the routes of each purpose refuse other keys. Keys made before keep every purpose,
-- so that no connected system stops; an administrator narrows them by issuing new keys.
ALTER TABLE api_key ADD COLUMN purposes TEXT NOT NULL DEFAULT 'case_events task_events orders open311 reports';
