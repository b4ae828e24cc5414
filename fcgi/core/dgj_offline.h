
/*
 * Copyright (C) Daguanjia
 *
 * dgj_offline.h: running handler-style code outside the pool, for the
 * one-shot commands of dgj-fcgi (-D demo accounts, -B ban file): a pool,
 * a database handle and a request with no client behind it.
 */


#ifndef DGJ_OFFLINE_H
#define DGJ_OFFLINE_H


#include "dgj_core.h"


typedef dgj_rc_t (*dgj_offline_pt)(dgj_req_t *r, void *data);


/*
 * Calls fn(r, data) with a fresh request on conf's database, once per
 * call; the request's pool is reset and any open transaction rolled back
 * afterwards.  Returns fn's result (DGJ_ERR_NOMEM when the request cannot
 * be made); a failure is printed on stderr with r's recorded message.
 */
dgj_rc_t dgj_offline_run(const dgj_conf_t *conf, dgj_offline_pt fn,
    void *data);


#endif /* DGJ_OFFLINE_H */
