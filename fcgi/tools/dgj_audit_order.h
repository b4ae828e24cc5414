
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_order.h: the order `dgj-audit verify` reads log files in.
 */


#ifndef DGJ_AUDIT_ORDER_H
#define DGJ_AUDIT_ORDER_H


#include <stddef.h>
#include <stdint.h>


typedef struct {
    char        *path;
    int64_t      first;     /* unix ms of its first line, INT64_MAX none */
} dgj_audit_file_t;


/* Sorts files into the order they were written (every path given, even
 * one that cannot be read: the verifier then says why).  0 ok, -1 out of
 * memory. */
int dgj_audit_order_files(dgj_audit_file_t *files, size_t n);


#endif /* DGJ_AUDIT_ORDER_H */
