
/*
 * Copyright (C) Daguanjia developers
 *
 * ngx_http_dgj_audit_module.c: the tamper-evident audit log (LOG phase).
 * One JSON line per request (rejected ones too) into the file of
 * dgj_audit_log, sealed in a hash chain of this worker (dgj_audit_chain.c):
 * no lock between workers, each writes whole lines with O_APPEND.  A
 * header filter takes X-Dgj-Action / X-Dgj-Object from the response (the
 * FastCGI workers' dgj_req_audit()) and keeps them from the client.
 *
 * The chain's key moves to a new epoch as the clock passes each epoch
 * boundary (the older key erased, the shared key file rewritten); signed
 * checkpoints go in every dgj_audit_log checkpoint= interval, at the top
 * of every new file and before each epoch change.  Lines wait in a
 * per-worker buffer for at most flush= (docs/audit.md: loss window).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/file.h>

#include "dgj_audit_chain.h"
#include "dgj_digits.h"


/* a record's worst case: every clipped field escaped at 6 bytes a byte */
#define NGX_HTTP_DGJ_AUDIT_REC_MAX    14336
#define NGX_HTTP_DGJ_AUDIT_UA_MAX     512
#define NGX_HTTP_DGJ_AUDIT_PATH_MAX   768
#define NGX_HTTP_DGJ_AUDIT_TAG_MAX    64     /* action, object */
#define NGX_HTTP_DGJ_AUDIT_SLOTS      64     /* workers tracked in shm */
#define NGX_HTTP_DGJ_AUDIT_NODE_MAX   16
#define NGX_HTTP_DGJ_AUDIT_TOKEN_RUN  48     /* masked: a run this long */


typedef struct {
    ngx_flag_t               enable;
} ngx_http_dgj_audit_loc_conf_t;


typedef struct {
    ngx_open_file_t         *file;
    size_t                   buffer;
    ngx_msec_t               flush;
    ngx_msec_t               checkpoint;
    off_t                    max_size;
    ngx_str_t                key_file;
    ngx_str_t                sign_file;
    void                    *sign;          /* EVP_PKEY, Ed25519 */
    ngx_str_t                node;
    ngx_array_t             *mask;          /* ngx_str_t, lower case */
    ngx_shm_zone_t          *shm_zone;
    ngx_int_t                vars[6];       /* NGX_HTTP_DGJ_AUDIT_V_* */
} ngx_http_dgj_audit_main_conf_t;


/* the variables a record reads, in the order ngx_http_dgj_audit_init
 * looks them up */
enum {
    NGX_HTTP_DGJ_AUDIT_V_REQUEST_ID = 0,
    NGX_HTTP_DGJ_AUDIT_V_USER_ID,
    NGX_HTTP_DGJ_AUDIT_V_ROLES,
    NGX_HTTP_DGJ_AUDIT_V_DEPT,
    NGX_HTTP_DGJ_AUDIT_V_AUTH,
    NGX_HTTP_DGJ_AUDIT_V_LIMIT
};


typedef struct {
    ngx_str_t                action;
    ngx_str_t                object;
} ngx_http_dgj_audit_ctx_t;


/* what a successor worker needs of the chain before it in its slot */
typedef struct {
    ngx_pid_t                pid;
    uint64_t                 seq;           /* last line on disk */
    char                     chain[DGJ_AUDIT_CHAIN_MAX + 1];
} ngx_http_dgj_audit_slot_t;


/* this worker's writer */
typedef struct {
    ngx_http_dgj_audit_main_conf_t  *amcf;
    dgj_audit_chain_t        chain;
    u_char                  *buf;
    size_t                   len;
    ngx_fd_t                 fd;            /* the file->fd lines went to */
    ngx_uint_t               since_ckpt;
    time_t                   epoch_end;     /* unix s the epoch ends */
    ngx_http_dgj_audit_slot_t  *slot;
    ngx_event_t              flush_ev;
    ngx_event_t              ckpt_ev;
    ngx_log_t               *log;
    unsigned                 active:1;
    /* the stop line is in the buffer: no line of the chain may follow */
    unsigned                 stopped:1;
} ngx_http_dgj_audit_writer_t;


