
/*
 * Copyright (C) Daguanjia
 *
 * test_db.c: dgj_db against the test stack's MariaDB: binding and the
 * JSON and typed result helpers, error mapping, transactions, reconnects
 * (the DGJ_TEST_DB_DROP_BEFORE hook and a server-side KILL), a lost
 * transaction refusing every call until it is rolled back, unreachable
 * servers, cached statements across a schema change, log hygiene.
 * Owns the scratch database dgj_ctest_<pid>, dropped before it exits,
 * and its log $DGJ_VAR/log/test_db-<pid>.log.
 *
 * Environment (set by tests/run): DGJ_DB_SOCKET, DGJ_ADMIN_CNF (the
 * mariadb client option file of root over the socket), DGJ_VAR.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_pool.h"
#include "dgj_req.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <jansson.h>

#include "testhelp.h"


#define TEST_DB_ZH      "大管家：市民诉求 ✓ 😀"
#define TEST_DB_INJECT  "x'); DROP TABLE items; --"
#define TEST_DB_LONG    600             /* Chinese characters, 3 bytes each */
#define TEST_DB_MANY    20              /* more than the cache's 16 slots */


typedef struct {
    const char  *name;
    void       (*run)(void);
} test_db_case_t;

/* the outputs of ctest.row */
typedef struct {
    int64_t      id;
    int64_t      qty;
    double       amount;
    const char  *title;
    const char  *day;
    const char  *note;
} test_db_item_t;

/* how test_db_tx_lost_run() loses the transaction and clears the loss */
typedef struct {
    const char  *drop_before;   /* the hook's value; NULL: a server KILL */
    int          by_rollback;   /* dgj_db_rollback(), else request_end */
    const char  *code[5];       /* the rows A to E */
    const char  *no_handle;     /* the checks' ids and texts, in order */
    const char  *begun;
    const char  *b_fails;
    const char  *c_fails;
    const char  *refuses;       /* NULL: checked within c_fails */
    const char  *commit;
    const char  *none_seen;
    const char  *cleared;
    const char  *again;
} test_db_lost_t;


static void test_db_rows_json(void);
static void test_db_unsigned(void);
static void test_db_typed_row(void);
static void test_db_conflict(void);
static void test_db_param_count(void);
static void test_db_injection(void);
static void test_db_tx(void);
static void test_db_reconnect(void);
static void test_db_reconnect_tx(void);
static void test_db_killed(void);
static void test_db_tx_lost(void);
static int test_db_tx_lost_run(const test_db_lost_t *how);
static void test_db_unreachable(void);
static void test_db_schema_change(void);
static void test_db_log_clean(void);
static int test_db_setup(void);
static int test_db_admin(const char *sql);
static int test_db_admin_in(const char *sql);
static dgj_req_t *test_db_req(dgj_req_t *r, dgj_pool_t *pool,
    dgj_db_t *db);
static dgj_rc_t test_db_insert(dgj_req_t *r, const char *code,
    const char *title, const char *note);
static dgj_rc_t test_db_item(dgj_req_t *r, const char *code,
    test_db_item_t *it);
static json_t *test_db_first_row(dgj_req_t *r, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs);
static dgj_rc_t test_db_timed_count(dgj_db_t *db, double *secs);
static dgj_rc_t test_db_begin_insert(dgj_req_t *r, const char *code,
    const char *title);
static dgj_rc_t test_db_insert_tx(dgj_req_t *r, const char *code,
    const char *title);
static dgj_rc_t test_db_kill(int64_t cid);
static int test_db_lost_refuses(dgj_db_t *db, const char *code);
static int64_t test_db_i64(dgj_db_t *db, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs);
static int64_t test_db_count(dgj_db_t *db, const char *code);
static int64_t test_db_seen(const char *code);
static int64_t test_db_status(dgj_db_t *db, const char *name);
static int64_t test_db_conn_id(dgj_db_t *db);
static dgj_db_t *test_db_handle(const dgj_conf_t *conf,
    const char *drop_before);
static void test_db_diag(const dgj_req_t *r, dgj_rc_t rc);
static double test_db_now(void);
static int test_db_log_has(const char *needle);
static int test_db_json_str_is(const json_t *obj, const char *key,
    const char *expect);


static const dgj_sql_t  test_db_sql_insert = {
    "ctest.insert",
    "INSERT INTO items (code, big, qty, amount, ratio, title, day, at, note)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  test_db_sql_get = {
    "ctest.get",
    "SELECT code, big, qty, amount, ratio, title, day, at, note"
    "  FROM items"
    " WHERE code = ?"
};

static const dgj_sql_t  test_db_sql_pair = {
    "ctest.pair",
    "SELECT id, code, note"
    "  FROM items"
    " WHERE code IN (?, ?)"
    " ORDER BY code"
};

static const dgj_sql_t  test_db_sql_sums = {
    "ctest.sums",
    "SELECT SUM(qty) AS qty_sum, SUM(amount) AS amount_sum"
    "  FROM items"
    " WHERE code IN (?, ?)"
};

static const dgj_sql_t  test_db_sql_row = {
    "ctest.row",
    "SELECT id, qty, amount, title, day, note"
    "  FROM items"
    " WHERE code = ?"
};

static const dgj_sql_t  test_db_sql_title = {
    "ctest.title",
    "SELECT title"
    "  FROM items"
    " WHERE code = ?"
};

static const dgj_sql_t  test_db_sql_count = {
    "ctest.count",
    "SELECT COUNT(*)"
    "  FROM items"
};

static const dgj_sql_t  test_db_sql_count_code = {
    "ctest.count_code",
    "SELECT COUNT(*)"
    "  FROM items"
    " WHERE code = ?"
};

static const dgj_sql_t  test_db_sql_table = {
    "ctest.table",
    "SELECT COUNT(*)"
    "  FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items'"
};

static const dgj_sql_t  test_db_sql_status = {
    "ctest.status",
    "SELECT VARIABLE_VALUE"
    "  FROM information_schema.SESSION_STATUS"
    " WHERE VARIABLE_NAME = ?"
};

static const dgj_sql_t  test_db_sql_conn_id = {
    "ctest.conn_id",
    "SELECT CONNECTION_ID()"
};

static const dgj_sql_t  test_db_sql_star = {
    "ctest.star",
    "SELECT *"
    "  FROM items"
    " WHERE code = ?"
};

static const dgj_sql_t  test_db_sql_autocommit = {
    "ctest.autocommit",
    "SELECT @@autocommit"
};

static const dgj_sql_t  test_db_sql_ubig = {
    "ctest.ubig",
    "SELECT id, a, b"
    "  FROM ubig"
    " ORDER BY id"
};

/* distinct addresses, so distinct cache entries */
static const dgj_sql_t  test_db_sql_many[TEST_DB_MANY] = {
    { "ctest.many", "SELECT ? + 0" },  { "ctest.many", "SELECT ? + 1" },
    { "ctest.many", "SELECT ? + 2" },  { "ctest.many", "SELECT ? + 3" },
    { "ctest.many", "SELECT ? + 4" },  { "ctest.many", "SELECT ? + 5" },
    { "ctest.many", "SELECT ? + 6" },  { "ctest.many", "SELECT ? + 7" },
    { "ctest.many", "SELECT ? + 8" },  { "ctest.many", "SELECT ? + 9" },
    { "ctest.many", "SELECT ? + 10" }, { "ctest.many", "SELECT ? + 11" },
    { "ctest.many", "SELECT ? + 12" }, { "ctest.many", "SELECT ? + 13" },
    { "ctest.many", "SELECT ? + 14" }, { "ctest.many", "SELECT ? + 15" },
    { "ctest.many", "SELECT ? + 16" }, { "ctest.many", "SELECT ? + 17" },
    { "ctest.many", "SELECT ? + 18" }, { "ctest.many", "SELECT ? + 19" }
};


