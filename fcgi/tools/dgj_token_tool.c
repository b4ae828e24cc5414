
/*
 * Copyright (C) Daguanjia
 *
 * dgj_token_tool.c: build/bin/dgj-token, the operator's and the tests'
 * handle on dgj_token: mint, verify, CSRF tokens, new keys and sessions.
 * Tokens go to stdout only, never to a log.
 *
 *   dgj-token mint --keys F --user N --roles a,b --dept N --session HEX
 *                  --ttl S [--iat T] [--level L]
 *   dgj-token csrf --keys F --session HEX
 *   dgj-token verify --keys F [--now T] TOKEN
 *   dgj-token genkey KID [hmac-sha256|hmac-sm3]
 *   dgj-token session
 */


#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "dgj_token.h"


#define DGJ_TOOL_USAGE                                                        \
    "usage: dgj-token mint --keys F --user N --roles a,b --dept N "          \
    "--session HEX --ttl S\n"                                                 \
    "                      [--iat T] [--level 1|2]\n"                         \
    "       dgj-token csrf --keys F --session HEX\n"                          \
    "       dgj-token verify --keys F [--now T] TOKEN\n"                      \
    "       dgj-token genkey KID [hmac-sha256|hmac-sm3]\n"                    \
    "       dgj-token session\n"


typedef struct {
    const char  *keys;
    const char  *user;
    const char  *roles;
    const char  *dept;
    const char  *session;
    const char  *ttl;
    const char  *iat;
    const char  *level;
    const char  *now;
    const char  *token;
} dgj_tool_args_t;


static int dgj_tool_args(int argc, char **argv, dgj_tool_args_t *a);
static int dgj_tool_num(const char *name, const char *s, int64_t min,
    int64_t max, int64_t *v);
static int dgj_tool_u64(const char *name, const char *s, uint64_t *v);
static int dgj_tool_ring(const char *path, dgj_token_ring_t *ring);
static int dgj_tool_mint(dgj_tool_args_t *a);
static int dgj_tool_csrf(dgj_tool_args_t *a);
static int dgj_tool_verify(dgj_tool_args_t *a);
static int dgj_tool_genkey(int argc, char **argv);
static int dgj_tool_random_hex(size_t bytes);


int
main(int argc, char **argv)
{
    dgj_tool_args_t  a;

    if (argc < 2) {
        fputs(DGJ_TOOL_USAGE, stderr);
        return 2;
    }

    if (strcmp(argv[1], "genkey") == 0) {
        return dgj_tool_genkey(argc, argv);
    }

    if (strcmp(argv[1], "session") == 0 && argc == 2) {
        return dgj_tool_random_hex(DGJ_TOKEN_SESSION_LEN);
    }

    if (dgj_tool_args(argc, argv, &a) != 0) {
        fputs(DGJ_TOOL_USAGE, stderr);
        return 2;
    }

    if (strcmp(argv[1], "mint") == 0) {
        return dgj_tool_mint(&a);
    }

    if (strcmp(argv[1], "csrf") == 0) {
        return dgj_tool_csrf(&a);
    }

    if (strcmp(argv[1], "verify") == 0) {
        return dgj_tool_verify(&a);
    }

    fputs(DGJ_TOOL_USAGE, stderr);

    return 2;
}


static int
dgj_tool_args(int argc, char **argv, dgj_tool_args_t *a)
{
    int           i;
    const char  **slot;

    memset(a, 0, sizeof(dgj_tool_args_t));

    for (i = 2; i < argc; i++) {
        slot = NULL;

        if (strcmp(argv[i], "--keys") == 0) {
            slot = &a->keys;

        } else if (strcmp(argv[i], "--user") == 0) {
            slot = &a->user;

        } else if (strcmp(argv[i], "--roles") == 0) {
            slot = &a->roles;

        } else if (strcmp(argv[i], "--dept") == 0) {
            slot = &a->dept;

        } else if (strcmp(argv[i], "--session") == 0) {
            slot = &a->session;

        } else if (strcmp(argv[i], "--ttl") == 0) {
            slot = &a->ttl;

        } else if (strcmp(argv[i], "--iat") == 0) {
            slot = &a->iat;

        } else if (strcmp(argv[i], "--level") == 0) {
            slot = &a->level;

        } else if (strcmp(argv[i], "--now") == 0) {
            slot = &a->now;

        } else if (argv[i][0] != '-' && a->token == NULL) {
            a->token = argv[i];
            continue;

        } else {
            fprintf(stderr, "dgj-token: unknown argument \"%s\"\n", argv[i]);
            return -1;
        }

        if (i + 1 >= argc) {
            fprintf(stderr, "dgj-token: %s needs a value\n", argv[i]);
            return -1;
        }

        *slot = argv[++i];
    }

    if (a->keys == NULL) {
        fprintf(stderr, "dgj-token: --keys is required\n");
        return -1;
    }

    return 0;
}


