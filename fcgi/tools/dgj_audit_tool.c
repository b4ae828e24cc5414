
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_tool.c: build/bin/dgj-audit, the audit log's keys, its
 * offline verifier, the ingester into MariaDB and the off-host shipper
 * (docs/audit.md).
 *
 *   dgj-audit keygen DIR [--alg sha256|sm3] [--epoch-len S]
 *   dgj-audit verify [--keys DIR] [--closed] [--quiet] [--received] FILE...
 *   dgj-audit ingest -c POOL.conf --state FILE [--once] [--interval MS] DIR
 *   dgj-audit ship --to HOST:PORT --state FILE [--once] [--interval MS] DIR
 *
 * verify: exit 0 every line verified, 1 the first bad line is reported
 * (chain, seq, reason, file and line number), 2 usage or keys.  With
 * --received the files are a syslog receiver's copy (dgj_audit_received.c).
 * ingest and ship follow the files of DIR (audit.log and its rotated
 * copies), keep their position per file in --state (written after the
 * batch is committed or sent), so a restart neither skips nor repeats.
 */


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dgj_audit_chain.h"
#include "dgj_audit_lines.h"
#include "dgj_audit_order.h"
#include "dgj_audit_received.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_log.h"
#include "dgj_pool.h"
#include "dgj_req.h"


#define DGJ_AUDIT_USAGE                                                       \
    "usage: dgj-audit keygen DIR [--alg sha256|sm3] [--epoch-len S]\n"        \
    "       dgj-audit verify [--keys DIR] [--closed] [--quiet] "              \
    "[--received] FILE...\n"                                                  \
    "       dgj-audit ingest -c POOL.conf --state FILE [--once] "             \
    "[--interval MS] DIR\n"                                                   \
    "       dgj-audit ship --to HOST:PORT --state FILE [--once] "             \
    "[--interval MS] DIR\n"

#define DGJ_AUDIT_READ      (1024 * 1024)
#define DGJ_AUDIT_FILES     4096
#define DGJ_AUDIT_BATCH     500
#define DGJ_AUDIT_ID_LEN    64          /* hex SHA-256 of a file's head */


/* what verify keeps of the first bad line */
typedef struct {
    dgj_audit_verifier_t  *v;
    const char            *path;        /* the file being read */
    int                    bad;
    uint64_t               bad_line;
    char                   bad_file[4096];
} dgj_audit_verify_ctx_t;


/* where the follower is in one file: inode and first bytes name it */
typedef struct {
    uint64_t     ino;
    uint64_t     offset;
    char         id[DGJ_AUDIT_ID_LEN + 1];
    int          seen;
} dgj_audit_pos_t;


typedef struct dgj_audit_sink_s  dgj_audit_sink_t;

struct dgj_audit_sink_s {
    /* 0 when every line was stored (or sent), -1 to retry later */
    int        (*put)(dgj_audit_sink_t *s, char **lines, size_t *lens,
                      size_t n);
    dgj_req_t    r;
    dgj_conf_t   conf;
    const char  *to;
    int          fd;
    char         host[64];
};


static int dgj_audit_keygen(int argc, char **argv);
static int dgj_audit_verify(int argc, char **argv);
static int dgj_audit_verify_line(void *ctx, const char *line, size_t len,
    uint64_t lineno, int unterminated);
static int dgj_audit_follow(int argc, char **argv, int ship);
static int dgj_audit_write_pem(const char *path, EVP_PKEY *pkey, int priv,
    mode_t mode);
static int dgj_audit_state_load(const char *path, dgj_audit_pos_t *pos,
    size_t *n);
static int dgj_audit_state_save(const char *path, dgj_audit_pos_t *pos,
    size_t n);
static int dgj_audit_file_id(int fd, char *id);
static int dgj_audit_pass(const char *dir, const char *state,
    dgj_audit_sink_t *sink, dgj_audit_pos_t *pos, size_t *npos);
static int dgj_audit_db_put(dgj_audit_sink_t *s, char **lines, size_t *lens,
    size_t n);
static int dgj_audit_ship_put(dgj_audit_sink_t *s, char **lines,
    size_t *lens, size_t n);
