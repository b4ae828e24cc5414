
/*
 * Copyright (C) Daguanjia developers
 *
 * dgj_bench_pair.c: two URLs measured in the same seconds, for the paired
 * latency rows of `make bench` (tests/bench/console).  Each connection
 * asks for the baseline and then ours, turn about, one request at a time
 * on one kept-alive HTTP/1.1 connection, and times each answer.  Two runs
 * one after the other (wrk's way) each see their own seconds of whatever
 * else the shared machine does, and at one connection that moved a run's
 * p50 by a third from one minute to the next; request by request, both
 * sides see the same.
 *
 *   dgj-bench-pair HOST PORT SECONDS CONNECTIONS HEADER PATH_BASE PATH_OURS
 *
 * Prints one line, the baseline's figures and then ours, each as
 * tests/bench/run's rps() prints them:
 *
 *   r/s p99_ms errors p50_ms r/s p99_ms errors p50_ms
 *
 * where r/s is what that side alone would answer at that concurrency with
 * the latencies seen (connections / mean latency), and an error is an
 * answer other than 200 or a connection that failed.  Built only for the
 * benchmark.
 */


#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>


#define DGJ_PAIR_BUF      (256 * 1024)
#define DGJ_PAIR_MAX_CONN  64


typedef struct {
    double   *ms;
    size_t    n;
    size_t    cap;
    double    sum;
    long      errors;
} dgj_pair_side_t;


typedef struct {
    int               id;
    char              req[2][2048];
    size_t            req_len[2];
    dgj_pair_side_t   side[2];
} dgj_pair_conn_t;


static struct addrinfo  *dgj_pair_addr;
static double            dgj_pair_deadline;


static double
dgj_pair_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static int
dgj_pair_connect(void)
{
    int  fd, one;

    fd = socket(dgj_pair_addr->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }

    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (connect(fd, dgj_pair_addr->ai_addr, dgj_pair_addr->ai_addrlen) != 0) {
        close(fd);
        return -1;
    }

    return fd;
}


/* one request and its whole answer: the status, or -1 when the connection
 * failed or the answer has no Content-Length (all of ours have one);
 * *last when the server closes the connection after it (nginx does so
 * after keepalive_requests answers) */
static int
dgj_pair_exchange(int fd, const char *req, size_t len, char *buf, int *last)
{
    char     *end, *p, *line;
    size_t    have, need;
    ssize_t   n;
    long      status, body;

    while (len > 0) {
        n = write(fd, req, len);
        if (n <= 0) {
            return -1;
        }
        req += n;
        len -= (size_t) n;
    }

    have = 0;
    end = NULL;

    while (end == NULL) {
        if (have == DGJ_PAIR_BUF - 1) {
            return -1;
        }

        n = read(fd, buf + have, DGJ_PAIR_BUF - 1 - have);
        if (n <= 0) {
            return -1;
        }

        have += (size_t) n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }

    if (sscanf(buf, "HTTP/1.%*d %ld", &status) != 1) {
        return -1;
    }

    body = -1;
    *last = 0;

    for (line = strstr(buf, "\r\n"); line != NULL && line < end;
         line = strstr(line + 2, "\r\n"))
    {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
            body = strtol(line + 17, &p, 10);

        } else if (strncasecmp(line + 2, "Connection: close", 17) == 0) {
            *last = 1;
        }
    }

    if (body < 0) {
        return -1;
    }

    need = (size_t) (end + 4 - buf) + (size_t) body;

    while (have < need) {
        n = read(fd, buf, need - have < DGJ_PAIR_BUF ? need - have
                                                      : DGJ_PAIR_BUF);
        if (n <= 0) {
            return -1;
        }

        have += (size_t) n;
    }

    return (int) status;
}


static int
dgj_pair_keep(dgj_pair_side_t *s, double ms)
{
    double  *grown;

    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        grown = realloc(s->ms, s->cap * sizeof(double));
        if (grown == NULL) {
            return -1;
        }
        s->ms = grown;
    }

    s->ms[s->n++] = ms;
    s->sum += ms;

    return 0;
}


