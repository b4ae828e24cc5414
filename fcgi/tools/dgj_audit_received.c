
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_received.c: `dgj-audit verify --received`.  The off-host copy
 * (`dgj-audit ship` to a syslog receiver) is one stream per receiver
 * file, not the gateway's files: each line behind a syslog header; the
 * lines of a file rotated away and of the new one may come in either
 * order; after a reconnect the shipper sends again from its saved place,
 * so a line may come twice.  Here every line loses its header, all of
 * them are put in chain and seq order (stable: ties keep the order they
 * came in), and a line byte for byte the same as the one before it of
 * the same chain and seq counts once.  The same seq with other bytes is
 * kept, and the verifier reports it.  Everything is read into memory.
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dgj_audit_received.h"


typedef struct {
    const char  *text;
    size_t       len;
    char         chain[DGJ_AUDIT_CHAIN_MAX + 1];  /* "" none: first */
    uint64_t     seq;
    size_t       file;
    uint64_t     lineno;
    size_t       order;         /* as it came: ties keep it */
} dgj_audit_rline_t;


typedef struct {
    dgj_audit_rline_t  *l;
    size_t              n;
    size_t              cap;
} dgj_audit_rlines_t;


static char *dgj_audit_read_all(const char *path, size_t *len);
static int dgj_audit_rline_add(dgj_audit_rlines_t *ls, const char *text,
    size_t len, size_t file, uint64_t lineno);
static int dgj_audit_rline_cmp(const void *a, const void *b);


int
dgj_audit_received_feed(dgj_audit_verifier_t *v,
    const dgj_audit_file_t *files, size_t n, const char **bad_path,
    uint64_t *bad_line)
{
    int                  rc;
    char               **bufs, *p, *nl, *last;
    size_t               i, k, len, cut;
    uint64_t             lineno;
    dgj_audit_rline_t   *r, *prev;
    dgj_audit_rlines_t   ls;

    memset(&ls, 0, sizeof(ls));
    rc = -1;

    bufs = calloc(n + 1, sizeof(char *));
    if (bufs == NULL) {
        fprintf(stderr, "dgj-audit: out of memory\n");
        return -1;
    }

    for (i = 0; i < n; i++) {
        bufs[i] = dgj_audit_read_all(files[i].path, &len);
        if (bufs[i] == NULL) {
            goto done;
        }

        last = bufs[i] + len;
        lineno = 0;

        for (p = bufs[i]; p < last; p = nl + 1) {
            nl = memchr(p, '\n', last - p);
            if (nl == NULL) {
                nl = last;
            }

            lineno++;

            /* the syslog header, up to the line's '{' */
            while (p < nl && *p != '{') {
                p++;
            }

            if (p == nl) {
                continue;
            }

            /* a head cut by its writer's death is a line of its own */
            cut = dgj_audit_line_resume(p, nl - p);

            if ((cut > 0
                 && dgj_audit_rline_add(&ls, p, cut, i, lineno) != 0)
                || dgj_audit_rline_add(&ls, p + cut, nl - p - cut, i, lineno)
                   != 0)
            {
                fprintf(stderr, "dgj-audit: out of memory\n");
                goto done;
            }
        }
    }

    qsort(ls.l, ls.n, sizeof(dgj_audit_rline_t), dgj_audit_rline_cmp);

    rc = 0;
    prev = NULL;

    for (k = 0; k < ls.n; k++) {
        r = &ls.l[k];

        if (prev != NULL && r->chain[0] != '\0'
            && strcmp(prev->chain, r->chain) == 0 && prev->seq == r->seq
            && prev->len == r->len && memcmp(prev->text, r->text, r->len) == 0)
        {
            continue;
        }

        prev = r;

        if (dgj_audit_verifier_feed(v, r->text, r->len) != 0 && rc == 0) {
            rc = 1;
            *bad_path = files[r->file].path;
            *bad_line = r->lineno;
        }
    }

done:

    for (i = 0; i < n; i++) {
        free(bufs[i]);
    }

    free(bufs);
    free(ls.l);

    return rc;
}


static char *
dgj_audit_read_all(const char *path, size_t *len)
{
    FILE         *f;
    char         *buf;
    struct stat   st;

    f = fopen(path, "re");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "dgj-audit: %s: %s\n", path, strerror(errno));
        if (f != NULL) {
            fclose(f);
        }

        return NULL;
    }

    buf = malloc(st.st_size + 1);
    if (buf == NULL) {
        fprintf(stderr, "dgj-audit: %s: out of memory\n", path);
        fclose(f);
        return NULL;
    }

    *len = fread(buf, 1, st.st_size, f);

    if (ferror(f)) {
        fprintf(stderr, "dgj-audit: %s: %s\n", path, strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }

    fclose(f);

    return buf;
}


static int
dgj_audit_rline_add(dgj_audit_rlines_t *ls, const char *text, size_t len,
    size_t file, uint64_t lineno)
{
    size_t              cap;
    dgj_audit_rline_t  *r;

    if (ls->n == ls->cap) {
        cap = ls->cap ? 2 * ls->cap : 4096;

        r = realloc(ls->l, cap * sizeof(dgj_audit_rline_t));
        if (r == NULL) {
            return -1;
        }

        ls->l = r;
        ls->cap = cap;
    }

    r = &ls->l[ls->n];
    r->text = text;
    r->len = len;
    r->file = file;
    r->lineno = lineno;
    r->order = ls->n++;

    switch (dgj_audit_line_chain_seq(text, len, r->chain, sizeof(r->chain),
                                     &r->seq))
    {
    case 1:
        break;

    case 0:
        /* a head cut inside its seq goes after the rest of its chain,
         * where a writer's death would have left it */
        r->seq = UINT64_MAX;
        break;

    default:
        /* no chain: first, as it came, for the verifier to report */
        r->chain[0] = '\0';
        r->seq = 0;
    }

    return 0;
}


static int
dgj_audit_rline_cmp(const void *a, const void *b)
{
    int                       c;
    const dgj_audit_rline_t  *x = a, *y = b;

    c = strcmp(x->chain, y->chain);
    if (c != 0) {
        return c;
    }

    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }

    return x->order < y->order ? -1 : x->order > y->order;
}
