
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_search.c: the routes of the auditor's console and the reads
 * of audit_records: search (newest first, keyset pages), the live view
 * of drills (oldest first after a cursor, with flags and bursts of
 * refusals) and the CSV export.  Filters, cursors and the range are one
 * parser for search and export (docs/audit.md#the-auditors-console).
 */


#include "dgj_core.h"
#include "dgj_audit.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_req.h"


#define DGJ_AUDIT_RANGE_MAX_MS   (366 * 86400 * 1000LL)
#define DGJ_AUDIT_DEFAULT_MS     (86400 * 1000LL)
/* records logged a little ahead of the clock are still "now" */
#define DGJ_AUDIT_AHEAD_MS       (60 * 1000LL)
#define DGJ_AUDIT_PAGE_MAX       500
#define DGJ_AUDIT_EXPORT_MAX     100000
#define DGJ_AUDIT_BATCH          2000
#define DGJ_AUDIT_PATH_MAX       256
#define DGJ_AUDIT_NARGS          32


static dgj_rc_t dgj_audit_search(dgj_req_t *r);
static dgj_rc_t dgj_audit_live(dgj_req_t *r);
static dgj_rc_t dgj_audit_export(dgj_req_t *r);


const dgj_route_t  dgj_audit_routes[] = {

    { DGJ_GET,  "/api/v1/audit/records", dgj_audit_search },
    { DGJ_GET,  "/api/v1/audit/live",    dgj_audit_live },
    { DGJ_GET,  "/api/v1/audit/export",  dgj_audit_export },
    { DGJ_GET | DGJ_POST, "/api/v1/audit/verify", dgj_audit_verify },

      dgj_null_route
};


const char *const  dgj_audit_roles[] = { "auditor", NULL };


/* the filters of search and export, parsed and checked */
typedef struct {
    int64_t      from_ms;
    int64_t      to_ms;
    char         from_sql[24];
    char         to_sql[24];
    int64_t      user_id;           /* 0: any */
    const char  *ip;                /* exact, or NULL */
    const char  *ip_like;           /* prefix as a LIKE pattern, or NULL */
    const char  *path;              /* LIKE pattern or NULL */
    int64_t      status_lo;
    int64_t      status_hi;
    int64_t      denied;            /* 0 any, 1 only refusals, 2 none */
    const char  *action;            /* exact, or NULL */
    const char  *action_like;       /* prefix as a LIKE pattern, or NULL */
    const char  *auth;              /* or NULL */
    unsigned     empty:1;           /* status and outcome exclude all */
} dgj_audit_filter_t;


#define DGJ_AUDIT_SELECT  DGJ_AUDIT_COLUMNS "  FROM audit_records"

/*
 * 20 parameters: range, then each optional filter as "(? IS NULL OR
 * ...)" with the value twice, so one text serves every combination.  An
 * exact value is compared with =, so that its (column, ts, id) index
 * gives the rows in page order.  A refusal (denied) is 401, 403 or 429:
 * the gateway's answer to a bad or missing token, a missing role, a ban
 * or a rate limit.
 */
#define DGJ_AUDIT_WHERE                                                       \
    " WHERE line_type = 'rec'"                                                \
    "   AND ts >= ? AND ts < ?"                                               \
    "   AND (? IS NULL OR user_id = ?)"                                       \
    "   AND (? IS NULL OR ip = ?)"                                            \
    "   AND (? IS NULL OR ip LIKE ? ESCAPE '!')"                              \
    "   AND (? IS NULL OR path LIKE ? ESCAPE '!')"                            \
    "   AND status BETWEEN ? AND ?"                                           \
    "   AND (? = 0 OR (? = 1) = (status IN (401, 403, 429)))"                 \
    "   AND (? IS NULL OR action = ?)"                                        \
    "   AND (? IS NULL OR action LIKE ? ESCAPE '!')"                          \
    "   AND (? IS NULL OR auth = ?)"

/* newest first, strictly before the cursor (ts, id) */
static const dgj_sql_t  dgj_audit_sql_desc = {
    "audit.search",
    DGJ_AUDIT_SELECT
    DGJ_AUDIT_WHERE
    "   AND ts <= ? AND (ts < ? OR (ts = ? AND id < ?))"
    " ORDER BY ts DESC, id DESC"
    " LIMIT ?"
};

/* oldest first, strictly after the cursor: the export */
static const dgj_sql_t  dgj_audit_sql_asc = {
    "audit.ascending",
    DGJ_AUDIT_SELECT
    DGJ_AUDIT_WHERE
    "   AND ts >= ? AND (ts > ? OR (ts = ? AND id > ?))"
    " ORDER BY ts, id"
    " LIMIT ?"
};

/*
 * The live view follows the ingest order (id): a record ingested late,
 * such as a slow request's, still shows up, where a cursor on ts would
 * have passed it.
 */
static const dgj_sql_t  dgj_audit_sql_live = {
    "audit.live",
    DGJ_AUDIT_SELECT
    " WHERE id > ? AND line_type = 'rec'"
    " ORDER BY id"
    " LIMIT ?"
};

static const dgj_sql_t  dgj_audit_sql_latest = {
    "audit.latest",
    DGJ_AUDIT_SELECT
    " WHERE line_type = 'rec'"
    " ORDER BY id DESC"
    " LIMIT ?"
};

/* addresses refused at least ? times in the window */
static const dgj_sql_t  dgj_audit_sql_bursts = {
    "audit.bursts",
    "SELECT ip, COUNT(*) AS refusals, SUM(status = 401) AS s401,"
    "       SUM(status = 403) AS s403, SUM(status = 429) AS s429,"
    "       TIMESTAMPDIFF(MICROSECOND, '1970-01-01', MIN(ts)) DIV 1000,"
    "       TIMESTAMPDIFF(MICROSECOND, '1970-01-01', MAX(ts)) DIV 1000"
    "  FROM audit_records"
    " WHERE status IN (401, 403, 429) AND ts >= ? AND ts < ?"
    "   AND line_type = 'rec'"
    " GROUP BY ip"
    " HAVING COUNT(*) >= ?"
    " ORDER BY refusals DESC, ip"
    " LIMIT 50"
};


/* what a walk over rows collects */
typedef struct {
    json_t              *records;   /* search, live */
    dgj_audit_csv_t     *csv;       /* export */
    json_t              *bursts;    /* live: ip -> refusals */
    dgj_audit_cursor_t   last;
    uint64_t             max_id;
    size_t               rows;
    unsigned             flagged_only:1;
} dgj_audit_walk_t;


static dgj_rc_t dgj_audit_arg(dgj_req_t *r, const char *name,
    const char **out);
static dgj_rc_t dgj_audit_begin(dgj_req_t *r, const char *action,
    int64_t def, int64_t max, int newest_first, dgj_audit_filter_t *f,
    int64_t *limit, dgj_audit_cursor_t *c);
static dgj_rc_t dgj_audit_filter(dgj_req_t *r, dgj_audit_filter_t *f);
static dgj_rc_t dgj_audit_arg_pattern(dgj_req_t *r, const char *name,
    size_t max, const char *allowed, int contains, const char **exact,
    const char **like);
static size_t dgj_audit_args(const dgj_audit_filter_t *f,
    const dgj_audit_cursor_t *c, int64_t limit, char *ts_sql,
    dgj_arg_t *args);
static dgj_rc_t dgj_audit_name(dgj_req_t *r, const char *action,
    int64_t from_ms, int64_t to_ms);
static dgj_rc_t dgj_audit_row_json(dgj_req_t *r, void *data,
    const dgj_db_col_t *cols, size_t ncols);
static dgj_rc_t dgj_audit_row_csv(dgj_req_t *r, void *data,
    const dgj_db_col_t *cols, size_t ncols);
static unsigned dgj_audit_row_flags(const dgj_db_col_t *cols,
    json_t *bursts);
static json_t *dgj_audit_flags_json(unsigned flags);
static json_t *dgj_audit_int(const dgj_db_col_t *col);
static json_t *dgj_audit_str(const dgj_db_col_t *col);
static void dgj_audit_last(dgj_audit_walk_t *w, const dgj_db_col_t *cols);
static dgj_rc_t dgj_audit_bursts(dgj_req_t *r, int64_t now, int64_t window,
    int64_t min, json_t **list, json_t **by_ip);
static dgj_rc_t dgj_audit_burst_row(dgj_req_t *r, void *data,
    const dgj_db_col_t *cols, size_t ncols);


/* GET /api/v1/audit/records?from&to&user_id&ip&path&status&action
 *     &outcome&auth&cursor&limit */

static dgj_rc_t
dgj_audit_search(dgj_req_t *r)
{
    char                 ts_sql[24], next[48], from_s[32], to_s[32];
    size_t               nargs;
    json_t              *reply;
    int64_t              limit;
    dgj_rc_t             rc;
    dgj_arg_t            args[DGJ_AUDIT_NARGS];
    dgj_audit_walk_t     w;
    dgj_audit_filter_t   f;
    dgj_audit_cursor_t   c;

    rc = dgj_audit_begin(r, "audit.search", 100, DGJ_AUDIT_PAGE_MAX, 1, &f,
                         &limit, &c);
    if (rc != DGJ_OK) {
        return rc;
    }

    memset(&w, 0, sizeof(w));
    w.records = dgj_json_own(r, json_array());
    if (w.records == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (!f.empty) {
        nargs = dgj_audit_args(&f, &c, limit, ts_sql, args);

        rc = dgj_db_rows_each(r, &dgj_audit_sql_desc, args, nargs,
                              dgj_audit_row_json, &w);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    dgj_audit_cursor_format(&w.last, next, sizeof(next));
    dgj_audit_ms_local(f.from_ms, from_s, sizeof(from_s));
    dgj_audit_ms_local(f.to_ms, to_s, sizeof(to_s));

    reply = dgj_json_own(r, json_pack("{s:s, s:s, s:O, s:o}",
                                      "from", from_s, "to", to_s,
                                      "records", w.records,
                                      "next_cursor",
                                      w.rows == (size_t) limit
                                      ? json_string(next) : json_null()));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* GET /api/v1/audit/live?after&limit&flagged&burst_window&burst_min */

static dgj_rc_t
dgj_audit_live(dgj_req_t *r)
{
    char                 now_s[32];
    size_t               i;
    json_t              *reply, *bursts, *by_ip, *newest_first;
    int64_t              limit, flagged, window, min, now, after;
    dgj_rc_t             rc;
    const char          *s;
    dgj_identity_t       id;
    dgj_audit_walk_t     w;

    rc = dgj_identity_require(r, &id, dgj_audit_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    after = -1;

    if ((rc = dgj_audit_arg(r, "after", &s)) != DGJ_OK
        || (s != NULL
            && (rc = dgj_accounts_arg_int(r, "after", -1, 0, INT64_MAX,
                                          &after)) != DGJ_OK)
        || (rc = dgj_accounts_arg_int(r, "limit", 200, 1, DGJ_AUDIT_PAGE_MAX,
                                      &limit)) != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "flagged", 0, 0, 1, &flagged))
           != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "burst_window", 60, 10, 3600,
                                      &window)) != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "burst_min", 10, 2, 100000, &min))
           != DGJ_OK)
    {
        return rc;
    }

    rc = dgj_req_audit(r, "audit.live", NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    now = dgj_clock_now(r->conf) * 1000;

    rc = dgj_audit_bursts(r, now, window * 1000, min, &bursts, &by_ip);
    if (rc != DGJ_OK) {
        return rc;
    }

    memset(&w, 0, sizeof(w));
    w.bursts = by_ip;
    w.flagged_only = (flagged == 1);
    w.records = dgj_json_own(r, json_array());
    if (w.records == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (after < 0) {
        /* the first call: the latest records, shown oldest first too */
        rc = dgj_db_rows_each(r, &dgj_audit_sql_latest,
                              DGJ_ARGS(DGJ_I64(limit)),
                              dgj_audit_row_json, &w);
        if (rc != DGJ_OK) {
            return rc;
        }

        newest_first = w.records;
        w.records = dgj_json_own(r, json_array());
        if (w.records == NULL) {
            return DGJ_ERR_NOMEM;
        }

        for (i = json_array_size(newest_first); i > 0; i--) {
            if (json_array_append(w.records,
                                  json_array_get(newest_first, i - 1))
                != 0)
            {
                return DGJ_ERR_NOMEM;
            }
        }

        after = 0;

    } else {
        rc = dgj_db_rows_each(r, &dgj_audit_sql_live,
                              DGJ_ARGS(DGJ_I64(after), DGJ_I64(limit)),
                              dgj_audit_row_json, &w);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    if (w.max_id > (uint64_t) after) {
        after = (int64_t) w.max_id;
    }

    dgj_audit_ms_local(now, now_s, sizeof(now_s));

    reply = dgj_json_own(r, json_pack("{s:O, s:I, s:O, s:s, s:b}",
                                      "records", w.records,
                                      "cursor", (json_int_t) after,
                                      "bursts", bursts, "now", now_s,
                                      "more", s != NULL
                                              && w.rows == (size_t) limit));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* GET /api/v1/audit/export?<the filters of search>&cursor&limit: CSV */

static const char *const  dgj_audit_csv_head[] = {
    "time", "request_id", "user_id", "roles", "dept_id", "ip", "port",
    "method", "path", "status", "auth", "limit", "action", "object", "ms",
    "bytes_in", "bytes_out", "ua", "flags", "chain", "seq", "id", NULL
};

static dgj_rc_t
dgj_audit_export(dgj_req_t *r)
{
    char                 ts_sql[24], next[48], *disp, from_s[32], to_s[32];
    size_t               nargs, i, total;
    int64_t              limit, batch;
    dgj_rc_t             rc;
    dgj_arg_t            args[DGJ_AUDIT_NARGS];
    const char          *s;
    dgj_audit_csv_t     *csv;
    dgj_audit_walk_t     w;
    dgj_audit_filter_t   f;
    dgj_audit_cursor_t   c;

    rc = dgj_audit_begin(r, "audit.export", DGJ_AUDIT_EXPORT_MAX,
                         DGJ_AUDIT_EXPORT_MAX, 0, &f, &limit, &c);
    if (rc != DGJ_OK) {
        return rc;
    }

    csv = dgj_audit_csv_create(r);
    if (csv == NULL) {
        return DGJ_ERR_NOMEM;
    }

    /* the BOM tells a spreadsheet the file is UTF-8 (Chinese text) */
    dgj_audit_csv_raw(csv, "\xEF\xBB\xBF", 3);

    for (i = 0; dgj_audit_csv_head[i] != NULL; i++) {
        dgj_audit_csv_cell(csv, dgj_audit_csv_head[i],
                           strlen(dgj_audit_csv_head[i]),
                           dgj_audit_csv_head[i + 1] == NULL);
    }

    total = 0;

    while (!f.empty && total < (size_t) limit) {
        batch = limit - (int64_t) total;
        if (batch > DGJ_AUDIT_BATCH) {
            batch = DGJ_AUDIT_BATCH;
        }

        memset(&w, 0, sizeof(w));
        w.csv = csv;

        /* keyset batches keep the worker's memory to one batch of rows */
        nargs = dgj_audit_args(&f, &c, batch, ts_sql, args);

        rc = dgj_db_rows_each(r, &dgj_audit_sql_asc, args, nargs,
                              dgj_audit_row_csv, &w);
        if (rc != DGJ_OK) {
            return rc;
        }

        total += w.rows;

        if (w.rows < (size_t) batch) {
            break;
        }

        c = w.last;
    }

    if (csv->failed) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the export");
    }

    if (total == (size_t) limit) {
        /* more may follow: the same request with this cursor goes on */
        dgj_audit_cursor_format(&c, next, sizeof(next));

        s = dgj_pstrndup(r->pool, next, strlen(next));
        if (s == NULL
            || dgj_req_header_add(r, "X-Audit-Next-Cursor", s) != DGJ_OK)
        {
            return DGJ_ERR_NOMEM;
        }
    }

    dgj_audit_ms_local(f.from_ms, from_s, sizeof(from_s));
    dgj_audit_ms_local(f.to_ms, to_s, sizeof(to_s));

    disp = dgj_psprintf(r->pool, "attachment; filename=\"audit-%.4s%.2s%.2s"
                        "%.2s%.2s-%.4s%.2s%.2s%.2s%.2s.csv\"",
                        from_s, from_s + 5, from_s + 8, from_s + 11,
                        from_s + 14, to_s, to_s + 5, to_s + 8, to_s + 11,
                        to_s + 14);
    if (disp == NULL
        || dgj_req_header_add(r, "Content-Disposition", disp) != DGJ_OK
        || dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply(r, 200, "text/csv; charset=utf-8", csv->data,
                     csv->len);
}


/*
 * What search and export share: the auditor's identity, the filters,
 * limit (def, at most max), the cursor (absent: the range's end for a
 * newest-first walk, else its start) and the action named for the log.
 */
static dgj_rc_t
dgj_audit_begin(dgj_req_t *r, const char *action, int64_t def, int64_t max,
    int newest_first, dgj_audit_filter_t *f, int64_t *limit,
    dgj_audit_cursor_t *c)
{
    dgj_rc_t         rc;
    const char      *s;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_audit_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_audit_filter(r, f)) != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "limit", def, 1, max, limit))
           != DGJ_OK
        || (rc = dgj_audit_arg(r, "cursor", &s)) != DGJ_OK)
    {
        return rc;
    }

    memset(c, 0, sizeof(dgj_audit_cursor_t));
    c->ms = newest_first ? f->to_ms : f->from_ms;

    if (s != NULL && dgj_audit_cursor_parse(s, c) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"cursor\" is not a cursor "
                            "of this API");
    }

    return dgj_audit_name(r, action, f->from_ms, f->to_ms);
}


