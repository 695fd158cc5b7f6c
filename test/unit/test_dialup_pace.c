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
 * Unit tests for modules/dialup/dialup_pace.c, one case per edge.  Time is
 * simulated: no case sleeps.
 */

#include "dialup_pace.h"

#include "apr_general.h"
#include "apr_cstr.h"

#include <string.h>

#include "unit_test.h"

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)
#define MS(n) ((apr_interval_time_t)(n) * 1000)

static void test_modem_table(void)
{
    const dialup_modem_t *m;

    CHECK(dialup_modem_find("V.92") != NULL);
    CHECK(dialup_modem_find("V.92")->bits_per_sec == 56000);
    CHECK(dialup_modem_find("v.92") == dialup_modem_find("V.92"));
    CHECK(dialup_modem_find("v.22BIS")->bits_per_sec == 2400);
    CHECK(dialup_modem_find("V.21")->bits_per_sec == 300);
    CHECK(dialup_modem_find("V.34+")->bits_per_sec == 33600);
    CHECK(dialup_modem_find("isdn-2b")->bits_per_sec == 128000);
    CHECK(dialup_modem_find("V.93") == NULL);
    CHECK(dialup_modem_find("") == NULL);
    CHECK(dialup_modem_find("off") == NULL);
    for (m = dialup_modems; m->name; m++) {
        CHECK(m->bits_per_sec >= DIALUP_RATE_MIN);
        CHECK(m->year >= 1960 && m->year <= 2000);
        CHECK(m->up_bits >= 75 && m->up_bits <= m->bits_per_sec);
        CHECK(m->rtt == MS(120) || m->rtt == MS(30));
    }
    /* The uplinks and round trips that DialupLink gives. */
    CHECK(dialup_modem_find("V.92")->up_bits == 48000);
    CHECK(dialup_modem_find("V.90")->up_bits == 33600);
    CHECK(dialup_modem_find("V.23")->up_bits == 75);
    CHECK(dialup_modem_find("V.92")->rtt == MS(120));
    CHECK(dialup_modem_find("ISDN")->rtt == MS(30));
}

static void test_parse_rate(void)
{
    apr_int64_t bits = -1;

    CHECK(dialup_parse_rate("56000", &bits) == 0 && bits == 56000);
    CHECK(dialup_parse_rate("56k", &bits) == 0 && bits == 56000);
    CHECK(dialup_parse_rate("56K", &bits) == 0 && bits == 56000);
    CHECK(dialup_parse_rate("2M", &bits) == 0 && bits == 2000000);
    CHECK(dialup_parse_rate("2m", &bits) == 0 && bits == 2000000);
    CHECK(dialup_parse_rate("8", &bits) == 0 && bits == 8);
    CHECK(dialup_parse_rate("100000M", &bits) == 0
          && bits == DIALUP_RATE_MAX);
    bits = -1;
    CHECK(dialup_parse_rate("7", &bits) == -1 && bits == -1);
    CHECK(dialup_parse_rate("0", &bits) == -1);
    CHECK(dialup_parse_rate("", &bits) == -1);
    CHECK(dialup_parse_rate("k", &bits) == -1);
    CHECK(dialup_parse_rate("-56k", &bits) == -1);
    CHECK(dialup_parse_rate("56kk", &bits) == -1);
    CHECK(dialup_parse_rate("56 k", &bits) == -1);
    CHECK(dialup_parse_rate("5.6k", &bits) == -1);
    CHECK(dialup_parse_rate("56G", &bits) == -1);
    CHECK(dialup_parse_rate("100001M", &bits) == -1);
    CHECK(dialup_parse_rate("99999999999999999999999", &bits) == -1);
    CHECK(bits == -1);
}

static void test_due(void)
{
    dialup_pace_t p = { 56000, MS(200), T0 };

    CHECK(dialup_pace_due(&p, T0 - 1) == 0);
    CHECK(dialup_pace_due(&p, T0) == 0);
    CHECK(dialup_pace_due(&p, T0 + MS(100)) == 700);
    CHECK(dialup_pace_due(&p, T0 + MS(1000)) == 7000);
    CHECK(dialup_pace_due(&p, T0 + MS(10000)) == 70000);
    /* Rounds down: one byte is due every 142.86 us. */
    CHECK(dialup_pace_due(&p, T0 + 142) == 0);
    CHECK(dialup_pace_due(&p, T0 + 143) == 1);
}

static void test_time_of(void)
{
    dialup_pace_t p = { 56000, MS(200), T0 };
    apr_int64_t n;

    CHECK(dialup_pace_time_of(&p, 0) == T0);
    CHECK(dialup_pace_time_of(&p, -5) == T0);
    CHECK(dialup_pace_time_of(&p, 1) == T0 + 143);
    CHECK(dialup_pace_time_of(&p, 70000) == T0 + MS(10000));
    /* It is the inverse of dialup_pace_due(): the first moment n is due. */
    for (n = 1; n < 20000; n += 37) {
        apr_time_t t = dialup_pace_time_of(&p, n);

        CHECK(dialup_pace_due(&p, t) >= n);
        CHECK(dialup_pace_due(&p, t - 1) < n);
    }
}

