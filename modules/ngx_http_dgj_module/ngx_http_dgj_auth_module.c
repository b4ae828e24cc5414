
/*
 * Copyright (C) Daguanjia developers
 *
 * ngx_http_dgj_auth_module.c: inline authentication.  Owns the access
 * token check (ACCESS phase), the $dgj_* identity variables (verified
 * lazily, once per main request), role and level requirements, the CSRF
 * check of cookie-authenticated writes, the shared-memory set of revoked
 * sessions and its control handler.  Token crypto is in dgj_token.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "dgj_digits.h"
#include "dgj_token.h"


#define NGX_HTTP_DGJ_AUTH_OFF       0
#define NGX_HTTP_DGJ_AUTH_OPTIONAL  1
#define NGX_HTTP_DGJ_AUTH_ON        2

/* seconds of clock skew allowed on a token's iat */
#define NGX_HTTP_DGJ_AUTH_LEEWAY    30

/* largest revocation state file read at start and reload */
#define NGX_HTTP_DGJ_AUTH_FILE_MAX  (16 * 1024 * 1024)

/* tokens verified in this worker, kept to skip their MAC next time: a
 * power of two of entries, each for a token up to the given length */
#define NGX_HTTP_DGJ_AUTH_SEEN_N    512
#define NGX_HTTP_DGJ_AUTH_SEEN_LEN  320
#define NGX_HTTP_DGJ_AUTH_SEEN_TAIL 16


/* one token that verified, with its claims (docs/security.md) */
typedef struct {
    dgj_token_ring_t     *ring;
    size_t                len;
    u_char                token[NGX_HTTP_DGJ_AUTH_SEEN_LEN];
    dgj_token_claims_t    claims;
    u_char                session[DGJ_TOKEN_SESSION_LEN];  /* parsed */
} ngx_http_dgj_auth_seen_t;


typedef enum {
    NGX_HTTP_DGJ_AUTH_S_OFF = 0,
    NGX_HTTP_DGJ_AUTH_S_NONE,
    NGX_HTTP_DGJ_AUTH_S_OK,
    NGX_HTTP_DGJ_AUTH_S_EXPIRED,
    NGX_HTTP_DGJ_AUTH_S_INVALID,
    NGX_HTTP_DGJ_AUTH_S_REVOKED,
    NGX_HTTP_DGJ_AUTH_S_FORBIDDEN,
    NGX_HTTP_DGJ_AUTH_S_CSRF
} ngx_http_dgj_auth_status_e;


typedef enum {
    NGX_HTTP_DGJ_AUTH_VAR_USER_ID = 0,
    NGX_HTTP_DGJ_AUTH_VAR_ROLES,
    NGX_HTTP_DGJ_AUTH_VAR_DEPT,
    NGX_HTTP_DGJ_AUTH_VAR_SESSION,
    NGX_HTTP_DGJ_AUTH_VAR_STATUS,
    NGX_HTTP_DGJ_AUTH_VAR_LEVEL
} ngx_http_dgj_auth_var_e;


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_uint_t                    count;
} ngx_http_dgj_auth_revoke_shctx_t;


typedef struct {
    ngx_http_dgj_auth_revoke_shctx_t  *sh;
    ngx_slab_pool_t                   *shpool;
    ngx_str_t                          file;     /* empty: none */
} ngx_http_dgj_auth_revoke_ctx_t;


/* key of the rbtree node: the first 8 bytes of the session */
typedef struct {
    ngx_rbtree_node_t             node;
    u_char                        session[DGJ_TOKEN_SESSION_LEN];
    time_t                        until;
} ngx_http_dgj_auth_revoke_node_t;


typedef struct {
    dgj_token_ring_t             *ring;
    ngx_str_t                     key_file;
    ngx_shm_zone_t               *revoke_zone;
    ngx_int_t                     request_id_index;
    ngx_uint_t                    enabled;       /* some dgj_auth not off */
    ngx_uint_t                    revoke_api;    /* dgj_auth_revoke_api */
} ngx_http_dgj_auth_main_conf_t;


typedef struct {
    ngx_uint_t                    mode;
    ngx_uint_t                    require;       /* role bits; 0: any */
    ngx_uint_t                    level;
    ngx_str_t                     login_url;
    ngx_flag_t                    csrf;
} ngx_http_dgj_auth_loc_conf_t;


typedef struct {
    ngx_http_dgj_auth_status_e    status;
    unsigned                      from_cookie:1;
    ngx_uint_t                    roles;         /* role bits */
    dgj_token_claims_t            claims;
} ngx_http_dgj_auth_ctx_t;


static ngx_http_dgj_auth_ctx_t *ngx_http_dgj_auth_get_ctx(
    ngx_http_request_t *r);
static void ngx_http_dgj_auth_verify(ngx_http_request_t *r,
    ngx_http_dgj_auth_ctx_t *ctx);
static ngx_int_t ngx_http_dgj_auth_token(ngx_http_request_t *r,
    ngx_str_t *token, ngx_uint_t *from_cookie);
static ngx_uint_t ngx_http_dgj_auth_role_bits(u_char *p, size_t len);
static ngx_int_t ngx_http_dgj_auth_csrf_ok(ngx_http_request_t *r,
    ngx_http_dgj_auth_ctx_t *ctx);
static ngx_int_t ngx_http_dgj_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_dgj_auth_reject(ngx_http_request_t *r,
    ngx_http_dgj_auth_loc_conf_t *alcf, ngx_http_dgj_auth_ctx_t *ctx);
static ngx_int_t ngx_http_dgj_auth_reply(ngx_http_request_t *r,
    ngx_uint_t status, char *code, ngx_str_t *message);

