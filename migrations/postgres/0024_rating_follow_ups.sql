-- 好差评: each case keeps its rating (the last `rated` event in `at` order) and what the
-- follow-up of a bad one made of it, the ratings report reads tallies per month and day of
-- completion (as the overdue report does, decision 0009), and every bad rating opens a follow-up
-- (差评整改) the department works and the office verifies (decision 0028).
-- Kept in step with migrations/sqlite/0024_rating_follow_ups.sql.
ALTER TABLE case_record ADD COLUMN rating_level INTEGER;
ALTER TABLE case_record ADD COLUMN rating_default BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE case_record ADD COLUMN rated_on DATE;
-- '' as rated, 'set_aside' (appeal upheld), 'rectified_on_time' (verified, reported in time).
ALTER TABLE case_record ADD COLUMN rating_standing TEXT NOT NULL DEFAULT '';
-- Cases rated before this migration are marked (rating_level -1) and projected again when the
-- server next opens the database, which fills their ratings, tallies and follow-ups.
UPDATE case_record SET rating_level = -1 WHERE case_no IN (SELECT case_no FROM case_event WHERE type = 'rated');
CREATE INDEX case_record_unrated ON case_record(case_no) WHERE rating_level = -1;

-- Completed (approved or rejected) cases and their ratings, by the day or month of completion.
CREATE TABLE rating_tally (
    period                TEXT NOT NULL,
    venue_code            TEXT NOT NULL,
    department_code       TEXT NOT NULL,
    item_code             TEXT NOT NULL,
    completed             BIGINT NOT NULL,
    rated                 BIGINT NOT NULL,
    active                BIGINT NOT NULL,
    level1                BIGINT NOT NULL,
    level2                BIGINT NOT NULL,
    level3                BIGINT NOT NULL,
    level4                BIGINT NOT NULL,
    level5                BIGINT NOT NULL,
    set_aside             BIGINT NOT NULL,
    bad_rectified_on_time BIGINT NOT NULL,
    PRIMARY KEY (period, venue_code, department_code, item_code)
);
-- Cases stored before carry no rating yet: they count as completed, and those with ratings are
-- projected again when the server opens the database.
INSERT INTO rating_tally (period, venue_code, department_code, item_code, completed, rated, active, level1, level2,
                          level3, level4, level5, set_aside, bad_rectified_on_time)
SELECT to_char(ended_on, 'YYYY-MM'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, ''),
       COUNT(*), 0, 0, 0, 0, 0, 0, 0, 0, 0
FROM case_record WHERE status IN ('approved', 'rejected') AND ended_on IS NOT NULL
GROUP BY to_char(ended_on, 'YYYY-MM'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, '');
INSERT INTO rating_tally (period, venue_code, department_code, item_code, completed, rated, active, level1, level2,
                          level3, level4, level5, set_aside, bad_rectified_on_time)
SELECT to_char(ended_on, 'YYYY-MM-DD'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, ''),
       COUNT(*), 0, 0, 0, 0, 0, 0, 0, 0, 0
FROM case_record WHERE status IN ('approved', 'rejected') AND ended_on IS NOT NULL
GROUP BY to_char(ended_on, 'YYYY-MM-DD'), COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, '');

-- One follow-up per case with a bad rating: the department contacts the applicant, rectifies
-- and reports; the office verifies or returns it; the department may appeal once.
CREATE TABLE rating_followup (
    case_no         TEXT PRIMARY KEY,
    level           INTEGER NOT NULL,
    rated_on        DATE NOT NULL,
    contact_due     DATE NOT NULL,
    rectify_due     DATE NOT NULL,
    state           TEXT NOT NULL,
    contacted_on    DATE,
    replied_on      DATE,
    verified_on     DATE,
    appeal          TEXT,
    item_code       TEXT,
    department_code TEXT,
    venue_code      TEXT,
    path            TEXT NOT NULL,
    department_path TEXT NOT NULL,
    opened_at       TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX rating_followup_state ON rating_followup(state, rectify_due);
CREATE INDEX rating_followup_department ON rating_followup(department_path);
CREATE INDEX rating_followup_path ON rating_followup(path);

-- What was done on a follow-up, by whom, with the text and the names of the evidence.
CREATE TABLE rating_followup_step (
    id         TEXT PRIMARY KEY,
    case_no    TEXT NOT NULL,
    step       TEXT NOT NULL,
    on_date    DATE NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    note       TEXT NOT NULL,
    evidence   TEXT NOT NULL
);
CREATE INDEX rating_followup_step_case ON rating_followup_step(case_no, at);
