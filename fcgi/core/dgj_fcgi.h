
/*
 * Copyright (C) Daguanjia
 *
 * dgj_fcgi.h: the FastCGI transport.  dgj_fcgi.c is the only file that
 * includes fcgiapp.h; the rest of the core sees a request only through
 * the dgj_io_t this file provides.
 */


#ifndef DGJ_FCGI_H
#define DGJ_FCGI_H


#include "dgj_core.h"
#include "dgj_req.h"

#include <poll.h>


typedef struct dgj_fcgi_s  dgj_fcgi_t;


/*
 * Connections one worker holds at once.  nginx keeps FastCGI connections
 * alive (FCGI_KEEP_CONN), and a kept connection carries its next request
 * on itself; a worker that held only one would sit on it while new
 * connections queue behind the listener.  So a worker serves requests one
 * at a time from any of its kept connections and keeps accepting new ones
 * while it has a free slot.  A pool starves only when nginx can keep more
 * idle connections (worker_processes x keepalive) than all its workers
 * hold; conf/stack.sh refuses such a configuration.
 */
#define DGJ_FCGI_CONNS  64

/* The poll set a worker waits on: the listener and every kept connection */
#define DGJ_FCGI_POLL_MAX  (DGJ_FCGI_CONNS + 1)


/*
 * Initialises libfcgi once per process.  Install the process's own
 * SIGTERM, SIGUSR1 and SIGPIPE dispositions before: libfcgi keeps them
 * only when they are not SIG_DFL.  0 or -1.
 */
int dgj_fcgi_init(void);

/*
 * Connection slots accepting on listen_fd (non-blocking) with
 * FCGI_FAIL_ACCEPT_ON_INTR.  NULL on allocation failure.  Owned by the
 * caller: dgj_fcgi_destroy().
 */
dgj_fcgi_t *dgj_fcgi_create(int listen_fd);

/*
 * Fills pfd (DGJ_FCGI_POLL_MAX entries) with what to wait on: every kept
 * connection, and the listener while a slot is free.  Returns the count.
 */
nfds_t dgj_fcgi_poll_set(dgj_fcgi_t *f, struct pollfd *pfd);

/*
 * Takes the next request from a descriptor that poll() found ready,
 * round-robin over the connections so none is starved.  Returns 0 with
 * the request accepted, or a negative errno value: -EAGAIN (nothing to
 * serve: a kept connection was closed by nginx, or another worker took
 * the new connection), -EINTR (a signal), or another failure.
 */
int dgj_fcgi_accept(dgj_fcgi_t *f, const struct pollfd *pfd, nfds_t n);

/*
 * Stops taking new connections (the listener leaves the poll set) while
 * the kept ones are still served: a recycling worker drains, and exits
 * once nginx has closed them (upstream keepalive_requests, or idle),
 * instead of closing a connection nginx may have just sent a request on.
 */
void dgj_fcgi_drain(dgj_fcgi_t *f);

/* Kept connections still open. */
unsigned dgj_fcgi_open_conns(const dgj_fcgi_t *f);

/* The transport of the accepted request; valid until dgj_fcgi_finish(). */
const dgj_io_t *dgj_fcgi_io(dgj_fcgi_t *f);

/* Flushes and ends the request; its parameter strings die here. */
void dgj_fcgi_finish(dgj_fcgi_t *f);

/* Frees f (ending an accepted request first).  NULL is allowed. */
void dgj_fcgi_destroy(dgj_fcgi_t *f);


#endif /* DGJ_FCGI_H */
