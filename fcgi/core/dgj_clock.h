
/*
 * Copyright (C) Daguanjia
 *
 * dgj_clock.h: the wall clock handlers use for sessions, codes and
 * lockouts.  Tests move it: when the pool config names a clock_file, the
 * seconds offset written in that file is added to time(), re-read on
 * every call, so an idle or absolute timeout is tested without waiting.
 */


#ifndef DGJ_CLOCK_H
#define DGJ_CLOCK_H


#include "dgj_core.h"


/* Unix seconds, plus the test offset when conf->clock_file is set. */
int64_t dgj_clock_now(const dgj_conf_t *conf);

/* "YYYY-MM-DD HH:MM:SS" in local time (Asia/Shanghai) for t; buf >= 20 */
void dgj_clock_format(int64_t t, char *buf, size_t len);


#endif /* DGJ_CLOCK_H */
