
/*
 * Copyright (C) Daguanjia
 *
 * dgj_password.c: Argon2id hashing and verification (libargon2), the
 * dummy verify for unknown users, the history check and the password
 * policy rules with their codes and messages.  The only state is the
 * dummy hash of dgj_password_verify_dummy().
 */


#include "dgj_core.h"
#include "dgj_password.h"
#include "dgj_req.h"

#include <argon2.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>


#define DGJ_PASSWORD_WORK  (DGJ_PASSWORD_MAX_BYTES + 1)


typedef struct {
    unsigned     bit;
    const char  *code;
    const char  *staff;
    const char  *basic;     /* NULL: the staff message */
} dgj_password_rule_t;


static int dgj_password_parse(const char *encoded,
    dgj_password_params_t *params, size_t *salt_len, size_t *tag_len);
static int dgj_password_parse_uint(const char **p, const char *name,
    uint32_t *out);
static size_t dgj_password_b64_len(const char **p);
static int dgj_password_params_ok(const dgj_password_params_t *p);
static int dgj_password_has_username(const char *lower, size_t len,
    const char *username);
static int dgj_password_has_run(const char *lower, size_t len);
static int dgj_password_has_sequence(const char *lower, size_t len);
static int dgj_password_has_keyboard(const char *lower, size_t len);
static int dgj_password_listed(const char *s, size_t len);


static const dgj_password_params_t  dgj_password_defaults = {
    DGJ_PASSWORD_M_KIB, DGJ_PASSWORD_T, 1
};


static const dgj_password_rule_t  dgj_password_rules[] = {

    { DGJ_PASSWORD_TOO_SHORT, "password_too_short",
      "密码至少需要 12 个字符。"
      "Password must be at least 12 characters long.",
      "密码至少需要 10 个字符。"
      "Password must be at least 10 characters long." },

    { DGJ_PASSWORD_TOO_LONG, "password_too_long",
      "密码不能超过 128 个字节。"
      "Password must not be longer than 128 bytes.", NULL },

    { DGJ_PASSWORD_INVALID_CHARS, "password_invalid_chars",
      "密码含有不允许的字符（控制字符或无效编码）。"
      "Password contains characters that are not allowed "
      "(control characters or invalid UTF-8).", NULL },

    { DGJ_PASSWORD_FEW_CLASSES, "password_too_simple",
      "密码需包含大写字母、小写字母、"
      "数字、符号中的至少三类。"
      "Password must mix at least three of: upper-case letters, "
      "lower-case letters, digits, symbols.",
      "密码需包含大写字母、小写字母、"
      "数字、符号中的至少两类。"
      "Password must mix at least two of: upper-case letters, "
      "lower-case letters, digits, symbols." },

    { DGJ_PASSWORD_HAS_USERNAME, "password_contains_username",
      "密码不能包含用户名（含倒序）。"
      "Password must not contain the user name, forwards or backwards.",
      NULL },

    { DGJ_PASSWORD_REPEATED, "password_repeated_chars",
      "密码不能包含 4 个或以上连续相同的字符。"
      "Password must not repeat a character 4 or more times in a row.",
      NULL },

    { DGJ_PASSWORD_SEQUENCE, "password_sequence",
      "密码不能包含 4 个或以上连续递增或递减的"
      "字母或数字（如 abcd、4321）。"
      "Password must not contain 4 or more consecutive letters or "
      "digits (such as abcd or 4321).", NULL },

    { DGJ_PASSWORD_KEYBOARD, "password_keyboard_pattern",
      "密码不能包含键盘上连续排列的按键"
      "（如 qwer、asdf、1qaz）。"
      "Password must not contain a run of adjacent keys "
      "(such as qwer, asdf or 1qaz).", NULL },

    { DGJ_PASSWORD_COMMON, "password_common",
      "密码过于常见，容易被猜到，请换一个。"
      "Password is too common and easy to guess; choose another.", NULL },

    { DGJ_PASSWORD_REUSED, "password_reused",
      "新密码不能与最近 5 次使用过的密码相同。"
      "New password must differ from the last 5 passwords.", NULL }
};


