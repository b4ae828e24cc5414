
/*
 * Copyright (C) Daguanjia
 *
 * test_ids.c: dgj_ids: unified social credit codes (valid ones, one
 * worked by hand below, and every kind of invalid one), organisation
 * codes, mobile numbers and their prefixes, resident identity numbers
 * (check character, province, dates) and the display masks.
 */


#include "dgj_core.h"
#include "dgj_ids.h"
#include "dgj_pool.h"

#include "testhelp.h"


/*
 * 91350100M000100Y43 by hand.  USCC values (M = 21, Y = 30 in
 * 0-9A-HJ-NPQRTUWXY) times weights 1 3 9 27 19 26 16 17 20 29 25 13 8
 * 24 10 30 28: 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8
 * + 0 + 0 + 900 + 112 = 1640; 1640 mod 31 = 28; 31 - 28 = 3: check '3'.
 * Organisation code M000100Y (M = 22, Y = 34 in 0-9A-Z) times 3 7 9 10
 * 5 8 4 2: 66 + 5 + 68 = 139; 139 mod 11 = 7; 11 - 7 = 4: check '4'.
 */
static const char *const  test_uscc_valid[] = {
    "91350100M000100Y43",
    "91110000600037341L",
    "91440300708461136T",
    "91441900MA4W12346U",       /* computed: org code MA4W1234-6 */
    "1244190073214566XQ",       /* computed: org check X */
    "51441900056012342Y"        /* computed: social organisation */
};

static const char *const  test_uscc_invalid[] = {
    "91350100M000100Y44",       /* check character off by one */
    "91350100M000100Y4",        /* 17 characters */
    "91350100M000100Y433",      /* 19 characters */
    "91350100M000100I43",       /* I is not in the character set */
    "91350100m000100Y43",       /* lower case as stored */
    "9135010AM000100Y43",       /* letter in the division code */
    "91441900MA4W12356V",       /* USCC check right, org check wrong */
    "",
    "000000000000000000"        /* sums check out; authority 0 unknown */
};


