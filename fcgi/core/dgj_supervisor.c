
/*
 * Copyright (C) Daguanjia
 *
 * dgj_supervisor.c: the supervisor process (see dgj_supervisor.h): the
 * unix socket (mode 0660, stale file removed), the pid file, dropping
 * to `user`, forking and reaping workers, restart backoff, rolling
 * reload on SIGHUP, graceful stop on SIGTERM and the live binary
 * upgrade of SIGUSR2 (both sides: the old supervisor that forks the
 * heir, and the heir that adopts the socket and retires its parent).
 * Signals are taken synchronously with sigtimedwait(), so no state is
 * touched by handlers.
 */


#include "dgj_core.h"
#include "dgj_log.h"
#include "dgj_supervisor.h"
#include "dgj_worker.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define DGJ_SUP_MAX_WORKERS    256
#define DGJ_SUP_STOP_WAIT      10000     /* ms before KILL */
#define DGJ_SUP_STABLE         10000     /* ms of life that resets backoff */
#define DGJ_SUP_BACKOFF_FIRST  100       /* ms */
#define DGJ_SUP_BACKOFF_MAX    30000     /* ms */
#define DGJ_SUP_TICK           1000      /* ms, longest sleep */
#define DGJ_SUP_READY          500       /* ms a heir's workers must live */
#define DGJ_SUP_TAKEOVER_WAIT  10000     /* ms for a heir's workers */
#define DGJ_SUP_ENV_FD         "DGJ_LISTEN_FD"
#define DGJ_SUP_ENV_OLD        "DGJ_OLD_SUPERVISOR"


typedef struct {
    pid_t      pid;
    int64_t    started;                  /* ms, monotonic */
    int64_t    restart_at;               /* ms, when pid == 0 */
    int64_t    backoff;                  /* ms */
    unsigned   gen;
} dgj_sup_slot_t;


typedef struct {
    pid_t      pid;
    int64_t    deadline;                 /* ms, then KILL */
} dgj_sup_retiring_t;


typedef struct {
    const char          *conf_path;
    dgj_conf_t          *conf;
    char *const         *argv;
    char                 exe[PATH_MAX];  /* "" when it cannot be known */
    int                  fd;
    int                  status;         /* exit status */
    pid_t                self;
    unsigned             gen;
    pid_t                recycling;      /* old worker being replaced */
    int64_t              recycle_retry;  /* ms, after a failed fork */
    pid_t                heir;           /* upgrade started by SIGUSR2 */
    pid_t                predecessor;    /* supervisor to retire, if heir */
    int64_t              takeover_by;    /* ms, deadline for our workers */
    unsigned             stopping:1;
    unsigned             handed_over:1;  /* SIGQUIT: files stay */
    unsigned             socket_made:1;
    unsigned             pid_made:1;
    dgj_sup_slot_t       slots[DGJ_SUP_MAX_WORKERS];
    dgj_sup_retiring_t   retiring[DGJ_SUP_MAX_WORKERS * 2];
    size_t               nretiring;
} dgj_sup_t;


static int dgj_sup_listen(dgj_sup_t *s);
static int dgj_sup_inherit(dgj_sup_t *s, const char *env_fd);
static int dgj_sup_pid_file(dgj_sup_t *s);
static int dgj_sup_pid_file_ours(dgj_sup_t *s);
static int dgj_sup_drop(dgj_sup_t *s);
static pid_t dgj_sup_spawn(dgj_sup_t *s, size_t i);
static void dgj_sup_reap(dgj_sup_t *s);
static void dgj_sup_exited(dgj_sup_t *s, pid_t pid, int status);
static void dgj_sup_start_due(dgj_sup_t *s);
static void dgj_sup_recycle(dgj_sup_t *s);
static void dgj_sup_retire(dgj_sup_t *s, pid_t pid);
static void dgj_sup_reload(dgj_sup_t *s);
static void dgj_sup_upgrade(dgj_sup_t *s);
static void dgj_sup_heir_exited(dgj_sup_t *s, int status);
static void dgj_sup_take_over(dgj_sup_t *s);
static void dgj_sup_stop(dgj_sup_t *s);
static void dgj_sup_signal_all(dgj_sup_t *s, int signo);
static size_t dgj_sup_alive(dgj_sup_t *s);
static int64_t dgj_sup_timeout(dgj_sup_t *s);
static void dgj_sup_cleanup(dgj_sup_t *s);
static void dgj_sup_on_chld(int signo);
static int64_t dgj_sup_now(void);


