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
 * @file  mpm_timerq.h
 * @brief Timer queue for the MPMs' timed callbacks
 *
 * A binary min-heap of (deadline, item) pairs.  Items with equal deadlines
 * come out in the order they were added (FIFO), and nothing comes out
 * before its deadline.  The queue never reads the clock: callers pass
 * "now".  It does no locking either: the MPM serializes every call with
 * its own timer mutex.  Adding allocates only when the heap array has to
 * grow (doubling), so a steady state of re-armed timers allocates nothing.
 *
 * @defgroup APACHE_MPM_TIMERQ Timer queue
 * @ingroup  APACHE_MPM
 * @{
 */

#ifndef MPM_TIMERQ_H
#define MPM_TIMERQ_H

#include "ap_config.h"

#include "apr_pools.h"
#include "apr_time.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque timer queue */
typedef struct ap_timerq_t ap_timerq_t;

/**
 * Create an empty timer queue.
 * @param pq Where to store the new queue
 * @param p Pool the queue lives in, until the pool is cleared or destroyed;
 *        the queue makes subpools of it, so it is subject to the same
 *        serialization as the queue's functions
 * @return APR_SUCCESS or APR_ENOMEM
 */
AP_DECLARE(apr_status_t) ap_timerq_create(ap_timerq_t **pq, apr_pool_t *p);

/**
 * The absolute deadline that lies @a delay after @a now.
 * @return now + delay, clamped to the largest apr_time_t on overflow; a
 * negative delay counts as 0.
 */
AP_DECLARE(apr_time_t) ap_timerq_deadline(apr_time_t now,
                                          apr_interval_time_t delay);

/**
 * Add an item due at @a when.
 * @return APR_SUCCESS, or APR_ENOMEM if the heap could not grow (the queue
 * is then unchanged)
 */
AP_DECLARE(apr_status_t) ap_timerq_add(ap_timerq_t *q, apr_time_t when,
                                       void *item);

/**
 * Remove and return the earliest item due at or before @a now.
 * @return The item, or NULL if none is due
 */
AP_DECLARE(void *) ap_timerq_pop_due(ap_timerq_t *q, apr_time_t now);

/**
 * The deadline of the earliest item.
 * @return That deadline, or 0 if the queue is empty
 */
AP_DECLARE(apr_time_t) ap_timerq_next(const ap_timerq_t *q);

/**
 * The number of items in the queue.
 */
AP_DECLARE(apr_size_t) ap_timerq_count(const ap_timerq_t *q);

/**
 * How many more worker threads to wake for the timers waiting in a worker
 * queue.  A worker that runs a timed callback takes the next queued timer
 * before it sleeps again, so waking one worker per timer only costs
 * context switches: enough are as many as can run at once.  Pure (no
 * lock, no clock); the caller holds the worker queue's lock.
 * @param queued Timers in the worker queue that no worker has taken yet
 * @param awake Workers running timers or already woken to do so
 * @param limit The most workers to keep running timers at once, >= 1
 *        (see ap_timerq_runners_limit())
 * @param stalled Whether no worker took a timer since the caller last
 *        looked, though some were queued: the workers running timers may
 *        be blocked in a callback, so one more is woken even at the limit
 * @return The number of workers to wake, from 0 to queued
 */
AP_DECLARE(apr_uint32_t) ap_timerq_wakeups(apr_uint32_t queued,
                                           apr_uint32_t awake,
                                           apr_uint32_t limit, int stalled);

/**
 * The default limit for ap_timerq_wakeups(): the number of CPUs online
 * (1 if the system does not tell).  Reads it from the system on each call.
 */
AP_DECLARE(apr_uint32_t) ap_timerq_runners_limit(void);

#ifdef __cplusplus
}
#endif

#endif /* MPM_TIMERQ_H */
/** @} */