static ngx_int_t ngx_http_dgj_audit_init(ngx_conf_t *cf);
static void *ngx_http_dgj_audit_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_dgj_audit_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_dgj_audit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_dgj_audit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_dgj_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_audit_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_audit_mask_args(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_dgj_audit_cleanup_sign(void *data);
static ngx_int_t ngx_http_dgj_audit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_dgj_audit_init_process(ngx_cycle_t *cycle);
static void ngx_http_dgj_audit_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_dgj_audit_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_dgj_audit_handler(ngx_http_request_t *r);
static u_char *ngx_http_dgj_audit_record(ngx_http_request_t *r,
    ngx_http_dgj_audit_main_conf_t *amcf, u_char *p);
static u_char *ngx_http_dgj_audit_var(ngx_http_request_t *r, ngx_int_t index,
    u_char *p, ngx_str_t *key, ngx_uint_t number, size_t max);
static u_char *ngx_http_dgj_audit_mask_uri(ngx_http_dgj_audit_main_conf_t *amcf,
    u_char *dst, u_char *src, size_t len);
static u_char *ngx_http_dgj_audit_mask_run(u_char *dst, u_char *src,
    size_t len);
static u_char *ngx_http_dgj_audit_escape(u_char *dst, u_char *src,
    size_t len, size_t max);
static ngx_int_t ngx_http_dgj_audit_time(dgj_audit_time_t *t);
static ngx_int_t ngx_http_dgj_audit_prepare(ngx_http_dgj_audit_writer_t *w);
static ngx_int_t ngx_http_dgj_audit_epoch(ngx_http_dgj_audit_writer_t *w);
static void ngx_http_dgj_audit_add(ngx_http_dgj_audit_writer_t *w, size_t n,
    const char *what);
static void ngx_http_dgj_audit_checkpoint(ngx_http_dgj_audit_writer_t *w);
static void ngx_http_dgj_audit_flush(ngx_http_dgj_audit_writer_t *w);
static void ngx_http_dgj_audit_rotate(ngx_http_dgj_audit_writer_t *w);
static void ngx_http_dgj_audit_move_aside(ngx_http_dgj_audit_writer_t *w,
    u_char *name, u_char *to, u_char *end);
static void ngx_http_dgj_audit_follow(ngx_http_dgj_audit_writer_t *w);
static void ngx_http_dgj_audit_write(ngx_http_dgj_audit_writer_t *w,
    ngx_fd_t fd);
static void ngx_http_dgj_audit_file_flush(ngx_open_file_t *file,
    ngx_log_t *log);
static void ngx_http_dgj_audit_flush_timer(ngx_event_t *ev);
static void ngx_http_dgj_audit_ckpt_timer(ngx_event_t *ev);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;

static ngx_http_dgj_audit_writer_t  ngx_http_dgj_audit_w;

/* query arguments whose values never reach the log */
static const char  *ngx_http_dgj_audit_default_mask[] = {
    "code", "token", "access_token", "refresh_token", "password", "passwd",
    "pwd", "secret", "ticket", "sms_code", "totp", "otp", "phone", "mobile",
    "id_card", "id_number", "idno", "captcha", "signature", "sig", "key",
    "auth", "authorization", "csrf", NULL
};


static ngx_command_t  ngx_http_dgj_audit_commands[] = {

    { ngx_string("dgj_audit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_dgj_audit_loc_conf_t, enable),
      NULL },

    { ngx_string("dgj_audit_log"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_dgj_audit_log,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_audit_keys"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_dgj_audit_keys,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_audit_node"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_dgj_audit_main_conf_t, node),
      NULL },

    { ngx_string("dgj_audit_mask_args"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_dgj_audit_mask_args,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_dgj_audit_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_dgj_audit_init,               /* postconfiguration */

    ngx_http_dgj_audit_create_main_conf,   /* create main configuration */
    ngx_http_dgj_audit_init_main_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_dgj_audit_create_loc_conf,    /* create location configuration */
    ngx_http_dgj_audit_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_dgj_audit_module = {
    NGX_MODULE_V1,
    &ngx_http_dgj_audit_module_ctx,         /* module context */
    ngx_http_dgj_audit_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_dgj_audit_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_dgj_audit_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_dgj_audit_init(ngx_conf_t *cf)
{
    ngx_uint_t                       i;
    ngx_str_t                        name;
    ngx_http_handler_pt             *h;
    ngx_http_core_main_conf_t       *cmcf;
    ngx_http_dgj_audit_main_conf_t  *amcf;
    static const char               *vars[] = {
        "request_id", "dgj_user_id", "dgj_roles", "dgj_dept",
        "dgj_auth_status", "dgj_limit_status"
    };


    /* the headers are for the log only, with or without a log */
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_dgj_audit_header_filter;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dgj_audit_module);

    if (amcf->file == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        name.data = (u_char *) vars[i];
        name.len = ngx_strlen(vars[i]);

        amcf->vars[i] = ngx_http_get_variable_index(cf, &name);
        if (amcf->vars[i] == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_dgj_audit_handler;

    return NGX_OK;
}


static void *
ngx_http_dgj_audit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_dgj_audit_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_audit_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->file = NULL;
     *     amcf->key_file = { 0, NULL };
     *     amcf->node = { 0, NULL };
     *     amcf->mask = NULL;
     */

    return amcf;
}


static char *
ngx_http_dgj_audit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_dgj_audit_main_conf_t *amcf = conf;

    u_char            *p;
    size_t             i, len;
    ngx_str_t         *s, name;
    const char       **m;
    dgj_audit_key_t    key;
    char               err[256], host[NGX_MAXHOSTNAMELEN];

    if (amcf->file == NULL) {
        return NGX_CONF_OK;
    }

    if (amcf->key_file.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "dgj_audit_log needs dgj_audit_keys");
        return NGX_CONF_ERROR;
    }

    /* checked here so that nginx -t finds it; the workers read it again
     * (the master keeps no copy) */
    if (dgj_audit_key_load(&key, (char *) amcf->key_file.data, err,
                           sizeof(err)) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "dgj_audit_keys: %s", err);
        return NGX_CONF_ERROR;
    }

    dgj_audit_key_erase(&key);

    if (amcf->node.data == NULL) {
        ngx_cpystrn((u_char *) host, cf->cycle->hostname.data,
                    ngx_min(cf->cycle->hostname.len + 1, sizeof(host)));
        amcf->node.data = (u_char *) host;
        amcf->node.len = ngx_strlen(host);
    }

    /* the node name starts every chain id: [A-Za-z0-9._-], short */
    len = ngx_min(amcf->node.len, NGX_HTTP_DGJ_AUDIT_NODE_MAX);
    p = ngx_pnalloc(cf->pool, len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < len; i++) {
        u_char  c = amcf->node.data[i];

        p[i] = (isalnum(c) || c == '-' || c == '_') ? c : '-';
    }

    p[len] = '\0';
    amcf->node.data = p;
    amcf->node.len = len;

    if (len == 0) {
        ngx_str_set(&amcf->node, "node");
    }

    if (amcf->mask == NULL) {
        amcf->mask = ngx_array_create(cf->pool, 32, sizeof(ngx_str_t));
        if (amcf->mask == NULL) {
            return NGX_CONF_ERROR;
        }

        for (m = ngx_http_dgj_audit_default_mask; *m; m++) {
            s = ngx_array_push(amcf->mask);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            s->data = (u_char *) *m;
            s->len = ngx_strlen(*m);
        }
    }

    ngx_str_set(&name, "dgj_audit");

    amcf->shm_zone = ngx_shared_memory_add(cf, &name, 64 * 1024,
                                           &ngx_http_dgj_audit_module);
    if (amcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    amcf->shm_zone->init = ngx_http_dgj_audit_init_zone;

    return NGX_CONF_OK;
}


static void *
ngx_http_dgj_audit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_dgj_audit_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_audit_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_dgj_audit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_dgj_audit_loc_conf_t *prev = parent;
    ngx_http_dgj_audit_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    return NGX_CONF_OK;
}


/* dgj_audit_log path [buffer=64k] [flush=1s] [checkpoint=60s]
 *               [max_size=256m] */
static char *
ngx_http_dgj_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_audit_main_conf_t *amcf = conf;

    ssize_t      size;
    ngx_str_t   *value, name, s;
    ngx_msec_t   ms;
    ngx_uint_t   i;

    if (amcf->file != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    amcf->buffer = 64 * 1024;
    amcf->flush = 1000;
    amcf->checkpoint = 60000;
    amcf->max_size = 256 * 1024 * 1024;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "buffer=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            size = ngx_parse_size(&s);

            if (size < 2 * NGX_HTTP_DGJ_AUDIT_REC_MAX
                || size > 16 * 1024 * 1024)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "dgj_audit_log: buffer is 28k to 16m");
                return NGX_CONF_ERROR;
            }

            amcf->buffer = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            size = ngx_parse_size(&s);

            if (size < 64 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "dgj_audit_log: max_size is at least "
                                   "64k");
                return NGX_CONF_ERROR;
            }

            amcf->max_size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0
            || ngx_strncmp(value[i].data, "checkpoint=", 11) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;
            ms = ngx_parse_time(&s, 0);

            if (ms == (ngx_msec_t) NGX_ERROR || ms < 10 || ms > 60000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "dgj_audit_log: \"%V\": flush and "
                                   "checkpoint are 10ms to 60s", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (value[i].data[0] == 'f') {
                amcf->flush = ms;

            } else {
                amcf->checkpoint = ms;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "dgj_audit_log: unknown parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    amcf->file = ngx_conf_open_file(cf->cycle, &name);
    if (amcf->file == NULL) {
        return NGX_CONF_ERROR;
    }

    amcf->file->flush = ngx_http_dgj_audit_file_flush;
    amcf->file->data = NULL;

    return NGX_CONF_OK;
}


/* dgj_audit_keys epoch=<epoch key file> sign=<Ed25519 private key PEM> */
static char *
ngx_http_dgj_audit_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_audit_main_conf_t *amcf = conf;

    char                *err;
    ngx_str_t           *value, s;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    if (amcf->key_file.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "epoch=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            if (ngx_conf_full_name(cf->cycle, &s, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            amcf->key_file = s;

        } else if (ngx_strncmp(value[i].data, "sign=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_conf_full_name(cf->cycle, &s, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            amcf->sign_file = s;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "dgj_audit_keys: unknown parameter \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (amcf->key_file.data == NULL || amcf->sign_file.data == NULL) {
        return "needs epoch= and sign=";
    }

    err = ngx_pnalloc(cf->pool, 256);
    if (err == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the signing key does not evolve: read once, as root, like the
     * token keys; the workers inherit it */
    amcf->sign = dgj_audit_sign_key_load((char *) amcf->sign_file.data, 1,
                                         err, 256);
    if (amcf->sign == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "dgj_audit_keys: %s", err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        dgj_audit_sign_key_free(amcf->sign);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_dgj_audit_cleanup_sign;
    cln->data = amcf->sign;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_audit_mask_args(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_audit_main_conf_t *amcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i;

    if (amcf->mask != NULL) {
        return "is duplicate";
    }

    amcf->mask = ngx_array_create(cf->pool, cf->args->nelts,
                                  sizeof(ngx_str_t));
    if (amcf->mask == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(amcf->mask);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
        ngx_strlow(s->data, s->data, s->len);
    }

    return NGX_CONF_OK;
}


static void
ngx_http_dgj_audit_cleanup_sign(void *data)
{
    dgj_audit_sign_key_free(data);
}


static ngx_int_t
ngx_http_dgj_audit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload keeps the slots: a respawned worker still finds the
         * chain of the one before it */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    shm_zone->data = ngx_slab_calloc(shpool, NGX_HTTP_DGJ_AUDIT_SLOTS
                                     * sizeof(ngx_http_dgj_audit_slot_t));
    if (shm_zone->data == NULL) {
        return NGX_ERROR;
    }

    shpool->data = shm_zone->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_dgj_audit_init_process(ngx_cycle_t *cycle)
{
    char                             err[256], id[DGJ_AUDIT_CHAIN_MAX + 1];
    char                             after[DGJ_AUDIT_CHAIN_MAX + 1];
    size_t                           n;
    uint64_t                         after_seq;
    dgj_audit_key_t                  key;
    dgj_audit_time_t                 t;
    ngx_http_dgj_audit_slot_t       *slot;
    ngx_http_dgj_audit_writer_t     *w;
    ngx_http_dgj_audit_main_conf_t  *amcf;

    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_dgj_audit_module);
    if (amcf == NULL || amcf->file == NULL) {
        return NGX_OK;
    }

    w = &ngx_http_dgj_audit_w;
    ngx_memzero(w, sizeof(ngx_http_dgj_audit_writer_t));
    w->amcf = amcf;
    w->log = cycle->log;

    w->buf = ngx_alloc(amcf->buffer, cycle->log);
    if (w->buf == NULL) {
        return NGX_ERROR;
    }

    ngx_http_dgj_audit_time(&t);

    /* the worker's own copy of the epoch key, moved up to now; the file
     * follows (several workers: under its lock, forward only) */
    if (dgj_audit_key_load(&key, (char *) amcf->key_file.data, err,
                           sizeof(err)) != 0
        || dgj_audit_key_sync(&key, (char *) amcf->key_file.data,
                              dgj_audit_epoch_of(&key, t.sec), err,
                              sizeof(err)) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "dgj audit: epoch key: %s", err);
        dgj_audit_key_erase(&key);
        return NGX_ERROR;
    }

    ngx_snprintf((u_char *) id, sizeof(id), "%V.w%ui.%xL.%P%Z", &amcf->node,
                 ngx_worker % 100, (uint64_t) t.sec * 1000 + t.msec,
                 ngx_pid);

    if (dgj_audit_chain_init(&w->chain, id, &key, amcf->sign) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "dgj audit: cannot start chain \"%s\"", id);
        dgj_audit_key_erase(&key);
        return NGX_ERROR;
    }

    dgj_audit_key_erase(&key);

    w->epoch_end = w->chain.key.t0
                   + (time_t) (w->chain.key.epoch + 1)
                     * w->chain.key.epoch_len;

    /* a worker that died (kill -9, crash) left its chain in this slot:
     * the new chain names it and how far it reached on disk */
    after[0] = '\0';
    after_seq = 0;
    slot = NULL;

    if (amcf->shm_zone->data != NULL) {
        slot = (ngx_http_dgj_audit_slot_t *) amcf->shm_zone->data
               + ngx_worker % NGX_HTTP_DGJ_AUDIT_SLOTS;

        if (slot->pid != 0 && slot->pid != ngx_pid
            && kill(slot->pid, 0) == -1 && ngx_errno == NGX_ESRCH
            && slot->chain[0] != '\0')
        {
            ngx_memcpy(after, slot->chain, DGJ_AUDIT_CHAIN_MAX + 1);
            after[DGJ_AUDIT_CHAIN_MAX] = '\0';
            after_seq = slot->seq;
        }

        slot->pid = ngx_pid;
        slot->seq = 0;
        ngx_memcpy(slot->chain, id, sizeof(id));
        w->slot = slot;
    }

    n = dgj_audit_chain_start(&w->chain, (char *) w->buf, amcf->buffer, &t,
                              (char *) amcf->node.data, (long) ngx_pid,
                              (long) ngx_worker,
                              after[0] ? after : NULL, after_seq);
    if (n == 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "dgj audit: cannot write the start line");
        return NGX_ERROR;
    }

    /* the master's descriptor may name a file rotated away since it was
     * opened (a worker respawned after a crash): the start line goes to
     * the file under the log's name */
    ngx_http_dgj_audit_follow(w);

    w->len = n;
    w->fd = amcf->file->fd;
    w->active = 1;
    w->stopped = 0;
    w->since_ckpt = 1;

    ngx_http_dgj_audit_flush(w);

    w->flush_ev.handler = ngx_http_dgj_audit_flush_timer;
    w->flush_ev.data = w;
    w->flush_ev.log = cycle->log;
    w->flush_ev.cancelable = 1;

    w->ckpt_ev.handler = ngx_http_dgj_audit_ckpt_timer;
    w->ckpt_ev.data = w;
    w->ckpt_ev.log = cycle->log;
    w->ckpt_ev.cancelable = 1;

    ngx_add_timer(&w->ckpt_ev, amcf->checkpoint);

    return NGX_OK;
}


static void
ngx_http_dgj_audit_exit_process(ngx_cycle_t *cycle)
{
    size_t                        n;
    dgj_audit_time_t              t;
    ngx_http_dgj_audit_writer_t  *w;

    w = &ngx_http_dgj_audit_w;

    if (!w->active) {
        return;
    }

    /* a stop line closes the chain: a chain without one ended by a crash
     * (or lost its tail) */
    ngx_http_dgj_audit_time(&t);

    if (ngx_http_dgj_audit_prepare(w) == NGX_OK) {
        n = dgj_audit_chain_stop(&w->chain, (char *) w->buf + w->len,
                                 w->amcf->buffer - w->len, &t);
        ngx_http_dgj_audit_add(w, n, "stop");
    }

    /* this last flush may fill the file: it is rotated, but the new file
     * gets no checkpoint of a chain that has ended */
    w->stopped = 1;
    ngx_http_dgj_audit_flush(w);

    w->active = 0;
    dgj_audit_chain_free(&w->chain);
    ngx_free(w->buf);
    w->buf = NULL;
}


static ngx_int_t
ngx_http_dgj_audit_header_filter(ngx_http_request_t *r)
{
    ngx_str_t                 *dst;
    ngx_uint_t                 i;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h;
    ngx_http_dgj_audit_ctx_t  *ctx;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0 || h[i].key.len != 12
            || ngx_strncasecmp(h[i].key.data, (u_char *) "X-Dgj-", 6) != 0)
        {
            continue;
        }

        if (ngx_strncasecmp(h[i].key.data + 6, (u_char *) "Action", 6) != 0
            && ngx_strncasecmp(h[i].key.data + 6, (u_char *) "Object", 6)
               != 0)
        {
            continue;
        }

        /* never sent; kept for the main request's record (a page's
         * subrequest names the action when the page itself does not) */
        h[i].hash = 0;

        ctx = ngx_http_get_module_ctx(r->main, ngx_http_dgj_audit_module);
        if (ctx == NULL) {
            ctx = ngx_pcalloc(r->main->pool,
                              sizeof(ngx_http_dgj_audit_ctx_t));
            if (ctx == NULL) {
                return NGX_ERROR;
            }

            ngx_http_set_ctx(r->main, ctx, ngx_http_dgj_audit_module);
        }

        dst = (h[i].key.data[6] | 0x20) == 'a' ? &ctx->action
                                               : &ctx->object;

        if (dst->len == 0 || r == r->main) {
            *dst = h[i].value;
        }
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_dgj_audit_handler(ngx_http_request_t *r)
{
    u_char                          *p, *start;
    size_t                           n;
    dgj_audit_time_t                 t;
    ngx_http_dgj_audit_writer_t     *w;
    ngx_http_dgj_audit_loc_conf_t   *alcf;

    w = &ngx_http_dgj_audit_w;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_dgj_audit_module);

    if (!alcf->enable || !w->active) {
        return NGX_OK;
    }

    ngx_http_dgj_audit_time(&t);

    if (ngx_http_dgj_audit_prepare(w) != NGX_OK) {
        return NGX_OK;
    }

    start = w->buf + w->len;

    n = dgj_audit_chain_begin(&w->chain, (char *) start,
                              w->amcf->buffer - w->len, "rec", &t);
    if (n == 0) {
        return NGX_OK;
    }

    p = ngx_http_dgj_audit_record(r, w->amcf, start + n);

    n = dgj_audit_chain_seal(&w->chain, (char *) start, p - start,
                             w->amcf->buffer - w->len);
    ngx_http_dgj_audit_add(w, n, "record");

    if (w->len + NGX_HTTP_DGJ_AUDIT_REC_MAX > w->amcf->buffer) {
        ngx_http_dgj_audit_flush(w);
    }

    return NGX_OK;
}


/* the fields of a "rec" line after its head, in the contract's order */
static u_char *
ngx_http_dgj_audit_record(ngx_http_request_t *r,
    ngx_http_dgj_audit_main_conf_t *amcf, u_char *p)
{
    /* masking grows "key=&" (5) to "key=***&" (8) at most */
    u_char                    *q, masked[2 * NGX_HTTP_DGJ_AUDIT_PATH_MAX];
    size_t                     len;
    ngx_msec_int_t             ms;
    ngx_uint_t                 status;
    ngx_int_t                 *vars;
    ngx_time_t                *tp;
    ngx_http_variable_value_t  *v;
    ngx_http_dgj_audit_ctx_t   *ctx;
    static ngx_str_t            uid = ngx_string(",\"uid\":");
    static ngx_str_t            roles = ngx_string(",\"roles\":");
    static ngx_str_t            dept = ngx_string(",\"dept\":");

    vars = amcf->vars;

    v = ngx_http_get_indexed_variable(r,
                                      vars[NGX_HTTP_DGJ_AUDIT_V_REQUEST_ID]);
    p = ngx_cpymem(p, ",\"rid\":\"", 8);
    if (v != NULL && !v->not_found) {
        p = ngx_http_dgj_audit_escape(p, v->data, v->len, 32);
    }

    *p++ = '"';

    p = ngx_http_dgj_audit_var(r, vars[NGX_HTTP_DGJ_AUDIT_V_USER_ID], p,
                               &uid, 1, 20);
    p = ngx_http_dgj_audit_var(r, vars[NGX_HTTP_DGJ_AUDIT_V_ROLES], p,
                               &roles, 0, 128);
    p = ngx_http_dgj_audit_var(r, vars[NGX_HTTP_DGJ_AUDIT_V_DEPT], p,
                               &dept, 1, 10);

    p = ngx_cpymem(p, ",\"ip\":\"", 7);
    p = ngx_http_dgj_audit_escape(p, r->connection->addr_text.data,
                                  r->connection->addr_text.len, 64);
    p = ngx_cpymem(p, "\",\"port\":", 9);
    p = (u_char *) dgj_u64((char *) p, r->connection->sockaddr
                           ? ngx_inet_get_port(r->connection->sockaddr) : 0);

    p = ngx_cpymem(p, ",\"ua\":\"", 7);
    if (r->headers_in.user_agent) {
        p = ngx_http_dgj_audit_escape(p, r->headers_in.user_agent->value.data,
                                      r->headers_in.user_agent->value.len,
                                      NGX_HTTP_DGJ_AUDIT_UA_MAX);
    }

    p = ngx_cpymem(p, "\",\"method\":\"", 12);
    p = ngx_http_dgj_audit_escape(p, r->method_name.data, r->method_name.len,
                                  16);

    p = ngx_cpymem(p, "\",\"path\":\"", 10);
    len = ngx_min(r->unparsed_uri.len, NGX_HTTP_DGJ_AUDIT_PATH_MAX);
    q = ngx_http_dgj_audit_mask_uri(amcf, masked, r->unparsed_uri.data, len);
    p = ngx_http_dgj_audit_escape(p, masked, q - masked, sizeof(masked));

    if (r->err_status) {
        status = r->err_status;

    } else if (r->headers_out.status) {
        status = r->headers_out.status;

    } else {
        status = 0;
    }

    p = ngx_cpymem(p, "\",\"status\":", 11);
    p = (u_char *) dgj_u64((char *) p, status);

    v = ngx_http_get_indexed_variable(r, vars[NGX_HTTP_DGJ_AUDIT_V_AUTH]);
    p = ngx_cpymem(p, ",\"auth\":\"", 9);
    if (v != NULL && !v->not_found && v->len) {
        p = ngx_http_dgj_audit_escape(p, v->data, v->len, 16);

    } else {
        p = ngx_cpymem(p, "OFF", 3);
    }

    v = ngx_http_get_indexed_variable(r, vars[NGX_HTTP_DGJ_AUDIT_V_LIMIT]);
    p = ngx_cpymem(p, "\",\"limit\":\"", 11);
    if (v != NULL && !v->not_found && v->len) {
        p = ngx_http_dgj_audit_escape(p, v->data, v->len, 16);

    } else {
        *p++ = '-';
    }

    *p++ = '"';

    ctx = ngx_http_get_module_ctx(r, ngx_http_dgj_audit_module);

    if (ctx && ctx->action.len) {
        p = ngx_cpymem(p, ",\"action\":\"", 11);
        p = ngx_http_dgj_audit_escape(p, ctx->action.data, ctx->action.len,
                                      NGX_HTTP_DGJ_AUDIT_TAG_MAX);
        *p++ = '"';

    } else {
        p = ngx_cpymem(p, ",\"action\":null", 14);
    }

    if (ctx && ctx->object.len) {
        p = ngx_cpymem(p, ",\"object\":\"", 11);
        p = ngx_http_dgj_audit_escape(p, ctx->object.data, ctx->object.len,
                                      NGX_HTTP_DGJ_AUDIT_TAG_MAX);
        *p++ = '"';

    } else {
        p = ngx_cpymem(p, ",\"object\":null", 14);
    }

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    /* by hand, not ngx_sprintf: this runs for every request */
    p = ngx_cpymem(p, ",\"ms\":", 6);
    p = (u_char *) dgj_u64((char *) p, (uint64_t) ngx_max(ms, 0));
    p = ngx_cpymem(p, ",\"in\":", 6);
    p = (u_char *) dgj_u64((char *) p, (uint64_t) ngx_max(r->request_length,
                                                          0));
    p = ngx_cpymem(p, ",\"out\":", 7);

    return (u_char *) dgj_u64((char *) p,
                              (uint64_t) ngx_max(r->connection->sent, 0));
}


/* key is ,"name": and then comes "value" (or a bare number); null when
 * the variable is empty */
static u_char *
ngx_http_dgj_audit_var(ngx_http_request_t *r, ngx_int_t index, u_char *p,
    ngx_str_t *key, ngx_uint_t number, size_t max)
{
    ngx_uint_t                  i;
    ngx_http_variable_value_t  *v;

    p = ngx_cpymem(p, key->data, key->len);

    v = ngx_http_get_indexed_variable(r, index);

    if (number) {
        /* digits only, and a department 0 is none */
        if (v == NULL || v->not_found || v->len == 0 || v->len > max
            || (v->len == 1 && v->data[0] == '0'))
        {
            return ngx_cpymem(p, "null", 4);
        }

        for (i = 0; i < v->len; i++) {
            if (v->data[i] < '0' || v->data[i] > '9') {
                return ngx_cpymem(p, "null", 4);
            }
        }

        return ngx_cpymem(p, v->data, v->len);
    }

    *p++ = '"';

    if (v != NULL && !v->not_found) {
        p = ngx_http_dgj_audit_escape(p, v->data, v->len, max);
    }

    *p++ = '"';

    return p;
}


/*
 * The request target with personal data and secrets out: values of the
 * query arguments named by dgj_audit_mask_args become ***, and anywhere
 * in it a phone number keeps 3 + 4 digits, an ID number 6 + 4, and a run
 * of NGX_HTTP_DGJ_AUDIT_TOKEN_RUN or more token characters becomes ***.
 */
static u_char *
ngx_http_dgj_audit_mask_uri(ngx_http_dgj_audit_main_conf_t *amcf,
    u_char *dst, u_char *src, size_t len)
{
    u_char      *p, *last, *q, *name, *eq;
    ngx_str_t   *m;
    ngx_uint_t   i, hide;

    last = src + len;
    q = ngx_strlchr(src, last, '?');

    if (q == NULL) {
        return ngx_http_dgj_audit_mask_run(dst, src, len);
    }

    dst = ngx_http_dgj_audit_mask_run(dst, src, q - src);
    *dst++ = '?';

    for (p = q + 1; p < last; p = q + 1) {
        q = ngx_strlchr(p, last, '&');
        if (q == NULL) {
            q = last;
        }

        name = p;
        eq = ngx_strlchr(p, q, '=');
        hide = 0;

        if (eq != NULL) {
            m = amcf->mask->elts;

            for (i = 0; i < amcf->mask->nelts; i++) {
                if ((size_t) (eq - name) == m[i].len
                    && ngx_strncasecmp(name, m[i].data, m[i].len) == 0)
                {
                    hide = 1;
                    break;
                }
            }
        }

        if (hide) {
            dst = ngx_http_dgj_audit_mask_run(dst, name, eq - name);
            dst = ngx_cpymem(dst, "=***", 4);

        } else {
            dst = ngx_http_dgj_audit_mask_run(dst, name, q - name);
        }

        if (q < last) {
            *dst++ = '&';
        }
    }

    return dst;
}


/* a character of a token, a signature or a base64 blob (ASCII by hand:
 * isalnum() would follow the locale) */
static ngx_inline ngx_uint_t
ngx_http_dgj_audit_token_char(u_char c)
{
    u_char  l;

    l = c | 0x20;

    return (l >= 'a' && l <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_' || c == '.' || c == '~' || c == '%' || c == '+'
           || c == '=';
}


static u_char *
ngx_http_dgj_audit_mask_run(u_char *dst, u_char *src, size_t len)
{
    u_char  *p, *last, *s;
    size_t   n, i;

    last = src + len;

    for (p = src; p < last; /* void */) {

        if (*p >= '0' && *p <= '9') {
            for (s = p; p < last && *p >= '0' && *p <= '9'; p++) {
                /* void */
            }

            n = p - s;

            /* an ID number may end in X */
            if (n == 17 && p < last && (*p == 'X' || *p == 'x')) {
                p++;
                n++;
            }

            if (n == 11 && s[0] == '1') {
                dst = ngx_cpymem(dst, s, 3);
                dst = ngx_cpymem(dst, "****", 4);
                dst = ngx_cpymem(dst, s + 7, 4);

            } else if (n == 15 || n == 18) {
                dst = ngx_cpymem(dst, s, 6);

                for (i = 6; i < n - 4; i++) {
                    *dst++ = '*';
                }

                dst = ngx_cpymem(dst, s + n - 4, 4);

            } else {
                dst = ngx_cpymem(dst, s, n);
            }

            continue;
        }

        /* a token, a signature, a base64 blob */
        for (s = p; p < last && ngx_http_dgj_audit_token_char(*p); p++) {
            /* void */
        }

        if ((size_t) (p - s) >= NGX_HTTP_DGJ_AUDIT_TOKEN_RUN) {
            dst = ngx_cpymem(dst, "***", 3);
            continue;
        }

        if (p > s) {
            /* shorter runs: copied, digits and all, by the loop above */
            for (/* void */; s < p && !(*s >= '0' && *s <= '9'); s++) {
                *dst++ = *s;
            }

            p = s;
            continue;
        }

        *dst++ = *p++;
    }

    return dst;
}


/*
 * Whether any of the eight bytes of w needs more than a copy: below 0x20,
 * 0x7f and up, " or \.  A top bit set in some byte of the result means
 * yes; a byte equal to c is a zero byte of v = w ^ c.., found by
 * (v - 0x01..) & ~v.
 */
static ngx_inline uint64_t
ngx_http_dgj_audit_special8(uint64_t w)
{
    uint64_t  q, b;

    q = w ^ 0x2222222222222222ULL;
    b = w ^ 0x5c5c5c5c5c5c5c5cULL;

    /* below 0x20 (no byte borrows unless one is below), 0x80 and up, ",
     * \, and 0x7f (+1 reaches 0x80) */
    return ((w - 0x2020202020202020ULL)
            | w
            | ((q - 0x0101010101010101ULL) & ~q)
            | ((b - 0x0101010101010101ULL) & ~b)
            | (w + 0x0101010101010101ULL))
           & 0x8080808080808080ULL;
}


/* JSON string contents: valid UTF-8 kept, anything else \u00XX; at most
 * max input bytes, never cutting a character */
static u_char *
ngx_http_dgj_audit_escape(u_char *dst, u_char *src, size_t len, size_t max)
{
    u_char                 c;
    size_t                 i, n, k;
    uint64_t               w;
    static const u_char    hex[] = "0123456789abcdef";

    if (len > max) {
        len = max;
    }

    for (i = 0; i < len; /* void */) {

        /* eight plain bytes at a time while there are */
        if (len - i >= 8) {
            ngx_memcpy(&w, src + i, 8);

            if (!ngx_http_dgj_audit_special8(w)) {
                ngx_memcpy(dst, &w, 8);
                dst += 8;
                i += 8;
                continue;
            }
        }

        c = src[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *dst++ = c;
            i++;
            continue;
        }

        if (c >= 0x80) {
            n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                : (c & 0xf8) == 0xf0 ? 4 : 0;

            if (n && c != 0xc0 && c != 0xc1 && c < 0xf5 && i + n <= len) {
                for (k = 1; k < n; k++) {
                    if ((src[i + k] & 0xc0) != 0x80) {
                        break;
                    }
                }

                if (k == n) {
                    dst = ngx_cpymem(dst, src + i, n);
                    i += n;
                    continue;
                }
            }
        }

        *dst++ = '\\';

        switch (c) {
        case '"':
            *dst++ = '"';
            break;
        case '\\':
            *dst++ = '\\';
            break;
        case '\n':
            *dst++ = 'n';
            break;
        case '\r':
            *dst++ = 'r';
            break;
        case '\t':
            *dst++ = 't';
            break;
        default:
            *dst++ = 'u';
            *dst++ = '0';
            *dst++ = '0';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0xf];
        }

        i++;
    }

    return dst;
}


static ngx_int_t
ngx_http_dgj_audit_time(dgj_audit_time_t *t)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    t->sec = tp->sec;
    t->msec = (int) tp->msec;
    t->gmtoff = (int) tp->gmtoff;

    return NGX_OK;
}


