
/*
 * Copyright (C) Daguanjia
 *
 * dgj_token.c: the key ring, token minting and verification, CSRF tokens
 * and the strict base64url they use.  No nginx, no allocation per call
 * beyond libcrypto's MAC context.
 */


#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "dgj_token.h"


#define DGJ_TOKEN_VERSION  "1"


static EVP_MAC *dgj_token_mac_get(void);
static void *dgj_token_key_ctx(dgj_token_alg_e alg, const unsigned char *key,
    size_t key_len);
static int dgj_token_key_mac(const dgj_token_key_t *k, const char *msg,
    size_t len, unsigned char *out);
static const dgj_token_key_t *dgj_token_ring_find(
    const dgj_token_ring_t *ring, const char *kid, size_t len);
static int dgj_token_ring_line(dgj_token_ring_t *ring, char *line,
    size_t lineno, size_t *sign_line, char *err, size_t errlen);
static size_t dgj_token_b64_encode(const unsigned char *in, size_t len,
    char *out);
static int dgj_token_b64_decode(const char *in, size_t len,
    unsigned char *out, size_t outsz, size_t *outlen);
static int dgj_token_parse_u64(const char *p, size_t len, uint64_t *v);
static int dgj_token_parse_payload(const char *p, size_t len,
    dgj_token_claims_t *c);
static int dgj_token_kid_is_valid(const char *kid, size_t len);
static int dgj_token_roles_are_valid(const char *roles, size_t len);
static int dgj_token_hexval(int c);


static const char  dgj_token_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* lower-case hex value of each byte, 16 where the byte is not one */
static const unsigned char  dgj_token_hex_lc[256] = {
#define X16  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16
    X16, X16, X16,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 16, 16, 16, 16, 16, 16,
    X16,
    X16,
    16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    X16,
    X16, X16, X16, X16, X16, X16, X16, X16
#undef X16
};

static const char  *dgj_token_alg_names[] = { "hmac-sha256", "hmac-sm3" };
static const char  *dgj_token_alg_digests[] = { "SHA256", "SM3" };


int
dgj_token_ring_parse(dgj_token_ring_t *ring, const char *text, size_t len,
    char *err, size_t errlen)
{
    char          line[512];
    size_t        lineno, n, sign_line;
    const char   *p, *last, *eol;

    memset(ring, 0, sizeof(dgj_token_ring_t));

    if (errlen > 0) {
        err[0] = '\0';
    }

    sign_line = 0;
    lineno = 0;
    last = text + len;

    for (p = text; p < last; p = eol + 1) {
        lineno++;

        eol = memchr(p, '\n', last - p);
        if (eol == NULL) {
            eol = last;
        }

        n = eol - p;
        if (n >= sizeof(line)) {
            snprintf(err, errlen, "line %zu: line too long", lineno);
            goto failed;
        }

        if (memchr(p, '\0', n) != NULL) {
            snprintf(err, errlen, "line %zu: NUL byte", lineno);
            goto failed;
        }

        memcpy(line, p, n);
        line[n] = '\0';

        if (dgj_token_ring_line(ring, line, lineno, &sign_line, err, errlen)
            != 0)
        {
            goto failed;
        }
    }

    if (ring->nkeys == 0) {
        snprintf(err, errlen, "no keys (expected lines "
                 "\"<kid> <alg> <64 hex digits> [sign]\")");
        goto failed;
    }

    if (sign_line == 0) {
        snprintf(err, errlen, "no signing key (mark exactly one line "
                 "with \"sign\")");
        goto failed;
    }

    return 0;

failed:

    dgj_token_ring_free(ring);

    return -1;
}


