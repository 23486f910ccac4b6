-- Each key task's phases: the spans of days over which, counting the events dated up to each
-- day, it was green, yellow, red, awaiting verification, verified (on time or late) or
-- cancelled. Written with the task's record by every projection of it, so that the tasks report
-- as of any day is a lookup of the spans holding that day, not a replay of events. Tasks stored
-- before this table are given their phases when the application opens.
--
-- A span with an end is stored in pieces of at most 31 days (docs/performance.md): the pieces
-- holding a day then all begin in the 31 days up to it, a range of the primary key. Spans
-- without an end (a light that holds until an event comes; a closed task) are few among the
-- open phases and found by the partial index, which also serves the verifications of a period
-- (it holds until_day too, so that SQLite reads the index alone, never the rows).
-- Kept in step with migrations/postgres/0022_task_phases.sql.
CREATE TABLE task_phase (
    from_day             TEXT NOT NULL,
    task_no              TEXT NOT NULL,
    until_day            TEXT,
    phase                TEXT NOT NULL,
    path                 TEXT NOT NULL,
    lead_department_code TEXT,
    origin               TEXT,
    PRIMARY KEY (from_day, task_no)
) WITHOUT ROWID;
CREATE INDEX task_phase_task ON task_phase(task_no);
CREATE INDEX task_phase_ended ON task_phase(phase, from_day, lead_department_code, origin, path, until_day)
    WHERE until_day IS NULL;
