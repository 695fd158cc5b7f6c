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
 * mod_dialup: serve responses at the speed of a modem.
 *
 * The handler wraps whatever handler serves the request (the core's
 * default handler for a file, mod_proxy, mod_cgid, ...): it runs them
 * itself with ap_run_handler(), with two output filters in place.
 * DIALUP_MODEM, before the protocol filters, chooses the modem once the
 * status and headers are known (X-Dialup-Modem, the dialup-modem
 * variable, the configuration); DIALUP_PACE, after them, holds back the
 * response as it would go on the wire and hands it to the connection
 * filters a few hundred bytes at a time, on an absolute schedule
 * (dialup_pace.c).
 *
 * While the handler runs, the filter paces on its thread, which is there
 * anyway.  What the handler writes faster than the line takes is held: in
 * memory up to DialupBufferMemory, then in an unlinked temporary file up
 * to DialupBufferFile; only beyond that does the handler's thread wait
 * for the schedule.  A backend is then released as soon as its response
 * is buffered.  A flush (a stream's next event) is delivered as soon as
 * the schedule allows, the thread waiting for it while what is held goes
 * within a second.
 *
 * When the handler has returned, on an MPM that can suspend (the patched
 * event MPM), the handler returns SUSPENDED and every pulse runs from
 * ap_mpm_register_timed_callback() on any worker thread: no thread is
 * held between pulses, and a pulse never blocks on the client (a client
 * that does not read is waited for with timers, up to Timeout).  The last
 * pulse finishes the request and gives the connection back to the MPM
 * with ap_mpm_resume_suspended().  Where the MPM or the connection cannot
 * suspend (worker, prefork, HTTP/2 streams, internal redirects), the
 * rest is paced on the handler's thread, like mod_ratelimit.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "ap_expr.h"
#include "util_filter.h"
#include "ap_mpm.h"
#include "mod_status.h"

#include "apr_file_io.h"
#include "apr_optional_hooks.h"
#include "apr_ring.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "dialup_pace.h"
#include "dialup_shm.h"
#include "dialup_store.h"

#if APR_HAVE_UNISTD_H
#include <unistd.h>             /* getpid() */
#endif
#if APR_HAVE_FCNTL_H
#include <fcntl.h>              /* open(O_TMPFILE) */
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

/* The environment variable that chooses the modem for one request, and
 * the response header with which a handler or a backend may choose it
 * where DialupModemHeader allows. */
#define DIALUP_ENV_NAME "dialup-modem"
#define DIALUP_HEADER_NAME "X-Dialup-Modem"

/* What a response may hold in memory and in its temporary file by default
 * (DialupBufferMemory, DialupBufferFile). */
#define DIALUP_BUFFER_MEMORY_DEFAULT (32 * 1024)
#define DIALUP_BUFFER_FILE_DEFAULT (APR_INT64_C(64) * 1024 * 1024)

/* The longest the handler's thread waits for a flush to go (one second of
 * the line): a flush that holds more than the line takes in that time
 * comes from a handler running ahead of the line, and is buffered. */
#define DIALUP_FLUSH_WAIT apr_time_from_sec(1)

/* The lowest rate that the variable may choose unless DialupMinRate says
 * otherwise: the slowest modem of the table (V.21). */
#define DIALUP_MIN_RATE_DEFAULT 300

#define DIALUP_UNSET (-1)

/* DialupLine: one line per client (the default), or a rate per response */
#define DIALUP_LINE_REQUEST 0
#define DIALUP_LINE_CLIENT 1

/* DialupLines by default, and the most accepted: the table takes about
 * 100 bytes a line in shared memory. */
#define DIALUP_LINES_DEFAULT 16384
#define DIALUP_LINES_MAX 1048576

/* What a link delivers first after its latency, in one piece: a TCP
 * segment (the headers and the start of the body). */
#define DIALUP_SEGMENT 1460

/* The uplink hands a request body to the handler at most this long a
 * piece of the line at a time. */
#define DIALUP_UPLINK_PIECE apr_time_from_msec(200)

typedef struct dialup_dir_conf_t {
    /* bits per second; 0 is off, DIALUP_UNSET inherits */
    apr_int64_t bits_per_sec;
    /* modem name or rate as configured, for server-status */
    const char *modem;
    /* the lowest rate the dialup-modem variable or the X-Dialup-Modem
     * header may choose (bit/s), DIALUP_UNSET inherits */
    apr_int64_t min_rate;
    /* DialupBufferMemory and DialupBufferFile (bytes), DIALUP_UNSET
     * inherits */
    apr_int64_t buffer_memory;
    apr_int64_t buffer_file;
    /* DialupModemHeader: 1 on, 0 off, DIALUP_UNSET inherits (off) */
    int modem_header;
    /* the uplink (bits per second; 0 off, DIALUP_UNSET inherits) and the
     * round trip (DIALUP_UNSET inherits), from DialupLink, DialupUplink
     * and DialupLatency */
    apr_int64_t up_bits;
    apr_interval_time_t rtt;
    /* DialupLine: DIALUP_LINE_CLIENT or _REQUEST, DIALUP_UNSET inherits
     * (per client) */
    int line;
    /* DialupLineKey, NULL inherits (the client's address) */
    ap_expr_info_t *line_key;
} dialup_dir_conf_t;

typedef struct dialup_srv_conf_t {
    /* DialupBufferDir, NULL for the system's temporary directory */
    const char *buffer_dir;
} dialup_srv_conf_t;

/* What a pulse decided. */
typedef enum {
    DIALUP_MORE,                /* call again at *wake */
    DIALUP_EMPTY,               /* all that is held went; the handler runs
                                 * on and may write more */
    DIALUP_DONE,                /* everything went to the connection */
    DIALUP_ABORTED              /* the client is gone or stalled */
} dialup_pulse_e;

/* What DIALUP_MODEM decided for the response. */
typedef enum {
    DIALUP_UNDECIDED,
    DIALUP_PACED,
    DIALUP_PASSED               /* not paced: passes straight through */
} dialup_decision_e;

/* One paced response.  Lives in r->pool.  Used by the thread that runs the
 * handler, then by one pulse at a time, each holding r->invoke_mtx. */
typedef struct dialup_req_t dialup_req_t;
struct dialup_req_t {
    /* in dialup_active, under dialup_active_mtx */
    APR_RING_ENTRY(dialup_req_t) link;
    request_rec *r;
    dialup_dir_conf_t *conf;
    /* the DIALUP_PACE filter instance, whose next filter takes pulses */
    ap_filter_t *f;
    /* the response held back, then what is left of it: file buckets of
     * the file served or of the buffer file, and data in memory */
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
    /* how long the request waited in the server before its handler ran
     * (the schedule makes up for it), and when the first byte was held */
    apr_interval_time_t queued;
    apr_time_t first;
    /* when the next pulse is due, 0 when nothing is held */
    apr_time_t wake;
    /* bytes held in memory, and bytes of the buffer file not sent yet */
    apr_int64_t mem_held;
    apr_int64_t file_held;
    /* the buffer file (NULL until needed) and how much was written to it;
     * the most that may be held in memory and written to the file */
    apr_file_t *tmp;
    apr_int64_t tmp_size;
    apr_int64_t mem_max;
    apr_int64_t file_max;
    /* the most a flush may hold for the handler's thread to wait for it
     * (what the line takes in DIALUP_FLUSH_WAIT) */
    apr_int64_t flush_max;
    dialup_decision_e decision;
    /* set while the handler runs: the filter holds what it writes */
    int holding;
    /* the EOS is held (the handler has written everything) */
    int eos;
    /* pulses while the handler runs flush and wait for the client: the
     * connection's last filter is not the core's (an HTTP/2 stream) */
    int sync;
    /* set once the first data is held: the schedule runs */
    int started;
    /* set while the request is listed in dialup_active */
    int listed;
    /* The client's line (dialup_store.h): the store's key ("56000
     * 192.0.2.7"), the client's part of it and the line's rate.  line_want
     * says the transfer shares a line; joined, that it is counted on line
     * now (it is not while it waits for its latency, stalls or has sent
     * all it has); shared, that it joined one at some point. */
    const char *line_key;
    const char *client_key;
    apr_int64_t line_bits;
    int line;
    /* the scoreboard slot of this child, for the store's accounts */
    int proc;
    int line_want;
    int joined;
    int shared;
    /* when the schedule of a transfer that waits to start on a busy line
     * starts, until its first pulse there; else 0 */
    apr_time_t line_joined;
    /* the latency before the first byte (dialup_link_delay()) */
    apr_interval_time_t latency;
};

/* A request body read at the uplink's rate (DIALUP_UPLINK).  Lives in
 * r->pool; used by the thread that reads the body. */
typedef struct dialup_uplink_t {
    dialup_pace_t pace;
    /* body bytes handed to the handler so far, and the most at a time */
    apr_int64_t received;
    apr_off_t piece;
    int started;
    /* set once the handler has returned: the rest of the body (which the
     * core reads to throw away) is not paced */
    int done;
} dialup_uplink_t;

/* What the module keeps in r->request_config: the paced response, if
 * any, and the uplink, if any; its presence also tells dialup_handler()
 * that it runs inside its own ap_run_handler(). */
typedef struct dialup_rconf_t {
    dialup_req_t *req;
    dialup_uplink_t *up;
} dialup_rconf_t;

APR_RING_HEAD(dialup_ring_t, dialup_req_t);

/* Paced downloads in progress in this child process, for server-status
 * (set up in post_config). */
static struct dialup_ring_t dialup_active;
static apr_thread_mutex_t *dialup_active_mtx;
static int dialup_active_count;

/* Where the clients' lines are (set in post_config; NULL: every download
 * is paced on its own). */
static const dialup_store_t *dialup_store;

/* The MPM's thread limit (set in post_config): a connection's id is its
 * child's slot times that, plus its thread's. */
static int dialup_thread_limit = 1;

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

static ap_filter_rec_t *dialup_modem_filter_handle;
static ap_filter_rec_t *dialup_pace_filter_handle;
static ap_filter_rec_t *dialup_strip_filter_handle;
static ap_filter_rec_t *dialup_uplink_filter_handle;

/*
 * Configuration
 */

static void *dialup_create_dir_config(apr_pool_t *p, char *dir)
{
    dialup_dir_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->bits_per_sec = DIALUP_UNSET;
    conf->min_rate = DIALUP_UNSET;
    conf->buffer_memory = DIALUP_UNSET;
    conf->buffer_file = DIALUP_UNSET;
    conf->modem_header = DIALUP_UNSET;
    conf->up_bits = DIALUP_UNSET;
    conf->rtt = DIALUP_UNSET;
    conf->line = DIALUP_UNSET;
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
    conf->buffer_memory = (add->buffer_memory != DIALUP_UNSET)
                          ? add->buffer_memory : base->buffer_memory;
    conf->buffer_file = (add->buffer_file != DIALUP_UNSET)
                        ? add->buffer_file : base->buffer_file;
    conf->modem_header = (add->modem_header != DIALUP_UNSET)
                         ? add->modem_header : base->modem_header;
    conf->up_bits = (add->up_bits != DIALUP_UNSET) ? add->up_bits
                                                   : base->up_bits;
    conf->rtt = (add->rtt != DIALUP_UNSET) ? add->rtt : base->rtt;
    conf->line = (add->line != DIALUP_UNSET) ? add->line : base->line;
    conf->line_key = add->line_key ? add->line_key : base->line_key;
    return conf;
}

static void *dialup_create_server_config(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(dialup_srv_conf_t));
}

