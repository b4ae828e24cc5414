
/*
 * Copyright (C) Daguanjia
 *
 * test_token.c: dgj_token: minting and verification (valid, expired, not
 * yet valid, tampering in each part, unknown key, truncated, garbage,
 * huge, empty), strict base64url, SM3 keys, rotation, CSRF tokens, HMAC
 * known answers and every kind of key-file mistake.
 */


#include "dgj_core.h"
#include "dgj_token.h"

#include <fcntl.h>
#include <unistd.h>

#include "testhelp.h"


#define K1  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2  "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100"
#define SESSION  "00112233445566778899aabbccddeeff"
#define NOW  1800000000


static char  err[512];


static int
test_ring(dgj_token_ring_t *ring, const char *text)
{
    return dgj_token_ring_parse(ring, text, strlen(text), err, sizeof(err));
}


static void
test_claims(dgj_token_claims_t *c)
{
    memset(c, 0, sizeof(dgj_token_claims_t));

    c->user_id = 42;
    c->dept_id = 7;
    strcpy(c->roles, "intake,reviewer");
    c->roles_len = strlen(c->roles);
    strcpy(c->session, SESSION);
    c->iat = NOW - 10;
    c->exp = NOW + 110;
    c->level = 2;
}


static dgj_token_rc_e
test_verify(const dgj_token_ring_t *ring, const char *tok)
{
    dgj_token_claims_t  c;

    return dgj_token_verify(ring, tok, strlen(tok), NOW, 30, &c);
}


/* 1 when parsing text fails with an error containing want */
static int
test_ring_fails(const char *text, const char *want)
{
    dgj_token_ring_t  ring;

    if (test_ring(&ring, text) == 0) {
        printf("#   parsed although it should not\n");
        dgj_token_ring_free(&ring);
        return 0;
    }

    if (strstr(err, want) == NULL) {
        printf("#   error \"%s\" lacks \"%s\"\n", err, want);
        return 0;
    }

    return 1;
}


