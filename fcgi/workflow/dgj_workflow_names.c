
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_names.c: the worker's cache of reference names
 * (dgj_workflow_names.h).  One snapshot per worker, malloc()ed, replaced
 * whole when the tables' checksum changes; values reach responses as
 * copies (json_string), so a request never holds a pointer into it.
 */


#include "dgj_core.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_req.h"
#include "dgj_workflow_names.h"


typedef struct {
    int64_t   id;
    char     *code;
    char     *name;
} dgj_wf_name_t;


typedef struct {
    dgj_wf_name_t  *items;          /* ascending id */
    size_t          n;
    size_t          cap;
} dgj_wf_names_list_t;


typedef struct {
    int64_t  rows;
    int64_t  sum;
    int64_t  xor;
} dgj_wf_names_sig_t;


static dgj_rc_t dgj_wf_names_ready(dgj_req_t *r);
static dgj_rc_t dgj_wf_names_load(dgj_req_t *r,
    dgj_wf_names_list_t *lists);
static dgj_rc_t dgj_wf_names_row(dgj_req_t *r, void *data,
    const dgj_db_col_t *cols, size_t ncols);
static void dgj_wf_names_free(dgj_wf_names_list_t *lists);
static const dgj_wf_name_t *dgj_wf_names_find(
    const dgj_wf_names_list_t *list, int64_t id);


/* worker-scoped: a worker serves one request at a time, so no lock */
static dgj_wf_names_list_t  dgj_wf_names[DGJ_WF_NAMES_KINDS];
static dgj_wf_names_sig_t   dgj_wf_names_sig;
static int64_t              dgj_wf_names_checked;
static int                  dgj_wf_names_loaded;


/* any insert, rename, recode or delete changes the count, sum or xor */
static const dgj_sql_t  dgj_wf_sql_names_sig = {
    "workflow.names_sig",
    "SELECT COUNT(*), COALESCE(SUM(h), 0), COALESCE(BIT_XOR(h), 0)"
    "  FROM (SELECT CRC32(CONCAT_WS('|', 'c', id, code, name)) AS h"
    "          FROM categories"
    "        UNION ALL"
    "        SELECT CRC32(CONCAT_WS('|', 'd', id, code, name))"
    "          FROM districts"
    "        UNION ALL"
    "        SELECT CRC32(CONCAT_WS('|', 'p', id, code, name))"
    "          FROM departments) t"
};

/* the same order as dgj_wf_names_kind_t */
static const dgj_sql_t  dgj_wf_sql_names[DGJ_WF_NAMES_KINDS] = {
    { "workflow.names_categories",
      "SELECT id, code, name FROM categories ORDER BY id" },
    { "workflow.names_districts",
      "SELECT id, code, name FROM districts ORDER BY id" },
    { "workflow.names_departments",
      "SELECT id, code, name FROM departments ORDER BY id" },
};


