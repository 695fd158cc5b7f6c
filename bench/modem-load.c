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
 * modem-load: many slow downloads of one URL at once, for bench/run.
 * Benchmark only, never installed.
 *
 * One process, one thread, one epoll set.  It opens N connections to
 * 127.0.0.1:PORT, BATCH at a time every INTERVAL ms, sends one
 * "GET PATH HTTP/1.1" with "Connection: close" on each, and reads the
 * whole response.  Every connection gets a record: when connect() was
 * called, when it completed, when the request went out, when the first
 * and the last byte came, how many bytes (body and wire), and how it
 * ended.  PROBES of the connections, spread evenly over the N, also
 * record every read() (time and body bytes so far), so that the caller
 * can see how smooth the delivery was.
 *
 * All times are CLOCK_MONOTONIC microseconds, comparable across the
 * client processes that bench/run starts side by side and with its
 * sampler.  Nothing here judges a figure: bench/report.py does.
 *
 * Output (-o PREFIX):
 *   PREFIX.conns   one line per connection:
 *                  id probe result errno t_start t_conn t_req t_first
 *                  t_done status body wire
 *                  (result: ok, short, http, connfail, reset, timeout,
 *                  sockfail; times -1 when the event did not happen)
 *   PREFIX.probes  one line per read of a probe connection:
 *                  id t body_so_far
 *   PREFIX.rusage  the CPU seconds this process used: user system
 * and one summary line on stderr.
 *
 * Every run is bounded: at the deadline (-t seconds after the start)
 * the connections still open are closed and recorded as "timeout".
 */

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes of response head kept per connection; the rest of a longer head
 * is counted but not parsed. */
#define ML_HEAD_MAX 1024

/* Samples kept per probe connection (a 70 kB file at 7 kB/s in 200 ms
 * pulses is about 60 reads). */
#define ML_PROBE_SAMPLES 16384

#define ML_READ_BUF 65536
#define ML_EVENTS 1024

typedef enum {
    ML_IDLE,                    /* not opened yet */
    ML_CONNECTING,
    ML_READING,
    ML_DONE                     /* finished, result set */
} ml_state_e;

typedef struct ml_probe_t {
    long long *t;
    long long *bytes;
    int count;
} ml_probe_t;

typedef struct ml_conn_t {
    int fd;
    ml_state_e state;
    const char *result;
    int err;
    int status;
    long long t_start, t_conn, t_req, t_first, t_done;
    long long body, wire;
    long long content_length;   /* -1 until the head is parsed */
    int head_len;               /* bytes of head collected */
    int head_done;
    ml_probe_t *probe;
    char *head;                 /* ML_HEAD_MAX bytes, until head_done */
} ml_conn_t;

static const char *ml_prog = "modem-load";

static void ml_die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", ml_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* Monotonic time in microseconds. */
static long long ml_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void ml_usage(void)
{
    fprintf(stderr,
            "usage: %s -p PORT -n N [-u PATH] [-o PREFIX] [-b BATCH]\n"
            "          [-i INTERVAL_MS] [-P PROBES] [-t TIMEOUT_S]"
            " [-s START_US] [-I ID_BASE]\n"
            "  -p PORT      server port on 127.0.0.1\n"
            "  -n N         connections to open\n"
            "  -u PATH      request path (default /)\n"
            "  -o PREFIX    write PREFIX.conns and PREFIX.probes\n"
            "  -b BATCH     connections opened per tick (default 100)\n"
            "  -i MS        time between ticks (default 20)\n"
            "  -P PROBES    connections that record every read (default 0)\n"
            "  -t SECONDS   hard deadline after the start (default 180)\n"
            "  -s START_US  CLOCK_MONOTONIC microseconds to start at\n"
            "  -I ID_BASE   number of the first connection (default 0)\n",
            ml_prog);
    exit(2);
}

/* Finish a connection: record the result, close the socket. */
static void ml_finish(int ep, ml_conn_t *c, const char *result, int err,
                      long long now)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->state = ML_DONE;
    c->result = result;
    c->err = err;
    if (c->t_done < 0) {
        c->t_done = now;
    }
    free(c->head);
    c->head = NULL;
}