/* range and filters from the query string; empty values are absent */

static dgj_rc_t
dgj_audit_arg(dgj_req_t *r, const char *name, const char **out)
{
    dgj_rc_t  rc;

    rc = dgj_req_arg(r, name, out);
    if (rc == DGJ_OK && *out != NULL && **out == '\0') {
        *out = NULL;
    }

    return rc;
}


static dgj_rc_t
dgj_audit_time_arg(dgj_req_t *r, const char *name, int64_t def,
    int64_t *ms)
{
    dgj_rc_t     rc;
    const char  *s;

    rc = dgj_audit_arg(r, name, &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (s == NULL) {
        *ms = def;
        return DGJ_OK;
    }

    if (dgj_audit_ms_parse(s, ms) != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_time",
                                 "\"%s\" must be a time such as "
                                 "2026-11-30T21:15 (UTC+8 unless a zone "
                                 "follows)", name);
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_audit_filter(dgj_req_t *r, dgj_audit_filter_t *f)
{
    int64_t      now, d;
    dgj_rc_t     rc;
    const char  *s;

    memset(f, 0, sizeof(dgj_audit_filter_t));

    now = dgj_clock_now(r->conf) * 1000;

    if ((rc = dgj_audit_time_arg(r, "to", now + DGJ_AUDIT_AHEAD_MS,
                                 &f->to_ms)) != DGJ_OK
        || (rc = dgj_audit_time_arg(r, "from",
                                    f->to_ms - DGJ_AUDIT_DEFAULT_MS,
                                    &f->from_ms)) != DGJ_OK)
    {
        return rc;
    }

    if (f->from_ms >= f->to_ms) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_range",
                                 "\"from\" must be before \"to\"");
    }

    if (f->to_ms - f->from_ms > DGJ_AUDIT_RANGE_MAX_MS) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_range",
                                 "a range spans at most 366 days");
    }

    dgj_audit_ms_sql(f->from_ms, f->from_sql, sizeof(f->from_sql));
    dgj_audit_ms_sql(f->to_ms, f->to_sql, sizeof(f->to_sql));

    rc = dgj_audit_arg(r, "user_id", &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (s != NULL) {
        rc = dgj_accounts_arg_int(r, "user_id", 0, 1, INT64_MAX,
                                  &f->user_id);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    if ((rc = dgj_audit_arg_pattern(r, "ip", 45, "0123456789abcdefABCDEF:.",
                                    0, &f->ip, &f->ip_like)) != DGJ_OK
        || (rc = dgj_audit_arg_pattern(r, "path", DGJ_AUDIT_PATH_MAX, NULL,
                                       1, NULL, &f->path)) != DGJ_OK
        || (rc = dgj_audit_arg_pattern(r, "action", 64,
                                       "abcdefghijklmnopqrstuvwxyz"
                                       "0123456789_.-", 0, &f->action,
                                       &f->action_like)) != DGJ_OK
        || (rc = dgj_audit_arg(r, "auth", &f->auth)) != DGJ_OK)
    {
        return rc;
    }

    if (f->auth != NULL
        && (strlen(f->auth) > 16
            || strspn(f->auth, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
               != strlen(f->auth)))
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"auth\" must be an "
                            "outcome such as OK, NONE, EXPIRED, REVOKED, "
                            "FORBIDDEN, CSRF");
    }

    f->status_lo = 0;
    f->status_hi = 999;

    rc = dgj_audit_arg(r, "status", &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (s != NULL) {
        if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5'
            && strspn(s + 1, "0123456789") == 2)
        {
            f->status_lo = f->status_hi = strtol(s, NULL, 10);

        } else if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5'
                   && strcasecmp(s + 1, "xx") == 0)
        {
            f->status_lo = (s[0] - '0') * 100;
            f->status_hi = f->status_lo + 99;

        } else {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"status\" must be a "
                                "status such as 403 or a class such as "
                                "4xx");
        }
    }

    rc = dgj_audit_arg(r, "outcome", &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (s != NULL) {
        if (strcmp(s, "allowed") == 0) {
            f->status_hi = f->status_hi < 399 ? f->status_hi : 399;

        } else if (strcmp(s, "denied") == 0) {
            f->denied = 1;

        } else if (strcmp(s, "client_error") == 0) {
            f->status_lo = f->status_lo > 400 ? f->status_lo : 400;
            f->status_hi = f->status_hi < 499 ? f->status_hi : 499;
            f->denied = 2;

        } else if (strcmp(s, "server_error") == 0) {
            f->status_lo = f->status_lo > 500 ? f->status_lo : 500;

        } else {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"outcome\" must be "
                                "allowed, denied, client_error or "
                                "server_error");
        }
    }

    d = f->status_hi - f->status_lo;
    f->empty = (d < 0);

    return DGJ_OK;
}


