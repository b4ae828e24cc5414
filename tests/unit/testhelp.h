
/*
 * Copyright (C) Daguanjia
 *
 * testhelp.h: the tiny TAP harness of the C unit tests (in the spirit of
 * redis' testhelp.h) and an in-memory dgj_io_t, so requests can be
 * driven without FastCGI.  Each test_*.c includes it once.
 *
 *   test_cond("pool-1.2: reset keeps first block", p == q);
 *   return test_report();
 */


#ifndef DGJ_TESTHELP_H
#define DGJ_TESTHELP_H


#include "dgj_core.h"
#include "dgj_req.h"

#include <time.h>


#define DGJ_TEST_UNUSED  __attribute__((unused))


static DGJ_TEST_UNUSED int  dgj_test_n;
static DGJ_TEST_UNUSED int  dgj_test_failed;


#define test_cond(descr, cond)                                                \
    do {                                                                      \
        dgj_test_n++;                                                         \
        if (cond) {                                                           \
            printf("ok %d - %s\n", dgj_test_n, descr);                        \
                                                                              \
        } else {                                                              \
            printf("not ok %d - %s\n", dgj_test_n, descr);                    \
            printf("#   failed at %s line %d\n", __FILE__, __LINE__);         \
            dgj_test_failed++;                                                \
        }                                                                     \
        fflush(stdout);                                                       \
    } while (0)


/* the plan comes last (TAP allows it); exit status 1 on any failure */
#define test_report()                                                         \
    (printf("1..%d\n", dgj_test_n),                                           \
     (dgj_test_failed > 0                                                     \
      ? (printf("# %d of %d tests failed\n", dgj_test_failed, dgj_test_n), 1) \
      : 0))


/* seconds on the monotonic clock, for tests that bound a duration */
static DGJ_TEST_UNUSED double
dgj_test_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/* writes text to path (a fixture file); exits 2 when it cannot */
static DGJ_TEST_UNUSED void
dgj_test_write_file(const char *path, const char *text)
{
    FILE  *f;

    f = fopen(path, "w");
    if (f == NULL) {
        exit(2);
    }

    fputs(text, f);
    fclose(f);
}


#define DGJ_TEST_OUT  65536


/* an in-memory transport: parameters, a body to read, a reply buffer */
typedef struct {
    const char *const  *params;     /* name, value, ..., NULL */
    const char         *in;
    size_t              in_len;
    size_t              in_pos;
    size_t              read_chunk; /* 0: all at once */
    int                 read_fail;  /* read returns -1 */
    int                 write_fail; /* write returns -1 */
    char                out[DGJ_TEST_OUT];
    size_t              out_len;
    dgj_io_t            io;
} dgj_test_io_t;


static DGJ_TEST_UNUSED const char *
dgj_test_io_param(void *data, const char *name)
{
    size_t          i;
    dgj_test_io_t  *t = data;

    if (t->params == NULL) {
        return NULL;
    }

    for (i = 0; t->params[i] != NULL; i += 2) {
        if (strcmp(t->params[i], name) == 0) {
            return t->params[i + 1];
        }
    }

    return NULL;
}


static DGJ_TEST_UNUSED ssize_t
dgj_test_io_read(void *data, char *buf, size_t n)
{
    size_t          left;
    dgj_test_io_t  *t = data;

    if (t->read_fail) {
        return -1;
    }

    left = t->in_len - t->in_pos;
    if (n > left) {
        n = left;
    }

    if (t->read_chunk > 0 && n > t->read_chunk) {
        n = t->read_chunk;
    }

    memcpy(buf, t->in + t->in_pos, n);
    t->in_pos += n;

    return (ssize_t) n;
}


static DGJ_TEST_UNUSED int
dgj_test_io_write(void *data, const char *buf, size_t n)
{
    dgj_test_io_t  *t = data;

    if (t->write_fail || n > sizeof(t->out) - 1 - t->out_len) {
        return -1;
    }

    memcpy(t->out + t->out_len, buf, n);
    t->out_len += n;
    t->out[t->out_len] = '\0';

    return 0;
}


/* params: NULL-terminated name/value list; body may be NULL */
static DGJ_TEST_UNUSED void
dgj_test_io_init(dgj_test_io_t *t, const char *const *params,
    const char *body)
{
    memset(t, 0, sizeof(dgj_test_io_t));

    t->params = params;
    t->in = body != NULL ? body : "";
    t->in_len = strlen(t->in);

    t->io.param = dgj_test_io_param;
    t->io.read = dgj_test_io_read;
    t->io.write = dgj_test_io_write;
    t->io.data = t;
}


/* the reply body: what follows the blank line after the headers */
static DGJ_TEST_UNUSED const char *
dgj_test_io_body(const dgj_test_io_t *t)
{
    const char  *p;

    p = strstr(t->out, "\r\n\r\n");

    return p != NULL ? p + 4 : "";
}


/* 1 when the reply headers contain the exact line "name: value" */
static DGJ_TEST_UNUSED int
dgj_test_io_header(const dgj_test_io_t *t, const char *line)
{
    size_t       len;
    const char  *p, *end;

    end = strstr(t->out, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }

    len = strlen(line);

    for (p = t->out; p < end; p = strstr(p, "\r\n") + 2) {
        if (strncmp(p, line, len) == 0 && p[len] == '\r') {
            return 1;
        }
    }

    return 0;
}


#endif /* DGJ_TESTHELP_H */