/* run through the mariadb client: test_db.c owns this table */
static const char  test_db_ddl_items[] =
    "CREATE TABLE items ("
    " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,"
    " code VARCHAR(64) NOT NULL,"
    " big BIGINT NOT NULL,"
    " qty INT NOT NULL,"
    " amount DECIMAL(10,2) NOT NULL,"
    " ratio DOUBLE NOT NULL,"
    " title VARCHAR(2000) CHARACTER SET utf8mb4 NOT NULL,"
    " day DATE NOT NULL,"
    " at DATETIME NOT NULL,"
    " note VARCHAR(200) NULL,"
    " PRIMARY KEY (id),"
    " UNIQUE KEY ux_items_code (code)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n";

/* both sides of INT64_MAX, in either column, as literals */
static const char  test_db_ddl_ubig[] =
    "CREATE TABLE ubig ("
    " id INT NOT NULL,"
    " a BIGINT UNSIGNED NOT NULL,"
    " b BIGINT UNSIGNED NOT NULL,"
    " PRIMARY KEY (id)"
    ") ENGINE=InnoDB;\n"
    "INSERT INTO ubig (id, a, b) VALUES"
    " (1, 18446744073709551615, 5),"
    " (2, 5, 18446744073709551615),"
    " (3, 9223372036854775807, 9223372036854775808);\n";


/* the drop hook loses it, the handler's dgj_db_rollback() clears it */
static const test_db_lost_t  test_db_lost_hook = {
    /* executions: 1 conn id, 2 A, 3 B (dropped before) */
    .drop_before = "3",
    .by_rollback = 1,
    .code = { "txl-a", "txl-b", "txl-c", "txl-d", "txl-e" },
    .no_handle = "db-7.14: a handle with the drop hook is created",
    .begun = "db-7.14: begin and A succeed on a hooked handle",
    .b_fails = "db-7.15: B, on the dropped connection, is DGJ_ERR_DB",
    .c_fails = "db-7.16: C is DGJ_ERR_DB and no partial write: not visible "
               "to another connection",
    .refuses = "db-7.17: rows_json, row and begin are DGJ_ERR_DB too",
    .commit = "db-7.18: commit is DGJ_ERR_DB, not DGJ_ERR_INTERNAL",
    .none_seen = "db-7.19: A (nor B, nor C) is visible to another "
                 "connection",
    .cleared = "db-7.20: after dgj_db_rollback a statement succeeds on a "
               "new connection, in autocommit",
    .again = "db-7.21: and a new begin / commit works"
};

/* the server kills it between A and B, dgj_db_request_end() clears it */
static const test_db_lost_t  test_db_lost_kill = {
    .drop_before = NULL,
    .by_rollback = 0,
    .code = { "txk-a", "txk-b", "txk-c", "txk-d", "txk-e" },
    .no_handle = "db-7.22: a second handle is created",
    .begun = "db-7.22: begin and A succeed, then the server kills the "
             "connection",
    .b_fails = "db-7.23: B, on the killed connection, is DGJ_ERR_DB",
    .c_fails = "db-7.24: C is DGJ_ERR_DB and not visible; rows_json, row "
               "and begin are DGJ_ERR_DB too",
    .refuses = NULL,
    .commit = "db-7.25: commit is DGJ_ERR_DB, not DGJ_ERR_INTERNAL",
    .none_seen = "db-7.26: A (nor B, nor C) is visible to another "
                 "connection",
    .cleared = "db-7.27: after dgj_db_request_end a statement succeeds on "
               "a new connection, in autocommit",
    .again = "db-7.28: and a new begin / commit works"
};


static const test_db_case_t  my_tests[] = {
    { "rows_json: types and NULL", test_db_rows_json },
    { "rows_json: unsigned BIGINT", test_db_unsigned },
    { "dgj_db_row: typed outputs", test_db_typed_row },
    { "duplicate key", test_db_conflict },
    { "parameter count", test_db_param_count },
    { "injection attempt is data", test_db_injection },
    { "transactions", test_db_tx },
    { "reconnect outside a transaction", test_db_reconnect },
    { "connection lost inside a transaction", test_db_reconnect_tx },
    { "connection killed by the server", test_db_killed },
    { "a lost transaction refuses every call until cleared",
      test_db_tx_lost },
    { "unreachable server", test_db_unreachable },
    { "cached statements and a schema change", test_db_schema_change },
    { "log carries no bound values", test_db_log_clean },
    { NULL, NULL }
};


static char            test_db_name[64];
static char            test_db_log[DGJ_CONF_PATH];
static const char     *test_db_admin_cnf;
static const char     *test_db_var;
static dgj_conf_t      test_db_conf;
static dgj_pool_t     *test_db_pool;
static dgj_pool_t     *test_db_aux_pool;
static dgj_db_t       *test_db_main;    /* the connection under test */
static dgj_db_t       *test_db_obs;     /* a second one, to observe commits */
static dgj_test_io_t   test_db_io;


int
main(void)
{
    int                    created;
    char                   sql[256];
    const test_db_case_t  *t;

    created = 0;

    /* the worker ignores SIGPIPE (dgj_worker.c); so does its stand-in */
    signal(SIGPIPE, SIG_IGN);

    /* the hook must only reach the handles that ask for it */
    unsetenv("DGJ_TEST_DB_DROP_BEFORE");

    test_db_pool = dgj_pool_create(4096);
    test_db_aux_pool = dgj_pool_create(4096);
    dgj_test_io_init(&test_db_io, NULL, NULL);

    test_cond("db-0.1: environment and pools are ready",
              test_db_pool != NULL && test_db_aux_pool != NULL
              && test_db_setup() == 0);
    if (dgj_test_failed > 0) {
        goto done;
    }

    snprintf(sql, sizeof(sql),
             "CREATE DATABASE %s CHARACTER SET utf8mb4"
             " COLLATE utf8mb4_unicode_ci;\n", test_db_name);
    created = (test_db_admin(sql) == 0);

    test_cond("db-0.2: scratch database and table are created",
              created && test_db_admin_in(test_db_ddl_items) == 0);
    if (dgj_test_failed > 0) {
        goto done;
    }

    test_db_main = test_db_handle(&test_db_conf, NULL);
    test_db_obs = test_db_handle(&test_db_conf, NULL);

    test_cond("db-0.3: dgj_db connects as root over the socket",
              test_db_main != NULL && test_db_obs != NULL
              && test_db_count(test_db_main, NULL) == 0
              && test_db_seen(NULL) == 0);
    if (dgj_test_failed > 0) {
        goto done;
    }

    for (t = my_tests; t->name != NULL; t++) {
        printf("# %s\n", t->name);
        t->run();
    }

done:

    /* connections first: an open transaction would block the DROP */
    dgj_db_destroy(test_db_main);
    dgj_db_destroy(test_db_obs);

    if (created) {
        snprintf(sql, sizeof(sql),
                 "SET SESSION lock_wait_timeout = 10;\n"
                 "DROP DATABASE %s;\n", test_db_name);
        test_cond("db-0.4: the scratch database is dropped",
                  test_db_admin(sql) == 0);
    }

    dgj_pool_destroy(test_db_pool);
    dgj_pool_destroy(test_db_aux_pool);

    return test_report();
}


