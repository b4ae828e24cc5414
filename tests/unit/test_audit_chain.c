
/*
 * Copyright (C) Daguanjia
 *
 * test_audit_chain.c: dgj_audit_chain: epoch keys (files, evolution, the
 * shared file), the HMAC against libcrypto's, time stamps, and the
 * verifier against every tamper kind: a flipped byte, a deleted, inserted
 * and reordered line, a truncated tail, a spliced chain, a line re-sealed
 * with a later epoch key, a forged checkpoint; and what must pass: files
 * that start mid-chain at a checkpoint, anchors, interleaved chains,
 * epoch changes, a chain that follows a dead worker's.
 */


#include "dgj_core.h"
#include "dgj_audit_chain.h"
#include "dgj_token.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>
#include <sys/stat.h>

#include "testhelp.h"


#define T0       1790000000
#define EPLEN    3600
#define MAXL     64
#define LINESZ   2048


typedef struct {
    char    text[MAXL][LINESZ];
    size_t  len[MAXL];
    size_t  n;
} test_log_t;


static char             dir[256], verify_path[300], pub_path[300];
static char             epoch_path[300], err[512];
static dgj_audit_key_t  k0;
static void            *priv;


static dgj_audit_time_t
test_at(int64_t sec)
{
    dgj_audit_time_t  t;

    t.sec = sec;
    t.msec = 345;
    t.gmtoff = 480;

    return t;
}


static void
test_keys(dgj_audit_alg_e alg)
{
    FILE      *f;
    EVP_PKEY  *pkey;

    snprintf(verify_path, sizeof(verify_path), "%s/verify.key", dir);
    snprintf(pub_path, sizeof(pub_path), "%s/checkpoint.pub", dir);
    snprintf(epoch_path, sizeof(epoch_path), "%s/epoch.key", dir);

    if (dgj_audit_key_generate(&k0, alg, T0, EPLEN) != 0
        || dgj_audit_key_save(&k0, verify_path, err, sizeof(err)) != 0)
    {
        exit(2);
    }

    if (priv == NULL) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        f = fopen(pub_path, "w");
        if (pkey == NULL || f == NULL) {
            exit(2);
        }

        PEM_write_PUBKEY(f, pkey);
        fclose(f);
        priv = pkey;
    }
}


/* a chain of n records at epoch ep (from k0), with start and checkpoint */
static void
test_chain(test_log_t *log, const char *id, uint64_t ep, uint64_t time_ep,
    int nrec, int with_stop)
{
    int                i;
    size_t             len;
    char               line[LINESZ];
    dgj_audit_key_t    k;
    dgj_audit_chain_t  c;
    dgj_audit_time_t   t;

    k = k0;
    dgj_audit_key_advance(&k, ep);
    dgj_audit_chain_init(&c, id, &k, priv);
    dgj_audit_key_erase(&k);

    t = test_at(T0 + (int64_t) time_ep * EPLEN + 10);

    len = dgj_audit_chain_start(&c, log->text[log->n], LINESZ, &t, "node-1",
                                1234, 0, NULL, 0);
    log->len[log->n++] = len;

    for (i = 0; i < nrec; i++) {
        t.msec = i;
        len = dgj_audit_chain_begin(&c, line, sizeof(line), "rec", &t);
        len += snprintf(line + len, sizeof(line) - len,
                        ",\"rid\":\"%032d\",\"ua\":\"curl \\\"x\\\"\\n\","
                        "\"path\":\"/api/v1/x?code=***\",\"status\":200",
                        i);
        len = dgj_audit_chain_seal(&c, line, len, sizeof(line));
        memcpy(log->text[log->n], line, len);
        log->len[log->n++] = len;

        if (i == nrec / 2) {
            len = dgj_audit_chain_ckpt(&c, log->text[log->n], LINESZ, &t);
            log->len[log->n++] = len;
        }
    }

    if (with_stop) {
        len = dgj_audit_chain_stop(&c, log->text[log->n], LINESZ, &t);
        log->len[log->n++] = len;
    }

    dgj_audit_chain_free(&c);
}


