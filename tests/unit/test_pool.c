
/*
 * Copyright (C) Daguanjia
 *
 * test_pool.c: dgj_pool: alignment, blocks, large allocations, reset
 * keeping the first block, cleanup order, and every allocation failure
 * path through DGJ_TEST_FAIL_ALLOC and dgj_pool_fail_alloc().
 */


#include "dgj_core.h"
#include "dgj_pool.h"

#include "testhelp.h"


static int  test_pool_order[16];
static int  test_pool_norder;


static void
test_pool_cleanup(void *data)
{
    int  *id = data;

    test_pool_order[test_pool_norder++] = *id;
}


/* an operation making five allocations, failing cleanly on any of them */
static int
test_pool_compound(dgj_pool_t *pool)
{
    int                  *id;
    char                 *a, *b, *c;
    dgj_pool_cleanup_t   *cl;

    a = dgj_palloc(pool, 100);
    if (a == NULL) {
        return -1;
    }

    b = dgj_pcalloc(pool, 20000);
    if (b == NULL) {
        return -1;
    }

    c = dgj_pstrndup(pool, "abc", 3);
    if (c == NULL) {
        return -1;
    }

    cl = dgj_pool_cleanup_add(pool, sizeof(int));
    if (cl == NULL) {
        return -1;
    }

    id = cl->data;
    *id = 9;
    cl->handler = test_pool_cleanup;

    if (dgj_psprintf(pool, "%s-%d", c, 7) == NULL) {
        return -1;
    }

    return 0;
}


