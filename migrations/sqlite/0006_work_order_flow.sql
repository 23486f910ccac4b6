-- The live life of a work order (domain::workorder): where it stands, its deadlines, the
-- caller (confidential: the office only), the citizen's query code and the Open311 token, and
-- its timeline. Legacy orders still open when exported wait to be dispatched.
-- Kept in step with migrations/postgres/0006_work_order_flow.sql.

ALTER TABLE work_order ADD COLUMN status TEXT NOT NULL DEFAULT 'closed';
UPDATE work_order SET status = 'received' WHERE closed_at IS NULL;
ALTER TABLE work_order ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
-- The office that took the order (the city's hotline, a district's office, a key's subtree):
-- it keeps sight of the order wherever it is sent, and gets it back when it is returned.
ALTER TABLE work_order ADD COLUMN office_path TEXT NOT NULL DEFAULT '/';
ALTER TABLE work_order ADD COLUMN dispatched_at TEXT;
ALTER TABLE work_order ADD COLUMN sign_due TEXT;
ALTER TABLE work_order ADD COLUMN signed_at TEXT;
ALTER TABLE work_order ADD COLUMN handle_from TEXT;
ALTER TABLE work_order ADD COLUMN reply_due TEXT;
ALTER TABLE work_order ADD COLUMN return_by TEXT;
ALTER TABLE work_order ADD COLUMN extension_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_order ADD COLUMN extension_pending INTEGER;
ALTER TABLE work_order ADD COLUMN returned_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_order ADD COLUMN replied_at TEXT;
ALTER TABLE work_order ADD COLUMN replied_on TEXT;
ALTER TABLE work_order ADD COLUMN reply TEXT;
ALTER TABLE work_order ADD COLUMN visit_due TEXT;
ALTER TABLE work_order ADD COLUMN redo_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_order ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_order ADD COLUMN caller_name TEXT;
ALTER TABLE work_order ADD COLUMN caller_phone TEXT;
ALTER TABLE work_order ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;
-- SHA-256 of the citizen's query code; the code itself is shown once.
ALTER TABLE work_order ADD COLUMN query_hash TEXT;
ALTER TABLE work_order ADD COLUMN token TEXT;
ALTER TABLE work_order ADD COLUMN address TEXT;
ALTER TABLE work_order ADD COLUMN lat REAL;
ALTER TABLE work_order ADD COLUMN lon REAL;
ALTER TABLE work_order ADD COLUMN updated_at TEXT;
CREATE INDEX work_order_status ON work_order(status);
CREATE INDEX work_order_caller_phone ON work_order(caller_phone);
CREATE INDEX work_order_token ON work_order(token);
CREATE INDEX work_order_received_at ON work_order(received_at);

CREATE TABLE work_order_step (
    id         TEXT PRIMARY KEY,
    ticket_no  TEXT NOT NULL REFERENCES work_order(ticket_no),
    step       TEXT NOT NULL,
    note       TEXT NOT NULL,
    -- The step's particulars as JSON: department, days, satisfaction.
    detail     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX work_order_step_order ON work_order_step(ticket_no, at);

-- Live order numbers: H + local date + a sequence of the day.
CREATE TABLE order_counter (
    day TEXT PRIMARY KEY,
    n   INTEGER NOT NULL
);
