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
 * mod_dialup's pure parts, see dialup_pace.h.  Every function may run on
 * any thread: they only read their arguments and the constant modem table.
 */

#include "dialup_pace.h"

#include "apr_lib.h"
#include "apr_cstr.h"

#define USEC_PER_SEC APR_INT64_C(1000000)

/* The round trip that DialupLink gives a modem: an analog modem's own
 * delay (its DSP, V.42 framing and the serial link: WebPageTest's "Dial"
 * profile uses 120 ms), and an estimate for ISDN, which has none of those
 * (PRESETS.md).  ModemStandard sets the rate only. */
#define MODEM_RTT apr_time_from_msec(120)
#define ISDN_RTT apr_time_from_msec(30)

/* Rates of the ITU-T recommendations (and ISDN's B channels), in bits per
 * second, with the year each was approved: downstream, then upstream (the
 * fax modems, half duplex, take turns at one rate). */
const dialup_modem_t dialup_modems[] = {
    { "V.21",     300,    1964, "300 bit/s FSK, the first duplex modems",
      300, MODEM_RTT },
    { "V.22",     1200,   1980, "1200 bit/s PSK duplex",
      1200, MODEM_RTT },
    { "V.22bis",  2400,   1984, "2400 bit/s QAM duplex",
      2400, MODEM_RTT },
    { "V.23",     1200,   1964, "1200 bit/s down, 75 up (Minitel, Prestel)",
      75, MODEM_RTT },
    { "V.26bis",  2400,   1972, "2400 bit/s on switched lines",
      2400, MODEM_RTT },
    { "V.27ter",  4800,   1976, "4800 bit/s, Group 3 fax",
      4800, MODEM_RTT },
    { "V.29",     9600,   1976, "9600 bit/s, Group 3 fax",
      9600, MODEM_RTT },
    { "V.32",     9600,   1984, "9600 bit/s duplex with echo cancelling",
      9600, MODEM_RTT },
    { "V.32bis",  14400,  1991, "14400 bit/s duplex",
      14400, MODEM_RTT },
    { "V.34",     28800,  1994, "28800 bit/s",
      28800, MODEM_RTT },
    { "V.34+",    33600,  1996, "33600 bit/s, the fastest analog modem",
      33600, MODEM_RTT },
    { "V.90",     56000,  1998, "56k down from a digital line, 33.6k up",
      33600, MODEM_RTT },
    { "V.92",     56000,  2000, "56k down, 48k up, quick connect",
      48000, MODEM_RTT },
    { "ISDN",     64000,  1988, "one ISDN B channel",
      64000, ISDN_RTT },
    { "ISDN-2B",  128000, 1988, "two bonded ISDN B channels",
      128000, ISDN_RTT },
    { NULL, 0, 0, NULL, 0, 0 }
};

const dialup_modem_t *dialup_modem_find(const char *name)
{
    const dialup_modem_t *m;

    for (m = dialup_modems; m->name; m++) {
        if (!apr_cstr_casecmp(m->name, name)) {
            return m;
        }
    }
    return NULL;
}

/* kbit/s of 1000 and of 1024 bit/s, and milliseconds */
#define KB(n) ((apr_int64_t)(n) * 1000)
#define KIB(n) ((apr_int64_t)(n) * 1024)
#define RTT(ms) ((apr_interval_time_t)(ms) * 1000)