static void test_step_schedule(void)
{
    /* V.92: 70,000 bytes at 7,000 B/s take 10 s, in 200 ms pulses. */
    dialup_pace_t p = { 56000, MS(200), T0 };
    apr_time_t now = T0, wake = 0, prev = T0;
    apr_int64_t sent = 0, n;
    int pulses = 0, gap_ok = 1, nonempty = 1;

    for (;;) {
        n = dialup_pace_step(&p, 70000, sent, now, &wake);
        sent += n;
        if (pulses > 0 && n == 0) {
            nonempty = 0;
        }
        pulses++;
        if (!wake) {
            break;
        }
        if (wake - now > MS(200)) {
            gap_ok = 0;
        }
        prev = now;
        now = wake;
    }
    (void)prev;
    CHECK(sent == 70000);
    CHECK(now == T0 + MS(10000));
    CHECK(gap_ok);
    CHECK(nonempty);
    CHECK(pulses == 51);
}

static void test_step_late_pulses_catch_up(void)
{
    /* Pulses that run late still finish on the original schedule. */
    dialup_pace_t p = { 56000, MS(200), T0 };
    apr_time_t now = T0, wake = 0;
    apr_int64_t sent = 0;

    for (;;) {
        sent += dialup_pace_step(&p, 70000, sent, now, &wake);
        if (!wake) {
            break;
        }
        now = wake + MS(37);
    }
    CHECK(sent == 70000);
    CHECK(now >= T0 + MS(10000) && now <= T0 + MS(10000) + MS(37));
}

static void test_step_before_start_and_done(void)
{
    dialup_pace_t p = { 8000, MS(200), T0 };
    apr_time_t wake = 1;

    /* Nothing due yet: wait until the first byte is. */
    CHECK(dialup_pace_step(&p, 500, 0, T0, &wake) == 0);
    CHECK(wake == T0 + MS(200));
    CHECK(dialup_pace_step(&p, 500, 0, T0 - MS(50), &wake) == 0);
    CHECK(wake == T0 + MS(150));
    /* All sent already. */
    CHECK(dialup_pace_step(&p, 500, 500, T0, &wake) == 0 && wake == 0);
    /* Empty transfer. */
    CHECK(dialup_pace_step(&p, 0, 0, T0, &wake) == 0 && wake == 0);
    /* Long overdue: everything at once. */
    CHECK(dialup_pace_step(&p, 500, 100, T0 + MS(5000), &wake) == 400);
    CHECK(wake == 0);
}

static void test_step_slow_rate(void)
{
    /* V.21 (37.5 B/s): a byte every 26.7 ms; pulses stay 200 ms apart and
     * none is empty. */
    dialup_pace_t p = { 300, MS(200), T0 };
    apr_time_t now = T0 + MS(200), wake = 0;
    apr_int64_t sent = 0, n;

    n = dialup_pace_step(&p, 100, sent, now, &wake);
    CHECK(n == 7);
    CHECK(wake == now + MS(200));
    /* Very slow custom rate (1 B/s): the next pulse waits for the byte. */
    p.bits_per_sec = 8;
    n = dialup_pace_step(&p, 10, 0, T0 + MS(1500), &wake);
    CHECK(n == 1);
    CHECK(wake == T0 + MS(2000));
}

static void test_step_fast_rate(void)
{
    /* 100 Gbit/s: huge figures must not overflow. */
    dialup_pace_t p = { DIALUP_RATE_MAX, MS(200), T0 };
    apr_time_t wake = 0;
    apr_int64_t n;

    n = dialup_pace_step(&p, APR_INT64_C(1) << 40, 0,
                         T0 + apr_time_from_sec(3600), &wake);
    CHECK(n == APR_INT64_C(1) << 40);
    CHECK(wake == 0);
    n = dialup_pace_step(&p, APR_INT64_MAX / 4, 0, T0 + MS(1), &wake);
    CHECK(n == DIALUP_RATE_MAX / 8 / 1000);
    CHECK(wake == T0 + MS(201));
    CHECK(dialup_pace_due(&p, APR_INT64_MAX) == DIALUP_BYTES_MAX);
    CHECK(dialup_pace_time_of(&p, APR_INT64_MAX) == APR_INT64_MAX);
}

static void test_bytes_max(void)
{
    /* due() saturates at DIALUP_BYTES_MAX and time_of() agrees: the first
     * instant with DIALUP_BYTES_MAX bytes due, never one past it. */
    dialup_pace_t p = { DIALUP_RATE_MAX, MS(200), T0 };
    apr_time_t t = dialup_pace_time_of(&p, DIALUP_BYTES_MAX);

    CHECK(t > T0 && t < APR_INT64_MAX);
    CHECK(dialup_pace_due(&p, t) == DIALUP_BYTES_MAX);
    CHECK(dialup_pace_due(&p, t - 1) < DIALUP_BYTES_MAX);
    CHECK(dialup_pace_due(&p, APR_INT64_MAX - 1) == DIALUP_BYTES_MAX);
    CHECK(dialup_pace_time_of(&p, DIALUP_BYTES_MAX + 1) == APR_INT64_MAX);
}

