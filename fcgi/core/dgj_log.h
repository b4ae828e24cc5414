
/*
 * Copyright (C) Daguanjia
 *
 * dgj_log.h: the process log.  One line per event:
 *
 *   2026-11-30T09:12:01.123+08:00 info 4711 <request_id> <module> <message>
 *
 * written with a single write() to a file opened O_APPEND (so lines of
 * the supervisor and its workers never interleave) or to stderr.  The
 * file is reopened after SIGUSR1 (logrotate).  Never log passwords, tokens
 * or bound SQL values.
 */


#ifndef DGJ_LOG_H
#define DGJ_LOG_H


#include "dgj_core.h"


typedef enum {
    DGJ_LOG_ERROR = 0,
    DGJ_LOG_WARN,
    DGJ_LOG_INFO,
    DGJ_LOG_DEBUG
} dgj_log_level_t;


/*
 * Opens path for appending ("stderr" or NULL means standard error) and
 * makes it the log.  Returns 0, or -1 with errno set (the old log stays).
 */
int dgj_log_open(const char *path);

/* Lines above level are dropped; the default is DGJ_LOG_INFO. */
void dgj_log_set_level(dgj_log_level_t level);

/* Parses "error", "warn", "info", "debug"; -1 if unknown. */
int dgj_log_level_parse(const char *s);

/*
 * Sets the request id shown on following lines; NULL shows "-".  The
 * string is borrowed: reset it to NULL before the request memory dies.
 */
void dgj_log_set_request_id(const char *id);

/* Async-signal-safe: asks for a reopen before the next line (SIGUSR1). */
void dgj_log_reopen_request(void);

/* Reopens the log file now if a reopen was requested.  0 or -1. */
int dgj_log_reopen_if_requested(void);

/* Writes one line; newlines in the message become spaces. */
void dgj_log(dgj_log_level_t level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The descriptor lines go to (for chown() by the supervisor). */
int dgj_log_fd(void);


#endif /* DGJ_LOG_H */