/*
 * Before a record or a stop line goes into the buffer: room for the
 * largest record, the current epoch's key, and a checkpoint at the top of
 * a file nginx has just reopened.
 */
static ngx_int_t
ngx_http_dgj_audit_prepare(ngx_http_dgj_audit_writer_t *w)
{
    if (w->amcf->buffer - w->len < NGX_HTTP_DGJ_AUDIT_REC_MAX + 1024) {
        ngx_http_dgj_audit_flush(w);
    }

    if (ngx_http_dgj_audit_epoch(w) != NGX_OK) {
        return NGX_ERROR;
    }

    if (w->fd != w->amcf->file->fd) {
        /* nginx -s reopen: our buffer went to the old file before it */
        w->fd = w->amcf->file->fd;
        ngx_http_dgj_audit_checkpoint(w);
    }

    return NGX_OK;
}


/*
 * Every line is sealed with the key of the epoch its time is in: once the
 * clock passes the epoch's end, an "epoch" line (sealed with the new key,
 * chained to the old head) comes first; the shared key file moves forward
 * and the old key is erased everywhere we held it.
 */
static ngx_int_t
ngx_http_dgj_audit_epoch(ngx_http_dgj_audit_writer_t *w)
{
    char              err[256];
    size_t            n;
    dgj_audit_key_t   key;
    dgj_audit_time_t  t;

    ngx_http_dgj_audit_time(&t);

    if (t.sec < w->epoch_end) {
        return NGX_OK;
    }

    if (w->amcf->buffer - w->len < 1024) {
        ngx_http_dgj_audit_flush(w);
    }

    n = dgj_audit_chain_epoch(&w->chain, (char *) w->buf + w->len,
                              w->amcf->buffer - w->len, &t,
                              dgj_audit_epoch_of(&w->chain.key, t.sec));
    ngx_http_dgj_audit_add(w, n, "epoch");

    w->epoch_end = w->chain.key.t0
                   + (time_t) (w->chain.key.epoch + 1)
                     * w->chain.key.epoch_len;

    key = w->chain.key;

    if (dgj_audit_key_sync(&key, (char *) w->amcf->key_file.data,
                           w->chain.key.epoch, err, sizeof(err)) != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "dgj audit: epoch key file: %s", err);
    }

    dgj_audit_key_erase(&key);

    return n ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_dgj_audit_add(ngx_http_dgj_audit_writer_t *w, size_t n,
    const char *what)
{
    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "dgj audit: could not seal a %s line", what);
        return;
    }

    w->len += n;
    w->since_ckpt++;

    if (!w->flush_ev.timer_set && w->flush_ev.handler) {
        ngx_add_timer(&w->flush_ev, w->amcf->flush);
    }
}


