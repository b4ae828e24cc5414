
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_verify.c: POST /api/v1/audit/verify, the console's one
 * button that verifies a time range of the stored log: every chain with
 * lines in the range is walked in seq order from its first to its last
 * line there, anchored on the line just before (or, where retention took
 * that, on the first checkpoint), plus the line just after, so that
 * lines cut from either end show as a gap.  Each line's MAC is checked
 * by the chain library (dgj_audit_chain.h) over the stored raw bytes,
 * and the columns the console shows are checked against those bytes: an
 * attacker with database access edits a column, not the signed line.
 * The report names the first bad line by chain and seq.
 */


#include "dgj_core.h"
#include "dgj_audit.h"
#include "dgj_audit_chain.h"
#include "dgj_accounts.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_log.h"


/* lines one call may verify: about 10 s of a worker (docs/audit.md) */
#define DGJ_AUDIT_VERIFY_MAX     1000000
#define DGJ_AUDIT_VERIFY_BATCH   5000
#define DGJ_AUDIT_VERIFY_CHAINS  1000
#define DGJ_AUDIT_VERIFY_RANGE   (366 * 86400 * 1000LL)


static const dgj_sql_t  dgj_audit_sql_chains = {
    "audit.verify_chains",
    "SELECT chain, MIN(seq) AS lo, MAX(seq) AS hi"
    "  FROM audit_records"
    " WHERE ts >= ? AND ts < ?"
    " GROUP BY chain"
    " ORDER BY chain"
    " LIMIT 1001"
};

/* the line just before the range in its chain: trusted, not checked */
static const dgj_sql_t  dgj_audit_sql_anchor = {
    "audit.verify_anchor",
    "SELECT raw"
    "  FROM audit_records"
    " WHERE chain = ? AND seq < ?"
    " ORDER BY seq DESC, ts DESC"
    " LIMIT 1"
};

/* without an anchor: where the chain can be verified from */
static const dgj_sql_t  dgj_audit_sql_restart = {
    "audit.verify_restart",
    "SELECT seq"
    "  FROM audit_records"
    " WHERE chain = ? AND seq >= ? AND seq <= ?"
    "   AND (line_type = 'ckpt' OR (line_type = 'start' AND seq = 0))"
    " ORDER BY seq"
    " LIMIT 1"
};

/* a chain's lines in seq order, after (seq, ts): duplicates included */
static const dgj_sql_t  dgj_audit_sql_lines = {
    "audit.verify_lines",
    DGJ_AUDIT_COLUMNS ", line_type, raw,"
    "       DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f')"
    "  FROM audit_records"
    " WHERE chain = ? AND (seq > ? OR (seq = ? AND ts > ?)) AND seq <= ?"
    " ORDER BY seq, ts"
    " LIMIT ?"
};

static const dgj_sql_t  dgj_audit_sql_bad = {
    "audit.verify_bad",
    "SELECT id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01', ts) DIV 1000,"
    "       request_id"
    "  FROM audit_records"
    " WHERE chain = ? AND seq = ?"
    " ORDER BY ts"
    " LIMIT 1"
};


/* the columns after DGJ_AUDIT_COLUMNS in dgj_audit_sql_lines */
enum {
    DGJ_AUDIT_V_TYPE = DGJ_AUDIT_NCOLS, DGJ_AUDIT_V_RAW, DGJ_AUDIT_V_TS,
    DGJ_AUDIT_V_NCOLS
};


typedef enum {
    DGJ_AUDIT_F_STR = 0,
    DGJ_AUDIT_F_NUM,
    DGJ_AUDIT_F_TIME
} dgj_audit_fkind_t;


