
/*
 * Copyright (C) Daguanjia developers
 *
 * ngx_http_dgj_limit.h: what the two halves of ngx_http_dgj_limit_module
 * share: the rate-limiting zones and rules (ngx_http_dgj_limit_module.c) and
 * the ban list with its control API (ngx_http_dgj_limit_ban.c).
 */


#ifndef _NGX_HTTP_DGJ_LIMIT_H_INCLUDED_
#define _NGX_HTTP_DGJ_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_DGJ_LIMIT_MAX_RULES     64
#define NGX_HTTP_DGJ_LIMIT_RULE_NAME     96
#define NGX_HTTP_DGJ_LIMIT_NODELAY       NGX_MAX_UINT32_VALUE

/* $dgj_limit_status values */
#define NGX_HTTP_DGJ_LIMIT_NONE          0
#define NGX_HTTP_DGJ_LIMIT_PASSED        1
#define NGX_HTTP_DGJ_LIMIT_DELAYED       2
#define NGX_HTTP_DGJ_LIMIT_REJECTED      3
#define NGX_HTTP_DGJ_LIMIT_BANNED        4
#define NGX_HTTP_DGJ_LIMIT_DRY_RUN       5

/* per-rule counters, in this order in the zone */
#define NGX_HTTP_DGJ_LIMIT_C_PASSED      0
#define NGX_HTTP_DGJ_LIMIT_C_DELAYED     1
#define NGX_HTTP_DGJ_LIMIT_C_REJECTED    2
#define NGX_HTTP_DGJ_LIMIT_C_BANNED      3
#define NGX_HTTP_DGJ_LIMIT_C_DRY_RUN     4
#define NGX_HTTP_DGJ_LIMIT_NCOUNTERS     5


/*
 * One key's state, found through the zone's hash index: 31 bytes before
 * the key, so that a key of up to 33 bytes (an IPv6 address, a user id, an
 * MD5 of a long key, a prefixed address) fits a 64-byte slab chunk.  Links
 * are offsets from the slab pool, 0 for none.  The theoretical arrival
 * time (GCRA) is 48 bits of microseconds since the zone's epoch (8.9
 * years).
 */
typedef struct {
    /* the next node of the same hash bucket */
    uint32_t                      link;
    /* the key's hash (rule tag mixed in) and the rule's tag */
    uint32_t                      hash;
    uint32_t                      tag;
    /* LRU: prev is more recently used, next less */
    uint32_t                      prev;
    uint32_t                      next;
    /* sh->moves when the node last went to the LRU head */
    uint32_t                      stamp;
    uint32_t                      tat_lo;
    uint16_t                      tat_hi;
    u_char                        len;
    u_char                        data[1];
} ngx_http_dgj_limit_node_t;


typedef struct {
    uint32_t                      tag;
    uint32_t                      name_len;
    u_char                        name[NGX_HTTP_DGJ_LIMIT_RULE_NAME];
    ngx_atomic_t                  count[NGX_HTTP_DGJ_LIMIT_NCOUNTERS];
} ngx_http_dgj_limit_stat_t;


typedef struct {
    /* chain heads (offsets of nodes), mask + 1 of them */
    uint32_t                     *buckets;
    uint32_t                      mask;
    uint32_t                      lru_head;
    uint32_t                      lru_tail;
    /* moves to the LRU head so far (wraps) */
    uint32_t                      moves;
    /* unix time in microseconds that tat 0 stands for */
    uint64_t                      epoch;
    ngx_uint_t                    keys;
    ngx_atomic_t                  evicted;
    ngx_atomic_t                  alloc_failed;
    ngx_http_dgj_limit_stat_t     stats[NGX_HTTP_DGJ_LIMIT_MAX_RULES];
} ngx_http_dgj_limit_shctx_t;


typedef struct ngx_http_dgj_limit_auto_ban_s  ngx_http_dgj_limit_auto_ban_t;


