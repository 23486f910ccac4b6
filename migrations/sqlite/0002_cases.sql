-- Approval cases: the append-only events and the state projected from them.
-- Kept in step with migrations/postgres/0002_cases.sql.

CREATE TABLE sequence_counter (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO sequence_counter (name, value) VALUES ('case_event_arrival', 0);

CREATE TABLE case_event (
    event_id    TEXT PRIMARY KEY,
    case_no     TEXT NOT NULL,
    type        TEXT NOT NULL,
    at          TEXT NOT NULL,
    local_date  TEXT NOT NULL,
    arrival     BIGINT NOT NULL,
    reported_at TEXT NOT NULL,
    content     TEXT NOT NULL,
    source      TEXT NOT NULL
);
CREATE INDEX case_event_case ON case_event(case_no);

CREATE TABLE case_record (
    case_no         TEXT PRIMARY KEY,
    status          TEXT NOT NULL,
    item_code       TEXT,
    department_code TEXT,
    venue_code      TEXT,
    level           INTEGER,
    path            TEXT NOT NULL,
    received_on     TEXT,
    accepted_on     TEXT,
    ended_on        TEXT,
    deadline        TEXT,
    limit_days      INTEGER NOT NULL,
    stopped_days    INTEGER NOT NULL,
    stopped_since   TEXT,
    outcome         TEXT NOT NULL,
    outcome_date    TEXT,
    anomalies       INTEGER NOT NULL,
    state           TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX case_record_outcome ON case_record(outcome, outcome_date);
CREATE INDEX case_record_path ON case_record(path);