/*
 * Keyboard walks, lower case, looked for forwards and backwards: rows
 * (plain and shifted), columns down and up, and the zigzags people use.
 */
static const char *const  dgj_password_keyboard_walks[] = {
    "`1234567890-=",
    "~!@#$%^&*()_+",
    "qwertyuiop[]\\",
    "qwertyuiop{}|",
    "asdfghjkl;'",
    "asdfghjkl:\"",
    "zxcvbnm,./",
    "zxcvbnm<>?",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "!qaz@wsx#edc$rfv%tgb^yhn&ujm*ik<(ol>)p:?",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "qawsedrftgyhujikolp;",
    "azsxdcfvgbhnjmk,l.;/",
    "7894561230",
    "1472583690",
    "3692581470",
    "1593574862"
};


int
dgj_password_hash(const dgj_password_params_t *params, const char *pw,
    char *out, size_t size)
{
    int            rc;
    unsigned char  salt[DGJ_PASSWORD_SALT_LEN];

    if (params == NULL) {
        params = &dgj_password_defaults;
    }

    if (size > 0) {
        out[0] = '\0';
    }

    if (!dgj_password_params_ok(params) || size < DGJ_PASSWORD_ENCODED
        || RAND_bytes(salt, sizeof(salt)) != 1)
    {
        return -1;
    }

    rc = argon2id_hash_encoded(params->t, params->m_kib, params->p, pw,
                               strlen(pw), salt, sizeof(salt),
                               DGJ_PASSWORD_TAG_LEN, out, size);

    OPENSSL_cleanse(salt, sizeof(salt));

    if (rc != ARGON2_OK) {
        out[0] = '\0';
        return -1;
    }

    return 0;
}


int
dgj_password_verify(const char *encoded, const char *pw)
{
    int                    rc;
    size_t                 salt_len, tag_len;
    dgj_password_params_t  p;

    if (encoded == NULL
        || dgj_password_parse(encoded, &p, &salt_len, &tag_len) != 0
        || p.m_kib > DGJ_PASSWORD_MAX_M_KIB)
    {
        return -1;
    }

    rc = argon2id_verify(encoded, pw, strlen(pw));

    if (rc == ARGON2_OK) {
        return 1;
    }

    if (rc == ARGON2_VERIFY_MISMATCH) {
        return 0;
    }

    return -1;
}


int
dgj_password_needs_rehash(const char *encoded,
    const dgj_password_params_t *params)
{
    size_t                 salt_len, tag_len;
    dgj_password_params_t  p;

    if (params == NULL) {
        params = &dgj_password_defaults;
    }

    if (encoded == NULL
        || dgj_password_parse(encoded, &p, &salt_len, &tag_len) != 0)
    {
        return 1;
    }

    return p.m_kib != params->m_kib || p.t != params->t || p.p != params->p
           || salt_len != DGJ_PASSWORD_SALT_LEN
           || tag_len != DGJ_PASSWORD_TAG_LEN;
}


void
dgj_password_verify_dummy(const dgj_password_params_t *params,
    const char *pw)
{
    unsigned char  junk[DGJ_PASSWORD_SALT_LEN];
    char           random_pw[DGJ_PASSWORD_SALT_LEN * 2 + 1];
    size_t         i;

    /* process-wide: the cost of a verify, not request data */
    static char                   dummy[DGJ_PASSWORD_ENCODED];
    static dgj_password_params_t  dummy_params;

    if (params == NULL) {
        params = &dgj_password_defaults;
    }

    if (dummy[0] == '\0'
        || memcmp(&dummy_params, params, sizeof(dummy_params)) != 0)
    {
        if (RAND_bytes(junk, sizeof(junk)) != 1) {
            memset(junk, 0x5a, sizeof(junk));
        }

        for (i = 0; i < sizeof(junk); i++) {
            snprintf(random_pw + i * 2, 3, "%02x", junk[i]);
        }

        if (dgj_password_hash(params, random_pw, dummy, sizeof(dummy))
            != 0)
        {
            return;
        }

        dummy_params = *params;
    }

    (void) dgj_password_verify(dummy, pw);
}


