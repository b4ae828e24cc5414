
/*
 * Copyright (C) Daguanjia
 *
 * test_audit_console.c: the pure parts of the auditor's console: what the
 * live view flags (scanner and tool user agents, SQL injection, XSS and
 * traversal in paths, encoded once or twice, with comments and entities)
 * and what it must not flag (ordinary pages, Chinese text); times typed
 * by the auditor (UTC+8) and cursors; CSV cells and the formula guard.
 */


#include "dgj_core.h"
#include "dgj_audit.h"
#include "dgj_pool.h"
#include "dgj_req.h"

#include "testhelp.h"


static const struct {
    const char  *ua;
    unsigned     want;
} test_uas[] = {
    { "sqlmap/1.7.2#stable (https://sqlmap.org)", DGJ_AUDIT_FLAG_SCANNER },
    { "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)",
      DGJ_AUDIT_FLAG_SCANNER },
    { "Mozilla/5.0 (compatible; Nmap Scripting Engine; "
      "https://nmap.org/book/nse.html)", DGJ_AUDIT_FLAG_SCANNER },
    { "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
      DGJ_AUDIT_FLAG_SCANNER },
    { "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/"
      "Category:OWASP_DirBuster_Project)", DGJ_AUDIT_FLAG_SCANNER },
    { "gobuster/3.6", DGJ_AUDIT_FLAG_SCANNER },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Chrome/120.0 Safari/537.36 Nuclei/v3",
      DGJ_AUDIT_FLAG_SCANNER },
    { "Mozilla/5.0 zgrab/0.x", DGJ_AUDIT_FLAG_SCANNER },
    { "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
      DGJ_AUDIT_FLAG_SCANNER },
    { "curl/8.4.0", DGJ_AUDIT_FLAG_TOOL },
    { "python-requests/2.31.0", DGJ_AUDIT_FLAG_TOOL },
    { "Go-http-client/1.1", DGJ_AUDIT_FLAG_TOOL },
    { "Wget/1.21.3", DGJ_AUDIT_FLAG_TOOL },
    { "HTTP-Tiny/0.086", DGJ_AUDIT_FLAG_TOOL },
    { "", DGJ_AUDIT_FLAG_TOOL },
    { NULL, DGJ_AUDIT_FLAG_TOOL },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
      "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
      "MicroMessenger/8.0.44(0x18002c2d) NetType/WIFI Language/zh_CN", 0 },
};


static const struct {
    const char  *path;
    unsigned     want;
} test_paths[] = {
    { "/api/v1/appeals?q=1%27%20UNION%20SELECT%20password%20FROM%20users--",
      DGJ_AUDIT_FLAG_SQLI },
    { "/x?id=1'/**/uNiOn/**/SeLeCt/**/1,2", DGJ_AUDIT_FLAG_SQLI },
    { "/x?id=1%2527%2520or%25201%253D1", DGJ_AUDIT_FLAG_SQLI },
    { "/x?id=1 AND SLEEP (5)", DGJ_AUDIT_FLAG_SQLI },
    { "/x?name=admin'--", DGJ_AUDIT_FLAG_SQLI },
    { "/x?id=1 or 1=1", DGJ_AUDIT_FLAG_SQLI },
    { "/x?id=(select load_file('/etc/hosts'))", DGJ_AUDIT_FLAG_SQLI },
    { "/x?id=1;waitfor delay '0:0:5'", DGJ_AUDIT_FLAG_SQLI },
    { "/x?q=%3Cscript%3Ealert(1)%3C/script%3E", DGJ_AUDIT_FLAG_XSS },
    { "/x?q=%253Csvg%2520onload%253Dalert(1)%253E", DGJ_AUDIT_FLAG_XSS },
    { "/x?next=javascript:alert(document.cookie)", DGJ_AUDIT_FLAG_XSS },
    { "/x?q=\"><img src=x onerror = prompt(1)>", DGJ_AUDIT_FLAG_XSS },
    { "/x?q=&lt;script&gt;", DGJ_AUDIT_FLAG_XSS },
    { "/x?q=&#60;iframe src=//evil>", DGJ_AUDIT_FLAG_XSS },
    { "/static/../../etc/passwd", DGJ_AUDIT_FLAG_TRAVERSAL },
    { "/x?file=..%2f..%2fwin.ini", DGJ_AUDIT_FLAG_TRAVERSAL },
    { "/x?file=report.pdf%00.jpg", DGJ_AUDIT_FLAG_TRAVERSAL },
    { "/", 0 },
    { "/api/v1/appeals?status=open&order=created_at&limit=20", 0 },
    { "/api/v1/categories", 0 },
    { "/x?q=%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE", 0 },
    { "/x?title=rock'n'roll&order=desc", 0 },
    { "/x?onboarding=1&organisation=on", 0 },
    { "/x?q=select a category from the list", 0 },
    { "/x?code=***&phone=***", 0 },
};


