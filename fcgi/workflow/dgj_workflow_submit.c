
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_submit.c: POST /api/v1/appeals, the one way an appeal is
 * made, whatever the channel.  Every field is checked before anything is
 * written; the tracking number comes from the daily sequence row and the
 * appeal, its personal data, its first event and the idempotency key are
 * written in one transaction.  The query code is shown once: only its
 * HMAC is stored.  With an Idempotency-Key the code is derived from the
 * key, so a retry of a lost reply shows the same code again.
 */


#include "dgj_core.h"
#include "dgj_workflow.h"
#include "dgj_workflow_deadline.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_ids.h"
#include "dgj_json.h"
#include "dgj_log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>


#define DGJ_WF_CODE_LEN  6

/* no 0/O, 1/I/L: the code is read out and typed on phones */
static const char  dgj_wf_code_alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";


typedef struct {
    const char  *channel;
    const char  *external_id;
    const char  *category_code;
    const char  *district_code;
    const char  *address;
    const char  *title;
    const char  *content;
    const char  *name;
    const char  *phone;
    const char  *id_number;
    const char  *priority;
    int          anonymous;
    int          consent;
    int          has_coords;
    double       latitude;
    double       longitude;

    int64_t      category_id;
    const char  *appeal_type;
    int64_t      district_id;
} dgj_wf_submission_t;


static dgj_rc_t dgj_wf_submit_parse(dgj_req_t *r, const dgj_identity_t *id,
    dgj_wf_submission_t *s);
static dgj_rc_t dgj_wf_submit_lookup(dgj_req_t *r, dgj_wf_submission_t *s);
static dgj_rc_t dgj_wf_submit_replay(dgj_req_t *r, const char *caller,
    const char *key, const unsigned char *body_mac, int *done);
static dgj_rc_t dgj_wf_submit_store(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_submission_t *s, const char *caller, const char *key,
    const unsigned char *body_mac, char *tracking_no, char *code);
static dgj_rc_t dgj_wf_submit_reply(dgj_req_t *r, int status,
    const char *tracking_no, const char *code, int replayed);
static dgj_rc_t dgj_wf_submit_external(dgj_req_t *r,
    const dgj_wf_submission_t *s, int *done);
static dgj_rc_t dgj_wf_make_code(dgj_req_t *r, const char *caller,
    const char *key, const char *tracking_no, char *code);
static dgj_rc_t dgj_wf_bool(dgj_req_t *r, const json_t *obj, const char *key,
    int *out);
static int dgj_wf_landline_ok(const char *s);


static const dgj_sql_t  dgj_wf_sql_category = {
    "workflow.submit_category",
    "SELECT id, level, appeal_type, active FROM categories WHERE code = ?"
};

static const dgj_sql_t  dgj_wf_sql_district = {
    "workflow.submit_district",
    "SELECT id FROM districts WHERE code = ?"
};

static const dgj_sql_t  dgj_wf_sql_seq = {
    "workflow.submit_seq",
    "INSERT INTO appeal_days (day, last_seq) VALUES (?, LAST_INSERT_ID(1))"
    " ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + 1)"
};

static const dgj_sql_t  dgj_wf_sql_insert = {
    "workflow.submit_insert",
    "INSERT INTO appeals (tracking_no, query_code_mac, channel, external_id,"
    "       category_id, appeal_type, district_id, address, latitude,"
    "       longitude, title, content, is_anonymous, publish_consent,"
    "       priority, state, submitter_user_id, stage, stage_started_at,"
    "       due_at, warn_at, submitted_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?,"
    "         'intake', ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_wf_sql_personal = {
    "workflow.submit_personal",
    "INSERT INTO appeal_personal (appeal_id, name, phone, id_number)"
    " VALUES (?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_wf_sql_idem_get = {
    "workflow.idempotency_get",
    "SELECT HEX(k.request_mac), a.tracking_no"
    "  FROM idempotency_keys k JOIN appeals a ON a.id = k.appeal_id"
    " WHERE k.caller = ? AND k.idem_key = ?"
};

