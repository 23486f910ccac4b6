-- A published evaluation keeps the complaints it counted for each department (the records a
-- department may appeal): read by type and day of receipt, not by walking a year of orders.
-- Kept in step with migrations/sqlite/0032_complaints_by_day.sql.
CREATE INDEX work_order_type_received ON work_order(type, received_on);
