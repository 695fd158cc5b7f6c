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
"""Samples a server's processes while bench/run loads it.

    sample.py --pid MASTER --out FILE [--status URL] [--interval S]
              [--peer-port PORT]

Every INTERVAL seconds (0.2) it reads /proc/PID/stat of the master and
all its descendants and appends one line to FILE:

    t_us procs rss_kb threads cpu_ticks busy_ticks all_ticks

t_us is CLOCK_MONOTONIC in microseconds (the clock of modem-load),
rss_kb and threads are summed over the processes, cpu_ticks is
utime+stime+cutime+cstime summed over them (children that exited are in
their parent's cutime/cstime), in clock ticks; busy_ticks and all_ticks
are the whole machine's from /proc/stat (busy: all but idle and iowait,
steal included), to tell how much else ran meanwhile.  With --status, a second
thread fetches URL (mod_status ?auto or nginx stub_status) every
--status-interval seconds (0.25) and appends "t_us key=value ..." lines
to FILE.status.  With --peer-port (a proxy's backend), a third thread
lists every --peer-interval seconds (1) the established TCP connections
to that port on this machine (ss, filtered in the kernel) and appends
"t_us open unread unread_bytes" to FILE.peer: how many there are, and how
many hold response bytes that the proxy has not read yet (Recv-Q > 0).
Runs until SIGTERM or SIGINT, or until MASTER is gone.
Python standard library only.
"""

import argparse
import os
import re
import signal
import threading
import time
import urllib.request

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
stop = threading.Event()


def now_us():
    return time.monotonic_ns() // 1000


def read_stat(pid):
    """(ppid, ticks, threads, rss_kb) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    # rest[0] is field 3 (state): field k is rest[k - 3]
    ppid = int(rest[1])
    ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    threads = int(rest[17])
    rss_kb = int(rest[21]) * PAGE_KB
    return ppid, ticks, threads, rss_kb


def machine_ticks():
    """(busy, all) ticks of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def descendants(master):
    """master and all its descendants, from one scan of /proc."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = read_stat(int(name))
        if st:
            children.setdefault(st[0], []).append(int(name))
    found, todo = [], [master]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def status_loop(url, path, interval):
    key_re = re.compile(r"^([A-Za-z][A-Za-z ]*[A-Za-z]):\s*([0-9.]+)\s*$")
    with open(path, "w", buffering=1) as out:
        while not stop.is_set():
            t0 = now_us()
            try:
                with urllib.request.urlopen(url, timeout=1.0) as resp:
                    text = resp.read(65536).decode("latin-1")
                pairs = []
                for line in text.splitlines():
                    m = key_re.match(line.strip())
                    if m:
                        pairs.append("%s=%s" % (m.group(1).replace(" ", ""),
                                                m.group(2)))
                out.write("%d %s\n" % (t0, " ".join(pairs)))
            except Exception as e:  # a busy server may not answer in time
                out.write("%d error=%s\n" % (t0, type(e).__name__))
            stop.wait(max(0.0, interval - (now_us() - t0) / 1e6))


def peer_loop(port, path, interval):
    import subprocess
    cmd = ["ss", "-Htn", "state", "established", "dport", "=", ":%d" % port]
    with open(path, "w", buffering=1) as out:
        while not stop.is_set():
            t0 = now_us()
            try:
                text = subprocess.run(cmd, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL,
                                      timeout=5).stdout.decode("latin-1")
                n = unread = unread_bytes = 0
                for line in text.splitlines():
                    p = line.split()
                    if len(p) >= 4 and p[0].isdigit():
                        n += 1
                        q = int(p[0])
                        if q > 0:
                            unread += 1
                            unread_bytes += q
                out.write("%d %d %d %d\n" % (t0, n, unread, unread_bytes))
            except (OSError, subprocess.SubprocessError) as e:
                out.write("%d error=%s\n" % (t0, type(e).__name__))
            stop.wait(max(0.0, interval - (now_us() - t0) / 1e6))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--status")
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--status-interval", type=float, default=0.25)
    ap.add_argument("--peer-port", type=int)
    ap.add_argument("--peer-interval", type=float, default=1.0)
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    if args.status:
        threading.Thread(target=status_loop, daemon=True,
                         args=(args.status, args.out + ".status",
                               args.status_interval)).start()
    if args.peer_port:
        threading.Thread(target=peer_loop, daemon=True,
                         args=(args.peer_port, args.out + ".peer",
                               args.peer_interval)).start()

    pids, rescan = [], 0.0
    with open(args.out, "w", buffering=1) as out:
        out.write("# t_us procs rss_kb threads cpu_ticks busy_ticks "
                  "all_ticks\n")
        while not stop.is_set():
            t0 = now_us()
            if t0 / 1e6 >= rescan:
                pids = descendants(args.pid)
                rescan = t0 / 1e6 + 1.0
            procs = rss = threads = ticks = 0
            for pid in pids:
                st = read_stat(pid)
                if st:
                    procs += 1
                    ticks += st[1]
                    threads += st[2]
                    rss += st[3]
            if read_stat(args.pid) is None:
                break
            busy, total = machine_ticks()
            out.write("%d %d %d %d %d %d %d\n" % (t0, procs, rss, threads,
                                                  ticks, busy, total))
            stop.wait(max(0.0, args.interval - (now_us() - t0) / 1e6))
    stop.set()


if __name__ == "__main__":
    main()
