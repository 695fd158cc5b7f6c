/* Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
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
 * mod_suspend_test.c: test-only module for the SUSPENDED request tests
 * (test/t/apache/suspend*.t).  It is built and loaded by Apache::Test;
 * it is never installed.
 *
 * GET /suspend?steps=N&delay=MS&size=BYTES[&mode=M][&info=1][&cl=0][&sync=1]
 *
 *   Sends N chunks of BYTES bytes, one chunk every MS milliseconds; the
 *   first chunk leaves after one delay, so a request takes max(N, 1)
 *   delays.  Chunk i (1-based) is the text "<i>" repeated and cut to
 *   BYTES bytes, so the client can rebuild the body byte for byte.
 *
 *   When the MPM answers 1 to AP_MPMQ_CAN_SUSPEND (the patched event MPM)
 *   the handler sets the headers, arms a timed callback and returns
 *   SUSPENDED; every callback writes one chunk and re-arms, and the last
 *   one finishes the request and hands the connection back with
 *   ap_mpm_resume_suspended().  Otherwise (worker, prefork, unpatched
 *   event, or headers without AP_MPMQ_CAN_SUSPEND) the handler sends the
 *   same bytes itself, sleeping between chunks.  The response header
 *   X-Suspend-Mode says which: "async" or "sync".
 *
 *   mode=normal       (default) the whole body.
 *   mode=error-first  the first step fails before any body was sent:
 *                     the client gets a 500.
 *   mode=error-late   the step after ceil(N/2) chunks fails (N >= 2):
 *                     the connection is closed with the body cut short
 *                     (no last-chunk when chunked).
 *   info=1            a last line is appended, of a length known up front:
 *                     "suspend-test: mode=async callbacks=00003 threads=002
 *                     resumed=diff\n".  callbacks counts the callbacks run,
 *                     threads the distinct threads that ran them, resumed
 *                     is "diff" when the finishing callback ran on another
 *                     thread than the handler ("same" otherwise, "none" in
 *                     sync mode).  The same text is put in the environment
 *                     variable SUSPEND_TEST for the access log.
 *   cl=0              no Content-Length: HTTP/1.1 clients get chunked.
 *   sync=1            serve on the handler thread, sleeping, even where the
 *                     MPM could suspend: the request holds its worker.
 *
 * GET /connid
 *
 *   One line "pid=P conn=ID keepalives=K remote-port=PORT\n": which child
 *   and which connection served it, and how many requests that connection
 *   served before this one.
 *
 * Log messages carry the tags ST01..ST09 so the tests can look for them.
 */

#if CONFIG_FOR_HTTPD_TEST

<Location /suspend>
    SetHandler suspend-test
</Location>

<Location /connid>
    SetHandler suspend-test-connid
</Location>

#endif

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "util_script.h"
#include "util_filter.h"

#include "apr_buckets.h"
#include "apr_portable.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#if APR_HAVE_ERRNO_H
#include <errno.h>
#endif
#if APR_HAVE_UNISTD_H
#include <unistd.h>
#endif

module AP_MODULE_DECLARE_DATA suspend_test_module;

#define SUSPEND_TEST_HANDLER        "suspend-test"
#define SUSPEND_TEST_CONNID_HANDLER "suspend-test-connid"

/* Log tag: every message at debug level or above carries one. */
#define SUSPEND_TEST_LOGNO(n)       "ST" #n ": "

/* Limits on the query parameters; anything outside is a 400.  The step
 * limit keeps the callback count within the five digits of the info line.
 */
#define SUSPEND_TEST_MAX_STEPS      99999
#define SUSPEND_TEST_MAX_DELAY_MS   60000
#define SUSPEND_TEST_MAX_SIZE       (1024 * 1024)

/* Distinct callback threads remembered per request. */
#define SUSPEND_TEST_MAX_THREADS    64

#define SUSPEND_TEST_TRAILER_FMT \
    "suspend-test: mode=%s callbacks=%05d threads=%03d resumed=%s\n"

typedef enum {
    SUSPEND_TEST_NORMAL,
    SUSPEND_TEST_ERROR_FIRST,
    SUSPEND_TEST_ERROR_LATE
} suspend_test_mode_e;

/* What a step left behind. */
typedef enum {
    SUSPEND_TEST_MORE,          /* more chunks to send: re-arm */
    SUSPEND_TEST_DONE           /* finish the request now */
} suspend_test_step_e;

