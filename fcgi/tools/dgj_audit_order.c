
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_order.c: the order `dgj-audit verify` reads log files in.
 *
 * The verifier checks each chain line after line, so the files must come
 * in the order each chain went through them.  A worker moves to a new
 * file forward only: wherever two files hold lines of one chain, the file
 * with its lower seq was written first.  Those pairs order the files; the
 * time of a file's first line orders what they leave open.  Time alone is
 * not enough: a line waits in its worker's buffer (a new worker's start
 * line while it reads its keys, say), and may open a file that began
 * after another one whose first line is newer.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgj_audit_chain.h"
#include "dgj_audit_lines.h"
#include "dgj_audit_order.h"


/* a chain's first seq in one file */
typedef struct {
    char         chain[DGJ_AUDIT_CHAIN_MAX + 1];
    uint64_t     seq;
    size_t       file;
} dgj_audit_seen_t;


/* file "from" was written before file "to" */
typedef struct {
    size_t       from;
    size_t       to;
} dgj_audit_edge_t;


typedef struct {
    dgj_audit_seen_t  *seen;
    size_t             n;
    size_t             cap;
} dgj_audit_seen_list_t;


/* one file's scan: its entries in l start at from */
typedef struct {
    dgj_audit_file_t       *file;
    size_t                  i;
    size_t                  from;
    dgj_audit_seen_list_t  *l;
} dgj_audit_scan_t;


static void dgj_audit_first_time(dgj_audit_file_t *f, const char *line,
    size_t len);
static int dgj_audit_scan(dgj_audit_file_t *file, size_t i, char *buf,
    dgj_audit_seen_list_t *l);
static int dgj_audit_scan_line(void *ctx, const char *line, size_t len,
    uint64_t lineno, int unterminated);
static int dgj_audit_seen_line(const char *line, size_t len, size_t file,
    size_t from, dgj_audit_seen_list_t *l);
static int dgj_audit_file_cmp(const void *a, const void *b);
static int dgj_audit_seen_cmp(const void *a, const void *b);
static int dgj_audit_edge_cmp(const void *a, const void *b);
static int dgj_audit_place(dgj_audit_file_t *files, size_t n,
    dgj_audit_seen_list_t *l);


int
dgj_audit_order_files(dgj_audit_file_t *files, size_t n)
{
    int                     rc;
    char                   *buf;
    size_t                  i;
    dgj_audit_seen_list_t   l;

    if (n < 2) {
        return 0;
    }

    buf = malloc(DGJ_AUDIT_LINES_BUF);
    if (buf == NULL) {
        return -1;
    }

    memset(&l, 0, sizeof(l));
    rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        rc = dgj_audit_scan(&files[i], i, buf, &l);
    }

    free(buf);

    if (rc == 0) {
        rc = dgj_audit_place(files, n, &l);
    }

    free(l.seen);

    return rc;
}


static void
dgj_audit_first_time(dgj_audit_file_t *f, const char *line, size_t len)
{
    char              val[64];
    dgj_audit_time_t  t;

    if (dgj_audit_line_field(line, len, "time", val, sizeof(val)) == 1
        && dgj_audit_time_parse(val, strlen(val), &t) == 0)
    {
        f->first = (int64_t) t.sec * 1000 + t.msec;
    }
}


/* the time of one file's first line, and every chain in it with its
 * first seq there; a file that cannot be read adds nothing (0), -1 only
 * when out of memory */
static int
dgj_audit_scan(dgj_audit_file_t *file, size_t i, char *buf,
    dgj_audit_seen_list_t *l)
{
    dgj_audit_scan_t  sc;

    file->first = INT64_MAX;

    sc.file = file;
    sc.i = i;
    sc.from = l->n;
    sc.l = l;

    return dgj_audit_each_line(file->path, buf, dgj_audit_scan_line, &sc)
           == -1 ? -1 : 0;
}


static int
dgj_audit_scan_line(void *ctx, const char *line, size_t len,
    uint64_t lineno, int unterminated)
{
    dgj_audit_scan_t  *sc = ctx;

    (void) unterminated;

    if (lineno == 1) {
        dgj_audit_first_time(sc->file, line, len);
    }

    return dgj_audit_seen_line(line, len, sc->i, sc->from, sc->l);
}


/* a chain not yet seen in this file (its entries start at "from") is
 * added with this line's seq; a line without both fields says nothing */
