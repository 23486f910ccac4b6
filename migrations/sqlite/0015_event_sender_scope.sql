-- The subtrees of the network the system that sent an event may report for (space-separated
-- paths), NULL when it may report anywhere: an event sent before its case's `received` is judged
-- against the case's venue when that arrives.
ALTER TABLE case_event ADD COLUMN sender_scope TEXT;
