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
 * Unit tests of modules/dialup/dialup_line.c: the table of client lines,
 * in ordinary memory, from one thread and from several at once.
 */

#include "dialup_line.h"

#include "apr_general.h"
#include "apr_atomic.h"
#include "apr_pools.h"
#include "apr_thread_proc.h"
#include "apr_thread_mutex.h"
#include "apr_strings.h"

#include <stdlib.h>
#include <string.h>

#include "unit_test.h"

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)
#define SEC(n) ((apr_interval_time_t)(n) * APR_USEC_PER_SEC)

static dialup_lines_t *table_of(apr_uint32_t n)
{
    return dialup_lines_init(calloc(1, dialup_lines_size(n, 4)), n, 4);
}

static void test_join_claim_leave(void)
{
    dialup_lines_t *t = table_of(8);
    int a, b;

    CHECK(dialup_lines_join(t, "127.0.0.1", 0) == -1);
    a = dialup_lines_claim(t, "127.0.0.1", T0, SEC(10), 0);
    CHECK(a >= 0 && a < 8);
    CHECK(dialup_lines_active(t, a) == 1);
    /* a second download of the client: the same line */
    CHECK(dialup_lines_join(t, "127.0.0.1", 0) == a);
    CHECK(dialup_lines_claim(t, "127.0.0.1", T0, SEC(10), 0) == a);
    CHECK(dialup_lines_active(t, a) == 3);
    /* another client: another line */
    b = dialup_lines_claim(t, "127.0.0.2", T0, SEC(10), 0);
    CHECK(b >= 0 && b != a);
    CHECK(dialup_lines_active(t, b) == 1);
    dialup_lines_leave(t, a, T0 + SEC(1), 0);
    dialup_lines_leave(t, a, T0 + SEC(1), 0);
    CHECK(dialup_lines_active(t, a) == 1);
    dialup_lines_leave(t, a, T0 + SEC(2), 0);
    CHECK(dialup_lines_active(t, a) == 0);
    /* leaving an idle line, or no line, changes nothing */
    dialup_lines_leave(t, a, T0 + SEC(2), 0);
    dialup_lines_leave(t, -1, T0, 0);
    dialup_lines_leave(t, 8, T0, 0);
    CHECK(dialup_lines_active(t, a) == 0);
    CHECK(dialup_lines_active(t, -1) == 0);
    /* the idle line keeps its key: the client's next download joins it */
    CHECK(dialup_lines_join(t, "127.0.0.1", 0) == a);
    CHECK(dialup_lines_active(t, a) == 1);
    free(t);
}

static void test_full_and_reclaim(void)
{
    dialup_lines_t *t = table_of(4);
    char key[32];
    int i, idx[4];

    for (i = 0; i < 4; i++) {
        apr_snprintf(key, sizeof(key), "10.0.0.%d", i);
        idx[i] = dialup_lines_claim(t, key, T0, SEC(10), 0);
        CHECK(idx[i] >= 0);
    }
    /* full: a fifth client gets no line */
    CHECK(dialup_lines_claim(t, "10.0.0.9", T0, SEC(10), 0) == -1);
    /* one idle, but not for 10 s yet: still full */
    dialup_lines_leave(t, idx[2], T0 + SEC(1), 0);
    CHECK(dialup_lines_claim(t, "10.0.0.9", T0 + SEC(5), SEC(10), 0) == -1);
    /* idle for 10 s: taken over; the old client's key is gone */
    i = dialup_lines_claim(t, "10.0.0.9", T0 + SEC(11), SEC(10), 0);
    CHECK(i == idx[2]);
    CHECK(dialup_lines_active(t, i) == 1);
    CHECK(dialup_lines_join(t, "10.0.0.2", 0) == -1);
    /* the others are where they were */
    CHECK(dialup_lines_join(t, "10.0.0.0", 0) == idx[0]);
    CHECK(dialup_lines_join(t, "10.0.0.3", 0) == idx[3]);
    free(t);
}

