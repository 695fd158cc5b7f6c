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
# test/browser/run.sh PREFIX RUNDIR DEMODIR PORT
#
# The real-browser test of mod_dialup (`make browser-check`).  Serves the
# demo site DEMODIR/htdocs (build/demo) with PREFIX/bin/httpd on
# 127.0.0.1:PORT, from a config generated like build/demo.sh does from
# DEMODIR/httpd.conf.in (/mysite/ through one V.92 line, the same pages
# through a Slow-4G link as /slow4g/ and at full speed as /fast/), then
# loads the three in headless chromium with test/browser/load.js, and
# stops that httpd by its pid.
#
# Needs, and installs when missing:
#   - Debian's chromium (apt-get install -y chromium, as root), or the
#     browser named by $CHROMIUM;
#   - node and npm (apt-get install -y nodejs npm, as root);
#   - playwright-core $PLAYWRIGHT_VERSION from npm, into RUNDIR/node (no
#     browser download: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
# When one cannot be had the test FAILS, unless DIALUP_BROWSER_TEST=skip
# (then it says so and exits 0 without doing anything).
#
# RUNDIR keeps the config, the logs (error_log, access_log) and the
# output of the run (browser.log).  Ends with a "browser-check: PASS ..."
# or "browser-check: FAIL ..." line; exit status 0 only on PASS.

set -uo pipefail

PLAYWRIGHT_VERSION=${PLAYWRIGHT_VERSION:-1.65.1}

# The paced pages of the demo config: PATH LINK DOWN_BIT/S RTT_MS FACTOR,
# the link as modules/dialup/PRESETS.md and the module's table give it
# (V.92: 56000 down, 120 ms, WebPageTest's "Dial" RTT; Slow-4G: Chrome
# DevTools' 1440 kbit/s, 150 ms).  FACTOR: the least share of the line's
# time (bytes x 8 / rate) the page may take, besides two RTTs (load.js).
# At V.92 the line's time dominates and 0.8 leaves room for the bursts of
# an idle line; at Slow-4G the round trips do, and the page must take at
# least all of its line's time.
PACED="/mysite/  V.92    56000   120 0.8
/slow4g/  Slow-4G 1440000 150 1.0"
FAST=/fast/
DYNAMIC=guestbook.cgi

say() {
    echo "browser-check: $*"
}
fail() {
    echo "browser-check: FAIL: $*"
    exit 1
}

