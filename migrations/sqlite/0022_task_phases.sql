-- Each key task's phases: the spans of days over which, counting the events dated up to each
-- day, it was green, yellow, red, awaiting verification, verified (on time or late) or
-- cancelled. Written with the task's record by every projection of it, so that the tasks report
-- as of any day is a lookup of the span holding that day, not a replay of events. Tasks stored
-- before this table are given their phases when the application opens.
-- Kept in step with migrations/postgres/0022_task_phases.sql.
CREATE TABLE task_phase (
    task_no              TEXT NOT NULL,
    phase                TEXT NOT NULL,
    from_day             TEXT NOT NULL,
    until_day            TEXT,
    path                 TEXT NOT NULL,
    lead_department_code TEXT,
    origin               TEXT,
    PRIMARY KEY (task_no, from_day)
);
CREATE INDEX task_phase_from_day ON task_phase(from_day);