static void
test_mint_verify(void)
{
    char                tok[DGJ_TOKEN_MAX_LEN + 1], bad[DGJ_TOKEN_MAX_LEN + 8];
    size_t              len, dot1, dot2;
    dgj_token_rc_e      rc;
    dgj_token_ring_t    ring;
    dgj_token_claims_t  c, out;

    test_cond("token-1.0: a one-key ring parses",
              test_ring(&ring, "k1 hmac-sha256 " K1 " sign\n") == 0);

    test_claims(&c);
    rc = dgj_token_mint(&ring, &c, tok, sizeof(tok), &len);
    test_cond("token-1.1: mint succeeds", rc == DGJ_TOKEN_OK);
    test_cond("token-1.2: the token starts with its key id",
              strncmp(tok, "k1.", 3) == 0 && len == strlen(tok));

    memset(&out, 0, sizeof(out));
    rc = dgj_token_verify(&ring, tok, len, NOW, 30, &out);
    test_cond("token-1.3: a fresh token verifies", rc == DGJ_TOKEN_OK);
    test_cond("token-1.4: claims come back intact",
              out.user_id == 42 && out.dept_id == 7 && out.level == 2
              && strcmp(out.roles, "intake,reviewer") == 0
              && out.roles_len == 15 && strcmp(out.session, SESSION) == 0
              && out.iat == NOW - 10 && out.exp == NOW + 110);

    rc = dgj_token_verify(&ring, tok, len, NOW + 110, 30, &out);
    test_cond("token-1.5: exp == now is expired", rc == DGJ_TOKEN_EXPIRED);
    rc = dgj_token_verify(&ring, tok, len, NOW + 1000, 30, &out);
    test_cond("token-1.6: long after exp is expired",
              rc == DGJ_TOKEN_EXPIRED);
    rc = dgj_token_verify(&ring, tok, len, NOW + 109, 30, &out);
    test_cond("token-1.7: one second before exp is valid",
              rc == DGJ_TOKEN_OK);

    rc = dgj_token_verify(&ring, tok, len, NOW - 41, 30, &out);
    test_cond("token-1.8: iat beyond the leeway is not yet valid",
              rc == DGJ_TOKEN_NOT_YET_VALID);
    rc = dgj_token_verify(&ring, tok, len, NOW - 41, 30, NULL);
    test_cond("token-1.8b: claims may be NULL",
              rc == DGJ_TOKEN_NOT_YET_VALID);
    rc = dgj_token_verify(&ring, tok, len, NOW - 40, 30, &out);
    test_cond("token-1.9: iat within the leeway is valid",
              rc == DGJ_TOKEN_OK);

    dot1 = strchr(tok, '.') - tok;
    dot2 = strrchr(tok, '.') - tok;

    strcpy(bad, tok);
    bad[0] = 'j';
    test_cond("token-2.1: a changed key id is an unknown key",
              test_verify(&ring, bad) == DGJ_TOKEN_UNKNOWN_KEY);

    strcpy(bad, tok);
    bad[dot1 + 5] = bad[dot1 + 5] == 'A' ? 'B' : 'A';
    test_cond("token-2.2: a changed payload byte fails the MAC",
              test_verify(&ring, bad) == DGJ_TOKEN_BAD_MAC);

    strcpy(bad, tok);
    bad[dot2 + 3] = bad[dot2 + 3] == 'A' ? 'B' : 'A';
    test_cond("token-2.3: a changed MAC byte fails the MAC",
              test_verify(&ring, bad) == DGJ_TOKEN_BAD_MAC);

    strcpy(bad, tok);
    bad[len - 1] = bad[len - 1] == 'A' ? 'Q' : 'A';
    test_cond("token-2.4: a last MAC character changed in its used bits "
              "fails the MAC", test_verify(&ring, bad) == DGJ_TOKEN_BAD_MAC);

    /* 43 characters carry 258 bits: the low 2 of the last are unused */
    strcpy(bad, tok);
    bad[len - 1] = (char) (bad[len - 1] == 'A' ? 'B' : 'A');
    if (tok[len - 1] == 'A') {
        test_cond("token-2.5: non-canonical trailing bits are malformed",
                  test_verify(&ring, bad) == DGJ_TOKEN_MALFORMED);

    } else {
        test_cond("token-2.5: non-canonical trailing bits are malformed",
                  test_verify(&ring, bad) != DGJ_TOKEN_OK);
    }

    snprintf(bad, sizeof(bad), "%s=", tok);
    test_cond("token-2.6: padding is refused",
              test_verify(&ring, bad) == DGJ_TOKEN_MALFORMED);

    strcpy(bad, tok);
    bad[dot1 + 2] = '+';
    test_cond("token-2.7: a standard-base64 character is refused",
              test_verify(&ring, bad) == DGJ_TOKEN_MALFORMED);

    strcpy(bad, tok);
    bad[len - 5] = '\0';
    test_cond("token-2.8: a truncated token is refused",
              test_verify(&ring, bad) == DGJ_TOKEN_MALFORMED);

    strcpy(bad, tok);
    bad[dot2] = '\0';
    test_cond("token-2.9: a token without its MAC is refused",
              test_verify(&ring, bad) == DGJ_TOKEN_MALFORMED);

    test_cond("token-2.10: garbage is refused",
              test_verify(&ring, "not a token at all") == DGJ_TOKEN_MALFORMED
              && test_verify(&ring, "..") == DGJ_TOKEN_MALFORMED
              && test_verify(&ring, "k1..") == DGJ_TOKEN_MALFORMED
              && test_verify(&ring, "k1.a.b.c") == DGJ_TOKEN_MALFORMED
              && test_verify(&ring, "k1 .YQ.YQ") == DGJ_TOKEN_MALFORMED);

    test_cond("token-2.11: an empty token is missing",
              dgj_token_verify(&ring, "", 0, NOW, 30, &out)
              == DGJ_TOKEN_MISSING);

    /* the decoder reads by table: every foreign byte, in a full group
     * and in the short last group, high bytes included */
    {
        int          ok;
        size_t       k, at[3];
        const char  *foreign = "+/= !\x7f\x80\xc3\xff";

        at[0] = dot1 + 1;              /* the payload's first group */
        at[1] = dot2 - 1;              /* its last, short or full */
        at[2] = len - 1;               /* the MAC's short last group */
        ok = 1;

        for (k = 0; k < 3 * strlen(foreign); k++) {
            strcpy(bad, tok);
            bad[at[k % 3]] = foreign[k / 3];
            if (test_verify(&ring, bad) != DGJ_TOKEN_MALFORMED) {
                ok = 0;
            }
        }

        test_cond("token-2.16: a foreign byte anywhere in a group is "
                  "malformed", ok);
    }

    {
        unsigned char  bin[DGJ_TOKEN_SESSION_LEN];
        char           sess[2 * DGJ_TOKEN_SESSION_LEN + 1];
        size_t         k;
        int            ok;

        memset(sess, 'f', 2 * DGJ_TOKEN_SESSION_LEN);
        memcpy(sess, "0123456789abcdef", 16);
        sess[2 * DGJ_TOKEN_SESSION_LEN] = '\0';

        ok = dgj_token_session_parse(sess, strlen(sess), bin)
             && bin[0] == 0x01 && bin[7] == 0xef
             && bin[DGJ_TOKEN_SESSION_LEN - 1] == 0xff;

        for (k = 0; k < 2 * DGJ_TOKEN_SESSION_LEN; k += 5) {
            char  keep = sess[k];

            sess[k] = 'A';
            ok &= !dgj_token_session_parse(sess, strlen(sess), NULL);
            sess[k] = 'g';
            ok &= !dgj_token_session_parse(sess, strlen(sess), NULL);
            sess[k] = (char) 0xb0;
            ok &= !dgj_token_session_parse(sess, strlen(sess), NULL);
            sess[k] = keep;
        }

        test_cond("token-2.17: a session id is lower-case hex, read byte "
                  "by byte", ok);
    }

    memset(bad, 'A', sizeof(bad));
    test_cond("token-2.12: a token over 1024 bytes is refused before "
              "decoding", dgj_token_verify(&ring, bad, 1025, NOW, 30, &out)
                          == DGJ_TOKEN_TOO_LONG);
    test_cond("token-2.13: 1024 bytes of garbage are only malformed",
              dgj_token_verify(&ring, bad, 1024, NOW, 30, &out)
              == DGJ_TOKEN_MALFORMED);

    strcpy(bad, tok);
    memmove(bad + dot1 + 1, bad + dot1 + 2, len - dot1 - 1);
    test_cond("token-2.14: a payload missing one character is refused",
              test_verify(&ring, bad) != DGJ_TOKEN_OK);

    dgj_token_ring_free(&ring);
}


