
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_names.h: the worker's cache of the reference names the
 * hot read paths print (category, district and department code and
 * name by id), so that the public status query reads single tables
 * instead of joining four lookups on every call.  MariaDB plans a
 * prepared statement again at every execution; a five-table join cost
 * more in the optimiser than in the rows.
 */


#ifndef DGJ_WORKFLOW_NAMES_H
#define DGJ_WORKFLOW_NAMES_H


#include "dgj_core.h"
#include "dgj_req.h"


/*
 * Seconds between two checks of the reference tables' checksum: a
 * renamed department shows in at most this long.
 */
#define DGJ_WF_NAMES_CHECK  10


typedef enum {
    DGJ_WF_NAMES_CATEGORY = 0,
    DGJ_WF_NAMES_DISTRICT,
    DGJ_WF_NAMES_DEPARTMENT,
    DGJ_WF_NAMES_KINDS
} dgj_wf_names_kind_t;


/*
 * Sets code_key and name_key (either may be NULL: not set) of row to the
 * code and name of the id in its integer member id_key; an id that is
 * null, missing or unknown sets both to null.  id_key is removed when it
 * begins with '_' (a column only the handler reads), kept otherwise.
 * Loads or refreshes the cache when due.  DGJ_OK, DGJ_ERR_DB,
 * DGJ_ERR_NOMEM.
 */
dgj_rc_t dgj_wf_names_set(dgj_req_t *r, json_t *row, const char *id_key,
    dgj_wf_names_kind_t kind, const char *code_key, const char *name_key);


/*
 * An appeal row's names: category_code and category_name from
 * _category_id, district_code and district_name from _district_id,
 * lead_department_name from lead_key ("_lead_department_id" to drop the
 * id, "lead_department_id" to keep it).
 */
dgj_rc_t dgj_wf_names_appeal(dgj_req_t *r, json_t *row,
    const char *lead_key);


#endif /* DGJ_WORKFLOW_NAMES_H */
