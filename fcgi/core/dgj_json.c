
/*
 * Copyright (C) Daguanjia
 *
 * dgj_json.c: body parsing with positioned errors, json_decref cleanups
 * on r->pool, JSON replies and the typed field getters (serialisation:
 * dgj_json_write.c).
 */


#include "dgj_core.h"
#include "dgj_json.h"


static void dgj_json_cleanup(void *data);


json_t *
dgj_json_own(dgj_req_t *r, json_t *v)
{
    dgj_pool_cleanup_t  *c;

    if (v == NULL) {
        return NULL;
    }

    c = dgj_pool_cleanup_add(r->pool, 0);
    if (c == NULL) {
        json_decref(v);
        return NULL;
    }

    c->handler = dgj_json_cleanup;
    c->data = v;

    return v;
}


dgj_rc_t
dgj_json_body(dgj_req_t *r, json_t **out)
{
    json_t        *v;
    size_t         len;
    dgj_rc_t       rc;
    const char    *body;
    json_error_t   error;

    rc = dgj_req_body(r, &body, &len);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (len == 0) {
        return dgj_req_fail(r, DGJ_ERR_JSON, "request body is empty");
    }

    v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    if (v == NULL) {
        return dgj_req_fail(r, DGJ_ERR_JSON,
                            "invalid JSON at line %d, column %d "
                            "(position %d): %s", error.line, error.column,
                            error.position, error.text);
    }

    if (dgj_json_own(r, v) == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the body");
    }

    /* every request body of the API is one object; anything else is not
     * the JSON the route speaks */
    if (!json_is_object(v)) {
        return dgj_req_fail(r, DGJ_ERR_JSON,
                            "request body must be a JSON object");
    }

    *out = v;

    return DGJ_OK;
}


dgj_rc_t
dgj_reply_json(dgj_req_t *r, int status, const json_t *v)
{
    char    *buf;
    size_t   len;

    if (v == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no reply value");
    }

    buf = dgj_json_dump(r, v, &len);
    if (buf == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "cannot serialise the reply");
    }

    return dgj_reply(r, status, "application/json; charset=utf-8", buf,
                     len);
}


dgj_rc_t
dgj_json_body_keys(dgj_req_t *r, const char *const *keys, json_t **out)
{
    dgj_rc_t  rc;

    rc = dgj_json_body(r, out);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_json_check_keys(r, *out, keys);
}


dgj_rc_t
dgj_json_check_keys(dgj_req_t *r, const json_t *obj, const char *const *keys)
{
    size_t              i;
    json_t             *v;
    const char         *key;

    json_object_foreach((json_t *) obj, key, v) {
        (void) v;

        for (i = 0; keys[i] != NULL; i++) {
            if (strcmp(keys[i], key) == 0) {
                break;
            }
        }

        if (keys[i] == NULL) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "unknown field \"%s\"",
                                key);
        }
    }

    return DGJ_OK;
}


dgj_rc_t
dgj_json_get_str(dgj_req_t *r, const json_t *obj, const char *key,
    const char **out)
{
    json_t  *v;

    v = json_object_get(obj, key);
    if (v == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" is required", key);
    }

    if (!json_is_string(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be a string",
                            key);
    }

    *out = json_string_value(v);

    return DGJ_OK;
}


dgj_rc_t
dgj_json_get_int(dgj_req_t *r, const json_t *obj, const char *key,
    json_int_t min, json_int_t max, json_int_t *out)
{
    json_t      *v;
    json_int_t   n;

    v = json_object_get(obj, key);
    if (v == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" is required", key);
    }

    if (!json_is_integer(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be an integer",
                            key);
    }

    n = json_integer_value(v);

    if (n < min || n > max) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"%s\" must be between %" JSON_INTEGER_FORMAT
                            " and %" JSON_INTEGER_FORMAT, key, min, max);
    }

    *out = n;

    return DGJ_OK;
}


static void
dgj_json_cleanup(void *data)
{
    json_decref((json_t *) data);
}
