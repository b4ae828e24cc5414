
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_chain.c: epoch keys, the chain's HMAC, checkpoints, the writer
 * and the verifier of the audit log (dgj_audit_chain.h has the format).
 * The writer allocates only libcrypto contexts, once per chain and epoch;
 * the verifier grows its chain table and epoch-key cache as it goes.
 */


/* SHA256_Init and friends, deprecated in OpenSSL 3 but kept by it: for the
 * record MAC, whose two EVP_MD_CTX copies allocate and free a provider
 * context each (dgj_audit_hmac) */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "dgj_audit_chain.h"
#include "dgj_digits.h"


#define DGJ_AUDIT_KEYFILE_MAX  4096
#define DGJ_AUDIT_BLOCK        64       /* SHA-256 and SM3 block size */
#define DGJ_AUDIT_EVOLVE       "dgj-audit-evolve/1"
#define DGJ_AUDIT_CKPT_MAGIC   "dgj-audit-checkpoint/1"
#define DGJ_AUDIT_MAX_EPOCHS   10000000


/* a verifier's view of one chain */
typedef struct {
    dgj_audit_chain_info_t  info;
    uint64_t                ep;
    unsigned char           prev[DGJ_AUDIT_MAC_LEN];
    char                    after[DGJ_AUDIT_CHAIN_MAX + 1];
    uint64_t                after_seq;
    uint64_t                torn_line;      /* of its cut-short line */
} dgj_audit_vchain_t;


struct dgj_audit_verifier_s {
    dgj_audit_key_t         k0;
    unsigned char          *keys;           /* K_0 .. K_{nkeys-1} */
    size_t                  nkeys;
    size_t                  keys_cap;
    dgj_audit_hmac_t        hmac;
    uint64_t                hmac_ep;
    int                     hmac_set;
    void                   *pub;
    dgj_audit_vchain_t     *chains;
    size_t                  nchains;
    size_t                  chains_cap;
    uint32_t               *index;          /* open addressing, i + 1 */
    size_t                  index_size;     /* a power of two */
    size_t                  last;           /* chain of the previous line */
    uint64_t                max_epoch;
    dgj_audit_report_t      rep;
};


/* the fields the verifier reads from a line */
typedef struct {
    const char             *t;
    size_t                  t_len;
    const char             *c;
    size_t                  c_len;
    uint64_t                seq;
    uint64_t                ep;
    const char             *time;
    size_t                  time_len;
    const char             *head;
    size_t                  head_len;
    const char             *sig;
    size_t                  sig_len;
    const char             *after;
    size_t                  after_len;
    uint64_t                after_seq;
    unsigned                have;           /* DGJ_AUDIT_F_* */
} dgj_audit_fields_t;

#define DGJ_AUDIT_F_SEQ    0x01
#define DGJ_AUDIT_F_EP     0x02
#define DGJ_AUDIT_F_ASEQ   0x04


static const EVP_MD *dgj_audit_md(dgj_audit_alg_e alg);
static int dgj_audit_evolve(dgj_audit_alg_e alg, unsigned char *key);
static int dgj_audit_read_file(const char *path, char *buf, size_t size,
    size_t *len, char *err, size_t errlen);
static int dgj_audit_id_is_valid(const char *p, size_t len);
static int dgj_audit_sign(void *pkey, const char *msg, size_t len,
    unsigned char *sig);
static int dgj_audit_sig_verify(void *pkey, const char *msg, size_t len,
    const unsigned char *sig);
static int dgj_audit_next_field(const char **pp, const char *last,
    const char **key, size_t *klen, const char **val, size_t *vlen,
    int *is_str);
static int dgj_audit_parse_u64(const char *p, size_t len, uint64_t *v);
static int dgj_audit_parse_line(const char *line, size_t len,
    dgj_audit_fields_t *f);
static int dgj_audit_tail_mac(const char *line, size_t len,
    unsigned char *mac);
static int64_t dgj_audit_days_from_civil(int64_t y, unsigned m, unsigned d);
static dgj_audit_vchain_t *dgj_audit_vchain_find(dgj_audit_verifier_t *v,
    const char *id, size_t len);
static dgj_audit_vchain_t *dgj_audit_vchain_add(dgj_audit_verifier_t *v,
    const char *id, size_t len);
static const unsigned char *dgj_audit_epoch_key(dgj_audit_verifier_t *v,
    uint64_t ep);
static int dgj_audit_verifier_torn(dgj_audit_verifier_t *v,
    const char *line, size_t len, size_t n);
static int dgj_audit_fail(dgj_audit_verifier_t *v, const char *chain,
    size_t chain_len, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int dgj_audit_is(const char *p, size_t len, const char *s);


static const char  *dgj_audit_alg_names[] = { "sha256", "sm3" };


const char *
dgj_audit_alg_name(dgj_audit_alg_e alg)
{
    return dgj_audit_alg_names[alg == DGJ_AUDIT_SM3];
}


int
dgj_audit_key_parse(dgj_audit_key_t *k, const char *text, size_t len,
    char *err, size_t errlen)
{
    char        line[256], name[32], value[128];
    size_t      i, n, lineno;
    unsigned    seen;
    long long   ll;
    const char *p, *last, *eol;

    memset(k, 0, sizeof(dgj_audit_key_t));
    seen = 0;
    lineno = 0;
    p = text;
    last = text + len;

    while (p < last) {
        lineno++;
        eol = memchr(p, '\n', last - p);
        n = (eol ? eol : last) - p;
        i = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
        memcpy(line, p, i);
        line[i] = '\0';
        p += n + (eol != NULL);

        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }

        if (n >= sizeof(line) - 1
            || sscanf(line, "%31s %127s", name, value) != 2)
        {
            snprintf(err, errlen, "line %zu: expected \"name value\"",
                     lineno);
            goto failed;
        }

        if (strcmp(name, "dgj-audit-key") == 0) {
            if (strcmp(value, "1") != 0) {
                snprintf(err, errlen, "line %zu: unknown version", lineno);
                goto failed;
            }

            seen |= 1;

        } else if (strcmp(name, "alg") == 0) {
            if (strcmp(value, "sha256") == 0) {
                k->alg = DGJ_AUDIT_SHA256;

            } else if (strcmp(value, "sm3") == 0) {
                k->alg = DGJ_AUDIT_SM3;

            } else {
                snprintf(err, errlen, "line %zu: alg is sha256 or sm3",
                         lineno);
                goto failed;
            }

            seen |= 2;

        } else if (strcmp(name, "t0") == 0
                   || strcmp(name, "epoch_len") == 0
                   || strcmp(name, "epoch") == 0)
        {
            if (sscanf(value, "%lld%n", &ll, (int *) &i) != 1
                || value[i] != '\0' || ll < 0
                || (name[0] == 'e' && name[5] == '_'
                    && (ll < 1 || ll > 86400 * 366)))
            {
                snprintf(err, errlen, "line %zu: bad %s", lineno, name);
                goto failed;
            }

            if (name[0] == 't') {
                k->t0 = ll;
                seen |= 4;

            } else if (name[5] == '_') {
                k->epoch_len = ll;
                seen |= 8;

            } else {
                k->epoch = (uint64_t) ll;
                seen |= 16;
            }

        } else if (strcmp(name, "key") == 0) {
            if (strlen(value) != 2 * DGJ_AUDIT_KEY_LEN
                || dgj_audit_unhex(value, 2 * DGJ_AUDIT_KEY_LEN, k->key) != 0)
            {
                snprintf(err, errlen, "line %zu: key is %d hex digits",
                         lineno, 2 * DGJ_AUDIT_KEY_LEN);
                goto failed;
            }

            seen |= 32;

        } else {
            snprintf(err, errlen, "line %zu: unknown name \"%s\"", lineno,
                     name);
            goto failed;
        }
    }

    if (seen != 63) {
        snprintf(err, errlen, "missing one of dgj-audit-key, alg, t0, "
                 "epoch_len, epoch, key");
        goto failed;
    }

    OPENSSL_cleanse(line, sizeof(line));
    OPENSSL_cleanse(value, sizeof(value));
    return 0;

failed:

    OPENSSL_cleanse(line, sizeof(line));
    OPENSSL_cleanse(value, sizeof(value));
    dgj_audit_key_erase(k);
    return -1;
}


