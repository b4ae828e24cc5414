
/*
 * Copyright (C) Daguanjia developers
 *
 * ngx_http_dgj_limit_ban.c: the ban list of ngx_http_dgj_limit_module: IP,
 * CIDR and user bans with expiry and reason in one shared-memory zone
 * (seen by every worker at once), the ban file read at start and reload,
 * the control API (POST ban/unban lines, GET the list as JSON) and the
 * auto-ban strikes.  Wire format: docs/directives.md.
 */


#include "ngx_http_dgj_limit.h"


#define NGX_HTTP_DGJ_BAN_IP           1
#define NGX_HTTP_DGJ_BAN_CIDR         2
#define NGX_HTTP_DGJ_BAN_USER         3
#define NGX_HTTP_DGJ_BAN_STRIKE_IP    4
#define NGX_HTTP_DGJ_BAN_STRIKE_USER  6

#define NGX_HTTP_DGJ_BAN_VALUE_LEN    64
#define NGX_HTTP_DGJ_BAN_REASON_LEN   200
#define NGX_HTTP_DGJ_BAN_MAX_BODY     (1024 * 1024)


typedef struct {
    u_char                        color;
    u_char                        kind;
    u_char                        vlen;
    u_char                        rlen;
    uint32_t                      strikes;
    /* unix seconds; 0: never expires */
    time_t                        until;
    ngx_queue_t                   queue;
    ngx_cidr_t                    cidr;
    /* value, then reason */
    u_char                        data[1];
} ngx_http_dgj_ban_node_t;


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   bans;
    ngx_queue_t                   cidrs;
    ngx_queue_t                   strikes;
    /* bans of any kind held; 0 lets requests skip the lock */
    ngx_atomic_t                  active;
    ngx_atomic_t                  users;
    ngx_atomic_t                  refused;
    ngx_atomic_t                  auto_bans;
} ngx_http_dgj_ban_shctx_t;


typedef struct {
    ngx_http_dgj_ban_shctx_t     *sh;
    ngx_slab_pool_t              *shpool;
    ngx_str_t                     file;
} ngx_http_dgj_ban_zone_t;


typedef struct {
    ngx_uint_t                    unban;
    ngx_uint_t                    kind;
    time_t                        until;
    ngx_cidr_t                    cidr;
    ngx_str_t                     value;
    ngx_str_t                     reason;
    u_char                        text[NGX_HTTP_DGJ_BAN_VALUE_LEN];
} ngx_http_dgj_ban_op_t;


static const char *ngx_http_dgj_ban_parse(u_char *p, u_char *last,
    ngx_uint_t verb, time_t now, ngx_http_dgj_ban_op_t *op);
static ngx_http_dgj_ban_node_t *ngx_http_dgj_ban_find(
    ngx_http_dgj_ban_zone_t *bz, ngx_uint_t kind, u_char *value, size_t len);
static ngx_int_t ngx_http_dgj_ban_put(ngx_http_dgj_ban_zone_t *bz,
    ngx_http_dgj_ban_op_t *op);
static void ngx_http_dgj_ban_remove(ngx_http_dgj_ban_zone_t *bz,
    ngx_http_dgj_ban_node_t *bn);
static ngx_int_t ngx_http_dgj_ban_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_dgj_ban_load(ngx_shm_zone_t *shm_zone,
    ngx_http_dgj_ban_zone_t *bz);
static ngx_int_t ngx_http_dgj_ban_api_handler(ngx_http_request_t *r);
static void ngx_http_dgj_ban_api_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_dgj_ban_list(ngx_http_request_t *r,
    ngx_http_dgj_ban_zone_t *bz);
static ngx_int_t ngx_http_dgj_ban_reply(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);


static const char  *ngx_http_dgj_ban_kinds[] = {
    "", "ip", "cidr", "user", "strike-ip", "", "strike-user"
};


#define ngx_http_dgj_ban_data(node)                                          \
    ((ngx_http_dgj_ban_node_t *) &(node)->color)

#define ngx_http_dgj_ban_rbnode(bn)                                          \
    ((ngx_rbtree_node_t *) ((u_char *) (bn)                                  \
                            - offsetof(ngx_rbtree_node_t, color)))


