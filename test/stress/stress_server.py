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

"""The httpd under test: its site, its configuration, its processes.

One Server is one httpd instance in its own run directory, started as
root (so that its children have the raised open-files limit of the
driver) with User nobody, listening on 127.0.0.1 only.  Everything the
cases measure about it is read from /proc and from server-status?auto:
its children, their open descriptors and resident memory, the server
side's established sockets, the error and access logs.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

# The site every case serves, written once per run: name -> size.  The
# content of a file is a function of its name (stress_client.content()).
SITE_FILES = {
    "big.bin": 1024 * 1024,
    "mid.bin": 96 * 1024,
    "g20k.bin": 20000,
    "g40k.bin": 40000,
    "small.bin": 2048,
    "tiny.txt": 100,
}
for _n in (1, 2, 3, 5, 8):
    SITE_FILES["ka%dk.bin" % _n] = _n * 1024 - 37 * _n

# The marker that no response of the access-control case may contain.
SECRET = b"STRESS-SECRET-a0f3c9e2"

# Where each paced alias points and at which rate (DialupRate).  The
# same files are also served unpaced at /files/.
PACED = [
    ("/stall/", "2M"),       # stalled readers: 1 MB at 250 KB/s
    ("/stallslow/", "128k"), # stalled readers at ISDN-2B: 16 KB/s
    ("/abort/", "256k"),     # abort storms: 96 KB at 32 KB/s, 3 s
    ("/grace/", "16k"),      # graceful: 20 KB at 2 KB/s, 10 s
    ("/ka/", "512k"),        # keep-alive churn: one or two pulses each
    ("/fuzz/", "100M"),      # bad input: fast, still paced
    ("/slow/", "300"),       # bad input: 300 bit/s (V.21)
]

CONF_TEMPLATE = r"""# Written by test/stress: the server of the "{name}" case.
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}
PidFile "{run}/httpd.pid"
DefaultRuntimeDir "{run}"
ErrorLog "{run}/logs/error_log"
LogLevel {loglevel}

LoadModule mpm_{mpm_name}_module "{event_so}"
LoadModule unixd_module modules/mod_unixd.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule authz_host_module modules/mod_authz_host.so
LoadModule mime_module modules/mod_mime.so
LoadModule dir_module modules/mod_dir.so
LoadModule alias_module modules/mod_alias.so
LoadModule log_config_module modules/mod_log_config.so
LoadModule status_module modules/mod_status.so
LoadModule setenvif_module modules/mod_setenvif.so
LoadModule dialup_module modules/mod_dialup.so

User nobody
Group nogroup

Timeout {timeout}
KeepAlive On
KeepAliveTimeout 5
MaxKeepAliveRequests 100
ListenBacklog 4096
GracefulShutdownTimeout {graceful_timeout}
{send_buffer}

# {servers} children of 25 threads; MaxSpareThreads as high as
# MaxRequestWorkers so that no child is stopped for being idle (the
# cases compare each child with itself); ServerLimit leaves room for a
# generation that finishes after a graceful restart.
StartServers {servers}
ServerLimit {server_limit}
ThreadLimit 25
ThreadsPerChild 25
MaxRequestWorkers {max_workers}
MinSpareThreads 25
MaxSpareThreads {max_workers}
MaxConnectionsPerChild 0

TypesConfig conf/mime.types
DocumentRoot "{docroot}"
DirectoryIndex index.html

<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{docroot}">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
# As the stock httpd.conf: .htaccess and .htpasswd are never served.
<Files ".ht*">
    Require all denied
</Files>

# Every response can be had unpaced for comparison: a request with
# "X-Stress-Pace: off" sets dialup-modem=off.
SetEnvIf X-Stress-Pace "^off$" dialup-modem=off

# Every client here is 127.0.0.1 and the cases measure each download's own
# rate: one line per response, not per client.
DialupLine per-request

{aliases}

# Access control (case "access"): pacing on, and the core's own refusals.
<Directory "{docroot}/guarded">
    Options -FollowSymLinks
    AllowOverride FileInfo
    ModemStandard V.92
</Directory>
<Directory "{docroot}/guarded/denied">
    Require all denied
</Directory>

<Location "/server-status">
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
ExtendedStatus On

