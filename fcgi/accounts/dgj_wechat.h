
/*
 * Copyright (C) Daguanjia
 *
 * dgj_wechat.h: WeChat official-account web authorisation (OAuth2,
 * scope snsapi_base): the URL that sends the citizen's browser to
 * WeChat, and the exchange of the returned code for the openid:
 *
 *   {wechat_auth_url}/connect/oauth2/authorize?appid=..&redirect_uri=..
 *       &response_type=code&scope=snsapi_base&state=..#wechat_redirect
 *   GET {wechat_url}/sns/oauth2/access_token?appid=..&secret=..&code=..
 *       &grant_type=authorization_code
 *   -> {"access_token","expires_in","refresh_token","openid","scope"
 *       [,"unionid"]} or {"errcode":40029,"errmsg":"invalid code"}
 */


#ifndef DGJ_WECHAT_H
#define DGJ_WECHAT_H


#include "dgj_core.h"
#include "dgj_req.h"


#define DGJ_WECHAT_ID_LEN     64      /* openid and unionid, at most */
#define DGJ_WECHAT_STATE_LEN  128     /* WeChat's limit */
#define DGJ_WECHAT_CODE_LEN   128


/*
 * What the exchange yields.  The access and refresh tokens are not kept:
 * snsapi_base needs nothing but the openid.
 */
typedef struct {
    char  openid[DGJ_WECHAT_ID_LEN + 1];
    char  unionid[DGJ_WECHAT_ID_LEN + 1];   /* "" when absent */
    char  scope[64];                        /* "" when absent */
    long  expires_in;                       /* seconds, 0 when absent */
} dgj_wechat_user_t;


/*
 * Builds the authorise URL for redirect_uri (absolute, percent-encoded
 * here) and state (1..128 of [A-Za-z0-9], as WeChat requires: the
 * caller's random anti-CSRF value) into *url, owned by r->pool.
 * DGJ_OK; DGJ_ERR_INTERNAL when wechat_auth_url or wechat_appid is not
 * configured or state is not acceptable; DGJ_ERR_NOMEM.
 */
dgj_rc_t dgj_wechat_authorize_url(dgj_req_t *r, const char *redirect_uri,
    const char *state, char **url);

/*
 * Exchanges code (from the redirect's query) for the openid.  DGJ_OK
 * with *out filled; the openid is 1..64 of [A-Za-z0-9_-].  Failures go
 * through dgj_req_fail_code():
 *
 *   DGJ_ERR_UNAUTH "wechat_code_invalid": a malformed code, errcode
 *       40029 (invalid) or 40163 (already used): sign in again;
 *   DGJ_ERR_PEER "wechat_failed": no answer, timeout, non-200, other
 *       errcodes (40125 bad secret, 40013 bad appid, -1 busy ...), an
 *       answer without a valid openid: try again later;
 *   DGJ_ERR_INTERNAL: not configured, secret file unreadable.
 *
 * Logs errcode and errmsg, never the code, the secret or the tokens.
 */
dgj_rc_t dgj_wechat_exchange(dgj_req_t *r, const char *code,
    dgj_wechat_user_t *out);


#endif /* DGJ_WECHAT_H */
