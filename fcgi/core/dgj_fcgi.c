
/*
 * Copyright (C) Daguanjia
 *
 * dgj_fcgi.c: the glue to libfcgi (fcgiapp.h): accept, parameters, body
 * stream, output stream, finish.  No other file includes fcgiapp.h.
 */


#include "dgj_core.h"
#include "dgj_fcgi.h"

#include <fcgiapp.h>


struct dgj_fcgi_s {
    FCGX_Request   req;
    dgj_io_t       io;
    unsigned       accepted:1;
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
    dgj_fcgi_t  *f;

    f = calloc(1, sizeof(dgj_fcgi_t));
    if (f == NULL) {
        return NULL;
    }

    if (FCGX_InitRequest(&f->req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
    {
        free(f);
        return NULL;
    }

    f->io.param = dgj_fcgi_param;
    f->io.read = dgj_fcgi_read;
    f->io.write = dgj_fcgi_write;
    f->io.data = f;

    return f;
}


int
dgj_fcgi_accept(dgj_fcgi_t *f)
{
    int  rc;

    errno = 0;

    rc = FCGX_Accept_r(&f->req);
    if (rc == 0) {
        f->accepted = 1;
        return 0;
    }

    /* libfcgi returns -errno, or its own negative codes without errno */
    if (rc == -EINTR || rc == -EAGAIN || rc == -EWOULDBLOCK) {
        return rc == -EWOULDBLOCK ? -EAGAIN : rc;
    }

    return rc < 0 ? rc : -EIO;
}


int
dgj_fcgi_wait_fd(dgj_fcgi_t *f, int listen_fd)
{
    /* libfcgi leaves ipcFd open after FCGX_Finish_r() when kept alive */
    return (f->req.ipcFd >= 0) ? f->req.ipcFd : listen_fd;
}


const dgj_io_t *
dgj_fcgi_io(dgj_fcgi_t *f)
{
    return &f->io;
}


void
dgj_fcgi_finish(dgj_fcgi_t *f)
{
    if (f->accepted) {
        FCGX_Finish_r(&f->req);
        f->accepted = 0;
    }
}


void
dgj_fcgi_destroy(dgj_fcgi_t *f)
{
    if (f == NULL) {
        return;
    }

    dgj_fcgi_finish(f);
    FCGX_Free(&f->req, 0);
    free(f);
}


static const char *
dgj_fcgi_param(void *data, const char *name)
{
    dgj_fcgi_t  *f = data;

    return FCGX_GetParam(name, f->req.envp);
}


static ssize_t
dgj_fcgi_read(void *data, char *buf, size_t n)
{
    int          got;
    dgj_fcgi_t  *f = data;

    if (n > INT_MAX) {
        n = INT_MAX;
    }

    got = FCGX_GetStr(buf, (int) n, f->req.in);
    if (got <= 0) {
        return FCGX_GetError(f->req.in) != 0 ? -1 : 0;
    }

    return got;
}


static int
dgj_fcgi_write(void *data, const char *buf, size_t n)
{
    int          chunk;
    dgj_fcgi_t  *f = data;

    while (n > 0) {
        chunk = (n > INT_MAX) ? INT_MAX : (int) n;

        if (FCGX_PutStr(buf, chunk, f->req.out) != chunk) {
            return -1;
        }

        buf += chunk;
        n -= (size_t) chunk;
    }

    return 0;
}
