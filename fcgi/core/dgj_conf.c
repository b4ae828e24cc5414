
/*
 * Copyright (C) Daguanjia
 *
 * dgj_conf.c: parsing and validation of the pool configuration file
 * (format in dgj_conf.h), including reading the DB password file, and
 * the reader of one-line secret files shared with the peer clients.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_log.h"
#include "dgj_routes.h"

#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>


#define DGJ_CONF_LINE  2048


typedef enum {
    DGJ_CONF_STR = 0,
    DGJ_CONF_UINT,
    DGJ_CONF_SIZE,
    DGJ_CONF_LEVEL,
    DGJ_CONF_ROUTES,
    DGJ_CONF_PASSWORD
} dgj_conf_type_t;


typedef struct {
    const char       *name;
    dgj_conf_type_t   type;
    size_t            offset;
    size_t            size;      /* buffer size for strings */
    unsigned long     min;
    unsigned long     max;
    unsigned          required:1;
} dgj_conf_key_t;


static int dgj_conf_set(const dgj_conf_key_t *k, dgj_conf_t *conf,
    const char *value, char *msg, size_t msglen);
static int dgj_conf_read_password(const char *path, dgj_conf_t *conf,
    char *msg, size_t msglen);
static int dgj_conf_uint(const char *s, int suffix, unsigned long *out);


#define dgj_conf_off(f)  offsetof(dgj_conf_t, f)
#define dgj_conf_sz(f)   sizeof(((dgj_conf_t *) 0)->f)


static const dgj_conf_key_t  dgj_conf_keys[] = {

    { "socket", DGJ_CONF_STR, dgj_conf_off(socket), dgj_conf_sz(socket),
      0, 0, 1 },
    { "workers", DGJ_CONF_UINT, dgj_conf_off(workers), 0, 1, 256, 0 },
    { "max_requests", DGJ_CONF_UINT, dgj_conf_off(max_requests), 0,
      1, 1000000000, 0 },
    { "max_body", DGJ_CONF_SIZE, dgj_conf_off(max_body), 0,
      1, 64 * 1024 * 1024, 0 },
    { "db_socket", DGJ_CONF_STR, dgj_conf_off(db_socket),
      dgj_conf_sz(db_socket), 0, 0, 1 },
    { "db_name", DGJ_CONF_STR, dgj_conf_off(db_name), dgj_conf_sz(db_name),
      0, 0, 0 },
    { "db_user", DGJ_CONF_STR, dgj_conf_off(db_user), dgj_conf_sz(db_user),
      0, 0, 0 },
    { "db_password_file", DGJ_CONF_PASSWORD, 0, 0, 0, 0, 0 },
    { "db_connect_timeout", DGJ_CONF_UINT, dgj_conf_off(db_connect_timeout),
      0, 1, 3600, 0 },
    { "db_read_timeout", DGJ_CONF_UINT, dgj_conf_off(db_read_timeout), 0,
      1, 3600, 0 },
    { "db_write_timeout", DGJ_CONF_UINT, dgj_conf_off(db_write_timeout), 0,
      1, 3600, 0 },
    { "log_file", DGJ_CONF_STR, dgj_conf_off(log_file),
      dgj_conf_sz(log_file), 0, 0, 0 },
    { "log_level", DGJ_CONF_LEVEL, dgj_conf_off(log_level), 0, 0, 0, 0 },
    { "pid_file", DGJ_CONF_STR, dgj_conf_off(pid_file),
      dgj_conf_sz(pid_file), 0, 0, 0 },
    { "routes", DGJ_CONF_ROUTES, dgj_conf_off(routes), dgj_conf_sz(routes),
      0, 0, 0 },
    { "user", DGJ_CONF_STR, dgj_conf_off(user), dgj_conf_sz(user),
      0, 0, 0 },

    { "token_keys", DGJ_CONF_STR, dgj_conf_off(token_keys),
      dgj_conf_sz(token_keys), 0, 0, 0 },
    { "revoke_file", DGJ_CONF_STR, dgj_conf_off(revoke_file),
      dgj_conf_sz(revoke_file), 0, 0, 0 },
    { "control_socket", DGJ_CONF_STR, dgj_conf_off(control_socket),
      dgj_conf_sz(control_socket), 0, 0, 0 },
    { "ban_file", DGJ_CONF_STR, dgj_conf_off(ban_file),
      dgj_conf_sz(ban_file), 0, 0, 0 },
    { "public_url", DGJ_CONF_STR, dgj_conf_off(public_url),
      dgj_conf_sz(public_url), 0, 0, 0 },
    { "sms_url", DGJ_CONF_STR, dgj_conf_off(sms_url),
      dgj_conf_sz(sms_url), 0, 0, 0 },
    { "sms_key_file", DGJ_CONF_STR, dgj_conf_off(sms_key_file),
      dgj_conf_sz(sms_key_file), 0, 0, 0 },
    { "wechat_url", DGJ_CONF_STR, dgj_conf_off(wechat_url),
      dgj_conf_sz(wechat_url), 0, 0, 0 },
    { "wechat_auth_url", DGJ_CONF_STR, dgj_conf_off(wechat_auth_url),
      dgj_conf_sz(wechat_auth_url), 0, 0, 0 },
    { "wechat_appid", DGJ_CONF_STR, dgj_conf_off(wechat_appid),
      dgj_conf_sz(wechat_appid), 0, 0, 0 },
    { "wechat_secret_file", DGJ_CONF_STR, dgj_conf_off(wechat_secret_file),
      dgj_conf_sz(wechat_secret_file), 0, 0, 0 },
    { "peer_timeout", DGJ_CONF_UINT, dgj_conf_off(peer_timeout), 0,
      1, 60, 0 },
    { "argon2_m_kib", DGJ_CONF_UINT, dgj_conf_off(argon2_m_kib), 0,
      8, 4 * 1024 * 1024, 0 },
    { "argon2_t", DGJ_CONF_UINT, dgj_conf_off(argon2_t), 0,
      1, 100, 0 },
    { "clock_file", DGJ_CONF_STR, dgj_conf_off(clock_file),
      dgj_conf_sz(clock_file), 0, 0, 0 },
    { "query_key_file", DGJ_CONF_STR, dgj_conf_off(query_key_file),
      dgj_conf_sz(query_key_file), 0, 0, 0 },
    { "files_dir", DGJ_CONF_STR, dgj_conf_off(files_dir),
      dgj_conf_sz(files_dir), 0, 0, 0 },

    { "audit_verify_key", DGJ_CONF_STR, dgj_conf_off(audit_verify_key),
      dgj_conf_sz(audit_verify_key), 0, 0, 0 },
    { "audit_checkpoint_pub", DGJ_CONF_STR,
      dgj_conf_off(audit_checkpoint_pub), dgj_conf_sz(audit_checkpoint_pub),
      0, 0, 0 },

    { NULL, 0, 0, 0, 0, 0, 0 }
};