int
dgj_audit_key_load(dgj_audit_key_t *k, const char *path, char *err,
    size_t errlen)
{
    int     rc;
    char    buf[DGJ_AUDIT_KEYFILE_MAX], sub[200];
    size_t  len;

    if (dgj_audit_read_file(path, buf, sizeof(buf), &len, err, errlen)
        != 0)
    {
        memset(k, 0, sizeof(dgj_audit_key_t));
        return -1;
    }

    rc = dgj_audit_key_parse(k, buf, len, sub, sizeof(sub));
    OPENSSL_cleanse(buf, len);

    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, sub);
    }

    return rc;
}


int
dgj_audit_key_save(const dgj_audit_key_t *k, const char *path, char *err,
    size_t errlen)
{
    int      fd, n, ok;
    char     tmp[4096], text[512], hex[2 * DGJ_AUDIT_KEY_LEN + 1];

    n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());
    if (n < 0 || (size_t) n >= sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }

    dgj_audit_hex(k->key, DGJ_AUDIT_KEY_LEN, hex);
    hex[2 * DGJ_AUDIT_KEY_LEN] = '\0';

    n = snprintf(text, sizeof(text),
                 "# dgj audit epoch key (docs/audit.md); rewritten as the "
                 "epochs pass\n"
                 "dgj-audit-key 1\nalg %s\nt0 %lld\nepoch_len %lld\n"
                 "epoch %llu\nkey %s\n",
                 dgj_audit_alg_name(k->alg), (long long) k->t0,
                 (long long) k->epoch_len, (unsigned long long) k->epoch,
                 hex);
    OPENSSL_cleanse(hex, sizeof(hex));

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        OPENSSL_cleanse(text, sizeof(text));
        return -1;
    }

    ok = write(fd, text, n) == n && fsync(fd) == 0;
    OPENSSL_cleanse(text, sizeof(text));

    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }

    return 0;
}


int
dgj_audit_key_generate(dgj_audit_key_t *k, dgj_audit_alg_e alg, int64_t t0,
    int64_t epoch_len)
{
    memset(k, 0, sizeof(dgj_audit_key_t));
    k->alg = alg;
    k->t0 = t0;
    k->epoch_len = epoch_len;

    return RAND_priv_bytes(k->key, DGJ_AUDIT_KEY_LEN) == 1 ? 0 : -1;
}


uint64_t
dgj_audit_epoch_of(const dgj_audit_key_t *k, int64_t sec)
{
    if (sec <= k->t0 || k->epoch_len <= 0) {
        return 0;
    }

    return (uint64_t) ((sec - k->t0) / k->epoch_len);
}


int
dgj_audit_key_advance(dgj_audit_key_t *k, uint64_t epoch)
{
    if (epoch < k->epoch || epoch - k->epoch > DGJ_AUDIT_MAX_EPOCHS) {
        return -1;
    }

    while (k->epoch < epoch) {
        if (dgj_audit_evolve(k->alg, k->key) != 0) {
            return -1;
        }

        k->epoch++;
    }

    return 0;
}


int
dgj_audit_key_sync(dgj_audit_key_t *k, const char *path, uint64_t epoch,
    char *err, size_t errlen)
{
    int              fd, rc, exists;
    char             lock[4096];
    dgj_audit_key_t  f, t;

    if ((size_t) snprintf(lock, sizeof(lock), "%s.lock", path)
        >= sizeof(lock))
    {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }

    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1) {
        snprintf(err, errlen, "%s: %s", lock, strerror(errno));
        return -1;
    }

    while (flock(fd, LOCK_EX) == -1) {
        if (errno != EINTR) {
            snprintf(err, errlen, "%s: flock: %s", lock, strerror(errno));
            close(fd);
            return -1;
        }
    }

    rc = -1;
    exists = access(path, F_OK) == 0;

    if (exists) {
        if (dgj_audit_key_load(&f, path, err, errlen) != 0) {
            goto done;
        }

        if (f.alg != k->alg || f.t0 != k->t0
            || f.epoch_len != k->epoch_len)
        {
            snprintf(err, errlen, "%s: key of another log (alg, t0 or "
                     "epoch_len differ)", path);
            goto done;
        }

        /* each side moves forward to the other; both must then agree */
        if (f.epoch > epoch) {
            epoch = f.epoch;
        }

        t = f;

        if (dgj_audit_key_advance(&t, epoch > k->epoch ? epoch : k->epoch)
            != 0
            || dgj_audit_key_advance(k, t.epoch) != 0)
        {
            snprintf(err, errlen, "%s: cannot advance the epoch key",
                     path);
            goto done;
        }

        if (CRYPTO_memcmp(t.key, k->key, DGJ_AUDIT_KEY_LEN) != 0) {
            snprintf(err, errlen, "%s: the file's key does not follow "
                     "this one", path);
            goto done;
        }

    } else if (dgj_audit_key_advance(k, epoch > k->epoch ? epoch : k->epoch)
               != 0)
    {
        snprintf(err, errlen, "cannot advance the epoch key");
        goto done;
    }

    rc = 0;

    if (!exists || f.epoch < k->epoch) {
        rc = dgj_audit_key_save(k, path, err, errlen);
    }

done:

    if (exists) {
        dgj_audit_key_erase(&f);
        dgj_audit_key_erase(&t);
    }

    flock(fd, LOCK_UN);
    close(fd);

    return rc;
}


void
dgj_audit_key_erase(dgj_audit_key_t *k)
{
    OPENSSL_cleanse(k->key, DGJ_AUDIT_KEY_LEN);
}


int
dgj_audit_hmac_init(dgj_audit_hmac_t *h, dgj_audit_alg_e alg,
    const unsigned char *key)
{
    int             i, ok;
    SHA256_CTX     *st;
    const EVP_MD   *md;
    unsigned char   ipad[DGJ_AUDIT_BLOCK], opad[DGJ_AUDIT_BLOCK];

    /* RFC 2104 with a key shorter than the block: zero padded */
    memset(ipad, 0, sizeof(ipad));
    memcpy(ipad, key, DGJ_AUDIT_KEY_LEN);

    for (i = 0; i < DGJ_AUDIT_BLOCK; i++) {
        opad[i] = ipad[i] ^ 0x5c;
        ipad[i] ^= 0x36;
    }

    if (alg == DGJ_AUDIT_SHA256) {
        /* SHA-256 (the default): the two states as plain structs, copied
         * by assignment for each record (dgj_audit_hmac) */
        if (h->sha256 == NULL) {
            h->sha256 = malloc(2 * sizeof(SHA256_CTX));
        }

        st = h->sha256;

        ok = st != NULL
             && SHA256_Init(&st[0]) == 1
             && SHA256_Update(&st[0], ipad, DGJ_AUDIT_BLOCK) == 1
             && SHA256_Init(&st[1]) == 1
             && SHA256_Update(&st[1], opad, DGJ_AUDIT_BLOCK) == 1;

    } else {
        if (h->sha256 != NULL) {
            OPENSSL_cleanse(h->sha256, 2 * sizeof(SHA256_CTX));
            free(h->sha256);
            h->sha256 = NULL;
        }

        if (h->inner == NULL) {
            h->inner = EVP_MD_CTX_new();
            h->outer = EVP_MD_CTX_new();
            h->work = EVP_MD_CTX_new();
        }

        md = dgj_audit_md(alg);

        ok = md != NULL
             && h->inner != NULL && h->outer != NULL && h->work != NULL
             && EVP_DigestInit_ex(h->inner, md, NULL) == 1
             && EVP_DigestUpdate(h->inner, ipad, DGJ_AUDIT_BLOCK) == 1
             && EVP_DigestInit_ex(h->outer, md, NULL) == 1
             && EVP_DigestUpdate(h->outer, opad, DGJ_AUDIT_BLOCK) == 1;
    }

    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));

    return ok ? 0 : -1;
}