static void test_long_keys(void)
{
    dialup_lines_t *t = table_of(16);
    char a[200], b[200];
    int ia, ib;

    /* two keys alike in their first 150 bytes (a cookie, say): kept to
     * 63 bytes, told apart by the hash of the whole key */
    memset(a, 'x', 150);
    memcpy(b, a, 150);
    strcpy(a + 150, "-alice");
    strcpy(b + 150, "-bob");
    ia = dialup_lines_claim(t, a, T0, SEC(10), 0);
    ib = dialup_lines_claim(t, b, T0, SEC(10), 0);
    CHECK(ia >= 0 && ib >= 0 && ia != ib);
    CHECK(dialup_lines_join(t, a, 0) == ia);
    CHECK(dialup_lines_join(t, b, 0) == ib);
    CHECK(dialup_lines_claim(t, "", T0, SEC(10), 0) >= 0);
    free(t);
}

static void test_bytes_and_reset(void)
{
    dialup_lines_t *t = table_of(8);
    int a, b;

    a = dialup_lines_claim(t, "56000 10.0.0.1", T0, 0, 0);
    CHECK(dialup_lines_join(t, "56000 10.0.0.1", 0) == a);
    dialup_lines_sent(t, a, 1400);
    dialup_lines_sent(t, a, 1400);
    dialup_lines_sent(t, a, -5);
    dialup_lines_sent(t, -1, 5);
    CHECK(t->slot[a].bytes == 2800);
    /* Every count goes; the key stays and can be joined again. */
    dialup_lines_reset(t, T0 + SEC(1));
    CHECK(dialup_lines_active(t, a) == 0);
    dialup_lines_leave(t, a, T0 + SEC(1), 0);
    CHECK(dialup_lines_active(t, a) == 0);
    CHECK(dialup_lines_join(t, "56000 10.0.0.1", 0) == a);
    CHECK(dialup_lines_active(t, a) == 1);
    /* With keep 0, an idle line is taken over at once (and its bytes
     * start again from 0). */
    dialup_lines_leave(t, a, T0 + SEC(2), 0);
    for (b = 0; b < 8; b++) {
        char key[32];

        sprintf(key, "56000 10.0.1.%d", b);
        CHECK(dialup_lines_claim(t, key, T0 + SEC(2), 0, 0) >= 0);
    }
    CHECK(dialup_lines_join(t, "56000 10.0.0.1", 0) == -1);
    CHECK(t->slot[a].bytes == 0);
    free(t);
}

static void test_forget(void)
{
    dialup_lines_t *t = table_of(8);
    int a, b;

    /* Process 1 has two transfers on a, process 2 one on a and one on b;
     * process 1 dies without leaving. */
    a = dialup_lines_claim(t, "a", T0, 0, 1);
    CHECK(dialup_lines_join(t, "a", 1) == a);
    CHECK(dialup_lines_join(t, "a", 2) == a);
    b = dialup_lines_claim(t, "b", T0, 0, 2);
    CHECK(dialup_lines_active(t, a) == 3);
    CHECK(dialup_lines_forget(t, 1, T0 + SEC(1)) == 2);
    CHECK(dialup_lines_active(t, a) == 1);
    CHECK(dialup_lines_active(t, b) == 1);
    /* nothing more to forget; a late leave of process 1 changes nothing */
    CHECK(dialup_lines_forget(t, 1, T0 + SEC(1)) == 0);
    dialup_lines_leave(t, a, T0 + SEC(1), 1);
    CHECK(dialup_lines_active(t, a) == 1);
    /* process 2 leaves as usual; processes outside the table are not
     * counted per process, and forgetting one does nothing */
    dialup_lines_leave(t, a, T0 + SEC(2), 2);
    CHECK(dialup_lines_active(t, a) == 0);
    CHECK(dialup_lines_join(t, "b", 7) == b);
    CHECK(dialup_lines_forget(t, 7, T0) == 0);
    CHECK(dialup_lines_forget(t, -1, T0) == 0);
    CHECK(dialup_lines_active(t, b) == 2);
    dialup_lines_leave(t, b, T0, 7);
    CHECK(dialup_lines_active(t, b) == 1);
    /* after a reset, a leave by a process that counts nothing there
     * changes nothing, and forgetting the one that joined takes the line
     * back to 0 */
    dialup_lines_reset(t, T0);
    CHECK(dialup_lines_join(t, "b", 3) == b);
    CHECK(dialup_lines_join(t, "b", 3) == b);
    dialup_lines_leave(t, b, T0, 0);
    CHECK(dialup_lines_active(t, b) == 2);
    CHECK(dialup_lines_forget(t, 3, T0) == 2);
    CHECK(dialup_lines_active(t, b) == 0);
    free(t);
}