static void
ngx_http_dgj_audit_checkpoint(ngx_http_dgj_audit_writer_t *w)
{
    size_t            n;
    dgj_audit_time_t  t;

    if (w->amcf->buffer - w->len < 2048) {
        ngx_http_dgj_audit_flush(w);
    }

    if (ngx_http_dgj_audit_epoch(w) != NGX_OK) {
        return;
    }

    ngx_http_dgj_audit_time(&t);

    n = dgj_audit_chain_ckpt(&w->chain, (char *) w->buf + w->len,
                             w->amcf->buffer - w->len, &t);
    ngx_http_dgj_audit_add(w, n, "checkpoint");

    w->since_ckpt = 0;
}


/*
 * One write() of whole lines (O_APPEND: never interleaved with another
 * worker's inside a line).  Then: rotation by size, and a file renamed
 * away by another worker or by hand is followed to the new one.
 */
static void
ngx_http_dgj_audit_flush(ngx_http_dgj_audit_writer_t *w)
{
    ngx_fd_t         fd;
    ngx_file_info_t  fi, pi;

    if (w->len == 0) {
        return;
    }

    fd = w->amcf->file->fd;
    ngx_http_dgj_audit_write(w, fd);

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        return;
    }

    if (ngx_file_info((char *) w->amcf->file->name.data, &pi)
        == NGX_FILE_ERROR
        || ngx_file_uniq(&pi) != ngx_file_uniq(&fi))
    {
        ngx_http_dgj_audit_rotate(w);
        return;
    }

    if (ngx_file_size(&fi) >= w->amcf->max_size) {
        ngx_http_dgj_audit_rotate(w);
    }
}


