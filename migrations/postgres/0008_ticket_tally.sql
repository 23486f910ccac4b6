-- Tallies of closed work orders for `report tickets` (decision 0014): a closed order never
-- changes, so it is counted once, when it closes, in four rows: by the month and by the day it
-- was received, each by the month and by the day it closed. A report sums whole months and the
-- days at the ends; "closed by the end of the period" takes the closing months before the last
-- one and the closing days of the last. Open orders are counted from work_order itself.
-- Kept in step with migrations/sqlite/0008_ticket_tally.sql.

CREATE TABLE ticket_tally (
    recv_period     TEXT NOT NULL,
    closed_period   TEXT NOT NULL,
    type            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    department_code TEXT NOT NULL,
    department_path TEXT NOT NULL,
    venue_path      TEXT NOT NULL,
    office_path     TEXT NOT NULL,
    venue_named     INTEGER NOT NULL,
    received             BIGINT NOT NULL DEFAULT 0,
    venue_complaints     BIGINT NOT NULL DEFAULT 0,
    satisfied            BIGINT NOT NULL DEFAULT 0,
    basically_satisfied  BIGINT NOT NULL DEFAULT 0,
    unsatisfied          BIGINT NOT NULL DEFAULT 0,
    unreachable          BIGINT NOT NULL DEFAULT 0,
    sign_settled         BIGINT NOT NULL DEFAULT 0,
    signed_on_time       BIGINT NOT NULL DEFAULT 0,
    reply_settled        BIGINT NOT NULL DEFAULT 0,
    replied_on_time      BIGINT NOT NULL DEFAULT 0,
    replied              BIGINT NOT NULL DEFAULT 0,
    visited              BIGINT NOT NULL DEFAULT 0,
    redone               BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (recv_period, closed_period, type, channel, department_code, department_path, venue_path,
                 office_path, venue_named)
);
CREATE INDEX work_order_open ON work_order(status, received_on);

INSERT INTO ticket_tally (recv_period, closed_period, type, channel, department_code, department_path,
    venue_path, office_path, venue_named, received, venue_complaints, satisfied, basically_satisfied, unsatisfied, unreachable, sign_settled, signed_on_time, reply_settled, replied_on_time, replied, visited, redone)
SELECT to_char(received_on, 'YYYY-MM'), to_char(closed_on, 'YYYY-MM'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END, SUM(1), SUM(CASE WHEN type = 'complaint' AND subject_venue_code IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unsatisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unreachable' THEN 1 ELSE 0 END), SUM(CASE WHEN sign_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN signed_at IS NOT NULL AND signed_at <= sign_due THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL AND replied_on IS NOT NULL AND replied_on <= reply_due THEN 1 ELSE 0 END), SUM(CASE WHEN replied_on IS NOT NULL OR satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL AND redo_count > 0 THEN 1 ELSE 0 END)
FROM work_order WHERE status = 'closed' AND closed_on IS NOT NULL
GROUP BY to_char(received_on, 'YYYY-MM'), to_char(closed_on, 'YYYY-MM'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END;

INSERT INTO ticket_tally (recv_period, closed_period, type, channel, department_code, department_path,
    venue_path, office_path, venue_named, received, venue_complaints, satisfied, basically_satisfied, unsatisfied, unreachable, sign_settled, signed_on_time, reply_settled, replied_on_time, replied, visited, redone)
SELECT to_char(received_on, 'YYYY-MM'), to_char(closed_on, 'YYYY-MM-DD'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END, SUM(1), SUM(CASE WHEN type = 'complaint' AND subject_venue_code IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unsatisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unreachable' THEN 1 ELSE 0 END), SUM(CASE WHEN sign_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN signed_at IS NOT NULL AND signed_at <= sign_due THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL AND replied_on IS NOT NULL AND replied_on <= reply_due THEN 1 ELSE 0 END), SUM(CASE WHEN replied_on IS NOT NULL OR satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL AND redo_count > 0 THEN 1 ELSE 0 END)
FROM work_order WHERE status = 'closed' AND closed_on IS NOT NULL
GROUP BY to_char(received_on, 'YYYY-MM'), to_char(closed_on, 'YYYY-MM-DD'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END;

INSERT INTO ticket_tally (recv_period, closed_period, type, channel, department_code, department_path,
    venue_path, office_path, venue_named, received, venue_complaints, satisfied, basically_satisfied, unsatisfied, unreachable, sign_settled, signed_on_time, reply_settled, replied_on_time, replied, visited, redone)
SELECT to_char(received_on, 'YYYY-MM-DD'), to_char(closed_on, 'YYYY-MM'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END, SUM(1), SUM(CASE WHEN type = 'complaint' AND subject_venue_code IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unsatisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unreachable' THEN 1 ELSE 0 END), SUM(CASE WHEN sign_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN signed_at IS NOT NULL AND signed_at <= sign_due THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL AND replied_on IS NOT NULL AND replied_on <= reply_due THEN 1 ELSE 0 END), SUM(CASE WHEN replied_on IS NOT NULL OR satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL AND redo_count > 0 THEN 1 ELSE 0 END)
FROM work_order WHERE status = 'closed' AND closed_on IS NOT NULL
GROUP BY to_char(received_on, 'YYYY-MM-DD'), to_char(closed_on, 'YYYY-MM'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END;

INSERT INTO ticket_tally (recv_period, closed_period, type, channel, department_code, department_path,
    venue_path, office_path, venue_named, received, venue_complaints, satisfied, basically_satisfied, unsatisfied, unreachable, sign_settled, signed_on_time, reply_settled, replied_on_time, replied, visited, redone)
SELECT to_char(received_on, 'YYYY-MM-DD'), to_char(closed_on, 'YYYY-MM-DD'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END, SUM(1), SUM(CASE WHEN type = 'complaint' AND subject_venue_code IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unsatisfied' THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction = 'unreachable' THEN 1 ELSE 0 END), SUM(CASE WHEN sign_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN signed_at IS NOT NULL AND signed_at <= sign_due THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN reply_due IS NOT NULL AND replied_on IS NOT NULL AND replied_on <= reply_due THEN 1 ELSE 0 END), SUM(CASE WHEN replied_on IS NOT NULL OR satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN satisfaction IS NOT NULL AND redo_count > 0 THEN 1 ELSE 0 END)
FROM work_order WHERE status = 'closed' AND closed_on IS NOT NULL
GROUP BY to_char(received_on, 'YYYY-MM-DD'), to_char(closed_on, 'YYYY-MM-DD'), type, channel, COALESCE(subject_department_code, ''), department_path,
    venue_path, office_path, CASE WHEN subject_venue_code IS NOT NULL THEN 1 ELSE 0 END;