static void
test_db_rows_json(void)
{
    char           *s, *p;
    size_t          len, i;
    json_t         *rows, *row;
    int64_t         n;
    uint64_t        affected, id;
    dgj_rc_t        rc;
    dgj_req_t       r;
    const char     *v;

    static char     long_title[TEST_DB_LONG * 3 + 1];

    test_db_req(&r, test_db_pool, test_db_main);
    affected = 0;
    id = 0;
    rc = dgj_db_exec(&r, &test_db_sql_insert,
                     DGJ_ARGS(DGJ_STR("row-full"), DGJ_I64(INT64_MAX),
                              DGJ_I64(-42), DGJ_STR("1234.56"),
                              DGJ_F64(0.25), DGJ_STR(TEST_DB_ZH),
                              DGJ_STR("2026-10-08"),
                              DGJ_STR("2026-10-08 09:30:05"),
                              DGJ_STR("备注")),
                     &affected, &id);
    test_db_diag(&r, rc);
    test_cond("db-1.1: insert with bound values reports 1 row and its id",
              rc == DGJ_OK && affected == 1 && id > 0);

    test_db_req(&r, test_db_pool, test_db_main);
    rc = dgj_db_exec(&r, &test_db_sql_insert,
                     DGJ_ARGS(DGJ_STR("row-null"), DGJ_I64(INT64_MIN),
                              DGJ_I64(0), DGJ_STR("-0.50"), DGJ_F64(-1.5),
                              DGJ_STR(""), DGJ_STR("2026-02-28"),
                              DGJ_STR("2026-02-28 23:59:59"), DGJ_NULL),
                     NULL, NULL);
    test_db_diag(&r, rc);
    rc = (rc != DGJ_OK) ? rc
         : dgj_db_exec(&r, &test_db_sql_insert,
                       DGJ_ARGS(DGJ_STR("row-nullstr"), DGJ_I64(1),
                                DGJ_I64(1), DGJ_STR("1.00"), DGJ_F64(1),
                                DGJ_STR("-"), DGJ_STR("2026-01-01"),
                                DGJ_STR("2026-01-01 00:00:00"),
                                DGJ_STR(NULL)),
                       NULL, NULL);
    test_db_diag(&r, rc);
    test_cond("db-1.2: DGJ_NULL and DGJ_STR(NULL) insert NULL", rc == DGJ_OK);

    /* one row, every column type */
    test_db_req(&r, test_db_pool, test_db_main);
    rows = NULL;
    rc = dgj_db_rows_json(&r, &test_db_sql_get,
                          DGJ_ARGS(DGJ_STR("row-full")), &rows);
    test_db_diag(&r, rc);
    row = (rc == DGJ_OK && json_array_size(rows) == 1)
          ? json_array_get(rows, 0) : NULL;
    s = (row != NULL) ? dgj_json_dump(&r, rows, &len) : NULL;
    printf("#   %s\n", s != NULL ? s : "(no rows)");

    test_cond("db-1.3: rows_json returns one object per row",
              row != NULL && json_is_object(row) && json_object_size(row) == 9);

    test_cond("db-1.4: BIGINT and INT are JSON integers, full 64-bit range",
              row != NULL
              && json_is_integer(json_object_get(row, "big"))
              && json_integer_value(json_object_get(row, "big"))
                 == INT64_MAX
              && json_is_integer(json_object_get(row, "qty"))
              && json_integer_value(json_object_get(row, "qty")) == -42
              && s != NULL && strstr(s, "\"big\":9223372036854775807,")
              && strstr(s, "\"qty\":-42,"));

    test_cond("db-1.5: DECIMAL(10,2) is a JSON number",
              row != NULL && json_is_number(json_object_get(row, "amount"))
              && json_number_value(json_object_get(row, "amount")) > 1234.55
              && json_number_value(json_object_get(row, "amount")) < 1234.57);

    /* what the client reads: the stored decimal, not a binary neighbour */
    test_cond("db-1.6: DECIMAL 1234.56 is serialised as 1234.56",
              s != NULL && strstr(s, "\"amount\":1234.56,") != NULL);

    test_cond("db-1.7: DOUBLE is a JSON real",
              row != NULL && json_is_real(json_object_get(row, "ratio"))
              && json_real_value(json_object_get(row, "ratio")) == 0.25);

    v = (row != NULL) ? json_string_value(json_object_get(row, "title"))
                      : NULL;
    test_cond("db-1.8: utf8mb4 text (Chinese, 4-byte emoji) is intact",
              v != NULL && strcmp(v, TEST_DB_ZH) == 0
              && s != NULL && strstr(s, "\"title\":\"" TEST_DB_ZH "\""));

    test_cond("db-1.9: DATE is \"YYYY-MM-DD\"",
              s != NULL && strstr(s, "\"day\":\"2026-10-08\","));

    test_cond("db-1.10: DATETIME is \"YYYY-MM-DD HH:MM:SS\"",
              s != NULL && strstr(s, "\"at\":\"2026-10-08 09:30:05\","));

    /* NULLs and the other edge values, two rows in ORDER BY order */
    test_db_req(&r, test_db_pool, test_db_main);
    rows = NULL;
    rc = dgj_db_rows_json(&r, &test_db_sql_pair,
                          DGJ_ARGS(DGJ_STR("row-null"),
                                   DGJ_STR("row-nullstr")), &rows);
    test_db_diag(&r, rc);
    test_cond("db-1.11: NULL columns are JSON null, in both rows",
              rc == DGJ_OK && json_array_size(rows) == 2
              && json_is_null(json_object_get(json_array_get(rows, 0),
                                              "note"))
              && json_is_null(json_object_get(json_array_get(rows, 1),
                                              "note"))
              && json_is_integer(json_object_get(json_array_get(rows, 0),
                                                 "id")));

    test_db_req(&r, test_db_pool, test_db_main);
    rows = NULL;
    rc = dgj_db_rows_json(&r, &test_db_sql_get,
                          DGJ_ARGS(DGJ_STR("row-null")), &rows);
    row = (rc == DGJ_OK) ? json_array_get(rows, 0) : NULL;
    test_cond("db-1.12: INT64_MIN, an empty string and a negative DECIMAL",
              row != NULL
              && json_integer_value(json_object_get(row, "big")) == INT64_MIN
              && test_db_json_str_is(row, "title", "")
              && json_number_value(json_object_get(row, "amount")) == -0.5
              && json_real_value(json_object_get(row, "ratio")) == -1.5);

    test_db_req(&r, test_db_pool, test_db_main);
    rows = NULL;
    rc = dgj_db_rows_json(&r, &test_db_sql_get,
                          DGJ_ARGS(DGJ_STR("no-such-code")), &rows);
    test_cond("db-1.13: no rows is an empty array, not an error",
              rc == DGJ_OK && json_is_array(rows)
              && json_array_size(rows) == 0);

    /* SUM(INT) is DECIMAL(n,0): analytics totals must stay integers */
    row = test_db_first_row(&r, &test_db_sql_sums,
                            DGJ_ARGS(DGJ_STR("row-full"),
                                     DGJ_STR("row-null")));
    test_cond("db-1.14: SUM of an INT column is a JSON integer",
              row != NULL && json_is_integer(json_object_get(row, "qty_sum"))
              && json_integer_value(json_object_get(row, "qty_sum")) == -42
              && json_is_number(json_object_get(row, "amount_sum")));

    /*
     * A result longer than the previous one through the same cached
     * statement: the buffers follow max_length, nothing is truncated.
     */
    for (p = long_title, i = 0; i < TEST_DB_LONG; i++) {
        memcpy(p, "诉", 3);
        p += 3;
    }

    *p = '\0';

    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_insert(&r, "row-long", long_title, NULL);
    test_db_diag(&r, rc);

    test_db_req(&r, test_db_pool, test_db_main);
    rows = NULL;
    rc = (rc != DGJ_OK) ? rc
         : dgj_db_rows_json(&r, &test_db_sql_get,
                            DGJ_ARGS(DGJ_STR("row-long")), &rows);
    test_db_diag(&r, rc);
    row = (rc == DGJ_OK) ? json_array_get(rows, 0) : NULL;
    v = (row != NULL) ? json_string_value(json_object_get(row, "title"))
                      : NULL;
    test_cond("db-1.15: a 1800-byte title after a short one is not cut",
              v != NULL && strcmp(v, long_title) == 0);

    n = test_db_seen(NULL);
    test_cond("db-1.16: autocommit: the rows are visible to another "
              "connection", n == 4);
}


/*
 * An unsigned BIGINT above INT64_MAX has no JSON integer here: it comes
 * back as a string of its exact digits, smaller values as integers.
 */