/*
 * An optional text filter: *like a LIKE pattern for contains (path) or
 * a prefix, asked for by a trailing '*' (ip "203.0.113.*", action
 * "appeal.*"); otherwise *exact the value itself.  allowed (NULL: any
 * text without control characters) lists the bytes a value may hold.
 */
static dgj_rc_t
dgj_audit_arg_pattern(dgj_req_t *r, const char *name, size_t max,
    const char *allowed, int contains, const char **exact, const char **like)
{
    size_t                len, n;
    dgj_rc_t              rc;
    const char           *s, **out;
    const unsigned char  *p;

    *like = NULL;
    if (exact != NULL) {
        *exact = NULL;
    }

    rc = dgj_audit_arg(r, name, &s);
    if (rc != DGJ_OK || s == NULL) {
        return rc;
    }

    len = strlen(s);
    if (len > max) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" is longer than %zu "
                            "bytes", name, max);
    }

    if (allowed != NULL) {
        n = strspn(s, allowed);

        if (n != len && !(n == len - 1 && s[n] == '*' && n > 0)) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" holds a character "
                                "it cannot hold", name);
        }

    } else {
        for (p = (const unsigned char *) s; *p != '\0'; p += n) {
            n = dgj_req_utf8_len(p, strlen((const char *) p));
            if (n == 0 || *p < 0x20 || *p == 0x7f) {
                return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be "
                                    "one line of UTF-8 text", name);
            }
        }
    }

    out = like;

    if (contains) {
        *like = dgj_db_like(r->pool, s, len, 1, 1);

    } else if (s[len - 1] == '*') {
        *like = dgj_db_like(r->pool, s, len - 1, 0, 1);

    } else {
        *exact = s;
        out = exact;
    }

    return (*out != NULL) ? DGJ_OK : DGJ_ERR_NOMEM;
}


