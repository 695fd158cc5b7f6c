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
 * The table of client lines (dialup_line.h).  Any thread of any child;
 * dialup_lines_claim() under the caller's lock, the rest without one.
 *
 * Each slot's word is its generation (high 32 bits) and its count of
 * active transfers (low 32 bits).  A join compares the key and then
 * counts itself in with a compare-and-swap of the word it read: a claim
 * that took the slot over in between changed the generation, so the swap
 * fails and the join looks again.  APR's 64-bit atomics are full
 * barriers, so the key a claim wrote before publishing the new word is
 * what a join that read that word compares.
 */

#include "dialup_line.h"

#include "apr_atomic.h"
#include "apr_general.h"
#include "apr_strings.h"

#include <string.h>

#define COUNT(w) ((apr_uint32_t)((w) & 0xffffffffu))
#define GEN(w) ((apr_uint32_t)((w) >> 32))
#define WORD(gen, count) (((apr_uint64_t)(gen) << 32) | (apr_uint64_t)(count))

/* FNV-1a over the whole key: keys that share their first
 * DIALUP_LINE_KEY_MAX - 1 bytes still differ by hash. */
static apr_uint32_t line_hash(const char *key)
{
    apr_uint32_t h = 2166136261u;

    while (*key) {
        h ^= (unsigned char)*key++;
        h *= 16777619u;
    }
    return h;
}

static int line_is(const dialup_line_t *s, apr_uint32_t h, const char *key)
{
    return s->hash == h
           && !strncmp(s->key, key, DIALUP_LINE_KEY_MAX - 1);
}

apr_size_t dialup_lines_size(apr_uint32_t n, apr_uint32_t procs)
{
    apr_size_t lines = (apr_size_t)(n ? n : 1);

    return APR_OFFSETOF(dialup_lines_t, slot) + lines * sizeof(dialup_line_t)
           + (apr_size_t)procs * lines * sizeof(apr_uint32_t);
}

dialup_lines_t *dialup_lines_init(void *mem, apr_uint32_t n,
                                  apr_uint32_t procs)
{
    dialup_lines_t *t = mem;

    /* (the per-process counts after the slots are zero already: a table
     * of 16384 lines for 256 processes would touch 16 MB here) */
    memset(mem, 0, dialup_lines_size(n, 0));
    t->n = n ? n : 1;
    t->procs = procs;
    return t;
}

/* Process proc's count of line i, or NULL if proc is not one of the
 * table's.  Each process's counts are one array, so that forgetting one
 * reads only its own. */
static volatile apr_uint32_t *line_mine(dialup_lines_t *t, int i, int proc)
{
    volatile apr_uint32_t *mine;

    if (proc < 0 || (apr_uint32_t)proc >= t->procs) {
        return NULL;
    }
    mine = (volatile apr_uint32_t *)(void *)&t->slot[t->n];
    return mine + (apr_size_t)proc * t->n + (apr_size_t)i;
}

static void line_count_mine(dialup_lines_t *t, int i, int proc)
{
    volatile apr_uint32_t *mine = line_mine(t, i, proc);

    if (mine) {
        apr_atomic_inc32(mine);
    }
}

int dialup_lines_join(dialup_lines_t *t, const char *key, int proc)
{
    apr_uint32_t h = line_hash(key), k;

    for (k = 0; k < t->n; k++) {
        int i = (int)((h + k) % t->n);
        dialup_line_t *s = &t->slot[i];

        if (!s->used) {
            return -1;          /* (the end of the probe) */
        }
        for (;;) {
            apr_uint64_t w = apr_atomic_read64(&s->word);

            if (COUNT(w) == DIALUP_LINE_BUSY || !line_is(s, h, key)) {
                break;
            }
            if (apr_atomic_cas64(&s->word, w + 1, w) == w) {
                line_count_mine(t, i, proc);
                return i;
            }
        }
    }
    return -1;
}

int dialup_lines_claim(dialup_lines_t *t, const char *key, apr_time_t now,
                       apr_interval_time_t keep, int proc)
{
    apr_uint32_t h = line_hash(key), k;
    int i;

    for (;;) {
        dialup_line_t *s = NULL;
        apr_uint64_t w = 0;

        i = dialup_lines_join(t, key, proc);
        if (i >= 0) {
            return i;
        }
        /* The first slot along the probe that is free, or idle for keep. */
        for (k = 0; k < t->n; k++) {
            s = &t->slot[(h + k) % t->n];
            w = apr_atomic_read64(&s->word);
            if (!s->used
                || (COUNT(w) == 0
                    && now - (apr_time_t)apr_atomic_read64(&s->left)
                       >= keep)) {
                break;
            }
        }
        if (k == t->n) {
            return -1;
        }
        i = (int)((h + k) % t->n);
        /* Hold the slot (a join of its old key may have come meanwhile:
         * then look again), write the key, publish with one transfer. */
        if (apr_atomic_cas64(&s->word, WORD(GEN(w) + 1, DIALUP_LINE_BUSY), w)
            != w) {
            continue;
        }
        s->hash = h;
        apr_cpystrn(s->key, key, sizeof(s->key));
        apr_atomic_set64(&s->bytes, 0);
        apr_atomic_set64(&s->horizon, 0);
        apr_atomic_set64(&s->left, (apr_uint64_t)now);
        apr_atomic_set64(&s->word, WORD(GEN(w) + 1, 1));
        s->used = 1;
        line_count_mine(t, i, proc);
        return i;
    }
}

