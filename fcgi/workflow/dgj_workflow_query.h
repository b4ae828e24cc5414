
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_query.h: what the two read sides of the workflow share,
 * the staff queries (dgj_workflow_query.c) and the public ones
 * (dgj_workflow_public.c): keyset cursors and page sizes, the filters
 * given as codes (category, district, dates), and the labels every view
 * shows.  Implemented in dgj_workflow_query.c.
 */


#ifndef DGJ_WORKFLOW_QUERY_H
#define DGJ_WORKFLOW_QUERY_H


#include "dgj_core.h"
#include "dgj_db.h"

#include <jansson.h>


#define DGJ_WFQ_LIMIT_DEFAULT  50
#define DGJ_WFQ_LIMIT_MAX      100


/*
 * A position in a list ordered by (key, id): the last row of the page
 * before.  key is the sort column as the database printed it
 * ("2026-12-01 10:00:00"), NULL when that row's column was NULL.
 */
typedef struct {
    unsigned     present:1;         /* 0: the first page */
    const char  *key;
    int64_t      id;
} dgj_wfq_cursor_t;


/* the filters given by code, resolved to ids (0: no filter) */
typedef struct {
    int64_t      leaf;              /* category_code of a leaf */
    int64_t      topic;             /* category_code of a topic */
    int64_t      district;
    const char  *from;              /* "YYYY-MM-DD 00:00:00" or NULL */
    const char  *to;                /* the day after "to", exclusive */
} dgj_wfq_filter_t;


/*
 * Reads the "cursor" query argument, which must be a cursor this API
 * made for the same list (scope: "intake", "mine", "disclosures"...).
 * DGJ_OK (c->present 0 when absent) or DGJ_ERR_INPUT (invalid_cursor).
 */
dgj_rc_t dgj_wfq_cursor_arg(dgj_req_t *r, const char *scope,
    dgj_wfq_cursor_t *c);

/* Reads "limit": 1..DGJ_WFQ_LIMIT_MAX, DGJ_WFQ_LIMIT_DEFAULT when absent. */
dgj_rc_t dgj_wfq_limit_arg(dgj_req_t *r, int64_t *limit);

/*
 * Reads "category" (a leaf code, or a topic code meaning all its
 * leaves), "district" (a division code) and "from"/"to" (YYYY-MM-DD,
 * both days included).  Unknown codes and bad dates are DGJ_ERR_INPUT.
 */
dgj_rc_t dgj_wfq_filter_args(dgj_req_t *r, dgj_wfq_filter_t *f);

/*
 * Appends the cursor's bind values for DGJ_WFQ_SQL_AFTER /
 * DGJ_WFQ_SQL_BEFORE (6 values) to args at *n.
 */
void dgj_wfq_cursor_bind(const dgj_wfq_cursor_t *c, dgj_arg_t *args,
    size_t *n);

/* Appends the pair "(? IS NULL OR col = ?)": NULL, NULL when absent. */
void dgj_wfq_bind_pair(dgj_arg_t *args, size_t *n, int present,
    dgj_arg_t v);

/*
 * Ends a page read with LIMIT limit + 1: drops the extra row and sets
 * *next to the cursor of the last row kept (its key column and its "id")
 * or to JSON null when there is no more.  Then removes "id" and every
 * column whose name starts with '_' from each row (internal columns).
 * *next is a new reference for the caller to attach with a _new setter.
 */
dgj_rc_t dgj_wfq_page(dgj_req_t *r, json_t *rows, int64_t limit,
    const char *scope, const char *key_col, json_t **next);

/* Turns the 0/1 integer columns named in keys (NULL-ended) into booleans. */
void dgj_wfq_bools(json_t *row, const char *const *keys);

/* Adds "state_title" (and, for "to_state", "to_state_title") to row. */
void dgj_wfq_state_title(json_t *row, const char *col, const char *title_col);

/* 非常满意 .. 非常不满意 for 1..5, NULL otherwise. */
const char *dgj_wfq_rating_title(int64_t rating);

/* The Chinese title of an action ("submit" included), or the name. */
const char *dgj_wfq_action_title(const char *action);


/*
 * Keyset conditions for a list ordered by (key, id), NULL keys first
 * (MariaDB's order), with the 6 bind values of dgj_wfq_cursor_bind():
 * present, key, key, id, key is NULL, id.  Constant folding leaves a
 * plain range on (key, id) for the optimizer.
 */
#define DGJ_WFQ_SQL_AFTER(key, id)                                            \
    "   AND (? IS NULL OR " key " > ? OR (" key " = ? AND " id " > ?)"       \
    "        OR (? = 1 AND (" key " IS NOT NULL OR " id " > ?)))"

/* the same for (key DESC, id DESC), NULL keys last */
#define DGJ_WFQ_SQL_BEFORE(key, id)                                           \
    "   AND (? IS NULL OR " key " < ? OR (" key " = ? AND " id " < ?)"       \
    "        OR (" key " IS NULL AND (? = 0 OR " id " < ?)))"


#endif /* DGJ_WORKFLOW_QUERY_H */