static void
test_db_unsigned(void)
{
    int         ok;
    char       *s;
    size_t      len;
    json_t     *rows, *r1, *r2, *r3;
    dgj_rc_t    rc;
    dgj_req_t   r;

    ok = (test_db_admin_in(test_db_ddl_ubig) == 0);

    test_db_req(&r, test_db_pool, test_db_main);
    rows = NULL;
    rc = ok ? dgj_db_rows_json(&r, &test_db_sql_ubig, DGJ_NOARGS, &rows)
            : DGJ_ERR_INTERNAL;
    test_db_diag(&r, rc);
    s = (rc == DGJ_OK) ? dgj_json_dump(&r, rows, &len) : NULL;
    printf("#   %s\n", s != NULL ? s : "(no rows)");

    r1 = (rc == DGJ_OK) ? json_array_get(rows, 0) : NULL;
    r2 = (rc == DGJ_OK) ? json_array_get(rows, 1) : NULL;
    r3 = (rc == DGJ_OK) ? json_array_get(rows, 2) : NULL;

    test_cond("db-1.17: unsigned BIGINT 18446744073709551615 is the string "
              "of its digits, 5 the integer 5",
              ok && rc == DGJ_OK && json_array_size(rows) == 3
              && r1 != NULL
              && test_db_json_str_is(r1, "a", "18446744073709551615")
              && json_is_integer(json_object_get(r1, "b"))
              && json_integer_value(json_object_get(r1, "b")) == 5
              && s != NULL
              && strstr(s, "{\"id\":1,\"a\":\"18446744073709551615\","
                           "\"b\":5}") != NULL);

    /* the same bound buffers, the values swapped between the columns */
    test_cond("db-1.18: either column, row after row, converts by value",
              r2 != NULL
              && json_is_integer(json_object_get(r2, "a"))
              && json_integer_value(json_object_get(r2, "a")) == 5
              && test_db_json_str_is(r2, "b", "18446744073709551615")
              && s != NULL
              && strstr(s, "{\"id\":2,\"a\":5,"
                           "\"b\":\"18446744073709551615\"}") != NULL);

    test_cond("db-1.19: INT64_MAX stays an integer, INT64_MAX + 1 is a "
              "string",
              r3 != NULL
              && json_is_integer(json_object_get(r3, "a"))
              && json_integer_value(json_object_get(r3, "a")) == INT64_MAX
              && test_db_json_str_is(r3, "b", "9223372036854775808")
              && s != NULL
              && strstr(s, "{\"id\":3,\"a\":9223372036854775807,"
                           "\"b\":\"9223372036854775808\"}") != NULL);
}


static void
test_db_typed_row(void)
{
    int64_t          note_i;
    dgj_rc_t         rc;
    dgj_req_t        r;
    const char      *title;
    test_db_item_t   it;

    it.id = -1;
    it.qty = 0;
    it.amount = 0;
    it.title = NULL;
    it.day = NULL;
    it.note = "not set";
    rc = test_db_item(&r, "row-full", &it);
    test_db_diag(&r, rc);
    test_cond("db-2.1: a found row fills integer, real and text outputs",
              rc == DGJ_OK && it.id > 0 && it.qty == -42
              && it.amount == 1234.56
              && it.title != NULL && strcmp(it.title, TEST_DB_ZH) == 0
              && it.day != NULL && strcmp(it.day, "2026-10-08") == 0
              && it.note != NULL && strcmp(it.note, "备注") == 0);

    it.note = "not set";
    rc = test_db_item(&r, "row-null", &it);
    test_db_diag(&r, rc);
    test_cond("db-2.2: a NULL column gives a NULL string",
              rc == DGJ_OK && it.note == NULL && it.amount == -0.5
              && it.title != NULL && it.title[0] == '\0');

    test_db_req(&r, test_db_pool, test_db_main);
    note_i = 7;
    rc = dgj_db_row(&r, &test_db_sql_row, DGJ_ARGS(DGJ_STR("row-null")),
                    DGJ_OUTS(DGJ_OUT_I64(&it.id), DGJ_OUT_I64(&it.qty),
                             DGJ_OUT_F64(&it.amount),
                             DGJ_OUT_STR(&it.title), DGJ_OUT_STR(&it.day),
                             DGJ_OUT_I64(&note_i)));
    test_db_diag(&r, rc);
    test_cond("db-2.3: a NULL column gives 0 for an integer output",
              rc == DGJ_OK && note_i == 0);

    rc = test_db_item(&r, "no-such-code", &it);
    test_cond("db-2.4: no row is DGJ_ERR_NOT_FOUND, no message recorded",
              rc == DGJ_ERR_NOT_FOUND && r.err_rc == DGJ_OK
              && r.err[0] == '\0');

    test_db_req(&r, test_db_pool, test_db_main);
    rc = dgj_db_row(&r, &test_db_sql_row, DGJ_ARGS(DGJ_STR("row-full")),
                    DGJ_OUTS(DGJ_OUT_I64(&it.id)));
    test_cond("db-2.5: fewer outputs than columns is DGJ_ERR_INTERNAL",
              rc == DGJ_ERR_INTERNAL);

    test_db_req(&r, test_db_pool, test_db_main);
    title = NULL;
    rc = dgj_db_row(&r, &test_db_sql_title, DGJ_ARGS(DGJ_STR("row-long")),
                    DGJ_OUTS(DGJ_OUT_STR(&title)));
    test_db_diag(&r, rc);
    test_cond("db-2.6: a text output longer than 64 bytes is not cut",
              rc == DGJ_OK && title != NULL
              && strlen(title) == TEST_DB_LONG * 3);

    test_cond("db-2.7: the connection still works after those",
              test_db_count(test_db_main, NULL) == 4);
}


static void
test_db_conflict(void)
{
    dgj_rc_t   rc;
    dgj_req_t  r;

    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_insert(&r, "dup-9f3k", "first", NULL);
    test_db_diag(&r, rc);

    test_db_req(&r, test_db_pool, test_db_main);
    rc = (rc != DGJ_OK) ? rc : test_db_insert(&r, "dup-9f3k", "second", NULL);
    test_cond("db-3.1: a duplicate key is DGJ_ERR_CONFLICT",
              rc == DGJ_ERR_CONFLICT);

    /* 409 messages reach the client: no value, no SQL error text */
    test_cond("db-3.2: the conflict message names no value",
              r.err_rc == DGJ_ERR_CONFLICT && r.err[0] != '\0'
              && strstr(r.err, "dup-9f3k") == NULL
              && strstr(r.err, "Duplicate") == NULL);

    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_insert(&r, "dup-other", "third", NULL);
    test_db_diag(&r, rc);
    test_cond("db-3.3: the same cached statement works after the error",
              rc == DGJ_OK);

    test_cond("db-3.4: exactly one row holds the duplicated key",
              test_db_count(test_db_main, "dup-9f3k") == 1
              && test_db_seen("dup-9f3k") == 1);
}


static void
test_db_param_count(void)
{
    int64_t    before, after, rows;
    dgj_rc_t   rc1, rc2, rc3;
    dgj_req_t  r;

    rows = test_db_count(test_db_main, NULL);

    /* every read of the counter executes exactly one statement itself */
    before = test_db_status(test_db_main, "COM_STMT_EXECUTE");

    test_db_req(&r, test_db_pool, test_db_main);
    rc1 = dgj_db_exec(&r, &test_db_sql_insert,
                      DGJ_ARGS(DGJ_STR("param-few"), DGJ_I64(1)),
                      NULL, NULL);
    test_cond("db-4.1: too few parameters is DGJ_ERR_INTERNAL",
              rc1 == DGJ_ERR_INTERNAL
              && strstr(r.err, "parameter count") != NULL);

    test_db_req(&r, test_db_pool, test_db_main);
    rc2 = dgj_db_exec(&r, &test_db_sql_insert,
                      DGJ_ARGS(DGJ_STR("param-many"), DGJ_I64(1),
                               DGJ_I64(1), DGJ_STR("1.00"), DGJ_F64(1),
                               DGJ_STR("t"), DGJ_STR("2026-01-01"),
                               DGJ_STR("2026-01-01 00:00:00"), DGJ_NULL,
                               DGJ_STR("extra")),
                      NULL, NULL);
    test_cond("db-4.2: too many parameters is DGJ_ERR_INTERNAL",
              rc2 == DGJ_ERR_INTERNAL);

    test_db_req(&r, test_db_pool, test_db_main);
    rc3 = dgj_db_exec(&r, &test_db_sql_count, DGJ_ARGS(DGJ_I64(1)),
                      NULL, NULL);
    test_cond("db-4.3: parameters for a statement without any are refused",
              rc3 == DGJ_ERR_INTERNAL);

    after = test_db_status(test_db_main, "COM_STMT_EXECUTE");
    printf("#   Com_stmt_execute %lld then %lld\n",
           (long long) before, (long long) after);

    test_cond("db-4.4: nothing reached the server: only the counter "
              "query ran", before > 0 && after == before + 1);

    test_cond("db-4.5: no row was written",
              test_db_count(test_db_main, NULL) == rows
              && test_db_count(test_db_main, "param-few") == 0
              && test_db_count(test_db_main, "param-many") == 0);
}


