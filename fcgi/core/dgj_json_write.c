
/*
 * Copyright (C) Daguanjia
 *
 * dgj_json_write.c: serialisation of a Jansson value into r->pool, in one
 * pass.  json_dumpb() needs two (one to size the buffer, one to fill it)
 * and walks every string one UTF-8 character at a time; on a 50-row inbox
 * that was 40 % of the worker's CPU.  Here runs of plain bytes are copied
 * whole.  The bytes are the same as json_dumpb() with DGJ_JSON_DUMP_FLAGS
 * prints (tests/unit/test_json.c compares the two): compact, UTF-8 kept
 * as is (Jansson checked it when the string was made: nothing here uses
 * the *_nocheck constructors, which would skip that), "/" not
 * escaped, reals as "%.15g" with ".0" added to a whole number and the
 * exponent without "+" or leading zeros.
 */


#include "dgj_core.h"
#include "dgj_json.h"
#include "dgj_digits.h"

#include <inttypes.h>


/* deeper than any reply we build; a cycle ends here instead of the stack */
#define DGJ_JSON_WRITE_DEPTH  128


typedef struct {
    dgj_pool_t  *pool;
    char        *buf;
    size_t       len;
    size_t       cap;
} dgj_json_buf_t;


static int dgj_json_value(dgj_json_buf_t *b, const json_t *v,
    unsigned depth);
static int dgj_json_string(dgj_json_buf_t *b, const char *s, size_t n);
static int dgj_json_integer(dgj_json_buf_t *b, json_int_t n);
static int dgj_json_real(dgj_json_buf_t *b, double d);
static int dgj_json_grow(dgj_json_buf_t *b, size_t need);


/* 1: the byte is written as it is inside a string */
static const unsigned char  dgj_json_plain[256] = {
    [0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* '"' */
    [0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,  /* '\\' */
    [0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x90] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xa0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xb0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xc0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xd0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xe0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xf0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};


/* appends n bytes, keeping room for the final NUL; 0 or -1 */
static inline int
dgj_json_put(dgj_json_buf_t *b, const char *p, size_t n)
{
    if (b->cap - b->len <= n && dgj_json_grow(b, n) != 0) {
        return -1;
    }

    memcpy(b->buf + b->len, p, n);
    b->len += n;

    return 0;
}


char *
dgj_json_dump(dgj_req_t *r, const json_t *v, size_t *len)
{
    dgj_json_buf_t  b;

    b.pool = r->pool;
    b.len = 0;
    b.cap = 0;
    b.buf = NULL;

    if (v == NULL || dgj_json_grow(&b, 0) != 0
        || dgj_json_value(&b, v, 0) != 0)
    {
        return NULL;
    }

    /* dgj_json_put leaves room for this */
    b.buf[b.len] = '\0';
    *len = b.len;

    return b.buf;
}


static int
dgj_json_value(dgj_json_buf_t *b, const json_t *v, unsigned depth)
{
    size_t       i, klen;
    json_t      *item;
    const char  *key;

    if (depth == DGJ_JSON_WRITE_DEPTH) {
        return -1;
    }

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        if (dgj_json_put(b, "{", 1) != 0) {
            return -1;
        }

        i = 0;
        json_object_keylen_foreach((json_t *) v, key, klen, item) {
            if ((i++ > 0 && dgj_json_put(b, ",", 1) != 0)
                || dgj_json_string(b, key, klen) != 0
                || dgj_json_put(b, ":", 1) != 0
                || dgj_json_value(b, item, depth + 1) != 0)
            {
                return -1;
            }
        }

        return dgj_json_put(b, "}", 1);

    case JSON_ARRAY:
        if (dgj_json_put(b, "[", 1) != 0) {
            return -1;
        }

        json_array_foreach(v, i, item) {
            if ((i > 0 && dgj_json_put(b, ",", 1) != 0)
                || dgj_json_value(b, item, depth + 1) != 0)
            {
                return -1;
            }
        }

        return dgj_json_put(b, "]", 1);

    case JSON_STRING:
        return dgj_json_string(b, json_string_value(v), json_string_length(v));

    case JSON_INTEGER:
        return dgj_json_integer(b, json_integer_value(v));

    case JSON_REAL:
        return dgj_json_real(b, json_real_value(v));

    case JSON_TRUE:
        return dgj_json_put(b, "true", 4);

    case JSON_FALSE:
        return dgj_json_put(b, "false", 5);

    case JSON_NULL:
        return dgj_json_put(b, "null", 4);
    }

    return -1;
}


static int
dgj_json_string(dgj_json_buf_t *b, const char *s, size_t n)
{
    size_t          i, run;
    unsigned char   c;
    char            esc[6];

    static const char  hex[] = "0123456789ABCDEF";

    if (dgj_json_put(b, "\"", 1) != 0) {
        return -1;
    }

    i = 0;

    while (i < n) {
        run = i;
        while (run < n && dgj_json_plain[(unsigned char) s[run]]) {
            run++;
        }

        if (run > i) {
            if (dgj_json_put(b, s + i, run - i) != 0) {
                return -1;
            }
            i = run;
            continue;
        }

        c = (unsigned char) s[i++];
        esc[0] = '\\';

        switch (c) {
        case '"':  esc[1] = '"';  break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b';  break;
        case '\f': esc[1] = 'f';  break;
        case '\n': esc[1] = 'n';  break;
        case '\r': esc[1] = 'r';  break;
        case '\t': esc[1] = 't';  break;

        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0x0f];

            if (dgj_json_put(b, esc, 6) != 0) {
                return -1;
            }
            continue;
        }

        if (dgj_json_put(b, esc, 2) != 0) {
            return -1;
        }
    }

    return dgj_json_put(b, "\"", 1);
}


