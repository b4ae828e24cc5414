
/*
 * Copyright (C) Daguanjia
 *
 * dgj_core.h: the common include of the FastCGI core: libc headers every
 * file needs, the version string and the forward declarations of the
 * core types, so headers can refer to each other without cycles.
 */


#ifndef DGJ_CORE_H
#define DGJ_CORE_H


#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>


#ifndef DGJ_VERSION
#define DGJ_VERSION  "0.1.0"
#endif

#define dgj_countof(a)  (sizeof(a) / sizeof((a)[0]))


typedef struct dgj_pool_s    dgj_pool_t;
typedef struct dgj_req_s     dgj_req_t;
typedef struct dgj_conf_s    dgj_conf_t;
typedef struct dgj_db_s      dgj_db_t;
typedef struct dgj_route_s   dgj_route_t;
typedef struct dgj_worker_s  dgj_worker_t;


#include "dgj_rc.h"


#endif /* DGJ_CORE_H */