static void test_align(void)
{
    CHECK(dialup_pace_align(T0, MS(5)) == T0);
    CHECK(dialup_pace_align(T0 + 1, MS(5)) == T0 + MS(5));
    CHECK(dialup_pace_align(T0 + MS(5) - 1, MS(5)) == T0 + MS(5));
    CHECK(dialup_pace_align(T0 + MS(5), MS(5)) == T0 + MS(5));
    CHECK(dialup_pace_align(T0 + 1234, 0) == T0 + 1234);
    CHECK(dialup_pace_align(T0 + 1234, -5) == T0 + 1234);
    CHECK(dialup_pace_align(-1, MS(5)) == 0);
    CHECK(dialup_pace_align(-MS(5) - 1, MS(5)) == -MS(5));
    /* no overflow: left as is where rounding up would not fit */
    CHECK(dialup_pace_align(APR_INT64_MAX, MS(5)) == APR_INT64_MAX);
    CHECK(dialup_pace_align(APR_INT64_MAX - 1, MS(5)) >= APR_INT64_MAX - 1);
}

static void test_step_aligned_schedule(void)
{
    /* Pulses woken on a 5 ms grid: later, never earlier, and still the
     * whole file on the absolute schedule, ending within one grid step. */
    dialup_pace_t p = { 56000, MS(200), T0 + 1234 };
    apr_time_t now = p.start, wake = 0;
    apr_int64_t sent = 0;
    int ok = 1;

    for (;;) {
        apr_time_t aligned;

        sent += dialup_pace_step(&p, 70000, sent, now, &wake);
        if (!wake) {
            break;
        }
        aligned = dialup_pace_align(wake, MS(5));
        if (aligned < wake || aligned - wake >= MS(5) || aligned % MS(5)) {
            ok = 0;
        }
        now = aligned;
    }
    CHECK(ok);
    CHECK(sent == 70000);
    CHECK(now >= p.start + MS(10000) && now < p.start + MS(10000) + MS(5));
}

static void test_backlog_max(void)
{
    /* One second of the rate, never below the floor nor below a pulse. */
    dialup_pace_t p = { 128000, MS(200), T0 };

    CHECK(dialup_pace_backlog_max(&p) == DIALUP_BACKLOG_MIN);
    p.bits_per_sec = 56000;
    CHECK(dialup_pace_backlog_max(&p) == DIALUP_BACKLOG_MIN);
    p.bits_per_sec = 8;
    CHECK(dialup_pace_backlog_max(&p) == DIALUP_BACKLOG_MIN);
    p.bits_per_sec = 2000000;
    CHECK(dialup_pace_backlog_max(&p) == 250000);
    p.bits_per_sec = 80000000;
    CHECK(dialup_pace_backlog_max(&p) == 10000000);
    /* a pulse longer than a second: a whole pulse may be queued */
    p.bits_per_sec = 2000000;
    p.pulse = MS(3000);
    CHECK(dialup_pace_backlog_max(&p) == 750000);
    /* the fastest rate does not overflow */
    p.bits_per_sec = DIALUP_RATE_MAX;
    p.pulse = MS(200);
    CHECK(dialup_pace_backlog_max(&p) == DIALUP_RATE_MAX / 8);
}

static void test_parse_size(void)
{
    apr_int64_t n = -1;

    CHECK(dialup_parse_size("0", &n) == 0 && n == 0);
    CHECK(dialup_parse_size("65536", &n) == 0 && n == 65536);
    CHECK(dialup_parse_size("64K", &n) == 0 && n == 65536);
    CHECK(dialup_parse_size("64k", &n) == 0 && n == 65536);
    CHECK(dialup_parse_size("64M", &n) == 0 && n == 64 * 1048576);
    CHECK(dialup_parse_size("2g", &n) == 0 && n == APR_INT64_C(2147483648));
    CHECK(dialup_parse_size("1024G", &n) == 0 && n == DIALUP_SIZE_MAX);
    n = -1;
    CHECK(dialup_parse_size("1025G", &n) == -1);
    CHECK(dialup_parse_size("", &n) == -1);
    CHECK(dialup_parse_size("K", &n) == -1);
    CHECK(dialup_parse_size("-1", &n) == -1);
    CHECK(dialup_parse_size("64KB", &n) == -1);
    CHECK(dialup_parse_size("6 4", &n) == -1);
    CHECK(dialup_parse_size("1.5M", &n) == -1);
    CHECK(dialup_parse_size("64T", &n) == -1);
    CHECK(dialup_parse_size("99999999999999999999999", &n) == -1);
    CHECK(n == -1);
}