static void dgj_audit_clip_utf8(char *s, size_t max);
static void dgj_audit_on_term(int sig);


static volatile sig_atomic_t  dgj_audit_stop;

/*
 * Rows go in as multi-row INSERTs of DGJ_AUDIT_CHUNKS[k] rows: a statement
 * costs MariaDB more than a row (one row a statement took ~120 us of
 * server CPU here, four times what nginx spends on the request it
 * records), so a full batch is 5 statements, not 500.  The texts are
 * built once; the statement cache knows them by address.
 */
#define DGJ_AUDIT_COLS  22

static const size_t  dgj_audit_chunks[] = { 100, 10, 1 };

#define DGJ_AUDIT_NCHUNKS                                                     \
    (sizeof(dgj_audit_chunks) / sizeof(dgj_audit_chunks[0]))

static const char  dgj_audit_insert_head[] =
    "INSERT IGNORE INTO audit_records (chain, seq, ts, line_type, "
    "request_id, user_id, roles, dept_id, ip, port, ua, method, path, "
    "status, auth, limit_outcome, action, object_id, latency_ms, bytes_in, "
    "bytes_out, raw) VALUES ";

static const char  dgj_audit_insert_row[] =
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static dgj_sql_t  dgj_audit_insert[DGJ_AUDIT_NCHUNKS];
static char       dgj_audit_insert_text[DGJ_AUDIT_NCHUNKS]
                                       [sizeof(dgj_audit_insert_head)
                                        + 100 * sizeof(dgj_audit_insert_row)
                                        + 100 * 2];


int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "keygen") == 0) {
        return dgj_audit_keygen(argc - 2, argv + 2);
    }

    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        return dgj_audit_verify(argc - 2, argv + 2);
    }

    if (argc >= 2 && strcmp(argv[1], "ingest") == 0) {
        return dgj_audit_follow(argc - 2, argv + 2, 0);
    }

    if (argc >= 2 && strcmp(argv[1], "ship") == 0) {
        return dgj_audit_follow(argc - 2, argv + 2, 1);
    }

    fputs(DGJ_AUDIT_USAGE, stderr);
    return 2;
}


/*
 * DIR/verify.key (K_0: the auditor's), DIR/checkpoint.key and .pub
 * (Ed25519), DIR/epoch/epoch.key (the writers' copy, which they move
 * forward).  Nothing is overwritten: a log's keys are made once.
 */
static int
dgj_audit_keygen(int argc, char **argv)
{
    int              i;
    char             path[4096], err[256];
    int64_t          epoch_len;
    EVP_PKEY        *pkey;
    dgj_audit_key_t  k;
    dgj_audit_alg_e  alg;
    const char      *dir;

    if (argc < 1) {
        fputs(DGJ_AUDIT_USAGE, stderr);
        return 2;
    }

    dir = argv[0];
    alg = DGJ_AUDIT_SHA256;
    epoch_len = 3600;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
            i++;

            if (strcmp(argv[i], "sm3") == 0) {
                alg = DGJ_AUDIT_SM3;

            } else if (strcmp(argv[i], "sha256") != 0) {
                fprintf(stderr, "dgj-audit: --alg is sha256 or sm3\n");
                return 2;
            }

        } else if (strcmp(argv[i], "--epoch-len") == 0 && i + 1 < argc) {
            epoch_len = strtoll(argv[++i], NULL, 10);

            if (epoch_len < 1 || epoch_len > 86400 * 366) {
                fprintf(stderr, "dgj-audit: --epoch-len is 1 to 31622400 "
                        "seconds\n");
                return 2;
            }

        } else {
            fputs(DGJ_AUDIT_USAGE, stderr);
            return 2;
        }
    }

    snprintf(path, sizeof(path), "%s/verify.key", dir);

    if (access(path, F_OK) == 0) {
        printf("dgj-audit: %s exists; keys unchanged\n", path);
        return 0;
    }

    snprintf(path, sizeof(path), "%s/epoch", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "dgj-audit: %s: %s\n", dir, strerror(errno));
        return 1;
    }

    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "dgj-audit: %s: %s\n", path, strerror(errno));
        return 1;
    }

    /* epoch 0 starts now, on a whole epoch, so epochs read as clock time */
    if (dgj_audit_key_generate(&k, alg, time(NULL) / epoch_len * epoch_len,
                               epoch_len) != 0)
    {
        fprintf(stderr, "dgj-audit: no random bytes\n");
        return 1;
    }

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pkey == NULL) {
        fprintf(stderr, "dgj-audit: cannot make an Ed25519 key\n");
        return 1;
    }

    snprintf(path, sizeof(path), "%s/checkpoint.key", dir);
    if (dgj_audit_write_pem(path, pkey, 1, 0600) != 0) {
        EVP_PKEY_free(pkey);
        return 1;
    }

    snprintf(path, sizeof(path), "%s/checkpoint.pub", dir);
    if (dgj_audit_write_pem(path, pkey, 0, 0644) != 0) {
        EVP_PKEY_free(pkey);
        return 1;
    }

    EVP_PKEY_free(pkey);

    /* the writers' copy first: a verify key alone means "made" */
    snprintf(path, sizeof(path), "%s/epoch/epoch.key", dir);
    if (dgj_audit_key_save(&k, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "dgj-audit: %s\n", err);
        return 1;
    }

    snprintf(path, sizeof(path), "%s/verify.key", dir);
    if (dgj_audit_key_save(&k, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "dgj-audit: %s\n", err);
        return 1;
    }

    dgj_audit_key_erase(&k);

    printf("dgj-audit: made audit keys in %s (%s, epochs of %lld s)\n", dir,
           dgj_audit_alg_name(alg), (long long) epoch_len);

    return 0;
}