/* a line's field, the column that stores it, and how they compare */
static const struct {
    const char         *key;
    int                 col;
    dgj_audit_fkind_t   kind;
    size_t              cut;        /* characters the column keeps; 0 all */
} dgj_audit_vfields[] = {
    { "t", DGJ_AUDIT_V_TYPE, DGJ_AUDIT_F_STR, 0 },
    { "c", DGJ_AUDIT_C_CHAIN, DGJ_AUDIT_F_STR, 0 },
    { "seq", DGJ_AUDIT_C_SEQ, DGJ_AUDIT_F_NUM, 0 },
    { "time", DGJ_AUDIT_C_MS, DGJ_AUDIT_F_TIME, 0 },
    { "rid", DGJ_AUDIT_C_RID, DGJ_AUDIT_F_STR, 0 },
    { "uid", DGJ_AUDIT_C_UID, DGJ_AUDIT_F_NUM, 0 },
    { "roles", DGJ_AUDIT_C_ROLES, DGJ_AUDIT_F_STR, 128 },
    { "dept", DGJ_AUDIT_C_DEPT, DGJ_AUDIT_F_NUM, 0 },
    { "ip", DGJ_AUDIT_C_IP, DGJ_AUDIT_F_STR, 0 },
    { "port", DGJ_AUDIT_C_PORT, DGJ_AUDIT_F_NUM, 0 },
    { "ua", DGJ_AUDIT_C_UA, DGJ_AUDIT_F_STR, 512 },
    { "method", DGJ_AUDIT_C_METHOD, DGJ_AUDIT_F_STR, 16 },
    { "path", DGJ_AUDIT_C_PATH, DGJ_AUDIT_F_STR, 2048 },
    { "status", DGJ_AUDIT_C_STATUS, DGJ_AUDIT_F_NUM, 0 },
    { "auth", DGJ_AUDIT_C_AUTH, DGJ_AUDIT_F_STR, 16 },
    { "limit", DGJ_AUDIT_C_LIMIT, DGJ_AUDIT_F_STR, 16 },
    { "action", DGJ_AUDIT_C_ACTION, DGJ_AUDIT_F_STR, 64 },
    { "object", DGJ_AUDIT_C_OBJECT, DGJ_AUDIT_F_STR, 64 },
    { "ms", DGJ_AUDIT_C_LATENCY, DGJ_AUDIT_F_NUM, 0 },
    { "in", DGJ_AUDIT_C_IN, DGJ_AUDIT_F_NUM, 0 },
    { "out", DGJ_AUDIT_C_OUT, DGJ_AUDIT_F_NUM, 0 },
    { NULL, 0, 0, 0 }
};


typedef struct {
    dgj_audit_verifier_t  *v;
    char                  *buf;     /* DGJ_AUDIT_LINE_MAX + 1 bytes */
    uint64_t               seq;     /* keyset: the last line walked */
    char                   ts[32];
    size_t                 rows;
    unsigned               bad:1;
    char                   chain[DGJ_AUDIT_CHAIN_MAX + 1];
    uint64_t               bad_seq;
    char                   reason[200];
} dgj_audit_vwalk_t;


static dgj_rc_t dgj_audit_verify_chain(dgj_req_t *r, dgj_audit_vwalk_t *w,
    const char *chain, uint64_t lo, uint64_t hi, json_t *out);
static dgj_rc_t dgj_audit_verify_walk(dgj_req_t *r, dgj_audit_vwalk_t *w,
    const char *chain, uint64_t hi, int64_t limit);
static dgj_rc_t dgj_audit_verify_row(dgj_req_t *r, void *data,
    const dgj_db_col_t *cols, size_t ncols);
static const char *dgj_audit_verify_columns(dgj_audit_vwalk_t *w,
    const dgj_db_col_t *cols);
static int dgj_audit_verify_same(const dgj_db_col_t *col, const char *raw,
    dgj_audit_fkind_t kind, size_t cut);
static json_t *dgj_audit_verify_bad(dgj_req_t *r, dgj_audit_vwalk_t *w);
static void dgj_audit_verify_free(void *data);


/*
 * POST /api/v1/audit/verify {"from": time, "to": time}, or GET with them
 * in the query: verifying changes nothing, and the console's page asks
 * through a subrequest, which nginx sends with its own request's method.
 */

