
/*
 * Copyright (C) Daguanjia
 *
 * dgj_req.c: request initialisation, bounded body reading, query
 * parsing and percent-decoding, failure detail and the reply writers
 * (including the error reply, which needs no pool memory).
 */


#include "dgj_core.h"
#include "dgj_req.h"
#include "dgj_log.h"


/*
 * the reply's header block; under nginx's fastcgi_buffer_size (one page,
 * 4 KiB) minus the record framing: an attachment's Content-Disposition
 * carries a 200-character file name twice (about 2.6 KiB at most)
 */
#define DGJ_REQ_HEAD_LEN  3584


static dgj_rc_t dgj_req_args_parse(dgj_req_t *r);
static size_t dgj_req_json_escape(char *dst, size_t size, const char *s);
static int dgj_req_hex(int c);


void
dgj_req_init(dgj_req_t *r, dgj_pool_t *pool, const dgj_io_t *io,
    size_t max_body)
{
    const char  *v;

    memset(r, 0, sizeof(dgj_req_t));

    r->pool = pool;
    r->io = io;
    r->max_body = max_body;

    v = dgj_req_param(r, "REQUEST_METHOD");
    r->method = (v != NULL && *v != '\0') ? v : "GET";

    v = dgj_req_param(r, "DOCUMENT_URI");
    r->uri = (v != NULL && *v != '\0') ? v : "/";

    v = dgj_req_param(r, "QUERY_STRING");
    r->query = (v != NULL) ? v : "";

    v = dgj_req_param(r, "DGJ_REQUEST_ID");
    r->request_id = (v != NULL && *v != '\0') ? v : "-";

    r->head = (strcmp(r->method, "HEAD") == 0);
}


const char *
dgj_req_param(dgj_req_t *r, const char *name)
{
    return r->io->param(r->io->data, name);
}


dgj_rc_t
dgj_req_body(dgj_req_t *r, const char **body, size_t *len)
{
    char                *buf, *end;
    size_t               got;
    ssize_t              n;
    const char          *cl;
    unsigned long long   want;

    if (r->body != NULL) {
        *body = r->body;
        *len = r->body_len;
        return DGJ_OK;
    }

    cl = dgj_req_param(r, "CONTENT_LENGTH");

    want = 0;

    if (cl != NULL && *cl != '\0') {

        /* strtoull() would accept blanks, a sign and "-1" */
        if (*cl < '0' || *cl > '9') {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "invalid Content-Length");
        }

        errno = 0;
        want = strtoull(cl, &end, 10);

        if (errno == ERANGE) {
            return dgj_req_fail(r, DGJ_ERR_TOO_LARGE,
                                "request body larger than %zu bytes",
                                r->max_body);
        }

        if (errno != 0 || *end != '\0') {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "invalid Content-Length");
        }

        if (want > r->max_body) {
            return dgj_req_fail(r, DGJ_ERR_TOO_LARGE,
                                "request body larger than %zu bytes",
                                r->max_body);
        }
    }

    buf = dgj_palloc(r->pool, (size_t) want + 1);
    if (buf == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the body");
    }

    got = 0;

    while (got < want) {
        n = r->io->read(r->io->data, buf + got, (size_t) want - got);
        if (n <= 0) {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "request body shorter than Content-Length "
                                "(%zu of %llu bytes)", got, want);
        }

        got += (size_t) n;
    }

    buf[got] = '\0';

    r->body = buf;
    r->body_len = got;

    *body = buf;
    *len = got;

    return DGJ_OK;
}


dgj_rc_t
dgj_req_arg(dgj_req_t *r, const char *name, const char **value)
{
    size_t    i;
    dgj_rc_t  rc;

    *value = NULL;

    if (r->args == NULL) {
        rc = dgj_req_args_parse(r);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    for (i = 0; i < r->nargs; i++) {
        if (strcmp(r->args[i].name, name) == 0) {
            *value = r->args[i].value;
            break;
        }
    }

    return DGJ_OK;
}


const char *
dgj_req_capture(dgj_req_t *r, const char *name)
{
    size_t  i;

    for (i = 0; i < r->ncaptures; i++) {
        if (strcmp(r->captures[i].name, name) == 0) {
            return r->captures[i].value;
        }
    }

    return NULL;
}


dgj_rc_t
dgj_req_fail(dgj_req_t *r, dgj_rc_t rc, const char *fmt, ...)
{
    va_list  ap;

    if (r->err_rc != DGJ_OK) {
        return rc;
    }

    r->err_rc = rc;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);

    return rc;
}


void
dgj_req_fail_clear(dgj_req_t *r)
{
    r->err_rc = DGJ_OK;
    r->err_code = NULL;
    r->err[0] = '\0';
}


dgj_rc_t
dgj_req_fail_code(dgj_req_t *r, dgj_rc_t rc, const char *code,
    const char *fmt, ...)
{
    va_list  ap;

    if (r->err_rc != DGJ_OK) {
        return rc;
    }

    r->err_rc = rc;
    r->err_code = code;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);

    return rc;
}


