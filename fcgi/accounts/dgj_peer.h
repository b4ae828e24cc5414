
/*
 * Copyright (C) Daguanjia
 *
 * dgj_peer.h: one bounded HTTP exchange with an outside service (the SMS
 * gateway, WeChat) over libcurl, and the reading of the secret files
 * those services need.  Used by dgj_sms and dgj_wechat; the caller words
 * the failure for the client.
 *
 * Every exchange: whole-call timeout conf->peer_timeout seconds (5 when
 * 0 or no conf), connect timeout at most 3 s, redirects not followed,
 * http and https only, no signals (CURLOPT_NOSIGNAL), answers larger
 * than DGJ_PEER_MAX_BODY refused.  Proxies come from the usual
 * environment variables.
 */


#ifndef DGJ_PEER_H
#define DGJ_PEER_H


#include "dgj_core.h"
#include "dgj_req.h"


#define DGJ_PEER_MAX_BODY     65536
#define DGJ_PEER_ERR_LEN      256
#define DGJ_PEER_TIMEOUT      5        /* seconds, when not configured */
#define DGJ_PEER_CONNECT_MAX  3        /* seconds */


typedef struct {
    long     status;                    /* HTTP status; 0: no answer */
    char    *body;                      /* NUL-terminated, in r->pool */
    size_t   len;
    char     error[DGJ_PEER_ERR_LEN];   /* why no answer, for the log */
} dgj_peer_res_t;


/*
 * GET url (body NULL) or POST body[0..len) as application/json, with
 * headers (a NULL-terminated list of "Name: value", or NULL).
 *
 * Returns DGJ_OK when an answer arrived, whatever its status (res->body
 * owned by r->pool, "" when empty); DGJ_ERR_PEER when none did (timeout,
 * refused, too large, bad URL: res->error says which, without the URL,
 * which may carry secrets); DGJ_ERR_NOMEM.  Logs nothing and does not
 * call dgj_req_fail().
 */
dgj_rc_t dgj_peer_request(dgj_req_t *r, const char *url,
    const char *const *headers, const char *body, size_t len,
    dgj_peer_res_t *res);

/*
 * Reads the one-line secret file path (dgj_conf_read_secret()) into buf
 * (size bytes).  DGJ_OK, or DGJ_ERR_INTERNAL when the path is not
 * configured, the file cannot be read or is empty (logged under module,
 * naming the file, never its content).  The caller wipes buf after use
 * (OPENSSL_cleanse).
 */
dgj_rc_t dgj_peer_secret(const char *module, const char *path, char *buf,
    size_t size);

/*
 * Length of a configured base URL without one trailing '/', so callers
 * write dgj_psprintf(pool, "%.*s/path", n, base); 0 when base is empty.
 */
int dgj_peer_base_len(const char *base);


#endif /* DGJ_PEER_H */