static void
test_db_injection(void)
{
    int64_t       n;
    dgj_rc_t      rc;
    dgj_req_t     r;
    const char   *title;

    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_insert(&r, "inject", TEST_DB_INJECT, NULL);
    test_db_diag(&r, rc);
    test_cond("db-5.1: a value shaped like SQL is inserted as a value",
              rc == DGJ_OK);

    test_db_req(&r, test_db_pool, test_db_main);
    title = NULL;
    rc = dgj_db_row(&r, &test_db_sql_title, DGJ_ARGS(DGJ_STR("inject")),
                    DGJ_OUTS(DGJ_OUT_STR(&title)));
    test_cond("db-5.2: it reads back byte for byte",
              rc == DGJ_OK && title != NULL
              && strcmp(title, TEST_DB_INJECT) == 0);

    test_db_req(&r, test_db_pool, test_db_main);
    n = -1;
    rc = dgj_db_row(&r, &test_db_sql_table, DGJ_NOARGS,
                    DGJ_OUTS(DGJ_OUT_I64(&n)));
    test_cond("db-5.3: the table still exists",
              rc == DGJ_OK && n == 1 && test_db_seen(NULL) > 0);

    test_cond("db-5.4: a tautology in a WHERE parameter matches nothing",
              test_db_count(test_db_main, "' OR '1'='1") == 0
              && test_db_count(test_db_main, "x' OR 1=1 -- ") == 0);
}


static void
test_db_tx(void)
{
    int64_t    ac;
    dgj_rc_t   rc;
    dgj_req_t  r;

    /* commit */
    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_begin_insert(&r, "tx-commit", "c");
    test_db_diag(&r, rc);
    test_cond("db-6.1: inside a transaction the row is not yet visible "
              "to others",
              rc == DGJ_OK && test_db_seen("tx-commit") == 0);

    test_db_req(&r, test_db_pool, test_db_main);
    rc = dgj_db_commit(&r);
    test_db_diag(&r, rc);
    test_cond("db-6.2: commit persists the row",
              rc == DGJ_OK && test_db_seen("tx-commit") == 1);

    /* rollback */
    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_begin_insert(&r, "tx-rollback", "r");
    test_db_diag(&r, rc);
    test_cond("db-6.3: the transaction sees its own row",
              rc == DGJ_OK && test_db_count(test_db_main, "tx-rollback") == 1);

    dgj_db_rollback(&r);
    test_cond("db-6.4: rollback discards it",
              test_db_count(test_db_main, "tx-rollback") == 0
              && test_db_seen("tx-rollback") == 0);

    /* nesting and commit without begin are bugs */
    test_db_req(&r, test_db_pool, test_db_main);
    rc = dgj_db_begin(&r);
    test_cond("db-6.5: a nested begin is DGJ_ERR_INTERNAL",
              rc == DGJ_OK && dgj_db_begin(&r) == DGJ_ERR_INTERNAL);
    dgj_db_rollback(&r);

    test_db_req(&r, test_db_pool, test_db_main);
    test_cond("db-6.6: commit without begin is DGJ_ERR_INTERNAL",
              dgj_db_commit(&r) == DGJ_ERR_INTERNAL);

    /* a handler that forgets to finish its transaction */
    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_begin_insert(&r, "tx-open", "o");
    test_db_diag(&r, rc);

    dgj_db_request_end(test_db_main);

    test_cond("db-6.7: dgj_db_request_end rolls back an open transaction",
              rc == DGJ_OK && test_db_count(test_db_main, "tx-open") == 0
              && test_db_seen("tx-open") == 0
              && test_db_log_has("transaction left open by the handler"));

    test_db_req(&r, test_db_pool, test_db_main);
    ac = -1;
    rc = dgj_db_row(&r, &test_db_sql_autocommit, DGJ_NOARGS,
                    DGJ_OUTS(DGJ_OUT_I64(&ac)));
    test_db_req(&r, test_db_pool, test_db_main);
    rc = (rc != DGJ_OK) ? rc : test_db_insert(&r, "tx-after", "a", NULL);
    test_db_diag(&r, rc);
    test_cond("db-6.8: after it the connection is back in autocommit",
              rc == DGJ_OK && ac == 1
              && test_db_seen("tx-after") == 1);

    test_db_req(&r, test_db_pool, test_db_main);
    dgj_db_request_end(test_db_main);
    dgj_db_rollback(&r);
    test_cond("db-6.9: request_end and rollback without a transaction "
              "are no-ops", test_db_count(test_db_main, "tx-after") == 1);
}


static void
test_db_reconnect(void)
{
    int         ok;
    size_t      i, k;
    int64_t     cid1, cid2, prepares, v;
    uint64_t    affected;
    dgj_db_t   *db;
    dgj_rc_t    rc;
    dgj_req_t   r;

    /* executions: 1 conn id, 2 insert, 3 insert (dropped before) */
    db = test_db_handle(&test_db_conf, "3");
    test_cond("db-7.1: a handle with the drop hook is created", db != NULL);
    if (db == NULL) {
        return;
    }

    cid1 = test_db_conn_id(db);

    test_db_req(&r, test_db_pool, db);
    rc = test_db_insert(&r, "re-1", "before the drop", NULL);
    test_db_diag(&r, rc);

    test_db_req(&r, test_db_pool, db);
    affected = 0;
    rc = (rc != DGJ_OK) ? rc
         : dgj_db_exec(&r, &test_db_sql_insert,
                       DGJ_ARGS(DGJ_STR("re-2"), DGJ_I64(1), DGJ_I64(1),
                                DGJ_STR("1.00"), DGJ_F64(1),
                                DGJ_STR("retried"), DGJ_STR("2026-01-01"),
                                DGJ_STR("2026-01-01 00:00:00"), DGJ_NULL),
                       &affected, NULL);
    test_db_diag(&r, rc);
    test_cond("db-7.2: outside a transaction the statement after the drop "
              "succeeds",
              rc == DGJ_OK && affected == 1 && r.err_rc == DGJ_OK
              && test_db_log_has("test hook: dropping the connection")
              && test_db_log_has("connection lost"));

    test_cond("db-7.3: the retried insert ran exactly once",
              test_db_seen("re-1") == 1
              && test_db_seen("re-2") == 1);

    /* both cached statements must have been prepared again */
    cid2 = test_db_conn_id(db);
    prepares = test_db_status(db, "COM_STMT_PREPARE");
    printf("#   connection %lld then %lld, %lld prepares since\n",
           (long long) cid1, (long long) cid2, (long long) prepares);
    test_cond("db-7.4: it ran on a new connection, statements re-prepared",
              cid1 > 0 && cid2 > 0 && cid1 != cid2 && prepares == 3);

    dgj_db_destroy(db);

    /* a cache grown past its first allocation, then a drop mid-way */
    db = test_db_handle(&test_db_conf, "25");
    if (db == NULL) {
        test_cond("db-7.5: a second hooked handle is created", 0);
        return;
    }

    ok = 1;
    for (k = 0; k < 2 * TEST_DB_MANY; k++) {
        i = k % TEST_DB_MANY;
        v = -1;
        test_db_req(&r, test_db_pool, db);
        rc = dgj_db_row(&r, &test_db_sql_many[i], DGJ_ARGS(DGJ_I64(100)),
                        DGJ_OUTS(DGJ_OUT_I64(&v)));
        if (rc != DGJ_OK || v != 100 + (int64_t) i) {
            test_db_diag(&r, rc);
            printf("#   execution %zu: rc %d value %lld\n",
                   k + 1, rc, (long long) v);
            ok = 0;
        }
    }

    test_cond("db-7.5: 20 cached statements give right results across a "
              "reconnect", ok);

    dgj_db_destroy(db);
}