static void *dialup_merge_server_config(apr_pool_t *p, void *basev,
                                        void *addv)
{
    dialup_srv_conf_t *base = basev;
    dialup_srv_conf_t *add = addv;
    dialup_srv_conf_t *conf = apr_palloc(p, sizeof(*conf));

    conf->buffer_dir = add->buffer_dir ? add->buffer_dir : base->buffer_dir;
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

/* The error of DialupRate and DialupUplink for arg, which is not a rate
 * (examples: what to show as valid ones). */
static const char *dialup_rate_error(cmd_parms *cmd, const char *arg,
                                     const char *examples)
{
    return apr_psprintf(cmd->pool, "%s: '%s' is not a rate in bits per "
                        "second from %d to %" APR_INT64_T_FMT " (digits "
                        "with an optional k or M suffix, e.g. %s) or off",
                        cmd->cmd->name, arg, DIALUP_RATE_MIN,
                        DIALUP_RATE_MAX, examples);
}

/* DialupRate BITS[k|M]|off (server config, directory, .htaccess) */
static const char *dialup_set_rate(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    dialup_dir_conf_t *conf = dconf;

    if (dialup_resolve(arg, 0, 1, &conf->bits_per_sec) != 0) {
        return dialup_rate_error(cmd, arg, "56000, 56k, 2M");
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

/* DialupBufferMemory SIZE, DialupBufferFile SIZE (server config,
 * virtual host, directory); cmd->info says which. */
static const char *dialup_set_buffer(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    dialup_dir_conf_t *conf = dconf;
    apr_int64_t bytes;

    if (dialup_parse_size(arg, &bytes) != 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a size in bytes "
                            "(digits with an optional K, M or G suffix, "
                            "e.g. 65536, 64K, 64M; 0 for none) up to 1024G",
                            cmd->cmd->name, arg);
    }
    if (cmd->info) {
        conf->buffer_file = bytes;
    }
    else {
        conf->buffer_memory = bytes;
    }
    return NULL;
}

/* DialupBufferDir DIR (server config) */
static const char *dialup_set_buffer_dir(cmd_parms *cmd, void *dummy,
                                         const char *arg)
{
    dialup_srv_conf_t *conf = ap_get_module_config(cmd->server->module_config,
                                                   &dialup_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    const char *dir;
    apr_finfo_t finfo;

    if (err) {
        return err;
    }
    dir = ap_server_root_relative(cmd->pool, arg);
    if (!dir || apr_stat(&finfo, dir, APR_FINFO_TYPE, cmd->temp_pool)
                != APR_SUCCESS || finfo.filetype != APR_DIR) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a directory",
                            cmd->cmd->name, dir ? dir : arg);
    }
    conf->buffer_dir = dir;
    return NULL;
}

/* "3G, Slow-4G, ..., 3GSlow" for error messages. */
static const char *dialup_link_names(apr_pool_t *p)
{
    const dialup_link_t *l;
    const char *names = NULL;

    for (l = dialup_links; l->name; l++) {
        names = names ? apr_pstrcat(p, names, ", ", l->name, NULL) : l->name;
    }
    return names;
}

/* DialupLink NAME|off (server config, directory, .htaccess): a modem's or
 * a profile's downlink, uplink and round trip at once. */
static const char *dialup_set_link(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    dialup_dir_conf_t *conf = dconf;
    const dialup_modem_t *m = dialup_modem_find(arg);
    const dialup_link_t *l = dialup_link_find(arg);

    if (!ap_cstr_casecmp(arg, "off")) {
        conf->bits_per_sec = 0;
        conf->up_bits = 0;
        conf->rtt = 0;
        conf->modem = "off";
        return NULL;
    }
    if (m) {
        conf->bits_per_sec = m->bits_per_sec;
        conf->up_bits = m->up_bits;
        conf->rtt = m->rtt;
        conf->modem = m->name;
    }
    else if (l) {
        conf->bits_per_sec = l->down_bits;
        conf->up_bits = l->up_bits;
        conf->rtt = l->rtt;
        conf->modem = l->name;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: unknown link '%s'; use a modem "
                            "standard (%s), a profile (%s), or off",
                            cmd->cmd->name, arg,
                            dialup_modem_names(cmd->pool),
                            dialup_link_names(cmd->pool));
    }
    dialup_note_configured(conf->bits_per_sec);
    return NULL;
}

/* DialupUplink BITS[k|M]|off (server config, directory, .htaccess) */
static const char *dialup_set_uplink(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    dialup_dir_conf_t *conf = dconf;

    if (dialup_resolve(arg, 0, 1, &conf->up_bits) != 0) {
        conf->up_bits = DIALUP_UNSET;
        return dialup_rate_error(cmd, arg, "48000, 48k, 1M");
    }
    return NULL;
}

/* DialupLatency TIME|off (server config, directory, .htaccess) */
static const char *dialup_set_latency(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    dialup_dir_conf_t *conf = dconf;
    apr_interval_time_t t;

    if (!ap_cstr_casecmp(arg, "off")) {
        conf->rtt = 0;
        return NULL;
    }
    if (dialup_parse_time(arg, &t) != 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a round-trip time "
                            "from 0 to 10s (digits with an optional "
                            "fraction and ms or s suffix, e.g. 120, 150ms, "
                            "0.4s; a bare number is milliseconds) or off",
                            cmd->cmd->name, arg);
    }
    conf->rtt = t;
    return NULL;
}

/* DialupLine per-client|per-request (server config, directory,
 * .htaccess) */
