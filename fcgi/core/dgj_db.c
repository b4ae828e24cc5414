
/*
 * Copyright (C) Daguanjia
 *
 * dgj_db.c: the worker's MariaDB connection, its statement cache, typed
 * binding, result conversion (JSON rows, typed row), transactions, the
 * explicit reconnect and the DGJ_TEST_DB_DROP_BEFORE fault hook.  The
 * only file including mysql.h.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_digits.h"

#include <sys/socket.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>


typedef struct {
    const dgj_sql_t  *sql;
    MYSQL_STMT       *stmt;
} dgj_db_stmt_t;


struct dgj_db_s {
    MYSQL              *mysql;
    const dgj_conf_t   *conf;
    dgj_db_stmt_t      *stmts;
    size_t              nstmts;
    size_t              nalloc;
    unsigned long       execs;
    unsigned long       drop_before;
    unsigned            in_tx:1;
    unsigned            tx_lost:1;  /* lost mid-transaction: every call
                                       fails until rollback */
};


typedef enum {
    DGJ_DB_STORE_NONE = 0,
    DGJ_DB_STORE_RESULT
} dgj_db_store_t;


/* The output side of one fetch, allocated from r->pool */
typedef struct {
    MYSQL_BIND     *bind;
    char          **bufs;
    unsigned long  *lens;
    my_bool        *nulls;
} dgj_db_result_t;


static dgj_rc_t dgj_db_run(dgj_req_t *r, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs, dgj_db_store_t store,
    MYSQL_STMT **out);
static unsigned dgj_db_try(dgj_req_t *r, const dgj_sql_t *sql,
    MYSQL_BIND *bind, size_t nargs, dgj_db_store_t store, MYSQL_STMT **out,
    dgj_rc_t *rc);
static dgj_rc_t dgj_db_connect(dgj_req_t *r);
static void dgj_db_disconnect(dgj_db_t *db);
static MYSQL_STMT *dgj_db_cached(dgj_db_t *db, const dgj_sql_t *sql);
static int dgj_db_cache_add(dgj_db_t *db, const dgj_sql_t *sql,
    MYSQL_STMT *stmt);
static void dgj_db_cache_drop(dgj_db_t *db, const dgj_sql_t *sql);
static int dgj_db_lost(unsigned err);
static dgj_rc_t dgj_db_error(dgj_req_t *r, const dgj_sql_t *sql,
    unsigned err, const char *sqlstate);
static size_t dgj_db_date(char *out, const MYSQL_TIME *t, int with_time);
static json_t *dgj_db_value(MYSQL_FIELD *f, MYSQL_BIND *b, char *buf,
    unsigned long len);
static void dgj_db_maybe_drop(dgj_db_t *db);
static dgj_rc_t dgj_db_result_alloc(dgj_req_t *r, size_t n,
    dgj_db_result_t *res);
static dgj_rc_t dgj_db_fetch(dgj_req_t *r, const dgj_sql_t *sql,
    MYSQL_STMT *stmt);


dgj_db_t *
dgj_db_create(const dgj_conf_t *conf)
{
    char       *env, *end;
    dgj_db_t   *db;

    db = calloc(1, sizeof(dgj_db_t));
    if (db == NULL) {
        return NULL;
    }

    db->conf = conf;

    env = getenv("DGJ_TEST_DB_DROP_BEFORE");
    if (env != NULL && *env >= '0' && *env <= '9') {
        db->drop_before = strtoul(env, &end, 10);
        if (*end != '\0') {
            db->drop_before = 0;
        }
    }

    return db;
}


void
dgj_db_destroy(dgj_db_t *db)
{
    if (db == NULL) {
        return;
    }

    dgj_db_disconnect(db);
    free(db->stmts);
    free(db);
}


void
dgj_db_request_end(dgj_db_t *db)
{
    if (db != NULL) {
        db->tx_lost = 0;
    }

    if (db == NULL || !db->in_tx) {
        return;
    }

    dgj_log(DGJ_LOG_ERROR, "db", "transaction left open by the handler, "
            "rolled back");

    db->in_tx = 0;

    if (db->mysql != NULL
        && (mysql_rollback(db->mysql) != 0
            || mysql_autocommit(db->mysql, 1) != 0))
    {
        dgj_db_disconnect(db);
    }
}