int
main(void)
{
    int          ok;
    char         out[32];
    size_t       i;
    time_t       now;
    dgj_pool_t  *pool;

    pool = dgj_pool_create(4096);
    if (pool == NULL) {
        return 1;
    }

    /* 2026-01-01 00:00 +08:00 */
    now = 1767196800;

    /* social credit codes */
    ok = 1;
    for (i = 0; i < dgj_countof(test_uscc_valid); i++) {
        if (!dgj_ids_uscc_valid(test_uscc_valid[i])) {
            printf("#   refused %s\n", test_uscc_valid[i]);
            ok = 0;
        }
    }
    test_cond("ids-1.1: valid social credit codes are accepted", ok);

    ok = 1;
    for (i = 0; i < dgj_countof(test_uscc_invalid); i++) {
        if (dgj_ids_uscc_valid(test_uscc_invalid[i])) {
            printf("#   accepted %s\n", test_uscc_invalid[i]);
            ok = 0;
        }
    }
    test_cond("ids-1.2: wrong check, length, characters, case, division "
              "code, org check, authority are refused", ok);

    test_cond("ids-1.3: normalize upper-cases and drops blanks and dashes",
              dgj_ids_uscc_normalize(" 91350100-m000100y43 ", out) == 0
              && strcmp(out, "91350100M000100Y43") == 0);

    test_cond("ids-1.4: normalize refuses invalid and overlong input",
              dgj_ids_uscc_normalize("91350100M000100Y44", out) == -1
              && dgj_ids_uscc_normalize("91350100M000100Y43000000", out)
                 == -1);

    test_cond("ids-1.5: organisation codes, with X and 0 checks",
              dgj_ids_orgcode_valid("M000100Y4")
              && dgj_ids_orgcode_valid("73214566X")
              && dgj_ids_orgcode_valid("D2143569X")
              && dgj_ids_orgcode_valid("M000100Y5") == 0
              && dgj_ids_orgcode_valid("m000100Y4") == 0
              && dgj_ids_orgcode_valid("00000000") == 0);

    /* phones */
    ok = 1;
    ok &= dgj_ids_phone_normalize("13800138000", out) == 0
          && strcmp(out, "13800138000") == 0;
    ok &= dgj_ids_phone_normalize("+8613800138000", out) == 0
          && strcmp(out, "13800138000") == 0;
    ok &= dgj_ids_phone_normalize("8619912345678", out) == 0
          && strcmp(out, "19912345678") == 0;
    ok &= dgj_ids_phone_normalize("0086 138-0013-8000", out) == 0
          && strcmp(out, "13800138000") == 0;
    ok &= dgj_ids_phone_normalize("+86 138 0013 8000", out) == 0
          && strcmp(out, "13800138000") == 0;
    test_cond("ids-2.1: mobile numbers with +86, 86, 0086, blanks, dashes",
              ok);

    ok = 1;
    ok &= dgj_ids_phone_normalize("12800138000", out) == -1;
    ok &= dgj_ids_phone_normalize("23800138000", out) == -1;
    ok &= dgj_ids_phone_normalize("1380013800", out) == -1;
    ok &= dgj_ids_phone_normalize("138001380001", out) == -1;
    ok &= dgj_ids_phone_normalize("1380013800a", out) == -1;
    ok &= dgj_ids_phone_normalize("+8512800138000", out) == -1;
    ok &= dgj_ids_phone_normalize("+86+8613800138000", out) == -1;
    ok &= dgj_ids_phone_normalize("076922223333", out) == -1;
    ok &= dgj_ids_phone_normalize("", out) == -1;
    ok &= dgj_ids_phone_normalize("1380013800000000000000000000000000",
                                  out) == -1;
    test_cond("ids-2.2: 12x, landlines, wrong lengths, letters, other "
              "country codes are refused", ok);

    /* resident identity numbers */
    ok = 1;
    ok &= dgj_ids_resident_valid("11010519491231002X", now);
    ok &= dgj_ids_resident_valid("441900199003071238", now);
    ok &= dgj_ids_resident_valid("441900200002294566", now);
    test_cond("ids-3.1: valid numbers (X check, 29 Feb 2000) accepted", ok);

    ok = 1;
    ok &= !dgj_ids_resident_valid("110105194912310021", now);
    ok &= !dgj_ids_resident_valid("11010519491231002x", now);
    ok &= !dgj_ids_resident_valid("11010519491231002", now);
    ok &= !dgj_ids_resident_valid("A10105194912310021", now);
    test_cond("ids-3.2: wrong check, lower-case x as stored, 17 chars, "
              "letters are refused", ok);

    test_cond("ids-3.3: normalize upper-cases x and drops blanks",
              dgj_ids_resident_normalize("110105 19491231 002x", now, out)
              == 0 && strcmp(out, "11010519491231002X") == 0);

    /* same digits with a check made for each: only the rule differs */
    ok = 1;
    ok &= !dgj_ids_resident_valid("44190019000229456X", now);
    ok &= !dgj_ids_resident_valid("441900199002304562", now);
    ok &= !dgj_ids_resident_valid("441900189912311236", now);
    ok &= !dgj_ids_resident_valid("441900202701011237", now);
    ok &= !dgj_ids_resident_valid("991900199003071235", now);
    test_cond("ids-3.4: 29 Feb 1900, 30 Feb, before 1900, the future, "
              "province 99 are refused", ok);

    test_cond("ids-3.5: born today (UTC+8) is accepted, tomorrow is not",
              dgj_ids_resident_valid("44190020260101123X", now)
              && !dgj_ids_resident_valid("441900202601021235", now));

    /* masks */
    test_cond("ids-4.1: phone mask keeps 3 and 4",
              strcmp(dgj_ids_mask_phone(pool, "13800138000"),
                     "138****8000") == 0
              && strcmp(dgj_ids_mask_phone(pool, "1380"), "****") == 0);

    test_cond("ids-4.2: id mask keeps 4 and 4",
              strcmp(dgj_ids_mask_id(pool, "44190019900307123X"),
                     "441900********123X") == 0
              && strcmp(dgj_ids_mask_id(pool, "1234567890"), "****") == 0
              && strcmp(dgj_ids_mask_id(pool, "91350100M000100Y43"),
                        "913501********0Y43") == 0);

    ok = 1;
    ok &= strcmp(dgj_ids_mask_name(pool, "张三"), "张*") == 0;
    ok &= strcmp(dgj_ids_mask_name(pool, "王小明"), "王**") == 0;
    ok &= strcmp(dgj_ids_mask_name(pool, "欧阳娜娜"), "欧阳**") == 0;
    ok &= strcmp(dgj_ids_mask_name(pool, "欧阳"), "欧*") == 0;
    ok &= strcmp(dgj_ids_mask_name(pool, "张"), "*") == 0;
    ok &= strcmp(dgj_ids_mask_name(pool, ""), "*") == 0;
    ok &= strcmp(dgj_ids_mask_name(pool, "Li Lei"), "L*****") == 0;
    ok &= strcmp(dgj_ids_mask_name(pool, "\xff\xfe"), "\xff*") == 0;
    test_cond("ids-4.3: name mask: first character, compound surnames, "
              "one character, ASCII, invalid UTF-8", ok);

    ok = 1;
    ok &= strcmp(dgj_ids_mask_email(pool, "zhang@dg.gov.cn"),
                 "z***@dg.gov.cn") == 0;
    ok &= strcmp(dgj_ids_mask_email(pool, "a@b.cn"), "a***@b.cn") == 0;
    ok &= strcmp(dgj_ids_mask_email(pool, "张三@例子.cn"),
                 "张***@例子.cn") == 0;
    ok &= strcmp(dgj_ids_mask_email(pool, "@b.cn"), "***") == 0;
    ok &= strcmp(dgj_ids_mask_email(pool, "nobody"), "***") == 0;
    test_cond("ids-4.4: email mask keeps the first character and domain",
              ok);

    dgj_pool_fail_alloc(1);
    test_cond("ids-4.5: masks without memory are NULL",
              dgj_ids_mask_name(pool, "张三") == NULL);
    dgj_pool_fail_alloc(0);

    dgj_pool_destroy(pool);

    return test_report();
}