/* V.92: 7000 bytes a second, 1400 a pulse of 200 ms. */
static void test_idle(void)
{
    dialup_pace_t p = { 56000, MS(200), T0 };
    apr_time_t wake;
    apr_time_t t;
    apr_int64_t sent;
    int i;

    /* 7000 bytes went in the first second; silent 10 s after that: one
     * pulse's worth is due at once, the rest at the line's rate. */
    CHECK(dialup_pace_idle(&p, 7000, T0 + MS(11000)) == 1);
    CHECK(p.start == T0 + MS(9800));
    CHECK(dialup_pace_due(&p, T0 + MS(11000)) == 7000 + 1400);
    CHECK(dialup_pace_step(&p, 7000 + 1400 + 7000, 7000, T0 + MS(11000),
                           &wake) == 1400);
    CHECK(wake == T0 + MS(11200));
    CHECK(dialup_pace_due(&p, T0 + MS(12000)) == 7000 + 1400 + 7000);
    /* A silence of one pulse or less moves nothing. */
    p.start = T0;
    CHECK(dialup_pace_idle(&p, 7000, T0 + MS(1200)) == 0);
    CHECK(dialup_pace_idle(&p, 7000, T0 + MS(1000)) == 0);
    CHECK(p.start == T0);
    /* A handler that writes just as fast as the line takes: the line is
     * never a pulse ahead, nothing moves. */
    CHECK(dialup_pace_idle(&p, 7000, T0 + MS(1100)) == 0);
    CHECK(p.start == T0);
    /* One that wrote 2000 bytes in a second: what it did not use beyond a
     * pulse is gone. */
    CHECK(dialup_pace_idle(&p, 2000, T0 + MS(1000)) == 1);
    CHECK(dialup_pace_due(&p, T0 + MS(1000)) == 2000 + 1400);
    p.start = T0;
    /* Many short silences bank nothing either: 100 lines of 70 bytes
     * 150 ms apart (the line takes each in 10 ms), then 210 KB at once:
     * one pulse of it is due at once, not the 100 x 140 ms of silence. */
    p.start = T0;
    sent = 0;
    for (i = 0, t = T0; i < 100; i++, t += MS(150)) {
        dialup_pace_idle(&p, sent, t);
        sent += 70;
    }
    dialup_pace_idle(&p, sent, t);
    CHECK(dialup_pace_due(&p, t) <= sent + 1400);
    CHECK(dialup_pace_due(&p, t + MS(1000)) <= sent + 1400 + 7000);
    /* What was due before the first byte went (the time a request waited
     * in the server) is not the module's business here: it calls this
     * only after something was sent.  With nothing sent and a start 2 s
     * back, a long silence still leaves one pulse due. */
    p.start = T0 - MS(2000);
    CHECK(dialup_pace_idle(&p, 0, T0 + MS(1)) == 1);
    CHECK(dialup_pace_due(&p, T0 + MS(1)) == 1400);
    /* A clock that went back: nothing moves. */
    p.start = T0;
    CHECK(dialup_pace_idle(&p, 7000, T0 + MS(500)) == 0);
    CHECK(p.start == T0);
    /* Far times do not overflow; a clock near 0 moves nothing. */
    p.start = APR_INT64_MAX - MS(100);
    CHECK(dialup_pace_idle(&p, 0, APR_INT64_MAX) == 0);
    CHECK(p.start == APR_INT64_MAX - MS(100));
    p.start = 0;
    CHECK(dialup_pace_idle(&p, 0, APR_INT64_MAX) == 1);
    CHECK(p.start == APR_INT64_MAX - MS(200));
    p.start = 0;
    CHECK(dialup_pace_idle(&p, 0, MS(100)) == 0);
    CHECK(p.start == 0);
}

static void test_links(void)
{
    const dialup_link_t *l, *k;
    int n = 0;

    for (l = dialup_links; l->name; l++, n++) {
        CHECK(l->down_bits >= DIALUP_RATE_MIN
              && l->down_bits <= DIALUP_RATE_MAX);
        CHECK(l->up_bits >= DIALUP_RATE_MIN && l->up_bits <= l->down_bits);
        CHECK(l->rtt > 0 && l->rtt <= 1000 * 1000);
        CHECK(l->source && *l->source);
        /* unique, and no modem's name */
        CHECK(dialup_link_find(l->name) == l);
        CHECK(dialup_modem_find(l->name) == NULL);
        for (k = dialup_links; k != l; k++) {
            CHECK(apr_cstr_casecmp(k->name, l->name) != 0);
        }
    }
    CHECK(n == 14);
    /* the numbers of PRESETS.md, case-insensitively */
    l = dialup_link_find("slow-4g");
    CHECK(l && l->down_bits == 1440000 && l->up_bits == 675000
          && l->rtt == MS(150));
    l = dialup_link_find("3G");
    CHECK(l && l->down_bits == 400000 && l->rtt == MS(400));
    l = dialup_link_find("GPRS");
    CHECK(l && l->down_bits == 51200 && l->up_bits == 20480
          && l->rtt == MS(500));
    l = dialup_link_find("wi-fi");
    CHECK(l && l->down_bits == 31457280 && l->rtt == MS(2));
    l = dialup_link_find("Dial");
    CHECK(l && l->down_bits == 49000 && l->up_bits == 30000
          && l->rtt == MS(120));
    CHECK(dialup_link_find("4G") == NULL);
    CHECK(dialup_link_find("") == NULL);
}