ngx_int_t
ngx_http_dgj_limit_ban_check(ngx_http_request_t *r,
    ngx_http_dgj_limit_main_conf_t *lmcf, time_t *until, ngx_str_t *reason)
{
    time_t                      now;
    ngx_uint_t                  i, hit;
    ngx_queue_t                *q, *next;
    struct sockaddr            *sa;
    struct sockaddr_in         *sin;
    ngx_http_dgj_ban_node_t    *bn, *found;
    ngx_http_dgj_ban_zone_t    *bz;
    ngx_http_variable_value_t  *user;
#if (NGX_HAVE_INET6)
    u_char                     *a;
    struct sockaddr_in6        *sin6;
#endif

    bz = lmcf->ban.shm_zone->data;

    if (bz->sh->active == 0) {
        return NGX_DECLINED;
    }

    /* the user id may verify a token: never under the zone's lock */

    user = NULL;

    if (bz->sh->users && lmcf->user_index != NGX_ERROR) {
        user = ngx_http_get_indexed_variable(r, lmcf->user_index);

        if (user != NULL && (user->not_found || user->len == 0)) {
            user = NULL;
        }
    }

    sa = r->connection->sockaddr;
    now = ngx_time();
    found = NULL;

    ngx_shmtx_lock(&bz->shpool->mutex);

    if (sa->sa_family == AF_INET
#if (NGX_HAVE_INET6)
        || sa->sa_family == AF_INET6
#endif
       )
    {
        bn = ngx_http_dgj_ban_find(bz, NGX_HTTP_DGJ_BAN_IP,
                                   r->connection->addr_text.data,
                                   r->connection->addr_text.len);

        if (bn && bn->until && bn->until <= now) {
            ngx_http_dgj_ban_remove(bz, bn);
            bn = NULL;
        }

        found = bn;

        for (q = ngx_queue_head(&bz->sh->cidrs);
             found == NULL && q != ngx_queue_sentinel(&bz->sh->cidrs);
             q = next)
        {
            next = ngx_queue_next(q);
            bn = ngx_queue_data(q, ngx_http_dgj_ban_node_t, queue);

            if (bn->until && bn->until <= now) {
                ngx_http_dgj_ban_remove(bz, bn);
                continue;
            }

            hit = 0;

            if (sa->sa_family == AF_INET && bn->cidr.family == AF_INET) {
                sin = (struct sockaddr_in *) sa;
                hit = ((sin->sin_addr.s_addr & bn->cidr.u.in.mask)
                       == bn->cidr.u.in.addr);
            }

#if (NGX_HAVE_INET6)
            if (sa->sa_family == AF_INET6 && bn->cidr.family == AF_INET6) {
                sin6 = (struct sockaddr_in6 *) sa;
                a = sin6->sin6_addr.s6_addr;
                hit = 1;

                for (i = 0; i < 16; i++) {
                    if ((a[i] & bn->cidr.u.in6.mask.s6_addr[i])
                        != bn->cidr.u.in6.addr.s6_addr[i])
                    {
                        hit = 0;
                        break;
                    }
                }
            }
#endif

            if (hit) {
                found = bn;
            }
        }
    }

    if (found == NULL && user != NULL) {
        bn = ngx_http_dgj_ban_find(bz, NGX_HTTP_DGJ_BAN_USER, user->data,
                                   user->len);

        if (bn && bn->until && bn->until <= now) {
            ngx_http_dgj_ban_remove(bz, bn);
            bn = NULL;
        }

        found = bn;
    }

    if (found == NULL) {
        ngx_shmtx_unlock(&bz->shpool->mutex);
        return NGX_DECLINED;
    }

    *until = found->until;

    reason->len = found->rlen;
    reason->data = ngx_pnalloc(r->pool, found->rlen + 1);

    if (reason->data != NULL) {
        ngx_memcpy(reason->data, found->data + found->vlen, found->rlen);
    }

    ngx_shmtx_unlock(&bz->shpool->mutex);

    if (reason->data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_atomic_fetch_add(&bz->sh->refused, 1);

    return NGX_OK;
}


void
ngx_http_dgj_limit_ban_strike(ngx_http_request_t *r,
    ngx_http_dgj_limit_main_conf_t *lmcf, ngx_http_dgj_limit_zone_t *zone)
{
    u_char                         *p;
    size_t                          size;
    time_t                          now;
    ngx_str_t                       value;
    ngx_uint_t                      kind, strikes;
    ngx_queue_t                    *q;
    ngx_rbtree_node_t              *node;
    ngx_http_dgj_ban_op_t           op;
    ngx_http_dgj_ban_node_t        *bn;
    ngx_http_dgj_ban_zone_t        *bz;
    ngx_http_variable_value_t      *v;
    ngx_http_dgj_limit_auto_ban_t  *ab;

    ab = zone->auto_ban;
    bz = lmcf->ban.shm_zone->data;

    if (ab->by_user) {
        v = ngx_http_get_indexed_variable(r, lmcf->user_index);
        if (v == NULL || v->not_found || v->len == 0) {
            return;
        }

        value.data = v->data;
        value.len = v->len;
        kind = NGX_HTTP_DGJ_BAN_USER;

    } else {
        if (r->connection->sockaddr->sa_family != AF_INET
#if (NGX_HAVE_INET6)
            && r->connection->sockaddr->sa_family != AF_INET6
#endif
           )
        {
            return;
        }

        value = r->connection->addr_text;
        kind = NGX_HTTP_DGJ_BAN_IP;
    }

    if (value.len > NGX_HTTP_DGJ_BAN_VALUE_LEN) {
        return;
    }

    now = ngx_time();

    ngx_shmtx_lock(&bz->shpool->mutex);

    bn = ngx_http_dgj_ban_find(bz, kind + 3, value.data, value.len);

    if (bn == NULL) {
        size = offsetof(ngx_rbtree_node_t, color)
               + offsetof(ngx_http_dgj_ban_node_t, data) + value.len;

        node = ngx_slab_calloc_locked(bz->shpool, size);

        if (node == NULL && !ngx_queue_empty(&bz->sh->strikes)) {
            q = ngx_queue_last(&bz->sh->strikes);
            ngx_http_dgj_ban_remove(bz, ngx_queue_data(q,
                                        ngx_http_dgj_ban_node_t, queue));
            node = ngx_slab_calloc_locked(bz->shpool, size);
        }

        if (node == NULL) {
            ngx_shmtx_unlock(&bz->shpool->mutex);
            return;
        }

        node->key = ((ngx_rbtree_key_t) (kind + 3) << 32)
                    | ngx_crc32_short(value.data, value.len);

        bn = ngx_http_dgj_ban_data(node);
        bn->kind = (u_char) (kind + 3);
        bn->vlen = (u_char) value.len;
        bn->until = now + ab->window;
        ngx_memcpy(bn->data, value.data, value.len);

        ngx_rbtree_insert(&bz->sh->rbtree, node);
        ngx_queue_insert_head(&bz->sh->strikes, &bn->queue);
    }

    if (bn->until <= now) {
        bn->strikes = 0;
        bn->until = now + ab->window;
    }

    strikes = ++bn->strikes;

    if (strikes < ab->rejections) {
        ngx_shmtx_unlock(&bz->shpool->mutex);
        return;
    }

    ngx_http_dgj_ban_remove(bz, bn);

    ngx_memzero(&op, sizeof(ngx_http_dgj_ban_op_t));
    op.kind = kind;
    op.until = now + ab->ban;
    op.value = value;

    p = ngx_pnalloc(r->pool, NGX_HTTP_DGJ_BAN_REASON_LEN);
    if (p == NULL) {
        ngx_shmtx_unlock(&bz->shpool->mutex);
        return;
    }

    op.reason.data = p;
    op.reason.len = ngx_snprintf(p, NGX_HTTP_DGJ_BAN_REASON_LEN,
                                 "auto-ban: %ui rejections by zone %V "
                                 "within %T s", strikes,
                                 &zone->shm_zone->shm.name, ab->window)
                    - p;

    if (ngx_http_dgj_ban_put(bz, &op) == NGX_OK) {
        (void) ngx_atomic_fetch_add(&bz->sh->auto_bans, 1);
    }

    ngx_shmtx_unlock(&bz->shpool->mutex);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "dgj limit: ban %s %V until %T: \"%V\"",
                  ngx_http_dgj_ban_kinds[kind], &value, op.until, &op.reason);
}


