
/*
 * Copyright (C) Daguanjia
 *
 * dgj_control.c: POST to nginx's control server over its unix socket
 * (libcurl, CURLOPT_UNIX_SOCKET_PATH), and GET of its status pages.  The
 * only file that talks to it.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_control.h"
#include "dgj_log.h"

#include <curl/curl.h>


typedef struct {
    char    text[160];      /* the start of the answer, for the log */
    size_t  len;
} dgj_control_answer_t;


typedef struct {
    char    *buf;               /* malloc()ed, max + 1 bytes */
    size_t   len;
    size_t   max;
} dgj_control_body_t;


static size_t dgj_control_write(char *p, size_t size, size_t n, void *data);
static size_t dgj_control_keep(char *p, size_t size, size_t n, void *data);


dgj_rc_t
dgj_control_post(const dgj_conf_t *conf, const char *path, const char *body,
    size_t len)
{
    long                   status;
    char                   url[256];
    CURL                  *curl;
    dgj_rc_t               rc;
    CURLcode               cc;
    struct curl_slist     *headers;
    dgj_control_answer_t   answer;

    if (conf->control_socket[0] == '\0') {
        dgj_log(DGJ_LOG_ERROR, "control", "no control_socket configured: "
                "cannot POST %s", path);
        return DGJ_ERR_PEER;
    }

    if ((size_t) snprintf(url, sizeof(url), "http://localhost%s", path)
        >= sizeof(url))
    {
        return DGJ_ERR_INTERNAL;
    }

    curl = curl_easy_init();
    if (curl == NULL) {
        return DGJ_ERR_NOMEM;
    }

    headers = curl_slist_append(NULL, "Content-Type: text/plain");
    if (headers == NULL) {
        curl_easy_cleanup(curl);
        return DGJ_ERR_NOMEM;
    }

    memset(&answer, 0, sizeof(dgj_control_answer_t));

    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, conf->control_socket);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) DGJ_CONTROL_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) DGJ_CONTROL_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, dgj_control_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);

    cc = curl_easy_perform(curl);

    status = 0;
    rc = DGJ_OK;

    if (cc != CURLE_OK) {
        dgj_log(DGJ_LOG_ERROR, "control", "POST %s via %s failed: %s", path,
                conf->control_socket, curl_easy_strerror(cc));
        rc = DGJ_ERR_PEER;

    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

        if (status < 200 || status > 299) {
            dgj_log(DGJ_LOG_ERROR, "control", "POST %s answered %ld: %.*s",
                    path, status, (int) answer.len, answer.text);
            rc = DGJ_ERR_PEER;
        }
    }

    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    return rc;
}


dgj_rc_t
dgj_control_get(const dgj_conf_t *conf, const char *path, size_t max,
    char **body, size_t *len)
{
    long                 status;
    char                 url[256];
    CURL                *curl;
    dgj_rc_t             rc;
    CURLcode             cc;
    dgj_control_body_t   b;

    *body = NULL;
    *len = 0;

    if (conf->control_socket[0] == '\0') {
        dgj_log(DGJ_LOG_ERROR, "control", "no control_socket configured: "
                "cannot GET %s", path);
        return DGJ_ERR_PEER;
    }

    if ((size_t) snprintf(url, sizeof(url), "http://localhost%s", path)
        >= sizeof(url))
    {
        return DGJ_ERR_INTERNAL;
    }

    b.buf = malloc(max + 1);
    b.len = 0;
    b.max = max;

    if (b.buf == NULL) {
        return DGJ_ERR_NOMEM;
    }

    curl = curl_easy_init();
    if (curl == NULL) {
        free(b.buf);
        return DGJ_ERR_NOMEM;
    }

    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, conf->control_socket);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) DGJ_CONTROL_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) DGJ_CONTROL_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, dgj_control_keep);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);

    cc = curl_easy_perform(curl);

    status = 0;
    rc = DGJ_OK;

    if (cc != CURLE_OK) {
        dgj_log(DGJ_LOG_ERROR, "control", "GET %s via %s failed: %s", path,
                conf->control_socket, curl_easy_strerror(cc));
        rc = DGJ_ERR_PEER;

    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

        if (status < 200 || status > 299) {
            dgj_log(DGJ_LOG_ERROR, "control", "GET %s answered %ld", path,
                    status);
            rc = DGJ_ERR_PEER;
        }
    }

    curl_easy_cleanup(curl);

    if (rc != DGJ_OK) {
        free(b.buf);
        return rc;
    }

    b.buf[b.len] = '\0';
    *body = b.buf;
    *len = b.len;

    return DGJ_OK;
}


/* keeps the first max bytes of an answer; the rest is read and dropped */
static size_t
dgj_control_keep(char *p, size_t size, size_t n, void *data)
{
    size_t               room, len;
    dgj_control_body_t  *b = data;

    len = size * n;
    room = b->max - b->len;

    memcpy(b->buf + b->len, p, len < room ? len : room);
    b->len += len < room ? len : room;

    return len;
}


static size_t
dgj_control_write(char *p, size_t size, size_t n, void *data)
{
    size_t                 room, len;
    dgj_control_answer_t  *answer = data;

    len = size * n;
    room = sizeof(answer->text) - 1 - answer->len;

    memcpy(answer->text + answer->len, p, len < room ? len : room);
    answer->len += len < room ? len : room;

    return len;
}
