
/*
 * Copyright (C) Daguanjia
 *
 * fuzz_token.c: the libFuzzer harness of dgj_token (`make fuzz`): every
 * input is verified as a token (and as a CSRF token) against a fixed ring
 * and parsed as a key file.  Built with ASan and UBSan; any crash, leak
 * or undefined behaviour is a finding.  Seeds: build/fuzz/corpus.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgj_token.h"


#define FUZZ_K1  "11111111111111111111111111111111"                          \
                 "11111111111111111111111111111111"
#define FUZZ_K2  "22222222222222222222222222222222"                          \
                 "22222222222222222222222222222222"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                     err[256];
    dgj_token_claims_t       claims;
    dgj_token_ring_t         parsed;
    static dgj_token_ring_t  ring;
    static int               ready;

    static const char  keys[] =
        "f1 hmac-sha256 " FUZZ_K1 " sign\nf2 hmac-sm3 " FUZZ_K2 "\n";

    if (!ready) {
        if (dgj_token_ring_parse(&ring, keys, sizeof(keys) - 1, err,
                                 sizeof(err))
            != 0)
        {
            abort();
        }

        ready = 1;
    }

    (void) dgj_token_verify(&ring, (const char *) data, size, 1800000000,
                            30, &claims);

    (void) dgj_token_csrf_verify(&ring, "00112233445566778899aabbccddeeff",
                                 (const char *) data, size);

    if (dgj_token_ring_parse(&parsed, (const char *) data, size, err,
                             sizeof(err))
        == 0)
    {
        dgj_token_ring_free(&parsed);
    }

    return 0;
}
