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
 * Unit tests for server/mpm_timerq.c, one case per edge.  No case sleeps:
 * the queue takes "now" as an argument.
 */

#include "mpm_timerq.h"

#include "apr_general.h"
#include "apr_pools.h"

#include "unit_test.h"
#include <stdlib.h>

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

static ap_timerq_t *new_queue(apr_pool_t *p)
{
    ap_timerq_t *q = NULL;

    if (ap_timerq_create(&q, p) != APR_SUCCESS) {
        fprintf(stderr, "ap_timerq_create failed\n");
        exit(2);
    }
    return q;
}

static void test_empty(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);

    CHECK(ap_timerq_count(q) == 0);
    CHECK(ap_timerq_next(q) == 0);
    CHECK(ap_timerq_pop_due(q, T0) == NULL);
    CHECK(ap_timerq_pop_due(q, APR_INT64_MAX) == NULL);
}

static void test_not_early(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    int a;

    CHECK(ap_timerq_add(q, T0 + 1000, &a) == APR_SUCCESS);
    CHECK(ap_timerq_next(q) == T0 + 1000);
    CHECK(ap_timerq_pop_due(q, T0) == NULL);
    CHECK(ap_timerq_pop_due(q, T0 + 999) == NULL);
    CHECK(ap_timerq_count(q) == 1);
    /* Due exactly at its deadline. */
    CHECK(ap_timerq_pop_due(q, T0 + 1000) == &a);
    CHECK(ap_timerq_count(q) == 0);
    CHECK(ap_timerq_next(q) == 0);
}

static void test_order(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    int items[5];
    const apr_time_t when[5] = { 50, 10, 40, 20, 30 };
    const int expect[5] = { 1, 3, 4, 2, 0 };
    int i;

    for (i = 0; i < 5; i++) {
        CHECK(ap_timerq_add(q, T0 + when[i], &items[i]) == APR_SUCCESS);
    }
    CHECK(ap_timerq_next(q) == T0 + 10);
    for (i = 0; i < 5; i++) {
        CHECK(ap_timerq_pop_due(q, T0 + 100) == &items[expect[i]]);
    }
    CHECK(ap_timerq_pop_due(q, T0 + 100) == NULL);
}

static void test_fifo_equal_deadlines(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    int items[300];
    int i;

    /* Enough to spread equal keys over several heap levels, mixed with a
     * later and an earlier deadline. */
    for (i = 0; i < 300; i++) {
        apr_time_t when = T0 + 500;

        if (i % 7 == 3) {
            when = T0 + 900;
        }
        CHECK(ap_timerq_add(q, when, &items[i]) == APR_SUCCESS);
    }
    for (i = 0; i < 300; i++) {
        if (i % 7 != 3) {
            CHECK(ap_timerq_pop_due(q, T0 + 500) == &items[i]);
        }
    }
    CHECK(ap_timerq_pop_due(q, T0 + 500) == NULL);
    for (i = 0; i < 300; i++) {
        if (i % 7 == 3) {
            CHECK(ap_timerq_pop_due(q, T0 + 900) == &items[i]);
        }
    }
    CHECK(ap_timerq_count(q) == 0);
}

static void test_due_only(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    int a, b, c;

    ap_timerq_add(q, T0 + 30, &c);
    ap_timerq_add(q, T0 + 10, &a);
    ap_timerq_add(q, T0 + 20, &b);
    CHECK(ap_timerq_pop_due(q, T0 + 20) == &a);
    CHECK(ap_timerq_pop_due(q, T0 + 20) == &b);
    CHECK(ap_timerq_pop_due(q, T0 + 20) == NULL);
    CHECK(ap_timerq_next(q) == T0 + 30);
}

/* A timer re-armed by its own callback goes behind what is already due,
 * so one that keeps re-arming for "now" cannot starve the others. */
static void test_rearm_goes_behind(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    int a, b;

    ap_timerq_add(q, T0, &a);
    ap_timerq_add(q, T0, &b);
    CHECK(ap_timerq_pop_due(q, T0) == &a);
    ap_timerq_add(q, T0, &a);
    CHECK(ap_timerq_pop_due(q, T0) == &b);
    CHECK(ap_timerq_pop_due(q, T0) == &a);
}

static void test_growth_and_sorting(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    enum { N = 10000 };
    apr_time_t last = 0;
    int i, ok = 1;

    /* A fixed pseudo-random sequence (LCG) so that runs are repeatable. */
    apr_uint32_t x = 12345;
    for (i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        if (ap_timerq_add(q, T0 + (x >> 8) % 100000, NULL) != APR_SUCCESS) {
            ok = 0;
        }
    }
    CHECK(ok);
    CHECK(ap_timerq_count(q) == N);
    for (i = 0; i < N; i++) {
        apr_time_t next = ap_timerq_next(q);

        if (next < last) {
            ok = 0;
        }
        last = next;
        ap_timerq_pop_due(q, APR_INT64_MAX);
    }
    CHECK(ok);
    CHECK(ap_timerq_count(q) == 0);
}