static int
dgj_audit_verify(int argc, char **argv)
{
    int                     i, quiet, closed, received, rc;
    char                    vk[4096], pub[4096], err[256], *buf;
    size_t                  nfiles, k;
    const char             *keys, *path;
    dgj_audit_file_t       *files;
    dgj_audit_report_t      rep;
    dgj_audit_verifier_t   *v;
    dgj_audit_verify_ctx_t  c;
    dgj_audit_chain_info_t  info;

    keys = getenv("DGJ_AUDIT_KEYS");
    quiet = 0;
    closed = 0;
    received = 0;
    files = calloc(argc + 1, sizeof(dgj_audit_file_t));
    nfiles = 0;

    if (files == NULL) {
        return 2;
    }

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            keys = argv[++i];

        } else if (strcmp(argv[i], "--closed") == 0) {
            closed = 1;

        } else if (strcmp(argv[i], "--received") == 0) {
            received = 1;

        } else if (strcmp(argv[i], "--quiet") == 0
                   || strcmp(argv[i], "-q") == 0)
        {
            quiet = 1;

        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fputs(DGJ_AUDIT_USAGE, stderr);
            return 2;

        } else {
            files[nfiles++].path = argv[i];
        }
    }

    if (nfiles == 0) {
        fputs(DGJ_AUDIT_USAGE, stderr);
        return 2;
    }

    if (keys == NULL) {
        keys = "var/secrets/audit";
    }

    snprintf(vk, sizeof(vk), "%s/verify.key", keys);
    snprintf(pub, sizeof(pub), "%s/checkpoint.pub", keys);

    v = dgj_audit_verifier_new(vk, pub, err, sizeof(err));
    if (v == NULL) {
        fprintf(stderr, "dgj-audit: %s\n", err);
        return 2;
    }

    /* rotated files in the order they were written (dgj_audit_order.c) */
    if (!received && dgj_audit_order_files(files, nfiles) != 0) {
        fprintf(stderr, "dgj-audit: out of memory\n");
        dgj_audit_verifier_free(v);
        return 2;
    }

    buf = malloc(DGJ_AUDIT_LINES_BUF);
    if (buf == NULL) {
        return 2;
    }

    c.v = v;
    c.bad = 0;
    c.bad_line = 0;
    c.bad_file[0] = '\0';

    if (received) {
        rc = dgj_audit_received_feed(v, files, nfiles, &path, &c.bad_line);
        if (rc == -1) {
            dgj_audit_verifier_free(v);
            free(buf);
            return 2;
        }

        if (rc == 1) {
            c.bad = 1;
            snprintf(c.bad_file, sizeof(c.bad_file), "%s", path);
        }
    }

    for (k = 0; !received && k < nfiles; k++) {
        c.path = files[k].path;

        if (dgj_audit_each_line(c.path, buf, dgj_audit_verify_line, &c)
            == -2)
        {
            fprintf(stderr, "dgj-audit: %s: %s\n", c.path, strerror(errno));
            return 2;
        }
    }

    if (dgj_audit_verifier_finish(v, closed) != 0 && !c.bad) {
        c.bad = 1;
    }

    dgj_audit_verifier_report(v, &rep);

    for (k = 0; dgj_audit_verifier_chain(v, k, &info) == 0; k++) {
        if (quiet) {
            continue;
        }

        printf("chain %s: %" PRIu64 " lines, seq %" PRIu64 "..%" PRIu64
               ", %" PRIu64 " checkpoints, %s%s%s%s%s, last %s\n",
               info.id, info.lines, info.first_seq, info.last_seq,
               info.checkpoints,
               info.started ? "" : "from a checkpoint, ",
               info.stopped ? "stopped"
               : info.successor[0] ? "ended without a stop line "
                                     "(its process died; "
               : "open (running, or its process died)",
               info.successor[0] && !info.stopped ? info.successor : "",
               info.successor[0] && !info.stopped ? " follows it)" : "",
               info.torn ? ", its last line cut short (its writer died "
                           "inside a write)" : "",
               info.last_time);
    }

    if (!rep.ok) {
        printf("BAD: chain %s seq %" PRIu64 ": %s", rep.chain, rep.bad_seq,
               rep.reason);
        if (c.bad_file[0]) {
            printf(" (%s line %" PRIu64 ")", c.bad_file, c.bad_line);
        }

        printf("\n");

    } else {
        printf("OK: %" PRIu64 " lines in %zu chains verified", rep.records,
               k);
        if (rep.torn) {
            printf(" (%" PRIu64 " of them cut short by a writer's death)",
                   rep.torn);
        }

        printf("\n");
    }

    dgj_audit_verifier_free(v);
    free(buf);
    free(files);

    return rep.ok ? 0 : 1;
}