int
dgj_token_ring_load(dgj_token_ring_t *ring, const char *path, char *err,
    size_t errlen)
{
    int          fd, rc;
    char         buf[DGJ_TOKEN_KEYFILE_MAX + 1], sub[256];
    size_t       len;
    ssize_t      n;
    struct stat  st;

    memset(ring, 0, sizeof(dgj_token_ring_t));

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }

    len = 0;

    for ( ;; ) {
        n = read(fd, buf + len, sizeof(buf) - len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
            close(fd);
            OPENSSL_cleanse(buf, len);
            return -1;
        }

        if (n == 0) {
            break;
        }

        len += n;

        if (len > DGJ_TOKEN_KEYFILE_MAX) {
            snprintf(err, errlen, "%s: larger than %d bytes", path,
                     DGJ_TOKEN_KEYFILE_MAX);
            close(fd);
            OPENSSL_cleanse(buf, len);
            return -1;
        }
    }

    close(fd);

    rc = dgj_token_ring_parse(ring, buf, len, sub, sizeof(sub));

    OPENSSL_cleanse(buf, len);

    if (rc != 0) {
        if (strncmp(sub, "line ", 5) == 0) {
            snprintf(err, errlen, "%s:%s", path, sub + 5);

        } else {
            snprintf(err, errlen, "%s: %s", path, sub);
        }
    }

    return rc;
}


void
dgj_token_ring_free(dgj_token_ring_t *ring)
{
    size_t  i;

    for (i = 0; i < ring->nkeys; i++) {
        EVP_MAC_CTX_free(ring->keys[i].mac);
        ring->keys[i].mac = NULL;
    }

    OPENSSL_cleanse(ring, sizeof(dgj_token_ring_t));
    ring->nkeys = 0;
}


dgj_token_rc_e
dgj_token_mint(const dgj_token_ring_t *ring, const dgj_token_claims_t *c,
    char *out, size_t outsz, size_t *outlen)
{
    int                     n;
    char                    payload[512];
    size_t                  len;
    unsigned char           mac[DGJ_TOKEN_MAC_LEN];
    const dgj_token_key_t  *k;

    if (ring->nkeys == 0 || ring->sign >= ring->nkeys) {
        return DGJ_TOKEN_NO_SIGNING_KEY;
    }

    k = &ring->keys[ring->sign];

    if (c->roles_len > DGJ_TOKEN_ROLES_MAX
        || c->roles_len != strnlen(c->roles, sizeof(c->roles))
        || !dgj_token_roles_are_valid(c->roles, c->roles_len)
        || !dgj_token_session_parse(c->session, strnlen(c->session,
                                    sizeof(c->session)), NULL)
        || c->iat < 0 || c->exp <= c->iat
        || (c->level != 1 && c->level != 2))
    {
        return DGJ_TOKEN_BAD_CLAIMS;
    }

    n = snprintf(payload, sizeof(payload),
                 DGJ_TOKEN_VERSION "|%" PRIu64 "|%s|%" PRIu64 "|%s|%" PRId64
                 "|%" PRId64 "|%u",
                 c->user_id, c->roles, c->dept_id, c->session, c->iat,
                 c->exp, c->level);

    if (n < 0 || (size_t) n >= sizeof(payload)) {
        return DGJ_TOKEN_BAD_CLAIMS;
    }

    /* kid "." b64(payload) "." b64(mac) NUL */
    if (k->kid_len + 1 + (4 * (size_t) n + 2) / 3 + 1 + DGJ_TOKEN_CSRF_LEN + 1
        > outsz)
    {
        return DGJ_TOKEN_BAD_CLAIMS;
    }

    memcpy(out, k->kid, k->kid_len);
    len = k->kid_len;
    out[len++] = '.';
    len += dgj_token_b64_encode((unsigned char *) payload, n, out + len);

    if (len > DGJ_TOKEN_MAX_LEN - 1 - DGJ_TOKEN_CSRF_LEN) {
        return DGJ_TOKEN_BAD_CLAIMS;
    }

    if (dgj_token_key_mac(k, out, len, mac) != 0) {
        return DGJ_TOKEN_CRYPTO;
    }

    out[len++] = '.';
    len += dgj_token_b64_encode(mac, sizeof(mac), out + len);
    out[len] = '\0';

    if (outlen != NULL) {
        *outlen = len;
    }

    return DGJ_TOKEN_OK;
}