/* feeds lines [from, n) skipping skip (-1: none); returns the report */
static dgj_audit_report_t
test_verify_range(test_log_t *log, size_t from, int closed)
{
    size_t                 i;
    dgj_audit_report_t     rep;
    dgj_audit_verifier_t  *v;

    v = dgj_audit_verifier_new(verify_path, pub_path, err, sizeof(err));
    if (v == NULL) {
        printf("# %s\n", err);
        exit(2);
    }

    for (i = from; i < log->n; i++) {
        dgj_audit_verifier_feed(v, log->text[i], log->len[i]);
    }

    dgj_audit_verifier_finish(v, closed);
    dgj_audit_verifier_report(v, &rep);
    dgj_audit_verifier_free(v);

    if (!rep.ok) {
        printf("# report: %s seq %llu: %s\n", rep.chain,
               (unsigned long long) rep.bad_seq, rep.reason);
    }

    return rep;
}


static dgj_audit_report_t
test_verify(test_log_t *log)
{
    return test_verify_range(log, 0, 0);
}


static void
test_remove(test_log_t *log, size_t i)
{
    memmove(&log->text[i], &log->text[i + 1], (log->n - i - 1) * LINESZ);
    memmove(&log->len[i], &log->len[i + 1], (log->n - i - 1) * sizeof(size_t));
    log->n--;
}


static int
test_bad_at(dgj_audit_report_t rep, uint64_t seq, const char *reason)
{
    return !rep.ok && rep.bad_seq == seq && strstr(rep.reason, reason);
}


static void
test_key_files(void)
{
    dgj_audit_key_t  a, b, c;
    unsigned char    k1[DGJ_AUDIT_KEY_LEN];

    test_cond("audit-1.1: verify key loads as saved",
              dgj_audit_key_load(&a, verify_path, err, sizeof(err)) == 0
              && memcmp(a.key, k0.key, DGJ_AUDIT_KEY_LEN) == 0
              && a.t0 == T0 && a.epoch_len == EPLEN && a.epoch == 0);

    test_cond("audit-1.2: epoch of a moment",
              dgj_audit_epoch_of(&a, T0 + 3599) == 0
              && dgj_audit_epoch_of(&a, T0 + 3600) == 1
              && dgj_audit_epoch_of(&a, T0 + 86400 * 184) == 24 * 184
              && dgj_audit_epoch_of(&a, T0 - 5) == 0);

    b = a;
    dgj_audit_key_advance(&b, 1);
    memcpy(k1, b.key, DGJ_AUDIT_KEY_LEN);
    dgj_audit_key_advance(&b, 3);

    test_cond("audit-1.3: a key evolves forward only and changes",
              b.epoch == 3 && memcmp(b.key, a.key, DGJ_AUDIT_KEY_LEN) != 0
              && memcmp(b.key, k1, DGJ_AUDIT_KEY_LEN) != 0
              && dgj_audit_key_advance(&b, 2) == -1 && b.epoch == 3);

    /* two workers share the epoch file: the first writes epoch 2, the
     * second (still at 0) catches up to it, never back */
    unlink(epoch_path);
    c = a;
    test_cond("audit-1.4: sync creates the epoch file at the epoch asked",
              dgj_audit_key_sync(&c, epoch_path, 2, err, sizeof(err)) == 0
              && c.epoch == 2);

    c = a;
    test_cond("audit-1.5: a worker behind the file moves up to it",
              dgj_audit_key_sync(&c, epoch_path, 1, err, sizeof(err)) == 0
              && c.epoch == 2
              && dgj_audit_key_load(&b, epoch_path, err, sizeof(err)) == 0
              && b.epoch == 2
              && memcmp(b.key, c.key, DGJ_AUDIT_KEY_LEN) == 0);

    test_cond("audit-1.6: the file moves forward; the old key is gone",
              dgj_audit_key_sync(&c, epoch_path, 3, err, sizeof(err)) == 0
              && dgj_audit_key_load(&b, epoch_path, err, sizeof(err)) == 0
              && b.epoch == 3
              && memcmp(b.key, k1, DGJ_AUDIT_KEY_LEN) != 0);

    dgj_audit_key_generate(&c, DGJ_AUDIT_SHA256, T0, EPLEN);
    test_cond("audit-1.7: the file of another log is refused",
              dgj_audit_key_sync(&c, epoch_path, 3, err, sizeof(err)) == -1
              && strstr(err, "does not follow") != NULL);

    test_cond("audit-1.8: broken key files are refused",
              dgj_audit_key_parse(&c, "dgj-audit-key 1\nalg md5\n", 24, err,
                                  sizeof(err)) == -1
              && dgj_audit_key_parse(&c, "dgj-audit-key 1\nalg sha256\n"
                                     "t0 1\nepoch_len 0\nepoch 0\nkey 00\n",
                                     61, err, sizeof(err)) == -1);
}


