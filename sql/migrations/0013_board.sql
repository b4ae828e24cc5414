-- 0013_board.sql: the index behind the supervision board's department
-- assessment (fcgi/workflow/dgj_workflow_board.c, docs/console-admin.md):
-- every event of one action in a period (signs, replies, returns,
-- dispatches, ratings) is one range of (action, at), whatever the
-- department.  ix_appeal_events_actor (actor_department_id, action, at)
-- serves the drill-down of one department.

ALTER TABLE appeal_events
    ADD INDEX IF NOT EXISTS ix_appeal_events_action (action, at);
