-- 0009_workflow.sql -- owns the appeal (诉求) and its history: the appeal
-- row with its state, deadlines and outcome; the submitter's personal data
-- apart from it; assisting sub-tasks (协办); attachment metadata; the
-- append-only event table that is the one history of every action; the
-- daily tracking-number sequence; idempotency keys; and the versioned
-- deadline rules.  fcgi/workflow is the only writer.
--
-- Times are DATETIME in Beijing time (UTC+8, no daylight saving), the
-- time every deadline is counted in.  The state machine itself lives in C
-- (fcgi/workflow/dgj_workflow_machine.c); the CHECKs here only keep the
-- values inside its vocabulary.

CREATE TABLE IF NOT EXISTS appeal_days (
    day         DATE NOT NULL,
    last_seq    INT UNSIGNED NOT NULL
                COMMENT 'last 6-digit sequence handed out on that day',
    PRIMARY KEY (day),
    CONSTRAINT ck_appeal_days_seq CHECK (last_seq BETWEEN 1 AND 999999)
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='the daily sequence behind tracking numbers DG+YYYYMMDD+NNNNNN;
 one row per day, incremented inside the submitting transaction';

CREATE TABLE IF NOT EXISTS appeals (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tracking_no         CHAR(16) NOT NULL
                        COMMENT 'DG + YYYYMMDD + 6-digit daily sequence',
    query_code_mac      BINARY(32) NOT NULL
                        COMMENT 'HMAC-SHA-256 of the 6-character query code
 under var/secrets/query.key; the code itself is shown once',
    channel             VARCHAR(16) NOT NULL,
    external_id         VARCHAR(64) NULL
                        COMMENT 'the peer''s own id for hotline and
 govplatform imports',
    category_id         INT UNSIGNED NOT NULL,
    appeal_type         VARCHAR(16) NOT NULL
                        COMMENT 'copied from the category at submission',
    district_id         SMALLINT UNSIGNED NOT NULL,
    address             VARCHAR(200) NOT NULL DEFAULT '',
    latitude            DECIMAL(9,6) NULL,
    longitude           DECIMAL(9,6) NULL,
    title               VARCHAR(100) NOT NULL,
    content             TEXT NOT NULL,
    is_anonymous        TINYINT(1) NOT NULL DEFAULT 0
                        COMMENT 'staff outside intake never see who it is',
    publish_consent     TINYINT(1) NOT NULL DEFAULT 0,
    priority            VARCHAR(8) NOT NULL DEFAULT 'normal',
    state               VARCHAR(24) NOT NULL,
    lead_department_id  INT UNSIGNED NULL,
    merged_into_id      BIGINT UNSIGNED NULL,
    submitter_user_id   BIGINT UNSIGNED NULL
                        COMMENT 'the signed-in citizen or organisation that
 follows and rates it; staff who type in a call are the submit event''s
 actor instead',
    stage               VARCHAR(12) NOT NULL
                        COMMENT 'whose clock runs: intake, sign, handle,
 review, rating, rehandle, none',
    stage_started_at    DATETIME NOT NULL,
    due_at              DATETIME NULL
                        COMMENT 'deadline of the current stage',
    warn_at             DATETIME NULL
                        COMMENT 'when 80 % of the stage''s time is used
 (黄牌); past due_at it is overdue (红牌)',
    handle_due_at       DATETIME NULL
                        COMMENT 'deadline of the handling, kept across
 sign, handle and review; moved by an approved extension',
    returns_count       TINYINT UNSIGNED NOT NULL DEFAULT 0,
    extensions_count    TINYINT UNSIGNED NOT NULL DEFAULT 0,
    reopen_count        TINYINT UNSIGNED NOT NULL DEFAULT 0,
    urge_count          SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    supervised          TINYINT(1) NOT NULL DEFAULT 0,
    pending_extension_days SMALLINT UNSIGNED NULL
                        COMMENT 'an extension asked for and not yet decided',
    outcome             VARCHAR(24) NULL,
    outcome_owner       VARCHAR(100) NULL
                        COMMENT 'not_ours: who the right owner is',
    reply               TEXT NULL COMMENT 'the answer the citizen sees',
    replied_at          DATETIME NULL,
    resolved            TINYINT(1) NULL
                        COMMENT 'the citizen''s "was it resolved?"',
    rating              TINYINT UNSIGNED NULL
                        COMMENT '1 非常满意 .. 5 非常不满意',
    rating_comment      VARCHAR(500) NULL,
    rated_at            DATETIME NULL,
    publish_state       VARCHAR(12) NOT NULL DEFAULT 'none',
    public_title        VARCHAR(100) NULL,
    public_content      TEXT NULL,
    published_at        DATETIME NULL,
    version             INT UNSIGNED NOT NULL DEFAULT 1,
    submitted_at        DATETIME NOT NULL,
    closed_at           DATETIME NULL,
    updated_at          DATETIME NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY ux_appeals_tracking_no (tracking_no),
    UNIQUE KEY ux_appeals_external (channel, external_id),
    KEY ix_appeals_state (state, id),
    KEY ix_appeals_lead (lead_department_id, state, id),
    KEY ix_appeals_lead_due (lead_department_id, state, due_at),
    KEY ix_appeals_due (state, due_at),
    KEY ix_appeals_warn (state, warn_at),
    KEY ix_appeals_pending (state, pending_extension_days),
    KEY ix_appeals_submitted (submitted_at),
    KEY ix_appeals_submitter (submitter_user_id, id),
    KEY ix_appeals_published (publish_state, published_at, id),
    KEY ix_appeals_category (category_id, submitted_at),
    KEY ix_appeals_district (district_id, submitted_at),
    CONSTRAINT fk_appeals_category
        FOREIGN KEY (category_id) REFERENCES categories (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT fk_appeals_district
        FOREIGN KEY (district_id) REFERENCES districts (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT fk_appeals_lead
        FOREIGN KEY (lead_department_id) REFERENCES departments (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT fk_appeals_merged
        FOREIGN KEY (merged_into_id) REFERENCES appeals (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT fk_appeals_submitter
        FOREIGN KEY (submitter_user_id) REFERENCES users (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT ck_appeals_channel
        CHECK (channel IN ('portal', 'wechat', 'app', 'hotline',
                           'govplatform')),
    CONSTRAINT ck_appeals_priority CHECK (priority IN ('normal', 'urgent')),
    CONSTRAINT ck_appeals_state
        CHECK (state IN ('submitted', 'accepted', 'rejected', 'merged',
                         'dispatched', 'handling', 'returned', 'replied',
                         'awaiting_feedback', 'dissatisfied', 'reopened',
                         'closed')),
    CONSTRAINT ck_appeals_stage
        CHECK (stage IN ('intake', 'sign', 'handle', 'review', 'rating',
                         'rehandle', 'none')),
    CONSTRAINT ck_appeals_outcome
        CHECK (outcome IS NULL
               OR outcome IN ('resolved', 'answered', 'not_ours',
                              'not_accepted', 'duplicate', 'cannot_handle')),
    CONSTRAINT ck_appeals_rating CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    CONSTRAINT ck_appeals_publish
        CHECK (publish_state IN ('none', 'published', 'withheld')),
    CONSTRAINT ck_appeals_flags
        CHECK (is_anonymous IN (0, 1) AND publish_consent IN (0, 1)
               AND supervised IN (0, 1))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='one row per appeal from any channel; state, lead department,
 deadlines and outcome change only together with an appeal_events row in
 one transaction, guarded by version (optimistic locking); never deleted';

CREATE TABLE IF NOT EXISTS appeal_personal (
    appeal_id   BIGINT UNSIGNED NOT NULL,
    name        VARCHAR(50) NOT NULL DEFAULT '',
    phone       VARCHAR(20) NOT NULL DEFAULT '',
    id_number   VARCHAR(18) NULL,
    PRIMARY KEY (appeal_id),
    CONSTRAINT fk_appeal_personal_appeal
        FOREIGN KEY (appeal_id) REFERENCES appeals (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='the submitter''s personal data, apart from the appeal so that it
 can be encrypted and access-controlled on its own; shown in full only to
 the roles docs/workflow.md names, masked elsewhere';

CREATE TABLE IF NOT EXISTS appeal_tasks (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    appeal_id       BIGINT UNSIGNED NOT NULL,
    department_id   INT UNSIGNED NOT NULL,
    state           VARCHAR(12) NOT NULL DEFAULT 'open',
    request_note    VARCHAR(1000) NOT NULL DEFAULT '',
    due_at          DATETIME NOT NULL,
    reply           TEXT NULL,
    replied_by      BIGINT UNSIGNED NULL,
    replied_at      DATETIME NULL,
    created_by      BIGINT UNSIGNED NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (id),
    KEY ix_appeal_tasks_appeal (appeal_id, id),
    KEY ix_appeal_tasks_department (department_id, state, id),
    CONSTRAINT fk_appeal_tasks_appeal
        FOREIGN KEY (appeal_id) REFERENCES appeals (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT fk_appeal_tasks_department
        FOREIGN KEY (department_id) REFERENCES departments (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT ck_appeal_tasks_state
        CHECK (state IN ('open', 'replied', 'cancelled'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='assisting sub-tasks (协办): one per assisting department and
 round, with its own deadline and reply, merged by the lead department';

CREATE TABLE IF NOT EXISTS appeal_attachments (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    appeal_id       BIGINT UNSIGNED NOT NULL,
    sha256          CHAR(64) NOT NULL
                    COMMENT 'file name under var/files/, content-addressed',
    original_name   VARCHAR(200) NOT NULL,
    media_type      VARCHAR(64) NOT NULL
                    COMMENT 'sniffed from the bytes, not the client''s',
    size_bytes      INT UNSIGNED NOT NULL,
    uploaded_by     BIGINT UNSIGNED NULL,
    uploaded_role   VARCHAR(32) NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (id),
    KEY ix_appeal_attachments_appeal (appeal_id, id),
    CONSTRAINT fk_appeal_attachments_appeal
        FOREIGN KEY (appeal_id) REFERENCES appeals (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT ck_appeal_attachments_type
        CHECK (media_type IN ('image/jpeg', 'image/png', 'image/gif',
                              'image/webp', 'application/pdf'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='metadata of files attached to an appeal; the bytes live under
 var/files/ named by their SHA-256';

CREATE TABLE IF NOT EXISTS appeal_events (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    appeal_id           BIGINT UNSIGNED NOT NULL,
    at                  DATETIME(3) NOT NULL,
    actor_user_id       BIGINT UNSIGNED NULL COMMENT 'NULL: the system',
    actor_role          VARCHAR(32) NOT NULL
                        COMMENT 'the role the action was taken as',
    actor_department_id INT UNSIGNED NULL,
    action              VARCHAR(24) NOT NULL,
    from_state          VARCHAR(24) NULL,
    to_state            VARCHAR(24) NOT NULL,
    reason_code         VARCHAR(32) NULL,
    comment             TEXT NULL,
    visibility          VARCHAR(8) NOT NULL
                        COMMENT 'public: on the citizen''s timeline',
    due_at_set          DATETIME NULL
                        COMMENT 'the deadline this action set, if any',
    target_department_id INT UNSIGNED NULL
                        COMMENT 'dispatch, assist: the department acted on',
    task_id             BIGINT UNSIGNED NULL,
    request_id          CHAR(32) NULL
                        COMMENT 'joins the row to the gateway audit line',
    PRIMARY KEY (id),
    KEY ix_appeal_events_appeal (appeal_id, id),
    KEY ix_appeal_events_actor (actor_department_id, action, at),
    CONSTRAINT fk_appeal_events_appeal
        FOREIGN KEY (appeal_id) REFERENCES appeals (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT ck_appeal_events_visibility
        CHECK (visibility IN ('public', 'internal'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='append-only history: one row per action on an appeal, written in
 the transaction that changed the appeal; the public timeline is this
 table filtered to public rows and masked';

DROP TRIGGER IF EXISTS tr_appeal_events_no_update;
CREATE TRIGGER tr_appeal_events_no_update BEFORE UPDATE ON appeal_events
    FOR EACH ROW
    SIGNAL SQLSTATE '45000'
        SET MESSAGE_TEXT = 'appeal_events is append-only';

DROP TRIGGER IF EXISTS tr_appeal_events_no_delete;
CREATE TRIGGER tr_appeal_events_no_delete BEFORE DELETE ON appeal_events
    FOR EACH ROW
    SIGNAL SQLSTATE '45000'
        SET MESSAGE_TEXT = 'appeal_events is append-only';

CREATE TABLE IF NOT EXISTS idempotency_keys (
    caller          VARCHAR(48) NOT NULL
                    COMMENT 'u:<user id>, or anonymous',
    idem_key        VARCHAR(64) NOT NULL,
    request_mac     BINARY(32) NOT NULL
                    COMMENT 'SHA-256 of the request body: a reused key
 with another body is refused',
    appeal_id       BIGINT UNSIGNED NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (caller, idem_key),
    KEY ix_idempotency_keys_created (created_at),
    CONSTRAINT fk_idempotency_keys_appeal
        FOREIGN KEY (appeal_id) REFERENCES appeals (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='Idempotency-Key of submissions and imports: a retry with the
 same key and body returns the first appeal; kept 30 days';

CREATE TABLE IF NOT EXISTS deadline_rules (
    id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
    stage           VARCHAR(12) NOT NULL,
    appeal_type     VARCHAR(16) NULL COMMENT 'NULL: any type',
    category_id     INT UNSIGNED NULL COMMENT 'NULL: any category',
    priority        VARCHAR(8) NULL COMMENT 'NULL: any priority',
    unit            VARCHAR(16) NOT NULL,
    amount          SMALLINT UNSIGNED NOT NULL,
    effective_from  DATE NOT NULL,
    note            VARCHAR(200) NOT NULL DEFAULT '',
    created_by      BIGINT UNSIGNED NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (id),
    KEY ix_deadline_rules_stage (stage, effective_from),
    CONSTRAINT fk_deadline_rules_category
        FOREIGN KEY (category_id) REFERENCES categories (id)
        ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT ck_deadline_rules_stage
        CHECK (stage IN ('intake', 'sign', 'handle', 'review', 'rating',
                         'rehandle', 'assist')),
    CONSTRAINT ck_deadline_rules_type
        CHECK (appeal_type IS NULL
               OR appeal_type IN ('consultation', 'help', 'complaint',
                                  'report', 'suggestion', 'praise')),
    CONSTRAINT ck_deadline_rules_priority
        CHECK (priority IS NULL OR priority IN ('normal', 'urgent')),
    CONSTRAINT ck_deadline_rules_unit
        CHECK (unit IN ('working_days', 'hours', 'calendar_days')),
    CONSTRAINT ck_deadline_rules_amount CHECK (amount BETWEEN 1 AND 720)
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='deadline rules as data: the rule for a stage is the most specific
 match (category, then type, then any; priority-specific first) among
 those effective on the day the stage starts, latest effective_from
 winning; rows are only added, so a new rule never rewrites the deadline
 of an appeal already running';

-- Defaults from domain.md.  The handling limit of each leaf category is its
-- handling_days; urgent appeals count in hours.
INSERT INTO deadline_rules (stage, appeal_type, category_id, priority, unit,
                            amount, effective_from, note, created_at)
SELECT s.stage, NULL, NULL, s.priority, s.unit, s.amount, '2026-01-01',
       s.note, '2026-01-01 00:00:00'
  FROM (SELECT 'intake' AS stage, NULL AS priority, 'working_days' AS unit,
               1 AS amount, '受理时限 1 个工作日' AS note
        UNION ALL SELECT 'intake', 'urgent', 'hours', 2, '紧急诉求 2 小时内受理'
        UNION ALL SELECT 'sign', NULL, 'working_days', 1, '签收时限 1 个工作日'
        UNION ALL SELECT 'sign', 'urgent', 'hours', 2, '紧急诉求 2 小时内签收'
        UNION ALL SELECT 'handle', 'urgent', 'hours', 24, '紧急诉求 24 小时内办结'
        UNION ALL SELECT 'review', NULL, 'working_days', 2, '审核时限 2 个工作日'
        UNION ALL SELECT 'review', 'urgent', 'hours', 4, '紧急诉求 4 小时内审核'
        UNION ALL SELECT 'rating', NULL, 'calendar_days', 7, '评价期 7 天'
        UNION ALL SELECT 'rehandle', NULL, 'working_days', 15, '重办 15 个工作日'
        UNION ALL SELECT 'assist', NULL, 'working_days', 3, '协办 3 个工作日'
        UNION ALL SELECT 'assist', 'urgent', 'hours', 12, '紧急协办 12 小时')
       AS s
 WHERE NOT EXISTS (SELECT 1 FROM deadline_rules);

INSERT INTO deadline_rules (stage, appeal_type, category_id, priority, unit,
                            amount, effective_from, note, created_at)
SELECT 'handle', NULL, c.id, NULL, 'working_days', c.handling_days,
       '2026-01-01', CONCAT('办理时限 ', c.handling_days, ' 个工作日'),
       '2026-01-01 00:00:00'
  FROM categories c
 WHERE c.level = 2
   AND NOT EXISTS (SELECT 1 FROM deadline_rules d
                    WHERE d.stage = 'handle' AND d.category_id IS NOT NULL);
