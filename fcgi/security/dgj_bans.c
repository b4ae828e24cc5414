
/*
 * Copyright (C) Daguanjia
 *
 * dgj_bans.c: the security admin's ban API (table bans, 0008_bans.sql).
 * A ban is written to MariaDB first; then the bans in force are mirrored
 * into conf->ban_file (what nginx reads at start and reload) and the
 * change is pushed to nginx's control socket (/_dgj/bans), which makes
 * it effective on every nginx worker at once.  Wire formats:
 * docs/directives.md#dgj_limit_ban_api.
 */


#include "dgj_core.h"
#include "dgj_bans.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_control.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_offline.h"
#include "dgj_req.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>


#define DGJ_BANS_VALUE_LEN    64
#define DGJ_BANS_REASON_LEN   200
#define DGJ_BANS_MINUTES_MAX  (10 * 366 * 24 * 60)


static dgj_rc_t dgj_bans_list(dgj_req_t *r);
static dgj_rc_t dgj_bans_add(dgj_req_t *r);
static dgj_rc_t dgj_bans_lift(dgj_req_t *r);

static dgj_rc_t dgj_bans_value(dgj_req_t *r, const char *kind,
    const char *in, char *out);
static dgj_rc_t dgj_bans_reason(dgj_req_t *r, const char *reason);
static dgj_rc_t dgj_bans_mirror(dgj_req_t *r);
static void dgj_bans_push(dgj_req_t *r, const char *line);


const dgj_route_t  dgj_bans_routes[] = {

    { DGJ_GET,    "/api/v1/security/bans",      dgj_bans_list },
    { DGJ_POST,   "/api/v1/security/bans",      dgj_bans_add },
    { DGJ_DELETE, "/api/v1/security/bans/{id}", dgj_bans_lift },

      dgj_null_route
};


static const char *const  dgj_bans_roles[] = { "secadmin", NULL };


static const dgj_sql_t  dgj_bans_sql_list = {
    "bans.list",
    "SELECT b.id, b.kind, b.value, b.reason, b.expires_at, b.created_at,"
    "       c.username AS created_by, b.lifted_at, l.username AS lifted_by,"
    "       (b.lifted_at IS NULL AND b.expires_at > ?) AS active"
    "  FROM bans b"
    "  JOIN users c ON c.id = b.created_by"
    "  LEFT JOIN users l ON l.id = b.lifted_by"
    " WHERE b.id < ? AND (? = 1 OR (b.lifted_at IS NULL AND b.expires_at > ?))"
    " ORDER BY b.id DESC"
    " LIMIT ?"
};

static const dgj_sql_t  dgj_bans_sql_in_force = {
    "bans.in_force",
    "SELECT kind, value, UNIX_TIMESTAMP(expires_at) AS until, reason"
    "  FROM bans"
    " WHERE lifted_at IS NULL AND expires_at > ?"
    " ORDER BY id"
};

static const dgj_sql_t  dgj_bans_sql_user = {
    "bans.user",
    "SELECT COUNT(*) FROM users WHERE id = ?"
};

/* a new ban of a value replaces the one in force: lift it first */
static const dgj_sql_t  dgj_bans_sql_replace = {
    "bans.replace",
    "UPDATE bans SET lifted_at = ?, lifted_by = ?"
    " WHERE kind = ? AND value = ? AND lifted_at IS NULL"
};

static const dgj_sql_t  dgj_bans_sql_insert = {
    "bans.insert",
    "INSERT INTO bans"
    "       (kind, value, reason, expires_at, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_bans_sql_one = {
    "bans.one",
    "SELECT kind, value, lifted_at IS NOT NULL OR expires_at <= ?"
    "  FROM bans WHERE id = ?"
};

static const dgj_sql_t  dgj_bans_sql_lift = {
    "bans.lift",
    "UPDATE bans SET lifted_at = ?, lifted_by = ?"
    " WHERE id = ? AND lifted_at IS NULL"
};

static const dgj_sql_t  dgj_bans_sql_get = {
    "bans.get",
    "SELECT id, kind, value, reason, expires_at, created_at, lifted_at"
    "  FROM bans WHERE id = ?"
};


