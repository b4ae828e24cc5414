
/*
 * Copyright (C) Daguanjia
 *
 * dgj_pool.h: the request arena.  Blocks of block_size bytes, a list of
 * large allocations and a LIFO list of cleanups.  Reset runs the cleanups,
 * frees everything but the first block and rewinds it, so a worker in
 * steady state makes no malloc() calls for its requests.
 *
 * Fault injection: DGJ_TEST_FAIL_ALLOC=N in the environment, read by
 * dgj_pool_create(), makes the Nth pool allocation from then on fail once
 * (the create itself is number 1).  dgj_pool_fail_alloc() does the same
 * from a test.  Every dgj_pool_create(), dgj_palloc(), dgj_pcalloc(),
 * dgj_pstrndup() and dgj_pool_cleanup_add() call counts as one.
 */


#ifndef DGJ_POOL_H
#define DGJ_POOL_H


#include "dgj_core.h"


#define DGJ_POOL_DEFAULT_SIZE  16384


typedef void (*dgj_pool_cleanup_pt)(void *data);

typedef struct dgj_pool_cleanup_s  dgj_pool_cleanup_t;

struct dgj_pool_cleanup_s {
    dgj_pool_cleanup_pt   handler;
    void                 *data;
    dgj_pool_cleanup_t   *next;
};


/*
 * Creates a pool whose blocks hold block_size bytes (at least 256).
 * Returns NULL on allocation failure.  Owned by the caller: release with
 * dgj_pool_destroy().
 */
dgj_pool_t *dgj_pool_create(size_t block_size);

/*
 * Returns size bytes aligned for any type, or NULL when out of memory.
 * Owned by the pool: never free() it.
 */
void *dgj_palloc(dgj_pool_t *pool, size_t size);

/* dgj_palloc() and zero the memory. */
void *dgj_pcalloc(dgj_pool_t *pool, size_t size);

/*
 * Copies n bytes of s and a terminating NUL into the pool; NULL on
 * failure.  s need not be NUL-terminated.
 */
char *dgj_pstrndup(dgj_pool_t *pool, const char *s, size_t n);

/* printf into the pool; NULL on failure. */
char *dgj_psprintf(dgj_pool_t *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Registers a cleanup.  When size > 0, c->data points to size bytes of
 * pool memory for the caller to fill; otherwise the caller sets c->data.
 * The caller sets c->handler; a NULL handler is skipped.  Cleanups run in
 * reverse order of registration on reset and destroy.  NULL on failure.
 */
dgj_pool_cleanup_t *dgj_pool_cleanup_add(dgj_pool_t *pool, size_t size);

/*
 * Runs the cleanups, frees large allocations and every block but the
 * first, and rewinds the first block.  All pointers into the pool die.
 */
void dgj_pool_reset(dgj_pool_t *pool);

/* dgj_pool_reset() and free the pool itself.  NULL is allowed. */
void dgj_pool_destroy(dgj_pool_t *pool);

/*
 * Test hook: the nth pool allocation from now fails once (n = 1 is the
 * next one); 0 disables.  Process-wide.
 */
void dgj_pool_fail_alloc(unsigned long n);

/* Test hook: pool allocations counted since the last dgj_pool_fail_alloc. */
unsigned long dgj_pool_alloc_count(void);


#endif /* DGJ_POOL_H */
