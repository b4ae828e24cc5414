
/*
 * Copyright (C) Daguanjia developers
 *
 * dgj_bench_submit.c: the baseline of the submission row of `make bench`:
 * the transaction of POST /api/v1/appeals (fcgi/workflow/
 * dgj_workflow_submit.c) done by a plain Connector/C client straight on
 * MariaDB, with no HTTP, FastCGI, router, JSON or pool: the daily
 * sequence upsert read back with LAST_INSERT_ID, the appeal, its
 * personal data and its first event, then COMMIT, with the same SQL text
 * as prepared statements, the same values as the bench's HTTP body, the
 * same HMAC of a fresh query code, as the workers' database account over
 * the same unix socket.  One connection per thread, as many as the HTTP
 * load has connections.  Built only for the benchmark.
 *
 *   dgj-bench-submit CLIENT_CNF QUERY_KEY CONNECTIONS WARMUP SECONDS
 *
 * prints "requests_per_second p99_ms errors p50_ms", the shape of the
 * bench's wrk summary line.
 */


#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>


#define DGJ_BS_MAX_THREADS  256
#define DGJ_BS_BEIJING      (8 * 3600)


typedef struct {
    pthread_t       tid;
    int             index;
    MYSQL          *mysql;
    MYSQL_STMT     *seq;
    MYSQL_STMT     *appeal;
    MYSQL_STMT     *personal;
    MYSQL_STMT     *event;
    uint64_t        done;
    uint64_t        errors;
    uint32_t       *lat;            /* microseconds, measured window only */
    size_t          nlat;
    size_t          cap;
} dgj_bs_thread_t;


static int dgj_bs_prepare(dgj_bs_thread_t *t);
static int dgj_bs_submit(dgj_bs_thread_t *t);
static void *dgj_bs_run(void *arg);
static int dgj_bs_lookup(MYSQL *m);
static void dgj_bs_time(time_t t, char *buf);
static void dgj_bs_bind_str(MYSQL_BIND *b, const char *s, unsigned long *len);
static int dgj_bs_cmp(const void *a, const void *b);
static double dgj_bs_now(void);


/* fcgi/workflow/dgj_workflow_submit.c and dgj_workflow.c, verbatim */

static const char  dgj_bs_sql_seq[] =
    "INSERT INTO appeal_days (day, last_seq) VALUES (?, LAST_INSERT_ID(1))"
    " ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + 1)";

static const char  dgj_bs_sql_appeal[] =
    "INSERT INTO appeals (tracking_no, query_code_mac, channel, external_id,"
    "       category_id, appeal_type, district_id, address, latitude,"
    "       longitude, title, content, is_anonymous, publish_consent,"
    "       priority, state, submitter_user_id, stage, stage_started_at,"
    "       due_at, warn_at, submitted_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?,"
    "         'intake', ?, ?, ?, ?, ?)";

static const char  dgj_bs_sql_personal[] =
    "INSERT INTO appeal_personal (appeal_id, name, phone, id_number)"
    " VALUES (?, ?, ?, ?)";

static const char  dgj_bs_sql_event[] =
    "INSERT INTO appeal_events (appeal_id, at, actor_user_id, actor_role,"
    "       actor_department_id, action, from_state, to_state, reason_code,"
    "       comment, visibility, due_at_set, target_department_id, task_id,"
    "       request_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* the body tests/bench/run posts (tests/lib/DgjWorkflow.pm's submission) */
static const char  dgj_bs_address[] = "石碣镇政府路 1 号";
static const char  dgj_bs_title[] = "夜间施工噪声扰民";
static const char  dgj_bs_content[] =
    "小区旁工地每天晚上十一点后仍在施工, 影响休息。";
static const char  dgj_bs_name[] = "张三丰";
static const char  dgj_bs_phone[] = "13800138000";

static const char  dgj_bs_alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

static const char      *dgj_bs_cnf;
static char             dgj_bs_key[256];
static int64_t          dgj_bs_category;
static char             dgj_bs_type[17];
static int64_t          dgj_bs_district;