static void
test_db_reconnect_tx(void)
{
    dgj_db_t   *db;
    dgj_rc_t    rc, rc1;
    dgj_req_t   r;

    /* executions: 1 insert in the transaction, 2 insert (dropped) */
    db = test_db_handle(&test_db_conf, "2");
    test_cond("db-7.6: a handle with the drop hook is created", db != NULL);
    if (db == NULL) {
        return;
    }

    test_db_req(&r, test_db_pool, db);
    rc1 = test_db_begin_insert(&r, "txd-1", "in tx");
    test_db_diag(&r, rc1);

    rc = (rc1 != DGJ_OK) ? rc1 : test_db_insert(&r, "txd-2", "dropped",
                                                NULL);
    test_cond("db-7.7: inside a transaction the drop is DGJ_ERR_DB",
              rc1 == DGJ_OK && rc == DGJ_ERR_DB
              && strstr(r.err, "inside a transaction") != NULL);

    /* what a handler's failed: label does; must not touch a dead link */
    dgj_db_rollback(&r);
    dgj_db_request_end(db);

    test_cond("db-7.8: nothing of the lost transaction is visible",
              test_db_seen("txd-1") == 0
              && test_db_seen("txd-2") == 0);

    test_db_req(&r, test_db_pool, db);
    rc = test_db_insert(&r, "txd-3", "after", NULL);
    test_db_diag(&r, rc);
    test_cond("db-7.9: the next statement reconnects, in autocommit",
              rc == DGJ_OK && test_db_seen("txd-3") == 1
              && test_db_seen("txd-1") == 0);

    test_db_req(&r, test_db_pool, db);
    rc = test_db_insert_tx(&r, "txd-4", "again");
    test_db_diag(&r, rc);
    test_cond("db-7.10: a new transaction on the new connection commits",
              rc == DGJ_OK && test_db_seen("txd-4") == 1);

    dgj_db_destroy(db);
}


/* what the hook cannot show: the server ends the connection itself */
static void
test_db_killed(void)
{
    int64_t    cid1, cid2;
    dgj_rc_t   rc;
    dgj_req_t  r;

    cid1 = test_db_conn_id(test_db_main);
    rc = test_db_kill(cid1);

    test_db_req(&r, test_db_pool, test_db_main);
    rc = (rc != DGJ_OK) ? rc : test_db_insert(&r, "kill-1", "k", NULL);
    test_db_diag(&r, rc);
    cid2 = test_db_conn_id(test_db_main);
    test_cond("db-7.11: a connection the server killed while idle is "
              "replaced transparently",
              rc == DGJ_OK && cid2 > 0 && cid2 != cid1
              && test_db_seen("kill-1") == 1);

    /* killed between the last statement and the commit */
    test_db_req(&r, test_db_pool, test_db_main);
    rc = test_db_begin_insert(&r, "kill-2", "k");
    test_db_diag(&r, rc);

    rc = (rc != DGJ_OK) ? rc : test_db_kill(cid2);
    rc = (rc != DGJ_OK) ? rc : dgj_db_commit(&r);
    dgj_db_rollback(&r);
    test_cond("db-7.12: a transaction killed before commit fails with "
              "DGJ_ERR_DB and leaves nothing",
              rc == DGJ_ERR_DB && test_db_seen("kill-2") == 0
              && test_db_count(test_db_main, "kill-2") == 0);

    /* killed while idle, then a transaction starts */
    cid1 = test_db_conn_id(test_db_main);
    rc = test_db_kill(cid1);

    test_db_req(&r, test_db_pool, test_db_main);
    rc = (rc != DGJ_OK) ? rc : test_db_insert_tx(&r, "kill-3", "k");
    test_db_diag(&r, rc);
    test_cond("db-7.13: begin on a killed idle connection reconnects",
              rc == DGJ_OK && test_db_seen("kill-3") == 1);
}


/*
 * begin, A, the connection lost at B, C, commit -- all in one handler
 * request (a fresh dgj_req_t per step only to read each message; no
 * dgj_db_request_end() until the step that clears the loss).  B, C and
 * the commit fail with DGJ_ERR_DB and nothing is written; the handle
 * works again only after dgj_db_rollback() (drop hook) or
 * dgj_db_request_end() (server-side KILL).
 */
static void
test_db_tx_lost(void)
{
    if (test_db_tx_lost_run(&test_db_lost_hook) == 0) {
        test_db_tx_lost_run(&test_db_lost_kill);
    }
}


/* one lost-transaction scenario; -1 when its handle is not created */
static int
test_db_tx_lost_run(const test_db_lost_t *how)
{
    int                  ok;
    int64_t              cid1, cid2, ac;
    dgj_db_t            *db;
    dgj_rc_t             rc, rcb, rcc;
    dgj_req_t            r;
    const char  *const  *code;

    code = how->code;

    db = test_db_handle(&test_db_conf, how->drop_before);
    if (db == NULL) {
        test_cond(how->no_handle, 0);
        return -1;
    }

    cid1 = test_db_conn_id(db);

    test_db_req(&r, test_db_pool, db);
    rc = test_db_begin_insert(&r, code[0], "A");
    test_db_diag(&r, rc);

    if (how->drop_before == NULL) {
        rc = (rc != DGJ_OK) ? rc : test_db_kill(cid1);
    }

    test_cond(how->begun, cid1 > 0 && rc == DGJ_OK);

    test_db_req(&r, test_db_pool, db);
    rcb = (rc != DGJ_OK) ? rc : test_db_insert(&r, code[1], "B", NULL);
    test_cond(how->b_fails,
              rcb == DGJ_ERR_DB
              && strstr(r.err, "inside a transaction") != NULL);

    test_db_req(&r, test_db_pool, db);
    rcc = test_db_insert(&r, code[2], "C", NULL);
    ok = (rcc == DGJ_ERR_DB && strstr(r.err, "transaction lost") != NULL
          && test_db_seen(code[2]) == 0);

    if (how->refuses != NULL) {
        test_cond(how->c_fails, ok);
        test_cond(how->refuses, test_db_lost_refuses(db, code[2]));

    } else {
        test_cond(how->c_fails, ok && test_db_lost_refuses(db, code[2]));
    }

    test_db_req(&r, test_db_pool, db);
    rc = dgj_db_commit(&r);
    test_db_diag(&r, rc);
    test_cond(how->commit, rc == DGJ_ERR_DB);

    test_cond(how->none_seen,
              test_db_seen(code[0]) == 0
              && test_db_seen(code[1]) == 0
              && test_db_seen(code[2]) == 0);

    if (how->by_rollback) {
        dgj_db_rollback(&r);

    } else {
        /* the handler returned without rolling back: the worker clears it */
        dgj_db_request_end(db);
    }

    test_db_req(&r, test_db_pool, db);
    rc = test_db_insert(&r, code[3], "D", NULL);
    test_db_diag(&r, rc);
    cid2 = test_db_conn_id(db);
    test_db_req(&r, test_db_pool, db);
    ac = -1;
    rc = (rc != DGJ_OK) ? rc
         : dgj_db_row(&r, &test_db_sql_autocommit, DGJ_NOARGS,
                      DGJ_OUTS(DGJ_OUT_I64(&ac)));
    test_db_diag(&r, rc);
    printf("#   connection %lld then %lld\n",
           (long long) cid1, (long long) cid2);
    test_cond(how->cleared,
              rc == DGJ_OK && ac == 1 && cid2 > 0 && cid2 != cid1
              && test_db_seen(code[3]) == 1
              && test_db_seen(code[0]) == 0);

    test_db_req(&r, test_db_pool, db);
    rc = test_db_insert_tx(&r, code[4], "E");
    test_db_diag(&r, rc);
    test_cond(how->again, rc == DGJ_OK && test_db_seen(code[4]) == 1);

    dgj_db_request_end(db);
    dgj_db_destroy(db);

    return 0;
}


/*
 * Migrations run while workers keep their statement caches: a cached
 * statement must follow the table, not fail until the worker recycles.
 */
