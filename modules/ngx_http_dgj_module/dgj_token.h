
/*
 * Copyright (C) Daguanjia
 *
 * dgj_token.h: access tokens and CSRF tokens, free of nginx (libc and
 * libcrypto only), compiled into the nginx module, the FastCGI workers,
 * the dgj-token tool and the unit tests.  docs/security.md#inline-
 * authentication describes the format:
 *
 *   <kid>.<b64url(payload)>.<b64url(mac)>      (base64url, no padding)
 *   payload = 1|<user_id>|<roles>|<dept_id>|<session>|<iat>|<exp>|<level>
 *   mac     = HMAC(key of kid, "<kid>.<b64url(payload)>"), 32 bytes
 *
 * A key ring holds up to DGJ_TOKEN_KEYS_MAX keys; every key verifies, the
 * one marked "sign" mints.  Nothing here allocates except the per-key
 * MAC contexts of a ring, released by dgj_token_ring_free().
 */


#ifndef DGJ_TOKEN_H
#define DGJ_TOKEN_H


#include <stddef.h>
#include <stdint.h>


#define DGJ_TOKEN_MAX_LEN     1024  /* whole token, refused before decoding */
#define DGJ_TOKEN_KID_MAX     16
#define DGJ_TOKEN_KEYS_MAX    8
#define DGJ_TOKEN_KEY_LEN     32
#define DGJ_TOKEN_MAC_LEN     32
#define DGJ_TOKEN_ROLES_MAX   128
#define DGJ_TOKEN_SESSION_LEN 16    /* bytes; 32 lower-hex characters */
#define DGJ_TOKEN_CSRF_LEN    43    /* b64url of a 32-byte MAC */
#define DGJ_TOKEN_KEYFILE_MAX 65536


typedef enum {
    DGJ_TOKEN_OK = 0,
    DGJ_TOKEN_MISSING,          /* empty */
    DGJ_TOKEN_TOO_LONG,         /* over DGJ_TOKEN_MAX_LEN */
    DGJ_TOKEN_MALFORMED,        /* shape, base64url or payload syntax */
    DGJ_TOKEN_UNKNOWN_KEY,      /* kid not in the ring */
    DGJ_TOKEN_BAD_MAC,
    DGJ_TOKEN_EXPIRED,          /* exp <= now */
    DGJ_TOKEN_NOT_YET_VALID,    /* iat > now + leeway */
    DGJ_TOKEN_NO_SIGNING_KEY,   /* mint: the ring has no "sign" key */
    DGJ_TOKEN_BAD_CLAIMS,       /* mint: claims out of range */
    DGJ_TOKEN_CRYPTO            /* libcrypto failed (out of memory) */
} dgj_token_rc_e;


typedef enum {
    DGJ_TOKEN_HMAC_SHA256 = 0,
    DGJ_TOKEN_HMAC_SM3
} dgj_token_alg_e;


typedef struct {
    char              kid[DGJ_TOKEN_KID_MAX + 1];
    size_t            kid_len;
    dgj_token_alg_e   alg;
    unsigned char     key[DGJ_TOKEN_KEY_LEN];
    void             *mac;      /* EVP_MAC_CTX keyed once, re-initialised
                                   per use */
} dgj_token_key_t;


typedef struct {
    dgj_token_key_t   keys[DGJ_TOKEN_KEYS_MAX];
    size_t            nkeys;
    size_t            sign;     /* index of the signing key */
} dgj_token_ring_t;


typedef struct {
    uint64_t          user_id;
    uint64_t          dept_id;                  /* 0: none */
    char              roles[DGJ_TOKEN_ROLES_MAX + 1];
    size_t            roles_len;
    char              session[2 * DGJ_TOKEN_SESSION_LEN + 1];  /* hex */
    int64_t           iat;                      /* unix seconds */
    int64_t           exp;
    unsigned          level;                    /* 1 or 2 */
} dgj_token_claims_t;


