-- The co-operating departments of each key task: they see the task (its page and the board) as
-- the lead department does; reports still count a task for its lead. Filled from each task's
-- first `assigned` event; kept by every projection of the task from then on.
-- Kept in step with migrations/postgres/0021_task_parties.sql.
CREATE TABLE task_party (
    task_no TEXT NOT NULL,
    path    TEXT NOT NULL,
    PRIMARY KEY (task_no, path)
);
CREATE INDEX task_party_path ON task_party(path);

INSERT INTO task_party (task_no, path)
SELECT DISTINCT e.task_no, u.path
FROM task_event e, json_each(json_extract(e.content, '$.co_department_codes')) c, org_unit u
WHERE e.type = 'assigned' AND u.code = trim(c.value) AND u.kind = 'department'
  AND e.event_id = (SELECT f.event_id FROM task_event f WHERE f.task_no = e.task_no AND f.type = 'assigned'
                    ORDER BY f.at, f.arrival LIMIT 1);
