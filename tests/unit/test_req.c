
/*
 * Copyright (C) Daguanjia
 *
 * test_req.c: dgj_req without FastCGI: defaults, CONTENT_LENGTH checks
 * and body reading (413, short reads), query parsing and percent
 * decoding, the failure message, the reply format and the error reply.
 */


#include "dgj_core.h"
#include "dgj_log.h"
#include "dgj_pool.h"
#include "dgj_req.h"

#include <jansson.h>

#include "testhelp.h"


static dgj_pool_t  *pool;


/* runs dgj_req_body() for a CONTENT_LENGTH and a body */
static dgj_rc_t
test_req_body(const char *cl, const char *body, size_t max, size_t chunk,
    const char **out, size_t *len)
{
    dgj_req_t       r;
    dgj_test_io_t   t;
    const char     *params[] = { "CONTENT_LENGTH", cl, NULL };

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, cl != NULL ? params : NULL, body);
    t.read_chunk = chunk;
    dgj_req_init(&r, pool, &t.io, max);

    return dgj_req_body(&r, out, len);
}


int
main(void)
{
    int             ok;
    char            dec[64];
    size_t          len;
    json_t         *j;
    dgj_rc_t        rc;
    dgj_req_t       r;
    const char     *body, *v, *v2;
    json_error_t    e;
    dgj_test_io_t   t;

    static const char *const  std[] = {
        "REQUEST_METHOD", "POST",
        "DOCUMENT_URI", "/api/v1/x",
        "QUERY_STRING", "a=1&b=%E4%B8%AD&c=x+y&d&e=&a=2&&f%20g=h%2bi",
        "DGJ_REQUEST_ID", "abc\"123",
        NULL
    };

    /* the expected "second reply" error line is not test output */
    dgj_log_open("/dev/null");

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 1;
    }

    /* init */
    dgj_test_io_init(&t, NULL, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    test_cond("req-1.1: missing parameters get GET / \"\" -",
              strcmp(r.method, "GET") == 0 && strcmp(r.uri, "/") == 0
              && strcmp(r.query, "") == 0 && strcmp(r.request_id, "-") == 0);

    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    test_cond("req-1.2: parameters are read",
              strcmp(r.method, "POST") == 0
              && strcmp(r.uri, "/api/v1/x") == 0
              && strcmp(r.request_id, "abc\"123") == 0
              && strcmp(dgj_req_param(&r, "QUERY_STRING"), r.query) == 0);

    /* body */
    rc = test_req_body(NULL, "", 10, 0, &body, &len);
    test_cond("req-2.1: no CONTENT_LENGTH is an empty body",
              rc == DGJ_OK && len == 0 && body[0] == '\0');

    rc = test_req_body("5", "hello", 10, 0, &body, &len);
    test_cond("req-2.2: a body of CONTENT_LENGTH bytes is read",
              rc == DGJ_OK && len == 5 && strcmp(body, "hello") == 0);

    rc = test_req_body("10", "0123456789", 10, 3, &body, &len);
    test_cond("req-2.3: a body of exactly max_body arrives in pieces",
              rc == DGJ_OK && len == 10
              && strcmp(body, "0123456789") == 0);

    rc = test_req_body("11", "0123456789a", 10, 0, &body, &len);
    test_cond("req-2.4: CONTENT_LENGTH above max_body is 413",
              rc == DGJ_ERR_TOO_LARGE);

    rc = test_req_body("99999999999999999999999", "", 10, 0, &body, &len);
    test_cond("req-2.5: an overflowing CONTENT_LENGTH is 413",
              rc == DGJ_ERR_TOO_LARGE);

    ok = 1;
    ok &= test_req_body("abc", "", 10, 0, &body, &len) == DGJ_ERR_INPUT;
    ok &= test_req_body("-1", "", 10, 0, &body, &len) == DGJ_ERR_INPUT;
    ok &= test_req_body("+5", "hello", 10, 0, &body, &len) == DGJ_ERR_INPUT;
    ok &= test_req_body(" 5", "hello", 10, 0, &body, &len) == DGJ_ERR_INPUT;
    ok &= test_req_body("5x", "hello", 10, 0, &body, &len) == DGJ_ERR_INPUT;
    test_cond("req-2.6: signs, blanks and junk in CONTENT_LENGTH are 400",
              ok);

    rc = test_req_body("8", "short", 10, 0, &body, &len);
    test_cond("req-2.7: a body shorter than CONTENT_LENGTH is 400",
              rc == DGJ_ERR_INPUT);

    dgj_pool_reset(pool);
    {
        const char  *p[] = { "CONTENT_LENGTH", "4", NULL };

        dgj_test_io_init(&t, p, "abcd");
        t.read_fail = 1;
        dgj_req_init(&r, pool, &t.io, 10);
        rc = dgj_req_body(&r, &body, &len);
        test_cond("req-2.8: a read error is 400 and says so",
                  rc == DGJ_ERR_INPUT && strstr(r.err, "shorter") != NULL);

        t.read_fail = 0;
        dgj_pool_reset(pool);
        dgj_test_io_init(&t, p, "abcd");
        dgj_req_init(&r, pool, &t.io, 10);
        rc = dgj_req_body(&r, &body, &len);
        rc = dgj_req_body(&r, &v, &len);
        test_cond("req-2.9: a second call returns the same body",
                  rc == DGJ_OK && v == body && len == 4);

        dgj_pool_reset(pool);
        dgj_test_io_init(&t, p, "abcd");
        dgj_req_init(&r, pool, &t.io, 10);
        dgj_pool_fail_alloc(1);
        rc = dgj_req_body(&r, &body, &len);
        dgj_pool_fail_alloc(0);
        test_cond("req-2.10: no memory for the body is DGJ_ERR_NOMEM",
                  rc == DGJ_ERR_NOMEM);
    }

    /* query */
    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);

    rc = dgj_req_arg(&r, "a", &v);
    test_cond("req-3.1: the first of repeated arguments wins",
              rc == DGJ_OK && v != NULL && strcmp(v, "1") == 0);
    rc = dgj_req_arg(&r, "b", &v);
    test_cond("req-3.2: %XX decodes UTF-8 bytes",
              rc == DGJ_OK && v != NULL && strcmp(v, "\xe4\xb8\xad") == 0);
    rc = dgj_req_arg(&r, "c", &v);
    test_cond("req-3.3: + decodes to a space",
              rc == DGJ_OK && v != NULL && strcmp(v, "x y") == 0);
    dgj_req_arg(&r, "d", &v);
    dgj_req_arg(&r, "e", &v2);
    test_cond("req-3.4: \"d\" and \"e=\" are empty values",
              v != NULL && v2 != NULL && *v == '\0' && *v2 == '\0');
    rc = dgj_req_arg(&r, "zz", &v);
    test_cond("req-3.5: a missing argument is NULL",
              rc == DGJ_OK && v == NULL);
    rc = dgj_req_arg(&r, "f g", &v);
    test_cond("req-3.6: names are decoded too, %2b is a plus",
              rc == DGJ_OK && v != NULL && strcmp(v, "h+i") == 0);

    ok = 1;
    ok &= dgj_req_unescape(dec, "%zz", 3, 1) == -1;
    ok &= dgj_req_unescape(dec, "a%4", 3, 1) == -1;
    ok &= dgj_req_unescape(dec, "a%", 2, 1) == -1;
    ok &= dgj_req_unescape(dec, "%00", 3, 1) == -1;
    test_cond("req-3.7: bad escapes and an encoded NUL are refused", ok);

    test_cond("req-3.8: unescape without plus keeps '+'",
              dgj_req_unescape(dec, "a+b%41", 6, 0) == 4
              && strcmp(dec, "a+bA") == 0);

    {
        const char  *p[] = { "QUERY_STRING", "x=%G1", NULL };

        dgj_pool_reset(pool);
        dgj_test_io_init(&t, p, NULL);
        dgj_req_init(&r, pool, &t.io, 100);
        rc = dgj_req_arg(&r, "x", &v);
        test_cond("req-3.9: a malformed query string is 400",
                  rc == DGJ_ERR_INPUT);

        dgj_pool_reset(pool);
        dgj_test_io_init(&t, p, NULL);
        dgj_req_init(&r, pool, &t.io, 100);
        dgj_pool_fail_alloc(1);
        rc = dgj_req_arg(&r, "x", &v);
        dgj_pool_fail_alloc(0);
        test_cond("req-3.10: no memory for the arguments is NOMEM",
                  rc == DGJ_ERR_NOMEM);
    }

    /* failure detail */
    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);

    rc = dgj_req_fail(&r, DGJ_ERR_INPUT, "\"%s\" must be a string", "from");
    dgj_req_fail(&r, DGJ_ERR_INTERNAL, "second");
    test_cond("req-4.1: fail returns rc and keeps the first message",
              rc == DGJ_ERR_INPUT && r.err_rc == DGJ_ERR_INPUT
              && strcmp(r.err, "\"from\" must be a string") == 0);

    dgj_reply_error(&r, DGJ_ERR_INPUT);
    j = json_loads(dgj_test_io_body(&t), 0, &e);
    test_cond("req-4.2: the 400 reply carries code, message, request_id",
              j != NULL
              && strncmp(t.out, "Status: 400 Bad Request\r\n", 25) == 0
              && dgj_test_io_header(&t, "Content-Type: application/json; "
                                        "charset=utf-8")
              && strcmp(json_string_value(json_object_get(
                     json_object_get(j, "error"), "code")),
                     "invalid_field") == 0
              && strcmp(json_string_value(json_object_get(
                     json_object_get(j, "error"), "message")),
                     "\"from\" must be a string") == 0
              && strcmp(json_string_value(json_object_get(j,
                     "request_id")), "abc\"123") == 0);
    json_decref(j);

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    dgj_req_fail(&r, DGJ_ERR_DB, "statement secret.name failed");
    dgj_reply_error(&r, DGJ_ERR_DB);
    test_cond("req-4.3: a 503 reply hides the detail",
              strncmp(t.out, "Status: 503 ", 12) == 0
              && strstr(t.out, "secret") == NULL
              && strstr(t.out, "\"db_unavailable\"") != NULL);

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    dgj_req_fail(&r, DGJ_ERR_INPUT, "bad \x01 line\nand \xff\xfe and "
                 "\xe4\xb8\xad and cut \xe4\xb8");
    dgj_reply_error(&r, DGJ_ERR_INPUT);
    j = json_loads(dgj_test_io_body(&t), 0, &e);
    test_cond("req-4.4: control bytes and bad UTF-8 stay valid JSON",
              j != NULL && strstr(json_string_value(json_object_get(
                  json_object_get(j, "error"), "message")),
                  "\xe4\xb8\xad") != NULL);
    json_decref(j);

    {
        char  longmsg[600];

        memset(longmsg, 'x', sizeof(longmsg) - 1);
        longmsg[sizeof(longmsg) - 1] = '\0';

        dgj_pool_reset(pool);
        dgj_test_io_init(&t, std, NULL);
        dgj_req_init(&r, pool, &t.io, 100);
        dgj_req_fail(&r, DGJ_ERR_INPUT, "%s", longmsg);
        test_cond("req-4.5: a long message is cut to the buffer",
                  strlen(r.err) == DGJ_REQ_ERR_LEN - 1);
    }

    /* reply */
    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    dgj_req_header_add(&r, "Allow", "GET, HEAD");
    dgj_req_header_add(&r, "X-Two", "2");
    rc = dgj_reply(&r, 200, "text/plain", "hi", 2);
    test_cond("req-5.1: reply writes status, headers in order and body",
              rc == DGJ_OK && strcmp(t.out,
                  "Status: 200 OK\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 2\r\nAllow: GET, HEAD\r\nX-Two: 2\r\n"
                  "\r\nhi") == 0 && r.status == 200 && r.sent == 2);

    /* audit headers: an object with CR LF cannot split the header */
    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    dgj_req_audit(&r, "appeal.accept", "DG1\r\nX-Evil: 1");
    dgj_reply(&r, 200, "text/plain", "ok", 2);
    test_cond("req-5.7: audit names the action and a sanitised object",
              strstr(t.out, "X-Dgj-Action: appeal.accept\r\n") != NULL
              && strstr(t.out, "X-Dgj-Object: DG1__X-Evil:_1\r\n") != NULL
              && strstr(t.out, "\r\nX-Evil") == NULL);

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    dgj_req_header_add(&r, "Allow", "GET, HEAD");
    dgj_req_header_add(&r, "X-Two", "2");
    dgj_reply(&r, 200, "text/plain", "hi", 2);

    rc = dgj_reply(&r, 200, "text/plain", "hi", 2);
    test_cond("req-5.2: a second reply is refused",
              rc == DGJ_ERR_INTERNAL);

    dgj_reply_error(&r, DGJ_ERR_INPUT);
    test_cond("req-5.3: no error reply after a reply",
              strstr(t.out, "error") == NULL);

    {
        const char  *p[] = { "REQUEST_METHOD", "HEAD", NULL };

        dgj_pool_reset(pool);
        dgj_test_io_init(&t, p, NULL);
        dgj_req_init(&r, pool, &t.io, 100);
        dgj_reply(&r, 200, "text/plain", "hi", 2);
        test_cond("req-5.4: HEAD gets headers and no body",
                  strstr(t.out, "Content-Length: 2\r\n") != NULL
                  && *dgj_test_io_body(&t) == '\0');
    }

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    t.write_fail = 1;
    dgj_req_init(&r, pool, &t.io, 100);
    rc = dgj_reply(&r, 200, "text/plain", "hi", 2);
    test_cond("req-5.5: a client that went away is not an error",
              rc == DGJ_OK && r.status == 200);

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    dgj_pool_fail_alloc(1);
    rc = dgj_req_header_add(&r, "X", "y");
    dgj_pool_fail_alloc(0);
    dgj_reply_error(&r, DGJ_ERR_NOMEM);
    test_cond("req-5.6: the error reply needs no pool memory",
              rc == DGJ_ERR_NOMEM
              && strncmp(t.out, "Status: 500 ", 12) == 0
              && strstr(t.out, "\"internal\"") != NULL);

    test_cond("req-6.1: the rc table maps codes and statuses",
              dgj_rc_status(DGJ_ERR_JSON) == 400
              && strcmp(dgj_rc_code(DGJ_ERR_JSON), "invalid_json") == 0
              && dgj_rc_status(DGJ_ERR_TOO_LARGE) == 413
              && dgj_rc_status(DGJ_ERR_METHOD) == 405
              && dgj_rc_status(DGJ_ERR_CONFLICT) == 409
              && dgj_rc_status(DGJ_ERR_DB) == 503
              && strcmp(dgj_rc_code(DGJ_ERR_NOMEM), "internal") == 0
              && dgj_rc_status((dgj_rc_t) 999) == 500);

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    dgj_req_fail_code(&r, DGJ_ERR_MEDIA, "unsupported_type", "not a PNG");
    dgj_reply_error(&r, DGJ_ERR_MEDIA);
    test_cond("req-6.2: a refused kind of file is 415 with its own code",
              dgj_rc_status(DGJ_ERR_MEDIA) == 415
              && strcmp(dgj_rc_code(DGJ_ERR_MEDIA),
                        "unsupported_media_type") == 0
              && strstr(t.out, "Status: 415 Unsupported Media Type\r\n")
                 == t.out
              && strstr(t.out, "\"code\":\"unsupported_type\"") != NULL
              && strstr(t.out, "not a PNG") != NULL);

    dgj_pool_reset(pool);
    dgj_test_io_init(&t, std, NULL);
    dgj_req_init(&r, pool, &t.io, 100);
    {
        char  big[2900];

        memset(big, 'n', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        dgj_req_header_add(&r, "Content-Disposition", big);
        rc = dgj_reply(&r, 200, "text/plain", "hi", 2);
    }
    test_cond("req-6.3: a header block of about 3 KiB (an attachment's"
              " long file name) is sent",
              rc == DGJ_OK && r.status == 200
              && strstr(t.out, "nnn\r\n\r\nhi") != NULL);

    dgj_pool_reset(pool);
    v = dgj_req_escape(pool, "a-Z_0.~ /?&=%+\xe6\xb0\x91");
    test_cond("req-7.1: escape keeps unreserved bytes, encodes the rest",
              v != NULL
              && strcmp(v, "a-Z_0.~%20%2F%3F%26%3D%25%2B%E6%B0%91") == 0);

    dgj_pool_fail_alloc(1);
    v = dgj_req_escape(pool, "x");
    dgj_pool_fail_alloc(0);
    test_cond("req-7.2: escape without memory is NULL", v == NULL);

    ok = 1;
    ok &= dgj_req_utf8_len((const unsigned char *) "a", 1) == 1;
    ok &= dgj_req_utf8_len((const unsigned char *) "\xe6\xb0\x91", 3) == 3;
    ok &= dgj_req_utf8_len((const unsigned char *) "\xe6\xb0\x91", 2) == 0;
    ok &= dgj_req_utf8_len((const unsigned char *) "\xc0\x80", 2) == 0;
    ok &= dgj_req_utf8_len((const unsigned char *) "\xed\xa0\x80", 3) == 0;
    ok &= dgj_req_utf8_len((const unsigned char *) "\xf0\x9f\x98\x80", 4)
          == 4;
    ok &= dgj_req_utf8_len((const unsigned char *) "", 0) == 0;
    test_cond("req-7.3: utf8_len: ASCII, 3 and 4 bytes, short, overlong, "
              "surrogate", ok);

    dgj_pool_destroy(pool);

    return test_report();
}