/* an independent base64url encoder, so the tests do not trust ours */
static size_t
test_b64(const u_char *s, size_t len, char *out)
{
    size_t          j, n;
    unsigned long   v;

    static const char  tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    n = 0;

    for (j = 0; j + 3 <= len; j += 3) {
        v = (unsigned long) s[j] << 16 | s[j + 1] << 8 | s[j + 2];
        out[n++] = tbl[v >> 18 & 63];
        out[n++] = tbl[v >> 12 & 63];
        out[n++] = tbl[v >> 6 & 63];
        out[n++] = tbl[v & 63];
    }

    if (len - j == 1) {
        v = (unsigned long) s[j] << 16;
        out[n++] = tbl[v >> 18 & 63];
        out[n++] = tbl[v >> 12 & 63];

    } else if (len - j == 2) {
        v = (unsigned long) s[j] << 16 | s[j + 1] << 8;
        out[n++] = tbl[v >> 18 & 63];
        out[n++] = tbl[v >> 12 & 63];
        out[n++] = tbl[v >> 6 & 63];
    }

    out[n] = '\0';

    return n;
}


/* payloads that carry a valid MAC but break the grammar */
static void
test_payload_grammar(void)
{
    char              tok[DGJ_TOKEN_MAX_LEN + 1], msg[200];
    size_t            i, n;
    unsigned char     mac[32], key[32];
    dgj_token_ring_t  ring;

    static const char  *bad[] = {
        "2|42|intake|7|" SESSION "|1|1800000100|1",
        "1|042|intake|7|" SESSION "|1|1800000100|1",
        "1|-4|intake|7|" SESSION "|1|1800000100|1",
        "1|18446744073709551616|intake|7|" SESSION "|1|1800000100|1",
        "1|42|Intake|7|" SESSION "|1|1800000100|1",
        "1|42|intake,,reviewer|7|" SESSION "|1|1800000100|1",
        "1|42|intake,|7|" SESSION "|1|1800000100|1",
        "1|42|intake|7|00112233445566778899AABBCCDDEEFF|1|1800000100|1",
        "1|42|intake|7|0011223344556677|1|1800000100|1",
        "1|42|intake|7|" SESSION "|1|1800000100|3",
        "1|42|intake|7|" SESSION "|1800000100|1|1",
        "1|42|intake|7|" SESSION "|1|1800000100",
        "1|42|intake|7|" SESSION "|1|1800000100|1|x",
        "1|42|intake|7|" SESSION "||1800000100|1",
    };

    test_ring(&ring, "k1 hmac-sha256 " K1 " sign\n");

    for (i = 0; i < 32; i++) {
        key[i] = (unsigned char) i;
    }

    for (i = 0; i < dgj_countof(bad); i++) {
        memcpy(tok, "k1.", 3);
        n = 3 + test_b64((const u_char *) bad[i], strlen(bad[i]), tok + 3);

        dgj_token_hmac(DGJ_TOKEN_HMAC_SHA256, key, 32, (u_char *) tok, n,
                       mac);

        tok[n++] = '.';
        n += test_b64(mac, 32, tok + n);

        snprintf(msg, sizeof(msg), "token-3.%zu: correctly signed bad "
                 "payload %zu is malformed", i + 1, i + 1);
        test_cond(msg, dgj_token_verify(&ring, tok, n, NOW, 30, NULL)
                       == DGJ_TOKEN_MALFORMED);
    }

    memcpy(tok, "k1.", 3);
    n = 3 + test_b64((const u_char *) "1|42|intake|7|" SESSION
                     "|1|1800000100|1", 61, tok + 3);
    dgj_token_hmac(DGJ_TOKEN_HMAC_SHA256, key, 32, (u_char *) tok, n, mac);
    tok[n++] = '.';
    n += test_b64(mac, 32, tok + n);
    test_cond("token-3.0: the independent encoder makes a valid token",
              dgj_token_verify(&ring, tok, n, NOW, 30, NULL)
              == DGJ_TOKEN_OK);

    dgj_token_ring_free(&ring);
}


