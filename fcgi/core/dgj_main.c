
/*
 * Copyright (C) Daguanjia
 *
 * dgj_main.c: the dgj-fcgi command line: -c CONFIG runs the pool, -t
 * tests the configuration, -v prints the version; -D, -B and -W are
 * one-shot jobs on the pool's database.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_bans.h"
#include "dgj_conf.h"
#include "dgj_log.h"
#include "dgj_supervisor.h"
#include "dgj_workflow.h"

#include <unistd.h>


static void dgj_main_usage(FILE *f);


int
main(int argc, char **argv)
{
    int          c, test, rc, bans, sweep;
    char         err[1024];
    const char  *path, *demo;
    dgj_conf_t  *conf;

    path = NULL;
    demo = NULL;
    test = 0;
    bans = 0;
    sweep = 0;

    while ((c = getopt(argc, argv, "c:D:BWtvh")) != -1) {
        switch (c) {

        case 'c':
            path = optarg;
            break;

        case 't':
            test = 1;
            break;

        case 'D':
            demo = optarg;
            break;

        case 'B':
            bans = 1;
            break;

        case 'W':
            sweep = 1;
            break;

        case 'v':
            printf("dgj-fcgi %s\n", DGJ_VERSION);
            return 0;

        case 'h':
            dgj_main_usage(stdout);
            return 0;

        default:
            dgj_main_usage(stderr);
            return 1;
        }
    }

    if (path == NULL || optind != argc) {
        dgj_main_usage(stderr);
        return 1;
    }

    conf = malloc(sizeof(dgj_conf_t));
    if (conf == NULL) {
        fprintf(stderr, "dgj-fcgi: out of memory\n");
        return 1;
    }

    if (dgj_conf_load(path, conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "dgj-fcgi: %s\n", err);
        free(conf);
        return 1;
    }

    if (test) {
        printf("dgj-fcgi: configuration file %s test is successful\n",
               path);
        explicit_bzero(conf, sizeof(dgj_conf_t));
        free(conf);
        return 0;
    }

    if (demo != NULL || bans || sweep) {
        /* the pool's log, not the terminal of `make run` */
        dgj_log_set_level(conf->log_level);
        if (strcmp(conf->log_file, "stderr") != 0
            && dgj_log_open(conf->log_file) != 0)
        {
            fprintf(stderr, "dgj-fcgi: cannot open %s\n", conf->log_file);
        }

        if (bans) {
            rc = (dgj_bans_sync(conf) == 0) ? 0 : 1;

        } else if (sweep) {
            rc = (dgj_wf_sweep(conf) == 0) ? 0 : 1;

        } else {
            rc = (dgj_accounts_demo(conf, demo) == 0) ? 0 : 1;
        }

    } else {
        rc = dgj_supervisor_run(path, conf, argv);
    }

    explicit_bzero(conf, sizeof(dgj_conf_t));
    free(conf);

    return rc;
}


static void
dgj_main_usage(FILE *f)
{
    fprintf(f, "usage: dgj-fcgi -c CONFIG [-t | -D FILE | -B | -W]\n"
               "       dgj-fcgi -v\n"
               "  -c CONFIG  run the pool described by CONFIG\n"
               "  -t         test the configuration and exit\n"
               "  -D FILE    create the missing demo accounts, append their\n"
               "             credentials to FILE and exit\n"
               "  -B         write the bans in force (MariaDB) to ban_file "
               "and exit\n"
               "  -W         run the time-driven workflow actions once "
               "(auto-close\n"
               "             after the rating window) and exit\n"
               "  -v         print the version and exit\n");
}