static int
dgj_tool_num(const char *name, const char *s, int64_t min, int64_t max,
    int64_t *v)
{
    char       *end;
    long long   n;

    errno = 0;
    n = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0' || n < min || n > max) {
        fprintf(stderr, "dgj-token: bad %s \"%s\"\n", name, s);
        return -1;
    }

    *v = n;

    return 0;
}


static int
dgj_tool_u64(const char *name, const char *s, uint64_t *v)
{
    char                *end;
    unsigned long long   n;

    errno = 0;
    n = strtoull(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        fprintf(stderr, "dgj-token: bad %s \"%s\"\n", name, s);
        return -1;
    }

    *v = n;

    return 0;
}


static int
dgj_tool_ring(const char *path, dgj_token_ring_t *ring)
{
    char  err[512];

    if (dgj_token_ring_load(ring, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "dgj-token: %s\n", err);
        return -1;
    }

    return 0;
}


static int
dgj_tool_mint(dgj_tool_args_t *a)
{
    char                tok[DGJ_TOKEN_MAX_LEN + 1];
    size_t              len;
    int64_t             ttl, iat, level;
    dgj_token_rc_e      rc;
    dgj_token_ring_t    ring;
    dgj_token_claims_t  c;

    memset(&c, 0, sizeof(dgj_token_claims_t));

    if (a->user == NULL || a->session == NULL || a->ttl == NULL) {
        fprintf(stderr, "dgj-token: mint needs --user, --session and "
                "--ttl\n");
        return 2;
    }

    iat = (int64_t) time(NULL);
    level = 1;

    if (dgj_tool_u64("--user", a->user, &c.user_id) != 0
        || (a->dept && dgj_tool_u64("--dept", a->dept, &c.dept_id) != 0)
        || dgj_tool_num("--ttl", a->ttl, INT32_MIN, INT32_MAX, &ttl) != 0
        || (a->iat && dgj_tool_num("--iat", a->iat, 0, INT64_MAX / 2, &iat)
                      != 0)
        || (a->level && dgj_tool_num("--level", a->level, 1, 2, &level)
                        != 0))
    {
        return 2;
    }

    if (a->roles != NULL) {
        if (strlen(a->roles) > DGJ_TOKEN_ROLES_MAX) {
            fprintf(stderr, "dgj-token: --roles longer than %d bytes\n",
                    DGJ_TOKEN_ROLES_MAX);
            return 2;
        }

        strcpy(c.roles, a->roles);
        c.roles_len = strlen(a->roles);
    }

    if (strlen(a->session) != 2 * DGJ_TOKEN_SESSION_LEN) {
        fprintf(stderr, "dgj-token: --session must be 32 lower-hex "
                "characters\n");
        return 2;
    }

    memcpy(c.session, a->session, 2 * DGJ_TOKEN_SESSION_LEN);

    /* a negative ttl mints an already expired token (tests) */
    c.iat = ttl > 0 ? iat : iat + ttl - 60;
    c.exp = iat + ttl;
    c.level = (unsigned) level;

    if (dgj_tool_ring(a->keys, &ring) != 0) {
        return 1;
    }

    rc = dgj_token_mint(&ring, &c, tok, sizeof(tok), &len);

    dgj_token_ring_free(&ring);

    if (rc != DGJ_TOKEN_OK) {
        fprintf(stderr, "dgj-token: cannot mint: %s\n",
                dgj_token_strerror(rc));
        return 1;
    }

    printf("%s\n", tok);

    return 0;
}


