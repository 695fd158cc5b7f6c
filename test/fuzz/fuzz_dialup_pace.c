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
 * libFuzzer harness for mod_dialup's pacing arithmetic (dialup_pace_due(),
 * dialup_pace_time_of(), dialup_pace_step() in modules/dialup/dialup_pace.c).
 *
 * The input is read as little-endian integers: a schedule within the
 * documented domain (rate DIALUP_RATE_MIN..DIALUP_RATE_MAX, pulse > 0 and
 * up to an hour, times from 0 to FUZZ_TIME_MAX, as apr_time_now() gives;
 * byte counts anywhere in apr_int64_t), two instants, two byte counts, a
 * transfer size and a jitter.  Checked, for every input:
 *
 *   due       never negative; monotone in now; 0 up to start;
 *   time_of   never before start; monotone in n; the first instant at
 *             which due reaches n (due(t) >= n, due(t - 1) < n);
 *   step      sends 0..total - sent, never more than due - sent; says
 *             done (wake 0) exactly when nothing is left; otherwise wakes
 *             strictly after now, and no later than one pulse from now
 *             unless waiting for the next byte;
 *   transfer  a whole transfer driven by step, each pulse at its wake
 *             plus a jitter: ends with exactly total bytes sent, every
 *             pulse but the first sends at least one byte, and with no
 *             jitter the last pulse is at time_of(total).
 *
 * A failed check prints the values and aborts; UBSan catches signed
 * overflows.  Built and run by test/stress/run (case fuzz-pace); see
 * fuzz_dialup_rate.c for the compile line.
 */

#include "dialup_pace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_SIM_STEPS_MAX 4000

/* Instants are apr_time_t values that apr_time_now() can return: from
 * 1970 to 2^62 us (year 146,000), where now + pulse does not saturate. */
#define FUZZ_TIME_MAX (APR_INT64_C(1) << 62)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The case being checked, printed when a check fails. */
static dialup_pace_t fuzz_p;
static apr_int64_t fuzz_vals[8];

#define FUZZ_CHECK(cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fuzz_fail(__LINE__, #cond);                                   \
        }                                                                 \
    } while (0)

static void fuzz_fail(int line, const char *what)
{
    int i;

    fprintf(stderr, "fuzz_dialup_pace: line %d: %s fails\n"
            "  rate %" APR_INT64_T_FMT " bit/s, pulse %" APR_INT64_T_FMT
            " us, start %" APR_INT64_T_FMT "\n  values:", line, what,
            fuzz_p.bits_per_sec, (apr_int64_t)fuzz_p.pulse,
            (apr_int64_t)fuzz_p.start);
    for (i = 0; i < 8; i++) {
        fprintf(stderr, " %" APR_INT64_T_FMT, fuzz_vals[i]);
    }
    fprintf(stderr, "\n");
    abort();
}

/* The next 8 bytes of the input as an unsigned number (zeros past the
 * end). */
static uint64_t fuzz_u64(const uint8_t **data, size_t *size)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < 8; i++) {
        v |= (uint64_t)(i < *size ? (*data)[i] : 0) << (8 * i);
    }
    if (*size >= 8) {
        *data += 8;
        *size -= 8;
    }
    else {
        *data += *size;
        *size = 0;
    }
    return v;
}

/* A number in lo..hi, mostly small or at the edges: the fuzzer reaches
 * them easily through the selector byte. */
static apr_int64_t fuzz_range(const uint8_t **data, size_t *size,
                              apr_int64_t lo, apr_int64_t hi)
{
    uint64_t v = fuzz_u64(data, size);
    uint64_t span = (uint64_t)hi - (uint64_t)lo;

    switch (v & 7) {
    case 0:
        return lo;
    case 1:
        return hi;
    case 2:
        return lo + (apr_int64_t)((v >> 3) % (span < 1000 ? span + 1 : 1000));
    default:
        return span == UINT64_MAX ? (apr_int64_t)(v >> 1)
                                  : lo + (apr_int64_t)((v >> 3)
                                                       % (span + 1));
    }
}

static void fuzz_check_due(apr_time_t a, apr_time_t b)
{
    apr_int64_t da = dialup_pace_due(&fuzz_p, a);
    apr_int64_t db = dialup_pace_due(&fuzz_p, b);

    FUZZ_CHECK(da >= 0 && db >= 0);
    if (a <= fuzz_p.start) {
        FUZZ_CHECK(da == 0);
    }
    if (a <= b) {
        FUZZ_CHECK(da <= db);
    }
    else {
        FUZZ_CHECK(da >= db);
    }
}

