-- Work orders of the efficiency hotline (工单). This first table holds what a legacy export
-- carries (spec/exchange.md §4); the live workflow adds its steps beside it.
-- Kept in step with migrations/sqlite/0005_work_orders.sql.

CREATE TABLE work_order (
    ticket_no               TEXT PRIMARY KEY,
    channel                 TEXT NOT NULL,
    type                    TEXT NOT NULL,
    received_at             TIMESTAMPTZ NOT NULL,
    received_on             DATE NOT NULL,
    subject_department_code TEXT,
    subject_venue_code      TEXT,
    -- Where the order belongs for scope: its department's path, its venue's path ('/' if none).
    department_path         TEXT NOT NULL,
    venue_path              TEXT NOT NULL,
    summary                 TEXT NOT NULL,
    closed_at               TIMESTAMPTZ,
    closed_on               DATE,
    satisfaction            TEXT,
    source                  TEXT NOT NULL,
    created_at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX work_order_received ON work_order(received_on);
