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
 * mod_dialup: serve static files at the speed of a modem.
 *
 * The handler wraps the core's default handler: the core serves the file
 * exactly as it always does (headers, conditional requests, ranges,
 * EnableSendfile, EnableMMAP) into the DIALUP_PACE output filter, which
 * sits after the protocol filters and holds back the response as it
 * would go on the wire.  Pulses then hand it to the connection filters a
 * few hundred bytes at a time, on an absolute schedule
 * (dialup_pace.c).
 *
 * On an MPM that can suspend (the patched event MPM), the handler returns
 * SUSPENDED and every pulse runs from ap_mpm_register_timed_callback() on
 * any worker thread: no thread is held between pulses, and a pulse never
 * blocks on the client (a client that does not read is waited for with
 * timers, up to Timeout).  The last pulse finishes the request and gives
 * the connection back to the MPM with ap_mpm_resume_suspended().  Where
 * the MPM or the connection cannot suspend (worker, prefork, TLS, HTTP/2
 * streams), the handler paces on its own thread, like mod_ratelimit.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "ap_mpm.h"
#include "mod_status.h"

#include "apr_optional_hooks.h"
#include "apr_ring.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "dialup_pace.h"

#if APR_HAVE_UNISTD_H
#include <unistd.h>             /* getpid() */
#endif
#if defined(__linux__)
#include <stddef.h>             /* offsetof() */
#include <sys/socket.h>         /* getsockopt() */
#include <netinet/in.h>         /* IPPROTO_TCP */
#include <netinet/tcp.h>        /* TCP_INFO */
#include <sys/ioctl.h>          /* ioctl() */
#include <linux/sockios.h>      /* SIOCOUTQ */
#endif

module AP_MODULE_DECLARE_DATA dialup_module;

/* Time between two pulses: short enough that a modem-speed download never
 * shows a gap longer than a quarter second, long enough to keep the number
 * of timers and writes per second low. */
#define DIALUP_PULSE_INTERVAL apr_time_from_msec(200)

/* Suspended pulses wake on multiples of this (rounded up, never early):
 * the pulses of thousands of downloads then share a few instants, and the
 * MPM fires their timers in batches, with one listener wake-up and a few
 * worker wake-ups each, instead of one of each per pulse.  Bytes follow
 * the absolute schedule all the same: a pulse up to 5 ms late sends what
 * became due meanwhile. */
#define DIALUP_PULSE_GRID apr_time_from_msec(5)

/* How soon to look again at a client that does not read (its data is
 * still in the core output filter): after 50 ms, then twice as long each
 * time it still does not read, up to a second, so that thousands of
 * stalled clients cost little. */
#define DIALUP_STALL_RECHECK apr_time_from_msec(50)
#define DIALUP_STALL_RECHECK_MAX apr_time_from_sec(1)

/* The most a pulse hands to the core output filter at once without
 * blocking, well below its FlushMaxThreshold (64 KB by default). */
#define DIALUP_CHUNK_MAX 16384

/* The environment variable that chooses the modem for one request. */
#define DIALUP_ENV_NAME "dialup-modem"

/* The lowest rate that the variable may choose unless DialupMinRate says
 * otherwise: the slowest modem of the table (V.21). */
#define DIALUP_MIN_RATE_DEFAULT 300

#define DIALUP_UNSET (-1)

typedef struct dialup_dir_conf_t {
    /* bits per second; 0 is off, DIALUP_UNSET inherits */
    apr_int64_t bits_per_sec;
    /* modem name or rate as configured, for server-status */
    const char *modem;
    /* the lowest rate the dialup-modem variable may choose (bit/s),
     * DIALUP_UNSET inherits */
    apr_int64_t min_rate;
} dialup_dir_conf_t;

/* What a pulse decided. */
typedef enum {
    DIALUP_MORE,                /* call again at *wake */
    DIALUP_DONE,                /* everything went to the connection */
    DIALUP_ABORTED              /* the client is gone or stalled */
} dialup_pulse_e;

/* One paced response.  Lives in r->pool.  Used by the thread that runs the
 * handler, then by one pulse at a time, each holding r->invoke_mtx. */
typedef struct dialup_req_t dialup_req_t;
struct dialup_req_t {
    /* in dialup_active, under dialup_active_mtx */
    APR_RING_ENTRY(dialup_req_t) link;
    request_rec *r;
    /* the DIALUP_PACE filter instance, whose next filter takes pulses */
    ap_filter_t *f;
    /* the response held back, then what is left of it */
    apr_bucket_brigade *bb;
    /* reused for the remainder when bb is split at a pulse */
    apr_bucket_brigade *rest;
    dialup_pace_t pace;
    /* bytes of data held back in all, and how many went out */
    apr_int64_t total;
    apr_int64_t sent;
    /* when the client last took data (for Timeout) */
    apr_time_t progress;
    /* how long the last wait for a stalled client was, 0 if not stalled */
    apr_interval_time_t stall_wait;
    /* the socket, to ask the kernel how much it still queues for the
     * client (-1 where it cannot be asked, e.g. HTTP/2 streams), and how
     * much it may queue (dialup_pace_backlog_max()) */
    int fd;
    apr_int64_t backlog_max;
    /* what the kernel queued at the last look plus what was sent since:
     * less at the next look means the client took data */
    apr_int64_t queued_seen;
    const char *modem;
    /* the filter holds back only while the handler runs the core's */
    int holding;
    /* set while the request is listed in dialup_active */
    int listed;
};

