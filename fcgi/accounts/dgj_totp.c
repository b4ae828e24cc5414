
/*
 * Copyright (C) Daguanjia
 *
 * dgj_totp.c: RFC 6238 TOTP with HMAC-SHA1 (OpenSSL), RFC 4648 base32
 * and the otpauth:// provisioning URI.  Owns no state.
 */


#include "dgj_core.h"
#include "dgj_req.h"
#include "dgj_totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>


static int dgj_base32_value(int c);
static int dgj_totp_params_ok(const dgj_totp_params_t *p);


static const char  dgj_base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static const dgj_totp_params_t  dgj_totp_defaults = {
    DGJ_TOTP_DIGITS, DGJ_TOTP_STEP, DGJ_TOTP_WINDOW
};

static const uint32_t  dgj_totp_pow10[DGJ_TOTP_MAX_DIGITS + 1] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
    1000000000
};


size_t
dgj_base32_encode(char *dst, const unsigned char *src, size_t n)
{
    size_t    i, len;
    unsigned  bits;
    uint32_t  acc;

    len = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < n; i++) {
        acc = (acc << 8) | src[i];
        bits += 8;

        while (bits >= 5) {
            bits -= 5;
            dst[len++] = dgj_base32_alphabet[(acc >> bits) & 0x1f];
        }
    }

    if (bits > 0) {
        dst[len++] = dgj_base32_alphabet[(acc << (5 - bits)) & 0x1f];
    }

    dst[len] = '\0';

    return len;
}


ssize_t
dgj_base32_decode(unsigned char *dst, size_t size, const char *src,
    size_t len)
{
    int       v, padded;
    size_t    i, n, chars;
    unsigned  bits;
    uint32_t  acc;

    n = 0;
    acc = 0;
    bits = 0;
    chars = 0;
    padded = 0;

    for (i = 0; i < len; i++) {

        if (src[i] == ' ' || src[i] == '-' || src[i] == '\t') {
            continue;
        }

        if (src[i] == '=') {
            padded = 1;
            continue;
        }

        v = dgj_base32_value((unsigned char) src[i]);
        if (v < 0 || padded) {
            return -1;
        }

        chars++;
        acc = (acc << 5) | (uint32_t) v;
        bits += 5;

        if (bits >= 8) {
            bits -= 8;

            if (n == size) {
                return -1;
            }

            dst[n++] = (unsigned char) (acc >> bits);
        }

        acc &= (1u << bits) - 1;
    }

    /* 1, 3 or 6 characters in the last group encode no whole byte */
    if (chars % 8 == 1 || chars % 8 == 3 || chars % 8 == 6 || acc != 0) {
        return -1;
    }

    return (ssize_t) n;
}


int
dgj_totp_generate_secret(unsigned char *secret, size_t len)
{
    if (len > INT_MAX || RAND_bytes(secret, (int) len) != 1) {
        OPENSSL_cleanse(secret, len);
        return -1;
    }

    return 0;
}


int
dgj_totp_hotp(const unsigned char *secret, size_t len, uint64_t counter,
    unsigned digits, char *out)
{
    int            i;
    unsigned       mdlen, off;
    uint32_t       bin;
    unsigned char  msg[8], md[EVP_MAX_MD_SIZE];

    if (digits < 1 || digits > DGJ_TOTP_MAX_DIGITS || len > INT_MAX) {
        return -1;
    }

    for (i = 7; i >= 0; i--) {
        msg[i] = (unsigned char) (counter & 0xff);
        counter >>= 8;
    }

    if (HMAC(EVP_sha1(), secret, (int) len, msg, sizeof(msg), md, &mdlen)
        == NULL || mdlen != 20)
    {
        return -1;
    }

    /* RFC 4226 5.3 dynamic truncation */
    off = md[mdlen - 1] & 0x0f;
    bin = ((uint32_t) (md[off] & 0x7f) << 24)
          | ((uint32_t) md[off + 1] << 16)
          | ((uint32_t) md[off + 2] << 8)
          | (uint32_t) md[off + 3];

    bin %= dgj_totp_pow10[digits];

    for (i = (int) digits - 1; i >= 0; i--) {
        out[i] = (char) ('0' + bin % 10);
        bin /= 10;
    }

    out[digits] = '\0';

    OPENSSL_cleanse(md, sizeof(md));

    return 0;
}