static void test_rebase(void)
{
    dialup_pace_t p = { 56000, MS(200), T0 };

    /* 7000 bytes due after 1 s at 56k; at 28k from then on: still 7000
     * at 1 s, 3500 more a second after. */
    dialup_pace_rebase(&p, 28000, T0 + MS(1000));
    CHECK(p.bits_per_sec == 28000);
    CHECK(dialup_pace_due(&p, T0 + MS(1000)) == 7000);
    CHECK(dialup_pace_due(&p, T0 + MS(2000)) == 10500);
    /* And back to 56k: 7000 a second again. */
    dialup_pace_rebase(&p, 56000, T0 + MS(2000));
    CHECK(dialup_pace_due(&p, T0 + MS(2000)) == 10500);
    CHECK(dialup_pace_due(&p, T0 + MS(3000)) == 17500);
    /* An odd rate: what was due stays due, to the byte. */
    dialup_pace_rebase(&p, 33333, T0 + MS(3001));
    CHECK(dialup_pace_due(&p, T0 + MS(3001)) == 17507);
    /* Not started: the start stays, the rate changes. */
    p.bits_per_sec = 56000;
    p.start = T0 + MS(500);
    dialup_pace_rebase(&p, 9600, T0);
    CHECK(p.start == T0 + MS(500) && p.bits_per_sec == 9600);
    /* Absurd sizes do not overflow. */
    p.bits_per_sec = DIALUP_RATE_MAX;
    p.start = 0;
    dialup_pace_rebase(&p, DIALUP_RATE_MIN, APR_INT64_MAX);
    CHECK(p.start >= 0 && p.bits_per_sec == DIALUP_RATE_MIN);
}

static void test_parse_time(void)
{
    apr_interval_time_t t;

    CHECK(dialup_parse_time("120", &t) == 0 && t == MS(120));
    CHECK(dialup_parse_time("150ms", &t) == 0 && t == MS(150));
    CHECK(dialup_parse_time("150MS", &t) == 0 && t == MS(150));
    CHECK(dialup_parse_time("0.4s", &t) == 0 && t == MS(400));
    CHECK(dialup_parse_time("2S", &t) == 0 && t == MS(2000));
    CHECK(dialup_parse_time("2.5", &t) == 0 && t == 2500);
    CHECK(dialup_parse_time("0.0005", &t) == 0 && t == 1);
    CHECK(dialup_parse_time("0", &t) == 0 && t == 0);
    CHECK(dialup_parse_time("10s", &t) == 0 && t == MS(10000));
    CHECK(dialup_parse_time("10000", &t) == 0 && t == MS(10000));
    CHECK(dialup_parse_time("0.12345678912345s", &t) == 0 && t == 123457);
    CHECK(dialup_parse_time("10.001s", &t) == -1);
    CHECK(dialup_parse_time("10001", &t) == -1);
    CHECK(dialup_parse_time("99999999999999999999", &t) == -1);
    CHECK(dialup_parse_time("", &t) == -1);
    CHECK(dialup_parse_time(".5s", &t) == -1);
    CHECK(dialup_parse_time("5.s", &t) == -1);
    CHECK(dialup_parse_time("-5", &t) == -1);
    CHECK(dialup_parse_time("5 ms", &t) == -1);
    CHECK(dialup_parse_time("5m", &t) == -1);
    CHECK(dialup_parse_time("5msx", &t) == -1);
    CHECK(dialup_parse_time("1h", &t) == -1);
}

static void test_defer(void)
{
    dialup_pace_t p = { 56000, MS(200), T0 };

    /* 7000 bytes sent after 1 s: due at T0 + 1 s; held back to 1.5 s. */
    CHECK(dialup_pace_defer(&p, 7000, T0 + MS(1500)) == 1);
    CHECK(p.start == T0 + MS(500));
    CHECK(dialup_pace_due(&p, T0 + MS(1500)) == 7000);
    CHECK(dialup_pace_due(&p, T0 + MS(2500)) == 14000);
    /* Already due later: nothing moves, never backwards. */
    CHECK(dialup_pace_defer(&p, 7000, T0 + MS(1000)) == 0);
    CHECK(p.start == T0 + MS(500));
    CHECK(dialup_pace_defer(&p, 7000, T0 + MS(1500)) == 0);
    /* Nothing sent yet: the start itself moves. */
    p.start = T0;
    CHECK(dialup_pace_defer(&p, 0, T0 + MS(200)) == 1);
    CHECK(p.start == T0 + MS(200));
    /* A byte out of reach stays so, without overflow. */
    CHECK(dialup_pace_defer(&p, DIALUP_BYTES_MAX + 1, APR_INT64_MAX) == 0);
    /* Idle is defer to now - pulse. */
    p.start = T0;
    CHECK(dialup_pace_idle(&p, 7000, T0 + MS(3000)) == 1);
    CHECK(dialup_pace_due(&p, T0 + MS(2800)) == 7000);
}

