
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


/* 1 when dgj_json_dump() prints v (an object or an array: Jansson
 * prints no other root) as json_dumpb() with our flags does */
static int
test_json_same(json_t *v)
{
    int      same;
    char    *ours, *theirs;
    size_t   len, n;

    ours = dgj_json_dump(&r, v, &len);
    n = json_dumpb(v, NULL, 0, DGJ_JSON_DUMP_FLAGS);
    theirs = malloc(n + 1);

    if (ours == NULL || theirs == NULL
        || json_dumpb(v, theirs, n, DGJ_JSON_DUMP_FLAGS) != n)
    {
        free(theirs);
        return 0;
    }

    theirs[n] = '\0';
    same = len == n && memcmp(ours, theirs, n) == 0 && ours[len] == '\0';

    if (!same) {
        fprintf(stderr, "ours:   %s\ntheirs: %s\n", ours, theirs);
    }

    free(theirs);

    return same;
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

    /* the one-pass writer against Jansson's own, value kind by kind */
    {
        int           all;
        char          bytes[1], *big;
        size_t        k;
        json_t       *o, *deep;
        unsigned      c;

        static const json_int_t  ints[] = {
            0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN
        };
        static const double      reals[] = {
            0.0, -0.0, 1.0, -3.0, 1234.56, 0.1, 1.0 / 3.0, 1e15, 1e16,
            1e20, 1e-5, 1.5e300, -2.5e-300, 123456789012345678.0, 5e-324,
            113.7512345, 22.9876543
        };

        test_json_req("");
        all = 1;

        for (c = 1; c < 0x80; c++) {
            bytes[0] = (char) c;
            all &= test_json_same(dgj_json_own(&r, json_pack("[o]",
                                                 json_stringn(bytes, 1))));
        }

        test_cond("json-3.4: every ASCII byte in a string, escaped as "
                  "Jansson escapes it", all);

        o = dgj_json_own(&r, json_object());
        json_object_set_new(o, "a\"b\\c", json_string("\xe4\xb8\xad"
                            "\xf0\x9f\x98\x80 </script> x/y \t\r\n"));
        json_object_set_new(o, "nul", json_stringn("a\0b", 3));
        json_object_set_new(o, "e", json_object());
        json_object_set_new(o, "l", json_array());
        json_object_set_new(o, "t", json_true());
        json_object_set_new(o, "f", json_false());
        json_object_set_new(o, "n", json_null());
        json_object_set_new(o, "", json_string(""));
        json_object_set_new(o, "nest", json_pack("[{s:[i,{}]},[],[[null]]]",
                                                 "k", 7));
        test_cond("json-3.5: keys, UTF-8, NUL, nesting and the literals as "
                  "Jansson prints them", test_json_same(o));

        all = 1;
        for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
            all &= test_json_same(dgj_json_own(&r, json_pack("[I]", ints[k])));
        }
        test_cond("json-3.6: integers to INT64_MIN and INT64_MAX", all);

        all = 1;
        for (k = 0; k < sizeof(reals) / sizeof(reals[0]); k++) {
            all &= test_json_same(dgj_json_own(&r, json_pack("[f]", reals[k])));
        }
        test_cond("json-3.7: reals, whole, tiny, huge and negative "
                  "exponents", all);

        /* 7 bytes a turn, so that no character is cut */
        big = malloc(7 * 40000 + 1);
        for (k = 0; big != NULL && k < 7 * 40000; k++) {
            big[k] = "ab\"\x01\xe4\xb8\xad"[k % 7];
        }
        if (big != NULL) {
            big[7 * 40000] = '\0';
        }
        v = big != NULL ? dgj_json_own(&r, json_pack("[s,s]", big, big))
                        : NULL;
        test_cond("json-3.8: a reply of 760 KB grows its buffer and stays "
                  "the same", v != NULL && test_json_same(v));

        dgj_pool_fail_alloc(3);
        s = dgj_json_dump(&r, v, &len);
        dgj_pool_fail_alloc(0);
        test_cond("json-3.9: no memory to grow is NULL", s == NULL);
        free(big);

        deep = json_array();
        for (k = 0; k < 200; k++) {
            deep = json_pack("[o]", deep);
        }
        v = dgj_json_own(&r, deep);
        test_cond("json-3.10: nesting deeper than 128 levels is NULL",
                  v != NULL && dgj_json_dump(&r, v, &len) == NULL);
    }

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