int
dgj_supervisor_run(const char *conf_path, dgj_conf_t *conf,
    char *const argv[])
{
    int               signo, status;
    int64_t           wait;
    sigset_t          set;
    dgj_sup_t        *s;
    siginfo_t         info;
    struct timespec   ts;
    struct sigaction  sa;

    s = calloc(1, sizeof(dgj_sup_t));
    if (s == NULL) {
        fprintf(stderr, "dgj-fcgi: out of memory\n");
        return 1;
    }

    s->conf_path = conf_path;
    s->conf = conf;
    s->argv = argv;
    s->fd = -1;
    s->self = getpid();
    s->gen = 1;

    /*
     * Resolved now: once `make` replaces the file, /proc/self/exe names
     * the deleted old inode, and the path is what an upgrade must run.
     */
    if (realpath("/proc/self/exe", s->exe) == NULL
        && realpath(argv[0], s->exe) == NULL)
    {
        s->exe[0] = '\0';
    }

    if (dgj_log_open(conf->log_file) != 0) {
        fprintf(stderr, "dgj-fcgi: cannot open log \"%s\": %s\n",
                conf->log_file, strerror(errno));
        free(s);
        return 1;
    }

    dgj_log_set_level((dgj_log_level_t) conf->log_level);

    /* signals are taken synchronously from here on, children unblock */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGQUIT);

    memset(&sa, 0, sizeof(struct sigaction));
    sa.sa_handler = dgj_sup_on_chld;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);

    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    sigprocmask(SIG_BLOCK, &set, NULL);

    if (dgj_sup_listen(s) != 0 || dgj_sup_pid_file(s) != 0
        || dgj_sup_drop(s) != 0)
    {
        dgj_sup_cleanup(s);
        free(s);
        return 1;
    }

    if (s->exe[0] == '\0') {
        dgj_log(DGJ_LOG_WARN, "supervisor", "cannot resolve the binary's "
                "path: SIGUSR2 upgrades are disabled");
    }

    dgj_log(DGJ_LOG_INFO, "supervisor", "dgj-fcgi %s started on %s with "
            "%u workers%s", DGJ_VERSION, conf->socket, conf->workers,
            s->predecessor ? " (upgrade: socket inherited)" : "");

    for ( ;; ) {
        dgj_sup_reap(s);

        if (s->stopping) {
            break;
        }

        dgj_sup_start_due(s);
        dgj_sup_recycle(s);
        dgj_sup_take_over(s);

        if (s->stopping) {
            break;
        }

        wait = dgj_sup_timeout(s);
        ts.tv_sec = (time_t) (wait / 1000);
        ts.tv_nsec = (long) (wait % 1000) * 1000000;

        signo = sigtimedwait(&set, &info, &ts);

        switch (signo) {

        case SIGTERM:
        case SIGINT:
            dgj_log(DGJ_LOG_INFO, "supervisor", "signal %d: stopping",
                    signo);
            s->stopping = 1;

            /* an heir that has not taken over leaves the files alone */
            if (s->heir != 0) {
                kill(s->heir, SIGTERM);
            }

            break;

        case SIGQUIT:
            dgj_log(DGJ_LOG_INFO, "supervisor", "signal %d from pid %ld: "
                    "handing over, the socket file stays", signo,
                    (long) info.si_pid);
            s->stopping = 1;
            s->handed_over = 1;
            break;

        case SIGUSR2:
            dgj_sup_upgrade(s);
            break;

        case SIGHUP:
            dgj_sup_reload(s);
            break;

        case SIGUSR1:
            dgj_log_reopen_request();
            dgj_log_reopen_if_requested();
            dgj_sup_signal_all(s, SIGUSR1);
            break;

        default:
            /* SIGCHLD, timeout or EINTR: the loop reaps and starts */
            break;
        }
    }

    dgj_sup_stop(s);
    dgj_sup_cleanup(s);

    dgj_log(DGJ_LOG_INFO, "supervisor", "stopped");

    status = s->status;

    free(s);

    return status;
}


