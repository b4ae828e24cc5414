
/*
 * Copyright (C) Daguanjia
 *
 * dgj_worker.h: one worker process: its pool, FastCGI request object,
 * DB connection and router, and the accept loop that serves requests
 * until SIGTERM or max_requests.
 */


#ifndef DGJ_WORKER_H
#define DGJ_WORKER_H


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_fcgi.h"
#include "dgj_router.h"

#include <signal.h>


struct dgj_worker_s {
    const dgj_conf_t  *conf;
    int                listen_fd;
    dgj_pool_t        *pool;        /* r->pool of every request */
    dgj_fcgi_t        *fcgi;
    dgj_db_t          *db;
    dgj_router_t       router;
    unsigned long      served;
};


/* set by SIGTERM/SIGINT: the request in flight finishes, then exit */
extern volatile sig_atomic_t  dgj_worker_stopping;


/*
 * Runs the worker loop in a freshly forked child of the supervisor
 * (parent is its pid).  Returns the process exit status: 0 after SIGTERM
 * or max_requests, 1 when the worker cannot serve.
 */
int dgj_worker_run(const dgj_conf_t *conf, int listen_fd, pid_t parent);


#endif /* DGJ_WORKER_H */