dgj_rc_t
dgj_db_exec(dgj_req_t *r, const dgj_sql_t *sql, const dgj_arg_t *args,
    size_t nargs, uint64_t *affected, uint64_t *insert_id)
{
    dgj_rc_t     rc;
    MYSQL_STMT  *stmt;

    rc = dgj_db_run(r, sql, args, nargs, DGJ_DB_STORE_NONE, &stmt);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (affected != NULL) {
        *affected = mysql_stmt_affected_rows(stmt);
    }

    if (insert_id != NULL) {
        *insert_id = mysql_stmt_insert_id(stmt);
    }

    mysql_stmt_free_result(stmt);

    return DGJ_OK;
}


dgj_rc_t
dgj_db_rows_json(dgj_req_t *r, const dgj_sql_t *sql, const dgj_arg_t *args,
    size_t nargs, json_t **rows)
{
    char             **bufs;
    json_t            *arr, *row, *v;
    size_t             i, ncols, size;
    dgj_rc_t           rc;
    MYSQL_RES         *meta;
    MYSQL_BIND        *bind;
    MYSQL_STMT        *stmt;
    MYSQL_FIELD       *fields;
    dgj_db_result_t    res;

    meta = NULL;

    rc = dgj_db_run(r, sql, args, nargs, DGJ_DB_STORE_RESULT, &stmt);
    if (rc != DGJ_OK) {
        return rc;
    }

    meta = mysql_stmt_result_metadata(stmt);
    if (meta == NULL) {
        rc = dgj_req_fail(r, DGJ_ERR_INTERNAL, "%s returns no result set",
                          sql->name);
        goto done;
    }

    ncols = mysql_num_fields(meta);
    fields = mysql_fetch_fields(meta);

    arr = dgj_json_own(r, json_array());
    if (arr == NULL) {
        rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for rows");
        goto done;
    }

    rc = dgj_db_result_alloc(r, ncols, &res);
    if (rc != DGJ_OK) {
        goto done;
    }

    bind = res.bind;
    bufs = res.bufs;

    for (i = 0; i < ncols; i++) {

        switch (fields[i].type) {

        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR:
            bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
            bind[i].is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
            size = sizeof(int64_t);
            break;

        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE:
            bind[i].buffer_type = MYSQL_TYPE_DOUBLE;
            size = sizeof(double);
            break;

        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_TIMESTAMP:
            bind[i].buffer_type = fields[i].type;
            size = sizeof(MYSQL_TIME);
            break;

        default:
            /* STMT_ATTR_UPDATE_MAX_LENGTH filled max_length */
            bind[i].buffer_type = MYSQL_TYPE_STRING;
            size = fields[i].max_length + 1;
            break;
        }

        bufs[i] = dgj_palloc(r->pool, size);
        if (bufs[i] == NULL) {
            rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for rows");
            goto done;
        }

        bind[i].buffer = bufs[i];
        bind[i].buffer_length = size;
    }

    if (mysql_stmt_bind_result(stmt, bind) != 0) {
        rc = dgj_db_error(r, sql, mysql_stmt_errno(stmt),
                          mysql_stmt_sqlstate(stmt));
        goto done;
    }

    for ( ;; ) {
        rc = dgj_db_fetch(r, sql, stmt);

        if (rc == DGJ_ERR_NOT_FOUND) {
            break;
        }

        if (rc != DGJ_OK) {
            goto done;
        }

        row = json_object();
        if (row == NULL || json_array_append_new(arr, row) != 0) {
            rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for rows");
            goto done;
        }

        for (i = 0; i < ncols; i++) {
            if (res.nulls[i]) {
                v = json_null();

            } else {
                v = dgj_db_value(&fields[i], &bind[i], bufs[i],
                                 res.lens[i]);
                if (v == NULL) {
                    rc = dgj_req_fail(r, DGJ_ERR_INTERNAL,
                                      "%s: column %s cannot be converted",
                                      sql->name, fields[i].name);
                    goto done;
                }
            }

            if (json_object_set_new(row, fields[i].name, v) != 0) {
                rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for rows");
                goto done;
            }
        }
    }

    *rows = arr;
    rc = DGJ_OK;

done:

    if (meta != NULL) {
        mysql_free_result(meta);
    }

    if (rc != DGJ_OK) {
        mysql_stmt_reset(stmt);

    } else {
        mysql_stmt_free_result(stmt);
    }

    return rc;
}


