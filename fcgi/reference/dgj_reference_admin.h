
/*
 * Copyright (C) Daguanjia
 *
 * dgj_reference_admin.h: the system admin's writes to reference data
 * (holiday calendar, dispatch catalogue), dgj_reference_admin.c.
 */


#ifndef DGJ_REFERENCE_ADMIN_H
#define DGJ_REFERENCE_ADMIN_H


#include "dgj_core.h"
#include "dgj_router.h"


extern const dgj_route_t  dgj_reference_admin_routes[];


#endif /* DGJ_REFERENCE_ADMIN_H */
