
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_received.h: `dgj-audit verify --received`, a receiver's copy.
 */


#ifndef DGJ_AUDIT_RECEIVED_H
#define DGJ_AUDIT_RECEIVED_H


#include <stddef.h>
#include <stdint.h>

#include "dgj_audit_chain.h"
#include "dgj_audit_order.h"


/* Feeds v every line of files, as a receiver stored them, in chain and
 * seq order.  0 all fed; 1 the same, and the first line v found bad is
 * *bad_path line *bad_line; -1 a file unreadable or out of memory (said
 * on stderr). */
int dgj_audit_received_feed(dgj_audit_verifier_t *v,
    const dgj_audit_file_t *files, size_t n, const char **bad_path,
    uint64_t *bad_line);


#endif /* DGJ_AUDIT_RECEIVED_H */