static void
test_db_schema_change(void)
{
    int              ok;
    json_t          *row;
    dgj_rc_t         rc;
    dgj_req_t        r;
    test_db_item_t   it;

    row = test_db_first_row(&r, &test_db_sql_star,
                            DGJ_ARGS(DGJ_STR("row-full")));
    ok = (row != NULL && json_object_size(row) == 10);

    ok &= (test_db_admin_in("ALTER TABLE items"
                            " ADD COLUMN extra VARCHAR(16) NOT NULL"
                            " DEFAULT 'added',"
                            " MODIFY note VARCHAR(400) NULL;\n") == 0);
    test_cond("db-9.1: SELECT * is cached, then a column is added", ok);

    row = test_db_first_row(&r, &test_db_sql_star,
                            DGJ_ARGS(DGJ_STR("row-full")));
    test_cond("db-9.2: the cached SELECT * returns the new column",
              row != NULL && json_object_size(row) == 11
              && test_db_json_str_is(row, "extra", "added"));

    /* a failure must not stick to the cached statement either */
    row = test_db_first_row(&r, &test_db_sql_star,
                            DGJ_ARGS(DGJ_STR("row-null")));
    test_cond("db-9.3: and it keeps working on the next call",
              row != NULL && json_object_size(row) == 11
              && json_is_null(json_object_get(row, "note")));

    it.note = NULL;
    rc = test_db_item(&r, "row-full", &it);
    test_db_diag(&r, rc);
    test_cond("db-9.4: a cached statement naming its columns reads the "
              "widened column",
              rc == DGJ_OK && it.note != NULL
              && strcmp(it.note, "备注") == 0);
}


static void
test_db_unreachable(void)
{
    int                  fd, ok;
    double               secs;
    dgj_db_t            *db;
    dgj_rc_t             rc;
    dgj_req_t            r;
    dgj_conf_t           conf;
    struct sockaddr_un   sa;

    conf = test_db_conf;
    snprintf(conf.db_socket, sizeof(conf.db_socket),
             "%s/run/no-such-dir/mysqld.sock", test_db_var);

    db = test_db_handle(&conf, NULL);
    rc = test_db_timed_count(db, &secs);
    printf("#   missing socket: rc %d after %.3f s\n", rc, secs);
    test_cond("db-8.1: a missing socket is DGJ_ERR_DB well under the "
              "connect timeout",
              db != NULL && rc == DGJ_ERR_DB
              && secs < (double) conf.db_connect_timeout);

    test_db_req(&r, test_db_pool, db);
    rc = dgj_db_begin(&r);
    ok = (rc == DGJ_ERR_DB);
    test_db_req(&r, test_db_pool, db);
    rc = test_db_insert(&r, "never", "x", NULL);
    ok &= (rc == DGJ_ERR_DB);
    dgj_db_rollback(&r);
    dgj_db_request_end(db);
    test_cond("db-8.2: begin and exec keep failing cleanly", ok);

    dgj_db_destroy(db);

    /* a socket file nobody listens on: ECONNREFUSED */
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    ok = ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path),
                            "%s/run/ctest-%ld.sock", test_db_var,
                            (long) getpid())
          < sizeof(sa.sun_path));
    unlink(sa.sun_path);

    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ok = (ok && fd != -1
          && bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);

    snprintf(conf.db_socket, sizeof(conf.db_socket), "%s", sa.sun_path);
    db = test_db_handle(&conf, NULL);
    rc = test_db_timed_count(db, &secs);
    printf("#   refused: rc %d after %.3f s\n", rc, secs);
    test_cond("db-8.3: a refused connection is DGJ_ERR_DB at once",
              ok && db != NULL && rc == DGJ_ERR_DB && secs < 1.0);
    dgj_db_destroy(db);

    /* listening, never answering: the connect timeout must bound it */
    ok = ok && listen(fd, 4) == 0;
    conf.db_connect_timeout = 1;
    db = test_db_handle(&conf, NULL);
    rc = test_db_timed_count(db, &secs);
    printf("#   silent server: rc %d after %.3f s (connect timeout %u s,"
           " read timeout %u s)\n", rc, secs, conf.db_connect_timeout,
           conf.db_read_timeout);
    test_cond("db-8.4: a server that never greets is DGJ_ERR_DB within "
              "about the connect timeout",
              ok && db != NULL && rc == DGJ_ERR_DB && secs < 3.0);
    dgj_db_destroy(db);

    if (fd != -1) {
        close(fd);
    }

    unlink(sa.sun_path);
}


static void
test_db_log_clean(void)
{
    /* docs: "never log bound SQL values"; these all went through binds */
    test_cond("db-10.1: the log names statements but no bound value",
              test_db_log_has("ctest.insert")
              && !test_db_log_has("dup-9f3k")
              && !test_db_log_has("DROP TABLE")
              && !test_db_log_has("大管家")
              && !test_db_log_has("param-few"));
}


/* reads the environment, opens the log, fills test_db_conf */
static int
test_db_setup(void)
{
    const char  *sock;

    sock = getenv("DGJ_DB_SOCKET");
    test_db_admin_cnf = getenv("DGJ_ADMIN_CNF");
    test_db_var = getenv("DGJ_VAR");

    if (sock == NULL || test_db_admin_cnf == NULL || test_db_var == NULL) {
        printf("# DGJ_DB_SOCKET, DGJ_ADMIN_CNF and DGJ_VAR must be set "
               "(tests/run sets them)\n");
        return -1;
    }

    /* expected failures are logged: keep them out of the TAP stream */
    snprintf(test_db_log, sizeof(test_db_log), "%s/log/test_db-%ld.log",
             test_db_var, (long) getpid());
    if (dgj_log_open(test_db_log) != 0) {
        printf("# cannot open %s: %s\n", test_db_log, strerror(errno));
        return -1;
    }

    dgj_log_set_level(DGJ_LOG_DEBUG);

    snprintf(test_db_name, sizeof(test_db_name), "dgj_ctest_%ld",
             (long) getpid());

    dgj_conf_defaults(&test_db_conf);

    if (strlen(sock) >= sizeof(test_db_conf.db_socket)) {
        printf("# DGJ_DB_SOCKET is too long\n");
        return -1;
    }

    strcpy(test_db_conf.db_socket, sock);
    strcpy(test_db_conf.db_name, test_db_name);

    /* root over the socket: unix_socket authentication, no password */
    strcpy(test_db_conf.db_user, "root");
    test_db_conf.db_password[0] = '\0';

    return 0;
}


/*
 * Runs sql through the mariadb client as the admin, without a shell:
 * the statements go to its standard input, its output to our stderr so
 * it cannot corrupt the TAP stream.  0 when the client exits with 0.
 */
static int
test_db_admin(const char *sql)
{
    int       fd[2], status;
    char      opt[DGJ_CONF_PATH + 32];
    pid_t     pid;
    size_t    len;
    ssize_t   n;

    snprintf(opt, sizeof(opt), "--defaults-file=%s", test_db_admin_cnf);

    if (pipe(fd) != 0) {
        return -1;
    }

    fflush(stdout);

    pid = fork();

    if (pid == -1) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }

    if (pid == 0) {
        dup2(fd[0], STDIN_FILENO);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);

        execlp("mariadb", "mariadb", opt, "--batch", (char *) NULL);

        /* no atexit() handlers, no stdio flush in the child */
        _exit(127);
    }

    close(fd[0]);

    len = strlen(sql);

    while (len > 0) {
        n = write(fd[1], sql, len);
        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        sql += n;
        len -= (size_t) n;
    }

    close(fd[1]);

    while (waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) {
            return -1;
        }
    }

    return (len == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
           ? 0 : -1;
}


/* test_db_admin() inside the scratch database */
static int
test_db_admin_in(const char *sql)
{
    char  buf[1024];

    if ((size_t) snprintf(buf, sizeof(buf), "USE %s;\n%s", test_db_name,
                          sql)
        >= sizeof(buf))
    {
        return -1;
    }

    return test_db_admin(buf);
}


/* a fresh request on pool (reset) for db, as the worker makes one */
static dgj_req_t *
test_db_req(dgj_req_t *r, dgj_pool_t *pool, dgj_db_t *db)
{
    dgj_pool_reset(pool);
    dgj_req_init(r, pool, &test_db_io.io, 0);
    r->db = db;

    return r;
}