dgj_token_rc_e
dgj_token_verify(const dgj_token_ring_t *ring, const char *token,
    size_t len, int64_t now, int64_t leeway, dgj_token_claims_t *claims)
{
    char                    payload[DGJ_TOKEN_MAX_LEN];
    size_t                  n, plen;
    const char             *dot1, *dot2, *last;
    unsigned char           mac[DGJ_TOKEN_MAC_LEN], want[DGJ_TOKEN_MAC_LEN];
    dgj_token_claims_t      c;
    const dgj_token_key_t  *k;

    if (len == 0) {
        return DGJ_TOKEN_MISSING;
    }

    /* refused before any decoding: docs/security.md#token-size */
    if (len > DGJ_TOKEN_MAX_LEN) {
        return DGJ_TOKEN_TOO_LONG;
    }

    last = token + len;

    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return DGJ_TOKEN_MALFORMED;
    }

    dot2 = memchr(dot1 + 1, '.', last - dot1 - 1);
    if (dot2 == NULL || memchr(dot2 + 1, '.', last - dot2 - 1) != NULL) {
        return DGJ_TOKEN_MALFORMED;
    }

    if (!dgj_token_kid_is_valid(token, dot1 - token)
        || dot2 - dot1 - 1 == 0)
    {
        return DGJ_TOKEN_MALFORMED;
    }

    if (dgj_token_b64_decode(dot2 + 1, last - dot2 - 1, mac, sizeof(mac), &n)
        != 0 || n != DGJ_TOKEN_MAC_LEN)
    {
        return DGJ_TOKEN_MALFORMED;
    }

    /* base64url only: a payload that cannot decode never reaches the MAC */
    if (dgj_token_b64_decode(dot1 + 1, dot2 - dot1 - 1,
                             (unsigned char *) payload, sizeof(payload),
                             &plen)
        != 0)
    {
        return DGJ_TOKEN_MALFORMED;
    }

    k = dgj_token_ring_find(ring, token, dot1 - token);
    if (k == NULL) {
        return DGJ_TOKEN_UNKNOWN_KEY;
    }

    if (dgj_token_key_mac(k, token, dot2 - token, want) != 0) {
        return DGJ_TOKEN_CRYPTO;
    }

    if (CRYPTO_memcmp(mac, want, DGJ_TOKEN_MAC_LEN) != 0) {
        return DGJ_TOKEN_BAD_MAC;
    }

    /* authenticated from here on; still parsed strictly */

    if (dgj_token_parse_payload(payload, plen, &c) != 0) {
        return DGJ_TOKEN_MALFORMED;
    }

    if (claims != NULL) {
        *claims = c;
    }

    return dgj_token_check_time(&c, now, leeway);
}


/*
 * Eight bytes at a step, where CRYPTO_memcmp() takes one: the nginx
 * module compares every signed-in request's token with the one it
 * verified before.  The differences are ORed together and looked at once,
 * at the end, so no early exit tells how many bytes matched.
 */
int
dgj_token_equal(const void *a, const void *b, size_t n)
{
    size_t                i;
    uint64_t              x, y;
    volatile uint64_t     d;
    const unsigned char  *p, *q;

    p = a;
    q = b;
    d = 0;

    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, p + i, 8);
        memcpy(&y, q + i, 8);
        d |= x ^ y;
    }

    for (/* void */; i < n; i++) {
        d |= (uint64_t) (p[i] ^ q[i]);
    }

    return d == 0;
}


/* docs/security.md#token-expiry */
dgj_token_rc_e
dgj_token_check_time(const dgj_token_claims_t *claims, int64_t now,
    int64_t leeway)
{
    if (claims->exp <= now) {
        return DGJ_TOKEN_EXPIRED;
    }

    if (claims->iat > now + leeway) {
        return DGJ_TOKEN_NOT_YET_VALID;
    }

    return DGJ_TOKEN_OK;
}


dgj_token_rc_e
dgj_token_csrf_make(const dgj_token_ring_t *ring, const char *session,
    char *out, size_t outsz)
{
    char           msg[5 + 2 * DGJ_TOKEN_SESSION_LEN];
    unsigned char  mac[DGJ_TOKEN_MAC_LEN];

    if (ring->nkeys == 0 || ring->sign >= ring->nkeys) {
        return DGJ_TOKEN_NO_SIGNING_KEY;
    }

    if (outsz < DGJ_TOKEN_CSRF_LEN + 1
        || !dgj_token_session_parse(session, strnlen(session, 33), NULL))
    {
        return DGJ_TOKEN_BAD_CLAIMS;
    }

    memcpy(msg, "csrf|", 5);
    memcpy(msg + 5, session, 2 * DGJ_TOKEN_SESSION_LEN);

    if (dgj_token_key_mac(&ring->keys[ring->sign], msg, sizeof(msg), mac)
        != 0)
    {
        return DGJ_TOKEN_CRYPTO;
    }

    dgj_token_b64_encode(mac, sizeof(mac), out);
    out[DGJ_TOKEN_CSRF_LEN] = '\0';

    return DGJ_TOKEN_OK;
}


