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

"""Load clients on asyncio: thousands of HTTP/1.1 connections in one
process, each checking what it receives byte by byte.

Everything here runs in the driver's single event-loop thread.  A Conn is
one TCP connection that sends requests one after the other (keep-alive)
and parses each response as it arrives (Content-Length framing, which is
what httpd sends for static files and error pages); it can stop reading
(stalled reader), abort with a FIN or a RST at a given moment, and records
when things happened.
"""

import asyncio
import re
import socket
import struct
import time

STATUS_RE = re.compile(rb"HTTP/1\.[01] (\d{3})(?: [^\r\n]*)?\r\n")


class Response:
    """One response as received."""
    __slots__ = ("status", "headers", "length", "received", "ok_bytes",
                 "t_head", "t_done", "error")

    def __init__(self):
        self.status = 0
        self.headers = {}
        self.length = None
        self.received = 0
        self.ok_bytes = True      # every byte so far was the expected one
        self.t_head = None
        self.t_done = None
        self.error = None


class Conn(asyncio.Protocol):
    """One client connection.

    requests: list of (path, expected_body or None, extra_headers)
    stall_after: stop reading once that many body bytes came (None: never)
    abort_at: seconds after the first request was sent at which to abort
    abort_rst: abort with a RST (SO_LINGER 0) instead of a FIN; a RST is
        held back until the response head came, for a RST that arrives
        before the server read the request discards the request (and
        nothing is logged)
    """

    def __init__(self, requests, stall_after=None, abort_at=None,
                 abort_rst=False, keepalive=False):
        self.requests = list(requests)
        self.stall_after = stall_after
        self.abort_at = abort_at
        self.abort_rst = abort_rst
        self.keepalive = keepalive
        self.responses = []
        self.transport = None
        self.buf = b""
        self.cur = None
        self.expected = None
        self.idx = 0
        self.t_connect = None
        self.t_sent = None
        self.t_stalled = None
        self.t_closed = None
        self.closed_by = None     # "server", "client", "error"
        self.done = asyncio.get_event_loop().create_future()
        self.aborted = False
        self.abort_pending = False

    # -- asyncio callbacks ------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        self.t_connect = time.monotonic()
        self._send_next()
        if self.abort_at is not None:
            asyncio.get_event_loop().call_later(self.abort_at, self.abort)

    def data_received(self, data):
        if self.cur is None:
            # Bytes with no request outstanding: garbage from the server.
            self._fail("unexpected %d bytes after the last response"
                       % len(data))
            return
        if self.cur.t_head is None:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self._fail("response head over 64 KB")
                return
            self._parse_head(self.buf[:end + 4])
            data = self.buf[end + 4:]
            self.buf = b""
            if self.cur is None:
                return
            if self.abort_pending:
                self.abort()
                return
        self._body(data)

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        self.t_closed = time.monotonic()
        if self.closed_by is None:
            self.closed_by = "server" if exc is None else "error"
        if self.cur is not None and self.cur.error is None and \
                not self.aborted:
            self.cur.error = "connection closed after %d body bytes" \
                % self.cur.received
        if not self.done.done():
            self.done.set_result(self)

    # -- internals --------------------------------------------------------

    def _send_next(self):
        path, self.expected, extra = self.requests[self.idx]
        self.idx += 1
        last = self.idx == len(self.requests)
        conn = "keep-alive" if (self.keepalive and not last) else "close"
        head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: %s\r\n" \
            % (path, conn)
        for k, v in (extra or {}).items():
            head += "%s: %s\r\n" % (k, v)
        self.cur = Response()
        self.responses.append(self.cur)
        if self.t_sent is None:
            self.t_sent = time.monotonic()
        self.transport.write((head + "\r\n").encode())

    def _parse_head(self, head):
        r = self.cur
        r.t_head = time.monotonic()
        m = STATUS_RE.match(head)
        if not m:
            self._fail("bad status line %r" % head[:80])
            return
        r.status = int(m.group(1))
        for line in head[m.end():].split(b"\r\n"):
            k, sep, v = line.partition(b":")
            if sep:
                r.headers[k.strip().lower().decode()] = v.strip().decode()
        try:
            r.length = int(r.headers["content-length"])
        except (KeyError, ValueError):
            self._fail("no Content-Length")

    def _body(self, data):
        r = self.cur
        n = len(data)
        if n == 0:
            self._check_end()
            return
        if r.received + n > r.length:
            self._fail("%d bytes past Content-Length"
                       % (r.received + n - r.length))
            return
        exp = self.expected
        if exp is not None and r.ok_bytes:
            if exp[r.received:r.received + n] != data:
                r.ok_bytes = False
        r.received += n
        if self.stall_after is not None and self.t_stalled is None and \
                r.received >= self.stall_after:
            self.t_stalled = time.monotonic()
            self.transport.pause_reading()
        self._check_end()

    def _check_end(self):
        r = self.cur
        if r.received < r.length:
            return
        r.t_done = time.monotonic()
        if self.expected is not None and len(self.expected) != r.length:
            r.error = "Content-Length %d, expected %d" % (
                r.length, len(self.expected))
        self.cur = None
        if self.idx < len(self.requests):
            self._send_next()
        else:
            self.closed_by = "client"
            self.transport.close()

    def _fail(self, why):
        if self.cur is not None and self.cur.error is None:
            self.cur.error = why
        self.closed_by = "error"
        self.transport.abort()

    def abort(self):
        """Goes away at once: a RST (abort_rst) or a FIN."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.abort_rst and self.cur is not None and \
                self.cur.t_head is None:
            self.abort_pending = True
            return
        self.aborted = True
        self.closed_by = "client"
        if self.abort_rst:
            sock = self.transport.get_extra_info("socket")
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.transport.abort()
        else:
            self.transport.close()

    def resume(self):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def ok(self):
        """Whether every request got a complete, byte-exact 200."""
        if len(self.responses) != len(self.requests):
            return False
        for r in self.responses:
            if r.error or r.status != 200 or not r.ok_bytes or \
                    r.t_done is None:
                return False
        return True

    def first_error(self):
        if len(self.responses) != len(self.requests):
            return "%d of %d responses" % (len(self.responses),
                                           len(self.requests))
        for r in self.responses:
            if r.error:
                return r.error
            if r.status != 200:
                return "status %d" % r.status
            if not r.ok_bytes:
                return "wrong bytes"
            if r.t_done is None:
                return "incomplete"
        return None


async def open_conn(port, conn, rcvbuf=None):
    """Connects conn (a Conn) to 127.0.0.1:port.  Returns conn; on a
    connect error conn.done holds it with closed_by "error"."""
    loop = asyncio.get_event_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)),
                               30)
        await loop.create_connection(lambda: conn, sock=sock)
    except (OSError, asyncio.TimeoutError) as e:
        sock.close()
        conn.closed_by = "error"
        r = Response()
        r.error = "connect: %s" % (e or "timeout")
        conn.responses.append(r)
        if not conn.done.done():
            conn.done.set_result(conn)
    return conn


async def open_many(port, conns, rate=2000, rcvbuf=None):
    """Connects all conns, at most rate per second (so that the listen
    backlog never overflows).  Returns when every connect is done."""
    batch = max(1, rate // 20)
    tasks = []
    for i in range(0, len(conns), batch):
        t0 = time.monotonic()
        for c in conns[i:i + batch]:
            tasks.append(asyncio.ensure_future(open_conn(port, c, rcvbuf)))
        await asyncio.sleep(max(0, 0.05 - (time.monotonic() - t0)))
    await asyncio.gather(*tasks)


async def wait_all(conns, timeout):
    """Waits until every conn is closed or timeout seconds passed.
    Returns the number still open."""
    futs = [c.done for c in conns if not c.done.done()]
    if futs:
        await asyncio.wait(futs, timeout=timeout)
    return sum(1 for c in conns if not c.done.done())


async def probe(port, path, expected, timeout=5.0):
    """One GET on a new connection; returns (seconds or None, error)."""
    t0 = time.monotonic()
    c = Conn([(path, expected, None)])
    await open_conn(port, c)
    try:
        await asyncio.wait_for(asyncio.shield(c.done), timeout)
    except asyncio.TimeoutError:
        if c.transport:
            c.transport.abort()
        return None, "no answer in %.1f s" % timeout
    if not c.ok():
        return None, c.first_error()
    return time.monotonic() - t0, None


async def exchange(port, raw, timeout=10.0):
    """Sends raw bytes on a new connection, half-closes nothing, and
    reads until the server closes or timeout.  Returns (bytes, seconds,
    timed_out)."""
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), 10)
    except (OSError, asyncio.TimeoutError) as e:
        return b"", 0.0, "connect: %s" % e
    chunks = []
    timed_out = None
    try:
        writer.write(raw)
        await writer.drain()
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = "no close in %.0f s" % timeout
                break
            try:
                d = await asyncio.wait_for(reader.read(65536), left)
            except asyncio.TimeoutError:
                timed_out = "no close in %.0f s" % timeout
                break
            if not d:
                break
            chunks.append(d)
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.transport.abort()
    return b"".join(chunks), time.monotonic() - t0, timed_out


def prober_main(argv):
    """python3 stress_client.py probe PORT PATH INTERVAL SECONDS

    Runs in its own process, so that what the driver's event loop does
    (thousands of connections, reading /proc) never adds to the figures:
    one blocking GET of PATH on a new connection every INTERVAL seconds
    for SECONDS, each line "START_MONOTONIC LATENCY_OR_-1 STATUS_OR_ERROR"
    on standard output as it completes.  A request has 5 s."""
    import sys
    port, path = int(argv[0]), argv[1]
    interval, duration = float(argv[2]), float(argv[3])
    end = time.monotonic() + duration
    nxt = time.monotonic()
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.settimeout(max(0.01, 5 - (time.monotonic() - t0)))
            s.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
                       % path).encode())
            buf = b""
            while True:
                s.settimeout(max(0.01, 5 - (time.monotonic() - t0)))
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            s.close()
            m = STATUS_RE.match(buf)
            res = "%.6f %s" % (time.monotonic() - t0,
                               m.group(1).decode() if m else "no-status")
        except OSError as e:
            res = "-1 %s" % (type(e).__name__,)
        sys.stdout.write("%.6f %s\n" % (t0, res))
        sys.stdout.flush()
        nxt += interval
        time.sleep(max(0, nxt - time.monotonic()))


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        prober_main(sys.argv[2:])


__all__ = ["Conn", "Response", "open_conn", "open_many", "wait_all",
           "probe", "exchange"]
