-- Performance evaluation (绩效考评): the office's schemes, each edit a new version of its family
-- (the TOML as written, docs/evaluation.md), and the results it published: the run's JSON as
-- it was printed, with the scheme version and period, so anyone can re-run it and compare the
-- bytes. A result re-published after an upheld appeal names the one it supersedes.
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