int
dgj_token_csrf_verify(const dgj_token_ring_t *ring, const char *session,
    const char *csrf, size_t len)
{
    int            ok;
    char           msg[5 + 2 * DGJ_TOKEN_SESSION_LEN];
    char           want[DGJ_TOKEN_CSRF_LEN + 1];
    size_t         i;
    unsigned char  mac[DGJ_TOKEN_MAC_LEN];

    if (len != DGJ_TOKEN_CSRF_LEN
        || !dgj_token_session_parse(session, strnlen(session, 33), NULL))
    {
        return 0;
    }

    memcpy(msg, "csrf|", 5);
    memcpy(msg + 5, session, 2 * DGJ_TOKEN_SESSION_LEN);

    ok = 0;

    /* any key of the ring: a rotation does not break open pages */
    for (i = 0; i < ring->nkeys; i++) {
        if (dgj_token_key_mac(&ring->keys[i], msg, sizeof(msg), mac) != 0) {
            continue;
        }

        dgj_token_b64_encode(mac, sizeof(mac), want);

        ok |= (CRYPTO_memcmp(want, csrf, DGJ_TOKEN_CSRF_LEN) == 0);
    }

    return ok;
}


int
dgj_token_hmac(dgj_token_alg_e alg, const unsigned char *key,
    size_t key_len, const unsigned char *msg, size_t len,
    unsigned char out[DGJ_TOKEN_MAC_LEN])
{
    int               rc;
    dgj_token_key_t   k;

    memset(&k, 0, sizeof(dgj_token_key_t));

    k.mac = dgj_token_key_ctx(alg, key, key_len);
    if (k.mac == NULL) {
        return -1;
    }

    rc = dgj_token_key_mac(&k, (const char *) msg, len, out);

    EVP_MAC_CTX_free(k.mac);

    return rc;
}


int
dgj_token_session_parse(const char *s, size_t len, unsigned char *bin)
{
    size_t                i;
    unsigned              hi, lo, bad;
    const unsigned char  *p;

    if (len != 2 * DGJ_TOKEN_SESSION_LEN) {
        return 0;
    }

    p = (const unsigned char *) s;
    bad = 0;

    /* lower-case only: one session, one spelling */
    for (i = 0; i < DGJ_TOKEN_SESSION_LEN; i++) {
        hi = dgj_token_hex_lc[p[2 * i]];
        lo = dgj_token_hex_lc[p[2 * i + 1]];
        bad |= hi | lo;

        if (bin != NULL) {
            bin[i] = (unsigned char) (hi << 4 | lo);
        }
    }

    return !(bad & 16);
}


const char *
dgj_token_strerror(dgj_token_rc_e rc)
{
    switch (rc) {
    case DGJ_TOKEN_OK:
        return "ok";
    case DGJ_TOKEN_MISSING:
        return "no token";
    case DGJ_TOKEN_TOO_LONG:
        return "token too long";
    case DGJ_TOKEN_MALFORMED:
        return "malformed token";
    case DGJ_TOKEN_UNKNOWN_KEY:
        return "unknown key id";
    case DGJ_TOKEN_BAD_MAC:
        return "bad mac";
    case DGJ_TOKEN_EXPIRED:
        return "expired";
    case DGJ_TOKEN_NOT_YET_VALID:
        return "not yet valid";
    case DGJ_TOKEN_NO_SIGNING_KEY:
        return "no signing key";
    case DGJ_TOKEN_BAD_CLAIMS:
        return "claims out of range";
    case DGJ_TOKEN_CRYPTO:
        return "crypto failure";
    }

    return "unknown error";
}


/* the one HMAC implementation of the process, fetched once */
static EVP_MAC *
dgj_token_mac_get(void)
{
    static EVP_MAC  *mac;

    if (mac == NULL) {
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    }

    return mac;
}