void dialup_lines_leave(dialup_lines_t *t, int i, apr_time_t now, int proc)
{
    volatile apr_uint32_t *mine;
    dialup_line_t *s;

    if (i < 0 || (apr_uint32_t)i >= t->n) {
        return;
    }
    /* The process's own count first: a transfer that forget() already
     * took off (its process was thought gone) must not leave twice. */
    mine = line_mine(t, i, proc);
    if (mine) {
        apr_uint32_t m;

        do {
            m = apr_atomic_read32(mine);
            if (m == 0) {
                return;
            }
        } while (apr_atomic_cas32(mine, m - 1, m) != m);
    }
    s = &t->slot[i];
    for (;;) {
        apr_uint64_t w = apr_atomic_read64(&s->word);

        if (COUNT(w) == 0 || COUNT(w) == DIALUP_LINE_BUSY) {
            return;             /* (not ours: nothing to leave) */
        }
        /* The time first, so that a claim never sees an idle line with
         * the time of an earlier idle spell. */
        if (COUNT(w) == 1) {
            apr_atomic_set64(&s->left, (apr_uint64_t)now);
        }
        if (apr_atomic_cas64(&s->word, w - 1, w) == w) {
            return;
        }
    }
}

apr_uint32_t dialup_lines_active(dialup_lines_t *t, int i)
{
    apr_uint32_t n;

    if (i < 0 || (apr_uint32_t)i >= t->n) {
        return 0;
    }
    n = COUNT(apr_atomic_read64(&t->slot[i].word));
    return n == DIALUP_LINE_BUSY ? 0 : n;
}

void dialup_lines_pulsed(dialup_lines_t *t, int i, apr_time_t when)
{
    dialup_line_t *s;

    if (i < 0 || (apr_uint32_t)i >= t->n || when <= 0) {
        return;
    }
    s = &t->slot[i];
    for (;;) {
        apr_uint64_t h = apr_atomic_read64(&s->horizon);

        if ((apr_uint64_t)when <= h
            || apr_atomic_cas64(&s->horizon, (apr_uint64_t)when, h) == h) {
            return;
        }
    }
}

apr_time_t dialup_lines_horizon(dialup_lines_t *t, int i)
{
    if (i < 0 || (apr_uint32_t)i >= t->n) {
        return 0;
    }
    return (apr_time_t)apr_atomic_read64(&t->slot[i].horizon);
}

void dialup_lines_sent(dialup_lines_t *t, int i, apr_int64_t bytes)
{
    if (i >= 0 && (apr_uint32_t)i < t->n && bytes > 0) {
        apr_atomic_add64(&t->slot[i].bytes, (apr_uint64_t)bytes);
    }
}

apr_uint32_t dialup_lines_forget(dialup_lines_t *t, int proc,
                                 apr_time_t now)
{
    apr_uint32_t i, gone = 0;

    if (proc < 0 || (apr_uint32_t)proc >= t->procs) {
        return 0;
    }
    for (i = 0; i < t->n; i++) {
        volatile apr_uint32_t *mine = line_mine(t, (int)i, proc);
        apr_uint32_t m = apr_atomic_xchg32(mine, 0);
        dialup_line_t *s = &t->slot[i];

        while (m > 0) {
            apr_uint64_t w = apr_atomic_read64(&s->word);
            apr_uint32_t c = COUNT(w);

            if (c == 0 || c == DIALUP_LINE_BUSY) {
                break;
            }
            if (c <= m) {
                apr_atomic_set64(&s->left, (apr_uint64_t)now);
            }
            if (apr_atomic_cas64(&s->word, w - (c <= m ? c : m), w) == w) {
                gone += (c <= m ? c : m);
                break;
            }
        }
    }
    return gone;
}

void dialup_lines_reset(dialup_lines_t *t, apr_time_t now)
{
    apr_uint32_t i;

    memset((void *)&t->slot[t->n], 0,
           (apr_size_t)t->procs * t->n * sizeof(apr_uint32_t));

    for (i = 0; i < t->n; i++) {
        dialup_line_t *s = &t->slot[i];
        apr_uint64_t w = apr_atomic_read64(&s->word);

        if (COUNT(w) != 0) {
            apr_atomic_set64(&s->left, (apr_uint64_t)now);
            apr_atomic_set64(&s->word, WORD(GEN(w) + 1, 0));
        }
    }
}
