-- 0012_audit_console.sql -- owns the indexes the auditor's console pages
-- by (fcgi/audit/dgj_audit_search.c, docs/audit.md#the-auditors-console).
-- Search lists audit_records newest first by (ts, id) and goes on from a
-- keyset cursor.  A partitioned table merges its partitions' index scans
-- on the declared key parts only, so an index on (ts) alone, although its
-- entries carry the primary key's id, left every page to a filesort of
-- the whole range (the first page of a year of one million records took
-- 8.8 s; 4 ms with (ts, id)); likewise a user's or an address's records
-- came sorted only after all of them were read.  Each index now names
-- id: the same entries, id part of the order, no more space.
-- Re-runnable: new indexes are added if missing, old ones dropped if
-- present.

ALTER TABLE audit_records
    ADD INDEX IF NOT EXISTS ix_audit_records_ts_id (ts, id),
    ADD INDEX IF NOT EXISTS ix_audit_records_user_ts_id (user_id, ts, id),
    ADD INDEX IF NOT EXISTS ix_audit_records_ip_ts_id (ip, ts, id),
    ADD INDEX IF NOT EXISTS ix_audit_records_status_ts_id (status, ts, id),
    ADD INDEX IF NOT EXISTS ix_audit_records_action_ts_id (action, ts, id),
    DROP INDEX IF EXISTS ix_audit_records_ts,
    DROP INDEX IF EXISTS ix_audit_records_user_id_ts,
    DROP INDEX IF EXISTS ix_audit_records_ip_ts,
    DROP INDEX IF EXISTS ix_audit_records_status_ts,
    DROP INDEX IF EXISTS ix_audit_records_action_ts,
    ALGORITHM=INPLACE, LOCK=NONE;
