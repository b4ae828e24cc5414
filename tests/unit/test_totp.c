
/*
 * Copyright (C) Daguanjia
 *
 * test_totp.c: dgj_totp: the RFC 6238 Appendix B SHA-1 vectors (8 digits
 * and their 6-digit truncations), the verification window, replay
 * refusal, malformed codes, the RFC 4648 base32 vectors both ways,
 * tolerant decoding, secret generation and the otpauth:// URI.
 */


#include "dgj_core.h"
#include "dgj_pool.h"
#include "dgj_totp.h"

#include "testhelp.h"


typedef struct {
    time_t       t;
    const char  *code;
} test_totp_vector_t;


/* RFC 6238 Appendix B, SHA-1 column */
static const test_totp_vector_t  test_totp_rfc[] = {
    { 59, "94287082" },
    { 1111111109, "07081804" },
    { 1111111111, "14050471" },
    { 1234567890, "89005924" },
    { 2000000000, "69279037" },
    { 20000000000, "65353130" }
};


/* RFC 4648 section 10 */
static const char *const  test_base32_rfc[][2] = {
    { "", "" },
    { "f", "MY" },
    { "fo", "MZXQ" },
    { "foo", "MZXW6" },
    { "foob", "MZXW6YQ" },
    { "fooba", "MZXW6YTB" },
    { "foobar", "MZXW6YTBOI" }
};


static const unsigned char  key[] = "12345678901234567890";


static int
test_decodes(const char *text, const char *want)
{
    ssize_t        n;
    unsigned char  buf[64];

    n = dgj_base32_decode(buf, sizeof(buf), text, strlen(text));

    if (want == NULL) {
        return n == -1;
    }

    return n == (ssize_t) strlen(want) && memcmp(buf, want, (size_t) n) == 0;
}