/* GET /api/v1/security/bans?all=1&before=&limit= */

static dgj_rc_t
dgj_bans_list(dgj_req_t *r)
{
    char             now_s[24];
    json_t          *rows, *reply, *row;
    size_t           i;
    int64_t          before, limit, all;
    dgj_rc_t         rc;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_bans_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_arg_int(r, "all", 0, 0, 1, &all)) != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "before", INT64_MAX, 1, INT64_MAX,
                                      &before)) != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "limit", 100, 1, 500, &limit))
           != DGJ_OK)
    {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_rows_json(r, &dgj_bans_sql_list,
                          DGJ_ARGS(DGJ_STR(now_s), DGJ_I64(before),
                                   DGJ_I64(all), DGJ_STR(now_s),
                                   DGJ_I64(limit)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        json_object_set_new(row, "active", json_boolean(
                         json_integer_value(json_object_get(row, "active"))));
    }

    reply = dgj_json_own(r, json_pack("{s:O}", "bans", rows));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* POST /api/v1/security/bans {kind, value, minutes, reason} */

static dgj_rc_t
dgj_bans_add(dgj_req_t *r)
{
    char             value[DGJ_BANS_VALUE_LEN + 1], now_s[24], until_s[24],
                    *line, *detail;
    json_t          *body, *rows;
    int64_t          now;
    uint64_t         bid;
    json_int_t       minutes;
    dgj_rc_t         rc;
    const char      *kind, *raw, *reason, *me;
    dgj_identity_t   id;

    static const char *const  keys[] = {
        "kind", "value", "minutes", "reason", NULL
    };

    rc = dgj_identity_require(r, &id, dgj_bans_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "kind", 8, &kind)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "value", 64, &raw)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "reason", DGJ_BANS_REASON_LEN,
                                      &reason)) != DGJ_OK
        || (rc = dgj_json_get_int(r, body, "minutes", 1, DGJ_BANS_MINUTES_MAX,
                                  &minutes)) != DGJ_OK
        || (rc = dgj_bans_value(r, kind, raw, value)) != DGJ_OK
        || (rc = dgj_bans_reason(r, reason)) != DGJ_OK)
    {
        return rc;
    }

    /* a ban that would shut out the one setting it is a mistake */
    me = dgj_accounts_client_ip(r);

    if ((strcmp(kind, "ip") == 0 && strcmp(value, me) == 0)
        || (strcmp(kind, "user") == 0
            && strtoull(value, NULL, 10) == id.user_id))
    {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "self_ban_refused",
                                 "this ban would lock you out yourself");
    }

    if (strcmp(kind, "user") == 0) {
        int64_t  n;

        rc = dgj_db_row(r, &dgj_bans_sql_user,
                        DGJ_ARGS(DGJ_I64(strtoll(value, NULL, 10))),
                        DGJ_OUTS(DGJ_OUT_I64(&n)));
        if (rc != DGJ_OK) {
            return rc;
        }

        if (n == 0) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "no user %s", value);
        }
    }

    now = dgj_clock_now(r->conf);
    dgj_clock_format(now, now_s, sizeof(now_s));
    dgj_clock_format(now + minutes * 60, until_s, sizeof(until_s));

    detail = dgj_psprintf(r->pool, "%s %s until %s: %s", kind, value,
                          until_s, reason);
    if (detail == NULL) {
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_bans_sql_replace,
                          DGJ_ARGS(DGJ_STR(now_s),
                                   DGJ_I64((int64_t) id.user_id),
                                   DGJ_STR(kind), DGJ_STR(value)),
                          NULL, NULL)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_bans_sql_insert,
                             DGJ_ARGS(DGJ_STR(kind), DGJ_STR(value),
                                      DGJ_STR(reason), DGJ_STR(until_s),
                                      DGJ_I64((int64_t) id.user_id),
                                      DGJ_STR(now_s)),
                             NULL, &bid)) != DGJ_OK
        || (rc = dgj_accounts_event(r, "ban_added", 0, (int64_t) id.user_id,
                                    "", detail)) != DGJ_OK
        || (rc = dgj_db_commit(r)) != DGJ_OK)
    {
        dgj_db_rollback(r);
        return rc;
    }

    line = dgj_psprintf(r->pool, "ban %s %s %lld %s\n", kind, value,
                        (long long) (now + minutes * 60), reason);
    if (line == NULL) {
        return DGJ_ERR_NOMEM;
    }

    (void) dgj_bans_mirror(r);
    dgj_bans_push(r, line);

    rc = dgj_db_rows_json(r, &dgj_bans_sql_get,
                          DGJ_ARGS(DGJ_I64((int64_t) bid)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply_json(r, 201, json_array_get(rows, 0));
}


/* DELETE /api/v1/security/bans/{id} */

static dgj_rc_t
dgj_bans_lift(dgj_req_t *r)
{
    char             now_s[24], *line, *detail;
    int64_t          bid, over;
    uint64_t         affected;
    dgj_rc_t         rc;
    const char      *kind, *value;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_bans_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_capture_id(r, &bid);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_row(r, &dgj_bans_sql_one,
                    DGJ_ARGS(DGJ_STR(now_s), DGJ_I64(bid)),
                    DGJ_OUTS(DGJ_OUT_STR(&kind), DGJ_OUT_STR(&value),
                             DGJ_OUT_I64(&over)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no ban %lld",
                            (long long) bid);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (over) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "not_in_force",
                                 "ban %lld is lifted or expired already",
                                 (long long) bid);
    }

    detail = dgj_psprintf(r->pool, "%s %s (ban %lld)", kind, value,
                          (long long) bid);
    if (detail == NULL) {
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_bans_sql_lift,
                          DGJ_ARGS(DGJ_STR(now_s),
                                   DGJ_I64((int64_t) id.user_id),
                                   DGJ_I64(bid)),
                          &affected, NULL)) != DGJ_OK
        || (rc = dgj_accounts_event(r, "ban_lifted", 0, (int64_t) id.user_id,
                                    "", detail)) != DGJ_OK
        || (rc = dgj_db_commit(r)) != DGJ_OK)
    {
        dgj_db_rollback(r);
        return rc;
    }

    line = dgj_psprintf(r->pool, "unban %s %s\n", kind, value);
    if (line == NULL) {
        return DGJ_ERR_NOMEM;
    }

    (void) dgj_bans_mirror(r);
    dgj_bans_push(r, line);

    return dgj_reply(r, 204, NULL, NULL, 0);
}