/*
 * Under a lock beside the file: if the file is still ours and full, it
 * goes to <name>.<YYYYmmdd-HHMMSS>.<pid> (or .001, .002, ... after it, when
 * taken); then we open whatever the name now holds and start it with a
 * checkpoint.
 */
static void
ngx_http_dgj_audit_rotate(ngx_http_dgj_audit_writer_t *w)
{
    u_char            *name, *lock, *to, *end;
    size_t             len;
    ngx_fd_t           fd, lfd;
    ngx_tm_t           tm;
    ngx_file_info_t    fi, pi;
    ngx_open_file_t   *file;

    file = w->amcf->file;
    name = file->name.data;
    len = file->name.len;

    lock = ngx_alloc(2 * len + 64, w->log);
    if (lock == NULL) {
        return;
    }

    to = lock + len + 8;
    ngx_sprintf(lock, "%V.lock%Z", &file->name);

    lfd = ngx_open_file(lock, NGX_FILE_RDWR, NGX_FILE_CREATE_OR_OPEN, 0600);
    if (lfd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "dgj audit: cannot open \"%s\"", lock);
        ngx_free(lock);
        return;
    }

    flock(lfd, LOCK_EX);

    if (ngx_fd_info(file->fd, &fi) != NGX_FILE_ERROR
        && ngx_file_info((char *) name, &pi) != NGX_FILE_ERROR
        && ngx_file_uniq(&pi) == ngx_file_uniq(&fi)
        && ngx_file_size(&fi) >= w->amcf->max_size)
    {
        ngx_localtime(ngx_time(), &tm);
        end = ngx_sprintf(to, "%V.%4d%02d%02d-%02d%02d%02d.%P", &file->name,
                          tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                          tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                          ngx_pid);
        *end = '\0';

        ngx_http_dgj_audit_move_aside(w, name, to, end);
    }

    fd = ngx_open_file(name, NGX_FILE_APPEND, NGX_FILE_CREATE_OR_OPEN,
                       0640);

    flock(lfd, LOCK_UN);
    ngx_close_file(lfd);
    ngx_free(lock);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "dgj audit: cannot open \"%V\"", &file->name);
        return;
    }

    ngx_close_file(file->fd);
    file->fd = fd;
    w->fd = fd;

    if (w->stopped) {
        return;
    }

    /* every file starts, for each chain, with a checkpoint: it can be
     * verified on its own */
    ngx_http_dgj_audit_checkpoint(w);

    ngx_http_dgj_audit_write(w, fd);
}