APR_RING_HEAD(dialup_ring_t, dialup_req_t);

/* Paced downloads in progress in this child process, for server-status
 * (set up in post_config). */
static struct dialup_ring_t dialup_active;
static apr_thread_mutex_t *dialup_active_mtx;
static int dialup_active_count;

/* Whether this MPM answers AP_MPMQ_CAN_SUSPEND (set in post_config). */
static int dialup_mpm_can_suspend;

/* Whether any section of the main configuration turns pacing on (set
 * while the parent reads it; .htaccess files, which worker threads read
 * at request time, leave it alone). */
static int dialup_configured;

/* Note that the configuration turns pacing on.  Only while the server
 * reads its configuration, in one thread: never from .htaccess files. */
static void dialup_note_configured(apr_int64_t bits_per_sec)
{
    if (bits_per_sec > 0
        && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_RUN_MPM) {
        dialup_configured = 1;
    }
}

static ap_filter_rec_t *dialup_pace_filter_handle;

/*
 * Configuration
 */

static void *dialup_create_dir_config(apr_pool_t *p, char *dir)
{
    dialup_dir_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->bits_per_sec = DIALUP_UNSET;
    conf->min_rate = DIALUP_UNSET;
    return conf;
}

static void *dialup_merge_dir_config(apr_pool_t *p, void *basev, void *addv)
{
    dialup_dir_conf_t *base = basev;
    dialup_dir_conf_t *add = addv;
    dialup_dir_conf_t *conf = apr_palloc(p, sizeof(*conf));

    if (add->bits_per_sec != DIALUP_UNSET) {
        conf->bits_per_sec = add->bits_per_sec;
        conf->modem = add->modem;
    }
    else {
        conf->bits_per_sec = base->bits_per_sec;
        conf->modem = base->modem;
    }
    conf->min_rate = (add->min_rate != DIALUP_UNSET) ? add->min_rate
                                                     : base->min_rate;
    return conf;
}

/* "V.21, V.22, ..., ISDN-2B" for error messages. */
static const char *dialup_modem_names(apr_pool_t *p)
{
    const dialup_modem_t *m;
    const char *names = NULL;

    for (m = dialup_modems; m->name; m++) {
        names = names ? apr_pstrcat(p, names, ", ", m->name, NULL) : m->name;
    }
    return names;
}

/*
 * Resolve a modem name, a rate in bits per second or "off", as written in
 * ModemStandard, DialupRate or the dialup-modem variable.
 * Returns 0 and sets *bits_per_sec (0 for off), or -1 if arg is none of
 * those.
 */
static int dialup_resolve(const char *arg, int names, int rates,
                          apr_int64_t *bits_per_sec)
{
    const dialup_modem_t *m;

    if (!ap_cstr_casecmp(arg, "off")) {
        *bits_per_sec = 0;
        return 0;
    }
    if (names && (m = dialup_modem_find(arg)) != NULL) {
        *bits_per_sec = m->bits_per_sec;
        return 0;
    }
    if (rates && dialup_parse_rate(arg, bits_per_sec) == 0) {
        return 0;
    }
    return -1;
}

/* ModemStandard NAME|off (server config, directory, .htaccess) */
static const char *dialup_set_modem_standard(cmd_parms *cmd, void *dconf,
                                             const char *arg)
{
    dialup_dir_conf_t *conf = dconf;

    if (dialup_resolve(arg, 1, 0, &conf->bits_per_sec) != 0) {
        return apr_psprintf(cmd->pool, "%s: unknown modem standard '%s'; "
                            "use one of %s, or off (or DialupRate for "
                            "another rate)", cmd->cmd->name, arg,
                            dialup_modem_names(cmd->pool));
    }
    conf->modem = dialup_modem_find(arg) ? dialup_modem_find(arg)->name
                                         : "off";
    dialup_note_configured(conf->bits_per_sec);
    return NULL;
}

/* DialupRate BITS[k|M]|off (server config, directory, .htaccess) */
static const char *dialup_set_rate(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    dialup_dir_conf_t *conf = dconf;

    if (dialup_resolve(arg, 0, 1, &conf->bits_per_sec) != 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a rate in bits per "
                            "second from %d to %" APR_INT64_T_FMT
                            " (digits with an optional k or M suffix, e.g. "
                            "56000, 56k, 2M) or off", cmd->cmd->name, arg,
                            DIALUP_RATE_MIN, DIALUP_RATE_MAX);
    }
    conf->modem = conf->bits_per_sec ? apr_pstrcat(cmd->pool, arg, "bit/s",
                                                   NULL)
                                     : "off";
    dialup_note_configured(conf->bits_per_sec);
    return NULL;
}

/* DialupMinRate NAME|BITS[k|M] (server config, directory, .htaccess) */
static const char *dialup_set_min_rate(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    dialup_dir_conf_t *conf = dconf;

    if (dialup_resolve(arg, 1, 1, &conf->min_rate) != 0
        || conf->min_rate == 0) {
        conf->min_rate = DIALUP_UNSET;
        return apr_psprintf(cmd->pool, "%s: '%s' is neither a modem "
                            "standard (%s) nor a rate in bits per second "
                            "from %d to %" APR_INT64_T_FMT " (digits with "
                            "an optional k or M suffix, e.g. 2400, 56k)",
                            cmd->cmd->name, arg,
                            dialup_modem_names(cmd->pool),
                            DIALUP_RATE_MIN, DIALUP_RATE_MAX);
    }
    return NULL;
}

