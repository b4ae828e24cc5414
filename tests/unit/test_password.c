
/*
 * Copyright (C) Daguanjia
 *
 * test_password.c: dgj_password: Argon2id hash and verify with small
 * parameters (fast), rehash detection, refusal of foreign or oversized
 * hashes, the dummy verify's cost, the 5-deep history, every policy rule
 * for staff and for organisations/citizens, codes and messages, and the
 * common-password list (order, variants).
 */


#include "dgj_core.h"
#include "dgj_password.h"

#include "testhelp.h"


typedef struct {
    dgj_password_policy_t   policy;
    const char             *pw;
    const char             *user;
    unsigned                want;     /* exact failure bits */
    const char             *what;
} test_password_case_t;


static const test_password_case_t  test_password_cases[] = {

    { DGJ_PASSWORD_STAFF, "Tr7#kLm9$vQx", "zhangwei", 0,
      "12 characters, 4 classes" },
    { DGJ_PASSWORD_STAFF, "Dgj-Hx92-Wq7e", NULL, 0,
      "3 classes with dashes" },
    { DGJ_PASSWORD_STAFF, "Short1!a", NULL, DGJ_PASSWORD_TOO_SHORT,
      "8 characters" },
    { DGJ_PASSWORD_STAFF, "Tr7#kLm9$vQ", NULL, DGJ_PASSWORD_TOO_SHORT,
      "11 characters" },
    { DGJ_PASSWORD_STAFF, "trhxkzmqpvwy8", NULL, DGJ_PASSWORD_FEW_CLASSES,
      "2 classes" },
    { DGJ_PASSWORD_STAFF, "Zhangwei#29x", "zhangwei",
      DGJ_PASSWORD_HAS_USERNAME, "user name inside, other case" },
    { DGJ_PASSWORD_STAFF, "Xy#IEWGNAHZ9k", "zhangwei",
      DGJ_PASSWORD_HAS_USERNAME, "user name reversed" },
    { DGJ_PASSWORD_STAFF, "Kq#ab9-Mx7wTz", "ab", 0,
      "a 2-letter user name is not looked for" },
    { DGJ_PASSWORD_STAFF, "Gr8#aaaa-Kp2z", NULL, DGJ_PASSWORD_REPEATED,
      "aaaa" },
    { DGJ_PASSWORD_STAFF, "Gr8#aAaA-Kp2z", NULL, DGJ_PASSWORD_REPEATED,
      "aAaA, ignoring case" },
    { DGJ_PASSWORD_STAFF, "Gr8#aaa-Kp2zX", NULL, 0,
      "aaa is allowed" },
    { DGJ_PASSWORD_STAFF, "Kp#9abcd-Mx7w", NULL, DGJ_PASSWORD_SEQUENCE,
      "abcd" },
    { DGJ_PASSWORD_STAFF, "Kp#9ZYXW-Mx7q", NULL, DGJ_PASSWORD_SEQUENCE,
      "ZYXW descending" },
    { DGJ_PASSWORD_STAFF, "Kp#x3456-Mx7q",
      NULL, DGJ_PASSWORD_SEQUENCE | DGJ_PASSWORD_KEYBOARD,
      "3456 (also a keyboard row)" },
    { DGJ_PASSWORD_STAFF, "Kp#x8642-Mx7q", NULL, 0,
      "8642 is not a run" },
    { DGJ_PASSWORD_STAFF, "Kp#9qwer-M7wz", NULL, DGJ_PASSWORD_KEYBOARD,
      "qwer" },
    { DGJ_PASSWORD_STAFF, "Kp#9FDSA-M7wz", NULL, DGJ_PASSWORD_KEYBOARD,
      "FDSA backwards" },
    { DGJ_PASSWORD_STAFF, "Kp#91qaz-M7wz", NULL, DGJ_PASSWORD_KEYBOARD,
      "1qaz column" },
    { DGJ_PASSWORD_STAFF, "Kp#9zaq1-M7wx", NULL, DGJ_PASSWORD_KEYBOARD,
      "zaq1 column upwards" },
    { DGJ_PASSWORD_STAFF, "Kp#91q2w-M7xz", NULL, DGJ_PASSWORD_KEYBOARD,
      "1q2w zigzag" },
    { DGJ_PASSWORD_STAFF, "P@ssw0rd!2024", NULL, DGJ_PASSWORD_COMMON,
      "P@ssw0rd!2024" },
    { DGJ_PASSWORD_STAFF, "Dongguan@2024", NULL, DGJ_PASSWORD_COMMON,
      "Dongguan@2024" },
    { DGJ_PASSWORD_STAFF, "Woaini1314!!", NULL, DGJ_PASSWORD_COMMON,
      "Woaini1314!!" },
    { DGJ_PASSWORD_STAFF, "Tr7#\x01kLm9$vQx", NULL,
      DGJ_PASSWORD_INVALID_CHARS, "a control character" },
    { DGJ_PASSWORD_STAFF, "Tr7#\xffkLm9$vQx", NULL,
      DGJ_PASSWORD_INVALID_CHARS, "invalid UTF-8" },
    { DGJ_PASSWORD_STAFF,
      "\xe4\xb8\x9c\xe8\x8e\x9e\xe5\xb8\x82\xe6\xb0\x91"
      "\xe7\x94\x9f\xe6\xb4\xbb\xe4\xbe\xbf\xe5\x88\xa9" "Ab1",
      NULL, DGJ_PASSWORD_TOO_SHORT,
      "11 code points although 27 bytes" },
    { DGJ_PASSWORD_STAFF,
      "\xe4\xb8\x9c\xe8\x8e\x9e\xe5\xb8\x82\xe6\xb0\x91"
      "\xe7\x94\x9f\xe6\xb4\xbb\xe4\xbe\xbf\xe5\x88\xa9" "Ab19",
      NULL, 0, "Chinese characters count as symbols" },
    { DGJ_PASSWORD_STAFF, "aaaa", NULL,
      DGJ_PASSWORD_TOO_SHORT | DGJ_PASSWORD_FEW_CLASSES
      | DGJ_PASSWORD_REPEATED, "every broken rule is reported" },

    { DGJ_PASSWORD_BASIC, "lowercase12", NULL, 0,
      "basic: 11 characters, 2 classes" },
    { DGJ_PASSWORD_BASIC, "abcd1234efgh", "abcd", 0,
      "basic: runs and user name are not checked" },
    { DGJ_PASSWORD_BASIC, "lowercase1", NULL, 0,
      "basic: 10 characters" },
    { DGJ_PASSWORD_BASIC, "lowercas1", NULL, DGJ_PASSWORD_TOO_SHORT,
      "basic: 9 characters" },
    { DGJ_PASSWORD_BASIC, "onlylowercase", NULL, DGJ_PASSWORD_FEW_CLASSES,
      "basic: 1 class" },
    { DGJ_PASSWORD_BASIC, "woaini1314520", NULL, DGJ_PASSWORD_COMMON,
      "basic: woaini1314520" },
    { DGJ_PASSWORD_BASIC, "Qq123456789", NULL, DGJ_PASSWORD_COMMON,
      "basic: Qq123456789" }
};


