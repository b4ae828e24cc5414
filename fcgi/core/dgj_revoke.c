
/*
 * Copyright (C) Daguanjia
 *
 * dgj_revoke.c: revoked sessions: the state file nginx reads at start and
 * reload (appended under flock, compacted when large) and the push to
 * the running nginx.  Nothing else writes that file.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_control.h"
#include "dgj_log.h"
#include "dgj_revoke.h"
#include "dgj_token.h"

#include <fcntl.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>


#define DGJ_REVOKE_LINE  (2 * DGJ_TOKEN_SESSION_LEN + 1 + 20 + 1)


static int dgj_revoke_open_locked(const char *path);
static int dgj_revoke_write_all(int fd, const char *p, size_t len);
static int dgj_revoke_compact(const char *path, int fd, int64_t now);


dgj_rc_t
dgj_revoke_sessions(const dgj_conf_t *conf, const char *const *sessions,
    size_t n, int64_t until)
{
    int          fd;
    char        *lines, *p, last;
    size_t       i, len;
    dgj_rc_t     rc, prc;
    struct stat  st;

    if (n == 0) {
        return DGJ_OK;
    }

    for (i = 0; i < n; i++) {
        if (sessions[i] == NULL
            || !dgj_token_session_parse(sessions[i], strlen(sessions[i]),
                                        NULL))
        {
            return DGJ_ERR_INPUT;
        }
    }

    if (n > SIZE_MAX / DGJ_REVOKE_LINE - 1) {
        return DGJ_ERR_INPUT;
    }

    lines = malloc(n * DGJ_REVOKE_LINE + 1);
    if (lines == NULL) {
        return DGJ_ERR_NOMEM;
    }

    p = lines;

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s %" PRId64 "\n", sessions[i], until);
    }

    len = p - lines;
    rc = DGJ_OK;

    fd = conf->revoke_file[0] ? dgj_revoke_open_locked(conf->revoke_file)
                              : -1;

    if (fd == -1) {
        dgj_log(DGJ_LOG_ERROR, "revoke", "cannot append to revoke_file "
                "\"%s\": %s", conf->revoke_file,
                conf->revoke_file[0] ? strerror(errno) : "not configured");
        rc = DGJ_ERR_INTERNAL;

    } else {
        /* a line torn by a crash must not swallow the first new one */
        if (fstat(fd, &st) == 0 && st.st_size > 0
            && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
        {
            (void) dgj_revoke_write_all(fd, "\n", 1);
        }

        if (dgj_revoke_write_all(fd, lines, len) != 0) {
            dgj_log(DGJ_LOG_ERROR, "revoke", "write \"%s\": %s",
                    conf->revoke_file, strerror(errno));
            rc = DGJ_ERR_INTERNAL;

        } else if (fstat(fd, &st) == 0
                   && st.st_size > DGJ_REVOKE_COMPACT_SIZE
                   && dgj_revoke_compact(conf->revoke_file, fd,
                                         (int64_t) time(NULL))
                      != 0)
        {
            /* the lines are in; a big file is only slower to read */
            dgj_log(DGJ_LOG_WARN, "revoke", "cannot compact \"%s\": %s",
                    conf->revoke_file, strerror(errno));
        }

        close(fd);
    }

    prc = dgj_control_post(conf, "/_dgj/revoke", lines, len);

    free(lines);

    if (rc == DGJ_OK) {
        rc = prc;
    }

    if (rc == DGJ_OK) {
        dgj_log(DGJ_LOG_INFO, "revoke", "%zu session(s) revoked until %"
                PRId64, n, until);
    }

    return rc;
}


/*
 * Opens path for appending and takes its exclusive lock; reopens when a
 * compaction replaced the file while we waited, so no line is written to
 * an unlinked inode.  The descriptor, or -1 with errno set.
 */
static int
dgj_revoke_open_locked(const char *path)
{
    int          fd, tries;
    struct stat  fst, pst;

    for (tries = 0; tries < 10; tries++) {
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd == -1) {
            return -1;
        }

        if (flock(fd, LOCK_EX) == -1) {
            close(fd);
            return -1;
        }

        if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0
            && fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev)
        {
            return fd;
        }

        close(fd);
    }

    errno = EAGAIN;

    return -1;
}


static int
dgj_revoke_write_all(int fd, const char *p, size_t len)
{
    ssize_t  n;

    while (len > 0) {
        n = write(fd, p, len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return -1;
        }

        p += n;
        len -= (size_t) n;
    }

    return 0;
}


/*
 * Rewrites path without expired or malformed lines (temp file + rename),
 * while the caller holds the lock on fd.  0 or -1 with errno set.
 */
static int
dgj_revoke_compact(const char *path, int fd, int64_t now)
{
    int          in, out, rc;
    char        *buf, *p, *last, *eol, *end;
    char         tmp[DGJ_CONF_PATH + 8];
    size_t       len;
    ssize_t      n;
    long long    until;
    struct stat  st;

    rc = -1;
    buf = NULL;
    out = -1;

    if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }

    in = open(path, O_RDONLY | O_CLOEXEC);
    if (in == -1) {
        return -1;
    }

    if (fstat(in, &st) == -1) {
        goto done;
    }

    buf = malloc((size_t) st.st_size + 1);
    if (buf == NULL) {
        goto done;
    }

    len = 0;

    while (len < (size_t) st.st_size) {
        n = read(in, buf + len, (size_t) st.st_size - len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            goto done;
        }

        len += (size_t) n;
    }

    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (out == -1) {
        goto done;
    }

    /* keep the owner: nginx (root) reads it, the web user appends */
    if (fstat(fd, &st) == 0 && fchown(out, st.st_uid, st.st_gid) == -1) {
        dgj_log(DGJ_LOG_WARN, "revoke", "cannot keep the owner of \"%s\": "
                "%s", path, strerror(errno));
    }

    last = buf + len;

    for (p = buf; p < last; p = eol + 1) {
        eol = memchr(p, '\n', (size_t) (last - p));
        if (eol == NULL) {
            break;      /* a torn last line: dropped */
        }

        if (eol - p < 2 * DGJ_TOKEN_SESSION_LEN + 2
            || p[2 * DGJ_TOKEN_SESSION_LEN] != ' '
            || !dgj_token_session_parse(p, 2 * DGJ_TOKEN_SESSION_LEN, NULL))
        {
            continue;
        }

        errno = 0;
        until = strtoll(p + 2 * DGJ_TOKEN_SESSION_LEN + 1, &end, 10);

        if (errno != 0 || end != eol || until <= now) {
            continue;
        }

        if (dgj_revoke_write_all(out, p, (size_t) (eol - p) + 1) != 0) {
            goto done;
        }
    }

    if (fsync(out) == -1 || rename(tmp, path) == -1) {
        goto done;
    }

    rc = 0;

done:

    if (out != -1) {
        close(out);
        if (rc != 0) {
            unlink(tmp);
        }
    }

    free(buf);
    close(in);

    return rc;
}
