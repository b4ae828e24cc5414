
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_chain.h: the audit log's hash chain, free of nginx (libc and
 * libcrypto only): epoch keys and their files, the writer's chain (one per
 * nginx worker), signed checkpoints, and the verifier used by dgj-audit,
 * the ingester and the auditor's console.  docs/audit.md is the format.
 *
 * Every line is one JSON object ending in ,"mac":"<64 hex>"}; the MAC is
 *
 *   mac_i = HMAC-H(K_ep, mac_{i-1} || line_i without its ,"mac":... tail)
 *
 * with mac_{-1} 32 zero bytes (the chain's "start" line, seq 0), H SHA-256
 * or SM3, and K_ep the key of the line's epoch: K_0 is the verify key and
 * K_{e+1} = H("dgj-audit-evolve/1" || K_e), so holding today's key tells
 * nothing about yesterday's.  The epoch of a moment is
 * (unix_seconds - t0) / epoch_len; a line's "ep" is never older than its
 * "time" says (the writer erased that key), nor newer by more than
 * DGJ_AUDIT_SKEW seconds (an old line re-sealed with a later key).
 *
 * Checkpoints ("ckpt" lines) carry the previous line's MAC as "head" and
 * an Ed25519 signature of dgj_audit_ckpt_text(); they let a file that
 * starts mid-chain be verified from its first checkpoint on, and let a
 * holder of only the public key check chain heads shipped off the host.
 * "epoch" lines carry the head too (a new file may begin with one).
 */


#ifndef DGJ_AUDIT_CHAIN_H
#define DGJ_AUDIT_CHAIN_H


#include <stddef.h>
#include <stdint.h>


#define DGJ_AUDIT_MAC_LEN      32
#define DGJ_AUDIT_KEY_LEN      32
#define DGJ_AUDIT_SIG_LEN      64       /* Ed25519 */
#define DGJ_AUDIT_CHAIN_MAX    40       /* chain id characters */
#define DGJ_AUDIT_TIME_LEN     29       /* 2026-11-30T21:15:12.345+08:00 */
#define DGJ_AUDIT_SKEW         300      /* seconds a clock may step back */
#define DGJ_AUDIT_LINE_MAX     16384    /* a longer line is malformed */

/* ,"mac":"<64 hex>"} : the fixed tail every line ends with (then \n) */
#define DGJ_AUDIT_TAIL_LEN     (8 + 2 * DGJ_AUDIT_MAC_LEN + 2)


typedef enum {
    DGJ_AUDIT_SHA256 = 0,
    DGJ_AUDIT_SM3
} dgj_audit_alg_e;


/* An epoch key and the clock it follows.  File format (text, one
 * "name value" a line, any order, # comments):
 *   dgj-audit-key 1 / alg sha256|sm3 / t0 <unix s> / epoch_len <s> /
 *   epoch <n> / key <64 hex>                                            */
typedef struct {
    dgj_audit_alg_e   alg;
    int64_t           t0;
    int64_t           epoch_len;
    uint64_t          epoch;
    unsigned char     key[DGJ_AUDIT_KEY_LEN];
} dgj_audit_key_t;


/* A moment as the lines show it: local time with its UTC offset. */
typedef struct {
    int64_t           sec;          /* unix seconds */
    int               msec;
    int               gmtoff;       /* minutes east of UTC */
} dgj_audit_time_t;


/* HMAC with the padded key's inner and outer states computed once. */
typedef struct {
    void             *inner;        /* EVP_MD_CTX after K ^ ipad */
    void             *outer;        /* EVP_MD_CTX after K ^ opad */
    void             *work;
    void             *sha256;       /* the same two states as SHA256_CTX */
} dgj_audit_hmac_t;


/* The writer's side: one chain, one process, lines in seq order. */
typedef struct {
    char              id[DGJ_AUDIT_CHAIN_MAX + 1];
    size_t            id_len;
    uint64_t          seq;          /* of the next line */
    dgj_audit_key_t   key;
    dgj_audit_hmac_t  hmac;         /* keyed with key.key */
    unsigned char     prev[DGJ_AUDIT_MAC_LEN];
    void             *sign;         /* EVP_PKEY, Ed25519 private; or NULL */
} dgj_audit_chain_t;


/* keys and their files; 0 ok, -1 with err set */
const char *dgj_audit_alg_name(dgj_audit_alg_e alg);
int dgj_audit_key_parse(dgj_audit_key_t *k, const char *text, size_t len,
    char *err, size_t errlen);
int dgj_audit_key_load(dgj_audit_key_t *k, const char *path, char *err,
    size_t errlen);
/* written to path.tmp.<pid>, fsync'ed, renamed over path, mode 0600 */
int dgj_audit_key_save(const dgj_audit_key_t *k, const char *path,
    char *err, size_t errlen);
int dgj_audit_key_generate(dgj_audit_key_t *k, dgj_audit_alg_e alg,
    int64_t t0, int64_t epoch_len);
uint64_t dgj_audit_epoch_of(const dgj_audit_key_t *k, int64_t sec);
/* forward only (epoch >= k->epoch); the older key is erased */
int dgj_audit_key_advance(dgj_audit_key_t *k, uint64_t epoch);
/* Under an exclusive lock on path.lock: move k and the file forward to
 * the newer of both and of epoch; the file is rewritten only when it was
 * older.  Several workers and reloads share the file this way. */
int dgj_audit_key_sync(dgj_audit_key_t *k, const char *path, uint64_t epoch,
    char *err, size_t errlen);
void dgj_audit_key_erase(dgj_audit_key_t *k);

/* HMAC-H(key, a || b), 32 bytes; the contexts are reused */
int dgj_audit_hmac_init(dgj_audit_hmac_t *h, dgj_audit_alg_e alg,
    const unsigned char *key);
int dgj_audit_hmac(dgj_audit_hmac_t *h, const void *a, size_t alen,
    const void *b, size_t blen, unsigned char *out);
void dgj_audit_hmac_free(dgj_audit_hmac_t *h);

/* Ed25519 keys (PEM files made by conf/stack.sh); EVP_PKEY *, or NULL */
void *dgj_audit_sign_key_load(const char *path, int private_key,
    char *err, size_t errlen);
void dgj_audit_sign_key_free(void *pkey);

/* "2026-11-30T21:15:12.345+08:00" (DGJ_AUDIT_TIME_LEN bytes, no NUL) */
size_t dgj_audit_time_format(const dgj_audit_time_t *t, char *buf);
int dgj_audit_time_parse(const char *p, size_t len, dgj_audit_time_t *t);

/* the text a checkpoint signs: the head it pins is that of line seq */
size_t dgj_audit_ckpt_text(char *buf, size_t size, const char *chain,
    uint64_t seq, const unsigned char *head, const char *time,
    size_t time_len);

size_t dgj_audit_hex(const unsigned char *in, size_t len, char *out);
int dgj_audit_unhex(const char *in, size_t len, unsigned char *out);

/* Writer.  The caller owns key (copied, then erased by the caller) and
 * sign (borrowed, may be NULL: no checkpoints). */
int dgj_audit_chain_init(dgj_audit_chain_t *c, const char *id,
    const dgj_audit_key_t *key, void *sign);
void dgj_audit_chain_free(dgj_audit_chain_t *c);
/* Starts a line: {"t":"<type>","c":"<id>","seq":N,"ep":E,"time":"<t>"
 * into buf; the caller appends its fields (each ,"k":v) and seals it.
 * Returns the length, or 0 when size is too small. */
size_t dgj_audit_chain_begin(dgj_audit_chain_t *c, char *buf, size_t size,
    const char *type, const dgj_audit_time_t *t);
/* Appends the ,"mac":"..."}\n tail (size must leave DGJ_AUDIT_TAIL_LEN +
 * 1 bytes), advances the chain; returns the new length or 0 on failure. */
size_t dgj_audit_chain_seal(dgj_audit_chain_t *c, char *line, size_t len,
    size_t size);
/* Whole control lines, sealed; 0 when size is too small or signing
 * failed.  "after" names the chain this one follows (or NULL). */
size_t dgj_audit_chain_start(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t, const char *node, long pid, long slot,
    const char *after, uint64_t after_seq);
size_t dgj_audit_chain_ckpt(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t);
size_t dgj_audit_chain_stop(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t);
/* Moves the chain's key to epoch (erasing the older one) and writes the
 * "epoch" line, sealed with the new key. */
size_t dgj_audit_chain_epoch(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t, uint64_t epoch);


/* Verifier */
typedef struct dgj_audit_verifier_s  dgj_audit_verifier_t;

typedef struct {
    uint64_t          records;      /* lines checked */
    uint64_t          torn;         /* of them, heads of lines cut short */
    int               ok;           /* 1 when everything fed so far verified */
    char              chain[41];    /* chain of the first bad line */
    uint64_t          bad_seq;      /* seq of the first bad line (or missing) */
    char              reason[160];  /* "mac mismatch", "gap: expected 42" */
} dgj_audit_report_t;

/* what the verifier saw of one chain (dgj_audit_verifier_chain) */
typedef struct {
    char              id[DGJ_AUDIT_CHAIN_MAX + 1];
    uint64_t          first_seq;
    uint64_t          last_seq;
    uint64_t          lines;
    uint64_t          checkpoints;
    int               started;      /* its "start" line was seen */
    int               stopped;      /* its "stop" line was seen */
    char              last_time[DGJ_AUDIT_TIME_LEN + 1];
    char              successor[DGJ_AUDIT_CHAIN_MAX + 1];   /* "" or chain */
    int               torn;         /* it ends in a line cut short */
} dgj_audit_chain_info_t;

dgj_audit_verifier_t *dgj_audit_verifier_new(const char *verify_key_file,
    const char *checkpoint_pub_file, char *err, size_t errlen);
/* a line trusted without checking its MAC: seeds the chain state to
 * verify a range that starts mid-chain (the line just before the range) */
int dgj_audit_verifier_anchor(dgj_audit_verifier_t *v, const char *line,
    size_t len);
/* next line (any chain, each chain's lines in seq order; a trailing \n is
 * allowed); 0 ok, -1 bad (report set) */
int dgj_audit_verifier_feed(dgj_audit_verifier_t *v, const char *line,
    size_t len);
/* After the last line: a chain that a later chain says it follows must
 * reach the seq that chain saw, and with closed != 0 every chain must end
 * in a "stop" line (an archive of a stopped gateway).  0 ok, -1 bad. */
int dgj_audit_verifier_finish(dgj_audit_verifier_t *v, int closed);
void dgj_audit_verifier_report(const dgj_audit_verifier_t *v,
    dgj_audit_report_t *rep);
/* i-th chain seen (0..); 0 ok, -1 past the last */
int dgj_audit_verifier_chain(const dgj_audit_verifier_t *v, size_t i,
    dgj_audit_chain_info_t *info);
void dgj_audit_verifier_free(dgj_audit_verifier_t *v);

/* A writer killed inside write() (SIGKILL, the OOM killer) leaves the
 * head of a line without its end, and the next write of another worker
 * goes on right after it.  Where the whole line after such a head begins
 * in line (quotes in values are escaped: '{"t":"' only begins a line), 0
 * when there is none. */
size_t dgj_audit_line_resume(const char *line, size_t len);
/* The chain id and seq a line begins with, as far as it reaches (a head
 * cut short too): 1 both, 0 the id only (its seq cut off), -1 no id.  A
 * seq that is no number reads as UINT64_MAX, no chain's next. */
int dgj_audit_line_chain_seq(const char *line, size_t len, char *chain,
    size_t size, uint64_t *seq);

/* Fields of one line, for the ingester and the console: value of a
 * top-level key, unescaped into out (NUL-terminated); 1 found (string or
 * number), 0 absent or null, -1 malformed. */
int dgj_audit_line_field(const char *line, size_t len, const char *key,
    char *out, size_t outsz);


#endif /* DGJ_AUDIT_CHAIN_H */
