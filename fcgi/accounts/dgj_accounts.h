
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts.h: the accounts domain (users, roles, departments, logins,
 * sessions).  The route table is public; the rest is shared by the files
 * of fcgi/accounts only:
 *
 *   dgj_accounts.c        routes, security policy, events, small helpers
 *   dgj_session.c         sessions, tokens, cookies, revocation
 *   dgj_accounts_login.c  password logins, refresh, resume, logout, me,
 *                         password change
 *   dgj_accounts_public.c SMS and WeChat sign-in, organisation sign-up
 *   dgj_accounts_totp.c   TOTP enrolment
 *   dgj_accounts_admin.c  users, roles, departments, organisations, policy
 *   dgj_accounts_demo.c   the demo accounts made at first run
 */


#ifndef DGJ_ACCOUNTS_H
#define DGJ_ACCOUNTS_H


#include "dgj_core.h"
#include "dgj_password.h"
#include "dgj_router.h"

#include <jansson.h>


extern const dgj_route_t  dgj_accounts_routes[];


/* the security_policy table, read once per request that needs it */
typedef struct {
    int  password_max_age_days;
    int  password_history;
    int  lockout_threshold;
    int  lockout_minutes;
    int  staff_idle_seconds;
    int  staff_absolute_seconds;
    int  public_idle_seconds;
    int  public_absolute_seconds;
    int  staff_token_seconds;
    int  public_token_seconds;
} dgj_accounts_policy_t;


/* one account row as the login paths need it */
typedef struct {
    int64_t      id;
    const char  *kind;              /* staff, citizen, organisation */
    const char  *username;          /* NULL for citizens */
    const char  *status;            /* active, disabled */
    int64_t      dept_id;           /* 0: none */
    const char  *display_name;
    const char  *password_hash;     /* NULL: no password login */
    int64_t      password_changed;  /* unix seconds, 0 never */
    int64_t      must_change;
    const char  *totp_secret;       /* base32 or NULL */
    int64_t      totp_last_step;
    int64_t      failed_logins;
    int64_t      locked_until;      /* unix seconds, 0 not locked */
} dgj_accounts_user_t;


dgj_rc_t dgj_accounts_policy(dgj_req_t *r, dgj_accounts_policy_t *p);

/*
 * Appends one auth_events row.  subject is shown to the auditor as is:
 * mask it first.  user_id/actor_id 0 mean none.
 */
dgj_rc_t dgj_accounts_event(dgj_req_t *r, const char *event,
    int64_t user_id, int64_t actor_id, const char *subject,
    const char *detail);

/* REMOTE_ADDR, or "" */
const char *dgj_accounts_client_ip(dgj_req_t *r);

/* The user's role names "a,b" (r->pool), "" when none. */
dgj_rc_t dgj_accounts_user_roles(dgj_req_t *r, int64_t user_id,
    const char **roles);

/* Loads a user by id into u (strings in r->pool); DGJ_ERR_NOT_FOUND. */
dgj_rc_t dgj_accounts_user_by_id(dgj_req_t *r, int64_t id,
    dgj_accounts_user_t *u);

/* Loads a staff or organisation user by username; DGJ_ERR_NOT_FOUND. */
dgj_rc_t dgj_accounts_user_by_name(dgj_req_t *r, const char *username,
    dgj_accounts_user_t *u);

/* SHA-256 of the string s into out (32 bytes): stored secrets, codes */
void dgj_accounts_sha256(const char *s, unsigned char *out);

/* n random bytes as 2n lower-case hex chars into out (2n + 1 bytes). */
dgj_rc_t dgj_accounts_random_hex(dgj_req_t *r, char *out, size_t n);

/*
 * An optional string field: NULL when absent, DGJ_ERR_INPUT when present
 * and not a string or longer than max bytes (or not UTF-8 text).
 */
dgj_rc_t dgj_accounts_opt_str(dgj_req_t *r, const json_t *obj,
    const char *key, size_t max, const char **out);

/* A required string field of 1..max bytes. */
dgj_rc_t dgj_accounts_req_str(dgj_req_t *r, const json_t *obj,
    const char *key, size_t max, const char **out);

/*
 * A decimal query argument name in min..max (*out = def when absent);
 * DGJ_ERR_INPUT naming the argument and the range otherwise.
 */
dgj_rc_t dgj_accounts_arg_int(dgj_req_t *r, const char *name, int64_t def,
    int64_t min, int64_t max, int64_t *out);

/* The {id} path segment as a positive id; DGJ_ERR_NOT_FOUND otherwise. */
dgj_rc_t dgj_accounts_capture_id(dgj_req_t *r, int64_t *id);

/* "client": "app" in a login body: tokens in the reply, no cookies. */
dgj_rc_t dgj_accounts_client_is_app(dgj_req_t *r, const json_t *body,
    int *app);