static void
test_mint_limits(void)
{
    char                tok[DGJ_TOKEN_MAX_LEN + 1];
    size_t              len;
    dgj_token_ring_t    ring, none;
    dgj_token_claims_t  c;

    test_ring(&ring, "k1 hmac-sha256 " K1 " sign\n");

    test_claims(&c);
    c.level = 3;
    test_cond("token-4.1: level 3 is not minted",
              dgj_token_mint(&ring, &c, tok, sizeof(tok), &len)
              == DGJ_TOKEN_BAD_CLAIMS);

    test_claims(&c);
    c.exp = c.iat;
    test_cond("token-4.2: exp <= iat is not minted",
              dgj_token_mint(&ring, &c, tok, sizeof(tok), &len)
              == DGJ_TOKEN_BAD_CLAIMS);

    test_claims(&c);
    strcpy(c.session, "XYZ");
    test_cond("token-4.3: a bad session is not minted",
              dgj_token_mint(&ring, &c, tok, sizeof(tok), &len)
              == DGJ_TOKEN_BAD_CLAIMS);

    test_claims(&c);
    memset(c.roles, 'a', DGJ_TOKEN_ROLES_MAX);
    c.roles[DGJ_TOKEN_ROLES_MAX] = '\0';
    c.roles_len = DGJ_TOKEN_ROLES_MAX;
    c.user_id = UINT64_MAX;
    c.dept_id = UINT64_MAX;
    test_cond("token-4.4: the largest claims fit in 1024 bytes",
              dgj_token_mint(&ring, &c, tok, sizeof(tok), &len)
              == DGJ_TOKEN_OK && len <= DGJ_TOKEN_MAX_LEN
              && test_verify(&ring, tok) == DGJ_TOKEN_OK);

    test_claims(&c);
    test_cond("token-4.5: a too small buffer is refused",
              dgj_token_mint(&ring, &c, tok, 40, &len)
              == DGJ_TOKEN_BAD_CLAIMS);

    test_claims(&c);
    c.roles[0] = '\0';
    c.roles_len = 0;
    test_cond("token-4.6: no roles at all mints and verifies",
              dgj_token_mint(&ring, &c, tok, sizeof(tok), &len)
              == DGJ_TOKEN_OK && test_verify(&ring, tok) == DGJ_TOKEN_OK);

    memset(&none, 0, sizeof(none));
    test_claims(&c);
    test_cond("token-4.7: an empty ring cannot mint",
              dgj_token_mint(&none, &c, tok, sizeof(tok), &len)
              == DGJ_TOKEN_NO_SIGNING_KEY);
    test_cond("token-4.8: an empty ring verifies nothing",
              test_verify(&none, "k1.YWJj.YWJj") != DGJ_TOKEN_OK);

    dgj_token_ring_free(&ring);
}


