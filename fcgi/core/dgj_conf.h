
/*
 * Copyright (C) Daguanjia
 *
 * dgj_conf.h: the pool configuration file.  `key = value` lines, `#`
 * starts a comment line, blank lines are ignored.  An unknown key, a
 * duplicate key, a bad value or a missing required key is an error
 * naming file:line, and the process does not start.
 *
 *   socket            path of the FastCGI unix socket (required)
 *   workers           number of worker processes, 1..256 (2)
 *   max_requests      requests a worker serves before it is recycled (10000)
 *   max_body          largest request body in bytes, k/m suffix (1m)
 *   db_socket         MariaDB unix socket (required)
 *   db_name           database (dgj)
 *   db_user           account (dgj_app)
 *   db_password_file  file holding the password, read at load time
 *   db_connect_timeout, db_read_timeout, db_write_timeout  seconds (3 10 10)
 *   log_file          path or "stderr" (stderr)
 *   log_level         error, warn, info, debug (info)
 *   pid_file          path; none when absent
 *   routes            route table names separated by spaces, or "all"
 *   user              account to run as when started as root
 *
 * Identity (issue 3; paths are absolute):
 *   token_keys        token key ring (var/secrets/token.keys)
 *   revoke_file       revoked sessions, read by nginx at start and reload
 *   control_socket    nginx's loopback-only control server (unix socket)
 *   ban_file          bans, read by nginx at start and reload
 *   public_url        the portal's own base URL (WeChat redirect_uri)
 *   sms_url           SMS gateway base URL
 *   sms_key_file      file holding the SMS gateway API key
 *   wechat_url        WeChat API base URL (https://api.weixin.qq.com)
 *   wechat_auth_url   WeChat authorise URL base (https://open.weixin.qq.com)
 *   wechat_appid      official account AppID
 *   wechat_secret_file  file holding the AppSecret
 *   peer_timeout      seconds for one SMS or WeChat call (5)
 *   argon2_m_kib, argon2_t  Argon2id memory (KiB) and passes (65536 3)
 *
 * Audit (the auditor's console, docs/audit.md):
 *   audit_verify_key      the chain's epoch-0 key (var/secrets/audit/)
 *   audit_checkpoint_pub  the public key of the signed checkpoints
 *
 *   clock_file        tests only: a file holding a seconds offset added to
 *                     the wall clock, re-read on each request
 *
 * Workflow (issue 4):
 *   query_key_file    the key query codes are stored under (HMAC)
 *   files_dir         where attachment bytes live (var/files)
 */


#ifndef DGJ_CONF_H
#define DGJ_CONF_H


#include "dgj_core.h"


#define DGJ_CONF_PATH   512
#define DGJ_CONF_NAME   64
#define DGJ_CONF_SECRET 512


struct dgj_conf_s {
    char          socket[108];          /* sizeof(sun_path) */
    unsigned      workers;
    unsigned      max_requests;
    size_t        max_body;
    char          db_socket[108];
    char          db_name[DGJ_CONF_NAME];
    char          db_user[DGJ_CONF_NAME];
    char          db_password[256];     /* never logged */
    unsigned      db_connect_timeout;   /* seconds */
    unsigned      db_read_timeout;
    unsigned      db_write_timeout;
    char          log_file[DGJ_CONF_PATH];
    int           log_level;
    char          pid_file[DGJ_CONF_PATH];
    char          routes[DGJ_CONF_PATH];
    char          user[DGJ_CONF_NAME];

    char          token_keys[DGJ_CONF_PATH];
    char          revoke_file[DGJ_CONF_PATH];
    char          control_socket[108];
    char          ban_file[DGJ_CONF_PATH];
    char          public_url[DGJ_CONF_PATH];
    char          sms_url[DGJ_CONF_PATH];
    char          sms_key_file[DGJ_CONF_PATH];
    char          wechat_url[DGJ_CONF_PATH];
    char          wechat_auth_url[DGJ_CONF_PATH];
    char          wechat_appid[DGJ_CONF_NAME];
    char          wechat_secret_file[DGJ_CONF_PATH];
    unsigned      peer_timeout;         /* seconds */
    unsigned      argon2_m_kib;
    unsigned      argon2_t;
    char          clock_file[DGJ_CONF_PATH];
    char          query_key_file[DGJ_CONF_PATH];
    char          files_dir[DGJ_CONF_PATH];

    char          audit_verify_key[DGJ_CONF_PATH];
    char          audit_checkpoint_pub[DGJ_CONF_PATH];
};


/* Fills conf with the defaults above (required keys empty). */
void dgj_conf_defaults(dgj_conf_t *conf);

/*
 * Reads path into conf (defaults first).  Returns 0, or -1 with a
 * one-line message "path:line: reason" in err (errlen bytes, always
 * NUL-terminated); conf is then unspecified.  No allocation survives.
 */
int dgj_conf_load(const char *path, dgj_conf_t *conf, char *err,
    size_t errlen);

/*
 * Reads a one-line secret file (a password, an API key) into out (size
 * bytes, at most DGJ_CONF_SECRET): one trailing newline (or CRLF) is
 * dropped; a second line, a NUL byte or more than size - 1 bytes is an
 * error.  Returns the length (0 for an empty file: callers that need a
 * secret refuse it), or -1 with a message naming path in msg (never the
 * content).  The stack copy is wiped; out is the caller's to wipe.
 */
int dgj_conf_read_secret(const char *path, char *out, size_t size,
    char *msg, size_t msglen);


#endif /* DGJ_CONF_H */
