
/*
 * Copyright (C) Daguanjia
 *
 * dgj_digits.h: unsigned numbers written as decimal digits, without
 * snprintf, for the per-request paths that print them: the audit record's
 * head and time (dgj_audit_chain.c, in nginx and in the tools), the
 * workers' JSON integers (dgj_json_write.c) and date columns (dgj_db.c).
 * nginx-free, like dgj_token.h, so that both sides include it.
 */


#ifndef DGJ_DIGITS_H
#define DGJ_DIGITS_H


#include <stddef.h>
#include <stdint.h>


/* v in exactly width digits, zero-padded (higher digits dropped); returns
 * the end */
static inline char *
dgj_digits(char *p, unsigned v, int width)
{
    int  i;

    for (i = width - 1; i >= 0; i--) {
        p[i] = (char) ('0' + v % 10);
        v /= 10;
    }

    return p + width;
}


/* v in decimal, no padding (at most 20 digits); returns the end */
static inline char *
dgj_u64(char *p, uint64_t v)
{
    char    tmp[20];
    size_t  n;

    n = 0;

    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v != 0);

    while (n > 0) {
        *p++ = tmp[--n];
    }

    return p;
}


#endif /* DGJ_DIGITS_H */