static int
dgj_sup_listen(dgj_sup_t *s)
{
    int                 fd, flags;
    mode_t              old;
    struct stat         st;
    const char         *env;
    struct sockaddr_un  sa;

    env = getenv(DGJ_SUP_ENV_FD);
    if (env != NULL) {
        return dgj_sup_inherit(s, env);
    }

    memset(&sa, 0, sizeof(struct sockaddr_un));
    sa.sun_family = AF_UNIX;

    if (strlen(s->conf->socket) >= sizeof(sa.sun_path)) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "socket path too long");
        return -1;
    }

    strcpy(sa.sun_path, s->conf->socket);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "socket() failed: %s",
                strerror(errno));
        return -1;
    }

    if (lstat(sa.sun_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            dgj_log(DGJ_LOG_ERROR, "supervisor", "%s exists and is not a "
                    "socket", sa.sun_path);
            close(fd);
            return -1;
        }

        /* a socket someone still accepts on is not stale */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
            dgj_log(DGJ_LOG_ERROR, "supervisor", "%s is in use by a "
                    "running pool", sa.sun_path);
            close(fd);
            return -1;
        }

        close(fd);

        dgj_log(DGJ_LOG_WARN, "supervisor", "removing stale socket %s",
                sa.sun_path);

        if (unlink(sa.sun_path) != 0) {
            dgj_log(DGJ_LOG_ERROR, "supervisor", "unlink %s failed: %s",
                    sa.sun_path, strerror(errno));
            return -1;
        }

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd == -1) {
            dgj_log(DGJ_LOG_ERROR, "supervisor", "socket() failed: %s",
                    strerror(errno));
            return -1;
        }
    }

    /* created 0660 from the start: no window with wider access */
    old = umask(0117);

    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
        umask(old);
        dgj_log(DGJ_LOG_ERROR, "supervisor", "bind %s failed: %s",
                sa.sun_path, strerror(errno));
        close(fd);
        return -1;
    }

    umask(old);
    s->socket_made = 1;

    if (chmod(sa.sun_path, 0660) != 0 || listen(fd, SOMAXCONN) != 0) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "listen on %s failed: %s",
                sa.sun_path, strerror(errno));
        close(fd);
        return -1;
    }

    /* see dgj_worker.c: workers that lose the accept race get EAGAIN */
    flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "fcntl failed: %s",
                strerror(errno));
        close(fd);
        return -1;
    }

    s->fd = fd;

    return 0;
}


/*
 * The heir's side of an upgrade: adopt the socket our parent passed,
 * after checking it is what the configuration names.  The files stay
 * the old supervisor's until dgj_sup_take_over().
 */