/* One request.  Allocated from r->pool by the handler; after the handler
 * returned SUSPENDED it is only touched by callbacks holding
 * r->invoke_mtx, and by nobody after the finishing callback called
 * ap_process_request_after_handler().
 */
typedef struct suspend_test_ctx_t {
    request_rec *r;
    conn_rec *c;                /* kept apart: r may be gone at resume */
    apr_bucket_brigade *bb;     /* reused for every chunk */
    char *buf;                  /* one chunk, refilled per step */
    int steps;                  /* chunks to send */
    int sent;                   /* chunks sent so far */
    int fail_after;             /* error-late: chunks before the failure */
    apr_interval_time_t delay;
    apr_size_t size;
    suspend_test_mode_e mode;
    int info;                   /* append the info line */
    int async;                  /* served through SUSPENDED */
    int aborted;                /* the client went away */
    int callbacks;              /* callbacks run so far */
#if APR_HAS_THREADS
    int nthreads;               /* distinct callback threads in threads[] */
    apr_os_thread_t threads[SUSPEND_TEST_MAX_THREADS];
    apr_os_thread_t handler_thread;
#endif
} suspend_test_ctx_t;

/*
 * Fill ctx->buf with chunk number 'step' (1-based): "<step>" repeated
 * and cut to ctx->size bytes.  Pure; runs on whichever thread writes the
 * chunk.
 */
static void suspend_test_fill_chunk(suspend_test_ctx_t *ctx, int step)
{
    char unit[16];
    apr_size_t unit_len, i;

    unit_len = apr_snprintf(unit, sizeof(unit), "<%d>", step);
    for (i = 0; i < ctx->size; i++) {
        ctx->buf[i] = unit[i % unit_len];
    }
}

/*
 * Format the info line into a pool string.  Every number has a fixed
 * width, so the handler can count its length before the values are known
 * (see suspend_test_info_len()).  Runs on the thread that finishes the
 * request.
 */
static char *suspend_test_info_line(apr_pool_t *p, suspend_test_ctx_t *ctx,
                                    const char *resumed)
{
    int nthreads = 0;

#if APR_HAS_THREADS
    nthreads = ctx->nthreads;
#endif
    return apr_psprintf(p, SUSPEND_TEST_TRAILER_FMT,
                        ctx->async ? "async" : "sync",
                        ctx->callbacks, nthreads, resumed);
}

/*
 * Length of the info line the request will end with.  The resumed word
 * is four letters whatever it turns out to be.  Runs on the handler
 * thread.
 */
static apr_size_t suspend_test_info_len(apr_pool_t *p,
                                        suspend_test_ctx_t *ctx)
{
    return strlen(suspend_test_info_line(p, ctx, "none"));
}

/*
 * Pass ctx->bb down the request's output filters followed by a FLUSH,
 * so that every chunk leaves when it is written, and empty it.  Runs on
 * the handler thread (sync) or on a callback thread holding
 * r->invoke_mtx (async).
 * Returns the status of ap_pass_brigade(); on failure, or when the
 * connection was already aborted, sets ctx->aborted.
 */
static apr_status_t suspend_test_pass(suspend_test_ctx_t *ctx)
{
    apr_status_t rv;

    APR_BRIGADE_INSERT_TAIL(ctx->bb,
                            apr_bucket_flush_create(ctx->c->bucket_alloc));
    rv = ap_pass_brigade(ctx->r->output_filters, ctx->bb);
    apr_brigade_cleanup(ctx->bb);
    if (rv != APR_SUCCESS || ctx->c->aborted) {
        /* A client that went away is not a server error. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, ctx->r,
                      SUSPEND_TEST_LOGNO(01) "client gone after %d of %d "
                      "chunks", ctx->sent, ctx->steps);
        ctx->aborted = 1;
        if (rv == APR_SUCCESS) {
            rv = APR_ECONNABORTED;
        }
    }
    return rv;
}

/*
 * Cut the response short on purpose (mode=error-late): an error bucket
 * with 502 is how httpd's HTTP filters are told that a body is broken
 * (mod_proxy does the same): the chunk filter then omits the last-chunk
 * and the connection is not kept alive.  Same threads as
 * suspend_test_pass().
 */
static void suspend_test_break_body(suspend_test_ctx_t *ctx)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r,
                  SUSPEND_TEST_LOGNO(02) "error-late: failing after %d of "
                  "%d chunks, as asked", ctx->sent, ctx->steps);
    ctx->c->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(ctx->bb,
                            ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL,
                                                   ctx->r->pool,
                                                   ctx->c->bucket_alloc));
    suspend_test_pass(ctx);
}

