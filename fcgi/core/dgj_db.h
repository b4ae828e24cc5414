
/*
 * Copyright (C) Daguanjia
 *
 * dgj_db.h: MariaDB access for handlers.  dgj_db.c is the only file that
 * includes mysql.h.  One connection per worker process over the unix
 * socket, opened lazily; prepared statements only, cached per connection
 * by the address of their dgj_sql_t; typed bind arrays.
 *
 * Lost connections (server gone, lost, refused, shut down): every cached
 * statement is closed, the connection is reopened and the statement is
 * retried once, only outside a transaction (a retried write may run
 * twice if the first reply was lost; callers that cannot allow that use
 * a transaction).  Otherwise the result is DGJ_ERR_DB (503).
 * ER_DUP_ENTRY and ER_ROW_IS_REFERENCED are DGJ_ERR_CONFLICT.  Errors are
 * logged with errno, SQLSTATE and the statement name, never SQL values.
 *
 * Fault hook: DGJ_TEST_DB_DROP_BEFORE=N shuts the connection's socket
 * down just before the Nth statement execution of the process.
 */


#ifndef DGJ_DB_H
#define DGJ_DB_H


#include "dgj_core.h"
#include "dgj_req.h"

#include <jansson.h>


typedef struct {
    const char  *name;              /* for logs: "reference.districts" */
    const char  *text;              /* constant SQL with ? placeholders */
} dgj_sql_t;


typedef enum {
    DGJ_ARG_NULL = 0,
    DGJ_ARG_I64,
    DGJ_ARG_F64,
    DGJ_ARG_STR
} dgj_arg_type_t;


typedef struct {
    dgj_arg_type_t  type;
    union {
        int64_t     i64;
        double      f64;
        struct {
            const char  *s;
            size_t       len;       /* (size_t) -1: strlen(s) */
        } str;
    } v;
} dgj_arg_t;


typedef enum {
    DGJ_OUT_I64 = 1,
    DGJ_OUT_F64,
    DGJ_OUT_STR
} dgj_out_type_t;


typedef struct {
    dgj_out_type_t  type;
    union {
        int64_t       *i64;         /* NULL column: 0 */
        double        *f64;         /* NULL column: 0.0 */
        const char   **str;         /* NULL column: NULL; r->pool owned */
    } p;
} dgj_out_t;


/*
 * Compound-literal bind arrays: the compiler converts each value to the
 * member type, so a wrong type is a compile error, not a runtime one.
 *
 *   DGJ_ARGS(DGJ_I64(id), DGJ_STR(name))  expands to  array, count
 */
#define DGJ_I64(x)      ((dgj_arg_t) { .type = DGJ_ARG_I64, .v.i64 = (x) })
#define DGJ_F64(x)      ((dgj_arg_t) { .type = DGJ_ARG_F64, .v.f64 = (x) })
#define DGJ_STR(x)                                                            \
    ((dgj_arg_t) { .type = DGJ_ARG_STR, .v.str = { (x), (size_t) -1 } })
#define DGJ_STRN(x, n)                                                        \
    ((dgj_arg_t) { .type = DGJ_ARG_STR, .v.str = { (x), (n) } })
#define DGJ_NULL        ((dgj_arg_t) { .type = DGJ_ARG_NULL })

#define DGJ_ARGS(...)                                                         \
    ((const dgj_arg_t []) { __VA_ARGS__ }),                                   \
    (sizeof((const dgj_arg_t []) { __VA_ARGS__ }) / sizeof(dgj_arg_t))
#define DGJ_NOARGS      NULL, 0

#define DGJ_OUT_I64(x)  ((dgj_out_t) { .type = DGJ_OUT_I64, .p.i64 = (x) })
#define DGJ_OUT_F64(x)  ((dgj_out_t) { .type = DGJ_OUT_F64, .p.f64 = (x) })
#define DGJ_OUT_STR(x)  ((dgj_out_t) { .type = DGJ_OUT_STR, .p.str = (x) })