/* 0 warm-up, 1 measured, 2 stop */
static atomic_int       dgj_bs_phase;
static double           dgj_bs_t0, dgj_bs_t1;


int
main(int argc, char **argv)
{
    int               n, i, warmup, seconds, failed;
    FILE             *f;
    size_t            len, total, k;
    double            secs;
    uint32_t         *all;
    uint64_t          done, errors;
    dgj_bs_thread_t  *threads;

    if (argc != 6) {
        fprintf(stderr, "usage: %s CLIENT_CNF QUERY_KEY CONNECTIONS WARMUP"
                " SECONDS\n", argv[0]);
        return 2;
    }

    dgj_bs_cnf = argv[1];
    n = atoi(argv[3]);
    warmup = atoi(argv[4]);
    seconds = atoi(argv[5]);

    if (n < 1 || n > DGJ_BS_MAX_THREADS || warmup < 0 || seconds < 1) {
        fprintf(stderr, "dgj-bench-submit: bad CONNECTIONS, WARMUP or"
                " SECONDS\n");
        return 2;
    }

    f = fopen(argv[2], "r");
    if (f == NULL || fgets(dgj_bs_key, sizeof(dgj_bs_key), f) == NULL) {
        fprintf(stderr, "dgj-bench-submit: cannot read %s: %s\n", argv[2],
                strerror(errno));
        return 1;
    }

    fclose(f);
    len = strlen(dgj_bs_key);
    if (len > 0 && dgj_bs_key[len - 1] == '\n') {
        dgj_bs_key[len - 1] = '\0';
    }

    if (mysql_library_init(0, NULL, NULL) != 0) {
        return 1;
    }

    threads = calloc((size_t) n, sizeof(dgj_bs_thread_t));
    if (threads == NULL) {
        return 1;
    }

    /* every connection is made and prepared before the clock starts */
    for (i = 0; i < n; i++) {
        threads[i].index = i;

        if (dgj_bs_prepare(&threads[i]) != 0) {
            return 1;
        }
    }

    if (dgj_bs_lookup(threads[0].mysql) != 0) {
        return 1;
    }

    for (i = 0; i < n; i++) {
        if (pthread_create(&threads[i].tid, NULL, dgj_bs_run, &threads[i])
            != 0)
        {
            fprintf(stderr, "dgj-bench-submit: pthread_create failed\n");
            return 1;
        }
    }

    sleep((unsigned) warmup);
    dgj_bs_t0 = dgj_bs_now();
    dgj_bs_phase = 1;
    sleep((unsigned) seconds);
    dgj_bs_t1 = dgj_bs_now();
    dgj_bs_phase = 2;

    done = 0;
    errors = 0;
    total = 0;
    failed = 0;

    for (i = 0; i < n; i++) {
        pthread_join(threads[i].tid, NULL);
        done += threads[i].done;
        errors += threads[i].errors;
        total += threads[i].nlat;
        failed |= threads[i].mysql == NULL;
    }

    all = malloc((total + 1) * sizeof(uint32_t));
    if (all == NULL) {
        return 1;
    }

    k = 0;
    for (i = 0; i < n; i++) {
        memcpy(all + k, threads[i].lat, threads[i].nlat * sizeof(uint32_t));
        k += threads[i].nlat;
    }

    qsort(all, total, sizeof(uint32_t), dgj_bs_cmp);

    secs = dgj_bs_t1 - dgj_bs_t0;

    printf("%.0f %.2f %" PRIu64 " %.2f\n", secs > 0 ? done / secs : 0,
           total ? all[(size_t) ((total - 1) * 0.99)] / 1000.0 : 0,
           errors, total ? all[(size_t) ((total - 1) * 0.5)] / 1000.0 : 0);

    return failed;
}