int
dgj_password_reused(const char *pw, const char *const *old_hashes, size_t n)
{
    int     reused;
    size_t  i;

    reused = 0;

    if (n > DGJ_PASSWORD_HISTORY) {
        n = DGJ_PASSWORD_HISTORY;
    }

    for (i = 0; i < n; i++) {
        if (old_hashes[i] != NULL
            && dgj_password_verify(old_hashes[i], pw) == 1)
        {
            reused = 1;
        }
    }

    return reused;
}


unsigned
dgj_password_check(dgj_password_policy_t policy, const char *pw,
    const char *username)
{
    int                   upper, lower, digit, symbol, classes;
    char                  low[DGJ_PASSWORD_WORK];
    size_t                len, i, k, chars;
    unsigned              bad;
    const unsigned char  *p;

    bad = 0;
    len = strlen(pw);

    if (len > DGJ_PASSWORD_MAX_BYTES) {
        return DGJ_PASSWORD_TOO_LONG;
    }

    upper = 0;
    lower = 0;
    digit = 0;
    symbol = 0;
    chars = 0;
    p = (const unsigned char *) pw;

    for (i = 0; i < len; i += k) {
        k = dgj_req_utf8_len(p + i, len - i);

        if (k == 0 || p[i] < 0x20 || p[i] == 0x7f) {
            bad |= DGJ_PASSWORD_INVALID_CHARS;
            k = 1;
            continue;
        }

        chars++;

        if (p[i] >= 'A' && p[i] <= 'Z') {
            upper = 1;

        } else if (p[i] >= 'a' && p[i] <= 'z') {
            lower = 1;

        } else if (p[i] >= '0' && p[i] <= '9') {
            digit = 1;

        } else {
            symbol = 1;
        }
    }

    classes = upper + lower + digit + symbol;

    if (chars < (policy == DGJ_PASSWORD_STAFF ? 12u : 10u)) {
        bad |= DGJ_PASSWORD_TOO_SHORT;
    }

    if (classes < (policy == DGJ_PASSWORD_STAFF ? 3 : 2)) {
        bad |= DGJ_PASSWORD_FEW_CLASSES;
    }

    for (i = 0; i < len; i++) {
        low[i] = (char) tolower((unsigned char) pw[i]);
    }

    low[len] = '\0';

    if (policy == DGJ_PASSWORD_STAFF) {

        if (dgj_password_has_username(low, len, username)) {
            bad |= DGJ_PASSWORD_HAS_USERNAME;
        }

        if (dgj_password_has_run(low, len)) {
            bad |= DGJ_PASSWORD_REPEATED;
        }

        if (dgj_password_has_sequence(low, len)) {
            bad |= DGJ_PASSWORD_SEQUENCE;
        }

        if (dgj_password_has_keyboard(low, len)) {
            bad |= DGJ_PASSWORD_KEYBOARD;
        }
    }

    if (dgj_password_is_common(pw)) {
        bad |= DGJ_PASSWORD_COMMON;
    }

    OPENSSL_cleanse(low, sizeof(low));

    return bad;
}


unsigned
dgj_password_first(unsigned failures)
{
    return failures & (~failures + 1);
}


const char *
dgj_password_code(unsigned failure)
{
    size_t  i;

    for (i = 0; i < dgj_countof(dgj_password_rules); i++) {
        if (dgj_password_rules[i].bit == failure) {
            return dgj_password_rules[i].code;
        }
    }

    return "password_invalid";
}


