
/*
 * Copyright (C) Daguanjia
 *
 * dgj_supervisor.h: the prefork supervisor: listening socket, pid file,
 * privilege drop, worker processes and their restarts, reload and stop.
 *
 *   SIGTERM, SIGINT  forward TERM to the workers, wait up to 10 s, KILL
 *                    the rest, remove socket and pid file, exit 0
 *   SIGHUP           re-read the configuration (kept if invalid), then
 *                    replace the workers one at a time: start the new
 *                    one, then TERM the old one
 *   SIGUSR1          reopen the log, forwarded to the workers
 *   SIGUSR2          live binary upgrade: fork and execv() the binary this
 *                    process was started from (resolved at start, so a
 *                    rebuilt file at the same path is what runs) with the
 *                    same arguments, handing it the listening socket
 *   SIGQUIT          hand over: as SIGTERM, but the socket file is left
 *                    in place and the pid file is removed only if it
 *                    still names this process
 *
 * Upgrade.  The new supervisor (the heir) finds DGJ_LISTEN_FD=N and
 * DGJ_OLD_SUPERVISOR=PID in its environment.  It adopts descriptor N
 * instead of binding the socket, refusing anything but a listening unix
 * stream socket bound to the configured path, and PID must be its parent.
 * It writes the pid file, drops privileges and starts its workers; once
 * every worker has lived DGJ_SUP_READY ms it sends SIGQUIT to PID and owns
 * the socket and pid files from then on.  If a worker fails first, or
 * they are not up within 10 s, the heir stops its workers and exits 1
 * without touching either file.  The old supervisor reaps an heir that
 * exits before taking over, logs it, rewrites the pid file with its own
 * pid and keeps serving.
 *
 * A worker that dies is restarted; after a crash the delay doubles from
 * 100 ms up to 30 s, and is reset once a worker has lived 10 s.  A clean
 * exit (recycled after max_requests) is replaced at once.
 */


#ifndef DGJ_SUPERVISOR_H
#define DGJ_SUPERVISOR_H


#include "dgj_core.h"
#include "dgj_conf.h"


/*
 * Runs the pool described by conf (read from conf_path, which SIGHUP
 * re-reads) in the foreground.  argv is the command line, kept for the
 * execv() of an upgrade.  Returns the process exit status.
 */
int dgj_supervisor_run(const char *conf_path, dgj_conf_t *conf,
    char *const argv[]);


#endif /* DGJ_SUPERVISOR_H */
