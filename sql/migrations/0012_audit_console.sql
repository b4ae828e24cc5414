-- 0012_audit_console.sql -- owns the index the auditor's console pages by
-- (fcgi/audit/dgj_audit_search.c, docs/audit.md#the-auditors-console).
-- Search lists audit_records newest first by (ts, id) and goes on from a
-- keyset cursor; a partitioned table merges its partitions' index scans
-- on the declared key parts only, so an index on (ts) alone, although
-- its entries carry the primary key's id, left every page to a filesort
-- of the whole range (8.8 s for the first page of a year of one million
-- records; 4 ms with this index).  Same entries, id now part of the
-- order: no more space.  Re-runnable: the new index is added if missing,
-- the old one dropped if present.

ALTER TABLE audit_records
    ADD INDEX IF NOT EXISTS ix_audit_records_ts_id (ts, id),
    DROP INDEX IF EXISTS ix_audit_records_ts,
    ALGORITHM=INPLACE, LOCK=NONE;