static int
dgj_audit_verify_line(void *ctx, const char *line, size_t len,
    uint64_t lineno, int unterminated)
{
    dgj_audit_verify_ctx_t  *c = ctx;

    if (dgj_audit_verifier_feed(c->v, line, len) != 0 && !c->bad) {
        c->bad = 1;
        c->bad_line = lineno;
        snprintf(c->bad_file, sizeof(c->bad_file), "%s%s", c->path,
                 unterminated ? " (its last line has no newline: cut short)"
                              : "");
    }

    return 0;
}


static int
dgj_audit_follow(int argc, char **argv, int ship)
{
    int                i, once, rc;
    long               interval;
    char               err[512];
    size_t             npos;
    const char        *conf, *state, *dir;
    dgj_audit_pos_t   *pos;
    dgj_audit_sink_t   sink;
    struct sigaction   sa;

    conf = NULL;
    state = NULL;
    dir = NULL;
    once = 0;
    interval = 1000;
    memset(&sink, 0, sizeof(sink));
    sink.fd = -1;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc && !ship) {
            conf = argv[++i];

        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc && ship) {
            sink.to = argv[++i];

        } else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
            state = argv[++i];

        } else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
            interval = strtol(argv[++i], NULL, 10);

        } else if (strcmp(argv[i], "--once") == 0) {
            once = 1;

        } else if (argv[i][0] != '-' && dir == NULL) {
            dir = argv[i];

        } else {
            fputs(DGJ_AUDIT_USAGE, stderr);
            return 2;
        }
    }

    if (state == NULL || dir == NULL || (!ship && conf == NULL)
        || (ship && sink.to == NULL) || interval < 10)
    {
        fputs(DGJ_AUDIT_USAGE, stderr);
        return 2;
    }

    if (ship) {
        sink.put = dgj_audit_ship_put;

        if (gethostname(sink.host, sizeof(sink.host) - 1) != 0) {
            strcpy(sink.host, "-");
        }

    } else {
        dgj_conf_defaults(&sink.conf);

        if (dgj_conf_load(conf, &sink.conf, err, sizeof(err)) != 0) {
            fprintf(stderr, "dgj-audit: %s\n", err);
            return 2;
        }

        sink.put = dgj_audit_db_put;
        sink.r.pool = dgj_pool_create(64 * 1024);
        sink.r.db = dgj_db_create(&sink.conf);
        sink.r.conf = &sink.conf;
        sink.r.request_id = "-";

        if (sink.r.pool == NULL || sink.r.db == NULL) {
            fprintf(stderr, "dgj-audit: out of memory\n");
            return 2;
        }
    }

    pos = calloc(DGJ_AUDIT_FILES, sizeof(dgj_audit_pos_t));
    if (pos == NULL || dgj_audit_state_load(state, pos, &npos) != 0) {
        fprintf(stderr, "dgj-audit: cannot read %s\n", state);
        return 2;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = dgj_audit_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = 0;

    while (!dgj_audit_stop) {
        rc = dgj_audit_pass(dir, state, &sink, pos, &npos);

        if (once) {
            break;
        }

        usleep(interval * 1000);
    }

    if (!ship) {
        dgj_db_destroy(sink.r.db);
        dgj_pool_destroy(sink.r.pool);
    }

    free(pos);

    return rc;
}