dgj_rc_t
dgj_db_row(dgj_req_t *r, const dgj_sql_t *sql, const dgj_arg_t *args,
    size_t nargs, const dgj_out_t *outs, size_t nouts)
{
    char             **bufs;
    size_t             i, size;
    dgj_rc_t           rc;
    MYSQL_RES         *meta;
    MYSQL_BIND        *bind;
    MYSQL_STMT        *stmt;
    MYSQL_FIELD       *fields;
    dgj_db_result_t    res;

    meta = NULL;

    rc = dgj_db_run(r, sql, args, nargs, DGJ_DB_STORE_RESULT, &stmt);
    if (rc != DGJ_OK) {
        return rc;
    }

    meta = mysql_stmt_result_metadata(stmt);
    if (meta == NULL || mysql_num_fields(meta) != nouts) {
        rc = dgj_req_fail(r, DGJ_ERR_INTERNAL,
                          "%s: result columns do not match %zu outputs",
                          sql->name, nouts);
        goto done;
    }

    fields = mysql_fetch_fields(meta);

    rc = dgj_db_result_alloc(r, nouts, &res);
    if (rc != DGJ_OK) {
        goto done;
    }

    bind = res.bind;
    bufs = res.bufs;

    for (i = 0; i < nouts; i++) {

        switch (outs[i].type) {

        case DGJ_OUT_I64:
            bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
            bind[i].buffer = outs[i].p.i64;
            bind[i].buffer_length = sizeof(int64_t);
            break;

        case DGJ_OUT_F64:
            bind[i].buffer_type = MYSQL_TYPE_DOUBLE;
            bind[i].buffer = outs[i].p.f64;
            bind[i].buffer_length = sizeof(double);
            break;

        case DGJ_OUT_STR:
            /* a temporal column converted to text has no max_length */
            size = fields[i].max_length < 64 ? 64 : fields[i].max_length;

            bufs[i] = dgj_palloc(r->pool, size + 1);
            if (bufs[i] == NULL) {
                rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for a row");
                goto done;
            }

            bind[i].buffer_type = MYSQL_TYPE_STRING;
            bind[i].buffer = bufs[i];
            bind[i].buffer_length = size + 1;
            break;
        }
    }

    if (mysql_stmt_bind_result(stmt, bind) != 0) {
        rc = dgj_db_error(r, sql, mysql_stmt_errno(stmt),
                          mysql_stmt_sqlstate(stmt));
        goto done;
    }

    rc = dgj_db_fetch(r, sql, stmt);
    if (rc != DGJ_OK) {
        goto done;
    }

    for (i = 0; i < nouts; i++) {
        switch (outs[i].type) {

        case DGJ_OUT_I64:
            if (res.nulls[i]) {
                *outs[i].p.i64 = 0;
            }

            break;

        case DGJ_OUT_F64:
            if (res.nulls[i]) {
                *outs[i].p.f64 = 0.0;
            }

            break;

        case DGJ_OUT_STR:
            *outs[i].p.str = NULL;

            if (!res.nulls[i]) {
                bufs[i][res.lens[i]] = '\0';
                *outs[i].p.str = bufs[i];
            }

            break;
        }
    }

    rc = DGJ_OK;

done:

    if (meta != NULL) {
        mysql_free_result(meta);
    }

    if (rc != DGJ_OK && rc != DGJ_ERR_NOT_FOUND) {
        mysql_stmt_reset(stmt);

    } else {
        mysql_stmt_free_result(stmt);
    }

    return rc;
}


