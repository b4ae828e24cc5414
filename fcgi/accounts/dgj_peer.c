
/*
 * Copyright (C) Daguanjia
 *
 * dgj_peer.c: the libcurl exchange shared by the SMS and WeChat clients
 * (limits in dgj_peer.h), their secret-file reader and URL builder.
 * Owns no state: one easy handle per call, these calls are rare.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_log.h"
#include "dgj_peer.h"
#include "dgj_pool.h"
#include "dgj_req.h"

#include <curl/curl.h>


typedef struct {
    dgj_pool_t  *pool;
    char        *buf;
    size_t       len;
    size_t       size;
    unsigned     too_large:1;
    unsigned     nomem:1;
} dgj_peer_sink_t;


static size_t dgj_peer_write(char *data, size_t size, size_t n, void *arg);


dgj_rc_t
dgj_peer_request(dgj_req_t *r, const char *url, const char *const *headers,
    const char *body, size_t len, dgj_peer_res_t *res)
{
    CURL                *curl;
    long                 timeout, connect;
    size_t               i;
    CURLcode             cc;
    dgj_rc_t             rc;
    dgj_peer_sink_t      sink;
    struct curl_slist   *list, *l;

    memset(res, 0, sizeof(dgj_peer_res_t));
    memset(&sink, 0, sizeof(dgj_peer_sink_t));
    sink.pool = r->pool;

    timeout = (r->conf != NULL && r->conf->peer_timeout > 0)
              ? (long) r->conf->peer_timeout : DGJ_PEER_TIMEOUT;
    connect = timeout < DGJ_PEER_CONNECT_MAX ? timeout : DGJ_PEER_CONNECT_MAX;

    curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(res->error, sizeof(res->error), "curl_easy_init failed");
        return DGJ_ERR_NOMEM;
    }

    list = NULL;
    rc = DGJ_ERR_NOMEM;

    for (i = 0; headers != NULL && headers[i] != NULL; i++) {
        l = curl_slist_append(list, headers[i]);
        if (l == NULL) {
            goto done;
        }

        list = l;
    }

    if (body != NULL) {
        l = curl_slist_append(list, "Content-Type: application/json");
        if (l == NULL) {
            goto done;
        }

        list = l;
    }

    /* "Expect: 100-continue" would cost a round trip for small bodies */
    l = curl_slist_append(list, "Expect:");
    if (l == NULL) {
        goto done;
    }

    list = l;

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long) DGJ_PEER_MAX_BODY);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "dgj/" DGJ_VERSION);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, dgj_peer_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);

    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) len);
    }

    cc = curl_easy_perform(curl);

    if (sink.nomem) {
        snprintf(res->error, sizeof(res->error), "out of memory");
        goto done;
    }

    if (sink.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(res->error, sizeof(res->error),
                 "answer larger than %d bytes", DGJ_PEER_MAX_BODY);
        rc = DGJ_ERR_PEER;
        goto done;
    }

    if (cc != CURLE_OK) {
        /* curl_easy_strerror() names the kind, never the URL */
        snprintf(res->error, sizeof(res->error), "%s (curl %d)",
                 curl_easy_strerror(cc), (int) cc);
        rc = DGJ_ERR_PEER;
        goto done;
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);

    res->body = sink.buf != NULL ? sink.buf : dgj_pstrndup(r->pool, "", 0);
    res->len = sink.len;

    rc = res->body != NULL ? DGJ_OK : DGJ_ERR_NOMEM;

done:

    curl_slist_free_all(list);
    curl_easy_cleanup(curl);

    return rc;
}


dgj_rc_t
dgj_peer_secret(const char *module, const char *path, char *buf, size_t size)
{
    int   n;
    char  msg[DGJ_CONF_PATH + 128];

    if (path == NULL || path[0] == '\0') {
        dgj_log(DGJ_LOG_ERROR, module, "secret file not configured");
        return DGJ_ERR_INTERNAL;
    }

    n = dgj_conf_read_secret(path, buf, size, msg, sizeof(msg));

    if (n == -1) {
        dgj_log(DGJ_LOG_ERROR, module, "%s", msg);
        return DGJ_ERR_INTERNAL;
    }

    if (n == 0) {
        dgj_log(DGJ_LOG_ERROR, module, "\"%s\" is empty", path);
        return DGJ_ERR_INTERNAL;
    }

    return DGJ_OK;
}


int
dgj_peer_base_len(const char *base)
{
    size_t  n;

    n = strlen(base);
    if (n > 0 && base[n - 1] == '/') {
        n--;
    }

    return n > INT_MAX ? 0 : (int) n;
}


/* collects the answer in the pool, doubling; refuses past the cap */
static size_t
dgj_peer_write(char *data, size_t size, size_t n, void *arg)
{
    char             *buf;
    size_t            total, want;
    dgj_peer_sink_t  *sink = arg;

    total = size * n;

    if (total > DGJ_PEER_MAX_BODY - sink->len) {
        sink->too_large = 1;
        return 0;
    }

    if (sink->len + total + 1 > sink->size) {
        for (want = sink->size > 0 ? sink->size * 2 : 4096;
             want < sink->len + total + 1;
             want *= 2)
        {
            /* void */
        }

        buf = dgj_palloc(sink->pool, want);
        if (buf == NULL) {
            sink->nomem = 1;
            return 0;
        }

        if (sink->len > 0) {
            memcpy(buf, sink->buf, sink->len);
        }

        sink->buf = buf;
        sink->size = want;
    }

    memcpy(sink->buf + sink->len, data, total);
    sink->len += total;
    sink->buf[sink->len] = '\0';

    return total;
}