u_char *
ngx_http_dgj_limit_ban_metrics(ngx_http_dgj_limit_main_conf_t *lmcf,
    u_char *p, u_char *last)
{
    ngx_uint_t                n[4];
    ngx_queue_t              *q;
    ngx_http_dgj_ban_node_t  *bn;
    ngx_http_dgj_ban_zone_t  *bz;

    if (lmcf->ban.shm_zone == NULL) {
        return p;
    }

    bz = lmcf->ban.shm_zone->data;
    n[1] = n[2] = n[3] = 0;

    ngx_shmtx_lock(&bz->shpool->mutex);

    for (q = ngx_queue_head(&bz->sh->bans);
         q != ngx_queue_sentinel(&bz->sh->bans);
         q = ngx_queue_next(q))
    {
        bn = ngx_queue_data(q, ngx_http_dgj_ban_node_t, queue);
        n[bn->kind]++;
    }

    for (q = ngx_queue_head(&bz->sh->cidrs);
         q != ngx_queue_sentinel(&bz->sh->cidrs);
         q = ngx_queue_next(q))
    {
        n[NGX_HTTP_DGJ_BAN_CIDR]++;
    }

    ngx_shmtx_unlock(&bz->shpool->mutex);

    return ngx_slprintf(p, last,
               "# HELP dgj_limit_bans Bans held (expired ones go at their "
               "next match or listing).\n"
               "# TYPE dgj_limit_bans gauge\n"
               "dgj_limit_bans{kind=\"ip\"} %ui\n"
               "dgj_limit_bans{kind=\"cidr\"} %ui\n"
               "dgj_limit_bans{kind=\"user\"} %ui\n"
               "# HELP dgj_limit_banned_requests_total Requests refused "
               "by a ban.\n"
               "# TYPE dgj_limit_banned_requests_total counter\n"
               "dgj_limit_banned_requests_total %uA\n"
               "# HELP dgj_limit_auto_bans_total Bans made by "
               "dgj_limit_auto_ban.\n"
               "# TYPE dgj_limit_auto_bans_total counter\n"
               "dgj_limit_auto_bans_total %uA\n",
               n[NGX_HTTP_DGJ_BAN_IP], n[NGX_HTTP_DGJ_BAN_CIDR],
               n[NGX_HTTP_DGJ_BAN_USER], bz->sh->refused,
               bz->sh->auto_bans);
}