static void
test_rotation(void)
{
    char                tok[DGJ_TOKEN_MAX_LEN + 1], tok2[DGJ_TOKEN_MAX_LEN + 1];
    char                csrf[DGJ_TOKEN_CSRF_LEN + 1];
    size_t              len;
    dgj_token_ring_t    old, both, fresh, sm3;
    dgj_token_claims_t  c;

    test_ring(&old, "k1 hmac-sha256 " K1 " sign\n");
    test_cond("token-5.1: a two-key ring with an SM3 signing key parses",
              test_ring(&both, "# rotated\nk1 hmac-sha256 " K1 "\n"
                               "k2  hmac-sm3\t" K2 "  sign\n") == 0
              && both.nkeys == 2 && both.sign == 1);
    test_ring(&fresh, "k2 hmac-sm3 " K2 " sign\n");
    test_ring(&sm3, "k1 hmac-sm3 " K1 " sign\n");

    test_claims(&c);
    dgj_token_mint(&old, &c, tok, sizeof(tok), &len);
    dgj_token_mint(&both, &c, tok2, sizeof(tok2), &len);

    test_cond("token-5.2: the new ring signs with the SM3 key",
              strncmp(tok2, "k2.", 3) == 0
              && test_verify(&both, tok2) == DGJ_TOKEN_OK);
    test_cond("token-5.3: a token under the old, non-signing key still "
              "verifies", test_verify(&both, tok) == DGJ_TOKEN_OK);
    test_cond("token-5.4: once the old key is removed its tokens fail",
              test_verify(&fresh, tok) == DGJ_TOKEN_UNKNOWN_KEY);
    test_cond("token-5.5: the same key bytes under SM3 do not verify a "
              "SHA-256 token", test_verify(&sm3, tok) == DGJ_TOKEN_BAD_MAC);

    test_cond("token-6.1: a CSRF token is made",
              dgj_token_csrf_make(&old, SESSION, csrf, sizeof(csrf))
              == DGJ_TOKEN_OK && strlen(csrf) == DGJ_TOKEN_CSRF_LEN);
    test_cond("token-6.2: it verifies for its session",
              dgj_token_csrf_verify(&old, SESSION, csrf, strlen(csrf)));
    test_cond("token-6.3: not for another session",
              !dgj_token_csrf_verify(&old, "00112233445566778899aabbccddeefe",
                                     csrf, strlen(csrf)));
    test_cond("token-6.4: still after rotation (any key of the ring)",
              dgj_token_csrf_verify(&both, SESSION, csrf, strlen(csrf)));
    test_cond("token-6.5: not once its key is gone",
              !dgj_token_csrf_verify(&fresh, SESSION, csrf, strlen(csrf)));
    csrf[3] ^= 1;
    test_cond("token-6.6: a changed CSRF token fails",
              !dgj_token_csrf_verify(&old, SESSION, csrf, strlen(csrf)));
    test_cond("token-6.7: a short or empty one fails",
              !dgj_token_csrf_verify(&old, SESSION, csrf, 42)
              && !dgj_token_csrf_verify(&old, SESSION, "", 0));

    /*
     * echo -n "csrf|00112233445566778899aabbccddeeff" | openssl mac \
     *     -digest SM3 -macopt hexkey:<K1> HMAC
     * 1C82F918F63A936E5A84CEC681C5B0B6924FCD312B324AAA44735248A947D701
     * whose base64url is HIL5GPY6k25ahM7GgcWwtpJPzTErMkqqRHNSSKlH1wE
     */
    test_cond("token-6.8: the SM3 CSRF token matches the openssl CLI",
              dgj_token_csrf_make(&sm3, SESSION, csrf, sizeof(csrf))
              == DGJ_TOKEN_OK
              && strcmp(csrf, "HIL5GPY6k25ahM7GgcWwtpJPzTErMkqqRHNSSKlH1wE")
                 == 0);

    dgj_token_ring_free(&old);
    dgj_token_ring_free(&both);
    dgj_token_ring_free(&fresh);
    dgj_token_ring_free(&sm3);
}


static int
test_hex_eq(const unsigned char *mac, const char *hex)
{
    char    buf[65];
    size_t  i;

    for (i = 0; i < 32; i++) {
        snprintf(buf + 2 * i, 3, "%02x", mac[i]);
    }

    return strcasecmp(buf, hex) == 0;
}


