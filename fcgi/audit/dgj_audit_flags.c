
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_flags.c: what in a record looks like an attack, for the live
 * view of attack/defence drills (攻防演练) and the search results: the
 * user agents of scanners and of scripts, and SQL injection, script
 * injection and path traversal in the path and query.  Signatures, not
 * proof: a flag asks the auditor to look (docs/audit.md).  No I/O.
 */


#include "dgj_core.h"
#include "dgj_audit.h"

#include <ctype.h>


/* a path is at most 2048 bytes in audit_records; decoding only shrinks */
#define DGJ_AUDIT_FLAGS_MAX  4096


/* lower case substrings of the User-Agent of known scanners */
static const char *const  dgj_audit_scanners[] = {
    "sqlmap", "nikto", "nmap", "masscan", "dirbuster", "gobuster",
    "nuclei", "zgrab", "wpscan", "acunetix", "netsparker", "nessus",
    "openvas", "w3af", "burp", "hydra", "feroxbuster", "fuzz faster u fool",
    "ffuf", "wfuzz", "arachni", "skipfish", "whatweb", "dirsearch",
    "jaeles", "xray", "goby", "awvs", "appscan", "webinspect", "zmeu",
    "morfeus", "paros", "qualys", "commix", "joomscan", "droopescan",
    "havij", "censys", "shodan",
    NULL
};

/* ... and of scripts and HTTP libraries: nobody browses with these */
static const char *const  dgj_audit_tools[] = {
    "curl", "wget", "python-requests", "python-urllib", "python-httpx",
    "aiohttp", "python/", "go-http-client", "libwww-perl", "lwp::",
    "http-tiny", "java/", "okhttp", "apache-httpclient", "postmanruntime",
    "insomnia", "httpie", "node-fetch", "axios/", "undici", "powershell",
    "winhttp", "scrapy", "guzzlehttp", "ruby", "php/", "reqwest",
    NULL
};

static const char *const  dgj_audit_sqli[] = {
    "union select", "union all select", "union distinct select",
    "sleep(", "benchmark(", "pg_sleep(", "waitfor delay", "extractvalue(",
    "updatexml(", "load_file(", "into outfile", "into dumpfile",
    "information_schema", "xp_cmdshell", "@@version", "dbms_pipe",
    "utl_http", "sysobjects", "group_concat(", "drop table",
    "truncate table", "select * from", "concat(0x",
    NULL
};

static const char *const  dgj_audit_xss[] = {
    "<script", "</script", "javascript:", "vbscript:", "<img", "<svg",
    "<iframe", "<body", "<object", "<embed", "<details", "<marquee",
    "<math", "document.cookie", "document.domain", "document.write",
    "alert(", "prompt(", "confirm(", "eval(", "fromcharcode", "srcdoc=",
    "expression(", "\"><", "'><",
    NULL
};

static const char *const  dgj_audit_traversal[] = {
    "../", "..\\", "/etc/passwd", "/etc/shadow", "/proc/self/", "win.ini",
    "boot.ini", "c:\\windows", "web-inf/web.xml",
    NULL
};

static const char *const  dgj_audit_flag_names[] = {
    "scanner", "tool", "sqli", "xss", "traversal", "burst"
};


static int dgj_audit_has_any(const char *s, const char *const *list);
static size_t dgj_audit_unescape(char *s, size_t len, int *nul);
static size_t dgj_audit_entities(char *s, size_t len);
static size_t dgj_audit_fold(char *s, size_t len);
static int dgj_audit_quote_sqli(const char *s);
static int dgj_audit_tautology(const char *s);
static int dgj_audit_handler_attr(const char *s);


unsigned
dgj_audit_flags_ua(const char *ua)
{
    char    buf[512];
    size_t  i;

    if (ua == NULL || ua[0] == '\0' || strcmp(ua, "-") == 0) {
        return DGJ_AUDIT_FLAG_TOOL;
    }

    for (i = 0; ua[i] != '\0' && i < sizeof(buf) - 1; i++) {
        buf[i] = (char) tolower((unsigned char) ua[i]);
    }

    buf[i] = '\0';

    if (dgj_audit_has_any(buf, dgj_audit_scanners)) {
        return DGJ_AUDIT_FLAG_SCANNER;
    }

    if (dgj_audit_has_any(buf, dgj_audit_tools)) {
        return DGJ_AUDIT_FLAG_TOOL;
    }

    return 0;
}