static void
test_hmac(void)
{
    dgj_audit_hmac_t  h;
    unsigned char     key[32], a[32], ours[32], ref[32], msg[600];
    size_t            i;

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (unsigned char) (i * 7);
        a[i] = (unsigned char) (255 - i);
    }

    for (i = 0; i < sizeof(msg); i++) {
        msg[i] = (unsigned char) i;
    }

    memset(&h, 0, sizeof(h));
    dgj_audit_hmac_init(&h, DGJ_AUDIT_SHA256, key);
    dgj_audit_hmac(&h, a, 32, msg + 32, sizeof(msg) - 32, ours);
    memcpy(msg, a, 32);
    dgj_token_hmac(DGJ_TOKEN_HMAC_SHA256, key, 32, msg, sizeof(msg), ref);

    test_cond("audit-2.1: HMAC-SHA256 matches libcrypto's",
              memcmp(ours, ref, 32) == 0);

    dgj_audit_hmac_init(&h, DGJ_AUDIT_SM3, key);
    dgj_audit_hmac(&h, a, 32, msg + 32, sizeof(msg) - 32, ours);
    dgj_token_hmac(DGJ_TOKEN_HMAC_SM3, key, 32, msg, sizeof(msg), ref);

    test_cond("audit-2.2: HMAC-SM3 matches libcrypto's",
              memcmp(ours, ref, 32) == 0);

    /* back to SHA-256 on the same state (an epoch's key on a reused
     * verifier): its fast path is keyed anew, with a message of 1 byte */
    key[0] ^= 1;
    dgj_audit_hmac_init(&h, DGJ_AUDIT_SHA256, key);
    dgj_audit_hmac(&h, a, 32, msg + 32, 1, ours);
    dgj_token_hmac(DGJ_TOKEN_HMAC_SHA256, key, 32, msg, 33, ref);

    test_cond("audit-2.3: HMAC-SHA256 again after SM3, with a new key",
              memcmp(ours, ref, 32) == 0);

    dgj_audit_hmac_free(&h);
}


static void
test_time(void)
{
    char              buf[DGJ_AUDIT_TIME_LEN + 1];
    dgj_audit_time_t  t, back;

    t.sec = 1796044512;      /* 2026-11-30T13:15:12Z */
    t.msec = 345;
    t.gmtoff = 480;
    buf[dgj_audit_time_format(&t, buf)] = '\0';

    test_cond("audit-3.1: time in ms with its zone",
              strcmp(buf, "2026-11-30T21:15:12.345+08:00") == 0);

    test_cond("audit-3.2: and back",
              dgj_audit_time_parse(buf, DGJ_AUDIT_TIME_LEN, &back) == 0
              && back.sec == t.sec && back.msec == 345
              && back.gmtoff == 480);

    t.gmtoff = -150;
    buf[dgj_audit_time_format(&t, buf)] = '\0';
    test_cond("audit-3.3: west of UTC",
              strcmp(buf, "2026-11-30T10:45:12.345-02:30") == 0
              && dgj_audit_time_parse(buf, DGJ_AUDIT_TIME_LEN, &back) == 0
              && back.sec == t.sec);

    test_cond("audit-3.4: bad stamps refused",
              dgj_audit_time_parse("2026-13-30T10:45:12.345-02:30", 29,
                                   &back) == -1
              && dgj_audit_time_parse("2026-11-30 10:45:12.345-02:30", 29,
                                      &back) == -1);
}