static int
dgj_json_integer(dgj_json_buf_t *b, json_int_t n)
{
    char  digits[21], *p;

    p = digits;

    if (n < 0) {
        *p++ = '-';
    }

    /* the magnitude in unsigned arithmetic: INT64_MIN has no positive */
    p = dgj_u64(p, n < 0 ? 0 - (uint64_t) n : (uint64_t) n);

    return dgj_json_put(b, digits, (size_t) (p - digits));
}


/* as Jansson's dtostr: "%.15g", then ".0" or a bare exponent */
static int
dgj_json_real(dgj_json_buf_t *b, double d)
{
    int     n;
    char    s[40], *e, *from, *to;

    n = snprintf(s, sizeof(s) - 2, "%.15g", d);
    if (n < 0 || (size_t) n >= sizeof(s) - 2) {
        return -1;
    }

    /* a locale's decimal comma; the workers run in "C", but be sure */
    for (e = s; *e != '\0'; e++) {
        if (*e == ',') {
            *e = '.';
        }
    }

    if (strpbrk(s, ".e") == NULL) {
        s[n++] = '.';
        s[n++] = '0';
        s[n] = '\0';
    }

    e = strchr(s, 'e');
    if (e != NULL) {
        from = e + 1;
        to = from;

        if (*from == '-') {
            from++;
            to++;

        } else if (*from == '+') {
            from++;
        }

        while (*from == '0' && from[1] != '\0') {
            from++;
        }

        memmove(to, from, strlen(from) + 1);
        n = (int) strlen(s);
    }

    return dgj_json_put(b, s, (size_t) n);
}


/* room for need more bytes and the final NUL; the old buffer stays in the
 * pool until the request ends */
static int
dgj_json_grow(dgj_json_buf_t *b, size_t need)
{
    char    *buf;
    size_t   cap;

    cap = b->cap != 0 ? b->cap : 1024;

    while (cap - b->len <= need) {
        if (cap > SIZE_MAX / 2) {
            return -1;
        }
        cap *= 2;
    }

    buf = dgj_palloc(b->pool, cap);
    if (buf == NULL) {
        return -1;
    }

    if (b->len > 0) {
        memcpy(buf, b->buf, b->len);
    }

    b->buf = buf;
    b->cap = cap;

    return 0;
}
