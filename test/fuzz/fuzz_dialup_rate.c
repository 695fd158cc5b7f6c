/* Licensed to the Apache Software Foundation (ASF) under one or more
 * contributor license agreements.  See the NOTICE file distributed with
 * this work for additional information regarding copyright ownership.
 * The ASF licenses this file to You under the Apache License, Version 2.0
 * (the "License"); you may not use this file except in compliance with
 * the License.  You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/*
 * libFuzzer harness for mod_dialup's directive values: dialup_parse_rate()
 * and dialup_modem_find() (modules/dialup/dialup_pace.c), the functions
 * behind ModemStandard, DialupRate and the dialup-modem variable.
 *
 * The input, cut at its first NUL and at 256 bytes, is the argument.  Each
 * answer is checked against a reference written the slow obvious way:
 *
 *   dialup_parse_rate  accepts exactly ^[0-9]+[kKmM]?$ whose value (in
 *                      unbounded arithmetic) is within DIALUP_RATE_MIN..
 *                      DIALUP_RATE_MAX, and sets that value;
 *   dialup_modem_find  returns the entry of dialup_modems[] whose name
 *                      equals the argument ignoring ASCII case, or NULL.
 *
 * A mismatch aborts (libFuzzer then saves the input); ASan and UBSan catch
 * reads past the argument and overflows.  Built and run by test/stress/run
 * (case fuzz-rate):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Imodules/dialup -I/usr/include/apr-1.0 \
 *       test/fuzz/fuzz_dialup_rate.c modules/dialup/dialup_pace.c -lapr-1
 */

#include "dialup_pace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ARG_MAX 256

#define FUZZ_CHECK(cond, arg)                                            \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "fuzz_dialup_rate: %s:%d: %s fails for "     \
                    "\"%s\"\n", __FILE__, __LINE__, #cond, (arg));       \
            abort();                                                     \
        }                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference parser: 1 and *value if arg is a valid rate, else 0.
 * Accumulates in unsigned __int128 and saturates, so it has no limit. */
static int fuzz_reference_rate(const char *arg, apr_int64_t *value)
{
    unsigned __int128 v = 0, cap = (unsigned __int128)1 << 100;
    const char *s = arg;
    int digits = 0;

    while (*s >= '0' && *s <= '9') {
        if (v < cap) {
            v = v * 10 + (unsigned)(*s - '0');
        }
        digits++;
        s++;
    }
    if (!digits) {
        return 0;
    }
    if (*s == 'k' || *s == 'K') {
        v *= 1000;
        s++;
    }
    else if (*s == 'm' || *s == 'M') {
        v *= 1000000;
        s++;
    }
    if (*s != '\0') {
        return 0;
    }
    if (v < DIALUP_RATE_MIN || v > (unsigned __int128)DIALUP_RATE_MAX) {
        return 0;
    }
    *value = (apr_int64_t)v;
    return 1;
}

static int fuzz_ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;

        if (ca >= 'A' && ca <= 'Z') {
            ca += 'a' - 'A';
        }
        if (cb >= 'A' && cb <= 'Z') {
            cb += 'a' - 'A';
        }
        if (ca != cb) {
            return ca - cb;
        }
        if (!ca) {
            return 0;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *arg;
    size_t n = 0;
    apr_int64_t got = -12345, want = 0;
    int rc, ok;
    const dialup_modem_t *m, *ref = NULL;

    while (n < size && n < FUZZ_ARG_MAX && data[n]) {
        n++;
    }
    /* An exact-size heap copy: ASan sees any read past the NUL. */
    arg = malloc(n + 1);
    memcpy(arg, data, n);
    arg[n] = '\0';

    rc = dialup_parse_rate(arg, &got);
    ok = fuzz_reference_rate(arg, &want);
    FUZZ_CHECK(rc == 0 || rc == -1, arg);
    FUZZ_CHECK((rc == 0) == ok, arg);
    if (rc == 0) {
        FUZZ_CHECK(got == want, arg);
        FUZZ_CHECK(got >= DIALUP_RATE_MIN && got <= DIALUP_RATE_MAX, arg);
    }

    for (m = dialup_modems; m->name; m++) {
        if (!fuzz_ascii_casecmp(m->name, arg)) {
            ref = m;
            break;
        }
    }
    m = dialup_modem_find(arg);
    FUZZ_CHECK(m == ref, arg);
    if (m) {
        FUZZ_CHECK(m->bits_per_sec >= DIALUP_RATE_MIN
                   && m->bits_per_sec <= DIALUP_RATE_MAX, arg);
    }

    free(arg);
    return 0;
}
