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
