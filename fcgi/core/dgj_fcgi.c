
/*
 * Copyright (C) Daguanjia
 *
 * dgj_fcgi.c: the glue to libfcgi (fcgiapp.h): accept, parameters, body
 * stream, output stream, finish.  No other file includes fcgiapp.h.
 */


#include "dgj_core.h"
#include "dgj_fcgi.h"

#include <fcgiapp.h>


typedef struct {
    FCGX_Request   req;        /* req.ipcFd >= 0 while nginx keeps it */
    dgj_io_t       io;
} dgj_fcgi_slot_t;


struct dgj_fcgi_s {
    dgj_fcgi_slot_t   slot[DGJ_FCGI_CONNS];
    dgj_fcgi_slot_t  *current;  /* the accepted request, or NULL */
    int               listen_fd;
    unsigned          next;     /* round-robin start for fairness */
    unsigned          draining; /* no new connections: see dgj_fcgi_drain */
    int               map[DGJ_FCGI_POLL_MAX];  /* poll entry -> slot */
};


static const char *dgj_fcgi_param(void *data, const char *name);
static ssize_t dgj_fcgi_read(void *data, char *buf, size_t n);
static int dgj_fcgi_write(void *data, const char *buf, size_t n);


int
dgj_fcgi_init(void)
{
    return (FCGX_Init() == 0) ? 0 : -1;
}


dgj_fcgi_t *
dgj_fcgi_create(int listen_fd)
{
    unsigned          i;
    dgj_fcgi_t       *f;
    dgj_fcgi_slot_t  *s;

    f = calloc(1, sizeof(dgj_fcgi_t));
    if (f == NULL) {
        return NULL;
    }

    f->listen_fd = listen_fd;

    for (i = 0; i < DGJ_FCGI_CONNS; i++) {
        s = &f->slot[i];

        if (FCGX_InitRequest(&s->req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR)
            != 0)
        {
            free(f);
            return NULL;
        }

        s->io.param = dgj_fcgi_param;
        s->io.read = dgj_fcgi_read;
        s->io.write = dgj_fcgi_write;
        s->io.data = s;
    }

    return f;
}


nfds_t
dgj_fcgi_poll_set(dgj_fcgi_t *f, struct pollfd *pfd)
{
    int       free_slot;
    nfds_t    n;
    unsigned  i;

    n = 0;
    free_slot = -1;

    for (i = 0; i < DGJ_FCGI_CONNS; i++) {
        if (f->slot[i].req.ipcFd < 0) {
            if (free_slot < 0) {
                free_slot = (int) i;
            }

            continue;
        }

        pfd[n].fd = f->slot[i].req.ipcFd;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
        f->map[n] = (int) i;
        n++;
    }

    if (free_slot >= 0 && !f->draining) {
        pfd[n].fd = f->listen_fd;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
        f->map[n] = free_slot;
        n++;
    }

    return n;
}


void
dgj_fcgi_drain(dgj_fcgi_t *f)
{
    f->draining = 1;
}


unsigned
dgj_fcgi_open_conns(const dgj_fcgi_t *f)
{
    unsigned  i, n;

    n = 0;

    for (i = 0; i < DGJ_FCGI_CONNS; i++) {
        if (f->slot[i].req.ipcFd >= 0) {
            n++;
        }
    }

    return n;
}


int
dgj_fcgi_accept(dgj_fcgi_t *f, const struct pollfd *pfd, nfds_t n)
{
    int               rc;
    nfds_t            i, k;
    dgj_fcgi_slot_t  *s;

    if (n == 0) {
        return -EAGAIN;
    }

    /* start after the entry served last, so a busy connection cannot
     * starve the others (or the listener) */
    for (k = 0; k < n; k++) {
        i = (f->next + k) % n;

        if (pfd[i].revents != 0) {
            break;
        }
    }

    if (k == n) {
        return -EAGAIN;
    }

    f->next = (unsigned) (i + 1);
    s = &f->slot[f->map[i]];

    /*
     * On a kept connection this reads the next request; when nginx closed
     * it, libfcgi closes our end and tries the (non-blocking) listener,
     * which yields EAGAIN unless a new connection is waiting.
     */
    errno = 0;

    rc = FCGX_Accept_r(&s->req);
    if (rc == 0) {
        f->current = s;
        return 0;
    }

    /* libfcgi returns -errno, or its own negative codes without errno */
    if (rc == -EINTR || rc == -EAGAIN || rc == -EWOULDBLOCK) {
        return rc == -EWOULDBLOCK ? -EAGAIN : rc;
    }

    return rc < 0 ? rc : -EIO;
}


const dgj_io_t *
dgj_fcgi_io(dgj_fcgi_t *f)
{
    return &f->current->io;
}


void
dgj_fcgi_finish(dgj_fcgi_t *f)
{
    /* with FCGI_KEEP_CONN the connection stays open in its slot */
    if (f->current != NULL) {
        FCGX_Finish_r(&f->current->req);
        f->current = NULL;
    }
}


void
dgj_fcgi_destroy(dgj_fcgi_t *f)
{
    unsigned  i;

    if (f == NULL) {
        return;
    }

    dgj_fcgi_finish(f);

    for (i = 0; i < DGJ_FCGI_CONNS; i++) {
        FCGX_Free(&f->slot[i].req, 1);
    }

    free(f);
}


static const char *
dgj_fcgi_param(void *data, const char *name)
{
    dgj_fcgi_slot_t  *s = data;

    return FCGX_GetParam(name, s->req.envp);
}


static ssize_t
dgj_fcgi_read(void *data, char *buf, size_t n)
{
    int               got;
    dgj_fcgi_slot_t  *s = data;

    if (n > INT_MAX) {
        n = INT_MAX;
    }

    got = FCGX_GetStr(buf, (int) n, s->req.in);
    if (got <= 0) {
        return FCGX_GetError(s->req.in) != 0 ? -1 : 0;
    }

    return got;
}


static int
dgj_fcgi_write(void *data, const char *buf, size_t n)
{
    int               chunk;
    dgj_fcgi_slot_t  *s = data;

    while (n > 0) {
        chunk = (n > INT_MAX) ? INT_MAX : (int) n;

        if (FCGX_PutStr(buf, chunk, s->req.out) != chunk) {
            return -1;
        }

        buf += chunk;
        n -= (size_t) chunk;
    }

    return 0;
}