dgj_rc_t
dgj_db_rows_each(dgj_req_t *r, const dgj_sql_t *sql, const dgj_arg_t *args,
    size_t nargs, dgj_db_row_pt cb, void *data)
{
    size_t            i, ncols, size;
    dgj_rc_t          rc;
    MYSQL_RES        *meta;
    MYSQL_STMT       *stmt;
    MYSQL_FIELD      *fields;
    dgj_db_col_t     *cols;
    dgj_db_result_t   res;

    meta = NULL;

    rc = dgj_db_run(r, sql, args, nargs, DGJ_DB_STORE_RESULT, &stmt);
    if (rc != DGJ_OK) {
        return rc;
    }

    meta = mysql_stmt_result_metadata(stmt);
    if (meta == NULL) {
        rc = dgj_req_fail(r, DGJ_ERR_INTERNAL, "%s returns no result set",
                          sql->name);
        goto done;
    }

    ncols = mysql_num_fields(meta);
    fields = mysql_fetch_fields(meta);

    rc = dgj_db_result_alloc(r, ncols, &res);
    if (rc != DGJ_OK) {
        goto done;
    }

    cols = dgj_pcalloc(r->pool, ncols * sizeof(dgj_db_col_t));
    if (cols == NULL) {
        rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for rows");
        goto done;
    }

    for (i = 0; i < ncols; i++) {
        /* numbers and times printed as text have no string max_length */
        size = fields[i].max_length < 64 ? 64 : fields[i].max_length;

        res.bufs[i] = dgj_palloc(r->pool, size + 1);
        if (res.bufs[i] == NULL) {
            rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for rows");
            goto done;
        }

        res.bind[i].buffer_type = MYSQL_TYPE_STRING;
        res.bind[i].buffer = res.bufs[i];
        res.bind[i].buffer_length = size + 1;
    }

    if (mysql_stmt_bind_result(stmt, res.bind) != 0) {
        rc = dgj_db_error(r, sql, mysql_stmt_errno(stmt),
                          mysql_stmt_sqlstate(stmt));
        goto done;
    }

    for ( ;; ) {
        rc = dgj_db_fetch(r, sql, stmt);

        if (rc == DGJ_ERR_NOT_FOUND) {
            rc = DGJ_OK;
            break;
        }

        if (rc != DGJ_OK) {
            goto done;
        }

        for (i = 0; i < ncols; i++) {
            if (res.nulls[i]) {
                cols[i].s = NULL;
                cols[i].len = 0;

            } else {
                res.bufs[i][res.lens[i]] = '\0';
                cols[i].s = res.bufs[i];
                cols[i].len = res.lens[i];
            }
        }

        rc = cb(r, data, cols, ncols);
        if (rc != DGJ_OK) {
            break;
        }
    }

done:

    if (meta != NULL) {
        mysql_free_result(meta);
    }

    if (rc != DGJ_OK) {
        mysql_stmt_reset(stmt);

    } else {
        mysql_stmt_free_result(stmt);
    }

    return rc;
}


dgj_rc_t
dgj_db_begin(dgj_req_t *r)
{
    int        attempt;
    unsigned   err;
    dgj_rc_t   rc;
    dgj_db_t  *db = r->db;

    if (db == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "no database handle");
    }

    if (db->tx_lost) {
        return dgj_req_fail(r, DGJ_ERR_DB, "transaction lost, not rolled "
                            "back");
    }

    if (db->in_tx) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "nested transaction");
    }

    for (attempt = 0; attempt < 2; attempt++) {
        if (db->mysql == NULL) {
            rc = dgj_db_connect(r);
            if (rc != DGJ_OK) {
                return rc;
            }
        }

        if (mysql_autocommit(db->mysql, 0) == 0) {
            db->in_tx = 1;
            return DGJ_OK;
        }

        err = mysql_errno(db->mysql);

        if (!dgj_db_lost(err)) {
            break;
        }

        /* nothing ran yet: reconnecting is safe */
        dgj_log(DGJ_LOG_WARN, "db", "connection lost (errno %u) at begin",
                err);
        dgj_db_disconnect(db);
    }

    return dgj_req_fail(r, DGJ_ERR_DB, "cannot begin a transaction");
}


