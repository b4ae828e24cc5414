
/*
 * Copyright (C) Daguanjia
 *
 * dgj_pool.c: the arena allocator behind r->pool, its cleanups and the
 * DGJ_TEST_FAIL_ALLOC fault hook.  Nothing else in the core calls
 * malloc() for request memory.
 */


#include "dgj_core.h"
#include "dgj_pool.h"


#define DGJ_POOL_ALIGN      16
#define DGJ_POOL_MIN_SIZE   256

#define dgj_pool_align(n)                                                     \
    (((n) + (DGJ_POOL_ALIGN - 1)) & ~((size_t) DGJ_POOL_ALIGN - 1))


typedef struct dgj_pool_block_s  dgj_pool_block_t;
typedef struct dgj_pool_large_s  dgj_pool_large_t;

struct dgj_pool_block_s {
    dgj_pool_block_t  *next;
    unsigned char     *last;
    unsigned char     *end;
};

struct dgj_pool_large_s {
    dgj_pool_large_t  *next;
    void              *alloc;
};

struct dgj_pool_s {
    size_t                block_size;
    dgj_pool_block_t     *first;
    dgj_pool_block_t     *current;
    dgj_pool_large_t     *large;
    dgj_pool_cleanup_t   *cleanup;
};


static int dgj_pool_fault(void);
static void *dgj_palloc_raw(dgj_pool_t *pool, size_t size);
static void *dgj_palloc_block(dgj_pool_t *pool, size_t size);
static void *dgj_palloc_large(dgj_pool_t *pool, size_t size);


static unsigned long  dgj_pool_allocs;
static unsigned long  dgj_pool_fail_at;


dgj_pool_t *
dgj_pool_create(size_t block_size)
{
    size_t             head;
    char              *env, *end;
    dgj_pool_t        *pool;
    unsigned long      n;
    unsigned char     *mem;
    dgj_pool_block_t  *b;

    env = getenv("DGJ_TEST_FAIL_ALLOC");
    if (env != NULL && *env >= '0' && *env <= '9') {
        errno = 0;
        n = strtoul(env, &end, 10);
        if (errno == 0 && *end == '\0') {
            dgj_pool_fail_alloc(n);
        }
    }

    if (dgj_pool_fault()) {
        return NULL;
    }

    if (block_size < DGJ_POOL_MIN_SIZE) {
        block_size = DGJ_POOL_MIN_SIZE;
    }

    block_size = dgj_pool_align(block_size);

    /* the pool and its first block share one allocation */
    head = dgj_pool_align(sizeof(dgj_pool_t))
           + dgj_pool_align(sizeof(dgj_pool_block_t));

    mem = malloc(head + block_size);
    if (mem == NULL) {
        return NULL;
    }

    pool = (dgj_pool_t *) mem;
    b = (dgj_pool_block_t *) (mem + dgj_pool_align(sizeof(dgj_pool_t)));

    b->next = NULL;
    b->last = mem + head;
    b->end = mem + head + block_size;

    pool->block_size = block_size;
    pool->first = b;
    pool->current = b;
    pool->large = NULL;
    pool->cleanup = NULL;

    return pool;
}


void *
dgj_palloc(dgj_pool_t *pool, size_t size)
{
    if (dgj_pool_fault()) {
        return NULL;
    }

    return dgj_palloc_raw(pool, size);
}


void *
dgj_pcalloc(dgj_pool_t *pool, size_t size)
{
    void  *p;

    p = dgj_palloc(pool, size);
    if (p != NULL) {
        memset(p, 0, size);
    }

    return p;
}


char *
dgj_pstrndup(dgj_pool_t *pool, const char *s, size_t n)
{
    char  *p;

    if (n == SIZE_MAX) {
        return NULL;
    }

    p = dgj_palloc(pool, n + 1);
    if (p == NULL) {
        return NULL;
    }

    if (n > 0) {
        memcpy(p, s, n);
    }

    p[n] = '\0';

    return p;
}


char *
dgj_psprintf(dgj_pool_t *pool, const char *fmt, ...)
{
    int       n;
    char     *p;
    va_list   ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    if (n < 0) {
        return NULL;
    }

    p = dgj_palloc(pool, (size_t) n + 1);
    if (p == NULL) {
        return NULL;
    }

    va_start(ap, fmt);
    vsnprintf(p, (size_t) n + 1, fmt, ap);
    va_end(ap);

    return p;
}