static void
test_tamper(void)
{
    size_t              i;
    char               *p;
    test_log_t         *log, *other;
    dgj_audit_report_t  rep;

    log = malloc(sizeof(test_log_t));
    other = malloc(sizeof(test_log_t));

    /* lines: 0 start, 1..5 rec (seq 1..5), 6 ckpt (seq 6), 7..10 rec
     * (seq 7..10), 11 stop (seq 11) */
    log->n = 0;
    test_chain(log, "node-1.w0.a", 2, 2, 9, 1);

    rep = test_verify_range(log, 0, 1);
    test_cond("audit-4.1: a clean chain verifies, closed too",
              rep.ok && rep.records == 12);

    *other = *log;
    p = strstr(other->text[3], "curl");
    p[1] ^= 0x20;
    test_cond("audit-4.2: a flipped byte: mac mismatch at its seq",
              test_bad_at(test_verify(other), 3, "mac mismatch"));

    *other = *log;
    test_remove(other, 4);
    test_cond("audit-4.3: a deleted line: gap at its seq",
              test_bad_at(test_verify(other), 4, "gap: expected 4"));

    *other = *log;
    memmove(other->text[5], other->text[4], LINESZ);
    other->len[5] = other->len[4];
    test_cond("audit-4.4: an inserted (replayed) line: out of order",
              test_bad_at(test_verify(other), 4, "repeated"));

    *other = *log;
    memcpy(other->text[20], other->text[3], LINESZ);
    memcpy(other->text[3], other->text[4], LINESZ);
    memcpy(other->text[4], other->text[20], LINESZ);
    i = other->len[3];
    other->len[3] = other->len[4];
    other->len[4] = i;
    test_cond("audit-4.5: two lines swapped: gap where the first belongs",
              test_bad_at(test_verify(other), 3, "gap: expected 3"));

    *other = *log;
    other->n -= 3;
    rep = test_verify_range(other, 0, 1);
    test_cond("audit-4.6: a truncated tail of a stopped chain: closed "
              "check names the first missing seq",
              test_bad_at(rep, 9, "without a stop line"));
    test_cond("audit-4.7: the same cut of a live chain verifies (an open "
              "chain)", test_verify(other).ok);

    *other = *log;
    other->len[10] -= 20;
    test_cond("audit-4.8: a line cut short, its chain going on: damaged "
              "at its seq",
              test_bad_at(test_verify(other), 10, "yet the chain goes on"));

    /* a line forged with a valid structure but a made-up MAC */
    *other = *log;
    p = strstr(other->text[2], "\"mac\":\"") + 7;
    p[0] = p[0] == 'a' ? 'b' : 'a';
    test_cond("audit-4.9: a forged MAC", test_verify(other).ok == 0);

    /* splicing: lines of another chain (same keys) put in place of ours */
    other->n = 0;
    test_chain(other, "node-1.w1.b", 2, 2, 9, 1);
    {
        test_log_t  *mix = malloc(sizeof(test_log_t));

        *mix = *log;
        /* our seq 4..5 replaced by theirs, renamed to our chain id */
        for (i = 4; i <= 5; i++) {
            char  *q = strstr(other->text[i], "node-1.w1.b");

            memcpy(mix->text[i], other->text[i], LINESZ);
            mix->len[i] = other->len[i];
            memcpy(q ? strstr(mix->text[i], "node-1.w1.b") : mix->text[i],
                   "node-1.w0.a", 11);
        }

        test_cond("audit-4.10: lines spliced from another chain",
                  test_bad_at(test_verify(mix), 4, "mac mismatch"));

        /* a whole file of another chain, without its start */
        *mix = *other;
        test_remove(mix, 0);
        test_remove(mix, 0);
        test_cond("audit-4.11: another chain's lines with no start or "
                  "checkpoint", test_bad_at(test_verify(mix), 2,
                                            "no start line"));
        free(mix);
    }

    /* a thief with the epoch-5 key re-seals lines of epoch 2 */
    other->n = 0;
    test_chain(other, "node-1.w0.a", 5, 2, 9, 1);
    test_cond("audit-4.12: an old epoch re-sealed with a later key",
              test_bad_at(test_verify(other), 0, "re-sealed"));

    /* a file that starts mid-chain at the checkpoint verifies from it */
    test_cond("audit-4.13: a file starting at a checkpoint verifies",
              test_verify_range(log, 6, 0).ok);
    test_cond("audit-4.14: one starting after it does not",
              test_bad_at(test_verify_range(log, 7, 0), 7,
                          "no start line"));

    /* the checkpoint signs its head: change both head and MAC, and the
     * signature still fails */
    *other = *log;
    p = strstr(other->text[6], "\"sig\":\"") + 7;
    p[3] = p[3] == '0' ? '1' : '0';
    test_cond("audit-4.15: a checkpoint's signature is checked",
              test_verify_range(other, 6, 0).ok == 0);

    free(log);
    free(other);
}


