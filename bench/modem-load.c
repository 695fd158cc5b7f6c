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
 * With -S ADDR/BITS, each connection comes from its own loopback source
 * address (bind() before connect()): connection i (counted from -I) uses
 * ADDR + i / K, K being -K (1 by default), so that K downloads share one
 * address, as the K downloads of one client behind one modem do, and N
 * connections are N / K clients for a server that keys its lines on the
 * client address.  ADDR/BITS bounds the range (127.1.0.0/16: 65,536
 * addresses); every 127.x.y.z is local on Linux's loopback, no setup
 * needed.  Each client's figures (its bytes over the time from its first
 * request to its last byte) then go into PREFIX.clients.
 *
 * All times are CLOCK_MONOTONIC microseconds, comparable across the
 * client processes that bench/run starts side by side and with its
 * sampler.  Nothing here judges a figure: bench/report.py does (it reads
 * the client column of PREFIX.conns, since one client's connections may
 * be in two processes' files); the summary line only prints them.
 *
 * Output (-o PREFIX):
 *   PREFIX.conns   one line per connection:
 *                  id probe result errno t_start t_conn t_req t_first
 *                  t_done status body wire client
 *                  (result: ok, short, http, connfail, reset, timeout,
 *                  sockfail; times -1 when the event did not happen;
 *                  client: the source address, "-" without -S)
 *   PREFIX.clients with -S, one line per client (source address):
 *                  client conns ok t_req_first t_done_last body wire
 *                  wire_per_s
 *                  (t_done_last and wire_per_s -1 unless all its
 *                  connections ended "ok")
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
    int client;                 /* index into the clients, -1 without -S */
} ml_conn_t;

/* One client (source address) with -S: its connections' totals. */
typedef struct ml_client_t {
    unsigned long addr;         /* host byte order */
    int conns, ok;
    long long t_req_first, t_done_last;
    long long body, wire;
} ml_client_t;

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
            "          [-S ADDR/BITS [-K K] [-R RATE]]\n"
            "  -p PORT      server port on 127.0.0.1\n"
            "  -n N         connections to open\n"
            "  -u PATH      request path (default /)\n"
            "  -o PREFIX    write PREFIX.conns and PREFIX.probes\n"
            "  -b BATCH     connections opened per tick (default 100)\n"
            "  -i MS        time between ticks (default 20)\n"
            "  -P PROBES    connections that record every read (default 0)\n"
            "  -t SECONDS   hard deadline after the start (default 180)\n"
            "  -s START_US  CLOCK_MONOTONIC microseconds to start at\n"
            "  -I ID_BASE   number of the first connection (default 0)\n"
            "  -S ADDR/BITS source address of connection i: ADDR + i / K,"
            " within\n"
            "               ADDR/BITS (e.g. 127.1.0.0/16; i counts from"
            " ID_BASE)\n"
            "  -K K         connections per source address (default 1)\n"
            "  -R RATE      line rate in bytes/s for the per-client summary"
            "\n", ml_prog);
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

/*
 * Bind socket fd to source address addr (host byte order), port 0.
 * Where the system has IP_BIND_ADDRESS_NO_PORT (Linux 4.2), the port is
 * chosen at connect() from the whole 4-tuple rather than now for the
 * address alone, which is cheaper with thousands of sockets.  Returns -1
 * (errno set) on failure, else 0.
 */
static int ml_bind_source(int fd, unsigned long addr)
{
    struct sockaddr_in src;

#ifdef IP_BIND_ADDRESS_NO_PORT
    {
        int one = 1;

        /* Only an optimisation: a kernel without it still binds. */
        (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                         sizeof(one));
    }
#endif
    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_port = 0;
    src.sin_addr.s_addr = htonl((in_addr_t)addr);
    return bind(fd, (struct sockaddr *)&src, sizeof(src));
}

/*
 * Parse -S's ADDR/BITS (BITS 0..32, 32 when left out): the source
 * addresses run from ADDR to the last one of the ADDR/BITS network.
 * Sets *addr (host byte order) and *count.  Returns -1 on a bad value,
 * else 0.
 */
