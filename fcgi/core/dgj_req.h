
/*
 * Copyright (C) Daguanjia
 *
 * dgj_req.h: one FastCGI request as handlers see it: its pool, its
 * parameters, its body, its query and path arguments, the failure detail
 * and the reply.  The transport is reached only through dgj_io_t, so the
 * request can be driven by a test without FastCGI.
 *
 * Handler contract.
 *
 *   - r->pool lives until the reply is finished.  Allocate from it freely
 *     and never free() what came from it.
 *   - Anything that did not come from r->pool (json_t roots, malloc()ed
 *     library results) is registered with dgj_pool_cleanup_add() in the
 *     same block that created it.  Cleanups run in reverse order.
 *   - Strings from dgj_req_param() die at the end of the request; copy
 *     them with dgj_pstrndup() only to keep them within the request.
 *   - Nothing request-scoped may be stored in dgj_worker_t or a static.
 *   - A handler replies at most once; on error it returns a dgj_rc_t
 *     (usually through dgj_req_fail()) and the router replies.
 */


#ifndef DGJ_REQ_H
#define DGJ_REQ_H


#include "dgj_core.h"
#include "dgj_pool.h"


#define DGJ_REQ_MAX_CAPTURES  8
#define DGJ_REQ_ERR_LEN       256


/* the transport; dgj_fcgi.c provides the FastCGI one */
typedef struct {
    /* a parameter or NULL; valid until the request ends */
    const char  *(*param)(void *data, const char *name);
    /* up to n bytes; returns bytes read, 0 at end, -1 on error */
    ssize_t      (*read)(void *data, char *buf, size_t n);
    /* all n bytes; returns 0 or -1 */
    int          (*write)(void *data, const char *buf, size_t n);
    void          *data;
} dgj_io_t;


typedef struct {
    const char  *name;
    const char  *value;
} dgj_req_pair_t;


typedef struct dgj_req_header_s  dgj_req_header_t;

struct dgj_req_header_s {
    const char        *name;
    const char        *value;
    dgj_req_header_t  *next;
};


struct dgj_req_s {
    dgj_pool_t        *pool;
    dgj_db_t          *db;          /* the worker's; NULL in unit tests */
    const dgj_conf_t  *conf;        /* the pool's; NULL in unit tests */
    const dgj_io_t    *io;
    size_t             max_body;

    const char        *method;      /* REQUEST_METHOD */
    const char        *uri;         /* DOCUMENT_URI, decoded by nginx */
    const char        *query;       /* QUERY_STRING, never NULL */
    const char        *request_id;  /* DGJ_REQUEST_ID or "-" */

    dgj_req_pair_t     captures[DGJ_REQ_MAX_CAPTURES];
    size_t             ncaptures;

    dgj_req_pair_t    *args;        /* parsed query, NULL until needed */
    size_t             nargs;

    const char        *body;        /* NUL-terminated, NULL until read */
    size_t             body_len;

    dgj_req_header_t  *headers;     /* extra reply headers */

    dgj_rc_t           err_rc;
    const char        *err_code;    /* overrides dgj_rc_code(), or NULL */
    char               err[DGJ_REQ_ERR_LEN];

    int                status;      /* sent status, 0 before the reply */
    size_t             sent;        /* body bytes sent */
    unsigned           head:1;      /* HEAD: headers only */
};


/*
 * Initialises r for a new request on io.  r->pool is pool, already
 * reset.  Reads REQUEST_METHOD, DOCUMENT_URI, QUERY_STRING and
 * DGJ_REQUEST_ID; missing ones become "GET", "/", "" and "-".
 */
void dgj_req_init(dgj_req_t *r, dgj_pool_t *pool, const dgj_io_t *io,
    size_t max_body);

/* A FastCGI parameter, or NULL.  Borrowed: dies with the request. */
const char *dgj_req_param(dgj_req_t *r, const char *name);

/*
 * Reads the whole body once (later calls return the same), bounded by
 * CONTENT_LENGTH, which must be a plain decimal not above max_body.
 * Returns DGJ_OK with *body NUL-terminated in r->pool (empty if no
 * body), DGJ_ERR_TOO_LARGE, DGJ_ERR_INPUT (bad length, short read) or
 * DGJ_ERR_NOMEM; errors go through dgj_req_fail().
 */
