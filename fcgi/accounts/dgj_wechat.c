
/*
 * Copyright (C) Daguanjia
 *
 * dgj_wechat.c: WeChat OAuth2 web authorisation client (protocol in
 * dgj_wechat.h).  Owns no state; the AppSecret is read from its file on
 * each exchange and wiped after.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_peer.h"
#include "dgj_wechat.h"

#include <openssl/crypto.h>


#define DGJ_WECHAT_FAILED  "微信登录暂时不可用，请稍后重试。" \
    "WeChat sign-in is not available right now; please try again later."

#define DGJ_WECHAT_CODE_INVALID  "微信授权已失效，请重新登录。" \
    "The WeChat authorisation has expired or was already used; " \
    "please sign in again."


static int dgj_wechat_token_ok(const char *s, size_t max, int extra);
static dgj_rc_t dgj_wechat_copy(const json_t *ans, const char *key,
    char *dst, size_t size, int required);


dgj_rc_t
dgj_wechat_authorize_url(dgj_req_t *r, const char *redirect_uri,
    const char *state, char **url)
{
    int    n;
    char  *appid, *redirect;

    n = r->conf != NULL ? dgj_peer_base_len(r->conf->wechat_auth_url) : 0;

    if (n == 0 || r->conf->wechat_appid[0] == '\0') {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL,
                            "wechat_auth_url or wechat_appid not configured");
    }

    if (!dgj_wechat_token_ok(state, DGJ_WECHAT_STATE_LEN, 0)) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL,
                            "WeChat state must be 1..128 of [A-Za-z0-9]");
    }

    appid = dgj_req_escape(r->pool, r->conf->wechat_appid);
    redirect = dgj_req_escape(r->pool, redirect_uri);

    *url = (appid == NULL || redirect == NULL) ? NULL
           : dgj_psprintf(r->pool, "%.*s/connect/oauth2/authorize?appid=%s"
                          "&redirect_uri=%s&response_type=code"
                          "&scope=snsapi_base&state=%s#wechat_redirect",
                          n, r->conf->wechat_auth_url, appid, redirect,
                          state);

    if (*url == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the URL");
    }

    return DGJ_OK;
}


dgj_rc_t
dgj_wechat_exchange(dgj_req_t *r, const char *code, dgj_wechat_user_t *out)
{
    int             n;
    char            secret[DGJ_CONF_SECRET];
    char           *url, *appid, *esc;
    json_t         *ans, *e, *ex;
    dgj_rc_t        rc;
    json_int_t      errcode;
    json_error_t    err;
    dgj_peer_res_t  res;

    memset(out, 0, sizeof(dgj_wechat_user_t));

    if (code == NULL || !dgj_wechat_token_ok(code, DGJ_WECHAT_CODE_LEN, 1)) {
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "wechat_code_invalid",
                                 "%s", DGJ_WECHAT_CODE_INVALID);
    }

    n = r->conf != NULL ? dgj_peer_base_len(r->conf->wechat_url) : 0;

    if (n == 0 || r->conf->wechat_appid[0] == '\0') {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL,
                            "wechat_url or wechat_appid not configured");
    }

    rc = dgj_peer_secret("wechat", r->conf->wechat_secret_file, secret,
                         sizeof(secret));
    if (rc != DGJ_OK) {
        return dgj_req_fail(r, rc, "WeChat secret unavailable");
    }

    appid = dgj_req_escape(r->pool, r->conf->wechat_appid);
    esc = dgj_req_escape(r->pool, secret);
    OPENSSL_cleanse(secret, sizeof(secret));

    url = (appid == NULL || esc == NULL) ? NULL
          : dgj_psprintf(r->pool, "%.*s/sns/oauth2/access_token?appid=%s"
                         "&secret=%s&code=%s&grant_type=authorization_code",
                         n, r->conf->wechat_url, appid, esc, code);

    if (esc != NULL) {
        OPENSSL_cleanse(esc, strlen(esc));
    }

    if (url == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the URL");
    }

    rc = dgj_peer_request(r, url, NULL, NULL, 0, &res);
    OPENSSL_cleanse(url, strlen(url));

    if (rc == DGJ_ERR_NOMEM) {
        return dgj_req_fail(r, rc, "no memory for the WeChat exchange");
    }

    if (rc != DGJ_OK) {
        dgj_log(DGJ_LOG_WARN, "wechat", "exchange failed: no answer: %s",
                res.error);
        goto failed;
    }

    ans = dgj_json_own(r, json_loadb(res.body, res.len, 0, &err));
    OPENSSL_cleanse(res.body, res.len);

    if (res.status != 200 || !json_is_object(ans)) {
        dgj_log(DGJ_LOG_WARN, "wechat", "exchange failed: HTTP %ld, %s",
                res.status, ans == NULL ? "not JSON" : "not an object");
        goto failed;
    }

    e = json_object_get(ans, "errcode");
    errcode = json_is_integer(e) ? json_integer_value(e) : 0;

    if (e != NULL && (!json_is_integer(e) || errcode != 0)) {
        e = json_object_get(ans, "errmsg");
        dgj_log(DGJ_LOG_WARN, "wechat", "exchange refused: errcode %lld, "
                "errmsg \"%.128s\"", (long long) errcode,
                json_is_string(e) ? json_string_value(e) : "");

        /* 40029 invalid code, 40163 code been used: the user's to redo */
        if (errcode == 40029 || errcode == 40163) {
            return dgj_req_fail_code(r, DGJ_ERR_UNAUTH,
                                     "wechat_code_invalid", "%s",
                                     DGJ_WECHAT_CODE_INVALID);
        }

        goto failed;
    }

    if (dgj_wechat_copy(ans, "openid", out->openid, sizeof(out->openid), 1)
        != DGJ_OK
        || dgj_wechat_copy(ans, "unionid", out->unionid,
                           sizeof(out->unionid), 0) != DGJ_OK)
    {
        dgj_log(DGJ_LOG_WARN, "wechat",
                "exchange failed: no valid openid in the answer");
        goto failed;
    }

    e = json_object_get(ans, "scope");
    if (json_is_string(e)) {
        snprintf(out->scope, sizeof(out->scope), "%s", json_string_value(e));
    }

    ex = json_object_get(ans, "expires_in");
    out->expires_in = json_is_integer(ex) ? (long) json_integer_value(ex)
                                          : 0;

    /* the tokens are not kept: drop them from the parsed answer now */
    json_object_del(ans, "access_token");
    json_object_del(ans, "refresh_token");

    return DGJ_OK;