static int
dgj_sup_inherit(dgj_sup_t *s, const char *env_fd)
{
    int                 fd, on, type, flags;
    long                n, old;
    char               *end;
    socklen_t           len;
    const char         *env_old;
    struct stat         st;
    struct sockaddr_un  sa;

    env_old = getenv(DGJ_SUP_ENV_OLD);

    errno = 0;
    n = strtol(env_fd, &end, 10);

    if (errno != 0 || end == env_fd || *end != '\0' || n < 0
        || n > INT_MAX)
    {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: %s=\"%s\" is not "
                "a descriptor", DGJ_SUP_ENV_FD, env_fd);
        return -1;
    }

    fd = (int) n;

    old = 0;
    if (env_old != NULL) {
        errno = 0;
        old = strtol(env_old, &end, 10);
        if (errno != 0 || end == env_old || *end != '\0') {
            old = 0;
        }
    }

    /* the pid we will SIGQUIT must be the process that forked us */
    if (old <= 1 || (pid_t) old != getppid()) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: %s=\"%s\" is not "
                "our parent (%ld)", DGJ_SUP_ENV_OLD,
                env_old ? env_old : "", (long) getppid());
        return -1;
    }

    on = 0;
    type = 0;
    memset(&sa, 0, sizeof(struct sockaddr_un));

    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)
        || (len = sizeof(on),
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) != 0)
        || !on
        || (len = sizeof(type),
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        || type != SOCK_STREAM
        || (len = sizeof(sa),
            getsockname(fd, (struct sockaddr *) &sa, &len) != 0)
        || sa.sun_family != AF_UNIX)
    {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: descriptor %d is "
                "not a listening unix stream socket", fd);
        return -1;
    }

    if (strncmp(sa.sun_path, s->conf->socket, sizeof(sa.sun_path)) != 0) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: the inherited "
                "socket is %.*s, the configuration says %s: the socket "
                "changes only on restart", (int) sizeof(sa.sun_path),
                sa.sun_path, s->conf->socket);
        return -1;
    }

    /* see dgj_sup_listen(); O_NONBLOCK is shared with the old pool */
    flags = fcntl(fd, F_GETFL);
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 || flags == -1
        || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
    {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "fcntl failed: %s",
                strerror(errno));
        return -1;
    }

    unsetenv(DGJ_SUP_ENV_FD);
    unsetenv(DGJ_SUP_ENV_OLD);

    s->fd = fd;
    s->predecessor = (pid_t) old;
    s->takeover_by = dgj_sup_now() + DGJ_SUP_TAKEOVER_WAIT;

    dgj_log(DGJ_LOG_INFO, "supervisor", "upgrade: adopted %s (descriptor "
            "%d) from supervisor %ld", s->conf->socket, fd, old);

    return 0;
}


static int
dgj_sup_pid_file(dgj_sup_t *s)
{
    int      fd, n;
    char     buf[32];

    if (s->conf->pid_file[0] == '\0') {
        return 0;
    }

    fd = open(s->conf->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0644);
    if (fd == -1) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "cannot open pid file %s: %s",
                s->conf->pid_file, strerror(errno));
        return -1;
    }

    /* an heir owns the file only once it has taken over */
    s->pid_made = (s->predecessor == 0);

    n = snprintf(buf, sizeof(buf), "%ld\n", (long) s->self);

    if (write(fd, buf, (size_t) n) != n) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "cannot write pid file %s: %s",
                s->conf->pid_file, strerror(errno));
        close(fd);
        return -1;
    }

    close(fd);

    return 0;
}


/* after SIGQUIT: is the pid file still ours, not our heir's? */
static int
dgj_sup_pid_file_ours(dgj_sup_t *s)
{
    int      fd;
    char     buf[32];
    ssize_t  n;

    fd = open(s->conf->pid_file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return 0;
    }

    buf[n] = '\0';

    return strtol(buf, NULL, 10) == (long) s->self;
}


static int
dgj_sup_drop(dgj_sup_t *s)
{
    struct passwd  *pw;

    if (s->conf->user[0] == '\0') {
        if (geteuid() == 0) {
            dgj_log(DGJ_LOG_WARN, "supervisor", "running as root: set "
                    "\"user\" to drop privileges");
        }

        return 0;
    }

    errno = 0;
    pw = getpwnam(s->conf->user);
    if (pw == NULL) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "unknown user \"%s\"",
                s->conf->user);
        return -1;
    }

    /* "dropping" to root would keep every privilege: say so at start */
    if (pw->pw_uid == 0) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "user \"%s\" is root: leave "
                "\"user\" unset to run as the starting user",
                s->conf->user);
        return -1;
    }

    if (geteuid() != 0) {
        if (pw->pw_uid != geteuid()) {
            dgj_log(DGJ_LOG_WARN, "supervisor", "not root: cannot switch "
                    "to user \"%s\"", s->conf->user);
        }

        return 0;
    }

    /* the socket and the files reopened later belong to the new user */
    if (chown(s->conf->socket, pw->pw_uid, pw->pw_gid) != 0
        || (s->conf->pid_file[0] != '\0'
            && chown(s->conf->pid_file, pw->pw_uid, pw->pw_gid) != 0)
        || (dgj_log_fd() != STDERR_FILENO
            && fchown(dgj_log_fd(), pw->pw_uid, pw->pw_gid) != 0))
    {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "chown to \"%s\" failed: %s",
                s->conf->user, strerror(errno));
        return -1;
    }

    if (setgid(pw->pw_gid) != 0
        || initgroups(pw->pw_name, pw->pw_gid) != 0
        || setuid(pw->pw_uid) != 0)
    {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "cannot switch to user "
                "\"%s\": %s", s->conf->user, strerror(errno));
        return -1;
    }

    if (setuid(0) == 0) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "privileges not dropped");
        return -1;
    }

    dgj_log(DGJ_LOG_INFO, "supervisor", "running as %s (uid %ld, gid %ld)",
            pw->pw_name, (long) pw->pw_uid, (long) pw->pw_gid);

    return 0;
}