static void
test_more(void)
{
    size_t                 i, len;
    char                   buf[LINESZ];
    test_log_t            *log;
    dgj_audit_key_t        k;
    dgj_audit_chain_t      a, b;
    dgj_audit_time_t       t;
    dgj_audit_report_t     rep;
    dgj_audit_verifier_t  *v;

    log = malloc(sizeof(test_log_t));
    log->n = 0;

    /* two interleaved chains; chain a crosses an epoch */
    k = k0;
    dgj_audit_chain_init(&a, "n.a", &k, priv);
    dgj_audit_chain_init(&b, "n.b", &k, priv);
    t = test_at(T0 + EPLEN - 2);

#define ADD(x)  log->len[log->n] = (x); log->n++
    ADD(dgj_audit_chain_start(&a, log->text[log->n], LINESZ, &t, "n", 1, 0,
                              NULL, 0));
    ADD(dgj_audit_chain_start(&b, log->text[log->n], LINESZ, &t, "n", 2, 1,
                              NULL, 0));

    for (i = 0; i < 6; i++) {
        dgj_audit_chain_t  *c = (i % 2) ? &b : &a;

        if (i == 4) {
            t = test_at(T0 + EPLEN + 1);
            ADD(dgj_audit_chain_epoch(&a, log->text[log->n], LINESZ, &t, 1));
            ADD(dgj_audit_chain_epoch(&b, log->text[log->n], LINESZ, &t, 1));
        }

        len = dgj_audit_chain_begin(c, log->text[log->n], LINESZ, "rec", &t);
        ADD(dgj_audit_chain_seal(c, log->text[log->n], len, LINESZ));
    }

    /* b dies; its successor c follows it, having seen its seq 3 */
    {
        dgj_audit_chain_t  c;

        dgj_audit_chain_init(&c, "n.c", &k, priv);
        dgj_audit_key_advance(&c.key, 1);
        dgj_audit_hmac_init(&c.hmac, c.key.alg, c.key.key);
        ADD(dgj_audit_chain_start(&c, log->text[log->n], LINESZ, &t, "n", 3,
                                  1, "n.b", 4));
        len = dgj_audit_chain_begin(&c, log->text[log->n], LINESZ, "rec",
                                    &t);
        ADD(dgj_audit_chain_seal(&c, log->text[log->n], len, LINESZ));
        dgj_audit_chain_free(&c);
    }
#undef ADD

    rep = test_verify(log);
    test_cond("audit-5.1: interleaved chains, an epoch change, a successor",
              rep.ok && rep.records == log->n);

    for (i = 0; i < log->n; i++) {
        if (strstr(log->text[i], "\"c\":\"n.b\",\"seq\":4")) {
            break;
        }
    }

    test_remove(log, i);
    rep = test_verify(log);
    test_cond("audit-5.2: the dead chain's tail removed: its successor "
              "tells", test_bad_at(rep, 4, "truncated"));

    /* an epoch line that skips to a key of a later epoch than its time */
    t = test_at(T0 + EPLEN + 5);
    len = dgj_audit_chain_epoch(&a, buf, sizeof(buf), &t, 4);
    test_cond("audit-5.3: the writer makes an epoch line ahead of its time",
              len > 0);
    v = dgj_audit_verifier_new(verify_path, pub_path, err, sizeof(err));
    for (i = 0; i < log->n; i++) {
        dgj_audit_verifier_feed(v, log->text[i], log->len[i]);
    }
    {
        dgj_audit_report_t  r2;
        dgj_audit_verifier_t  *w;

        w = dgj_audit_verifier_new(verify_path, pub_path, err, sizeof(err));
        dgj_audit_verifier_anchor(w, log->text[4], log->len[4]);
        for (i = 5; i < log->n; i++) {
            if (strstr(log->text[i], "\"c\":\"n.a\"")) {
                dgj_audit_verifier_feed(w, log->text[i], log->len[i]);
            }
        }
        dgj_audit_verifier_report(w, &r2);
        test_cond("audit-5.4: an anchor seeds a range mid-chain", r2.ok);
        dgj_audit_verifier_free(w);

        /* a file may begin with an epoch line: it carries its head */
        w = dgj_audit_verifier_new(verify_path, pub_path, err, sizeof(err));
        for (i = 0; i < log->n; i++) {
            if (strstr(log->text[i], "{\"t\":\"epoch\",\"c\":\"n.a\"")) {
                break;
            }
        }
        for (/* void */; i < log->n; i++) {
            if (strstr(log->text[i], "\"c\":\"n.a\"")) {
                dgj_audit_verifier_feed(w, log->text[i], log->len[i]);
            }
        }
        dgj_audit_verifier_report(w, &r2);
        test_cond("audit-5.6: a range that starts at an epoch line verifies",
                  r2.ok && r2.records == 2);
        dgj_audit_verifier_free(w);
    }
    dgj_audit_verifier_feed(v, buf, len);
    dgj_audit_verifier_report(v, &rep);
    test_cond("audit-5.5: ... and the verifier refuses it",
              test_bad_at(rep, 5, "re-sealed"));
    dgj_audit_verifier_free(v);

    dgj_audit_chain_free(&a);
    dgj_audit_chain_free(&b);
    free(log);
}


