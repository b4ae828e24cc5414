
/*
 * Copyright (C) Daguanjia
 *
 * dgj_sms.h: the SMS gateway client (one-time login codes).  The gateway
 * is reached at conf->sms_url with the API key of conf->sms_key_file:
 *
 *   POST {sms_url}/v1/sms/send
 *   Authorization: Bearer <key>
 *   {"phone":"13800138000","template":"login_code",
 *    "params":{"code":"123456"},"sign":"民生大莞家"}
 *
 * and answers 200 {"code":"OK",...} when it accepted the message.
 */


#ifndef DGJ_SMS_H
#define DGJ_SMS_H


#include "dgj_core.h"
#include "dgj_req.h"


#define DGJ_SMS_SIGN  "\xe6\xb0\x91\xe7\x94\x9f\xe5\xa4\xa7" \
                      "\xe8\x8e\x9e\xe5\xae\xb6"    /* 民生大莞家 */


/*
 * Sends template tmpl with {"code": code} to phone (11 digits, as
 * dgj_ids_phone_normalize() gives it).  Returns DGJ_OK when the gateway
 * accepted the message.  Otherwise (unreachable, timeout, non-200, any
 * other "code" such as "isv.BUSINESS_LIMIT_CONTROL", unreadable answer)
 * it logs the detail (masked phone, never the code or the key) and
 * returns dgj_req_fail_code(r, DGJ_ERR_PEER, "sms_failed", ...) with a
 * try-again message; DGJ_ERR_INPUT (phone_invalid) for a bad phone;
 * DGJ_ERR_INTERNAL when the gateway is not configured.
 */
dgj_rc_t dgj_sms_send(dgj_req_t *r, const char *phone, const char *tmpl,
    const char *code);


#endif /* DGJ_SMS_H */