dgj_rc_t
dgj_audit_verify(dgj_req_t *r)
{
    char                  err[256], from_sql[24], to_sql[24], a[32], b[32],
                          object[40];
    json_t               *body, *rows, *row, *chains, *reply, *bad;
    size_t                i;
    int64_t               from_ms, to_ms;
    uint64_t              lo, hi, total;
    dgj_rc_t              rc;
    const char           *from, *to, *chain;
    dgj_identity_t        id;
    dgj_audit_vwalk_t     w;
    dgj_audit_report_t    rep;
    dgj_pool_cleanup_t   *cln;

    static const char *const  keys[] = { "from", "to", NULL };

    rc = dgj_identity_require(r, &id, dgj_audit_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (strcmp(r->method, "POST") == 0) {
        if ((rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
            || (rc = dgj_accounts_req_str(r, body, "from", 40, &from))
               != DGJ_OK
            || (rc = dgj_accounts_req_str(r, body, "to", 40, &to))
               != DGJ_OK)
        {
            return rc;
        }

    } else if ((rc = dgj_req_arg(r, "from", &from)) != DGJ_OK
               || (rc = dgj_req_arg(r, "to", &to)) != DGJ_OK)
    {
        return rc;

    } else if (from == NULL || to == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"from\" and \"to\" are "
                            "required");
    }

    if (dgj_audit_ms_parse(from, &from_ms) != 0
        || dgj_audit_ms_parse(to, &to_ms) != 0)
    {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_time",
                                 "\"from\" and \"to\" must be times such "
                                 "as 2026-11-30T21:15 (UTC+8 unless a zone "
                                 "follows)");
    }

    if (from_ms >= to_ms || to_ms - from_ms > DGJ_AUDIT_VERIFY_RANGE) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_range",
                                 "\"from\" must be before \"to\", at most "
                                 "366 days apart");
    }

    dgj_audit_ms_local(from_ms, a, sizeof(a));
    dgj_audit_ms_local(to_ms, b, sizeof(b));

    snprintf(object, sizeof(object), "%.4s%.2s%.2sT%.2s%.2s%.2s-"
             "%.4s%.2s%.2sT%.2s%.2s%.2s", a, a + 5, a + 8, a + 11, a + 14,
             a + 17, b, b + 5, b + 8, b + 11, b + 14, b + 17);

    rc = dgj_req_audit(r, "audit.verify", object);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_audit_ms_sql(from_ms, from_sql, sizeof(from_sql));
    dgj_audit_ms_sql(to_ms, to_sql, sizeof(to_sql));

    rc = dgj_db_rows_json(r, &dgj_audit_sql_chains,
                          DGJ_ARGS(DGJ_STR(from_sql), DGJ_STR(to_sql)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_array_size(rows) > DGJ_AUDIT_VERIFY_CHAINS) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "range_too_large",
                                 "more than %d chains in this range: "
                                 "verify a shorter one",
                                 DGJ_AUDIT_VERIFY_CHAINS);
    }

    total = 0;

    json_array_foreach(rows, i, row) {
        lo = (uint64_t) json_integer_value(json_object_get(row, "lo"));
        hi = (uint64_t) json_integer_value(json_object_get(row, "hi"));
        total += hi - lo + 1;
    }

    if (total > DGJ_AUDIT_VERIFY_MAX) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "range_too_large",
                                 "about %llu lines in this range; one call "
                                 "verifies at most %d: split the range",
                                 (unsigned long long) total,
                                 DGJ_AUDIT_VERIFY_MAX);
    }

    if (r->conf->audit_verify_key[0] == '\0'
        || r->conf->audit_checkpoint_pub[0] == '\0')
    {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "audit_verify_key or "
                            "audit_checkpoint_pub is not configured");
    }

    memset(&w, 0, sizeof(w));

    w.buf = dgj_palloc(r->pool, DGJ_AUDIT_LINE_MAX + 1);
    cln = dgj_pool_cleanup_add(r->pool, 0);
    if (w.buf == NULL || cln == NULL) {
        return DGJ_ERR_NOMEM;
    }

    w.v = dgj_audit_verifier_new(r->conf->audit_verify_key,
                                 r->conf->audit_checkpoint_pub,
                                 err, sizeof(err));
    if (w.v == NULL) {
        dgj_log(DGJ_LOG_ERROR, "audit", "verifier: %s", err);
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "the verify key cannot "
                            "be read");
    }

    cln->handler = dgj_audit_verify_free;
    cln->data = w.v;

    chains = dgj_json_own(r, json_array());
    if (chains == NULL) {
        return DGJ_ERR_NOMEM;
    }

    json_array_foreach(rows, i, row) {
        chain = json_string_value(json_object_get(row, "chain"));
        lo = (uint64_t) json_integer_value(json_object_get(row, "lo"));
        hi = (uint64_t) json_integer_value(json_object_get(row, "hi"));

        if (chain == NULL) {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "chain without id");
        }

        rc = dgj_audit_verify_chain(r, &w, chain, lo, hi, chains);
        if (rc != DGJ_OK) {
            return rc;
        }

        if (w.bad) {
            break;
        }
    }

    /* a chain that a later chain follows must reach the seq it saw */
    if (!w.bad && dgj_audit_verifier_finish(w.v, 0) != 0) {
        dgj_audit_verifier_report(w.v, &rep);
        w.bad = 1;
        memcpy(w.chain, rep.chain, sizeof(w.chain));
        w.bad_seq = rep.bad_seq;
        snprintf(w.reason, sizeof(w.reason), "%s", rep.reason);
    }

    dgj_audit_verifier_report(w.v, &rep);

    bad = json_null();

    if (w.bad) {
        bad = dgj_audit_verify_bad(r, &w);
        if (bad == NULL) {
            return DGJ_ERR_NOMEM;
        }

        dgj_log(DGJ_LOG_WARN, "audit", "verify %s .. %s: chain %s seq %llu: "
                "%s", a, b, w.chain, (unsigned long long) w.bad_seq,
                w.reason);
    }

    reply = dgj_json_own(r, json_pack("{s:s, s:s, s:b, s:I, s:O, s:o}",
                                      "from", a, "to", b, "ok", !w.bad,
                                      "records", (json_int_t) rep.records,
                                      "chains", chains, "first_bad", bad));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/*
 * One chain: anchor it on the line before lo (or, without one, start at
 * its start line or first checkpoint in lo..hi), walk lo..hi in batches,
 * then the one line after hi.  Adds a summary to out.
 */
