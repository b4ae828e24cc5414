-- 0008_bans.sql -- owns the ban list the security admin keeps: IP
-- addresses, CIDR blocks and user ids refused by nginx's dgj limit module.
-- fcgi/security is the only writer; it mirrors the bans in force into
-- var/state/bans.list (read by nginx at start and reload) and pushes each
-- change to nginx's control socket.  Rows are lifted, never deleted, so
-- the table is the record of every ban and unban.

CREATE TABLE IF NOT EXISTS bans (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kind        VARCHAR(8) NOT NULL,
    value       VARCHAR(64) NOT NULL
                COMMENT 'canonical text: 203.0.113.7, 198.51.100.0/24, 1042',
    reason      VARCHAR(200) NOT NULL,
    expires_at  DATETIME NOT NULL,
    created_by  BIGINT UNSIGNED NOT NULL,
    created_at  DATETIME NOT NULL,
    lifted_by   BIGINT UNSIGNED NULL,
    lifted_at   DATETIME NULL,
    PRIMARY KEY (id),
    KEY ix_bans_kind_value (kind, value),
    KEY ix_bans_lifted_at_expires_at (lifted_at, expires_at),
    CONSTRAINT fk_bans_created_by
        FOREIGN KEY (created_by) REFERENCES users (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT ck_bans_kind
        CHECK (kind IN ('ip', 'cidr', 'user'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='bans of addresses, blocks and accounts, with expiry and reason; a
 ban is in force while lifted_at IS NULL and expires_at is ahead';
