-- The co-operating departments of each key task: they see the task (its page and the board) as
-- the lead department does; reports still count a task for its lead. Filled from each task's
-- first `assigned` event; kept by every projection of the task from then on.
-- Kept in step with migrations/sqlite/0021_task_parties.sql.
CREATE TABLE task_party (
    task_no TEXT NOT NULL,
    path    TEXT NOT NULL,
    PRIMARY KEY (task_no, path)
);
CREATE INDEX task_party_path ON task_party(path);

INSERT INTO task_party (task_no, path)
SELECT DISTINCT e.task_no, u.path
FROM task_event e
CROSS JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(e.content::jsonb -> 'co_department_codes') = 'array'
         THEN e.content::jsonb -> 'co_department_codes' ELSE '[]'::jsonb END) AS c(code)
JOIN org_unit u ON u.code = btrim(c.code) AND u.kind = 'department'
WHERE e.type = 'assigned'
  AND e.event_id = (SELECT f.event_id FROM task_event f WHERE f.task_no = e.task_no AND f.type = 'assigned'
                    ORDER BY f.at, f.arrival LIMIT 1);
