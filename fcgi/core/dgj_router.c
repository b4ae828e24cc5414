
/*
 * Copyright (C) Daguanjia
 *
 * dgj_router.c: matching of request paths against route tables, the 404
 * and 405 answers, handler dispatch and the access log line.
 */


#include "dgj_core.h"
#include "dgj_router.h"
#include "dgj_log.h"

#include <time.h>


static int dgj_router_match(const char *pattern, const char *uri,
    dgj_req_t *r);
static dgj_rc_t dgj_router_allow(dgj_req_t *r, unsigned methods);


static const struct {
    unsigned     bit;
    const char  *name;
} dgj_router_methods[] = {
    { DGJ_GET,    "GET" },
    { DGJ_POST,   "POST" },
    { DGJ_PUT,    "PUT" },
    { DGJ_PATCH,  "PATCH" },
    { DGJ_DELETE, "DELETE" }
};


int
dgj_router_add(dgj_router_t *rt, const dgj_route_t *table)
{
    if (rt->ntables == DGJ_ROUTER_MAX_TABLES) {
        return -1;
    }

    rt->tables[rt->ntables++] = table;

    return 0;
}


unsigned
dgj_router_method(const char *method)
{
    size_t  i;

    if (strcmp(method, "HEAD") == 0) {
        return DGJ_GET;
    }

    for (i = 0; i < dgj_countof(dgj_router_methods); i++) {
        if (strcmp(method, dgj_router_methods[i].name) == 0) {
            return dgj_router_methods[i].bit;
        }
    }

    return 0;
}


dgj_rc_t
dgj_router_find(const dgj_router_t *rt, dgj_req_t *r,
    const dgj_route_t **route)
{
    int                 m;
    size_t              t;
    unsigned            method, allowed;
    const dgj_route_t  *rte;

    method = dgj_router_method(r->method);
    allowed = 0;

    /*
     * A path spelled out in a table is that route's, whatever the method:
     * GET /api/v1/appeals/track is 405, not the detail of an appeal
     * numbered "track".
     */
    for (t = 0; t < rt->ntables; t++) {
        for (rte = rt->tables[t]; rte->pattern != NULL; rte++) {
            if (strchr(rte->pattern, '{') == NULL
                && strcmp(rte->pattern, r->uri) == 0)
            {
                if (rte->methods & method) {
                    *route = rte;
                    return DGJ_OK;
                }

                allowed |= rte->methods;
            }
        }
    }

    for (t = 0; allowed == 0 && t < rt->ntables; t++) {
        for (rte = rt->tables[t]; rte->pattern != NULL; rte++) {

            if ((rte->methods & method) == 0) {
                if (dgj_router_match(rte->pattern, r->uri, NULL) == 1) {
                    allowed |= rte->methods;
                }

                continue;
            }

            m = dgj_router_match(rte->pattern, r->uri, r);
            if (m < 0) {
                return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory to route");
            }

            if (m == 1) {
                *route = rte;
                return DGJ_OK;
            }
        }
    }

    if (allowed == 0) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no route for %s",
                            r->uri);
    }

    if (dgj_router_allow(r, allowed) != DGJ_OK) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory to route");
    }

    return dgj_req_fail(r, DGJ_ERR_METHOD, "method %s not allowed for %s",
                        r->method, r->uri);
}


void
dgj_router_dispatch(const dgj_router_t *rt, dgj_req_t *r)
{
    double              ms;
    dgj_rc_t            rc;
    struct timespec     t0, t1;
    const dgj_route_t  *route;
    dgj_log_level_t     level;

    clock_gettime(CLOCK_MONOTONIC, &t0);

    rc = dgj_router_find(rt, r, &route);

    if (rc == DGJ_OK) {
        rc = route->handler(r);

        if (rc == DGJ_OK && r->status == 0) {
            rc = dgj_req_fail(r, DGJ_ERR_INTERNAL,
                              "handler for %s returned without a reply",
                              route->pattern);
        }
    }

    if (rc != DGJ_OK) {
        dgj_reply_error(r, rc);
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    ms = (double) (t1.tv_sec - t0.tv_sec) * 1000.0
         + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6;

    level = DGJ_LOG_INFO;
    if (r->status >= 500) {
        level = DGJ_LOG_ERROR;
    }

    if (rc != DGJ_OK) {
        dgj_log(level, "router", "%s %s %d %zu %.3fms %s: %s", r->method,
                r->uri, r->status, r->sent, ms, dgj_rc_code(rc),
                r->err[0] != '\0' ? r->err : dgj_rc_message(rc));

    } else {
        dgj_log(level, "router", "%s %s %d %zu %.3fms", r->method, r->uri,
                r->status, r->sent, ms);
    }
}


/*
 * Returns 1 when uri matches pattern, 0 when not, -1 when the captures
 * could not be stored.  Captures are stored only when r is not NULL, and
 * only after the whole path matched.
 */
static int
dgj_router_match(const char *pattern, const char *uri, dgj_req_t *r)
{
    size_t          n, i;
    const char     *p, *u, *close, *seg;
    dgj_req_pair_t  caps[DGJ_REQ_MAX_CAPTURES];
    size_t          clen[DGJ_REQ_MAX_CAPTURES][2];

    p = pattern;
    u = uri;
    n = 0;

    while (*p != '\0') {

        if (*p != '{') {
            if (*p != *u) {
                return 0;
            }

            p++;
            u++;
            continue;
        }

        close = strchr(p, '}');
        if (close == NULL || n == DGJ_REQ_MAX_CAPTURES) {
            return 0;
        }

        seg = u;
        while (*u != '\0' && *u != '/') {
            u++;
        }

        if (u == seg) {
            return 0;
        }

        caps[n].name = p + 1;
        caps[n].value = seg;
        clen[n][0] = (size_t) (close - p - 1);
        clen[n][1] = (size_t) (u - seg);
        n++;

        p = close + 1;
    }

    if (*u != '\0') {
        return 0;
    }

    if (r == NULL) {
        return 1;
    }

    r->ncaptures = 0;

    for (i = 0; i < n; i++) {
        r->captures[i].name = dgj_pstrndup(r->pool, caps[i].name,
                                           clen[i][0]);
        r->captures[i].value = dgj_pstrndup(r->pool, caps[i].value,
                                            clen[i][1]);
        if (r->captures[i].name == NULL || r->captures[i].value == NULL) {
            return -1;
        }

        r->ncaptures++;
    }

    return 1;
}


static dgj_rc_t
dgj_router_allow(dgj_req_t *r, unsigned methods)
{
    char    *allow;
    size_t   i, off;

    /* "GET, HEAD, POST, PUT, PATCH, DELETE" */
    allow = dgj_palloc(r->pool, 64);
    if (allow == NULL) {
        return DGJ_ERR_NOMEM;
    }

    off = 0;

    for (i = 0; i < dgj_countof(dgj_router_methods); i++) {
        if ((methods & dgj_router_methods[i].bit) == 0) {
            continue;
        }

        off += (size_t) snprintf(allow + off, 64 - off, "%s%s",
                                 off > 0 ? ", " : "",
                                 dgj_router_methods[i].name);

        if (dgj_router_methods[i].bit == DGJ_GET) {
            off += (size_t) snprintf(allow + off, 64 - off, ", HEAD");
        }
    }

    return dgj_req_header_add(r, "Allow", allow);
}
