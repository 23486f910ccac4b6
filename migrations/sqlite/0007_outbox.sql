-- Notifications (DOMAIN.md §3): messages are written to the outbox in the transaction of the
-- step that causes them and delivered afterwards by SMTP or an SMS gateway, retried with
-- back-off; a message claimed by a delivery that never finished is claimed again when its
-- claim lapses, so a stop loses nothing. Every attempt is kept.
-- Kept in step with migrations/postgres/0007_outbox.sql.

ALTER TABLE org_unit ADD COLUMN notify_email TEXT;
ALTER TABLE org_unit ADD COLUMN notify_phone TEXT;

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    -- The same message is never queued twice (one reminder per order and deadline).
    dedup_key       TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    ticket_no       TEXT,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_until   TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox(ticket_no);

CREATE TABLE outbox_attempt (
    id         TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES outbox(id),
    at         TEXT NOT NULL,
    ok         INTEGER NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX outbox_attempt_message ON outbox_attempt(message_id);

CREATE INDEX work_order_sign_due ON work_order(status, sign_due);
CREATE INDEX work_order_reply_due ON work_order(status, reply_due);
CREATE INDEX work_order_visit_due ON work_order(status, visit_due);
INSERT INTO job_lease (name, owner, expires_at) VALUES ('hotline', '', '2000-01-01T00:00:00Z');