/* Case-insensitive search for a header line start in the head. */
static long long ml_content_length(const char *head, int len)
{
    static const char name[] = "\ncontent-length:";
    int i, j, n = (int)sizeof(name) - 1;

    for (i = 0; i + n <= len; i++) {
        for (j = 0; j < n; j++) {
            char ch = head[i + j];

            if (ch >= 'A' && ch <= 'Z') {
                ch = (char)(ch - 'A' + 'a');
            }
            if (ch != name[j]) {
                break;
            }
        }
        if (j == n) {
            return strtoll(head + i + n, NULL, 10);
        }
    }
    return -1;
}

/*
 * Take n bytes of the response: collect and parse the head, count the
 * body.  Returns the number of body bytes among the n.
 */
static long long ml_take(ml_conn_t *c, const char *buf, long long n)
{
    long long i;

    if (c->head_done) {
        return n;
    }
    for (i = 0; i < n; i++) {
        if (c->head_len < ML_HEAD_MAX - 1) {
            c->head[c->head_len] = buf[i];
        }
        c->head_len++;
        if (c->head_len >= 4 && c->head_len < ML_HEAD_MAX - 1
            && !memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4)) {
            c->head[c->head_len] = '\0';
            c->head_done = 1;
            c->status = (c->head_len > 12) ? atoi(c->head + 9) : 0;
            c->content_length = ml_content_length(c->head, c->head_len);
            return n - i - 1;
        }
    }
    return 0;
}

static void ml_record(ml_conn_t *c, long long now)
{
    ml_probe_t *p = c->probe;

    if (p && p->count < ML_PROBE_SAMPLES) {
        p->t[p->count] = now;
        p->bytes[p->count] = c->body;
        p->count++;
    }
}

