
/*
 * Copyright (C) Daguanjia
 *
 * test_conf.c: dgj_conf: defaults, every key, comments, size suffixes,
 * the password file, and that each kind of mistake is an error naming
 * file:line.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_log.h"

#include <unistd.h>

#include "testhelp.h"


static char  dir[64];
static char  path[128];
static char  pwpath[128];
static char  err[1024];


static int
test_conf_load(const char *text, dgj_conf_t *conf)
{
    dgj_test_write_file(path, text);

    err[0] = '\0';

    return dgj_conf_load(path, conf, err, sizeof(err));
}


/* 1 when loading text fails with an error containing want */
static int
test_conf_fails(const char *text, const char *want)
{
    char        full[256];
    dgj_conf_t  conf;

    if (test_conf_load(text, &conf) != -1) {
        printf("#   loaded although it should not\n");
        return 0;
    }

    snprintf(full, sizeof(full), "%s%s", strncmp(want, ":", 1) == 0
             ? path : "", want);

    if (strstr(err, full) == NULL) {
        printf("#   error \"%s\" lacks \"%s\"\n", err, full);
        return 0;
    }

    return 1;
}


int
main(void)
{
    int          ok;
    FILE        *f;
    char         text[2048];
    dgj_conf_t   conf;

    snprintf(dir, sizeof(dir), "/tmp/dgj-test-conf-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return 2;
    }

    snprintf(path, sizeof(path), "%s/pool.conf", dir);
    snprintf(pwpath, sizeof(pwpath), "%s/db.pw", dir);

    f = fopen(pwpath, "w");
    if (f == NULL) {
        return 2;
    }

    fputs("s3cret pw\n", f);
    fclose(f);

    ok = test_conf_load("socket = /run/a.sock\ndb_socket = /run/m.sock\n",
                        &conf) == 0;
    test_cond("conf-1.1: socket and db_socket are enough", ok);
    test_cond("conf-1.2: the defaults apply",
              ok && conf.workers == 2 && conf.max_requests == 10000
              && conf.max_body == 1048576 && strcmp(conf.db_name, "dgj") == 0
              && strcmp(conf.db_user, "dgj_app") == 0
              && strcmp(conf.log_file, "stderr") == 0
              && strcmp(conf.routes, "all") == 0 && conf.pid_file[0] == '\0'
              && conf.user[0] == '\0' && conf.db_password[0] == '\0'
              && conf.log_level == DGJ_LOG_INFO);

    snprintf(text, sizeof(text),
             "# a pool\n"
             "\n"
             "   socket   =   /run/dgj/reference.sock  \n"
             "workers=4\n"
             "max_requests = 500\n"
             "max_body = 64k\n"
             "\t# indented comment\n"
             "db_socket = /run/mysqld.sock\n"
             "db_name = dgj_test\n"
             "db_user = dgj_ro\n"
             "db_password_file = %s\n"
             "db_connect_timeout = 2\n"
             "db_read_timeout = 7\n"
             "db_write_timeout = 8\n"
             "log_file = /var/log/dgj.log\n"
             "log_level = debug\n"
             "pid_file = /run/dgj.pid\n"
             "routes = reference\n"
             "user = www-data\n", pwpath);

    ok = test_conf_load(text, &conf) == 0;
    if (!ok) {
        printf("#   %s\n", err);
    }

    test_cond("conf-1.3: every key loads",
              ok && strcmp(conf.socket, "/run/dgj/reference.sock") == 0
              && conf.workers == 4 && conf.max_requests == 500
              && conf.max_body == 65536 && strcmp(conf.db_name, "dgj_test")
                 == 0
              && strcmp(conf.db_user, "dgj_ro") == 0
              && conf.db_connect_timeout == 2 && conf.db_read_timeout == 7
              && conf.db_write_timeout == 8
              && strcmp(conf.log_file, "/var/log/dgj.log") == 0
              && conf.log_level == DGJ_LOG_DEBUG
              && strcmp(conf.pid_file, "/run/dgj.pid") == 0
              && strcmp(conf.routes, "reference") == 0
              && strcmp(conf.user, "www-data") == 0);
    test_cond("conf-1.4: the password file is read, newline dropped",
              ok && strcmp(conf.db_password, "s3cret pw") == 0);

    ok = test_conf_load("socket = /a\ndb_socket = /b\nmax_body = 2m\n"
                        "routes = all\n", &conf) == 0;
    test_cond("conf-1.5: size suffix m and routes all",
              ok && conf.max_body == 2097152);

    test_cond("conf-2.1: an unknown key names file:line",
              test_conf_fails("socket = /a\n\nsockets = /b\n",
                              ":3: unknown key \"sockets\""));
    test_cond("conf-2.2: a non-number names file:line",
              test_conf_fails("socket = /a\nworkers = four\n",
                              ":2: \"workers\": \"four\" is not a"));
    test_cond("conf-2.3: workers 0 is out of range",
              test_conf_fails("socket = /a\nworkers = 0\n",
                              ":2: \"workers\": 0 is out of range 1..256"));
    test_cond("conf-2.4: workers 1000 is out of range",
              test_conf_fails("workers = 1000\n", ":1: \"workers\": 1000"));
    test_cond("conf-2.5: a negative number is refused",
              test_conf_fails("max_requests = -1\n", ":1: \"max_requests\""));
    test_cond("conf-2.6: a duplicate key is refused",
              test_conf_fails("socket = /a\nsocket = /b\n",
                              ":2: duplicate key \"socket\""));
    test_cond("conf-2.7: a missing required key is named",
              test_conf_fails("socket = /a\n",
                              ": missing required key \"db_socket\""));
    test_cond("conf-2.8: an unknown log level is refused",
              test_conf_fails("log_level = loud\n", ":1: \"log_level\""));
    test_cond("conf-2.9: a missing password file is named",
              test_conf_fails("db_password_file = /nonexistent/pw\n",
                              ":1: \"db_password_file\": cannot open "
                              "\"/nonexistent/pw\""));
    test_cond("conf-2.10: an unknown route table is named",
              test_conf_fails("socket = /a\nroutes = reference nope\n",
                              ":2: \"routes\": unknown route table "
                              "\"nope\""));
    test_cond("conf-2.11: \"all\" does not combine",
              test_conf_fails("routes = all reference\n",
                              ":1: \"routes\": \"all\" must stand alone"));
    test_cond("conf-2.12: a table listed twice is refused",
              test_conf_fails("routes = reference reference\n",
                              "listed twice"));
    test_cond("conf-2.13: a line without = is refused",
              test_conf_fails("socket /a\n", ":1: expected \"key = value\""));
    test_cond("conf-2.14: an empty value is refused",
              test_conf_fails("socket =\n", ":1: empty value for \"socket\""));
    test_cond("conf-2.15: a socket path longer than sun_path is refused",
              test_conf_fails("socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                              ":1: \"socket\": value longer than 107"));
    test_cond("conf-2.16: a size with a bad suffix is refused",
              test_conf_fails("max_body = 10g\n", ":1: \"max_body\""));

    unlink(path);
    err[0] = '\0';
    test_cond("conf-2.17: a missing file is named",
              dgj_conf_load(path, &conf, err, sizeof(err)) == -1
              && strstr(err, "cannot open") != NULL);

    {
        char  secret[8];

        dgj_test_write_file(pwpath, "key\r\n");
        test_cond("conf-3.1: read_secret drops one CRLF, returns the length",
                  dgj_conf_read_secret(pwpath, secret, sizeof(secret), err,
                                       sizeof(err)) == 3
                  && strcmp(secret, "key") == 0);

        dgj_test_write_file(pwpath, "\n");
        test_cond("conf-3.2: an empty secret is length 0",
                  dgj_conf_read_secret(pwpath, secret, sizeof(secret), err,
                                       sizeof(err)) == 0
                  && secret[0] == '\0');

        dgj_test_write_file(pwpath, "1234567\n");
        test_cond("conf-3.3: a secret filling the buffer is read",
                  dgj_conf_read_secret(pwpath, secret, sizeof(secret), err,
                                       sizeof(err)) == 7);

        dgj_test_write_file(pwpath, "12345678");
        test_cond("conf-3.4: a longer secret is refused without its bytes",
                  dgj_conf_read_secret(pwpath, secret, sizeof(secret), err,
                                       sizeof(err)) == -1
                  && strstr(err, "longer than 7") != NULL
                  && strstr(err, "1234") == NULL);

        dgj_test_write_file(pwpath, "a\nb\n");
        test_cond("conf-3.5: two lines are refused",
                  dgj_conf_read_secret(pwpath, secret, sizeof(secret), err,
                                       sizeof(err)) == -1
                  && strstr(err, "one line") != NULL);
    }

    unlink(pwpath);
    rmdir(dir);

    return test_report();
}
