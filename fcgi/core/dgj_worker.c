
/*
 * Copyright (C) Daguanjia
 *
 * dgj_worker.c: the worker process: signal dispositions, the accept
 * loop, the per-request lifetime (init, dispatch, finish, pool reset)
 * and recycling after max_requests.
 *
 * SIGTERM is blocked except while the worker waits for a connection in
 * ppoll(), so a request in flight is never interrupted by EINTR and a
 * stop request is seen at once when idle.  The wait covers the listening
 * socket and every connection nginx keeps alive (see dgj_fcgi.h).  The
 * listening socket is non-blocking: when several workers wake for one
 * connection, the losers get EAGAIN and go back to ppoll() with SIGTERM
 * deliverable.
 */


#include "dgj_core.h"
#include "dgj_db.h"
#include "dgj_fcgi.h"
#include "dgj_log.h"
#include "dgj_pool.h"
#include "dgj_req.h"
#include "dgj_routes.h"
#include "dgj_worker.h"

#include <malloc.h>
#include <poll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>


/* a recycling worker waits this long at most for nginx to let go */
#define DGJ_WORKER_DRAIN_SECONDS  30


static int dgj_worker_signals(sigset_t *wait_mask);
static void dgj_worker_on_stop(int signo);
static void dgj_worker_on_usr1(int signo);
static int dgj_worker_loop(dgj_worker_t *w, const sigset_t *wait_mask);


volatile sig_atomic_t  dgj_worker_stopping;


int
dgj_worker_run(const dgj_conf_t *conf, int listen_fd, pid_t parent)
{
    int            status;
    char           msg[256];
    sigset_t       wait_mask;
    dgj_worker_t   w;

    memset(&w, 0, sizeof(dgj_worker_t));
    w.conf = conf;
    w.listen_fd = listen_fd;
    status = 1;

    if (dgj_worker_signals(&wait_mask) != 0) {
        dgj_log(DGJ_LOG_ERROR, "worker", "signal setup failed: %s",
                strerror(errno));
        return 1;
    }

    /* a supervisor killed with SIGKILL must not leave workers behind */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
        dgj_log(DGJ_LOG_ERROR, "worker", "supervisor %ld is gone",
                (long) parent);
        return 1;
    }

    if (dgj_routes_load(&w.router, conf->routes, msg, sizeof(msg)) != 0) {
        dgj_log(DGJ_LOG_ERROR, "worker", "routes: %s", msg);
        return 1;
    }

    /*
     * A fixed threshold: the buffers of a large request (an attachment,
     * up to 5 MiB in and out) are mapped and given back to the kernel
     * when the request ends; glibc's sliding threshold would otherwise
     * keep them in the heap and the worker's resident size would stay up.
     */
    (void) mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    if (dgj_fcgi_init() != 0) {
        dgj_log(DGJ_LOG_ERROR, "worker", "FastCGI library init failed");
        return 1;
    }

    w.pool = dgj_pool_create(DGJ_POOL_DEFAULT_SIZE);
    w.fcgi = dgj_fcgi_create(listen_fd);
    w.db = dgj_db_create(conf);

    if (w.pool == NULL || w.fcgi == NULL || w.db == NULL) {
        dgj_log(DGJ_LOG_ERROR, "worker", "out of memory at start");
        goto done;
    }

    dgj_log(DGJ_LOG_INFO, "worker", "serving (max_requests %u, routes %s)",
            conf->max_requests, conf->routes);

    status = dgj_worker_loop(&w, &wait_mask);

    dgj_log(DGJ_LOG_INFO, "worker", "exiting after %lu requests%s",
            w.served, dgj_worker_stopping ? " (stop requested)" : "");

done:

    dgj_db_destroy(w.db);
    dgj_fcgi_destroy(w.fcgi);
    dgj_pool_destroy(w.pool);

    return status;
}


