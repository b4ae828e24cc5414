
/*
 * Copyright (C) Daguanjia
 *
 * dgj_rc.c: the single table from dgj_rc_t to HTTP status, error code and
 * default client message.  Nothing else maps results to HTTP.
 */


#include "dgj_core.h"


typedef struct {
    int          status;
    const char  *code;
    const char  *message;
} dgj_rc_entry_t;


/* indexed by dgj_rc_t; keep in the enum's order */
static const dgj_rc_entry_t  dgj_rc_table[DGJ_RC_MAX] = {
    { 200, "ok",                 "ok" },
    { 400, "invalid_json",       "request body is not valid JSON" },
    { 400, "invalid_field",      "invalid request" },
    { 403, "forbidden",          "forbidden" },
    { 404, "not_found",          "not found" },
    { 405, "method_not_allowed", "method not allowed" },
    { 409, "conflict",           "conflict" },
    { 413, "payload_too_large",  "request body too large" },
    { 503, "db_unavailable",     "database unavailable, retry later" },
    { 500, "internal",           "internal error" },
    { 500, "internal",           "internal error" },
    { 401, "unauthenticated",    "authentication required" },
    { 429, "too_many_requests",  "too many requests, retry later" },
    { 502, "peer_failed",        "an outside service failed, retry later" },
    { 415, "unsupported_media_type", "this kind of file is not accepted" }
};


int
dgj_rc_status(dgj_rc_t rc)
{
    if ((unsigned) rc >= DGJ_RC_MAX) {
        return 500;
    }

    return dgj_rc_table[rc].status;
}


const char *
dgj_rc_code(dgj_rc_t rc)
{
    if ((unsigned) rc >= DGJ_RC_MAX) {
        return "internal";
    }

    return dgj_rc_table[rc].code;
}


const char *
dgj_rc_message(dgj_rc_t rc)
{
    if ((unsigned) rc >= DGJ_RC_MAX) {
        return "internal error";
    }

    return dgj_rc_table[rc].message;
}


const char *
dgj_rc_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default:  return "Unknown";
    }
}