static const char *dialup_set_line(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    dialup_dir_conf_t *conf = dconf;

    if (!ap_cstr_casecmp(arg, "per-client")) {
        conf->line = DIALUP_LINE_CLIENT;
    }
    else if (!ap_cstr_casecmp(arg, "per-request")) {
        conf->line = DIALUP_LINE_REQUEST;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: '%s' is neither per-client nor "
                            "per-request", cmd->cmd->name, arg);
    }
    return NULL;
}

/* DialupLineKey EXPR (server config, directory): an ap_expr string */
static const char *dialup_set_line_key(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    dialup_dir_conf_t *conf = dconf;
    const char *err = NULL;

    conf->line_key = ap_expr_parse_cmd(cmd, arg, AP_EXPR_FLAG_STRING_RESULT,
                                       &err, NULL);
    if (err) {
        conf->line_key = NULL;
        return apr_psprintf(cmd->pool, "%s: cannot parse '%s': %s",
                            cmd->cmd->name, arg, err);
    }
    return NULL;
}

/* DialupLines N (main server config only): the size of the line table */
static apr_uint32_t dialup_lines_n = DIALUP_LINES_DEFAULT;

static const char *dialup_set_lines(cmd_parms *cmd, void *dummy,
                                    const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    apr_int64_t n;

    if (err) {
        return err;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (end == arg || *end || n < 1 || n > DIALUP_LINES_MAX) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number of lines "
                            "from 1 to %d", cmd->cmd->name, arg,
                            DIALUP_LINES_MAX);
    }
    dialup_lines_n = (apr_uint32_t)n;
    return NULL;
}

