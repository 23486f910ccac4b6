-- The monthly joint meeting (联席会议): its agenda (drafted from the records as of its day, then
-- edited by the office), its minutes, and its decisions, each of which became a key task
-- (origin meeting_decision). Kept in step with migrations/sqlite/0020_joint_meetings.sql.
CREATE TABLE meeting (
    id           TEXT PRIMARY KEY,
    -- 第 N 次, counted per office.
    number       BIGINT NOT NULL,
    title        TEXT NOT NULL,
    held_on      DATE NOT NULL,
    -- The departments invited, by code, separated by spaces.
    departments  TEXT NOT NULL,
    agenda       TEXT NOT NULL,
    minutes      TEXT NOT NULL,
    -- scheduled | held
    status       TEXT NOT NULL,
    -- The office that holds it: who sees and runs it.
    path         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX meeting_held_on ON meeting(held_on);
CREATE UNIQUE INDEX meeting_number ON meeting(path, number);

CREATE TABLE meeting_decision (
    id          TEXT PRIMARY KEY,
    meeting_id  TEXT NOT NULL REFERENCES meeting(id),
    seq         BIGINT NOT NULL,
    text        TEXT NOT NULL,
    task_no     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX meeting_decision_meeting ON meeting_decision(meeting_id, seq);