/*
 * The parameters of dgj_audit_sql_desc and _asc: the filters, the cursor
 * c (its time formatted into ts_sql, which must outlive the query) and
 * the limit.  Returns their number.
 */
static size_t
dgj_audit_args(const dgj_audit_filter_t *f, const dgj_audit_cursor_t *c,
    int64_t limit, char *ts_sql, dgj_arg_t *args)
{
    size_t  n;

    n = 0;

    args[n++] = DGJ_STR(f->from_sql);
    args[n++] = DGJ_STR(f->to_sql);

    if (f->user_id > 0) {
        args[n++] = DGJ_I64(f->user_id);
        args[n++] = DGJ_I64(f->user_id);

    } else {
        args[n++] = DGJ_NULL;
        args[n++] = DGJ_NULL;
    }

    args[n++] = DGJ_STR(f->ip);
    args[n++] = DGJ_STR(f->ip);
    args[n++] = DGJ_STR(f->ip_like);
    args[n++] = DGJ_STR(f->ip_like);
    args[n++] = DGJ_STR(f->path);
    args[n++] = DGJ_STR(f->path);
    args[n++] = DGJ_I64(f->status_lo);
    args[n++] = DGJ_I64(f->status_hi);
    args[n++] = DGJ_I64(f->denied);
    args[n++] = DGJ_I64(f->denied);
    args[n++] = DGJ_STR(f->action);
    args[n++] = DGJ_STR(f->action);
    args[n++] = DGJ_STR(f->action_like);
    args[n++] = DGJ_STR(f->action_like);
    args[n++] = DGJ_STR(f->auth);
    args[n++] = DGJ_STR(f->auth);

    dgj_audit_ms_sql(c->ms, ts_sql, 24);

    args[n++] = DGJ_STR(ts_sql);
    args[n++] = DGJ_STR(ts_sql);
    args[n++] = DGJ_STR(ts_sql);
    args[n++] = DGJ_I64((int64_t) c->id);
    args[n++] = DGJ_I64(limit);

    return n;
}


