-- Self-assessment (部门自评) of a manual indicator whose scheme asks for it: the office asks the
-- departments it evaluates for a period; each department enters its own points with a reason and
-- evidence (again, until the office has entered its own points for the same indicator, which it
-- may do only after the department's figure is in). The department's figure stays beside the
-- office's decision.
-- Kept in step with migrations/postgres/0031_evaluation_self_assessment.sql.
CREATE TABLE evaluation_self (
    id              TEXT PRIMARY KEY,
    family          TEXT NOT NULL,
    from_day        TEXT NOT NULL,
    to_day          TEXT NOT NULL,
    department_code TEXT NOT NULL,
    indicator_code  TEXT NOT NULL,
    path            TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    TEXT NOT NULL,
    points          REAL,
    reason          TEXT,
    evidence        TEXT,
    entered_by      TEXT,
    entered_at      TEXT,
    UNIQUE (family, from_day, to_day, department_code, indicator_code)
);
CREATE INDEX evaluation_self_department ON evaluation_self(department_code, requested_at);
