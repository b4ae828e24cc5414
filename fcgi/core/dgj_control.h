
/*
 * Copyright (C) Daguanjia
 *
 * dgj_control.h: the workers' line to nginx's control server, a unix
 * socket reachable only by root and the web user (conf->control_socket;
 * conf/nginx.conf.in).  Used to push revoked sessions and bans.
 */


#ifndef DGJ_CONTROL_H
#define DGJ_CONTROL_H


#include "dgj_core.h"


#define DGJ_CONTROL_TIMEOUT_MS  1000


/*
 * POSTs body (len bytes, text/plain) to http://localhost<path> over
 * conf->control_socket with a 1 s timeout.  DGJ_OK on a 2xx answer;
 * DGJ_ERR_PEER when the socket is unset or unreachable, on a timeout or
 * on any other status (logged with the start of the answer); DGJ_ERR_NOMEM
 * when libcurl cannot start.  Nothing is retained.
 */
dgj_rc_t dgj_control_post(const dgj_conf_t *conf, const char *path,
    const char *body, size_t len);


/*
 * GETs http://localhost<path> over conf->control_socket (1 s timeout):
 * DGJ_OK with the answer's first max bytes, NUL-terminated, in *body
 * (malloc()ed: the caller frees it) and its length in *len; the errors
 * of dgj_control_post().
 */
dgj_rc_t dgj_control_get(const dgj_conf_t *conf, const char *path,
    size_t max, char **body, size_t *len);


#endif /* DGJ_CONTROL_H */
