
/*
 * Copyright (C) Daguanjia
 *
 * test_revoke.c: dgj_revoke and dgj_control without nginx: the state
 * file lines, refused input, compaction, and the POST seen by a fake
 * control server on a unix socket (2xx, error status, nobody listening).
 * tests/nginx/auth_revoke.t covers the real nginx.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_control.h"
#include "dgj_log.h"
#include "dgj_revoke.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "testhelp.h"


#define S1  "00112233445566778899aabbccddeeff"
#define S2  "ffeeddccbbaa99887766554433221100"


static char  file[128];
static char  sock[108];
static char  seen[128];


static char *
test_read(const char *path, size_t *len)
{
    int           fd;
    char         *buf;
    ssize_t       n;
    struct stat   st;

    fd = open(path, O_RDONLY);
    if (fd == -1) {
        return NULL;
    }

    fstat(fd, &st);
    buf = calloc(1, (size_t) st.st_size + 1);
    n = read(fd, buf, (size_t) st.st_size);
    close(fd);

    if (len != NULL) {
        *len = n > 0 ? (size_t) n : 0;
    }

    return buf;
}


/* a control server for one request: answers status, writes the request */
static pid_t
test_server(int status)
{
    int                 ls, c, fd;
    char                buf[4096];
    pid_t               pid;
    size_t              len;
    ssize_t             n;
    struct sockaddr_un  sa;

    unlink(sock);

    ls = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sock);

    if (ls == -1 || bind(ls, (struct sockaddr *) &sa, sizeof(sa)) == -1
        || listen(ls, 4) == -1)
    {
        exit(2);
    }

    pid = fork();
    if (pid != 0) {
        close(ls);
        return pid;
    }

    c = accept(ls, NULL, NULL);
    len = 0;

    /* headers and a short body arrive within a few reads */
    while (len < sizeof(buf) - 1) {
        n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t) n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL && strstr(buf, "\n" S1) != NULL)
        {
            break;
        }
    }

    fd = open(seen, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (write(fd, buf, len) < 0) {
        _exit(3);
    }
    close(fd);

    n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d X\r\nContent-Length: 5\r\n"
                 "Connection: close\r\n\r\nnope\n", status);
    if (write(c, buf, (size_t) n) < 0) {
        _exit(3);
    }
    close(c);

    _exit(0);
}


int
main(void)
{
    int          fd;
    char        *text, line[200];
    pid_t        pid;
    size_t       len, i;
    int64_t      now;
    dgj_rc_t     rc;
    dgj_conf_t   conf;
    const char  *two[] = { S1, S2 };
    const char  *bad[] = { S1, "00112233445566778899AABBCCDDEEFF" };

    snprintf(file, sizeof(file), "/tmp/dgj-test-revoke-%d.list", getpid());
    snprintf(sock, sizeof(sock), "/tmp/dgj-test-ctl-%d.sock", getpid());
    snprintf(seen, sizeof(seen), "/tmp/dgj-test-ctl-%d.req", getpid());
    unlink(file);

    /* the failures below are logged on purpose: keep TAP output clean */
    dgj_log_open("/dev/null");

    dgj_conf_defaults(&conf);
    strcpy(conf.revoke_file, file);
    strcpy(conf.control_socket, sock);

    now = (int64_t) time(NULL);

    rc = dgj_revoke_sessions(&conf, bad, 2, now + 600);
    test_cond("revoke-1.1: an upper-case session is refused, nothing "
              "written", rc == DGJ_ERR_INPUT && access(file, F_OK) == -1);

    test_cond("revoke-1.2: no sessions is nothing to do",
              dgj_revoke_sessions(&conf, two, 0, now + 600) == DGJ_OK);

    unlink(sock);
    rc = dgj_revoke_sessions(&conf, two, 2, now + 600);
    text = test_read(file, NULL);
    snprintf(line, sizeof(line), S1 " %lld\n" S2 " %lld\n",
             (long long) now + 600, (long long) now + 600);
    test_cond("revoke-1.3: nobody listening is a peer failure",
              rc == DGJ_ERR_PEER);
    test_cond("revoke-1.4: ... but the state file has both lines",
              text != NULL && strcmp(text, line) == 0);
    free(text);

    pid = test_server(204);
    rc = dgj_revoke_sessions(&conf, two, 1, now + 700);
    waitpid(pid, NULL, 0);
    text = test_read(seen, NULL);
    test_cond("revoke-2.1: a 204 from the control server is success",
              rc == DGJ_OK);
    test_cond("revoke-2.2: it got POST /_dgj/revoke with the line",
              text != NULL && strncmp(text, "POST /_dgj/revoke HTTP/1.1\r\n",
                                      28) == 0
              && strstr(text, "\r\n\r\n" S1 " ") != NULL);
    free(text);

    pid = test_server(400);
    rc = dgj_revoke_sessions(&conf, two, 1, now + 700);
    waitpid(pid, NULL, 0);
    test_cond("revoke-2.3: a 400 from the control server is a peer failure",
              rc == DGJ_ERR_PEER);

    pid = test_server(204);
    test_cond("revoke-2.4: dgj_control_post alone",
              dgj_control_post(&conf, "/_dgj/revoke", S1 " 1\n", 35)
              == DGJ_OK);
    waitpid(pid, NULL, 0);
    unlink(sock);

    /* over 256 KiB of expired lines, one valid, one torn */
    fd = open(file, O_WRONLY | O_TRUNC);
    for (i = 0; i < 6000; i++) {
        snprintf(line, sizeof(line), S2 " %lld\n", (long long) now - 5);
        if (write(fd, line, strlen(line)) < 0) {
            exit(2);
        }
    }
    snprintf(line, sizeof(line), S2 " %lld\nnot a line\n" S2 " 9",
             (long long) now + 900);
    if (write(fd, line, strlen(line)) < 0) {
        exit(2);
    }
    close(fd);

    rc = dgj_revoke_sessions(&conf, two, 1, now + 800);
    text = test_read(file, &len);
    snprintf(line, sizeof(line), S2 " %lld\n" S1 " %lld\n",
             (long long) now + 900, (long long) now + 800);
    test_cond("revoke-3.1: a file over 256 KiB is compacted to the valid "
              "lines", rc == DGJ_ERR_PEER && text != NULL
                           && strcmp(text, line) == 0);
    free(text);

    strcpy(conf.control_socket, "");
    test_cond("revoke-3.2: no control socket configured is a peer failure",
              dgj_revoke_sessions(&conf, two, 1, now + 800)
              == DGJ_ERR_PEER);

    strcpy(conf.revoke_file, "/nonexistent/dir/revoked.list");
    test_cond("revoke-3.3: an unwritable state file is an internal error",
              dgj_revoke_sessions(&conf, two, 1, now + 800)
              == DGJ_ERR_INTERNAL);

    unlink(file);
    unlink(seen);

    return test_report();
}