int
dgj_audit_hmac(dgj_audit_hmac_t *h, const void *a, size_t alen,
    const void *b, size_t blen, unsigned char *out)
{
    unsigned int    n;
    unsigned char   ih[EVP_MAX_MD_SIZE];
    SHA256_CTX      c, *st;

    if (h->sha256 != NULL) {
        st = h->sha256;

        c = st[0];
        SHA256_Update(&c, a, alen);
        SHA256_Update(&c, b, blen);
        SHA256_Final(ih, &c);

        c = st[1];
        SHA256_Update(&c, ih, DGJ_AUDIT_MAC_LEN);
        SHA256_Final(out, &c);

        OPENSSL_cleanse(&c, sizeof(c));

        return 0;
    }

    if (EVP_MD_CTX_copy_ex(h->work, h->inner) != 1
        || EVP_DigestUpdate(h->work, a, alen) != 1
        || EVP_DigestUpdate(h->work, b, blen) != 1
        || EVP_DigestFinal_ex(h->work, ih, &n) != 1
        || n != DGJ_AUDIT_MAC_LEN
        || EVP_MD_CTX_copy_ex(h->work, h->outer) != 1
        || EVP_DigestUpdate(h->work, ih, n) != 1
        || EVP_DigestFinal_ex(h->work, out, &n) != 1)
    {
        return -1;
    }

    return 0;
}


void
dgj_audit_hmac_free(dgj_audit_hmac_t *h)
{
    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    EVP_MD_CTX_free(h->work);
    h->inner = NULL;
    h->outer = NULL;
    h->work = NULL;

    if (h->sha256 != NULL) {
        OPENSSL_cleanse(h->sha256, 2 * sizeof(SHA256_CTX));
        free(h->sha256);
        h->sha256 = NULL;
    }
}


void *
dgj_audit_sign_key_load(const char *path, int private_key, char *err,
    size_t errlen)
{
    FILE      *f;
    EVP_PKEY  *pkey;

    f = fopen(path, "re");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }

    pkey = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                       : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);

    if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        snprintf(err, errlen, "%s: not an Ed25519 %s key in PEM", path,
                 private_key ? "private" : "public");
        EVP_PKEY_free(pkey);
        return NULL;
    }

    return pkey;
}


void
dgj_audit_sign_key_free(void *pkey)
{
    EVP_PKEY_free(pkey);
}


static char *
dgj_audit_cpy(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}


size_t
dgj_audit_time_format(const dgj_audit_time_t *t, char *buf)
{
    int                          off;
    char                        *p;
    time_t                       local;
    struct tm                    tm;
    /* the date and time of day up to the second, kept for the next call:
     * most records share their second with the record before (every
     * caller is single-threaded: an nginx worker, a FastCGI worker, a
     * tool) */
    static time_t                last = -1;
    static char                  head[19];

    local = (time_t) (t->sec + (int64_t) t->gmtoff * 60);
    off = t->gmtoff < 0 ? -t->gmtoff : t->gmtoff;

    if (local == last) {
        memcpy(buf, head, sizeof(head));
        p = buf + sizeof(head);
        goto fraction;
    }

    gmtime_r(&local, &tm);

    /* by hand, not snprintf: this runs for every request the module logs */
    p = dgj_digits(buf, (tm.tm_year + 1900) % 10000, 4);
    *p++ = '-';
    p = dgj_digits(p, tm.tm_mon + 1, 2);
    *p++ = '-';
    p = dgj_digits(p, tm.tm_mday, 2);
    *p++ = 'T';
    p = dgj_digits(p, tm.tm_hour, 2);
    *p++ = ':';
    p = dgj_digits(p, tm.tm_min, 2);
    *p++ = ':';
    p = dgj_digits(p, tm.tm_sec, 2);

    memcpy(head, buf, sizeof(head));
    last = local;

fraction:

    *p++ = '.';
    p = dgj_digits(p, t->msec % 1000, 3);
    *p++ = t->gmtoff < 0 ? '-' : '+';
    p = dgj_digits(p, (off / 60) % 100, 2);
    *p++ = ':';
    dgj_digits(p, off % 60, 2);

    return DGJ_AUDIT_TIME_LEN;
}


int
dgj_audit_time_parse(const char *p, size_t len, dgj_audit_time_t *t)
{
    int       i, v[9], off;
    size_t    pos;
    /* digits of each field and the separator after it */
    static const int   width[9] = { 4, 2, 2, 2, 2, 2, 3, 2, 2 };
    static const char  sep[9] = "--T::.\0:";

    if (len != DGJ_AUDIT_TIME_LEN) {
        return -1;
    }

    pos = 0;

    for (i = 0; i < 9; i++) {
        int  j;

        v[i] = 0;

        for (j = 0; j < width[i]; j++, pos++) {
            if (p[pos] < '0' || p[pos] > '9') {
                return -1;
            }

            v[i] = v[i] * 10 + (p[pos] - '0');
        }

        if (i == 6) {
            if (p[pos] != '+' && p[pos] != '-') {
                return -1;
            }

            pos++;

        } else if (i < 8) {
            if (p[pos] != sep[i]) {
                return -1;
            }

            pos++;
        }
    }

    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23
        || v[4] > 59 || v[5] > 60 || v[7] > 14 || v[8] > 59)
    {
        return -1;
    }

    off = v[7] * 60 + v[8];
    if (p[23] == '-') {
        off = -off;
    }

    t->sec = dgj_audit_days_from_civil(v[0], v[1], v[2]) * 86400
             + v[3] * 3600 + v[4] * 60 + v[5] - (int64_t) off * 60;
    t->msec = v[6];
    t->gmtoff = off;

    return 0;
}


size_t
dgj_audit_ckpt_text(char *buf, size_t size, const char *chain,
    uint64_t seq, const unsigned char *head, const char *time,
    size_t time_len)
{
    int   n;
    char  hex[2 * DGJ_AUDIT_MAC_LEN + 1];

    dgj_audit_hex(head, DGJ_AUDIT_MAC_LEN, hex);
    hex[2 * DGJ_AUDIT_MAC_LEN] = '\0';

    n = snprintf(buf, size, DGJ_AUDIT_CKPT_MAGIC "\n%s\n%llu\n%s\n%.*s\n",
                 chain, (unsigned long long) seq, hex, (int) time_len, time);

    return (n < 0 || (size_t) n >= size) ? 0 : (size_t) n;
}


size_t
dgj_audit_hex(const unsigned char *in, size_t len, char *out)
{
    size_t             i;
    static const char  digits[] = "0123456789abcdef";

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }

    return 2 * len;
}


int
dgj_audit_unhex(const char *in, size_t len, unsigned char *out)
{
    int     hi, lo;
    size_t  i;

    if (len % 2) {
        return -1;
    }

    for (i = 0; i < len; i += 2) {
        hi = in[i] >= '0' && in[i] <= '9' ? in[i] - '0'
             : in[i] >= 'a' && in[i] <= 'f' ? in[i] - 'a' + 10 : -1;
        lo = in[i + 1] >= '0' && in[i + 1] <= '9' ? in[i + 1] - '0'
             : in[i + 1] >= 'a' && in[i + 1] <= 'f' ? in[i + 1] - 'a' + 10
             : -1;

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[i / 2] = (unsigned char) (hi << 4 | lo);
    }

    return 0;
}


int
dgj_audit_chain_init(dgj_audit_chain_t *c, const char *id,
    const dgj_audit_key_t *key, void *sign)
{
    size_t  len;

    memset(c, 0, sizeof(dgj_audit_chain_t));

    len = strlen(id);
    if (len == 0 || len > DGJ_AUDIT_CHAIN_MAX
        || !dgj_audit_id_is_valid(id, len))
    {
        return -1;
    }

    memcpy(c->id, id, len);
    c->id_len = len;
    c->key = *key;
    c->sign = sign;

    if (dgj_audit_hmac_init(&c->hmac, key->alg, key->key) != 0) {
        dgj_audit_key_erase(&c->key);
        return -1;
    }

    return 0;
}


void
dgj_audit_chain_free(dgj_audit_chain_t *c)
{
    dgj_audit_hmac_free(&c->hmac);
    dgj_audit_key_erase(&c->key);
}