failed:

    memset(out, 0, sizeof(dgj_wechat_user_t));

    return dgj_req_fail_code(r, DGJ_ERR_PEER, "wechat_failed", "%s",
                             DGJ_WECHAT_FAILED);
}


/* 1 when s is 1..max of [A-Za-z0-9], plus '_' and '-' when extra */
static int
dgj_wechat_token_ok(const char *s, size_t max, int extra)
{
    size_t  i;

    for (i = 0; s[i] != '\0'; i++) {
        if (i == max) {
            return 0;
        }

        if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
            || (s[i] >= '0' && s[i] <= '9')
            || (extra && (s[i] == '_' || s[i] == '-')))
        {
            continue;
        }

        return 0;
    }

    return i > 0;
}


/* an id field of the answer: [A-Za-z0-9_-], at most size - 1 */
static dgj_rc_t
dgj_wechat_copy(const json_t *ans, const char *key, char *dst, size_t size,
    int required)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(ans, key);

    if (v == NULL && !required) {
        return DGJ_OK;
    }

    s = json_string_value(v);

    if (s == NULL || !dgj_wechat_token_ok(s, size - 1, 1)) {
        return DGJ_ERR_PEER;
    }

    memcpy(dst, s, strlen(s) + 1);

    return DGJ_OK;
}
