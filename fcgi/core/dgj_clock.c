
/*
 * Copyright (C) Daguanjia
 *
 * dgj_clock.c: wall clock with the test offset of dgj_clock.h.
 */


#include "dgj_core.h"
#include "dgj_clock.h"
#include "dgj_conf.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>


int64_t
dgj_clock_now(const dgj_conf_t *conf)
{
    int         fd;
    char        buf[32], *end;
    ssize_t     n;
    long long   offset;

    offset = 0;

    if (conf != NULL && conf->clock_file[0] != '\0') {
        fd = open(conf->clock_file, O_RDONLY | O_CLOEXEC);
        if (fd != -1) {
            n = read(fd, buf, sizeof(buf) - 1);
            close(fd);

            if (n > 0) {
                buf[n] = '\0';
                errno = 0;
                offset = strtoll(buf, &end, 10);
                if (errno != 0 || end == buf) {
                    offset = 0;
                }
            }
        }
    }

    return (int64_t) time(NULL) + offset;
}


void
dgj_clock_format(int64_t t, char *buf, size_t len)
{
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;

    if (localtime_r(&tt, &tm) == NULL
        || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    {
        snprintf(buf, len, "1970-01-01 00:00:00");
    }
}