size_t
dgj_audit_chain_begin(dgj_audit_chain_t *c, char *buf, size_t size,
    const char *type, const dgj_audit_time_t *t)
{
    char    *p;
    size_t   tlen, clen;

    tlen = strlen(type);
    clen = c->id_len;

    /* {"t":"","c":"","seq":,"ep":,"time":""  and two numbers of 20 */
    if (size <= 37 + tlen + clen + 2 * 20 + DGJ_AUDIT_TIME_LEN) {
        return 0;
    }

    /* by hand, not snprintf: this runs for every request the module logs */
    p = buf;
    p = dgj_audit_cpy(p, "{\"t\":\"", 6);
    p = dgj_audit_cpy(p, type, tlen);
    p = dgj_audit_cpy(p, "\",\"c\":\"", 7);
    p = dgj_audit_cpy(p, c->id, clen);
    p = dgj_audit_cpy(p, "\",\"seq\":", 8);
    p = dgj_u64(p, c->seq);
    p = dgj_audit_cpy(p, ",\"ep\":", 6);
    p = dgj_u64(p, c->key.epoch);
    p = dgj_audit_cpy(p, ",\"time\":\"", 9);
    p += dgj_audit_time_format(t, p);
    *p++ = '"';

    return (size_t) (p - buf);
}


size_t
dgj_audit_chain_seal(dgj_audit_chain_t *c, char *line, size_t len,
    size_t size)
{
    char          *p;
    unsigned char  mac[DGJ_AUDIT_MAC_LEN];

    if (len == 0 || size < len + DGJ_AUDIT_TAIL_LEN + 1) {
        return 0;
    }

    if (dgj_audit_hmac(&c->hmac, c->prev, DGJ_AUDIT_MAC_LEN, line, len, mac)
        != 0)
    {
        return 0;
    }

    p = line + len;
    memcpy(p, ",\"mac\":\"", 8);
    p += 8;
    p += dgj_audit_hex(mac, DGJ_AUDIT_MAC_LEN, p);
    *p++ = '"';
    *p++ = '}';
    *p++ = '\n';

    memcpy(c->prev, mac, DGJ_AUDIT_MAC_LEN);
    c->seq++;

    return p - line;
}


size_t
dgj_audit_chain_start(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t, const char *node, long pid, long slot,
    const char *after, uint64_t after_seq)
{
    int     n;
    size_t  len;

    if (!dgj_audit_id_is_valid(node, strlen(node))
        || (after != NULL && !dgj_audit_id_is_valid(after, strlen(after))))
    {
        return 0;
    }

    len = dgj_audit_chain_begin(c, buf, size, "start", t);
    if (len == 0) {
        return 0;
    }

    if (after != NULL) {
        n = snprintf(buf + len, size - len,
                     ",\"alg\":\"%s\",\"node\":\"%s\",\"pid\":%ld,"
                     "\"slot\":%ld,\"after\":\"%s\",\"after_seq\":%llu",
                     dgj_audit_alg_name(c->key.alg), node, pid, slot, after,
                     (unsigned long long) after_seq);

    } else {
        n = snprintf(buf + len, size - len,
                     ",\"alg\":\"%s\",\"node\":\"%s\",\"pid\":%ld,"
                     "\"slot\":%ld,\"after\":null,\"after_seq\":null",
                     dgj_audit_alg_name(c->key.alg), node, pid, slot);
    }

    if (n < 0 || (size_t) n >= size - len) {
        return 0;
    }

    return dgj_audit_chain_seal(c, buf, len + n, size);
}


size_t
dgj_audit_chain_ckpt(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t)
{
    char           text[256], time[DGJ_AUDIT_TIME_LEN], *p;
    size_t         len, n;
    unsigned char  sig[DGJ_AUDIT_SIG_LEN];

    if (c->sign == NULL || c->seq == 0) {
        return 0;
    }

    dgj_audit_time_format(t, time);

    n = dgj_audit_ckpt_text(text, sizeof(text), c->id, c->seq - 1, c->prev,
                            time, DGJ_AUDIT_TIME_LEN);
    if (n == 0 || dgj_audit_sign(c->sign, text, n, sig) != 0) {
        return 0;
    }

    len = dgj_audit_chain_begin(c, buf, size, "ckpt", t);
    if (len == 0
        || size - len < 10 + 2 * DGJ_AUDIT_MAC_LEN + 9
                        + 2 * DGJ_AUDIT_SIG_LEN + 1)
    {
        return 0;
    }

    p = buf + len;
    memcpy(p, ",\"head\":\"", 9);
    p += 9;
    p += dgj_audit_hex(c->prev, DGJ_AUDIT_MAC_LEN, p);
    memcpy(p, "\",\"sig\":\"", 9);
    p += 9;
    p += dgj_audit_hex(sig, DGJ_AUDIT_SIG_LEN, p);
    *p++ = '"';

    return dgj_audit_chain_seal(c, buf, p - buf, size);
}


size_t
dgj_audit_chain_stop(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t)
{
    size_t  len;

    len = dgj_audit_chain_begin(c, buf, size, "stop", t);

    return len ? dgj_audit_chain_seal(c, buf, len, size) : 0;
}


size_t
dgj_audit_chain_epoch(dgj_audit_chain_t *c, char *buf, size_t size,
    const dgj_audit_time_t *t, uint64_t epoch)
{
    int       n;
    size_t    len;
    uint64_t  from;

    from = c->key.epoch;

    if (epoch <= from
        || dgj_audit_key_advance(&c->key, epoch) != 0
        || dgj_audit_hmac_init(&c->hmac, c->key.alg, c->key.key) != 0)
    {
        return 0;
    }

    len = dgj_audit_chain_begin(c, buf, size, "epoch", t);
    if (len == 0) {
        return 0;
    }

    if (size - len < 40 + 2 * DGJ_AUDIT_MAC_LEN) {
        return 0;
    }

    n = snprintf(buf + len, size - len, ",\"from\":%llu,\"head\":\"",
                 (unsigned long long) from);
    n += dgj_audit_hex(c->prev, DGJ_AUDIT_MAC_LEN, buf + len + n);
    buf[len + n++] = '"';

    return dgj_audit_chain_seal(c, buf, len + n, size);
}


dgj_audit_verifier_t *
dgj_audit_verifier_new(const char *verify_key_file,
    const char *checkpoint_pub_file, char *err, size_t errlen)
{
    dgj_audit_verifier_t  *v;

    v = calloc(1, sizeof(dgj_audit_verifier_t));
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    if (dgj_audit_key_load(&v->k0, verify_key_file, err, errlen) != 0) {
        free(v);
        return NULL;
    }

    if (v->k0.epoch != 0) {
        snprintf(err, errlen, "%s: not a verify key (epoch %llu, not 0)",
                 verify_key_file, (unsigned long long) v->k0.epoch);
        dgj_audit_key_erase(&v->k0);
        free(v);
        return NULL;
    }

    v->pub = dgj_audit_sign_key_load(checkpoint_pub_file, 0, err, errlen);
    if (v->pub == NULL) {
        dgj_audit_key_erase(&v->k0);
        free(v);
        return NULL;
    }

    /* no line may claim an epoch later than tomorrow's */
    v->max_epoch = dgj_audit_epoch_of(&v->k0, (int64_t) time(NULL) + 86400);
    v->rep.ok = 1;

    return v;
}


int
dgj_audit_verifier_anchor(dgj_audit_verifier_t *v, const char *line,
    size_t len)
{
    dgj_audit_vchain_t  *ch;
    dgj_audit_fields_t   f;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }

    if (dgj_audit_parse_line(line, len, &f) != 0) {
        return -1;
    }

    ch = dgj_audit_vchain_find(v, f.c, f.c_len);
    if (ch == NULL) {
        ch = dgj_audit_vchain_add(v, f.c, f.c_len);
        if (ch == NULL) {
            return -1;
        }

        ch->info.first_seq = f.seq + 1;
    }

    if (dgj_audit_tail_mac(line, len, ch->prev) != 0) {
        return -1;
    }

    ch->info.last_seq = f.seq;
    ch->info.stopped = dgj_audit_is(f.t, f.t_len, "stop");
    ch->ep = f.ep;
    memcpy(ch->info.last_time, f.time, DGJ_AUDIT_TIME_LEN);

    return 0;
}


