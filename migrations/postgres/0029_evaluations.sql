-- Performance evaluation (绩效考评): the office's schemes, each edit a new version of its family
-- (the TOML as written, docs/evaluation.md), and the results it published: the run's JSON as
-- it was printed, with the scheme version and period, so anyone can re-run it and compare the
-- bytes, and the records each department's values counted (`records`, JSON). A result re-published
-- after an upheld appeal names the one it supersedes.
-- Kept in step with migrations/sqlite/0029_evaluations.sql.
CREATE TABLE evaluation_scheme (
    id         TEXT PRIMARY KEY,
    family     TEXT NOT NULL,
    version    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    path       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (family, version)
);
CREATE INDEX evaluation_scheme_path ON evaluation_scheme(path);

CREATE TABLE evaluation_result (
    id           TEXT PRIMARY KEY,
    scheme_id    TEXT NOT NULL REFERENCES evaluation_scheme(id),
    from_day     DATE NOT NULL,
    to_day       DATE NOT NULL,
    path         TEXT NOT NULL,
    result       TEXT NOT NULL,
    records      TEXT NOT NULL,
    supersedes   TEXT,
    superseded   BOOLEAN NOT NULL,
    published_by TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX evaluation_result_published ON evaluation_result(superseded, published_at);

-- The points the office entered for a manual indicator (leaders' evaluation, a public survey)
-- of a department, for a scheme's family over a period, with the reason and the evidence; a new
-- entry replaces the last (each is in the audit log).
CREATE TABLE evaluation_manual (
    family          TEXT NOT NULL,
    from_day        DATE NOT NULL,
    to_day          DATE NOT NULL,
    department_code TEXT NOT NULL,
    indicator_code  TEXT NOT NULL,
    points          DOUBLE PRECISION NOT NULL,
    reason          TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    entered_by      TEXT NOT NULL,
    entered_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (family, from_day, to_day, department_code, indicator_code)
);

-- A department's appeal against one record a published result counted (an overdue case that was
-- the applicant's delay), filed within the limit with its evidence; the office upholds or
-- rejects it with a reason. An upheld appeal excludes the record from every later run of the
-- scheme over that period, and the result is published again (republished names the new one).
CREATE TABLE evaluation_appeal (
    id              TEXT PRIMARY KEY,
    result_id       TEXT NOT NULL REFERENCES evaluation_result(id),
    family          TEXT NOT NULL,
    from_day        DATE NOT NULL,
    to_day          DATE NOT NULL,
    department_code TEXT NOT NULL,
    kind            TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    filed_by        TEXT NOT NULL,
    filed_at        TIMESTAMPTZ NOT NULL,
    state           TEXT NOT NULL,
    decision        TEXT,
    decided_by      TEXT,
    decided_at      TIMESTAMPTZ,
    republished     TEXT
);
CREATE INDEX evaluation_appeal_result ON evaluation_appeal(result_id);
CREATE INDEX evaluation_appeal_family ON evaluation_appeal(family, from_day, to_day, state);
