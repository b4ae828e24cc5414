
/*
 * Copyright (C) Daguanjia developers
 *
 * ngx_http_dgj_limit_zone.c: the request side of ngx_http_dgj_limit_module
 * (PREACCESS): GCRA state per key in the zones (slab + hash index + LRU),
 * the rules of a location with role multipliers, allow-list and dry run,
 * the 429 reply with RateLimit headers, $dgj_limit_status and the
 * Prometheus status API.  Directives and configuration:
 * ngx_http_dgj_limit_module.c.
 */


#include <ngx_md5.h>

#include "dgj_digits.h"
#include "ngx_http_dgj_limit.h"


#define NGX_HTTP_DGJ_LIMIT_PEEK      0
#define NGX_HTTP_DGJ_LIMIT_CHECK     1
#define NGX_HTTP_DGJ_LIMIT_FORCE     2

#define NGX_HTTP_DGJ_LIMIT_MAX_KEY   255
#define NGX_HTTP_DGJ_LIMIT_EVICT     64

/*
 * A key used again while among the most recent 1/NGX_HTTP_DGJ_LIMIT_FRESH
 * of the zone's keys keeps its LRU place: moving it would write to two
 * other nodes (two cache misses) for almost no change in eviction order.
 */
#define NGX_HTTP_DGJ_LIMIT_FRESH     4

/* one hash bucket (4 bytes) per this many bytes of zone */
#define NGX_HTTP_DGJ_LIMIT_BUCKET    64


/* what one rule decided for one request (microseconds) */
typedef struct {
    uint64_t                      interval;
    uint64_t                      tau;
    uint64_t                      free;
    uint64_t                      excess;
    uint64_t                      reset;
    uint64_t                      delay;
    ngx_uint_t                    remaining;
    ngx_uint_t                    limit;
    ngx_uint_t                    rejected;
} ngx_http_dgj_limit_calc_t;


typedef struct {
    ngx_uint_t                    status;
    ngx_uint_t                    done;
} ngx_http_dgj_limit_ctx_t;


static ngx_int_t ngx_http_dgj_limit_rules(ngx_http_request_t *r,
    ngx_http_dgj_limit_loc_conf_t *llcf, ngx_http_dgj_limit_main_conf_t *lmcf,
    ngx_http_dgj_limit_ctx_t *ctx);
static ngx_uint_t ngx_http_dgj_limit_factor(ngx_http_request_t *r,
    ngx_http_dgj_limit_loc_conf_t *llcf,
    ngx_http_dgj_limit_main_conf_t *lmcf);
static void ngx_http_dgj_limit_delay_handler(ngx_http_request_t *r);
static uint32_t ngx_http_dgj_limit_hash(uint32_t tag, ngx_str_t *key);
static ngx_int_t ngx_http_dgj_limit_lookup(ngx_http_dgj_limit_zone_t *zone,
    uint32_t tag, uint32_t hash, ngx_str_t *key,
    ngx_http_dgj_limit_calc_t *c, ngx_uint_t mode);
static void ngx_http_dgj_limit_expire(ngx_http_dgj_limit_zone_t *zone,
    uint64_t now, ngx_uint_t force);
static void ngx_http_dgj_limit_unlink(ngx_http_dgj_limit_zone_t *zone,
    ngx_http_dgj_limit_node_t *lr, uint32_t off);
static ngx_int_t ngx_http_dgj_limit_headers(ngx_http_request_t *r,
    ngx_http_dgj_limit_calc_t *c);
static ngx_int_t ngx_http_dgj_limit_add_header(ngx_http_request_t *r,
    ngx_str_t *name, uint64_t value);
static ngx_int_t ngx_http_dgj_limit_reject(ngx_http_request_t *r,
    ngx_uint_t status, uint64_t retry_after, const char *code,
    const char *message);
static ngx_http_dgj_limit_ctx_t *ngx_http_dgj_limit_get_ctx(
    ngx_http_request_t *r);
static void ngx_http_dgj_limit_cleanup(void *data);


static ngx_str_t  ngx_http_dgj_limit_status_names[] = {
    ngx_null_string,
    ngx_string("PASSED"),
    ngx_string("DELAYED"),
    ngx_string("REJECTED"),
    ngx_string("BANNED"),
    ngx_string("DRY_RUN")
};


static const char  *ngx_http_dgj_limit_counter_names[] = {
    "passed", "delayed", "rejected", "banned", "dry_run"
};