int
dgj_bans_render(const dgj_conf_t *conf, json_t *rows, char *err,
    size_t errlen)
{
    int          fd;
    FILE        *f;
    char        *tmp;
    size_t       i, n;
    json_t      *row;

    n = strlen(conf->ban_file) + 8;
    tmp = malloc(n);
    if (tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    snprintf(tmp, n, "%s.tmp", conf->ban_file);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    f = (fd != -1) ? fdopen(fd, "w") : NULL;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        if (fd != -1) {
            close(fd);
        }

        free(tmp);
        return -1;
    }

    fprintf(f, "# bans in force, written from MariaDB by dgj-fcgi; "
               "edit through /api/v1/security/bans\n");

    json_array_foreach(rows, i, row) {
        fprintf(f, "%s %s %lld %s\n",
                json_string_value(json_object_get(row, "kind")),
                json_string_value(json_object_get(row, "value")),
                (long long) json_integer_value(json_object_get(row, "until")),
                json_string_value(json_object_get(row, "reason")));
    }

    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        free(tmp);
        return -1;
    }

    fclose(f);

    if (rename(tmp, conf->ban_file) != 0) {
        snprintf(err, errlen, "%s: %s", conf->ban_file, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }

    free(tmp);

    return 0;
}


/*
 * The canonical text of a ban value: an address as inet_ntop prints it,
 * a block with its host bits zero, a user id in decimal.
 */
