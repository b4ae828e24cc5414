
/*
 * Copyright (C) Daguanjia
 *
 * dgj_session.h: login sessions (MariaDB table sessions), the access
 * tokens minted for them (dgj_token.h), the cookies that carry them and
 * the revocation nginx is told about when a session ends.
 *
 *   dgj_at    access token: HttpOnly, SameSite=Lax, Path=/
 *   dgj_rt    refresh secret: HttpOnly, SameSite=Lax, Path=/api/v1/auth/
 *   dgj_csrf  CSRF token bound to the session, readable by scripts
 *
 * Secure is added when the request came over TLS.  An app client
 * (body "client":"app") gets the access and refresh tokens in the JSON
 * reply instead of cookies.
 */


#ifndef DGJ_SESSION_H
#define DGJ_SESSION_H


#include "dgj_core.h"
#include "dgj_token.h"

#include <jansson.h>


typedef struct {
    int64_t      user_id;
    const char  *kind;              /* staff, citizen, organisation */
    int64_t      dept_id;
    const char  *roles;             /* "a,b" */
    const char  *method;            /* password, password_totp, sms, wechat */
    int          level;             /* 1 or 2 */
} dgj_session_user_t;


/*
 * Opens a session for u, mints its first access token, sets the cookies
 * (or, for an app, puts access_token and refresh_token in reply) and
 * adds "session": {expires_in, csrf_token, idle_seconds, expires_at}.
 */
dgj_rc_t dgj_session_start(dgj_req_t *r, const dgj_session_user_t *u,
    int app, json_t *reply);

/*
 * Checks the session of refresh secret (idle and absolute timeouts,
 * account still active), marks it seen and mints a new access token, as
 * dgj_session_start() replies.  An expired session is ended here.
 * DGJ_ERR_UNAUTH (session_expired, session_ended) when it cannot go on.
 */
dgj_rc_t dgj_session_refresh(dgj_req_t *r, const char *secret, int app,
    json_t *reply);

/*
 * Ends one session (reason: logout, idle_timeout, ...) and revokes it in
 * nginx.  A session already ended is left as it is.
 */
dgj_rc_t dgj_session_end(dgj_req_t *r, const char *session,
    const char *reason);

/* the sessions dgj_session_end_user() ended, for dgj_session_revoke() */
typedef struct {
    const char  **ids;              /* r->pool */
    size_t        n;
} dgj_session_ended_t;


/*
 * Ends every open session of user_id (disable, role or password change)
 * in the database and lists them in ended.  The caller commits, then
 * tells nginx with dgj_session_revoke(): a revocation is never sent for
 * a change that was rolled back.
 */
dgj_rc_t dgj_session_end_user(dgj_req_t *r, int64_t user_id,
    const char *reason, dgj_session_ended_t *ended);

/*
 * Adds the sessions to nginx's revocation set (the state file and the
 * control server).  Failures are logged: the sessions are ended in the
 * database already, and their tokens lapse within the token lifetime.
 */
void dgj_session_revoke(dgj_req_t *r, const dgj_session_ended_t *ended);

/* Expires the three cookies in the browser. */
dgj_rc_t dgj_session_clear_cookies(dgj_req_t *r);

/*
 * Verifies an access token as nginx does (for GET /api/v1/auth/check)
 * and fills claims.  DGJ_ERR_UNAUTH when it is not valid now.
 */
dgj_rc_t dgj_session_verify(dgj_req_t *r, const char *token,
    dgj_token_claims_t *claims);

/* 1 when the session id is open (not ended, not past its end) at now. */
dgj_rc_t dgj_session_open(dgj_req_t *r, const char *session, int *open);


#endif /* DGJ_SESSION_H */