/* appends head bytes of one line and (b != NULL) all of another after
 * them: what a write cut short leaves, and the next write on from there */
static void
test_append(test_log_t *log, const char *a, size_t head, const char *b,
    size_t blen)
{
    memcpy(log->text[log->n], a, head);

    if (b != NULL) {
        memcpy(log->text[log->n] + head, b, blen);
    }

    log->len[log->n++] = head + (b ? blen : 0);
}


/* a's lines 0..8; its line "cut" cut to head bytes with b's line 0 after
 * it, then b's other lines; a's line 10 last when a_after */
static void
test_torn_log(test_log_t *log, test_log_t *a, test_log_t *b, size_t cut,
    size_t head, int a_after)
{
    size_t  i;

    log->n = 0;

    for (i = 0; i < 9; i++) {
        test_append(log, a->text[i], a->len[i], NULL, 0);
    }

    test_append(log, a->text[cut], head, b->text[0], b->len[0]);

    for (i = 1; i < b->n; i++) {
        test_append(log, b->text[i], b->len[i], NULL, 0);
    }

    if (a_after) {
        test_append(log, a->text[10], a->len[10], NULL, 0);
    }
}


/* what a worker killed inside write() leaves: the head of a line, and the
 * next worker's line written on right after it */
static void
test_torn(void)
{
    size_t                  i;
    test_log_t             *a, *b, *log;
    dgj_audit_report_t      rep;
    dgj_audit_verifier_t   *v;
    dgj_audit_chain_info_t  info, ia;

    a = malloc(sizeof(test_log_t));
    b = malloc(sizeof(test_log_t));
    log = malloc(sizeof(test_log_t));

    /* a: 0 start, 1..5 rec, 6 ckpt, 7..10 rec, no stop (its worker died);
     * b: the same with a stop line */
    a->n = 0;
    test_chain(a, "node-1.w0.a", 2, 2, 9, 0);
    b->n = 0;
    test_chain(b, "node-1.w1.b", 2, 2, 9, 1);

    test_torn_log(log, a, b, 9, 100, 0);

    v = dgj_audit_verifier_new(verify_path, pub_path, err, sizeof(err));
    for (i = 0; i < log->n; i++) {
        dgj_audit_verifier_feed(v, log->text[i], log->len[i]);
    }

    dgj_audit_verifier_finish(v, 0);
    dgj_audit_verifier_report(v, &rep);
    memset(&ia, 0, sizeof(ia));
    memset(&info, 0, sizeof(info));
    dgj_audit_verifier_chain(v, 0, &ia);
    dgj_audit_verifier_chain(v, 1, &info);
    dgj_audit_verifier_free(v);

    test_cond("torn-1.1: a dead writer's cut line, the next one written on "
              "after it: verifies", rep.ok && rep.torn == 1);
    test_cond("torn-1.2: the line written on after it is verified too",
              rep.records == 9 + b->n && strcmp(info.id, "node-1.w1.b") == 0
              && info.lines == b->n && info.stopped);
    test_cond("torn-1.3: the dead chain ends before its cut line, marked",
              strcmp(ia.id, "node-1.w0.a") == 0 && ia.last_seq == 8
              && ia.torn && !info.torn);
    test_cond("torn-1.4: the next line's head is found after the cut one",
              dgj_audit_line_resume(log->text[9], log->len[9]) == 100
              && dgj_audit_line_resume(a->text[3], a->len[3]) == 0
              && dgj_audit_line_resume("{\"t\":\"", 6) == 0);

    test_torn_log(log, a, b, 9, 100, 1);
    test_cond("torn-1.5: a cut line whose chain goes on is damage, at its "
              "seq", test_bad_at(test_verify(log), 9,
                                 "yet the chain goes on"));

    test_torn_log(log, a, b, 10, 100, 0);
    test_cond("torn-1.6: the head of a later line (seq 10 after 8) is not "
              "a death", test_bad_at(test_verify(log), 9,
                                     "not an audit line"));

    /* cut before its chain id: whose it was is unknown, and its chain
     * cannot go on without a gap */
    test_torn_log(log, a, b, 9, 15, 0);
    rep = test_verify(log);
    test_cond("torn-1.7: a head cut before its chain id verifies",
              rep.ok && rep.torn == 1);
    test_torn_log(log, a, b, 9, 15, 1);
    test_cond("torn-1.8: ... but its chain going on shows the gap",
              test_bad_at(test_verify(log), 9, "gap: expected 9"));

    /* as short a head as can be */
    test_torn_log(log, a, b, 9, 4, 0);
    rep = test_verify(log);
    test_cond("torn-1.9a: a head of 4 bytes verifies",
              rep.ok && rep.torn == 1 && rep.records == 9 + b->n);

    /* the id is read from the head only: the line written on after it
     * belongs to a chain already seen, which goes on */
    log->n = 0;
    for (i = 0; i < 9; i++) {
        test_append(log, a->text[i], a->len[i], NULL, 0);
    }

    for (i = 0; i < 3; i++) {
        test_append(log, b->text[i], b->len[i], NULL, 0);
    }

    test_append(log, a->text[9], 15, b->text[3], b->len[3]);

    for (i = 4; i < b->n; i++) {
        test_append(log, b->text[i], b->len[i], NULL, 0);
    }

    rep = test_verify_range(log, 0, 0);
    test_cond("torn-1.9: a head cut before its id is not taken for the "
              "chain written on after it", rep.ok && rep.torn == 1);

    /* the last bytes of a file: a head with nothing after it */
    test_torn_log(log, a, b, 9, 0, 0);
    test_append(log, a->text[9], 100, NULL, 0);
    rep = test_verify(log);
    test_cond("torn-1.10: a head at the end of the data verifies",
              rep.ok && rep.torn == 1 && rep.records == 9 + b->n + 1);

    /* a stopped chain has no death left to cut a line */
    test_append(b, b->text[3], 100, NULL, 0);
    test_cond("torn-1.11: a head after the stop line is damage",
              test_bad_at(test_verify(b), 12, "not an audit line"));

    free(a);
    free(b);
    free(log);
}