/*
 * One line: "[ban|unban] <kind> <value> [<until> <reason...>]" (verb when
 * `verb`; the file has no verb).  Fills op, its value canonical (an
 * address as nginx prints it, so that it matches $remote_addr) in
 * op->text.  Returns NULL, or why the line is refused.
 */
static const char *
ngx_http_dgj_ban_parse(u_char *p, u_char *last, ngx_uint_t verb, time_t now,
    ngx_http_dgj_ban_op_t *op)
{
    u_char     *s, *q;
    size_t      len;
    ngx_int_t   rc, n;
    ngx_str_t   tok[3];
    ngx_uint_t  i, bits, ntok;

    ngx_memzero(op, sizeof(ngx_http_dgj_ban_op_t));

    /* up to four space-separated words; the rest of the line is reason */

    ntok = verb ? 4 : 3;

    for (i = 0; i < ntok; i++) {
        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        s = p;
        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        if (verb && i == 0) {
            if (p - s == 3 && ngx_strncmp(s, "ban", 3) == 0) {
                op->unban = 0;

            } else if (p - s == 5 && ngx_strncmp(s, "unban", 5) == 0) {
                op->unban = 1;
                ntok = 3;

            } else {
                return "expected ban or unban";
            }

            continue;
        }

        tok[i - (verb ? 1 : 0)].data = s;
        tok[i - (verb ? 1 : 0)].len = p - s;
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (tok[0].len == 4 && ngx_strncmp(tok[0].data, "user", 4) == 0) {
        op->kind = NGX_HTTP_DGJ_BAN_USER;

    } else if (tok[0].len == 4 && ngx_strncmp(tok[0].data, "cidr", 4) == 0) {
        op->kind = NGX_HTTP_DGJ_BAN_CIDR;

    } else if (tok[0].len == 2 && ngx_strncmp(tok[0].data, "ip", 2) == 0) {
        op->kind = NGX_HTTP_DGJ_BAN_IP;

    } else {
        return "kind must be ip, cidr or user";
    }

    if (tok[1].len == 0 || tok[1].len > 48) {
        return "missing or too long value";
    }

    if (op->kind == NGX_HTTP_DGJ_BAN_USER) {
        for (i = 0; i < tok[1].len; i++) {
            if (tok[1].data[i] < '0' || tok[1].data[i] > '9') {
                return "a user id is decimal digits";
            }
        }

        if (tok[1].len > 20) {
            return "a user id is at most 20 digits";
        }

        op->value.data = op->text;
        op->value.len = ngx_cpymem(op->text, tok[1].data, tok[1].len)
                        - op->text;

    } else {
        q = ngx_strlchr(tok[1].data, tok[1].data + tok[1].len, '/');

        if ((op->kind == NGX_HTTP_DGJ_BAN_IP) != (q == NULL)) {
            return (q == NULL) ? "a cidr has a /prefix length"
                               : "an ip has no /prefix (use cidr)";
        }

        rc = ngx_ptocidr(&tok[1], &op->cidr);
        if (rc == NGX_ERROR) {
            return "not an IPv4 or IPv6 address";
        }

        /* the canonical text: what $remote_addr would show */

        len = ngx_inet_ntop((int) op->cidr.family,
#if (NGX_HAVE_INET6)
                            (op->cidr.family == AF_INET6)
                            ? (void *) &op->cidr.u.in6.addr :
#endif
                            (void *) &op->cidr.u.in.addr,
                            op->text, NGX_HTTP_DGJ_BAN_VALUE_LEN - 5);

        if (op->kind == NGX_HTTP_DGJ_BAN_CIDR) {
            bits = 0;

#if (NGX_HAVE_INET6)
            if (op->cidr.family == AF_INET6) {
                for (i = 0; i < 16; i++) {
                    for (n = op->cidr.u.in6.mask.s6_addr[i]; n; n >>= 1) {
                        bits += n & 1;
                    }
                }

            } else
#endif
            {
                for (n = ntohl(op->cidr.u.in.mask); n; n = (n << 1)
                                                          & 0xffffffff)
                {
                    bits++;
                }
            }

            len = ngx_sprintf(op->text + len, "/%ui", bits) - op->text;
        }

        op->value.data = op->text;
        op->value.len = len;
    }

    if (op->unban) {
        if (p != last) {
            return "unexpected text after the value";
        }

        return NULL;
    }

    n = (tok[2].len > 0) ? ngx_atotm(tok[2].data, tok[2].len) : NGX_ERROR;

    if (n == NGX_ERROR) {
        return "until must be unix seconds (0: no expiry)";
    }

    if (n != 0 && n <= now) {
        return "until is in the past";
    }

    op->until = n;

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (last - p > NGX_HTTP_DGJ_BAN_REASON_LEN) {
        return "reason longer than 200 bytes";
    }

    for (q = p; q < last; q++) {
        if (*q < 0x20 || *q == 0x7f) {
            return "control character in reason";
        }
    }

    op->reason.data = p;
    op->reason.len = last - p;

    return NULL;
}


static ngx_http_dgj_ban_node_t *
ngx_http_dgj_ban_find(ngx_http_dgj_ban_zone_t *bz, ngx_uint_t kind,
    u_char *value, size_t len)
{
    ngx_int_t                 rc;
    ngx_rbtree_key_t          key;
    ngx_rbtree_node_t        *node, *sentinel;
    ngx_http_dgj_ban_node_t  *bn;

    key = ((ngx_rbtree_key_t) kind << 32) | ngx_crc32_short(value, len);

    node = bz->sh->rbtree.root;
    sentinel = bz->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        bn = ngx_http_dgj_ban_data(node);

        rc = ngx_memn2cmp(value, bn->data, len, (size_t) bn->vlen);

        if (rc == 0) {
            return bn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_dgj_ban_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t        **p;
    ngx_http_dgj_ban_node_t   *bn, *bnt;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            bn = ngx_http_dgj_ban_data(node);
            bnt = ngx_http_dgj_ban_data(temp);

            p = (ngx_memn2cmp(bn->data, bnt->data, bn->vlen, bnt->vlen) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* adds or replaces a ban, with the zone locked; NGX_ERROR: zone full */
static ngx_int_t
ngx_http_dgj_ban_put(ngx_http_dgj_ban_zone_t *bz, ngx_http_dgj_ban_op_t *op)
{
    size_t                    size;
    ngx_rbtree_node_t        *node;
    ngx_http_dgj_ban_node_t  *bn;

    bn = ngx_http_dgj_ban_find(bz, op->kind, op->value.data, op->value.len);

    if (bn) {
        ngx_http_dgj_ban_remove(bz, bn);
    }

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_dgj_ban_node_t, data)
           + op->value.len + op->reason.len;

    node = ngx_slab_calloc_locked(bz->shpool, size);
    if (node == NULL) {
        return NGX_ERROR;
    }

    node->key = ((ngx_rbtree_key_t) op->kind << 32)
                | ngx_crc32_short(op->value.data, op->value.len);

    bn = ngx_http_dgj_ban_data(node);
    bn->kind = (u_char) op->kind;
    bn->vlen = (u_char) op->value.len;
    bn->rlen = (u_char) op->reason.len;
    bn->until = op->until;
    bn->cidr = op->cidr;
    ngx_memcpy(ngx_cpymem(bn->data, op->value.data, op->value.len),
               op->reason.data, op->reason.len);

    ngx_rbtree_insert(&bz->sh->rbtree, node);

    ngx_queue_insert_tail((op->kind == NGX_HTTP_DGJ_BAN_CIDR)
                          ? &bz->sh->cidrs : &bz->sh->bans, &bn->queue);

    if (op->kind == NGX_HTTP_DGJ_BAN_USER) {
        bz->sh->users++;
    }

    bz->sh->active++;

    return NGX_OK;
}


static void
ngx_http_dgj_ban_remove(ngx_http_dgj_ban_zone_t *bz,
    ngx_http_dgj_ban_node_t *bn)
{
    if (bn->kind <= NGX_HTTP_DGJ_BAN_USER) {
        bz->sh->active--;
    }

    if (bn->kind == NGX_HTTP_DGJ_BAN_USER) {
        bz->sh->users--;
    }

    ngx_queue_remove(&bn->queue);
    ngx_rbtree_delete(&bz->sh->rbtree, ngx_http_dgj_ban_rbnode(bn));
    ngx_slab_free_locked(bz->shpool, ngx_http_dgj_ban_rbnode(bn));
}


static ngx_int_t
ngx_http_dgj_ban_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_dgj_ban_zone_t  *obz = data;

    size_t                    len;
    ngx_http_dgj_ban_zone_t  *bz;

    bz = shm_zone->data;

    if (obz) {
        bz->sh = obz->sh;
        bz->shpool = obz->shpool;

    } else {
        bz->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            bz->sh = bz->shpool->data;
            return NGX_OK;
        }

        bz->sh = ngx_slab_calloc(bz->shpool,
                                 sizeof(ngx_http_dgj_ban_shctx_t));
        if (bz->sh == NULL) {
            return NGX_ERROR;
        }

        bz->shpool->data = bz->sh;

        ngx_rbtree_init(&bz->sh->rbtree, &bz->sh->sentinel,
                        ngx_http_dgj_ban_rbtree_insert_value);
        ngx_queue_init(&bz->sh->bans);
        ngx_queue_init(&bz->sh->cidrs);
        ngx_queue_init(&bz->sh->strikes);

        len = sizeof(" in dgj_limit_ban_zone \"\"") + shm_zone->shm.name.len;

        bz->shpool->log_ctx = ngx_slab_alloc(bz->shpool, len);
        if (bz->shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(bz->shpool->log_ctx, " in dgj_limit_ban_zone \"%V\"%Z",
                    &shm_zone->shm.name);

        bz->shpool->log_nomem = 0;
    }

    if (bz->file.len) {
        ngx_http_dgj_ban_load(shm_zone, bz);
    }

    return NGX_OK;
}


/*
 * The ban file (start and reload): every valid line is applied on top of
 * the bans in memory; a bad line is skipped with a warning, so that one
 * broken line never stops nginx from starting.
 */
static void
ngx_http_dgj_ban_load(ngx_shm_zone_t *shm_zone, ngx_http_dgj_ban_zone_t *bz)
{
    u_char                 *buf, *p, *eol, *last;
    off_t                   size;
    time_t                  now;
    ssize_t                 n;
    ngx_fd_t                fd;
    ngx_uint_t              line, loaded;
    ngx_file_info_t         fi;
    const char             *err;
    ngx_http_dgj_ban_op_t   op;

    fd = ngx_open_file(bz->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, ngx_errno,
                      "dgj limit: no ban file \"%V\", no bans loaded",
                      &bz->file);
        return;
    }

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, ngx_errno,
                      "dgj limit: cannot stat ban file \"%V\"", &bz->file);
        goto done;
    }

    size = ngx_file_size(&fi);

    if (size > 64 * 1024 * 1024) {
        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                      "dgj limit: ban file \"%V\" is over 64 MiB, ignored",
                      &bz->file);
        goto done;
    }

    buf = ngx_alloc((size_t) size + 1, shm_zone->shm.log);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, (size_t) size);

    if (n != (ssize_t) size) {
        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, ngx_errno,
                      "dgj limit: cannot read ban file \"%V\"", &bz->file);
        goto done;
    }

    now = ngx_time();
    line = 0;
    loaded = 0;
    last = buf + size;

    ngx_shmtx_lock(&bz->shpool->mutex);

    for (p = buf; p < last; p = eol + 1) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        line++;

        if (eol > p && eol[-1] == '\r') {
            eol--;
        }

        while (p < eol && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == eol || *p == '#') {
            eol = ngx_strlchr(p, last, '\n');
            if (eol == NULL) {
                break;
            }

            continue;
        }

        err = ngx_http_dgj_ban_parse(p, eol, 0, 0, &op);

        if (err == NULL && op.until && op.until <= now) {
            /* expired since it was written: not an error */

        } else if (err) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "dgj limit: %V:%ui: %s; line skipped",
                          &bz->file, line, err);

        } else if (ngx_http_dgj_ban_put(bz, &op) != NGX_OK) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "dgj limit: %V:%ui: ban zone \"%V\" is full; "
                          "line skipped", &bz->file, line,
                          &shm_zone->shm.name);

        } else {
            loaded++;
        }

        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            break;
        }
    }

    ngx_shmtx_unlock(&bz->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "dgj limit: %ui bans loaded from \"%V\"", loaded,
                  &bz->file);