ngx_int_t
ngx_http_dgj_limit_handler(ngx_http_request_t *r)
{
    time_t                           until;
    ngx_int_t                        rc;
    ngx_str_t                        reason;
    ngx_uint_t                       i, status;
    ngx_pool_cleanup_t              *cln;
    ngx_http_dgj_limit_ctx_t        *ctx;
    ngx_http_dgj_limit_rule_t      **rules;
    ngx_http_dgj_limit_zone_t       *zone;
    ngx_http_dgj_limit_loc_conf_t   *llcf;
    ngx_http_dgj_limit_main_conf_t  *lmcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_dgj_limit_get_ctx(r);

    if (ctx != NULL && ctx->done) {
        return NGX_DECLINED;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_dgj_limit_module);
    lmcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_limit_module);

    if (llcf->control
        || (lmcf->ban.shm_zone == NULL && llcf->rules.nelts == 0))
    {
        return NGX_DECLINED;
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_dgj_limit_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_dgj_limit_cleanup;
        cln->data = ctx;

        ngx_http_set_ctx(r, ctx, ngx_http_dgj_limit_module);
    }

    ctx->done = 1;

    if (lmcf->ban.shm_zone != NULL) {
        rc = ngx_http_dgj_limit_ban_check(r, lmcf, &until, &reason);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_OK) {
            status = llcf->dry_run ? NGX_HTTP_DGJ_LIMIT_C_DRY_RUN
                                   : NGX_HTTP_DGJ_LIMIT_C_BANNED;
            rules = llcf->rules.elts;

            for (i = 0; i < llcf->rules.nelts; i++) {
                zone = rules[i]->shm_zone->data;
                (void) ngx_atomic_fetch_add(
                           &zone->sh->stats[rules[i]->slot].count[status], 1);
            }

            ngx_log_error(llcf->log_level, r->connection->log, 0,
                          "dgj limit: %s: banned until %T: \"%V\"",
                          llcf->dry_run ? "dry run" : "rejected",
                          until, &reason);

            if (llcf->dry_run) {
                ctx->status = NGX_HTTP_DGJ_LIMIT_DRY_RUN;
                return NGX_DECLINED;
            }

            ctx->status = NGX_HTTP_DGJ_LIMIT_BANNED;

            return ngx_http_dgj_limit_reject(r, NGX_HTTP_FORBIDDEN,
                       until ? (uint64_t) (until - ngx_time()) : 0, "banned",
                       "access from this address or account is blocked");
        }
    }

    if (llcf->rules.nelts == 0) {
        return NGX_DECLINED;
    }

    if (llcf->allow
        && ngx_cidr_match(r->connection->sockaddr, llcf->allow) == NGX_OK)
    {
        ctx->status = NGX_HTTP_DGJ_LIMIT_PASSED;
        return NGX_DECLINED;
    }

    return ngx_http_dgj_limit_rules(r, llcf, lmcf, ctx);
}


