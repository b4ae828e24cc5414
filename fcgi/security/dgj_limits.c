
/*
 * Copyright (C) Daguanjia
 *
 * dgj_limits.c: the security admin's view of the rate limiter
 * (GET /api/v1/security/limits): nginx's counters from the control
 * server's /_dgj/limit/status (Prometheus text, docs/directives.md
 * #dgj_limit_status_api) as JSON, one object per sample.  Read only;
 * nginx refuses every role but secadmin on /api/v1/security/, and so
 * does the handler.
 */


#include "dgj_core.h"
#include "dgj_control.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_limits.h"
#include "dgj_req.h"


#define DGJ_LIMITS_MAX_BYTES  (256 * 1024)  /* a status page, bounded */


static dgj_rc_t dgj_limits_get(dgj_req_t *r);

static json_t *dgj_limits_parse(const char *text);
static json_t *dgj_limits_sample(const char *line, size_t len);


const dgj_route_t  dgj_limits_routes[] = {

    { DGJ_GET, "/api/v1/security/limits", dgj_limits_get },

      dgj_null_route
};


static const char *const  dgj_limits_roles[] = { "secadmin", NULL };


/* GET /api/v1/security/limits */

static dgj_rc_t
dgj_limits_get(dgj_req_t *r)
{
    char            *text;
    size_t           len;
    json_t          *samples, *reply;
    dgj_rc_t         rc;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_limits_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_control_get(r->conf, "/_dgj/limit/status", DGJ_LIMITS_MAX_BYTES,
                         &text, &len);
    if (rc == DGJ_ERR_PEER) {
        return dgj_req_fail_code(r, DGJ_ERR_PEER, "limiter_unreachable",
                                 "the gateway's limiter status cannot be "
                                 "read now; try again in a moment");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    samples = dgj_limits_parse(text);
    free(text);

    reply = dgj_json_own(r, json_pack("{s:o*}", "samples", samples));
    if (reply == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    rc = dgj_req_audit(r, "security.limits", NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply_json(r, 200, reply);
}


/* every "name{k="v",...} value" line; comments and junk are skipped */
static json_t *
dgj_limits_parse(const char *text)
{
    json_t      *list, *s;
    const char  *p, *eol;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (p = text; *p != '\0'; p = (*eol == '\0') ? eol : eol + 1) {
        eol = strchr(p, '\n');
        if (eol == NULL) {
            eol = p + strlen(p);
        }

        if (p[0] == '#' || eol == p) {
            continue;
        }

        s = dgj_limits_sample(p, (size_t) (eol - p));
        if (s != NULL && json_array_append_new(list, s) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


static json_t *
dgj_limits_sample(const char *line, size_t len)
{
    char         buf[1024], *p, *name, *labels, *value, *k, *v, *end;
    json_t      *s, *lab;
    long long    n;

    if (len >= sizeof(buf)) {
        return NULL;
    }

    memcpy(buf, line, len);
    buf[len] = '\0';

    name = buf;
    labels = NULL;

    p = strpbrk(buf, "{ ");
    if (p == NULL) {
        return NULL;
    }

    if (*p == '{') {
        *p++ = '\0';
        labels = p;

        /* the closing brace outside quotes */
        for ( ; *p != '\0' && *p != '}'; p++) {
            if (*p == '"') {
                for (p++; *p != '\0' && *p != '"'; p++) {
                    if (*p == '\\' && p[1] != '\0') {
                        p++;
                    }
                }

                if (*p == '\0') {
                    return NULL;
                }
            }
        }

        if (*p != '}') {
            return NULL;
        }

        *p++ = '\0';

    } else {
        *p++ = '\0';
    }

    while (*p == ' ') {
        p++;
    }

    value = p;
    n = strtoll(value, &end, 10);
    if (end == value) {
        return NULL;
    }

    lab = json_object();
    s = json_pack("{s:s, s:o, s:I}", "name", name, "labels", lab,
                  "value", (json_int_t) n);
    if (s == NULL) {
        return NULL;
    }

    /* k="v" pairs; backslash escapes kept simple: \" and \\ */
    for (p = labels; p != NULL && *p != '\0'; ) {
        k = p;
        p = strchr(p, '=');
        if (p == NULL || p[1] != '"') {
            break;
        }

        *p = '\0';
        p += 2;
        v = p;
        end = p;

        for ( ; *p != '\0' && *p != '"'; p++) {
            if (*p == '\\' && p[1] != '\0') {
                p++;
            }

            *end++ = *p;
        }

        if (*p != '"') {
            break;
        }

        *end = '\0';
        p++;

        json_object_set_new(lab, k, json_string(v));

        if (*p == ',') {
            p++;
        }
    }

    return s;
}
