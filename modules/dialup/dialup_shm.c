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
 * The store of lines that mod_dialup uses by default (dialup_store.h): a
 * table of DialupLines lines (dialup_line.c) in anonymous shared memory
 * that the parent makes and every child inherits, plus a global mutex
 * for making new lines.
 *
 * Why this layout rather than mod_slotmem_shm: a transfer reads its
 * line's count at every pulse and changes it when it joins or leaves, so
 * those must not take a lock (thousands of pulses a second, from every
 * child); slotmem gives slots and a lock around their use, not atomic
 * words, and would add a provider module to load.  Only making a line for
 * a new key takes the mutex, so that two children never make two lines
 * of one client.
 *
 * The memory belongs to the process pool, not to a generation's pconf:
 * a graceful restart keeps the table, and the new children share the
 * lines of the downloads that the old ones still serve.  Each child's
 * share of every count is kept too: when a child exits, the parent takes
 * off what it had not left (a child killed or crashed with downloads in
 * flight), so no count outlives its transfers.  When no child is left (a
 * first start, a restart that stopped them all), every count is reset.
 */

#include "httpd.h"
#include "http_log.h"
#include "ap_mpm.h"
#include "scoreboard.h"
#include "util_mutex.h"

#include "apr_atomic.h"
#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "dialup_shm.h"

#if APR_HAVE_UNISTD_H
#include <unistd.h>
#endif
#include <signal.h>             /* kill() */

APLOG_USE_MODULE(dialup);

/* How long a line whose transfers all left keeps its key before another
 * client may take it over: none.  A line holds no state but its count,
 * so a client whose line was taken just gets another one. */
#define DIALUP_SHM_KEEP 0

/* The key under which the process pool keeps the table across
 * generations (the module's own memory is unloaded at each restart). */
#define DIALUP_SHM_USERDATA "mod_dialup: lines"
#define DIALUP_SHM_MUTEX "dialup-lines"

typedef struct dialup_shm_t {
    dialup_lines_t *lines;
    apr_global_mutex_t *mutex;
    /* 1 once "table full" was logged; 0 again after a line was made */
    volatile apr_uint32_t full_logged;
    /* 1 once a failure to lock was logged */
    volatile apr_uint32_t lock_logged;
    server_rec *s;
} dialup_shm_t;

static dialup_shm_t dialup_shm;

/* Any thread.  See dialup_store_t.join. */
static int dialup_shm_join(const dialup_store_t *st, const char *key,
                           apr_int64_t bits, int proc, apr_time_t now)
{
    dialup_shm_t *sh = st->data;
    apr_status_t rv;
    int i;

    i = dialup_lines_join(sh->lines, key, proc);
    if (i >= 0) {
        return i;
    }
    rv = apr_global_mutex_lock(sh->mutex);
    if (rv != APR_SUCCESS) {
        if (apr_atomic_cas32(&sh->lock_logged, 1, 0) == 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, sh->s, APLOGNO(19114)
                         "dialup: cannot lock the line table; new clients "
                         "are paced per request (said once per process)");
        }
        return -1;
    }
    i = dialup_lines_claim(sh->lines, key, now, DIALUP_SHM_KEEP, proc);
    if (i >= 0) {
        apr_atomic_set64(&sh->lines->slot[i].bits, (apr_uint64_t)bits);
    }
    apr_global_mutex_unlock(sh->mutex);
    if (i < 0) {
        if (apr_atomic_cas32(&sh->full_logged, 1, 0) == 0) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sh->s, APLOGNO(19113)
                         "dialup: line table full (DialupLines %u): new "
                         "clients are paced per request until a line is "
                         "free (said once until then)",
                         (unsigned)sh->lines->n);
        }
    }
    else if (apr_atomic_read32(&sh->full_logged)) {
        apr_atomic_set32(&sh->full_logged, 0);
    }
    return i;
}

/* Any thread.  See dialup_store_t.leave. */
static void dialup_shm_leave(const dialup_store_t *st, int line, int proc,
                             apr_time_t now)
{
    dialup_shm_t *sh = st->data;

    dialup_lines_leave(sh->lines, line, now, proc);
}

/* The parent, when a child has exited.  See dialup_store_t.gone. */
static void dialup_shm_gone(const dialup_store_t *st, int proc,
                            apr_time_t now)
{
    dialup_shm_t *sh = st->data;
    apr_uint32_t n = dialup_lines_forget(sh->lines, proc, now);

    if (n > 0) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sh->s, APLOGNO(19118)
                     "dialup: the child in slot %d left %u download%s on "
                     "its lines when it exited; taken off", proc,
                     (unsigned)n, n == 1 ? "" : "s");
    }
}

/* Any thread.  See dialup_store_t.active. */
static apr_uint32_t dialup_shm_active(const dialup_store_t *st, int line)
{
    dialup_shm_t *sh = st->data;
    apr_uint32_t n = dialup_lines_active(sh->lines, line);

    return n ? n : 1;
}

/* Any thread.  See dialup_store_t.pulsed. */
static void dialup_shm_pulsed(const dialup_store_t *st, int line,
                              apr_time_t when)
{
    dialup_shm_t *sh = st->data;

    dialup_lines_pulsed(sh->lines, line, when);
}