unsigned
dgj_audit_flags_path(const char *path)
{
    int       nul;
    char      buf[DGJ_AUDIT_FLAGS_MAX];
    size_t    len;
    unsigned  flags;

    if (path == NULL) {
        return 0;
    }

    len = strlen(path);
    if (len > sizeof(buf) - 1) {
        len = sizeof(buf) - 1;
    }

    memcpy(buf, path, len);
    buf[len] = '\0';

    /* %2527 is %27 is ': attackers encode twice to pass filters */
    nul = 0;
    len = dgj_audit_unescape(buf, len, &nul);
    len = dgj_audit_unescape(buf, len, &nul);
    len = dgj_audit_entities(buf, len);
    (void) dgj_audit_fold(buf, len);

    flags = 0;

    if (dgj_audit_has_any(buf, dgj_audit_sqli)
        || dgj_audit_quote_sqli(buf)
        || dgj_audit_tautology(buf))
    {
        flags |= DGJ_AUDIT_FLAG_SQLI;
    }

    if (dgj_audit_has_any(buf, dgj_audit_xss)
        || dgj_audit_handler_attr(buf))
    {
        flags |= DGJ_AUDIT_FLAG_XSS;
    }

    /* an encoded NUL cuts a file name short in C: null byte injection */
    if (nul || dgj_audit_has_any(buf, dgj_audit_traversal)) {
        flags |= DGJ_AUDIT_FLAG_TRAVERSAL;
    }

    return flags;
}


const char *
dgj_audit_flag_name(unsigned bit)
{
    size_t  i;

    for (i = 0; i < sizeof(dgj_audit_flag_names) / sizeof(char *); i++) {
        if (bit == (1u << i)) {
            return dgj_audit_flag_names[i];
        }
    }

    return NULL;
}


static int
dgj_audit_has_any(const char *s, const char *const *list)
{
    for ( ; *list != NULL; list++) {
        if (strstr(s, *list) != NULL) {
            return 1;
        }
    }

    return 0;
}


static int
dgj_audit_flags_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = tolower(c);

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/* %XX and '+' in place; a decoded NUL becomes a blank and sets *nul */
static size_t
dgj_audit_unescape(char *s, size_t len, int *nul)
{
    int     hi, lo;
    size_t  i, n;

    for (i = 0, n = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len
            && (hi = dgj_audit_flags_hex((unsigned char) s[i + 1])) >= 0
            && (lo = dgj_audit_flags_hex((unsigned char) s[i + 2])) >= 0)
        {
            s[n] = (char) (hi * 16 + lo);
            if (s[n] == '\0') {
                s[n] = ' ';
                *nul = 1;
            }

            n++;
            i += 2;
            continue;
        }

        s[n++] = (s[i] == '+') ? ' ' : s[i];
    }

    s[n] = '\0';

    return n;
}


