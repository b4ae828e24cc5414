
/*
 * Copyright (C) Daguanjia
 *
 * dgj_revoke.h: revoking sessions (sign-out, password change, an admin
 * locking an account) so that nginx refuses their still-unexpired access
 * tokens at once: docs/security.md#revocation.
 */


#ifndef DGJ_REVOKE_H
#define DGJ_REVOKE_H


#include "dgj_core.h"


/* the state file is compacted (expired lines dropped) beyond this size */
#define DGJ_REVOKE_COMPACT_SIZE  (256 * 1024)


/*
 * Revokes n sessions (each 32 lower-hex characters) until the unix time
 * until (the latest exp of their tokens):
 *   1. appends "<session> <until>\n" lines to conf->revoke_file (O_APPEND
 *      under flock, so concurrent workers never interleave; read by nginx
 *      at start and reload), compacting it when over 256 KiB;
 *   2. POSTs the same lines to nginx's /_dgj/revoke (every nginx worker
 *      refuses the sessions from then on).
 * DGJ_OK when both worked; DGJ_ERR_INPUT for a bad session (nothing done);
 * DGJ_ERR_INTERNAL when the file could not be written (the POST is still
 * tried); DGJ_ERR_PEER when nginx did not take them (the file has them,
 * so a reload or restart will).  Logged; nothing is retained.
 */
dgj_rc_t dgj_revoke_sessions(const dgj_conf_t *conf,
    const char *const *sessions, size_t n, int64_t until);


#endif /* DGJ_REVOKE_H */
