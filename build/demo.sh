#!/usr/bin/env bash
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
#
# demo.sh start PREFIX RUNDIR DEMODIR PORT
# demo.sh stop RUNDIR
#
# start: writes RUNDIR/httpd.conf from DEMODIR/httpd.conf.in, serving
#        DEMODIR/htdocs on 127.0.0.1:PORT with PREFIX/bin/httpd (event
#        MPM), loads PREFIX/modules/mod_dialup.so if it exists, starts
#        httpd in the background and waits until it answers.
# stop:  stops the httpd whose pid is in RUNDIR/httpd.pid.

set -euo pipefail

say() {
    echo "demo: $*"
}
die() {
    echo "demo: $*" >&2
    exit 1
}

# running PIDFILE: true if the pid in PIDFILE is a live httpd.
running() {
    local pid
    [ -f "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        grep -q httpd "/proc/$pid/cmdline" 2>/dev/null
}

start() {
    local prefix=$1 rundir=$2 demodir=$3 port=$4 dialup url i
    prefix=$(cd "$prefix" && pwd)
    demodir=$(cd "$demodir" && pwd)
    mkdir -p "$rundir"
    rundir=$(cd "$rundir" && pwd)
    url="http://127.0.0.1:$port"

    [ -x "$prefix/bin/httpd" ] || die "$prefix/bin/httpd is missing: run make first"
    if running "$rundir/httpd.pid"; then
        say "already running (pid $(cat "$rundir/httpd.pid")) at $url/"
        say "stop it with: make demo-stop"
        return 0
    fi

    if [ -f "$prefix/modules/mod_dialup.so" ]; then
        dialup="LoadModule dialup_module modules/mod_dialup.so"
    else
        dialup="# modules/mod_dialup.so is not built yet: /mysite/ and /slow4g/ are served at full speed"
    fi
    sed -e "s|@PREFIX@|$prefix|g" \
        -e "s|@RUNDIR@|$rundir|g" \
        -e "s|@HTDOCS@|$demodir/htdocs|g" \
        -e "s|@PORT@|$port|g" \
        -e "s|@DIALUP_LOADMODULE@|$dialup|g" \
        "$demodir/httpd.conf.in" >"$rundir/httpd.conf"

    if ! out=$("$prefix/bin/httpd" -d "$prefix" -f "$rundir/httpd.conf" -t 2>&1); then
        echo "$out" >&2
        die "the generated $rundir/httpd.conf does not parse"
    fi
    rm -f "$rundir/httpd.pid"
    "$prefix/bin/httpd" -d "$prefix" -f "$rundir/httpd.conf" -k start

    for i in $(seq 1 50); do
        if curl -s -o /dev/null "$url/" 2>/dev/null; then
            break
        fi
        if [ "$i" = 50 ]; then
            echo "demo: httpd did not answer on $url/ within 10s; end of $rundir/error_log:" >&2
            tail -n 20 "$rundir/error_log" >&2 || true
            exit 1
        fi
        sleep 0.2
    done

    cat <<EOF

The demo httpd is running (pid $(cat "$rundir/httpd.pid"), event MPM):

    $url/           front page
    $url/mysite/    a small site with pictures, through one V.92 modem
    $url/slow4g/    the same site over a "Slow 4G" mobile link
    $url/fast/      the same site at full speed
    $url/server-status

mod_dialup: $(if [ -f "$prefix/modules/mod_dialup.so" ]; then
                  echo "loaded:"
                  echo "    /mysite/  DialupLink V.92: 56000 bit/s down, 48000 up, 120 ms RTT"
                  echo "    /slow4g/  DialupLink Slow-4G: 1440 kbit/s down, 675 up, 150 ms RTT"
                  echo "  All the connections of one client share its line, as the"
                  echo "  browser's connections would share one modem."
              else
                  echo "not built yet; everything is served at full speed"
              fi)

Look at it with curl (time and speed of one picture; the time includes
the link's round trips before the first byte):

    curl -s -o /dev/null -w '%{http_code} %{size_download} bytes in %{time_total}s (%{speed_download} bytes/s)\n' $url/mysite/images/sunset.png

and the uplink: the guestbook reads what you post to it, 12000 bytes here,
which take about 2 s at V.92's 48000 bit/s up before the reply starts:

    head -c 12000 /dev/zero | curl -s -o /dev/null --data-binary @- -w '%{size_upload} bytes up, first byte back after %{time_starttransfer}s\n' $url/mysite/guestbook.cgi

Or open $url/mysite/ in a browser on this machine (the server listens
on 127.0.0.1 only): its page, pictures and guestbook, about 98 KB, take
about 15 s over the one 56k line.  Logs: $rundir/error_log and access_log.

Stop it with:  make demo-stop
EOF
}

stop() {
    local rundir=$1 pid i
    if ! running "$rundir/httpd.pid"; then
        say "not running (no live pid in $rundir/httpd.pid)"
        rm -f "$rundir/httpd.pid"
        return 0
    fi
    pid=$(cat "$rundir/httpd.pid")
    say "stopping httpd (pid $pid)"
    kill -TERM "$pid"
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid still there after 10s: sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$rundir/httpd.pid"
    say "stopped"
}

case "${1:-}" in
start) shift; start "$@" ;;
stop)  shift; stop "$@" ;;
*)     die "usage: demo.sh start PREFIX RUNDIR DEMODIR PORT | stop RUNDIR" ;;
esac
