
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit.h: the auditor's console API (/api/v1/audit/, table
 * audit_records of 0011_audit.sql, docs/audit.md#the-auditors-console).
 * The route table is public; the rest is shared by the files of
 * fcgi/audit only:
 *
 *   dgj_audit_search.c  routes, filters, search, live view, CSV export
 *   dgj_audit_verify.c  chain verification of a time range
 *   dgj_audit_flags.c   what looks like an attack: scanners, tools,
 *                       SQL injection, XSS, path traversal
 *   dgj_audit_time.c    times (platform zone in, UTC in the table) and
 *                       keyset cursors
 *   dgj_audit_csv.c     CSV cells with the formula-injection guard
 *
 * Every handler requires the auditor role and names what it did with
 * dgj_req_audit() ("audit.search", "audit.live", "audit.export",
 * "audit.verify"), so reading the log is itself in the log.
 */


#ifndef DGJ_AUDIT_H
#define DGJ_AUDIT_H


#include "dgj_core.h"
#include "dgj_req.h"
#include "dgj_router.h"


extern const dgj_route_t  dgj_audit_routes[];

/* the one role that reads the log (docs/security.md: separation of duties) */
extern const char *const  dgj_audit_roles[];

/* dgj_audit_verify.c: POST /api/v1/audit/verify */
dgj_rc_t dgj_audit_verify(dgj_req_t *r);


/*
 * The columns every read of a record returns, in the order of
 * DGJ_AUDIT_C_*: the ingest id, ts as Unix milliseconds (ts is UTC; no
 * time zone involved), then the record's fields.
 */
#define DGJ_AUDIT_COLUMNS                                                     \
    "SELECT id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01', ts) DIV 1000,"       \
    "       chain, seq, request_id, user_id, roles, dept_id, ip, port, ua,"   \
    "       method, path, status, auth, limit_outcome, action, object_id,"    \
    "       latency_ms, bytes_in, bytes_out"

enum {
    DGJ_AUDIT_C_ID = 0, DGJ_AUDIT_C_MS, DGJ_AUDIT_C_CHAIN, DGJ_AUDIT_C_SEQ,
    DGJ_AUDIT_C_RID, DGJ_AUDIT_C_UID, DGJ_AUDIT_C_ROLES, DGJ_AUDIT_C_DEPT,
    DGJ_AUDIT_C_IP, DGJ_AUDIT_C_PORT, DGJ_AUDIT_C_UA, DGJ_AUDIT_C_METHOD,
    DGJ_AUDIT_C_PATH, DGJ_AUDIT_C_STATUS, DGJ_AUDIT_C_AUTH,
    DGJ_AUDIT_C_LIMIT, DGJ_AUDIT_C_ACTION, DGJ_AUDIT_C_OBJECT,
    DGJ_AUDIT_C_LATENCY, DGJ_AUDIT_C_IN, DGJ_AUDIT_C_OUT, DGJ_AUDIT_NCOLS
};


/* dgj_audit_flags.c */

#define DGJ_AUDIT_FLAG_SCANNER    0x01  /* a scanner's user agent */
#define DGJ_AUDIT_FLAG_TOOL       0x02  /* a script or HTTP library, or none */
#define DGJ_AUDIT_FLAG_SQLI       0x04  /* SQL injection in path or query */
#define DGJ_AUDIT_FLAG_XSS        0x08  /* script injection */
#define DGJ_AUDIT_FLAG_TRAVERSAL  0x10  /* ../ and system files */
#define DGJ_AUDIT_FLAG_BURST      0x20  /* a refusal in a burst (live only) */

/* DGJ_AUDIT_FLAG_SCANNER, _TOOL or 0 for a User-Agent (NULL: none sent) */
unsigned dgj_audit_flags_ua(const char *ua);

/*
 * _SQLI, _XSS and _TRAVERSAL bits for a request path with its query,
 * looked at after percent-decoding (twice, for double encoding), HTML
 * entity decoding of < > ' " and folding case, comments and blanks.
 */
unsigned dgj_audit_flags_path(const char *path);

/* The names of the bits ("scanner", "sqli", ...), in bit order. */
const char *dgj_audit_flag_name(unsigned bit);


/* dgj_audit_time.c */

/* the platform's zone: Asia/Shanghai, UTC+8 all year (no DST) */
#define DGJ_AUDIT_ZONE_MS  (8 * 3600 * 1000LL)

/*
 * Parses a time the auditor gives: "YYYY-MM-DD", then optionally
 * "THH:MM" (or a space), ":SS", ".fff" (1 to 9 digits, cut to ms), and
 * "Z" or "+HH:MM" / "-HH:MM"; without a zone it is the platform's.
 * 0 with *ms (Unix milliseconds), -1 when malformed or impossible.
 */
int dgj_audit_ms_parse(const char *s, int64_t *ms);

/* "YYYY-MM-DD HH:MM:SS.fff" in UTC (the ts column); buf >= 24 bytes */
void dgj_audit_ms_sql(int64_t ms, char *buf, size_t len);

/* "YYYY-MM-DDTHH:MM:SS.fff+08:00"; buf >= 30 bytes */
void dgj_audit_ms_local(int64_t ms, char *buf, size_t len);

/*
 * A record's place in the order (ts, id) of the table's ts index, whose
 * entries carry the primary key (id, ts): pages walk the index itself.
 */
typedef struct {
    int64_t   ms;                   /* ts in Unix milliseconds */
    uint64_t  id;
} dgj_audit_cursor_t;

/* "<ms>.<id>" into buf (>= 48 bytes) */
void dgj_audit_cursor_format(const dgj_audit_cursor_t *c, char *buf,
    size_t len);

/* 0, or -1 when s is not a cursor this API made */
int dgj_audit_cursor_parse(const char *s, dgj_audit_cursor_t *c);


/* dgj_audit_csv.c */

typedef struct {
    char    *data;                  /* malloc()ed, freed by a pool cleanup */
    size_t   len;
    size_t   size;
    int      failed;                /* out of memory: the text is cut */
} dgj_audit_csv_t;

/*
 * An empty CSV text owned by r->pool (its growing malloc()ed buffer is
 * freed at the end of the request: an export can exceed the pool's
 * blocks many times).  NULL when out of memory.
 */
dgj_audit_csv_t *dgj_audit_csv_create(dgj_req_t *r);

/*
 * Appends one cell (RFC 4180): quoted when it holds a comma, quote, CR
 * or LF; a cell starting with = + - @ (or a TAB or CR) is prefixed with
 * an apostrophe so a spreadsheet shows it as text instead of running it
 * (formula injection).  NULL is an empty cell.  last ends the row (CRLF).
 */
void dgj_audit_csv_cell(dgj_audit_csv_t *csv, const char *s, size_t len,
    int last);

/* raw bytes (the UTF-8 BOM) */
void dgj_audit_csv_raw(dgj_audit_csv_t *csv, const char *s, size_t len);


#endif /* DGJ_AUDIT_H */