/*
 * Send the next chunk, or fail as the mode asks.  Runs on the handler
 * thread (sync) or on a callback thread holding r->invoke_mtx (async).
 * Returns SUSPEND_TEST_MORE when chunks remain, SUSPEND_TEST_DONE when
 * the body is complete, was cut short, or the client went away.
 * Sets *http_error to a status for ap_die() when the response is to be
 * an error page instead (mode=error-first), else leaves it alone.
 */
static suspend_test_step_e suspend_test_step(suspend_test_ctx_t *ctx,
                                             int *http_error)
{
    if (ctx->mode == SUSPEND_TEST_ERROR_FIRST) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r,
                      SUSPEND_TEST_LOGNO(03) "error-first: failing before "
                      "any body, as asked");
        *http_error = HTTP_INTERNAL_SERVER_ERROR;
        return SUSPEND_TEST_DONE;
    }
    if (ctx->c->aborted) {
        ctx->aborted = 1;
        return SUSPEND_TEST_DONE;
    }
    if (ctx->mode == SUSPEND_TEST_ERROR_LATE
        && ctx->sent == ctx->fail_after) {
        suspend_test_break_body(ctx);
        return SUSPEND_TEST_DONE;
    }
    if (ctx->sent < ctx->steps) {
        ctx->sent++;
        suspend_test_fill_chunk(ctx, ctx->sent);
        APR_BRIGADE_INSERT_TAIL(ctx->bb,
                                apr_bucket_transient_create(
                                    ctx->buf, ctx->size,
                                    ctx->c->bucket_alloc));
        if (suspend_test_pass(ctx) != APR_SUCCESS) {
            return SUSPEND_TEST_DONE;
        }
    }
    return ctx->sent < ctx->steps ? SUSPEND_TEST_MORE : SUSPEND_TEST_DONE;
}

/*
 * Append the info line (when asked for and the body is whole) and note
 * the same text for the access log.  Runs on the thread that finishes
 * the request; for async that is a callback thread holding
 * r->invoke_mtx.
 */
static void suspend_test_finish_body(suspend_test_ctx_t *ctx,
                                     const char *resumed)
{
    request_rec *r = ctx->r;
    char *line = suspend_test_info_line(r->pool, ctx, resumed);
    apr_size_t len = strlen(line);

    /* The access log wants it without the newline. */
    apr_table_setn(r->subprocess_env, "SUSPEND_TEST",
                   apr_pstrndup(r->pool, line, len - 1));
    if (ctx->info && !ctx->aborted && ctx->sent == ctx->steps
        && ctx->mode == SUSPEND_TEST_NORMAL) {
        APR_BRIGADE_INSERT_TAIL(ctx->bb,
                                apr_bucket_transient_create(
                                    line, len, ctx->c->bucket_alloc));
        suspend_test_pass(ctx);
    }
}

/*
 * Serve the request on the handler thread, sleeping between chunks: the
 * MPM cannot suspend.  Returns OK, or an HTTP status for error-first.
 */
static int suspend_test_run_sync(suspend_test_ctx_t *ctx)
{
    int http_error = OK;
    suspend_test_step_e st;

    do {
        apr_sleep(ctx->delay);
        st = suspend_test_step(ctx, &http_error);
    } while (st == SUSPEND_TEST_MORE);

    if (http_error != OK) {
        return http_error;
    }
    suspend_test_finish_body(ctx, "none");
    return OK;
}

#if defined(AP_MPMQ_CAN_SUSPEND) && APR_HAS_THREADS

/*
 * Remember the calling thread among the distinct callback threads.
 * Runs on a callback thread holding r->invoke_mtx.
 */
static void suspend_test_note_thread(suspend_test_ctx_t *ctx)
{
    apr_os_thread_t self = apr_os_thread_current();
    int i;

    for (i = 0; i < ctx->nthreads; i++) {
        if (apr_os_thread_equal(ctx->threads[i], self)) {
            return;
        }
    }
    if (ctx->nthreads < SUSPEND_TEST_MAX_THREADS) {
        ctx->threads[ctx->nthreads++] = self;
    }
}

/*
 * Timed callback: one step of a suspended request.  Runs on an MPM worker
 * thread, any of them, and takes r->invoke_mtx before touching r (the
 * handler thread holds it until the request is marked suspended).
 * Either re-arms itself and unlocks, or finishes the request: unlock,
 * finalize, ap_process_request_after_handler() (which may free r and
 * ctx), then ap_mpm_resume_suspended() exactly once on the saved conn.
 */