/* dgj_req_audit() with the range as the object: "20261130T2100-..." */
static dgj_rc_t
dgj_audit_name(dgj_req_t *r, const char *action, int64_t from_ms,
    int64_t to_ms)
{
    char  a[32], b[32], object[40];

    dgj_audit_ms_local(from_ms, a, sizeof(a));
    dgj_audit_ms_local(to_ms, b, sizeof(b));

    snprintf(object, sizeof(object), "%.4s%.2s%.2sT%.2s%.2s%.2s-"
             "%.4s%.2s%.2sT%.2s%.2s%.2s", a, a + 5, a + 8, a + 11, a + 14,
             a + 17, b, b + 5, b + 8, b + 11, b + 14, b + 17);

    return dgj_req_audit(r, action, object);
}


static const struct {
    const char  *key;
    int          col;
    int          num;
} dgj_audit_fields[] = {
    { "id", DGJ_AUDIT_C_ID, 1 },
    { "chain", DGJ_AUDIT_C_CHAIN, 0 },
    { "seq", DGJ_AUDIT_C_SEQ, 1 },
    { "request_id", DGJ_AUDIT_C_RID, 0 },
    { "user_id", DGJ_AUDIT_C_UID, 1 },
    { "roles", DGJ_AUDIT_C_ROLES, 0 },
    { "dept_id", DGJ_AUDIT_C_DEPT, 1 },
    { "ip", DGJ_AUDIT_C_IP, 0 },
    { "port", DGJ_AUDIT_C_PORT, 1 },
    { "ua", DGJ_AUDIT_C_UA, 0 },
    { "method", DGJ_AUDIT_C_METHOD, 0 },
    { "path", DGJ_AUDIT_C_PATH, 0 },
    { "status", DGJ_AUDIT_C_STATUS, 1 },
    { "auth", DGJ_AUDIT_C_AUTH, 0 },
    { "limit", DGJ_AUDIT_C_LIMIT, 0 },
    { "action", DGJ_AUDIT_C_ACTION, 0 },
    { "object", DGJ_AUDIT_C_OBJECT, 0 },
    { "ms", DGJ_AUDIT_C_LATENCY, 1 },
    { "bytes_in", DGJ_AUDIT_C_IN, 1 },
    { "bytes_out", DGJ_AUDIT_C_OUT, 1 },
    { NULL, 0, 0 }
};