static int
dgj_bs_prepare(dgj_bs_thread_t *t)
{
    size_t       i;
    unsigned     v;
    MYSQL       *m;
    MYSQL_STMT  *s;

    struct {
        MYSQL_STMT  **stmt;
        const char   *sql;
    } stmts[] = {
        { &t->seq, dgj_bs_sql_seq },
        { &t->appeal, dgj_bs_sql_appeal },
        { &t->personal, dgj_bs_sql_personal },
        { &t->event, dgj_bs_sql_event },
    };

    m = mysql_init(NULL);
    if (m == NULL) {
        return -1;
    }

    /* socket, user and password of the workers' account */
    mysql_options(m, MYSQL_READ_DEFAULT_FILE, dgj_bs_cnf);
    mysql_options(m, MYSQL_READ_DEFAULT_GROUP, "client");
    v = MYSQL_PROTOCOL_SOCKET;
    mysql_options(m, MYSQL_OPT_PROTOCOL, &v);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");

    if (mysql_real_connect(m, "localhost", NULL, NULL, "dgj", 0, NULL, 0)
        == NULL)
    {
        fprintf(stderr, "dgj-bench-submit: connect: %s\n", mysql_error(m));
        return -1;
    }

    /* each transaction ends with COMMIT; nothing commits on its own */
    if (mysql_autocommit(m, 0) != 0) {
        fprintf(stderr, "dgj-bench-submit: autocommit: %s\n",
                mysql_error(m));
        return -1;
    }

    t->mysql = m;

    for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        s = mysql_stmt_init(m);
        if (s == NULL
            || mysql_stmt_prepare(s, stmts[i].sql, strlen(stmts[i].sql)) != 0)
        {
            fprintf(stderr, "dgj-bench-submit: prepare: %s\n",
                    s ? mysql_stmt_error(s) : "no memory");
            return -1;
        }

        *stmts[i].stmt = s;
    }

    t->cap = 65536;
    t->lat = malloc(t->cap * sizeof(uint32_t));

    return t->lat == NULL ? -1 : 0;
}


static int
dgj_bs_lookup(MYSQL *m)
{
    int            rc;
    long long      category, district;
    MYSQL_BIND     in[2], out[3];
    MYSQL_STMT    *s;
    unsigned long  clen, dlen, tlen;

    static const char  cat_code[] = "0301", town_code[] = "441900101";

    /* the category and district of the HTTP body, looked up once */
    s = mysql_stmt_init(m);
    if (s == NULL
        || mysql_stmt_prepare(s, "SELECT c.id, c.appeal_type, d.id"
                                 "  FROM categories c, districts d"
                                 " WHERE c.code = ? AND d.code = ?",
                              (unsigned long) -1) != 0)
    {
        fprintf(stderr, "dgj-bench-submit: lookup: %s\n", mysql_error(m));
        if (s != NULL) {
            mysql_stmt_close(s);
        }
        return -1;
    }

    memset(in, 0, sizeof(in));
    dgj_bs_bind_str(&in[0], cat_code, &clen);
    dgj_bs_bind_str(&in[1], town_code, &dlen);

    memset(out, 0, sizeof(out));
    out[0].buffer_type = MYSQL_TYPE_LONGLONG;
    out[0].buffer = &category;
    out[1].buffer_type = MYSQL_TYPE_STRING;
    out[1].buffer = dgj_bs_type;
    out[1].buffer_length = sizeof(dgj_bs_type);
    out[1].length = &tlen;
    out[2].buffer_type = MYSQL_TYPE_LONGLONG;
    out[2].buffer = &district;

    rc = -1;

    if (mysql_stmt_bind_param(s, in) != 0
        || mysql_stmt_execute(s) != 0
        || mysql_stmt_bind_result(s, out) != 0)
    {
        fprintf(stderr, "dgj-bench-submit: lookup: %s\n",
                mysql_stmt_error(s));

    } else if (mysql_stmt_fetch(s) == 0) {
        dgj_bs_category = category;
        dgj_bs_type[tlen < sizeof(dgj_bs_type) ? tlen
                                                : sizeof(dgj_bs_type) - 1]
            = '\0';
        dgj_bs_district = district;
        rc = 0;

    } else {
        fprintf(stderr, "dgj-bench-submit: category 0301 or district"
                " 441900101 missing\n");
    }

    mysql_stmt_close(s);

    return rc;
}