static dgj_rc_t
dgj_bans_value(dgj_req_t *r, const char *kind, const char *in, char *out)
{
    int             af, bits, max, i;
    char            addr[INET6_ADDRSTRLEN + 1], *slash, *end;
    size_t          len;
    unsigned char   buf[16];

    if (strcmp(kind, "user") == 0) {
        len = strlen(in);
        if (len == 0 || len > 19 || strspn(in, "0123456789") != len
            || in[0] == '0')
        {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "\"value\" must be a user id");
        }

        memcpy(out, in, len + 1);
        return DGJ_OK;
    }

    if (strcmp(kind, "ip") != 0 && strcmp(kind, "cidr") != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"kind\" must be ip, cidr or user");
    }

    len = strlen(in);
    if (len > INET6_ADDRSTRLEN + 4) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"value\" is too long");
    }

    memcpy(addr, in, len + 1);
    slash = strchr(addr, '/');
    bits = -1;

    if (slash != NULL) {
        if (strcmp(kind, "ip") == 0) {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "an ip ban takes one address; use cidr "
                                "for a block");
        }

        *slash = '\0';
        bits = (int) strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0') {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "\"value\" must be address/prefix");
        }

    } else if (strcmp(kind, "cidr") == 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "a cidr ban needs address/prefix");
    }

    af = (strchr(addr, ':') != NULL) ? AF_INET6 : AF_INET;

    if (inet_pton(af, addr, buf) != 1) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"value\" is not an IP address");
    }

    max = (af == AF_INET) ? 32 : 128;

    if (bits != -1) {
        /* a /0 .. /7 (IPv4) or /0 .. /31 (IPv6) block is a typo, not a ban */
        if (bits > max || bits < ((af == AF_INET) ? 8 : 32)) {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "prefix must be %d..%d",
                                (af == AF_INET) ? 8 : 32, max);
        }

        for (i = bits; i < max; i++) {
            buf[i / 8] &= (unsigned char) ~(0x80 >> (i % 8));
        }
    }

    if (inet_ntop(af, buf, out, INET6_ADDRSTRLEN) == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "bad address");
    }

    if (bits != -1) {
        len = strlen(out);
        snprintf(out + len, DGJ_BANS_VALUE_LEN + 1 - len, "/%d", bits);
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_bans_reason(dgj_req_t *r, const char *reason)
{
    const unsigned char  *p;

    for (p = (const unsigned char *) reason; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "\"reason\" must be one line of text");
        }
    }

    return DGJ_OK;
}


/* Rewrites conf->ban_file from the bans in force in MariaDB. */
static dgj_rc_t
dgj_bans_mirror(dgj_req_t *r)
{
    char      now_s[24], err[256];
    json_t   *rows;
    dgj_rc_t  rc;

    if (r->conf->ban_file[0] == '\0') {
        return DGJ_OK;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_rows_json(r, &dgj_bans_sql_in_force,
                          DGJ_ARGS(DGJ_STR(now_s)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (dgj_bans_render(r->conf, rows, err, sizeof(err)) != 0) {
        dgj_log(DGJ_LOG_ERROR, "bans", "ban file not written: %s: nginx "
                "keeps the change until its next restart", err);
        return DGJ_ERR_INTERNAL;
    }

    return DGJ_OK;
}


static void
dgj_bans_push(dgj_req_t *r, const char *line)
{
    if (dgj_control_post(r->conf, "/_dgj/bans", line, strlen(line))
        != DGJ_OK)
    {
        dgj_log(DGJ_LOG_ERROR, "bans", "nginx was not told: the change is "
                "in MariaDB and the ban file, in force at the next reload");
    }
}


static dgj_rc_t
dgj_bans_sync_one(dgj_req_t *r, void *data)
{
    (void) data;

    return dgj_bans_mirror(r);
}


int
dgj_bans_sync(const dgj_conf_t *conf)
{
    if (conf->ban_file[0] == '\0') {
        fprintf(stderr, "dgj-fcgi: ban_file is not configured\n");
        return -1;
    }

    return (dgj_offline_run(conf, dgj_bans_sync_one, NULL) == DGJ_OK) ? 0 : -1;
}