static const dgj_sql_t  dgj_wf_sql_idem_put = {
    "workflow.idempotency_put",
    "INSERT INTO idempotency_keys (caller, idem_key, request_mac, appeal_id,"
    "       created_at)"
    " VALUES (?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_wf_sql_external = {
    "workflow.submit_external",
    "SELECT tracking_no FROM appeals WHERE channel = ? AND external_id = ?"
};


dgj_rc_t
dgj_wf_submit(dgj_req_t *r)
{
    int                   done;
    char                  tracking_no[17], code[DGJ_WF_CODE_LEN + 1];
    char                 *caller;
    size_t                len;
    dgj_rc_t              rc;
    const char           *key, *body;
    unsigned int          maclen;
    unsigned char         body_mac[32];
    dgj_identity_t        id;
    dgj_wf_submission_t   s;

    dgj_identity_get(r, &id);

    rc = dgj_wf_submit_parse(r, &id, &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_submit_lookup(r, &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* an import the peer sends twice is the same appeal */
    rc = dgj_wf_submit_external(r, &s, &done);
    if (rc != DGJ_OK || done) {
        return rc;
    }

    key = dgj_req_param(r, "HTTP_IDEMPOTENCY_KEY");

    if (key != NULL) {
        len = strlen(key);

        if (len < 8 || len > 64 || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                               "abcdefghijklmnopqrstuvwxyz"
                                               "0123456789-_") != len)
        {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT,
                "invalid_idempotency_key",
                "Idempotency-Key must be 8 to 64 letters, digits, '-' or '_'");
        }
    }

    caller = dgj_palloc(r->pool, 64);
    if (caller == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (id.user_id != 0) {
        snprintf(caller, 64, "u:%" PRIu64, id.user_id);

    } else {
        /*
         * One namespace for everyone signed out: a phone changes address
         * between a lost reply and its retry.  A key is the client's
         * random UUID, and replaying one needs the identical body.
         */
        snprintf(caller, 64, "anonymous");
    }

    rc = dgj_req_body(r, &body, &len);
    if (rc != DGJ_OK) {
        return rc;
    }

    maclen = sizeof(body_mac);
    if (EVP_Digest(body, len, body_mac, &maclen, EVP_sha256(), NULL) != 1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "SHA-256 failed");
    }

    if (key != NULL) {
        rc = dgj_wf_submit_replay(r, caller, key, body_mac, &done);
        if (rc != DGJ_OK || done) {
            return rc;
        }
    }

    rc = dgj_wf_submit_store(r, &id, &s, caller, key, body_mac, tracking_no,
                             code);

    if (rc == DGJ_ERR_CONFLICT && key != NULL) {
        /* the same key raced us and won: answer as its retry */
        dgj_req_fail_clear(r);

        rc = dgj_wf_submit_replay(r, caller, key, body_mac, &done);
        if (rc != DGJ_OK || done) {
            return rc;
        }

        return dgj_req_fail(r, DGJ_ERR_CONFLICT,
                            "the submission conflicted, please retry");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_log(DGJ_LOG_INFO, "workflow", "submitted %s channel=%s", tracking_no,
            s.channel);

    return dgj_wf_submit_reply(r, 201, tracking_no, code, 0);
}


static dgj_rc_t
dgj_wf_submit_parse(dgj_req_t *r, const dgj_identity_t *id,
    dgj_wf_submission_t *s)
{
    char          phone[DGJ_IDS_PHONE_LEN + 1], *copy;
    json_t       *body, *v;
    dgj_rc_t      rc;
    const char   *lat_key;

    static const char  *keys[] = {
        "channel", "external_id", "category_code", "district_code",
        "address", "latitude", "longitude", "title", "content", "name",
        "phone", "id_number", "anonymous", "publish_consent", "priority",
        NULL
    };

    memset(s, 0, sizeof(dgj_wf_submission_t));

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_req_str(r, body, "channel", 16, &s->channel))
        != DGJ_OK)
    {
        return rc;
    }

    if (strcmp(s->channel, "portal") != 0 && strcmp(s->channel, "wechat") != 0
        && strcmp(s->channel, "app") != 0 && strcmp(s->channel, "hotline") != 0
        && strcmp(s->channel, "govplatform") != 0)
    {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_channel",
            "\"channel\" must be portal, wechat, app, hotline or govplatform");
    }

    /* calls are typed in by intake; platform pushes come from a service */
    if (strcmp(s->channel, "hotline") == 0
        && !dgj_identity_has_role(id, "intake"))
    {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "channel_forbidden",
            "only intake operators submit hotline appeals");
    }

    if (strcmp(s->channel, "govplatform") == 0
        && !dgj_identity_has_role(id, "ops")
        && !dgj_identity_has_role(id, "intake"))
    {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "channel_forbidden",
            "only the platform interface submits govplatform appeals");
    }

    if ((rc = dgj_wf_text(r, body, "external_id", 0, 64, 0, &s->external_id))
        != DGJ_OK)
    {
        return rc;
    }

    if (s->external_id != NULL && strcmp(s->channel, "hotline") != 0
        && strcmp(s->channel, "govplatform") != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
            "\"external_id\" is for hotline and govplatform imports only");
    }

    if ((rc = dgj_accounts_req_str(r, body, "category_code", 16,
                                   &s->category_code)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "district_code", 12,
                                      &s->district_code)) != DGJ_OK
        || (rc = dgj_wf_text(r, body, "address", 0, 200, 0, &s->address))
           != DGJ_OK
        || (rc = dgj_wf_text(r, body, "title", 4, 100, 0, &s->title))
           != DGJ_OK
        || (rc = dgj_wf_text(r, body, "content", 10, 4000,
                             DGJ_WF_TEXT_MULTILINE, &s->content)) != DGJ_OK
        || (rc = dgj_wf_text(r, body, "name", 0, 50, 0, &s->name)) != DGJ_OK
        || (rc = dgj_wf_bool(r, body, "anonymous", &s->anonymous)) != DGJ_OK
        || (rc = dgj_wf_bool(r, body, "publish_consent", &s->consent))
           != DGJ_OK)
    {
        return rc;
    }

    if (s->address == NULL) {
        s->address = "";
    }

    if (s->name == NULL) {
        s->name = "";
    }

    /* the phone is how the department calls back: always required */
    if ((rc = dgj_accounts_req_str(r, body, "phone", 32, &s->phone))
        != DGJ_OK)
    {
        return rc;
    }

    if (dgj_ids_phone_normalize(s->phone, phone) == 0) {
        copy = dgj_pstrndup(r->pool, phone, strlen(phone));
        if (copy == NULL) {
            return DGJ_ERR_NOMEM;
        }

        s->phone = copy;

    } else if (!dgj_wf_landline_ok(s->phone)) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_phone",
            "\"phone\" must be a mainland mobile number (11 digits from 13"
            " to 19) or a landline with its area code");
    }

    if ((rc = dgj_accounts_opt_str(r, body, "id_number", 32, &s->id_number))
        != DGJ_OK)
    {
        return rc;
    }

    if (s->id_number != NULL && s->id_number[0] != '\0') {
        copy = dgj_palloc(r->pool, DGJ_IDS_RESIDENT_LEN + 1);
        if (copy == NULL) {
            return DGJ_ERR_NOMEM;
        }

        if (dgj_ids_resident_normalize(s->id_number,
                                       (time_t) dgj_clock_now(r->conf), copy)
            != 0)
        {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_id_number",
                "\"id_number\" is not a valid resident identity number");
        }

        s->id_number = copy;

    } else {
        s->id_number = NULL;
    }

    if ((rc = dgj_accounts_opt_str(r, body, "priority", 8, &s->priority))
        != DGJ_OK)
    {
        return rc;
    }

    if (s->priority == NULL) {
        s->priority = "normal";

    } else if (strcmp(s->priority, "normal") != 0
               && strcmp(s->priority, "urgent") != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"priority\" must be normal or urgent");

    } else if (strcmp(s->priority, "urgent") == 0
               && !dgj_identity_has_role(id, "intake")
               && !dgj_identity_has_role(id, "ops"))
    {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "priority_forbidden",
            "only intake marks an appeal urgent");
    }

    /* coordinates come as a pair of numbers or not at all */
    v = json_object_get(body, "latitude");
    lat_key = v != NULL && !json_is_null(v) ? "latitude" : NULL;

    if (lat_key != NULL
        || (json_object_get(body, "longitude") != NULL
            && !json_is_null(json_object_get(body, "longitude"))))
    {
        json_t  *lo = json_object_get(body, "longitude");

        if (!json_is_number(v) || !json_is_number(lo)) {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                "\"latitude\" and \"longitude\" must both be numbers");
        }

        s->latitude = json_number_value(v);
        s->longitude = json_number_value(lo);

        if (s->latitude < -90 || s->latitude > 90
            || s->longitude < -180 || s->longitude > 180)
        {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "coordinates are out of range");
        }

        s->has_coords = 1;
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_submit_lookup(dgj_req_t *r, dgj_wf_submission_t *s)
{
    int64_t      level, active;
    dgj_rc_t     rc;
    const char  *type;

    rc = dgj_db_row(r, &dgj_wf_sql_category,
                    DGJ_ARGS(DGJ_STR(s->category_code)),
                    DGJ_OUTS(DGJ_OUT_I64(&s->category_id),
                             DGJ_OUT_I64(&level), DGJ_OUT_STR(&type),
                             DGJ_OUT_I64(&active)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_category",
                                 "\"category_code\" names no category");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (level != 2 || type == NULL) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "category_not_leaf",
            "\"category_code\" is a topic: choose one of its sub-categories");
    }

    if (!active) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "category_inactive",
                                 "this category is no longer in use");
    }

    s->appeal_type = type;

    rc = dgj_db_row(r, &dgj_wf_sql_district,
                    DGJ_ARGS(DGJ_STR(s->district_code)),
                    DGJ_OUTS(DGJ_OUT_I64(&s->district_id)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_district",
                                 "\"district_code\" names no town or"
                                 " subdistrict");
    }

    return rc;
}