static int ml_parse_range(const char *arg, unsigned long *addr,
                          unsigned long *count)
{
    char a[INET_ADDRSTRLEN];
    const char *slash = strchr(arg, '/');
    size_t len = slash ? (size_t)(slash - arg) : strlen(arg);
    struct in_addr in;
    unsigned long mask, last;
    char *end;
    long bits = 32;

    if (len == 0 || len >= sizeof(a)) {
        return -1;
    }
    memcpy(a, arg, len);
    a[len] = '\0';
    if (inet_pton(AF_INET, a, &in) != 1) {
        return -1;
    }
    if (slash) {
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || bits < 0 || bits > 32) {
            return -1;
        }
    }
    *addr = (unsigned long)ntohl(in.s_addr);
    /* (A shift by 32 is undefined: /0 is the whole space.) */
    mask = bits ? (0xffffffffUL << (32 - bits)) & 0xffffffffUL : 0;
    last = (*addr & mask) | (~mask & 0xffffffffUL);
    *count = last - *addr + 1;
    return 0;
}

static int ml_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * With -S: add up each client's connections, write PREFIX.clients (when
 * prefix is set) and print one summary line on stderr: the clients
 * whose connections all ended "ok", and of those, wire bytes over the
 * time from the client's first request to its last byte, the most,
 * median and least, against rate (bytes/s) when it is > 0.
 */
static void ml_clients_report(const ml_conn_t *conns, int n,
                              ml_client_t *cl, int ncl, long long rate,
                              const char *prefix)
{
    double *per_s;
    int i, complete = 0, worst = -1;
    double worst_r = 0;
    FILE *f = NULL;
    char fn[4096];

    for (i = 0; i < ncl; i++) {
        cl[i].t_req_first = cl[i].t_done_last = -1;
    }
    for (i = 0; i < n; i++) {
        const ml_conn_t *c = &conns[i];
        ml_client_t *k;

        if (c->client < 0) {
            continue;
        }
        k = &cl[c->client];
        k->conns++;
        k->body += c->body;
        k->wire += c->wire;
        if (c->t_req >= 0
            && (k->t_req_first < 0 || c->t_req < k->t_req_first)) {
            k->t_req_first = c->t_req;
        }
        if (c->result && !strcmp(c->result, "ok")) {
            k->ok++;
            if (c->t_done > k->t_done_last) {
                k->t_done_last = c->t_done;
            }
        }
    }
    per_s = malloc((size_t)(ncl > 0 ? ncl : 1) * sizeof(*per_s));
    if (!per_s) {
        ml_die("out of memory");
    }
    if (prefix) {
        snprintf(fn, sizeof(fn), "%s.clients", prefix);
        f = fopen(fn, "w");
        if (!f) {
            ml_die("%s: %s", fn, strerror(errno));
        }
        fprintf(f, "# client conns ok t_req_first t_done_last body wire "
                "wire_per_s\n");
    }
    for (i = 0; i < ncl; i++) {
        ml_client_t *k = &cl[i];
        struct in_addr in;
        char a[INET_ADDRSTRLEN];
        double r = -1;

        if (k->conns == 0) {
            continue;
        }
        if (k->ok == k->conns && k->t_done_last > k->t_req_first) {
            r = (double)k->wire * 1e6
                / (double)(k->t_done_last - k->t_req_first);
            if (worst < 0 || r > worst_r) {
                worst = i;
                worst_r = r;
            }
            per_s[complete++] = r;
        }
        if (f) {
            in.s_addr = htonl((in_addr_t)k->addr);
            inet_ntop(AF_INET, &in, a, sizeof(a));
            fprintf(f, "%s %d %d %lld %lld %lld %lld %.1f\n", a, k->conns,
                    k->ok, k->t_req_first,
                    k->ok == k->conns ? k->t_done_last : -1LL, k->body,
                    k->wire, r);
        }
    }
    if (f && fclose(f) != 0) {
        ml_die("%s: %s", fn, strerror(errno));
    }
    fprintf(stderr, "%s: %d clients, %d complete", ml_prog, ncl, complete);
    if (complete > 0) {
        struct in_addr in;
        char a[INET_ADDRSTRLEN];

        qsort(per_s, (size_t)complete, sizeof(*per_s), ml_cmp_double);
        in.s_addr = htonl((in_addr_t)cl[worst].addr);
        inet_ntop(AF_INET, &in, a, sizeof(a));
        fprintf(stderr, "; bytes/s from the first request to the last "
                "byte: most %.0f (%s), median %.0f, least %.0f",
                per_s[complete - 1], a, per_s[(complete - 1) / 2],
                per_s[0]);
        if (rate > 0) {
            fprintf(stderr, " (x%.4f / x%.4f / x%.4f of %lld)",
                    per_s[complete - 1] / (double)rate,
                    per_s[(complete - 1) / 2] / (double)rate,
                    per_s[0] / (double)rate, rate);
        }
    }
    fputc('\n', stderr);
    free(per_s);
}

