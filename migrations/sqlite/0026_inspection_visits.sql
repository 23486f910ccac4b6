-- A visit of an inspector to a venue drawn for a round, with the checklist as it stood when the
-- visit began (its text kept with the visit, so a later version never rewrites it), and the
-- findings recorded one by one as the inspector goes (nothing typed is lost when the connection
-- drops between them). A finding repeats an earlier one of the same item at the same venue
-- within the repeat window (repeat_of). Each finding's rectification is kept on its row.
-- Kept in step with migrations/postgres/0026_inspection_visits.sql.
CREATE TABLE inspection_visit (
    id                TEXT PRIMARY KEY,
    round_id          TEXT NOT NULL,
    venue_code        TEXT NOT NULL,
    path              TEXT NOT NULL,
    inspector         TEXT NOT NULL,
    inspector_name    TEXT NOT NULL,
    checklist_version BIGINT NOT NULL,
    checklist         TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    closed_at         TEXT,
    UNIQUE (round_id, venue_code)
);

CREATE TABLE inspection_finding (
    id              TEXT PRIMARY KEY,
    visit_id        TEXT NOT NULL,
    venue_code      TEXT NOT NULL,
    path            TEXT NOT NULL,
    item_code       TEXT NOT NULL,
    item_name       TEXT NOT NULL,
    severity        TEXT NOT NULL,
    department_code TEXT,
    department_path TEXT NOT NULL,
    window_name     TEXT NOT NULL,
    staff_name      TEXT NOT NULL,
    note            TEXT NOT NULL,
    found_on        TEXT NOT NULL,
    repeat_of       TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    -- The rectification (整改通知), opened when the visit ends: due by working days per
    -- severity; the department replies, the office verifies (how) or returns it.
    rect_state      TEXT NOT NULL,
    rect_due        TEXT,
    replied_on      TEXT,
    verified_on     TEXT,
    verify_method   TEXT
);
CREATE INDEX inspection_finding_rect ON inspection_finding(rect_state, rect_due);
CREATE INDEX inspection_finding_department ON inspection_finding(department_path);
CREATE INDEX inspection_finding_visit ON inspection_finding(visit_id);
CREATE INDEX inspection_finding_venue ON inspection_finding(venue_code, item_code, found_on);

-- What was done on a rectification, by whom, with the text and the evidence's names.
CREATE TABLE inspection_step (
    id         TEXT PRIMARY KEY,
    finding_id TEXT NOT NULL,
    step       TEXT NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    note       TEXT NOT NULL,
    evidence   TEXT NOT NULL
);
CREATE INDEX inspection_step_finding ON inspection_step(finding_id, at);

-- Photos of a finding, as stored after shrinking and re-encoding (no EXIF, so no location),
-- named by the SHA-256 of what is stored.
CREATE TABLE inspection_photo (
    id         TEXT PRIMARY KEY,
    finding_id TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    content    BLOB NOT NULL,
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX inspection_photo_finding ON inspection_photo(finding_id);