done:

    if (buf) {
        ngx_free(buf);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, shm_zone->shm.log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &bz->file);
    }
}


char *
ngx_http_dgj_limit_ban_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_limit_main_conf_t  *lmcf = conf;

    u_char                   *p;
    ssize_t                   size;
    ngx_str_t                *value, name, s;
    ngx_shm_zone_t           *shm_zone;
    ngx_http_dgj_ban_zone_t  *bz;

    if (lmcf->ban.shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = ngx_strlchr(value[1].data, value[1].data + value[1].len, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid ban zone \"%V\": expected name:size",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid ban zone size \"%V\": at least %uzk",
                           &value[1], 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    bz = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_ban_zone_t));
    if (bz == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "file=", 5) != 0 || value[2].len < 6) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": expected "
                               "file=path", &value[2]);
            return NGX_CONF_ERROR;
        }

        bz->file.data = value[2].data + 5;
        bz->file.len = value[2].len - 5;

        if (ngx_conf_full_name(cf->cycle, &bz->file, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_dgj_limit_check_resize(cf, &name, size,
                                        "dgj_limit_ban_zone")
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_dgj_limit_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_dgj_ban_init_zone;
    shm_zone->data = bz;

    lmcf->ban.shm_zone = shm_zone;
    lmcf->ban.file = bz->file;

    return NGX_CONF_OK;
}


char *
ngx_http_dgj_limit_ban_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_dgj_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dgj_limit_module);

    if (lmcf->ban.shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"dgj_limit_ban_api\" needs a "
                           "\"dgj_limit_ban_zone\" in the http block "
                           "before it");
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_dgj_ban_api_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_dgj_ban_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_dgj_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_limit_module);

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_dgj_ban_list(r, lmcf->ban.shm_zone->data);
    }

    if (!(r->method & NGX_HTTP_POST)) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (r->headers_in.content_length_n > NGX_HTTP_DGJ_BAN_MAX_BODY) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_dgj_ban_api_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_dgj_ban_api_body(ngx_http_request_t *r)
{
    u_char                          *body, *p, *eol, *last, *out;
    size_t                           len;
    time_t                           now;
    ssize_t                          n;
    ngx_buf_t                       *b;
    ngx_uint_t                       line, nops, i, banned, unbanned, absent;
    ngx_chain_t                     *cl;
    const char                      *err;
    ngx_http_dgj_ban_op_t           *ops, *op;
    ngx_http_dgj_ban_node_t         *bn;
    ngx_http_dgj_ban_zone_t         *bz;
    ngx_http_dgj_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_limit_module);
    bz = lmcf->ban.shm_zone->data;

    if (r->request_body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
        return;
    }

    len = 0;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > NGX_HTTP_DGJ_BAN_MAX_BODY) {
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE);
        return;
    }

    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n == NGX_ERROR) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    last = p;

    /* every line is checked before any is applied */

    nops = 0;
    for (p = body; p < last; p++) {
        nops += (*p == '\n');
    }

    ops = ngx_palloc(r->pool, (nops + 1) * sizeof(ngx_http_dgj_ban_op_t));
    if (ops == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    now = ngx_time();
    nops = 0;
    line = 0;

    for (p = body; p < last; p = eol + 1) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        line++;
        len = eol - p;

        if (len && p[len - 1] == '\r') {
            len--;
        }

        if (len == 0) {
            continue;
        }

        err = ngx_http_dgj_ban_parse(p, p + len, 1, now, &ops[nops]);

        if (err) {
            out = ngx_pnalloc(r->pool, 256);
            if (out == NULL) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            len = ngx_snprintf(out, 256, "{\"error\":{\"code\":\"bad_request\","
                               "\"message\":\"line %ui: %s; nothing "
                               "applied\"}}\n", line, err) - out;

            ngx_http_finalize_request(r,
                ngx_http_dgj_ban_reply(r, NGX_HTTP_BAD_REQUEST, out, len));
            return;
        }

        nops++;
    }

    banned = 0;
    unbanned = 0;
    absent = 0;

    ngx_shmtx_lock(&bz->shpool->mutex);

    for (i = 0; i < nops; i++) {
        op = &ops[i];

        if (op->unban) {
            bn = ngx_http_dgj_ban_find(bz, op->kind, op->value.data,
                                       op->value.len);
            if (bn) {
                ngx_http_dgj_ban_remove(bz, bn);
                unbanned++;

            } else {
                absent++;
            }

            continue;
        }

        if (ngx_http_dgj_ban_put(bz, op) != NGX_OK) {
            break;
        }

        banned++;
    }

    ngx_shmtx_unlock(&bz->shpool->mutex);

    /* every change is recorded */

    for (op = ops; op < ops + banned + unbanned + absent; op++) {
        if (op->unban) {
            ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                          "dgj limit: unban %s %V",
                          ngx_http_dgj_ban_kinds[op->kind], &op->value);

        } else {
            ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                          "dgj limit: ban %s %V until %T: \"%V\"",
                          ngx_http_dgj_ban_kinds[op->kind], &op->value,
                          op->until, &op->reason);
        }
    }

    out = ngx_pnalloc(r->pool, 256);
    if (out == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (i < nops) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "dgj limit: ban zone \"%V\" is full: %ui of %ui "
                      "lines applied", &lmcf->ban.shm_zone->shm.name, i,
                      nops);

        len = ngx_snprintf(out, 256, "{\"error\":{\"code\":\"ban_zone_full\","
                           "\"message\":\"ban zone is full: the first %ui of "
                           "%ui lines were applied\"}}\n", i, nops) - out;

        ngx_http_finalize_request(r,
            ngx_http_dgj_ban_reply(r, NGX_HTTP_INSUFFICIENT_STORAGE, out,
                                   len));
        return;
    }

    len = ngx_snprintf(out, 256, "{\"banned\":%ui,\"unbanned\":%ui,"
                       "\"not_found\":%ui}\n", banned, unbanned, absent)
          - out;

    ngx_http_finalize_request(r,
                              ngx_http_dgj_ban_reply(r, NGX_HTTP_OK, out, len));
}


