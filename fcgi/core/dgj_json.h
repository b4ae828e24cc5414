
/*
 * Copyright (C) Daguanjia
 *
 * dgj_json.h: Jansson glue for handlers: request body parsing, pool
 * ownership of JSON roots, serialisation into the pool, JSON replies and
 * field getters that fail with a message naming the field.
 *
 * Ownership: only roots are registered with dgj_json_own(); children are
 * attached with the *_new setters, which steal the reference.  Values
 * borrowed with json_object_get() live as long as their root.
 */


#ifndef DGJ_JSON_H
#define DGJ_JSON_H


#include "dgj_core.h"
#include "dgj_req.h"

#include <jansson.h>


/*
 * Compact, UTF-8 kept as is (no \u escapes for Chinese).  Reals with 15
 * significant digits (DBL_DIG): every DECIMAL up to 15 digits, money
 * included, prints as stored (1234.56, not 1234.5599999999999).
 * dgj_json_dump() writes these bytes itself, in one pass (dgj_json_write.c);
 * json_dumpb() with these flags prints the same, and the unit test holds
 * the two together.
 */
#define DGJ_JSON_DUMP_FLAGS  (JSON_COMPACT | JSON_REAL_PRECISION(15))


/*
 * Makes r->pool own v: json_decref(v) runs at pool reset.  Returns v,
 * or NULL when v is NULL or the cleanup cannot be registered (v is then
 * released).
 */
json_t *dgj_json_own(dgj_req_t *r, json_t *v);

/*
 * Parses the request body, which must be one JSON object (duplicate keys
 * rejected).  Returns DGJ_OK with *out owned by r->pool, DGJ_ERR_JSON with
 * a message naming line, column and byte position (or saying the body is
 * not an object), or the errors of dgj_req_body().
 */
dgj_rc_t dgj_json_body(dgj_req_t *r, json_t **out);

/*
 * Serialises v into r->pool (NUL-terminated, length in *len), as
 * DGJ_JSON_DUMP_FLAGS say.  NULL when memory runs out or v nests deeper
 * than 128 levels.
 */
char *dgj_json_dump(dgj_req_t *r, const json_t *v, size_t *len);

/*
 * Replies with status and v as application/json.  v is borrowed (own it
 * with dgj_json_own() first).  DGJ_OK, DGJ_ERR_NOMEM or DGJ_ERR_INTERNAL.
 */
dgj_rc_t dgj_reply_json(dgj_req_t *r, int status, const json_t *v);

/*
 * dgj_json_body() and then dgj_json_check_keys() on it: the body of a
 * route that accepts exactly these fields.
 */
dgj_rc_t dgj_json_body_keys(dgj_req_t *r, const char *const *keys,
    json_t **out);

/*
 * Fails with DGJ_ERR_INPUT naming the first key of obj not in keys
 * (a NULL-terminated list).
 */
dgj_rc_t dgj_json_check_keys(dgj_req_t *r, const json_t *obj,
    const char *const *keys);

/*
 * Required string field: *out borrowed from obj.  DGJ_ERR_INPUT when
 * missing or not a string.
 */
dgj_rc_t dgj_json_get_str(dgj_req_t *r, const json_t *obj, const char *key,
    const char **out);

/*
 * Required integer field in min..max (a JSON integer: 5.0, "5" and true
 * are refused).  DGJ_ERR_INPUT otherwise.
 */
dgj_rc_t dgj_json_get_int(dgj_req_t *r, const json_t *obj, const char *key,
    json_int_t min, json_int_t max, json_int_t *out);


#endif /* DGJ_JSON_H */