/* DialupModemHeader on|off (server config, directory, .htaccess) */
static const char *dialup_set_modem_header(cmd_parms *cmd, void *dconf,
                                           int flag)
{
    dialup_dir_conf_t *conf = dconf;

    conf->modem_header = flag ? 1 : 0;
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

/*
 * The client's line.  Same threads as dialup_pulse() (the handler's, or a
 * pulse's holding r->invoke_mtx): one at a time per request.
 */

/* Stop counting on the line (the transfer finished, stalled, or sent all
 * it had); it joins again when it has more to send. */
static void dialup_line_leave(dialup_req_t *ctx, apr_time_t now)
{
    if (ctx->joined) {
        dialup_store->leave(dialup_store, ctx->line, ctx->proc, now);
        ctx->joined = 0;
    }
}

/*
 * At a pulse: join the line if the transfer is not counted on it (once
 * its latency is over), and take its share of the line now: line / n for
 * n transfers on it, with pulses about n times as far apart
 * (dialup_line_pulse()).  A transfer that joins a line that others use
 * waits for one of their pulses, until they have all slowed down for it;
 * one that comes back after a pause gets no credit for the time away
 * beyond a pulse (dialup_line_enter()).  Where the store is full, the
 * transfer is paced on its own, at the line's rate.
 * Returns when the first pulse of a transfer that just joined a busy line
 * is due (later than now), else 0.
 */
static apr_time_t dialup_line_update(dialup_req_t *ctx, apr_time_t now)
{
    apr_time_t first;

    if (!ctx->joined) {
        if (now < ctx->pace.start) {
            return 0;           /* (still in its latency) */
        }
        ctx->line = dialup_store->join(dialup_store, ctx->line_key,
                                       ctx->line_bits, ctx->proc, now);
        if (ctx->line < 0) {
            ctx->line_want = 0;
            dialup_pace_rebase(&ctx->pace, ctx->line_bits, now);
            return 0;
        }
        ctx->joined = 1;
        ctx->shared = 1;
        first = dialup_line_enter(&ctx->pace, DIALUP_PULSE_INTERVAL,
                                  ctx->line_bits,
                                  dialup_store->active(dialup_store,
                                                       ctx->line),
                                  ctx->sent,
                                  dialup_store->horizon(dialup_store,
                                                        ctx->line),
                                  now);
        /* (it waits: its share is taken again at its first pulse, from
         * when it was to start, a pulse before that) */
        ctx->line_joined = (first > now) ? first - DIALUP_PULSE_INTERVAL
                                         : 0;
        return first;
    }
    dialup_line_pulse(&ctx->pace, DIALUP_PULSE_INTERVAL, ctx->line_bits,
                      dialup_store->active(dialup_store, ctx->line),
                      ctx->sent, ctx->line_joined, now);
    ctx->line_joined = 0;
    return 0;
}

/* r->pool cleanup: a request destroyed while paced (the child exits) must
 * not stay in the registry, nor on its line. */
static apr_status_t dialup_req_cleanup(void *data)
{
    dialup_req_t *ctx = data;

    dialup_line_leave(ctx, apr_time_now());
    dialup_unlist(ctx);
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
 * Hold back file bucket e (of the file served).  It is set aside into
 * c->pool, an ancestor of the pool where the core output filter sets
 * aside what a client did not take yet: a pulse's slice of a file is then
 * never given a copy of the apr_file_t that the core would close while
 * the rest of the file, sharing it, still waits here.  The file is closed
 * with the request.  Runs on the handler's thread.
 */
static apr_status_t dialup_hold_file(dialup_req_t *ctx, apr_bucket *e)
{
    request_rec *r = ctx->r;
    apr_pool_t *cpool = r->connection->pool;
    apr_file_t *fd = ((apr_bucket_file *)e->data)->fd;
    apr_status_t rv;

    if (fd == ctx->tmp || apr_pool_is_ancestor(apr_file_pool_get(fd), cpool)) {
        return APR_SUCCESS;     /* already long-lived, or moved before */
    }
    rv = apr_bucket_setaside(e, cpool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Read, not mapped, when the core does not send it with sendfile:
     * apr_mmap_create() would take its apr_mmap_t from c->pool at every
     * pulse (the pieces' offsets are not page-aligned, so it fails after
     * that) until the connection ends. */
    apr_bucket_file_enable_mmap(e, 0);
    apr_pool_cleanup_register(r->pool, ((apr_bucket_file *)e->data)->fd,
                              dialup_close_file, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* The system's temporary directory, read once in the parent (post_config),
 * for DialupBufferDir's default. */
static const char *dialup_temp_dir;

/* Where r's buffer files go (DialupBufferDir). */
static const char *dialup_buffer_dir_of(request_rec *r)
{
    dialup_srv_conf_t *sconf = ap_get_module_config(r->server->module_config,
                                                    &dialup_module);

    return sconf->buffer_dir ? sconf->buffer_dir
                             : (dialup_temp_dir ? dialup_temp_dir : "(none)");
}

/*
 * Open the response's buffer file: a file with no name in DialupBufferDir
 * (O_TMPFILE), or one created there and unlinked at once, so that nothing
 * is left behind whatever happens to the process.  Its apr_file_t lives in
 * c->pool, like a held file's, and is closed with the request.  Runs on
 * the handler's thread.
 */
static apr_status_t dialup_open_buffer(dialup_req_t *ctx)
{
    request_rec *r = ctx->r;
    apr_pool_t *cpool = r->connection->pool;
    const char *dir = dialup_buffer_dir_of(r);
    char *name;
    apr_status_t rv;

#if defined(O_TMPFILE) && defined(O_CLOEXEC)
    {
        apr_os_file_t fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

        if (fd >= 0) {
            rv = apr_os_file_put(&ctx->tmp, &fd,
                                 APR_FOPEN_READ | APR_FOPEN_WRITE, cpool);
            if (rv != APR_SUCCESS) {
                close(fd);
                ctx->tmp = NULL;
                return rv;
            }
            apr_pool_cleanup_register(r->pool, ctx->tmp, dialup_close_file,
                                      apr_pool_cleanup_null);
            return APR_SUCCESS;
        }
        /* (file systems without O_TMPFILE: a named file, unlinked) */
    }
#endif
    name = apr_pstrcat(r->pool, dir, "/dialup.XXXXXX", NULL);
    rv = apr_file_mktemp(&ctx->tmp, name, APR_FOPEN_CREATE | APR_FOPEN_READ
                         | APR_FOPEN_WRITE | APR_FOPEN_EXCL, cpool);
    if (rv != APR_SUCCESS) {
        ctx->tmp = NULL;
        return rv;
    }
    apr_file_remove(name, r->pool);
    apr_pool_cleanup_register(r->pool, ctx->tmp, dialup_close_file,
                              apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/*
 * Move the data of bucket e, which is in memory, to the end of the buffer
 * file, and hold it as a file bucket there (the last held bucket grows
 * when it already ends where the file does: no bucket per write).
 * Returns APR_SUCCESS with e destroyed, or an error with e left as it was
 * (the file cannot be opened or written: the data stays in memory).
 * Runs on the handler's thread; the core output filter reads the same
 * file, on the same thread or later on a pulse's, after a seek.
 */
static apr_status_t dialup_spill(dialup_req_t *ctx, apr_bucket *e)
{
    request_rec *r = ctx->r;
    apr_bucket *last;
    apr_off_t off = (apr_off_t)ctx->tmp_size;
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    if (!ctx->tmp) {
        rv = dialup_open_buffer(ctx);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APLOGNO(19110)
                          "dialup: cannot create a buffer file in %s, "
                          "holding the response in memory",
                          dialup_buffer_dir_of(r));
            return rv;
        }
    }
    rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
    if (rv == APR_SUCCESS) {
        rv = apr_file_seek(ctx->tmp, APR_SET, &off);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(ctx->tmp, data, len, NULL);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APLOGNO(19111)
                      "dialup: cannot write to the buffer file in %s, "
                      "holding the rest of the response in memory",
                      dialup_buffer_dir_of(r));
        return rv;
    }

    last = APR_BRIGADE_LAST(ctx->bb);
    if (last != APR_BRIGADE_SENTINEL(ctx->bb) && APR_BUCKET_IS_FILE(last)
        && ((apr_bucket_file *)last->data)->fd == ctx->tmp
        && last->start + (apr_off_t)last->length == off) {
        last->length += len;
    }
    else {
        apr_bucket *fb = apr_bucket_file_create(ctx->tmp, off, len,
                                                r->connection->pool,
                                                r->connection->bucket_alloc);

        /* A file that still grows is read, not mapped. */
        apr_bucket_file_enable_mmap(fb, 0);
        APR_BRIGADE_INSERT_TAIL(ctx->bb, fb);
    }
    ctx->tmp_size += len;
    ctx->file_held += len;
    apr_bucket_delete(e);
    return APR_SUCCESS;
}

/* Whether bucket e holds its data in memory (heap, pool, transient,
 * immortal): what DialupBufferMemory bounds.  Files and mappings don't. */
static int dialup_in_memory(apr_bucket *e)
{
    return !APR_BUCKET_IS_METADATA(e) && !APR_BUCKET_IS_FILE(e)
#if APR_HAS_MMAP
           && !APR_BUCKET_IS_MMAP(e)
#endif
           ;
}

/*
 * Hold in-memory bucket e at the end of ctx->bb, its data copied into
 * full-size heap buffers: the last one held while it has room (when no
 * other bucket shares it), then new ones of APR_BUCKET_BUFF_SIZE.  What
 * the handlers write (mod_proxy's transient buckets of a socket read,
 * chunk headers, an SSI page's pieces) would otherwise each take an
 * allocator block of their own, half empty: held memory then costs what
 * it counts.  A heap bucket that fills most of its buffer is moved, not
 * copied.  Destroys e.  Runs on the handler's thread.
 */
static apr_status_t dialup_hold_memory(dialup_req_t *ctx, apr_bucket *e)
{
    apr_bucket_alloc_t *list = ctx->r->connection->bucket_alloc;
    apr_bucket *last = APR_BRIGADE_LAST(ctx->bb);
    apr_bucket_heap *h;
    const char *data;
    apr_size_t len, n;
    apr_status_t rv;

    if (APR_BUCKET_IS_HEAP(e)) {
        h = e->data;
        if (h->refcount.refcount == 1 && h->free_func == apr_bucket_free
            && e->length >= h->alloc_len - h->alloc_len / 8) {
            APR_BUCKET_REMOVE(e);
            APR_BRIGADE_INSERT_TAIL(ctx->bb, e);
            return APR_SUCCESS;
        }
    }
    rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (len > 0) {
        apr_size_t end = 0;

        h = NULL;
        if (last != APR_BRIGADE_SENTINEL(ctx->bb) && APR_BUCKET_IS_HEAP(last)) {
            h = last->data;
            end = (apr_size_t)last->start + last->length;
            if (h->refcount.refcount != 1 || h->free_func != apr_bucket_free
                || end >= h->alloc_len) {
                h = NULL;
            }
        }
        if (!h) {
            char *buf = apr_bucket_alloc(APR_BUCKET_BUFF_SIZE, list);

            last = apr_bucket_heap_create(buf, APR_BUCKET_BUFF_SIZE,
                                          apr_bucket_free, list);
            last->length = 0;
            APR_BRIGADE_INSERT_TAIL(ctx->bb, last);
            h = last->data;
            end = 0;
        }
        n = h->alloc_len - end;
        if (n > len) {
            n = len;
        }
        memcpy(h->base + end, data, n);
        last->length += n;
        data += n;
        len -= n;
    }
    apr_bucket_delete(e);
    return APR_SUCCESS;
}

/*
 * Hold back brigade bb at the end of ctx->bb, emptying bb.  Data in
 * memory stays in memory while the response holds no more than
 * DialupBufferMemory there; the rest goes to the buffer file while that
 * has room, and else stays in memory too (the caller then waits for the
 * schedule).  Flushes are dropped and reported in *flush: the pulses
 * decide when the core writes.  Runs on the handler's thread.
 */
static apr_status_t dialup_hold(dialup_req_t *ctx, apr_bucket_brigade *bb,
                                int *flush)
{
    apr_pool_t *cpool = ctx->r->connection->pool;
    apr_bucket *e;
    apr_status_t rv;

    *flush = 0;
    while (!APR_BRIGADE_EMPTY(bb)) {
        e = APR_BRIGADE_FIRST(bb);
        if (APR_BUCKET_IS_FLUSH(e)) {
            *flush = 1;
            apr_bucket_delete(e);
            continue;
        }
        if (APR_BUCKET_IS_EOS(e)) {
            ctx->eos = 1;
        }
        if (e->length == (apr_size_t)-1) {
            const char *data;
            apr_size_t len;

            /* A pipe or a socket: read it into memory (the core's
             * content-length filter has usually done so already). */
            rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
        if (dialup_in_memory(e)) {
            apr_int64_t len = (apr_int64_t)e->length;

            if (ctx->mem_held + len > ctx->mem_max
                && ctx->tmp_size + len <= ctx->file_max) {
                if (dialup_spill(ctx, e) == APR_SUCCESS) {
                    ctx->total += len;
                    continue;
                }
                ctx->file_max = 0;      /* no more tries */
            }
            len = (apr_int64_t)e->length;
            rv = dialup_hold_memory(ctx, e);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            ctx->mem_held += len;
            ctx->total += len;
            continue;
        }
        else if (APR_BUCKET_IS_FILE(e)) {
            rv = dialup_hold_file(ctx, e);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
        rv = apr_bucket_setaside(e, cpool);
        if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
            return rv;
        }
        if (!APR_BUCKET_IS_METADATA(e)) {
            ctx->total += (apr_int64_t)e->length;
        }
        APR_BUCKET_REMOVE(e);
        APR_BRIGADE_INSERT_TAIL(ctx->bb, e);
    }
    return APR_SUCCESS;
}

/*
 * The modem for this response: the X-Dialup-Modem header where
 * DialupModemHeader allows it, else the dialup-modem variable if set and
 * valid (either raised to DialupMinRate: the variable may come from a
 * cookie or a header, and a client must not hold a connection for days),
 * else the configuration.  Returns bits per second, 0 for none.
 */
static apr_int64_t dialup_request_rate(request_rec *r,
                                       const dialup_dir_conf_t *conf,
                                       const char *header,
                                       const char **modem)
{
    const char *choice = NULL, *source = NULL;
    apr_int64_t bits = conf->bits_per_sec;

    *modem = conf->modem;
    if (header && conf->modem_header == 1) {
        choice = header;
        source = DIALUP_HEADER_NAME;
    }
    else {
        if (header) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(19112)
                          "dialup: ignoring %s: %s (DialupModemHeader is "
                          "off)", DIALUP_HEADER_NAME, header);
        }
        choice = apr_table_get(r->subprocess_env, DIALUP_ENV_NAME);
        source = DIALUP_ENV_NAME;
    }
    if (choice) {
        if (dialup_resolve(choice, 1, 1, &bits) == 0) {
            const dialup_modem_t *m = dialup_modem_find(choice);
            apr_int64_t min_rate = (conf->min_rate != DIALUP_UNSET)
                                   ? conf->min_rate
                                   : DIALUP_MIN_RATE_DEFAULT;

            *modem = m ? m->name : choice;
            if (bits > 0 && bits < min_rate) {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(19109)
                              "dialup: %s=%s is below DialupMinRate, pacing "
                              "at %" APR_INT64_T_FMT " bit/s",
                              source, choice, min_rate);
                bits = min_rate;
                *modem = apr_psprintf(r->pool, "%" APR_INT64_T_FMT "bit/s",
                                      min_rate);
            }
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(19105)
                          "dialup: ignoring %s=%s: not a modem standard, "
                          "a rate in bits per second or off",
                          source, choice);
            bits = conf->bits_per_sec;
        }
    }
    return bits > 0 ? bits : 0;
}

static int dialup_conn_fd(request_rec *r, apr_int64_t backlog_max);

/*
 * Decide, once, whether the response is paced: a 200 or 206 to a GET or
 * a POST, while the handler runs, at a rate that is not off.  Removes the
 * X-Dialup-Modem header, whatever the decision.  Runs on the handler's
 * thread, when the response's first data passes DIALUP_MODEM (before the
 * headers are written) or, if it bypassed that filter, DIALUP_PACE.
 */
static void dialup_decide(dialup_req_t *ctx)
{
    request_rec *r = ctx->r;
    const char *header, *modem;
    apr_int64_t bits;

    if (ctx->decision != DIALUP_UNDECIDED) {
        return;
    }
    header = apr_table_get(r->headers_out, DIALUP_HEADER_NAME);
    if (!header) {
        header = apr_table_get(r->err_headers_out, DIALUP_HEADER_NAME);
    }
    if (header) {
        header = apr_pstrdup(r->pool, header);
        apr_table_unset(r->headers_out, DIALUP_HEADER_NAME);
        apr_table_unset(r->err_headers_out, DIALUP_HEADER_NAME);
    }
    ctx->decision = DIALUP_PASSED;
    if (!ctx->holding || r->header_only
        || (r->status != HTTP_OK && r->status != HTTP_PARTIAL_CONTENT)) {
        return;
    }
    bits = dialup_request_rate(r, ctx->conf, header, &modem);
    if (bits == 0) {
        return;
    }
    ctx->decision = DIALUP_PACED;
    ctx->modem = modem;
    ctx->pace.bits_per_sec = bits;
    ctx->backlog_max = dialup_pace_backlog_max(&ctx->pace);
    ctx->fd = dialup_conn_fd(r, ctx->backlog_max);
    ctx->sync = (r->connection->master != NULL);
    ctx->flush_max = (apr_int64_t)((double)bits / 8.0
                                   * (double)DIALUP_FLUSH_WAIT
                                   / (double)APR_USEC_PER_SEC);
    ctx->mem_max = (ctx->conf->buffer_memory != DIALUP_UNSET)
                   ? ctx->conf->buffer_memory : DIALUP_BUFFER_MEMORY_DEFAULT;
    ctx->file_max = (ctx->conf->buffer_file != DIALUP_UNSET)
                    ? ctx->conf->buffer_file : DIALUP_BUFFER_FILE_DEFAULT;
    ctx->line_bits = bits;
    ctx->latency = dialup_link_delay(ctx->conf->rtt > 0 ? ctx->conf->rtt : 0,
                                     !r->connection->master
                                     && r->connection->keepalives == 0,
                                     ap_ssl_conn_is_ssl(r->connection));
    if (dialup_store && ctx->conf->line != DIALUP_LINE_REQUEST) {
        const char *key = NULL, *err = NULL;

        if (ctx->conf->line_key) {
            key = ap_expr_str_exec(r, ctx->conf->line_key, &err);
            if (err) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(19117)
                              "dialup: DialupLineKey failed (%s); using "
                              "the client's address", err);
                key = NULL;
            }
        }
        ctx->client_key = (key && *key) ? key : r->useragent_ip;
        ctx->line_key = apr_psprintf(r->pool, "%" APR_INT64_T_FMT " %s",
                                     bits, ctx->client_key);
        ctx->line_want = 1;
        /* (event, worker and prefork number a connection by child and
         * thread: see ID_FROM_CHILD_THREAD in event.c) */
        ctx->proc = (int)((r->connection->master ? r->connection->master
                                                 : r->connection)->id
                          / (dialup_thread_limit > 0 ? dialup_thread_limit
                                                     : 1));
    }
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                  "dialup: pacing the response at %" APR_INT64_T_FMT
                  " bit/s (%s), line %s, latency %" APR_TIME_T_FMT " ms",
                  bits, modem, ctx->line_want ? ctx->client_key
                                              : "per-request",
                  apr_time_as_msec(ctx->latency));
}