static int
dgj_tool_csrf(dgj_tool_args_t *a)
{
    char              csrf[DGJ_TOKEN_CSRF_LEN + 1];
    dgj_token_rc_e    rc;
    dgj_token_ring_t  ring;

    if (a->session == NULL) {
        fprintf(stderr, "dgj-token: csrf needs --session\n");
        return 2;
    }

    if (dgj_tool_ring(a->keys, &ring) != 0) {
        return 1;
    }

    rc = dgj_token_csrf_make(&ring, a->session, csrf, sizeof(csrf));

    dgj_token_ring_free(&ring);

    if (rc != DGJ_TOKEN_OK) {
        fprintf(stderr, "dgj-token: %s\n", dgj_token_strerror(rc));
        return 1;
    }

    printf("%s\n", csrf);

    return 0;
}


static int
dgj_tool_verify(dgj_tool_args_t *a)
{
    int64_t             now;
    dgj_token_rc_e      rc;
    dgj_token_ring_t    ring;
    dgj_token_claims_t  c;

    if (a->token == NULL) {
        fprintf(stderr, "dgj-token: verify needs a TOKEN\n");
        return 2;
    }

    now = (int64_t) time(NULL);

    if (a->now && dgj_tool_num("--now", a->now, 0, INT64_MAX / 2, &now)
                  != 0)
    {
        return 2;
    }

    if (dgj_tool_ring(a->keys, &ring) != 0) {
        return 1;
    }

    rc = dgj_token_verify(&ring, a->token, strlen(a->token), now, 30, &c);

    dgj_token_ring_free(&ring);

    if (rc == DGJ_TOKEN_OK || rc == DGJ_TOKEN_EXPIRED
        || rc == DGJ_TOKEN_NOT_YET_VALID)
    {
        printf("%s user=%" PRIu64 " roles=%s dept=%" PRIu64 " session=%s "
               "iat=%" PRId64 " exp=%" PRId64 " level=%u\n",
               dgj_token_strerror(rc), c.user_id, c.roles, c.dept_id,
               c.session, c.iat, c.exp, c.level);

    } else {
        printf("%s\n", dgj_token_strerror(rc));
    }

    return rc == DGJ_TOKEN_OK ? 0 : 1;
}


static int
dgj_tool_genkey(int argc, char **argv)
{
    size_t            i;
    const char       *alg;
    dgj_token_ring_t  ring;
    char              line[128], text[160], err[256];
    unsigned char     key[DGJ_TOKEN_KEY_LEN];

    if (argc < 3 || argc > 4) {
        fputs(DGJ_TOOL_USAGE, stderr);
        return 2;
    }

    alg = argc == 4 ? argv[3] : "hmac-sha256";

    if (RAND_bytes(key, sizeof(key)) != 1) {
        fprintf(stderr, "dgj-token: no random bytes\n");
        return 1;
    }

    snprintf(line, sizeof(line), "%.20s %.20s ", argv[2], alg);

    for (i = 0; i < sizeof(key); i++) {
        snprintf(line + strlen(line), 3, "%02x", key[i]);
    }

    /* the line must parse as a key-file line (kid and alg checked) */
    snprintf(text, sizeof(text), "%s sign\n", line);

    if (dgj_token_ring_parse(&ring, text, strlen(text), err, sizeof(err))
        != 0)
    {
        fprintf(stderr, "dgj-token: %s\n", err);
        return 2;
    }

    dgj_token_ring_free(&ring);

    printf("%s\n", line);

    return 0;
}


static int
dgj_tool_random_hex(size_t bytes)
{
    size_t         i;
    unsigned char  buf[64];

    if (bytes > sizeof(buf) || RAND_bytes(buf, (int) bytes) != 1) {
        fprintf(stderr, "dgj-token: no random bytes\n");
        return 1;
    }

    for (i = 0; i < bytes; i++) {
        printf("%02x", buf[i]);
    }

    printf("\n");

    return 0;
}