static void
test_fields(void)
{
    char         out[256];
    const char  *l = "{\"t\":\"rec\",\"ua\":\"a\\\"b\\u00e9\\n\",\"uid\":null,"
                     "\"status\":200,\"mac\":\"00\"}\n";

    test_cond("audit-6.1: a string field, unescaped",
              dgj_audit_line_field(l, strlen(l), "ua", out, sizeof(out)) == 1
              && strcmp(out, "a\"b\xc3\xa9\n") == 0);
    test_cond("audit-6.2: a number; null; absent",
              dgj_audit_line_field(l, strlen(l), "status", out, sizeof(out))
              == 1 && strcmp(out, "200") == 0
              && dgj_audit_line_field(l, strlen(l), "uid", out, sizeof(out))
                 == 0
              && dgj_audit_line_field(l, strlen(l), "x", out, sizeof(out))
                 == 0);
    test_cond("audit-6.3: malformed",
              dgj_audit_line_field("{\"t\":\"rec", 9, "t", out, sizeof(out))
              == -1);
}


int
main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/dgj-test-audit.%ld", (long) getpid());
    mkdir(dir, 0700);

    test_keys(DGJ_AUDIT_SHA256);
    test_key_files();
    test_hmac();
    test_time();
    test_tamper();
    test_more();
    test_torn();
    test_fields();

    /* the same checks hold with SM3 */
    test_keys(DGJ_AUDIT_SM3);
    {
        test_log_t  *log = malloc(sizeof(test_log_t));

        log->n = 0;
        test_chain(log, "sm3.a", 1, 1, 5, 1);
        test_cond("audit-7.1: an SM3 chain verifies", test_verify(log).ok);
        log->text[2][30] ^= 1;
        test_cond("audit-7.2: and a flipped byte is found",
                  test_verify(log).ok == 0 && test_verify(log).bad_seq == 2);
        free(log);
    }

    unlink(verify_path);
    unlink(pub_path);
    unlink(epoch_path);
    {
        char  lock[320];

        snprintf(lock, sizeof(lock), "%s.lock", epoch_path);
        unlink(lock);
    }
    rmdir(dir);
    dgj_audit_sign_key_free(priv);

    return test_report();
}