/*
 * One pass over the files of dir whose name starts with "audit.log":
 * from the saved position to the last complete line, in batches; the
 * position moves (and is saved) only after the sink took the batch.
 */
static int
dgj_audit_pass(const char *dir, const char *state, dgj_audit_sink_t *sink,
    dgj_audit_pos_t *pos, size_t *npos)
{
    int               fd, rc;
    DIR              *d;
    char              path[4096], id[DGJ_AUDIT_ID_LEN + 1];
    char             *buf, *p, *nl, *lines[DGJ_AUDIT_BATCH];
    size_t            i, n, have, lens[DGJ_AUDIT_BATCH];
    ssize_t           got;
    uint64_t          off;
    struct stat       st;
    struct dirent    *de;
    dgj_audit_pos_t  *ps;

    d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "dgj-audit: %s: %s\n", dir, strerror(errno));
        return 1;
    }

    buf = malloc(DGJ_AUDIT_READ + 1);
    if (buf == NULL) {
        closedir(d);
        return 1;
    }

    for (i = 0; i < *npos; i++) {
        pos[i].seen = 0;
    }

    rc = 0;

    while ((de = readdir(d)) != NULL && !dgj_audit_stop) {
        n = strlen(de->d_name);

        if (strncmp(de->d_name, "audit.log", 9) != 0
            || (n > 5 && strcmp(de->d_name + n - 5, ".lock") == 0))
        {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (fd != -1) {
                close(fd);
            }

            continue;
        }

        if (dgj_audit_file_id(fd, id) != 0) {
            close(fd);
            continue;
        }

        /* a file is its inode and its first bytes (an inode is reused
         * once retention removed the file that had it) */
        ps = NULL;

        for (i = 0; i < *npos; i++) {
            if (pos[i].ino == (uint64_t) st.st_ino
                && strcmp(pos[i].id, id) == 0)
            {
                ps = &pos[i];
                break;
            }
        }

        if (ps == NULL) {
            if (*npos == DGJ_AUDIT_FILES) {
                close(fd);
                continue;
            }

            ps = &pos[(*npos)++];
            ps->ino = st.st_ino;
            ps->offset = 0;
            memcpy(ps->id, id, sizeof(id));
        }

        ps->seen = 1;
        off = ps->offset;

        while (off < (uint64_t) st.st_size && !dgj_audit_stop) {
            got = pread(fd, buf, DGJ_AUDIT_READ, off);
            if (got <= 0) {
                break;
            }

            have = got;
            n = 0;
            p = buf;

            while ((nl = memchr(p, '\n', buf + have - p)) != NULL) {
                lines[n] = p;
                lens[n] = nl - p;
                n++;
                p = nl + 1;

                if (n == DGJ_AUDIT_BATCH) {
                    break;
                }
            }

            if (n == 0) {
                /* the last line is still being written (or cut short:
                 * the verifier reports that, we wait for its newline) */
                break;
            }

            if (sink->put(sink, lines, lens, n) != 0) {
                rc = 1;
                goto done;
            }

            off += p - buf;
            ps->offset = off;

            if (dgj_audit_state_save(state, pos, *npos) != 0) {
                fprintf(stderr, "dgj-audit: cannot write %s: %s\n", state,
                        strerror(errno));
                rc = 1;
                goto done;
            }
        }

        close(fd);
        fd = -1;
        continue;

    done:

        close(fd);
        break;
    }

    closedir(d);
    free(buf);

    if (rc == 0 && !dgj_audit_stop) {
        /* forget the files retention removed */
        for (i = 0, n = 0; i < *npos; i++) {
            if (pos[i].seen) {
                pos[n++] = pos[i];
            }
        }

        if (n != *npos) {
            *npos = n;
            dgj_audit_state_save(state, pos, n);
        }
    }

    return rc;
}