static void *
dgj_token_key_ctx(dgj_token_alg_e alg, const unsigned char *key,
    size_t key_len)
{
    EVP_MAC      *mac;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    mac = dgj_token_mac_get();
    if (mac == NULL) {
        return NULL;
    }

    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                    (char *) dgj_token_alg_digests[alg], 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}


static int
dgj_token_key_mac(const dgj_token_key_t *k, const char *msg, size_t len,
    unsigned char *out)
{
    size_t        n;
    EVP_MAC_CTX  *ctx;

    ctx = k->mac;
    if (ctx == NULL) {
        return -1;
    }

    /*
     * Re-initialised without a key, HMAC starts again from the key schedule
     * made once when the key was loaded: no allocation, 0.3 us a token
     * against 0.7 us for a duplicated context.  Every process using a ring
     * is single-threaded (nginx workers, FastCGI workers, the tools).
     */
    if (EVP_MAC_init(ctx, NULL, 0, NULL) == 1
        && EVP_MAC_update(ctx, (const unsigned char *) msg, len) == 1
        && EVP_MAC_final(ctx, out, &n, DGJ_TOKEN_MAC_LEN) == 1
        && n == DGJ_TOKEN_MAC_LEN)
    {
        return 0;
    }

    return -1;
}


static const dgj_token_key_t *
dgj_token_ring_find(const dgj_token_ring_t *ring, const char *kid,
    size_t len)
{
    size_t  i;

    for (i = 0; i < ring->nkeys; i++) {
        if (ring->keys[i].kid_len == len
            && memcmp(ring->keys[i].kid, kid, len) == 0)
        {
            return &ring->keys[i];
        }
    }

    return NULL;
}


static int
dgj_token_ring_line(dgj_token_ring_t *ring, char *line, size_t lineno,
    size_t *sign_line, char *err, size_t errlen)
{
    int               alg;
    char             *f[5], *p, *save;
    size_t            i, nf;
    dgj_token_key_t  *k;

    nf = 0;

    for (p = strtok_r(line, " \t\r", &save);
         p != NULL;
         p = strtok_r(NULL, " \t\r", &save))
    {
        if (nf == 0 && p[0] == '#') {
            return 0;
        }

        if (nf == sizeof(f) / sizeof(f[0])) {
            break;
        }

        f[nf++] = p;
    }

    if (nf == 0) {
        return 0;
    }

    if (nf < 3 || nf > 4) {
        snprintf(err, errlen, "line %zu: expected \"<kid> <alg> "
                 "<64 hex digits> [sign]\"", lineno);
        return -1;
    }

    if (!dgj_token_kid_is_valid(f[0], strlen(f[0]))) {
        snprintf(err, errlen, "line %zu: bad key id \"%.32s\" "
                 "(1 to 16 of A-Z a-z 0-9 _ -)", lineno, f[0]);
        return -1;
    }

    if (dgj_token_ring_find(ring, f[0], strlen(f[0])) != NULL) {
        snprintf(err, errlen, "line %zu: duplicate key id \"%s\"", lineno,
                 f[0]);
        return -1;
    }

    alg = -1;
    for (i = 0; i < 2; i++) {
        if (strcmp(f[1], dgj_token_alg_names[i]) == 0) {
            alg = (int) i;
        }
    }

    if (alg == -1) {
        snprintf(err, errlen, "line %zu: unknown algorithm \"%.32s\" "
                 "(hmac-sha256 or hmac-sm3)", lineno, f[1]);
        return -1;
    }

    if (strlen(f[2]) != 2 * DGJ_TOKEN_KEY_LEN) {
        snprintf(err, errlen, "line %zu: the key must be 64 hex digits "
                 "(32 bytes), not %zu characters", lineno, strlen(f[2]));
        return -1;
    }

    for (i = 0; i < 2 * DGJ_TOKEN_KEY_LEN; i++) {
        if (dgj_token_hexval(f[2][i]) < 0) {
            snprintf(err, errlen, "line %zu: the key must be 64 hex digits "
                     "(32 bytes)", lineno);
            return -1;
        }
    }

    if (nf == 4 && strcmp(f[3], "sign") != 0) {
        snprintf(err, errlen, "line %zu: unexpected \"%.32s\" after the key "
                 "(only \"sign\" may follow)", lineno, f[3]);
        return -1;
    }

    if (nf == 4 && *sign_line != 0) {
        snprintf(err, errlen, "line %zu: a second signing key (the first is "
                 "on line %zu)", lineno, *sign_line);
        return -1;
    }

    if (ring->nkeys == DGJ_TOKEN_KEYS_MAX) {
        snprintf(err, errlen, "line %zu: more than %d keys", lineno,
                 DGJ_TOKEN_KEYS_MAX);
        return -1;
    }

    k = &ring->keys[ring->nkeys];

    memcpy(k->kid, f[0], strlen(f[0]) + 1);
    k->kid_len = strlen(f[0]);
    k->alg = (dgj_token_alg_e) alg;

    for (i = 0; i < DGJ_TOKEN_KEY_LEN; i++) {
        k->key[i] = (unsigned char) (dgj_token_hexval(f[2][2 * i]) << 4
                                     | dgj_token_hexval(f[2][2 * i + 1]));
    }

    OPENSSL_cleanse(f[2], 2 * DGJ_TOKEN_KEY_LEN);

    k->mac = dgj_token_key_ctx(k->alg, k->key, DGJ_TOKEN_KEY_LEN);
    if (k->mac == NULL) {
        snprintf(err, errlen, "line %zu: libcrypto cannot key %s",
                 lineno, dgj_token_alg_names[alg]);
        return -1;
    }

    if (nf == 4) {
        *sign_line = lineno;
        ring->sign = ring->nkeys;
    }

    ring->nkeys++;

    return 0;
}


