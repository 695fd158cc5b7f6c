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

/**
 * @file  dialup_pace.h
 * @brief mod_dialup's pure parts: the modem table, rate parsing, pacing
 *
 * Nothing here reads the clock, allocates, locks or logs: the module passes
 * "now" in, and the unit tests (test/unit/test_dialup_pace.c) call every
 * function without sleeping.
 */

#ifndef DIALUP_PACE_H
#define DIALUP_PACE_H

#include "apr.h"
#include "apr_time.h"

/** A modem standard and its line rates */
typedef struct dialup_modem_t {
    const char *name;           /**< as written in ModemStandard */
    apr_int64_t bits_per_sec;   /**< downstream rate */
    int year;                   /**< year of the ITU recommendation */
    const char *what;           /**< one line for the docs and errors */
    apr_int64_t up_bits;        /**< upstream rate */
    apr_interval_time_t rtt;    /**< round trip as DialupLink emulates it */
} dialup_modem_t;

/** The known modems, ending with a NULL name */
extern const dialup_modem_t dialup_modems[];

/**
 * Find a modem by name, case-insensitively.
 * @return The modem, or NULL if the name is unknown
 */
const dialup_modem_t *dialup_modem_find(const char *name);

/**
 * A slow-link profile of today's tools: downlink, uplink and round-trip
 * time as its source publishes them (modules/dialup/PRESETS.md).  Where a
 * source publishes an adjusted "latency" (Chrome DevTools' current
 * presets: the RTT times 2.75 to 5), rtt is the RTT it says it emulates.
 */
typedef struct dialup_link_t {
    const char *name;           /**< case-insensitive */
    apr_int64_t down_bits;      /**< bits per second */
    apr_int64_t up_bits;        /**< bits per second */
    apr_interval_time_t rtt;    /**< microseconds */
    const char *source;         /**< one line for the docs */
} dialup_link_t;

/** The known profiles, ending with a NULL name */
extern const dialup_link_t dialup_links[];

/**
 * Find a profile by name, case-insensitively.
 * @return The profile, or NULL if the name is unknown
 */
const dialup_link_t *dialup_link_find(const char *name);

/** Lowest and highest rates accepted, in bits per second */
#define DIALUP_RATE_MIN 8
#define DIALUP_RATE_MAX APR_INT64_C(100000000000)

/** Most bytes a schedule ever allows (2^58, about 2.9e17): far beyond any
 * file, and small enough that the arithmetic below never overflows */
#define DIALUP_BYTES_MAX (APR_INT64_MAX / 32)

/**
 * Parse a rate in bits per second: digits with an optional k (1000) or
 * M (1000000) suffix, case-insensitive, e.g. "56000", "56k", "2M".
 * @return 0 and *bits_per_sec set, or -1 if arg is not such a rate or is
 * outside DIALUP_RATE_MIN..DIALUP_RATE_MAX
 */
int dialup_parse_rate(const char *arg, apr_int64_t *bits_per_sec);

/** Largest size accepted by dialup_parse_size() (1 TB) */
#define DIALUP_SIZE_MAX (APR_INT64_C(1) << 40)

/**
 * Parse a size in bytes: digits with an optional K, M or G suffix (1024,
 * 1024^2, 1024^3), case-insensitive, e.g. "0", "65536", "64K", "64M".
 * @return 0 and *bytes set, or -1 if arg is not such a size or is above
 * DIALUP_SIZE_MAX
 */
int dialup_parse_size(const char *arg, apr_int64_t *bytes);

/** Longest time accepted by dialup_parse_time() (10 s) */
#define DIALUP_TIME_MAX APR_INT64_C(10000000)

/**
 * Parse a round-trip time: digits with an optional fraction and an
 * optional ms or s suffix (a bare number is milliseconds), case-
 * insensitive, e.g. "120", "150ms", "0.4s", "2.5ms"; rounded to the
 * microsecond.
 * @return 0 and *usec set, or -1 if arg is not such a time or is above
 * DIALUP_TIME_MAX
 */
