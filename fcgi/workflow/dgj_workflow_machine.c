
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_machine.c: the appeal state machine as one table.  Each
 * action names the states it may leave, the state it enters (or none for
 * a side action), the roles that may take it, whose department it must
 * be, which deadline clock it starts and whether the citizen sees it.
 * The actions (dgj_workflow_actions.c) check every request against this
 * table before anything else; docs/workflow.md draws it and
 * GET /api/v1/workflow/transitions serves it, so they cannot drift.
 */


#include "dgj_core.h"
#include "dgj_workflow.h"


#define S(x)  DGJ_WF_BIT(DGJ_WF_##x)

/* the states an appeal is still being worked on in */
#define DGJ_WF_OPEN                                                           \
    (S(SUBMITTED) | S(ACCEPTED) | S(DISPATCHED) | S(HANDLING) | S(RETURNED)   \
     | S(REPLIED) | S(AWAITING_FEEDBACK) | S(DISSATISFIED) | S(REOPENED))


static const char  *dgj_wf_state_names[DGJ_WF_NSTATES][2] = {
    { "submitted",          "待受理" },
    { "accepted",           "已受理" },
    { "rejected",           "不予受理" },
    { "merged",             "已合并" },
    { "dispatched",         "已派单" },
    { "handling",           "办理中" },
    { "returned",           "退回待审" },
    { "replied",            "答复待审核" },
    { "awaiting_feedback",  "待评价" },
    { "dissatisfied",       "不满意甄别中" },
    { "reopened",           "重办" },
    { "closed",             "已办结" },
};


static const dgj_wf_transition_t  dgj_wf_table[] = {

    /* intake (受理) */
    { "accept", "受理", S(SUBMITTED), DGJ_WF_ACCEPTED,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, NULL, 1 },
    { "reject", "不予受理", S(SUBMITTED) | S(ACCEPTED), DGJ_WF_REJECTED,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, "none", 1 },
    { "merge", "合并", S(SUBMITTED) | S(ACCEPTED), DGJ_WF_MERGED,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, "none", 1 },
    { "reclassify", "重新分类", S(SUBMITTED) | S(ACCEPTED) | S(RETURNED),
      DGJ_WF_SAME, { "intake", NULL }, DGJ_WF_SCOPE_ROLE, NULL, 0 },
    { "direct_answer", "直接答复", S(SUBMITTED) | S(ACCEPTED),
      DGJ_WF_AWAITING_FEEDBACK, { "intake", NULL }, DGJ_WF_SCOPE_ROLE,
      "rating", 1 },
    { "dispatch", "派单", S(SUBMITTED) | S(ACCEPTED), DGJ_WF_DISPATCHED,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, "sign", 1 },

    /* the lead department (主办) */
    { "sign", "签收", S(DISPATCHED) | S(REOPENED), DGJ_WF_HANDLING,
      { "handler", NULL }, DGJ_WF_SCOPE_LEAD, "handle", 1 },

    { "return", "申请退回", S(DISPATCHED) | S(HANDLING), DGJ_WF_RETURNED,
      { "handler", NULL }, DGJ_WF_SCOPE_LEAD, "intake", 0 },
    { "assist_request", "发起协办", S(HANDLING), DGJ_WF_SAME,
      { "handler", NULL }, DGJ_WF_SCOPE_LEAD, NULL, 0 },
    { "extension_request", "申请延期", S(HANDLING), DGJ_WF_SAME,
      { "handler", NULL }, DGJ_WF_SCOPE_LEAD, NULL, 0 },
    { "reply", "答复", S(HANDLING), DGJ_WF_REPLIED,
      { "handler", NULL }, DGJ_WF_SCOPE_LEAD, "review", 0 },

    /* assisting departments (协办) */
    { "assist_reply", "协办回复", S(HANDLING), DGJ_WF_SAME,
      { "handler", NULL }, DGJ_WF_SCOPE_ASSIST, NULL, 0 },

    /* intake decides returns and extensions */
    { "redispatch", "重新派单", S(RETURNED), DGJ_WF_DISPATCHED,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, "sign", 1 },
    { "refuse_return", "退回不予认可", S(RETURNED), DGJ_WF_DISPATCHED,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, "sign", 0 },
    { "extension_approve", "批准延期", S(HANDLING), DGJ_WF_SAME,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, NULL, 1 },
    { "extension_refuse", "不予延期", S(HANDLING), DGJ_WF_SAME,
      { "intake", NULL }, DGJ_WF_SCOPE_ROLE, NULL, 0 },

    /* review of the reply (办结审核) and publication (公示) */
    { "approve", "审核通过", S(REPLIED), DGJ_WF_AWAITING_FEEDBACK,
      { "reviewer", NULL }, DGJ_WF_SCOPE_ROLE, "rating", 1 },
    { "send_back", "审核退回", S(REPLIED), DGJ_WF_HANDLING,
      { "reviewer", NULL }, DGJ_WF_SCOPE_ROLE, "handle", 0 },

    { "publish", "公示决定", S(AWAITING_FEEDBACK) | S(CLOSED), DGJ_WF_SAME,
      { "reviewer", NULL }, DGJ_WF_SCOPE_ROLE, NULL, 0 },

    /* the citizen (回访/评价) and the dissatisfaction review (满意度甄别) */
    { "rate", "评价", S(AWAITING_FEEDBACK), DGJ_WF_CLOSED,
      { "citizen", "organisation", NULL }, DGJ_WF_SCOPE_SUBMITTER, "none",
      1 },
    { "uphold", "甄别属实, 重办", S(DISSATISFIED), DGJ_WF_REOPENED,
      { "reviewer", "supervisor", NULL }, DGJ_WF_SCOPE_ROLE, "rehandle",
      1 },
    { "dismiss", "甄别不属实, 办结", S(DISSATISFIED), DGJ_WF_CLOSED,
      { "reviewer", "supervisor", NULL }, DGJ_WF_SCOPE_ROLE, "none", 1 },
    { "auto_close", "评价期满自动办结", S(AWAITING_FEEDBACK), DGJ_WF_CLOSED,
      { NULL }, DGJ_WF_SCOPE_SYSTEM, "none", 1 },

    /* supervision (催办/督办) and notes: history only */
    { "urge", "催办",
      S(DISPATCHED) | S(HANDLING) | S(RETURNED) | S(REPLIED) | S(REOPENED),
      DGJ_WF_SAME, { "supervisor", NULL }, DGJ_WF_SCOPE_ROLE, NULL, 0 },
    { "supervise", "督办",
      S(DISPATCHED) | S(HANDLING) | S(RETURNED) | S(REPLIED) | S(REOPENED),
      DGJ_WF_SAME, { "supervisor", NULL }, DGJ_WF_SCOPE_ROLE, NULL, 0 },
    { "note", "内部备注", DGJ_WF_OPEN | S(CLOSED) | S(REJECTED) | S(MERGED),
      DGJ_WF_SAME, { "intake", "handler", "reviewer", "supervisor" },
      DGJ_WF_SCOPE_VIEWER, NULL, 0 },

    { NULL, NULL, 0, 0, { NULL }, 0, NULL, 0 }
};