/*
 * The DIALUP_MODEM output filter, before the protocol filters: chooses
 * the modem when the response starts (dialup_decide()) and leaves.  Runs
 * on the thread that writes the response.
 */
static apr_status_t dialup_modem_filter(ap_filter_t *f,
                                        apr_bucket_brigade *bb)
{
    dialup_req_t *ctx = f->ctx;

    if (f->r == ctx->r) {
        dialup_decide(ctx);
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/*
 * DIALUP_STRIP: removes X-Dialup-Modem from a response that the module
 * does not pace but could (a HEAD, a DELETE, a location at "off"), so
 * that a backend's header never reaches the client where the module is
 * configured.  Runs on the handler's thread, once.
 */
static apr_status_t dialup_strip_filter(ap_filter_t *f,
                                        apr_bucket_brigade *bb)
{
    apr_table_unset(f->r->headers_out, DIALUP_HEADER_NAME);
    apr_table_unset(f->r->err_headers_out, DIALUP_HEADER_NAME);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static dialup_pulse_e dialup_pulse(dialup_req_t *ctx, apr_time_t now,
                                   int blocking, apr_time_t *wake);
static void dialup_account(dialup_req_t *ctx, apr_bucket_brigade *bb);

/*
 * Pace on the handler's thread until the condition of "until" holds: all
 * that is held has gone (DIALUP_EMPTY), or no more than DialupBufferMemory
 * is held in memory.  Returns APR_SUCCESS, or APR_ECONNABORTED when the
 * client is gone or stalled for Timeout.
 */
typedef enum {
    DIALUP_UNTIL_EMPTY,
    DIALUP_UNTIL_ROOM
} dialup_until_e;

static apr_status_t dialup_wait(dialup_req_t *ctx, dialup_until_e until)
{
    apr_time_t now = apr_time_now();

    for (;;) {
        dialup_pulse_e how = DIALUP_MORE;

        if (now >= ctx->wake) {
            how = dialup_pulse(ctx, now, ctx->sync, &ctx->wake);
        }
        if (how == DIALUP_ABORTED) {
            return APR_ECONNABORTED;
        }
        if (how != DIALUP_MORE
            || (until == DIALUP_UNTIL_ROOM && ctx->mem_held <= ctx->mem_max)) {
            return APR_SUCCESS;
        }
        if (ctx->wake > now) {
            apr_sleep(ctx->wake - now);
        }
        now = apr_time_now();
    }
}

/*
 * The DIALUP_PACE output filter, after the protocol filters.  Runs on the
 * thread of the handler (or of whoever writes the response).  While the
 * handler runs, it holds back everything of a paced response
 * (dialup_decide()) and sends what the schedule allows whenever a pulse
 * is due; anything else (errors, 304, HEAD, a late error page, the
 * response of an internal redirect, whose own handler paces it) passes
 * straight through.
 */
static apr_status_t dialup_pace_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    dialup_req_t *ctx = f->ctx;
    request_rec *r = f->r;
    apr_time_t now;
    apr_int64_t unsent;
    apr_status_t rv;
    int flush, was_empty;

    if (r == ctx->r) {
        dialup_decide(ctx);
    }
    /* The protocol filters may have made it another response since
     * DIALUP_MODEM chose (a 416 for an unsatisfiable Range). */
    if (r == ctx->r && ctx->decision == DIALUP_PACED && !ctx->started
        && r->status != HTTP_OK && r->status != HTTP_PARTIAL_CONTENT) {
        ctx->decision = DIALUP_PASSED;
    }
    if (r != ctx->r || ctx->decision != DIALUP_PACED || !ctx->holding) {
        /* (a handler that suspended itself: what was held goes first,
         * unpaced) */
        if (r == ctx->r && !APR_BRIGADE_EMPTY(ctx->bb)) {
            dialup_account(ctx, ctx->bb);
            APR_BRIGADE_PREPEND(bb, ctx->bb);
        }
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    if (r->connection->aborted) {
        apr_brigade_cleanup(bb);
        return APR_ECONNABORTED;
    }
    ctx->f = f;
    was_empty = (ctx->sent == ctx->total);
    rv = dialup_hold(ctx, bb, &flush);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (ctx->total == ctx->sent && !ctx->eos) {
        return APR_SUCCESS;     /* (only metadata so far) */
    }

    now = apr_time_now();
    if (!ctx->started) {
        /* The first data: the schedule starts now, less the time the
         * request waited for a worker; the first pulse one interval
         * after that start. */
        ctx->started = 1;
        ctx->first = now;
        ctx->pace.start = now - ctx->queued + ctx->latency;
        ctx->progress = now;
        ctx->wake = ctx->latency
                    ? dialup_pace_first(&ctx->pace, DIALUP_SEGMENT)
                    : ctx->pace.start + ctx->pace.pulse;
        apr_pool_cleanup_register(r->pool, ctx, dialup_req_cleanup,
                                  apr_pool_cleanup_null);
        dialup_list(ctx);
    }
    else if (was_empty && ctx->wake == 0) {
        /* The line was idle: new data goes at once, up to a pulse.  But
         * what the request's wait in the server earned is kept through
         * the first pulse interval (the core sends the headers on their
         * own, at once, and the body right after them). */
        if (now - ctx->first >= ctx->pace.pulse) {
            dialup_pace_idle(&ctx->pace, ctx->sent, now);
        }
        ctx->wake = now;
    }
    if (ctx->wake && now >= ctx->wake) {
        if (dialup_pulse(ctx, now, ctx->sync, &ctx->wake) == DIALUP_ABORTED) {
            return APR_ECONNABORTED;
        }
    }

    /* A flush goes before the handler writes more (it is about to wait
     * for its backend, a script, a timer: a stream's next event must not
     * wait for that), unless the response outran DialupBufferMemory and
     * went to the file, and the line would take more than
     * DIALUP_FLUSH_WAIT for it: a download from a backend that has
     * caught up with its proxy, whose backend must not wait for the line.
     * And no more than DialupBufferMemory stays in memory (the buffer
     * file is full or unusable). */
    unsent = ctx->total - ctx->sent;
    if (flush && unsent > 0
        && (ctx->file_held == 0 || unsent <= ctx->flush_max)) {
        rv = dialup_wait(ctx, DIALUP_UNTIL_EMPTY);
    }
    else if (ctx->mem_held > ctx->mem_max) {
        rv = dialup_wait(ctx, DIALUP_UNTIL_ROOM);
    }
    return rv;
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

/* Take what brigade bb (about to be sent) holds off the counts of what is
 * held in memory and in the buffer file. */
static void dialup_account(dialup_req_t *ctx, apr_bucket_brigade *bb)
{
    apr_bucket *e;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        if (dialup_in_memory(e)) {
            ctx->mem_held -= (apr_int64_t)e->length;
        }
        else if (APR_BUCKET_IS_FILE(e)
                 && ((apr_bucket_file *)e->data)->fd == ctx->tmp) {
            ctx->file_held -= (apr_int64_t)e->length;
        }
    }
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
    dialup_account(ctx, ctx->bb);
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

    /* A client that does not keep up leaves its share to the others. */
    dialup_line_leave(ctx, now);
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
 * While the handler runs, the end of what is held is not the end of the
 * response: DIALUP_EMPTY says that all of it went (*wake 0).
 * Returns DIALUP_MORE with *wake set, DIALUP_EMPTY, DIALUP_DONE or
 * DIALUP_ABORTED.
 */
static dialup_pulse_e dialup_pulse(dialup_req_t *ctx, apr_time_t now,
                                   int blocking, apr_time_t *wake)
{
    request_rec *r = ctx->r;
    conn_rec *c = r->connection;
    apr_int64_t n;
    apr_status_t rv;
    int last, final;

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

    if (ctx->line_want) {
        apr_time_t first = dialup_line_update(ctx, now);

        if (first > now) {
            *wake = first;
            return DIALUP_MORE;
        }
    }
    n = dialup_pace_step(&ctx->pace, ctx->total, ctx->sent, now, wake);
    if (ctx->joined && *wake) {
        /* (a newcomer waits until then; the grid may make it a little
         * later) */
        dialup_store->pulsed(dialup_store, ctx->line,
                             *wake + DIALUP_PULSE_GRID);
    }
    /* everything held is due; and the end of the response is there */
    last = (*wake == 0);
    final = last && (ctx->eos || !ctx->holding);
    while (n > 0 || final) {
        /* At most DIALUP_CHUNK_MAX at a time, and no more once the client
         * stops taking data or the kernel queues enough: without blocking,
         * the core output filter then never holds more than that, which
         * keeps it from writing with blocking (it does past
         * FlushMaxThreshold); with blocking, no write waits long for a
         * slow client, whose schedule was held meanwhile. */
        apr_int64_t chunk = (n > DIALUP_CHUNK_MAX) ? DIALUP_CHUNK_MAX : n;
        int end = final && chunk == n;

        rv = dialup_send(ctx, chunk, end, blocking);
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
        if (ctx->joined) {
            dialup_store->sent(dialup_store, ctx->line, chunk);
        }
        if (!blocking) {
            rv = dialup_write_pending(c);
            if (rv != APR_SUCCESS || c->aborted) {
                c->aborted = 1;
                return DIALUP_ABORTED;
            }
            if (c->data_in_output_filters) {
                if (end) {
                    /* All handed over: the MPM writes the rest. */
                    return DIALUP_DONE;
                }
                /* What the schedule allowed but the client could not
                 * take yet goes with a later pulse. */
                *wake = dialup_stall_recheck(ctx, now);
                return DIALUP_MORE;
            }
        }
        if (end) {
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
    if (last) {
        /* (the handler runs on and may write more: until then, the line
         * is the others') */
        dialup_line_leave(ctx, now);
        return DIALUP_EMPTY;
    }
    return DIALUP_MORE;
}

/* The end of a paced response, whatever the outcome: leave the line, drop
 * what was not sent, leave the registry, note the modem, the time, the
 * line and the latency for the access log (%{dialup}n, %{dialup-ms}n,
 * %{dialup-line}n, %{dialup-latency}n).  Same threads as dialup_pulse(). */
static void dialup_finish(dialup_req_t *ctx, dialup_pulse_e how)
{
    request_rec *r = ctx->r;

    apr_time_t now = apr_time_now();

    dialup_line_leave(ctx, now);
    apr_table_setn(r->notes, "dialup", ctx->modem);
    apr_table_setn(r->notes, "dialup-ms",
                   apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                                apr_time_as_msec(now - ctx->first)));
    apr_table_setn(r->notes, "dialup-line",
                   ctx->shared ? ctx->client_key : "per-request");
    apr_table_setn(r->notes, "dialup-latency",
                   apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                                apr_time_as_msec(ctx->latency)));
    if (how == DIALUP_ABORTED) {
        apr_off_t unsent = (apr_off_t)(ctx->total - ctx->sent);

        apr_brigade_cleanup(ctx->bb);
        apr_brigade_cleanup(ctx->rest);
        ctx->mem_held = 0;
        ctx->file_held = 0;
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
 * Pace the rest of a response whose handler has returned on this thread,
 * from the next pulse on.  Runs on the handler's thread.
 */
static void dialup_pace_here(dialup_req_t *ctx)
{
    apr_time_t now = apr_time_now(), wake = ctx->wake;
    dialup_pulse_e how;

    for (;;) {
        if (wake > now) {
            apr_sleep(wake - now);
            now = apr_time_now();
        }
        how = dialup_pulse(ctx, now, 1, &wake);
        if (how != DIALUP_MORE) {
            break;
        }
        now = apr_time_now();
    }
    dialup_finish(ctx, how);
}

/*
 * The DIALUP_UPLINK input filter: hands a request body to the handler at
 * the uplink's rate, a piece at a time, sleeping on the reading thread
 * (the handler's, which waits for the body anyway) until the link would
 * have carried it.  Once the handler has returned, what is left of the
 * body (read by the core to throw it away) passes unpaced, as does
 * anything but a read of the body's bytes.
 */
static apr_status_t dialup_uplink_filter(ap_filter_t *f,
                                         apr_bucket_brigade *bb,
                                         ap_input_mode_t mode,
                                         apr_read_type_e block,
                                         apr_off_t readbytes)
{
    dialup_uplink_t *up = f->ctx;
    apr_time_t now, due;
    apr_off_t len = 0;
    apr_status_t rv;

    if (up->done || (mode != AP_MODE_READBYTES && mode != AP_MODE_GETLINE)) {
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    now = apr_time_now();
    if (!up->started) {
        up->started = 1;
        up->pace.start = now;
    }
    else {
        /* (a handler that paused between reads gets no burst for it) */
        dialup_pace_idle(&up->pace, up->received, now);
    }
    if (mode == AP_MODE_READBYTES && readbytes > up->piece) {
        readbytes = up->piece;
    }
    rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_brigade_length(bb, 1, &len);
    if (len <= 0) {
        return APR_SUCCESS;
    }
    up->received += (apr_int64_t)len;
    due = dialup_pace_time_of(&up->pace, up->received);
    now = apr_time_now();
    if (due > now && !f->c->aborted) {
        apr_interval_time_t wait = due - now;

        /* (never longer than Timeout: a client would have timed out) */
        if (wait > f->r->server->timeout) {
            wait = f->r->server->timeout;
        }
        apr_sleep(wait);
    }
    return APR_SUCCESS;
}

/*
 * Put DIALUP_UPLINK on a request with a body where an uplink rate
 * applies.  Returns its state, or NULL when the body is not paced.  Runs
 * on the handler's thread.
 */
static dialup_uplink_t *dialup_uplink_add(request_rec *r,
                                          const dialup_dir_conf_t *conf)
{
    dialup_uplink_t *up;

    if (conf->up_bits <= 0 || r->prev || !ap_request_has_body(r)) {
        return NULL;
    }
    up = apr_pcalloc(r->pool, sizeof(*up));
    up->pace.bits_per_sec = conf->up_bits;
    up->pace.pulse = DIALUP_UPLINK_PIECE;
    up->piece = (apr_off_t)(conf->up_bits / 8
                            * DIALUP_UPLINK_PIECE / APR_USEC_PER_SEC);
    if (up->piece < 1) {
        up->piece = 1;
    }
    ap_add_input_filter_handle(dialup_uplink_filter_handle, up, r,
                               r->connection);
    return up;
}

/*
 * Content handler, first of all handlers.  Runs on a worker thread; on
 * the asynchronous path it holds r->invoke_mtx (ap_process_async_request()).
 * Where a modem may apply, it runs the handlers itself, with DIALUP_MODEM
 * and DIALUP_PACE in place, and paces what the chosen one wrote.  Never
 * for sub-requests (e.g. an SSI include): they are not paced on their
 * own, and their output is paced with their main request's where that one
 * is.
 */
static int dialup_handler(request_rec *r)
{
    dialup_dir_conf_t *conf;
    dialup_rconf_t *rconf;
    dialup_uplink_t *up;
    dialup_req_t *ctx;
    apr_time_t now;
    int status;

    /* (a sub-request's headers never leave) */
    if (r->main) {
        return DECLINED;
    }
    /* Our own ap_run_handler() below comes back here first. */
    if (ap_get_module_config(r->request_config, &dialup_module)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &dialup_module);
    rconf = apr_pcalloc(r->pool, sizeof(*rconf));
    up = rconf->up = dialup_uplink_add(r, conf);
    if (r->header_only
        || (r->method_number != M_GET && r->method_number != M_POST)
        || (conf->bits_per_sec <= 0 && conf->modem_header != 1
            && !apr_table_get(r->subprocess_env, DIALUP_ENV_NAME))) {
        if (conf->bits_per_sec != DIALUP_UNSET
            || conf->modem_header != DIALUP_UNSET
            || apr_table_get(r->subprocess_env, DIALUP_ENV_NAME)) {
            ap_add_output_filter_handle(dialup_strip_filter_handle, NULL, r,
                                        r->connection);
        }
        if (!up) {
            return DECLINED;
        }
        /* Only the body is paced: run the handlers here, so as to know
         * when the one that reads it is done. */
        ap_set_module_config(r->request_config, &dialup_module, rconf);
        status = ap_run_handler(r);
        up->done = 1;
        return status;
    }

    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->r = r;
    ctx->conf = conf;
    ctx->fd = -1;
    ctx->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ctx->rest = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ctx->pace.pulse = DIALUP_PULSE_INTERVAL;
    /* (before the response's headers, which count this request) */
    now = apr_time_now();
    ctx->queued = now - dialup_request_arrival(r,
                                               r->connection->keepalives == 0,
                                               now);
    APR_RING_ELEM_INIT(ctx, link);
    ctx->line = -1;
    rconf->req = ctx;
    ap_set_module_config(r->request_config, &dialup_module, rconf);

    ap_add_output_filter_handle(dialup_modem_filter_handle, ctx, r,
                                r->connection);
    ap_add_output_filter_handle(dialup_pace_filter_handle, ctx, r,
                                r->connection);
    ctx->holding = 1;
    status = ap_run_handler(r);
    if (up) {
        up->done = 1;
    }
    if (status == SUSPENDED) {
        /* Another module's: its callbacks write the rest, unpaced, from
         * another thread once this one has returned (the MPM orders the
         * two); r is no longer ours to touch after this. */
        ctx->holding = 0;
        return SUSPENDED;
    }
    /* What ap_rputs() and friends keep in the OLD_WRITE filter, and the
     * EOS, come only when the core finalizes the request: have them now,
     * while they are held (unless an internal redirect answered). */
    if ((status == OK || status == DONE) && ctx->decision != DIALUP_PASSED
        && !r->next && !r->eos_sent) {
        ap_finalize_request_protocol(r);
    }
    ctx->holding = 0;
    if (ctx->decision != DIALUP_PACED || !ctx->started) {
        return status;
    }
    if (r->connection->aborted) {
        dialup_finish(ctx, DIALUP_ABORTED);
        return status;
    }
    if (APR_BRIGADE_EMPTY(ctx->bb)) {
        dialup_finish(ctx, DIALUP_DONE);
        return status;
    }
    if (ctx->wake == 0) {
        ctx->wake = apr_time_now();
    }

#if defined(AP_MPMQ_CAN_SUSPEND) && APR_HAS_THREADS
    if ((status == OK || status == DONE) && dialup_can_suspend(r)) {
        apr_time_t wake;
        apr_status_t rv;

        /* A pulse must not wait for the rest of a request body. */
        if (r->method_number == M_POST && ap_discard_request_body(r) != OK) {
            r->connection->keepalive = AP_CONN_CLOSE;
        }
        now = apr_time_now();
        wake = dialup_pace_align(ctx->wake > now ? ctx->wake : now,
                                 DIALUP_PULSE_GRID);
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

    /* Pace the rest on this thread, from the pulse that was due next. */
    dialup_pace_here(ctx);
    return status;
}

/* One row of the status table, copied out of the registry. */
typedef struct dialup_status_row_t {
    const char *client;
    const char *modem;
    const char *request;
    apr_int64_t sent;
    apr_int64_t total;
    apr_int64_t mem_held;
    apr_int64_t file_held;
} dialup_status_row_t;

/* The most lines that server-status lists. */
#define DIALUP_STATUS_LINES 200

/*
 * The lines in use, for all children (server-status, in full).  Runs on
 * the status request's thread.
 */
static void dialup_status_lines(request_rec *r)
{
    dialup_line_row_t *rows;
    int used, size, n, i;

    if (!dialup_store) {
        return;
    }
    rows = apr_palloc(r->pool, DIALUP_STATUS_LINES * sizeof(*rows));
    n = dialup_store->list(dialup_store, rows, DIALUP_STATUS_LINES, &used,
                           &size);
    ap_rprintf(r, "<hr />\n<h2>mod_dialup lines</h2>\n<p>%d of %d client "
               "lines in use (all processes)%s</p>\n", used, size,
               used > n ? apr_psprintf(r->pool, ", the first %d:", n) : "");
    if (n == 0) {
        return;
    }
    ap_rputs("<table>\n<tr><th>Client</th><th>Line (bit/s)</th>"
             "<th>Downloads</th><th>Bytes sent</th><th>Each (bit/s)</th>"
             "</tr>\n", r);
    for (i = 0; i < n; i++) {
        /* (the store's key is "RATE CLIENT") */
        const char *client = strchr(rows[i].key, ' ');

        ap_rprintf(r, "<tr><td>%s</td><td>%" APR_INT64_T_FMT "</td><td>%u"
                   "</td><td>%" APR_INT64_T_FMT "</td><td>%" APR_INT64_T_FMT
                   "</td></tr>\n",
                   ap_escape_html(r->pool, client ? client + 1 : rows[i].key),
                   rows[i].bits, (unsigned)rows[i].active, rows[i].bytes,
                   dialup_line_share(rows[i].bits, rows[i].active));
    }
    ap_rputs("</table>\n", r);
}

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
    apr_int64_t mem_held = 0, file_held = 0;
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
            rows[n].mem_held = ctx->mem_held;
            rows[n].file_held = ctx->file_held;
            mem_held += ctx->mem_held;
            file_held += ctx->file_held;
        }
    }
    else {
        for (ctx = APR_RING_FIRST(&dialup_active);
             ctx != APR_RING_SENTINEL(&dialup_active, dialup_req_t, link);
             ctx = APR_RING_NEXT(ctx, link)) {
            mem_held += ctx->mem_held;
            file_held += ctx->file_held;
        }
        n = dialup_active_count;
    }
    apr_thread_mutex_unlock(dialup_active_mtx);

    /* Pacing may be configured in .htaccess files only, which
     * dialup_configured does not know of: say something whenever a
     * download is paced, here or (a line in use) in another child. */
    if (!dialup_configured && n == 0) {
        int used = 0, size;

        if (dialup_store) {
            dialup_store->list(dialup_store, NULL, 0, &used, &size);
        }
        if (used == 0) {
            return OK;
        }
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "DialupActive: %d\n"
                   "DialupHeldMemory: %" APR_INT64_T_FMT "\n"
                   "DialupHeldFile: %" APR_INT64_T_FMT "\n",
                   n, mem_held, file_held);
        if (dialup_store) {
            int used, size;

            dialup_store->list(dialup_store, NULL, 0, &used, &size);
            ap_rprintf(r, "DialupLinesUsed: %d\nDialupLinesTotal: %d\n",
                       used, size);
        }
        return OK;
    }
    ap_rprintf(r, "<hr />\n<h2>mod_dialup</h2>\n<p>%d paced download%s "
               "in this process (pid %" APR_PID_T_FMT ")%s</p>\n",
               n, n == 1 ? "" : "s", getpid(), dialup_mpm_can_suspend
               ? ", suspended between pulses" : "");
    ap_rprintf(r, "<p>Held ahead of the line: %" APR_INT64_T_FMT " bytes in "
               "memory, %" APR_INT64_T_FMT " bytes in buffer files</p>\n",
               mem_held, file_held);
    if (n == 0) {
        dialup_status_lines(r);
        return OK;
    }
    ap_rputs("<table>\n<tr><th>Client</th><th>Modem</th>"
             "<th>Sent</th><th>Total</th><th>Held in memory</th>"
             "<th>Held in file</th><th>Request</th></tr>\n", r);
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%" APR_INT64_T_FMT
                   "</td><td>%" APR_INT64_T_FMT "</td><td>%" APR_INT64_T_FMT
                   "</td><td>%" APR_INT64_T_FMT "</td><td>%s</td></tr>\n",
                   ap_escape_html(r->pool, rows[i].client),
                   ap_escape_html(r->pool, rows[i].modem), rows[i].sent,
                   rows[i].total, rows[i].mem_held, rows[i].file_held,
                   ap_escape_html(r->pool, rows[i].request));
    }
    ap_rputs("</table>\n", r);
    dialup_status_lines(r);
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

    if (apr_temp_dir_get(&dialup_temp_dir, pconf) != APR_SUCCESS) {
        dialup_temp_dir = NULL;
    }

    /* (not in the first pass over the configuration, which only checks
     * it: the table would be made for nothing) */
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &dialup_thread_limit)
        != APR_SUCCESS || dialup_thread_limit < 1) {
        dialup_thread_limit = 1;
    }
    dialup_store = NULL;
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        dialup_store = dialup_shm_post_config(pconf, s, dialup_lines_n);
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

/* pre_config, in the parent: reset what the previous generation's
 * config set; register the line table's mutex. */
static int dialup_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    dialup_configured = 0;
    dialup_lines_n = DIALUP_LINES_DEFAULT;
    dialup_store = NULL;
    if (dialup_shm_pre_config(pconf) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* child_status, in the parent: a child that exited leaves no count
 * behind on the lines (it may have been killed with downloads in
 * flight). */
static void dialup_child_status(server_rec *s, pid_t pid, ap_generation_t gen,
                                int slot, mpm_child_status state)
{
    if (state == MPM_CHILD_EXITED && slot >= 0 && dialup_store) {
        dialup_store->gone(dialup_store, slot, apr_time_now());
    }
}

/* child_init: attach the line table's mutex. */
static void dialup_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (dialup_store) {
        dialup_shm_child_init(pchild, s);
    }
}

static void dialup_register_hooks(apr_pool_t *p)
{
    /* Before every other handler, which it runs itself; mod_cache's
     * handler (CacheQuickHandler off) is REALLY_FIRST too, and what it
     * serves from the cache is paced like the rest. */
    static const char *const succ[] = { "mod_cache.c", NULL };

    ap_hook_handler(dialup_handler, NULL, succ, APR_HOOK_REALLY_FIRST);
    ap_hook_pre_config(dialup_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(dialup_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(dialup_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_status(dialup_child_status, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, dialup_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
    /* Before the protocol filters, which write the headers; after the
     * content filters (mod_deflate, mod_include: what they make is what is
     * paced). */
    dialup_modem_filter_handle =
        ap_register_output_filter("DIALUP_MODEM", dialup_modem_filter, NULL,
                                  AP_FTYPE_PROTOCOL - 1);
    dialup_strip_filter_handle =
        ap_register_output_filter("DIALUP_STRIP", dialup_strip_filter, NULL,
                                  AP_FTYPE_PROTOCOL - 1);
    /* Between the protocol's input filter (HTTP_IN, which takes off the
     * chunking) and the handler: it paces the body's own bytes. */
    dialup_uplink_filter_handle =
        ap_register_input_filter("DIALUP_UPLINK", dialup_uplink_filter, NULL,
                                 AP_FTYPE_CONTENT_SET);
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
                  "The lowest rate that the dialup-modem variable or the "
                  "X-Dialup-Modem header may choose, a modem standard or "
                  "bits per second (default 300, V.21)"),
    AP_INIT_TAKE1("DialupBufferMemory", dialup_set_buffer, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "The most of a response held in memory ahead of the line, "
                  "in bytes (K, M or G suffix; default 32K)"),
    AP_INIT_TAKE1("DialupBufferFile", dialup_set_buffer, (void *)1,
                  RSRC_CONF | ACCESS_CONF,
                  "The most of a response written to its temporary file "
                  "beyond DialupBufferMemory, in bytes (K, M or G suffix; "
                  "default 64M, 0 for none)"),
    AP_INIT_TAKE1("DialupBufferDir", dialup_set_buffer_dir, NULL, RSRC_CONF,
                  "The directory of the temporary files of buffered "
                  "responses (default: the system's, e.g. /tmp)"),
    AP_INIT_FLAG("DialupModemHeader", dialup_set_modem_header, NULL,
                 RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                 "Whether an X-Dialup-Modem response header from the handler "
                 "or a backend may choose the modem (default off)"),
    AP_INIT_TAKE1("DialupLink", dialup_set_link, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "The link to emulate, downlink, uplink and round trip: a "
                  "modem standard (V.21 ... V.92, ISDN, ISDN-2B), a profile "
                  "(3G, Slow-4G, Fast-4G, GPRS, Regular-2G, ..., Wi-Fi, "
                  "Lighthouse, Dial, 3GSlow), or off"),
    AP_INIT_TAKE1("DialupUplink", dialup_set_uplink, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "The rate at which request bodies are read, in bits per "
                  "second (e.g. 48k), or off"),
    AP_INIT_TAKE1("DialupLatency", dialup_set_latency, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "The link's round-trip time before a paced response's "
                  "first byte (e.g. 150ms; a bare number is milliseconds), "
                  "or off"),
    AP_INIT_TAKE1("DialupLine", dialup_set_line, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "per-client (default): a client's paced responses share "
                  "one line; per-request: each response has its own"),
    AP_INIT_TAKE1("DialupLineKey", dialup_set_line_key, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "An expression whose value names the client's line "
                  "(default: the client's address)"),
    AP_INIT_TAKE1("DialupLines", dialup_set_lines, NULL, RSRC_CONF,
                  "How many client lines the server keeps at once (default "
                  "16384)"),
    {NULL}
};

AP_DECLARE_MODULE(dialup) = {
    STANDARD20_MODULE_STUFF,
    dialup_create_dir_config,   /* create per-directory config */
    dialup_merge_dir_config,    /* merge per-directory config */
    dialup_create_server_config, /* create per-server config */
    dialup_merge_server_config, /* merge per-server config */
    dialup_cmds,                /* command table */
    dialup_register_hooks       /* register hooks */
};