static void
dgj_audit_insert_init(void)
{
    size_t   k, i;
    char    *p;

    for (k = 0; k < DGJ_AUDIT_NCHUNKS; k++) {
        p = dgj_audit_insert_text[k];
        p += sprintf(p, "%s", dgj_audit_insert_head);

        for (i = 0; i < dgj_audit_chunks[k]; i++) {
            p += sprintf(p, "%s%s", i ? ", " : "", dgj_audit_insert_row);
        }

        dgj_audit_insert[k].name = "audit.ingest";
        dgj_audit_insert[k].text = dgj_audit_insert_text[k];
    }
}


/*
 * Runs the parsed rows args[0 .. rows * DGJ_AUDIT_COLS) as the fewest
 * statements of the chunk sizes.
 */
static dgj_rc_t
dgj_audit_insert_rows(dgj_req_t *r, const dgj_arg_t *args, size_t rows)
{
    size_t    k;
    dgj_rc_t  rc;

    rc = DGJ_OK;

    for (k = 0; rc == DGJ_OK && k < DGJ_AUDIT_NCHUNKS; k++) {
        while (rc == DGJ_OK && rows >= dgj_audit_chunks[k]) {
            rc = dgj_db_exec(r, &dgj_audit_insert[k], args,
                             dgj_audit_chunks[k] * DGJ_AUDIT_COLS, NULL,
                             NULL);
            args += dgj_audit_chunks[k] * DGJ_AUDIT_COLS;
            rows -= dgj_audit_chunks[k];
        }
    }

    return rc;
}