static ngx_int_t ngx_http_dgj_auth_revoked(ngx_http_request_t *r,
    u_char *session);
static ngx_http_dgj_auth_revoke_node_t *ngx_http_dgj_auth_revoke_lookup(
    ngx_http_dgj_auth_revoke_ctx_t *ctx, u_char *session);
static ngx_int_t ngx_http_dgj_auth_revoke_insert(
    ngx_http_dgj_auth_revoke_ctx_t *ctx, u_char *session, time_t until,
    time_t now);
static void ngx_http_dgj_auth_revoke_expire(
    ngx_http_dgj_auth_revoke_ctx_t *ctx, time_t now);
static void ngx_http_dgj_auth_revoke_rbtree_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_dgj_auth_revoke_parse_line(u_char *p, u_char *last,
    u_char *session, time_t *until);
static ngx_int_t ngx_http_dgj_auth_revoke_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_dgj_auth_revoke_load(
    ngx_http_dgj_auth_revoke_ctx_t *ctx, ngx_shm_zone_t *shm_zone);
static ngx_int_t ngx_http_dgj_auth_revoke_handler(ngx_http_request_t *r);
static void ngx_http_dgj_auth_revoke_body(ngx_http_request_t *r);

static ngx_int_t ngx_http_dgj_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_dgj_auth_add_variables(ngx_conf_t *cf);
static void *ngx_http_dgj_auth_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_dgj_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_dgj_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_dgj_auth_init(ngx_conf_t *cf);
static char *ngx_http_dgj_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_auth_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_auth_level(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_auth_login_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_auth_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_dgj_auth_ring_cleanup(void *data);
static dgj_token_rc_e ngx_http_dgj_auth_check_token(dgj_token_ring_t *ring,
    ngx_str_t *token, time_t now, dgj_token_claims_t *claims,
    u_char *session);
static char *ngx_http_dgj_auth_revoke_zone(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_dgj_auth_revoke_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_enum_t  ngx_http_dgj_auth_modes[] = {
    { ngx_string("off"), NGX_HTTP_DGJ_AUTH_OFF },
    { ngx_string("optional"), NGX_HTTP_DGJ_AUTH_OPTIONAL },
    { ngx_string("on"), NGX_HTTP_DGJ_AUTH_ON },
    { ngx_null_string, 0 }
};


/* the contract's roles; bit i is ngx_http_dgj_auth_roles[i] */
static ngx_str_t  ngx_http_dgj_auth_roles[] = {
    ngx_string("citizen"),
    ngx_string("organisation"),
    ngx_string("org_pending"),
    ngx_string("intake"),
    ngx_string("handler"),
    ngx_string("reviewer"),
    ngx_string("supervisor"),
    ngx_string("project_manager"),
    ngx_string("analyst"),
    ngx_string("sysadmin"),
    ngx_string("secadmin"),
    ngx_string("auditor"),
    ngx_string("ops"),
    ngx_null_string
};


static ngx_str_t  ngx_http_dgj_auth_status_names[] = {
    ngx_string("OFF"),
    ngx_string("NONE"),
    ngx_string("OK"),
    ngx_string("EXPIRED"),
    ngx_string("INVALID"),
    ngx_string("REVOKED"),
    ngx_string("FORBIDDEN"),
    ngx_string("CSRF")
};


static ngx_command_t  ngx_http_dgj_auth_commands[] = {

    { ngx_string("dgj_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_dgj_auth_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_auth_require"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_dgj_auth_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_auth_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_dgj_auth_level,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_auth_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_dgj_auth_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_auth_login_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_dgj_auth_login_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_auth_csrf"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_dgj_auth_loc_conf_t, csrf),
      NULL },

    { ngx_string("dgj_auth_revoke_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_dgj_auth_revoke_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_auth_revoke_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_dgj_auth_revoke_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_dgj_auth_module_ctx = {
    ngx_http_dgj_auth_add_variables,       /* preconfiguration */
    ngx_http_dgj_auth_init,                /* postconfiguration */

    ngx_http_dgj_auth_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_dgj_auth_create_loc_conf,     /* create location configuration */
    ngx_http_dgj_auth_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_dgj_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_dgj_auth_module_ctx,         /* module context */
    ngx_http_dgj_auth_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_dgj_auth_vars[] = {

    { ngx_string("dgj_user_id"), NULL, ngx_http_dgj_auth_variable,
      NGX_HTTP_DGJ_AUTH_VAR_USER_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("dgj_roles"), NULL, ngx_http_dgj_auth_variable,
      NGX_HTTP_DGJ_AUTH_VAR_ROLES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("dgj_dept"), NULL, ngx_http_dgj_auth_variable,
      NGX_HTTP_DGJ_AUTH_VAR_DEPT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("dgj_session"), NULL, ngx_http_dgj_auth_variable,
      NGX_HTTP_DGJ_AUTH_VAR_SESSION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("dgj_auth_status"), NULL, ngx_http_dgj_auth_variable,
      NGX_HTTP_DGJ_AUTH_VAR_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("dgj_auth_level"), NULL, ngx_http_dgj_auth_variable,
      NGX_HTTP_DGJ_AUTH_VAR_LEVEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * The identity of the main request, verified once: PREACCESS modules
 * (the limiter), the ACCESS handler, subrequests and the log phase all
 * read the same result.  An internal redirect clears it (nginx zeroes
 * module contexts), so a new location verifies under its own settings.
 */
static ngx_http_dgj_auth_ctx_t *
ngx_http_dgj_auth_get_ctx(ngx_http_request_t *r)
{
    ngx_http_dgj_auth_ctx_t       *ctx;
    ngx_http_dgj_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r->main, ngx_http_dgj_auth_module);

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_dgj_auth_module);

    if (ctx != NULL) {

        /* first looked at before a rewrite moved it to a guarded place */
        if (ctx->status == NGX_HTTP_DGJ_AUTH_S_OFF
            && alcf->mode != NGX_HTTP_DGJ_AUTH_OFF)
        {
            ngx_http_dgj_auth_verify(r->main, ctx);
        }

        return ctx;
    }

    ctx = ngx_pcalloc(r->main->pool, sizeof(ngx_http_dgj_auth_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    if (alcf->mode == NGX_HTTP_DGJ_AUTH_OFF) {
        ctx->status = NGX_HTTP_DGJ_AUTH_S_OFF;

    } else {
        ngx_http_dgj_auth_verify(r->main, ctx);
    }

    ngx_http_set_ctx(r->main, ctx, ngx_http_dgj_auth_module);

    return ctx;
}


static void
ngx_http_dgj_auth_verify(ngx_http_request_t *r, ngx_http_dgj_auth_ctx_t *ctx)
{
    u_char                          session[DGJ_TOKEN_SESSION_LEN];
    ngx_str_t                       token;
    ngx_uint_t                      from_cookie;
    dgj_token_rc_e                  rc;
    ngx_http_dgj_auth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_auth_module);

    ngx_memzero(&ctx->claims, sizeof(dgj_token_claims_t));
    ctx->roles = 0;
    ctx->from_cookie = 0;

    if (ngx_http_dgj_auth_token(r, &token, &from_cookie) != NGX_OK) {
        ctx->status = NGX_HTTP_DGJ_AUTH_S_NONE;
        return;
    }

    ctx->from_cookie = from_cookie;

    rc = ngx_http_dgj_auth_check_token(amcf->ring, &token, ngx_time(),
                                       &ctx->claims, session);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "dgj auth: token: %s", dgj_token_strerror(rc));

    switch (rc) {

    case DGJ_TOKEN_OK:
        break;

    case DGJ_TOKEN_MISSING:
        ctx->status = NGX_HTTP_DGJ_AUTH_S_NONE;
        return;

    case DGJ_TOKEN_EXPIRED:
        ctx->status = NGX_HTTP_DGJ_AUTH_S_EXPIRED;
        return;

    default:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "dgj auth: invalid token: %s", dgj_token_strerror(rc));
        ctx->status = NGX_HTTP_DGJ_AUTH_S_INVALID;
        return;
    }

    if (ngx_http_dgj_auth_revoked(r, session)) {
        ctx->status = NGX_HTTP_DGJ_AUTH_S_REVOKED;
        return;
    }

    ctx->roles = ngx_http_dgj_auth_role_bits((u_char *) ctx->claims.roles,
                                             ctx->claims.roles_len);
    ctx->status = NGX_HTTP_DGJ_AUTH_S_OK;
}


/*
 * dgj_token_verify() behind a per-worker table of the tokens it passed: a
 * signed-in user sends the same token with every request until it is
 * refreshed, and its MAC and parse need not be redone each time (nor the
 * session id's, which goes to session, 16 bytes, on DGJ_TOKEN_OK).  Only a
 * byte-for-byte equal token (compared in constant time) reuses its claims;
 * their expiry is checked again at every use; revocation is checked by
 * the caller on every request, cached or not.  The table lives as long as
 * the worker, and a reload (the only way the key ring changes) starts new
 * workers with empty tables.
 */
static dgj_token_rc_e
ngx_http_dgj_auth_check_token(dgj_token_ring_t *ring, ngx_str_t *token,
    time_t now, dgj_token_claims_t *claims, u_char *session)
{
    size_t                            n;
    dgj_token_rc_e                    rc;
    ngx_http_dgj_auth_seen_t         *e;
    static ngx_http_dgj_auth_seen_t   seen[NGX_HTTP_DGJ_AUTH_SEEN_N];

    e = NULL;

    if (token->len > 0 && token->len <= NGX_HTTP_DGJ_AUTH_SEEN_LEN) {
        /* the slot by the token's last bytes: its MAC, unpredictable */
        n = ngx_min(token->len, NGX_HTTP_DGJ_AUTH_SEEN_TAIL);

        e = &seen[ngx_murmur_hash2(token->data + token->len - n, n)
                  & (NGX_HTTP_DGJ_AUTH_SEEN_N - 1)];

        if (e->ring == ring && e->len == token->len
            && dgj_token_equal(e->token, token->data, token->len))
        {
            *claims = e->claims;
            ngx_memcpy(session, e->session, DGJ_TOKEN_SESSION_LEN);

            /* dgj_token_verify()'s own time checks, at this use */
            rc = dgj_token_check_time(claims, now, NGX_HTTP_DGJ_AUTH_LEEWAY);

            if (rc == DGJ_TOKEN_EXPIRED) {
                e->len = 0;
            }

            return rc;
        }
    }

    rc = dgj_token_verify(ring, (char *) token->data, token->len, now,
                          NGX_HTTP_DGJ_AUTH_LEEWAY, claims);

    if (rc != DGJ_TOKEN_OK) {
        return rc;
    }

    /* the token's grammar, checked by dgj_token_verify(), made the session
     * 32 lower-hex characters */
    (void) dgj_token_session_parse(claims->session, 2 * DGJ_TOKEN_SESSION_LEN,
                                   session);

    if (e != NULL) {
        e->ring = ring;
        e->len = token->len;
        ngx_memcpy(e->token, token->data, token->len);
        e->claims = *claims;
        ngx_memcpy(e->session, session, DGJ_TOKEN_SESSION_LEN);
    }

    return rc;
}


/* "Authorization: Bearer <token>" first, else the dgj_at cookie */
static ngx_int_t
ngx_http_dgj_auth_token(ngx_http_request_t *r, ngx_str_t *token,
    ngx_uint_t *from_cookie)
{
    u_char           *p, *last;
    ngx_str_t         name;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h != NULL
        && h->value.len > sizeof("Bearer ") - 1
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) == 0)
    {
        p = h->value.data + sizeof("Bearer ") - 1;
        last = h->value.data + h->value.len;

        while (p < last && *p == ' ') {
            p++;
        }

        while (last > p && last[-1] == ' ') {
            last--;
        }

        token->data = p;
        token->len = last - p;
        *from_cookie = 0;

        return NGX_OK;
    }

    ngx_str_set(&name, "dgj_at");

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          token)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    *from_cookie = 1;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_dgj_auth_role_bits(u_char *p, size_t len)
{
    u_char      *last, *comma;
    size_t       n;
    ngx_uint_t   i, bits;

    bits = 0;
    last = p + len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        n = comma - p;

        for (i = 0; ngx_http_dgj_auth_roles[i].len; i++) {
            if (ngx_http_dgj_auth_roles[i].len == n
                && ngx_strncmp(ngx_http_dgj_auth_roles[i].data, p, n) == 0)
            {
                bits |= (ngx_uint_t) 1 << i;
            }
        }

        p = comma + 1;
    }

    return bits;
}


static ngx_int_t
ngx_http_dgj_auth_csrf_ok(ngx_http_request_t *r, ngx_http_dgj_auth_ctx_t *ctx)
{
    ngx_uint_t                      i;
    ngx_list_part_t                *part;
    ngx_table_elt_t                *h;
    ngx_http_dgj_auth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_auth_module);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("X-CSRF-Token") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-CSRF-Token",
                               sizeof("X-CSRF-Token") - 1) == 0)
        {
            return dgj_token_csrf_verify(amcf->ring, ctx->claims.session,
                                         (char *) h[i].value.data,
                                         h[i].value.len)
                   ? NGX_OK : NGX_DECLINED;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_dgj_auth_handler(ngx_http_request_t *r)
{
    ngx_http_dgj_auth_ctx_t       *ctx;
    ngx_http_dgj_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_dgj_auth_module);

    if (alcf->mode == NGX_HTTP_DGJ_AUTH_OFF) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_dgj_auth_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* Bearer tokens are not sent by browsers on their own: no CSRF */
    if (ctx->status == NGX_HTTP_DGJ_AUTH_S_OK
        && ctx->from_cookie
        && alcf->csrf
        && (r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH
                         |NGX_HTTP_DELETE))
        && ngx_http_dgj_auth_csrf_ok(r, ctx) != NGX_OK)
    {
        ctx->status = NGX_HTTP_DGJ_AUTH_S_CSRF;
    }

    if (alcf->mode == NGX_HTTP_DGJ_AUTH_OPTIONAL) {

        /* anonymous unless OK; $dgj_auth_status tells the backend why */
        return NGX_DECLINED;
    }

    if (ctx->status == NGX_HTTP_DGJ_AUTH_S_OK
        && ctx->claims.level < alcf->level)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "dgj auth: rejected: level (user %uL)",
                      ctx->claims.user_id);
        ctx->status = NGX_HTTP_DGJ_AUTH_S_FORBIDDEN;

    } else if (ctx->status == NGX_HTTP_DGJ_AUTH_S_OK
               && alcf->require
               && (ctx->roles & alcf->require) == 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "dgj auth: rejected: role (user %uL)",
                      ctx->claims.user_id);
        ctx->status = NGX_HTTP_DGJ_AUTH_S_FORBIDDEN;
    }

    if (ctx->status == NGX_HTTP_DGJ_AUTH_S_OK) {
        return NGX_OK;
    }

    return ngx_http_dgj_auth_reject(r, alcf, ctx);
}