static int
dgj_worker_loop(dgj_worker_t *w, const sigset_t *wait_mask)
{
    int              n, rc;
    time_t           drain_start;
    nfds_t           nfds;
    dgj_req_t        r;
    struct pollfd    pfd[DGJ_FCGI_POLL_MAX];
    struct timespec  drain_tick = { 1, 0 };

    drain_start = 0;

    while (!dgj_worker_stopping) {

        if (w->served >= w->conf->max_requests) {
            /*
             * Recycling: take no new connection, serve the kept ones
             * until nginx closes them (keepalive_requests, idle timeout),
             * at most DGJ_WORKER_DRAIN_SECONDS.
             */
            if (drain_start == 0) {
                dgj_fcgi_drain(w->fcgi);
                drain_start = time(NULL);
            }

            if (dgj_fcgi_open_conns(w->fcgi) == 0
                || time(NULL) - drain_start >= DGJ_WORKER_DRAIN_SECONDS)
            {
                break;
            }
        }

        dgj_log_reopen_if_requested();

        nfds = dgj_fcgi_poll_set(w->fcgi, pfd);

        /* the only place where SIGTERM and SIGUSR1 are delivered */
        n = ppoll(pfd, nfds, drain_start != 0 ? &drain_tick : NULL,
                  wait_mask);

        if (n == 0) {
            continue;               /* draining: look at the clock again */
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            dgj_log(DGJ_LOG_ERROR, "worker", "ppoll failed: %s",
                    strerror(errno));
            return 1;
        }

        /* a stop request delivered by ppoll() wins over a ready socket */
        if (dgj_worker_stopping) {
            break;
        }

        rc = dgj_fcgi_accept(w->fcgi, pfd, nfds);

        if (rc == -EAGAIN || rc == -EINTR) {
            continue;
        }

        if (rc < 0) {
            dgj_log(DGJ_LOG_ERROR, "worker", "accept failed: %s",
                    strerror(-rc));
            return 1;
        }

        dgj_req_init(&r, w->pool, dgj_fcgi_io(w->fcgi), w->conf->max_body);
        r.db = w->db;
        r.conf = w->conf;

        dgj_log_set_request_id(r.request_id);

        dgj_router_dispatch(&w->router, &r);   /* replies exactly once */
        dgj_db_request_end(w->db);             /* no transaction leaks */

        dgj_log_set_request_id(NULL);
        dgj_fcgi_finish(w->fcgi);              /* params die here */
        dgj_pool_reset(w->pool);               /* cleanups run */

        w->served++;
    }

    return 0;
}


static int
dgj_worker_signals(sigset_t *wait_mask)
{
    sigset_t          block;
    struct sigaction  sa;

    dgj_worker_stopping = 0;

    memset(&sa, 0, sizeof(struct sigaction));
    sigemptyset(&sa.sa_mask);

    /* no SA_RESTART: ppoll() must return on a stop request */
    sa.sa_handler = dgj_worker_on_stop;
    if (sigaction(SIGTERM, &sa, NULL) != 0
        || sigaction(SIGINT, &sa, NULL) != 0)
    {
        return -1;
    }

    sa.sa_handler = dgj_worker_on_usr1;
    if (sigaction(SIGUSR1, &sa, NULL) != 0) {
        return -1;
    }

    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0
        || sigaction(SIGHUP, &sa, NULL) != 0)
    {
        return -1;
    }

    sa.sa_handler = SIG_DFL;
    if (sigaction(SIGCHLD, &sa, NULL) != 0) {
        return -1;
    }

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR1);

    if (sigprocmask(SIG_SETMASK, &block, NULL) != 0) {
        return -1;
    }

    sigemptyset(wait_mask);

    return 0;
}


static void
dgj_worker_on_stop(int signo)
{
    (void) signo;

    dgj_worker_stopping = 1;
}


static void
dgj_worker_on_usr1(int signo)
{
    (void) signo;

    dgj_log_reopen_request();
}