int
main(void)
{
    int                  i, ok, *id;
    char                *s, *big, *p[64];
    size_t               k;
    dgj_pool_t          *pool;
    unsigned long        n, total;
    dgj_pool_cleanup_t  *c;

    unsetenv("DGJ_TEST_FAIL_ALLOC");

    pool = dgj_pool_create(1024);
    test_cond("pool-1.1: create returns a pool", pool != NULL);
    if (pool == NULL) {
        return test_report();
    }

    ok = 1;
    for (k = 1; k < 64; k++) {
        p[k] = dgj_palloc(pool, k);
        if (p[k] == NULL || ((uintptr_t) p[k] % 16) != 0) {
            ok = 0;
        }

        memset(p[k], 0xa5, k);
    }

    test_cond("pool-1.2: allocations are 16-byte aligned across blocks",
              ok);

    dgj_pool_reset(pool);
    s = dgj_palloc(pool, 1);
    dgj_pool_reset(pool);
    test_cond("pool-1.3: reset keeps first block",
              s == p[1] && dgj_palloc(pool, 1) == s);

    s = dgj_pcalloc(pool, 300);
    ok = (s != NULL);
    for (k = 0; ok && k < 300; k++) {
        ok = (s[k] == 0);
    }

    test_cond("pool-1.4: pcalloc zeroes the memory", ok);

    s = dgj_pstrndup(pool, "hello world", 5);
    test_cond("pool-1.5: pstrndup copies n bytes and terminates",
              s != NULL && strcmp(s, "hello") == 0);

    s = dgj_pstrndup(pool, NULL, 0);
    test_cond("pool-1.6: pstrndup of zero bytes is an empty string",
              s != NULL && s[0] == '\0');

    big = dgj_palloc(pool, 100000);
    test_cond("pool-1.7: a large allocation is served", big != NULL);
    if (big != NULL) {
        memset(big, 1, 100000);
    }

    s = dgj_psprintf(pool, "%s=%d", "n", 42);
    test_cond("pool-1.8: psprintf formats into the pool",
              s != NULL && strcmp(s, "n=42") == 0);

    /* many blocks, then reset: ASan/valgrind would see leaks or misuse */
    for (i = 0; i < 1000; i++) {
        s = dgj_palloc(pool, 200);
        if (s != NULL) {
            memset(s, 2, 200);
        }
    }

    dgj_pool_reset(pool);
    test_cond("pool-1.9: after many blocks reset rewinds to the first",
              dgj_palloc(pool, 1) == p[1]);

    test_pool_norder = 0;

    for (i = 1; i <= 3; i++) {
        c = dgj_pool_cleanup_add(pool, sizeof(int));
        if (c != NULL) {
            id = c->data;
            *id = i;
            c->handler = test_pool_cleanup;
        }
    }

    c = dgj_pool_cleanup_add(pool, 0);
    test_cond("pool-2.1: a cleanup without data starts with NULL handler",
              c != NULL && c->handler == NULL && c->data == NULL);

    dgj_pool_reset(pool);
    test_cond("pool-2.2: cleanups run in reverse order on reset",
              test_pool_norder == 3 && test_pool_order[0] == 3
              && test_pool_order[1] == 2 && test_pool_order[2] == 1);

    dgj_pool_reset(pool);
    test_cond("pool-2.3: a cleanup runs once", test_pool_norder == 3);

    c = dgj_pool_cleanup_add(pool, sizeof(int));
    if (c != NULL) {
        id = c->data;
        *id = 7;
        c->handler = test_pool_cleanup;
    }

    dgj_pool_destroy(pool);
    test_cond("pool-2.4: destroy runs the cleanups",
              test_pool_norder == 4 && test_pool_order[3] == 7);

    dgj_pool_destroy(NULL);
    test_cond("pool-2.5: destroy(NULL) is a no-op", 1);

    /* fault injection through the environment */
    setenv("DGJ_TEST_FAIL_ALLOC", "1", 1);
    pool = dgj_pool_create(1024);
    test_cond("pool-3.1: DGJ_TEST_FAIL_ALLOC=1 fails the create",
              pool == NULL);

    setenv("DGJ_TEST_FAIL_ALLOC", "3", 1);
    pool = dgj_pool_create(1024);
    unsetenv("DGJ_TEST_FAIL_ALLOC");

    test_cond("pool-3.2: DGJ_TEST_FAIL_ALLOC=3 lets the create succeed",
              pool != NULL);
    if (pool == NULL) {
        return test_report();
    }

    s = dgj_palloc(pool, 10);
    test_cond("pool-3.3: allocation 2 succeeds", s != NULL);
    s = dgj_palloc(pool, 10);
    test_cond("pool-3.4: allocation 3 fails", s == NULL);
    s = dgj_palloc(pool, 10);
    test_cond("pool-3.5: allocation 4 succeeds again", s != NULL);

    dgj_pool_fail_alloc(1);
    test_cond("pool-3.6: cleanup_add fails under injection",
              dgj_pool_cleanup_add(pool, 8) == NULL);

    dgj_pool_fail_alloc(1);
    test_cond("pool-3.7: pstrndup fails under injection",
              dgj_pstrndup(pool, "x", 1) == NULL);

    dgj_pool_fail_alloc(1);
    test_cond("pool-3.8: psprintf fails under injection",
              dgj_psprintf(pool, "%d", 1) == NULL);

    /* sqlite style: fail each allocation of an operation in turn */
    dgj_pool_fail_alloc(0);
    test_pool_norder = 0;
    test_cond("pool-4.1: the compound operation succeeds",
              test_pool_compound(pool) == 0);
    total = dgj_pool_alloc_count();
    test_cond("pool-4.2: the compound operation makes 5 allocations",
              total == 5);

    ok = 1;
    for (n = 1; n <= total; n++) {
        dgj_pool_reset(pool);
        dgj_pool_fail_alloc(n);
        if (test_pool_compound(pool) != -1) {
            ok = 0;
        }
    }

    test_cond("pool-4.3: every allocation failure is reported", ok);

    dgj_pool_reset(pool);
    dgj_pool_fail_alloc(total + 1);
    test_cond("pool-4.4: failing past the last allocation succeeds",
              test_pool_compound(pool) == 0);

    dgj_pool_fail_alloc(0);
    dgj_pool_destroy(pool);

    return test_report();
}