static void *
dgj_bs_run(void *arg)
{
    int               measuring;
    double            start, end;
    uint32_t         *p;
    dgj_bs_thread_t  *t = arg;

    mysql_thread_init();

    while (dgj_bs_phase != 2) {
        measuring = dgj_bs_phase == 1;
        start = dgj_bs_now();

        if (dgj_bs_submit(t) != 0) {
            t->errors += measuring;

            if (mysql_rollback(t->mysql) != 0) {
                fprintf(stderr, "dgj-bench-submit: connection lost: %s\n",
                        mysql_error(t->mysql));
                mysql_close(t->mysql);
                t->mysql = NULL;
                break;
            }

            continue;
        }

        end = dgj_bs_now();

        /* like wrk: what completed inside the measured window */
        if (!measuring || dgj_bs_phase != 1) {
            continue;
        }

        t->done++;

        if (t->nlat == t->cap) {
            p = realloc(t->lat, 2 * t->cap * sizeof(uint32_t));
            if (p == NULL) {
                continue;
            }

            t->lat = p;
            t->cap *= 2;
        }

        t->lat[t->nlat++] = (uint32_t) ((end - start) * 1e6);
    }

    mysql_thread_end();

    return NULL;
}


/* one submission: sequence, appeal, personal data, event, COMMIT */
static int
dgj_bs_submit(dgj_bs_thread_t *t)
{
    int              y, mo, d;
    char             day[11], now_s[20], due_s[20], warn_s[20];
    char             tracking[17], code[7], request_id[33];
    size_t           i;
    time_t           now;
    int64_t          anonymous, consent, appeal_id;
    uint64_t         seq;
    unsigned int     maclen;
    unsigned char    mac[32], rnd[6 + 16];
    unsigned long    len[21];
    MYSQL_BIND       b[21];

    static const char  hex[] = "0123456789abcdef";

    now = time(NULL);
    dgj_bs_time(now, now_s);
    /* the intake clock of the default rule: one day, warned at 80 % */
    dgj_bs_time(now + 86400, due_s);
    dgj_bs_time(now + 86400 * 8 / 10, warn_s);
    memcpy(day, now_s, 10);
    day[10] = '\0';

    memset(b, 0, sizeof(b));
    dgj_bs_bind_str(&b[0], day, &len[0]);

    if (mysql_stmt_bind_param(t->seq, b) != 0
        || mysql_stmt_execute(t->seq) != 0)
    {
        return -1;
    }

    seq = mysql_stmt_insert_id(t->seq);
    if (seq < 1 || seq > 999999) {
        return -1;
    }

    sscanf(day, "%4d-%2d-%2d", &y, &mo, &d);
    snprintf(tracking, sizeof(tracking), "DG%04d%02d%02d%06u", y, mo, d,
             (unsigned) seq);

    /* a fresh code and its HMAC, as the worker makes them */
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return -1;
    }

    for (i = 0; i < 6; i++) {
        code[i] = dgj_bs_alphabet[rnd[i] % (sizeof(dgj_bs_alphabet) - 1)];
    }

    code[6] = '\0';

    for (i = 0; i < 16; i++) {
        request_id[2 * i] = hex[rnd[6 + i] >> 4];
        request_id[2 * i + 1] = hex[rnd[6 + i] & 0x0f];
    }

    request_id[32] = '\0';

    maclen = sizeof(mac);
    if (HMAC(EVP_sha256(), dgj_bs_key, (int) strlen(dgj_bs_key),
             (const unsigned char *) code, 6, mac, &maclen) == NULL)
    {
        return -1;
    }

    anonymous = 0;
    consent = 1;

    memset(b, 0, sizeof(b));
    dgj_bs_bind_str(&b[0], tracking, &len[0]);
    b[1].buffer_type = MYSQL_TYPE_BLOB;
    b[1].buffer = mac;
    b[1].buffer_length = sizeof(mac);
    dgj_bs_bind_str(&b[2], "portal", &len[2]);
    b[3].buffer_type = MYSQL_TYPE_NULL;
    b[4].buffer_type = MYSQL_TYPE_LONGLONG;
    b[4].buffer = &dgj_bs_category;
    dgj_bs_bind_str(&b[5], dgj_bs_type, &len[5]);
    b[6].buffer_type = MYSQL_TYPE_LONGLONG;
    b[6].buffer = &dgj_bs_district;
    dgj_bs_bind_str(&b[7], dgj_bs_address, &len[7]);
    b[8].buffer_type = MYSQL_TYPE_NULL;
    b[9].buffer_type = MYSQL_TYPE_NULL;
    dgj_bs_bind_str(&b[10], dgj_bs_title, &len[10]);
    dgj_bs_bind_str(&b[11], dgj_bs_content, &len[11]);
    b[12].buffer_type = MYSQL_TYPE_LONGLONG;
    b[12].buffer = &anonymous;
    b[13].buffer_type = MYSQL_TYPE_LONGLONG;
    b[13].buffer = &consent;
    dgj_bs_bind_str(&b[14], "normal", &len[14]);
    b[15].buffer_type = MYSQL_TYPE_NULL;
    dgj_bs_bind_str(&b[16], now_s, &len[16]);
    dgj_bs_bind_str(&b[17], due_s, &len[17]);
    dgj_bs_bind_str(&b[18], warn_s, &len[18]);
    dgj_bs_bind_str(&b[19], now_s, &len[19]);
    dgj_bs_bind_str(&b[20], now_s, &len[20]);

    if (mysql_stmt_bind_param(t->appeal, b) != 0
        || mysql_stmt_execute(t->appeal) != 0)
    {
        return -1;
    }

    appeal_id = (int64_t) mysql_stmt_insert_id(t->appeal);

    memset(b, 0, sizeof(b));
    b[0].buffer_type = MYSQL_TYPE_LONGLONG;
    b[0].buffer = &appeal_id;
    dgj_bs_bind_str(&b[1], dgj_bs_name, &len[1]);
    dgj_bs_bind_str(&b[2], dgj_bs_phone, &len[2]);
    b[3].buffer_type = MYSQL_TYPE_NULL;

    if (mysql_stmt_bind_param(t->personal, b) != 0
        || mysql_stmt_execute(t->personal) != 0)
    {
        return -1;
    }

    memset(b, 0, sizeof(b));
    b[0].buffer_type = MYSQL_TYPE_LONGLONG;
    b[0].buffer = &appeal_id;
    dgj_bs_bind_str(&b[1], now_s, &len[1]);
    b[2].buffer_type = MYSQL_TYPE_NULL;
    dgj_bs_bind_str(&b[3], "anonymous", &len[3]);
    b[4].buffer_type = MYSQL_TYPE_NULL;
    dgj_bs_bind_str(&b[5], "submit", &len[5]);
    b[6].buffer_type = MYSQL_TYPE_NULL;
    dgj_bs_bind_str(&b[7], "submitted", &len[7]);
    b[8].buffer_type = MYSQL_TYPE_NULL;
    b[9].buffer_type = MYSQL_TYPE_NULL;
    dgj_bs_bind_str(&b[10], "public", &len[10]);
    dgj_bs_bind_str(&b[11], due_s, &len[11]);
    b[12].buffer_type = MYSQL_TYPE_NULL;
    b[13].buffer_type = MYSQL_TYPE_NULL;
    dgj_bs_bind_str(&b[14], request_id, &len[14]);

    if (mysql_stmt_bind_param(t->event, b) != 0
        || mysql_stmt_execute(t->event) != 0)
    {
        return -1;
    }

    return mysql_commit(t->mysql) != 0 ? -1 : 0;
}


/* "YYYY-MM-DD HH:MM:SS" in Beijing time (UTC+8, no daylight saving) */
static void
dgj_bs_time(time_t t, char *buf)
{
    struct tm  tm;

    t += DGJ_BS_BEIJING;
    gmtime_r(&t, &tm);
    strftime(buf, 20, "%Y-%m-%d %H:%M:%S", &tm);
}


static void
dgj_bs_bind_str(MYSQL_BIND *b, const char *s, unsigned long *len)
{
    *len = strlen(s);
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *) s;
    b->buffer_length = *len;
    b->length = len;
}


static int
dgj_bs_cmp(const void *a, const void *b)
{
    uint32_t  x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}


static double
dgj_bs_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}