int
dgj_audit_verifier_feed(dgj_audit_verifier_t *v, const char *line,
    size_t len)
{
    int                   rc, fresh;
    const char           *why;
    dgj_audit_time_t      tm;
    dgj_audit_fields_t    f;
    dgj_audit_vchain_t   *ch;
    const unsigned char  *key;
    unsigned char         mac[DGJ_AUDIT_MAC_LEN], want[DGJ_AUDIT_MAC_LEN];
    unsigned char         head[DGJ_AUDIT_MAC_LEN], sig[DGJ_AUDIT_SIG_LEN];
    char                  text[256];
    size_t                n, cut;
    uint64_t              lo, hi;
    const char           *p, *q;

    v->rep.records++;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }

    if (len > DGJ_AUDIT_LINE_MAX) {
        return dgj_audit_fail(v, NULL, 0, 0, "line %llu: longer than %d "
                              "bytes", (unsigned long long) v->rep.records,
                              DGJ_AUDIT_LINE_MAX);
    }

    if (dgj_audit_parse_line(line, len, &f) != 0
        || dgj_audit_time_parse(f.time, f.time_len, &tm) != 0
        || dgj_audit_tail_mac(line, len, mac) != 0)
    {
        /* a line's head, however short, and what follows it */
        n = dgj_audit_line_resume(line, len);
        cut = n ? n : len;

        if (cut > 0 && memcmp(line, "{\"t\":\"", cut < 6 ? cut : 6) == 0) {
            return dgj_audit_verifier_torn(v, line, len, n);
        }

        /* whose line it was, if its head is still there */
        ch = NULL;
        p = NULL;

        for (n = 0; n + 6 < len && n < 80; n++) {
            if (memcmp(line + n, ",\"c\":\"", 6) == 0) {
                p = line + n;
                break;
            }
        }

        if (p != NULL) {
            p += 6;
            q = memchr(p, '"', line + len - p);

            if (q != NULL) {
                ch = dgj_audit_vchain_find(v, p, q - p);
            }
        }

        if (ch == NULL && v->nchains) {
            ch = &v->chains[v->last];
        }

        return dgj_audit_fail(v, ch ? ch->info.id : NULL,
                              ch ? strlen(ch->info.id) : 0,
                              ch ? ch->info.last_seq + 1 : 0,
                              "line %llu: not an audit line (damaged or "
                              "cut short)",
                              (unsigned long long) v->rep.records);
    }

    rc = 0;
    fresh = 0;
    ch = dgj_audit_vchain_find(v, f.c, f.c_len);

    if (ch != NULL && ch->info.torn) {
        return dgj_audit_fail(v, f.c, f.c_len, ch->info.last_seq + 1,
                              "line %llu: cut short, yet the chain goes "
                              "on: damaged, not a writer's death",
                              (unsigned long long) ch->torn_line);
    }

    if (ch == NULL) {
        /* a chain begins with its start line, or (a file that starts
         * mid-chain) with a checkpoint that pins the head before it */
        if (dgj_audit_is(f.t, f.t_len, "start") && f.seq == 0) {
            ch = dgj_audit_vchain_add(v, f.c, f.c_len);
            if (ch == NULL) {
                return dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                      "out of memory");
            }

            ch->info.started = 1;
            ch->ep = f.ep;

        } else if ((dgj_audit_is(f.t, f.t_len, "ckpt")
                    || dgj_audit_is(f.t, f.t_len, "epoch"))
                   && f.seq > 0
                   && f.head_len == 2 * DGJ_AUDIT_MAC_LEN
                   && dgj_audit_unhex(f.head, f.head_len, head) == 0)
        {
            ch = dgj_audit_vchain_add(v, f.c, f.c_len);
            if (ch == NULL) {
                return dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                      "out of memory");
            }

            memcpy(ch->prev, head, DGJ_AUDIT_MAC_LEN);
            ch->ep = f.ep;

        } else {
            return dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                  "no start line or checkpoint of this "
                                  "chain before seq %llu (spliced, or the "
                                  "lines before it are missing)",
                                  (unsigned long long) f.seq);
        }

        ch->info.first_seq = f.seq;
        ch->info.last_seq = f.seq - 1;
        fresh = 1;
    }

    v->last = ch - v->chains;

    if (!fresh) {
        if (ch->info.stopped) {
            rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                "line after the chain's stop line");

        } else if (f.seq != ch->info.last_seq + 1) {
            if (f.seq <= ch->info.last_seq) {
                rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                    "seq %llu out of order or repeated "
                                    "(after %llu)",
                                    (unsigned long long) f.seq,
                                    (unsigned long long) ch->info.last_seq);

            } else {
                rc = dgj_audit_fail(v, f.c, f.c_len, ch->info.last_seq + 1,
                                    "gap: expected %llu, found %llu",
                                    (unsigned long long)
                                        ch->info.last_seq + 1,
                                    (unsigned long long) f.seq);
            }

        } else if (f.ep < ch->ep) {
            rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                "epoch goes back from %llu to %llu",
                                (unsigned long long) ch->ep,
                                (unsigned long long) f.ep);

        } else if (f.ep != ch->ep && !dgj_audit_is(f.t, f.t_len, "epoch")) {
            rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                "epoch changes without an epoch line");

        } else if (dgj_audit_is(f.t, f.t_len, "epoch") && f.ep == ch->ep) {
            rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                "epoch line does not change the epoch");

        } else if (dgj_audit_is(f.t, f.t_len, "start")) {
            rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                "start line inside a chain");
        }
    }

    /* the CVE-2023-31439 lesson: a line's key must be that of its time */
    lo = dgj_audit_epoch_of(&v->k0, tm.sec);
    hi = dgj_audit_epoch_of(&v->k0, tm.sec + DGJ_AUDIT_SKEW);

    if (rc == 0 && f.ep > v->max_epoch) {
        rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                            "epoch %llu is in the future",
                            (unsigned long long) f.ep);
    }

    if (rc == 0 && (f.ep < lo || f.ep > hi)) {
        rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                            "sealed with the key of epoch %llu, but its "
                            "time is in epoch %llu (re-sealed?)",
                            (unsigned long long) f.ep,
                            (unsigned long long) lo);
    }

    if (rc == 0) {
        key = dgj_audit_epoch_key(v, f.ep);

        if (key == NULL) {
            rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                "cannot derive the key of epoch %llu",
                                (unsigned long long) f.ep);

        } else {
            if (!v->hmac_set || v->hmac_ep != f.ep) {
                v->hmac_set = dgj_audit_hmac_init(&v->hmac, v->k0.alg, key)
                              == 0;
                v->hmac_ep = f.ep;
            }

            if (!v->hmac_set
                || dgj_audit_hmac(&v->hmac, ch->prev, DGJ_AUDIT_MAC_LEN,
                                  line, len - DGJ_AUDIT_TAIL_LEN, want)
                   != 0)
            {
                rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                    "libcrypto failed");

            } else if (CRYPTO_memcmp(want, mac, DGJ_AUDIT_MAC_LEN) != 0) {
                rc = dgj_audit_fail(v, f.c, f.c_len, f.seq,
                                    "mac mismatch (line altered, or "
                                    "sealed with another key)");
            }
        }
    }

    if (rc == 0 && dgj_audit_is(f.t, f.t_len, "ckpt")) {
        why = NULL;

        if (f.head_len != 2 * DGJ_AUDIT_MAC_LEN
            || f.sig_len != 2 * DGJ_AUDIT_SIG_LEN
            || dgj_audit_unhex(f.head, f.head_len, head) != 0
            || dgj_audit_unhex(f.sig, f.sig_len, sig) != 0)
        {
            why = "checkpoint without head or signature";

        } else if (CRYPTO_memcmp(head, ch->prev, DGJ_AUDIT_MAC_LEN) != 0) {
            why = "checkpoint head is not the chain's head";

        } else {
            char  cid[DGJ_AUDIT_CHAIN_MAX + 1];

            memcpy(cid, f.c, f.c_len);
            cid[f.c_len] = '\0';

            n = dgj_audit_ckpt_text(text, sizeof(text), cid, f.seq - 1,
                                    head, f.time, f.time_len);

            if (n == 0 || dgj_audit_sig_verify(v->pub, text, n, sig) != 0) {
                why = "bad checkpoint signature";
            }
        }

        if (why != NULL) {
            rc = dgj_audit_fail(v, f.c, f.c_len, f.seq, "%s", why);

        } else {
            ch->info.checkpoints++;
        }
    }

    if (dgj_audit_is(f.t, f.t_len, "start") && f.after != NULL) {
        n = f.after_len < DGJ_AUDIT_CHAIN_MAX ? f.after_len
                                              : DGJ_AUDIT_CHAIN_MAX;
        memcpy(ch->after, f.after, n);
        ch->after[n] = '\0';
        ch->after_seq = f.after_seq;
    }

    /* follow the line even when it was bad: one damaged line, one report */
    memcpy(ch->prev, mac, DGJ_AUDIT_MAC_LEN);
    ch->info.last_seq = f.seq;
    ch->info.lines++;
    ch->ep = f.ep;
    memcpy(ch->info.last_time, f.time, DGJ_AUDIT_TIME_LEN);

    if (dgj_audit_is(f.t, f.t_len, "stop")) {
        ch->info.stopped = 1;
    }

    return rc;
}