const dialup_link_t dialup_links[] = {
    /* Chrome DevTools now (devtools-frontend core/sdk/NetworkManager.ts):
     * throughput with its 0.8 / 0.9 factors, the RTT before its latency
     * factor (DevTools sets 2000, 562.5 and 165 ms) */
    { "3G",          KB(400),    KB(400),    RTT(400),
      "Chrome DevTools 3G (500 kbit/s x 0.8; 400 ms RTT)" },
    { "Slow-4G",     KB(1440),   KB(675),    RTT(150),
      "Chrome DevTools Slow 4G (1.6 Mbit/s x 0.9; 150 ms RTT)" },
    { "Fast-4G",     KB(8100),   KB(1350),   RTT(60),
      "Chrome DevTools Fast 4G (9 Mbit/s x 0.9; 60 ms RTT)" },
    /* Firefox DevTools (devtools/client/shared/components/throttling/
     * profiles.js) and Chrome's list before 2024: K = 1024 */
    { "GPRS",        KIB(50),    KIB(20),    RTT(500), "Firefox DevTools GPRS" },
    { "Regular-2G",  KIB(250),   KIB(50),    RTT(300),
      "Firefox DevTools Regular 2G" },
    { "Good-2G",     KIB(450),   KIB(150),   RTT(150),
      "Firefox DevTools Good 2G" },
    { "Regular-3G",  KIB(750),   KIB(250),   RTT(100),
      "Firefox DevTools Regular 3G" },
    { "Good-3G",     KIB(1536),  KIB(750),   RTT(40),
      "Firefox DevTools Good 3G" },
    { "Regular-4G",  KIB(4096),  KIB(3072),  RTT(20),
      "Firefox DevTools Regular 4G / LTE" },
    { "DSL",         KIB(2048),  KIB(1024),  RTT(5), "Firefox DevTools DSL" },
    { "Wi-Fi",       KIB(30720), KIB(15360), RTT(2), "Firefox DevTools Wi-Fi" },
    /* Lighthouse's default mobile throttling (core/config/constants.js,
     * mobileSlow4G: 1.6 x 1024 "Kbps", which its simulator multiplies by
     * 1024; 750 Kbps up in its docs) */
    { "Lighthouse",  1677722,    KIB(750),   RTT(150),
      "Lighthouse mobile (1638.4 Kbps of 1024 bit/s; 150 ms RTT)" },
    /* WebPageTest (www/settings/connectivity.ini.sample): bit/s, RTT */
    { "Dial",        KB(49),     KB(30),     RTT(120), "WebPageTest Dial" },
    { "3GSlow",      KB(400),    KB(400),    RTT(400), "WebPageTest 3GSlow" },
    { NULL, 0, 0, 0, NULL }
};

const dialup_link_t *dialup_link_find(const char *name)
{
    const dialup_link_t *l;

    for (l = dialup_links; l->name; l++) {
        if (!apr_cstr_casecmp(l->name, name)) {
            return l;
        }
    }
    return NULL;
}

int dialup_parse_rate(const char *arg, apr_int64_t *bits_per_sec)
{
    apr_int64_t value = 0, unit = 1;
    const char *s = arg;

    if (!apr_isdigit(*s)) {
        return -1;
    }
    while (apr_isdigit(*s)) {
        /* Stop well before overflowing: the limit check comes later. */
        if (value > DIALUP_RATE_MAX) {
            return -1;
        }
        value = value * 10 + (*s - '0');
        s++;
    }
    if (*s == 'k' || *s == 'K') {
        unit = 1000;
        s++;
    }
    else if (*s == 'm' || *s == 'M') {
        unit = 1000000;
        s++;
    }
    if (*s != '\0' || value > DIALUP_RATE_MAX / unit) {
        return -1;
    }
    value *= unit;
    if (value < DIALUP_RATE_MIN || value > DIALUP_RATE_MAX) {
        return -1;
    }
    *bits_per_sec = value;
    return 0;
}

