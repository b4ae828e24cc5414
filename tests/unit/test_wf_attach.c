
/*
 * Copyright (C) Daguanjia
 *
 * test_wf_attach.c: the pure parts of attachments: the type sniffed from
 * the bytes (and nothing else), the file names accepted from X-File-Name
 * and the Content-Disposition a download carries.
 */


#include "dgj_core.h"
#include "dgj_pool.h"
#include "dgj_req.h"
#include "dgj_workflow_attach.h"

#include "testhelp.h"


static const char *
test_sniff(const char *bytes, size_t n)
{
    const dgj_wf_media_t  *m;

    m = dgj_wf_attach_sniff((const unsigned char *) bytes, n);

    return m != NULL ? m->media_type : "-";
}


/* 1 when raw is refused with a reason */
static int
test_name_refused(dgj_pool_t *pool, const char *raw)
{
    const char  *why;

    return dgj_wf_attach_name(pool, raw, &why) == NULL && why != NULL;
}


int
main(void)
{
    int          ok;
    char         big[2600];
    size_t       i;
    dgj_pool_t  *pool;
    const char  *name, *why, *d;

    static const char  jpeg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01";
    static const char  png[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR";
    static const char  gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00";
    static const char  webp[] = "RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00";
    static const char  pdf[] = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    static const char  html[] = "<!DOCTYPE html><script>alert(1)</script>";
    static const char  svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
    static const char  exe[] = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00";
    static const char  riff[] = "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00";

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 2;
    }

    test_cond("att-1.1: JPEG, PNG, GIF, WebP and PDF are known by their"
              " signatures",
              strcmp(test_sniff(jpeg, sizeof(jpeg) - 1), "image/jpeg") == 0
              && strcmp(test_sniff(png, sizeof(png) - 1), "image/png") == 0
              && strcmp(test_sniff(gif, sizeof(gif) - 1), "image/gif") == 0
              && strcmp(test_sniff(webp, sizeof(webp) - 1), "image/webp")
                 == 0
              && strcmp(test_sniff(pdf, sizeof(pdf) - 1), "application/pdf")
                 == 0);

    test_cond("att-1.2: HTML, SVG, an executable and a RIFF that is not"
              " WebP are nothing",
              strcmp(test_sniff(html, sizeof(html) - 1), "-") == 0
              && strcmp(test_sniff(svg, sizeof(svg) - 1), "-") == 0
              && strcmp(test_sniff(exe, sizeof(exe) - 1), "-") == 0
              && strcmp(test_sniff(riff, sizeof(riff) - 1), "-") == 0);

    test_cond("att-1.3: a bare signature with nothing after it is nothing",
              strcmp(test_sniff("\xff\xd8\xff", 3), "-") == 0
              && strcmp(test_sniff("\x89PNG\r\n\x1a\n", 8), "-") == 0
              && strcmp(test_sniff("GIF89a", 6), "-") == 0
              && strcmp(test_sniff("%PDF-", 5), "-") == 0
              && strcmp(test_sniff("", 0), "-") == 0);

    test_cond("att-1.4: a signature not at the start does not count",
              strcmp(test_sniff(" %PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 16), "-")
              == 0);

    name = dgj_wf_attach_name(pool, "%E7%8E%B0%E5%9C%BA%20photo.jpg", &why);
    test_cond("att-2.1: a percent-encoded UTF-8 name is decoded",
              name != NULL && strcmp(name, "\xe7\x8e\xb0\xe5\x9c\xba photo.jpg")
                              == 0);

    name = dgj_wf_attach_name(pool, "say \"hi\"; x=1.png", &why);
    test_cond("att-2.2: quotes and semicolons are kept (encoded on the way"
              " out)",
              name != NULL && strcmp(name, "say \"hi\"; x=1.png") == 0);

    test_cond("att-2.3: path separators are refused, encoded or not",
              test_name_refused(pool, "../../etc/passwd")
              && test_name_refused(pool, "..%2F..%2Fx.png")
              && test_name_refused(pool, "a%5Cb.png")
              && test_name_refused(pool, "C:\\x.png"));

    test_cond("att-2.4: CR, LF, NUL, DEL, C1 controls are refused",
              test_name_refused(pool, "a%0D%0ASet-Cookie:%20x=1.png")
              && test_name_refused(pool, "a%00.png")
              && test_name_refused(pool, "a%7F.png")
              && test_name_refused(pool, "a%C2%85.png")
              && test_name_refused(pool, "tab%09.png"));

    test_cond("att-2.5: a right-to-left override (gpj.exe trick) is refused",
              test_name_refused(pool, "photo%E2%80%AEgpj.exe")
              && test_name_refused(pool, "x%E2%81%A6y.pdf"));

    test_cond("att-2.6: empty, blank, \".\" and \"..\" are refused",
              test_name_refused(pool, "")
              && test_name_refused(pool, "   ")
              && test_name_refused(pool, ".")
              && test_name_refused(pool, "..")
              && test_name_refused(pool, "%2E%2E"));

    test_cond("att-2.7: bad escapes and bad UTF-8 are refused",
              test_name_refused(pool, "a%G1.png")
              && test_name_refused(pool, "a%.png")
              && test_name_refused(pool, "a%FF%FE.png")
              && test_name_refused(pool, "%C0%AF.png"));

    for (i = 0; i < 200; i++) {
        memcpy(big + 3 * i, "\xe6\xb0\x91", 3);
    }

    big[600] = '\0';
    name = dgj_wf_attach_name(pool, big, &why);
    ok = name != NULL;
    memcpy(big + 600, "\xe6\xb0\x91", 4);
    test_cond("att-2.8: 200 characters are accepted, 201 are not",
              ok && test_name_refused(pool, big));

    d = dgj_wf_attach_disposition(pool, "say \"hi\"\\ \xe7\x8e\xb0.png");
    test_cond("att-3.1: the disposition is an attachment with an ASCII"
              " stand-in and the UTF-8 name percent-encoded",
              d != NULL
              && strcmp(d, "attachment; filename=\"say _hi__ _.png\";"
                           " filename*=UTF-8''say%20%22hi%22%5C%20%E7%8E%B0"
                           ".png") == 0);

    d = dgj_wf_attach_disposition(pool, "a;b=c,d.pdf");
    test_cond("att-3.2: no separator of the header survives unencoded",
              d != NULL
              && strcmp(d, "attachment; filename=\"a_b_c_d.pdf\";"
                           " filename*=UTF-8''a%3Bb%3Dc%2Cd.pdf") == 0);

    dgj_pool_destroy(pool);

    return test_report();
}