const char *
dgj_wf_state_name(int state)
{
    if (state < 0 || state >= DGJ_WF_NSTATES) {
        return NULL;
    }

    return dgj_wf_state_names[state][0];
}


const char *
dgj_wf_state_title(int state)
{
    if (state < 0 || state >= DGJ_WF_NSTATES) {
        return NULL;
    }

    return dgj_wf_state_names[state][1];
}


int
dgj_wf_state_parse(const char *name)
{
    int  i;

    if (name == NULL) {
        return -1;
    }

    for (i = 0; i < DGJ_WF_NSTATES; i++) {
        if (strcmp(dgj_wf_state_names[i][0], name) == 0) {
            return i;
        }
    }

    return -1;
}


const dgj_wf_transition_t *
dgj_wf_transition(const char *action)
{
    const dgj_wf_transition_t  *t;

    for (t = dgj_wf_table; t->action != NULL; t++) {
        if (strcmp(t->action, action) == 0) {
            return t;
        }
    }

    return NULL;
}


const dgj_wf_transition_t *
dgj_wf_transitions(void)
{
    return dgj_wf_table;
}


int
dgj_wf_role_allowed(const dgj_wf_transition_t *t, const dgj_identity_t *id)
{
    size_t  i;

    for (i = 0; i < 4 && t->roles[i] != NULL; i++) {
        if (dgj_identity_has_role(id, t->roles[i])) {
            return 1;
        }
    }

    return 0;
}


int
dgj_wf_state_final(int state)
{
    return state == DGJ_WF_REJECTED || state == DGJ_WF_MERGED
           || state == DGJ_WF_CLOSED;
}