/*
 * Registry of the downloads in progress, for server-status.  Any thread;
 * takes dialup_active_mtx.
 */

static void dialup_list(dialup_req_t *ctx)
{
    if (!dialup_active_mtx) {
        return;
    }
    apr_thread_mutex_lock(dialup_active_mtx);
    APR_RING_INSERT_TAIL(&dialup_active, ctx, dialup_req_t, link);
    dialup_active_count++;
    ctx->listed = 1;
    apr_thread_mutex_unlock(dialup_active_mtx);
}

static void dialup_unlist(dialup_req_t *ctx)
{
    if (!dialup_active_mtx) {
        return;
    }
    apr_thread_mutex_lock(dialup_active_mtx);
    if (ctx->listed) {
        APR_RING_REMOVE(ctx, link);
        dialup_active_count--;
        ctx->listed = 0;
    }
    apr_thread_mutex_unlock(dialup_active_mtx);
}

/* r->pool cleanup: a request destroyed while paced (the child exits) must
 * not stay in the registry. */
static apr_status_t dialup_req_cleanup(void *data)
{
    dialup_unlist(data);
    return APR_SUCCESS;
}

/* r->pool cleanup: close a file whose data the response held back.  Its
 * apr_file_t was moved to c->pool (see dialup_hold()); the request is
 * destroyed only when its EOR bucket is, after the last of its data. */
static apr_status_t dialup_close_file(void *data)
{
    return apr_file_close(data);
}

/*
 * Hold back brigade bb in ctx->bb.  File buckets are set aside into
 * c->pool, an ancestor of the pool where the core output filter sets
 * aside what a client did not take yet: a pulse's slice of a file is then
 * never given a copy of the apr_file_t that the core would close while
 * the rest of the file, sharing it, still waits here.  The files are
 * closed with the request.
 */
static apr_status_t dialup_hold(ap_filter_t *f, dialup_req_t *ctx,
                                apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_pool_t *cpool = r->connection->pool;
    apr_bucket *e;
    apr_status_t rv;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        apr_file_t *fd;

        if (!APR_BUCKET_IS_FILE(e)) {
            continue;
        }
        fd = ((apr_bucket_file *)e->data)->fd;
        if (apr_pool_is_ancestor(apr_file_pool_get(fd), cpool)) {
            continue;           /* already long-lived, or moved before */
        }
        rv = apr_bucket_setaside(e, cpool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        apr_pool_cleanup_register(r->pool, ((apr_bucket_file *)e->data)->fd,
                                  dialup_close_file, apr_pool_cleanup_null);
    }
    return ap_save_brigade(f, &ctx->bb, &bb, cpool);
}

/*
 * The DIALUP_PACE output filter.  Runs on the thread of the handler (or of
 * whoever writes the response).  While the handler runs the core's, it
 * holds back everything of a 200 or 206 response to a GET; anything else
 * (errors, 304, HEAD, a late error page) passes straight through.
 */
static apr_status_t dialup_pace_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    dialup_req_t *ctx = f->ctx;
    request_rec *r = f->r;
    apr_bucket *e, *next;
    apr_off_t len = 0;
    apr_status_t rv;

    if (!ctx->holding || r->header_only
        || (r->status != HTTP_OK && r->status != HTTP_PARTIAL_CONTENT)) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    ctx->f = f;

    /* Flushes are ours to decide: a FLUSH would make the core write with
     * blocking. */
    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb); e = next) {
        next = APR_BUCKET_NEXT(e);
        if (APR_BUCKET_IS_FLUSH(e)) {
            apr_bucket_delete(e);
        }
    }
    rv = apr_brigade_length(bb, 1, &len);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ctx->total += len;
    return dialup_hold(f, ctx, bb);
}

/*
 * The end of a pulse: an empty metadata bucket that follows the pulse's
 * data to the core output filter, which drops it.  Connection filters
 * that keep small data back to write it later together with more (mod_ssl's
 * coalescing filter holds up to 8 KB for the next TLS record) pass on what
 * they hold when a metadata bucket follows it, as they do for a FLUSH; but
 * unlike a FLUSH, it does not make the core output filter write with
 * blocking.  Without it, pulses over TLS would leave in 8 KB bursts.
 */
static apr_status_t dialup_boundary_read(apr_bucket *e, const char **str,
                                         apr_size_t *len,
                                         apr_read_type_e block)
{
    *str = NULL;
    *len = 0;
    return APR_SUCCESS;
}

static const apr_bucket_type_t dialup_bucket_type_boundary = {
    "DIALUP_PULSE_END", 5, APR_BUCKET_METADATA,
    apr_bucket_destroy_noop,
    dialup_boundary_read,
    apr_bucket_setaside_noop,
    apr_bucket_split_notimpl,
    apr_bucket_simple_copy
};

/* A new pulse-end bucket.  Any thread; allocates from list. */
static apr_bucket *dialup_boundary_create(apr_bucket_alloc_t *list)
{
    apr_bucket *e = apr_bucket_alloc(sizeof(*e), list);

    APR_BUCKET_INIT(e);
    e->free = apr_bucket_free;
    e->list = list;
    e->type = &dialup_bucket_type_boundary;
    e->length = 0;
    e->start = 0;
    e->data = NULL;
    return e;
}

