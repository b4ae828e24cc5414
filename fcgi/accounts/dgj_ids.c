
/*
 * Copyright (C) Daguanjia
 *
 * dgj_ids.c: check characters of the unified social credit code, the
 * organisation code and the resident identity number, mobile number
 * normalisation, and display masks.  Owns no state.
 */


#include "dgj_core.h"
#include "dgj_ids.h"
#include "dgj_req.h"


static int dgj_ids_uscc_value(int c);
static int dgj_ids_digits(const char *s, size_t n);
static size_t dgj_ids_compact(const char *in, char *out, size_t size,
    const char *drop);
static char *dgj_ids_mask_ends(dgj_pool_t *pool, const char *s,
    size_t head, size_t tail);
static int dgj_ids_date_ok(const char *s, time_t now);


/* GB 32100-2015: 31 characters, no I O S V Z */
static const char  dgj_ids_uscc_chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static const int  dgj_ids_uscc_weights[17] = {
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
};

static const int  dgj_ids_org_weights[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };

static const int  dgj_ids_resident_weights[17] = {
    7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
};

/* province codes of GB/T 2260, 71 Taiwan, 81 Hong Kong, 82 Macao */
static const unsigned char  dgj_ids_provinces[] = {
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42,
    43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83
};

/* two-character surnames kept whole when masking a longer name */
static const char *const  dgj_ids_compound_surnames[] = {
    "欧阳", "司马", "诸葛", "上官", "东方", "慕容",
    "令狐", "皇甫", "尉迟", "公孙", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫",
    "西门", "呼延", "百里", "东郭", "澹台", "公冶",
    "太史", "申屠", "闻人", "钟离", "赫连", "濮阳",
    "拓跋", "司空"
};


int
dgj_ids_uscc_valid(const char *s)
{
    int     v, sum;
    size_t  i;

    /* registration authorities 1..9, A (military), N (farming), Y */
    if (strlen(s) != DGJ_IDS_USCC_LEN || strchr("123456789ANY", s[0]) == NULL
        || !dgj_ids_digits(s + 2, 6))
    {
        return 0;
    }

    sum = 0;

    for (i = 0; i < 17; i++) {
        v = dgj_ids_uscc_value((unsigned char) s[i]);
        if (v < 0) {
            return 0;
        }

        sum += v * dgj_ids_uscc_weights[i];
    }

    if (s[17] != dgj_ids_uscc_chars[(31 - sum % 31) % 31]) {
        return 0;
    }

    return dgj_ids_orgcode_valid(s + 8);
}


int
dgj_ids_orgcode_valid(const char *s)
{
    int     v, sum, c;
    size_t  i;

    sum = 0;

    for (i = 0; i < 8; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            v = s[i] - '0';

        } else if (s[i] >= 'A' && s[i] <= 'Z') {
            v = s[i] - 'A' + 10;

        } else {
            return 0;
        }

        sum += v * dgj_ids_org_weights[i];
    }

    c = (11 - sum % 11) % 11;

    return s[8] == (c == 10 ? 'X' : '0' + c);
}


int
dgj_ids_uscc_normalize(const char *in, char *out)
{
    size_t  i;

    if (dgj_ids_compact(in, out, DGJ_IDS_USCC_LEN + 1, " -\t") == 0) {
        return -1;
    }

    for (i = 0; out[i] != '\0'; i++) {
        if (out[i] >= 'a' && out[i] <= 'z') {
            out[i] = (char) (out[i] - 'a' + 'A');
        }
    }

    return dgj_ids_uscc_valid(out) ? 0 : -1;
}


int
dgj_ids_phone_normalize(const char *in, char *out)
{
    char        buf[32];
    size_t      n;
    const char  *p;

    n = dgj_ids_compact(in, buf, sizeof(buf), " -\t");
    p = buf;

    if (n == 14 && strncmp(p, "+86", 3) == 0) {
        p += 3;

    } else if (n == 15 && strncmp(p, "0086", 4) == 0) {
        p += 4;

    } else if (n == 13 && strncmp(p, "86", 2) == 0) {
        p += 2;
    }

    if (strlen(p) != DGJ_IDS_PHONE_LEN || !dgj_ids_digits(p, 11)
        || p[0] != '1' || p[1] < '3')
    {
        return -1;
    }

    memcpy(out, p, DGJ_IDS_PHONE_LEN + 1);

    return 0;
}


int
dgj_ids_resident_normalize(const char *in, time_t now, char *out)
{
    if (dgj_ids_compact(in, out, DGJ_IDS_RESIDENT_LEN + 1, " \t") == 0) {
        return -1;
    }

    if (out[17] == 'x') {
        out[17] = 'X';
    }

    return dgj_ids_resident_valid(out, now) ? 0 : -1;
}