static void test_first_and_delay(void)
{
    dialup_pace_t p = { 56000, MS(200), T0 };
    dialup_pace_t fast = { 1440000, MS(200), T0 };
    dialup_pace_t slow = { 300, MS(200), T0 };

    /* 1460 bytes at 56k take 208.6 ms: the pulse comes first. */
    CHECK(dialup_pace_first(&p, 1460) == T0 + MS(200));
    /* At 1.44 Mbit/s the segment is there after 8.1 ms. */
    CHECK(dialup_pace_first(&fast, 1460) > T0 + MS(8));
    CHECK(dialup_pace_first(&fast, 1460) < T0 + MS(9));
    CHECK(dialup_pace_first(&slow, 1460) == T0 + MS(200));
    CHECK(dialup_pace_first(&fast, 0) > T0);
    fast.start = APR_INT64_MAX - MS(1);
    CHECK(dialup_pace_first(&fast, 1460) == APR_INT64_MAX);
    /* One round trip, one more for a new connection, one more for TLS on
     * it (TLS alone counts only with a new connection). */
    CHECK(dialup_link_delay(MS(150), 0, 0) == MS(150));
    CHECK(dialup_link_delay(MS(150), 1, 0) == MS(300));
    CHECK(dialup_link_delay(MS(150), 1, 1) == MS(450));
    CHECK(dialup_link_delay(MS(150), 0, 1) == MS(150));
    CHECK(dialup_link_delay(0, 1, 1) == 0);
    CHECK(dialup_link_delay(-5, 1, 1) == 0);
    CHECK(dialup_link_delay(APR_INT64_MAX, 1, 1)
          == 3 * apr_time_from_sec(60));
}

static void test_line_share(void)
{
    CHECK(dialup_line_share(56000, 0) == 56000);
    CHECK(dialup_line_share(56000, 1) == 56000);
    CHECK(dialup_line_share(56000, 3) == 18666);
    CHECK(dialup_line_share(300, 100) == DIALUP_RATE_MIN);
    CHECK(dialup_line_share(DIALUP_RATE_MAX, 0xffffffffu) > 0);
    CHECK(dialup_line_join(T0, MS(200), 0) == T0);
    CHECK(dialup_line_join(T0, MS(200), 2) == T0 + MS(200));
    CHECK(dialup_line_join(APR_INT64_MAX - 1, MS(200), 2)
          == APR_INT64_MAX - 1);
}

/* n transfers pulse about n times as seldom, at divisors of a second, at
 * most DIALUP_LINE_PULSE_MAX apart.  Two on a 200 ms base get 500 ms:
 * 400 ms does not divide a second, and 250 ms pulses let two shares
 * overshoot a 2 s window by more than 2 % (the simulation's bound). */
static void test_line_interval(void)
{
    CHECK(dialup_line_interval(MS(200), 0) == MS(200));
    CHECK(dialup_line_interval(MS(200), 1) == MS(200));
    CHECK(dialup_line_interval(MS(200), 2) == MS(500));
    CHECK(dialup_line_interval(MS(200), 3) == MS(500));
    CHECK(dialup_line_interval(MS(200), 100) == MS(500));
    CHECK(dialup_line_interval(MS(200), 0xffffffffu) == MS(500));
    CHECK(dialup_line_interval(MS(100), 2) == MS(200));
    CHECK(dialup_line_interval(MS(100), 3) == MS(250));   /* 300 does not divide 1 s */
    CHECK(dialup_line_interval(MS(100), 4) == MS(250));   /* nor 400 */
    CHECK(dialup_line_interval(MS(100), 5) == MS(500));
    CHECK(dialup_line_interval(MS(250), 2) == MS(500));
    CHECK(dialup_line_interval(MS(300), 2) == MS(500));
    CHECK(dialup_line_interval(MS(500), 4) == MS(500));
    CHECK(dialup_line_interval(MS(1000), 4) == MS(1000));
}

/*
 * A simulated line: transfers that pulse every 200 ms alone (n times as
 * long when n share the line, up to 500 ms), each at a phase of its own,
 * join and leave at given times, and take at each pulse what
 * their share of the line allows (as mod_dialup's pulses do, reading the
 * line's count of active transfers).  Millisecond steps; per-millisecond
 * totals of the line, and each transfer's bytes.
 */
#define SIM_MS 12000
#define SIM_MAX 100
#define SIM_RATE 56000

typedef struct {
    apr_time_t join, leave;     /* ms from T0; leave 0: never */
    apr_time_t stall, resume;   /* ms from T0 when it stalls and reads
                                 * again; 0: never */
    dialup_pace_t p;
    apr_int64_t sent;
    apr_int64_t sent_at2;       /* what it had sent at 2 s */
    apr_time_t next;
    apr_time_t joined;          /* as mod_dialup's line_joined */
    int active;
} sim_xfer_t;

static apr_int64_t sim_line[SIM_MS];
/* the line's horizon: the latest next pulse announced (as
 * dialup_lines_pulsed()) */
static apr_time_t sim_horizon;
static sim_xfer_t sim[SIM_MAX];

