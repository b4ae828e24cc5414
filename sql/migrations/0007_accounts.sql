-- 0007_accounts.sql -- owns who may act: users of three kinds (staff,
-- citizens, organisations), roles, sessions, one-time SMS codes, WeChat
-- identities, password history, the security policy and the append-only
-- record of authentication events.  fcgi/accounts is the only writer.
--
-- Personal data (name, phone) lives in user_personal, apart from users, so
-- that it can be encrypted or access-controlled on its own later.

CREATE TABLE IF NOT EXISTS roles (
    id          TINYINT UNSIGNED NOT NULL,
    name        VARCHAR(32) NOT NULL
                COMMENT 'the string in tokens and $dgj_roles',
    title       VARCHAR(32) NOT NULL,
    kind        VARCHAR(16) NOT NULL
                COMMENT 'which user kind may hold it',
    duty        VARCHAR(16) NULL
                COMMENT 'separation of duties: at most one per account',
    PRIMARY KEY (id),
    UNIQUE KEY ux_roles_name (name),
    CONSTRAINT ck_roles_kind
        CHECK (kind IN ('staff', 'citizen', 'organisation')),
    CONSTRAINT ck_roles_duty
        CHECK (duty IS NULL OR duty IN ('sysadmin', 'secadmin', 'auditor'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='the fixed role catalogue (product.md); three roles carry a duty
 of 三权分立 and no account holds two of those';

INSERT IGNORE INTO roles (id, name, title, kind, duty) VALUES
    (1,  'citizen',         '市民群众',     'citizen',      NULL),
    (2,  'organisation',    '社会组织/企业', 'organisation', NULL),
    (3,  'org_pending',     '待核验组织',   'organisation', NULL),
    (10, 'intake',          '受理员',       'staff',        NULL),
    (11, 'handler',         '承办人',       'staff',        NULL),
    (12, 'reviewer',        '审核员',       'staff',        NULL),
    (13, 'supervisor',      '督办员',       'staff',        NULL),
    (14, 'project_manager', '项目管理员',   'staff',        NULL),
    (15, 'analyst',         '分析员/领导',  'staff',        NULL),
    (16, 'ops',             '运维',         'staff',        NULL),
    (20, 'sysadmin',        '系统管理员',   'staff',        'sysadmin'),
    (21, 'secadmin',        '安全管理员',   'staff',        'secadmin'),
    (22, 'auditor',         '审计管理员',   'staff',        'auditor');

CREATE TABLE IF NOT EXISTS users (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kind                VARCHAR(16) NOT NULL,
    username            VARCHAR(64) NULL
                        COMMENT 'staff and organisations; citizens have none',
    status              VARCHAR(16) NOT NULL DEFAULT 'active',
    department_id       INT UNSIGNED NULL
                        COMMENT 'staff: the unit they act for',
    display_name        VARCHAR(64) NOT NULL DEFAULT '',
    password_hash       VARCHAR(255) NULL
                        COMMENT 'Argon2id encoded string',
    password_changed_at DATETIME NULL,
    must_change_password TINYINT(1) NOT NULL DEFAULT 0,
    totp_secret         VARCHAR(64) NULL COMMENT 'base32; NULL: no TOTP',
    totp_last_step      BIGINT NOT NULL DEFAULT 0
                        COMMENT 'last accepted step: a code is used once',
    totp_pending        VARCHAR(64) NULL
                        COMMENT 'base32 being enrolled, until confirmed',
    failed_logins       SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    locked_until        DATETIME NULL,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY ux_users_username (username),
    KEY ix_users_department_id (department_id),
    KEY ix_users_kind_status (kind, status),
    CONSTRAINT fk_users_department
        FOREIGN KEY (department_id) REFERENCES departments (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT ck_users_kind
        CHECK (kind IN ('staff', 'citizen', 'organisation')),
    CONSTRAINT ck_users_status
        CHECK (status IN ('active', 'disabled')),
    CONSTRAINT ck_users_staff
        CHECK (kind <> 'staff'
               OR (username IS NOT NULL AND department_id IS NOT NULL
                   AND password_hash IS NOT NULL AND totp_secret IS NOT NULL)),
    CONSTRAINT ck_users_username
        CHECK (username IS NULL OR username REGEXP '^[a-z][a-z0-9_.-]{2,63}$')
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='every account; staff always have a department, a password and a
 TOTP secret; rows are disabled, never deleted (events refer to them)';

CREATE TABLE IF NOT EXISTS user_personal (
    user_id     BIGINT UNSIGNED NOT NULL,
    real_name   VARCHAR(64) NULL,
    phone       VARCHAR(16) NULL COMMENT 'mainland mobile, 11 digits',
    PRIMARY KEY (user_id),
    UNIQUE KEY ux_user_personal_phone (phone),
    CONSTRAINT fk_user_personal_user
        FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='personal data of an account, kept apart; a citizen is found by
 phone (SMS login), so a phone belongs to one account';

CREATE TABLE IF NOT EXISTS user_roles (
    user_id     BIGINT UNSIGNED NOT NULL,
    role_id     TINYINT UNSIGNED NOT NULL,
    granted_by  BIGINT UNSIGNED NULL COMMENT 'NULL: the system (sign-up)',
    granted_at  DATETIME NOT NULL,
    PRIMARY KEY (user_id, role_id),
    KEY ix_user_roles_role_id (role_id),
    CONSTRAINT fk_user_roles_user
        FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT fk_user_roles_role
        FOREIGN KEY (role_id) REFERENCES roles (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='who holds which role, and who granted it';

CREATE TABLE IF NOT EXISTS organisations (
    user_id         BIGINT UNSIGNED NOT NULL,
    name            VARCHAR(128) NOT NULL,
    uscc            CHAR(18) NOT NULL
                    COMMENT 'unified social credit code, GB 32100-2015',
    org_kind        VARCHAR(16) NOT NULL,
    verified_at     DATETIME NULL,
    verified_by     BIGINT UNSIGNED NULL,
    PRIMARY KEY (user_id),
    UNIQUE KEY ux_organisations_uscc (uscc),
    CONSTRAINT fk_organisations_user
        FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT ck_organisations_kind
        CHECK (org_kind IN ('social', 'company'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='social organisations and companies; until verified_at is set
 the account holds only org_pending and can act on nothing';

CREATE TABLE IF NOT EXISTS wechat_identities (
    openid      VARCHAR(64) NOT NULL,
    appid       VARCHAR(32) NOT NULL,
    user_id     BIGINT UNSIGNED NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (appid, openid),
    KEY ix_wechat_identities_user_id (user_id),
    CONSTRAINT fk_wechat_identities_user
        FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='openid (per official account) -> citizen account';

CREATE TABLE IF NOT EXISTS password_history (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id     BIGINT UNSIGNED NOT NULL,
    hash        VARCHAR(255) NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (id),
    KEY ix_password_history_user_id (user_id, id),
    CONSTRAINT fk_password_history_user
        FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='earlier password hashes: a new password may not repeat the last 5';

CREATE TABLE IF NOT EXISTS sessions (
    id              CHAR(32) NOT NULL COMMENT '128-bit random, hex; in tokens',
    user_id         BIGINT UNSIGNED NOT NULL,
    refresh_hash    BINARY(32) NOT NULL COMMENT 'SHA-256 of the refresh secret',
    auth_method     VARCHAR(16) NOT NULL,
    auth_level      TINYINT UNSIGNED NOT NULL,
    created_at      DATETIME NOT NULL,
    last_seen_at    DATETIME NOT NULL,
    idle_seconds    INT UNSIGNED NOT NULL,
    expires_at      DATETIME NOT NULL COMMENT 'absolute end',
    ended_at        DATETIME NULL,
    end_reason      VARCHAR(32) NULL,
    client_ip       VARCHAR(45) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    UNIQUE KEY ux_sessions_refresh_hash (refresh_hash),
    KEY ix_sessions_user_id (user_id, ended_at),
    CONSTRAINT fk_sessions_user
        FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT ck_sessions_method
        CHECK (auth_method IN ('password', 'password_totp', 'sms', 'wechat')),
    CONSTRAINT ck_sessions_level
        CHECK (auth_level IN (1, 2))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='login sessions; a session ends once (ended_at) and its id goes to
 the nginx revocation set';

CREATE TABLE IF NOT EXISTS sms_codes (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    phone       VARCHAR(16) NOT NULL,
    code_hash   BINARY(32) NOT NULL COMMENT 'SHA-256 of phone|code',
    purpose     VARCHAR(16) NOT NULL,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    attempts    TINYINT UNSIGNED NOT NULL DEFAULT 0,
    used_at     DATETIME NULL,
    client_ip   VARCHAR(45) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY ix_sms_codes_phone (phone, created_at),
    CONSTRAINT ck_sms_codes_purpose CHECK (purpose IN ('login'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='one-time login codes sent by SMS: 5 minutes, 5 attempts, once';

CREATE TABLE IF NOT EXISTS security_policy (
    name        VARCHAR(48) NOT NULL,
    value       INT NOT NULL,
    min_value   INT NOT NULL,
    max_value   INT NOT NULL,
    updated_by  BIGINT UNSIGNED NULL,
    updated_at  DATETIME NULL,
    PRIMARY KEY (name),
    CONSTRAINT ck_security_policy_range
        CHECK (value BETWEEN min_value AND max_value)
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='password and session policy, set by the security admin';

INSERT IGNORE INTO security_policy (name, value, min_value, max_value) VALUES
    ('password_max_age_days',      180,   1,  3650),
    ('password_history',             5,   5,    24),
    ('lockout_threshold',            5,   3,    10),
    ('lockout_minutes',             15,   5,  1440),
    ('staff_idle_seconds',         900, 300,  1800),
    ('staff_absolute_seconds',   43200, 3600, 43200),
    ('public_idle_seconds',       7200, 300, 86400),
    ('public_absolute_seconds',  43200, 3600, 604800),
    ('staff_token_seconds',        120,  30,   300),
    ('public_token_seconds',       600,  60,   900);

CREATE TABLE IF NOT EXISTS auth_events (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    at          DATETIME(3) NOT NULL,
    event       VARCHAR(32) NOT NULL,
    user_id     BIGINT UNSIGNED NULL COMMENT 'the account acted on, if known',
    actor_id    BIGINT UNSIGNED NULL COMMENT 'who acted, when not the user',
    subject     VARCHAR(64) NOT NULL DEFAULT ''
                COMMENT 'masked login name or phone as typed',
    client_ip   VARCHAR(45) NOT NULL DEFAULT '',
    request_id  VARCHAR(64) NOT NULL DEFAULT '',
    detail      VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY ix_auth_events_user_id (user_id, id),
    KEY ix_auth_events_at (at)
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='every login, failure, lockout, logout, password change and
 account change; append-only (triggers refuse UPDATE and DELETE)';

DROP TRIGGER IF EXISTS tr_auth_events_no_update;
CREATE TRIGGER tr_auth_events_no_update BEFORE UPDATE ON auth_events
    FOR EACH ROW
    SIGNAL SQLSTATE '45000'
        SET MESSAGE_TEXT = 'auth_events is append-only';

DROP TRIGGER IF EXISTS tr_auth_events_no_delete;
CREATE TRIGGER tr_auth_events_no_delete BEFORE DELETE ON auth_events
    FOR EACH ROW
    SIGNAL SQLSTATE '45000'
        SET MESSAGE_TEXT = 'auth_events is append-only';
