
/*
 * Copyright (C) Daguanjia
 *
 * dgj_router.h: route tables and the router that walks them.  A domain
 * file exports one table; the router matches DOCUMENT_URI against each
 * pattern ("/api/v1/calendar/{year}": a {name} segment captures one
 * non-empty path segment), answers 404 when no pattern matches and 405
 * with an Allow header when a pattern matches but no method does.
 */


#ifndef DGJ_ROUTER_H
#define DGJ_ROUTER_H


#include "dgj_core.h"
#include "dgj_req.h"


#define DGJ_ROUTER_MAX_TABLES  16


typedef enum {
    DGJ_GET    = 0x01,              /* also answers HEAD */
    DGJ_POST   = 0x02,
    DGJ_PUT    = 0x04,
    DGJ_PATCH  = 0x08,
    DGJ_DELETE = 0x10
} dgj_method_t;


/*
 * A handler replies with dgj_reply*() and returns DGJ_OK, or returns an
 * error code (without replying) for the router to turn into the error
 * reply.
 */
typedef dgj_rc_t (*dgj_handler_pt)(dgj_req_t *r);


struct dgj_route_s {
    unsigned          methods;      /* dgj_method_t bits */
    const char       *pattern;
    dgj_handler_pt    handler;
};

#define dgj_null_route  { 0, NULL, NULL }


typedef struct {
    const dgj_route_t  *tables[DGJ_ROUTER_MAX_TABLES];
    size_t              ntables;
} dgj_router_t;


/*
 * Adds a table (terminated by dgj_null_route).  0, or -1 when full.
 * The table must be static.
 */
int dgj_router_add(dgj_router_t *rt, const dgj_route_t *table);

/*
 * Finds the route for r->method and r->uri and stores its captures in
 * r.  Returns DGJ_OK with *route set, DGJ_ERR_NOT_FOUND, DGJ_ERR_METHOD
 * (the Allow header is added to r) or DGJ_ERR_NOMEM.
 */
dgj_rc_t dgj_router_find(const dgj_router_t *rt, dgj_req_t *r,
    const dgj_route_t **route);

/*
 * Routes r, runs the handler, sends the error reply when the handler
 * failed (or returned without replying) and logs one access line.
 * Exactly one reply is sent.
 */
void dgj_router_dispatch(const dgj_router_t *rt, dgj_req_t *r);

/* The method bit of a REQUEST_METHOD, 0 if unknown; HEAD is DGJ_GET. */
unsigned dgj_router_method(const char *method);


#endif /* DGJ_ROUTER_H */