const char *
dgj_password_message(unsigned failure, dgj_password_policy_t policy)
{
    size_t                      i;
    const dgj_password_rule_t  *rule;

    for (i = 0; i < dgj_countof(dgj_password_rules); i++) {
        rule = &dgj_password_rules[i];

        if (rule->bit == failure) {
            return (policy == DGJ_PASSWORD_BASIC && rule->basic != NULL)
                   ? rule->basic : rule->staff;
        }
    }

    return "密码不符合要求。Password does not meet the requirements.";
}


int
dgj_password_is_common(const char *pw)
{
    int     common;
    char    low[DGJ_PASSWORD_WORK], leet[DGJ_PASSWORD_WORK];
    size_t  len, i, start, end;

    len = strlen(pw);
    if (len > DGJ_PASSWORD_MAX_BYTES) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        low[i] = (char) tolower((unsigned char) pw[i]);

        /* the substitutions people make: p@ssw0rd, pa$$w0rd, 1l0v3y0u */
        switch (low[i]) {
        case '@':
        case '4':
            leet[i] = 'a';
            break;
        case '0':
            leet[i] = 'o';
            break;
        case '1':
        case '!':
            leet[i] = 'i';
            break;
        case '3':
            leet[i] = 'e';
            break;
        case '$':
        case '5':
            leet[i] = 's';
            break;
        case '7':
            leet[i] = 't';
            break;
        default:
            leet[i] = low[i];
        }
    }

    low[len] = '\0';
    leet[len] = '\0';

    /* the word inside: leading and trailing digits and symbols dropped */
    for (start = 0; start < len && !isalpha((unsigned char) low[start]);
         start++)
    {
        /* void */
    }

    for (end = len; end > start && !isalpha((unsigned char) low[end - 1]);
         end--)
    {
        /* void */
    }

    common = dgj_password_listed(low, len)
             || dgj_password_listed(leet, len)
             || (end > start
                 && (dgj_password_listed(low + start, end - start)
                     || dgj_password_listed(leet + start, end - start)));

    OPENSSL_cleanse(low, sizeof(low));
    OPENSSL_cleanse(leet, sizeof(leet));

    return common;
}


/*
 * Parses "$argon2id$v=19$m=M,t=T,p=P$<salt>$<tag>" (unpadded base64):
 * 0 and the parameters and decoded lengths, or -1.
 */
static int
dgj_password_parse(const char *encoded, dgj_password_params_t *params,
    size_t *salt_len, size_t *tag_len)
{
    size_t       n;
    uint32_t     v;
    const char  *p;

    static const char  prefix[] = "$argon2id$";

    if (strncmp(encoded, prefix, sizeof(prefix) - 1) != 0) {
        return -1;
    }

    p = encoded + sizeof(prefix) - 1;

    if (dgj_password_parse_uint(&p, "v=", &v) != 0
        || v != ARGON2_VERSION_13 || *p++ != '$'
        || dgj_password_parse_uint(&p, "m=", &params->m_kib) != 0
        || *p++ != ','
        || dgj_password_parse_uint(&p, "t=", &params->t) != 0
        || *p++ != ','
        || dgj_password_parse_uint(&p, "p=", &params->p) != 0
        || *p++ != '$')
    {
        return -1;
    }

    n = dgj_password_b64_len(&p);
    if (n == 0 || *p++ != '$') {
        return -1;
    }

    *salt_len = n * 3 / 4;

    n = dgj_password_b64_len(&p);
    if (n == 0 || *p != '\0') {
        return -1;
    }

    *tag_len = n * 3 / 4;

    return 0;
}


static int
dgj_password_parse_uint(const char **p, const char *name, uint32_t *out)
{
    uint64_t     v;
    const char  *s;

    s = *p;

    if (strncmp(s, name, 2) != 0) {
        return -1;
    }

    s += 2;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    for (v = 0; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t) (*s - '0');
        if (v > UINT32_MAX) {
            return -1;
        }
    }

    *out = (uint32_t) v;
    *p = s;

    return 0;
}


