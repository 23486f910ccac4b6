-- Rows written from now on hash their path too (where in the network they are filed, which
-- decides who reads them); older rows keep the hash they were written with.
ALTER TABLE audit_log ADD COLUMN path_hashed BOOLEAN NOT NULL DEFAULT FALSE;