/*
 * The full file to "to", never over a file already there: a worker that
 * rotates twice in one second (a small max_size under load) would else
 * replace its earlier file, and every line in it, with rename().  A taken
 * name gets ".001", ".002", ... after it (they list in order); "end" is
 * where "to" ends.
 */
static void
ngx_http_dgj_audit_move_aside(ngx_http_dgj_audit_writer_t *w, u_char *name,
    u_char *to, u_char *end)
{
    ngx_uint_t       n;
    ngx_err_t        err;
    ngx_file_info_t  fi;

    for (n = 1; n <= 999; n++) {
        if (renameat2(AT_FDCWD, (char *) name, AT_FDCWD, (char *) to,
                      RENAME_NOREPLACE)
            == 0)
        {
            return;
        }

        err = ngx_errno;

        if (err == NGX_EINVAL) {
            /* a file system without RENAME_NOREPLACE: look first (every
             * rotation holds the lock we hold) */
            if (ngx_file_info(to, &fi) != NGX_FILE_ERROR) {
                err = NGX_EEXIST;

            } else if (ngx_rename_file(name, to) != NGX_FILE_ERROR) {
                return;

            } else {
                err = ngx_errno;
            }
        }

        if (err != NGX_EEXIST) {
            ngx_log_error(NGX_LOG_ALERT, w->log, err,
                          "dgj audit: cannot rotate \"%s\" to \"%s\"",
                          name, to);
            return;
        }

        ngx_sprintf(end, ".%03ui%Z", n);
    }

    ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                  "dgj audit: cannot rotate \"%s\": no free name", name);
}


