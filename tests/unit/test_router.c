
/*
 * Copyright (C) Daguanjia
 *
 * test_router.c: dgj_router and the route registry: exact and {name}
 * patterns, 404, 405 with Allow, HEAD, handler failures turned into
 * error replies (one reply per request), several tables, and the
 * allocation failure paths of routing.
 */


#include "dgj_core.h"
#include "dgj_log.h"
#include "dgj_pool.h"
#include "dgj_req.h"
#include "dgj_router.h"
#include "dgj_routes.h"

#include "testhelp.h"


static dgj_pool_t     *pool;
static dgj_req_t       r;
static dgj_test_io_t   t;
static const char     *params[7];


static dgj_rc_t
test_router_list(dgj_req_t *rq)
{
    return dgj_reply(rq, 200, "text/plain", "list", 4);
}


static dgj_rc_t
test_router_create(dgj_req_t *rq)
{
    return dgj_reply(rq, 201, "text/plain", "made", 4);
}


static dgj_rc_t
test_router_get(dgj_req_t *rq)
{
    const char  *id;

    id = dgj_req_capture(rq, "id");
    if (id == NULL) {
        return DGJ_ERR_INTERNAL;
    }

    return dgj_reply(rq, 200, "text/plain", id, strlen(id));
}


static dgj_rc_t
test_router_part(dgj_req_t *rq)
{
    char  *s;

    s = dgj_psprintf(rq->pool, "%s/%s", dgj_req_capture(rq, "id"),
                     dgj_req_capture(rq, "part"));
    if (s == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply(rq, 200, "text/plain", s, strlen(s));
}


static dgj_rc_t
test_router_bad(dgj_req_t *rq)
{
    return dgj_req_fail(rq, DGJ_ERR_INPUT, "\"x\" must be positive");
}


static dgj_rc_t
test_router_secret(dgj_req_t *rq)
{
    return dgj_req_fail(rq, DGJ_ERR_INTERNAL, "secret detail");
}


static dgj_rc_t
test_router_silent(dgj_req_t *rq)
{
    (void) rq;

    return DGJ_OK;
}


static dgj_rc_t
test_router_other(dgj_req_t *rq)
{
    return dgj_reply(rq, 200, "text/plain", "other", 5);
}


static const dgj_route_t  test_router_a[] = {

    { DGJ_GET,  "/api/v1/things",                   test_router_list },
    { DGJ_POST, "/api/v1/things",                   test_router_create },
    { DGJ_GET,  "/api/v1/things/{id}",              test_router_get },
    { DGJ_GET,  "/api/v1/things/{id}/parts/{part}", test_router_part },
    { DGJ_GET,  "/api/v1/bad",                      test_router_bad },
    { DGJ_GET,  "/api/v1/secret",                   test_router_secret },
    { DGJ_GET,  "/api/v1/silent",                   test_router_silent },
    /* a literal path after a capture that would match it */
    { DGJ_POST, "/api/v1/things/search",            test_router_create },

      dgj_null_route
};


static const dgj_route_t  test_router_b[] = {

    { DGJ_GET | DGJ_DELETE, "/api/v1/other",        test_router_other },

      dgj_null_route
};


static dgj_router_t  rt;


static void
test_router_run(const char *method, const char *uri)
{
    dgj_pool_reset(pool);

    params[0] = "REQUEST_METHOD";
    params[1] = method;
    params[2] = "DOCUMENT_URI";
    params[3] = uri;
    params[4] = "DGJ_REQUEST_ID";
    params[5] = "rt-1";
    params[6] = NULL;

    dgj_test_io_init(&t, params, NULL);
    dgj_req_init(&r, pool, &t.io, 1024);
    dgj_router_dispatch(&rt, &r);
}


static int
test_router_is(int status, const char *body)
{
    char  line[64];

    snprintf(line, sizeof(line), "Status: %d ", status);

    if (strncmp(t.out, line, strlen(line)) != 0
        || (body != NULL && strcmp(dgj_test_io_body(&t), body) != 0))
    {
        printf("#   got: %s\n", t.out);
        return 0;
    }

    return 1;
}


int
main(void)
{
    int                 ok;
    char                msg[256];
    unsigned long       n, i;
    dgj_router_t        all;
    const dgj_route_t  *route;

    dgj_log_open("/dev/null");

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 1;
    }

    memset(&rt, 0, sizeof(dgj_router_t));
    dgj_router_add(&rt, test_router_a);
    dgj_router_add(&rt, test_router_b);

    test_router_run("GET", "/api/v1/things");
    test_cond("router-1.1: an exact path and method dispatch",
              test_router_is(200, "list"));

    test_router_run("POST", "/api/v1/things");
    test_cond("router-1.2: the same path dispatches on method",
              test_router_is(201, "made"));

    test_router_run("GET", "/api/v1/things/42");
    test_cond("router-1.3: {id} captures one segment",
              test_router_is(200, "42"));

    test_router_run("GET", "/api/v1/things/7/parts/wheel");
    test_cond("router-1.4: two captures", test_router_is(200, "7/wheel"));

    test_router_run("GET", "/api/v1/things/");
    test_cond("router-1.5: an empty segment does not match {id}",
              test_router_is(404, NULL));

    test_router_run("GET", "/api/v1/things/1/x");
    test_cond("router-1.6: extra segments do not match",
              test_router_is(404, NULL));

    test_router_run("GET", "/api/v1/thing");
    test_cond("router-1.7: a prefix does not match",
              test_router_is(404, NULL)
              && strstr(t.out, "\"code\":\"not_found\"") != NULL
              && strstr(t.out, "\"request_id\":\"rt-1\"") != NULL);

    test_router_run("GET", "/api/v1/thingsx");
    test_cond("router-1.8: a longer last segment does not match",
              test_router_is(404, NULL));

    test_router_run("DELETE", "/api/v1/things");
    test_cond("router-2.1: a known path with another method is 405",
              test_router_is(405, NULL)
              && dgj_test_io_header(&t, "Allow: GET, HEAD, POST")
              && strstr(t.out, "\"code\":\"method_not_allowed\"") != NULL);

    test_router_run("POST", "/api/v1/other");
    test_cond("router-2.2: Allow lists every method of the path",
              test_router_is(405, NULL)
              && dgj_test_io_header(&t, "Allow: GET, HEAD, DELETE"));

    test_router_run("BREW", "/api/v1/things/1");
    test_cond("router-2.3: an unknown method is 405 too",
              test_router_is(405, NULL)
              && dgj_test_io_header(&t, "Allow: GET, HEAD"));

    test_router_run("GET", "/api/v1/things/search");
    test_cond("router-2.6: a literal path answers 405 to another method,"
              " not the capture route that would match it",
              test_router_is(405, NULL)
              && dgj_test_io_header(&t, "Allow: POST"));

    test_router_run("POST", "/api/v1/things/search");
    test_cond("router-2.7: ... and runs its own method",
              test_router_is(201, "made"));

    test_router_run("GET", "/api/v1/things/searching");
    test_cond("router-2.8: a capture still takes other values",
              test_router_is(200, "searching"));

    test_router_run("HEAD", "/api/v1/things");
    test_cond("router-2.4: HEAD runs the GET route without a body",
              test_router_is(200, "")
              && strstr(t.out, "Content-Length: 4\r\n") != NULL);

    test_router_run("DELETE", "/api/v1/other");
    test_cond("router-2.5: the second table is searched",
              test_router_is(200, "other"));

    test_router_run("GET", "/api/v1/bad");
    test_cond("router-3.1: a handler failure becomes its error reply",
              test_router_is(400, NULL)
              && strstr(t.out, "\\\"x\\\" must be positive") != NULL
              && strstr(t.out, "\"code\":\"invalid_field\"") != NULL);

    test_router_run("GET", "/api/v1/secret");
    test_cond("router-3.2: a 500 reply hides the detail",
              test_router_is(500, NULL)
              && strstr(t.out, "secret") == NULL);

    test_router_run("GET", "/api/v1/silent");
    test_cond("router-3.3: a handler that did not reply gets a 500",
              test_router_is(500, NULL)
              && strstr(t.out, "\"code\":\"internal\"") != NULL);

    test_cond("router-3.4: exactly one reply per request",
              strstr(strstr(t.out, "Status:") + 1, "Status:") == NULL);

    test_cond("router-3.5: method names map to bits",
              dgj_router_method("GET") == DGJ_GET
              && dgj_router_method("HEAD") == DGJ_GET
              && dgj_router_method("DELETE") == DGJ_DELETE
              && dgj_router_method("get") == 0);

    /* every allocation of a routed request failing in turn */
    dgj_pool_fail_alloc(0);
    test_router_run("GET", "/api/v1/things/7/parts/wheel");
    n = dgj_pool_alloc_count();
    ok = n > 0;

    for (i = 1; i <= n; i++) {
        dgj_pool_reset(pool);
        params[1] = "GET";
        params[3] = "/api/v1/things/7/parts/wheel";
        dgj_test_io_init(&t, params, NULL);
        dgj_req_init(&r, pool, &t.io, 1024);
        dgj_pool_fail_alloc(i);
        dgj_router_dispatch(&rt, &r);
        dgj_pool_fail_alloc(0);

        if (!test_router_is(500, NULL)) {
            ok = 0;
        }
    }

    test_cond("router-4.1: each allocation failure gives one 500 reply",
              ok);

    ok = 1;
    for (i = 1; i <= 2; i++) {
        test_router_run("POST", "/api/v1/other");
        dgj_pool_reset(pool);
        dgj_test_io_init(&t, params, NULL);
        dgj_req_init(&r, pool, &t.io, 1024);
        dgj_pool_fail_alloc(i);
        dgj_router_dispatch(&rt, &r);
        dgj_pool_fail_alloc(0);

        if (!test_router_is(500, NULL)) {
            ok = 0;
        }
    }

    test_cond("router-4.2: no memory for the Allow header is a 500", ok);

    /* the registry */
    test_cond("router-5.1: \"reference\" is registered",
              dgj_routes_find("reference") != NULL
              && dgj_routes_find("nope") == NULL);

    test_cond("router-5.2: routes values are checked",
              dgj_routes_check("reference", msg, sizeof(msg)) == 0
              && dgj_routes_check(" all ", msg, sizeof(msg)) == 0
              && dgj_routes_check("", msg, sizeof(msg)) == -1
              && dgj_routes_check("nope", msg, sizeof(msg)) == -1
              && dgj_routes_check("all reference", msg, sizeof(msg))
                 == -1);

    memset(&all, 0, sizeof(dgj_router_t));
    ok = dgj_routes_load(&all, "all", msg, sizeof(msg)) == 0;

    dgj_pool_reset(pool);
    params[1] = "GET";
    params[3] = "/api/v1/health";
    dgj_test_io_init(&t, params, NULL);
    dgj_req_init(&r, pool, &t.io, 1024);
    test_cond("router-5.3: \"all\" loads the reference table",
              ok && all.ntables >= 1
              && dgj_router_find(&all, &r, &route) == DGJ_OK
              && strcmp(route->pattern, "/api/v1/health") == 0);

    dgj_pool_reset(pool);
    params[1] = "POST";
    params[3] = "/api/v1/calendar/due";
    dgj_test_io_init(&t, params, NULL);
    dgj_req_init(&r, pool, &t.io, 1024);
    test_cond("router-5.4: calendar/due wins over calendar/{year} for POST",
              dgj_router_find(&all, &r, &route) == DGJ_OK
              && strcmp(route->pattern, "/api/v1/calendar/due") == 0);

    dgj_pool_destroy(pool);

    return test_report();
}