static ngx_int_t
ngx_http_dgj_auth_reject(ngx_http_request_t *r,
    ngx_http_dgj_auth_loc_conf_t *alcf, ngx_http_dgj_auth_ctx_t *ctx)
{
    char             *code;
    u_char           *p;
    size_t            len;
    uintptr_t         escape;
    ngx_int_t         rc;
    ngx_str_t         message;
    ngx_uint_t        status;
    ngx_table_elt_t  *h;

    switch (ctx->status) {

    case NGX_HTTP_DGJ_AUTH_S_FORBIDDEN:
        status = NGX_HTTP_FORBIDDEN;
        code = "forbidden";
        ngx_str_set(&message, "your account may not use this resource");
        break;

    case NGX_HTTP_DGJ_AUTH_S_CSRF:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "dgj auth: rejected: csrf (user %uL)",
                      ctx->claims.user_id);
        status = NGX_HTTP_FORBIDDEN;
        code = "csrf_failed";
        ngx_str_set(&message, "missing or wrong X-CSRF-Token header");
        break;

    case NGX_HTTP_DGJ_AUTH_S_EXPIRED:
        status = NGX_HTTP_UNAUTHORIZED;
        code = "token_expired";
        ngx_str_set(&message, "the access token has expired");
        break;

    case NGX_HTTP_DGJ_AUTH_S_REVOKED:
        status = NGX_HTTP_UNAUTHORIZED;
        code = "session_revoked";
        ngx_str_set(&message, "the session has been signed out");
        break;

    default:
        status = NGX_HTTP_UNAUTHORIZED;
        code = "unauthenticated";
        ngx_str_set(&message, "sign-in required");
        break;
    }

    if (status == NGX_HTTP_UNAUTHORIZED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "dgj auth: rejected: %V",
                      &ngx_http_dgj_auth_status_names[ctx->status]);
    }

    if (status == NGX_HTTP_UNAUTHORIZED
        && alcf->login_url.len
        && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)))
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        escape = ngx_escape_uri(NULL, r->unparsed_uri.data,
                                r->unparsed_uri.len,
                                NGX_ESCAPE_URI_COMPONENT);

        len = alcf->login_url.len + sizeof("?next=") - 1
              + r->unparsed_uri.len + 2 * escape;

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Location");
        h->value.data = p;

        p = ngx_cpymem(p, alcf->login_url.data, alcf->login_url.len);
        *p++ = ngx_strlchr(alcf->login_url.data,
                           alcf->login_url.data + alcf->login_url.len, '?')
               ? '&' : '?';
        p = ngx_cpymem(p, "next=", sizeof("next=") - 1);
        p = (u_char *) ngx_escape_uri(p, r->unparsed_uri.data,
                                      r->unparsed_uri.len,
                                      NGX_ESCAPE_URI_COMPONENT);

        h->value.len = p - h->value.data;

        ngx_http_clear_location(r);
        r->headers_out.location = h;

        return NGX_HTTP_MOVED_TEMPORARILY;
    }

    rc = ngx_http_dgj_auth_reply(r, status, code, &message);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* the gateway's JSON error shape, with the request id */
