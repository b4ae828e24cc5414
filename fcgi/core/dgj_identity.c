
/*
 * Copyright (C) Daguanjia
 *
 * dgj_identity.c: the caller's identity from the DGJ_* parameters.
 */


#include "dgj_core.h"
#include "dgj_identity.h"
#include "dgj_req.h"


static uint64_t dgj_identity_u64(const char *s);


void
dgj_identity_get(dgj_req_t *r, dgj_identity_t *id)
{
    const char  *v;

    memset(id, 0, sizeof(dgj_identity_t));
    id->roles = "";
    id->session = "";

    v = dgj_req_param(r, "DGJ_AUTH_STATUS");
    id->status = (v != NULL && *v != '\0') ? v : "OFF";

    if (strcmp(id->status, "OK") != 0) {
        return;
    }

    v = dgj_req_param(r, "DGJ_USER_ID");
    id->user_id = (v != NULL) ? dgj_identity_u64(v) : 0;

    if (id->user_id == 0) {
        id->status = "NONE";
        return;
    }

    v = dgj_req_param(r, "DGJ_DEPT");
    id->dept_id = (v != NULL) ? dgj_identity_u64(v) : 0;

    v = dgj_req_param(r, "DGJ_ROLES");
    id->roles = (v != NULL) ? v : "";

    v = dgj_req_param(r, "DGJ_SESSION");
    id->session = (v != NULL) ? v : "";

    v = dgj_req_param(r, "DGJ_AUTH_LEVEL");
    id->level = (v != NULL && (v[0] == '1' || v[0] == '2') && v[1] == '\0')
                ? v[0] - '0' : 1;
}


int
dgj_identity_has_role(const dgj_identity_t *id, const char *role)
{
    size_t       n;
    const char  *p, *comma;

    n = strlen(role);

    for (p = id->roles; *p != '\0'; p = comma + 1) {
        comma = strchr(p, ',');
        if (comma == NULL) {
            return strcmp(p, role) == 0;
        }

        if ((size_t) (comma - p) == n && strncmp(p, role, n) == 0) {
            return 1;
        }
    }

    return 0;
}


dgj_rc_t
dgj_identity_require(dgj_req_t *r, dgj_identity_t *id,
    const char *const *roles)
{
    size_t  i;

    dgj_identity_get(r, id);

    if (id->user_id == 0) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "please sign in first");
    }

    if (roles == NULL) {
        return DGJ_OK;
    }

    for (i = 0; roles[i] != NULL; i++) {
        if (dgj_identity_has_role(id, roles[i])) {
            return DGJ_OK;
        }
    }

    return dgj_req_fail(r, DGJ_ERR_FORBIDDEN,
                        "your role may not do this");
}


static uint64_t
dgj_identity_u64(const char *s)
{
    uint64_t  n;

    if (*s == '\0' || strlen(s) > 19) {
        return 0;
    }

    n = 0;

    for ( ; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }

        n = n * 10 + (uint64_t) (*s - '0');
    }

    return n;
}