int dialup_parse_time(const char *arg, apr_interval_time_t *usec);

/** A transfer's schedule: bytes are due at a constant rate from start */
typedef struct dialup_pace_t {
    apr_int64_t bits_per_sec;   /**< DIALUP_RATE_MIN..DIALUP_RATE_MAX */
    apr_interval_time_t pulse;  /**< time between two sends, > 0 */
    apr_time_t start;           /**< when the first byte was due */
} dialup_pace_t;

/**
 * How many bytes the schedule allows in all at time now (0 before start,
 * at most DIALUP_BYTES_MAX).  Absolute, so a late pulse catches up and the
 * transfer never drifts.
 */
apr_int64_t dialup_pace_due(const dialup_pace_t *p, apr_time_t now);

/**
 * The time at which the schedule allows n bytes in all (start for n <= 0;
 * APR_INT64_MAX where that time is out of reach, and for n above
 * DIALUP_BYTES_MAX).
 */
apr_time_t dialup_pace_time_of(const dialup_pace_t *p, apr_int64_t n);

/**
 * One pulse of a transfer of total bytes of which sent are gone.
 * @param p The schedule
 * @param total Bytes to send in all
 * @param sent Bytes sent so far
 * @param now The current time
 * @param wake Set to when to send next, or to 0 when nothing would be left
 *        after sending what this returns
 * @return The number of bytes to send now, 0 to total - sent
 */
apr_int64_t dialup_pace_step(const dialup_pace_t *p, apr_int64_t total,
                             apr_int64_t sent, apr_time_t now,
                             apr_time_t *wake);

/**
 * A line that ran idle banks at most one pulse of time: a modem delivers a
 * short message at once after a silence, but a long one at its rate,
 * however long the silence was.  When everything handed over (sent bytes)
 * had gone and more comes at now, move the start of the schedule forward
 * so that no more than one pulse of the line is due at once: byte sent is
 * then due at now - pulse at the earliest.  A schedule that is not that
 * far ahead (a short silence, or a line that never caught up) is left
 * alone.
 * @return 1 if the start moved, 0 if not
 */
int dialup_pace_idle(dialup_pace_t *p, apr_int64_t sent, apr_time_t now);

/**
 * Hold a schedule back so that byte sent is due no earlier than at (a
 * transfer that rejoins a busy line, or waits for its latency): the start
 * moves forward if the schedule had it due earlier, else nothing changes.
 * dialup_pace_idle() is this with at = now - pulse.
 * @return 1 if the start moved, 0 if not
 */
int dialup_pace_defer(dialup_pace_t *p, apr_int64_t sent, apr_time_t at);

/**
 * When the first pulse of a schedule that starts after a latency is due:
 * when its first segment (segment bytes, the headers and the start of the
 * body) has come due, as a link would deliver it, but no later than one
 * pulse after the start.
 */
apr_time_t dialup_pace_first(const dialup_pace_t *p, apr_int64_t segment);

/**
 * The latency before a response's first byte: one round trip for the
 * request, one more for the TCP handshake of a new connection, one more
 * for a TLS handshake on it (rtt >= 0, at most a minute).
 */
apr_interval_time_t dialup_link_delay(apr_interval_time_t rtt, int new_conn,
                                      int tls);

/**
 * Change the rate of a running schedule at now, keeping what it allowed
 * until now: from now on the bytes are due at bits_per_sec.  A schedule
 * that has not started (now <= start) keeps its start.  Used when the
 * share of a line changes (dialup_line_share()).
 */
void dialup_pace_rebase(dialup_pace_t *p, apr_int64_t bits_per_sec,
                        apr_time_t now);

/**
 * One line shared by active transfers: the rate of each, line_bits / n
 * (n = 0 counts as 1), never below DIALUP_RATE_MIN.  Each transfer reads
 * n at its own pulses and rebases its schedule when its share changed, so
 * a transfer that leaves gives its share to the others within a pulse.
 * One that joins while others are active starts its schedule a pulse
 * later (dialup_line_join()), when every other has seen it and slowed
 * down: the line never carries more than its rate.
 */