static ngx_int_t
ngx_http_dgj_auth_reply(ngx_http_request_t *r, ngx_uint_t status, char *code,
    ngx_str_t *message)
{
    size_t                          len;
    ngx_int_t                       rc;
    ngx_buf_t                      *b;
    ngx_chain_t                     out;
    ngx_table_elt_t                *h;
    ngx_http_variable_value_t      *id;
    ngx_http_dgj_auth_main_conf_t  *amcf;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_auth_module);

    id = ngx_http_get_indexed_variable(r, amcf->request_id_index);
    if (id == NULL || id->not_found) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("{\"error\":{\"code\":\"\",\"message\":\"\"},"
                 "\"request_id\":\"\"}\n") - 1
          + ngx_strlen(code) + message->len + id->len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_sprintf(b->last, "{\"error\":{\"code\":\"%s\","
                          "\"message\":\"%V\"},\"request_id\":\"%*s\"}\n",
                          code, message, (size_t) id->len, id->data);

    if (status == NGX_HTTP_UNAUTHORIZED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WWW-Authenticate");
        ngx_str_set(&h->value, "Bearer");
        r->headers_out.www_authenticate = h;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/json") - 1;
    r->headers_out.content_type_lowcase = NULL;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* 1 when session (16 bytes) is revoked now */
static ngx_int_t
ngx_http_dgj_auth_revoked(ngx_http_request_t *r, u_char *session)
{
    ngx_int_t                          revoked;
    ngx_http_dgj_auth_revoke_ctx_t    *ctx;
    ngx_http_dgj_auth_main_conf_t     *amcf;
    ngx_http_dgj_auth_revoke_node_t   *node;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_auth_module);

    if (amcf->revoke_zone == NULL) {
        return 0;
    }

    ctx = amcf->revoke_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_dgj_auth_revoke_lookup(ctx, session);
    revoked = (node != NULL && node->until > ngx_time());

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (revoked) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "dgj auth: revoked session");
    }

    return revoked;
}