/* Threads joining and leaving a few lines at once, and claiming under a
 * mutex as the module does across children, each as its own process: no
 * count is lost, no key gets two lines. */
#define THREADS 4
#define ROUNDS 300000

static dialup_lines_t *shared;
static apr_thread_mutex_t *claim_mtx;
static volatile apr_uint32_t errors;

static void *APR_THREAD_FUNC churn(apr_thread_t *thd, void *data)
{
    int me = *(int *)data, r;
    char key[16];

    for (r = 0; r < ROUNDS; r++) {
        int i;

        apr_snprintf(key, sizeof(key), "c%d", (r + me) % 6);
        i = dialup_lines_join(shared, key, me);
        if (i < 0) {
            apr_thread_mutex_lock(claim_mtx);
            i = dialup_lines_claim(shared, key, T0 + r, 1, me);
            apr_thread_mutex_unlock(claim_mtx);
        }
        if (i < 0 || dialup_lines_active(shared, i) == 0) {
            apr_atomic_inc32(&errors);
            continue;
        }
        dialup_lines_leave(shared, i, T0 + r, me);
    }
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

static void test_threads(apr_pool_t *pool)
{
    apr_thread_t *thd[THREADS];
    int ids[THREADS], i, k, seen;
    char key[16];
    apr_status_t rv;

    /* 6 keys on 8 slots, each line idle now and then and taken over
     * after 1 us: joins, leaves and claims race all the time */
    shared = table_of(8);
    CHECK(apr_thread_mutex_create(&claim_mtx, APR_THREAD_MUTEX_DEFAULT,
                                  pool) == APR_SUCCESS);
    for (i = 0; i < THREADS; i++) {
        ids[i] = i;
        CHECK(apr_thread_create(&thd[i], NULL, churn, &ids[i], pool)
              == APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        apr_thread_join(&rv, thd[i]);
    }
    CHECK(errors == 0);
    /* every count back to 0, and no key in two slots */
    for (i = 0; i < 8; i++) {
        CHECK(dialup_lines_active(shared, i) == 0);
    }
    for (k = 0; k < 6; k++) {
        apr_snprintf(key, sizeof(key), "c%d", k);
        for (i = 0, seen = 0; i < 8; i++) {
            seen += shared->slot[i].used && !strcmp(shared->slot[i].key, key);
        }
        CHECK(seen <= 1);
    }
    free(shared);
}

int main(void)
{
    apr_pool_t *pool;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    apr_atomic_init(pool);
    test_join_claim_leave();
    unit_case_done("join, claim, leave");
    test_full_and_reclaim();
    unit_case_done("a full table; idle lines taken over after keep");
    test_long_keys();
    unit_case_done("long keys");
    test_bytes_and_reset();
    unit_case_done("bytes counted, counts reset, keep 0");
    test_forget();
    unit_case_done("a process gone without leaving: its transfers taken off");
    test_threads(pool);
    unit_case_done("threads joining, leaving and claiming at once");
    apr_pool_destroy(pool);
    apr_terminate();
    return unit_summary("dialup_line");
}
