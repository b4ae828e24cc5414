
/*
 * Copyright (C) Daguanjia
 *
 * test_peers.c: dgj_sms and dgj_wechat against tests/fakes/peers.mjs,
 * which this test starts itself (node, port 0, killed at exit): SMS sent
 * and recorded with its code, wrong key, gateway error, timeout within
 * peer_timeout + 1 s, dropped connection, refused connection; WeChat
 * authorise URL, code exchange, invalid, reused and malformed codes, bad
 * secret, system error, timeout, a bad openid; and that the log never
 * holds a code or a secret.
 */


#include "dgj_core.h"
#include "dgj_conf.h"
#include "dgj_log.h"
#include "dgj_peer.h"
#include "dgj_pool.h"
#include "dgj_req.h"
#include "dgj_sms.h"
#include "dgj_wechat.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testhelp.h"


#define TEST_SMS_KEY     "sms-key-5f1c9e"
#define TEST_WX_SECRET   "wx-secret-a77d02"
#define TEST_WX_APPID    "wx1234567890abcdef"
#define TEST_CODE        "704215"


static pid_t          fake_pid;
static char           dir[64];
static char           port[16];
static dgj_conf_t     conf;
static dgj_pool_t    *pool;
static dgj_req_t      r;
static dgj_test_io_t  t;


static void
test_stop_fake(void)
{
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        waitpid(fake_pid, NULL, 0);
        fake_pid = 0;
    }
}


static void
test_write(const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    dgj_test_write_file(path, text);
}


/* starts the fake, returns 0 when it printed its port */
static int
test_start_fake(const char *sms_key, const char *wx_secret)
{
    int            fd[2];
    char           line[64], *p;
    size_t         n;
    ssize_t        k;
    struct pollfd  pfd;

    if (pipe(fd) == -1) {
        return -1;
    }

    fake_pid = fork();
    if (fake_pid == -1) {
        return -1;
    }

    if (fake_pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execlp("node", "node", "tests/fakes/peers.mjs", "--port", "0",
               "--sms-key-file", sms_key, "--wechat-appid", TEST_WX_APPID,
               "--wechat-secret-file", wx_secret, (char *) NULL);
        _exit(127);
    }

    close(fd[1]);
    atexit(test_stop_fake);

    n = 0;
    pfd.fd = fd[0];
    pfd.events = POLLIN;

    /* node may start slowly on a busy machine */
    while (n < sizeof(line) - 1 && poll(&pfd, 1, 20000) == 1) {
        k = read(fd[0], line + n, 1);
        if (k != 1 || line[n] == '\n') {
            break;
        }

        n++;
    }

    line[n] = '\0';
    close(fd[0]);

    if (strncmp(line, "PORT ", 5) != 0) {
        return -1;
    }

    for (p = line + 5; *p >= '0' && *p <= '9'; p++) {
        /* void */
    }

    if (p == line + 5 || *p != '\0' || strlen(line + 5) >= sizeof(port)) {
        return -1;
    }

    strcpy(port, line + 5);

    return 0;
}


/* a fresh request on the configured conf */
static dgj_req_t *
test_req(void)
{
    dgj_pool_reset(pool);
    dgj_test_io_init(&t, NULL, NULL);
    dgj_req_init(&r, pool, &t.io, 4096);
    r.conf = &conf;

    return &r;
}


/* drives the fake's control routes; the answer body or NULL */
static const char *
test_fake(const char *path, const char *body)
{
    char            url[256];
    dgj_peer_res_t  res;

    snprintf(url, sizeof(url), "http://127.0.0.1:%s%s", port, path);

    if (dgj_peer_request(test_req(), url, NULL, body,
                         body != NULL ? strlen(body) : 0, &res) != DGJ_OK
        || res.status != 200)
    {
        return NULL;
    }

    return res.body;
}


static int
test_mode(const char *json)
{
    return test_fake("/_fake/mode", json) != NULL;
}


