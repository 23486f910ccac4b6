-- A monthly inspection bulletin (明察暗访通报) of an office: drafted from the findings of the
-- month in its subtree, edited (title, opening and closing text, which findings and photos it
-- names), approved and published on the public page with staff names removed. While a draft it
-- names the findings it includes (finding_ids, space-separated) and reads them live; approval
-- freezes them as they stood (lines, JSON), so a published bulletin never changes afterwards.
-- Kept in step with migrations/postgres/0028_inspection_bulletins.sql.
CREATE TABLE inspection_bulletin (
    id          TEXT PRIMARY KEY,
    month       TEXT NOT NULL,
    path        TEXT NOT NULL,
    title       TEXT NOT NULL,
    intro       TEXT NOT NULL,
    closing     TEXT NOT NULL,
    state       TEXT NOT NULL,
    finding_ids TEXT NOT NULL,
    photo_ids   TEXT NOT NULL,
    lines       TEXT,
    visits      BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    published_at TEXT,
    updated_at  TEXT NOT NULL,
    UNIQUE (path, month)
);
CREATE INDEX inspection_bulletin_published ON inspection_bulletin(state, published_at);