dgj_rc_t
dgj_wf_names_set(dgj_req_t *r, json_t *row, const char *id_key,
    dgj_wf_names_kind_t kind, const char *code_key, const char *name_key)
{
    json_t               *idv;
    dgj_rc_t              rc;
    const dgj_wf_name_t  *n;

    rc = dgj_wf_names_ready(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    idv = json_object_get(row, id_key);
    n = json_is_integer(idv)
        ? dgj_wf_names_find(&dgj_wf_names[kind], json_integer_value(idv))
        : NULL;

    if ((code_key != NULL
         && json_object_set_new(row, code_key, n ? json_string(n->code)
                                                 : json_null()) != 0)
        || (name_key != NULL
            && json_object_set_new(row, name_key, n ? json_string(n->name)
                                                    : json_null()) != 0))
    {
        return DGJ_ERR_NOMEM;
    }

    if (id_key[0] == '_') {
        json_object_del(row, id_key);
    }

    return DGJ_OK;
}


dgj_rc_t
dgj_wf_names_appeal(dgj_req_t *r, json_t *row, const char *lead_key)
{
    dgj_rc_t  rc;

    rc = dgj_wf_names_set(r, row, "_category_id", DGJ_WF_NAMES_CATEGORY,
                          "category_code", "category_name");
    if (rc == DGJ_OK) {
        rc = dgj_wf_names_set(r, row, "_district_id", DGJ_WF_NAMES_DISTRICT,
                              "district_code", "district_name");
    }

    if (rc == DGJ_OK) {
        rc = dgj_wf_names_set(r, row, lead_key, DGJ_WF_NAMES_DEPARTMENT,
                              NULL, "lead_department_name");
    }

    return rc;
}


static dgj_rc_t
dgj_wf_names_ready(dgj_req_t *r)
{
    size_t                i;
    int64_t               now;
    dgj_rc_t              rc;
    dgj_wf_names_sig_t    sig;
    dgj_wf_names_list_t   fresh[DGJ_WF_NAMES_KINDS];

    now = dgj_clock_now(r->conf);

    /* a clock moved back (tests) checks at once too */
    if (dgj_wf_names_loaded
        && now - dgj_wf_names_checked < DGJ_WF_NAMES_CHECK
        && now >= dgj_wf_names_checked)
    {
        return DGJ_OK;
    }

    /* read before the rows: a change between the reads reloads again */
    rc = dgj_db_row(r, &dgj_wf_sql_names_sig, DGJ_NOARGS,
                    DGJ_OUTS(DGJ_OUT_I64(&sig.rows), DGJ_OUT_I64(&sig.sum),
                             DGJ_OUT_I64(&sig.xor)));
    if (rc != DGJ_OK) {
        return rc;
    }

    if (!dgj_wf_names_loaded
        || memcmp(&sig, &dgj_wf_names_sig, sizeof(sig)) != 0)
    {
        memset(fresh, 0, sizeof(fresh));

        rc = dgj_wf_names_load(r, fresh);
        if (rc != DGJ_OK) {
            dgj_wf_names_free(fresh);
            return rc;
        }

        dgj_wf_names_free(dgj_wf_names);

        for (i = 0; i < DGJ_WF_NAMES_KINDS; i++) {
            dgj_wf_names[i] = fresh[i];
        }

        dgj_wf_names_sig = sig;
        dgj_wf_names_loaded = 1;
    }

    dgj_wf_names_checked = now;

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_names_load(dgj_req_t *r, dgj_wf_names_list_t *lists)
{
    size_t    i;
    dgj_rc_t  rc;

    for (i = 0; i < DGJ_WF_NAMES_KINDS; i++) {
        rc = dgj_db_rows_each(r, &dgj_wf_sql_names[i], DGJ_NOARGS,
                              dgj_wf_names_row, &lists[i]);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_names_row(dgj_req_t *r, void *data, const dgj_db_col_t *cols,
    size_t ncols)
{
    size_t                cap;
    dgj_wf_name_t        *items, *n;
    dgj_wf_names_list_t  *list;

    list = data;

    if (ncols != 3 || cols[0].s == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "reference row shape");
    }

    if (list->n == list->cap) {
        cap = list->cap ? list->cap * 2 : 64;
        items = realloc(list->items, cap * sizeof(dgj_wf_name_t));
        if (items == NULL) {
            return DGJ_ERR_NOMEM;
        }

        list->items = items;
        list->cap = cap;
    }

    n = &list->items[list->n];
    n->id = strtoll(cols[0].s, NULL, 10);
    n->code = strdup(cols[1].s ? cols[1].s : "");
    n->name = strdup(cols[2].s ? cols[2].s : "");

    if (n->code == NULL || n->name == NULL) {
        free(n->code);
        free(n->name);
        return DGJ_ERR_NOMEM;
    }

    list->n++;

    return DGJ_OK;
}


static void
dgj_wf_names_free(dgj_wf_names_list_t *lists)
{
    size_t  i, k;

    for (k = 0; k < DGJ_WF_NAMES_KINDS; k++) {
        for (i = 0; i < lists[k].n; i++) {
            free(lists[k].items[i].code);
            free(lists[k].items[i].name);
        }

        free(lists[k].items);
        memset(&lists[k], 0, sizeof(lists[k]));
    }
}


/* binary search: the rows came in ascending id */
static const dgj_wf_name_t *
dgj_wf_names_find(const dgj_wf_names_list_t *list, int64_t id)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = list->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (list->items[mid].id == id) {
            return &list->items[mid];
        }

        if (list->items[mid].id < id) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return NULL;
}