static dgj_rc_t
dgj_audit_verify_chain(dgj_req_t *r, dgj_audit_vwalk_t *w,
    const char *chain, uint64_t lo, uint64_t hi, json_t *out)
{
    json_t        *rows, *summary, *from_ckpt;
    int64_t        restart;
    dgj_rc_t       rc;
    const char    *raw;
    size_t         before;

    from_ckpt = json_null();

    rc = dgj_db_rows_json(r, &dgj_audit_sql_anchor,
                          DGJ_ARGS(DGJ_STR(chain), DGJ_I64((int64_t) lo)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    raw = json_string_value(json_object_get(json_array_get(rows, 0), "raw"));

    if (raw != NULL) {
        if (dgj_audit_verifier_anchor(w->v, raw, strlen(raw)) != 0) {
            w->bad = 1;
            snprintf(w->chain, sizeof(w->chain), "%s", chain);
            w->bad_seq = lo - 1;
            snprintf(w->reason, sizeof(w->reason), "the line before the "
                     "range is not an audit line (damaged)");
            return DGJ_OK;
        }

    } else if (lo > 0) {
        /* retention took the lines before: a checkpoint pins the head */
        rc = dgj_db_row(r, &dgj_audit_sql_restart,
                        DGJ_ARGS(DGJ_STR(chain), DGJ_I64((int64_t) lo),
                                 DGJ_I64((int64_t) hi)),
                        DGJ_OUTS(DGJ_OUT_I64(&restart)));

        if (rc == DGJ_OK && (uint64_t) restart > lo) {
            from_ckpt = json_integer(restart);
            lo = (uint64_t) restart;

        } else if (rc != DGJ_OK && rc != DGJ_ERR_NOT_FOUND) {
            return rc;
        }
    }

    before = w->rows;
    w->seq = lo;
    snprintf(w->ts, sizeof(w->ts), "1000-01-01 00:00:00.000");

    rc = dgj_audit_verify_walk(r, w, chain, hi, DGJ_AUDIT_VERIFY_BATCH);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* the line after the range: lines cut from its end show as a gap */
    if (!w->bad) {
        rc = dgj_audit_verify_walk(r, w, chain, INT64_MAX, 1);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    summary = json_pack("{s:s, s:I, s:I, s:I, s:b, s:o}",
                        "chain", chain,
                        "first_seq", (json_int_t) lo,
                        "last_seq", (json_int_t) hi,
                        "lines", (json_int_t) (w->rows - before),
                        "anchored", raw != NULL,
                        "from_checkpoint", from_ckpt);

    if (summary == NULL || json_array_append_new(out, summary) != 0) {
        return DGJ_ERR_NOMEM;
    }

    return DGJ_OK;
}


/* lines of chain after (w->seq, w->ts) up to seq hi, limit per batch */
static dgj_rc_t
dgj_audit_verify_walk(dgj_req_t *r, dgj_audit_vwalk_t *w, const char *chain,
    uint64_t hi, int64_t limit)
{
    size_t     before;
    dgj_rc_t   rc;

    for ( ;; ) {
        before = w->rows;

        rc = dgj_db_rows_each(r, &dgj_audit_sql_lines,
                              DGJ_ARGS(DGJ_STR(chain),
                                       DGJ_I64((int64_t) w->seq),
                                       DGJ_I64((int64_t) w->seq),
                                       DGJ_STR(w->ts),
                                       DGJ_I64((int64_t) hi),
                                       DGJ_I64(limit)),
                              dgj_audit_verify_row, w);

        if (w->bad) {
            return DGJ_OK;
        }

        if (rc != DGJ_OK) {
            return rc;
        }

        if (w->rows - before < (size_t) limit || limit == 1) {
            return DGJ_OK;
        }
    }
}


static dgj_rc_t
dgj_audit_verify_row(dgj_req_t *r, void *data, const dgj_db_col_t *cols,
    size_t ncols)
{
    const char          *field;
    dgj_audit_vwalk_t   *w = data;
    dgj_audit_report_t   rep;

    if (ncols != DGJ_AUDIT_V_NCOLS || cols[DGJ_AUDIT_V_RAW].s == NULL
        || cols[DGJ_AUDIT_C_SEQ].s == NULL || cols[DGJ_AUDIT_V_TS].s == NULL)
    {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "audit verify: bad row");
    }

    w->rows++;
    w->seq = strtoull(cols[DGJ_AUDIT_C_SEQ].s, NULL, 10);
    snprintf(w->ts, sizeof(w->ts), "%s", cols[DGJ_AUDIT_V_TS].s);

    if (dgj_audit_verifier_feed(w->v, cols[DGJ_AUDIT_V_RAW].s,
                                cols[DGJ_AUDIT_V_RAW].len) != 0)
    {
        dgj_audit_verifier_report(w->v, &rep);
        w->bad = 1;
        memcpy(w->chain, rep.chain, sizeof(w->chain));
        w->bad_seq = rep.bad_seq;
        snprintf(w->reason, sizeof(w->reason), "%s", rep.reason);

        /* stops the walk; the handler reports, nothing failed */
        return DGJ_ERR_CONFLICT;
    }

    field = dgj_audit_verify_columns(w, cols);

    if (field != NULL) {
        w->bad = 1;
        snprintf(w->chain, sizeof(w->chain), "%s",
                 cols[DGJ_AUDIT_C_CHAIN].s ? cols[DGJ_AUDIT_C_CHAIN].s : "");
        w->bad_seq = w->seq;
        snprintf(w->reason, sizeof(w->reason), "the stored %s differs from "
                 "the signed line (the row was edited in the database)",
                 field);

        return DGJ_ERR_CONFLICT;
    }

    return DGJ_OK;
}


/* The name of the first column that says otherwise than raw, or NULL. */
static const char *
dgj_audit_verify_columns(dgj_audit_vwalk_t *w, const dgj_db_col_t *cols)
{
    int          found;
    size_t       i;
    const char  *raw;

    raw = cols[DGJ_AUDIT_V_RAW].s;

    for (i = 0; dgj_audit_vfields[i].key != NULL; i++) {
        found = dgj_audit_line_field(raw, cols[DGJ_AUDIT_V_RAW].len,
                                     dgj_audit_vfields[i].key, w->buf,
                                     DGJ_AUDIT_LINE_MAX + 1);
        if (found < 0) {
            return dgj_audit_vfields[i].key;
        }

        if (!dgj_audit_verify_same(&cols[dgj_audit_vfields[i].col],
                                   found ? w->buf : NULL,
                                   dgj_audit_vfields[i].kind,
                                   dgj_audit_vfields[i].cut))
        {
            return dgj_audit_vfields[i].key;
        }
    }

    return NULL;
}


/*
 * A column against the line's value (NULL: absent or null in the line,
 * which the ingester stores as NULL, '' or 0).  cut: the column keeps
 * that many characters of a longer value.
 */
static int
dgj_audit_verify_same(const dgj_db_col_t *col, const char *raw,
    dgj_audit_fkind_t kind, size_t cut)
{
    size_t        n, chars, len;
    int64_t       ms;
    const char   *p;

    if (raw == NULL) {
        return col->s == NULL || col->len == 0
               || (kind == DGJ_AUDIT_F_NUM && strcmp(col->s, "0") == 0);
    }

    if (col->s == NULL) {
        return 0;
    }

    if (kind == DGJ_AUDIT_F_TIME) {
        return dgj_audit_ms_parse(raw, &ms) == 0
               && ms == strtoll(col->s, NULL, 10);
    }

    len = strlen(raw);

    if (col->len == len && memcmp(col->s, raw, len) == 0) {
        return 1;
    }

    if (cut == 0 || col->len >= len || memcmp(col->s, raw, col->len) != 0) {
        return 0;
    }

    /* cut at a character boundary after exactly cut characters */
    chars = 0;
    for (p = col->s; p < col->s + col->len; p += n) {
        n = dgj_req_utf8_len((const unsigned char *) p,
                             (size_t) (col->s + col->len - p));
        if (n == 0) {
            return 0;
        }

        chars++;
    }

    return chars == cut;
}


static json_t *
dgj_audit_verify_bad(dgj_req_t *r, dgj_audit_vwalk_t *w)
{
    char         when[32];
    json_t      *bad;
    int64_t      id, ms;
    dgj_rc_t     rc;
    const char  *rid;

    bad = json_pack("{s:s, s:I, s:s}", "chain", w->chain,
                    "seq", (json_int_t) w->bad_seq, "reason", w->reason);
    if (bad == NULL) {
        return NULL;
    }

    /* the stored line of that seq, when there is one (a gap has none) */
    rc = dgj_db_row(r, &dgj_audit_sql_bad,
                    DGJ_ARGS(DGJ_STR(w->chain),
                             DGJ_I64((int64_t) w->bad_seq)),
                    DGJ_OUTS(DGJ_OUT_I64(&id), DGJ_OUT_I64(&ms),
                             DGJ_OUT_STR(&rid)));

    if (rc == DGJ_OK) {
        dgj_audit_ms_local(ms, when, sizeof(when));
        json_object_set_new(bad, "id", json_integer(id));
        json_object_set_new(bad, "time", json_string(when));
        json_object_set_new(bad, "request_id",
                            rid ? json_string(rid) : json_null());

    } else {
        dgj_req_fail_clear(r);
    }

    return bad;
}


static void
dgj_audit_verify_free(void *data)
{
    dgj_audit_verifier_free(data);
}