static void suspend_test_callback(void *baton)
{
    suspend_test_ctx_t *ctx = baton;
    request_rec *r = ctx->r;
    conn_rec *c = ctx->c;
    int http_error = OK;
    apr_status_t rv;

    apr_thread_mutex_lock(r->invoke_mtx);

    ctx->callbacks++;
    suspend_test_note_thread(ctx);

    if (suspend_test_step(ctx, &http_error) == SUSPEND_TEST_MORE) {
        rv = ap_mpm_register_timed_callback(ctx->delay,
                                            suspend_test_callback, ctx);
        if (rv == APR_SUCCESS) {
            /* The next callback may already wait for the mutex. */
            apr_thread_mutex_unlock(r->invoke_mtx);
            return;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      SUSPEND_TEST_LOGNO(04) "cannot re-arm the timed "
                      "callback after %d of %d chunks", ctx->sent,
                      ctx->steps);
        suspend_test_break_body(ctx);
    }

    if (http_error != OK) {
        /* Nothing was sent yet: a normal error response. */
        ap_die(http_error, r);
    }
    suspend_test_finish_body(ctx,
                             apr_os_thread_equal(ctx->handler_thread,
                                                 apr_os_thread_current())
                             ? "same" : "diff");
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  SUSPEND_TEST_LOGNO(05) "finishing after %d callbacks, "
                  "%d of %d chunks%s", ctx->callbacks, ctx->sent,
                  ctx->steps, ctx->aborted ? ", client gone" : "");

    apr_thread_mutex_unlock(r->invoke_mtx);
    ap_finalize_request_protocol(r);
    ap_process_request_after_handler(r);
    /* r and ctx may be gone now. */
    ap_mpm_resume_suspended(c);
}

/*
 * Arm the first callback.  Runs on the handler thread, which holds
 * r->invoke_mtx until the core has marked the request suspended.
 * Returns SUSPENDED, or 500 when the MPM refused the timer.
 */
static int suspend_test_run_async(suspend_test_ctx_t *ctx)
{
    apr_status_t rv;

    ctx->handler_thread = apr_os_thread_current();
    rv = ap_mpm_register_timed_callback(ctx->delay, suspend_test_callback,
                                        ctx);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, ctx->r,
                      SUSPEND_TEST_LOGNO(06) "cannot arm the timed "
                      "callback");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* From here on a callback may run at any time: ctx is off limits. */
    return SUSPENDED;
}

#endif /* AP_MPMQ_CAN_SUSPEND && APR_HAS_THREADS */

/*
 * Whether this request can be served through SUSPENDED: the MPM says so,
 * and the request is a main request run by the async request loop (which
 * is what creates r->invoke_mtx).  Runs on the handler thread.
 */
static int suspend_test_can_suspend(request_rec *r)
{
#if defined(AP_MPMQ_CAN_SUSPEND) && APR_HAS_THREADS
    int can_suspend = 0;

    if (r->main != NULL || r->invoke_mtx == NULL) {
        return 0;
    }
    if (ap_mpm_query(AP_MPMQ_CAN_SUSPEND, &can_suspend) != APR_SUCCESS) {
        return 0;
    }
    return can_suspend;
#else
    (void)r;
    return 0;
#endif
}

/*
 * Read an integer query parameter into *value, leaving the default when
 * it is absent.  Returns 0, or -1 when it is not a number in [min, max].
 * Runs on the handler thread.
 */
static int suspend_test_int_arg(apr_table_t *args, const char *name,
                                apr_int64_t min, apr_int64_t max,
                                apr_int64_t *value)
{
    const char *s = apr_table_get(args, name);
    char *end;
    apr_int64_t v;

    if (s == NULL) {
        return 0;
    }
    errno = 0;
    v = apr_strtoi64(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        return -1;
    }
    *value = v;
    return 0;
}

/*
 * Handler for /suspend.  Runs on a worker thread (the handler thread).
 * Returns SUSPENDED (async), OK or an HTTP status (sync), 400 for bad
 * parameters, DECLINED for other handlers.
 */