int64_t
dgj_totp_step_of(time_t now, unsigned step)
{
    if (now < 0 || step == 0) {
        return -1;
    }

    return (int64_t) now / step;
}


int
dgj_totp_code(const unsigned char *secret, size_t len, time_t now,
    const dgj_totp_params_t *params, char *out)
{
    int64_t  t;

    if (params == NULL) {
        params = &dgj_totp_defaults;
    }

    t = dgj_totp_step_of(now, params->step);
    if (t < 0) {
        return -1;
    }

    return dgj_totp_hotp(secret, len, (uint64_t) t, params->digits, out);
}


dgj_totp_rc_t
dgj_totp_verify(const unsigned char *secret, size_t len, const char *code,
    time_t now, unsigned window, int64_t last_step, int64_t *matched_step)
{
    dgj_totp_params_t  p;

    p = dgj_totp_defaults;
    p.window = window;

    return dgj_totp_verify_ex(secret, len, code, now, &p, last_step,
                              matched_step);
}


dgj_totp_rc_t
dgj_totp_verify_ex(const unsigned char *secret, size_t len, const char *code,
    time_t now, const dgj_totp_params_t *params, int64_t last_step,
    int64_t *matched_step)
{
    int            eq, fresh, stale;
    char           want[DGJ_TOTP_MAX_DIGITS + 1];
    size_t         i;
    int64_t        t, s, best;
    dgj_totp_rc_t  rc;

    if (params == NULL) {
        params = &dgj_totp_defaults;
    }

    if (!dgj_totp_params_ok(params) || code == NULL) {
        return DGJ_TOTP_MALFORMED;
    }

    for (i = 0; i < params->digits; i++) {
        if (code[i] < '0' || code[i] > '9') {
            return DGJ_TOTP_MALFORMED;
        }
    }

    if (code[params->digits] != '\0') {
        return DGJ_TOTP_MALFORMED;
    }

    t = dgj_totp_step_of(now, params->step);
    if (t < 0) {
        return DGJ_TOTP_MALFORMED;
    }

    /*
     * Every step of the window is computed and compared, without an
     * early exit; of the matching steps the latest fresh one is taken.
     */

    fresh = 0;
    stale = 0;
    best = -1;

    for (s = t - (int64_t) params->window;
         s <= t + (int64_t) params->window;
         s++)
    {
        if (s < 0) {
            continue;
        }

        if (dgj_totp_hotp(secret, len, (uint64_t) s, params->digits, want)
            != 0)
        {
            return DGJ_TOTP_MALFORMED;
        }

        eq = CRYPTO_memcmp(want, code, params->digits) == 0;

        if (eq && s > last_step) {
            fresh = 1;
            best = s;

        } else if (eq) {
            stale = 1;
        }
    }

    OPENSSL_cleanse(want, sizeof(want));

    if (fresh) {
        *matched_step = best;
        rc = DGJ_TOTP_OK;

    } else if (stale) {
        rc = DGJ_TOTP_REPLAY;

    } else {
        rc = DGJ_TOTP_MISMATCH;
    }

    return rc;
}


char *
dgj_totp_uri(dgj_pool_t *pool, const char *issuer, const char *account,
    const unsigned char *secret, size_t len,
    const dgj_totp_params_t *params)
{
    char  *b32, *iss, *acc, *uri;

    if (issuer == NULL) {
        issuer = DGJ_TOTP_ISSUER;
    }

    if (params == NULL) {
        params = &dgj_totp_defaults;
    }

    b32 = dgj_palloc(pool, dgj_base32_len(len) + 1);
    iss = dgj_req_escape(pool, issuer);
    acc = dgj_req_escape(pool, account);

    if (b32 == NULL || iss == NULL || acc == NULL) {
        return NULL;
    }

    dgj_base32_encode(b32, secret, len);

    uri = dgj_psprintf(pool, "otpauth://totp/%s:%s?secret=%s&issuer=%s"
                       "&algorithm=SHA1&digits=%u&period=%u",
                       iss, acc, b32, iss, params->digits, params->step);

    OPENSSL_cleanse(b32, dgj_base32_len(len));

    return uri;
}


static int
dgj_base32_value(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }

    if (c >= '2' && c <= '7') {
        return c - '2' + 26;
    }

    return -1;
}


static int
dgj_totp_params_ok(const dgj_totp_params_t *p)
{
    return p->digits >= 1 && p->digits <= DGJ_TOTP_MAX_DIGITS
           && p->step > 0 && p->window <= 10;
}