int dialup_parse_time(const char *arg, apr_interval_time_t *usec)
{
    /* whole.frac units, frac kept to 7 decimals (below a microsecond of
     * a second) */
    apr_int64_t whole = 0, frac = 0, frac_scale = 1, unit;
    const char *s = arg;

    if (!apr_isdigit(*s)) {
        return -1;
    }
    while (apr_isdigit(*s)) {
        if (whole > DIALUP_TIME_MAX) {
            return -1;
        }
        whole = whole * 10 + (*s - '0');
        s++;
    }
    if (*s == '.') {
        s++;
        if (!apr_isdigit(*s)) {
            return -1;
        }
        while (apr_isdigit(*s)) {
            if (frac_scale < APR_INT64_C(10000000)) {
                frac = frac * 10 + (*s - '0');
                frac_scale *= 10;
            }
            s++;
        }
    }
    if (!apr_cstr_casecmp(s, "s")) {
        unit = USEC_PER_SEC;
    }
    else if (!*s || !apr_cstr_casecmp(s, "ms")) {
        unit = 1000;
    }
    else {
        return -1;
    }
    if (whole > DIALUP_TIME_MAX / unit) {
        return -1;
    }
    /* (frac < frac_scale <= 10^7 and unit <= 10^6: no overflow) */
    *usec = whole * unit + (frac * unit + frac_scale / 2) / frac_scale;
    return *usec > DIALUP_TIME_MAX ? -1 : 0;
}

int dialup_parse_size(const char *arg, apr_int64_t *bytes)
{
    apr_int64_t value = 0, unit = 1;
    const char *s = arg;

    if (!apr_isdigit(*s)) {
        return -1;
    }
    while (apr_isdigit(*s)) {
        if (value > DIALUP_SIZE_MAX) {
            return -1;
        }
        value = value * 10 + (*s - '0');
        s++;
    }
    switch (*s) {
    case 'k':
    case 'K':
        unit = APR_INT64_C(1) << 10;
        s++;
        break;
    case 'm':
    case 'M':
        unit = APR_INT64_C(1) << 20;
        s++;
        break;
    case 'g':
    case 'G':
        unit = APR_INT64_C(1) << 30;
        s++;
        break;
    default:
        break;
    }
    if (*s != '\0' || value > DIALUP_SIZE_MAX / unit) {
        return -1;
    }
    *bytes = value * unit;
    return 0;
}

apr_int64_t dialup_pace_due(const dialup_pace_t *p, apr_time_t now)
{
    apr_int64_t elapsed, secs, usecs, due;

    if (now <= p->start) {
        return 0;
    }
    /* bits_per_sec * elapsed / 8e6, split so that no product overflows:
     * the rate is below 2^37 and usecs below 2^20.  Where whole seconds
     * times the rate would pass 2^61, the result would pass
     * DIALUP_BYTES_MAX anyway, so it saturates there; dialup_pace_time_of()
     * agrees, so the two stay each other's inverse. */
    elapsed = now - p->start;
    secs = elapsed / USEC_PER_SEC;
    usecs = elapsed % USEC_PER_SEC;
    if (secs > 0 && p->bits_per_sec > APR_INT64_MAX / 4 / secs) {
        return DIALUP_BYTES_MAX;
    }
    due = (secs * p->bits_per_sec
           + usecs * p->bits_per_sec / USEC_PER_SEC) / 8;
    return (due > DIALUP_BYTES_MAX) ? DIALUP_BYTES_MAX : due;
}

apr_time_t dialup_pace_time_of(const dialup_pace_t *p, apr_int64_t n)
{
    apr_int64_t secs, rest, t;

    if (n <= 0) {
        return p->start;
    }
    if (n > DIALUP_BYTES_MAX) {
        return APR_INT64_MAX;
    }
    /* The first time t with due(t) >= n: ceil(8n * 10^6 / rate), split as
     * in dialup_pace_due() to stay clear of overflows. */
    secs = n * 8 / p->bits_per_sec;
    rest = n * 8 % p->bits_per_sec;
    if (secs > (APR_INT64_MAX / 2) / USEC_PER_SEC) {
        return APR_INT64_MAX;
    }
    t = secs * USEC_PER_SEC
        + (rest * USEC_PER_SEC + p->bits_per_sec - 1) / p->bits_per_sec;
    if (t > APR_INT64_MAX - p->start) {
        return APR_INT64_MAX;
    }
    return p->start + t;
}