int
main(void)
{
    int                     ok;
    char                    h1[DGJ_PASSWORD_ENCODED];
    char                    h2[DGJ_PASSWORD_ENCODED];
    char                    old[7][DGJ_PASSWORD_ENCODED];
    char                    name[40], big[DGJ_PASSWORD_MAX_BYTES + 2];
    double                  t0, real, dummy;
    size_t                  i;
    unsigned                got;
    const char             *hist[7];
    dgj_password_params_t   small = { 256, 2, 1 };
    dgj_password_params_t   other = { 512, 2, 1 };
    dgj_password_params_t   timed = { 8192, 1, 1 };

    /* hashing */
    test_cond("password-1.1: hash gives an argon2id v19 string",
              dgj_password_hash(&small, "Tr7#kLm9$vQx", h1, sizeof(h1)) == 0
              && strncmp(h1, "$argon2id$v=19$m=256,t=2,p=1$", 29) == 0);

    test_cond("password-1.2: the same password hashes differently (salt)",
              dgj_password_hash(&small, "Tr7#kLm9$vQx", h2, sizeof(h2)) == 0
              && strcmp(h1, h2) != 0);

    test_cond("password-1.3: verify: right 1, wrong 0, empty 0",
              dgj_password_verify(h1, "Tr7#kLm9$vQx") == 1
              && dgj_password_verify(h2, "Tr7#kLm9$vQx") == 1
              && dgj_password_verify(h1, "Tr7#kLm9$vQX") == 0
              && dgj_password_verify(h1, "") == 0);

    ok = 1;
    ok &= dgj_password_verify(NULL, "x") == -1;
    ok &= dgj_password_verify("", "x") == -1;
    ok &= dgj_password_verify("plaintext", "plaintext") == -1;
    ok &= dgj_password_verify("$argon2i$v=19$m=256,t=2,p=1$"
                              "c2FsdHNhbHRzYWx0c2FsdA$"
                              "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
                              "x") == -1;
    ok &= dgj_password_verify("$argon2id$v=16$m=256,t=2,p=1$"
                              "c2FsdHNhbHRzYWx0c2FsdA$"
                              "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
                              "x") == -1;
    test_cond("password-1.4: NULL, empty, plain, argon2i and v16 are -1",
              ok);

    t0 = dgj_test_now();
    ok = dgj_password_verify("$argon2id$v=19$m=4194304,t=1,p=1$"
                             "c2FsdHNhbHRzYWx0c2FsdA$"
                             "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
                             "x") == -1;
    test_cond("password-1.5: a stored hash asking for 4 GiB is refused "
              "at once", ok && dgj_test_now() - t0 < 0.1);

    h2[strlen(h2) - 1] ^= 1;
    test_cond("password-1.6: a damaged tag does not verify",
              dgj_password_verify(h2, "Tr7#kLm9$vQx") != 1);

    test_cond("password-1.7: bad parameters and a small buffer fail",
              dgj_password_hash(&(dgj_password_params_t) { 4, 1, 1 }, "x",
                                h2, sizeof(h2)) == -1
              && dgj_password_hash(&(dgj_password_params_t) { 64, 0, 1 },
                                   "x", h2, sizeof(h2)) == -1
              && dgj_password_hash(&small, "x", h2, 40) == -1);

    /* rehash */
    test_cond("password-2.1: same parameters need no rehash",
              dgj_password_needs_rehash(h1, &small) == 0);
    test_cond("password-2.2: other m or t need a rehash",
              dgj_password_needs_rehash(h1, &other) == 1
              && dgj_password_needs_rehash(h1,
                     &(dgj_password_params_t) { 256, 3, 1 }) == 1);
    test_cond("password-2.3: garbage and NULL need a rehash",
              dgj_password_needs_rehash("garbage", &small) == 1
              && dgj_password_needs_rehash(NULL, &small) == 1);
    test_cond("password-2.4: a 8-byte salt needs a rehash",
              dgj_password_needs_rehash("$argon2id$v=19$m=256,t=2,p=1$"
                  "c2FsdHNhbHQ$"
                  "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw", &small)
              == 1);
    test_cond("password-2.5: NULL params are the production defaults",
              dgj_password_needs_rehash(h1, NULL) == 1);

    /* dummy: compare the fastest of 9 runs, robust against a busy box */
    dgj_password_hash(&timed, "Tr7#kLm9$vQx", h2, sizeof(h2));
    dgj_password_verify_dummy(&timed, "warm up");
    real = 1e9;
    dummy = 1e9;

    for (i = 0; i < 9; i++) {
        t0 = dgj_test_now();
        dgj_password_verify(h2, "wrong password");
        t0 = dgj_test_now() - t0;
        real = t0 < real ? t0 : real;

        t0 = dgj_test_now();
        dgj_password_verify_dummy(&timed, "wrong password");
        t0 = dgj_test_now() - t0;
        dummy = t0 < dummy ? t0 : dummy;
    }

    printf("# verify %.2f ms, dummy verify %.2f ms (m=8192 t=1)\n",
           real * 1e3, dummy * 1e3);
    test_cond("password-3.1: the dummy verify costs about one verify",
              dummy > real * 0.5 && dummy < real * 2);

    /* history */
    for (i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "Old-Passw%zu-Xq", i);
        dgj_password_hash(&small, name, old[i], sizeof(old[i]));
        hist[i] = old[i];
    }

    hist[6] = NULL;

    test_cond("password-4.1: the newest old password is found",
              dgj_password_reused("Old-Passw0-Xq", hist, 6) == 1);
    test_cond("password-4.2: the 5th old password is found",
              dgj_password_reused("Old-Passw4-Xq", hist, 6) == 1);
    test_cond("password-4.3: the 6th is beyond the history",
              dgj_password_reused("Old-Passw5-Xq", hist, 6) == 0);
    test_cond("password-4.4: a new password is not reused",
              dgj_password_reused("Brand-new-7Kq", hist, 6) == 0);
    hist[1] = NULL;
    hist[2] = "garbage";
    test_cond("password-4.5: NULL and malformed entries are skipped",
              dgj_password_reused("Old-Passw3-Xq", hist, 5) == 1
              && dgj_password_reused("Old-Passw1-Xq", hist, 5) == 0
              && dgj_password_reused("x", hist, 0) == 0);

    /* policy */
    for (i = 0; i < dgj_countof(test_password_cases); i++) {
        const test_password_case_t  *c = &test_password_cases[i];
        char                         d[128];

        got = dgj_password_check(c->policy, c->pw, c->user);
        snprintf(d, sizeof(d), "password-5.%zu: %s", i + 1, c->what);
        test_cond(d, got == c->want);

        if (got != c->want) {
            printf("#   got 0x%x, want 0x%x\n", got, c->want);
        }
    }

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    test_cond("password-5.90: more than 128 bytes is too long",
              dgj_password_check(DGJ_PASSWORD_BASIC, big, NULL)
              == DGJ_PASSWORD_TOO_LONG);

    /* codes and messages */
    got = DGJ_PASSWORD_COMMON | DGJ_PASSWORD_TOO_SHORT;
    test_cond("password-6.1: the first failure is the lowest bit",
              dgj_password_first(got) == DGJ_PASSWORD_TOO_SHORT
              && dgj_password_first(0) == 0);

    test_cond("password-6.2: codes are stable strings",
              strcmp(dgj_password_code(DGJ_PASSWORD_TOO_SHORT),
                     "password_too_short") == 0
              && strcmp(dgj_password_code(DGJ_PASSWORD_COMMON),
                        "password_common") == 0
              && strcmp(dgj_password_code(DGJ_PASSWORD_REUSED),
                        "password_reused") == 0
              && strcmp(dgj_password_code(0), "password_invalid") == 0);

    test_cond("password-6.3: messages are Chinese then English, per policy",
              strncmp(dgj_password_message(DGJ_PASSWORD_TOO_SHORT,
                                           DGJ_PASSWORD_STAFF),
                      "\xe5\xaf\x86\xe7\xa0\x81", 6) == 0
              && strstr(dgj_password_message(DGJ_PASSWORD_TOO_SHORT,
                                             DGJ_PASSWORD_STAFF),
                        "at least 12 characters") != NULL
              && strstr(dgj_password_message(DGJ_PASSWORD_TOO_SHORT,
                                             DGJ_PASSWORD_BASIC),
                        "at least 10 characters") != NULL
              && strstr(dgj_password_message(DGJ_PASSWORD_REPEATED,
                                             DGJ_PASSWORD_BASIC),
                        "4 or more times") != NULL);

    ok = 1;
    for (got = 1; got <= DGJ_PASSWORD_REUSED; got <<= 1) {
        ok &= strcmp(dgj_password_code(got), "password_invalid") != 0
              && strstr(dgj_password_message(got, DGJ_PASSWORD_STAFF),
                        "assword") != NULL;
    }
    test_cond("password-6.4: every failure bit has a code and a message",
              ok);

    /* the list */
    ok = dgj_password_ncommon >= 300;
    for (i = 0; i < dgj_password_ncommon; i++) {
        const char  *s;

        for (s = dgj_password_common[i]; *s != '\0'; s++) {
            ok &= !(*s >= 'A' && *s <= 'Z');
        }

        if (i > 0) {
            ok &= strcmp(dgj_password_common[i - 1],
                         dgj_password_common[i]) < 0;
        }
    }
    test_cond("password-7.1: the list is long, lower case, sorted, unique",
              ok);

    ok = 1;
    ok &= dgj_password_is_common("123456");
    ok &= dgj_password_is_common("PASSWORD");
    ok &= dgj_password_is_common("P@ssw0rd!");
    ok &= dgj_password_is_common("Pa$$w0rd");
    ok &= dgj_password_is_common("Dongguan2024!");
    ok &= dgj_password_is_common("@@Dongguan");
    ok &= dgj_password_is_common("woaini1314");
    ok &= dgj_password_is_common("5201314");
    ok &= dgj_password_is_common("qq123456");
    ok &= dgj_password_is_common("1qaz2wsx");
    ok &= dgj_password_is_common("Admin@123456");
    ok &= dgj_password_is_common("aaaaaa");
    ok &= dgj_password_is_common("zzzzzz");
    test_cond("password-7.2: common passwords and their variants are found",
              ok);

    ok = 1;
    ok &= !dgj_password_is_common("Correct-Horse-Battery");
    ok &= !dgj_password_is_common("Tr7#kLm9$vQx");
    ok &= !dgj_password_is_common("");
    ok &= !dgj_password_is_common("!!2024!!");
    ok &= !dgj_password_is_common("dongguanx");
    test_cond("password-7.3: others are not", ok);

    return test_report();
}