/*
 * Whether the kernel still queues more for the client than the schedule
 * tolerates (dialup_pace_backlog_max()): data sent but not yet
 * acknowledged by the client, which the socket buffer holds however large
 * it has grown (on loopback the kernel lets a send buffer grow to several
 * megabytes, which would hide a client that stopped reading for minutes).
 * Only Linux says (SIOCOUTQ); elsewhere the handler caps the socket's send
 * buffer instead.  Same threads as dialup_pulse().
 */
static int dialup_backlogged(dialup_req_t *ctx, apr_time_t now)
{
#if defined(__linux__) && defined(SIOCOUTQ)
    int queued = 0;

    if (ctx->fd < 0 || ioctl(ctx->fd, SIOCOUTQ, &queued) != 0) {
        return 0;
    }
    /* A client that reads slowly keeps the queue near the bound, but it
     * shrinks: that is progress, which Timeout does not cut short. */
    if ((apr_int64_t)queued < ctx->queued_seen) {
        ctx->progress = now;
        ctx->stall_wait = 0;
    }
    ctx->queued_seen = queued;
    return (apr_int64_t)queued > ctx->backlog_max;
#else
    return 0;
#endif
}

/*
 * Let the core output filter write what it holds, without blocking, the
 * way the event MPM does in write completion.  Only for connections on the
 * asynchronous path, whose last output filter is the core's.
 */
static apr_status_t dialup_write_pending(conn_rec *c)
{
    ap_filter_t *last = c->output_filters;

    while (last->next) {
        last = last->next;
    }
    return last->frec->filter_func.out_func(last, NULL);
}

/*
 * Pass the first n bytes of what is held back to the connection filters
 * (all of it, EOS included, if final), with a FLUSH if blocking.  Same
 * threads as dialup_pulse().  Returns the status of ap_pass_brigade().
 */
static apr_status_t dialup_send(dialup_req_t *ctx, apr_int64_t n, int final,
                                int blocking)
{
    conn_rec *c = ctx->r->connection;
    apr_bucket_brigade *tmp;
    apr_bucket *after;
    apr_status_t rv;

    if (!final) {
        rv = apr_brigade_partition(ctx->bb, (apr_off_t)n, &after);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, ctx->r, APLOGNO(19102)
                          "dialup: cannot split the response");
            return rv;
        }
        ctx->rest = apr_brigade_split_ex(ctx->bb, after, ctx->rest);
    }
    if (blocking) {
        APR_BRIGADE_INSERT_TAIL(ctx->bb,
                                apr_bucket_flush_create(c->bucket_alloc));
    }
    else if (!final) {
        /* (the last pulse ends with the EOS, which does the same) */
        APR_BRIGADE_INSERT_TAIL(ctx->bb,
                                dialup_boundary_create(c->bucket_alloc));
    }
    rv = ap_pass_brigade(ctx->f->next, ctx->bb);
    apr_brigade_cleanup(ctx->bb);
    tmp = ctx->bb;
    ctx->bb = ctx->rest;
    ctx->rest = tmp;
    return rv;
}

/*
 * When to look again at a client that took no data at the last try: the
 * wait doubles while it stalls (see DIALUP_STALL_RECHECK), but ends no
 * later than the Timeout since its last progress.  Same threads as
 * dialup_pulse().
 */
static apr_time_t dialup_stall_recheck(dialup_req_t *ctx, apr_time_t now)
{
    apr_time_t deadline = ctx->progress + ctx->r->server->timeout + 1;
    apr_uint64_t mix;
    apr_interval_time_t wait;

    ctx->stall_wait = ctx->stall_wait ? ctx->stall_wait * 2
                                      : DIALUP_STALL_RECHECK;
    if (ctx->stall_wait > DIALUP_STALL_RECHECK_MAX) {
        ctx->stall_wait = DIALUP_STALL_RECHECK_MAX;
    }
    /* Clients that stall together (a full network, a crowd of bots) would
     * be rechecked together, in bursts that queue ahead of everything else:
     * take up to a quarter off each wait, different per request. */
    mix = ((apr_uint64_t)now ^ (apr_uint64_t)(apr_uintptr_t)ctx)
          * APR_UINT64_C(0x9E3779B97F4A7C15);
    wait = ctx->stall_wait - (apr_interval_time_t)
           ((mix >> 40) * (apr_uint64_t)(ctx->stall_wait / 4) >> 24);
    return (now + wait < deadline) ? now + wait : deadline;
}

/*
 * A pulse found the client behind: data still in the core output filter,
 * or more queued in the kernel than dialup_pace_backlog_max().  Returns
 * DIALUP_ABORTED (and marks the connection aborted) once that has lasted
 * Timeout since the client last kept up, else DIALUP_MORE with *wake set
 * to when to look again.  Same threads as dialup_pulse().
 */
static dialup_pulse_e dialup_stalled(dialup_req_t *ctx, apr_time_t now,
                                     apr_time_t *wake)
{
    request_rec *r = ctx->r;

    if (now - ctx->progress > r->server->timeout) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(19101)
                      "dialup: client took no data for %" APR_TIME_T_FMT
                      " s, closing after %" APR_INT64_T_FMT " of %"
                      APR_INT64_T_FMT " bytes",
                      apr_time_sec(r->server->timeout),
                      ctx->sent, ctx->total);
        r->connection->aborted = 1;
        return DIALUP_ABORTED;
    }
    *wake = dialup_stall_recheck(ctx, now);
    return DIALUP_MORE;
}

