
/*
 * Copyright (C) Daguanjia
 *
 * dgj_routes.c: the registry from route table name to table.  A new
 * domain adds one line here and one -I directory in the build.
 */


#include "dgj_core.h"
#include "dgj_routes.h"

#include "dgj_accounts.h"
#include "dgj_audit.h"
#include "dgj_bans.h"
#include "dgj_limits.h"
#include "dgj_reference.h"
#include "dgj_reference_admin.h"
#include "dgj_workflow.h"
#include "dgj_workflow_board.h"
#include "dgj_workflow_deadline.h"


typedef struct {
    const char         *name;
    const dgj_route_t  *table;
} dgj_routes_entry_t;


static int dgj_routes_walk(dgj_router_t *rt, const char *spec, char *msg,
    size_t msglen);


static const dgj_routes_entry_t  dgj_routes_registry[] = {

    { "reference", dgj_reference_routes },
    { "accounts", dgj_accounts_routes },
    { "security", dgj_bans_routes },
    { "workflow", dgj_workflow_routes },
    { "deadline_rules", dgj_deadline_rules_routes },
    { "audit", dgj_audit_routes },
    { "board", dgj_board_routes },
    { "reference_admin", dgj_reference_admin_routes },
    { "limits", dgj_limits_routes },

    { NULL, NULL }
};


const dgj_route_t *
dgj_routes_find(const char *name)
{
    size_t  i;

    for (i = 0; dgj_routes_registry[i].name != NULL; i++) {
        if (strcmp(dgj_routes_registry[i].name, name) == 0) {
            return dgj_routes_registry[i].table;
        }
    }

    return NULL;
}


int
dgj_routes_check(const char *spec, char *msg, size_t msglen)
{
    return dgj_routes_walk(NULL, spec, msg, msglen);
}


int
dgj_routes_load(dgj_router_t *rt, const char *spec, char *msg,
    size_t msglen)
{
    return dgj_routes_walk(rt, spec, msg, msglen);
}


static int
dgj_routes_walk(dgj_router_t *rt, const char *spec, char *msg, size_t msglen)
{
    char                name[64];
    size_t              i, len, n;
    const char         *p, *start;
    const dgj_route_t  *seen[DGJ_ROUTER_MAX_TABLES], *table;

    n = 0;
    p = spec;

    for ( ;; ) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }

        if (*p == '\0') {
            break;
        }

        start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t') {
            p++;
        }

        len = (size_t) (p - start);
        if (len >= sizeof(name)) {
            snprintf(msg, msglen, "route table name too long");
            return -1;
        }

        memcpy(name, start, len);
        name[len] = '\0';

        if (strcmp(name, "all") == 0) {
            while (*p == ' ' || *p == '\t') {
                p++;
            }

            if (n > 0 || *p != '\0') {
                snprintf(msg, msglen, "\"all\" must stand alone");
                return -1;
            }

            for (i = 0; dgj_routes_registry[i].name != NULL; i++) {
                if (rt != NULL
                    && dgj_router_add(rt, dgj_routes_registry[i].table) != 0)
                {
                    snprintf(msg, msglen, "too many route tables");
                    return -1;
                }
            }

            return 0;
        }

        table = dgj_routes_find(name);
        if (table == NULL) {
            snprintf(msg, msglen, "unknown route table \"%s\"", name);
            return -1;
        }

        for (i = 0; i < n; i++) {
            if (seen[i] == table) {
                snprintf(msg, msglen, "route table \"%s\" listed twice",
                         name);
                return -1;
            }
        }

        if (n == DGJ_ROUTER_MAX_TABLES) {
            snprintf(msg, msglen, "too many route tables");
            return -1;
        }

        seen[n++] = table;

        if (rt != NULL && dgj_router_add(rt, table) != 0) {
            snprintf(msg, msglen, "too many route tables");
            return -1;
        }
    }

    if (n == 0) {
        snprintf(msg, msglen, "no route table named");
        return -1;
    }

    return 0;
}