static ngx_int_t
ngx_http_dgj_limit_rules(ngx_http_request_t *r,
    ngx_http_dgj_limit_loc_conf_t *llcf, ngx_http_dgj_limit_main_conf_t *lmcf,
    ngx_http_dgj_limit_ctx_t *ctx)
{
    u_char                      digest[16];
    uint32_t                    hash;
    ngx_md5_t                   md5;
    ngx_int_t                   rc;
    ngx_str_t                  *keys;
    ngx_uint_t                  i, n, last, factor, reject, dry, counter;
    ngx_msec_t                  delay;
    ngx_http_dgj_limit_calc_t  *calcs, *c, *tight;
    ngx_http_dgj_limit_rule_t  *rule, **rules;
    ngx_http_dgj_limit_zone_t  *zone;

    rules = llcf->rules.elts;
    n = llcf->rules.nelts;

    keys = ngx_pcalloc(r->pool, n * (sizeof(ngx_str_t)
                                     + sizeof(ngx_http_dgj_limit_calc_t)));
    if (keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    calcs = (ngx_http_dgj_limit_calc_t *) (keys + n);

    factor = ngx_http_dgj_limit_factor(r, llcf, lmcf);

    /* the last rule with a key decides and commits in one step */

    last = n;

    for (i = 0; i < n; i++) {
        if (ngx_http_complex_value(r, &rules[i]->key, &keys[i]) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (keys[i].len > NGX_HTTP_DGJ_LIMIT_MAX_KEY) {
            ngx_md5_init(&md5);
            ngx_md5_update(&md5, keys[i].data, keys[i].len);
            ngx_md5_final(digest, &md5);

            keys[i].data = ngx_pnalloc(r->pool, sizeof(digest));
            if (keys[i].data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(keys[i].data, digest, sizeof(digest));
            keys[i].len = sizeof(digest);
        }

        if (keys[i].len) {
            last = i;
        }

        c = &calcs[i];
        c->interval = rules[i]->interval * 100 / factor;
        if (c->interval == 0) {
            c->interval = 1;
        }

        c->limit = rules[i]->burst * factor / 100;
        c->tau = c->limit * c->interval;
        c->free = (rules[i]->delay == NGX_HTTP_DGJ_LIMIT_NODELAY)
                  ? (uint64_t) -1
                  : rules[i]->delay * factor / 100 * c->interval;
    }

    if (last == n) {
        return NGX_DECLINED;
    }

    reject = 0;
    dry = 0;
    tight = NULL;

    for (i = 0; i <= last; i++) {
        if (keys[i].len == 0) {
            continue;
        }

        rule = rules[i];
        zone = rule->shm_zone->data;
        c = &calcs[i];

        hash = ngx_http_dgj_limit_hash(rule->tag, &keys[i]);

        ngx_shmtx_lock(&zone->shpool->mutex);

        rc = ngx_http_dgj_limit_lookup(zone, rule->tag, hash, &keys[i], c,
                                       (i == last) ? NGX_HTTP_DGJ_LIMIT_CHECK
                                                   : NGX_HTTP_DGJ_LIMIT_PEEK);

        ngx_shmtx_unlock(&zone->shpool->mutex);

        if (rc == NGX_BUSY) {
            (void) ngx_atomic_fetch_add(&zone->sh->stats[rule->slot].count[
                       llcf->dry_run ? NGX_HTTP_DGJ_LIMIT_C_DRY_RUN
                                     : NGX_HTTP_DGJ_LIMIT_C_REJECTED], 1);

            ngx_log_error(llcf->log_level, r->connection->log, 0,
                          "dgj limit: %s: zone \"%V\" rule \"%V\", "
                          "excess %uL ms",
                          llcf->dry_run ? "dry run" : "rejected",
                          &rule->shm_zone->shm.name, &rule->name,
                          (c->excess - c->tau) / 1000);

            if (zone->auto_ban && !llcf->dry_run) {
                ngx_http_dgj_limit_ban_strike(r, lmcf, zone);
            }

            if (!llcf->dry_run) {
                reject = 1;
                tight = c;
                break;
            }

            dry = 1;
            continue;
        }

        if (tight == NULL || c->remaining < tight->remaining) {
            tight = c;
        }
    }

    if (reject) {
        ctx->status = NGX_HTTP_DGJ_LIMIT_REJECTED;

        if (ngx_http_dgj_limit_headers(r, tight) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_dgj_limit_reject(r, llcf->status_code,
                   (tight->excess - tight->tau + 999999) / 1000000,
                   "too_many_requests",
                   "too many requests, please retry later");
    }

    /* every rule passed: the ones only looked at are charged now */

    delay = 0;

    for (i = 0; i <= last; i++) {
        if (keys[i].len == 0 || calcs[i].rejected) {
            continue;
        }

        rule = rules[i];
        zone = rule->shm_zone->data;
        c = &calcs[i];

        if (i != last) {
            hash = ngx_http_dgj_limit_hash(rule->tag, &keys[i]);

            ngx_shmtx_lock(&zone->shpool->mutex);

            (void) ngx_http_dgj_limit_lookup(zone, rule->tag, hash, &keys[i],
                                             c, NGX_HTTP_DGJ_LIMIT_FORCE);

            ngx_shmtx_unlock(&zone->shpool->mutex);
        }

        if (c->delay / 1000 > delay) {
            delay = c->delay / 1000;
        }
    }

    counter = delay ? NGX_HTTP_DGJ_LIMIT_C_DELAYED
                    : NGX_HTTP_DGJ_LIMIT_C_PASSED;

    for (i = 0; i <= last; i++) {
        if (keys[i].len && !calcs[i].rejected) {
            zone = rules[i]->shm_zone->data;
            (void) ngx_atomic_fetch_add(
                       &zone->sh->stats[rules[i]->slot].count[counter], 1);
        }
    }

    if (dry) {
        ctx->status = NGX_HTTP_DGJ_LIMIT_DRY_RUN;

    } else {
        ctx->status = delay ? NGX_HTTP_DGJ_LIMIT_DELAYED
                            : NGX_HTTP_DGJ_LIMIT_PASSED;
    }

    if (llcf->headers && tight && ngx_http_dgj_limit_headers(r, tight)
                                  != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (delay == 0) {
        return NGX_DECLINED;
    }

    ngx_log_error(llcf->delay_log_level, r->connection->log, 0,
                  "dgj limit: delayed %M ms", delay);

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_dgj_limit_delay_handler;
    ngx_add_timer(r->connection->write, delay);

    return NGX_AGAIN;
}


static ngx_uint_t
ngx_http_dgj_limit_factor(ngx_http_request_t *r,
    ngx_http_dgj_limit_loc_conf_t *llcf, ngx_http_dgj_limit_main_conf_t *lmcf)
{
    u_char                     *p, *last, *comma;
    ngx_uint_t                  i, factor, best;
    ngx_http_variable_value_t  *v;
    ngx_http_dgj_limit_role_t  *roles;

    if (llcf->roles == NULL || lmcf->roles_index == NGX_ERROR) {
        return 100;
    }

    v = ngx_http_get_indexed_variable(r, lmcf->roles_index);

    if (v == NULL || v->not_found || v->len == 0) {
        return 100;
    }

    roles = llcf->roles->elts;
    best = 0;

    p = v->data;
    last = v->data + v->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        for (i = 0; i < llcf->roles->nelts; i++) {
            if (roles[i].name.len == (size_t) (comma - p)
                && ngx_strncmp(roles[i].name.data, p, comma - p) == 0)
            {
                factor = roles[i].factor;
                if (factor > best) {
                    best = factor;
                }
            }
        }

        p = comma + 1;
    }

    return best ? best : 100;
}


static void
ngx_http_dgj_limit_delay_handler(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (!wev->timedout) {

        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    wev->timedout = 0;

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


#define ngx_http_dgj_limit_node(shpool, off)                                 \
    ((ngx_http_dgj_limit_node_t *) ((u_char *) (shpool) + (off)))

#define ngx_http_dgj_limit_off(shpool, lr)                                   \
    ((uint32_t) ((u_char *) (lr) - (u_char *) (shpool)))

#define ngx_http_dgj_limit_tat(lr)                                           \
    (((uint64_t) (lr)->tat_hi << 32) | (lr)->tat_lo)


static uint64_t
ngx_http_dgj_limit_now(ngx_http_dgj_limit_shctx_t *sh)
{
    uint64_t     now;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000000 + tp->msec * 1000;

    /* a clock set back before the zone's epoch counts as the epoch */

    return (now > sh->epoch) ? now - sh->epoch : 0;
}


/* MurmurHash2 of the key, the rule's tag mixed in (rules share a zone) */
static uint32_t
ngx_http_dgj_limit_hash(uint32_t tag, ngx_str_t *key)
{
    uint32_t  h;

    h = ngx_murmur_hash2(key->data, key->len) ^ (tag * 0x9e3779b1);

    h ^= h >> 15;
    h *= 0x5bd1e995;
    h ^= h >> 13;

    return h;
}


static void
ngx_http_dgj_limit_set_tat(ngx_http_dgj_limit_node_t *lr, uint64_t tat)
{
    if (tat > 0xffffffffffffULL) {
        tat = 0xffffffffffffULL;
    }

    lr->tat_hi = (uint16_t) (tat >> 32);
    lr->tat_lo = (uint32_t) tat;
}


static void
ngx_http_dgj_limit_lru_remove(ngx_http_dgj_limit_zone_t *zone,
    ngx_http_dgj_limit_node_t *lr)
{
    ngx_http_dgj_limit_shctx_t  *sh;

    sh = zone->sh;

    if (lr->prev) {
        ngx_http_dgj_limit_node(zone->shpool, lr->prev)->next = lr->next;

    } else {
        sh->lru_head = lr->next;
    }

    if (lr->next) {
        ngx_http_dgj_limit_node(zone->shpool, lr->next)->prev = lr->prev;

    } else {
        sh->lru_tail = lr->prev;
    }
}


static void
ngx_http_dgj_limit_lru_push(ngx_http_dgj_limit_zone_t *zone,
    ngx_http_dgj_limit_node_t *lr)
{
    uint32_t                     off;
    ngx_http_dgj_limit_shctx_t  *sh;

    sh = zone->sh;
    off = ngx_http_dgj_limit_off(zone->shpool, lr);

    lr->prev = 0;
    lr->next = sh->lru_head;
    lr->stamp = sh->moves++;

    if (sh->lru_head) {
        ngx_http_dgj_limit_node(zone->shpool, sh->lru_head)->prev = off;

    } else {
        sh->lru_tail = off;
    }

    sh->lru_head = off;
}


/*
 * The key was used: to the LRU head, unless it is already among the most
 * recent keys.  At most sh->moves - lr->stamp nodes went ahead of it since
 * it was last put at the head, so a small difference proves it is near.
 */
static void
ngx_http_dgj_limit_lru_touch(ngx_http_dgj_limit_zone_t *zone,
    ngx_http_dgj_limit_node_t *lr)
{
    ngx_http_dgj_limit_shctx_t  *sh;

    sh = zone->sh;

    if ((uint32_t) (sh->moves - lr->stamp)
        < sh->keys / NGX_HTTP_DGJ_LIMIT_FRESH)
    {
        return;
    }

    ngx_http_dgj_limit_lru_remove(zone, lr);
    ngx_http_dgj_limit_lru_push(zone, lr);
}


/*
 * GCRA for one key, with the zone locked.  PEEK decides without changing
 * anything; CHECK also charges the request when it conforms; FORCE charges
 * it whatever the state (a later rule already admitted the request).
 * Returns NGX_OK (conforms; c says by how much) or NGX_BUSY (rejected).
 */
static ngx_int_t
ngx_http_dgj_limit_lookup(ngx_http_dgj_limit_zone_t *zone, uint32_t tag,
    uint32_t hash, ngx_str_t *key, ngx_http_dgj_limit_calc_t *c,
    ngx_uint_t mode)
{
    size_t                       size;
    uint32_t                     off, *bucket;
    uint64_t                     now, tat, base;
    ngx_uint_t                   i;
    ngx_http_dgj_limit_node_t   *lr;
    ngx_http_dgj_limit_shctx_t  *sh;

    sh = zone->sh;
    now = ngx_http_dgj_limit_now(sh);

    lr = NULL;

    for (off = sh->buckets[hash & sh->mask]; off; off = lr->link) {
        lr = ngx_http_dgj_limit_node(zone->shpool, off);

        if (lr->hash == hash
            && lr->tag == tag
            && lr->len == key->len
            && ngx_memcmp(lr->data, key->data, key->len) == 0)
        {
            break;
        }
    }

    if (off == 0) {
        lr = NULL;
    }

    tat = lr ? ngx_http_dgj_limit_tat(lr) : now;
    base = (tat > now) ? tat : now;

    c->excess = base - now;
    c->rejected = (c->excess > c->tau);

    if (c->rejected && mode != NGX_HTTP_DGJ_LIMIT_FORCE) {
        c->remaining = 0;
        c->reset = c->excess;
        c->delay = 0;

        if (lr) {
            ngx_http_dgj_limit_lru_touch(zone, lr);
        }

        return NGX_BUSY;
    }

    c->rejected = 0;
    c->reset = c->excess + c->interval;
    c->remaining = (c->excess <= c->tau)
                   ? (ngx_uint_t) ((c->tau - c->excess) / c->interval) : 0;
    c->delay = (c->excess > c->free) ? c->excess - c->free : 0;

    if (mode == NGX_HTTP_DGJ_LIMIT_PEEK) {
        return NGX_OK;
    }

    if (lr) {
        ngx_http_dgj_limit_set_tat(lr, base + c->interval);
        ngx_http_dgj_limit_lru_touch(zone, lr);
        return NGX_OK;
    }

    size = offsetof(ngx_http_dgj_limit_node_t, data) + key->len;

    ngx_http_dgj_limit_expire(zone, now, 0);

    lr = ngx_slab_alloc_locked(zone->shpool, size);

    /* a full zone forgets its least recently used keys, never refuses */

    for (i = 0; lr == NULL && i < NGX_HTTP_DGJ_LIMIT_EVICT; i++) {
        if (sh->lru_tail == 0) {
            break;
        }

        ngx_http_dgj_limit_expire(zone, now, 1);
        lr = ngx_slab_alloc_locked(zone->shpool, size);
    }

    if (lr == NULL) {
        (void) ngx_atomic_fetch_add(&sh->alloc_failed, 1);
        return NGX_OK;
    }

    lr->hash = hash;
    lr->tag = tag;
    lr->len = (u_char) key->len;
    ngx_memcpy(lr->data, key->data, key->len);
    ngx_http_dgj_limit_set_tat(lr, base + c->interval);

    bucket = &sh->buckets[hash & sh->mask];
    lr->link = *bucket;
    *bucket = ngx_http_dgj_limit_off(zone->shpool, lr);

    ngx_http_dgj_limit_lru_push(zone, lr);
    sh->keys++;

    return NGX_OK;
}


/*
 * force == 0 drops up to two least recently used keys whose state has run
 * out (tat in the past: the same as no state); force == 1 drops the least
 * recently used key whatever its state.
 */
static void
ngx_http_dgj_limit_expire(ngx_http_dgj_limit_zone_t *zone, uint64_t now,
    ngx_uint_t force)
{
    uint32_t                     off;
    ngx_uint_t                   n;
    ngx_http_dgj_limit_node_t   *lr;
    ngx_http_dgj_limit_shctx_t  *sh;

    sh = zone->sh;

    for (n = 0; n < 2 && sh->lru_tail; n++) {

        off = sh->lru_tail;
        lr = ngx_http_dgj_limit_node(zone->shpool, off);

        if (!force && ngx_http_dgj_limit_tat(lr) > now) {
            return;
        }

        ngx_http_dgj_limit_lru_remove(zone, lr);
        ngx_http_dgj_limit_unlink(zone, lr, off);
        ngx_slab_free_locked(zone->shpool, lr);
        sh->keys--;

        if (force) {
            (void) ngx_atomic_fetch_add(&sh->evicted, 1);
            return;
        }
    }
}


/* takes the node at `off` out of its hash chain */
static void
ngx_http_dgj_limit_unlink(ngx_http_dgj_limit_zone_t *zone,
    ngx_http_dgj_limit_node_t *lr, uint32_t off)
{
    uint32_t  *p;

    p = &zone->sh->buckets[lr->hash & zone->sh->mask];

    while (*p && *p != off) {
        p = &ngx_http_dgj_limit_node(zone->shpool, *p)->link;
    }

    if (*p) {
        *p = lr->link;
    }
}


/* draft-ietf-httpapi-ratelimit-headers: the tightest rule's view */
static ngx_int_t
ngx_http_dgj_limit_headers(ngx_http_request_t *r,
    ngx_http_dgj_limit_calc_t *c)
{
    static ngx_str_t  limit = ngx_string("RateLimit-Limit");
    static ngx_str_t  remaining = ngx_string("RateLimit-Remaining");
    static ngx_str_t  reset = ngx_string("RateLimit-Reset");

    if (ngx_http_dgj_limit_add_header(r, &limit, c->limit + 1) != NGX_OK
        || ngx_http_dgj_limit_add_header(r, &remaining, c->remaining)
           != NGX_OK
        || ngx_http_dgj_limit_add_header(r, &reset,
                                         (c->reset + 999999) / 1000000)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_dgj_limit_add_header(ngx_http_request_t *r, ngx_str_t *name,
    uint64_t value)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* by hand, not ngx_sprintf: three of these go out with every answer */
    h->hash = 1;
    h->key = *name;
    h->value.data = p;
    h->value.len = (u_char *) dgj_u64((char *) p, value) - p;

    return NGX_OK;
}


/*
 * Answers the request at once with `status` and the JSON error shape of
 * the API; the request is finalized here (NGX_DONE to the phase engine).
 */
static ngx_int_t
ngx_http_dgj_limit_reject(ngx_http_request_t *r, ngx_uint_t status,
    uint64_t retry_after, const char *code, const char *message)
{
    size_t                           len;
    ngx_int_t                        rc;
    ngx_buf_t                       *b;
    ngx_chain_t                      out;
    ngx_http_variable_value_t       *id;
    ngx_http_dgj_limit_main_conf_t  *lmcf;
    static ngx_str_t                 retry_name = ngx_string("Retry-After");

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_limit_module);

    id = NULL;
    if (lmcf->request_id_index != NGX_ERROR) {
        id = ngx_http_get_indexed_variable(r, lmcf->request_id_index);
        if (id != NULL && id->not_found) {
            id = NULL;
        }
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (retry_after
        && ngx_http_dgj_limit_add_header(r, &retry_name, retry_after)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("{\"error\":{\"code\":\"\",\"message\":\"\"},"
                 "\"request_id\":\"\"}\n") - 1
          + ngx_strlen(code) + ngx_strlen(message) + (id ? id->len : 0);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* code, message and request id are ours: nothing to escape */

    b->last = ngx_sprintf(b->last, "{\"error\":{\"code\":\"%s\","
                          "\"message\":\"%s\"},\"request_id\":\"",
                          code, message);
    if (id) {
        b->last = ngx_cpymem(b->last, id->data, id->len);
    }
    b->last = ngx_cpymem(b->last, "\"}\n", 3);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/json") - 1;
    r->headers_out.content_type_lowcase = NULL;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));

    return NGX_DONE;
}


/* the ctx outlives internal redirects (which clear r->ctx) in a cleanup */
static ngx_http_dgj_limit_ctx_t *
ngx_http_dgj_limit_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_dgj_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_dgj_limit_module);

    if (ctx == NULL && (r->internal || r->filter_finalize)) {

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_dgj_limit_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_dgj_limit_module);
                break;
            }
        }
    }

    return ctx;
}


static void
ngx_http_dgj_limit_cleanup(void *data)
{
    /* marks the ctx for ngx_http_dgj_limit_get_ctx(); nothing to free */
}


ngx_int_t
ngx_http_dgj_limit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_dgj_limit_ctx_t  *ctx;

    ctx = ngx_http_dgj_limit_get_ctx(r->main);

    if (ctx == NULL || ctx->status == NGX_HTTP_DGJ_LIMIT_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->len = ngx_http_dgj_limit_status_names[ctx->status].len;
    v->data = ngx_http_dgj_limit_status_names[ctx->status].data;

    return NGX_OK;
}


static u_char *
ngx_http_dgj_limit_escape_label(u_char *p, u_char *last, u_char *s,
    size_t len)
{
    while (len-- && p < last - 1) {
        if (*s == '"' || *s == '\\') {
            *p++ = '\\';
        }

        *p++ = (*s == '\n') ? ' ' : *s;
        s++;
    }

    return p;
}


/* Prometheus text exposition format 0.0.4 */
ngx_int_t
ngx_http_dgj_limit_status_handler(ngx_http_request_t *r)
{
    size_t                           size;
    u_char                          *p, *last;
    ngx_int_t                        rc;
    ngx_buf_t                       *b;
    ngx_uint_t                       i, j, k, pages, used;
    ngx_chain_t                      out;
    ngx_slab_pool_t                 *shpool;
    ngx_http_dgj_limit_stat_t       *st;
    ngx_http_dgj_limit_zone_t      **zones, *zone;
    ngx_http_dgj_limit_main_conf_t  *lmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_limit_module);
    zones = lmcf->zones.elts;

    size = 2048 + 1024;
    for (i = 0; i < lmcf->zones.nelts; i++) {
        size += 1024 + NGX_HTTP_DGJ_LIMIT_MAX_RULES
                       * NGX_HTTP_DGJ_LIMIT_NCOUNTERS
                       * (NGX_HTTP_DGJ_LIMIT_RULE_NAME * 2 + 128);
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    last = b->end;

    p = ngx_slprintf(p, last,
            "# HELP dgj_limit_requests_total Requests decided by each "
            "dgj_limit rule.\n"
            "# TYPE dgj_limit_requests_total counter\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        zone = zones[i];

        for (j = 0; j < NGX_HTTP_DGJ_LIMIT_MAX_RULES; j++) {
            st = &zone->sh->stats[j];

            if (st->name_len == 0) {
                continue;
            }

            for (k = 0; k < NGX_HTTP_DGJ_LIMIT_NCOUNTERS; k++) {
                p = ngx_slprintf(p, last,
                                 "dgj_limit_requests_total{zone=\"%V\","
                                 "rule=\"", &zone->shm_zone->shm.name);
                p = ngx_http_dgj_limit_escape_label(p, last, st->name,
                                                    st->name_len);
                p = ngx_slprintf(p, last, "\",result=\"%s\"} %uA\n",
                                 ngx_http_dgj_limit_counter_names[k],
                                 st->count[k]);
            }
        }
    }

    p = ngx_slprintf(p, last,
            "# HELP dgj_limit_zone_keys Keys held in the zone.\n"
            "# TYPE dgj_limit_zone_keys gauge\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        p = ngx_slprintf(p, last, "dgj_limit_zone_keys{zone=\"%V\"} %ui\n",
                         &zones[i]->shm_zone->shm.name, zones[i]->sh->keys);
    }

    p = ngx_slprintf(p, last,
            "# HELP dgj_limit_zone_evicted_total Keys forgotten before "
            "their state ran out, to make room.\n"
            "# TYPE dgj_limit_zone_evicted_total counter\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        p = ngx_slprintf(p, last,
                         "dgj_limit_zone_evicted_total{zone=\"%V\"} %uA\n",
                         &zones[i]->shm_zone->shm.name,
                         zones[i]->sh->evicted);
    }

    p = ngx_slprintf(p, last,
            "# HELP dgj_limit_zone_bytes Shared memory of the zone: size "
            "and pages in use.\n"
            "# TYPE dgj_limit_zone_bytes gauge\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        shpool = zones[i]->shpool;
        pages = (shpool->end - shpool->start) / ngx_pagesize;
        used = pages > shpool->pfree ? pages - shpool->pfree : 0;

        p = ngx_slprintf(p, last,
                         "dgj_limit_zone_bytes{zone=\"%V\",kind=\"size\"} "
                         "%uz\n"
                         "dgj_limit_zone_bytes{zone=\"%V\",kind=\"used\"} "
                         "%ui\n",
                         &zones[i]->shm_zone->shm.name,
                         zones[i]->shm_zone->shm.size,
                         &zones[i]->shm_zone->shm.name,
                         used * ngx_pagesize);
    }

    p = ngx_http_dgj_limit_ban_metrics(lmcf, p, last);

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_dgj_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_dgj_limit_zone_t  *ozone = data;

    size_t                       len, n, buckets;
    uint64_t                     now;
    ngx_uint_t                   i, j, used;
    ngx_time_t                  *tp;
    ngx_http_dgj_limit_rule_t  **rules;
    ngx_http_dgj_limit_zone_t   *zone;
    ngx_http_dgj_limit_stat_t   *st;

    zone = shm_zone->data;

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

    } else {
        zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            zone->sh = zone->shpool->data;

        } else {
            zone->sh = ngx_slab_calloc(zone->shpool,
                                       sizeof(ngx_http_dgj_limit_shctx_t));
            if (zone->sh == NULL) {
                return NGX_ERROR;
            }

            zone->shpool->data = zone->sh;

            /*
             * about one bucket per node that the zone can hold, a power
             * of two: a lookup reads the bucket and, mostly, one node
             */

            n = shm_zone->shm.size / NGX_HTTP_DGJ_LIMIT_BUCKET;
            for (buckets = 16; buckets * 2 <= n; buckets *= 2) {
                /* void */
            }

            zone->sh->buckets = ngx_slab_calloc(zone->shpool,
                                                buckets * sizeof(uint32_t));
            if (zone->sh->buckets == NULL) {
                return NGX_ERROR;
            }

            zone->sh->mask = (uint32_t) (buckets - 1);

            tp = ngx_timeofday();
            now = (uint64_t) tp->sec * 1000000 + tp->msec * 1000;
            zone->sh->epoch = now - 1000000;

            len = sizeof(" in dgj_limit_zone \"\"") + shm_zone->shm.name.len;

            zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
            if (zone->shpool->log_ctx == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(zone->shpool->log_ctx, " in dgj_limit_zone \"%V\"%Z",
                        &shm_zone->shm.name);

            /* a full zone is normal: it evicts, and says so in metrics */

            zone->shpool->log_nomem = 0;
        }
    }

    /*
     * Counter slots are found by rule tag, so that they survive a reload;
     * a slot whose rule is gone is reused only when no slot is free.
     */

    rules = zone->rules.elts;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < zone->rules.nelts; i++) {

        rules[i]->slot = NGX_HTTP_DGJ_LIMIT_MAX_RULES;

        for (j = 0; j < NGX_HTTP_DGJ_LIMIT_MAX_RULES; j++) {
            st = &zone->sh->stats[j];

            if (st->name_len && st->tag == rules[i]->tag) {
                rules[i]->slot = j;
                break;
            }
        }
    }

    for (i = 0; i < zone->rules.nelts; i++) {

        if (rules[i]->slot != NGX_HTTP_DGJ_LIMIT_MAX_RULES) {
            continue;
        }

        for (j = 0; j < NGX_HTTP_DGJ_LIMIT_MAX_RULES; j++) {
            if (zone->sh->stats[j].name_len == 0) {
                break;
            }
        }

        if (j == NGX_HTTP_DGJ_LIMIT_MAX_RULES) {
            for (j = 0; j < NGX_HTTP_DGJ_LIMIT_MAX_RULES; j++) {
                st = &zone->sh->stats[j];
                for (used = 0; used < zone->rules.nelts; used++) {
                    if (rules[used]->tag == st->tag) {
                        break;
                    }
                }

                if (used == zone->rules.nelts) {
                    break;
                }
            }
        }

        if (j == NGX_HTTP_DGJ_LIMIT_MAX_RULES) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "dgj_limit_zone \"%V\" has more than %d rules",
                          &shm_zone->shm.name, NGX_HTTP_DGJ_LIMIT_MAX_RULES);
            return NGX_ERROR;
        }

        st = &zone->sh->stats[j];
        ngx_memzero(st, sizeof(ngx_http_dgj_limit_stat_t));
        st->tag = rules[i]->tag;
        st->name_len = ngx_min(rules[i]->name.len,
                               NGX_HTTP_DGJ_LIMIT_RULE_NAME);
        ngx_memcpy(st->name, rules[i]->name.data, st->name_len);

        rules[i]->slot = j;

        /* the same rule elsewhere shares the slot */

        for (used = i + 1; used < zone->rules.nelts; used++) {
            if (rules[used]->tag == rules[i]->tag) {
                rules[used]->slot = j;
            }
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}