apr_int64_t dialup_pace_step(const dialup_pace_t *p, apr_int64_t total,
                             apr_int64_t sent, apr_time_t now,
                             apr_time_t *wake)
{
    apr_int64_t due, allowed, after;
    apr_time_t next, next_byte;

    if (sent >= total) {
        *wake = 0;
        return 0;
    }
    due = dialup_pace_due(p, now);
    if (due > total) {
        due = total;
    }
    allowed = (due > sent) ? due - sent : 0;
    after = sent + allowed;
    if (after >= total) {
        *wake = 0;
        return allowed;
    }

    /* Next pulse one interval from now, or earlier when the last byte is
     * due before that, so the transfer ends on time; but never before the
     * next byte is due, so no pulse is empty. */
    next = (now > APR_INT64_MAX - p->pulse) ? APR_INT64_MAX : now + p->pulse;
    if (next > dialup_pace_time_of(p, total)) {
        next = dialup_pace_time_of(p, total);
    }
    next_byte = dialup_pace_time_of(p, after + 1);
    if (next < next_byte) {
        next = next_byte;
    }
    *wake = next;
    return allowed;
}

int dialup_pace_idle(dialup_pace_t *p, apr_int64_t sent, apr_time_t now)
{
    apr_time_t due = dialup_pace_time_of(p, sent);

    /* (now - pulse cannot overflow: now >= start >= 0 in any schedule
     * that ran; a clock before the epoch moves nothing) */
    if (now < p->pulse || due >= now - p->pulse) {
        return 0;
    }
    /* due < now - pulse, so start + shift <= now - pulse: no overflow */
    p->start += (now - p->pulse) - due;
    return 1;
}

int dialup_pace_defer(dialup_pace_t *p, apr_int64_t sent, apr_time_t at)
{
    apr_time_t due = dialup_pace_time_of(p, sent);

    /* (a byte out of reach, APR_INT64_MAX, is never earlier than at) */
    if (due >= at) {
        return 0;
    }
    /* due < at, so start + (at - due) <= at: no overflow */
    p->start += at - due;
    return 1;
}

apr_time_t dialup_pace_first(const dialup_pace_t *p, apr_int64_t segment)
{
    apr_time_t t = dialup_pace_time_of(p, segment > 0 ? segment : 1);
    apr_time_t latest = (p->start > APR_INT64_MAX - p->pulse)
                        ? APR_INT64_MAX : p->start + p->pulse;

    return t < latest ? t : latest;
}

apr_interval_time_t dialup_link_delay(apr_interval_time_t rtt, int new_conn,
                                      int tls)
{
    if (rtt <= 0) {
        return 0;
    }
    if (rtt > apr_time_from_sec(60)) {
        rtt = apr_time_from_sec(60);
    }
    return rtt * (1 + (new_conn ? 1 : 0) + (new_conn && tls ? 1 : 0));
}

void dialup_pace_rebase(dialup_pace_t *p, apr_int64_t bits_per_sec,
                        apr_time_t now)
{
    dialup_pace_t q;
    apr_int64_t due;
    apr_time_t span;

    if (bits_per_sec == p->bits_per_sec || now <= p->start) {
        p->bits_per_sec = bits_per_sec;
        return;
    }
    due = dialup_pace_due(p, now);
    /* How long the new rate takes for what was due: rounded up, so that
     * the new schedule allows at now exactly what the old one did. */
    q.bits_per_sec = bits_per_sec;
    q.pulse = p->pulse;
    q.start = 0;
    span = dialup_pace_time_of(&q, due);
    p->bits_per_sec = bits_per_sec;
    /* (a span beyond now: a schedule of absurd size or age, which stays
     * as far ahead as the clock allows) */
    p->start = (span < now) ? now - span : 0;
}

apr_int64_t dialup_line_share(apr_int64_t line_bits, apr_uint32_t n)
{
    apr_int64_t share = line_bits / (n > 1 ? (apr_int64_t)n : 1);

    return share < DIALUP_RATE_MIN ? DIALUP_RATE_MIN : share;
}

