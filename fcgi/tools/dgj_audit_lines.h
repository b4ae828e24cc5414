
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_lines.h: the lines of an audit log file, one at a time.
 */


#ifndef DGJ_AUDIT_LINES_H
#define DGJ_AUDIT_LINES_H


#include <stddef.h>
#include <stdint.h>

#include "dgj_audit_chain.h"


#define DGJ_AUDIT_LINES_READ  (1024 * 1024)
/* the buffer dgj_audit_each_line() reads into */
#define DGJ_AUDIT_LINES_BUF   (DGJ_AUDIT_LINES_READ + DGJ_AUDIT_LINE_MAX + 2)


/* one line without its newline, its number in the file, and whether the
 * file ended before its newline; 0 goes on, -1 stops */
typedef int (*dgj_audit_line_pt)(void *ctx, const char *line, size_t len,
    uint64_t lineno, int unterminated);


/* Every line of path through fn, read into buf (DGJ_AUDIT_LINES_BUF
 * bytes); no newline in a whole line's length is passed on as one line.
 * 0 done, -1 fn stopped, -2 the file cannot be opened (errno). */
int dgj_audit_each_line(const char *path, char *buf, dgj_audit_line_pt fn,
    void *ctx);


#endif /* DGJ_AUDIT_LINES_H */