static pid_t
dgj_sup_spawn(dgj_sup_t *s, size_t i)
{
    int        status;
    pid_t      pid;
    sigset_t   none;

    pid = fork();

    if (pid == -1) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "fork failed: %s",
                strerror(errno));
        return -1;
    }

    if (pid == 0) {
        sigemptyset(&none);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);

        status = dgj_worker_run(s->conf, s->fd, s->self);

        _exit(status);
    }

    s->slots[i].pid = pid;
    s->slots[i].started = dgj_sup_now();
    s->slots[i].gen = s->gen;

    dgj_log(DGJ_LOG_INFO, "supervisor", "worker %ld started (slot %zu, "
            "generation %u)", (long) pid, i, s->gen);

    return pid;
}


static void
dgj_sup_reap(dgj_sup_t *s)
{
    int    status;
    pid_t  pid;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid <= 0) {
            return;
        }

        dgj_sup_exited(s, pid, status);
    }
}


static void
dgj_sup_exited(dgj_sup_t *s, pid_t pid, int status)
{
    int              clean;
    size_t           i;
    int64_t          now, lived, delay;
    dgj_sup_slot_t  *slot;

    if (pid == s->heir) {
        dgj_sup_heir_exited(s, status);
        return;
    }

    if (WIFEXITED(status)) {
        dgj_log(WEXITSTATUS(status) == 0 ? DGJ_LOG_INFO : DGJ_LOG_ERROR,
                "supervisor", "worker %ld exited with status %d",
                (long) pid, WEXITSTATUS(status));

    } else if (WIFSIGNALED(status)) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "worker %ld killed by signal "
                "%d%s", (long) pid, WTERMSIG(status),
                WCOREDUMP(status) ? " (core dumped)" : "");
    }

    for (i = 0; i < s->nretiring; i++) {
        if (s->retiring[i].pid == pid) {
            s->retiring[i] = s->retiring[--s->nretiring];

            if (s->recycling == pid) {
                s->recycling = 0;
            }

            return;
        }
    }

    for (i = 0; i < DGJ_SUP_MAX_WORKERS; i++) {
        if (s->slots[i].pid == pid) {
            break;
        }
    }

    if (i == DGJ_SUP_MAX_WORKERS) {
        return;
    }

    slot = &s->slots[i];
    slot->pid = 0;

    if (s->stopping) {
        return;
    }

    /* a new binary whose workers fail must not replace the old one */
    if (s->predecessor != 0 && !(WIFEXITED(status)
                                 && WEXITSTATUS(status) == 0))
    {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: worker %ld failed "
                "at start: supervisor %ld keeps the pool", (long) pid,
                (long) s->predecessor);
        s->stopping = 1;
        s->status = 1;
        return;
    }

    now = dgj_sup_now();
    lived = now - slot->started;
    clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

    if (clean) {
        /* recycled after max_requests: replace it now */
        slot->restart_at = now;
        return;
    }

    if (lived >= DGJ_SUP_STABLE) {
        slot->backoff = 0;
    }

    delay = slot->backoff;

    slot->backoff = (slot->backoff == 0) ? DGJ_SUP_BACKOFF_FIRST
                                         : slot->backoff * 2;
    if (slot->backoff > DGJ_SUP_BACKOFF_MAX) {
        slot->backoff = DGJ_SUP_BACKOFF_MAX;
    }

    slot->restart_at = now + delay;

    dgj_log(DGJ_LOG_WARN, "supervisor", "restarting slot %zu in %lld ms "
            "(lived %lld ms)", i, (long long) delay, (long long) lived);
}