/* rc and the recorded code are as expected */
static int
test_failed(dgj_rc_t rc, dgj_rc_t want, const char *code)
{
    if (rc != want || r.err_code == NULL || strcmp(r.err_code, code) != 0) {
        printf("#   rc %d code %s err \"%s\"\n", (int) rc,
               r.err_code != NULL ? r.err_code : "(none)", r.err);
        return 0;
    }

    return 1;
}


int
main(void)
{
    int                 ok;
    char                key_path[128], bad_key_path[128], wx_path[128];
    char                log_path[128], buf[8192], *url;
    FILE               *f;
    size_t              n;
    double              t0, took;
    dgj_rc_t            rc;
    const char         *body;
    dgj_wechat_user_t   user;

    /* the fake is on loopback: never through a proxy */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");

    snprintf(dir, sizeof(dir), "/tmp/dgj-test-peers-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return 2;
    }

    test_write("sms.key", TEST_SMS_KEY "\n", key_path, sizeof(key_path));
    test_write("bad.key", "not-the-key\n", bad_key_path,
               sizeof(bad_key_path));
    test_write("wx.secret", TEST_WX_SECRET "\n", wx_path, sizeof(wx_path));
    snprintf(log_path, sizeof(log_path), "%s/test.log", dir);
    dgj_log_open(log_path);

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 2;
    }

    test_cond("peers-0.1: the fake peers start and print their port",
              test_start_fake(key_path, wx_path) == 0);
    if (fake_pid <= 0 || port[0] == '\0') {
        return test_report();
    }

    dgj_conf_defaults(&conf);
    snprintf(conf.sms_url, sizeof(conf.sms_url), "http://127.0.0.1:%s/",
             port);
    snprintf(conf.wechat_url, sizeof(conf.wechat_url),
             "http://127.0.0.1:%s", port);
    snprintf(conf.wechat_auth_url, sizeof(conf.wechat_auth_url),
             "http://127.0.0.1:%s", port);
    snprintf(conf.sms_key_file, sizeof(conf.sms_key_file), "%s", key_path);
    snprintf(conf.wechat_secret_file, sizeof(conf.wechat_secret_file), "%s",
             wx_path);
    snprintf(conf.wechat_appid, sizeof(conf.wechat_appid), TEST_WX_APPID);
    conf.peer_timeout = 1;

    /* SMS */
    rc = dgj_sms_send(test_req(), "13800138000", "login_code", TEST_CODE);
    test_cond("peers-1.1: an SMS is accepted", rc == DGJ_OK);

    body = test_fake("/_fake/sms?phone=13800138000", NULL);
    test_cond("peers-1.2: the gateway recorded phone, template, code, sign",
              body != NULL
              && strstr(body, "\"phone\":\"13800138000\"") != NULL
              && strstr(body, "\"template\":\"login_code\"") != NULL
              && strstr(body, "\"params\":{\"code\":\"" TEST_CODE "\"}")
                 != NULL
              && strstr(body, "\"sign\":\"" DGJ_SMS_SIGN "\"") != NULL);

    snprintf(conf.sms_key_file, sizeof(conf.sms_key_file), "%s",
             bad_key_path);
    rc = dgj_sms_send(test_req(), "13800138000", "login_code", TEST_CODE);
    test_cond("peers-1.3: a wrong key is sms_failed (502) with a "
              "try-again message",
              test_failed(rc, DGJ_ERR_PEER, "sms_failed")
              && strstr(r.err, "try again") != NULL);
    snprintf(conf.sms_key_file, sizeof(conf.sms_key_file), "%s", key_path);

    ok = test_mode("{\"sms\":\"error\"}");
    rc = dgj_sms_send(test_req(), "13800138000", "login_code", TEST_CODE);
    test_cond("peers-1.4: a gateway refusal (BUSINESS_LIMIT_CONTROL) is "
              "sms_failed", ok && test_failed(rc, DGJ_ERR_PEER, "sms_failed"));

    ok = test_mode("{\"sms\":\"timeout\"}");
    t0 = dgj_test_now();
    rc = dgj_sms_send(test_req(), "13800138000", "login_code", TEST_CODE);
    took = dgj_test_now() - t0;
    printf("# SMS timeout after %.2f s (peer_timeout 1)\n", took);
    test_cond("peers-1.5: a silent gateway is sms_failed within "
              "peer_timeout + 1 s",
              ok && test_failed(rc, DGJ_ERR_PEER, "sms_failed")
              && took < conf.peer_timeout + 1.0);

    ok = test_mode("{\"sms\":\"down\"}");
    rc = dgj_sms_send(test_req(), "13800138000", "login_code", TEST_CODE);
    test_cond("peers-1.6: a dropped connection is sms_failed",
              ok && test_failed(rc, DGJ_ERR_PEER, "sms_failed"));
    test_mode("{\"sms\":\"ok\"}");

    snprintf(conf.sms_url, sizeof(conf.sms_url), "http://127.0.0.1:1");
    rc = dgj_sms_send(test_req(), "13800138000", "login_code", TEST_CODE);
    test_cond("peers-1.7: a refused connection is sms_failed",
              test_failed(rc, DGJ_ERR_PEER, "sms_failed"));
    snprintf(conf.sms_url, sizeof(conf.sms_url), "http://127.0.0.1:%s",
             port);

    rc = dgj_sms_send(test_req(), "+8613800138000", "login_code",
                      TEST_CODE);
    test_cond("peers-1.8: a phone not in 11-digit form is phone_invalid",
              test_failed(rc, DGJ_ERR_INPUT, "phone_invalid"));

    snprintf(conf.sms_key_file, sizeof(conf.sms_key_file), "%s/none", dir);
    rc = dgj_sms_send(test_req(), "13800138000", "login_code", TEST_CODE);
    test_cond("peers-1.9: a missing key file is an internal error",
              rc == DGJ_ERR_INTERNAL);
    snprintf(conf.sms_key_file, sizeof(conf.sms_key_file), "%s", key_path);

    body = test_fake("/_fake/sms?phone=13800138000", NULL);
    test_cond("peers-1.10: only the accepted SMS was recorded",
              body != NULL && strstr(body, "},{") == NULL);

    /* WeChat: the authorise URL */
    rc = dgj_wechat_authorize_url(test_req(),
                                  "https://dg.example.cn/wx/cb?next=/a b",
                                  "St4te9", &url);
    snprintf(buf, sizeof(buf), "http://127.0.0.1:%s/connect/oauth2/"
             "authorize?appid=" TEST_WX_APPID "&redirect_uri=https%%3A%%2F"
             "%%2Fdg.example.cn%%2Fwx%%2Fcb%%3Fnext%%3D%%2Fa%%20b"
             "&response_type=code&scope=snsapi_base&state=St4te9"
             "#wechat_redirect", port);
    test_cond("peers-2.1: the authorise URL encodes redirect_uri",
              rc == DGJ_OK && strcmp(url, buf) == 0);

    ok = dgj_wechat_authorize_url(test_req(), "https://x/", "a&b", &url)
         == DGJ_ERR_INTERNAL
         && dgj_wechat_authorize_url(test_req(), "https://x/", "", &url)
            == DGJ_ERR_INTERNAL;
    test_cond("peers-2.2: a state outside [A-Za-z0-9]{1,128} is refused",
              ok);

    /* WeChat: the exchange */
    ok = test_fake("/_fake/wechat/codes",
                   "{\"code\":\"0a1B2c-ok\",\"openid\":\"oAbC_12-xyz\"}")
         != NULL;
    rc = dgj_wechat_exchange(test_req(), "0a1B2c-ok", &user);
    test_cond("peers-3.1: a registered code yields its openid",
              ok && rc == DGJ_OK && strcmp(user.openid, "oAbC_12-xyz") == 0
              && strcmp(user.scope, "snsapi_base") == 0
              && user.expires_in == 7200 && user.unionid[0] == '\0');

    rc = dgj_wechat_exchange(test_req(), "0a1B2c-ok", &user);
    test_cond("peers-3.2: a used code (40163) is wechat_code_invalid, 401",
              test_failed(rc, DGJ_ERR_UNAUTH, "wechat_code_invalid")
              && user.openid[0] == '\0');

    rc = dgj_wechat_exchange(test_req(), "never-issued", &user);
    test_cond("peers-3.3: an unknown code (40029) is wechat_code_invalid",
              test_failed(rc, DGJ_ERR_UNAUTH, "wechat_code_invalid"));

    rc = dgj_wechat_exchange(test_req(), "a b&secret=x", &user);
    test_cond("peers-3.4: a malformed code is refused before any call",
              test_failed(rc, DGJ_ERR_UNAUTH, "wechat_code_invalid"));

    test_fake("/_fake/wechat/codes",
              "{\"code\":\"code-2\",\"openid\":\"oAbC_12-xyz\"}");
    test_write("bad.secret", "wrong\n", bad_key_path, sizeof(bad_key_path));
    snprintf(conf.wechat_secret_file, sizeof(conf.wechat_secret_file), "%s",
             bad_key_path);
    rc = dgj_wechat_exchange(test_req(), "code-2", &user);
    test_cond("peers-3.5: a bad AppSecret (40125) is wechat_failed, 502",
              test_failed(rc, DGJ_ERR_PEER, "wechat_failed"));
    snprintf(conf.wechat_secret_file, sizeof(conf.wechat_secret_file), "%s",
             wx_path);

    ok = test_mode("{\"wechat\":\"error\"}");
    rc = dgj_wechat_exchange(test_req(), "code-2", &user);
    test_cond("peers-3.6: system busy (-1) is wechat_failed",
              ok && test_failed(rc, DGJ_ERR_PEER, "wechat_failed"));

    ok = test_mode("{\"wechat\":\"timeout\"}");
    t0 = dgj_test_now();
    rc = dgj_wechat_exchange(test_req(), "code-2", &user);
    took = dgj_test_now() - t0;
    test_cond("peers-3.7: a silent WeChat is wechat_failed within "
              "peer_timeout + 1 s",
              ok && test_failed(rc, DGJ_ERR_PEER, "wechat_failed")
              && took < conf.peer_timeout + 1.0);
    test_mode("{\"wechat\":\"ok\"}");

    rc = dgj_wechat_exchange(test_req(), "code-2", &user);
    test_cond("peers-3.8: the code still works after the failures",
              rc == DGJ_OK && strcmp(user.openid, "oAbC_12-xyz") == 0);

    test_fake("/_fake/wechat/codes",
              "{\"code\":\"code-3\",\"openid\":\"bad openid!\"}");
    rc = dgj_wechat_exchange(test_req(), "code-3", &user);
    test_cond("peers-3.9: an answer with a malformed openid is "
              "wechat_failed",
              test_failed(rc, DGJ_ERR_PEER, "wechat_failed")
              && user.openid[0] == '\0');

    /* the log: failures are there, secrets and codes are not */
    test_stop_fake();
    dgj_log_open("/dev/null");

    f = fopen(log_path, "r");
    n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f != NULL) {
        fclose(f);
    }

    test_cond("peers-4.1: the log names the failures, phones masked",
              strstr(buf, "sms") != NULL && strstr(buf, "errcode 40125")
              != NULL && strstr(buf, "138****8000") != NULL
              && strstr(buf, "13800138000") == NULL);
    test_cond("peers-4.2: the log holds no code, key or secret",
              strstr(buf, TEST_CODE) == NULL
              && strstr(buf, TEST_SMS_KEY) == NULL
              && strstr(buf, TEST_WX_SECRET) == NULL
              && strstr(buf, "0a1B2c-ok") == NULL
              && strstr(buf, "code-2") == NULL);

    dgj_pool_destroy(pool);

    unlink(log_path);
    snprintf(buf, sizeof(buf), "%s/sms.key", dir);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s/bad.key", dir);
    unlink(buf);
    unlink(bad_key_path);
    unlink(wx_path);
    rmdir(dir);

    return test_report();
}