#define DGJ_OUTS(...)                                                         \
    ((const dgj_out_t []) { __VA_ARGS__ }),                                   \
    (sizeof((const dgj_out_t []) { __VA_ARGS__ }) / sizeof(dgj_out_t))


/*
 * A connection handle for the worker process; does not connect yet.
 * conf must outlive it.  NULL on allocation failure.
 */
dgj_db_t *dgj_db_create(const dgj_conf_t *conf);

/* Closes statements and the connection and frees db.  NULL allowed. */
void dgj_db_destroy(dgj_db_t *db);

/*
 * Called by the worker after every request: rolls back (and logs) a
 * transaction the handler left open.
 */
void dgj_db_request_end(dgj_db_t *db);

/*
 * Runs a statement that returns no rows.  *affected (may be NULL) gets
 * the affected row count, *insert_id (may be NULL) the AUTO_INCREMENT id.
 * DGJ_OK, DGJ_ERR_DB, DGJ_ERR_CONFLICT, DGJ_ERR_NOMEM, DGJ_ERR_INTERNAL.
 */
dgj_rc_t dgj_db_exec(dgj_req_t *r, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs, uint64_t *affected,
    uint64_t *insert_id);

/*
 * Runs a query and returns its rows as a JSON array of objects keyed by
 * column alias: integers as JSON integers (an unsigned BIGINT above
 * INT64_MAX as a string of its digits), DECIMAL as numbers, NULL as
 * null, DATE as "YYYY-MM-DD", DATETIME as "YYYY-MM-DD HH:MM:SS", other
 * columns as strings (must be UTF-8).  *rows is owned by r->pool: to
 * put it inside another value use json_object_set() (not _new).
 */
dgj_rc_t dgj_db_rows_json(dgj_req_t *r, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs, json_t **rows);

/*
 * Runs a query and stores the first row into outs (one per column; a
 * count mismatch is DGJ_ERR_INTERNAL).  DGJ_ERR_NOT_FOUND when there is
 * no row (no failure message is recorded: the caller words it).
 */
dgj_rc_t dgj_db_row(dgj_req_t *r, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs, const dgj_out_t *outs,
    size_t nouts);

/* one column of a row walked by dgj_db_rows_each() */
typedef struct {
    const char  *s;                 /* NUL-terminated; NULL for SQL NULL */
    size_t       len;
} dgj_db_col_t;

/*
 * Called once per row; cols (ncols of them) and their bytes are valid
 * during the call only.  DGJ_OK goes on; any other code stops the walk
 * and is returned by dgj_db_rows_each().
 */
typedef dgj_rc_t (*dgj_db_row_pt)(dgj_req_t *r, void *data,
    const dgj_db_col_t *cols, size_t ncols);

/*
 * Runs a query and calls cb for each row with every column as text
 * (integers in decimal, temporal columns as the server prints them),
 * without building JSON: for walks over many rows (audit verification,
 * CSV export).  The result is buffered by the client, so bound it with
 * LIMIT and walk big sets in keyset batches; the column buffers come
 * from r->pool once per call, not per row.
 */
dgj_rc_t dgj_db_rows_each(dgj_req_t *r, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs, dgj_db_row_pt cb, void *data);

/*
 * Transactions: begin turns autocommit off, commit and rollback end the
 * transaction and turn it back on.  A transaction whose connection is
 * lost is over: that statement, and every statement, begin and commit
 * after it, fails with DGJ_ERR_DB until dgj_db_rollback() (or the end of
 * the request) -- never does a later statement autocommit on a new
 * connection as a partial write.
 */
/*
 * Text as a LIKE pattern for "col LIKE ? ESCAPE '!'": %, _ and ! escaped
 * with '!' (not backslash, which sql_mode may change), with a % before
 * it when lead and after it when trail.  From pool; NULL when out of
 * memory.
 */
char *dgj_db_like(dgj_pool_t *pool, const char *s, size_t len, int lead,
    int trail);

dgj_rc_t dgj_db_begin(dgj_req_t *r);
dgj_rc_t dgj_db_commit(dgj_req_t *r);
void dgj_db_rollback(dgj_req_t *r);


#endif /* DGJ_DB_H */