static size_t
dgj_token_b64_encode(const unsigned char *in, size_t len, char *out)
{
    char          *p;
    uint32_t       v;
    const uint8_t *s, *end;

    p = out;
    end = in + len;

    for (s = in; end - s >= 3; s += 3) {
        v = (uint32_t) s[0] << 16 | (uint32_t) s[1] << 8 | s[2];
        *p++ = dgj_token_b64_chars[v >> 18 & 63];
        *p++ = dgj_token_b64_chars[v >> 12 & 63];
        *p++ = dgj_token_b64_chars[v >> 6 & 63];
        *p++ = dgj_token_b64_chars[v & 63];
    }

    if (end - s == 1) {
        v = (uint32_t) s[0] << 16;
        *p++ = dgj_token_b64_chars[v >> 18 & 63];
        *p++ = dgj_token_b64_chars[v >> 12 & 63];

    } else if (end - s == 2) {
        v = (uint32_t) s[0] << 16 | (uint32_t) s[1] << 8;
        *p++ = dgj_token_b64_chars[v >> 18 & 63];
        *p++ = dgj_token_b64_chars[v >> 12 & 63];
        *p++ = dgj_token_b64_chars[v >> 6 & 63];
    }

    return p - out;
}


/* base64url value of each byte, 64 where the byte is not one */
static const unsigned char  dgj_token_b64_dec[256] = {
#define X64  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
    X64, X64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
    64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
    X64, X64, X64, X64, X64, X64, X64, X64
#undef X64
};


/*
 * Strict base64url: no padding, only the 64 characters, and the unused
 * low bits of the last character zero (one encoding per byte string).
 */