int
dgj_audit_verifier_finish(dgj_audit_verifier_t *v, int closed)
{
    int                  rc;
    size_t               i;
    dgj_audit_vchain_t  *ch, *pred;

    rc = 0;

    for (i = 0; i < v->nchains; i++) {
        ch = &v->chains[i];

        if (ch->after[0] == '\0') {
            continue;
        }

        pred = dgj_audit_vchain_find(v, ch->after, strlen(ch->after));
        if (pred == NULL) {
            continue;
        }

        memcpy(pred->info.successor, ch->info.id, DGJ_AUDIT_CHAIN_MAX + 1);

        if (pred->info.last_seq < ch->after_seq) {
            rc = dgj_audit_fail(v, pred->info.id, strlen(pred->info.id),
                                pred->info.last_seq + 1,
                                "truncated: the chain ends at seq %llu, "
                                "but %s, which followed it, saw seq %llu",
                                (unsigned long long) pred->info.last_seq,
                                ch->info.id,
                                (unsigned long long) ch->after_seq);
        }
    }

    for (i = 0; closed && i < v->nchains; i++) {
        ch = &v->chains[i];

        if (!ch->info.stopped && ch->info.successor[0] == '\0') {
            rc = dgj_audit_fail(v, ch->info.id, strlen(ch->info.id),
                                ch->info.last_seq + 1,
                                "truncated: the chain ends at seq %llu "
                                "without a stop line",
                                (unsigned long long) ch->info.last_seq);
        }
    }

    return rc;
}


void
dgj_audit_verifier_report(const dgj_audit_verifier_t *v,
    dgj_audit_report_t *rep)
{
    *rep = v->rep;
}


int
dgj_audit_verifier_chain(const dgj_audit_verifier_t *v, size_t i,
    dgj_audit_chain_info_t *info)
{
    if (i >= v->nchains) {
        return -1;
    }

    *info = v->chains[i].info;

    return 0;
}


void
dgj_audit_verifier_free(dgj_audit_verifier_t *v)
{
    if (v == NULL) {
        return;
    }

    if (v->keys != NULL) {
        OPENSSL_cleanse(v->keys, v->keys_cap * DGJ_AUDIT_KEY_LEN);
        free(v->keys);
    }

    dgj_audit_key_erase(&v->k0);
    dgj_audit_hmac_free(&v->hmac);
    dgj_audit_sign_key_free(v->pub);
    free(v->chains);
    free(v->index);
    free(v);
}


int
dgj_audit_line_field(const char *line, size_t len, const char *key,
    char *out, size_t outsz)
{
    int          is_str;
    size_t       klen, n, vlen, o;
    unsigned     cp, lo;
    const char  *p, *last, *k, *val, *q, *qe;

    p = line;
    last = line + len;
    klen = strlen(key);

    while (len > 0 && (last[-1] == '\n' || last[-1] == '\r')) {
        last--;
        len--;
    }

    if (len < 2 || *p != '{') {
        return -1;
    }

    p++;

    for ( ;; ) {
        switch (dgj_audit_next_field(&p, last, &k, &n, &val, &vlen,
                                     &is_str))
        {
        case 0:
            return 0;
        case -1:
            return -1;
        }

        if (n != klen || memcmp(k, key, klen) != 0) {
            continue;
        }

        if (!is_str && vlen == 4 && memcmp(val, "null", 4) == 0) {
            return 0;
        }

        o = 0;
        qe = val + vlen;

        for (q = val; q < qe; q++) {
            if (o + 5 >= outsz) {
                return -1;
            }

            if (!is_str || *q != '\\') {
                out[o++] = *q;
                continue;
            }

            if (++q == qe) {
                return -1;
            }

            switch (*q) {
            case 'n': out[o++] = '\n'; break;
            case 'r': out[o++] = '\r'; break;
            case 't': out[o++] = '\t'; break;
            case 'b': out[o++] = '\b'; break;
            case 'f': out[o++] = '\f'; break;
            case 'u':
                if (qe - q < 5 || sscanf(q + 1, "%4x", &cp) != 1) {
                    return -1;
                }

                q += 4;

                if (cp >= 0xd800 && cp < 0xdc00 && qe - q >= 7
                    && q[1] == '\\' && q[2] == 'u'
                    && sscanf(q + 3, "%4x", &lo) == 1
                    && lo >= 0xdc00 && lo < 0xe000)
                {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    q += 6;
                }

                if (cp < 0x80) {
                    out[o++] = (char) cp;

                } else if (cp < 0x800) {
                    out[o++] = (char) (0xc0 | cp >> 6);
                    out[o++] = (char) (0x80 | (cp & 0x3f));

                } else if (cp < 0x10000) {
                    out[o++] = (char) (0xe0 | cp >> 12);
                    out[o++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                    out[o++] = (char) (0x80 | (cp & 0x3f));

                } else {
                    out[o++] = (char) (0xf0 | cp >> 18);
                    out[o++] = (char) (0x80 | ((cp >> 12) & 0x3f));
                    out[o++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                    out[o++] = (char) (0x80 | (cp & 0x3f));
                }

                break;
            default:
                out[o++] = *q;
            }
        }

        out[o] = '\0';
        return 1;
    }
}


static const EVP_MD *
dgj_audit_md(dgj_audit_alg_e alg)
{
    static const EVP_MD  *sha256, *sm3;

    if (alg == DGJ_AUDIT_SM3) {
        if (sm3 == NULL) {
            sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
        }

        return sm3;
    }

    if (sha256 == NULL) {
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    return sha256;
}


static int
dgj_audit_evolve(dgj_audit_alg_e alg, unsigned char *key)
{
    int            ok;
    unsigned int   n;
    EVP_MD_CTX    *ctx;
    unsigned char  next[EVP_MAX_MD_SIZE];

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    ok = EVP_DigestInit_ex(ctx, dgj_audit_md(alg), NULL) == 1
         && EVP_DigestUpdate(ctx, DGJ_AUDIT_EVOLVE,
                             sizeof(DGJ_AUDIT_EVOLVE) - 1) == 1
         && EVP_DigestUpdate(ctx, key, DGJ_AUDIT_KEY_LEN) == 1
         && EVP_DigestFinal_ex(ctx, next, &n) == 1
         && n == DGJ_AUDIT_KEY_LEN;

    EVP_MD_CTX_free(ctx);

    if (ok) {
        memcpy(key, next, DGJ_AUDIT_KEY_LEN);
    }

    OPENSSL_cleanse(next, sizeof(next));

    return ok ? 0 : -1;
}


static int
dgj_audit_read_file(const char *path, char *buf, size_t size, size_t *len,
    char *err, size_t errlen)
{
    int          fd;
    ssize_t      n;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }

    *len = 0;

    for ( ;; ) {
        n = read(fd, buf + *len, size - *len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
            close(fd);
            OPENSSL_cleanse(buf, *len);
            return -1;
        }

        if (n == 0) {
            break;
        }

        *len += n;

        if (*len == size) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path,
                     size - 1);
            close(fd);
            OPENSSL_cleanse(buf, *len);
            return -1;
        }
    }

    close(fd);

    return 0;
}