void
dgj_conf_defaults(dgj_conf_t *conf)
{
    memset(conf, 0, sizeof(dgj_conf_t));

    conf->workers = 2;
    conf->max_requests = 10000;
    conf->max_body = 1024 * 1024;
    strcpy(conf->db_name, "dgj");
    strcpy(conf->db_user, "dgj_app");
    conf->db_connect_timeout = 3;
    conf->db_read_timeout = 10;
    conf->db_write_timeout = 10;
    strcpy(conf->log_file, "stderr");
    conf->log_level = DGJ_LOG_INFO;
    strcpy(conf->routes, "all");
    conf->peer_timeout = 5;
    conf->argon2_m_kib = 65536;
    conf->argon2_t = 3;
}


int
dgj_conf_load(const char *path, dgj_conf_t *conf, char *err, size_t errlen)
{
    int                    rc;
    FILE                  *f;
    char                   line[DGJ_CONF_LINE], msg[512], *p, *key, *value,
                          *end;
    size_t                 i, len;
    unsigned               lineno;
    unsigned char          seen[dgj_countof(dgj_conf_keys)];
    const dgj_conf_key_t  *k;

    dgj_conf_defaults(conf);
    memset(seen, 0, sizeof(seen));

    f = fopen(path, "re");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }

    rc = -1;
    lineno = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;

        len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            goto done;
        }

        while (len > 0 && isspace((unsigned char) line[len - 1])) {
            line[--len] = '\0';
        }

        p = line;
        while (isspace((unsigned char) *p)) {
            p++;
        }

        if (*p == '\0' || *p == '#') {
            continue;
        }

        key = p;
        while (*p != '\0' && *p != '=' && !isspace((unsigned char) *p)) {
            p++;
        }

        end = p;
        while (isspace((unsigned char) *p)) {
            p++;
        }

        if (*p != '=') {
            snprintf(err, errlen, "%s:%u: expected \"key = value\"",
                     path, lineno);
            goto done;
        }

        *end = '\0';
        p++;

        while (isspace((unsigned char) *p)) {
            p++;
        }

        value = p;

        for (i = 0; dgj_conf_keys[i].name != NULL; i++) {
            if (strcmp(dgj_conf_keys[i].name, key) == 0) {
                break;
            }
        }

        k = &dgj_conf_keys[i];

        if (k->name == NULL) {
            snprintf(err, errlen, "%s:%u: unknown key \"%s\"",
                     path, lineno, key);
            goto done;
        }

        if (seen[i]) {
            snprintf(err, errlen, "%s:%u: duplicate key \"%s\"",
                     path, lineno, key);
            goto done;
        }

        seen[i] = 1;

        if (*value == '\0') {
            snprintf(err, errlen, "%s:%u: empty value for \"%s\"",
                     path, lineno, key);
            goto done;
        }

        if (dgj_conf_set(k, conf, value, msg, sizeof(msg)) != 0) {
            snprintf(err, errlen, "%s:%u: \"%s\": %s", path, lineno, key,
                     msg);
            goto done;
        }
    }

    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        goto done;
    }

    for (i = 0; dgj_conf_keys[i].name != NULL; i++) {
        if (dgj_conf_keys[i].required && !seen[i]) {
            snprintf(err, errlen, "%s: missing required key \"%s\"",
                     path, dgj_conf_keys[i].name);
            goto done;
        }
    }

    rc = 0;

