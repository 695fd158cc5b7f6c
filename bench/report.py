#!/usr/bin/env python3
# Licensed to the Apache Software Foundation (ASF) under one or more
# contributor license agreements.  See the NOTICE file distributed with
# this work for additional information regarding copyright ownership.
# The ASF licenses this file to You under the Apache License, Version 2.0
# (the "License"); you may not use this file except in compliance with
# the License.  You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Turns one bench/run results folder into results.md and PNG plots.

    report.py RESULTS_DIR

Reads RESULTS_DIR/meta.env and, per run, runs/SERVER-N/: run.env,
client*.conns and client*.probes (modem-load), sample and sample.status
(sample.py), lateness*.txt (mod_timer_lateness, project only) and
error_log; for the proxied kinds (SERVER-proxy) also backend.log and
backend_error_log (the backend's lines written during that run) and
sample.peer (its connections, sample.py --peer-port).  Writes RESULTS_DIR/results.md, RESULTS_DIR/*.png (gnuplot)
and the data behind the plots in RESULTS_DIR/plot/.  Standard library
only; prints the table on stdout too.

A folder of bench/run --lines (mode=lines in meta.env) has its runs in
runs/SERVER-CLIENTSxK/, with the source address of each connection in
client*.conns; for it, report.py writes RESULTS_DIR/lines.md instead:
each client's bytes over its time against the line, and the resources.
"""

import glob
import os
import re
import statistics
import subprocess
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")
ORDER = ["dialup", "nginx", "apache", "apache400",
         "dialup-proxy", "nginx-proxy", "apache-proxy"]
LABEL = {
    "dialup": "httpd+mod_dialup (this project)",
    "nginx": "nginx limit_rate",
    "apache": "apache2 mod_ratelimit, thread/download",
    "apache400": "apache2 mod_ratelimit, 400 threads",
    "dialup-proxy": "httpd+mod_dialup, mod_proxy_http",
    "nginx-proxy": "nginx limit_rate, proxy_pass",
    "apache-proxy": "apache2 mod_ratelimit, mod_proxy_http",
}
SHORT = {
    "dialup": "mod_dialup",
    "nginx": "nginx",
    "apache": "apache2 ratelimit",
    "apache400": "apache2 ratelimit 400 thr",
    "dialup-h2": "mod_dialup over h2c",
    "dialup-proxy": "mod_dialup proxied",
    "nginx-proxy": "nginx proxied",
    "apache-proxy": "apache2 ratelimit proxied",
}
# Each proxied kind and the static kind with the same server and pacing.
STATIC_OF = {"dialup-proxy": "dialup", "nginx-proxy": "nginx",
             "apache-proxy": "apache"}


def read_env(path):
    env = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    env[k] = v
    return env


def pct(values, p):
    """The p-th percentile (nearest rank) of sorted values."""
    if not values:
        return None
    k = max(0, min(len(values) - 1, int(round(p / 100.0 * len(values))) - 1))
    return values[k]


def fmt(v, spec="%.1f", none="-"):
    return none if v is None else spec % v


def load_run(d, rate, size):
    env = read_env(os.path.join(d, "run.env"))
    r = {"env": env, "dir": d}
    if env.get("failed_to_start"):
        r["failed_to_start"] = True
        return r
    conns = []
    for fn in sorted(glob.glob(os.path.join(d, "client*.conns"))):
        with open(fn) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                p = line.split()
                conns.append({
                    "id": int(p[0]), "probe": p[1] == "1", "result": p[2],
                    "errno": int(p[3]), "t_start": int(p[4]),
                    "t_conn": int(p[5]), "t_req": int(p[6]),
                    "t_first": int(p[7]), "t_done": int(p[8]),
                    "status": int(p[9]), "body": int(p[10]),
                    "wire": int(p[11]),
                    # -S (bench/run --lines): the source address.
                    "client": p[12] if len(p) > 12 else "-",
                })
    probes = {}
    for fn in sorted(glob.glob(os.path.join(d, "client*.probes"))):
        with open(fn) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                i, t, b = (int(x) for x in line.split())
                probes.setdefault(i, []).append((t, b))
    n = int(env.get("n", len(conns)))
    r["n"] = n
    r["conns"] = conns
    ok = [c for c in conns if c["result"] == "ok" and c["body"] == size]
    r["ok"] = len(ok)
    fails = {}
    for c in conns:
        if not (c["result"] == "ok" and c["body"] == size):
            key = c["result"] if c["result"] != "ok" else "size"
            fails[key] = fails.get(key, 0) + 1
    missing = n - len(conns)
    if missing > 0:
        fails["noclient"] = missing
    r["fails"] = fails
    t0 = min((c["t_start"] for c in conns if c["t_start"] > 0), default=0)
    r["t0"] = t0
    times = sorted((c["t_done"] - c["t_start"]) / 1e6 for c in ok)
    r["times"] = times
    if times:
        r["tmin"], r["tmax"] = times[0], times[-1]
        r["tmean"] = statistics.fmean(times)
        errs = [size / t / rate - 1.0 for t in times]
        r["err_mean"] = statistics.fmean(errs)
        r["err_worst"] = max(errs, key=abs)
    ttfb = sorted((c["t_first"] - c["t_start"]) / 1e6 for c in conns
                  if c["t_first"] > 0)
    r["ttfb_p50"] = pct(ttfb, 50)
    r["ttfb_max"] = ttfb[-1] if ttfb else None
    r["client_cpu"] = 0.0
    for fn in glob.glob(os.path.join(d, "client*.rusage")):
        with open(fn) as f:
            r["client_cpu"] += sum(float(x) for x in f.read().split())
    r["wire"] = sum(c["wire"] for c in conns)

    # Probes: largest gap between two reads, and how far ahead of (lead)
    # or behind (lag) the ideal curve rate * (t - t_start) the bytes were,
    # just after a read (lead) and just before one (lag).
    # The steady state: from when every download had its first byte (the
    # ramp is over) to the first completion (no connection closes yet).
    starts = {c["id"]: c for c in conns}
    firsts = [c["t_first"] for c in conns if c["t_first"] > 0]
    dones = [c["t_done"] for c in ok]
    steady = (max(firsts), min(dones)) if firsts and dones else None
    gaps, leads, lags, curves = [], [], [], {}
    steady_gap = None
    for i, samples in probes.items():
        c = starts.get(i)
        if not c or c["t_start"] <= 0:
            continue
        reads = [(t, b) for t, b in samples[1:]]
        prev_b = 0
        lead = lag = 0.0
        gap = 0.0
        prev_t = None
        for t, b in reads:
            el = (t - c["t_start"]) / 1e6
            lead = max(lead, b / rate - el)
            lag = max(lag, el - prev_b / rate)
            if prev_t is not None:
                gap = max(gap, (t - prev_t) / 1e3)
                if steady and steady[0] <= prev_t and t <= steady[1]:
                    steady_gap = max(steady_gap or 0.0, (t - prev_t) / 1e3)
            prev_t, prev_b = t, b
        if reads:
            gaps.append(gap)
            leads.append(lead * 1e3)
            lags.append(lag * 1e3)
            curves[i] = [((t - c["t_start"]) / 1e6, b) for t, b in samples]
    r["gap_max"] = max(gaps) if gaps else None
    r["gap_p50"] = statistics.median(gaps) if gaps else None
    r["gap_steady"] = steady_gap
    r["lead_max"] = max(leads) if leads else None
    r["lag_max"] = max(lags) if lags else None
    r["curves"] = curves
    load_server(d, r, t0, n)
    return load_backend(d, r, size)


def load_backend(d, r, size):
    """Adds to r, and returns it, what run folder d holds of the backend
    (the proxied kinds only): its access log lines of this run,
    "msec request_time status body_bytes connection connection_requests
    request", its error-level lines, its CPU (run.env) and the
    connections to it that sample.py listed (sample.peer)."""
    bl = os.path.join(d, "backend.log")
    if not os.path.exists(bl):
        return r
    busy, conns, ok, most = [], set(), 0, 0
    with open(bl, errors="replace") as f:
        for line in f:
            p = line.split()
            if len(p) < 6:
                continue
            try:
                busy.append(float(p[1]) * 1e3)
                conns.add(p[4])
                most = max(most, int(p[5]))
                if p[2] == "200" and int(p[3]) == size:
                    ok += 1
            except ValueError:
                continue
    busy.sort()
    b = {"requests": len(busy), "ok": ok, "conns": len(conns),
         "most_per_conn": most}
    if busy:
        b["busy_mean"] = statistics.fmean(busy)
        b["busy_p50"] = pct(busy, 50)
        b["busy_p99"] = pct(busy, 99)
        b["busy_max"] = busy[-1]
    ticks = r["env"].get("backend_cpu_ticks")
    if ticks and ticks.lstrip("-").isdigit():
        b["cpu_s"] = int(ticks) / CLK_TCK
    # The connections to the backend: the most open at once, the most
    # with response bytes the proxy had not read (Recv-Q > 0), and that
    # count integrated over time per request: how long, on the average,
    # a response sat unread in the proxy's socket, its backend connection
    # taken (at the sampling's resolution, 1 s).
    peer = []
    pp = os.path.join(d, "sample.peer")
    if os.path.exists(pp):
        with open(pp) as f:
            for line in f:
                p = line.split()
                if len(p) == 4 and all(x.isdigit() for x in p):
                    peer.append([int(x) for x in p])
    if peer:
        b["open_peak"] = max(x[1] for x in peer)
        b["unread_peak"] = max(x[2] for x in peer)
        held = 0.0
        for a, c in zip(peer, peer[1:]):
            held += a[2] * (c[0] - a[0]) / 1e6
        b["unread_s_per_req"] = held / len(busy) if busy else None
    b["log_errors"] = []
    el = os.path.join(d, "backend_error_log")
    if os.path.exists(el):
        with open(el, errors="replace") as f:
            for line in f:
                if re.search(r"\[(error|crit|alert|emerg)\]", line):
                    b["log_errors"].append(line.rstrip())
    r["backend"] = b
    return r


def load_server(d, r, t0, n):
    """Adds to r, and returns it, what run folder d holds from the server
    side: sample.py's samples from t0 on (the first connect(), monotonic
    us), with r["wire"] bytes received by the n clients; server-status;
    timer lateness; error-level lines of the error log."""
    # Server processes.
    samples = []
    sp = os.path.join(d, "sample")
    if os.path.exists(sp):
        with open(sp) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                p = [int(x) for x in line.split()]
                if len(p) >= 5:
                    samples.append(p + [0] * (7 - len(p)))
    r["samples"] = samples
    if samples:
        before = [s for s in samples if s[0] <= t0] or samples[:1]
        base = before[-1]
        end = samples[-1]
        r["cpu_s"] = (end[4] - base[4]) / CLK_TCK
        r["cpu_ms_mb"] = (r["cpu_s"] * 1e3 / (r["wire"] / 1e6)
                          if r["wire"] else None)
        r["rss_idle_mb"] = base[2] / 1024.0
        r["rss_peak_mb"] = max(s[2] for s in samples) / 1024.0
        r["rss_per_conn_kb"] = ((max(s[2] for s in samples) - base[2]) / n
                                if n else None)
        r["threads_peak"] = max(s[3] for s in samples)
        r["procs_peak"] = max(s[1] for s in samples)
        # The whole machine over the same window: busy cores, and what was
        # neither the server nor our clients.
        wall = (end[0] - base[0]) / 1e6
        if wall > 0 and end[6] > base[6]:
            cores = int(read_env(os.path.join(os.path.dirname(d), "..",
                                              "meta.env"))
                        .get("host_cores", os.cpu_count() or 1))
            busy = (end[5] - base[5]) / (end[6] - base[6]) * cores
            r["busy_cores"] = busy
            r["server_cores"] = r["cpu_s"] / wall
            r["others_cores"] = max(0.0, busy - r["server_cores"]
                                    - r["client_cpu"] / wall)

    status = []
    st = os.path.join(d, "sample.status")
    if os.path.exists(st):
        with open(st) as f:
            for line in f:
                p = line.split()
                kv = dict(x.split("=", 1) for x in p[1:] if "=" in x)
                status.append((int(p[0]), kv))
    r["status"] = status

    def peak(key):
        vals = [float(kv[key]) for _, kv in status
                if key in kv and "error" not in kv]
        return max(vals) if vals else None
    r["busy_peak"] = peak("BusyWorkers")
    r["susp_peak"] = peak("ConnsAsyncSuspended")
    r["conns_peak"] = peak("ConnsTotal") or peak("Activeconnections")
    r["status_errors"] = sum(1 for _, kv in status if "error" in kv)
    # What mod_dialup held per paced response in the child that answered,
    # at the sample where that was most (DialupHeld* / DialupActive).
    held = [(float(kv["DialupHeldMemory"]), float(kv.get("DialupHeldFile", 0)),
             float(kv["DialupActive"])) for _, kv in status
            if float(kv.get("DialupActive", 0)) > 0
            and "DialupHeldMemory" in kv]
    if held:
        m = max(held)
        r["held_per_resp"] = (m[0] / m[2] / 1024.0, m[1] / m[2] / 1024.0)

    # Timer lateness under the load (project only).
    lat, early, pids, fired = [], 0, set(), 0
    for fn in sorted(glob.glob(os.path.join(d, "lateness*.txt"))):
        with open(fn) as f:
            lines = f.read().split("\n")
        if not lines or not lines[0].startswith("fired="):
            continue
        m = re.search(r"early=(\d+)", lines[0])
        early += int(m.group(1)) if m else 0
        for line in lines[1:]:
            if line.startswith("pid="):
                pids.add(line[4:])
            elif line.strip().lstrip("-").isdigit():
                lat.append(int(line))
    lat.sort()
    if lat:
        r["lat"] = (pct(lat, 50) / 1e3, pct(lat, 99) / 1e3, lat[-1] / 1e3,
                    len(lat), early, len(pids))

    # Error log: lines at error level or worse.
    r["log_errors"] = []
    el = os.path.join(d, "error_log")
    if os.path.exists(el):
        with open(el, errors="replace") as f:
            for line in f:
                if re.search(r"(:|\[)(error|crit|alert|emerg)\]", line):
                    r["log_errors"].append(line.rstrip())
    return r


def load_h2_run(d, rate, size):
    """One dialup-h2 run: h2load's per-request log and summary instead of
    modem-load's records, then the server side as for the others."""
    env = read_env(os.path.join(d, "run.env"))
    r = {"env": env, "dir": d}
    if env.get("failed_to_start"):
        r["failed_to_start"] = True
        return r
    n = int(env.get("n", 0))
    r["n"] = n
    # Epoch (h2load) to monotonic (sample.py) microseconds.
    offset = int(env.get("clock_offset_us", 0))
    reqs = []
    lp = os.path.join(d, "h2load.log")
    if os.path.exists(lp):
        with open(lp) as f:
            for line in f:
                p = line.split()
                if len(p) >= 3:
                    reqs.append((int(p[0]) - offset, int(p[1]), int(p[2])))
    summary, wire, data = {}, 0, None
    op = os.path.join(d, "h2load.out")
    if os.path.exists(op):
        with open(op) as f:
            for line in f:
                if line.startswith("requests:"):
                    for m in re.finditer(r"(\d+) (\w+)", line):
                        summary[m.group(2)] = int(m.group(1))
                elif line.startswith("traffic:"):
                    m = re.search(r"\((\d+)\) total", line)
                    wire = int(m.group(1)) if m else 0
                    m = re.search(r"\((\d+)\) data", line)
                    data = int(m.group(1)) if m else None
    ok = [q for q in reqs if q[1] == 200]
    r["summary"] = summary
    r["logged"] = len(reqs)
    r["ok"] = len(ok)
    r["data"] = data
    r["wire"] = wire
    t0 = min((q[0] for q in reqs), default=0)
    r["t0"] = t0
    times = sorted(q[2] / 1e6 for q in ok)
    r["times"] = times
    ideal = size / float(rate)
    if times:
        r["tmin"], r["tmax"] = times[0], times[-1]
        r["tp50"], r["tp90"] = pct(times, 50), pct(times, 90)
        r["tmean"] = statistics.fmean(times)
        r["on_time"] = sum(1 for t in times if t <= ideal * 1.05)
    # A paced stream's schedule starts when its handler runs (an HTTP/2
    # stream has no socket to say when the request came in), so it was
    # being served during the last `ideal` seconds before its end: the
    # most such intervals that overlap is how many streams the server
    # served at once.  The last 95 % of them, so that a few ms of the
    # client's lateness in seeing an end do not count the stream that
    # took over its worker as one more.
    ev = []
    for q in ok:
        end = q[0] + q[2]
        ev.append((end - int(ideal * 0.95e6), 1))
        ev.append((end, -1))
    cur = most = 0
    for _, step in sorted(ev):
        cur += step
        most = max(most, cur)
    r["at_once"] = most if ev else None
    r["client_cpu"] = 0.0
    for fn in glob.glob(os.path.join(d, "client*.rusage")):
        with open(fn) as f:
            r["client_cpu"] += sum(float(x) for x in f.read().split())
    load_server(d, r, t0, n)
    # mod_http2's worker limits, as each child logged them (http2:info).
    r["h2_workers"] = set()
    el = os.path.join(d, "error_log")
    if os.path.exists(el):
        with open(el, errors="replace") as f:
            for line in f:
                m = re.search(r"h2_workers: created with min=(\d+) "
                              r"max=(\d+)", line)
                if m:
                    r["h2_workers"].add((int(m.group(1)), int(m.group(2))))
    return r


def fails_text(r):
    total = sum(r["fails"].values())
    if not total:
        return "0"
    parts = ", ".join("%s %d" % (k, v) for k, v in sorted(r["fails"].items()))
    return "%d (%s)" % (total, parts)


def gnuplot(script, cwd):
    try:
        with open(os.path.join(cwd, "gnuplot.log"), "a") as log:
            subprocess.run(["gnuplot"], input=script.encode(), cwd=cwd,
                           check=True, stdout=subprocess.DEVNULL, stderr=log)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print("report.py: gnuplot failed: %s" % e, file=sys.stderr)
        return False


def plots(res, runs, rate, size, meta):
    pd = os.path.join(res, "plot")
    os.makedirs(pd, exist_ok=True)
    term = 'set terminal pngcairo size 800,480 font "sans,10" noenhanced\n'
    servers = [s for s in ORDER if any(k[0] == s for k in runs)]
    made = []
    if not servers:
        return made

    # Completion time and peak threads against N.
    for s in servers:
        with open(os.path.join(pd, "%s.byn" % s), "w") as f:
            for (sv, n), r in sorted(runs.items(), key=lambda x: x[0][1]):
                if sv != s or "tmean" not in r:
                    continue
                f.write("%d %.3f %.3f %.3f %d %.1f %.1f\n" % (
                    n, r["tmean"], r["tmin"], r["tmax"],
                    r.get("threads_peak", 0), r.get("cpu_ms_mb") or 0,
                    r.get("rss_per_conn_kb") or 0))
    lines = ", ".join(
        "'%s.byn' using 1:2:3:4 with yerrorlines lw 2 title '%s'"
        % (s, SHORT[s]) for s in servers)
    if gnuplot(term + "set output '../completion.png'\n"
               "set title 'Completion time of a %d-byte download at %d B/s "
               "(mean, min-max)'\n"
               "set xlabel 'concurrent downloads N'\n"
               "set ylabel 'seconds'\nset grid\nset key top left\n"
               "set yrange [0:*]\n"
               "set arrow from graph 0, first %g to graph 1, first %g nohead "
               "dt 2\n"
               "plot %s\n" % (size, rate, size / rate, size / rate, lines),
               pd):
        made.append("completion.png")
    lines = ", ".join("'%s.byn' using 1:5 with linespoints lw 2 title '%s'"
                      % (s, SHORT[s]) for s in servers)
    if gnuplot(term + "set output '../threads.png'\n"
               "set title 'Peak server threads (all processes)'\n"
               "set xlabel 'concurrent downloads N'\n"
               "set ylabel 'threads'\nset logscale y\nset grid\n"
               "set key top left\nplot %s\n" % lines, pd):
        made.append("threads.png")
    lines1 = ", ".join("'%s.byn' using 1:6 with linespoints lw 2 title '%s'"
                       % (s, SHORT[s]) for s in servers)
    lines2 = ", ".join("'%s.byn' using 1:7 with linespoints lw 2 title '%s'"
                       % (s, SHORT[s]) for s in servers)
    if gnuplot(term + "set output '../efficiency.png'\n"
               "set multiplot layout 1,2\nset grid\nset key top right\n"
               "set xlabel 'N'\nset xtics 5000\n"
               "set title 'server CPU ms per MB delivered'\n"
               "set yrange [0:*]\nplot %s\n"
               "set title 'server RSS per connection (KB)'\nplot %s\n"
               "unset multiplot\n" % (lines1, lines2), pd):
        made.append("efficiency.png")

    # Bytes over time of one probe per server, at the largest N that every
    # server ran.
    common = None
    for s in servers:
        ns = {n for (sv, n), r in runs.items() if sv == s and "curves" in r}
        common = ns if common is None else common & ns
    ns = sorted(common or [])
    pick = 10000 if 10000 in ns else (ns[-1] if ns else None)
    if pick:
        lines = []
        for s in servers:
            curves = runs[(s, pick)]["curves"]
            if not curves:
                continue
            ids = sorted(curves)
            i = ids[len(ids) // 2]
            with open(os.path.join(pd, "%s.probe" % s), "w") as f:
                for t, b in curves[i]:
                    f.write("%.4f %d\n" % (t, b))
            end = curves[i][-1][0]
            lines.append("'%s.probe' using 1:2 with steps lw 2 title '%s%s'"
                         % (s, SHORT[s], " (ends at %.0f s)" % end
                            if end > 1.5 * size / rate else ""))
        lines.append("%d * x title 'ideal %d B/s' dt 2 lc rgb 'black'"
                     % (rate, rate))
        if gnuplot(term + "set output '../probe.png'\n"
                   "set title 'Body bytes received by one probe connection, "
                   "N = %d'\n"
                   "set xlabel 'seconds since connect()'\n"
                   "set ylabel 'bytes'\nset grid\nset key top left\n"
                   "set xrange [0:%g]\nset yrange [0:%d]\n"
                   "plot %s\n" % (pick, 1.5 * size / rate, size * 1.05,
                                  ", ".join(lines)), pd):
            made.append("probe.png")

    # The project's busy workers and suspended connections over time.
    # A sample that did not answer breaks the line (a blank line).
    lines = []
    for (sv, n), r in sorted(runs.items(), key=lambda x: x[0][1]):
        if sv != "dialup" or not r.get("status"):
            continue
        with open(os.path.join(pd, "dialup-%d.status" % n), "w") as f:
            for t, kv in r["status"]:
                if "error" in kv:
                    f.write("\n")
                    continue
                f.write("%.3f %s %s\n" % ((t - r["t0"]) / 1e6,
                                          kv.get("BusyWorkers", "?"),
                                          kv.get("ConnsAsyncSuspended", "?")))
        lc = len(lines) // 2 + 1
        lines.append("'dialup-%d.status' using 1:3 with lines lw 2 lc %d "
                     "title 'suspended, N=%d'" % (n, lc, n))
        lines.append("'dialup-%d.status' using 1:2 axes x1y2 with lines "
                     "dt 3 lc %d title 'busy workers, N=%d'" % (n, lc, n))
    if lines:
        if gnuplot(term + "set output '../dialup-status.png'\n"
                   "set title 'httpd+mod_dialup: server-status over time "
                   "(gaps: status did not answer within 1 s)'\n"
                   "set xlabel 'seconds since the first connect()'\n"
                   "set ylabel 'suspended connections'\n"
                   "set y2label 'busy workers (of 100)'\n"
                   "set y2range [0:100]\nset ytics nomirror\nset y2tics\n"
                   "set grid\nset key top right\nset xrange [-1:*]\n"
                   "set datafile missing '?'\n"
                   "plot %s\n" % ", ".join(lines), pd):
            made.append("dialup-status.png")
    return made


def backend_tables(w, runs, pkeys, size):
    """The proxied runs: what the backend saw, and each against the
    static run of the same server and N."""
    w("**Proxied: the backend**\n")
    w("| server | N | backend requests (200, full) | backend connections "
      "| most requests on one | busy mean / p50 / p99 / max (ms) "
      "| conns open peak | unread peak | unread s/request "
      "| backend CPU (s) |")
    w("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for k in pkeys:
        r = runs[k]
        b = r.get("backend")
        if r.get("failed_to_start") or not b:
            continue
        w("| %s | %d | %d (%d) | %d | %d | %s | %s | %s | %s | %s |" % (
            SHORT[k[0]], k[1], b["requests"], b["ok"], b["conns"],
            b["most_per_conn"],
            " / ".join(fmt(b.get(x), "%.1f" if x == "busy_mean" else "%.0f")
                       for x in ("busy_mean", "busy_p50", "busy_p99",
                                 "busy_max")),
            fmt(b.get("open_peak"), "%d"), fmt(b.get("unread_peak"), "%d"),
            fmt(b.get("unread_s_per_req"), "%.2f"),
            fmt(b.get("cpu_s"), "%.2f")))
    w("")
    w("*backend requests* = lines in the backend's access log during the "
      "run (those with status 200 and all %d bytes); *backend "
      "connections* = how many connections they came on (`$connection`), "
      "and *most requests on one* the highest `$connection_requests`: "
      "reuse by the proxy's pool; *busy* = `$request_time`, from the "
      "request's first byte to the last byte of the response handed to "
      "the kernel: a response that fits in the loopback socket buffers "
      "(the backend's send buffer and the proxy's receive buffer) is "
      "handed over at once, whether the proxy reads it at once or not; "
      "*conns open peak* and *unread peak* = the most established "
      "connections to the backend, and the most of them with response "
      "bytes that the proxy had not read yet (Recv-Q > 0), sampled every "
      "second with `ss`; *unread s/request* = that count integrated over "
      "the run, per request: how long a response sat in the proxy's "
      "socket, its backend connection taken; *backend CPU* = the "
      "backend's processes over the run.\n" % size)

    pairs = [(STATIC_OF[k[0]], k) for k in pkeys
             if (STATIC_OF[k[0]], k[1]) in runs
             and not runs[(STATIC_OF[k[0]], k[1])].get("failed_to_start")
             and not runs[k].get("failed_to_start")]
    if not pairs:
        return
    w("**Proxied against static, same server and N**\n")
    w("| server | N | RSS/conn static / proxied (KB) | proxied - static "
      "(KB/conn) | CPU ms/MB static / proxied | threads peak static / "
      "proxied | time mean static / proxied (s) |")
    w("|---|---:|---|---:|---|---|---|")
    for st, k in pairs:
        a, r = runs[(st, k[1])], runs[k]
        ra, rb = a.get("rss_per_conn_kb"), r.get("rss_per_conn_kb")
        w("| %s | %d | %s / %s | %s | %s / %s | %s / %s | %s / %s |" % (
            SHORT[k[0]], k[1], fmt(ra, "%.1f"), fmt(rb, "%.1f"),
            fmt(rb - ra if ra is not None and rb is not None else None,
                "%+.1f"),
            fmt(a.get("cpu_ms_mb"), "%.1f"), fmt(r.get("cpu_ms_mb"), "%.1f"),
            fmt(a.get("threads_peak"), "%d"), fmt(r.get("threads_peak"), "%d"),
            fmt(a.get("tmean"), "%.2f"), fmt(r.get("tmean"), "%.2f")))
    w("")
    w("*proxied - static* is what a paced proxied response costs the "
      "server in memory above a static one: for httpd+mod_dialup, what it "
      "holds ahead of the line in memory (up to `DialupBufferMemory`, "
      "32K by default; the rest is in a temporary file, whose page cache is not in "
      "RSS) and mod_proxy's request and connection structures; the "
      "server's CPU does not include the backend's.\n")


def h2_table(w, runs, h2keys, rate, size):
    """The dialup-h2 runs, in a table of their own."""
    ideal = size / float(rate)
    w("**httpd+mod_dialup over HTTP/2 (h2c), one paced stream per "
      "connection**\n")
    w("| N | done | data bytes | time min / p50 / mean / p90 / max (s) "
      "| on time | streams at once | h2 workers min-max /child "
      "| threads peak | busy workers peak | suspended peak "
      "| status unanswered | CPU (s) | CPU ms/MB | load before / after |")
    w("|---:|---:|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for k in h2keys:
        r = runs[k]
        env = r["env"]
        if r.get("failed_to_start"):
            w("| %d | did not start |%s" % (k[1], " |" * 12))
            continue
        n = r["n"]
        sm = r["summary"]
        done = "%d" % r["ok"]
        bad = n - r["ok"]
        if bad:
            parts = ["%s %d" % (x, sm[x]) for x in ("failed", "errored",
                                                    "timeout") if sm.get(x)]
            done += " (%d not: %s)" % (bad, ", ".join(parts) or "no log")
        if r["data"] is None:
            data = "-"
        elif r["data"] == r["ok"] * size:
            data = "%d (= done x %d)" % (r["data"], size)
        else:
            data = "%d (**%+d** on done x %d)" % (r["data"],
                                                  r["data"] - r["ok"] * size,
                                                  size)
        workers = ", ".join("%d-%d" % mm for mm in sorted(r["h2_workers"]))
        w("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
          "| %s / %s |" % (
              n, done, data,
              "%s / %s / %s / %s / %s" % (fmt(r.get("tmin"), "%.2f"),
                                          fmt(r.get("tp50"), "%.2f"),
                                          fmt(r.get("tmean"), "%.2f"),
                                          fmt(r.get("tp90"), "%.2f"),
                                          fmt(r.get("tmax"), "%.2f")),
              fmt(r.get("on_time"), "%d"), fmt(r.get("at_once"), "%d"),
              workers or "-", fmt(r.get("threads_peak"), "%d"),
              fmt(r.get("busy_peak"), "%d"), fmt(r.get("susp_peak"), "%d"),
              "%d of %d" % (r["status_errors"], len(r["status"])),
              fmt(r.get("cpu_s"), "%.1f"), fmt(r.get("cpu_ms_mb"), "%.1f"),
              env.get("load_before", "-").split(" ")[0],
              env.get("load_after", "-").split(" ")[0]))
    w("")
    w("*done* = status 200 in h2load's per-request log; *data bytes* = "
      "h2load's DATA total, which must be done x %d; *time* = h2load's, "
      "from the request's start to the end of its response, against the "
      "ideal %.0f s; *on time* = within %.1f s; *streams at once* = the "
      "most responses that were in their last %.1f s together (an HTTP/2 "
      "stream's schedule starts when its handler runs, so that is when it "
      "was served); *h2 workers* = `H2MinWorkers`-`H2MaxWorkers` as each "
      "child logged them; *busy workers* and *suspended* = peaks of "
      "`BusyWorkers` (MPM workers) and `ConnsAsyncSuspended` in "
      "`server-status?auto`, asked every 250 ms over HTTP/1.1 on the "
      "same port: it needs an MPM worker too, so it does not answer "
      "while all are taken (*status unanswered*: samples that got no "
      "answer within 1 s); *CPU* and *threads* as in *Resources*; "
      "*load* = 1-minute load average before and after the run.\n"
      % (size, ideal, ideal * 1.05, ideal * 0.95))


# --lines (bench/run --lines): the runs are KIND-CLIENTSxK.
LINES_ORDER = ["dialup-req", "dialup-client", "nginx", "apache", "apache400"]
LINES_SHORT = {
    "dialup-req": "mod_dialup per-request",
    "dialup-client": "mod_dialup per-client",
    "nginx": "nginx limit_rate",
    "apache": "apache2 ratelimit",
    "apache400": "apache2 ratelimit 400 thr",
}
# A client is within the target when its rate is at most this many times
# the line's.
LINES_MAX = 1.02
# Per-client mode may cost at most this many times per-request's CPU/MB.
LINES_CPU_MAX = 1.10


def client_figures(r, rate, size):
    """Adds to r, and returns it, the figures per client (source address)
    of a --lines run: a client's rate is the wire bytes of all its
    downloads over the time from its first request to its last byte,
    "complete" when all its downloads ended ok with every byte."""
    by = {}
    for c in r.get("conns", []):
        by.setdefault(c["client"], []).append(c)
    by.pop("-", None)
    ratios, complete = [], 0
    worst = None
    for addr, cs in by.items():
        if not all(c["result"] == "ok" and c["body"] == size for c in cs):
            continue
        first = min(c["t_req"] for c in cs)
        last = max(c["t_done"] for c in cs)
        if last <= first:
            continue
        complete += 1
        x = sum(c["wire"] for c in cs) / ((last - first) / 1e6) / rate
        ratios.append(x)
        if worst is None or x > worst[0]:
            worst = (x, addr)
    ratios.sort()
    r["cl_n"] = len(by)
    r["cl_complete"] = complete
    if ratios:
        r["cl_max"], r["cl_min"] = ratios[-1], ratios[0]
        r["cl_p50"] = pct(ratios, 50)
        r["cl_p99"], r["cl_p1"] = pct(ratios, 99), pct(ratios, 1)
        r["cl_worst_addr"] = worst[1]
        r["cl_over"] = sum(1 for x in ratios if x > LINES_MAX)
    # The server's CPU per second of paced download: what one transfer
    # costs while it is paced, however many share its line.
    busy = sum(c["t_done"] - c["t_start"] for c in r.get("conns", [])
               if c["result"] == "ok" and c["t_done"] > c["t_start"]) / 1e6
    if busy > 0 and r.get("cpu_s") is not None:
        r["cpu_us_dl_s"] = r["cpu_s"] * 1e6 / busy
    return r


def lines_main(res, meta):
    """bench/run --lines: writes RESULTS_DIR/lines.md (and prints it)."""
    rate = int(meta.get("rate", 7000))
    size = int(meta.get("file_size", 70000))
    runs = {}
    for d in glob.glob(os.path.join(res, "runs", "*-*x*")):
        server, spec = os.path.basename(d).rsplit("-", 1)
        ncl, k = (int(x) for x in spec.split("x"))
        r = load_run(d, rate, size)
        if not r.get("failed_to_start"):
            client_figures(r, rate, size)
        runs[(server, ncl, k)] = r
    keys = sorted(runs, key=lambda k: (
        LINES_ORDER.index(k[0]) if k[0] in LINES_ORDER else 9, -k[1], k[2]))

    def name(k):
        return LINES_SHORT.get(k[0], k[0])

    def who(k):
        return "%d x %d" % (k[1], k[2])

    out = []
    w = out.append
    w("# Benchmark results, per-client lines, %s\n" % meta.get("date", "?"))
    ls, le = meta.get("load_start", "?"), meta.get("load_end", "?")
    try:
        shared = max(float(ls.split()[0]), float(le.split()[0])) >= 0.5
    except (ValueError, IndexError):
        shared = True
    w("%sClients at V.92 (7000 bytes/s, 56 kbit/s), each downloading K "
      "copies of one %d-byte file at once: C clients x K downloads, "
      "every client from a loopback address of its own (`modem-load -S "
      "%s -K K`: the K downloads of a client from the same address, "
      "opened in the same 20 ms tick), to 127.0.0.1, %s cores, kernel "
      "%s, `ulimit -n` %s, somaxconn %s.  One server at a time, each "
      "started by `bench/run --lines` with a generated configuration.  "
      "%s (load average %s at the start of the bench, %s at its end; "
      "see *others* in *Resources*).\n"
      % ("Quick run: " if meta.get("quick") == "1" else "", size,
         meta.get("src_range", "?"), meta.get("host_cores"),
         meta.get("kernel"), meta.get("ulimit_n"), meta.get("somaxconn"),
         "Other jobs shared the machine" if shared else
         "The machine was otherwise idle", ls, le))
    w("- **httpd+mod_dialup**: %s with this project's series, event MPM, "
      "4 children x 25 threads, `ModemStandard V.92`, `ListenBacklog "
      "4096`; *per-request*: `DialupLine per-request` (a line per "
      "response, as before issue 12); *per-client*: `DialupLine "
      "per-client`, `DialupLines %s` (a line per client address, shared "
      "by all its paced responses in every child)."
      % (meta.get("httpd", "?"), meta.get("lines_table", "?")))
    if any(k[0] == "nginx" for k in keys):
        w("- **nginx**: %s, `worker_processes auto`, `limit_rate %d` (per "
          "connection), `sendfile on`, `backlog=4096`."
          % (meta.get("nginx", "?"), rate))
    if any(k[0].startswith("apache") for k in keys):
        w("- **apache2**: %s, event MPM, `SetOutputFilter RATE_LIMIT`, "
          "`rate-limit 7` (per request; whole KiB/s: 7,168 B/s, x1.024 of "
          "the line below), a thread per download (500-thread children)."
          % meta.get("apache2", "?"))
    nice = meta.get("client_nice")
    w("- All: `EnableSendfile On` and `AllowOverride None` (apache), no "
      "access log, `ExtendedStatus Off`; clients send "
      "`Connection: close`%s.\n"
      % ("" if nice is None else
         ", and run at niceness %s (the servers at 0)" % nice))

    w("**Per client**\n")
    w("| server | clients x K | done | failed | clients complete "
      "| client rate / line: max / p99 / p50 / p1 / min | clients above "
      "x%.2f | worst client | download time min / mean / max (s) |"
      % LINES_MAX)
    w("|---|---|---:|---|---:|---|---:|---|---|")
    for k in keys:
        r = runs[k]
        if r.get("failed_to_start"):
            w("| %s | %s | | did not start | | | | | |" % (name(k), who(k)))
            continue
        w("| %s | %s | %d | %s | %d of %d | %s | %s | %s | %s |" % (
            name(k), who(k), r["ok"], fails_text(r), r["cl_complete"],
            k[1],
            " / ".join(fmt(r.get(x), "%.4f") for x in (
                "cl_max", "cl_p99", "cl_p50", "cl_p1", "cl_min")),
            fmt(r.get("cl_over"), "%d"),
            r.get("cl_worst_addr", "-"),
            "%s / %s / %s" % (fmt(r.get("tmin"), "%.2f"),
                              fmt(r.get("tmean"), "%.2f"),
                              fmt(r.get("tmax"), "%.2f"))))
    w("")
    w("*client rate / line* = the wire bytes (headers included) of all the "
      "client's downloads over the time from its first request to its "
      "last byte, divided by %d bytes/s; only clients all of whose "
      "downloads came complete (*clients complete*); *max* is the worst "
      "client, the one named in *worst client*; a per-connection limit "
      "gives a client of K downloads about K times the line.  *download "
      "time* = one download, from `connect()` to its last byte (ideal: "
      "K x %.1f s on a shared line, %.1f s on a line of its own).\n"
      % (rate, size / rate, size / rate))

    w("**Resources**\n")
    w("| server | clients x K | connections | CPU (s) | CPU ms/MB "
      "| CPU us per download-s | RSS peak (MB) | RSS/conn (KB) "
      "| threads peak | client CPU (s) | machine busy / others (cores) "
      "| load 1 min before / after |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for k in keys:
        r = runs[k]
        if r.get("failed_to_start"):
            continue
        env = r["env"]
        w("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s "
          "| %s / %s |" % (
            name(k), who(k), r["n"], fmt(r.get("cpu_s"), "%.1f"),
            fmt(r.get("cpu_ms_mb"), "%.1f"),
            fmt(r.get("cpu_us_dl_s"), "%.0f"),
            fmt(r.get("rss_peak_mb"), "%.0f"),
            fmt(r.get("rss_per_conn_kb"), "%.1f"),
            fmt(r.get("threads_peak"), "%d"),
            fmt(r.get("client_cpu"), "%.1f"),
            "%s / %s" % (fmt(r.get("busy_cores"), "%.2f"),
                         fmt(r.get("others_cores"), "%.2f")),
            env.get("load_before", "").split(" ")[0] or "-",
            env.get("load_after", "").split(" ")[0] or "-"))
    w("")
    w("*CPU* = utime+stime of all server processes (children included) "
      "from just before the first `connect()` to the end of the run; "
      "*CPU ms/MB* per 10^6 bytes the clients received (headers "
      "included); *CPU us per download-s* = CPU over the sum of the "
      "downloads' times (`connect()` to last byte): what a download costs "
      "per second that it is paced; "
      "*RSS* summed over the server processes, sampled every "
      "200 ms, *RSS/conn* = (peak - idle) / connections; *threads* = sum "
      "of `Threads` over the server processes; *client CPU* = the load "
      "clients' own; *machine busy* = all CPUs over the same window "
      "(/proc/stat), *others* = busy minus server and clients: other "
      "jobs on the shared machine; *load* = 1-minute load average before "
      "and after the run (it lags).\n")

    dial = [k for k in keys if k[0].startswith("dialup")
            and not runs[k].get("failed_to_start")]
    if dial:
        w("**httpd+mod_dialup, from server-status and timed callbacks**\n")
        w("| server | clients x K | busy workers peak | suspended peak "
          "| lines used peak (of total) | timer lateness p50 / p99 / max "
          "(ms) | timer samples (procs) | early |")
        w("|---|---|---:|---:|---|---|---|---:|")
        for k in dial:
            r = runs[k]
            lat = r.get("lat")
            used = [float(kv["DialupLinesUsed"]) for _, kv in r["status"]
                    if "DialupLinesUsed" in kv and "error" not in kv]
            total = [kv["DialupLinesTotal"] for _, kv in r["status"]
                     if "DialupLinesTotal" in kv]
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name(k), who(k), fmt(r.get("busy_peak"), "%d"),
                fmt(r.get("susp_peak"), "%d"),
                "%d (%s)" % (max(used), total[-1]) if used else "-",
                "%.2f / %.2f / %.2f" % lat[:3] if lat else "-",
                "%d (%d)" % (lat[3], lat[5]) if lat else "-",
                lat[4] if lat else "-"))
        w("")
        w("*busy workers*, *suspended* and *lines used* are the peaks of "
          "`BusyWorkers`, `ConnsAsyncSuspended` and `DialupLinesUsed` "
          "(with `DialupLinesTotal`) in `server-status?auto` of the child "
          "that answered, sampled every 250 ms; timer lateness as in "
          "results.md: 4 requests of 25 timers each, every 200 ms for 5 s "
          "after the ramp.\n")

    rows = []

    def row(what, ok, got):
        rows.append("| %s | %s | %s |"
                    % (what, "met" if ok else "**missed**", got))
    for k in keys:
        r = runs[k]
        if k[0] != "dialup-client" or r.get("failed_to_start"):
            continue
        row("%s: every client complete" % who(k),
            r["cl_complete"] == k[1],
            "%d of %d" % (r["cl_complete"], k[1]))
        if "cl_max" in r:
            row("%s: no client above x%.2f of the line" % (who(k), LINES_MAX),
                r["cl_max"] <= LINES_MAX,
                "worst x%.4f (%s), %d above; median x%.4f, least x%.4f"
                % (r["cl_max"], r["cl_worst_addr"], r["cl_over"],
                   r["cl_p50"], r["cl_min"]))
        refs = [("dialup-req", k[1], k[2])]
        if k[2] > 1:
            # The same bytes as one download each from as many clients.
            refs.append(("dialup-req", k[1] * k[2], 1))
        for ref in refs:
            q = runs.get(ref)
            if (not q or q.get("failed_to_start") or not q.get("cpu_ms_mb")
                    or r.get("cpu_ms_mb") is None):
                continue
            x = r["cpu_ms_mb"] / q["cpu_ms_mb"]
            row("%s: CPU ms/MB <= x%.2f of per-request %s"
                % (who(k), LINES_CPU_MAX, who(ref)), x <= LINES_CPU_MAX,
                "%.1f against %.1f (x%.2f)"
                % (r["cpu_ms_mb"], q["cpu_ms_mb"], x))
    if rows:
        w("**Targets for per-client lines**\n")
        w("| target | | measured |")
        w("|---|---|---|")
        out.extend(rows)
        w("")
        w("CPU ms/MB of a line shared by K downloads against K lines of one "
          "download each: the same bytes, K times as long, and every "
          "download paced all that time, so a per-pulse cost per download "
          "shows K times per MB; *CPU us per download-s* in *Resources* "
          "compares the cost per download and second.\n")

    notes = []
    for k in keys:
        r = runs[k]
        if r.get("log_errors"):
            notes.append("- %s %s: %d error-level lines in its error log, "
                         "first: `%s`" % (name(k), who(k),
                                          len(r["log_errors"]),
                                          r["log_errors"][0][:200]))
        if r.get("status_errors"):
            notes.append("- %s %s: %d server-status samples did not answer "
                         "within 1 s" % (name(k), who(k),
                                         r["status_errors"]))
    if notes:
        w("**Notes from the logs**\n")
        out.extend(notes)
        w("")

    text = "\n".join(out) + "\n"
    with open(os.path.join(res, "lines.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


def main():
    if len(sys.argv) != 2 or not os.path.isfile(
            os.path.join(sys.argv[1], "meta.env")):
        sys.stderr.write(__doc__)
        sys.exit(2)
    res = sys.argv[1]
    meta = read_env(os.path.join(res, "meta.env"))
    if meta.get("mode") == "lines":
        lines_main(res, meta)
        return
    rate = int(meta.get("rate", 7000))
    size = int(meta.get("file_size", 70000))
    runs = {}
    for d in sorted(glob.glob(os.path.join(res, "runs", "*-*"))):
        server, n = os.path.basename(d).rsplit("-", 1)
        load = load_h2_run if server == "dialup-h2" else load_run
        runs[(server, int(n))] = load(d, rate, size)
    # dialup-h2 has a table of its own, after the others.
    h2keys = sorted(k for k in runs if k[0] == "dialup-h2")
    keys = sorted((k for k in runs if k[0] != "dialup-h2"),
                  key=lambda k: (ORDER.index(k[0])
                                 if k[0] in ORDER else 9, k[1]))

    out = []
    w = out.append
    w("# Benchmark results, %s\n" % meta.get("date", "?"))
    w("%sDownloads of one %d-byte file at %d bytes/s (V.92, 56 kbit/s; "
      "ideal %.1f s), N at once, 127.0.0.1, %s cores, kernel %s, "
      "`ulimit -n` %s, somaxconn %s.  One server at a time, each started "
      "by `bench/run` with a generated configuration.%s\n"
      % ("Quick run: " if meta.get("quick") == "1" else "", size, rate,
         size / rate, meta.get("host_cores"), meta.get("kernel"),
         meta.get("ulimit_n"), meta.get("somaxconn"),
         "  Other jobs shared the machine: see the last two columns of "
         "*Resources*." if keys else
         "  Other jobs shared the machine: see the load averages."))
    w("- **httpd+mod_dialup**: %s with this project's series, event MPM, "
      "4 children x 25 threads, `ModemStandard V.92`, `DialupLine "
      "per-request` (a line per download: they all come from 127.0.0.1), "
      "`ListenBacklog 4096`." % meta.get("httpd", "?"))
    # With dialup-h2 alone (mark/del below), only the httpd it extends.
    mark = len(out)
    w("- **nginx**: %s, `worker_processes auto`, `limit_rate %d`, "
      "`sendfile on`, `backlog=4096`." % (meta.get("nginx", "?"), rate))
    w("- **apache2**: %s, event MPM, `SetOutputFilter RATE_LIMIT`, "
      "`rate-limit 7` (mod_ratelimit takes whole KiB/s: 7,168 B/s, +2.4 %% "
      "on the others' 7,000; its rate error below is against 7,000, so "
      "about -2.3 %% is its own exact rate); a thread per download "
      "(500-thread children, at most %s threads in all: half of "
      "kernel.pid_max, which the machine shares), and Debian's usual "
      "layout capped at 400 threads (16 x 25)."
      % (meta.get("apache2", "?"), meta.get("apache_cap", "?")))
    if not keys:
        del out[mark:]
    nice = meta.get("client_nice")
    if h2keys:
        w("- **httpd+mod_dialup over h2c** (`dialup-h2`): the same httpd and "
          "configuration with `mod_http2` and `Protocols h2c http/1.1`, "
          "mod_http2's default workers unless `BENCH_H2_CONF` set others "
          "(the table shows what each child logged); the client is h2load "
          "%s with one stream per connection (`-c N -n N -m 1`), opening "
          "5,000 connections a second, each closed after its stream; "
          "server-status over HTTP/1.1 on the same port."
          % meta.get("h2load", "?"))
    pkeys = [k for k in keys if k[0].endswith("-proxy")]
    if pkeys:
        w("- **Proxied** (`dialup-proxy`, `nginx-proxy`, `apache-proxy`): "
          "the same server and pacing as the static row of its name, but "
          "`/files/` comes from a backend on 127.0.0.1 through mod_proxy_http "
          "(`ProxyPass`, mod_proxy's reused connections; httpd+mod_dialup "
          "`max=25` = `ThreadsPerChild`, apache2 its default 500) or "
          "`proxy_pass` (`proxy_buffering on`, upstream `keepalive 64`).  "
          "The backend is one more Debian nginx, the same file without any "
          "limit, `sendfile on`, 2 workers, `keepalive_requests 1000000`, "
          "started once for the whole bench; its CPU is not in the "
          "server's.  mod_dialup holds what runs ahead of the line in "
          "memory up to `DialupBufferMemory` (32K by default) and the rest in a "
          "temporary file (`DialupBufferFile` 64M); nginx in its proxy "
          "buffers (4K + 8 x 4K) and the rest in a temporary file.")
    w("- All: `EnableSendfile On` and `AllowOverride None` (apache), no "
      "access log, `ExtendedStatus Off`; clients send "
      "`Connection: close`%s.\n"
      % ("" if nice is None else
         ", and run at niceness %s (the servers at 0)" % nice))

    # Without a run of the main comparison (--servers dialup-h2), no
    # empty tables.
    mark = len(out)
    w("**Delivery**\n")
    w("| server | N | threads cfg | done | failed | first byte p50 / max (s) "
      "| time min / mean / max (s) | rate err mean / worst | max gap (ms) "
      "| lead / lag (ms) |")
    w("|---|---:|---|---:|---|---|---|---|---:|---|")
    for k in keys:
        r = runs[k]
        env = r["env"]
        if r.get("failed_to_start"):
            w("| %s | %d | | | did not start | | | | | |"
              % (SHORT.get(k[0], k[0]), k[1]))
            continue
        w("| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s |" % (
            SHORT.get(k[0], k[0]), k[1], env.get("threads_cfg", ""),
            r["ok"], fails_text(r),
            "%s / %s" % (fmt(r.get("ttfb_p50"), "%.2f"),
                         fmt(r.get("ttfb_max"), "%.2f")),
            "%s / %s / %s" % (fmt(r.get("tmin"), "%.2f"),
                              fmt(r.get("tmean"), "%.2f"),
                              fmt(r.get("tmax"), "%.2f")),
            "%s / %s" % (fmt(r.get("err_mean") and r["err_mean"] * 100,
                             "%+.2f %%"),
                         fmt(r.get("err_worst") and r["err_worst"] * 100,
                             "%+.2f %%")),
            fmt(r.get("gap_max"), "%.0f"),
            "%s / %s" % (fmt(r.get("lead_max"), "%.0f"),
                         fmt(r.get("lag_max"), "%.0f"))))
    w("")
    w("*done* = complete and the right size; *first byte* and *time* "
      "from `connect()`; *rate err* = (%d / time) / %d - 1 (negative: "
      "slower than the modem); *max gap* = the largest time between two "
      "reads of a probe connection (32 probes per run, spread over the "
      "ramp); *lead* / *lag* = how far ahead of / behind the ideal curve "
      "%d B/s x (t - connect) a probe's body was at worst.\n"
      % (size, rate, rate))

    w("**Resources**\n")
    w("| server | N | CPU (s) | CPU ms/MB | RSS peak (MB) | RSS/conn (KB) "
      "| threads peak | backend busy mean / max (ms) | client CPU (s) "
      "| machine busy / others (cores) | load 1 min |")
    w("|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|")
    for k in keys:
        r = runs[k]
        env = r["env"]
        if r.get("failed_to_start"):
            continue
        b = r.get("backend") or {}
        w("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            SHORT.get(k[0], k[0]), k[1],
            fmt(r.get("cpu_s"), "%.1f"), fmt(r.get("cpu_ms_mb"), "%.1f"),
            fmt(r.get("rss_peak_mb"), "%.0f"),
            fmt(r.get("rss_per_conn_kb"), "%.1f"),
            fmt(r.get("threads_peak"), "%d"),
            "%s / %s" % (fmt(b["busy_mean"], "%.1f"),
                         fmt(b["busy_max"], "%.0f"))
            if "busy_mean" in b else "-",
            fmt(r.get("client_cpu"), "%.1f"),
            "%s / %s" % (fmt(r.get("busy_cores"), "%.2f"),
                         fmt(r.get("others_cores"), "%.2f")),
            env.get("load_before", "").split(" ")[0]))
    w("")
    w("*CPU* = utime+stime of all server processes (children included) "
      "from just before the first `connect()` to the end of the run; "
      "*CPU ms/MB* per 10^6 bytes the clients received (headers "
      "included); *RSS* summed over the server processes, sampled every "
      "200 ms, *RSS/conn* = (peak - idle) / N; *threads* = sum of "
      "`Threads` over the server processes; *backend busy* (proxied "
      "rows) = the backend's `$request_time` for this run's requests, "
      "from their first byte to the response's last byte handed to the "
      "kernel (ms resolution); *client CPU* = the load "
      "clients' own; *machine busy* = all CPUs over the same window "
      "(/proc/stat), *others* = busy minus server and clients: other "
      "jobs on the shared machine; *load* = 1-minute load average before "
      "the run (it lags: it still shows the run before).\n")

    if pkeys:
        backend_tables(w, runs, pkeys, size)

    if not keys:
        del out[mark:]

    dial = [k for k in keys if k[0] in ("dialup", "dialup-proxy")]
    if dial:
        w("**httpd+mod_dialup, from server-status and timed callbacks**\n")
        w("| server | N | busy workers peak | suspended peak "
          "| connections peak | held per response at the peak, memory / file "
          "(KB) "
          "| timer lateness p50 / p99 / max (ms) "
          "| timer samples (procs) | early |")
        w("|---|---:|---:|---:|---:|---|---|---|---:|")
        for k in dial:
            r = runs[k]
            if r.get("failed_to_start"):
                continue
            lat = r.get("lat")
            hp = r.get("held_per_resp")
            w("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                SHORT[k[0]], k[1], fmt(r.get("busy_peak"), "%d"),
                fmt(r.get("susp_peak"), "%d"), fmt(r.get("conns_peak"), "%d"),
                "%.1f / %.1f" % hp if hp else "-",
                "%.2f / %.2f / %.2f" % lat[:3] if lat else "-",
                "%d (%d)" % (lat[3], lat[5]) if lat else "-",
                lat[4] if lat else "-"))
        w("")
        w("Timer lateness: during each run, 4 requests to "
          "`bench/timer-lateness`'s module (loaded into the same server) "
          "keep 25 timers each pending in the children that answer them, "
          "firing every 200 ms for 5 s after the ramp: the same timer heap, "
          "listener and worker queue as the mod_dialup pulses.  *busy "
          "workers* and *suspended* are the peaks of `BusyWorkers` and "
          "`ConnsAsyncSuspended` in `server-status?auto`, sampled every "
          "250 ms; *held per response* = `DialupHeldMemory` and "
          "`DialupHeldFile` over `DialupActive` (the child that answered), "
          "at the sample where the memory held was most: what the module "
          "held ahead of the line for each paced response.\n")

    # Targets for the project.
    def target_rows(n):
        r = runs.get(("dialup", n))
        if not r or r.get("failed_to_start"):
            return []
        ng = runs.get(("nginx", n), {})
        rows = []

        def row(name, ok, got):
            rows.append("| N=%d | %s | %s | %s |"
                        % (n, name, "met" if ok else "**missed**", got))
        row("complete 100 %", r["ok"] == n,
            "%d of %d (%.2f %%)" % (r["ok"], n, 100.0 * r["ok"] / n))
        if "threads_peak" in r:
            row("<= 128 server threads", r["threads_peak"] <= 128,
                "%d peak" % r["threads_peak"])
        if n == 19000:
            return rows
        if "err_worst" in r:
            row("worst rate error within +-2 %", abs(r["err_worst"]) <= 0.02,
                "%+.2f %% worst, %+.2f %% mean"
                % (r["err_worst"] * 100, r["err_mean"] * 100))
        if r.get("gap_max") is not None:
            steady = ("" if r.get("gap_steady") is None else
                      "; %.0f ms after the ramp, before the first completion"
                      % r["gap_steady"])
            row("largest gap between reads <= 250 ms", r["gap_max"] <= 250,
                "%.0f ms (median probe %.0f ms%s)"
                % (r["gap_max"], r["gap_p50"], steady))
        if r.get("lat"):
            row("timer lateness p99 <= 5 ms", r["lat"][1] <= 5.0,
                "%.2f ms (p50 %.2f, max %.2f)"
                % (r["lat"][1], r["lat"][0], r["lat"][2]))
        if r.get("cpu_ms_mb") is not None and ng.get("cpu_ms_mb"):
            row("CPU ms/MB <= nginx's", r["cpu_ms_mb"] <= ng["cpu_ms_mb"],
                "%.1f vs nginx %.1f (x%.2f)"
                % (r["cpu_ms_mb"], ng["cpu_ms_mb"],
                   r["cpu_ms_mb"] / ng["cpu_ms_mb"]))
        if (r.get("rss_per_conn_kb") is not None
                and ng.get("rss_per_conn_kb")):
            row("RSS/conn <= nginx's",
                r["rss_per_conn_kb"] <= ng["rss_per_conn_kb"],
                "%.1f KB vs nginx %.1f KB (x%.2f)"
                % (r["rss_per_conn_kb"], ng["rss_per_conn_kb"],
                   r["rss_per_conn_kb"] / ng["rss_per_conn_kb"]))
        return rows
    trows = target_rows(10000) + target_rows(19000)
    if trows:
        w("**Targets for httpd+mod_dialup**\n")
        w("| N | target | | measured |")
        w("|---:|---|---|---|")
        out.extend(trows)
        w("")

    if h2keys:
        h2_table(w, runs, h2keys, rate, size)

    notes = []
    for k in keys + h2keys:
        r = runs[k]
        if r.get("log_errors"):
            first = r["log_errors"][0]
            notes.append("- %s N=%d: %d error-level lines in its error log, "
                         "first: `%s`" % (SHORT.get(k[0], k[0]), k[1],
                                          len(r["log_errors"]), first[:200]))
        berr = (r.get("backend") or {}).get("log_errors")
        if berr:
            notes.append("- %s N=%d: %d error-level lines in the backend's "
                         "error log during the run, first: `%s`"
                         % (SHORT.get(k[0], k[0]), k[1], len(berr),
                            berr[0][:200]))
        if r.get("status_errors"):
            notes.append("- %s N=%d: %d server-status samples did not "
                         "answer within 1 s" % (SHORT.get(k[0], k[0]), k[1],
                                                r["status_errors"]))
        if r.get("env", {}).get("load_before"):
            pass
    if notes:
        w("**Notes from the logs**\n")
        out.extend(notes)
        w("")

    made = plots(res, runs, rate, size, meta)
    if made:
        w("Plots: " + ", ".join("[`%s`](%s)" % (m, m) for m in made) + ".\n")
        for m in made:
            w("![%s](%s)\n" % (m, m))

    text = "\n".join(out) + "\n"
    with open(os.path.join(res, "results.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
