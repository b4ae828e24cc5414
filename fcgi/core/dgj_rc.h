
/*
 * Copyright (C) Daguanjia
 *
 * dgj_rc.h: the one result enum of the FastCGI core and its mapping to an
 * HTTP status and a stable error code string (the contract's codes).
 */


#ifndef DGJ_RC_H
#define DGJ_RC_H


typedef enum {
    DGJ_OK = 0,
    DGJ_ERR_JSON,         /* 400 invalid_json: body is not valid JSON */
    DGJ_ERR_INPUT,        /* 400 invalid_field: malformed or invalid input */
    DGJ_ERR_FORBIDDEN,    /* 403 forbidden: authenticated, not allowed */
    DGJ_ERR_NOT_FOUND,    /* 404 not_found */
    DGJ_ERR_METHOD,       /* 405 method_not_allowed, with an Allow header */
    DGJ_ERR_CONFLICT,     /* 409 conflict: duplicate key, stale state */
    DGJ_ERR_TOO_LARGE,    /* 413 payload_too_large */
    DGJ_ERR_DB,           /* 503 db_unavailable: retry is safe */
    DGJ_ERR_NOMEM,        /* 500 internal: out of memory */
    DGJ_ERR_INTERNAL,     /* 500 internal: a bug, logged at error level */
    DGJ_ERR_UNAUTH,       /* 401 unauthenticated: no or bad credentials */
    DGJ_ERR_RATE,         /* 429 too_many_requests: slow down, retry later */
    DGJ_ERR_PEER,         /* 502 peer_failed: SMS, WeChat... did not answer */
    DGJ_ERR_MEDIA,        /* 415 unsupported_media_type: file refused */
    DGJ_RC_MAX
} dgj_rc_t;


/*
 * HTTP status of rc (200 for DGJ_OK, 500 for an out-of-range value).
 */
int dgj_rc_status(dgj_rc_t rc);

/*
 * Stable error code string of rc ("invalid_json", ...); "ok" for DGJ_OK.
 * Static storage.
 */
const char *dgj_rc_code(dgj_rc_t rc);

/*
 * Message shown to the client when the handler gave none, and always for
 * 5xx codes (their detail goes to the log only).  Static storage.
 */
const char *dgj_rc_message(dgj_rc_t rc);

/*
 * Reason phrase of an HTTP status ("Not Found"); "Unknown" if not known.
 */
const char *dgj_rc_reason(int status);


#endif /* DGJ_RC_H */