static ngx_http_dgj_auth_revoke_node_t *
ngx_http_dgj_auth_revoke_lookup(ngx_http_dgj_auth_revoke_ctx_t *ctx,
    u_char *session)
{
    ngx_int_t                         rc;
    ngx_rbtree_key_t                  key;
    ngx_rbtree_node_t                *node, *sentinel;
    ngx_http_dgj_auth_revoke_node_t  *rn;

    ngx_memcpy(&key, session, sizeof(ngx_rbtree_key_t));

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        rn = (ngx_http_dgj_auth_revoke_node_t *) node;

        rc = ngx_memcmp(session, rn->session, DGJ_TOKEN_SESSION_LEN);

        if (rc == 0) {
            return rn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * Adds or extends a revocation; the caller holds the zone lock.  NGX_OK,
 * or NGX_DECLINED when the zone is full even after dropping every
 * expired entry: a still-valid revocation is never evicted.
 */
static ngx_int_t
ngx_http_dgj_auth_revoke_insert(ngx_http_dgj_auth_revoke_ctx_t *ctx,
    u_char *session, time_t until, time_t now)
{
    ngx_http_dgj_auth_revoke_node_t  *rn;

    if (until <= now) {
        return NGX_OK;
    }

    rn = ngx_http_dgj_auth_revoke_lookup(ctx, session);

    if (rn != NULL) {
        if (until > rn->until) {
            rn->until = until;
        }

        return NGX_OK;
    }

    rn = ngx_slab_alloc_locked(ctx->shpool,
                               sizeof(ngx_http_dgj_auth_revoke_node_t));

    if (rn == NULL) {
        ngx_http_dgj_auth_revoke_expire(ctx, now);

        rn = ngx_slab_alloc_locked(ctx->shpool,
                                   sizeof(ngx_http_dgj_auth_revoke_node_t));
        if (rn == NULL) {
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(&rn->node.key, session, sizeof(ngx_rbtree_key_t));
    ngx_memcpy(rn->session, session, DGJ_TOKEN_SESSION_LEN);
    rn->until = until;

    ngx_rbtree_insert(&ctx->sh->rbtree, &rn->node);
    ctx->sh->count++;

    return NGX_OK;
}


/* drops every expired entry; the caller holds the zone lock */
static void
ngx_http_dgj_auth_revoke_expire(ngx_http_dgj_auth_revoke_ctx_t *ctx,
    time_t now)
{
    ngx_rbtree_node_t                *node, *next;
    ngx_http_dgj_auth_revoke_node_t  *rn;

    if (ctx->sh->rbtree.root == ctx->sh->rbtree.sentinel) {
        return;
    }

    node = ngx_rbtree_min(ctx->sh->rbtree.root, ctx->sh->rbtree.sentinel);

    while (node != NULL) {
        next = ngx_rbtree_next(&ctx->sh->rbtree, node);

        rn = (ngx_http_dgj_auth_revoke_node_t *) node;

        if (rn->until <= now) {
            ngx_rbtree_delete(&ctx->sh->rbtree, node);
            ngx_slab_free_locked(ctx->shpool, rn);
            ctx->sh->count--;
        }

        node = next;
    }
}


static void
ngx_http_dgj_auth_revoke_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t               **p;
    ngx_http_dgj_auth_revoke_node_t  *rn, *rnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            rn = (ngx_http_dgj_auth_revoke_node_t *) node;
            rnt = (ngx_http_dgj_auth_revoke_node_t *) temp;

            p = (ngx_memcmp(rn->session, rnt->session,
                            DGJ_TOKEN_SESSION_LEN) < 0)
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


/* "<32 lower-hex> <until-unix>" (a trailing CR is tolerated) */
static ngx_int_t
ngx_http_dgj_auth_revoke_parse_line(u_char *p, u_char *last,
    u_char *session, time_t *until)
{
    ngx_int_t  n;

    if (last > p && last[-1] == '\r') {
        last--;
    }

    if (last - p < 2 * DGJ_TOKEN_SESSION_LEN + 2
        || p[2 * DGJ_TOKEN_SESSION_LEN] != ' '
        || !dgj_token_session_parse((char *) p, 2 * DGJ_TOKEN_SESSION_LEN,
                                    session))
    {
        return NGX_ERROR;
    }

    p += 2 * DGJ_TOKEN_SESSION_LEN + 1;

    if (last - p > 12) {
        return NGX_ERROR;
    }

    n = ngx_atoi(p, last - p);
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    *until = (time_t) n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_dgj_auth_revoke_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_dgj_auth_revoke_ctx_t  *octx = data;

    size_t                           len;
    ngx_http_dgj_auth_revoke_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* a reload keeps the set: the old zone is the new one */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return ngx_http_dgj_auth_revoke_load(ctx, shm_zone);
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        return ngx_http_dgj_auth_revoke_load(ctx, shm_zone);
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool,
                             sizeof(ngx_http_dgj_auth_revoke_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_dgj_auth_revoke_rbtree_insert_value);
    ctx->sh->count = 0;

    len = sizeof(" in dgj_auth_revoke_zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in dgj_auth_revoke_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is reported by the caller, with what it means */
    ctx->shpool->log_nomem = 0;

    return ngx_http_dgj_auth_revoke_load(ctx, shm_zone);
}


/*
 * Reads the state file (lines "<session-hex> <until>") into the zone, at
 * start and at every reload.  A bad line is skipped with a warning; a
 * zone too small for the still-valid entries fails the (re)load.
 */
static ngx_int_t
ngx_http_dgj_auth_revoke_load(ngx_http_dgj_auth_revoke_ctx_t *ctx,
    ngx_shm_zone_t *shm_zone)
{
    u_char           *buf, *p, *last, *eol;
    u_char            session[DGJ_TOKEN_SESSION_LEN];
    off_t             size;
    time_t            now, until;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_log_t        *log;
    ngx_uint_t        line, loaded;
    ngx_file_info_t   fi;

    if (ctx->file.len == 0) {
        return NGX_OK;
    }

    log = shm_zone->shm.log;

    fd = ngx_open_file(ctx->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "dgj auth: no revocations loaded: "
                      ngx_open_file_n " \"%V\" failed", &ctx->file);
        return NGX_OK;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", &ctx->file);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    size = ngx_file_size(&fi);

    if (size > NGX_HTTP_DGJ_AUTH_FILE_MAX) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "dgj auth: revocation file \"%V\" is larger than "
                      "%d bytes", &ctx->file, NGX_HTTP_DGJ_AUTH_FILE_MAX);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    buf = ngx_alloc((size_t) size + 1, log);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = size ? ngx_read_fd(fd, buf, (size_t) size) : 0;

    ngx_close_file(fd);

    if (n != size) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "dgj auth: cannot read \"%V\"", &ctx->file);
        ngx_free(buf);
        return NGX_ERROR;
    }

    now = ngx_time();
    last = buf + n;
    line = 0;
    loaded = 0;
    rc = NGX_OK;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (p = buf; p < last; p = eol + 1) {
        line++;

        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (eol == p) {
            continue;
        }

        if (ngx_http_dgj_auth_revoke_parse_line(p, eol, session, &until)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "dgj auth: %V:%ui: not \"<32 hex> <until>\", "
                          "ignored", &ctx->file, line);
            continue;
        }

        if (ngx_http_dgj_auth_revoke_insert(ctx, session, until, now)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "dgj_auth_revoke_zone \"%V\" is full at line %ui "
                          "of \"%V\": make the zone larger",
                          &shm_zone->shm.name, line, &ctx->file);
            rc = NGX_ERROR;
            break;
        }

        loaded++;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_free(buf);

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "dgj auth: %ui revocations read from \"%V\"",
                      loaded, &ctx->file);
    }

    return rc;
}