/*
 * Send what the schedule allows now.  Runs on the handler's thread, or on
 * a timed-callback thread holding r->invoke_mtx.  With blocking set (no
 * suspension), the data is flushed and the thread waits for the client up
 * to Timeout; otherwise nothing here blocks, and data the client has not
 * taken yet stays in the core output filter until a later pulse.  Either
 * way, no more is sent while the kernel queues more than about a second
 * of the schedule for the client (dialup_backlogged()), and a client that
 * stays behind for Timeout is closed.
 * Returns DIALUP_MORE with *wake set, DIALUP_DONE or DIALUP_ABORTED.
 */
static dialup_pulse_e dialup_pulse(dialup_req_t *ctx, apr_time_t now,
                                   int blocking, apr_time_t *wake)
{
    request_rec *r = ctx->r;
    conn_rec *c = r->connection;
    apr_int64_t n;
    apr_status_t rv;
    int last;

    if (c->aborted) {
        return DIALUP_ABORTED;
    }

    if (!blocking && c->data_in_output_filters) {
        rv = dialup_write_pending(c);
        if (rv != APR_SUCCESS || c->aborted) {
            return DIALUP_ABORTED;
        }
    }
    if ((!blocking && c->data_in_output_filters)
        || dialup_backlogged(ctx, now)) {
        return dialup_stalled(ctx, now, wake);
    }
    ctx->progress = now;
    ctx->stall_wait = 0;

    n = dialup_pace_step(&ctx->pace, ctx->total, ctx->sent, now, wake);
    last = (*wake == 0);
    while (n > 0 || last) {
        /* At most DIALUP_CHUNK_MAX at a time, and no more once the client
         * stops taking data or the kernel queues enough: without blocking,
         * the core output filter then never holds more than that, which
         * keeps it from writing with blocking (it does past
         * FlushMaxThreshold); with blocking, no write waits long for a
         * slow client, whose schedule was held meanwhile. */
        apr_int64_t chunk = (n > DIALUP_CHUNK_MAX) ? DIALUP_CHUNK_MAX : n;
        int final = last && chunk == n;

        rv = dialup_send(ctx, chunk, final, blocking);
        if (rv != APR_SUCCESS || c->aborted) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, APLOGNO(19103)
                          "dialup: client gone after %" APR_INT64_T_FMT
                          " of %" APR_INT64_T_FMT " bytes",
                          ctx->sent, ctx->total);
            c->aborted = 1;
            return DIALUP_ABORTED;
        }
        ctx->sent += chunk;
        n -= chunk;
        if (!blocking) {
            rv = dialup_write_pending(c);
            if (rv != APR_SUCCESS || c->aborted) {
                c->aborted = 1;
                return DIALUP_ABORTED;
            }
            if (c->data_in_output_filters) {
                if (final) {
                    /* All handed over: the MPM writes the rest. */
                    return DIALUP_DONE;
                }
                /* What the schedule allowed but the client could not
                 * take yet goes with a later pulse. */
                *wake = dialup_stall_recheck(ctx, now);
                return DIALUP_MORE;
            }
        }
        if (final) {
            return DIALUP_DONE;
        }
        ctx->queued_seen += chunk;
        if (n > 0 && dialup_backlogged(ctx, now)) {
            /* A pulse that catches up must not fill the socket buffer
             * either: the rest goes once the client has taken some. */
            *wake = dialup_stall_recheck(ctx, now);
            return DIALUP_MORE;
        }
    }
    return DIALUP_MORE;
}

/* The end of a paced response, whatever the outcome: drop what was not
 * sent, leave the registry.  Same threads as dialup_pulse(). */
static void dialup_finish(dialup_req_t *ctx, dialup_pulse_e how)
{
    if (how == DIALUP_ABORTED) {
        apr_off_t unsent = (apr_off_t)(ctx->total - ctx->sent);

        apr_brigade_cleanup(ctx->bb);
        apr_brigade_cleanup(ctx->rest);
        /* The protocol filters counted the whole body in r->bytes_sent
         * (the access log's %B) before this filter held it back: count
         * only what reached the connection.  The headers went first, so
         * what is left is body. */
        ctx->r->bytes_sent = (ctx->r->bytes_sent > unsent)
                             ? ctx->r->bytes_sent - unsent : 0;
    }
    dialup_unlist(ctx);
}

#if defined(AP_MPMQ_CAN_SUSPEND) && APR_HAS_THREADS

/*
 * Timed callback: one pulse of a suspended response.  Runs on any worker
 * thread; takes r->invoke_mtx while it uses r.  Either re-arms itself, or
 * finishes the request and gives the connection back to the MPM.
 */
static void dialup_pulse_callback(void *baton)
{
    dialup_req_t *ctx = baton;
    request_rec *r = ctx->r;
    conn_rec *c = r->connection;
    apr_time_t now, wake = 0;
    dialup_pulse_e how;
    apr_status_t rv;

    apr_thread_mutex_lock(r->invoke_mtx);

    now = apr_time_now();
    how = dialup_pulse(ctx, now, 0, &wake);
    if (how == DIALUP_MORE) {
        /* The MPM counts the delay from its own read of the clock: read
         * it again here, after the send, so that the deadlines of one
         * grid instant stay within microseconds of it and fire together. */
        wake = dialup_pace_align(wake, DIALUP_PULSE_GRID);
        now = apr_time_now();
        rv = ap_mpm_register_timed_callback(wake > now ? wake - now : 0,
                                            dialup_pulse_callback, ctx);
        if (rv == APR_SUCCESS) {
            apr_thread_mutex_unlock(r->invoke_mtx);
            return;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APLOGNO(19104)
                      "dialup: cannot schedule the next pulse");
        c->aborted = 1;
        how = DIALUP_ABORTED;
    }
    dialup_finish(ctx, how);

    /* Done with r: the contract of ap_mpm_resume_suspended(). */
    apr_thread_mutex_unlock(r->invoke_mtx);
    ap_finalize_request_protocol(r);
    ap_process_request_after_handler(r);
    ap_mpm_resume_suspended(c);
}