/* a worker's first look: the log's name still names our descriptor's
 * file, or we open what it names now */
static void
ngx_http_dgj_audit_follow(ngx_http_dgj_audit_writer_t *w)
{
    ngx_fd_t          fd;
    ngx_file_info_t   fi, pi;
    ngx_open_file_t  *file;

    file = w->amcf->file;

    if (ngx_fd_info(file->fd, &fi) != NGX_FILE_ERROR
        && ngx_file_info((char *) file->name.data, &pi) != NGX_FILE_ERROR
        && ngx_file_uniq(&pi) == ngx_file_uniq(&fi))
    {
        return;
    }

    fd = ngx_open_file(file->name.data, NGX_FILE_APPEND,
                       NGX_FILE_CREATE_OR_OPEN, 0640);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "dgj audit: cannot open \"%V\"", &file->name);
        return;
    }

    ngx_close_file(file->fd);
    file->fd = fd;
}


/* the buffer to fd; the slot then tells a successor how far we got */
static void
ngx_http_dgj_audit_write(ngx_http_dgj_audit_writer_t *w, ngx_fd_t fd)
{
    ssize_t  n;

    if (w->len == 0) {
        return;
    }

    n = ngx_write_fd(fd, w->buf, w->len);

    if (n != (ssize_t) w->len) {
        ngx_log_error(NGX_LOG_ALERT, w->log, n == -1 ? ngx_errno : 0,
                      "dgj audit: write to \"%V\" failed (%z of %uz bytes)",
                      &w->amcf->file->name, n, w->len);
    }

    w->len = 0;

    if (w->slot != NULL && w->slot->pid == ngx_pid && w->chain.seq > 0) {
        w->slot->seq = w->chain.seq - 1;
    }
}


/* nginx -s reopen: what the buffer holds belongs to the old file */
static void
ngx_http_dgj_audit_file_flush(ngx_open_file_t *file, ngx_log_t *log)
{
    ngx_http_dgj_audit_writer_t  *w;

    w = &ngx_http_dgj_audit_w;

    if (w->active && w->len) {
        ngx_http_dgj_audit_flush(w);
    }
}


static void
ngx_http_dgj_audit_flush_timer(ngx_event_t *ev)
{
    ngx_http_dgj_audit_writer_t  *w = ev->data;

    if (w->active) {
        ngx_http_dgj_audit_flush(w);
    }
}


static void
ngx_http_dgj_audit_ckpt_timer(ngx_event_t *ev)
{
    ngx_http_dgj_audit_writer_t  *w = ev->data;

    if (!w->active) {
        return;
    }

    if (w->since_ckpt > 0) {
        ngx_http_dgj_audit_checkpoint(w);
        ngx_http_dgj_audit_flush(w);
    }

    ngx_add_timer(&w->ckpt_ev, w->amcf->checkpoint);
}