static void
test_known_answers(void)
{
    unsigned char  key[20], mac[32];

    memset(key, 0x0b, sizeof(key));

    /* RFC 4231 test case 1 */
    test_cond("token-7.1: HMAC-SHA-256 RFC 4231 case 1",
              dgj_token_hmac(DGJ_TOKEN_HMAC_SHA256, key, 20,
                             (u_char *) "Hi There", 8, mac) == 0
              && test_hex_eq(mac, "b0344c61d8db38535ca8afceaf0bf12b"
                                  "881dc200c9833da726e9376c2e32cff7"));

    /* RFC 4231 test case 2 */
    test_cond("token-7.2: HMAC-SHA-256 RFC 4231 case 2",
              dgj_token_hmac(DGJ_TOKEN_HMAC_SHA256, (u_char *) "Jefe", 4,
                             (u_char *) "what do ya want for nothing?", 28,
                             mac) == 0
              && test_hex_eq(mac, "5bdcc146bf60754e6a042426089575c7"
                                  "5a003f089d2739839dec58b964ec3843"));

    /*
     * echo -n "Hi There" | openssl mac -digest SM3 \
     *     -macopt hexkey:0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b HMAC
     * (OpenSSL 3.0.22)
     */
    test_cond("token-7.3: HMAC-SM3 matches the openssl CLI",
              dgj_token_hmac(DGJ_TOKEN_HMAC_SM3, key, 20,
                             (u_char *) "Hi There", 8, mac) == 0
              && test_hex_eq(mac, "51B00D1FB49832BFB01C3CE27848E59F"
                                  "871D9BA938DC563B338CA964755CCE70"));
}