static void test_interleaved(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    apr_time_t now = T0;
    apr_size_t fired = 0;
    int i, early = 0;

    /* Simulated pulses: every due timer re-arms itself 100 ms later. */
    for (i = 0; i < 1000; i++) {
        ap_timerq_add(q, T0 + (i % 100) * 1000, NULL);
    }
    while (now < T0 + apr_time_from_sec(1)) {
        void *item;

        while (ap_timerq_next(q) && ap_timerq_next(q) <= now) {
            apr_time_t when = ap_timerq_next(q);

            item = ap_timerq_pop_due(q, now);
            if (when > now) {
                early = 1;
            }
            fired++;
            ap_timerq_add(q, ap_timerq_deadline(now, 100000), item);
        }
        now += 1000;
    }
    CHECK(!early);
    CHECK(ap_timerq_count(q) == 1000);
    /* 1000 timers, each firing every 100 ms for 1 s. */
    CHECK(fired >= 9000 && fired <= 11000);
}

static void test_deadline(apr_pool_t *p)
{
    (void)p;
    CHECK(ap_timerq_deadline(T0, 0) == T0);
    CHECK(ap_timerq_deadline(T0, 1) == T0 + 1);
    CHECK(ap_timerq_deadline(T0, -5) == T0);
    CHECK(ap_timerq_deadline(T0, APR_INT64_MAX) == APR_INT64_MAX);
    CHECK(ap_timerq_deadline(T0, APR_INT64_MAX - T0) == APR_INT64_MAX);
    CHECK(ap_timerq_deadline(T0, APR_INT64_MAX - T0 - 1)
          == APR_INT64_MAX - 1);
}

static void test_far_and_zero_deadlines(apr_pool_t *p)
{
    ap_timerq_t *q = new_queue(p);
    int a, b;

    ap_timerq_add(q, APR_INT64_MAX, &a);
    ap_timerq_add(q, 0, &b);
    /* A zero deadline is kept as the earliest possible one, not lost. */
    CHECK(ap_timerq_next(q) == 1);
    CHECK(ap_timerq_pop_due(q, T0) == &b);
    CHECK(ap_timerq_pop_due(q, T0) == NULL);
    CHECK(ap_timerq_pop_due(q, APR_INT64_MAX) == &a);
}

/* The heap array is freed by the pool cleanup (LeakSanitizer checks). */
static void test_pool_cleanup(apr_pool_t *p)
{
    apr_pool_t *sub;
    ap_timerq_t *q;
    int i;

    apr_pool_create(&sub, p);
    q = new_queue(sub);
    for (i = 0; i < 1000; i++) {
        ap_timerq_add(q, T0 + i, NULL);
    }
    apr_pool_destroy(sub);
}

typedef void (*test_fn_t)(apr_pool_t *p);

static void test_wakeups(apr_pool_t *p)
{
    (void)p;
    /* nothing queued, nobody woken */
    CHECK(ap_timerq_wakeups(0, 0, 2, 0) == 0);
    CHECK(ap_timerq_wakeups(0, 0, 2, 1) == 0);
    /* one per timer up to the limit, minus those awake */
    CHECK(ap_timerq_wakeups(1, 0, 2, 0) == 1);
    CHECK(ap_timerq_wakeups(60, 0, 2, 0) == 2);
    CHECK(ap_timerq_wakeups(60, 1, 2, 0) == 1);
    CHECK(ap_timerq_wakeups(60, 2, 2, 0) == 0);
    CHECK(ap_timerq_wakeups(1, 1, 2, 0) == 0);
    CHECK(ap_timerq_wakeups(60, 5, 2, 0) == 0);
    /* stalled: one more even past the limit */
    CHECK(ap_timerq_wakeups(60, 2, 2, 1) == 1);
    CHECK(ap_timerq_wakeups(60, 0, 2, 1) == 2);
    CHECK(ap_timerq_wakeups(3, 0, 1, 0) == 1);
    CHECK(ap_timerq_runners_limit() >= 1);
}

static const struct {
    const char *name;
    test_fn_t fn;
} tests[] = {
    { "empty queue", test_empty },
    { "never early, due at the deadline", test_not_early },
    { "earliest first", test_order },
    { "equal deadlines FIFO", test_fifo_equal_deadlines },
    { "pops only what is due", test_due_only },
    { "re-armed timer goes behind", test_rearm_goes_behind },
    { "growth past initial size, sorted", test_growth_and_sorting },
    { "interleaved re-arming", test_interleaved },
    { "deadline arithmetic clamps", test_deadline },
    { "far and zero deadlines", test_far_and_zero_deadlines },
    { "pool cleanup frees", test_pool_cleanup },
    { "workers woken for queued timers", test_wakeups },
};

int main(void)
{
    apr_pool_t *pool;
    apr_size_t i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        tests[i].fn(pool);
        unit_case_done(tests[i].name);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return unit_summary("timerq");
}
