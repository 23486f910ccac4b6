-- The day an open rectification or a bad rating's follow-up becomes overdue (the day after what
-- the department owes was due), so that the monitor raises its alert by reading only those whose
-- day has come, not every open one. Cleared when the alert is raised or nothing is owed.
-- Kept in step with migrations/sqlite/0027_rectification_alerts.sql.
ALTER TABLE inspection_finding ADD COLUMN alert_on DATE;
UPDATE inspection_finding SET alert_on = rect_due + 1 WHERE rect_state = 'open' AND rect_due IS NOT NULL;
CREATE INDEX inspection_finding_alert_on ON inspection_finding(alert_on) WHERE alert_on IS NOT NULL;

ALTER TABLE rating_followup ADD COLUMN alert_on DATE;
UPDATE rating_followup SET alert_on = CASE state
    WHEN 'open' THEN contact_due + 1
    WHEN 'contacted' THEN rectify_due + 1
END;
CREATE INDEX rating_followup_alert_on ON rating_followup(alert_on) WHERE alert_on IS NOT NULL;
