
/*
 * Copyright (C) Daguanjia
 *
 * dgj_identity.h: who is calling.  nginx's dgj auth module verifies the
 * token and passes the result as FastCGI parameters (DGJ_USER_ID,
 * DGJ_ROLES, DGJ_DEPT, DGJ_SESSION, DGJ_AUTH_STATUS, DGJ_AUTH_LEVEL; see
 * docs/security.md).  A client header arrives as HTTP_* and can never set
 * them.  Handlers read the caller only through here.
 */


#ifndef DGJ_IDENTITY_H
#define DGJ_IDENTITY_H


#include "dgj_core.h"


typedef struct {
    uint64_t     user_id;           /* 0: anonymous */
    uint64_t     dept_id;           /* 0: none */
    const char  *roles;             /* "intake,reviewer"; "" anonymous */
    const char  *session;           /* 32 hex chars; "" anonymous */
    const char  *status;            /* OK, NONE, EXPIRED, ... ; "OFF" */
    int          level;             /* 0 anonymous, 1 or 2 */
} dgj_identity_t;


/* Fills id from r's parameters; anything malformed counts as anonymous. */
void dgj_identity_get(dgj_req_t *r, dgj_identity_t *id);

/* 1 when the comma-separated roles list contains role exactly. */
int dgj_identity_has_role(const dgj_identity_t *id, const char *role);

/*
 * The caller must be signed in (else DGJ_ERR_UNAUTH, 401) and hold one
 * of roles, a NULL-terminated list, NULL for any (else
 * DGJ_ERR_FORBIDDEN, 403).  Fills id.
 */
dgj_rc_t dgj_identity_require(dgj_req_t *r, dgj_identity_t *id,
    const char *const *roles);


#endif /* DGJ_IDENTITY_H */
