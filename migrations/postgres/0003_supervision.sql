-- Supervision: each open case's signal and the instant it next changes (the monitor sleeps
-- until the earliest), the alerts raised on departments, and supervision notices with their steps.
-- Kept in step with migrations/sqlite/0003_supervision.sql.

ALTER TABLE case_record ADD COLUMN department_path TEXT NOT NULL DEFAULT '/';
-- The time signal of an open case (green, yellow, red); NULL once it is closed.
ALTER TABLE case_record ADD COLUMN time_signal TEXT;
ALTER TABLE case_record ADD COLUMN yellow_on DATE;
ALTER TABLE case_record ADD COLUMN red_on DATE;
-- What the deadline of the plan is for: decision, acceptance or receipt.
ALTER TABLE case_record ADD COLUMN plan_target TEXT NOT NULL DEFAULT 'decision';
-- When the time signal next changes; NULL when it never will.
ALTER TABLE case_record ADD COLUMN signal_due TIMESTAMPTZ;
CREATE INDEX case_record_signal_due ON case_record(signal_due);
CREATE INDEX case_record_department_path ON case_record(department_path);
-- Covers the dashboard's count of open cases per venue and light.
CREATE INDEX case_record_signal ON case_record(time_signal, venue_code, anomalies);

-- One row per background job: who holds it, until when. Several instances claim it with a
-- conditional UPDATE; the one whose update touched the row runs the job.
CREATE TABLE job_lease (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
INSERT INTO job_lease (name, owner, expires_at) VALUES ('monitor', '', '2000-01-01T00:00:00Z');

CREATE TABLE alert (
    id              TEXT PRIMARY KEY,
    -- case, kind and (for anomalies) event: the same alert is never raised twice.
    dedup_key       TEXT NOT NULL UNIQUE,
    case_no         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    message         TEXT NOT NULL,
    venue_code      TEXT,
    venue_path      TEXT NOT NULL,
    department_code TEXT,
    department_path TEXT NOT NULL,
    raised_at       TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL,
    note            TEXT,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX alert_case ON alert(case_no);
CREATE INDEX alert_status ON alert(status, raised_at);

CREATE TABLE supervision_notice (
    id              TEXT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    alert_id        TEXT NOT NULL REFERENCES alert(id),
    case_no         TEXT NOT NULL,
    department_code TEXT,
    department_path TEXT NOT NULL,
    venue_path      TEXT NOT NULL,
    instruction     TEXT NOT NULL,
    reply_by        DATE NOT NULL,
    issued_by       TEXT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL,
    card            TEXT,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX supervision_notice_case ON supervision_notice(case_no);
CREATE INDEX supervision_notice_status ON supervision_notice(status);

CREATE TABLE supervision_step (
    id         TEXT PRIMARY KEY,
    notice_id  TEXT NOT NULL REFERENCES supervision_notice(id),
    step       TEXT NOT NULL,
    note       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX supervision_step_notice ON supervision_step(notice_id);
