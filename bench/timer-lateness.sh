#!/usr/bin/env bash
# Measures how late the event MPM's timed callbacks fire: builds
# bench/timer-lateness/mod_timer_lateness.c with the patched httpd's apxs,
# starts build/httpd (event MPM, default settings) on 127.0.0.1, and asks it
# for N pending timers firing every P ms, R rounds each.  Prints one line
# per case, in microseconds.  Figures, not a test: nothing here fails on a
# number (except callbacks that fire early, which must never happen).
#
# Usage: bench/timer-lateness.sh [PORT]   (run `make` first)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
prefix=$top/build/httpd
work=$top/build/bench/timer-lateness
port=${1:-18290}

[ -x "$prefix/bin/apxs" ] || { echo "timer-lateness: run make first" >&2; exit 1; }
mkdir -p "$work/logs"
cp "$top/bench/timer-lateness/mod_timer_lateness.c" "$work/"
(cd "$work" && "$prefix/bin/apxs" -c mod_timer_lateness.c >"$work/apxs.log" 2>&1) \
    || { cat "$work/apxs.log" >&2; exit 1; }

cat >"$work/httpd.conf" <<CONF
ServerRoot "$prefix"
Listen 127.0.0.1:$port
ServerName 127.0.0.1
PidFile "$work/httpd.pid"
ErrorLog "$work/logs/error_log"
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule unixd_module modules/mod_unixd.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule timer_lateness_module "$work/.libs/mod_timer_lateness.so"
User nobody
Group nogroup
DocumentRoot "$work"
<Location /timer-lateness>
    SetHandler timer-lateness
</Location>
CONF

"$prefix/bin/httpd" -f "$work/httpd.conf" -k start
trap '"$prefix/bin/httpd" -f "$work/httpd.conf" -k stop' EXIT
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done

echo "timer lateness, event MPM, $(nproc) cores, $(date -u +%Y-%m-%d)"
printf '%-8s %-8s %-7s %s\n' timers period rounds "result (us)"
for spec in "1000 200 20" "10000 200 20" "10000 100 20" "20000 200 10"; do
    set -- $spec
    res=$(curl -s -m 120 "http://127.0.0.1:$port/timer-lateness?timers=$1&period=$2&rounds=$3")
    printf '%-8s %-8s %-7s %s\n' "$1" "$2ms" "$3" "$res"
done