/* POST /_dgj/revoke: body lines "<session-hex> <until-unix>" -> 204 */
static ngx_int_t
ngx_http_dgj_auth_revoke_handler(ngx_http_request_t *r)
{
    ngx_int_t         rc;
    ngx_str_t         message;
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_POST) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "POST");

        ngx_str_set(&message, "use POST");

        return ngx_http_dgj_auth_reply(r, NGX_HTTP_NOT_ALLOWED,
                                       "method_not_allowed", &message);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_dgj_auth_revoke_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_dgj_auth_revoke_body(ngx_http_request_t *r)
{
    u_char                          *body, *p, *last, *eol;
    u_char                           session[DGJ_TOKEN_SESSION_LEN];
    u_char                           text[128];
    off_t                            len;
    time_t                           now, until;
    ssize_t                          n;
    ngx_int_t                        rc;
    ngx_str_t                        message;
    ngx_uint_t                       line, pass;
    ngx_buf_t                       *b;
    ngx_chain_t                     *cl;
    ngx_http_dgj_auth_revoke_ctx_t  *ctx;
    ngx_http_dgj_auth_main_conf_t   *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_dgj_auth_module);
    ctx = amcf->revoke_zone->data;

    len = 0;

    if (r->request_body != NULL) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    body = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    last = body;

    if (r->request_body != NULL) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            b = cl->buf;

            /* an empty body ends with a special buffer: no memory, no file */
            if (ngx_buf_size(b) == 0) {
                continue;
            }

            if (!b->in_file) {
                last = ngx_cpymem(last, b->pos, b->last - b->pos);
                continue;
            }

            n = ngx_read_file(b->file, last, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            last += n;
        }
    }

    now = ngx_time();
    rc = NGX_OK;

    /* pass 0 checks every line, pass 1 applies: all or nothing */
    for (pass = 0; pass < 2; pass++) {

        if (pass == 1) {
            ngx_shmtx_lock(&ctx->shpool->mutex);
        }

        line = 0;

        for (p = body; p < last; p = eol + 1) {
            line++;

            eol = ngx_strlchr(p, last, '\n');
            if (eol == NULL) {
                eol = last;
            }

            if (eol == p) {
                continue;
            }

            if (ngx_http_dgj_auth_revoke_parse_line(p, eol, session, &until)
                != NGX_OK)
            {
                message.data = text;
                message.len = ngx_snprintf(text, sizeof(text),
                                           "line %ui: expected \\\"<32 "
                                           "lower-hex session> <unix "
                                           "until>\\\"", line)
                              - text;

                rc = ngx_http_dgj_auth_reply(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_field", &message);
                ngx_http_finalize_request(r, rc);
                return;
            }

            if (pass == 1
                && ngx_http_dgj_auth_revoke_insert(ctx, session, until, now)
                   != NGX_OK)
            {
                rc = NGX_ERROR;
                break;
            }
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (rc != NGX_OK) {
        /* error, not alert: the caller is told (507) and retries */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "dgj auth: revocation zone is full: a revocation "
                      "was refused; make dgj_auth_revoke_zone larger");

        ngx_str_set(&message, "the revocation zone is full: make "
                    "dgj_auth_revoke_zone larger and reload");

        rc = ngx_http_dgj_auth_reply(r, 507, "revoke_zone_full", &message);
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_http_finalize_request(r, NGX_HTTP_NO_CONTENT);
}


static ngx_int_t
ngx_http_dgj_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    ngx_http_dgj_auth_ctx_t  *ctx;

    ctx = ngx_http_dgj_auth_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    if (data == NGX_HTTP_DGJ_AUTH_VAR_STATUS) {
        v->len = ngx_http_dgj_auth_status_names[ctx->status].len;
        v->data = ngx_http_dgj_auth_status_names[ctx->status].data;
        return NGX_OK;
    }

    /* identity only for a verified token (FORBIDDEN: known, not allowed) */
    if (ctx->status != NGX_HTTP_DGJ_AUTH_S_OK
        && ctx->status != NGX_HTTP_DGJ_AUTH_S_FORBIDDEN)
    {
        v->len = 0;
        v->data = (u_char *) "";
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_DGJ_AUTH_VAR_USER_ID:
    case NGX_HTTP_DGJ_AUTH_VAR_DEPT:
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        /* by hand, not ngx_sprintf: the audit line reads both, always */
        v->data = p;
        v->len = (u_char *) dgj_u64((char *) p,
                                    data == NGX_HTTP_DGJ_AUTH_VAR_USER_ID
                                    ? ctx->claims.user_id
                                    : ctx->claims.dept_id)
                 - p;
        break;

    case NGX_HTTP_DGJ_AUTH_VAR_ROLES:
        v->data = (u_char *) ctx->claims.roles;
        v->len = ctx->claims.roles_len;
        break;

    case NGX_HTTP_DGJ_AUTH_VAR_SESSION:
        v->data = (u_char *) ctx->claims.session;
        v->len = 2 * DGJ_TOKEN_SESSION_LEN;
        break;

    default: /* NGX_HTTP_DGJ_AUTH_VAR_LEVEL */
        v->data = (u_char *) (ctx->claims.level == 2 ? "2" : "1");
        v->len = 1;
        break;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_dgj_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_dgj_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_dgj_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_dgj_auth_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_auth_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->ring = NULL;
     *     amcf->key_file = { 0, NULL };
     *     amcf->revoke_zone = NULL;
     *     amcf->enabled = 0;
     *     amcf->revoke_api = 0;
     */

    amcf->request_id_index = NGX_ERROR;

    return amcf;
}


static void *
ngx_http_dgj_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_dgj_auth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_auth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->login_url = { 0, NULL };
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->require = NGX_CONF_UNSET_UINT;
    conf->level = NGX_CONF_UNSET_UINT;
    conf->csrf = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_dgj_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_dgj_auth_loc_conf_t  *prev = parent;
    ngx_http_dgj_auth_loc_conf_t  *conf = child;

    ngx_http_dgj_auth_main_conf_t  *amcf;

    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_DGJ_AUTH_OFF);
    ngx_conf_merge_uint_value(conf->require, prev->require, 0);
    ngx_conf_merge_uint_value(conf->level, prev->level, 1);
    ngx_conf_merge_str_value(conf->login_url, prev->login_url, "");
    ngx_conf_merge_value(conf->csrf, prev->csrf, 1);

    if (conf->mode != NGX_HTTP_DGJ_AUTH_OFF) {
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_dgj_auth_module);
        amcf->enabled = 1;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_dgj_auth_init(ngx_conf_t *cf)
{
    ngx_str_t                       name;
    ngx_http_handler_pt            *h;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_dgj_auth_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dgj_auth_module);

    if (amcf->enabled && amcf->ring == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dgj_auth\" is enabled but no \"dgj_auth_key_file\" "
                      "is set in the http block");
        return NGX_ERROR;
    }

    if (amcf->revoke_api && amcf->revoke_zone == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dgj_auth_revoke_api\" needs a "
                      "\"dgj_auth_revoke_zone\" in the http block");
        return NGX_ERROR;
    }

    ngx_str_set(&name, "request_id");

    amcf->request_id_index = ngx_http_get_variable_index(cf, &name);
    if (amcf->request_id_index == NGX_ERROR) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_dgj_auth_handler;

    return NGX_OK;
}