static void sim_run(int n)
{
    apr_uint32_t active = 0;
    apr_time_t t;
    int ms, i;

    memset(sim_line, 0, sizeof(sim_line));
    sim_horizon = 0;
    for (ms = 0; ms < SIM_MS; ms++) {
        t = T0 + MS(ms);
        for (i = 0; i < n; i++) {
            sim_xfer_t *x = &sim[i];

            if (ms == 2000) {
                x->sent_at2 = x->sent;
            }
            if (!x->active && x->next == 0 && ms == x->join) {
                x->p.pulse = MS(200);
                x->p.start = t;
                x->active = 1;
                active++;
                x->next = dialup_line_enter(&x->p, MS(200), SIM_RATE,
                                            active, 0, sim_horizon, t);
                x->joined = (x->next > t) ? x->next - MS(200) : 0;
                if (x->next == t) {
                    /* (it sends from now on: its next pulse is announced,
                     * as the module's step after the join does) */
                    x->next = t + MS(200);
                    sim_horizon = x->next > sim_horizon ? x->next
                                                        : sim_horizon;
                }
            }
            if (x->active && x->leave && ms == x->leave) {
                x->active = 0;
                active--;
            }
            /* A stalled transfer leaves the count, as mod_dialup's pulses
             * do when the client is behind, and rejoins when it reads. */
            if (x->active && x->stall && ms == x->stall) {
                x->active = 0;
                active--;
            }
            if (!x->active && x->stall && ms == x->resume) {
                x->active = 1;
                active++;
                x->next = dialup_line_enter(&x->p, MS(200), SIM_RATE,
                                            active, x->sent, sim_horizon,
                                            t);
                x->joined = (x->next > t) ? x->next - MS(200) : 0;
            }
        }
        for (i = 0; i < n; i++) {
            sim_xfer_t *x = &sim[i];
            apr_int64_t step;
            apr_time_t wake;

            if (!x->active || t < x->next) {
                continue;
            }
            dialup_line_pulse(&x->p, MS(200), SIM_RATE, active, x->sent,
                              x->joined, t);
            x->joined = 0;
            step = dialup_pace_step(&x->p, APR_INT64_C(1) << 40, x->sent, t,
                                    &wake);
            x->sent += step;
            sim_line[ms] += step;
            /* (as the module's pulses: at the wake-up the step asks for,
             * the transfer's pulse interval for its share of the line) */
            x->next = wake;
            if (wake > sim_horizon) {
                sim_horizon = wake;
            }
        }
    }
}

/* The most the line carried in any window of ms milliseconds starting at
 * or after from. */
static apr_int64_t sim_window_max(int from, int ms)
{
    apr_int64_t sum = 0, most = 0;
    int i;

    for (i = from; i < SIM_MS; i++) {
        sum += sim_line[i];
        if (i - from >= ms) {
            sum -= sim_line[i - ms];
        }
        if (sum > most) {
            most = sum;
        }
    }
    return most;
}

static apr_int64_t sim_between(int from, int to)
{
    apr_int64_t sum = 0;

    while (from < to) {
        sum += sim_line[from++];
    }
    return sum;
}

/* n transfers on one line, all from the start; the joins of the others
 * are spread over 0..n ms and their phases over the pulse. */
static void sim_setup(int n)
{
    int i;

    memset(sim, 0, sizeof(sim));
    for (i = 0; i < n; i++) {
        sim[i].join = (i * 37) % 200;
    }
}

/* 2 s at the line's rate, plus 2 %. */
#define LINE_2S ((apr_int64_t)SIM_RATE / 8 * 2 * 102 / 100)

/* 2 s at the line's rate, plus 5 %, over a window that holds a join or a
 * leave: the pulses of the others then change their interval
 * (dialup_line_interval()), and a window can start after a long gap and
 * hold shorter ones, so it counts what came due in part of the long gap
 * before it as well (measured: +3.3 % for a join and two leaves, +3.3 %
 * for a stall of one of three). */
#define LINE_2S_CHANGE ((apr_int64_t)SIM_RATE / 8 * 2 * 105 / 100)

/* The most the line carried in any window of ms milliseconds that lies
 * within from..to. */
static apr_int64_t sim_window_max_in(int from, int to, int ms)
{
    apr_int64_t most = 0;
    int i;

    for (i = from; i + ms <= to; i++) {
        apr_int64_t sum = sim_between(i, i + ms);

        most = sum > most ? sum : most;
    }
    return most;
}

static void test_line_fair(void)
{
    static const int ns[] = { 1, 2, 3, 100 };
    apr_int64_t least, most, pulse_share;
    int k, i, n;

    for (k = 0; k < (int)(sizeof(ns) / sizeof(ns[0])); k++) {
        n = ns[k];
        sim_setup(n);
        sim_run(n);
        pulse_share = SIM_RATE / 8 / n * dialup_line_interval(MS(200), n)
                      / MS(1000);
        /* never more than the line, over any 2 s */
        CHECK(sim_window_max(0, 2000) <= LINE_2S);
        /* and all of it once everyone runs (2 s to 12 s: 70,000 bytes;
         * the last of 100 waited a second, one of the others' pulses) */
        CHECK(sim_between(2000, 12000) >= SIM_RATE / 8 * 10 * 98 / 100);
        /* each its share from 2 s on (10 s of line), within 2 % and a
         * pulse of its share */
        least = most = sim[0].sent - sim[0].sent_at2;
        for (i = 1; i < n; i++) {
            apr_int64_t got = sim[i].sent - sim[i].sent_at2;

            least = got < least ? got : least;
            most = got > most ? got : most;
        }
        CHECK(least >= SIM_RATE / 8 * 10 / n * 98 / 100 - pulse_share);
        CHECK(most <= SIM_RATE / 8 * 10 / n * 102 / 100 + pulse_share);
    }
}