static dgj_rc_t
dgj_audit_row_json(dgj_req_t *r, void *data, const dgj_db_col_t *cols,
    size_t ncols)
{
    char               when[32];
    size_t             i;
    json_t            *row, *v;
    unsigned           flags;
    dgj_audit_walk_t  *w = data;

    if (ncols != DGJ_AUDIT_NCOLS) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "audit row: %zu columns",
                            ncols);
    }

    dgj_audit_last(w, cols);

    flags = dgj_audit_row_flags(cols, w->bursts);
    if (w->flagged_only && flags == 0) {
        return DGJ_OK;
    }

    row = json_object();
    if (row == NULL || json_array_append_new(w->records, row) != 0) {
        return DGJ_ERR_NOMEM;
    }

    dgj_audit_ms_local(w->last.ms, when, sizeof(when));

    if (json_object_set_new(row, "time", json_string(when)) != 0) {
        return DGJ_ERR_NOMEM;
    }

    for (i = 0; dgj_audit_fields[i].key != NULL; i++) {
        v = dgj_audit_fields[i].num
            ? dgj_audit_int(&cols[dgj_audit_fields[i].col])
            : dgj_audit_str(&cols[dgj_audit_fields[i].col]);

        if (v == NULL || json_object_set_new(row, dgj_audit_fields[i].key, v)
                         != 0)
        {
            return DGJ_ERR_NOMEM;
        }
    }

    v = dgj_audit_flags_json(flags);
    if (v == NULL || json_object_set_new(row, "flags", v) != 0) {
        return DGJ_ERR_NOMEM;
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_audit_row_csv(dgj_req_t *r, void *data, const dgj_db_col_t *cols,
    size_t ncols)
{
    char               when[32], names[80];
    size_t             i, n;
    unsigned           flags, bit;
    const char        *name;
    dgj_audit_walk_t  *w = data;

    static const int  order[] = {
        DGJ_AUDIT_C_RID, DGJ_AUDIT_C_UID, DGJ_AUDIT_C_ROLES,
        DGJ_AUDIT_C_DEPT, DGJ_AUDIT_C_IP, DGJ_AUDIT_C_PORT,
        DGJ_AUDIT_C_METHOD, DGJ_AUDIT_C_PATH, DGJ_AUDIT_C_STATUS,
        DGJ_AUDIT_C_AUTH, DGJ_AUDIT_C_LIMIT, DGJ_AUDIT_C_ACTION,
        DGJ_AUDIT_C_OBJECT, DGJ_AUDIT_C_LATENCY, DGJ_AUDIT_C_IN,
        DGJ_AUDIT_C_OUT, DGJ_AUDIT_C_UA
    };

    if (ncols != DGJ_AUDIT_NCOLS) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "audit row: %zu columns",
                            ncols);
    }

    dgj_audit_last(w, cols);

    dgj_audit_ms_local(w->last.ms, when, sizeof(when));
    dgj_audit_csv_cell(w->csv, when, strlen(when), 0);

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        dgj_audit_csv_cell(w->csv, cols[order[i]].s, cols[order[i]].len, 0);
    }

    flags = dgj_audit_row_flags(cols, NULL);
    n = 0;
    names[0] = '\0';

    for (bit = 1; bit <= DGJ_AUDIT_FLAG_BURST; bit <<= 1) {
        name = dgj_audit_flag_name(bit);
        if ((flags & bit) && name != NULL) {
            n += (size_t) snprintf(names + n, sizeof(names) - n, "%s%s",
                                   n ? ";" : "", name);
        }
    }

    dgj_audit_csv_cell(w->csv, names, strlen(names), 0);
    dgj_audit_csv_cell(w->csv, cols[DGJ_AUDIT_C_CHAIN].s,
                       cols[DGJ_AUDIT_C_CHAIN].len, 0);
    dgj_audit_csv_cell(w->csv, cols[DGJ_AUDIT_C_SEQ].s,
                       cols[DGJ_AUDIT_C_SEQ].len, 0);
    dgj_audit_csv_cell(w->csv, cols[DGJ_AUDIT_C_ID].s,
                       cols[DGJ_AUDIT_C_ID].len, 1);

    return w->csv->failed ? DGJ_ERR_NOMEM : DGJ_OK;
}


