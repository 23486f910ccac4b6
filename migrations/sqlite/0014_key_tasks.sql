-- Key tasks (重点工作): the append-only events other systems and the office's pages report, and
-- each task's record as of today (for lists and scope). Figures as of a date are projected from
-- the events, never read from the record.
-- Kept in step with migrations/postgres/0014_key_tasks.sql.
INSERT INTO sequence_counter (name, value) VALUES ('task_event_arrival', 0);

CREATE TABLE task_event (
    event_id    TEXT PRIMARY KEY,
    task_no     TEXT NOT NULL,
    type        TEXT NOT NULL,
    at          TEXT NOT NULL,
    local_date  TEXT NOT NULL,
    arrival     BIGINT NOT NULL,
    reported_at TEXT NOT NULL,
    content     TEXT NOT NULL,
    source      TEXT NOT NULL
);
CREATE INDEX task_event_task ON task_event(task_no);

CREATE TABLE task_record (
    task_no              TEXT PRIMARY KEY,
    title                TEXT,
    origin               TEXT,
    lead_department_code TEXT,
    -- The lead department's path ('/' while the task waits for its assignment: city-wide only).
    path                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    assigned_on          TEXT,
    due                  TEXT,
    closed_on            TEXT,
    anomalies            BIGINT NOT NULL,
    -- Today's light of an open task, the day it took that light, and the next day it may
    -- change (the monitor looks at the tasks whose day has come).
    light                TEXT,
    light_since          TEXT,
    light_due            TEXT,
    updated_at           TEXT NOT NULL
);
CREATE INDEX task_record_assigned ON task_record(assigned_on);
CREATE INDEX task_record_light_due ON task_record(light_due);