static int
dgj_token_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t outsz, size_t *outlen)
{
    size_t                i, n, rest;
    uint32_t              v, bad;
    const unsigned char  *p, *d;

    rest = len % 4;

    if (rest == 1 || len / 4 * 3 + (rest ? rest - 1 : 0) > outsz) {
        return -1;
    }

    p = (const unsigned char *) in;
    d = dgj_token_b64_dec;
    n = 0;
    bad = 0;

    /* every value is below 64, the "not one" mark is 64: or-ing them
     * all tells whether any byte was foreign, without a branch a byte */
    for (i = 0; i + 4 <= len; i += 4) {
        v = (uint32_t) d[p[i]] << 18 | (uint32_t) d[p[i + 1]] << 12
            | (uint32_t) d[p[i + 2]] << 6 | (uint32_t) d[p[i + 3]];
        bad |= d[p[i]] | d[p[i + 1]] | d[p[i + 2]] | d[p[i + 3]];

        out[n++] = (unsigned char) (v >> 16);
        out[n++] = (unsigned char) (v >> 8);
        out[n++] = (unsigned char) v;
    }

    if (rest == 2) {
        bad |= d[p[i]] | d[p[i + 1]];
        if (bad & 64 || d[p[i + 1]] & 0x0f) {
            return -1;
        }
        out[n++] = (unsigned char) (d[p[i]] << 2 | d[p[i + 1]] >> 4);

    } else if (rest == 3) {
        bad |= d[p[i]] | d[p[i + 1]] | d[p[i + 2]];
        if (bad & 64 || d[p[i + 2]] & 0x03) {
            return -1;
        }
        out[n++] = (unsigned char) (d[p[i]] << 2 | d[p[i + 1]] >> 4);
        out[n++] = (unsigned char) (d[p[i + 1]] << 4 | d[p[i + 2]] >> 2);
    }

    if (bad & 64) {
        return -1;
    }

    *outlen = n;

    return 0;
}


/* decimal, no sign, no leading zero (but "0"), no overflow */
static int
dgj_token_parse_u64(const char *p, size_t len, uint64_t *v)
{
    size_t    i;
    uint64_t  n;

    if (len == 0 || len > 20 || (len > 1 && p[0] == '0')) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        if (n > (UINT64_MAX - (uint64_t) (p[i] - '0')) / 10) {
            return -1;
        }

        n = n * 10 + (uint64_t) (p[i] - '0');
    }

    *v = n;

    return 0;
}


static int
dgj_token_parse_payload(const char *p, size_t len, dgj_token_claims_t *c)
{
    size_t       i, n, flen[8];
    uint64_t     iat, exp, level;
    const char  *f[8], *last, *bar;

    last = p + len;

    for (n = 0; n < 8; n++) {
        bar = memchr(p, '|', last - p);

        if (n < 7 && bar == NULL) {
            return -1;
        }

        if (n == 7) {
            if (bar != NULL) {
                return -1;
            }
            bar = last;
        }

        f[n] = p;
        flen[n] = bar - p;
        p = bar + 1;
    }

    memset(c, 0, sizeof(dgj_token_claims_t));

    if (flen[0] != 1 || f[0][0] != '1') {
        return -1;
    }

    if (dgj_token_parse_u64(f[1], flen[1], &c->user_id) != 0
        || dgj_token_parse_u64(f[3], flen[3], &c->dept_id) != 0
        || dgj_token_parse_u64(f[5], flen[5], &iat) != 0
        || dgj_token_parse_u64(f[6], flen[6], &exp) != 0
        || dgj_token_parse_u64(f[7], flen[7], &level) != 0)
    {
        return -1;
    }

    if (iat > INT64_MAX || exp > INT64_MAX || exp <= iat
        || (level != 1 && level != 2))
    {
        return -1;
    }

    if (flen[2] > DGJ_TOKEN_ROLES_MAX
        || !dgj_token_roles_are_valid(f[2], flen[2]))
    {
        return -1;
    }

    if (!dgj_token_session_parse(f[4], flen[4], NULL)) {
        return -1;
    }

    for (i = 0; i < flen[2]; i++) {
        c->roles[i] = f[2][i];
    }

    c->roles_len = flen[2];
    memcpy(c->session, f[4], flen[4]);
    c->iat = (int64_t) iat;
    c->exp = (int64_t) exp;
    c->level = (unsigned) level;

    return 0;
}


static int
dgj_token_kid_is_valid(const char *kid, size_t len)
{
    size_t  i;
    int     ch;

    if (len == 0 || len > DGJ_TOKEN_KID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = (unsigned char) kid[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* "a,b_c": names of [a-z_], separated by single commas; "" allowed */
static int
dgj_token_roles_are_valid(const char *roles, size_t len)
{
    size_t  i, run;

    run = 0;

    for (i = 0; i < len; i++) {
        if (roles[i] == ',') {
            if (run == 0) {
                return 0;
            }
            run = 0;
            continue;
        }

        if (!((roles[i] >= 'a' && roles[i] <= 'z') || roles[i] == '_')) {
            return 0;
        }

        run++;
    }

    return len == 0 || run > 0;
}


static int
dgj_token_hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}