static void
dgj_sup_start_due(dgj_sup_t *s)
{
    size_t   i;
    int64_t  now;

    now = dgj_sup_now();

    for (i = 0; i < s->conf->workers; i++) {
        if (s->slots[i].pid == 0 && s->slots[i].restart_at <= now) {
            if (dgj_sup_spawn(s, i) == -1) {
                s->slots[i].restart_at = now + DGJ_SUP_TICK;
            }
        }
    }

    /* workers beyond a lowered count are retired, not replaced */
    for (i = s->conf->workers; i < DGJ_SUP_MAX_WORKERS; i++) {
        if (s->slots[i].pid > 0) {
            dgj_sup_retire(s, s->slots[i].pid);
            s->slots[i].pid = 0;
        }
    }
}


/* one step of the rolling replacement after SIGHUP */
static void
dgj_sup_recycle(dgj_sup_t *s)
{
    size_t   i;
    pid_t    old;
    int64_t  now;

    now = dgj_sup_now();

    if (s->recycling != 0 || now < s->recycle_retry) {
        return;
    }

    for (i = 0; i < s->conf->workers; i++) {
        if (s->slots[i].pid > 0 && s->slots[i].gen != s->gen) {
            break;
        }
    }

    if (i == s->conf->workers) {
        return;
    }

    old = s->slots[i].pid;

    /* start the replacement first so the pool never stops serving */
    if (dgj_sup_spawn(s, i) == -1) {
        s->slots[i].pid = old;
        s->recycle_retry = now + DGJ_SUP_TICK;
        return;
    }

    dgj_sup_retire(s, old);
    s->recycling = old;
}


static void
dgj_sup_retire(dgj_sup_t *s, pid_t pid)
{
    if (s->nretiring == dgj_countof(s->retiring)) {
        kill(pid, SIGKILL);
        return;
    }

    s->retiring[s->nretiring].pid = pid;
    s->retiring[s->nretiring].deadline = dgj_sup_now() + DGJ_SUP_STOP_WAIT;
    s->nretiring++;

    dgj_log(DGJ_LOG_INFO, "supervisor", "retiring worker %ld", (long) pid);

    kill(pid, SIGTERM);
}


static void
dgj_sup_reload(dgj_sup_t *s)
{
    char         err[1024];
    dgj_conf_t  *nc, *oc;

    oc = s->conf;

    nc = malloc(sizeof(dgj_conf_t));
    if (nc == NULL) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "reload: out of memory");
        return;
    }

    if (dgj_conf_load(s->conf_path, nc, err, sizeof(err)) != 0) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "reload failed, keeping the "
                "running configuration: %s", err);
        free(nc);
        return;
    }

    if (strcmp(nc->socket, oc->socket) != 0
        || strcmp(nc->pid_file, oc->pid_file) != 0
        || strcmp(nc->user, oc->user) != 0)
    {
        dgj_log(DGJ_LOG_WARN, "supervisor", "socket, pid_file and user "
                "change only on restart; keeping the running values");
        memcpy(nc->socket, oc->socket, sizeof(nc->socket));
        memcpy(nc->pid_file, oc->pid_file, sizeof(nc->pid_file));
        memcpy(nc->user, oc->user, sizeof(nc->user));
    }

    if (strcmp(nc->log_file, oc->log_file) != 0
        && dgj_log_open(nc->log_file) != 0)
    {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "cannot open log \"%s\": %s; "
                "keeping the running log", nc->log_file, strerror(errno));
        memcpy(nc->log_file, oc->log_file, sizeof(nc->log_file));
    }

    dgj_log_set_level((dgj_log_level_t) nc->log_level);

    memcpy(oc, nc, sizeof(dgj_conf_t));
    explicit_bzero(nc, sizeof(dgj_conf_t));
    free(nc);

    s->gen++;

    dgj_log(DGJ_LOG_INFO, "supervisor", "configuration reloaded: "
            "%u workers, replacing them one at a time (generation %u)",
            oc->workers, s->gen);
}