/*
 * Whether this request can be suspended: the MPM can, the connection is
 * one that the MPM drives asynchronously (not an HTTP/2 stream, no
 * clogging input filter), and r is the request that the MPM drives: not
 * an internal redirect's (r->prev), whose handler runs inside the
 * handler of the request before it; ap_internal_redirect() swallows
 * SUSPENDED, and the request would be finished under the pulses' feet.
 * Sub-requests are never paced (dialup_handler()).
 */
static int dialup_can_suspend(request_rec *r)
{
    conn_rec *c = r->connection;

    return dialup_mpm_can_suspend && c->cs && !c->master
           && !c->clogging_input_filters && !r->prev && !r->main
           && r->invoke_mtx;
}

#else  /* an httpd without the suspend API: always pace on the thread */

static int dialup_can_suspend(request_rec *r)
{
    return 0;
}

#endif

/*
 * The rate for this request: the dialup-modem variable if set and valid
 * (raised to DialupMinRate: the variable may come from a cookie or a
 * header, and a client must not hold a connection for days), else the
 * configuration.  Returns bits per second, 0 for none.
 */
static apr_int64_t dialup_request_rate(request_rec *r, const char **modem)
{
    dialup_dir_conf_t *conf = ap_get_module_config(r->per_dir_config,
                                                   &dialup_module);
    const char *env = apr_table_get(r->subprocess_env, DIALUP_ENV_NAME);
    apr_int64_t bits = conf->bits_per_sec;

    *modem = conf->modem;
    if (env) {
        if (dialup_resolve(env, 1, 1, &bits) == 0) {
            const dialup_modem_t *m = dialup_modem_find(env);
            apr_int64_t min_rate = (conf->min_rate != DIALUP_UNSET)
                                   ? conf->min_rate
                                   : DIALUP_MIN_RATE_DEFAULT;

            *modem = m ? m->name : env;
            if (bits > 0 && bits < min_rate) {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(19109)
                              "dialup: %s=%s is below DialupMinRate, pacing "
                              "at %" APR_INT64_T_FMT " bit/s",
                              DIALUP_ENV_NAME, env, min_rate);
                bits = min_rate;
                *modem = apr_psprintf(r->pool, "%" APR_INT64_T_FMT "bit/s",
                                      min_rate);
            }
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(19105)
                          "dialup: ignoring %s=%s: not a modem standard, "
                          "a rate in bits per second or off",
                          DIALUP_ENV_NAME, env);
            bits = conf->bits_per_sec;
        }
    }
    return bits > 0 ? bits : 0;
}

/* Whether no module claimed the request: its handler is the default one,
 * or the content type that ap_invoke_handler() puts in its place. */
static int dialup_is_default_handler(request_rec *r)
{
    apr_size_t len;

    if (!r->handler || AP_IS_DEFAULT_HANDLER_NAME(r->handler)
        || !strcmp(r->handler, "default-handler")) {
        return 1;
    }
    if (!r->content_type) {
        return 0;
    }
    len = strlen(r->handler);
    return !ap_cstr_casecmpn(r->handler, r->content_type, len)
           && (r->content_type[len] == '\0' || r->content_type[len] == ';'
               || r->content_type[len] == ' ');
}

/*
 * When the request reached the server, for the start of its schedule: the
 * time a request spent queued in the server (the kernel's accept queue, the
 * MPM's queue of new connections) is then not added to its download, and
 * the first pulse carries what is already due.  A client never gets more
 * than the modem would have carried since its request arrived.
 *
 * Linux says when the last bytes came in on the socket (TCP_INFO), which
 * is the end of the request even for a client that sends it slowly.  A
 * later request on a keep-alive connection starts no earlier than the
 * server began to read it (r->request_time), which is after the response
 * before it: pipelined requests arrive together, but the line was busy
 * until then.  Elsewhere, and for secondary connections such as HTTP/2
 * streams, the schedule starts now.  Never earlier than one Timeout ago.
 */
static apr_time_t dialup_request_arrival(request_rec *r, int first,
                                         apr_time_t now)
{
    apr_time_t arrival = now;
#if defined(__linux__) && defined(TCP_INFO)
    apr_socket_t *sock = r->connection->master
                         ? NULL : ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    if (sock && apr_os_sock_get(&fd, sock) == APR_SUCCESS
        && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0
        && len >= offsetof(struct tcp_info, tcpi_last_data_recv)
                  + sizeof(ti.tcpi_last_data_recv)) {
        arrival = now - apr_time_from_msec((apr_time_t)ti.tcpi_last_data_recv);
        if (!first && arrival < r->request_time) {
            arrival = r->request_time;
        }
    }
#endif
    if (arrival < now - r->server->timeout) {
        arrival = now - r->server->timeout;
    }
    return arrival;
}