/* Any thread.  See dialup_store_t.horizon. */
static apr_time_t dialup_shm_horizon(const dialup_store_t *st, int line)
{
    dialup_shm_t *sh = st->data;

    return dialup_lines_horizon(sh->lines, line);
}

/* Any thread.  See dialup_store_t.sent. */
static void dialup_shm_sent(const dialup_store_t *st, int line,
                            apr_int64_t bytes)
{
    dialup_shm_t *sh = st->data;

    dialup_lines_sent(sh->lines, line, bytes);
}

/* Any thread (server-status).  See dialup_store_t.list.  The copy is not
 * atomic: a line taken over meanwhile may show a mix of two clients, which
 * is harmless for a status page. */
static int dialup_shm_list(const dialup_store_t *st, dialup_line_row_t *rows,
                           int max, int *used, int *size)
{
    dialup_shm_t *sh = st->data;
    dialup_lines_t *t = sh->lines;
    apr_uint32_t i;
    int n = 0;

    *used = 0;
    *size = (int)t->n;
    for (i = 0; i < t->n; i++) {
        apr_uint32_t active = dialup_lines_active(t, (int)i);

        if (active == 0) {
            continue;
        }
        (*used)++;
        if (n < max) {
            dialup_line_t *s = &t->slot[i];

            memcpy(rows[n].key, s->key, sizeof(rows[n].key));
            rows[n].key[sizeof(rows[n].key) - 1] = '\0';
            rows[n].bits = (apr_int64_t)apr_atomic_read64(&s->bits);
            rows[n].bytes = (apr_int64_t)apr_atomic_read64(&s->bytes);
            rows[n].active = active;
            n++;
        }
    }
    return n;
}

static const dialup_store_t dialup_shm_store = {
    "shm",
    &dialup_shm,
    dialup_shm_join,
    dialup_shm_leave,
    dialup_shm_gone,
    dialup_shm_active,
    dialup_shm_pulsed,
    dialup_shm_horizon,
    dialup_shm_sent,
    dialup_shm_list
};

/* Whether a child process of the server may still be alive (one that
 * serves downloads of a generation before a graceful restart).  Parent,
 * post_config. */
static int dialup_shm_children_alive(void)
{
    int limit = 0, i;

    if (!ap_scoreboard_image
        || ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < limit; i++) {
        pid_t pid = ap_scoreboard_image->parent[i].pid;

        if (pid > 0 && kill(pid, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

apr_status_t dialup_shm_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, DIALUP_SHM_MUTEX, NULL,
                             APR_LOCK_DEFAULT, 0);
}

const dialup_store_t *dialup_shm_post_config(apr_pool_t *pconf,
                                             server_rec *s, apr_uint32_t n)
{
    apr_pool_t *pproc = s->process->pool;
    apr_shm_t *shm = NULL;
    apr_status_t rv;
    void *data = NULL;
    int procs = 0;
    apr_size_t size;

    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &procs) != APR_SUCCESS
        || procs < 0) {
        procs = 0;
    }
    size = dialup_lines_size(n, (apr_uint32_t)procs);
    dialup_shm.s = s;
    dialup_shm.lines = NULL;
    dialup_shm.mutex = NULL;
    dialup_shm.full_logged = 0;
    dialup_shm.lock_logged = 0;

    apr_pool_userdata_get(&data, DIALUP_SHM_USERDATA, pproc);
    shm = data;
    if (shm && apr_shm_size_get(shm) != size) {
        /* DialupLines changed: a new table (children of the old
         * generation keep their mapping of the old one). */
        apr_shm_destroy(shm);
        shm = NULL;
    }
    if (!shm) {
        rv = apr_shm_create(&shm, size, NULL, pproc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(19115)
                         "dialup: cannot make shared memory for %u lines "
                         "(%" APR_SIZE_T_FMT " bytes): every download is "
                         "paced on its own", (unsigned)n, size);
            apr_pool_userdata_set(NULL, DIALUP_SHM_USERDATA,
                                  apr_pool_cleanup_null, pproc);
            return NULL;
        }
        dialup_lines_init(apr_shm_baseaddr_get(shm), n, (apr_uint32_t)procs);
        apr_pool_userdata_set(shm, DIALUP_SHM_USERDATA,
                              apr_pool_cleanup_null, pproc);
    }
    else if (!dialup_shm_children_alive()) {
        /* (a table just made is all zero already: a reset would touch
         * every per-process count, 16 MB for prefork's 256 children) */
        dialup_lines_reset(apr_shm_baseaddr_get(shm), apr_time_now());
    }
    dialup_shm.lines = apr_shm_baseaddr_get(shm);

    rv = ap_global_mutex_create(&dialup_shm.mutex, NULL, DIALUP_SHM_MUTEX,
                                NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        /* (ap_global_mutex_create() logged why) */
        dialup_shm.lines = NULL;
        return NULL;
    }
    return &dialup_shm_store;
}

void dialup_shm_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!dialup_shm.mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&dialup_shm.mutex,
                                     apr_global_mutex_lockfile(
                                         dialup_shm.mutex), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(19116)
                     "dialup: cannot attach the line table's mutex in this "
                     "child");
    }
}