/* SIGUSR2: start the heir; see dgj_supervisor.h */
static void
dgj_sup_upgrade(dgj_sup_t *s)
{
    char   buf[32];
    pid_t  pid;

    if (s->heir != 0 || s->predecessor != 0) {
        dgj_log(DGJ_LOG_WARN, "supervisor", "upgrade: one is already in "
                "progress (pid %ld): ignored",
                (long) (s->heir ? s->heir : s->self));
        return;
    }

    if (s->exe[0] == '\0') {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: the binary's path "
                "is unknown");
        return;
    }

    pid = fork();

    if (pid == -1) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: fork failed: %s",
                strerror(errno));
        return;
    }

    if (pid == 0) {
        /*
         * The signal mask survives execv(): signals sent before the heir
         * installs its own handling stay pending instead of killing it.
         */
        snprintf(buf, sizeof(buf), "%d", s->fd);

        if (fcntl(s->fd, F_SETFD, 0) == -1
            || setenv(DGJ_SUP_ENV_FD, buf, 1) != 0
            || snprintf(buf, sizeof(buf), "%ld", (long) s->self) < 0
            || setenv(DGJ_SUP_ENV_OLD, buf, 1) != 0)
        {
            dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: cannot pass "
                    "the socket: %s", strerror(errno));
            _exit(1);
        }

        execv(s->exe, s->argv);

        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: execv %s failed: %s",
                s->exe, strerror(errno));
        _exit(127);
    }

    s->heir = pid;

    dgj_log(DGJ_LOG_INFO, "supervisor", "upgrade: started %s as pid %ld",
            s->exe, (long) pid);
}


static void
dgj_sup_heir_exited(dgj_sup_t *s, int status)
{
    pid_t  pid;

    pid = s->heir;
    s->heir = 0;

    if (s->handed_over) {
        dgj_log(DGJ_LOG_WARN, "supervisor", "upgrade: new supervisor %ld "
                "exited after taking over", (long) pid);
        return;
    }

    if (WIFSIGNALED(status)) {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade failed: new "
                "supervisor %ld killed by signal %d; this one keeps "
                "serving", (long) pid, WTERMSIG(status));

    } else {
        dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade failed: new "
                "supervisor %ld exited with status %d before taking over "
                "(its reason is logged above or in the .out file); this "
                "one keeps serving", (long) pid, WEXITSTATUS(status));
    }

    /* the heir may have written its pid there already */
    if (s->conf->pid_file[0] != '\0') {
        (void) dgj_sup_pid_file(s);
    }
}


/*
 * The heir's side: once every worker has lived DGJ_SUP_READY ms, tell
 * the predecessor to retire and take the files over.
 */
static void
dgj_sup_take_over(dgj_sup_t *s)
{
    size_t   i;
    int64_t  now;

    if (s->predecessor == 0 || s->stopping) {
        return;
    }

    now = dgj_sup_now();

    for (i = 0; i < s->conf->workers; i++) {
        if (s->slots[i].pid == 0
            || now - s->slots[i].started < DGJ_SUP_READY)
        {
            break;
        }
    }

    if (i < s->conf->workers) {
        if (now >= s->takeover_by) {
            dgj_log(DGJ_LOG_ERROR, "supervisor", "upgrade: workers not up "
                    "in %d ms: supervisor %ld keeps the pool",
                    DGJ_SUP_TAKEOVER_WAIT, (long) s->predecessor);
            s->stopping = 1;
            s->status = 1;
        }

        return;
    }

    if (kill(s->predecessor, SIGQUIT) != 0) {
        dgj_log(DGJ_LOG_WARN, "supervisor", "upgrade: cannot signal "
                "supervisor %ld: %s", (long) s->predecessor,
                strerror(errno));
    }

    dgj_log(DGJ_LOG_INFO, "supervisor", "upgrade: %u workers up, "
            "supervisor %ld told to retire", s->conf->workers,
            (long) s->predecessor);

    s->predecessor = 0;
    s->socket_made = 1;
    s->pid_made = (s->conf->pid_file[0] != '\0');
}