static dgj_rc_t
dgj_wf_submit_external(dgj_req_t *r, const dgj_wf_submission_t *s, int *done)
{
    dgj_rc_t     rc;
    const char  *tracking_no;

    *done = 0;

    if (s->external_id == NULL) {
        return DGJ_OK;
    }

    rc = dgj_db_row(r, &dgj_wf_sql_external,
                    DGJ_ARGS(DGJ_STR(s->channel), DGJ_STR(s->external_id)),
                    DGJ_OUTS(DGJ_OUT_STR(&tracking_no)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return DGJ_OK;
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    *done = 1;

    /* the peer's citizen got no code from us: none is shown again */
    return dgj_wf_submit_reply(r, 200, tracking_no, NULL, 1);
}


static dgj_rc_t
dgj_wf_submit_replay(dgj_req_t *r, const char *caller, const char *key,
    const unsigned char *body_mac, int *done)
{
    char         hex[65], code[DGJ_WF_CODE_LEN + 1];
    size_t       i;
    dgj_rc_t     rc;
    const char  *stored, *tracking_no;

    *done = 0;

    rc = dgj_db_row(r, &dgj_wf_sql_idem_get,
                    DGJ_ARGS(DGJ_STR(caller), DGJ_STR(key)),
                    DGJ_OUTS(DGJ_OUT_STR(&stored),
                             DGJ_OUT_STR(&tracking_no)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return DGJ_OK;
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    for (i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02X", body_mac[i]);
    }

    if (stored == NULL || CRYPTO_memcmp(stored, hex, 64) != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "idempotency_mismatch",
            "this Idempotency-Key was used for a different submission");
    }

    rc = dgj_wf_make_code(r, caller, key, tracking_no, code);
    if (rc != DGJ_OK) {
        return rc;
    }

    *done = 1;

    return dgj_wf_submit_reply(r, 200, tracking_no, code, 1);
}


static dgj_rc_t
dgj_wf_submit_store(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_submission_t *s, const char *caller, const char *key,
    const unsigned char *body_mac, char *tracking_no, char *code)
{
    int                     y, m, d;
    char                    day[11];
    int64_t                 now, due, warn, owner;
    uint64_t                seq, appeal_id;
    dgj_rc_t                rc;
    const char             *now_s;
    unsigned char           mac[32];
    dgj_wf_event_t          ev;
    dgj_wf_deadline_key_t   dk;

    now = dgj_clock_now(r->conf);
    now_s = dgj_wf_time(r, now);

    /* the account that follows and rates it; staff typing a call are not */
    owner = dgj_identity_has_role(id, "citizen")
            || dgj_identity_has_role(id, "organisation")
            ? (int64_t) id->user_id : 0;

    /* the tracking number's date is the Beijing date of submission */
    memcpy(day, now_s, 10);
    day[10] = '\0';
    sscanf(day, "%4d-%2d-%2d", &y, &m, &d);

    dk.stage = "intake";
    dk.category_id = s->category_id;
    dk.appeal_type = s->appeal_type;
    dk.priority = s->priority;

    rc = dgj_wf_deadline(r, &dk, now, &due, &warn);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_wf_sql_seq, DGJ_ARGS(DGJ_STR(day)), NULL, &seq);
    if (rc != DGJ_OK) {
        goto failed;
    }

    if (seq < 1 || seq > 999999) {
        rc = dgj_req_fail(r, DGJ_ERR_INTERNAL,
                          "daily sequence exhausted on %s", day);
        goto failed;
    }

    snprintf(tracking_no, 17, "DG%04d%02d%02d%06u", y, m, d, (unsigned) seq);

    rc = dgj_wf_make_code(r, caller, key, tracking_no, code);
    if (rc != DGJ_OK) {
        goto failed;
    }

    rc = dgj_wf_query_mac(r, code, mac);
    if (rc != DGJ_OK) {
        goto failed;
    }

    rc = dgj_db_exec(r, &dgj_wf_sql_insert,
        DGJ_ARGS(DGJ_STR(tracking_no),
                 DGJ_STRN((const char *) mac, sizeof(mac)),
                 DGJ_STR(s->channel),
                 s->external_id ? DGJ_STR(s->external_id) : DGJ_NULL,
                 DGJ_I64(s->category_id),
                 DGJ_STR(s->appeal_type),
                 DGJ_I64(s->district_id),
                 DGJ_STR(s->address),
                 s->has_coords ? DGJ_F64(s->latitude) : DGJ_NULL,
                 s->has_coords ? DGJ_F64(s->longitude) : DGJ_NULL,
                 DGJ_STR(s->title),
                 DGJ_STR(s->content),
                 DGJ_I64(s->anonymous),
                 DGJ_I64(s->consent),
                 DGJ_STR(s->priority),
                 owner != 0 ? DGJ_I64(owner) : DGJ_NULL,
                 DGJ_STR(now_s),
                 DGJ_STR(dgj_wf_time(r, due)),
                 DGJ_STR(dgj_wf_time(r, warn)),
                 DGJ_STR(now_s),
                 DGJ_STR(now_s)),
        NULL, &appeal_id);
    if (rc != DGJ_OK) {
        goto failed;
    }

    rc = dgj_db_exec(r, &dgj_wf_sql_personal,
                     DGJ_ARGS(DGJ_I64((int64_t) appeal_id),
                              DGJ_STR(s->name), DGJ_STR(s->phone),
                              s->id_number ? DGJ_STR(s->id_number)
                                           : DGJ_NULL),
                     NULL, NULL);
    if (rc != DGJ_OK) {
        goto failed;
    }

    memset(&ev, 0, sizeof(ev));
    ev.appeal_id = (int64_t) appeal_id;
    ev.actor = (int64_t) id->user_id;
    ev.role = id->user_id == 0 ? "anonymous"
              : strcmp(s->channel, "hotline") == 0 ? "intake"
              : dgj_identity_has_role(id, "citizen") ? "citizen"
              : dgj_identity_has_role(id, "organisation") ? "organisation"
              : dgj_identity_has_role(id, "ops") ? "ops"
              : "staff";
    ev.dept = (int64_t) id->dept_id;
    ev.action = "submit";
    ev.from = -1;
    ev.to = DGJ_WF_SUBMITTED;
    ev.public = 1;
    ev.due_set = due;

    rc = dgj_wf_event(r, &ev, now);
    if (rc != DGJ_OK) {
        goto failed;
    }

    if (key != NULL) {
        rc = dgj_db_exec(r, &dgj_wf_sql_idem_put,
                         DGJ_ARGS(DGJ_STR(caller), DGJ_STR(key),
                                  DGJ_STRN((const char *) body_mac, 32),
                                  DGJ_I64((int64_t) appeal_id),
                                  DGJ_STR(now_s)),
                         NULL, NULL);
        if (rc != DGJ_OK) {
            goto failed;
        }
    }

    rc = dgj_db_commit(r);
    if (rc != DGJ_OK) {
        goto failed;
    }

    return DGJ_OK;

failed:

    dgj_db_rollback(r);
    OPENSSL_cleanse(code, DGJ_WF_CODE_LEN + 1);

    return rc;
}


static dgj_rc_t
dgj_wf_submit_reply(dgj_req_t *r, int status, const char *tracking_no,
    const char *code, int replayed)
{
    json_t    *reply;
    dgj_rc_t   rc;

    rc = dgj_wf_summary(r, tracking_no, &reply);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_object_set_new(reply, "query_code",
                            code ? json_string(code) : json_null()) != 0
        || json_object_set_new(reply, "replayed", json_boolean(replayed))
           != 0)
    {
        return DGJ_ERR_NOMEM;
    }

    if (dgj_req_audit(r, "appeal.submit", tracking_no) != DGJ_OK
        || dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, status, reply);
}


/*
 * Random, or with an Idempotency-Key the HMAC of caller, key and number,
 * so that the retry of a lost reply shows the code the first one made.
 */
static dgj_rc_t
dgj_wf_make_code(dgj_req_t *r, const char *caller, const char *key,
    const char *tracking_no, char *code)
{
    int            n;
    char           msg[256];
    size_t         i;
    unsigned int   len;
    unsigned char  bytes[32];
    dgj_rc_t       rc;
    const char    *secret;

    if (key == NULL) {
        if (RAND_bytes(bytes, DGJ_WF_CODE_LEN) != 1) {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "RAND_bytes failed");
        }

    } else {
        rc = dgj_wf_query_key(r, &secret);
        if (rc != DGJ_OK) {
            return rc;
        }

        n = snprintf(msg, sizeof(msg), "code|%s|%s|%s", caller, key,
                     tracking_no);
        len = sizeof(bytes);

        if (HMAC(EVP_sha256(), secret, (int) strlen(secret),
                 (const unsigned char *) msg, (size_t) n, bytes, &len)
            == NULL)
        {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "HMAC failed");
        }
    }

    /* 31 symbols: the modulo bias of a byte is under 1 %, harmless here */
    for (i = 0; i < DGJ_WF_CODE_LEN; i++) {
        code[i] = dgj_wf_code_alphabet[bytes[i]
                                       % (sizeof(dgj_wf_code_alphabet) - 1)];
    }

    code[DGJ_WF_CODE_LEN] = '\0';
    OPENSSL_cleanse(bytes, sizeof(bytes));

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_bool(dgj_req_t *r, const json_t *obj, const char *key, int *out)
{
    json_t  *v;

    *out = 0;
    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return DGJ_OK;
    }

    if (!json_is_boolean(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be true or false",
                            key);
    }

    *out = json_is_true(v);

    return DGJ_OK;
}


/* 0AAA-NNNNNNN(N) or 0AANNNNNNNN: an area code and a local number */
static int
dgj_wf_landline_ok(const char *s)
{
    size_t  digits, i;

    if (s[0] != '0') {
        return 0;
    }

    digits = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            digits++;

        } else if (s[i] != '-' || i < 3 || i > 4) {
            return 0;
        }
    }

    return digits >= 10 && digits <= 12;
}
