
/*
 * Copyright (C) Daguanjia
 *
 * test_json.c: dgj_json: body parsing with positioned errors and
 * duplicate rejection, pool ownership (json_decref at reset), compact
 * UTF-8 serialisation into the pool, replies and field getters.
 */


#include "dgj_core.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_pool.h"
#include "dgj_req.h"

#include "testhelp.h"


static dgj_pool_t     *pool;
static dgj_req_t       r;
static dgj_test_io_t   t;
static char            cl[32];
static const char     *params[] = {
    "REQUEST_METHOD", "POST", "CONTENT_LENGTH", cl,
    "DGJ_REQUEST_ID", "t-1", NULL
};


static void
test_json_req(const char *body)
{
    dgj_pool_reset(pool);
    snprintf(cl, sizeof(cl), "%zu", strlen(body));
    dgj_test_io_init(&t, params, body);
    dgj_req_init(&r, pool, &t.io, 1024);
}


int
main(void)
{
    int          ok;
    char        *s;
    size_t       len;
    json_t      *v, *w;
    dgj_rc_t     rc;
    json_int_t   n;
    const char  *str;

    static const char *const  keys[] = { "from", "working_days", NULL };

    dgj_log_open("/dev/null");

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 1;
    }

    test_json_req("{\"from\":\"2026-09-30\",\"working_days\":3}");
    rc = dgj_json_body(&r, &v);
    test_cond("json-1.1: a valid body parses to an object",
              rc == DGJ_OK && json_is_object(v)
              && json_integer_value(json_object_get(v, "working_days"))
                 == 3);

    test_json_req("{\"from\":\"2026-09-30\",");
    rc = dgj_json_body(&r, &v);
    test_cond("json-1.2: malformed JSON is DGJ_ERR_JSON",
              rc == DGJ_ERR_JSON);
    test_cond("json-1.3: its message names line, column and position",
              strstr(r.err, "line 1, column 21") != NULL
              && strstr(r.err, "position 21") != NULL);

    test_json_req("{\"a\":1,\n \"b\": tru}");
    rc = dgj_json_body(&r, &v);
    test_cond("json-1.4: an error on the second line names line 2",
              rc == DGJ_ERR_JSON && strstr(r.err, "line 2") != NULL);

    test_json_req("{\"a\":1,\"a\":2}");
    rc = dgj_json_body(&r, &v);
    test_cond("json-1.5: duplicate keys are refused",
              rc == DGJ_ERR_JSON && strstr(r.err, "duplicate") != NULL);

    test_json_req("");
    rc = dgj_json_body(&r, &v);
    test_cond("json-1.6: an empty body is invalid_json",
              rc == DGJ_ERR_JSON && strstr(r.err, "empty") != NULL);

    test_json_req("{} x");
    rc = dgj_json_body(&r, &v);
    test_cond("json-1.7: trailing garbage is refused", rc == DGJ_ERR_JSON);

    test_json_req("[1, 2]");
    rc = dgj_json_body(&r, &v);
    test_cond("json-1.7.1: an array body is refused as invalid_json",
              rc == DGJ_ERR_JSON && strstr(r.err, "object") != NULL);

    test_json_req("{\"a\":1}");
    dgj_reply_error(&r, dgj_json_body(&r, &v) == DGJ_OK
                        ? DGJ_ERR_INPUT : DGJ_ERR_INTERNAL);
    test_json_req("{\"a\":");
    dgj_reply_error(&r, dgj_json_body(&r, &v));
    test_cond("json-1.8: the invalid_json reply carries the position",
              strncmp(t.out, "Status: 400 ", 12) == 0
              && strstr(t.out, "\"code\":\"invalid_json\"") != NULL
              && strstr(t.out, "position 5") != NULL);

    /* ownership */
    test_json_req("");
    v = json_object();
    json_incref(v);
    w = dgj_json_own(&r, v);
    dgj_pool_reset(pool);
    test_cond("json-2.1: own registers one json_decref for reset",
              w == v && v->refcount == 1);
    json_decref(v);

    test_cond("json-2.2: own(NULL) is NULL", dgj_json_own(&r, NULL) == NULL);

    v = json_object();
    json_incref(v);
    dgj_pool_fail_alloc(1);
    w = dgj_json_own(&r, v);
    dgj_pool_fail_alloc(0);
    test_cond("json-2.3: when own fails the value is released",
              w == NULL && v->refcount == 1);
    json_decref(v);

    test_json_req("{\"a\":1}");
    dgj_pool_fail_alloc(2);     /* 1: body buffer, 2: the cleanup */
    rc = dgj_json_body(&r, &v);
    dgj_pool_fail_alloc(0);
    test_cond("json-2.4: no memory to own the body is NOMEM",
              rc == DGJ_ERR_NOMEM);

    /* serialisation */
    test_json_req("");
    v = dgj_json_own(&r, json_pack("{s:i, s:s, s:[i, n]}", "a", 1, "name",
                                   "\xe4\xb8\xad\xe6\x96\x87", "l", 2));
    s = dgj_json_dump(&r, v, &len);
    test_cond("json-3.1: dump is compact and keeps UTF-8 unescaped",
              s != NULL && strcmp(s, "{\"a\":1,\"name\":\"\xe4\xb8\xad"
                                     "\xe6\x96\x87\",\"l\":[2,null]}") == 0
              && len == strlen(s));

    dgj_pool_fail_alloc(1);
    s = dgj_json_dump(&r, v, &len);
    dgj_pool_fail_alloc(0);
    test_cond("json-3.2: dump without memory is NULL", s == NULL);

    rc = dgj_reply_json(&r, 201, v);
    test_cond("json-3.3: reply_json sends status, type and the JSON",
              rc == DGJ_OK && strncmp(t.out, "Status: 201 Created\r\n", 21)
                              == 0
              && dgj_test_io_header(&t, "Content-Type: application/json; "
                                        "charset=utf-8")
              && strcmp(dgj_test_io_body(&t), "{\"a\":1,\"name\":\"\xe4\xb8"
                        "\xad\xe6\x96\x87\",\"l\":[2,null]}") == 0);

    /* getters */
    test_json_req("{\"from\":\"x\",\"n\":5,\"r\":5.0,\"s\":\"5\",\"b\":true,"
                  "\"big\":1000}");
    rc = dgj_json_body(&r, &v);

    rc = dgj_json_get_str(&r, v, "from", &str);
    test_cond("json-4.1: get_str returns a string field",
              rc == DGJ_OK && strcmp(str, "x") == 0);

    test_json_req("{\"n\":5}");
    dgj_json_body(&r, &v);
    rc = dgj_json_get_str(&r, v, "from", &str);
    test_cond("json-4.2: a missing field is invalid_field and named",
              rc == DGJ_ERR_INPUT
              && strcmp(r.err, "\"from\" is required") == 0);

    test_json_req("{\"from\":5}");
    dgj_json_body(&r, &v);
    rc = dgj_json_get_str(&r, v, "from", &str);
    test_cond("json-4.3: a number is not a string",
              rc == DGJ_ERR_INPUT && strstr(r.err, "must be a string"));

    test_json_req("{\"n\":5,\"r\":5.0,\"s\":\"5\",\"b\":true,\"big\":1000}");
    dgj_json_body(&r, &v);
    rc = dgj_json_get_int(&r, v, "n", 1, 365, &n);
    test_cond("json-4.4: get_int returns an integer in range",
              rc == DGJ_OK && n == 5);

    ok = 1;
    r.err_rc = DGJ_OK;
    ok &= dgj_json_get_int(&r, v, "r", 1, 365, &n) == DGJ_ERR_INPUT;
    r.err_rc = DGJ_OK;
    ok &= dgj_json_get_int(&r, v, "s", 1, 365, &n) == DGJ_ERR_INPUT;
    r.err_rc = DGJ_OK;
    ok &= dgj_json_get_int(&r, v, "b", 1, 365, &n) == DGJ_ERR_INPUT;
    test_cond("json-4.5: 5.0, \"5\" and true are not integers", ok);

    r.err_rc = DGJ_OK;
    rc = dgj_json_get_int(&r, v, "big", 1, 365, &n);
    test_cond("json-4.6: out of range names the bounds",
              rc == DGJ_ERR_INPUT
              && strstr(r.err, "between 1 and 365") != NULL);

    test_json_req("{\"from\":\"x\",\"working_days\":1}");
    dgj_json_body(&r, &v);
    rc = dgj_json_check_keys(&r, v, keys);
    test_cond("json-4.7: known keys pass the check", rc == DGJ_OK);

    test_json_req("{\"from\":\"x\",\"extra\":1}");
    dgj_json_body(&r, &v);
    rc = dgj_json_check_keys(&r, v, keys);
    test_cond("json-4.8: an unknown key is named",
              rc == DGJ_ERR_INPUT
              && strcmp(r.err, "unknown field \"extra\"") == 0);

    dgj_pool_destroy(pool);

    return test_report();
}
