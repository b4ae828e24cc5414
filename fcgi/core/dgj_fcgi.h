
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


typedef struct dgj_fcgi_s  dgj_fcgi_t;


/*
 * Initialises libfcgi once per process.  Install the process's own
 * SIGTERM, SIGUSR1 and SIGPIPE dispositions before: libfcgi keeps them
 * only when they are not SIG_DFL.  0 or -1.
 */
int dgj_fcgi_init(void);

/*
 * A request object accepting on listen_fd with FCGI_FAIL_ACCEPT_ON_INTR.
 * NULL on allocation failure.  Owned by the caller: dgj_fcgi_destroy().
 */
dgj_fcgi_t *dgj_fcgi_create(int listen_fd);

/*
 * Accepts the next request.  Returns 0, or a negative errno value:
 * -EINTR (a signal), -EAGAIN (non-blocking socket, another worker took
 * the connection) or another failure.
 */
int dgj_fcgi_accept(dgj_fcgi_t *f);

/*
 * The descriptor to wait on for the next request: the connection nginx
 * kept alive (FCGI_KEEP_CONN) while there is one, else listen_fd.  A kept
 * connection carries its next request on itself, never on the listener.
 */
int dgj_fcgi_wait_fd(dgj_fcgi_t *f, int listen_fd);

/* The transport of the accepted request; valid until dgj_fcgi_finish(). */
const dgj_io_t *dgj_fcgi_io(dgj_fcgi_t *f);

/* Flushes and ends the request; its parameter strings die here. */
void dgj_fcgi_finish(dgj_fcgi_t *f);

/* Frees f (ending an accepted request first).  NULL is allowed. */
void dgj_fcgi_destroy(dgj_fcgi_t *f);


#endif /* DGJ_FCGI_H */