# One line per request: when it came (s.ms), the request line, status,
# bytes sent, time taken (us), connection status (X aborted, + kept
# alive, - closed), the process and thread that logged it.
LogFormat "%h %{{%s}}t.%{{msec_frac}}t \"%r\" %>s %B %D %X %{{pid}}P \
%{{tid}}P" stress
CustomLog "{run}/logs/access_log" stress
"""


def content(name, size):
    """The bytes of site file name: a repeated pattern that starts with
    the name, so that any misplaced slice shows."""
    seed = ("%s:" % name).encode()
    block = bytes((i * 131 + 7) % 251 for i in range(4093))
    unit = seed + block
    reps = size // len(unit) + 1
    return (unit * reps)[:size]


def write_site(docroot, outside):
    """Writes the site into docroot (and the files outside it).  Returns
    {name: bytes}."""
    files = {}
    if os.path.isdir(docroot):
        shutil.rmtree(docroot)
    os.makedirs(os.path.join(docroot, "files"))
    for name, size in SITE_FILES.items():
        data = content(name, size)
        files[name] = data
        with open(os.path.join(docroot, "files", name), "wb") as f:
            f.write(data)
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("<html><body>stress</body></html>\n")

    # Access control: a secret outside the DocumentRoot, a denied
    # directory, symlinks that Options -FollowSymLinks refuses, .ht files.
    os.makedirs(outside, exist_ok=True)
    with open(os.path.join(outside, "secret.txt"), "wb") as f:
        f.write(SECRET + b" outside the DocumentRoot\n")
    g = os.path.join(docroot, "guarded")
    os.makedirs(os.path.join(g, "denied"))
    with open(os.path.join(g, "ok.txt"), "wb") as f:
        f.write(b"guarded but allowed\n" * 50)
    with open(os.path.join(g, "denied", "secret.txt"), "wb") as f:
        f.write(SECRET + b" in a denied directory\n")
    with open(os.path.join(g, "denied", "index.html"), "wb") as f:
        f.write(SECRET + b" index of a denied directory\n")
    os.symlink(os.path.join(outside, "secret.txt"),
               os.path.join(g, "link-out.txt"))
    with open(os.path.join(g, "target.txt"), "wb") as f:
        f.write(b"target of a symlink\n")
    os.symlink(os.path.join(g, "denied", "secret.txt"),
               os.path.join(g, "link-denied.txt"))
    os.symlink("target.txt", os.path.join(g, "link-in.txt"))
    os.symlink(outside, os.path.join(g, "dirlink"))
    with open(os.path.join(g, ".htaccess"), "wb") as f:
        f.write(b"# " + SECRET + b"\nModemStandard V.92\n")
    with open(os.path.join(g, ".htpasswd"), "wb") as f:
        f.write(b"user:" + SECRET + b"\n")
    with open(os.path.join(docroot, "files", ".htaccess"), "wb") as f:
        f.write(b"# " + SECRET + b"\n")
    # A day old: the core makes the ETag of a file changed within the
    # last second weak, and two servings of a request would differ.
    old = time.time() - 86400
    for root, dirs, names in os.walk(docroot):
        os.chmod(root, 0o755)
        for n in names:
            p = os.path.join(root, n)
            if not os.path.islink(p):
                os.chmod(p, 0o644)
                os.utime(p, (old, old))
    os.chmod(outside, 0o755)
    return files


def http_get(port, path, timeout=5.0, headers=None):
    """A blocking HTTP/1.0 GET; returns (status, body) or raises."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        req = "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n" % path
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        s.sendall((req + "\r\n").encode())
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.\d (\d{3})", head)
    return (int(m.group(1)) if m else 0), body


