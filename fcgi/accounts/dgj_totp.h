
/*
 * Copyright (C) Daguanjia
 *
 * dgj_totp.h: time-based one-time passwords (RFC 6238 over the RFC 4226
 * HOTP truncation, HMAC-SHA1), the base32 text form of their secrets
 * (RFC 4648) and the otpauth:// URI that authenticator apps scan.  Pure
 * functions: no request, no database; the caller stores the secret and
 * the last accepted time step (replay refusal, ASVS 2.8.4).
 */


#ifndef DGJ_TOTP_H
#define DGJ_TOTP_H


#include "dgj_core.h"
#include "dgj_pool.h"

#include <time.h>


#define DGJ_TOTP_SECRET_LEN   20        /* bytes: 160 bits, RFC 4226 */
#define DGJ_TOTP_DIGITS       6
#define DGJ_TOTP_STEP         30        /* seconds */
#define DGJ_TOTP_WINDOW       1         /* steps either side accepted */
#define DGJ_TOTP_MAX_DIGITS   9
#define DGJ_TOTP_ISSUER       "\xe6\xb0\x91\xe7\x94\x9f\xe5\xa4\xa7" \
                              "\xe8\x8e\x9e\xe5\xae\xb6"   /* 民生大莞家 */

/* base32 text of n bytes, without padding or NUL */
#define dgj_base32_len(n)     (((n) * 8 + 4) / 5)


typedef enum {
    DGJ_TOTP_OK = 0,
    DGJ_TOTP_MISMATCH,      /* no step in the window has this code */
    DGJ_TOTP_REPLAY,        /* matched a step already used (<= last_step) */
    DGJ_TOTP_MALFORMED      /* not exactly digits ASCII digits, bad args */
} dgj_totp_rc_t;


typedef struct {
    unsigned  digits;       /* 6..9 (8 in the RFC 6238 vectors) */
    unsigned  step;         /* seconds per step, > 0 */
    unsigned  window;       /* steps accepted before and after now */
} dgj_totp_params_t;


/*
 * Encodes n bytes of src as upper-case base32 without padding into dst,
 * which holds at least dgj_base32_len(n) + 1 bytes.  Returns the length;
 * dst is NUL-terminated.
 */
size_t dgj_base32_encode(char *dst, const unsigned char *src, size_t n);

/*
 * Decodes base32 text src[0..len): letters of either case, '=' padding
 * only at the end, blanks and '-' ignored (people type "JBSW Y3DP").
 * Writes at most size bytes to dst.  Returns the decoded length, or -1
 * for another character, misplaced padding, trailing bits that are not
 * zero, or output longer than size.
 */
ssize_t dgj_base32_decode(unsigned char *dst, size_t size, const char *src,
    size_t len);

/*
 * Fills secret with len random bytes from the OpenSSL CSPRNG
 * (RAND_bytes).  Returns 0, or -1 when the generator failed (nothing
 * usable is left in secret).
 */
int dgj_totp_generate_secret(unsigned char *secret, size_t len);

/*
 * The HOTP value of counter (RFC 4226 5.3) as digits decimal characters
 * with leading zeros in out (digits + 1 bytes, NUL-terminated).
 * Returns 0, or -1 for digits outside 1..9 or an HMAC failure.
 */
int dgj_totp_hotp(const unsigned char *secret, size_t len, uint64_t counter,
    unsigned digits, char *out);

/*
 * The time step of now: floor(now / step); -1 for now < 0 or step 0.
 */
int64_t dgj_totp_step_of(time_t now, unsigned step);

/*
 * The code for now with params (NULL: 6 digits, 30 s) in out (digits + 1
 * bytes).  0 or -1 as dgj_totp_hotp().
 */
int dgj_totp_code(const unsigned char *secret, size_t len, time_t now,
    const dgj_totp_params_t *params, char *out);

/*
 * Checks a 6-digit code typed at now against the steps now - window ..
 * now + window (30 s each).  Every step of the window is computed and
 * compared in constant time, so the time taken does not tell which step
 * (or whether any) matched.
 *
 * Returns DGJ_TOTP_OK with *matched_step set (store it as the new
 * last_step), DGJ_TOTP_REPLAY when the code matches only steps <=
 * last_step (pass -1 when none was used yet), DGJ_TOTP_MISMATCH, or
 * DGJ_TOTP_MALFORMED for a code that is not 6 ASCII digits.  The code is
 * never logged here.
 */
dgj_totp_rc_t dgj_totp_verify(const unsigned char *secret, size_t len,
    const char *code, time_t now, unsigned window, int64_t last_step,
    int64_t *matched_step);

/* dgj_totp_verify() with explicit digits and step (window from params). */
dgj_totp_rc_t dgj_totp_verify_ex(const unsigned char *secret, size_t len,
    const char *code, time_t now, const dgj_totp_params_t *params,
    int64_t last_step, int64_t *matched_step);

/*
 * The provisioning URI for an authenticator app:
 *
 *   otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>
 *       &algorithm=SHA1&digits=6&period=30
 *
 * issuer (NULL: DGJ_TOTP_ISSUER) and account are UTF-8, percent-encoded
 * in both places (the ':' separator is literal).  Digits and period come
 * from params (NULL: the defaults).  Owned by pool; NULL when out of
 * memory.  The URI holds the secret: never log it.
 */
char *dgj_totp_uri(dgj_pool_t *pool, const char *issuer, const char *account,
    const unsigned char *secret, size_t len,
    const dgj_totp_params_t *params);


#endif /* DGJ_TOTP_H */