int main(int argc, char **argv)
{
    const char *path = "/", *prefix = NULL;
    int port = 0, n = 0, batch = 100, interval_ms = 20, probes = 0;
    int timeout_s = 180, id_base = 0, opt, ep, i, opened = 0;
    int finished = 0, nreq;
    long long start = 0, deadline, next_tick, now;
    struct sockaddr_in sa;
    struct epoll_event evs[ML_EVENTS];
    struct rlimit rl;
    char *buf, req[512];
    ml_conn_t *conns;
    int counts[8];
    static const char *names[8] = {
        "ok", "short", "http", "connfail", "reset", "timeout", "sockfail",
        NULL
    };

    while ((opt = getopt(argc, argv, "p:n:u:o:b:i:P:t:s:I:h")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'n': n = atoi(optarg); break;
        case 'u': path = optarg; break;
        case 'o': prefix = optarg; break;
        case 'b': batch = atoi(optarg); break;
        case 'i': interval_ms = atoi(optarg); break;
        case 'P': probes = atoi(optarg); break;
        case 't': timeout_s = atoi(optarg); break;
        case 's': start = atoll(optarg); break;
        case 'I': id_base = atoi(optarg); break;
        default: ml_usage();
        }
    }
    if (port <= 0 || port > 65535 || n <= 0 || batch <= 0
        || interval_ms < 0 || probes < 0 || timeout_s <= 0) {
        ml_usage();
    }
    if (probes > n) {
        probes = n;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0
        && (long long)rl.rlim_cur < (long long)n + 16) {
        fprintf(stderr, "%s: warning: %d connections but only %lld file "
                "descriptors; the rest will fail (sockfail)\n", ml_prog, n,
                (long long)rl.rlim_cur);
    }

    conns = calloc((size_t)n, sizeof(*conns));
    buf = malloc(ML_READ_BUF);
    if (!conns || !buf) {
        ml_die("out of memory");
    }
    for (i = 0; i < n; i++) {
        ml_conn_t *c = &conns[i];

        c->fd = -1;
        c->t_start = c->t_conn = c->t_req = c->t_first = c->t_done = -1;
        c->content_length = -1;
    }
    /* Probes spread evenly over the ramp: the first, the last and those
     * between. */
    for (i = 0; i < probes; i++) {
        int k = (probes == 1) ? 0 : (int)((long long)i * (n - 1)
                                          / (probes - 1));
        ml_probe_t *p = calloc(1, sizeof(*p));

        if (!p) {
            ml_die("out of memory");
        }
        p->t = malloc(ML_PROBE_SAMPLES * sizeof(*p->t));
        p->bytes = malloc(ML_PROBE_SAMPLES * sizeof(*p->bytes));
        if (!p->t || !p->bytes) {
            ml_die("out of memory");
        }
        conns[k].probe = p;
    }

    nreq = snprintf(req, sizeof(req),
                    "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    "User-Agent: modem-load\r\nConnection: close\r\n\r\n",
                    path, port);
    if (nreq <= 0 || nreq >= (int)sizeof(req)) {
        ml_die("path too long");
    }

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        ml_die("epoll_create1: %s", strerror(errno));
    }

    now = ml_now();
    if (start > now) {
        struct timespec ts;
        long long d = start - now;

        ts.tv_sec = d / 1000000;
        ts.tv_nsec = (d % 1000000) * 1000;
        nanosleep(&ts, NULL);
    }
    start = ml_now();
    deadline = start + (long long)timeout_s * 1000000;
    next_tick = start;

    while (finished < n) {
        int timeout_ms, nev;

        now = ml_now();
        if (now >= deadline) {
            break;
        }
        /* Open the next batch when its tick has come. */
        while (opened < n && now >= next_tick) {
            int end = opened + batch < n ? opened + batch : n;

            for (; opened < end; opened++) {
                ml_conn_t *c = &conns[opened];
                struct epoll_event ev;
                int fd, rc;

                c->t_start = ml_now();
                fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK
                                     | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                    ml_finish(ep, c, "sockfail", errno, c->t_start);
                    finished++;
                    continue;
                }
                c->fd = fd;
                c->head = malloc(ML_HEAD_MAX);
                if (!c->head) {
                    ml_die("out of memory");
                }
                rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
                if (rc < 0 && errno != EINPROGRESS) {
                    ml_finish(ep, c, "connfail", errno, c->t_start);
                    finished++;
                    continue;
                }
                c->state = ML_CONNECTING;
                ev.events = EPOLLOUT;
                ev.data.ptr = c;
                if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                    ml_finish(ep, c, "sockfail", errno, c->t_start);
                    finished++;
                    continue;
                }
            }
            next_tick += (long long)interval_ms * 1000;
        }

        if (opened < n) {
            timeout_ms = (int)((next_tick - now + 999) / 1000);
        }
        else {
            timeout_ms = (int)((deadline - now + 999) / 1000);
        }
        if (timeout_ms < 0) {
            timeout_ms = 0;
        }
        nev = epoll_wait(ep, evs, ML_EVENTS, timeout_ms);
        if (nev < 0) {
            if (errno == EINTR) {
                continue;
            }
            ml_die("epoll_wait: %s", strerror(errno));
        }
        for (i = 0; i < nev; i++) {
            ml_conn_t *c = evs[i].data.ptr;

            /* Per event: a batch of reads can take a while on a busy
             * machine, and a probe's timestamps must not run early. */
            now = ml_now();

            if (c->state == ML_CONNECTING) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                struct epoll_event ev;
                ssize_t w;

                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
                    soerr = errno;
                }
                if (soerr) {
                    ml_finish(ep, c, "connfail", soerr, now);
                    finished++;
                    continue;
                }
                c->t_conn = now;
                w = write(c->fd, req, (size_t)nreq);
                if (w != nreq) {
                    ml_finish(ep, c, "reset", w < 0 ? errno : EIO, now);
                    finished++;
                    continue;
                }
                c->t_req = ml_now();
                c->state = ML_READING;
                ev.events = EPOLLIN;
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                ml_record(c, c->t_req);
            }
            else if (c->state == ML_READING) {
                ssize_t r = read(c->fd, buf, ML_READ_BUF);

                now = ml_now();

                if (r > 0) {
                    if (c->t_first < 0) {
                        c->t_first = now;
                    }
                    c->wire += r;
                    c->body += ml_take(c, buf, r);
                    ml_record(c, now);
                    if (c->head_done && c->content_length >= 0
                        && c->body >= c->content_length) {
                        c->t_done = now;
                        ml_finish(ep, c, (c->status == 200) ? "ok" : "http",
                                  0, now);
                        finished++;
                        }
                }
                else if (r == 0) {
                    const char *how;

                    if (!c->head_done) {
                        how = "reset";
                    }
                    else if (c->status != 200) {
                        how = "http";
                    }
                    else if (c->content_length < 0) {
                        how = "ok";     /* delimited by the close */
                    }
                    else {
                        how = "short";
                    }
                    ml_finish(ep, c, how, 0, now);
                    finished++;
                }
                else if (errno != EAGAIN && errno != EINTR) {
                    ml_finish(ep, c, "reset", errno, now);
                    finished++;
                }
            }
        }
    }

    /* The deadline: whatever is still open or never opened timed out. */
    now = ml_now();
    for (i = 0; i < n; i++) {
        if (conns[i].state != ML_DONE) {
            ml_finish(ep, &conns[i], "timeout", 0, now);
            conns[i].t_done = -1;
        }
    }

    memset(counts, 0, sizeof(counts));
    for (i = 0; i < n; i++) {
        int k;

        for (k = 0; names[k]; k++) {
            if (!strcmp(conns[i].result, names[k])) {
                counts[k]++;
                break;
            }
        }
    }

    if (prefix) {
        char fn[4096];
        FILE *f;

        snprintf(fn, sizeof(fn), "%s.conns", prefix);
        f = fopen(fn, "w");
        if (!f) {
            ml_die("%s: %s", fn, strerror(errno));
        }
        fprintf(f, "# id probe result errno t_start t_conn t_req t_first "
                "t_done status body wire\n");
        for (i = 0; i < n; i++) {
            ml_conn_t *c = &conns[i];

            fprintf(f, "%d %d %s %d %lld %lld %lld %lld %lld %d %lld %lld\n",
                    id_base + i, c->probe != NULL, c->result, c->err,
                    c->t_start, c->t_conn, c->t_req, c->t_first, c->t_done,
                    c->status, c->body, c->wire);
        }
        if (fclose(f) != 0) {
            ml_die("%s: %s", fn, strerror(errno));
        }

        snprintf(fn, sizeof(fn), "%s.probes", prefix);
        f = fopen(fn, "w");
        if (!f) {
            ml_die("%s: %s", fn, strerror(errno));
        }
        fprintf(f, "# id t body_so_far\n");
        for (i = 0; i < n; i++) {
            ml_probe_t *p = conns[i].probe;
            int k;

            for (k = 0; p && k < p->count; k++) {
                fprintf(f, "%d %lld %lld\n", id_base + i, p->t[k],
                        p->bytes[k]);
            }
        }
        if (fclose(f) != 0) {
            ml_die("%s: %s", fn, strerror(errno));
        }
    }

    if (prefix) {
        char fn[4096];
        struct rusage ru;
        FILE *f;

        snprintf(fn, sizeof(fn), "%s.rusage", prefix);
        f = fopen(fn, "w");
        if (f && getrusage(RUSAGE_SELF, &ru) == 0) {
            fprintf(f, "%.3f %.3f\n", ru.ru_utime.tv_sec
                    + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec
                    + ru.ru_stime.tv_usec / 1e6);
        }
        if (f) {
            fclose(f);
        }
    }

    fprintf(stderr, "%s: %d connections:", ml_prog, n);
    for (i = 0; names[i]; i++) {
        if (counts[i]) {
            fprintf(stderr, " %s=%d", names[i], counts[i]);
        }
    }
    fprintf(stderr, " (%.1f s)\n", (double)(now - start) / 1e6);
    return 0;
}
