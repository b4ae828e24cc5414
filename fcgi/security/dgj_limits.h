
/*
 * Copyright (C) Daguanjia
 *
 * dgj_limits.h: the security admin's view of the rate limiter
 * (/api/v1/security/limits), dgj_limits.c.
 */


#ifndef DGJ_LIMITS_H
#define DGJ_LIMITS_H


#include "dgj_core.h"
#include "dgj_router.h"


extern const dgj_route_t  dgj_limits_routes[];


#endif /* DGJ_LIMITS_H */
