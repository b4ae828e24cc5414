
/*
 * Copyright (C) Daguanjia developers
 *
 * dgj_bench_hello.c: the bare FastCGI baseline for `make bench` -- libfcgi
 * and nothing else (no router, pool, JSON library or database), prefork
 * like dgj-fcgi, so the benchmark can show what our stack costs on top.
 * Built only for the benchmark; never installed or started by the stack.
 */


#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>


static volatile sig_atomic_t  dgj_hello_stop;


static void
dgj_hello_on_term(int signo)
{
    (void) signo;

    dgj_hello_stop = 1;
}


static int
dgj_hello_serve(int fd)
{
    FCGX_Request  req;

    if (FCGX_InitRequest(&req, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        return 1;
    }

    while (!dgj_hello_stop && FCGX_Accept_r(&req) >= 0) {
        FCGX_PutS("Status: 200 OK\r\n"
                  "Content-Type: application/json; charset=utf-8\r\n"
                  "\r\n"
                  "{\"hello\":\"world\"}\n", req.out);
        FCGX_Finish_r(&req);
    }

    FCGX_Free(&req, 1);

    return 0;
}


int
main(int argc, char **argv)
{
    int               fd, i, n, status;
    pid_t             pid, workers[256];
    struct sigaction  sa;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET WORKERS\n", argv[0]);
        return 2;
    }

    n = atoi(argv[2]);
    if (n < 1 || n > 256) {
        fprintf(stderr, "dgj-bench-hello: WORKERS must be 1..256\n");
        return 2;
    }

    if (FCGX_Init() != 0) {
        return 1;
    }

    unlink(argv[1]);

    fd = FCGX_OpenSocket(argv[1], 128);
    if (fd < 0) {
        fprintf(stderr, "dgj-bench-hello: cannot listen on %s: %s\n",
                argv[1], strerror(errno));
        return 1;
    }

    chmod(argv[1], 0666);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = dgj_hello_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    for (i = 0; i < n; i++) {
        pid = fork();
        if (pid == 0) {
            return dgj_hello_serve(fd);
        }

        workers[i] = pid;
    }

    while (!dgj_hello_stop) {
        pause();
    }

    for (i = 0; i < n; i++) {
        if (workers[i] > 0) {
            kill(workers[i], SIGTERM);
        }
    }

    /*
     * A worker whose kept connection was closed under it goes back into a
     * blocking accept() inside libfcgi, past its stop flag: give the
     * workers 2 s, then kill what is left.
     */
    for (i = 0; i < 200 && waitpid(-1, &status, WNOHANG) >= 0; i++) {
        usleep(10000);
    }

    for (i = 0; i < n; i++) {
        if (workers[i] > 0) {
            kill(workers[i], SIGKILL);
        }
    }

    while (wait(&status) > 0) {
        /* reap every worker before the socket goes */
    }

    unlink(argv[1]);

    return 0;
}