apr_time_t dialup_line_join(apr_time_t now, apr_interval_time_t pulse,
                            apr_uint32_t others)
{
    if (others == 0 || now > APR_INT64_MAX - pulse) {
        return now;
    }
    return now + pulse;
}

apr_interval_time_t dialup_line_interval(apr_interval_time_t base,
                                         apr_uint32_t n)
{
    apr_interval_time_t want, t;

    if (n <= 1 || base <= 0 || base >= DIALUP_LINE_PULSE_MAX) {
        return base;
    }
    want = ((apr_int64_t)n >= DIALUP_LINE_PULSE_MAX / base)
           ? DIALUP_LINE_PULSE_MAX : base * (apr_int64_t)n;
    /* The longest that divides a second (and so any window of whole
     * seconds) into whole intervals: a transfer then sends no more than
     * its share in any such window, however its pulses fall (600 ms
     * pulses would fit 4 into 2 s, 2.4 s of share).  base itself, if
     * nothing longer does. */
    for (t = want; t > base; t--) {
        if (APR_INT64_C(1000000) % t == 0) {
            return t;
        }
    }
    return base;
}

apr_time_t dialup_line_enter(dialup_pace_t *p, apr_interval_time_t base,
                             apr_int64_t line_bits, apr_uint32_t n,
                             apr_int64_t sent, apr_time_t horizon,
                             apr_time_t now)
{
    apr_time_t at;

    p->pulse = base;
    if (sent > 0) {
        dialup_pace_idle(p, sent, now);
    }
    dialup_pace_rebase(p, dialup_line_share(line_bits, n), now);
    if (n <= 1 || horizon <= now) {
        return now;
    }
    /* (a horizon beyond what any pulse of the others can be: a clock
     * that went back; wait no longer than one such pulse) */
    at = dialup_line_join(now, DIALUP_LINE_PULSE_MAX, n - 1);
    if (horizon < at) {
        at = horizon;
    }
    dialup_pace_defer(p, sent, at);
    return (at > APR_INT64_MAX - base) ? at : at + base;
}

void dialup_line_pulse(dialup_pace_t *p, apr_interval_time_t base,
                       apr_int64_t line_bits, apr_uint32_t n,
                       apr_int64_t sent, apr_time_t joined, apr_time_t now)
{
    apr_int64_t share = dialup_line_share(line_bits, n);

    if (joined > 0 && joined <= now && share != p->bits_per_sec) {
        dialup_pace_t q;
        apr_time_t span;

        /* sent is due at joined, at the new share: the start is as far
         * before joined as sent takes at it */
        q.bits_per_sec = share;
        q.pulse = p->pulse;
        q.start = 0;
        span = dialup_pace_time_of(&q, sent);
        p->bits_per_sec = share;
        p->start = (span < joined) ? joined - span : 0;
    }
    else if (share != p->bits_per_sec) {
        dialup_pace_rebase(p, share, now);
    }
    p->pulse = dialup_line_interval(base, n);
}

apr_time_t dialup_pace_align(apr_time_t t, apr_interval_time_t grid)
{
    apr_time_t r;

    if (grid <= 0) {
        return t;
    }
    /* C89 leaves the sign of % with a negative operand to the compiler:
     * round toward +infinity either way. */
    r = t % grid;
    if (r < 0) {
        r += grid;
    }
    if (r == 0 || t > APR_INT64_MAX - (grid - r)) {
        return t;
    }
    return t + (grid - r);
}

apr_int64_t dialup_pace_backlog_max(const dialup_pace_t *p)
{
    apr_int64_t second = p->bits_per_sec / 8;
    apr_int64_t pulse = dialup_pace_due(p, p->start + p->pulse);

    if (second < pulse) {
        second = pulse;
    }
    return (second > DIALUP_BACKLOG_MIN) ? second : DIALUP_BACKLOG_MIN;
}