/* the row's place in the order, for the next cursor */
static void
dgj_audit_last(dgj_audit_walk_t *w, const dgj_db_col_t *cols)
{
    dgj_audit_cursor_t  *c;

    c = &w->last;
    c->id = cols[DGJ_AUDIT_C_ID].s
            ? strtoull(cols[DGJ_AUDIT_C_ID].s, NULL, 10) : 0;
    c->ms = cols[DGJ_AUDIT_C_MS].s
            ? strtoll(cols[DGJ_AUDIT_C_MS].s, NULL, 10) : 0;

    if (c->id > w->max_id) {
        w->max_id = c->id;
    }

    w->rows++;
}


static unsigned
dgj_audit_row_flags(const dgj_db_col_t *cols, json_t *bursts)
{
    long        status;
    unsigned    flags;
    const char *ip;

    flags = dgj_audit_flags_ua(cols[DGJ_AUDIT_C_UA].s)
            | dgj_audit_flags_path(cols[DGJ_AUDIT_C_PATH].s);

    status = cols[DGJ_AUDIT_C_STATUS].s
             ? strtol(cols[DGJ_AUDIT_C_STATUS].s, NULL, 10) : 0;
    ip = cols[DGJ_AUDIT_C_IP].s;

    if (bursts != NULL && ip != NULL
        && (status == 401 || status == 403 || status == 429)
        && json_object_get(bursts, ip) != NULL)
    {
        flags |= DGJ_AUDIT_FLAG_BURST;
    }

    return flags;
}


