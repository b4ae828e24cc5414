
/*
 * Copyright (C) Daguanjia
 *
 * dgj_log.c: the process log file, its line format and SIGUSR1 reopen.
 */


#include "dgj_core.h"
#include "dgj_log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>


#define DGJ_LOG_LINE  2048


static void dgj_log_time(char *buf, size_t size);


static const char  *dgj_log_levels[] = { "error", "warn", "info", "debug" };

static int                     dgj_log_file_fd = STDERR_FILENO;
static char                    dgj_log_path[1024];
static dgj_log_level_t         dgj_log_max = DGJ_LOG_INFO;
static const char             *dgj_log_request_id;
static volatile sig_atomic_t   dgj_log_reopen_flag;


int
dgj_log_open(const char *path)
{
    int     fd;
    size_t  len;

    if (path == NULL || strcmp(path, "stderr") == 0) {
        if (dgj_log_file_fd != STDERR_FILENO) {
            close(dgj_log_file_fd);
        }

        dgj_log_file_fd = STDERR_FILENO;
        dgj_log_path[0] = '\0';
        return 0;
    }

    len = strlen(path);
    if (len >= sizeof(dgj_log_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd == -1) {
        return -1;
    }

    if (dgj_log_file_fd != STDERR_FILENO) {
        close(dgj_log_file_fd);
    }

    dgj_log_file_fd = fd;
    memmove(dgj_log_path, path, len + 1);

    return 0;
}


void
dgj_log_set_level(dgj_log_level_t level)
{
    dgj_log_max = level;
}


int
dgj_log_level_parse(const char *s)
{
    size_t  i;

    for (i = 0; i < dgj_countof(dgj_log_levels); i++) {
        if (strcmp(s, dgj_log_levels[i]) == 0) {
            return (int) i;
        }
    }

    return -1;
}


void
dgj_log_set_request_id(const char *id)
{
    dgj_log_request_id = id;
}


void
dgj_log_reopen_request(void)
{
    dgj_log_reopen_flag = 1;
}


int
dgj_log_reopen_if_requested(void)
{
    char  path[sizeof(dgj_log_path)];

    if (!dgj_log_reopen_flag) {
        return 0;
    }

    dgj_log_reopen_flag = 0;

    if (dgj_log_path[0] == '\0') {
        return 0;
    }

    memcpy(path, dgj_log_path, sizeof(path));

    if (dgj_log_open(path) != 0) {
        dgj_log(DGJ_LOG_ERROR, "log", "reopen \"%s\" failed: %s",
                path, strerror(errno));
        return -1;
    }

    return 0;
}


void
dgj_log(dgj_log_level_t level, const char *module, const char *fmt, ...)
{
    int         n, m;
    char        line[DGJ_LOG_LINE], ts[64], *p;
    size_t      len;
    va_list     ap;
    const char  *id;

    if (level > dgj_log_max) {
        return;
    }

    dgj_log_reopen_if_requested();

    dgj_log_time(ts, sizeof(ts));

    id = dgj_log_request_id;
    if (id == NULL || *id == '\0') {
        id = "-";
    }

    n = snprintf(line, sizeof(line), "%s %s %ld %s %s ", ts,
                 dgj_log_levels[level], (long) getpid(), id, module);
    if (n < 0) {
        return;
    }

    if ((size_t) n >= sizeof(line) - 1) {
        n = (int) sizeof(line) - 2;
    }

    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - 1 - (size_t) n, fmt, ap);
    va_end(ap);

    if (m < 0) {
        m = 0;
    }

    len = (size_t) n + (size_t) m;
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
    }

    /* one event, one line: user data must not forge extra lines */
    for (p = line + n; p < line + len; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }

    line[len++] = '\n';

    while (write(dgj_log_file_fd, line, len) == -1 && errno == EINTR) {
        /* retry */
    }
}


int
dgj_log_fd(void)
{
    return dgj_log_file_fd;
}


static void
dgj_log_time(char *buf, size_t size)
{
    long            off;
    char            sign;
    struct tm       tm;
    struct timeval  tv;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);

    off = tm.tm_gmtoff / 60;
    sign = '+';

    if (off < 0) {
        sign = '-';
        off = -off;
    }

    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (tv.tv_usec / 1000), sign,
             off / 60, off % 60);
}