done:

    fclose(f);

    if (rc != 0) {
        explicit_bzero(conf->db_password, sizeof(conf->db_password));
    }

    return rc;
}


int
dgj_conf_read_secret(const char *path, char *out, size_t size, char *msg,
    size_t msglen)
{
    int      fd;
    char     buf[DGJ_CONF_SECRET + 1];
    ssize_t  n;
    size_t   len;

    if (size == 0 || size > DGJ_CONF_SECRET) {
        snprintf(msg, msglen, "secret buffer of %zu bytes", size);
        return -1;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(msg, msglen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    len = 0;

    /* one byte more than fits, so an overlong file is noticed */
    for ( ;; ) {
        n = read(fd, buf + len, size + 1 - len);
        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        len += (size_t) n;
        if (len == size + 1) {
            break;
        }
    }

    close(fd);

    if (n == -1) {
        snprintf(msg, msglen, "cannot read \"%s\": %s", path,
                 strerror(errno));
        explicit_bzero(buf, sizeof(buf));
        return -1;
    }

    /* the file may end with one newline */
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r') {
            len--;
        }
    }

    if (len >= size) {
        snprintf(msg, msglen, "\"%s\" is longer than %zu bytes", path,
                 size - 1);
        explicit_bzero(buf, sizeof(buf));
        return -1;
    }

    if (memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL) {
        snprintf(msg, msglen, "\"%s\" must hold one line", path);
        explicit_bzero(buf, sizeof(buf));
        return -1;
    }

    memcpy(out, buf, len);
    out[len] = '\0';
    explicit_bzero(buf, sizeof(buf));

    return (int) len;
}


static int
dgj_conf_set(const dgj_conf_key_t *k, dgj_conf_t *conf, const char *value,
    char *msg, size_t msglen)
{
    int             level;
    char           *field;
    size_t          len;
    unsigned long   n;

    field = (char *) conf + k->offset;

    switch (k->type) {

    case DGJ_CONF_STR:
    case DGJ_CONF_ROUTES:
        len = strlen(value);
        if (len >= k->size) {
            snprintf(msg, msglen, "value longer than %zu bytes",
                     k->size - 1);
            return -1;
        }

        if (k->type == DGJ_CONF_ROUTES
            && dgj_routes_check(value, msg, msglen) != 0)
        {
            return -1;
        }

        memcpy(field, value, len + 1);
        return 0;

    case DGJ_CONF_UINT:
    case DGJ_CONF_SIZE:
        if (dgj_conf_uint(value, k->type == DGJ_CONF_SIZE, &n) != 0) {
            snprintf(msg, msglen, "\"%s\" is not a %s", value,
                     k->type == DGJ_CONF_SIZE
                     ? "size (bytes, or with a k or m suffix)"
                     : "non-negative integer");
            return -1;
        }

        if (n < k->min || n > k->max) {
            snprintf(msg, msglen, "%lu is out of range %lu..%lu",
                     n, k->min, k->max);
            return -1;
        }

        if (k->type == DGJ_CONF_SIZE) {
            *(size_t *) (void *) field = n;

        } else {
            *(unsigned *) (void *) field = (unsigned) n;
        }

        return 0;

    case DGJ_CONF_LEVEL:
        level = dgj_log_level_parse(value);
        if (level < 0) {
            snprintf(msg, msglen, "\"%s\" is not one of error, warn, info, "
                     "debug", value);
            return -1;
        }

        *(int *) (void *) field = level;
        return 0;

    case DGJ_CONF_PASSWORD:
        return dgj_conf_read_password(value, conf, msg, msglen);
    }

    snprintf(msg, msglen, "unhandled key type");

    return -1;
}


static int
dgj_conf_read_password(const char *path, dgj_conf_t *conf, char *msg,
    size_t msglen)
{
    if (dgj_conf_read_secret(path, conf->db_password,
                             sizeof(conf->db_password), msg, msglen)
        == -1)
    {
        return -1;
    }

    return 0;
}


static int
dgj_conf_uint(const char *s, int suffix, unsigned long *out)
{
    char                *end;
    unsigned long        n, mul;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    n = strtoul(s, &end, 10);
    if (errno != 0) {
        return -1;
    }

    mul = 1;

    if (suffix && (*end == 'k' || *end == 'K')) {
        mul = 1024;
        end++;

    } else if (suffix && (*end == 'm' || *end == 'M')) {
        mul = 1024 * 1024;
        end++;
    }

    if (*end != '\0') {
        return -1;
    }

    if (n > ULONG_MAX / mul) {
        return -1;
    }

    *out = n * mul;

    return 0;
}