static int
dgj_audit_seen_line(const char *line, size_t len, size_t file, size_t from,
    dgj_audit_seen_list_t *l)
{
    char               chain[DGJ_AUDIT_CHAIN_MAX + 1];
    size_t             i, cap;
    uint64_t           seq;
    dgj_audit_seen_t  *s;

    if (dgj_audit_line_chain_seq(line, len, chain, sizeof(chain), &seq)
        != 1)
    {
        return 0;
    }

    /* most lines continue the chain of the line before them: newest
     * entries first */
    for (i = l->n; i > from; i--) {
        if (strcmp(l->seen[i - 1].chain, chain) == 0) {
            return 0;
        }
    }

    if (l->n == l->cap) {
        cap = l->cap ? 2 * l->cap : 256;

        s = realloc(l->seen, cap * sizeof(dgj_audit_seen_t));
        if (s == NULL) {
            return -1;
        }

        l->seen = s;
        l->cap = cap;
    }

    s = &l->seen[l->n++];
    memcpy(s->chain, chain, sizeof(chain));
    s->seq = seq;
    s->file = file;

    return 0;
}


/*
 * Files are placed one by one: each time the earliest (by its first line's
 * time, then name) that no unplaced file must precede.  When none is free
 * (a cycle: files copied twice, or tampered with), the earliest left goes
 * and the verifier reports what is wrong with it.
 */
static int
dgj_audit_place(dgj_audit_file_t *files, size_t n, dgj_audit_seen_list_t *l)
{
    int                 rc;
    size_t              i, j, k, ne, *indeg, *start;
    unsigned char      *placed;
    dgj_audit_edge_t   *e;
    dgj_audit_file_t   *out, **by_time;

    qsort(l->seen, l->n, sizeof(dgj_audit_seen_t), dgj_audit_seen_cmp);

    e = malloc((l->n + 1) * sizeof(dgj_audit_edge_t));
    indeg = calloc(2 * (n + 1), sizeof(size_t));
    placed = calloc(n, 1);
    out = malloc(n * sizeof(dgj_audit_file_t));
    by_time = malloc(n * sizeof(dgj_audit_file_t *));

    rc = -1;

    if (e == NULL || indeg == NULL || placed == NULL || out == NULL
        || by_time == NULL)
    {
        goto done;
    }

    for (i = 0; i < n; i++) {
        by_time[i] = &files[i];
    }

    qsort(by_time, n, sizeof(dgj_audit_file_t *), dgj_audit_file_cmp);

    start = indeg + n + 1;
    ne = 0;

    for (k = 1; k < l->n; k++) {
        if (strcmp(l->seen[k - 1].chain, l->seen[k].chain) == 0
            && l->seen[k - 1].file != l->seen[k].file)
        {
            e[ne].from = l->seen[k - 1].file;
            e[ne].to = l->seen[k].file;
            indeg[e[ne].to]++;
            ne++;
        }
    }

    /* each file's edges together: e[start[i] .. start[i + 1]) */
    qsort(e, ne, sizeof(dgj_audit_edge_t), dgj_audit_edge_cmp);

    for (i = 0, k = 0; i <= n; i++) {
        while (k < ne && e[k].from < i) {
            k++;
        }

        start[i] = k;
    }

    for (j = 0; j < n; j++) {
        for (k = 0; k < n; k++) {
            i = by_time[k] - files;

            if (!placed[i] && indeg[i] == 0) {
                break;
            }
        }

        if (k == n) {
            for (k = 0; placed[by_time[k] - files]; k++) {
                /* void */
            }

            i = by_time[k] - files;
        }

        placed[i] = 1;
        out[j] = files[i];

        for (k = start[i]; k < start[i + 1]; k++) {
            if (indeg[e[k].to] > 0) {
                indeg[e[k].to]--;
            }
        }
    }

    memcpy(files, out, n * sizeof(dgj_audit_file_t));
    rc = 0;

done:

    free(e);
    free(indeg);
    free(placed);
    free(out);
    free(by_time);

    return rc;
}


static int
dgj_audit_file_cmp(const void *a, const void *b)
{
    const dgj_audit_file_t  *x = *(dgj_audit_file_t * const *) a;
    const dgj_audit_file_t  *y = *(dgj_audit_file_t * const *) b;

    if (x->first != y->first) {
        return x->first < y->first ? -1 : 1;
    }

    return strcmp(x->path, y->path);
}


static int
dgj_audit_seen_cmp(const void *a, const void *b)
{
    int                      c;
    const dgj_audit_seen_t  *x = a, *y = b;

    c = strcmp(x->chain, y->chain);
    if (c != 0) {
        return c;
    }

    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }

    return x->file < y->file ? -1 : x->file > y->file;
}


static int
dgj_audit_edge_cmp(const void *a, const void *b)
{
    const dgj_audit_edge_t  *x = a, *y = b;

    if (x->from != y->from) {
        return x->from < y->from ? -1 : 1;
    }

    return x->to < y->to ? -1 : x->to > y->to;
}