dgj_rc_t
dgj_req_header_add(dgj_req_t *r, const char *name, const char *value)
{
    dgj_req_header_t  *h, **last;

    h = dgj_palloc(r->pool, sizeof(dgj_req_header_t));
    if (h == NULL) {
        return DGJ_ERR_NOMEM;
    }

    h->name = name;
    h->value = value;
    h->next = NULL;

    /* keep the order of addition */
    for (last = &r->headers; *last != NULL; last = &(*last)->next) {
        /* void */
    }

    *last = h;

    return DGJ_OK;
}


dgj_rc_t
dgj_req_audit(dgj_req_t *r, const char *action, const char *object)
{
    char      *copy;
    size_t     i, len;
    dgj_rc_t   rc;

    rc = dgj_req_header_add(r, "X-Dgj-Action", action);
    if (rc != DGJ_OK || object == NULL) {
        return rc;
    }

    /* a header value: printable ASCII only, bounded like the log field */
    len = strlen(object);
    if (len > 64) {
        len = 64;
    }

    copy = dgj_palloc(r->pool, len + 1);
    if (copy == NULL) {
        return DGJ_ERR_NOMEM;
    }

    for (i = 0; i < len; i++) {
        copy[i] = (object[i] > 0x20 && object[i] < 0x7f) ? object[i] : '_';
    }

    copy[len] = '\0';

    return dgj_req_header_add(r, "X-Dgj-Object", copy);
}


dgj_rc_t
dgj_reply(dgj_req_t *r, int status, const char *content_type,
    const char *body, size_t len)
{
    int                n;
    char               head[DGJ_REQ_HEAD_LEN];
    size_t             off;
    dgj_req_header_t  *h;

    if (r->status != 0) {
        dgj_log(DGJ_LOG_ERROR, "req", "second reply for %s %s",
                r->method, r->uri);
        return DGJ_ERR_INTERNAL;
    }

    n = snprintf(head, sizeof(head),
                 "Status: %d %s\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\n",
                 status, dgj_rc_reason(status), content_type, len);
    if (n < 0 || (size_t) n >= sizeof(head)) {
        return DGJ_ERR_INTERNAL;
    }

    off = (size_t) n;

    for (h = r->headers; h != NULL; h = h->next) {
        n = snprintf(head + off, sizeof(head) - off, "%s: %s\r\n",
                     h->name, h->value);
        if (n < 0 || (size_t) n >= sizeof(head) - off) {
            return DGJ_ERR_INTERNAL;
        }

        off += (size_t) n;
    }

    if (off + 2 >= sizeof(head)) {
        return DGJ_ERR_INTERNAL;
    }

    head[off++] = '\r';
    head[off++] = '\n';

    r->status = status;

    if (r->io->write(r->io->data, head, off) != 0) {
        dgj_log(DGJ_LOG_INFO, "req", "client went away before the reply");
        return DGJ_OK;
    }

    if (len > 0 && !r->head) {
        if (r->io->write(r->io->data, body, len) != 0) {
            dgj_log(DGJ_LOG_INFO, "req", "client went away during the reply");
            return DGJ_OK;
        }

        r->sent = len;
    }

    return DGJ_OK;
}


void
dgj_reply_error(dgj_req_t *r, dgj_rc_t rc)
{
    int          status;
    char         body[1024], msg[DGJ_REQ_ERR_LEN * 6 + 1], id[256];
    size_t       len;
    const char  *text, *code;

    if (r->status != 0) {
        return;
    }

    if (rc == DGJ_OK) {
        rc = DGJ_ERR_INTERNAL;
    }

    status = dgj_rc_status(rc);

    text = dgj_rc_message(rc);
    code = dgj_rc_code(rc);

    /* 4xx messages, and a peer failure's (worded for the citizen) */
    if ((status < 500 || rc == DGJ_ERR_PEER) && r->err_rc == rc
        && r->err[0] != '\0')
    {
        text = r->err;
    }

    if (r->err_rc == rc && r->err_code != NULL) {
        code = r->err_code;
    }

    dgj_req_json_escape(msg, sizeof(msg), text);
    dgj_req_json_escape(id, sizeof(id), r->request_id);

    len = (size_t) snprintf(body, sizeof(body),
                            "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"},"
                            "\"request_id\":\"%s\"}",
                            code, msg, id);
    if (len >= sizeof(body)) {
        len = (size_t) snprintf(body, sizeof(body),
                                "{\"error\":{\"code\":\"%s\",\"message\":"
                                "\"%s\"},\"request_id\":null}",
                                code, dgj_rc_message(rc));
    }

    (void) dgj_reply(r, status, "application/json; charset=utf-8", body,
                     len);
}