static int
dgj_audit_db_put(dgj_audit_sink_t *s, char **lines, size_t *lens, size_t n)
{
    size_t              i, j, rows, len, cut;
    char               *raw, ts[64], *v;
    dgj_rc_t            rc;
    dgj_req_t          *r;
    dgj_arg_t          *a;
    dgj_audit_time_t    t;
    struct tm           tm;
    time_t              sec;
    uint64_t            skipped;
    /* column, line key, maximum characters (0: a number) */
    static const struct {
        const char  *key;
        size_t       max;
        int          num;
    } f[] = {
        { "c", 40, 0 }, { "seq", 0, 1 }, { "time", 0, 0 }, { "t", 8, 0 },
        { "rid", 32, 0 }, { "uid", 0, 1 }, { "roles", 128, 0 },
        { "dept", 0, 1 }, { "ip", 45, 0 }, { "port", 0, 1 },
        { "ua", 512, 0 }, { "method", 16, 0 }, { "path", 2048, 0 },
        { "status", 0, 1 }, { "auth", 16, 0 }, { "limit", 16, 0 },
        { "action", 64, 0 }, { "object", 64, 0 }, { "ms", 0, 1 },
        { "in", 0, 1 }, { "out", 0, 1 }
    };
    static char         val[21][4096];
    /* one chunk of parsed rows; strings copied into r->pool */
    static dgj_arg_t    args[100 * DGJ_AUDIT_COLS];
    int                 found[21];

    if (dgj_audit_insert[0].text == NULL) {
        dgj_audit_insert_init();
    }

    r = &s->r;
    skipped = 0;
    rows = 0;

    rc = dgj_db_begin(r);

    for (i = 0; rc == DGJ_OK && i < n; i++) {
        raw = lines[i];
        len = lens[i];

        /* the head of a line cut short by its writer's death: the line
         * another worker wrote on after it is one of its own */
        cut = dgj_audit_line_resume(raw, len);
        if (cut > 0) {
            raw += cut;
            len -= cut;
            skipped++;
        }

        for (j = 0; j < 21; j++) {
            found[j] = dgj_audit_line_field(raw, len, f[j].key, val[j],
                                            sizeof(val[j]));
            if (found[j] < 0) {
                break;
            }
        }

        if (j < 21 || found[0] != 1 || found[1] != 1 || found[2] != 1
            || found[3] != 1
            || dgj_audit_time_parse(val[2], strlen(val[2]), &t) != 0
            || len > 65535)
        {
            skipped++;
            continue;
        }

        sec = (time_t) t.sec;
        gmtime_r(&sec, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02d %02d:%02d:%02d.%03d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, t.msec);

        a = &args[rows * DGJ_AUDIT_COLS];

        for (j = 0; j < 21; j++) {
            if (j == 2) {
                v = dgj_pstrndup(r->pool, ts, strlen(ts));
                if (v == NULL) {
                    rc = DGJ_ERR_NOMEM;
                    break;
                }

                a[j] = DGJ_STR(v);

            } else if (found[j] != 1) {
                /* NULL where the column allows it, else its default */
                a[j] = (j == 4 || j == 5 || j == 7 || j == 16 || j == 17)
                       ? DGJ_NULL
                       : f[j].num ? DGJ_I64(0) : DGJ_STR("");

            } else if (f[j].num) {
                a[j] = DGJ_I64(strtoll(val[j], NULL, 10));

            } else {
                dgj_audit_clip_utf8(val[j], f[j].max);

                v = dgj_pstrndup(r->pool, val[j], strlen(val[j]));
                if (v == NULL) {
                    rc = DGJ_ERR_NOMEM;
                    break;
                }

                a[j] = DGJ_STR(v);
            }
        }

        /* the batch buffer holds the lines until the commit */
        a[21] = DGJ_STRN(raw, len);

        if (rc == DGJ_OK && ++rows == 100) {
            rc = dgj_audit_insert_rows(r, args, rows);
            rows = 0;
        }
    }

    if (rc == DGJ_OK) {
        rc = dgj_audit_insert_rows(r, args, rows);
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        fprintf(stderr, "dgj-audit: ingest: %s\n",
                r->err[0] ? r->err : "out of memory");
        dgj_db_rollback(r);
        dgj_req_fail_clear(r);
        dgj_db_request_end(r->db);
        dgj_pool_reset(r->pool);
        return -1;
    }

    if (skipped) {
        fprintf(stderr, "dgj-audit: ingest: %" PRIu64 " lines that are not "
                "audit lines skipped (dgj-audit verify tells which)\n",
                skipped);
    }

    dgj_db_request_end(r->db);
    dgj_pool_reset(r->pool);

    return 0;
}


/* RFC 5424 over TCP with octet counting (RFC 6587): "<len> <msg>" */
static int
dgj_audit_ship_put(dgj_audit_sink_t *s, char **lines, size_t *lens,
    size_t n)
{
    int               fd;
    char              host[256], *port, head[512], ts[40], count[32];
    size_t            i, hl, off;
    ssize_t           w;
    time_t            now;
    struct tm         tm;
    struct addrinfo   hints, *ai, *a;

    if (s->fd == -1) {
        snprintf(host, sizeof(host), "%s", s->to);
        port = strrchr(host, ':');
        if (port == NULL) {
            fprintf(stderr, "dgj-audit: --to is HOST:PORT\n");
            return -1;
        }

        *port++ = '\0';

        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;

        if (getaddrinfo(host, port, &hints, &ai) != 0) {
            fprintf(stderr, "dgj-audit: cannot resolve %s\n", s->to);
            return -1;
        }

        fd = -1;

        for (a = ai; a != NULL && fd == -1; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                        a->ai_protocol);
            if (fd != -1 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
                close(fd);
                fd = -1;
            }
        }

        freeaddrinfo(ai);

        if (fd == -1) {
            fprintf(stderr, "dgj-audit: cannot connect to %s: %s\n", s->to,
                    strerror(errno));
            return -1;
        }

        s->fd = fd;
    }

    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

    for (i = 0; i < n; i++) {
        /* facility local4 (20), severity info (6): <166>; the frame
         * starts with the length of what follows it */
        hl = snprintf(head, sizeof(head), "<166>1 %s %s dgj-audit - - - ",
                      ts, s->host);
        off = snprintf(count, sizeof(count), "%zu ", hl + lens[i]);

        if (write(s->fd, count, off) != (ssize_t) off
            || write(s->fd, head, hl) != (ssize_t) hl)
        {
            goto failed;
        }

        for (off = 0; off < lens[i]; off += w) {
            w = write(s->fd, lines[i] + off, lens[i] - off);
            if (w <= 0) {
                goto failed;
            }
        }
    }

    return 0;

