
/*
 * Copyright (C) Daguanjia
 *
 * dgj_ids.h: Chinese identifiers: the unified social credit code of
 * organisations (GB 32100-2015) with its embedded organisation code
 * (GB 11714-1997), mainland mobile numbers, resident identity numbers
 * (GB 11643-1999, ISO 7064 MOD 11-2), and the masks used to show them,
 * names and e-mail addresses (PIPL art. 51: de-identify what is shown).
 * Pure functions.
 */


#ifndef DGJ_IDS_H
#define DGJ_IDS_H


#include "dgj_core.h"
#include "dgj_pool.h"

#include <time.h>


#define DGJ_IDS_USCC_LEN     18
#define DGJ_IDS_PHONE_LEN    11
#define DGJ_IDS_RESIDENT_LEN 18


/*
 * 1 when s is a valid unified social credit code as stored: 18
 * characters of 0-9 A-H J-N P-R T U W-Y (upper case), the registration
 * authority (character 1) one of 1-9 A N Y, characters 3..8 a
 * digit division code, the check character 18 right (weights 3^i mod
 * 31, mod 31) and the organisation code in characters 9..17 valid
 * (GB 11714: weights 3 7 9 10 5 8 4 2, mod 11, X for 10).  Else 0.
 */
int dgj_ids_uscc_valid(const char *s);

/*
 * 1 when s[0..9) is a valid GB 11714 organisation code (8 characters of
 * 0-9 A-Z and its check character 0-9 or X).  s need not end there.
 */
int dgj_ids_orgcode_valid(const char *s);

/*
 * The canonical form of a typed code: blanks and '-' dropped, letters
 * upper-cased, into out (DGJ_IDS_USCC_LEN + 1 bytes).  Returns 0 when
 * the result is valid, else -1 (out unspecified).
 */
int dgj_ids_uscc_normalize(const char *in, char *out);

/*
 * The 11-digit form of a mainland mobile number: blanks and '-'
 * dropped, an optional +86, 0086 or 86 prefix removed, then 1[3-9] and
 * 9 digits.  out holds DGJ_IDS_PHONE_LEN + 1 bytes.  0 or -1.
 */
int dgj_ids_phone_normalize(const char *in, char *out);

/*
 * The canonical form of a resident identity number into out
 * (DGJ_IDS_RESIDENT_LEN + 1 bytes): blanks dropped, a final 'x'
 * upper-cased; valid when 17 digits and a check character (ISO 7064
 * MOD 11-2, "10X98765432"), a known province code (11..82, 83 for
 * Taiwan residence permits), and a birth date that exists, is not
 * before 1900-01-01 and not after the date of now (UTC+8).  0 or -1.
 */
int dgj_ids_resident_normalize(const char *in, time_t now, char *out);

/* 1 when s is a resident identity number in canonical form, else 0. */
int dgj_ids_resident_valid(const char *s, time_t now);

/*
 * Masks for display, owned by pool (NULL when out of memory):
 *
 *   phone:  13800138000 -> 138****8000 (first 3 and last 4 kept; input
 *           shorter than 8 bytes becomes "****")
 *   id:     first 6 and last 4 kept, every other byte '*' (domain.md):
 *           441900199003071238 -> 441900********1238 (shorter than 11
 *           bytes: "****")
 *   name:   first character kept, each other character '*' (UTF-8
 *           aware): 张三 -> 张*, 王小明 -> 王**; a common two-character
 *           surname is kept when the name is longer: 欧阳娜娜 -> 欧阳**;
 *           a one-character name becomes "*"
 *   email:  first character of the local part kept: zhang@dg.gov.cn ->
 *           z***@dg.gov.cn; no '@' (or nothing before it) -> "***"
 */
char *dgj_ids_mask_phone(dgj_pool_t *pool, const char *phone);
char *dgj_ids_mask_id(dgj_pool_t *pool, const char *id);
char *dgj_ids_mask_name(dgj_pool_t *pool, const char *name);
char *dgj_ids_mask_email(dgj_pool_t *pool, const char *email);


#endif /* DGJ_IDS_H */