/* a row with fixed values except code, title and note */
static dgj_rc_t
test_db_insert(dgj_req_t *r, const char *code, const char *title,
    const char *note)
{
    return dgj_db_exec(r, &test_db_sql_insert,
                       DGJ_ARGS(DGJ_STR(code), DGJ_I64(1), DGJ_I64(1),
                                DGJ_STR("1.00"), DGJ_F64(1.0),
                                DGJ_STR(title), DGJ_STR("2026-01-01"),
                                DGJ_STR("2026-01-01 00:00:00"),
                                DGJ_STR(note)),
                       NULL, NULL);
}


/* a fresh request on test_db_main; ctest.row for code into it */
static dgj_rc_t
test_db_item(dgj_req_t *r, const char *code, test_db_item_t *it)
{
    test_db_req(r, test_db_pool, test_db_main);

    return dgj_db_row(r, &test_db_sql_row, DGJ_ARGS(DGJ_STR(code)),
                      DGJ_OUTS(DGJ_OUT_I64(&it->id), DGJ_OUT_I64(&it->qty),
                               DGJ_OUT_F64(&it->amount),
                               DGJ_OUT_STR(&it->title),
                               DGJ_OUT_STR(&it->day),
                               DGJ_OUT_STR(&it->note)));
}


/* a fresh request on test_db_main; rows_json's first row, or NULL */
static json_t *
test_db_first_row(dgj_req_t *r, const dgj_sql_t *sql, const dgj_arg_t *args,
    size_t nargs)
{
    json_t    *rows;
    dgj_rc_t   rc;

    test_db_req(r, test_db_pool, test_db_main);
    rows = NULL;
    rc = dgj_db_rows_json(r, sql, args, nargs, &rows);
    test_db_diag(r, rc);

    return (rc == DGJ_OK) ? json_array_get(rows, 0) : NULL;
}


/* COUNT(*) of items on db; its rc, and in secs how long it took */
static dgj_rc_t
test_db_timed_count(dgj_db_t *db, double *secs)
{
    double     t0;
    int64_t    n;
    dgj_rc_t   rc;
    dgj_req_t  r;

    test_db_req(&r, test_db_pool, db);
    n = -1;
    t0 = test_db_now();
    rc = dgj_db_row(&r, &test_db_sql_count, DGJ_NOARGS,
                    DGJ_OUTS(DGJ_OUT_I64(&n)));
    *secs = test_db_now() - t0;

    return rc;
}


/* begin, then test_db_insert(); the transaction is left open */
static dgj_rc_t
test_db_begin_insert(dgj_req_t *r, const char *code, const char *title)
{
    dgj_rc_t  rc;

    rc = dgj_db_begin(r);

    return (rc != DGJ_OK) ? rc : test_db_insert(r, code, title, NULL);
}


/* test_db_begin_insert(), then commit */
static dgj_rc_t
test_db_insert_tx(dgj_req_t *r, const char *code, const char *title)
{
    dgj_rc_t  rc;

    rc = test_db_begin_insert(r, code, title);

    return (rc != DGJ_OK) ? rc : dgj_db_commit(r);
}


/* the server ends connection cid: DGJ_OK, or DGJ_ERR_INTERNAL */
static dgj_rc_t
test_db_kill(int64_t cid)
{
    char  sql[64];

    snprintf(sql, sizeof(sql), "KILL %lld;\n", (long long) cid);

    return (test_db_admin(sql) == 0) ? DGJ_OK : DGJ_ERR_INTERNAL;
}


/*
 * 1 when, with db's transaction lost, rows_json, row and begin each fail
 * with DGJ_ERR_DB ("transaction lost") without reaching the server.
 */
static int
test_db_lost_refuses(dgj_db_t *db, const char *code)
{
    int         ok;
    json_t     *rows;
    int64_t     n;
    dgj_rc_t    rc;
    dgj_req_t   r;

    test_db_req(&r, test_db_aux_pool, db);
    rows = NULL;
    rc = dgj_db_rows_json(&r, &test_db_sql_get, DGJ_ARGS(DGJ_STR(code)),
                          &rows);
    ok = (rc == DGJ_ERR_DB && rows == NULL
          && strstr(r.err, "transaction lost") != NULL);
    printf("#   rows_json while lost: rc %d (%s)\n", rc, r.err);

    test_db_req(&r, test_db_aux_pool, db);
    n = -1;
    rc = dgj_db_row(&r, &test_db_sql_count_code, DGJ_ARGS(DGJ_STR(code)),
                    DGJ_OUTS(DGJ_OUT_I64(&n)));
    ok &= (rc == DGJ_ERR_DB && n == -1
           && strstr(r.err, "transaction lost") != NULL);
    printf("#   row while lost: rc %d (%s)\n", rc, r.err);

    test_db_req(&r, test_db_aux_pool, db);
    rc = dgj_db_begin(&r);
    ok &= (rc == DGJ_ERR_DB && strstr(r.err, "transaction lost") != NULL);
    printf("#   begin while lost: rc %d (%s)\n", rc, r.err);

    return ok;
}


/* the one integer sql returns on db; -1 on error */
static int64_t
test_db_i64(dgj_db_t *db, const dgj_sql_t *sql, const dgj_arg_t *args,
    size_t nargs)
{
    int64_t    n;
    dgj_rc_t   rc;
    dgj_req_t  r;

    test_db_req(&r, test_db_aux_pool, db);
    n = -1;
    rc = dgj_db_row(&r, sql, args, nargs, DGJ_OUTS(DGJ_OUT_I64(&n)));
    test_db_diag(&r, rc);

    return rc == DGJ_OK ? n : -1;
}


/* rows in items (code NULL) or rows with that code; -1 on error */
static int64_t
test_db_count(dgj_db_t *db, const char *code)
{
    if (code == NULL) {
        return test_db_i64(db, &test_db_sql_count, DGJ_NOARGS);
    }

    return test_db_i64(db, &test_db_sql_count_code,
                       DGJ_ARGS(DGJ_STR(code)));
}


/* test_db_count() as the observer connection sees it */
static int64_t
test_db_seen(const char *code)
{
    return test_db_count(test_db_obs, code);
}


/* a session status counter of db's connection; -1 on error */
static int64_t
test_db_status(dgj_db_t *db, const char *name)
{
    return test_db_i64(db, &test_db_sql_status, DGJ_ARGS(DGJ_STR(name)));
}


static int64_t
test_db_conn_id(dgj_db_t *db)
{
    return test_db_i64(db, &test_db_sql_conn_id, DGJ_NOARGS);
}


/*
 * A dgj_db handle for conf; drop_before, when not NULL, is the value of
 * DGJ_TEST_DB_DROP_BEFORE it reads at creation (and only it).
 */
static dgj_db_t *
test_db_handle(const dgj_conf_t *conf, const char *drop_before)
{
    dgj_db_t  *db;

    if (drop_before != NULL) {
        setenv("DGJ_TEST_DB_DROP_BEFORE", drop_before, 1);
    }

    db = dgj_db_create(conf);

    unsetenv("DGJ_TEST_DB_DROP_BEFORE");

    return db;
}


/* a TAP comment with the failure, when rc is an unexpected error */
static void
test_db_diag(const dgj_req_t *r, dgj_rc_t rc)
{
    if (rc != DGJ_OK && rc != DGJ_ERR_NOT_FOUND) {
        printf("#   rc %d (%s): %s\n", rc, dgj_rc_code(rc),
               r->err[0] != '\0' ? r->err : "(no message)");
    }
}


static double
test_db_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/* 1 when this run's log contains needle */
static int
test_db_log_has(const char *needle)
{
    int     found;
    char   *buf;
    long    size;
    FILE   *f;

    f = fopen(test_db_log, "re");
    if (f == NULL) {
        return 0;
    }

    found = 0;
    buf = NULL;

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        goto done;
    }

    buf = malloc((size_t) size + 1);
    if (buf == NULL) {
        goto done;
    }

    if (fread(buf, 1, (size_t) size, f) != (size_t) size) {
        goto done;
    }

    buf[size] = '\0';
    found = (strstr(buf, needle) != NULL);

done:

    free(buf);
    fclose(f);

    return found;
}


/* 1 when obj[key] is a JSON string equal to expect */
static int
test_db_json_str_is(const json_t *obj, const char *key, const char *expect)
{
    const char  *v;

    v = json_string_value(json_object_get(obj, key));

    return v != NULL && strcmp(v, expect) == 0;
}