/* &lt; &gt; &quot; &apos; &#39; &#x3c; ...: entities of ASCII characters */
static size_t
dgj_audit_entities(char *s, size_t len)
{
    char          *semi;
    size_t         i, n, k;
    unsigned long  v;

    static const struct {
        const char  *name;
        char         c;
    } named[] = {
        { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
        { "&apos;", '\'' }, { "&amp;", '&' }, { "&colon;", ':' },
        { "&lpar;", '(' }, { "&rpar;", ')' }
    };

    for (i = 0, n = 0; i < len; ) {
        if (s[i] != '&') {
            s[n++] = s[i++];
            continue;
        }

        for (k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
            if (strncasecmp(s + i, named[k].name, strlen(named[k].name))
                == 0)
            {
                break;
            }
        }

        if (k < sizeof(named) / sizeof(named[0])) {
            s[n++] = named[k].c;
            i += strlen(named[k].name);
            continue;
        }

        if (s[i + 1] == '#') {
            errno = 0;
            if (s[i + 2] == 'x' || s[i + 2] == 'X') {
                v = strtoul(s + i + 3, &semi, 16);

            } else {
                v = strtoul(s + i + 2, &semi, 10);
            }

            if (errno == 0 && semi > s + i + 2 && v > 0 && v < 0x80) {
                s[n++] = (char) v;
                i = (size_t) (semi - s) + (*semi == ';');
                continue;
            }
        }

        s[n++] = s[i++];
    }

    s[n] = '\0';

    return n;
}


/*
 * Lower case; a C-style comment and every run of blanks become one space
 * ("UNION" comment "SELECT", "union<TAB>select"); no blank before '=' or
 * '(' nor after '=' ("onerror = x", "sleep (5)").
 */
static size_t
dgj_audit_fold(char *s, size_t len)
{
    char    c, *end;
    size_t  i, n;
    int     blank;

    blank = 0;

    for (i = 0, n = 0; i < len; i++) {
        c = (char) tolower((unsigned char) s[i]);

        if (c == '/' && s[i + 1] == '*') {
            end = strstr(s + i + 2, "*/");
            i = (end != NULL) ? (size_t) (end - s) + 1 : len;
            blank = 1;
            continue;
        }

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
            || c == '\f')
        {
            blank = 1;
            continue;
        }

        if (blank && n > 0 && c != '=' && c != '(' && s[n - 1] != '=') {
            s[n++] = ' ';
        }

        blank = 0;
        s[n++] = c;
    }

    s[n] = '\0';

    return n;
}


/* after a quote: or / and / || / && as a word, or a comment or ';' */
static int
dgj_audit_quote_sqli(const char *s)
{
    const char  *p, *q;

    for (p = s; (p = strpbrk(p, "'\"")) != NULL; p++) {
        q = p + 1;
        while (*q == ' ' || *q == ')') {
            q++;
        }

        if (strncmp(q, "--", 2) == 0 || *q == '#' || *q == ';'
            || strncmp(q, "||", 2) == 0 || strncmp(q, "&&", 2) == 0)
        {
            return 1;
        }

        if ((strncmp(q, "or", 2) == 0 && !isalnum((unsigned char) q[2]))
            || (strncmp(q, "and", 3) == 0
                && !isalnum((unsigned char) q[3])))
        {
            return 1;
        }
    }

    return 0;
}


/* "or 1=1", "and 2>1": a word or/and, then number op number */
static int
dgj_audit_tautology(const char *s)
{
    size_t       w;
    const char  *p, *q;

    for (p = s; *p != '\0'; p++) {
        if (strncmp(p, "or", 2) == 0) {
            w = 2;

        } else if (strncmp(p, "and", 3) == 0) {
            w = 3;

        } else {
            continue;
        }

        if (p > s && isalnum((unsigned char) p[-1])) {
            continue;
        }

        q = p + w;
        if (*q != ' ' && *q != '(') {
            continue;
        }

        while (*q == ' ' || *q == '(') {
            q++;
        }

        if (!isdigit((unsigned char) *q)) {
            continue;
        }

        while (isdigit((unsigned char) *q)) {
            q++;
        }

        if (*q == '=' || *q == '<' || *q == '>') {
            q++;
            q += (*q == '=');

            if (isdigit((unsigned char) *q)) {
                return 1;
            }
        }
    }

    return 0;
}


/* an event handler attribute: on<letters>= after a blank, quote or / */
static int
dgj_audit_handler_attr(const char *s)
{
    const char  *p, *q;

    for (p = s; (p = strstr(p, "on")) != NULL; p++) {
        if (p == s || strchr(" \"'/;", p[-1]) == NULL) {
            continue;
        }

        q = p + 2;
        while (*q >= 'a' && *q <= 'z') {
            q++;
        }

        if (*q == '=' && q - p >= 5) {
            return 1;
        }
    }

    return 0;
}