/* characters of unpadded base64 at *p, which is moved past them */
static size_t
dgj_password_b64_len(const char **p)
{
    size_t       n;
    const char  *s;

    for (s = *p; isalnum((unsigned char) *s) || *s == '+' || *s == '/';
         s++)
    {
        /* void */
    }

    n = (size_t) (s - *p);
    *p = s;

    return n;
}


static int
dgj_password_params_ok(const dgj_password_params_t *p)
{
    return p->t >= 1 && p->p >= 1 && p->p <= 16
           && p->m_kib >= 8 * p->p && p->m_kib <= DGJ_PASSWORD_MAX_M_KIB;
}


static int
dgj_password_has_username(const char *lower, size_t len,
    const char *username)
{
    char    name[DGJ_PASSWORD_WORK], rev[DGJ_PASSWORD_WORK];
    size_t  n, i, k, chars;

    if (username == NULL) {
        return 0;
    }

    n = strlen(username);
    if (n > len) {
        return 0;
    }

    chars = 0;

    /* reversed by characters, so a UTF-8 name stays UTF-8 */
    for (i = 0; i < n; i += k) {
        k = dgj_req_utf8_len((const unsigned char *) username + i, n - i);
        if (k == 0) {
            k = 1;
        }

        memcpy(rev + n - i - k, username + i, k);
        chars++;
    }

    if (chars < 3) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        name[i] = (char) tolower((unsigned char) username[i]);
        rev[i] = (char) tolower((unsigned char) rev[i]);
    }

    name[n] = '\0';
    rev[n] = '\0';

    return strstr(lower, name) != NULL || strstr(lower, rev) != NULL;
}


static int
dgj_password_has_run(const char *lower, size_t len)
{
    size_t  i;

    for (i = 0; i + 3 < len; i++) {
        if (lower[i] == lower[i + 1] && lower[i] == lower[i + 2]
            && lower[i] == lower[i + 3])
        {
            return 1;
        }
    }

    return 0;
}


static int
dgj_password_has_sequence(const char *lower, size_t len)
{
    int     d, j, same_kind;
    size_t  i;

    for (i = 0; i + 3 < len; i++) {

        same_kind = 1;
        for (j = 0; j < 4; j++) {
            same_kind &= (lower[i] >= 'a' && lower[i] <= 'z'
                          && lower[i + j] >= 'a' && lower[i + j] <= 'z')
                         || (lower[i] >= '0' && lower[i] <= '9'
                             && lower[i + j] >= '0' && lower[i + j] <= '9');
        }

        if (!same_kind) {
            continue;
        }

        d = lower[i + 1] - lower[i];
        if (d != 1 && d != -1) {
            continue;
        }

        if (lower[i + 2] - lower[i + 1] == d
            && lower[i + 3] - lower[i + 2] == d)
        {
            return 1;
        }
    }

    return 0;
}


static int
dgj_password_has_keyboard(const char *lower, size_t len)
{
    char         fwd[5], back[5];
    size_t       i, w;
    const char  *walk;

    fwd[4] = '\0';
    back[4] = '\0';

    for (i = 0; i + 3 < len; i++) {
        memcpy(fwd, lower + i, 4);
        back[0] = fwd[3];
        back[1] = fwd[2];
        back[2] = fwd[1];
        back[3] = fwd[0];

        for (w = 0; w < dgj_countof(dgj_password_keyboard_walks); w++) {
            walk = dgj_password_keyboard_walks[w];

            if (strstr(walk, fwd) != NULL || strstr(walk, back) != NULL) {
                return 1;
            }
        }
    }

    return 0;
}


/* binary search of s[0..len) in the sorted list */
static int
dgj_password_listed(const char *s, size_t len)
{
    int     c;
    char    key[DGJ_PASSWORD_WORK];
    size_t  lo, hi, mid;

    memcpy(key, s, len);
    key[len] = '\0';

    lo = 0;
    hi = dgj_password_ncommon;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(key, dgj_password_common[mid]);

        if (c == 0) {
            OPENSSL_cleanse(key, sizeof(key));
            return 1;
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    OPENSSL_cleanse(key, sizeof(key));

    return 0;
}