static int suspend_test_handler(request_rec *r)
{
    suspend_test_ctx_t *ctx;
    apr_table_t *args;
    apr_int64_t steps = 3, delay_ms = 100, size = 64, info = 0, cl = 1;
    apr_int64_t sync = 0;
    const char *mode;
    apr_off_t length;

    if (strcmp(r->handler, SUSPEND_TEST_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }

    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->r = r;
    ctx->c = r->connection;
    ctx->mode = SUSPEND_TEST_NORMAL;

    ap_args_to_table(r, &args);
    if (suspend_test_int_arg(args, "steps", 0, SUSPEND_TEST_MAX_STEPS,
                             &steps)
        || suspend_test_int_arg(args, "delay", 0, SUSPEND_TEST_MAX_DELAY_MS,
                                &delay_ms)
        || suspend_test_int_arg(args, "size", 0, SUSPEND_TEST_MAX_SIZE,
                                &size)
        || suspend_test_int_arg(args, "info", 0, 1, &info)
        || suspend_test_int_arg(args, "cl", 0, 1, &cl)
        || suspend_test_int_arg(args, "sync", 0, 1, &sync)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SUSPEND_TEST_LOGNO(07) "bad query string '%s'",
                      r->args);
        return HTTP_BAD_REQUEST;
    }
    mode = apr_table_get(args, "mode");
    if (mode == NULL || !strcasecmp(mode, "normal")) {
        ctx->mode = SUSPEND_TEST_NORMAL;
    }
    else if (!strcasecmp(mode, "error-first")) {
        ctx->mode = SUSPEND_TEST_ERROR_FIRST;
    }
    else if (!strcasecmp(mode, "error-late") && steps >= 2) {
        ctx->mode = SUSPEND_TEST_ERROR_LATE;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SUSPEND_TEST_LOGNO(08) "bad mode '%s' (normal, "
                      "error-first, error-late with steps >= 2)", mode);
        return HTTP_BAD_REQUEST;
    }

    ctx->steps = (int)steps;
    ctx->fail_after = (int)((steps + 1) / 2);
    ctx->delay = apr_time_from_msec(delay_ms);
    ctx->size = (apr_size_t)size;
    ctx->info = (int)info;
    ctx->buf = apr_palloc(r->pool, ctx->size + 1);
    ctx->bb = apr_brigade_create(r->pool, ctx->c->bucket_alloc);
    ctx->async = !sync && suspend_test_can_suspend(r);

    ap_set_content_type(r, "text/plain");
    /* err_headers_out: kept on the error response of error-first too. */
    apr_table_setn(r->err_headers_out, "X-Suspend-Mode",
                   ctx->async ? "async" : "sync");
    apr_table_setn(r->err_headers_out, "X-Suspend-Pid",
                   apr_psprintf(r->pool, "%" APR_PID_T_FMT, getpid()));
    if (cl && ctx->mode != SUSPEND_TEST_ERROR_FIRST) {
        length = (apr_off_t)ctx->steps * (apr_off_t)ctx->size;
        if (ctx->info) {
            length += (apr_off_t)suspend_test_info_len(r->pool, ctx);
        }
        ap_set_content_length(r, length);
    }

    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  SUSPEND_TEST_LOGNO(09) "%s: %d steps of %" APR_SIZE_T_FMT
                  " bytes every %" APR_INT64_T_FMT " ms",
                  ctx->async ? "suspending" : "serving synchronously",
                  ctx->steps, ctx->size, delay_ms);

#if defined(AP_MPMQ_CAN_SUSPEND) && APR_HAS_THREADS
    if (ctx->async) {
        return suspend_test_run_async(ctx);
    }
#endif
    return suspend_test_run_sync(ctx);
}

/*
 * Handler for /connid: which child and connection serve this request.
 * Runs on a worker thread.  Returns OK, or DECLINED for other handlers.
 */
static int suspend_test_connid_handler(request_rec *r)
{
    conn_rec *c = r->connection;

    if (strcmp(r->handler, SUSPEND_TEST_CONNID_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_set_content_type(r, "text/plain");
    if (!r->header_only) {
        ap_rprintf(r, "pid=%" APR_PID_T_FMT " conn=%ld keepalives=%d "
                   "remote-port=%d\n", getpid(), c->id, c->keepalives,
                   (int)c->client_addr->port);
    }
    return OK;
}

/*
 * Register the two handlers.  Runs in the parent at startup (and on every
 * restart), before any request.
 */
static void suspend_test_register_hooks(apr_pool_t *p)
{
    /* Plain content handlers; each declines other handler names. */
    ap_hook_handler(suspend_test_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(suspend_test_connid_handler, NULL, NULL,
                    APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(suspend_test) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* create per-directory config */
    NULL,                       /* merge per-directory config */
    NULL,                       /* create per-server config */
    NULL,                       /* merge per-server config */
    NULL,                       /* command table: no directives */
    suspend_test_register_hooks /* register hooks */
};