typedef struct {
    ngx_http_dgj_limit_shctx_t   *sh;
    ngx_slab_pool_t              *shpool;
    ngx_shm_zone_t               *shm_zone;
    /* ngx_http_dgj_limit_rule_t *: every rule on this zone */
    ngx_array_t                   rules;
    ngx_http_dgj_limit_auto_ban_t  *auto_ban;
} ngx_http_dgj_limit_zone_t;


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_http_complex_value_t      key;
    /* microseconds between two requests at the configured rate */
    uint64_t                      interval;
    ngx_uint_t                    burst;
    /* excess requests served at once; NGX_HTTP_DGJ_LIMIT_NODELAY: all */
    ngx_uint_t                    delay;
    uint32_t                      tag;
    ngx_uint_t                    slot;
    ngx_str_t                     name;
} ngx_http_dgj_limit_rule_t;


struct ngx_http_dgj_limit_auto_ban_s {
    ngx_uint_t                    rejections;
    time_t                        window;
    time_t                        ban;
    ngx_uint_t                    by_user;
};


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_str_t                     file;
} ngx_http_dgj_limit_ban_conf_t;


typedef struct {
    /* ngx_http_dgj_limit_zone_t * */
    ngx_array_t                   zones;
    ngx_http_dgj_limit_ban_conf_t  ban;
    ngx_int_t                     roles_index;
    ngx_int_t                     user_index;
    ngx_int_t                     request_id_index;
    ngx_uint_t                    roles_used;
    ngx_uint_t                    user_used;
} ngx_http_dgj_limit_main_conf_t;


typedef struct {
    ngx_str_t                     name;
    /* 100 stands for a factor of 1.00 */
    ngx_uint_t                    factor;
} ngx_http_dgj_limit_role_t;


typedef struct {
    /* ngx_http_dgj_limit_rule_t * */
    ngx_array_t                   rules;
    ngx_array_t                  *roles;
    ngx_array_t                  *allow;
    ngx_flag_t                    dry_run;
    ngx_flag_t                    headers;
    /* a control API location: never banned, never limited */
    ngx_uint_t                    control;
    ngx_uint_t                    status_code;
    ngx_uint_t                    log_level;
    ngx_uint_t                    delay_log_level;
} ngx_http_dgj_limit_loc_conf_t;


extern ngx_module_t  ngx_http_dgj_limit_module;


/* ngx_http_dgj_limit_zone.c */

ngx_int_t ngx_http_dgj_limit_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dgj_limit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_int_t ngx_http_dgj_limit_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_dgj_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data);


/* ngx_http_dgj_limit_ban.c */

char *ngx_http_dgj_limit_ban_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* conf: the location's; the caller marks it as a control location */
char *ngx_http_dgj_limit_ban_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Returns NGX_DECLINED when the request's client address or user is not
 * banned, NGX_OK when it is (*until and *reason, copied into r->pool, say
 * until when and why), NGX_ERROR on allocation failure.
 */
ngx_int_t ngx_http_dgj_limit_ban_check(ngx_http_request_t *r,
    ngx_http_dgj_limit_main_conf_t *lmcf, time_t *until, ngx_str_t *reason);

/*
 * Counts one rejection by zone `zone` against the request's client address
 * (or user); bans it when the zone's auto-ban threshold is reached.
 */
void ngx_http_dgj_limit_ban_strike(ngx_http_request_t *r,
    ngx_http_dgj_limit_main_conf_t *lmcf, ngx_http_dgj_limit_zone_t *zone);

/* Prometheus lines for the ban zone, appended at p (at most len bytes) */
u_char *ngx_http_dgj_limit_ban_metrics(ngx_http_dgj_limit_main_conf_t *lmcf,
    u_char *p, u_char *last);

/*
 * A zone of this module's tag and name in the running (old) cycle whose
 * size differs from `size`: an emergency, because nginx would silently
 * drop its state.  NGX_OK when there is none or it has the same size.
 */
ngx_int_t ngx_http_dgj_limit_check_resize(ngx_conf_t *cf, ngx_str_t *name,
    size_t size, const char *directive);


#endif /* _NGX_HTTP_DGJ_LIMIT_H_INCLUDED_ */
