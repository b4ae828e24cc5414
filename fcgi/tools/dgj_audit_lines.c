
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_lines.c: the lines of an audit log file, one at a time, for
 * the verifier and for the order it reads files in.
 */


#include <stdio.h>
#include <string.h>

#include "dgj_audit_lines.h"


int
dgj_audit_each_line(const char *path, char *buf, dgj_audit_line_pt fn,
    void *ctx)
{
    int        rc;
    FILE      *f;
    char      *p, *nl;
    size_t     have, len;
    uint64_t   lineno;

    f = fopen(path, "re");
    if (f == NULL) {
        return -2;
    }

    rc = 0;
    have = 0;
    lineno = 0;

    while (rc == 0) {
        len = fread(buf + have, 1, DGJ_AUDIT_LINES_READ, f);
        have += len;

        if (have == 0) {
            break;
        }

        p = buf;

        while (rc == 0 && (nl = memchr(p, '\n', buf + have - p)) != NULL) {
            rc = fn(ctx, p, nl - p, ++lineno, 0);
            p = nl + 1;
        }

        have = buf + have - p;
        memmove(buf, p, have);

        if (rc == 0 && (len == 0 || have > DGJ_AUDIT_LINE_MAX)) {
            /* a last line without its newline (a write cut short), or no
             * newline in a whole line's length: as it is */
            rc = fn(ctx, buf, have, ++lineno, len == 0);
            have = 0;

            if (len == 0) {
                break;
            }
        }
    }

    fclose(f);

    return rc == 0 ? 0 : -1;
}
