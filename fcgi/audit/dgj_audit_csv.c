
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_csv.c: the CSV text of an audit export (RFC 4180, CRLF
 * rows), with the guard against formula injection (CSV injection): a
 * record's path or user agent is chosen by whoever sent the request, and
 * a cell such as =HYPERLINK(...) must stay text when an auditor opens
 * the file in a spreadsheet.
 */


#include "dgj_core.h"
#include "dgj_audit.h"


static void dgj_audit_csv_free(void *data);
static int dgj_audit_csv_grow(dgj_audit_csv_t *csv, size_t more);


dgj_audit_csv_t *
dgj_audit_csv_create(dgj_req_t *r)
{
    dgj_audit_csv_t     *csv;
    dgj_pool_cleanup_t  *cln;

    csv = dgj_pcalloc(r->pool, sizeof(dgj_audit_csv_t));
    if (csv == NULL) {
        return NULL;
    }

    cln = dgj_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = dgj_audit_csv_free;
    cln->data = csv;

    return csv;
}


void
dgj_audit_csv_raw(dgj_audit_csv_t *csv, const char *s, size_t len)
{
    if (dgj_audit_csv_grow(csv, len) != 0) {
        return;
    }

    memcpy(csv->data + csv->len, s, len);
    csv->len += len;
}


void
dgj_audit_csv_cell(dgj_audit_csv_t *csv, const char *s, size_t len,
    int last)
{
    char    *p;
    size_t   i, quotes;
    int      quote, guard;

    if (s == NULL) {
        len = 0;
    }

    quote = 0;
    quotes = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '"') {
            quotes++;
        }

        if (s[i] == '"' || s[i] == ',' || s[i] == '\r' || s[i] == '\n') {
            quote = 1;
        }
    }

    /* OWASP "CSV Injection": = + - @ and TAB or CR start a formula */
    guard = len > 0 && strchr("=+-@\t\r", s[0]) != NULL;

    /* cell, two quotes, the doubled quotes, the guard, and "," or CRLF */
    if (dgj_audit_csv_grow(csv, len + quotes + 2 + 1 + 2) != 0) {
        return;
    }

    p = csv->data + csv->len;

    if (quote) {
        *p++ = '"';
    }

    if (guard) {
        *p++ = '\'';
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '"') {
            *p++ = '"';
        }

        *p++ = s[i];
    }

    if (quote) {
        *p++ = '"';
    }

    if (last) {
        *p++ = '\r';
        *p++ = '\n';

    } else {
        *p++ = ',';
    }

    csv->len = (size_t) (p - csv->data);
}


static int
dgj_audit_csv_grow(dgj_audit_csv_t *csv, size_t more)
{
    char    *p;
    size_t   size;

    if (csv->failed) {
        return -1;
    }

    if (csv->len + more <= csv->size) {
        return 0;
    }

    size = csv->size ? csv->size : 65536;
    while (size < csv->len + more) {
        size *= 2;
    }

    p = realloc(csv->data, size);
    if (p == NULL) {
        csv->failed = 1;
        return -1;
    }

    csv->data = p;
    csv->size = size;

    return 0;
}


static void
dgj_audit_csv_free(void *data)
{
    dgj_audit_csv_t  *csv = data;

    free(csv->data);
    csv->data = NULL;
}