int
dgj_ids_resident_valid(const char *s, time_t now)
{
    int     sum, province;
    size_t  i;

    if (strlen(s) != DGJ_IDS_RESIDENT_LEN || !dgj_ids_digits(s, 17)) {
        return 0;
    }

    sum = 0;

    for (i = 0; i < 17; i++) {
        sum += (s[i] - '0') * dgj_ids_resident_weights[i];
    }

    if (s[17] != "10X98765432"[sum % 11]) {
        return 0;
    }

    province = (s[0] - '0') * 10 + (s[1] - '0');

    for (i = 0; i < sizeof(dgj_ids_provinces); i++) {
        if (dgj_ids_provinces[i] == province) {
            break;
        }
    }

    if (i == sizeof(dgj_ids_provinces)) {
        return 0;
    }

    return dgj_ids_date_ok(s + 6, now);
}


char *
dgj_ids_mask_phone(dgj_pool_t *pool, const char *phone)
{
    return dgj_ids_mask_ends(pool, phone, 3, 4);
}


char *
dgj_ids_mask_id(dgj_pool_t *pool, const char *id)
{
    /* domain.md: the first 6 (the issuing area) and the last 4 */
    return dgj_ids_mask_ends(pool, id, 6, 4);
}


char *
dgj_ids_mask_name(dgj_pool_t *pool, const char *name)
{
    char                 *out, *o;
    size_t                len, i, k, keep, chars;
    const unsigned char  *p;

    len = strlen(name);
    p = (const unsigned char *) name;

    /* at most one '*' per byte, so len + 1 is always enough */
    out = dgj_palloc(pool, len + 2);
    if (out == NULL) {
        return NULL;
    }

    chars = 0;
    for (i = 0; i < len; i += k) {
        k = dgj_req_utf8_len(p + i, len - i);
        k = k == 0 ? 1 : k;
        chars++;
    }

    if (chars <= 1) {
        return strcpy(out, "*");
    }

    keep = dgj_req_utf8_len(p, len);
    keep = keep == 0 ? 1 : keep;

    if (chars > 2) {
        for (i = 0; i < dgj_countof(dgj_ids_compound_surnames); i++) {
            k = strlen(dgj_ids_compound_surnames[i]);

            if (strncmp(name, dgj_ids_compound_surnames[i], k) == 0) {
                keep = k;
                break;
            }
        }
    }

    memcpy(out, name, keep);
    o = out + keep;

    for (i = keep; i < len; i += k) {
        k = dgj_req_utf8_len(p + i, len - i);
        k = k == 0 ? 1 : k;
        *o++ = '*';
    }

    *o = '\0';

    return out;
}


char *
dgj_ids_mask_email(dgj_pool_t *pool, const char *email)
{
    size_t       k;
    const char  *at;

    at = strrchr(email, '@');

    if (at == NULL || at == email) {
        return dgj_pstrndup(pool, "***", 3);
    }

    k = dgj_req_utf8_len((const unsigned char *) email,
                         (size_t) (at - email));
    k = k == 0 ? 1 : k;

    return dgj_psprintf(pool, "%.*s***%s", (int) k, email, at);
}


static int
dgj_ids_uscc_value(int c)
{
    const char  *p;

    if (c == '\0') {
        return -1;
    }

    p = strchr(dgj_ids_uscc_chars, c);

    return p != NULL ? (int) (p - dgj_ids_uscc_chars) : -1;
}


static int
dgj_ids_digits(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/* copies in without the bytes in drop; 0 when it does not fit in size */
static size_t
dgj_ids_compact(const char *in, char *out, size_t size, const char *drop)
{
    size_t  n;

    for (n = 0; *in != '\0'; in++) {
        if (strchr(drop, *in) != NULL) {
            continue;
        }

        if (n + 1 == size) {
            return 0;
        }

        out[n++] = *in;
    }

    out[n] = '\0';

    return n;
}


static char *
dgj_ids_mask_ends(dgj_pool_t *pool, const char *s, size_t head, size_t tail)
{
    char    *out;
    size_t   len;

    len = strlen(s);

    if (len < head + tail + 1) {
        return dgj_pstrndup(pool, "****", 4);
    }

    out = dgj_pstrndup(pool, s, len);
    if (out == NULL) {
        return NULL;
    }

    memset(out + head, '*', len - head - tail);

    return out;
}


/* s: YYYYMMDD, a date that exists, from 1900-01-01 to today (UTC+8) */
static int
dgj_ids_date_ok(const char *s, time_t now)
{
    int        y, m, d, mdays;
    long       date, today;
    time_t     local;
    struct tm  tm;

    static const int  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10
        + (s[3] - '0');
    m = (s[4] - '0') * 10 + (s[5] - '0');
    d = (s[6] - '0') * 10 + (s[7] - '0');

    if (y < 1900 || m < 1 || m > 12 || d < 1) {
        return 0;
    }

    mdays = days[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        mdays = 29;
    }

    if (d > mdays) {
        return 0;
    }

    local = now + 8 * 3600;
    if (gmtime_r(&local, &tm) == NULL) {
        return 0;
    }

    date = (long) y * 10000 + m * 100 + d;
    today = (long) (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100
            + tm.tm_mday;

    return date <= today;
}
