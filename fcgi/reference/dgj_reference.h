
/*
 * Copyright (C) Daguanjia
 *
 * dgj_reference.h: the "reference" route table: health, districts,
 * departments, categories, overview and the working-day calendar.
 */


#ifndef DGJ_REFERENCE_H
#define DGJ_REFERENCE_H


#include "dgj_core.h"
#include "dgj_router.h"


/* the routes of the contract's reference API, ended by dgj_null_route */
extern const dgj_route_t  dgj_reference_routes[];


#endif /* DGJ_REFERENCE_H */