apr_int64_t dialup_line_share(apr_int64_t line_bits, apr_uint32_t n);

/**
 * When the schedule of a transfer that joins a line at now starts: now
 * when it is alone on the line (others = 0), else one pulse later.
 */
apr_time_t dialup_line_join(apr_time_t now, apr_interval_time_t pulse,
                            apr_uint32_t others);

/** The longest time between two pulses of a transfer on a shared line:
 * a transfer that joins a busy line waits for one of the others' pulses,
 * so this is also about the longest a new download waits for its share */
#define DIALUP_LINE_PULSE_MAX APR_INT64_C(500000)

/**
 * The time between two pulses of one of n transfers on a line, for pulses
 * every base when alone: about n times as long, so that a pulse carries
 * about what it would alone and the line costs about as many pulses as
 * one transfer, however many share it; at most DIALUP_LINE_PULSE_MAX, and
 * a divisor of a second (for the 200 ms base: 200 ms alone, 500 ms for
 * two or more; 400 ms would not divide a second), so that no window of
 * whole seconds holds more than the share of it.
 */
apr_interval_time_t dialup_line_interval(apr_interval_time_t base,
                                         apr_uint32_t n);

/**
 * A transfer (re)joins its line at now, where n transfers are active
 * counting itself: it takes its share (dialup_line_share()); one that
 * sent before (it comes back after a stall, or after it had sent all its
 * handler had written) gets no credit for the time away beyond a pulse
 * (dialup_pace_idle()); and where others are active it waits until they
 * have all pulsed once more and slowed down for it: horizon, the latest
 * next pulse they announced (no later than a pulse of
 * DIALUP_LINE_PULSE_MAX from now; no wait if that time has passed: none
 * of them is sending).
 * @return When its first pulse on the line is due: now when it is alone,
 * else a pulse of base after the end of that wait, with a pulse's worth
 * of its share due
 */
apr_time_t dialup_line_enter(dialup_pace_t *p, apr_interval_time_t base,
                             apr_int64_t line_bits, apr_uint32_t n,
                             apr_int64_t sent, apr_time_t horizon,
                             apr_time_t now);

/**
 * A pulse of a transfer on a line where n transfers are active now: the
 * schedule takes the share of n from now on (dialup_pace_rebase()), and
 * the interval of its pulses.  The first pulse after dialup_line_enter()
 * made it wait (joined is when that wait ended, a pulse of base before
 * the first pulse, and when byte sent was due; 0 otherwise) takes
 * the share of n from then instead: nothing went meanwhile, and the
 * share it was given when it joined may be out of date (others joined
 * too).
 */
void dialup_line_pulse(dialup_pace_t *p, apr_interval_time_t base,
                       apr_int64_t line_bits, apr_uint32_t n,
                       apr_int64_t sent, apr_time_t joined, apr_time_t now);

/**
 * Round a wake-up time up to the next multiple of grid, so that the pulses
 * of many transfers fall on the same instants and the MPM fires their
 * timers in batches.  Never earlier than t; t itself if grid <= 0 or if
 * rounding would overflow.
 */
apr_time_t dialup_pace_align(apr_time_t t, apr_interval_time_t grid);

/** The least a connection may keep queued in the kernel (16 KB): a few TCP
 * segments, so that a slow modem still fills a window */
#define DIALUP_BACKLOG_MIN 16384

/**
 * How many bytes sent but not yet taken by the client (queued in the
 * kernel's socket buffer) the schedule tolerates before it holds further
 * pulses: one second of the rate, at least one pulse's worth and at least
 * DIALUP_BACKLOG_MIN.  Beyond it the client is not keeping up, and the
 * time it stays beyond is the stall that Timeout bounds; below it, kernel
 * memory per connection stays bounded whatever the socket buffers
 * autotune to.
 */
apr_int64_t dialup_pace_backlog_max(const dialup_pace_t *p);

#endif /* DIALUP_PACE_H */
