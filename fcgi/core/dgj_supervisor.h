
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
 * re-reads) in the foreground.  Returns the process exit status.
 */
int dgj_supervisor_run(const char *conf_path, dgj_conf_t *conf);


#endif /* DGJ_SUPERVISOR_H */
