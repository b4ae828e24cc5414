-- 0011_audit.sql -- owns audit_records: the gateway's tamper-evident audit
-- log (var/log/audit/, written by nginx's dgj audit module) loaded into
-- MariaDB by the ingester (dgj-audit ingest), one row per line, with the
-- line's exact bytes kept in raw so that any range can be verified again
-- (docs/audit.md).  Rows are never updated or deleted: triggers refuse
-- both, and conf/stack.sh grants the app account SELECT and INSERT only
-- on this table.  Old months go as whole partitions (dgj-audit retention,
-- as the migration account) once they are more than 184 days old.
--
-- Partitioned by month of ts (UTC); pmax catches rows past the last month
-- made here; the retention job splits it ahead of time.

CREATE TABLE IF NOT EXISTS audit_records (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
                   COMMENT 'ingest order: a cursor for the live view',
    chain          VARCHAR(40) NOT NULL
                   COMMENT 'chain id: one per nginx worker process',
    seq            BIGINT UNSIGNED NOT NULL
                   COMMENT 'position in the chain, from 0 (the start line)',
    ts             DATETIME(3) NOT NULL COMMENT 'the line''s time, in UTC',
    line_type      VARCHAR(8) NOT NULL
                   COMMENT 'rec, start, stop, ckpt or epoch',
    request_id     CHAR(32) NULL COMMENT 'nginx $request_id (rec lines)',
    user_id        BIGINT UNSIGNED NULL COMMENT 'from the access token',
    roles          VARCHAR(128) NOT NULL DEFAULT ''
                   COMMENT 'comma-separated roles of the token',
    dept_id        INT UNSIGNED NULL COMMENT 'department of the token',
    ip             VARCHAR(45) NOT NULL DEFAULT '' COMMENT 'client address',
    port           INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'client port',
    ua             VARCHAR(512) NOT NULL DEFAULT ''
                   COMMENT 'User-Agent, cut at 512 characters',
    method         VARCHAR(16) NOT NULL DEFAULT '',
    path           VARCHAR(2048) NOT NULL DEFAULT ''
                   COMMENT 'path and query, sensitive values masked',
    status         SMALLINT UNSIGNED NOT NULL DEFAULT 0
                   COMMENT 'HTTP status sent',
    auth           VARCHAR(16) NOT NULL DEFAULT ''
                   COMMENT 'dgj auth outcome: OK, NONE, EXPIRED, ... OFF',
    limit_outcome  VARCHAR(16) NOT NULL DEFAULT ''
                   COMMENT 'dgj limit outcome: PASSED, REJECTED, ... -',
    action         VARCHAR(64) NULL
                   COMMENT 'what the backend did (X-Dgj-Action)',
    object_id      VARCHAR(64) NULL
                   COMMENT 'what it did it to (X-Dgj-Object)',
    latency_ms     INT UNSIGNED NOT NULL DEFAULT 0,
    bytes_in       BIGINT UNSIGNED NOT NULL DEFAULT 0
                   COMMENT 'request bytes, headers included',
    bytes_out      BIGINT UNSIGNED NOT NULL DEFAULT 0
                   COMMENT 'response bytes, headers included',
    raw            TEXT NOT NULL
                   COMMENT 'the exact line as written, without its newline',
    PRIMARY KEY (id, ts),
    UNIQUE KEY ux_audit_records_chain_seq (chain, seq, ts),
    KEY ix_audit_records_ts (ts),
    KEY ix_audit_records_user_id_ts (user_id, ts),
    KEY ix_audit_records_ip_ts (ip, ts),
    KEY ix_audit_records_status_ts (status, ts),
    KEY ix_audit_records_action_ts (action, ts)
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='the gateway audit log, one row per line, append-only (triggers
 refuse UPDATE and DELETE); partitions older than 184 days are dropped
 whole'
  PARTITION BY RANGE COLUMNS (ts) (
    PARTITION p202610 VALUES LESS THAN ('2026-11-01'),
    PARTITION p202611 VALUES LESS THAN ('2026-12-01'),
    PARTITION p202612 VALUES LESS THAN ('2027-01-01'),
    PARTITION p202701 VALUES LESS THAN ('2027-02-01'),
    PARTITION p202702 VALUES LESS THAN ('2027-03-01'),
    PARTITION p202703 VALUES LESS THAN ('2027-04-01'),
    PARTITION pmax VALUES LESS THAN (MAXVALUE)
  );

DROP TRIGGER IF EXISTS tr_audit_records_no_update;
CREATE TRIGGER tr_audit_records_no_update BEFORE UPDATE ON audit_records
    FOR EACH ROW
    SIGNAL SQLSTATE '45000'
        SET MESSAGE_TEXT = 'audit_records is append-only';

DROP TRIGGER IF EXISTS tr_audit_records_no_delete;
CREATE TRIGGER tr_audit_records_no_delete BEFORE DELETE ON audit_records
    FOR EACH ROW
    SIGNAL SQLSTATE '45000'
        SET MESSAGE_TEXT = 'audit_records is append-only';