static const struct {
    const char  *in;
    int64_t      ms;            /* -1: refused */
} test_times[] = {
    { "2026-11-30T21:15:12.345+08:00", 1796044512345LL },
    { "2026-11-30T21:15:12.345", 1796044512345LL },
    { "2026-11-30 21:15:12.3456789", 1796044512345LL },
    { "2026-11-30T13:15:12.345Z", 1796044512345LL },
    { "2026-11-30T05:15:12.345-08:00", 1796044512345LL },
    { "2026-11-30T21:15", 1796044500000LL },
    { "2026-11-30", 1795968000000LL },
    { "1970-01-01T08:00", 0 },
    { "2028-02-29T00:00", 1835366400000LL },
    { "2026-02-29T00:00", -1 },
    { "2026-13-01", -1 },
    { "2026-11-31", -1 },
    { "2026-11-30T24:00", -1 },
    { "2026-11-30T21:60", -1 },
    { "2026-11-30T21:15:12.", -1 },
    { "2026-11-30T21:15+8", -1 },
    { "2026-11-30 ", -1 },
    { "26-11-30", -1 },
    { "", -1 },
    { "2026-11-30T21:15:12Z junk", -1 },
};


static const struct {
    const char  *in;
    const char  *out;
} test_cells[] = {
    { "plain", "plain," },
    { "a,b", "\"a,b\"," },
    { "say \"hi\"", "\"say \"\"hi\"\"\"," },
    { "two\nlines", "\"two\nlines\"," },
    { "=HYPERLINK(\"http://x\",\"y\")",
      "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"," },
    { "+1+1", "'+1+1," },
    { "-2+3", "'-2+3," },
    { "@SUM(A1)", "'@SUM(A1)," },
    { "\tcmd", "'\tcmd," },
    { "路灯不亮", "路灯不亮," },
    { "", "," },
};


int
main(void)
{
    char                 buf[128], *out;
    size_t               i;
    int64_t              ms;
    unsigned             got;
    dgj_req_t            r;
    dgj_pool_t          *pool;
    dgj_audit_csv_t     *csv;
    dgj_audit_cursor_t   c, d;

    for (i = 0; i < sizeof(test_uas) / sizeof(test_uas[0]); i++) {
        got = dgj_audit_flags_ua(test_uas[i].ua);
        snprintf(buf, sizeof(buf), "flags-1.%zu: user agent \"%.40s\" is "
                 "%s", i, test_uas[i].ua ? test_uas[i].ua : "(none)",
                 test_uas[i].want == DGJ_AUDIT_FLAG_SCANNER ? "a scanner"
                 : test_uas[i].want == DGJ_AUDIT_FLAG_TOOL ? "a tool"
                 : "a browser");
        test_cond(buf, got == test_uas[i].want);
    }

    for (i = 0; i < sizeof(test_paths) / sizeof(test_paths[0]); i++) {
        got = dgj_audit_flags_path(test_paths[i].path);
        snprintf(buf, sizeof(buf), "flags-2.%zu: %.60s -> %x", i,
                 test_paths[i].path, test_paths[i].want);
        test_cond(buf, got == test_paths[i].want);
    }

    test_cond("flags-3.1: bit names in order",
              strcmp(dgj_audit_flag_name(DGJ_AUDIT_FLAG_SCANNER), "scanner")
              == 0
              && strcmp(dgj_audit_flag_name(DGJ_AUDIT_FLAG_BURST), "burst")
                 == 0
              && dgj_audit_flag_name(0x40) == NULL);

    test_cond("flags-3.2: a NULL path has no flag",
              dgj_audit_flags_path(NULL) == 0);

    {
        /* longer than any stored path: looked at up to the buffer */
        char  big[6000];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        memcpy(big, "/x?q=<script>", 13);
        test_cond("flags-3.3: a path longer than the buffer is cut, not "
                  "overrun", dgj_audit_flags_path(big) == DGJ_AUDIT_FLAG_XSS);
    }

    for (i = 0; i < sizeof(test_times) / sizeof(test_times[0]); i++) {
        ms = -1;
        got = dgj_audit_ms_parse(test_times[i].in, &ms) == 0;
        snprintf(buf, sizeof(buf), "time-1.%zu: \"%s\" %s", i,
                 test_times[i].in,
                 test_times[i].ms < 0 ? "refused" : "parsed");
        test_cond(buf, test_times[i].ms < 0
                       ? !got : (got && ms == test_times[i].ms));
    }

    dgj_audit_ms_sql(1796044512345LL, buf, sizeof(buf));
    test_cond("time-2.1: the ts column is UTC",
              strcmp(buf, "2026-11-30 13:15:12.345") == 0);

    dgj_audit_ms_local(1796044512005LL, buf, sizeof(buf));
    test_cond("time-2.2: shown in UTC+8 with milliseconds",
              strcmp(buf, "2026-11-30T21:15:12.005+08:00") == 0);

    c.ms = 1796044512345LL;
    c.id = 18446744073709551615ULL;
    dgj_audit_cursor_format(&c, buf, sizeof(buf));
    test_cond("time-3.1: a cursor round-trips",
              dgj_audit_cursor_parse(buf, &d) == 0 && d.ms == c.ms
              && d.id == c.id);
    test_cond("time-3.2: a cursor not made here is refused",
              dgj_audit_cursor_parse("1.2.3", &d) != 0
              && dgj_audit_cursor_parse("-1.2", &d) != 0
              && dgj_audit_cursor_parse("1.", &d) != 0
              && dgj_audit_cursor_parse("x", &d) != 0
              && dgj_audit_cursor_parse("1.99999999999999999999", &d) != 0);

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 1;
    }

    memset(&r, 0, sizeof(r));
    r.pool = pool;

    for (i = 0; i < sizeof(test_cells) / sizeof(test_cells[0]); i++) {
        csv = dgj_audit_csv_create(&r);
        if (csv == NULL) {
            return 1;
        }

        dgj_audit_csv_cell(csv, test_cells[i].in, strlen(test_cells[i].in),
                           0);
        snprintf(buf, sizeof(buf), "csv-1.%zu: cell %.40s", i,
                 test_cells[i].in);
        test_cond(buf, !csv->failed
                       && csv->len == strlen(test_cells[i].out)
                       && memcmp(csv->data, test_cells[i].out, csv->len)
                          == 0);
    }

    csv = dgj_audit_csv_create(&r);
    if (csv == NULL) {
        return 1;
    }

    dgj_audit_csv_cell(csv, "a", 1, 0);
    dgj_audit_csv_cell(csv, NULL, 0, 0);
    dgj_audit_csv_cell(csv, "c", 1, 1);
    test_cond("csv-2.1: NULL is an empty cell, a row ends in CRLF",
              csv->len == 6 && memcmp(csv->data, "a,,c\r\n", 6) == 0);

    out = malloc(300000);
    if (out == NULL) {
        return 1;
    }

    memset(out, 'x', 300000);
    dgj_audit_csv_cell(csv, out, 300000, 1);
    test_cond("csv-2.2: the buffer grows past its first 64 KiB",
              !csv->failed && csv->len == 6 + 300002);
    free(out);

    /* the pool's cleanups free the buffers: ASan would report a leak */
    dgj_pool_destroy(pool);

    return test_report();
}