static void test_line_stall(void)
{
    apr_int64_t a;

    /* Three transfers; the second stalls from 3 s to 6 s (its client
     * reads nothing), then reads again. */
    sim_setup(3);
    sim[1].stall = 3000;
    sim[1].resume = 6000;
    sim_run(3);
    /* never more than the line, including when it comes back with 3 s of
     * schedule behind it (a change of the line: LINE_2S_CHANGE), and
     * +2 % again away from the changes */
    CHECK(sim_window_max(0, 2000) <= LINE_2S_CHANGE);
    CHECK(sim_window_max_in(3600, 6000, 2000) <= LINE_2S);
    CHECK(sim_window_max_in(7000, 12000, 2000) <= LINE_2S);
    /* while it stalls, the other two have the whole line (from their
     * next pulses, up to 500 ms after it left) */
    a = sim_between(3600, 5600);
    CHECK(a >= SIM_RATE / 8 * 2 * 97 / 100);
    /* and after it is back, a third each again: it gets no burst for the
     * time away */
    CHECK(sim_between(6000, 8000) <= LINE_2S);
    CHECK(sim_between(6400, 11400) >= SIM_RATE / 8 * 5 * 97 / 100);
    CHECK(sim[1].sent < sim[0].sent && sim[1].sent < sim[2].sent);
    CHECK(sim[1].sent >= SIM_RATE / 8 * 9 / 3 * 85 / 100);
}

static void test_line_join_leave(void)
{
    apr_int64_t a, b;

    /* Two transfers; a third joins at 3 s and leaves at 6 s; the first
     * leaves at 8 s. */
    sim_setup(3);
    sim[2].join = 3000;
    sim[2].leave = 6000;
    sim[0].leave = 8000;
    sim_run(3);
    CHECK(sim_window_max(0, 2000) <= LINE_2S_CHANGE);
    CHECK(sim_window_max_in(4000, 6000, 2000) <= LINE_2S);
    CHECK(sim_window_max_in(9000, 12000, 2000) <= LINE_2S);
    /* the line is full while anyone wants it (a pulse's lag at each
     * change: a join waits one of the others' pulses, 500 ms of a share,
     * and a leave is seen within a pulse) */
    CHECK(sim_between(1000, 12000) >= SIM_RATE / 8 * 11 * 94 / 100);
    /* 4 s to 6 s: a third each, within 5 % */
    a = sim_between(4000, 6000);
    CHECK(a >= SIM_RATE / 8 * 2 * 95 / 100);
    /* after 8.4 s the one left has the whole line */
    b = sim_between(8400, 11400);
    CHECK(b >= SIM_RATE / 8 * 3 * 98 / 100);
    CHECK(sim[1].sent > sim[0].sent && sim[0].sent > sim[2].sent);
    /* the third got about a third of 3 s of line, less the 700 ms it
     * waited for its first pulse */
    CHECK(sim[2].sent >= SIM_RATE / 8 * 3 / 3 * 70 / 100);
    CHECK(sim[2].sent <= SIM_RATE / 8 * 3 / 3 * 105 / 100);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    { "modem table", test_modem_table },
    { "rate parsing", test_parse_rate },
    { "bytes due", test_due },
    { "bytes due saturate at DIALUP_BYTES_MAX", test_bytes_max },
    { "time of byte n", test_time_of },
    { "V.92 schedule, 70 KB in 10 s", test_step_schedule },
    { "late pulses catch up, no drift", test_step_late_pulses_catch_up },
    { "before start, done, overdue", test_step_before_start_and_done },
    { "slow rates", test_step_slow_rate },
    { "fast rates, no overflow", test_step_fast_rate },
    { "wake times aligned to a grid", test_align },
    { "aligned pulses keep the schedule", test_step_aligned_schedule },
    { "kernel backlog bound", test_backlog_max },
    { "size parsing", test_parse_size },
    { "an idle line banks one pulse at most", test_idle },
    { "slow-link profiles", test_links },
    { "a schedule changes rate, keeping what was due", test_rebase },
    { "time parsing", test_parse_time },
    { "a schedule held back (defer)", test_defer },
    { "first pulse after a latency, latency of a response",
      test_first_and_delay },
    { "line shares and joins", test_line_share },
    { "pulse interval of n transfers on a line", test_line_interval },
    { "one line, 1, 2, 3 and 100 transfers: fair, full, no more", test_line_fair },
    { "one line, joins and leaves", test_line_join_leave },
    { "one line, a stalled transfer leaves and comes back", test_line_stall },
};

int main(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        tests[i].fn();
        unit_case_done(tests[i].name);
    }
    return unit_summary("dialup_pace");
}