[ $# -eq 4 ] || { echo "usage: $0 PREFIX RUNDIR DEMODIR PORT" >&2; exit 2; }

if [ "${DIALUP_BROWSER_TEST:-}" = skip ]; then
    say "SKIPPED (DIALUP_BROWSER_TEST=skip)"
    exit 0
fi

prefix=$(cd "$1" && pwd) || fail "no install tree $1"
mkdir -p "$2" || fail "cannot create $2"
rundir=$(cd "$2" && pwd)
demodir=$(cd "$3" && pwd) || fail "no demo directory $3"
port=$4
base="http://127.0.0.1:$port"
httpd="$prefix/bin/httpd"

[ -x "$httpd" ] || fail "$httpd is missing: run make first"
[ -f "$prefix/modules/mod_dialup.so" ] ||
    fail "$prefix/modules/mod_dialup.so is missing: run make first"

# apt_install PACKAGE...: as root only.
apt_install() {
    [ "$(id -u)" = 0 ] || return 1
    say "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" \
        >"$rundir/apt.log" 2>&1 || { tail -n 20 "$rundir/apt.log"; return 1; }
}

# --- the browser and the driver ----------------------------------------------

browser=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$browser" ] && [ -z "${CHROMIUM:-}" ]; then
    apt_install chromium ||
        fail "chromium is not installed and cannot be (apt-get install -y" \
             "chromium, as root); DIALUP_BROWSER_TEST=skip skips this test"
fi
[ -x "$browser" ] || fail "no browser at $browser"
say "browser: $("$browser" --version 2>/dev/null | head -n 1)"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm ||
        fail "node and npm are missing and cannot be installed;" \
             "DIALUP_BROWSER_TEST=skip skips this test"
fi

nodedir="$rundir/node"
have=$(node -p "require('$nodedir/node_modules/playwright-core/package.json')
                .version" 2>/dev/null)
if [ "$have" != "$PLAYWRIGHT_VERSION" ]; then
    say "installing playwright-core@$PLAYWRIGHT_VERSION from npm into $nodedir"
    mkdir -p "$nodedir"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$nodedir" \
        --no-save --no-package-lock --no-audit --no-fund \
        "playwright-core@$PLAYWRIGHT_VERSION" >"$rundir/npm.log" 2>&1 ||
        { tail -n 20 "$rundir/npm.log"
          fail "npm install playwright-core@$PLAYWRIGHT_VERSION failed;" \
               "DIALUP_BROWSER_TEST=skip skips this test"; }
fi

# --- the server --------------------------------------------------------------

conf="$rundir/httpd.conf"
pidfile="$rundir/httpd.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
   grep -q httpd "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null; then
    fail "an httpd from an earlier run is still running" \
         "(pid $(cat "$pidfile")); stop it first"
fi
rm -f "$pidfile" "$rundir/error_log" "$rundir/access_log"

dialup_so=modules/mod_dialup.so
sed -e "s|@PREFIX@|$prefix|g" \
    -e "s|@RUNDIR@|$rundir|g" \
    -e "s|@HTDOCS@|$demodir/htdocs|g" \
    -e "s|@PORT@|$port|g" \
    -e "s|@DIALUP_LOADMODULE@|LoadModule dialup_module $dialup_so|g" \
    "$demodir/httpd.conf.in" >"$conf" || fail "cannot write $conf"

# location_link PATH: the argument of the DialupLink line in the config's
# <Location PATH> block (empty if none).
location_link() {
    awk -v loc="$1" '
        tolower($1) == "<location" { sub(/>$/, "", $2); inside = ($2 == loc) }
        tolower($1) == "</location>" { inside = 0 }
        inside && tolower($1) == "dialuplink" { print $2 }' "$conf"
}
cases=()
while read -r path link rate rtt factor; do
    [ "$(location_link "$path")" = "$link" ] ||
        fail "$demodir/httpd.conf.in no longer has DialupLink $link in" \
             "<Location $path>"
    [ "$path" = /mysite/ ] ||
        grep -q "^Alias $path .*/mysite/\"*\$" "$conf" ||
        fail "$demodir/httpd.conf.in no longer serves /mysite/ as $path"
    cases+=("$path,$rate,$rtt,$factor")
done <<<"$PACED"
grep -q "^Alias $FAST .*/mysite/\"*\$" "$conf" ||
    fail "$demodir/httpd.conf.in no longer serves /mysite/ as $FAST"

out=$("$httpd" -d "$prefix" -f "$conf" -t 2>&1) ||
    { echo "$out"; fail "$conf does not parse"; }

pid=
stop_httpd() {
    local i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    pid=
}
trap stop_httpd EXIT

"$httpd" -d "$prefix" -f "$conf" -k start ||
    fail "httpd did not start (see $rundir/error_log)"
for i in $(seq 1 50); do
    pid=$(cat "$pidfile" 2>/dev/null)
    [ -n "$pid" ] && curl -s -o /dev/null "$base/" && break
    pid=
    sleep 0.2
done
[ -n "$pid" ] ||
    { tail -n 20 "$rundir/error_log"; fail "no answer on $base/ within 10 s"; }
say "httpd pid $pid on $base/ (config $conf)"

# --- the browser test --------------------------------------------------------

NODE_PATH="$nodedir/node_modules" node "$(dirname "$0")/load.js" \
    "$browser" "$base" "$FAST" "$DYNAMIC" "${cases[@]}" 2>&1 |
    tee "$rundir/browser.log"
rc=${PIPESTATUS[0]}
stop_httpd
if [ "$rc" != 0 ]; then
    grep -q '^browser-check: FAIL' "$rundir/browser.log" ||
        echo "browser-check: FAIL: load.js exited with status $rc"
    echo "----- $rundir/error_log, last 20 lines -----"
    tail -n 20 "$rundir/error_log"
fi
exit "$rc"
