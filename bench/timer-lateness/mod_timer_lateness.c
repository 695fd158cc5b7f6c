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
 * mod_timer_lateness: measures how late ap_mpm_register_timed_callback()
 * fires, for bench/timer-lateness.sh.  Benchmark only, never installed.
 *
 * GET /timer-lateness?timers=N&rounds=R&period=MS
 *
 *   Suspends the request and keeps N timers pending at once, spread
 *   evenly over one period; each fires R times, MS milliseconds apart (on
 *   an absolute schedule), and records how late it ran.  When all are
 *   done, the request answers one line:
 *   "fired=F p50=.. p90=.. p99=.. max=.. early=E" (microseconds).
 *   "early" counts callbacks that ran before their deadline (must be 0).
 *   With "&raw=1" (bench/run, which merges several requests), the line
 *   also names the answering process ("pid=P") and is followed by every
 *   sample, one per line, in microseconds.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"

#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include <stdlib.h>
#if APR_HAVE_UNISTD_H
#include <unistd.h>             /* getpid() */
#endif

module AP_MODULE_DECLARE_DATA timer_lateness_module;

typedef struct lateness_run_t lateness_run_t;

/* One of the N timers. */
typedef struct lateness_timer_t {
    lateness_run_t *run;
    apr_time_t due;
    int left;
} lateness_timer_t;

/* One measurement (one request).  mtx guards the counters and samples. */
struct lateness_run_t {
    request_rec *r;
    apr_thread_mutex_t *mtx;
    apr_interval_time_t period;
    int pending;
    apr_int64_t *samples;
    int count;
    int early;
    /* answer every sample too */
    int raw;
};

static int lateness_compare(const void *a, const void *b)
{
    apr_int64_t x = *(const apr_int64_t *)a;
    apr_int64_t y = *(const apr_int64_t *)b;

    return (x < y) ? -1 : (x > y);
}

/* The last timer's thread: answer the figures and resume the connection. */
static void lateness_finish(lateness_run_t *run)
{
    request_rec *r = run->r;
    conn_rec *c = r->connection;
    int n = run->count;

    apr_thread_mutex_lock(r->invoke_mtx);
    qsort(run->samples, n, sizeof(*run->samples), lateness_compare);
    ap_rprintf(r, "fired=%d p50=%" APR_INT64_T_FMT " p90=%" APR_INT64_T_FMT
               " p99=%" APR_INT64_T_FMT " max=%" APR_INT64_T_FMT
               " early=%d\n", n, run->samples[n / 2],
               run->samples[n * 9 / 10], run->samples[n * 99 / 100],
               run->samples[n - 1], run->early);
    if (run->raw) {
        int i;

        ap_rprintf(r, "pid=%" APR_PID_T_FMT "\n", getpid());
        for (i = 0; i < n; i++) {
            ap_rprintf(r, "%" APR_INT64_T_FMT "\n", run->samples[i]);
        }
    }
    apr_thread_mutex_unlock(r->invoke_mtx);
    ap_finalize_request_protocol(r);
    ap_process_request_after_handler(r);
    ap_mpm_resume_suspended(c);
}

/* Timed callback, on any worker thread: record, re-arm or finish. */
static void lateness_callback(void *baton)
{
    lateness_timer_t *t = baton;
    lateness_run_t *run = t->run;
    apr_time_t now = apr_time_now();
    int rearm, done = 0;

    apr_thread_mutex_lock(run->mtx);
    if (now < t->due) {
        run->early++;
    }
    run->samples[run->count++] = now - t->due;
    rearm = --t->left > 0;
    if (rearm) {
        t->due += run->period;
    }
    else {
        done = --run->pending == 0;
    }
    apr_thread_mutex_unlock(run->mtx);

    if (rearm) {
        now = apr_time_now();
        ap_mpm_register_timed_callback(t->due > now ? t->due - now : 0,
                                       lateness_callback, t);
    }
    else if (done) {
        lateness_finish(run);
    }
}

static int lateness_arg(request_rec *r, const char *name, int dflt,
                        int lo, int hi)
{
    const char *s = r->args ? ap_strstr_c(r->args, name) : NULL;
    int v;

    if (!s || s[strlen(name)] != '=') {
        return dflt;
    }
    v = atoi(s + strlen(name) + 1);
    return (v < lo) ? lo : (v > hi) ? hi : v;
}

static int lateness_handler(request_rec *r)
{
    lateness_run_t *run;
    apr_time_t now;
    int i, timers, rounds, can = 0;

    if (strcmp(r->handler, "timer-lateness")) {
        return DECLINED;
    }
    ap_mpm_query(AP_MPMQ_CAN_SUSPEND, &can);
    if (!can) {
        return HTTP_NOT_IMPLEMENTED;
    }
    timers = lateness_arg(r, "timers", 10000, 1, 1000000);
    rounds = lateness_arg(r, "rounds", 10, 1, 1000);

    run = apr_pcalloc(r->pool, sizeof(*run));
    run->r = r;
    run->period = apr_time_from_msec(lateness_arg(r, "period", 200, 1,
                                                  60000));
    run->pending = timers;
    run->raw = lateness_arg(r, "raw", 0, 0, 1);
    run->samples = apr_palloc(r->pool, sizeof(*run->samples)
                                       * (apr_size_t)timers * rounds);
    apr_thread_mutex_create(&run->mtx, APR_THREAD_MUTEX_DEFAULT, r->pool);
    ap_set_content_type(r, "text/plain");

    now = apr_time_now();
    for (i = 0; i < timers; i++) {
        lateness_timer_t *t = apr_pcalloc(r->pool, sizeof(*t));

        t->run = run;
        t->left = rounds;
        t->due = now + apr_time_from_msec(100) + run->period * i / timers;
        ap_mpm_register_timed_callback(t->due - now, lateness_callback, t);
    }
    return SUSPENDED;
}

static void lateness_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(lateness_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(timer_lateness) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* create per-directory config */
    NULL,                       /* merge per-directory config */
    NULL,                       /* create per-server config */
    NULL,                       /* merge per-server config */
    NULL,                       /* command table */
    lateness_register_hooks     /* register hooks */
};