/*
 * The socket of r's connection, to ask the kernel what it still queues
 * (-1 for secondary connections such as HTTP/2 streams, whose socket is
 * shared).  Where the kernel cannot be asked, the socket's send buffer is
 * capped to what the schedule tolerates instead.  Runs on the handler's
 * thread.
 */
static int dialup_conn_fd(request_rec *r, apr_int64_t backlog_max)
{
    apr_socket_t *sock;
    apr_os_sock_t fd;

    if (r->connection->master
        || (sock = ap_get_conn_socket(r->connection)) == NULL
        || apr_os_sock_get(&fd, sock) != APR_SUCCESS) {
        return -1;
    }
#if !(defined(__linux__) && defined(SIOCOUTQ))
    apr_socket_opt_set(sock, APR_SO_SNDBUF,
                       backlog_max > APR_INT32_MAX ? APR_INT32_MAX
                                                   : (apr_int32_t)backlog_max);
#endif
    return (int)fd;
}

/*
 * Content handler.  Runs on a worker thread; on the asynchronous path it
 * holds r->invoke_mtx (ap_process_async_request()).  Serves GETs of files
 * that no other handler claimed, where a modem is configured.  Never for
 * sub-requests (e.g. an SSI include): they are not paced on their own,
 * and their output is paced with their main request's where that one is.
 */
static int dialup_handler(request_rec *r)
{
    dialup_req_t *ctx;
    const char *modem;
    apr_int64_t bits;
    apr_time_t now, wake = 0;
    dialup_pulse_e how;
    int status, first;

    if (r->main || r->method_number != M_GET || r->header_only
        || r->finfo.filetype != APR_REG || !dialup_is_default_handler(r)) {
        return DECLINED;
    }
    /* Our own ap_run_handler() below comes back here first. */
    if (ap_get_module_config(r->request_config, &dialup_module)) {
        return DECLINED;
    }
    bits = dialup_request_rate(r, &modem);
    if (bits == 0) {
        return DECLINED;
    }

    /* Before the core sends the headers, which count this request. */
    first = (r->connection->keepalives == 0);

    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->r = r;
    ctx->modem = modem;
    ctx->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ctx->rest = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ctx->pace.bits_per_sec = bits;
    ctx->pace.pulse = DIALUP_PULSE_INTERVAL;
    ctx->backlog_max = dialup_pace_backlog_max(&ctx->pace);
    ctx->fd = dialup_conn_fd(r, ctx->backlog_max);
    APR_RING_ELEM_INIT(ctx, link);
    ap_set_module_config(r->request_config, &dialup_module, ctx);

    /* The core serves the file into the DIALUP_PACE filter. */
    ap_add_output_filter_handle(dialup_pace_filter_handle, ctx, r,
                                r->connection);
    ctx->holding = 1;
    status = ap_run_handler(r);
    ctx->holding = 0;
    if (status != OK || APR_BRIGADE_EMPTY(ctx->bb)) {
        return status;
    }

    now = apr_time_now();
    ctx->pace.start = dialup_request_arrival(r, first, now);
    ctx->progress = now;
    apr_pool_cleanup_register(r->pool, ctx, dialup_req_cleanup,
                              apr_pool_cleanup_null);
    dialup_list(ctx);
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                  "dialup: pacing %" APR_INT64_T_FMT " bytes at %"
                  APR_INT64_T_FMT " bit/s (%s)%s", ctx->total, bits, modem,
                  dialup_can_suspend(r) ? "" : " on this thread");

#if defined(AP_MPMQ_CAN_SUSPEND) && APR_HAS_THREADS
    if (dialup_can_suspend(r)) {
        apr_status_t rv;

        /* One interval after the start, or at once when the request came
         * in longer ago than that. */
        wake = ctx->pace.start + ctx->pace.pulse;
        wake = dialup_pace_align(wake > now ? wake : now, DIALUP_PULSE_GRID);
        rv = ap_mpm_register_timed_callback(wake - now,
                                            dialup_pulse_callback, ctx);
        if (rv == APR_SUCCESS) {
            return SUSPENDED;
        }
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, APLOGNO(19106)
                      "dialup: cannot schedule a pulse, pacing on this "
                      "thread");
    }
#endif

    /* Pace on this thread, from the same first pulse as a suspended
     * download (one interval after the start), not with the few bytes
     * earned since the request arrived. */
    wake = ctx->pace.start + ctx->pace.pulse;
    if (wake > now) {
        apr_sleep(wake - now);
        now = apr_time_now();
    }
    for (;;) {
        how = dialup_pulse(ctx, now, 1, &wake);
        if (how != DIALUP_MORE) {
            break;
        }
        now = apr_time_now();
        if (wake > now) {
            apr_sleep(wake - now);
            now = apr_time_now();
        }
    }
    dialup_finish(ctx, how);
    return OK;
}

/* One row of the status table, copied out of the registry. */
typedef struct dialup_status_row_t {
    const char *client;
    const char *modem;
    const char *request;
    apr_int64_t sent;
    apr_int64_t total;
} dialup_status_row_t;

/*
 * mod_status hook: the paced downloads of the child that answers.  Runs on
 * the status request's thread.  The rows are copied under
 * dialup_active_mtx and printed after it is released: a status client
 * that reads slowly must not hold up the pulses that end meanwhile (they
 * take the lock to leave the registry).
 */