static int
dgj_audit_id_is_valid(const char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > DGJ_AUDIT_CHAIN_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '-'
              || p[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
dgj_audit_sign(void *pkey, const char *msg, size_t len, unsigned char *sig)
{
    int          ok;
    size_t       siglen;
    EVP_MD_CTX  *ctx;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    siglen = DGJ_AUDIT_SIG_LEN;
    ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1
         && EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *) msg,
                           len) == 1
         && siglen == DGJ_AUDIT_SIG_LEN;

    EVP_MD_CTX_free(ctx);

    return ok ? 0 : -1;
}


static int
dgj_audit_sig_verify(void *pkey, const char *msg, size_t len,
    const unsigned char *sig)
{
    int          ok;
    EVP_MD_CTX  *ctx;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1
         && EVP_DigestVerify(ctx, sig, DGJ_AUDIT_SIG_LEN,
                             (const unsigned char *) msg, len) == 1;

    EVP_MD_CTX_free(ctx);

    return ok ? 0 : -1;
}


/*
 * One "key":value of a flat JSON object, *pp just after '{' or the
 * previous value.  Returns 1 with the key and the value (a string without
 * its quotes, still escaped; or a number or literal), 0 at the closing
 * '}' (which must end the text), -1 malformed.
 */
static int
dgj_audit_next_field(const char **pp, const char *last, const char **key,
    size_t *klen, const char **val, size_t *vlen, int *is_str)
{
    const char  *p, *q;

    p = *pp;

    if (p < last && *p == '}') {
        *pp = p + 1;
        return p + 1 == last ? 0 : -1;
    }

    if (p < last && *p == ',') {
        p++;
    }

    if (p >= last || *p != '"') {
        return -1;
    }

    p++;
    q = memchr(p, '"', last - p);
    if (q == NULL) {
        return -1;
    }

    *key = p;
    *klen = q - p;
    p = q + 1;

    if (p >= last || *p != ':') {
        return -1;
    }

    p++;

    if (p < last && *p == '"') {
        /* a string: to the first quote not escaped */
        for (q = ++p; q < last && *q != '"'; q++) {
            if (*q == '\\') {
                q++;
            }

            if ((unsigned char) *q < 0x20) {
                return -1;
            }
        }

        if (q >= last) {
            return -1;
        }

        *val = p;
        *vlen = q - p;
        *is_str = 1;
        *pp = q + 1;

    } else {
        for (q = p; q < last && *q != ',' && *q != '}'; q++) {
            if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z')
                  || *q == '-' || *q == '.' || *q == '+' || *q == 'E'))
            {
                return -1;
            }
        }

        if (q == p || q >= last) {
            return -1;
        }

        *val = p;
        *vlen = q - p;
        *is_str = 0;
        *pp = q;
    }

    return 1;
}


static int
dgj_audit_parse_u64(const char *p, size_t len, uint64_t *v)
{
    size_t    i;
    uint64_t  n;

    if (len == 0 || len > 19 || (len > 1 && p[0] == '0')) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        n = n * 10 + (p[i] - '0');
    }

    *v = n;

    return 0;
}


static int
dgj_audit_parse_line(const char *line, size_t len, dgj_audit_fields_t *f)
{
    int          rc, is_str;
    size_t       klen, vlen;
    const char  *p, *last, *k, *val;

    memset(f, 0, sizeof(dgj_audit_fields_t));

    if (len < DGJ_AUDIT_TAIL_LEN + 2 || line[0] != '{') {
        return -1;
    }

    p = line + 1;
    last = line + len;

    while ((rc = dgj_audit_next_field(&p, last, &k, &klen, &val, &vlen,
                                      &is_str)) == 1)
    {
        if (klen == 1 && k[0] == 't' && is_str) {
            f->t = val;
            f->t_len = vlen;

        } else if (klen == 1 && k[0] == 'c' && is_str) {
            f->c = val;
            f->c_len = vlen;

        } else if (klen == 3 && memcmp(k, "seq", 3) == 0 && !is_str) {
            if (dgj_audit_parse_u64(val, vlen, &f->seq) != 0) {
                return -1;
            }

            f->have |= DGJ_AUDIT_F_SEQ;

        } else if (klen == 2 && memcmp(k, "ep", 2) == 0 && !is_str) {
            if (dgj_audit_parse_u64(val, vlen, &f->ep) != 0) {
                return -1;
            }

            f->have |= DGJ_AUDIT_F_EP;

        } else if (klen == 4 && memcmp(k, "time", 4) == 0 && is_str) {
            f->time = val;
            f->time_len = vlen;

        } else if (klen == 4 && memcmp(k, "head", 4) == 0 && is_str) {
            f->head = val;
            f->head_len = vlen;

        } else if (klen == 3 && memcmp(k, "sig", 3) == 0 && is_str) {
            f->sig = val;
            f->sig_len = vlen;

        } else if (klen == 5 && memcmp(k, "after", 5) == 0 && is_str) {
            f->after = val;
            f->after_len = vlen;

        } else if (klen == 9 && memcmp(k, "after_seq", 9) == 0 && !is_str
                   && !(vlen == 4 && memcmp(val, "null", 4) == 0))
        {
            if (dgj_audit_parse_u64(val, vlen, &f->after_seq) != 0) {
                return -1;
            }

            f->have |= DGJ_AUDIT_F_ASEQ;
        }
    }

    if (rc != 0 || f->t == NULL || f->time == NULL
        || (f->have & (DGJ_AUDIT_F_SEQ | DGJ_AUDIT_F_EP))
           != (DGJ_AUDIT_F_SEQ | DGJ_AUDIT_F_EP)
        || !dgj_audit_id_is_valid(f->c, f->c_len)
        || (f->after != NULL
            && (!dgj_audit_id_is_valid(f->after, f->after_len)
                || !(f->have & DGJ_AUDIT_F_ASEQ))))
    {
        return -1;
    }

    if (!dgj_audit_is(f->t, f->t_len, "rec")
        && !dgj_audit_is(f->t, f->t_len, "ckpt")
        && !dgj_audit_is(f->t, f->t_len, "start")
        && !dgj_audit_is(f->t, f->t_len, "stop")
        && !dgj_audit_is(f->t, f->t_len, "epoch"))
    {
        return -1;
    }

    return 0;
}


/* the MAC in the fixed ,"mac":"<hex>"} tail */
static int
dgj_audit_tail_mac(const char *line, size_t len, unsigned char *mac)
{
    const char  *t;

    if (len < DGJ_AUDIT_TAIL_LEN + 2) {
        return -1;
    }

    t = line + len - DGJ_AUDIT_TAIL_LEN;

    if (memcmp(t, ",\"mac\":\"", 8) != 0
        || memcmp(t + 8 + 2 * DGJ_AUDIT_MAC_LEN, "\"}", 2) != 0)
    {
        return -1;
    }

    return dgj_audit_unhex(t + 8, 2 * DGJ_AUDIT_MAC_LEN, mac);
}


/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant) */
static int64_t
dgj_audit_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


static uint32_t
dgj_audit_id_hash(const char *id, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char) id[i]) * 16777619u;
    }

    return h;
}


static dgj_audit_vchain_t *
dgj_audit_vchain_find(dgj_audit_verifier_t *v, const char *id, size_t len)
{
    size_t               i, mask;
    dgj_audit_vchain_t  *ch;

    if (v->nchains == 0) {
        return NULL;
    }

    /* most lines follow a line of the same chain */
    ch = &v->chains[v->last];
    if (strncmp(ch->info.id, id, len) == 0 && ch->info.id[len] == '\0') {
        return ch;
    }

    mask = v->index_size - 1;

    for (i = dgj_audit_id_hash(id, len) & mask; v->index[i]; i = (i + 1) & mask)
    {
        ch = &v->chains[v->index[i] - 1];

        if (strncmp(ch->info.id, id, len) == 0 && ch->info.id[len] == '\0')
        {
            return ch;
        }
    }

    return NULL;
}