dgj_rc_t
dgj_db_commit(dgj_req_t *r)
{
    unsigned   err;
    dgj_db_t  *db = r->db;

    if (db != NULL && db->tx_lost) {
        return dgj_req_fail(r, DGJ_ERR_DB, "transaction lost, nothing "
                            "committed");
    }

    if (db == NULL || !db->in_tx || db->mysql == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "commit without begin");
    }

    if (mysql_commit(db->mysql) != 0) {
        err = mysql_errno(db->mysql);

        dgj_log(DGJ_LOG_ERROR, "db", "commit failed: errno %u sqlstate %s",
                err, mysql_sqlstate(db->mysql));

        db->in_tx = 0;
        dgj_db_disconnect(db);

        return dgj_req_fail(r, DGJ_ERR_DB, "commit failed");
    }

    db->in_tx = 0;

    if (mysql_autocommit(db->mysql, 1) != 0) {
        dgj_db_disconnect(db);
    }

    return DGJ_OK;
}


void
dgj_db_rollback(dgj_req_t *r)
{
    dgj_db_t  *db = r->db;

    if (db != NULL) {
        db->tx_lost = 0;
    }

    if (db == NULL || !db->in_tx) {
        return;
    }

    db->in_tx = 0;

    if (db->mysql == NULL) {
        return;
    }

    if (mysql_rollback(db->mysql) != 0
        || mysql_autocommit(db->mysql, 1) != 0)
    {
        dgj_log(DGJ_LOG_WARN, "db", "rollback failed: errno %u, "
                "connection closed", mysql_errno(db->mysql));
        dgj_db_disconnect(db);
    }
}


static dgj_rc_t
dgj_db_run(dgj_req_t *r, const dgj_sql_t *sql, const dgj_arg_t *args,
    size_t nargs, dgj_db_store_t store, MYSQL_STMT **out)
{
    int          attempt;
    size_t       i;
    unsigned     err;
    dgj_rc_t     rc;
    dgj_db_t    *db = r->db;
    MYSQL_BIND  *bind;

    if (db == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "no database handle");
    }

    /*
     * After a connection died inside a transaction, a statement run now
     * would autocommit on a new connection: a partial write.  Refuse until
     * the handler rolls back.
     */
    if (db->tx_lost) {
        return dgj_req_fail(r, DGJ_ERR_DB, "transaction lost, not rolled "
                            "back");
    }

    bind = NULL;

    if (nargs > 0) {
        bind = dgj_pcalloc(r->pool, nargs * sizeof(MYSQL_BIND));
        if (bind == NULL) {
            return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for binds");
        }
    }

    for (i = 0; i < nargs; i++) {
        switch (args[i].type) {

        case DGJ_ARG_NULL:
            bind[i].buffer_type = MYSQL_TYPE_NULL;
            break;

        case DGJ_ARG_I64:
            bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
            bind[i].buffer = (void *) &args[i].v.i64;
            break;

        case DGJ_ARG_F64:
            bind[i].buffer_type = MYSQL_TYPE_DOUBLE;
            bind[i].buffer = (void *) &args[i].v.f64;
            break;

        case DGJ_ARG_STR:
            if (args[i].v.str.s == NULL) {
                bind[i].buffer_type = MYSQL_TYPE_NULL;
                break;
            }

            bind[i].buffer_type = MYSQL_TYPE_STRING;
            bind[i].buffer = (void *) args[i].v.str.s;
            bind[i].buffer_length = (args[i].v.str.len == (size_t) -1)
                                    ? strlen(args[i].v.str.s)
                                    : args[i].v.str.len;
            break;
        }
    }

    for (attempt = 0; ; attempt++) {

        if (db->mysql == NULL) {
            rc = dgj_db_connect(r);
            if (rc != DGJ_OK) {
                return rc;
            }
        }

        err = dgj_db_try(r, sql, bind, nargs, store, out, &rc);
        if (err == 0) {
            return rc;
        }

        if (dgj_db_lost(err)) {
            dgj_log(DGJ_LOG_WARN, "db", "connection lost (errno %u) "
                    "running %s%s", err, sql->name,
                    db->in_tx ? " inside a transaction" : "");

            dgj_db_disconnect(db);

            if (db->in_tx) {
                db->in_tx = 0;
                db->tx_lost = 1;
                return dgj_req_fail(r, DGJ_ERR_DB, "connection lost "
                                    "inside a transaction");
            }

            if (attempt == 0) {
                continue;
            }

            return dgj_req_fail(r, DGJ_ERR_DB, "connection lost twice");
        }

        /* the table changed under a cached statement (a migration):
         * prepare it again, once */
        if ((err == ER_NEED_REPREPARE || err == CR_NEW_STMT_METADATA)
            && attempt == 0)
        {
            dgj_db_cache_drop(db, sql);
            continue;
        }

        return rc;
    }
}