int main(int argc, char **argv)
{
    const char *path = "/", *prefix = NULL;
    int port = 0, n = 0, batch = 100, interval_ms = 20, probes = 0;
    int timeout_s = 180, id_base = 0, opt, ep, i, opened = 0;
    int finished = 0, nreq, per_client = 1, nclients = 0;
    long long start = 0, deadline, next_tick, now, rate = 0;
    unsigned long src_addr = 0, src_count = 0, first_client = 0;
    const char *src_range = NULL;
    ml_client_t *clients = NULL;
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

    while ((opt = getopt(argc, argv, "p:n:u:o:b:i:P:t:s:I:S:K:R:h")) != -1) {
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
        case 'S': src_range = optarg; break;
        case 'K': per_client = atoi(optarg); break;
        case 'R': rate = atoll(optarg); break;
        default: ml_usage();
        }
    }
    if (port <= 0 || port > 65535 || n <= 0 || batch <= 0
        || interval_ms < 0 || probes < 0 || timeout_s <= 0 || id_base < 0
        || per_client <= 0 || rate < 0) {
        ml_usage();
    }
    if (src_range) {
        unsigned long last_client;

        if (ml_parse_range(src_range, &src_addr, &src_count) < 0) {
            ml_die("-S %s: not an IPv4 ADDR/BITS (e.g. 127.1.0.0/16)",
                   src_range);
        }
        /* The clients of connections id_base .. id_base + n - 1. */
        first_client = (unsigned long)id_base / (unsigned long)per_client;
        last_client = ((unsigned long)id_base + (unsigned long)n - 1)
                      / (unsigned long)per_client;
        if (last_client >= src_count) {
            ml_die("-S %s holds %lu addresses; connections %d to %d at %d "
                   "per address need %lu", src_range, src_count, id_base,
                   id_base + n - 1, per_client, last_client + 1);
        }
        nclients = (int)(last_client - first_client + 1);
        clients = calloc((size_t)nclients, sizeof(*clients));
        if (!clients) {
            ml_die("out of memory");
        }
        for (i = 0; i < nclients; i++) {
            clients[i].addr = src_addr + first_client + (unsigned long)i;
        }
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
        c->client = clients ? (int)(((unsigned long)id_base
                                     + (unsigned long)i)
                                    / (unsigned long)per_client
                                    - first_client) : -1;
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
                if (c->client >= 0 && ml_bind_source(fd, clients[c->client]
                                                         .addr) < 0) {
                    ml_finish(ep, c, "sockfail", errno, c->t_start);
                    finished++;
                    continue;
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
                "t_done status body wire client\n");
        for (i = 0; i < n; i++) {
            ml_conn_t *c = &conns[i];
            char a[INET_ADDRSTRLEN] = "-";

            if (c->client >= 0) {
                struct in_addr in;

                in.s_addr = htonl((in_addr_t)clients[c->client].addr);
                inet_ntop(AF_INET, &in, a, sizeof(a));
            }
            fprintf(f, "%d %d %s %d %lld %lld %lld %lld %lld %d %lld %lld "
                    "%s\n", id_base + i, c->probe != NULL, c->result,
                    c->err, c->t_start, c->t_conn, c->t_req, c->t_first,
                    c->t_done, c->status, c->body, c->wire, a);
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
    if (clients) {
        ml_clients_report(conns, n, clients, nclients, rate, prefix);
    }
    return 0;
}