static void
dgj_sup_stop(dgj_sup_t *s)
{
    int               signo, status;
    size_t            i;
    pid_t             pid;
    int64_t           deadline, left;
    sigset_t          set;
    siginfo_t         info;
    struct timespec   ts;

    dgj_sup_signal_all(s, SIGTERM);

    deadline = dgj_sup_now() + DGJ_SUP_STOP_WAIT;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);

    for ( ;; ) {
        dgj_sup_reap(s);

        if (dgj_sup_alive(s) == 0) {
            return;
        }

        left = deadline - dgj_sup_now();
        if (left <= 0) {
            break;
        }

        ts.tv_sec = (time_t) (left / 1000);
        ts.tv_nsec = (long) (left % 1000) * 1000000;

        signo = sigtimedwait(&set, &info, &ts);
        (void) signo;
    }

    dgj_log(DGJ_LOG_WARN, "supervisor", "%zu workers still running after "
            "%d ms: killing them", dgj_sup_alive(s), DGJ_SUP_STOP_WAIT);

    dgj_sup_signal_all(s, SIGKILL);

    for (i = 0; i < DGJ_SUP_MAX_WORKERS * 3 && dgj_sup_alive(s) > 0; i++) {
        pid = waitpid(-1, &status, 0);
        if (pid <= 0) {
            break;
        }

        dgj_sup_exited(s, pid, status);
    }
}


static void
dgj_sup_signal_all(dgj_sup_t *s, int signo)
{
    size_t  i;

    for (i = 0; i < DGJ_SUP_MAX_WORKERS; i++) {
        if (s->slots[i].pid > 0) {
            kill(s->slots[i].pid, signo);
        }
    }

    for (i = 0; i < s->nretiring; i++) {
        kill(s->retiring[i].pid, signo);
    }
}


static size_t
dgj_sup_alive(dgj_sup_t *s)
{
    size_t  i, n;

    n = s->nretiring;

    for (i = 0; i < DGJ_SUP_MAX_WORKERS; i++) {
        if (s->slots[i].pid > 0) {
            n++;
        }
    }

    return n;
}


/* ms to sleep: until the next restart or KILL deadline, at most a tick */
static int64_t
dgj_sup_timeout(dgj_sup_t *s)
{
    size_t   i;
    int64_t  now, wait;

    now = dgj_sup_now();

    /* an heir checks often whether its workers are up */
    wait = s->predecessor ? DGJ_SUP_READY / 5 : DGJ_SUP_TICK;

    for (i = 0; i < s->conf->workers; i++) {
        if (s->slots[i].pid == 0 && s->slots[i].restart_at - now < wait) {
            wait = s->slots[i].restart_at - now;
        }
    }

    for (i = 0; i < s->nretiring; i++) {
        if (s->retiring[i].deadline <= now) {
            dgj_log(DGJ_LOG_WARN, "supervisor", "worker %ld did not stop "
                    "in time: killing it", (long) s->retiring[i].pid);
            kill(s->retiring[i].pid, SIGKILL);
            s->retiring[i].deadline = now + DGJ_SUP_STOP_WAIT;
        }
    }

    return wait > 0 ? wait : 0;
}


static void
dgj_sup_cleanup(dgj_sup_t *s)
{
    if (s->fd != -1) {
        close(s->fd);
        s->fd = -1;
    }

    /* after a hand-over the socket file is the heir's, as its pid file */
    if (s->handed_over) {
        s->socket_made = 0;
        s->pid_made = s->pid_made && dgj_sup_pid_file_ours(s);
    }

    if (s->socket_made && unlink(s->conf->socket) != 0) {
        dgj_log(DGJ_LOG_WARN, "supervisor", "cannot remove %s: %s",
                s->conf->socket, strerror(errno));
    }

    if (s->pid_made && unlink(s->conf->pid_file) != 0) {
        dgj_log(DGJ_LOG_WARN, "supervisor", "cannot remove %s: %s",
                s->conf->pid_file, strerror(errno));
    }
}


static void
dgj_sup_on_chld(int signo)
{
    /* never runs while SIGCHLD is blocked; keeps the signal queued */
    (void) signo;
}


static int64_t
dgj_sup_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
