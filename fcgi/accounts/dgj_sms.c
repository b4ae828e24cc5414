
/*
 * Copyright (C) Daguanjia
 *
 * dgj_sms.c: the SMS gateway client (protocol in dgj_sms.h).  Owns no
 * state; the key is read from its file on each send, so a rotated key
 * is used without a restart.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_ids.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_peer.h"
#include "dgj_sms.h"

#include <openssl/crypto.h>


#define DGJ_SMS_FAILED  "短信发送失败，请稍后重试。" \
    "The SMS could not be sent; please try again in a minute."


static dgj_rc_t dgj_sms_fail(dgj_req_t *r, const char *phone,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));


dgj_rc_t
dgj_sms_send(dgj_req_t *r, const char *phone, const char *tmpl,
    const char *code)
{
    int              n;
    char             key[DGJ_CONF_SECRET], norm[DGJ_IDS_PHONE_LEN + 1];
    char            *url, *auth, *body;
    size_t           len;
    json_t          *req, *ans, *c;
    dgj_rc_t         rc;
    json_error_t     err;
    dgj_peer_res_t   res;
    const char      *headers[2], *masked;

    if (dgj_ids_phone_normalize(phone, norm) != 0
        || strcmp(norm, phone) != 0)
    {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "phone_invalid",
                                 "not a mainland mobile number");
    }

    n = r->conf != NULL ? dgj_peer_base_len(r->conf->sms_url) : 0;
    if (n == 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "sms_url not configured");
    }

    url = dgj_psprintf(r->pool, "%.*s/v1/sms/send", n, r->conf->sms_url);
    if (url == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the SMS URL");
    }

    rc = dgj_peer_secret("sms", r->conf->sms_key_file, key, sizeof(key));
    if (rc != DGJ_OK) {
        return dgj_req_fail(r, rc, "SMS key unavailable");
    }

    auth = dgj_psprintf(r->pool, "Authorization: Bearer %s", key);
    OPENSSL_cleanse(key, sizeof(key));

    req = dgj_json_own(r, json_pack("{s:s, s:s, s:{s:s}, s:s}",
                                    "phone", phone, "template", tmpl,
                                    "params", "code", code,
                                    "sign", DGJ_SMS_SIGN));
    body = req != NULL ? dgj_json_dump(r, req, &len) : NULL;

    if (auth == NULL || body == NULL) {
        if (auth != NULL) {
            OPENSSL_cleanse(auth, strlen(auth));
        }

        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the SMS");
    }

    headers[0] = auth;
    headers[1] = NULL;

    rc = dgj_peer_request(r, url, headers, body, len, &res);

    OPENSSL_cleanse(auth, strlen(auth));
    OPENSSL_cleanse(body, len);

    if (rc == DGJ_ERR_NOMEM) {
        return dgj_req_fail(r, rc, "no memory for the SMS exchange");
    }

    if (rc != DGJ_OK) {
        return dgj_sms_fail(r, phone, "no answer: %s", res.error);
    }

    ans = dgj_json_own(r, json_loadb(res.body, res.len, 0, &err));
    c = json_object_get(ans, "code");

    if (res.status != 200 || !json_is_string(c)) {
        return dgj_sms_fail(r, phone, "HTTP %ld, answer %s", res.status,
                            ans == NULL ? "not JSON"
                            : json_is_string(c) ? "with a code"
                            : "without a code");
    }

    if (strcmp(json_string_value(c), "OK") != 0) {
        return dgj_sms_fail(r, phone, "refused: code \"%.64s\", \"%.128s\"",
                            json_string_value(c),
                            json_is_string(json_object_get(ans, "message"))
                            ? json_string_value(json_object_get(ans,
                                                                "message"))
                            : "");
    }

    masked = dgj_ids_mask_phone(r->pool, phone);
    dgj_log(DGJ_LOG_INFO, "sms", "sent %s to %s", tmpl,
            masked != NULL ? masked : "-");

    return DGJ_OK;
}


/* logs why (the phone masked) and fails with the client's message */
static dgj_rc_t
dgj_sms_fail(dgj_req_t *r, const char *phone, const char *fmt, ...)
{
    char        why[512];
    va_list     ap;
    const char  *masked;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);

    masked = dgj_ids_mask_phone(r->pool, phone);
    dgj_log(DGJ_LOG_WARN, "sms", "send to %s failed: %s",
            masked != NULL ? masked : "-", why);

    return dgj_req_fail_code(r, DGJ_ERR_PEER, "sms_failed", "%s",
                             DGJ_SMS_FAILED);
}