/*
 * One attempt: prepare (cached), bind, execute, store.  Returns 0 with
 * *rc set to the outcome when no retry can help, or the MariaDB errno
 * with *rc already mapped (the statement left reset).
 */
static unsigned
dgj_db_try(dgj_req_t *r, const dgj_sql_t *sql, MYSQL_BIND *bind,
    size_t nargs, dgj_db_store_t store, MYSQL_STMT **out, dgj_rc_t *rc)
{
    my_bool      on;
    unsigned     err;
    dgj_db_t    *db = r->db;
    MYSQL_STMT  *stmt;

    stmt = dgj_db_cached(db, sql);

    if (stmt == NULL) {
        stmt = mysql_stmt_init(db->mysql);
        if (stmt == NULL) {
            *rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for a "
                               "statement");
            return 0;
        }

        if (mysql_stmt_prepare(stmt, sql->text, strlen(sql->text)) != 0) {
            err = mysql_stmt_errno(stmt);
            *rc = dgj_db_error(r, sql, err, mysql_stmt_sqlstate(stmt));
            mysql_stmt_close(stmt);
            return err;
        }

        on = 1;
        mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &on);

        if (dgj_db_cache_add(db, sql, stmt) != 0) {
            mysql_stmt_close(stmt);
            *rc = dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the "
                               "statement cache");
            return 0;
        }
    }

    /* the connector tests' FAIL_IF(param_count != n), in production */
    if (mysql_stmt_param_count(stmt) != nargs) {
        dgj_log(DGJ_LOG_ERROR, "db", "%s takes %lu parameters, %zu given",
                sql->name, mysql_stmt_param_count(stmt), nargs);
        *rc = dgj_req_fail(r, DGJ_ERR_INTERNAL, "parameter count mismatch");
        return 0;
    }

    if (nargs > 0 && mysql_stmt_bind_param(stmt, bind) != 0) {
        err = mysql_stmt_errno(stmt);
        *rc = dgj_db_error(r, sql, err, mysql_stmt_sqlstate(stmt));
        return err;
    }

    dgj_db_maybe_drop(db);

    if (mysql_stmt_execute(stmt) != 0
        || (store == DGJ_DB_STORE_RESULT
            && mysql_stmt_store_result(stmt) != 0))
    {
        err = mysql_stmt_errno(stmt);
        *rc = dgj_db_error(r, sql, err, mysql_stmt_sqlstate(stmt));

        if (!dgj_db_lost(err)) {
            mysql_stmt_reset(stmt);
        }

        return err;
    }

    *out = stmt;
    *rc = DGJ_OK;

    return 0;
}


static dgj_rc_t
dgj_db_connect(dgj_req_t *r)
{
    MYSQL             *m;
    unsigned           v;
    dgj_db_t          *db = r->db;
    const dgj_conf_t  *conf = db->conf;

    m = mysql_init(NULL);
    if (m == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for a connection");
    }

    v = conf->db_connect_timeout;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &v);
    v = conf->db_read_timeout;
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &v);
    v = conf->db_write_timeout;
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &v);
    v = MYSQL_PROTOCOL_SOCKET;
    mysql_options(m, MYSQL_OPT_PROTOCOL, &v);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");

    if (mysql_real_connect(m, "localhost", conf->db_user, conf->db_password,
                           conf->db_name, 0, conf->db_socket, 0)
        == NULL)
    {
        /* connection errors carry no SQL values */
        dgj_log(DGJ_LOG_ERROR, "db", "connect as %s to %s failed: "
                "errno %u: %s", conf->db_user, conf->db_socket,
                mysql_errno(m), mysql_error(m));
        mysql_close(m);

        return dgj_req_fail(r, DGJ_ERR_DB, "cannot connect to the database");
    }

    db->mysql = m;
    db->in_tx = 0;

    dgj_log(DGJ_LOG_INFO, "db", "connected as %s to %s (thread %lu)",
            conf->db_user, conf->db_socket, mysql_thread_id(m));

    return DGJ_OK;
}