static json_t *
dgj_audit_flags_json(unsigned flags)
{
    json_t      *a;
    unsigned     bit;
    const char  *name;

    a = json_array();
    if (a == NULL) {
        return NULL;
    }

    for (bit = 1; bit <= DGJ_AUDIT_FLAG_BURST; bit <<= 1) {
        name = dgj_audit_flag_name(bit);

        if ((flags & bit) && name != NULL
            && json_array_append_new(a, json_string(name)) != 0)
        {
            json_decref(a);
            return NULL;
        }
    }

    return a;
}


static json_t *
dgj_audit_int(const dgj_db_col_t *col)
{
    if (col->s == NULL) {
        return json_null();
    }

    return json_integer((json_int_t) strtoll(col->s, NULL, 10));
}


static json_t *
dgj_audit_str(const dgj_db_col_t *col)
{
    json_t  *v;

    if (col->s == NULL) {
        return json_null();
    }

    /* the table is utf8mb4; a NULL here is out of memory */
    v = json_stringn(col->s, col->len);

    return v;
}


typedef struct {
    json_t  *list;
    json_t  *by_ip;
} dgj_audit_bursts_t;


static dgj_rc_t
dgj_audit_bursts(dgj_req_t *r, int64_t now, int64_t window, int64_t min,
    json_t **list, json_t **by_ip)
{
    char                from_s[24], to_s[24];
    dgj_rc_t            rc;
    dgj_audit_bursts_t  b;

    b.list = dgj_json_own(r, json_array());
    b.by_ip = dgj_json_own(r, json_object());
    if (b.list == NULL || b.by_ip == NULL) {
        return DGJ_ERR_NOMEM;
    }

    dgj_audit_ms_sql(now - window, from_s, sizeof(from_s));
    dgj_audit_ms_sql(now + DGJ_AUDIT_AHEAD_MS, to_s, sizeof(to_s));

    rc = dgj_db_rows_each(r, &dgj_audit_sql_bursts,
                          DGJ_ARGS(DGJ_STR(from_s), DGJ_STR(to_s),
                                   DGJ_I64(min)),
                          dgj_audit_burst_row, &b);
    if (rc != DGJ_OK) {
        return rc;
    }

    *list = b.list;
    *by_ip = b.by_ip;

    return DGJ_OK;
}


static dgj_rc_t
dgj_audit_burst_row(dgj_req_t *r, void *data, const dgj_db_col_t *cols,
    size_t ncols)
{
    char                 first[32], last[32];
    json_t              *row;
    dgj_audit_bursts_t  *b = data;

    if (ncols != 7 || cols[0].s == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "audit bursts: bad row");
    }

    dgj_audit_ms_local(strtoll(cols[5].s, NULL, 10), first, sizeof(first));
    dgj_audit_ms_local(strtoll(cols[6].s, NULL, 10), last, sizeof(last));

    row = json_pack("{s:s%, s:o, s:{s:o, s:o, s:o}, s:s, s:s}",
                    "ip", cols[0].s, cols[0].len,
                    "refusals", dgj_audit_int(&cols[1]),
                    "by_status", "401", dgj_audit_int(&cols[2]),
                    "403", dgj_audit_int(&cols[3]),
                    "429", dgj_audit_int(&cols[4]),
                    "first", first, "last", last);

    if (row == NULL || json_array_append_new(b->list, row) != 0
        || json_object_set(b->by_ip, cols[0].s,
                           json_object_get(row, "refusals")) != 0)
    {
        return DGJ_ERR_NOMEM;
    }

    return DGJ_OK;
}
