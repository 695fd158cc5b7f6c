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
 * Timer queue for the MPMs' timed callbacks: a binary min-heap stored in
 * one array, see mpm_timerq.h.  Every function runs on whichever thread
 * the caller serializes it on (the event MPM holds its timer mutex); none
 * of them blocks or reads the clock.
 */

#include "mpm_timerq.h"

#include "apr_general.h"
#define APR_WANT_MEMFUNC
#include "apr_want.h"

#if APR_HAVE_UNISTD_H
#include <unistd.h>             /* sysconf() */
#endif

/* The heap starts with room for this many timers and doubles from there. */
#define TIMERQ_INITIAL_SIZE 64

typedef struct timerq_entry_t {
    apr_time_t when;
    /* Insertion number: orders equal deadlines first-in first-out.  At a
     * billion timers a second it wraps after 584 years. */
    apr_uint64_t seq;
    void *item;
} timerq_entry_t;

struct ap_timerq_t {
    timerq_entry_t *heap;
    apr_size_t count;
    apr_size_t size;
    apr_uint64_t next_seq;
    /* The array lives alone in a subpool of pool, so that growing it
     * frees the old copy instead of leaving it in the pool. */
    apr_pool_t *pool;
    apr_pool_t *heap_pool;
};

/* A subpool of q->pool with an array of size entries, or NULL. */
static timerq_entry_t *timerq_alloc(ap_timerq_t *q, apr_size_t size,
                                    apr_pool_t **heap_pool)
{
    if (size > (apr_size_t)-1 / sizeof(timerq_entry_t)
        || apr_pool_create(heap_pool, q->pool) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_tag(*heap_pool, "timerq_heap");
    return apr_palloc(*heap_pool, size * sizeof(timerq_entry_t));
}

/* Whether entry a must come out before entry b. */
static APR_INLINE int timerq_before(const timerq_entry_t *a,
                                    const timerq_entry_t *b)
{
    if (a->when != b->when) {
        return a->when < b->when;
    }
    return a->seq < b->seq;
}

AP_DECLARE(apr_status_t) ap_timerq_create(ap_timerq_t **pq, apr_pool_t *p)
{
    ap_timerq_t *q = apr_pcalloc(p, sizeof(*q));

    q->pool = p;
    q->heap = timerq_alloc(q, TIMERQ_INITIAL_SIZE, &q->heap_pool);
    if (q->heap == NULL) {
        return APR_ENOMEM;
    }
    q->size = TIMERQ_INITIAL_SIZE;
    *pq = q;
    return APR_SUCCESS;
}

AP_DECLARE(apr_time_t) ap_timerq_deadline(apr_time_t now,
                                          apr_interval_time_t delay)
{
    /* apr_time_t is signed 64 bits: test before adding, since a signed
     * overflow is undefined behaviour. */
    if (delay <= 0) {
        return now;
    }
    if (now > 0 && delay > APR_INT64_MAX - now) {
        return APR_INT64_MAX;
    }
    return now + delay;
}

AP_DECLARE(apr_status_t) ap_timerq_add(ap_timerq_t *q, apr_time_t when,
                                       void *item)
{
    timerq_entry_t entry;
    apr_size_t i;

    if (q->count == q->size) {
        apr_size_t size = q->size * 2;
        apr_pool_t *heap_pool;
        timerq_entry_t *heap;

        heap = (size > q->size) ? timerq_alloc(q, size, &heap_pool) : NULL;
        if (heap == NULL) {
            return APR_ENOMEM;
        }
        memcpy(heap, q->heap, q->count * sizeof(*heap));
        apr_pool_destroy(q->heap_pool);
        q->heap_pool = heap_pool;
        q->heap = heap;
        q->size = size;
    }

    /* 0 means "empty" to ap_timerq_next(), so no deadline may be 0. */
    entry.when = (when > 0) ? when : 1;
    entry.seq = q->next_seq++;
    entry.item = item;

    /* Sift up: move parents down until the new entry's slot is found. */
    i = q->count++;
    while (i > 0) {
        apr_size_t parent = (i - 1) / 2;

        if (!timerq_before(&entry, &q->heap[parent])) {
            break;
        }
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = entry;
    return APR_SUCCESS;
}

AP_DECLARE(void *) ap_timerq_pop_due(ap_timerq_t *q, apr_time_t now)
{
    timerq_entry_t last;
    void *item;
    apr_size_t i, n;

    if (q->count == 0 || q->heap[0].when > now) {
        return NULL;
    }
    item = q->heap[0].item;

    /* Sift the last entry down from the root into the hole. */
    n = --q->count;
    last = q->heap[n];
    i = 0;
    for (;;) {
        apr_size_t child = 2 * i + 1;

        if (child >= n) {
            break;
        }
        if (child + 1 < n
            && timerq_before(&q->heap[child + 1], &q->heap[child])) {
            child++;
        }
        if (!timerq_before(&q->heap[child], &last)) {
            break;
        }
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (n > 0) {
        q->heap[i] = last;
    }
    return item;
}

AP_DECLARE(apr_time_t) ap_timerq_next(const ap_timerq_t *q)
{
    return q->count ? q->heap[0].when : 0;
}

AP_DECLARE(apr_size_t) ap_timerq_count(const ap_timerq_t *q)
{
    return q->count;
}

AP_DECLARE(apr_uint32_t) ap_timerq_wakeups(apr_uint32_t queued,
                                           apr_uint32_t awake,
                                           apr_uint32_t limit, int stalled)
{
    apr_uint32_t want = (queued < limit) ? queued : limit;

    if (want > awake) {
        return want - awake;
    }
    /* At (or past) the limit with no progress: add one worker, so that a
     * callback that blocks delays the others by one listener pass, not
     * until it returns. */
    return (stalled && queued > 0) ? 1 : 0;
}

AP_DECLARE(apr_uint32_t) ap_timerq_runners_limit(void)
{
#if APR_HAVE_UNISTD_H && defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n > 1) {
        return (n < 1024) ? (apr_uint32_t)n : 1024;
    }
#endif
    return 1;
}