int
main(void)
{
    int                 ok;
    char                code[16], b32[64], b32b[64];
    size_t              i;
    int64_t             step;
    dgj_pool_t         *pool;
    const char         *uri;
    unsigned char       s1[DGJ_TOTP_SECRET_LEN], s2[DGJ_TOTP_SECRET_LEN];
    unsigned char       buf[64];
    dgj_totp_rc_t       rc;
    dgj_totp_params_t   p8 = { 8, 30, 0 };

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 1;
    }

    /* RFC 6238 */
    ok = 1;
    for (i = 0; i < dgj_countof(test_totp_rfc); i++) {
        ok &= dgj_totp_code(key, 20, test_totp_rfc[i].t, &p8, code) == 0
              && strcmp(code, test_totp_rfc[i].code) == 0;
    }
    test_cond("totp-1.1: RFC 6238 Appendix B SHA-1 vectors, 8 digits", ok);

    ok = 1;
    for (i = 0; i < dgj_countof(test_totp_rfc); i++) {
        ok &= dgj_totp_code(key, 20, test_totp_rfc[i].t, NULL, code) == 0
              && strcmp(code, test_totp_rfc[i].code + 2) == 0;
    }
    test_cond("totp-1.2: the same vectors truncated to 6 digits", ok);

    ok = 1;
    for (i = 0; i < dgj_countof(test_totp_rfc); i++) {
        ok &= dgj_totp_verify_ex(key, 20, test_totp_rfc[i].code,
                                 test_totp_rfc[i].t, &p8, -1, &step)
              == DGJ_TOTP_OK
              && step == test_totp_rfc[i].t / 30;
    }
    test_cond("totp-1.3: each 8-digit vector verifies at its own step", ok);

    test_cond("totp-1.4: HOTP of RFC 4226 Appendix D, counter 0 and 9",
              dgj_totp_hotp(key, 20, 0, 6, code) == 0
              && strcmp(code, "755224") == 0
              && dgj_totp_hotp(key, 20, 9, 6, code) == 0
              && strcmp(code, "520489") == 0);

    test_cond("totp-1.5: digits outside 1..9 are refused",
              dgj_totp_hotp(key, 20, 0, 0, code) == -1
              && dgj_totp_hotp(key, 20, 0, 10, code) == -1);

    test_cond("totp-1.6: the step of a time; negative time is -1",
              dgj_totp_step_of(59, 30) == 1
              && dgj_totp_step_of(60, 30) == 2
              && dgj_totp_step_of(-1, 30) == -1
              && dgj_totp_step_of(10, 0) == -1);

    /* window: the code of 1111111111 (step 37037037) is 050471 */
    rc = dgj_totp_verify(key, 20, "050471", 1111111111, 1, -1, &step);
    test_cond("totp-2.1: the current code verifies, matched step returned",
              rc == DGJ_TOTP_OK && step == 37037037);

    rc = dgj_totp_verify(key, 20, "050471", 1111111111 + 30, 1, -1, &step);
    test_cond("totp-2.2: one step late is accepted with window 1",
              rc == DGJ_TOTP_OK && step == 37037037);

    rc = dgj_totp_verify(key, 20, "050471", 1111111111 - 30, 1, -1, &step);
    test_cond("totp-2.3: one step early is accepted with window 1",
              rc == DGJ_TOTP_OK && step == 37037037);

    rc = dgj_totp_verify(key, 20, "050471", 1111111111 + 60, 1, -1, &step);
    test_cond("totp-2.4: two steps late is refused with window 1",
              rc == DGJ_TOTP_MISMATCH);

    rc = dgj_totp_verify(key, 20, "050471", 1111111111 + 60, 2, -1, &step);
    test_cond("totp-2.5: two steps late is accepted with window 2",
              rc == DGJ_TOTP_OK && step == 37037037);

    rc = dgj_totp_verify(key, 20, "050471", 1111111111 + 30, 0, -1, &step);
    test_cond("totp-2.6: window 0 takes only the current step",
              rc == DGJ_TOTP_MISMATCH);

    rc = dgj_totp_verify(key, 20, "050472", 1111111111, 1, -1, &step);
    test_cond("totp-2.7: a wrong code is a mismatch", rc == DGJ_TOTP_MISMATCH);

    rc = dgj_totp_verify((const unsigned char *) "other secret", 12,
                         "050471", 1111111111, 1, -1, &step);
    test_cond("totp-2.8: another secret's code is a mismatch",
              rc == DGJ_TOTP_MISMATCH);

    /* replay */
    rc = dgj_totp_verify(key, 20, "050471", 1111111111, 1, 37037037, &step);
    test_cond("totp-3.1: a code of the last used step is a replay",
              rc == DGJ_TOTP_REPLAY);

    rc = dgj_totp_verify(key, 20, "050471", 1111111111 + 30, 1, 37037038,
                         &step);
    test_cond("totp-3.2: a code older than the last used step is a replay",
              rc == DGJ_TOTP_REPLAY);

    rc = dgj_totp_verify(key, 20, "050471", 1111111111, 1, 37037036, &step);
    test_cond("totp-3.3: a code newer than the last used step is fresh",
              rc == DGJ_TOTP_OK && step == 37037037);

    dgj_totp_code(key, 20, 1111111111 + 30, NULL, code);
    rc = dgj_totp_verify(key, 20, code, 1111111111, 1, 37037037, &step);
    test_cond("totp-3.4: after a login, the next step's code still works",
              rc == DGJ_TOTP_OK && step == 37037038);

    /* malformed */
    ok = 1;
    ok &= dgj_totp_verify(key, 20, "05047", 1111111111, 1, -1, &step)
          == DGJ_TOTP_MALFORMED;
    ok &= dgj_totp_verify(key, 20, "0504711", 1111111111, 1, -1, &step)
          == DGJ_TOTP_MALFORMED;
    ok &= dgj_totp_verify(key, 20, "05047a", 1111111111, 1, -1, &step)
          == DGJ_TOTP_MALFORMED;
    ok &= dgj_totp_verify(key, 20, " 50471", 1111111111, 1, -1, &step)
          == DGJ_TOTP_MALFORMED;
    ok &= dgj_totp_verify(key, 20, "", 1111111111, 1, -1, &step)
          == DGJ_TOTP_MALFORMED;
    ok &= dgj_totp_verify(key, 20, NULL, 1111111111, 1, -1, &step)
          == DGJ_TOTP_MALFORMED;
    ok &= dgj_totp_verify(key, 20, "050471", -5, 1, -1, &step)
          == DGJ_TOTP_MALFORMED;
    test_cond("totp-4.1: short, long, non-digit, empty codes are malformed",
              ok);

    rc = dgj_totp_verify(key, 20, "287082", 59, 1, -1, &step);
    test_cond("totp-4.2: the window is clipped at step 0 (time 59)",
              rc == DGJ_TOTP_OK && step == 1);

    /* base32 */
    ok = 1;
    for (i = 0; i < dgj_countof(test_base32_rfc); i++) {
        ok &= dgj_base32_encode(b32, (const unsigned char *)
                                test_base32_rfc[i][0],
                                strlen(test_base32_rfc[i][0]))
              == strlen(test_base32_rfc[i][1])
              && strcmp(b32, test_base32_rfc[i][1]) == 0
              && strlen(b32) == dgj_base32_len(strlen(test_base32_rfc[i][0]));
    }
    test_cond("totp-5.1: RFC 4648 base32 vectors encode, without padding",
              ok);

    ok = 1;
    for (i = 0; i < dgj_countof(test_base32_rfc); i++) {
        ok &= test_decodes(test_base32_rfc[i][1], test_base32_rfc[i][0]);
    }
    test_cond("totp-5.2: RFC 4648 base32 vectors decode", ok);

    ok = 1;
    ok &= test_decodes("MZXW6YTBOI======", "foobar");
    ok &= test_decodes("MY======", "f");
    ok &= test_decodes("mzxw6ytboi", "foobar");
    ok &= test_decodes("mzxw 6ytb-oi", "foobar");
    ok &= test_decodes("MZXW6===", "foo");
    test_cond("totp-5.3: padding, lower case, blanks and dashes accepted",
              ok);

    ok = 1;
    ok &= test_decodes("MZXW1", NULL);
    ok &= test_decodes("MZXW8", NULL);
    ok &= test_decodes("MZ=XW", NULL);
    ok &= test_decodes("M", NULL);
    ok &= test_decodes("MZX", NULL);
    ok &= test_decodes("MZ", NULL);
    ok &= test_decodes("MZXW6YQ", "foob");
    ok &= test_decodes("MZXW6YR", NULL);
    ok &= test_decodes("MZ\xc3\xa9", NULL);
    test_cond("totp-5.4: 0, 1, 8, inner '=', impossible lengths, "
              "non-zero trailing bits and non-ASCII are refused", ok);

    test_cond("totp-5.5: decoding more than the buffer holds is refused",
              dgj_base32_decode(buf, 3, "MZXW6YQ", 7) == -1
              && dgj_base32_decode(buf, 4, "MZXW6YQ", 7) == 4);

    dgj_base32_encode(b32, key, 20);
    test_cond("totp-5.6: a 20-byte secret is 32 characters, round trip",
              strcmp(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == 0
              && dgj_base32_decode(buf, sizeof(buf), b32, 32) == 20
              && memcmp(buf, key, 20) == 0);

    /* secrets */
    ok = dgj_totp_generate_secret(s1, sizeof(s1)) == 0
         && dgj_totp_generate_secret(s2, sizeof(s2)) == 0
         && memcmp(s1, s2, sizeof(s1)) != 0;
    dgj_base32_encode(b32, s1, sizeof(s1));
    dgj_base32_encode(b32b, s2, sizeof(s2));
    test_cond("totp-6.1: two generated secrets differ, 32 base32 chars",
              ok && strlen(b32) == 32 && strcmp(b32, b32b) != 0);

    /* URI */
    uri = dgj_totp_uri(pool, NULL, "zhang.san@dg", key, 20, NULL);
    test_cond("totp-7.1: the URI names the encoded issuer and account",
              uri != NULL
              && strcmp(uri, "otpauth://totp/"
                        "%E6%B0%91%E7%94%9F%E5%A4%A7%E8%8E%9E%E5%AE%B6:"
                        "zhang.san%40dg"
                        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=%E6%B0%91%E7%94%9F%E5%A4%A7%E8%8E%9E"
                        "%E5%AE%B6&algorithm=SHA1&digits=6&period=30")
                 == 0);

    uri = dgj_totp_uri(pool, "A B:C", "x&y", key, 20, &p8);
    test_cond("totp-7.2: ':', '&' and spaces in names are encoded",
              uri != NULL
              && strncmp(uri, "otpauth://totp/A%20B%3AC:x%26y?", 31) == 0
              && strstr(uri, "&issuer=A%20B%3AC&") != NULL
              && strstr(uri, "&digits=8&period=30") != NULL);

    dgj_pool_fail_alloc(2);
    uri = dgj_totp_uri(pool, NULL, "a", key, 20, NULL);
    dgj_pool_fail_alloc(0);
    test_cond("totp-7.3: no memory is NULL", uri == NULL);

    dgj_pool_destroy(pool);

    return test_report();
}