dgj_pool_cleanup_t *
dgj_pool_cleanup_add(dgj_pool_t *pool, size_t size)
{
    dgj_pool_cleanup_t  *c;

    if (dgj_pool_fault()) {
        return NULL;
    }

    c = dgj_palloc_raw(pool, sizeof(dgj_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    c->data = NULL;

    if (size > 0) {
        c->data = dgj_palloc_raw(pool, size);
        if (c->data == NULL) {
            return NULL;
        }
    }

    c->handler = NULL;
    c->next = pool->cleanup;
    pool->cleanup = c;

    return c;
}


void
dgj_pool_reset(dgj_pool_t *pool)
{
    dgj_pool_block_t    *b, *bn;
    dgj_pool_large_t    *l;
    dgj_pool_cleanup_t  *c;

    /* a cleanup may not allocate from the pool it is being run for */
    for (c = pool->cleanup; c != NULL; c = c->next) {
        if (c->handler != NULL) {
            c->handler(c->data);
        }
    }

    pool->cleanup = NULL;

    for (l = pool->large; l != NULL; l = l->next) {
        free(l->alloc);
    }

    pool->large = NULL;

    for (b = pool->first->next; b != NULL; b = bn) {
        bn = b->next;
        free(b);
    }

    b = pool->first;
    b->next = NULL;
    b->last = (unsigned char *) pool
              + dgj_pool_align(sizeof(dgj_pool_t))
              + dgj_pool_align(sizeof(dgj_pool_block_t));

    pool->current = b;
}


void
dgj_pool_destroy(dgj_pool_t *pool)
{
    if (pool == NULL) {
        return;
    }

    dgj_pool_reset(pool);

    free(pool);
}


void
dgj_pool_fail_alloc(unsigned long n)
{
    dgj_pool_allocs = 0;
    dgj_pool_fail_at = n;
}


unsigned long
dgj_pool_alloc_count(void)
{
    return dgj_pool_allocs;
}


static int
dgj_pool_fault(void)
{
    dgj_pool_allocs++;

    if (dgj_pool_fail_at != 0 && dgj_pool_allocs == dgj_pool_fail_at) {
        return 1;
    }

    return 0;
}


static void *
dgj_palloc_raw(dgj_pool_t *pool, size_t size)
{
    void              *p;
    dgj_pool_block_t  *b;

    if (size == 0) {
        size = 1;
    }

    if (size > pool->block_size / 2) {
        return dgj_palloc_large(pool, size);
    }

    size = dgj_pool_align(size);

    for (b = pool->current; b != NULL; b = b->next) {
        if ((size_t) (b->end - b->last) >= size) {
            p = b->last;
            b->last += size;
            return p;
        }
    }

    return dgj_palloc_block(pool, size);
}


static void *
dgj_palloc_block(dgj_pool_t *pool, size_t size)
{
    size_t             head;
    unsigned char     *mem;
    dgj_pool_block_t  *b, *last;

    head = dgj_pool_align(sizeof(dgj_pool_block_t));

    mem = malloc(head + pool->block_size);
    if (mem == NULL) {
        return NULL;
    }

    b = (dgj_pool_block_t *) mem;
    b->next = NULL;
    b->last = mem + head + size;
    b->end = mem + head + pool->block_size;

    for (last = pool->current; last->next != NULL; last = last->next) {
        /* void */
    }

    last->next = b;

    /* a nearly full current block is skipped from now on */
    if ((size_t) (pool->current->end - pool->current->last) < 64) {
        pool->current = pool->current->next;
    }

    return mem + head;
}


static void *
dgj_palloc_large(dgj_pool_t *pool, size_t size)
{
    void              *p;
    dgj_pool_large_t  *l;

    l = dgj_palloc_raw(pool, sizeof(dgj_pool_large_t));
    if (l == NULL) {
        return NULL;
    }

    p = malloc(size);
    if (p == NULL) {
        return NULL;
    }

    l->alloc = p;
    l->next = pool->large;
    pool->large = l;

    return p;
}
