
/*
 * Copyright (C) Daguanjia
 *
 * dgj_bans.h: the security admin's ban API (/api/v1/security/bans) and
 * the ban file nginx reads (docs/directives.md#dgj_limit_ban_zone).
 */


#ifndef DGJ_BANS_H
#define DGJ_BANS_H


#include "dgj_core.h"
#include "dgj_router.h"

#include <jansson.h>


extern const dgj_route_t  dgj_bans_routes[];


/*
 * Writes rows (objects kind, value, until, reason) to conf->ban_file
 * through a temporary file and a rename, so nginx never reads half a
 * file.  0, or -1 with a message in err.
 */
int dgj_bans_render(const dgj_conf_t *conf, json_t *rows, char *err,
    size_t errlen);

/*
 * `dgj-fcgi -c CONFIG -B`: rewrites conf->ban_file from the bans in force
 * in MariaDB (run by conf/stack.sh before nginx starts, so a restored
 * database brings its bans).  0 or -1 with a message on stderr.
 */
int dgj_bans_sync(const dgj_conf_t *conf);


#endif /* DGJ_BANS_H */
