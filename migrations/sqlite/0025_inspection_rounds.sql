-- 明察暗访: rounds of inspections whose venues are drawn by lot (decision 0029). A round keeps
-- the published list of candidates, the quotas per level, the commitment to its seed and the
-- seed itself, which is shown only once the round has ended; the venues drawn are in
-- inspection_target. Checklists are versioned: a visit keeps the version it was made with.
-- Kept in step with migrations/postgres/0025_inspection_rounds.sql.
CREATE TABLE inspection_round (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    month       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    -- The inspectors' user names, separated by spaces.
    inspectors  TEXT NOT NULL,
    -- JSON: {"district": 2, "town": 3}.
    quotas      TEXT NOT NULL,
    -- JSON: [{"code": "460105-V", "level": "district"}, …], the list the draw ran over.
    candidates  TEXT NOT NULL,
    commitment  TEXT NOT NULL,
    seed        TEXT NOT NULL,
    -- The planning office's subtree.
    path        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    ended_at    TEXT
);
CREATE INDEX inspection_round_month ON inspection_round(month);

CREATE TABLE inspection_target (
    round_id    TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    venue_code  TEXT NOT NULL,
    path        TEXT NOT NULL,
    PRIMARY KEY (round_id, seq)
);
CREATE INDEX inspection_target_venue ON inspection_target(venue_code);

CREATE TABLE checklist (
    id          TEXT PRIMARY KEY,
    venue_type  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    name        TEXT NOT NULL,
    -- The checklist's TOML text, as the office wrote it.
    body        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (venue_type, version)
);
