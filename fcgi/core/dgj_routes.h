
/*
 * Copyright (C) Daguanjia
 *
 * dgj_routes.h: the registry of route tables by name, so the `routes`
 * configuration key selects which tables a pool serves.
 */


#ifndef DGJ_ROUTES_H
#define DGJ_ROUTES_H


#include "dgj_core.h"
#include "dgj_router.h"


/* The table registered as name, or NULL. */
const dgj_route_t *dgj_routes_find(const char *name);

/*
 * Checks a `routes` value: names separated by blanks, each registered
 * once, or "all" alone.  0, or -1 with a message in msg.
 */
int dgj_routes_check(const char *spec, char *msg, size_t msglen);

/*
 * Adds the tables named by spec to rt (after dgj_routes_check()).
 * 0, or -1 with a message in msg.
 */
int dgj_routes_load(dgj_router_t *rt, const char *spec, char *msg,
    size_t msglen);


#endif /* DGJ_ROUTES_H */
