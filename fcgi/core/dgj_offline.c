
/*
 * Copyright (C) Daguanjia
 *
 * dgj_offline.c: one request outside the pool (dgj_offline.h).
 */


#include "dgj_core.h"
#include "dgj_db.h"
#include "dgj_offline.h"
#include "dgj_pool.h"
#include "dgj_req.h"


static const char *
dgj_offline_param(void *data, const char *name)
{
    (void) data;
    (void) name;

    return NULL;
}


static ssize_t
dgj_offline_read(void *data, char *buf, size_t n)
{
    (void) data;
    (void) buf;
    (void) n;

    return 0;
}


static int
dgj_offline_write(void *data, const char *buf, size_t n)
{
    (void) data;
    (void) buf;
    (void) n;

    return 0;
}


dgj_rc_t
dgj_offline_run(const dgj_conf_t *conf, dgj_offline_pt fn, void *data)
{
    dgj_db_t    *db;
    dgj_rc_t     rc;
    dgj_req_t    r;
    dgj_pool_t  *pool;

    static const dgj_io_t  io = {
        dgj_offline_param, dgj_offline_read, dgj_offline_write, NULL
    };

    pool = dgj_pool_create(16384);
    db = dgj_db_create(conf);

    if (pool == NULL || db == NULL) {
        fprintf(stderr, "dgj-fcgi: out of memory\n");
        dgj_pool_destroy(pool);
        dgj_db_destroy(db);
        return DGJ_ERR_NOMEM;
    }

    dgj_req_init(&r, pool, &io, 0);
    r.db = db;
    r.conf = conf;

    rc = fn(&r, data);

    if (rc != DGJ_OK) {
        fprintf(stderr, "dgj-fcgi: %s: %s\n", dgj_rc_code(rc),
                r.err[0] != '\0' ? r.err : dgj_rc_message(rc));
    }

    dgj_db_request_end(db);
    dgj_pool_destroy(pool);
    dgj_db_destroy(db);

    return rc;
}