static int dialup_status_hook(request_rec *r, int flags)
{
    dialup_status_row_t *rows = NULL;
    dialup_req_t *ctx;
    int i, n = 0;

    if (!dialup_active_mtx) {
        return OK;
    }
    apr_thread_mutex_lock(dialup_active_mtx);
    if (dialup_active_count > 0 && !(flags & AP_STATUS_SHORT)) {
        rows = apr_palloc(r->pool, dialup_active_count * sizeof(*rows));
        for (ctx = APR_RING_FIRST(&dialup_active);
             ctx != APR_RING_SENTINEL(&dialup_active, dialup_req_t, link)
             && n < dialup_active_count;
             ctx = APR_RING_NEXT(ctx, link), n++) {
            rows[n].client = apr_pstrdup(r->pool, ctx->r->useragent_ip);
            rows[n].modem = apr_pstrdup(r->pool, ctx->modem);
            rows[n].request = apr_pstrdup(r->pool, ctx->r->the_request);
            rows[n].sent = ctx->sent;
            rows[n].total = ctx->total;
        }
    }
    else {
        n = dialup_active_count;
    }
    apr_thread_mutex_unlock(dialup_active_mtx);

    /* Pacing may be configured in .htaccess files only, which
     * dialup_configured does not know of: say something whenever a
     * download is paced. */
    if (!dialup_configured && n == 0) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "DialupActive: %d\n", n);
        return OK;
    }
    ap_rprintf(r, "<hr />\n<h2>mod_dialup</h2>\n<p>%d paced download%s "
               "in this process (pid %" APR_PID_T_FMT ")%s</p>\n",
               n, n == 1 ? "" : "s", getpid(), dialup_mpm_can_suspend
               ? ", suspended between pulses" : "");
    if (n == 0) {
        return OK;
    }
    ap_rputs("<table>\n<tr><th>Client</th><th>Modem</th>"
             "<th>Sent</th><th>Total</th><th>Request</th></tr>\n", r);
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%" APR_INT64_T_FMT
                   "</td><td>%" APR_INT64_T_FMT "</td><td>%s</td></tr>\n",
                   ap_escape_html(r->pool, rows[i].client),
                   ap_escape_html(r->pool, rows[i].modem), rows[i].sent,
                   rows[i].total, ap_escape_html(r->pool, rows[i].request));
    }
    ap_rputs("</table>\n", r);
    return OK;
}

/*
 * post_config, in the parent: learn whether the MPM can suspend, and say
 * once at startup when it cannot and pacing is configured; set up the
 * registry of downloads, which each child inherits empty.  Its mutex lives
 * in pconf, which outlives the connection pools whose request cleanups
 * use it (they are destroyed with pchild's or pconf's subpools).
 */
static int dialup_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    apr_status_t rv;

    APR_RING_INIT(&dialup_active, dialup_req_t, link);
    dialup_active_count = 0;
    rv = apr_thread_mutex_create(&dialup_active_mtx, APR_THREAD_MUTEX_DEFAULT,
                                 pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(19108)
                     "dialup: cannot create a mutex");
        dialup_active_mtx = NULL;
    }

    dialup_mpm_can_suspend = 0;
#ifdef AP_MPMQ_CAN_SUSPEND
    if (ap_mpm_query(AP_MPMQ_CAN_SUSPEND, &dialup_mpm_can_suspend)
        != APR_SUCCESS) {
        dialup_mpm_can_suspend = 0;
    }
#endif
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG
        && dialup_configured && !dialup_mpm_can_suspend) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APLOGNO(19107)
                     "dialup: the %s MPM cannot suspend requests: each paced "
                     "download holds a worker (thread or process) while it "
                     "lasts",
                     ap_show_mpm());
    }
    return OK;
}

/* pre_config: reset what the previous generation's config set. */
static int dialup_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    dialup_configured = 0;
    return OK;
}

static void dialup_register_hooks(apr_pool_t *p)
{
    /* Before the core's default handler (APR_HOOK_REALLY_LAST), which it
     * runs itself; the other handlers check r->handler, which it leaves
     * to them (only requests with the default handler are taken). */
    ap_hook_handler(dialup_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(dialup_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(dialup_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, dialup_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
    /* After the protocol filters (byteranges, headers) and chunking, so it
     * paces what goes on the wire; before the connection filters. */
    dialup_pace_filter_handle =
        ap_register_output_filter("DIALUP_PACE", dialup_pace_filter, NULL,
                                  AP_FTYPE_CONNECTION - 1);
}

static const command_rec dialup_cmds[] = {
    AP_INIT_TAKE1("ModemStandard", dialup_set_modem_standard, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "The modem whose speed to serve files at (V.21 ... V.92, "
                  "ISDN, ISDN-2B), or off"),
    AP_INIT_TAKE1("DialupRate", dialup_set_rate, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "The speed to serve files at in bits per second (e.g. "
                  "56000, 56k, 2M), or off"),
    AP_INIT_TAKE1("DialupMinRate", dialup_set_min_rate, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "The lowest rate that the dialup-modem variable may "
                  "choose, a modem standard or bits per second (default "
                  "300, V.21)"),
    {NULL}
};

AP_DECLARE_MODULE(dialup) = {
    STANDARD20_MODULE_STUFF,
    dialup_create_dir_config,   /* create per-directory config */
    dialup_merge_dir_config,    /* merge per-directory config */
    NULL,                       /* create per-server config */
    NULL,                       /* merge per-server config */
    dialup_cmds,                /* command table */
    dialup_register_hooks       /* register hooks */
};