dgj_rc_t dgj_req_body(dgj_req_t *r, const char **body, size_t *len);

/*
 * The decoded value of query argument name ('+' is a space, %XX a
 * byte), NULL in *value when absent; the first of repeated names wins.
 * DGJ_ERR_INPUT for a malformed escape or an encoded NUL, DGJ_ERR_NOMEM.
 * The value is owned by r->pool.
 */
dgj_rc_t dgj_req_arg(dgj_req_t *r, const char *name, const char **value);

/* The {name} path segment captured by the router, or NULL. */
const char *dgj_req_capture(dgj_req_t *r, const char *name);

/*
 * Records why the request failed and returns rc, so a handler writes
 * `return dgj_req_fail(r, DGJ_ERR_INPUT, "...", ...);`.  The message is
 * logged; it is shown to the client for 4xx codes and DGJ_ERR_PEER.  The first
 * failure recorded wins.
 */
dgj_rc_t dgj_req_fail(dgj_req_t *r, dgj_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Forgets the recorded failure, for a caller that handles it (a session
 * that ended: go to the login page) or words it better than the layer
 * below (a duplicate key: "this username is taken").
 */
void dgj_req_fail_clear(dgj_req_t *r);

/*
 * dgj_req_fail() with a more precise error code than rc's own (a static
 * string such as "account_locked"); the HTTP status is still rc's.
 */
dgj_rc_t dgj_req_fail_code(dgj_req_t *r, dgj_rc_t rc, const char *code,
    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Adds a reply header.  name and value must live as long as the request.
 * DGJ_OK or DGJ_ERR_NOMEM.
 */
dgj_rc_t dgj_req_header_add(dgj_req_t *r, const char *name,
    const char *value);

/*
 * Names what the request did for the audit log: the X-Dgj-Action and
 * X-Dgj-Object reply headers, which nginx's dgj audit module records and
 * strips before the client sees them (docs/audit.md).  action is a
 * static "domain.verb" such as "appeal.accept"; object (may be NULL) an
 * id the request acted on, copied.  DGJ_OK or DGJ_ERR_NOMEM.
 */
dgj_rc_t dgj_req_audit(dgj_req_t *r, const char *action, const char *object);

/*
 * Sends the reply: status line, Content-Type, Content-Length, the extra
 * headers and body (not for HEAD).  Only once per request: a second call
 * is DGJ_ERR_INTERNAL.  DGJ_OK also when the client went away (logged).
 */
dgj_rc_t dgj_reply(dgj_req_t *r, int status, const char *content_type,
    const char *body, size_t len);

/*
 * Sends the error reply for rc: its status and
 * {"error":{"code","message"},"request_id"}, the message being the one
 * recorded by dgj_req_fail() for 4xx codes and the generic one otherwise.
 * Works without pool memory.  Does nothing if a reply was already sent.
 */
void dgj_reply_error(dgj_req_t *r, dgj_rc_t rc);

/*
 * Percent-decodes src[0..len) into dst (at least len + 1 bytes), '+' as
 * space when plus is set.  Returns the decoded length, or -1 on a
 * malformed escape or an encoded NUL.  dst is NUL-terminated.
 */
ssize_t dgj_req_unescape(char *dst, const char *src, size_t len, int plus);

/*
 * Percent-encodes s for a URL query value or path segment: every byte
 * but the RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~) becomes %XX
 * (upper-case hex).  The result is owned by pool; NULL when out of
 * memory.
 */
char *dgj_req_escape(dgj_pool_t *pool, const char *s);

/*
 * Length of the valid UTF-8 character at p (left bytes available): 1 for
 * ASCII, 2..4 for a well-formed sequence (no overlong form, surrogate or
 * code point above U+10FFFF), 0 when invalid or left is 0.
 */
size_t dgj_req_utf8_len(const unsigned char *p, size_t left);


#endif /* DGJ_REQ_H */
