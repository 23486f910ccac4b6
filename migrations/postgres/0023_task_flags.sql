-- 挂牌督办: a leader flags a key task for personal follow-up, with an instruction (批示). The
-- flag is shown on the task's page to everyone who sees the task, and the leader's board lists
-- the flagged tasks. Taking a flag down keeps its row (lifted_at), so the task's page can say
-- who flagged it and when even after.
-- Kept in step with migrations/sqlite/0023_task_flags.sql.
CREATE TABLE task_flag (
    id          TEXT PRIMARY KEY,
    task_no     TEXT NOT NULL,
    leader      TEXT NOT NULL,
    leader_name TEXT NOT NULL,
    note        TEXT NOT NULL,
    flagged_at  TIMESTAMPTZ NOT NULL,
    lifted_at   TIMESTAMPTZ
);
CREATE INDEX task_flag_task ON task_flag(task_no);
CREATE INDEX task_flag_leader ON task_flag(leader);