ssize_t
dgj_req_unescape(char *dst, const char *src, size_t len, int plus)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {

        if (src[i] == '%') {
            if (len - i < 3) {
                return -1;
            }

            hi = dgj_req_hex((unsigned char) src[i + 1]);
            lo = dgj_req_hex((unsigned char) src[i + 2]);

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return -1;
            }

            dst[n++] = (char) (hi * 16 + lo);
            i += 2;
            continue;
        }

        if (src[i] == '+' && plus) {
            dst[n++] = ' ';
            continue;
        }

        dst[n++] = src[i];
    }

    dst[n] = '\0';

    return (ssize_t) n;
}


char *
dgj_req_escape(dgj_pool_t *pool, const char *s)
{
    char                 *dst, *d;
    const unsigned char  *p;

    static const char  hex[] = "0123456789ABCDEF";

    dst = dgj_palloc(pool, strlen(s) * 3 + 1);
    if (dst == NULL) {
        return NULL;
    }

    d = dst;

    for (p = (const unsigned char *) s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
            || (*p >= '0' && *p <= '9')
            || *p == '-' || *p == '.' || *p == '_' || *p == '~')
        {
            *d++ = (char) *p;
            continue;
        }

        *d++ = '%';
        *d++ = hex[*p >> 4];
        *d++ = hex[*p & 0x0f];
    }

    *d = '\0';

    return dst;
}


size_t
dgj_req_utf8_len(const unsigned char *p, size_t left)
{
    size_t    k, i;
    uint32_t  cp, min;

    if (left == 0) {
        return 0;
    }

    if (*p < 0x80) {
        return 1;
    }

    if (*p >= 0xc2 && *p <= 0xdf) {
        k = 2;
        cp = *p & 0x1f;
        min = 0x80;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        k = 3;
        cp = *p & 0x0f;
        min = 0x800;

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        k = 4;
        cp = *p & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (left < k) {
        return 0;
    }

    for (i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return k;
}


static dgj_rc_t
dgj_req_args_parse(dgj_req_t *r)
{
    char            *name, *value;
    size_t           n, i, nlen, vlen;
    const char      *p, *amp, *eq;
    dgj_req_pair_t  *args;

    /* upper bound on the number of arguments */
    n = 1;
    for (p = r->query; *p != '\0'; p++) {
        if (*p == '&') {
            n++;
        }
    }

    args = dgj_palloc(r->pool, n * sizeof(dgj_req_pair_t));
    if (args == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for arguments");
    }

    i = 0;
    p = r->query;

    while (*p != '\0') {
        amp = strchr(p, '&');
        if (amp == NULL) {
            amp = p + strlen(p);
        }

        eq = memchr(p, '=', (size_t) (amp - p));

        nlen = (size_t) ((eq != NULL ? eq : amp) - p);
        vlen = (eq != NULL) ? (size_t) (amp - eq - 1) : 0;

        if (nlen > 0) {
            name = dgj_palloc(r->pool, nlen + 1);
            value = dgj_palloc(r->pool, vlen + 1);
            if (name == NULL || value == NULL) {
                return dgj_req_fail(r, DGJ_ERR_NOMEM,
                                    "no memory for arguments");
            }

            if (dgj_req_unescape(name, p, nlen, 1) < 0
                || dgj_req_unescape(value, eq != NULL ? eq + 1 : "", vlen,
                                    1) < 0)
            {
                return dgj_req_fail(r, DGJ_ERR_INPUT,
                                    "malformed query string");
            }

            args[i].name = name;
            args[i].value = value;
            i++;
        }

        p = (*amp == '&') ? amp + 1 : amp;
    }

    r->args = args;
    r->nargs = i;

    return DGJ_OK;
}


/*
 * Escapes s as the inside of a JSON string into dst (size bytes, always
 * NUL-terminated).  Invalid UTF-8 becomes '?', so the reply stays valid
 * JSON even for a message cut in the middle of a character.
 */
static size_t
dgj_req_json_escape(char *dst, size_t size, const char *s)
{
    size_t                n, k, left;
    const unsigned char  *p;

    n = 0;
    p = (const unsigned char *) s;
    left = strlen(s);

    while (left > 0 && n + 7 < size) {

        if (*p == '"' || *p == '\\') {
            dst[n++] = '\\';
            dst[n++] = (char) *p;
            p++;
            left--;
            continue;
        }

        if (*p < 0x20) {
            n += (size_t) snprintf(dst + n, size - n, "\\u%04x", *p);
            p++;
            left--;
            continue;
        }

        if (*p < 0x80) {
            dst[n++] = (char) *p++;
            left--;
            continue;
        }

        k = dgj_req_utf8_len(p, left);
        if (k == 0) {
            dst[n++] = '?';
            p++;
            left--;
            continue;
        }

        if (n + k + 1 >= size) {
            break;
        }

        memcpy(dst + n, p, k);
        n += k;
        p += k;
        left -= k;
    }

    dst[n] = '\0';

    return n;
}


static int
dgj_req_hex(int c)
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