static ngx_int_t
ngx_http_dgj_ban_list(ngx_http_request_t *r, ngx_http_dgj_ban_zone_t *bz)
{
    u_char                   *out, *p;
    size_t                    size;
    time_t                    now;
    ngx_uint_t                pass, count;
    ngx_queue_t              *q, *next, *queues[2];
    ngx_http_dgj_ban_node_t  *bn;

    queues[0] = &bz->sh->bans;
    queues[1] = &bz->sh->cidrs;

    now = ngx_time();
    out = NULL;
    p = NULL;
    size = sizeof("{\"bans\":[],\"count\":}\n") + NGX_INT_T_LEN;
    count = 0;

    ngx_shmtx_lock(&bz->shpool->mutex);

    for (pass = 0; pass < 4; pass++) {

        if (pass == 2) {
            out = ngx_pnalloc(r->pool, size);
            if (out == NULL) {
                ngx_shmtx_unlock(&bz->shpool->mutex);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p = ngx_cpymem(out, "{\"bans\":[", 9);
        }

        for (q = ngx_queue_head(queues[pass % 2]);
             q != ngx_queue_sentinel(queues[pass % 2]);
             q = next)
        {
            next = ngx_queue_next(q);
            bn = ngx_queue_data(q, ngx_http_dgj_ban_node_t, queue);

            if (bn->until && bn->until <= now) {
                ngx_http_dgj_ban_remove(bz, bn);
                continue;
            }

            if (pass < 2) {
                size += sizeof("{\"kind\":\"\",\"value\":\"\",\"until\":,"
                               "\"reason\":\"\"},") + 8 + NGX_TIME_T_LEN
                        + bn->vlen + 6 * bn->rlen;
                continue;
            }

            if (count++) {
                *p++ = ',';
            }

            p = ngx_sprintf(p, "{\"kind\":\"%s\",\"value\":\"",
                            ngx_http_dgj_ban_kinds[bn->kind]);
            p = ngx_cpymem(p, bn->data, bn->vlen);
            p = ngx_sprintf(p, "\",\"until\":%T,\"reason\":\"", bn->until);
            p = (u_char *) ngx_escape_json(p, bn->data + bn->vlen, bn->rlen);
            p = ngx_cpymem(p, "\"}", 2);
        }
    }

    ngx_shmtx_unlock(&bz->shpool->mutex);

    p = ngx_sprintf(p, "],\"count\":%ui}\n", count);

    return ngx_http_dgj_ban_reply(r, NGX_HTTP_OK, out, p - out);
}


static ngx_int_t
ngx_http_dgj_ban_reply(ngx_http_request_t *r, ngx_uint_t status, u_char *body,
    size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