failed:

    fprintf(stderr, "dgj-audit: ship to %s: %s\n", s->to, strerror(errno));
    close(s->fd);
    s->fd = -1;

    return -1;
}


static int
dgj_audit_write_pem(const char *path, EVP_PKEY *pkey, int priv, mode_t mode)
{
    int    fd, ok;
    FILE  *f;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd == -1) {
        fprintf(stderr, "dgj-audit: %s: %s\n", path, strerror(errno));
        return -1;
    }

    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }

    ok = priv ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
              : PEM_write_PUBKEY(f, pkey);

    if (fclose(f) != 0 || ok != 1) {
        fprintf(stderr, "dgj-audit: cannot write %s\n", path);
        return -1;
    }

    return 0;
}


/* state file: "<inode> <offset> <id>" a line */
static int
dgj_audit_state_load(const char *path, dgj_audit_pos_t *pos, size_t *n)
{
    FILE                *f;
    char                 id[DGJ_AUDIT_ID_LEN + 2];
    unsigned long long   ino, off;

    *n = 0;

    f = fopen(path, "re");
    if (f == NULL) {
        return errno == ENOENT ? 0 : -1;
    }

    while (*n < DGJ_AUDIT_FILES
           && fscanf(f, "%llu %llu %65s", &ino, &off, id) == 3)
    {
        if (strlen(id) != DGJ_AUDIT_ID_LEN) {
            continue;
        }

        pos[*n].ino = ino;
        pos[*n].offset = off;
        memcpy(pos[*n].id, id, DGJ_AUDIT_ID_LEN + 1);
        (*n)++;
    }

    fclose(f);

    return 0;
}


static int
dgj_audit_state_save(const char *path, dgj_audit_pos_t *pos, size_t n)
{
    int     fd, ok;
    char    tmp[4096], line[128];
    size_t  i, len;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        return -1;
    }

    ok = 1;

    for (i = 0; i < n && ok; i++) {
        len = snprintf(line, sizeof(line), "%llu %llu %s\n",
                       (unsigned long long) pos[i].ino,
                       (unsigned long long) pos[i].offset, pos[i].id);
        ok = write(fd, line, len) == (ssize_t) len;
    }

    /* durable before it replaces the old position */
    ok = ok && fsync(fd) == 0;

    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }

    return 0;
}


/* SHA-256 of the first 160 bytes: a first line's chain, seq and time */
static int
dgj_audit_file_id(int fd, char *id)
{
    unsigned int   n;
    unsigned char  b[160], md[EVP_MAX_MD_SIZE];

    if (pread(fd, b, sizeof(b), 0) != (ssize_t) sizeof(b)
        || EVP_Digest(b, sizeof(b), md, &n, EVP_sha256(), NULL) != 1)
    {
        return -1;
    }

    dgj_audit_hex(md, DGJ_AUDIT_ID_LEN / 2, id);
    id[DGJ_AUDIT_ID_LEN] = '\0';

    return 0;
}


/* cut a string at max characters, never inside a UTF-8 sequence */
static void
dgj_audit_clip_utf8(char *s, size_t max)
{
    size_t  chars;
    char   *p;

    for (p = s, chars = 0; *p; p++) {
        if ((*p & 0xc0) != 0x80) {
            if (chars == max) {
                *p = '\0';
                return;
            }

            chars++;
        }
    }
}


static void
dgj_audit_on_term(int sig)
{
    (void) sig;
    dgj_audit_stop = 1;
}
