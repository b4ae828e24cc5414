
/*
 * Copyright (C) Daguanjia
 *
 * dgj_password.h: password hashing (Argon2id, libargon2) and the
 * password policy: MLPS level 3 rules for staff, a lighter rule for
 * organisations and citizens, the common-password list
 * (dgj_password_common.c) and the reuse check against old hashes.  Pure
 * functions: the caller stores hashes and decides what to audit.
 * docs/security.md#passwords
 */


#ifndef DGJ_PASSWORD_H
#define DGJ_PASSWORD_H


#include "dgj_core.h"


#define DGJ_PASSWORD_SALT_LEN   16      /* bytes */
#define DGJ_PASSWORD_TAG_LEN    32      /* bytes */
#define DGJ_PASSWORD_ENCODED    128     /* buffer for an encoded hash */
#define DGJ_PASSWORD_HISTORY    5       /* old hashes a new one is held to */
#define DGJ_PASSWORD_MAX_BYTES  128     /* longer is refused (ASVS 2.1.2) */
#define DGJ_PASSWORD_MAX_M_KIB  1048576 /* 1 GiB: larger stored m refused */

/* production default (dgj_conf argon2_m_kib, argon2_t): 64 MiB, 3 passes */
#define DGJ_PASSWORD_M_KIB      65536
#define DGJ_PASSWORD_T          3


typedef struct {
    uint32_t  m_kib;        /* memory, KiB (>= 8 * p) */
    uint32_t  t;            /* passes, >= 1 */
    uint32_t  p;            /* lanes; 1 (one thread per worker) */
} dgj_password_params_t;


typedef enum {
    DGJ_PASSWORD_STAFF = 0, /* MLPS level 3: 12 chars, 3 classes, ... */
    DGJ_PASSWORD_BASIC      /* organisations, citizens: 10 chars, 2 classes */
} dgj_password_policy_t;


/*
 * Policy failures, one bit each, so a form can list every broken rule.
 * dgj_password_first() picks the one to report first (lowest bit).
 */
#define DGJ_PASSWORD_TOO_SHORT      0x0001  /* password_too_short */
#define DGJ_PASSWORD_TOO_LONG       0x0002  /* password_too_long */
#define DGJ_PASSWORD_INVALID_CHARS  0x0004  /* password_invalid_chars */
#define DGJ_PASSWORD_FEW_CLASSES    0x0008  /* password_too_simple */
#define DGJ_PASSWORD_HAS_USERNAME   0x0010  /* password_contains_username */
#define DGJ_PASSWORD_REPEATED       0x0020  /* password_repeated_chars */
#define DGJ_PASSWORD_SEQUENCE       0x0040  /* password_sequence */
#define DGJ_PASSWORD_KEYBOARD       0x0080  /* password_keyboard_pattern */
#define DGJ_PASSWORD_COMMON         0x0100  /* password_common */
#define DGJ_PASSWORD_REUSED         0x0200  /* password_reused (history) */


/*
 * Hashes pw with Argon2id, params (NULL: the defaults above) and a fresh
 * 16-byte salt from RAND_bytes into out (size bytes, at least
 * DGJ_PASSWORD_ENCODED) as "$argon2id$v=19$m=..,t=..,p=..$salt$tag".
 * Returns 0, or -1 (bad params, no memory, no randomness; out is then
 * "").
 */
int dgj_password_hash(const dgj_password_params_t *params, const char *pw,
    char *out, size_t size);

/*
 * Checks pw against an encoded Argon2id hash.  Returns 1 on a match, 0 on
 * a mismatch, -1 when encoded is not an Argon2id v19 hash we accept
 * (other type, m above DGJ_PASSWORD_MAX_M_KIB, garbage) or hashing
 * failed (no memory).  Takes the time of one hash at encoded's own cost.
 */
int dgj_password_verify(const char *encoded, const char *pw);

/*
 * 1 when encoded was made with other parameters than params (m, t, p,
 * salt or tag length, version) or cannot be parsed, so the caller should
 * store a fresh dgj_password_hash() after a successful verify; else 0.
 */
int dgj_password_needs_rehash(const char *encoded,
    const dgj_password_params_t *params);

/*
 * Spends the time of a verify at params for an unknown user, so the
 * answer time does not tell whether the account exists (same error,
 * same time).  The first call per params hashes a random password once
 * (kept in static storage), so that call costs two hashes.
 */
void dgj_password_verify_dummy(const dgj_password_params_t *params,
    const char *pw);

/*
 * 1 when pw matches one of the first DGJ_PASSWORD_HISTORY entries of
 * old_hashes (n entries, NULL or malformed entries skipped), else 0.
 * Costs one hash per entry checked.
 */
int dgj_password_reused(const char *pw, const char *const *old_hashes,
    size_t n);

/*
 * Checks pw against policy; username (NULL or "" for none) must not
 * appear in it, forwards or reversed, ignoring case (usernames shorter
 * than 3 characters are not looked for).  Returns 0 when acceptable,
 * else the DGJ_PASSWORD_* bits of every broken rule.
 *
 *   staff:  >= 12 characters (UTF-8 code points), >= 3 of upper, lower,
 *           digit, symbol (anything else, non-ASCII included), no
 *           username, no run of 4 equal characters, no 4 ascending or
 *           descending letters or digits (abcd, 4321), no 4-key keyboard
 *           walk (qwer, asdf, 1qaz, zaq1, 1q2w), not common.
 *   basic:  >= 10 characters, >= 2 classes, not common.
 *   both:   at most DGJ_PASSWORD_MAX_BYTES bytes, valid UTF-8, no control
 *           characters.
 */
unsigned dgj_password_check(dgj_password_policy_t policy, const char *pw,
    const char *username);

/* The lowest failure bit of failures (the one to report), or 0. */
unsigned dgj_password_first(unsigned failures);

/*
 * The stable error code of one failure bit ("password_too_short");
 * "password_invalid" for 0 or an unknown bit.  Static storage.
 */
const char *dgj_password_code(unsigned failure);

/*
 * The message of one failure bit for policy, Chinese then English:
 * "密码至少需要 12 个字符。Password must be at least 12 characters
 * long."  Static storage.
 */
const char *dgj_password_message(unsigned failure,
    dgj_password_policy_t policy);

/*
 * 1 when pw is on the common-password list: checked case-insensitively
 * as typed, with leading and trailing digits and symbols stripped
 * ("Dongguan@2024" -> "dongguan"), and with common letter substitutions
 * undone ("P@ssw0rd!" -> "password").
 */
int dgj_password_is_common(const char *pw);


/* dgj_password_common.c: the list, sorted by strcmp(), lower case */
extern const char *const  dgj_password_common[];
extern const size_t       dgj_password_ncommon;


#endif /* DGJ_PASSWORD_H */