class Server:
    """One httpd instance of one case.  Runs as root; the children run
    as nobody.  All methods run in the driver's main thread."""

    def __init__(self, prefix, workdir, name, port, docroot, **opts):
        self.prefix = prefix
        self.httpd = os.path.join(prefix, "bin", "httpd")
        self.name = name
        self.port = port
        self.docroot = docroot
        self.run = os.path.join(workdir, "run-" + name)
        self.conf = os.path.join(self.run, "httpd.conf")
        self.error_log = os.path.join(self.run, "logs", "error_log")
        self.access_log = os.path.join(self.run, "logs", "access_log")
        self.opts = dict(servers=2, server_limit=2, timeout=60,
                         graceful_timeout=0, loglevel="info",
                         send_buffer=0, event_so=None)
        self.opts.update(opts)
        self.pid = None

    def write_conf(self):
        if os.path.isdir(self.run):
            shutil.rmtree(self.run)
        os.makedirs(os.path.join(self.run, "logs"))
        os.chmod(self.run, 0o755)
        aliases = []
        for loc, rate in PACED:
            aliases.append('Alias "%s" "%s/files/"\n<Location "%s">\n'
                           '    DialupRate %s\n</Location>'
                           % (loc, self.docroot, loc, rate))
        aliases.append('Alias "/files/" "%s/files/"' % self.docroot)
        o = dict(self.opts)
        o.update(name=self.name, prefix=self.prefix, port=self.port,
                 run=self.run, docroot=self.docroot,
                 max_workers=25 * o["servers"],
                 event_so=o["event_so"] or os.path.join(
                     self.prefix, "modules", "mod_mpm_event.so"),
                 mpm_name=re.sub(r"^mod_mpm_|\.so$", "", os.path.basename(
                     o["event_so"] or "mod_mpm_event.so")),
                 send_buffer=("SendBufferSize %d" % o["send_buffer"]
                              if o["send_buffer"] else ""),
                 aliases="\n".join(aliases))
        with open(self.conf, "w") as f:
            f.write(CONF_TEMPLATE.format(**o))

    def ctl(self, *args, timeout=30):
        """Runs httpd -f CONF ARGS...; returns (status, output)."""
        p = subprocess.run([self.httpd, "-d", self.prefix, "-f", self.conf]
                           + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")

    def start(self):
        """Starts the server and waits until every child has all its
        threads ready.  Raises RuntimeError when it cannot."""
        self.write_conf()
        rc, out = self.ctl("-t")
        if rc != 0:
            raise RuntimeError("httpd -t: " + out.strip())
        rc, out = self.ctl("-k", "start")
        if rc != 0:
            raise RuntimeError("httpd -k start: " + out.strip())
        deadline = time.time() + 20
        pidfile = os.path.join(self.run, "httpd.pid")
        while time.time() < deadline:
            try:
                self.pid = int(open(pidfile).read().strip())
                st = self.status()
                if (st.get("IdleWorkers", 0) >= 25 * self.opts["servers"] - 1
                        and len(self.children()) == self.opts["servers"]):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError("httpd did not become ready in 20 s; see "
                           + self.error_log)

    def alive(self):
        return self.pid is not None and os.path.exists("/proc/%d" % self.pid)

    def stop(self, timeout=10):
        """Stops the server (SIGTERM to the parent), then anything of it
        that is left (SIGKILL to its own children only)."""
        if not self.alive():
            return
        kids = self.children()
        try:
            os.kill(self.pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.time() + timeout
        while time.time() < deadline and self.alive():
            time.sleep(0.05)
        for pid in [self.pid] + kids:
            if pid and os.path.exists("/proc/%d" % pid) and \
                    _is_httpd(pid, self.conf):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def children(self):
        """PIDs of the parent's living children."""
        return children_of(self.pid, self.conf) if self.pid else []

    def status(self, path="/server-status?auto"):
        """server-status?auto as {key: int or str}."""
        code, body = http_get(self.port, path, timeout=5)
        if code != 200:
            raise OSError("server-status answered %d" % code)
        st = {}
        for line in body.decode(errors="replace").splitlines():
            k, sep, v = line.partition(": ")
            if not sep:
                continue
            try:
                st[k] = int(v)
            except ValueError:
                try:
                    st[k] = float(v)
                except ValueError:
                    st[k] = v
        return st

    def dialup_active(self, tries=8):
        """DialupActive is per child: the highest of a few answers (each
        on a new connection, so from either child)."""
        best = 0
        for _ in range(tries):
            try:
                best = max(best, self.status().get("DialupActive", 0))
            except OSError:
                pass
        return best

    def error_lines(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []


def _is_httpd(pid, conf):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return conf.encode() in f.read()
    except OSError:
        return False


def children_of(ppid, conf):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == ppid and _is_httpd(int(d), conf):
            kids.append(int(d))
    return sorted(kids)


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def tcp_states(port):
    """Counts of the server side's sockets on 127.0.0.1:port by state
    name, from /proc/net/tcp (listening socket excluded)."""
    names = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV",
             "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
             "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK",
             "0A": "LISTEN", "0B": "CLOSING"}
    want = "0100007F:%04X" % port
    counts = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1] != want or parts[3] == "0A":
                continue
            st = names.get(parts[3], parts[3])
            counts[st] = counts.get(st, 0) + 1
    return counts


def kernel_send_mem(port):
    """(sockets, bytes): the server side's sockets on 127.0.0.1:port, in
    any state, and the kernel memory of their send queues, from `ss -tm`
    (the t and w fields of skmem: allocated and queued send memory)."""
    out = subprocess.run(["ss", "-tmnH", "state", "all",
                          "( sport = :%d )" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True).stdout
    mems = [int(m.group(1)) + int(m.group(2)) for m in
            re.finditer(r"\bt(\d+),tb\d+,f\d+,w(\d+)", out)]
    return len(mems), sum(mems)


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]
