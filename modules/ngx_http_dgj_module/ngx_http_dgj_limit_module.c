
/*
 * Copyright (C) Daguanjia developers
 *
 * ngx_http_dgj_limit_module.c: inline rate limiting and bans: the module,
 * its directives and configuration (zones, rules, role multipliers,
 * allow-list, dry run, auto-ban).  The request side is in
 * ngx_http_dgj_limit_zone.c, the ban list and its control API in
 * ngx_http_dgj_limit_ban.c.
 */


#include "ngx_http_dgj_limit.h"


static ngx_int_t ngx_http_dgj_limit_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_dgj_limit_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_dgj_limit_find_variable(ngx_conf_t *cf,
    ngx_http_core_main_conf_t *cmcf, const char *name);
static void *ngx_http_dgj_limit_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_dgj_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_dgj_limit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_dgj_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_limit_role_multiplier(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_dgj_limit_allow(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_limit_auto_ban(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_limit_status_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_dgj_limit_ban_api_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


/* docs: ../shared (identity contract), the roles a token may carry */
static const char  *ngx_http_dgj_limit_known_roles[] = {
    "citizen", "organisation", "org_pending", "intake", "handler",
    "reviewer", "supervisor", "project_manager", "analyst", "sysadmin",
    "secadmin", "auditor", "ops", NULL
};


static ngx_conf_enum_t  ngx_http_dgj_limit_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_dgj_limit_status_bounds = {
    ngx_conf_check_num_bounds, 400, 599
};


static ngx_command_t  ngx_http_dgj_limit_commands[] = {

    { ngx_string("dgj_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_dgj_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_dgj_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_limit_role_multiplier"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_dgj_limit_role_multiplier,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_limit_allow"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_dgj_limit_allow,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_limit_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_dgj_limit_loc_conf_t, dry_run),
      NULL },

    { ngx_string("dgj_limit_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_dgj_limit_loc_conf_t, headers),
      NULL },

    { ngx_string("dgj_limit_status_code"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_dgj_limit_loc_conf_t, status_code),
      &ngx_http_dgj_limit_status_bounds },

    { ngx_string("dgj_limit_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_dgj_limit_loc_conf_t, log_level),
      &ngx_http_dgj_limit_log_levels },

    { ngx_string("dgj_limit_ban_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_dgj_limit_ban_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_limit_auto_ban"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_dgj_limit_auto_ban,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_limit_ban_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_dgj_limit_ban_api_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("dgj_limit_status_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_dgj_limit_status_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_dgj_limit_module_ctx = {
    ngx_http_dgj_limit_add_variables,      /* preconfiguration */
    ngx_http_dgj_limit_init,               /* postconfiguration */

    ngx_http_dgj_limit_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_dgj_limit_create_loc_conf,    /* create location configuration */
    ngx_http_dgj_limit_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_dgj_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_dgj_limit_module_ctx,        /* module context */
    ngx_http_dgj_limit_commands,           /* module directives */
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


ngx_int_t
ngx_http_dgj_limit_check_resize(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    const char *directive)
{
    ngx_uint_t        i;
    ngx_cycle_t      *old;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *zone;

    old = cf->cycle->old_cycle;

    if (old == NULL || ngx_is_init_cycle(old)) {
        return NGX_OK;
    }

    part = &old->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag != &ngx_http_dgj_limit_module
            || zone[i].shm.name.len != name->len
            || ngx_strncmp(zone[i].shm.name.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (zone[i].shm.size != size) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s \"%V\" changes size from %uzk to %uzk "
                               "while nginx runs: its state would be lost; "
                               "keep the size, or stop and start nginx to "
                               "resize it", directive, name,
                               zone[i].shm.size / 1024, size / 1024);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_http_variable_t  ngx_http_dgj_limit_vars[] = {

    { ngx_string("dgj_limit_status"), NULL,
      ngx_http_dgj_limit_status_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_dgj_limit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_dgj_limit_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_dgj_limit_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt             *h;
    ngx_http_core_main_conf_t       *cmcf;
    ngx_http_dgj_limit_main_conf_t  *lmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dgj_limit_module);

    /*
     * $dgj_roles and $dgj_user_id come from the auth module when it is
     * built in; without them the directives that need them are refused.
     */

    lmcf->roles_index = ngx_http_dgj_limit_find_variable(cf, cmcf,
                                                         "dgj_roles");
    lmcf->user_index = ngx_http_dgj_limit_find_variable(cf, cmcf,
                                                        "dgj_user_id");
    lmcf->request_id_index = ngx_http_dgj_limit_find_variable(cf, cmcf,
                                                              "request_id");

    if (lmcf->roles_used && lmcf->roles_index == NGX_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dgj_limit_role_multiplier\" needs the $dgj_roles "
                      "variable, which this nginx does not define: the dgj "
                      "auth module is not built in");
        return NGX_ERROR;
    }

    if (lmcf->user_used && lmcf->user_index == NGX_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"dgj_limit_auto_ban ... by=user\" needs the "
                      "$dgj_user_id variable, which this nginx does not "
                      "define: the dgj auth module is not built in");
        return NGX_ERROR;
    }

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_dgj_limit_handler;

    return NGX_OK;
}


/* the index of a variable some module defines, or NGX_ERROR */
static ngx_int_t
ngx_http_dgj_limit_find_variable(ngx_conf_t *cf,
    ngx_http_core_main_conf_t *cmcf, const char *name)
{
    ngx_str_t        s;
    ngx_uint_t       i;
    ngx_hash_key_t  *key;

    s.data = (u_char *) name;
    s.len = ngx_strlen(name);

    if (cmcf->variables_keys == NULL) {
        return NGX_ERROR;
    }

    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (key[i].key.len == s.len
            && ngx_strncmp(key[i].key.data, s.data, s.len) == 0)
        {
            return ngx_http_get_variable_index(cf, &s);
        }
    }

    return NGX_ERROR;
}


static void *
ngx_http_dgj_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_dgj_limit_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_limit_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&conf->zones, cf->pool, 4,
                       sizeof(ngx_http_dgj_limit_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    conf->roles_index = NGX_ERROR;
    conf->user_index = NGX_ERROR;
    conf->request_id_index = NGX_ERROR;

    return conf;
}


static void *
ngx_http_dgj_limit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_dgj_limit_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_limit_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->rules.elts = NULL;
     */

    conf->roles = NGX_CONF_UNSET_PTR;
    conf->allow = NGX_CONF_UNSET_PTR;
    conf->dry_run = NGX_CONF_UNSET;
    conf->headers = NGX_CONF_UNSET;
    conf->status_code = NGX_CONF_UNSET_UINT;
    conf->log_level = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_dgj_limit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_dgj_limit_loc_conf_t *prev = parent;
    ngx_http_dgj_limit_loc_conf_t *conf = child;

    if (conf->rules.elts == NULL) {
        conf->rules = prev->rules;
    }

    ngx_conf_merge_ptr_value(conf->roles, prev->roles, NULL);
    ngx_conf_merge_ptr_value(conf->allow, prev->allow, NULL);
    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    ngx_conf_merge_value(conf->headers, prev->headers, 1);
    ngx_conf_merge_uint_value(conf->status_code, prev->status_code,
                              NGX_HTTP_TOO_MANY_REQUESTS);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level,
                              NGX_LOG_ERR);

    conf->delay_log_level = (conf->log_level == NGX_LOG_INFO)
                            ? NGX_LOG_INFO : conf->log_level + 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_limit_main_conf_t  *lmcf = conf;

    ssize_t                      size;
    ngx_str_t                   *value, name, s;
    ngx_uint_t                   i;
    ngx_shm_zone_t              *shm_zone;
    ngx_http_dgj_limit_zone_t   *zone, **zp;

    value = cf->args->elts;

    size = 0;
    name.len = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            name.data = value[i].data + 5;
            name.len = value[i].len - 5;

            if (name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone name \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small: at least %uzk",
                                   &value[i], 8 * ngx_pagesize / 1024);
                return NGX_CONF_ERROR;
            }

            /* nodes link to each other by 32-bit offsets */

            if ((uint64_t) size > NGX_MAX_UINT32_VALUE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too large: at most %uzk",
                                   &value[i],
                                   (size_t) NGX_MAX_UINT32_VALUE / 1024);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": expected name=... "
                           "and size=...", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0 || size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"name=\" and \"size=\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_dgj_limit_check_resize(cf, &name, size, "dgj_limit_zone")
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

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_limit_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&zone->rules, cf->pool, 4,
                       sizeof(ngx_http_dgj_limit_rule_t *))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    zone->shm_zone = shm_zone;

    zp = ngx_array_push(&lmcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = zone;

    shm_zone->init = ngx_http_dgj_limit_init_zone;
    shm_zone->data = zone;

    return NGX_CONF_OK;
}


/* "N" for dgj_limit's burst= and delay=; NGX_ERROR when not a number */
static ngx_int_t
ngx_http_dgj_limit_parse_count(ngx_str_t *value, size_t skip)
{
    if (value->len <= skip) {
        return NGX_ERROR;
    }

    return ngx_atoi(value->data + skip, value->len - skip);
}


static char *
ngx_http_dgj_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_limit_loc_conf_t  *llcf = conf;

    u_char                             *p;
    size_t                              len;
    ngx_int_t                           rate, scale, burst, delay;
    ngx_str_t                          *value, s, key, rate_text;
    ngx_uint_t                          i, distinct;
    ngx_shm_zone_t                     *shm_zone;
    ngx_http_dgj_limit_rule_t          *rule, **rp, **rules;
    ngx_http_dgj_limit_zone_t          *zone;
    ngx_http_compile_complex_value_t    ccv;

    value = cf->args->elts;

    shm_zone = NULL;
    key.len = 0;
    rate = 0;
    scale = 1;
    burst = 0;
    delay = 0;
    rate_text.len = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            shm_zone = ngx_shared_memory_add(cf, &s, 0,
                                             &ngx_http_dgj_limit_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            key.data = value[i].data + 4;
            key.len = value[i].len - 4;

            if (key.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty key in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            len = value[i].len;
            p = value[i].data + len - 3;
            scale = 0;

            if (len > 8 && ngx_strncmp(p, "r/s", 3) == 0) {
                scale = 1;

            } else if (len > 8 && ngx_strncmp(p, "r/m", 3) == 0) {
                scale = 60;
            }

            rate = scale ? ngx_atoi(value[i].data + 5, len - 8) : NGX_ERROR;

            if (rate <= 0 || rate > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\": expected "
                                   "rate=Nr/s or rate=Nr/m, N from 1 to "
                                   "1000000", &value[i]);
                return NGX_CONF_ERROR;
            }

            rate_text.data = value[i].data + 5;
            rate_text.len = len - 5;

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            burst = ngx_http_dgj_limit_parse_count(&value[i], 6);

            if (burst < 0 || burst > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\": expected a number "
                                   "from 0 to 1000000", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0) {
            delay = ngx_http_dgj_limit_parse_count(&value[i], 6);

            if (delay < 0 || delay > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid delay \"%V\": expected a number "
                                   "from 0 to 1000000", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "nodelay") == 0) {
            delay = NGX_HTTP_DGJ_LIMIT_NODELAY;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (shm_zone == NULL || key.len == 0 || rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone=\", \"key=\" and "
                           "\"rate=\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown dgj_limit_zone \"%V\" (define it "
                           "before its first use)", &shm_zone->shm.name);
        return NGX_CONF_ERROR;
    }

    rule = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_limit_rule_t));
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &key;
    ccv.complex_value = &rule->key;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rule->shm_zone = shm_zone;
    rule->interval = (uint64_t) 1000000 * scale / rate;
    rule->burst = burst;
    rule->delay = delay;

    /* the rule's identity in the zone: its key and rate ("$k 5r/m") */

    rule->name.len = key.len + 1 + rate_text.len;
    rule->name.data = ngx_pnalloc(cf->pool, rule->name.len);
    if (rule->name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(rule->name.data, "%V %V", &key, &rate_text);
    rule->tag = ngx_crc32_short(rule->name.data, rule->name.len);

    if (llcf->rules.elts == NULL) {
        if (ngx_array_init(&llcf->rules, cf->pool, 2,
                           sizeof(ngx_http_dgj_limit_rule_t *))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    rules = llcf->rules.elts;

    for (i = 0; i < llcf->rules.nelts; i++) {
        if (rules[i]->shm_zone == shm_zone && rules[i]->tag == rule->tag) {
            return "is duplicate";
        }
    }

    rp = ngx_array_push(&llcf->rules);
    if (rp == NULL) {
        return NGX_CONF_ERROR;
    }

    *rp = rule;

    zone = shm_zone->data;

    rules = zone->rules.elts;
    distinct = 1;

    for (i = 0; i < zone->rules.nelts; i++) {
        if (rules[i]->tag == rule->tag) {
            distinct = 0;
        }
    }

    if (distinct && zone->rules.nelts >= NGX_HTTP_DGJ_LIMIT_MAX_RULES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" has more than %d rules",
                           &shm_zone->shm.name, NGX_HTTP_DGJ_LIMIT_MAX_RULES);
        return NGX_CONF_ERROR;
    }

    rp = ngx_array_push(&zone->rules);
    if (rp == NULL) {
        return NGX_CONF_ERROR;
    }

    *rp = rule;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_limit_role_multiplier(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dgj_limit_loc_conf_t  *llcf = conf;

    u_char                          *eq;
    ngx_int_t                        factor;
    ngx_str_t                       *value;
    ngx_uint_t                       i, k;
    ngx_http_dgj_limit_role_t       *role;
    ngx_http_dgj_limit_main_conf_t  *lmcf;

    if (llcf->roles != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* "off": the base budget here, whatever the enclosing levels say */

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        llcf->roles = NULL;
        return NGX_CONF_OK;
    }

    llcf->roles = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                   sizeof(ngx_http_dgj_limit_role_t));
    if (llcf->roles == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        factor = NGX_ERROR;
        if (eq != NULL) {
            factor = ngx_atofp(eq + 1, value[i].data + value[i].len - eq - 1,
                               2);
        }

        if (factor <= 0 || factor > 100000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\": expected role=factor with "
                               "a factor from 0.01 to 1000", &value[i]);
            return NGX_CONF_ERROR;
        }

        for (k = 0; ngx_http_dgj_limit_known_roles[k]; k++) {
            if (ngx_strlen(ngx_http_dgj_limit_known_roles[k])
                    == (size_t) (eq - value[i].data)
                && ngx_strncmp(ngx_http_dgj_limit_known_roles[k],
                               value[i].data, eq - value[i].data) == 0)
            {
                break;
            }
        }

        if (ngx_http_dgj_limit_known_roles[k] == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown role in \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        role = ngx_array_push(llcf->roles);
        if (role == NULL) {
            return NGX_CONF_ERROR;
        }

        role->name.data = value[i].data;
        role->name.len = eq - value[i].data;
        role->factor = factor;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_dgj_limit_module);
    lmcf->roles_used = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_limit_allow(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_limit_loc_conf_t  *llcf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value;
    ngx_uint_t   i;
    ngx_cidr_t  *cidr;

    if (llcf->allow != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* "off" undoes an allow-list inherited from an outer level */

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        llcf->allow = NULL;
        return NGX_CONF_OK;
    }

    llcf->allow = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                   sizeof(ngx_cidr_t));
    if (llcf->allow == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        cidr = ngx_array_push(llcf->allow);
        if (cidr == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_ptocidr(&value[i], cidr);

        if (rc == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address or CIDR \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless",
                               &value[i]);
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_limit_auto_ban(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_limit_main_conf_t  *lmcf = conf;

    ngx_int_t                       n;
    ngx_str_t                      *value, s;
    ngx_uint_t                      i;
    ngx_shm_zone_t                 *shm_zone;
    ngx_http_dgj_limit_zone_t      *zone;
    ngx_http_dgj_limit_auto_ban_t  *ab;

    value = cf->args->elts;

    ab = ngx_pcalloc(cf->pool, sizeof(ngx_http_dgj_limit_auto_ban_t));
    if (ab == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = NULL;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            shm_zone = ngx_shared_memory_add(cf, &s, 0,
                                             &ngx_http_dgj_limit_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rejections=", 11) == 0) {
            n = ngx_http_dgj_limit_parse_count(&value[i], 11);

            if (n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": expected a positive "
                                   "number", &value[i]);
                return NGX_CONF_ERROR;
            }

            ab->rejections = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "window=", 7) == 0
            || ngx_strncmp(value[i].data, "ban=", 4) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;

            n = ngx_parse_time(&s, 1);

            if (n == NGX_ERROR || n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid time in \"%V\" (e.g. 60s, 10m, "
                                   "1h)", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (value[i].data[0] == 'w') {
                ab->window = n;

            } else {
                ab->ban = n;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "by=ip") == 0) {
            ab->by_user = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "by=user") == 0) {
            ab->by_user = 1;
            lmcf->user_used = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (shm_zone == NULL || ab->rejections == 0 || ab->window == 0
        || ab->ban == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone=\", \"rejections=\", "
                           "\"window=\" and \"ban=\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown dgj_limit_zone \"%V\" (define it "
                           "before its first use)", &shm_zone->shm.name);
        return NGX_CONF_ERROR;
    }

    if (lmcf->ban.shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a \"dgj_limit_ban_zone\" before it",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    zone = shm_zone->data;

    if (zone->auto_ban) {
        return "is duplicate for this zone";
    }

    zone->auto_ban = ab;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_limit_status_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_dgj_limit_loc_conf_t  *llcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    llcf->control = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_dgj_limit_status_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_dgj_limit_ban_api_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_dgj_limit_loc_conf_t  *llcf = conf;

    llcf->control = 1;

    return ngx_http_dgj_limit_ban_api(cf, cmd, conf);
}