/* statements die with their connection; the cache must not outlive it */
static void
dgj_db_disconnect(dgj_db_t *db)
{
    size_t  i;

    for (i = 0; i < db->nstmts; i++) {
        mysql_stmt_close(db->stmts[i].stmt);
    }

    db->nstmts = 0;

    if (db->mysql != NULL) {
        mysql_close(db->mysql);
        db->mysql = NULL;
    }
}


static MYSQL_STMT *
dgj_db_cached(dgj_db_t *db, const dgj_sql_t *sql)
{
    size_t  i;

    for (i = 0; i < db->nstmts; i++) {
        if (db->stmts[i].sql == sql) {
            return db->stmts[i].stmt;
        }
    }

    return NULL;
}


static int
dgj_db_cache_add(dgj_db_t *db, const dgj_sql_t *sql, MYSQL_STMT *stmt)
{
    size_t          n;
    dgj_db_stmt_t  *s;

    if (db->nstmts == db->nalloc) {
        n = db->nalloc ? db->nalloc * 2 : 16;

        s = realloc(db->stmts, n * sizeof(dgj_db_stmt_t));
        if (s == NULL) {
            return -1;
        }

        db->stmts = s;
        db->nalloc = n;
    }

    db->stmts[db->nstmts].sql = sql;
    db->stmts[db->nstmts].stmt = stmt;
    db->nstmts++;

    return 0;
}


static void
dgj_db_cache_drop(dgj_db_t *db, const dgj_sql_t *sql)
{
    size_t  i;

    for (i = 0; i < db->nstmts; i++) {
        if (db->stmts[i].sql == sql) {
            mysql_stmt_close(db->stmts[i].stmt);
            db->stmts[i] = db->stmts[--db->nstmts];
            return;
        }
    }
}


static int
dgj_db_lost(unsigned err)
{
    switch (err) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
        return 1;
    default:
        return 0;
    }
}


static dgj_rc_t
dgj_db_error(dgj_req_t *r, const dgj_sql_t *sql, unsigned err,
    const char *sqlstate)
{
    dgj_rc_t  rc;

    switch (err) {
    case ER_DUP_ENTRY:
    case ER_ROW_IS_REFERENCED_2:
        rc = DGJ_ERR_CONFLICT;
        break;

    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
        rc = DGJ_ERR_DB;
        break;

    default:
        if (dgj_db_lost(err)) {
            /* dgj_db_run() logs it, reconnects and words the failure */
            return DGJ_ERR_DB;
        }

        rc = DGJ_ERR_INTERNAL;
        break;
    }

    /* the error text may quote values: log only errno and SQLSTATE */
    dgj_log(rc == DGJ_ERR_CONFLICT ? DGJ_LOG_INFO : DGJ_LOG_ERROR, "db",
            "%s failed: errno %u sqlstate %s", sql->name, err,
            sqlstate != NULL ? sqlstate : "-");

    if (rc == DGJ_ERR_CONFLICT) {
        return dgj_req_fail(r, rc, "the change conflicts with existing data");
    }

    return dgj_req_fail(r, rc, "statement %s failed", sql->name);
}


/*
 * "YYYY-MM-DD", and " hh:mm:ss" with time: what "%04u-%02u-%02u %02u:%02u:%02u"
 * prints for MariaDB's ranges (years to 9999), without snprintf: two
 * dates a row made it a few per cent of a 50-row inbox's worker CPU.
 * Returns the length (no NUL).
 */
static size_t
dgj_db_date(char *out, const MYSQL_TIME *t, int with_time)
{
    char  *p;

    p = dgj_digits(out, t->year, 4);
    *p++ = '-';
    p = dgj_digits(p, t->month, 2);
    *p++ = '-';
    p = dgj_digits(p, t->day, 2);

    if (with_time) {
        *p++ = ' ';
        p = dgj_digits(p, t->hour, 2);
        *p++ = ':';
        p = dgj_digits(p, t->minute, 2);
        *p++ = ':';
        p = dgj_digits(p, t->second, 2);
    }

    return (size_t) (p - out);
}