static void
test_key_file(void)
{
    int               fd;
    char              path[64];
    dgj_token_ring_t  ring;

    test_cond("token-8.1: an empty file has no keys",
              test_ring_fails("", "no keys"));
    test_cond("token-8.2: comments only have no keys",
              test_ring_fails("# nothing\n\n   \n", "no keys"));
    test_cond("token-8.3: no signing key",
              test_ring_fails("k1 hmac-sha256 " K1 "\n", "no signing key"));
    test_cond("token-8.4: two signing keys name both lines",
              test_ring_fails("k1 hmac-sha256 " K1 " sign\n# x\n"
                              "k2 hmac-sha256 " K2 " sign\n",
                              "line 3: a second signing key (the first is "
                              "on line 1)"));
    test_cond("token-8.5: an unknown algorithm",
              test_ring_fails("\nk1 hmac-md5 " K1 " sign\n",
                              "line 2: unknown algorithm \"hmac-md5\""));
    test_cond("token-8.6: a short key",
              test_ring_fails("k1 hmac-sha256 0011 sign\n",
                              "line 1: the key must be 64 hex digits"));
    test_cond("token-8.7: a non-hex key",
              test_ring_fails("k1 hmac-sha256 " "zz"
                              "02030405060708090a0b0c0d0e0f101112131415161718"
                              "191a1b1c1d1e1f sign\n",
                              "line 1: the key must be 64 hex digits"));
    test_cond("token-8.8: a bad key id",
              test_ring_fails("k.1 hmac-sha256 " K1 " sign\n",
                              "line 1: bad key id \"k.1\""));
    test_cond("token-8.9: a key id over 16 characters",
              test_ring_fails("abcdefghijklmnopq hmac-sha256 " K1 " sign\n",
                              "line 1: bad key id"));
    test_cond("token-8.10: a duplicate key id",
              test_ring_fails("k1 hmac-sha256 " K1 " sign\n"
                              "k1 hmac-sha256 " K2 "\n",
                              "line 2: duplicate key id \"k1\""));
    test_cond("token-8.11: a word other than sign",
              test_ring_fails("k1 hmac-sha256 " K1 " signing\n",
                              "line 1: unexpected \"signing\""));
    test_cond("token-8.12: missing fields",
              test_ring_fails("k1 " K1 "\n", "line 1: expected"));
    test_cond("token-8.13: extra fields",
              test_ring_fails("k1 hmac-sha256 " K1 " sign x\n",
                              "line 1: expected"));
    test_cond("token-8.14: a ninth key",
              test_ring_fails("a1 hmac-sha256 " K1 " sign\n"
                              "a2 hmac-sha256 " K1 "\na3 hmac-sha256 " K1
                              "\na4 hmac-sha256 " K1 "\na5 hmac-sha256 " K1
                              "\na6 hmac-sha256 " K1 "\na7 hmac-sha256 " K1
                              "\na8 hmac-sha256 " K1 "\na9 hmac-sha256 " K1
                              "\n", "line 9: more than 8 keys"));
    test_cond("token-8.15: CRLF lines and no final newline parse",
              test_ring(&ring, "k1 hmac-sha256 " K1 " sign\r\n"
                               "k2 hmac-sm3 " K2) == 0 && ring.nkeys == 2);
    dgj_token_ring_free(&ring);

    test_cond("token-8.16: a NUL byte is refused",
              dgj_token_ring_parse(&ring, "k1\0 x", 5, err, sizeof(err))
              == -1 && strstr(err, "line 1: NUL byte") != NULL);

    test_cond("token-8.17: a missing file names the path",
              dgj_token_ring_load(&ring, "/nonexistent/token.keys", err,
                                  sizeof(err)) == -1
              && strstr(err, "/nonexistent/token.keys: cannot open") != NULL);

    snprintf(path, sizeof(path), "/tmp/dgj-test-token-%d.keys", getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd == -1 || write(fd, "# ring\nk1 hmac-sha256 " K1 " sign\nbad\n",
                          strlen("# ring\nk1 hmac-sha256 " K1 " sign\nbad\n"))
                    < 0)
    {
        exit(2);
    }
    close(fd);

    test_cond("token-8.18: a file error names path and line",
              dgj_token_ring_load(&ring, path, err, sizeof(err)) == -1
              && strstr(err, path) != NULL && strstr(err, ":3: expected")
                 != NULL);

    fd = open(path, O_WRONLY | O_TRUNC);
    if (fd == -1 || write(fd, "k1 hmac-sha256 " K1 " sign\n",
                          strlen("k1 hmac-sha256 " K1 " sign\n")) < 0)
    {
        exit(2);
    }
    close(fd);

    test_cond("token-8.19: a good file loads",
              dgj_token_ring_load(&ring, path, err, sizeof(err)) == 0
              && ring.nkeys == 1);
    dgj_token_ring_free(&ring);
    dgj_token_ring_free(&ring);
    test_cond("token-8.20: freeing twice is harmless", ring.nkeys == 0);

    test_cond("token-8.21: a directory is not a key file",
              dgj_token_ring_load(&ring, "/tmp", err, sizeof(err)) == -1
              && strstr(err, "not a regular file") != NULL);

    unlink(path);

    test_cond("token-9.1: every code has a reason",
              strcmp(dgj_token_strerror(DGJ_TOKEN_EXPIRED), "expired") == 0
              && strcmp(dgj_token_strerror(DGJ_TOKEN_BAD_MAC), "bad mac")
                 == 0
              && strcmp(dgj_token_strerror((dgj_token_rc_e) 99),
                        "unknown error") == 0);
}


/* the module's compare of a presented token with the one it verified */
static void
test_equal(void)
{
    size_t  n, at;
    char    a[64], b[64];
    int     ok;

    for (n = 0; n < sizeof(a); n++) {
        a[n] = (char) ('A' + n % 26);
    }

    test_cond("token-10.1: no bytes are equal",
              dgj_token_equal(a, a + 1, 0) == 1);

    /* every length across the 8-byte steps and the tail after them, and
     * one byte changed at every place in it */
    ok = 1;

    for (n = 1; n <= sizeof(a); n++) {
        memcpy(b, a, sizeof(a));
        ok = ok && dgj_token_equal(a, b, n) == 1;

        for (at = 0; at < n; at++) {
            b[at] ^= 0x01;
            ok = ok && dgj_token_equal(a, b, n) == 0;
            b[at] ^= 0x01;
        }

        /* a change past n is not looked at */
        if (n < sizeof(a)) {
            b[n] ^= 0x40;
            ok = ok && dgj_token_equal(a, b, n) == 1;
        }
    }

    test_cond("token-10.2: equal only when all n bytes are, for n 1 to 64",
              ok);
}


int
main(void)
{
    test_mint_verify();
    test_payload_grammar();
    test_mint_limits();
    test_rotation();
    test_known_answers();
    test_key_file();
    test_equal();

    return test_report();
}