/* A value of the Cookie header by name (r->pool), or NULL. */
const char *dgj_accounts_cookie(dgj_req_t *r, const char *name);

/* A safe local redirect target: "/..." but not "//" nor "/\", else "/". */
const char *dgj_accounts_local_next(const char *next);

/* 1 when name fits ^[a-z][a-z0-9_.-]{2,63}$ (as the users table checks) */
int dgj_accounts_username_ok(const char *name);

/* Masks a login name for events and logs: "ab***" */
const char *dgj_accounts_mask_name(dgj_req_t *r, const char *name);


/*
 * dgj_accounts_admin.c: a random initial password that passes the staff
 * policy (password, size >= 17) and its Argon2id hash (hash, hsize).
 */
dgj_rc_t dgj_accounts_new_password(dgj_req_t *r, char *password,
    size_t size, char *hash, size_t hsize);

/*
 * A new TOTP secret for username: base32 in *secret32 (r->pool); the
 * secret and its otpauth:// URI are added to reply (shown once).
 */
dgj_rc_t dgj_accounts_new_totp(dgj_req_t *r, const char *username,
    json_t *reply, const char **secret32);


/*
 * dgj_accounts_login.c: opens a session for u after a successful sign-in
 * (method password, password_totp, sms, wechat; level 1 or 2) and replies
 * 200 with the user and session (app: with the tokens), or, with status
 * 303, redirects to next with the cookies set.
 */
dgj_rc_t dgj_accounts_finish_login(dgj_req_t *r,
    const dgj_accounts_user_t *u, const char *method, int level, int app,
    int status, const char *next);

/* The Argon2id cost of the pool config (argon2_m_kib, argon2_t, p = 1). */
dgj_password_params_t dgj_accounts_argon2_params(dgj_req_t *r);

/* A redirect (302, 303) to a local location, not cached. */
dgj_rc_t dgj_accounts_redirect(dgj_req_t *r, int status,
    const char *location);


/* handlers: dgj_accounts_login.c and dgj_accounts_public.c */
dgj_rc_t dgj_accounts_login(dgj_req_t *r);
dgj_rc_t dgj_accounts_sms_send(dgj_req_t *r);
dgj_rc_t dgj_accounts_sms_login(dgj_req_t *r);
dgj_rc_t dgj_accounts_wechat_start(dgj_req_t *r);
dgj_rc_t dgj_accounts_wechat_callback(dgj_req_t *r);
dgj_rc_t dgj_accounts_wechat_login(dgj_req_t *r);
dgj_rc_t dgj_accounts_refresh(dgj_req_t *r);
dgj_rc_t dgj_accounts_resume(dgj_req_t *r);
dgj_rc_t dgj_accounts_logout(dgj_req_t *r);
dgj_rc_t dgj_accounts_me(dgj_req_t *r);
dgj_rc_t dgj_accounts_check(dgj_req_t *r);
dgj_rc_t dgj_accounts_password(dgj_req_t *r);
dgj_rc_t dgj_accounts_register_org(dgj_req_t *r);
dgj_rc_t dgj_accounts_totp_enrol(dgj_req_t *r);
dgj_rc_t dgj_accounts_totp_confirm(dgj_req_t *r);

/* handlers: dgj_accounts_admin.c */
dgj_rc_t dgj_accounts_roles_list(dgj_req_t *r);
dgj_rc_t dgj_accounts_users_list(dgj_req_t *r);
dgj_rc_t dgj_accounts_users_create(dgj_req_t *r);
dgj_rc_t dgj_accounts_users_get(dgj_req_t *r);
dgj_rc_t dgj_accounts_users_update(dgj_req_t *r);
dgj_rc_t dgj_accounts_users_roles(dgj_req_t *r);
dgj_rc_t dgj_accounts_users_reset(dgj_req_t *r);
dgj_rc_t dgj_accounts_depts_list(dgj_req_t *r);
dgj_rc_t dgj_accounts_depts_create(dgj_req_t *r);
dgj_rc_t dgj_accounts_depts_update(dgj_req_t *r);
dgj_rc_t dgj_accounts_orgs_list(dgj_req_t *r);
dgj_rc_t dgj_accounts_orgs_verify(dgj_req_t *r);
dgj_rc_t dgj_accounts_policy_get(dgj_req_t *r);
dgj_rc_t dgj_accounts_policy_put(dgj_req_t *r);
dgj_rc_t dgj_accounts_events_list(dgj_req_t *r);

/*
 * dgj_accounts_demo.c: creates the demo accounts that do not exist yet
 * (one per role) through the pool's database account and writes their
 * credentials to path (mode 0600).  0 or -1 with a message on stderr.
 */
int dgj_accounts_demo(const dgj_conf_t *conf, const char *path);


#endif /* DGJ_ACCOUNTS_H */