static json_t *
dgj_db_value(MYSQL_FIELD *f, MYSQL_BIND *b, char *buf, unsigned long len)
{
    char          date[32], *end;
    MYSQL_TIME   *t;
    long long     n;

    switch (b->buffer_type) {

    case MYSQL_TYPE_LONGLONG:
        if (b->is_unsigned && *(uint64_t *) (void *) buf > INT64_MAX) {
            /* beyond a JSON integer here: exact digits as a string */
            snprintf(date, sizeof(date), "%llu",
                     (unsigned long long) *(uint64_t *) (void *) buf);
            return json_string(date);
        }

        return json_integer((json_int_t) *(int64_t *) (void *) buf);

    case MYSQL_TYPE_DOUBLE:
        return json_real(*(double *) (void *) buf);

    case MYSQL_TYPE_DATE:
        t = (MYSQL_TIME *) (void *) buf;
        return json_stringn(date, dgj_db_date(date, t, 0));

    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
        t = (MYSQL_TIME *) (void *) buf;
        return json_stringn(date, dgj_db_date(date, t, 1));

    default:
        break;
    }

    if (f->type == MYSQL_TYPE_NEWDECIMAL || f->type == MYSQL_TYPE_DECIMAL) {
        buf[len] = '\0';

        if (f->decimals == 0) {
            errno = 0;
            n = strtoll(buf, &end, 10);
            if (errno == 0 && *end == '\0') {
                return json_integer((json_int_t) n);
            }
        }

        return json_real(strtod(buf, NULL));
    }

    /* NULL for invalid UTF-8: a binary column has no place in a reply */
    return json_stringn(buf, len);
}


static void
dgj_db_maybe_drop(dgj_db_t *db)
{
    db->execs++;

    if (db->drop_before != 0 && db->execs == db->drop_before) {
        dgj_log(DGJ_LOG_WARN, "db", "test hook: dropping the connection "
                "before execution %lu", db->execs);
        shutdown(mysql_get_socket(db->mysql), SHUT_RDWR);
    }
}


/* Output arrays for n columns, each bound to its length and NULL flag */
static dgj_rc_t
dgj_db_result_alloc(dgj_req_t *r, size_t n, dgj_db_result_t *res)
{
    size_t  i;

    res->bind = dgj_pcalloc(r->pool, n * sizeof(MYSQL_BIND));
    res->bufs = dgj_pcalloc(r->pool, n * sizeof(char *));
    res->lens = dgj_pcalloc(r->pool, n * sizeof(unsigned long));
    res->nulls = dgj_pcalloc(r->pool, n * sizeof(my_bool));

    if (res->bind == NULL || res->bufs == NULL || res->lens == NULL
        || res->nulls == NULL)
    {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for a result");
    }

    for (i = 0; i < n; i++) {
        res->bind[i].length = &res->lens[i];
        res->bind[i].is_null = &res->nulls[i];
    }

    return DGJ_OK;
}


/*
 * Fetches the next row into the bound buffers: DGJ_OK, DGJ_ERR_NOT_FOUND
 * past the last row (no message recorded), or a failure.  Truncation
 * means a buffer was sized wrong: a bug, never silently cut data.
 */
static dgj_rc_t
dgj_db_fetch(dgj_req_t *r, const dgj_sql_t *sql, MYSQL_STMT *stmt)
{
    int  frc;

    frc = mysql_stmt_fetch(stmt);

    if (frc == 0) {
        return DGJ_OK;
    }

    if (frc == MYSQL_NO_DATA) {
        return DGJ_ERR_NOT_FOUND;
    }

    if (frc == MYSQL_DATA_TRUNCATED) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "%s: data truncated",
                            sql->name);
    }

    return dgj_db_error(r, sql, mysql_stmt_errno(stmt),
                        mysql_stmt_sqlstate(stmt));
}


char *
dgj_db_like(dgj_pool_t *pool, const char *s, size_t len, int lead,
    int trail)
{
    char    *out, *p;
    size_t   i;

    out = dgj_palloc(pool, 2 * len + 3);
    if (out == NULL) {
        return NULL;
    }

    p = out;

    if (lead) {
        *p++ = '%';
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '%' || s[i] == '_' || s[i] == '!') {
            *p++ = '!';
        }

        *p++ = s[i];
    }

    if (trail) {
        *p++ = '%';
    }

    *p = '\0';

    return out;
}