static dgj_audit_vchain_t *
dgj_audit_vchain_add(dgj_audit_verifier_t *v, const char *id, size_t len)
{
    size_t               i, j, mask, size;
    uint32_t            *index;
    dgj_audit_vchain_t  *chains, *ch;

    if (v->nchains == v->chains_cap) {
        size = v->chains_cap ? 2 * v->chains_cap : 16;
        chains = realloc(v->chains, size * sizeof(dgj_audit_vchain_t));
        if (chains == NULL) {
            return NULL;
        }

        v->chains = chains;
        v->chains_cap = size;
    }

    /* the index stays at most half full */
    if (2 * (v->nchains + 1) > v->index_size) {
        size = v->index_size ? 2 * v->index_size : 64;
        index = calloc(size, sizeof(uint32_t));
        if (index == NULL) {
            return NULL;
        }

        mask = size - 1;

        for (j = 0; j < v->nchains; j++) {
            ch = &v->chains[j];
            i = dgj_audit_id_hash(ch->info.id, strlen(ch->info.id)) & mask;

            while (index[i]) {
                i = (i + 1) & mask;
            }

            index[i] = (uint32_t) (j + 1);
        }

        free(v->index);
        v->index = index;
        v->index_size = size;
    }

    ch = &v->chains[v->nchains];
    memset(ch, 0, sizeof(dgj_audit_vchain_t));
    memcpy(ch->info.id, id, len);
    ch->info.id[len] = '\0';

    mask = v->index_size - 1;
    i = dgj_audit_id_hash(id, len) & mask;

    while (v->index[i]) {
        i = (i + 1) & mask;
    }

    v->index[i] = (uint32_t) (v->nchains + 1);
    v->last = v->nchains;
    v->nchains++;

    return ch;
}


static const unsigned char *
dgj_audit_epoch_key(dgj_audit_verifier_t *v, uint64_t ep)
{
    size_t          cap;
    unsigned char  *keys;

    if (ep > v->max_epoch || ep >= DGJ_AUDIT_MAX_EPOCHS) {
        return NULL;
    }

    if (ep >= v->nkeys) {
        if (ep >= v->keys_cap) {
            cap = v->keys_cap ? v->keys_cap : 256;

            while (cap <= ep) {
                cap *= 2;
            }

            keys = malloc(cap * DGJ_AUDIT_KEY_LEN);
            if (keys == NULL) {
                return NULL;
            }

            if (v->keys != NULL) {
                memcpy(keys, v->keys, v->nkeys * DGJ_AUDIT_KEY_LEN);
                OPENSSL_cleanse(v->keys, v->keys_cap * DGJ_AUDIT_KEY_LEN);
                free(v->keys);
            }

            v->keys = keys;
            v->keys_cap = cap;
        }

        if (v->nkeys == 0) {
            memcpy(v->keys, v->k0.key, DGJ_AUDIT_KEY_LEN);
            v->nkeys = 1;
        }

        while (v->nkeys <= ep) {
            memcpy(v->keys + v->nkeys * DGJ_AUDIT_KEY_LEN,
                   v->keys + (v->nkeys - 1) * DGJ_AUDIT_KEY_LEN,
                   DGJ_AUDIT_KEY_LEN);

            if (dgj_audit_evolve(v->k0.alg,
                                 v->keys + v->nkeys * DGJ_AUDIT_KEY_LEN)
                != 0)
            {
                return NULL;
            }

            v->nkeys++;
        }
    }

    return v->keys + ep * DGJ_AUDIT_KEY_LEN;
}


/*
 * A line that begins as an audit line and breaks off: the head of a line
 * whose writer died inside write(), or a damaged one.  Taken as the former
 * while that can be true: it is the next line of its chain (or of a chain
 * not seen yet), and the chain says nothing after it (checked as its later
 * lines come).  What the next worker wrote on after it is verified as it
 * is (from n, 0: nothing follows).  A cut-off tail is no more than the
 * truncation a death leaves, and is reported with the chain.
 */
static int
dgj_audit_verifier_torn(dgj_audit_verifier_t *v, const char *line,
    size_t len, size_t n)
{
    int                  rc;
    char                 id[DGJ_AUDIT_CHAIN_MAX + 1];
    uint64_t             seq;
    dgj_audit_vchain_t  *ch;

    /* whose head it is, and its seq, as far as it reaches */
    rc = dgj_audit_line_chain_seq(line, n ? n : len, id, sizeof(id), &seq);
    ch = rc >= 0 ? dgj_audit_vchain_find(v, id, strlen(id)) : NULL;

    if (ch != NULL) {
        if (rc == 0) {
            seq = ch->info.last_seq + 1;
        }

        if (ch->info.stopped || seq != ch->info.last_seq + 1) {
            return dgj_audit_fail(v, ch->info.id, strlen(ch->info.id),
                                  ch->info.last_seq + 1,
                                  "line %llu: not an audit line (damaged "
                                  "or cut short)",
                                  (unsigned long long) v->rep.records);
        }

        ch->info.torn = 1;
        ch->torn_line = v->rep.records;
    }

    v->rep.torn++;

    if (n == 0) {
        return 0;
    }

    /* the line after the head counts as a line of its own */
    v->rep.records--;

    return dgj_audit_verifier_feed(v, line + n, len - n);
}


int
dgj_audit_line_chain_seq(const char *line, size_t len, char *chain,
    size_t size, uint64_t *seq)
{
    const char  *p, *q, *last;

    last = line + len;

    for (p = line; last - p > 6; p++) {
        if (memcmp(p, ",\"c\":\"", 6) == 0) {
            break;
        }
    }

    if (last - p <= 6) {
        return -1;
    }

    p += 6;
    q = memchr(p, '"', last - p);

    if (q == NULL || (size_t) (q - p) >= size) {
        return -1;
    }

    memcpy(chain, p, q - p);
    chain[q - p] = '\0';

    for (p = q; last - p > 7; p++) {
        if (memcmp(p, ",\"seq\":", 7) == 0) {
            break;
        }
    }

    if (last - p <= 7) {
        return 0;
    }

    p += 7;

    for (q = p; q < last && *q >= '0' && *q <= '9'; q++) {
        /* void */
    }

    /* digits up to the end may have been cut */
    if (q == last) {
        return 0;
    }

    if (dgj_audit_parse_u64(p, q - p, seq) != 0) {
        *seq = UINT64_MAX;
    }

    return 1;
}


size_t
dgj_audit_line_resume(const char *line, size_t len)
{
    const char  *p, *last;

    if (len < 7) {
        return 0;
    }

    last = line + len - 6;

    for (p = line + 1; p < last; p++) {
        p = memchr(p, '{', last - p);
        if (p == NULL) {
            return 0;
        }

        if (memcmp(p, "{\"t\":\"", 6) == 0) {
            return p - line;
        }
    }

    return 0;
}


static int
dgj_audit_fail(dgj_audit_verifier_t *v, const char *chain, size_t chain_len,
    uint64_t seq, const char *fmt, ...)
{
    va_list  args;

    if (!v->rep.ok) {
        return -1;
    }

    v->rep.ok = 0;
    v->rep.bad_seq = seq;

    if (chain_len > DGJ_AUDIT_CHAIN_MAX) {
        chain_len = DGJ_AUDIT_CHAIN_MAX;
    }

    if (chain != NULL) {
        memcpy(v->rep.chain, chain, chain_len);
    }

    v->rep.chain[chain_len] = '\0';

    va_start(args, fmt);
    vsnprintf(v->rep.reason, sizeof(v->rep.reason), fmt, args);
    va_end(args);

    return -1;
}


static int
dgj_audit_is(const char *p, size_t len, const char *s)
{
    return strlen(s) == len && memcmp(p, s, len) == 0;
}