static void fuzz_check_time_of(apr_int64_t n1, apr_int64_t n2)
{
    apr_time_t t1 = dialup_pace_time_of(&fuzz_p, n1);
    apr_time_t t2 = dialup_pace_time_of(&fuzz_p, n2);

    FUZZ_CHECK(t1 >= fuzz_p.start && t2 >= fuzz_p.start);
    if (n1 <= n2) {
        FUZZ_CHECK(t1 <= t2);
    }
    if (n1 > 0 && t1 < APR_INT64_MAX) {
        FUZZ_CHECK(dialup_pace_due(&fuzz_p, t1) >= n1);
        if (t1 > fuzz_p.start) {
            FUZZ_CHECK(dialup_pace_due(&fuzz_p, t1 - 1) < n1);
        }
    }
}

static void fuzz_check_step(apr_int64_t total, apr_int64_t sent,
                            apr_time_t now)
{
    apr_time_t wake = -1;
    apr_int64_t n = dialup_pace_step(&fuzz_p, total, sent, now, &wake);
    apr_int64_t due = dialup_pace_due(&fuzz_p, now);

    FUZZ_CHECK(n >= 0);
    FUZZ_CHECK(n <= total - sent);
    FUZZ_CHECK(n <= (due > sent ? due - sent : 0));
    if (wake == 0) {
        FUZZ_CHECK(sent + n == total);
    }
    else {
        apr_time_t next_byte = dialup_pace_time_of(&fuzz_p, sent + n + 1);
        apr_time_t one_pulse = now > APR_INT64_MAX - fuzz_p.pulse
                               ? APR_INT64_MAX : now + fuzz_p.pulse;

        FUZZ_CHECK(sent + n < total);
        FUZZ_CHECK(wake > now);
        FUZZ_CHECK(wake <= (one_pulse > next_byte ? one_pulse : next_byte));
        FUZZ_CHECK(wake >= next_byte);
    }
}

/* A whole transfer of total bytes, pulses at wake + jitter. */
static void fuzz_check_transfer(apr_int64_t total, apr_interval_time_t jitter)
{
    apr_time_t now = fuzz_p.start, wake, end = dialup_pace_time_of(&fuzz_p,
                                                                   total);
    apr_int64_t sent = 0, n;
    int steps;

    for (steps = 0; steps < FUZZ_SIM_STEPS_MAX; steps++) {
        n = dialup_pace_step(&fuzz_p, total, sent, now, &wake);
        FUZZ_CHECK(n >= 0 && n <= total - sent);
        FUZZ_CHECK(steps == 0 || n > 0 || total == 0);
        sent += n;
        if (wake == 0) {
            FUZZ_CHECK(sent == total);
            if (jitter == 0 && total > 0) {
                FUZZ_CHECK(now == (end > fuzz_p.start ? end : now));
            }
            return;
        }
        FUZZ_CHECK(wake > now);
        if (wake > APR_INT64_MAX - jitter) {
            return;             /* beyond the end of time */
        }
        now = wake + jitter;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_time_t a, b;
    apr_int64_t n1, n2, total, sent;
    apr_interval_time_t jitter;

    fuzz_p.bits_per_sec = fuzz_range(&data, &size, DIALUP_RATE_MIN,
                                     DIALUP_RATE_MAX);
    fuzz_p.pulse = fuzz_range(&data, &size, 1, APR_INT64_C(3600000000));
    fuzz_p.start = fuzz_range(&data, &size, 0, FUZZ_TIME_MAX);
    a = fuzz_range(&data, &size, 0, FUZZ_TIME_MAX);
    b = fuzz_range(&data, &size, 0, FUZZ_TIME_MAX);
    n1 = fuzz_range(&data, &size, -10, APR_INT64_MAX);
    n2 = fuzz_range(&data, &size, -10, APR_INT64_MAX);
    total = fuzz_range(&data, &size, 0, APR_INT64_MAX);
    sent = total ? fuzz_range(&data, &size, 0, total) : 0;
    jitter = fuzz_range(&data, &size, 0, APR_INT64_C(10000000));
    /* Instants near start matter most: also try them relative to it. */
    if (size && (data[0] & 1)) {
        a = fuzz_p.start + a % APR_INT64_C(1000000000000);
        b = fuzz_p.start + b % APR_INT64_C(1000000000000);
    }
    fuzz_vals[0] = a;
    fuzz_vals[1] = b;
    fuzz_vals[2] = n1;
    fuzz_vals[3] = n2;
    fuzz_vals[4] = total;
    fuzz_vals[5] = sent;
    fuzz_vals[6] = jitter;
    fuzz_vals[7] = 0;

    fuzz_check_due(a, b);
    fuzz_check_time_of(n1, n2);
    fuzz_check_step(total, sent, a);
    fuzz_check_step(total, sent, b);
    /* A transfer: keep the simulation small. */
    fuzz_vals[7] = 1;
    fuzz_check_transfer(total % 5000000, jitter);
    return 0;
}