static void *
dgj_pair_run(void *arg)
{
    int               fd, k, status, last;
    char             *buf;
    double            t0, t1;
    dgj_pair_conn_t  *c;

    c = arg;

    buf = malloc(DGJ_PAIR_BUF);
    if (buf == NULL) {
        return NULL;
    }

    fd = -1;
    /* half the connections start with ours: neither side always follows
     * the other */
    k = c->id % 2;

    while (dgj_pair_now() < dgj_pair_deadline) {
        if (fd < 0) {
            fd = dgj_pair_connect();
            if (fd < 0) {
                c->side[k].errors++;
                usleep(10000);
                continue;
            }
        }

        t0 = dgj_pair_now();
        status = dgj_pair_exchange(fd, c->req[k], c->req_len[k], buf,
                                   &last);
        t1 = dgj_pair_now();

        if (status < 0 || last) {
            close(fd);
            fd = -1;
        }

        if (status != 200) {
            c->side[k].errors++;

        } else if (dgj_pair_keep(&c->side[k], t1 - t0) != 0) {
            break;
        }

        k = 1 - k;
    }

    if (fd >= 0) {
        close(fd);
    }

    free(buf);

    return NULL;
}


static int
dgj_pair_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static double
dgj_pair_pct(const double *v, size_t n, double pct)
{
    size_t  i;

    if (n == 0) {
        return 0;
    }

    i = (size_t) (pct / 100 * (double) n);

    return v[i < n ? i : n - 1];
}


int
main(int argc, char **argv)
{
    int                i, conns, seconds, s, rc;
    size_t             n;
    double            *all, sum;
    long               errors;
    pthread_t          tid[DGJ_PAIR_MAX_CONN];
    struct addrinfo    hints;
    dgj_pair_conn_t   *c;

    if (argc != 8) {
        fprintf(stderr, "usage: dgj-bench-pair HOST PORT SECONDS CONNECTIONS"
                        " HEADER PATH_BASE PATH_OURS\n");
        return 2;
    }

    seconds = atoi(argv[3]);
    conns = atoi(argv[4]);

    if (seconds < 1 || conns < 1 || conns > DGJ_PAIR_MAX_CONN) {
        fprintf(stderr, "dgj-bench-pair: 1 s or more, 1 to %d connections\n",
                DGJ_PAIR_MAX_CONN);
        return 2;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(argv[1], argv[2], &hints, &dgj_pair_addr);
    if (rc != 0) {
        fprintf(stderr, "dgj-bench-pair: %s: %s\n", argv[1], gai_strerror(rc));
        return 2;
    }

    c = calloc((size_t) conns, sizeof(dgj_pair_conn_t));
    if (c == NULL) {
        return 2;
    }

    for (i = 0; i < conns; i++) {
        c[i].id = i;

        for (s = 0; s < 2; s++) {
            n = (size_t) snprintf(c[i].req[s], sizeof(c[i].req[s]),
                                  "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
                                  "%s\r\nUser-Agent: dgj-bench-pair\r\n\r\n",
                                  argv[6 + s], argv[1], argv[2], argv[5]);
            if (n >= sizeof(c[i].req[s])) {
                fprintf(stderr, "dgj-bench-pair: request too long\n");
                return 2;
            }
            c[i].req_len[s] = n;
        }
    }

    dgj_pair_deadline = dgj_pair_now() + seconds * 1e3;

    for (i = 0; i < conns; i++) {
        if (pthread_create(&tid[i], NULL, dgj_pair_run, &c[i]) != 0) {
            fprintf(stderr, "dgj-bench-pair: cannot start a thread\n");
            return 2;
        }
    }

    for (i = 0; i < conns; i++) {
        pthread_join(tid[i], NULL);
    }

    for (s = 0; s < 2; s++) {
        n = 0;
        for (i = 0; i < conns; i++) {
            n += c[i].side[s].n;
        }

        all = malloc((n ? n : 1) * sizeof(double));
        if (all == NULL) {
            return 2;
        }

        n = 0;
        sum = 0;
        errors = 0;

        for (i = 0; i < conns; i++) {
            if (c[i].side[s].n) {
                memcpy(all + n, c[i].side[s].ms,
                       c[i].side[s].n * sizeof(double));
            }
            n += c[i].side[s].n;
            sum += c[i].side[s].sum;
            errors += c[i].side[s].errors;
            free(c[i].side[s].ms);
        }

        qsort(all, n, sizeof(double), dgj_pair_cmp);

        printf("%s%.0f %.2f %ld %.2f", s ? " " : "",
               n && sum > 0 ? conns / (sum / (double) n) * 1e3 : 0.0,
               dgj_pair_pct(all, n, 99), errors + (n == 0),
               dgj_pair_pct(all, n, 50));
        free(all);
    }

    printf("\n");

    free(c);
    freeaddrinfo(dgj_pair_addr);

    return 0;
}