/*
 * Parses key-file text (len bytes, need not be NUL-terminated) into ring:
 * lines "<kid> <alg> <64 hex> [sign]", '#' comment lines, blank lines;
 * alg is hmac-sha256 or hmac-sm3; exactly one "sign" line; at most
 * DGJ_TOKEN_KEYS_MAX keys.  Returns 0, or -1 with "line N: reason" (or
 * a reason about the whole file) in err, always NUL-terminated; the ring
 * is then empty.  On success free the ring with dgj_token_ring_free().
 */
int dgj_token_ring_parse(dgj_token_ring_t *ring, const char *text,
    size_t len, char *err, size_t errlen);

/*
 * Reads path (at most DGJ_TOKEN_KEYFILE_MAX bytes) and parses it; errors
 * are "path: reason" or "path:N: reason".  Same contract otherwise.
 */
int dgj_token_ring_load(dgj_token_ring_t *ring, const char *path,
    char *err, size_t errlen);

/* Releases the MAC contexts and wipes the key bytes.  Idempotent. */
void dgj_token_ring_free(dgj_token_ring_t *ring);

/*
 * Mints a token for claims with the ring's signing key into out (outsz
 * bytes, NUL-terminated); *outlen gets the length without the NUL.
 * DGJ_TOKEN_BAD_CLAIMS when a claim is out of range or out is too small.
 */
dgj_token_rc_e dgj_token_mint(const dgj_token_ring_t *ring,
    const dgj_token_claims_t *claims, char *out, size_t outsz,
    size_t *outlen);

/*
 * Verifies token (len bytes) against every key of the ring at time now
 * (unix seconds), allowing a clock skew of leeway seconds on iat.  The
 * MAC is checked (in constant time) before the payload is parsed; claims
 * are filled only on DGJ_TOKEN_OK, EXPIRED and NOT_YET_VALID.
 */
dgj_token_rc_e dgj_token_verify(const dgj_token_ring_t *ring,
    const char *token, size_t len, int64_t now, int64_t leeway,
    dgj_token_claims_t *claims);

/*
 * The time checks of dgj_token_verify() on claims that verified: OK,
 * EXPIRED (exp <= now) or NOT_YET_VALID (iat > now + leeway).  For a
 * caller that keeps verified claims and uses them again later.
 */
dgj_token_rc_e dgj_token_check_time(const dgj_token_claims_t *claims,
    int64_t now, int64_t leeway);

/*
 * 1 if the n bytes at a and b are equal, else 0, in time that depends on
 * n only: for a caller that compares a presented token with one it holds.
 */
int dgj_token_equal(const void *a, const void *b, size_t n);

/*
 * The CSRF token of session (32 lower-hex characters) under the signing
 * key: b64url(HMAC(key, "csrf|" session)), DGJ_TOKEN_CSRF_LEN characters
 * and a NUL into out (at least DGJ_TOKEN_CSRF_LEN + 1 bytes).
 */
dgj_token_rc_e dgj_token_csrf_make(const dgj_token_ring_t *ring,
    const char *session, char *out, size_t outsz);

/* 1 when csrf (len bytes) matches session under any key of the ring. */
int dgj_token_csrf_verify(const dgj_token_ring_t *ring, const char *session,
    const char *csrf, size_t len);

/*
 * One-off HMAC (algorithm alg, any key length) of msg into out (32
 * bytes).  0 or -1.  Exposed for known-answer tests.
 */
int dgj_token_hmac(dgj_token_alg_e alg, const unsigned char *key,
    size_t key_len, const unsigned char *msg, size_t len,
    unsigned char out[DGJ_TOKEN_MAC_LEN]);

/* 1 when s (len bytes) is 32 lower-hex characters; fills bin (16 bytes). */
int dgj_token_session_parse(const char *s, size_t len, unsigned char *bin);

/* Static, stable reason ("expired", "bad mac", ...); never token bytes. */
const char *dgj_token_strerror(dgj_token_rc_e rc);


#endif /* DGJ_TOKEN_H */