static char *
ngx_http_dgj_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (alcf->mode != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; ngx_http_dgj_auth_modes[i].name.len; i++) {
        if (value[1].len == ngx_http_dgj_auth_modes[i].name.len
            && ngx_strncmp(value[1].data, ngx_http_dgj_auth_modes[i].name.data,
                           value[1].len) == 0)
        {
            alcf->mode = ngx_http_dgj_auth_modes[i].value;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"dgj_auth\" "
                       "(off, optional or on)", &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_dgj_auth_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, j, bits;

    if (alcf->require != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    bits = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        for (j = 0; ngx_http_dgj_auth_roles[j].len; j++) {
            if (value[i].len == ngx_http_dgj_auth_roles[j].len
                && ngx_strncmp(value[i].data, ngx_http_dgj_auth_roles[j].data,
                               value[i].len) == 0)
            {
                break;
            }
        }

        if (ngx_http_dgj_auth_roles[j].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown role \"%V\" in \"dgj_auth_require\" "
                               "(known: citizen, organisation, org_pending, "
                               "intake, handler, reviewer, supervisor, "
                               "project_manager, analyst, sysadmin, "
                               "secadmin, auditor, ops)", &value[i]);
            return NGX_CONF_ERROR;
        }

        bits |= (ngx_uint_t) 1 << j;
    }

    alcf->require = bits;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_auth_level(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->level != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len != 1 || (value[1].data[0] != '1'
                              && value[1].data[0] != '2'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"dgj_auth_level\" "
                           "(1: one factor, 2: two factors)", &value[1]);
        return NGX_CONF_ERROR;
    }

    alcf->level = value[1].data[0] - '0';

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_auth_login_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (alcf->login_url.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0
        || !(value[1].data[0] == '/'
             || (value[1].len > 7
                 && ngx_strncmp(value[1].data, "http://", 7) == 0)
             || (value[1].len > 8
                 && ngx_strncmp(value[1].data, "https://", 8) == 0)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"dgj_auth_login_url\" \"%V\": it must "
                           "start with \"/\", \"http://\" or \"https://\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] == 0x7f
            || value[1].data[i] == '#' || value[1].data[i] == '"')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"dgj_auth_login_url\" \"%V\": no "
                               "spaces, control characters, '#' or '\"'",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    alcf->login_url = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_auth_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_auth_main_conf_t *amcf = conf;

    char                 err[512];
    ngx_str_t           *value, path;
    ngx_pool_cleanup_t  *cln;

    if (amcf->ring != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(dgj_token_ring_t));
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    /* read by the master at every (re)load: rotation is a reload */
    if (dgj_token_ring_load(cln->data, (char *) path.data, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "dgj_auth_key_file: %s", err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_dgj_auth_ring_cleanup;

    amcf->ring = cln->data;
    amcf->key_file = path;

    return NGX_CONF_OK;
}


static void
ngx_http_dgj_auth_ring_cleanup(void *data)
{
    dgj_token_ring_free(data);
}


static char *
ngx_http_dgj_auth_revoke_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_auth_main_conf_t *amcf = conf;

    u_char                          *p;
    ssize_t                          size;
    ngx_str_t                       *value, name, s, file;
    ngx_uint_t                       i;
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_dgj_auth_revoke_ctx_t  *ctx;

    if (amcf->revoke_zone != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\" in \"dgj_auth_revoke_zone\" "
                           "(expected name:size, e.g. dgj_revoked:1m)",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\" in "
                           "\"dgj_auth_revoke_zone\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "dgj_auth_revoke_zone \"%V\" is too small "
                           "(at least %uz bytes)", &value[1],
                           8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&file);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "file=", 5) == 0
            && value[i].len > 5)
        {
            file.data = value[i].data + 5;
            file.len = value[i].len - 5;

            if (ngx_conf_full_name(cf->cycle, &file, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in "
                           "\"dgj_auth_revoke_zone\" (only file=<path>)",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_auth_revoke_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->file = file;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_dgj_auth_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_dgj_auth_revoke_init_zone;
    shm_zone->data = ctx;

    amcf->revoke_zone = shm_zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_auth_revoke_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_dgj_auth_main_conf_t  *amcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_dgj_auth_revoke_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_dgj_auth_revoke_handler;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dgj_auth_module);
    amcf->revoke_api = 1;

    return NGX_CONF_OK;
}
