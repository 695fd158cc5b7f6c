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
# deb-check.sh DEBDIR CACHEDIR PORT
#
# `make deb-check`: installs the packages of `make deb` (DEBDIR, build/deb)
# into a minimal Debian 12 root and checks, from outside the root, that
# they make a working apache2 with mod_dialup.  Runs as root.
#
#   1. The root: mmdebstrap --variant=apt of bookworm with Debian's stock
#      apache2 at the version our build is made from (V, without the
#      +suspendN), kept as CACHEDIR/root-V.tar.  Debian's stock packages
#      of V are kept in CACHEDIR/stock-V/ (apt-get download) to go back to.
#      Both are made once; each run unpacks the tarball afresh.
#   2. In a mount namespace of its own (unshare -m: /proc and /dev mounted
#      into the root vanish with it), with a policy-rc.d that keeps
#      maintainer scripts from starting services, apache2 is started with
#      apache2ctl on 127.0.0.1:PORT, one event child of 4 threads, and
#      checked with curl from this machine:
#        stock   Debian's V serves a file; apt refuses to install
#                libapache2-mod-dialup beside it;
#        upgrade apt-get install ./*.deb over it: versions, file owners,
#                the module not enabled by the install;
#        enable  a2enmod dialup, a site with ModemStandard V.92: a paced
#                download takes the time of its bytes at 56 kbit/s, 24 of
#                them at once on 4 threads all run side by side
#                (server-status shows them suspended, at most 2 workers
#                busy: its own request and a pulse);
#        disable a2dismod dialup + graceful: full speed;
#        next    an upgrade to a next build of ours (the same packages at a
#                version one step higher, repacked with dpkg-deb) keeps
#                the module enabled and paced;
#        remove  apt-get remove libapache2-mod-dialup: disabled, its
#                dialup.conf kept, apache2 works;
#        stock   back to Debian's V (--allow-downgrades): apache2 works,
#                Debian's dialup.load and mod_dialup.so are Debian's
#                again; purge of libapache2-mod-dialup leaves them.
#      Every apache2 is stopped by the PID in its pid file, every curl by
#      its PID.
#
# Prints "deb-check: ok" and exits 0 when every check passed.

set -euo pipefail

debdir=${1:?usage: deb-check.sh DEBDIR CACHEDIR PORT}
cache=${2:?}
port=${3:?}

say() { echo "deb-check: $*"; }
die() { echo "deb-check: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot, unshare)"
debdir=$(cd "$debdir" && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
root="$cache/root"

# --- outside the namespace: the root, then this script again inside -------

if [ -z "${DEB_CHECK_INSIDE:-}" ]; then
    bin=$(ls "$debdir"/apache2-bin_*.deb 2>/dev/null | head -n 1)
    [ -n "$bin" ] || die "no apache2-bin_*.deb in $debdir: run make deb first"
    ours=$(dpkg-deb -f "$bin" Version)
    stock=${ours%+*}
    [ "$stock" != "$ours" ] || die "$bin ($ours) is not a local build (no +suspendN)"

    need=()
    for p in mmdebstrap curl util-linux; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        say "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" ||
            { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
                  apt-get install -y -q --no-install-recommends "${need[@]}"; }
    fi

    tarball="$cache/root-$stock.tar"
    if [ ! -s "$tarball" ]; then
        say "making a Debian 12 root with stock apache2 $stock (mmdebstrap, once; cached as $tarball)"
        start=$(date +%s)
        # The mirrors this machine's apt uses (they may be snapshots: no
        # Valid-Until check, as in the host's apt configuration).
        mmdebstrap --variant=apt --format=tar --quiet \
            --aptopt='Acquire::Check-Valid-Until "false"' \
            --aptopt='Acquire::Check-Date "false"' \
            --include="apache2=$stock,apache2-bin=$stock,apache2-data=$stock,apache2-utils=$stock" \
            bookworm "$tarball.part" \
            "deb http://deb.debian.org/debian bookworm main" \
            "deb http://deb.debian.org/debian bookworm-updates main" \
            "deb http://deb.debian.org/debian-security bookworm-security main" ||
            { rm -f "$tarball.part"; die "mmdebstrap failed"; }
        mv "$tarball.part" "$tarball"
        say "root made in $(( $(date +%s) - start )) s"
    fi
    stockdir="$cache/stock-$stock"
    if ! ls "$stockdir"/apache2-bin_*.deb >/dev/null 2>&1; then
        say "downloading Debian's stock packages $stock (once; $stockdir)"
        rm -rf "$stockdir.part"
        mkdir -p "$stockdir.part"
        (cd "$stockdir.part" && apt-get download -q \
             "apache2=$stock" "apache2-bin=$stock" "apache2-data=$stock" "apache2-utils=$stock") ||
            die "apt-get download of apache2 $stock failed"
        rm -rf "$stockdir"
        mv "$stockdir.part" "$stockdir"
    fi

    # A root left by an interrupted run: never remove it while something is
    # mounted in it (its /dev would be the machine's).
    if [ -e "$root" ]; then
        if grep -q " $root/" /proc/mounts; then
            die "$root still has mounts (an earlier run?): $(grep " $root/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"
        fi
        rm -rf "$root"
    fi
    mkdir -p "$root"
    tar -xf "$tarball" -C "$root"

    rc=0
    DEB_CHECK_INSIDE=1 DEB_CHECK_OURS="$ours" DEB_CHECK_STOCK="$stock" \
        DEB_CHECK_STOCKDIR="$stockdir" \
        unshare --mount --propagation private -- "$0" "$@" || rc=$?
    if grep -q " $root/" /proc/mounts; then
        say "mounts left in $root; the root is kept"
    else
        rm -rf "$root"
    fi
    exit "$rc"
fi

# --- inside the namespace ----------------------------------------------------

ours=$DEB_CHECK_OURS
stock=$DEB_CHECK_STOCK
stockdir=$DEB_CHECK_STOCKDIR
base="http://127.0.0.1:$port"

mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mkdir -p "$root/tmp/debs" "$root/tmp/stock" "$root/tmp/next"
cp "$debdir"/*.deb "$root/tmp/debs/"
cp "$stockdir"/*.deb "$root/tmp/stock/"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

curl_pids=()
cleanup() {
    local p
    for p in "${curl_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_apache quiet || true
    # Anything else still running in the root was started here (by a
    # maintainer script, say): stopped by PID.
    for p in $(root_pids); do kill -KILL "$p" 2>/dev/null || true; done
}

# root_pids: the processes whose root directory is the root.
root_pids() {
    local d
    for d in /proc/[0-9]*; do
        [ "$(readlink "$d/root" 2>/dev/null)" = "$root" ] && echo "${d#/proc/}"
    done
    return 0
}
trap cleanup EXIT

# stop_apache [quiet]: stops the apache2 of the pid file, by its PID.
# (/var/run is a symbolic link to /run: read inside the root.)
stop_apache() {
    local pidf="$root/run/apache2/apache2.pid" pid i
    [ -s "$pidf" ] || return 0
    pid=$(cat "$pidf")
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidf"; return 0; }
    [ "$(readlink "/proc/$pid/root")" = "$root" ] ||
        die "pid $pid of $pidf does not run in the root"
    kill -TERM "$pid"
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        [ -n "${1:-}" ] || say "apache2 $pid did not stop in 20 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        # Its children go with the process group's parent only by signal.
        pkill -KILL -P "$pid" 2>/dev/null || true
    fi
    rm -f "$pidf"
}

# start_apache: apache2ctl start, then wait (up to 20 s) until it answers.
start_apache() {
    local i
    in_root apache2ctl start || { tail -n 20 "$root/var/log/apache2/error.log" >&2; die "apache2ctl start failed"; }
    for ((i = 0; i < 200; i++)); do
        curl -s -o /dev/null "$base/" && return 0
        sleep 0.1
    done
    tail -n 20 "$root/var/log/apache2/error.log" >&2
    die "apache2 did not answer on $base within 20 s"
}

# graceful: apache2ctl graceful, then wait (up to 20 s) until the server
# reports the next configuration generation.
graceful() {
    local gen0 gen i
    gen0=$(status_field ParentServerConfigGeneration) || die "no server-status before graceful"
    in_root apache2ctl graceful || die "apache2ctl graceful failed"
    for ((i = 0; i < 200; i++)); do
        gen=$(status_field ParentServerConfigGeneration || echo "$gen0")
        [ "$gen" != "$gen0" ] && return 0
        sleep 0.1
    done
    die "apache2ctl graceful: still generation $gen0 after 20 s"
}

# status_field NAME: the value of NAME in server-status?auto.
status_field() {
    curl -s "$base/server-status?auto" | awk -F': ' -v k="$1" '$1 == k {print $2; f = 1} END {exit !f}'
}

# timed PATH: prints "seconds bytes" of one GET.
timed() {
    curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$base$1"
}

# within VALUE LOW HIGH: LOW <= VALUE <= HIGH (decimals).
within() {
    awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(v >= lo && v <= hi)}'
}

owner_of() {
    in_root dpkg-query -S "$1" 2>/dev/null | cut -d: -f1
}

version_of() {
    in_root dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}

# The server: one event child of 4 threads on 127.0.0.1:PORT, a 21,000-byte
# file paced at V.92 (56 kbit/s: 3.0 s) where the module is loaded.
setup_site() {
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    printf 'Listen 127.0.0.1:%s\n' "$port" >"$root/etc/apache2/ports.conf"
    cat >"$root/etc/apache2/conf-available/deb-check-mpm.conf" <<EOF
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 1
    ThreadsPerChild 4
    MaxRequestWorkers 4
    MinSpareThreads 1
    MaxSpareThreads 4
</IfModule>
ExtendedStatus On
ServerName localhost
EOF
    cat >"$root/etc/apache2/sites-available/deb-check.conf" <<EOF
<VirtualHost 127.0.0.1:$port>
    DocumentRoot /var/www/deb-check
    <Directory /var/www/deb-check>
        Require all granted
    </Directory>
    <IfModule mod_dialup.c>
        <Location "/slow/">
            ModemStandard V.92
            DialupLine per-request
        </Location>
    </IfModule>
    <Location "/server-status">
        SetHandler server-status
        Require ip 127.0.0.1
    </Location>
</VirtualHost>
EOF
    mkdir -p "$root/var/www/deb-check/slow"
    head -c 21000 /dev/urandom >"$root/var/www/deb-check/slow/21k.bin"
    cp "$root/var/www/deb-check/slow/21k.bin" "$root/var/www/deb-check/21k.bin"
    in_root a2dissite -q 000-default >/dev/null
    in_root a2ensite -q deb-check >/dev/null
    in_root a2enconf -q deb-check-mpm >/dev/null
    in_root apache2ctl configtest 2>&1 | grep -q 'Syntax OK' || die "configtest failed"
}

check() { say "ok: $*"; }

# check_download paced|full WHAT: one GET of /slow/21k.bin, 21,000 bytes.
# Paced at 56,000 bit/s it takes 3.0 s of bytes: within 2.7 .. 6 s
# (generous upward for a loaded machine); at full speed well under 1.5 s.
check_download() {
    local t n lo hi want
    case "$1" in
    paced) lo=2.7 hi=6   want="about 3.0 s at V.92 (56 kbit/s)" ;;
    full)  lo=0   hi=1.5 want="full speed" ;;
    esac
    read -r t n < <(timed /slow/21k.bin)
    [ "$n" = 21000 ] || die "$2: /slow/21k.bin gave $n bytes"
    within "$t" "$lo" "$hi" || die "$2: /slow/21k.bin took $t s, expected $want"
    check "$2: 21,000 bytes in $t s ($want)"
}

say "packages: ours $ours, Debian's $stock"

# 1. Stock.
setup_site
[ "$(version_of apache2-bin)" = "$stock" ] || die "the root's apache2-bin is $(version_of apache2-bin), not $stock"
start_apache
check_download full "stock $stock"
stop_apache

# 2. The module alone beside Debian's apache2-bin: apt refuses it.
if in_root sh -c 'cd /tmp/debs && apt-get install -y -q --no-install-recommends \
        ./libapache2-mod-dialup_[0-9]*.deb' >"$cache/refuse.log" 2>&1; then
    die "apt installed libapache2-mod-dialup beside Debian's apache2-bin $stock"
fi
grep -q 'apache2-suspend-api' "$cache/refuse.log" ||
    { tail -n 20 "$cache/refuse.log" >&2; die "apt refused libapache2-mod-dialup, but not for apache2-suspend-api"; }
[ -z "$(version_of libapache2-mod-dialup)" ] || die "libapache2-mod-dialup got installed beside stock"
check "apt refuses libapache2-mod-dialup beside Debian's apache2-bin (apache2-suspend-api)"

# Upgrade from stock to ours.
say "apt-get install ./*.deb over stock"
in_root sh -c 'cd /tmp/debs && apt-get install -y -q --no-install-recommends \
    ./apache2_*.deb ./apache2-bin_*.deb ./apache2-data_*.deb ./apache2-utils_*.deb \
    ./libapache2-mod-dialup_*.deb' >"$cache/install.log" 2>&1 ||
    { tail -n 30 "$cache/install.log" >&2; die "installing our packages over stock failed"; }
for p in apache2 apache2-bin apache2-data apache2-utils; do
    [ "$(version_of $p)" = "$ours" ] || die "$p is $(version_of $p) after the upgrade, not $ours"
done
[ -n "$(version_of libapache2-mod-dialup)" ] || die "libapache2-mod-dialup is not installed"
for f in /usr/lib/apache2/modules/mod_dialup.so /etc/apache2/mods-available/dialup.load \
         /etc/apache2/mods-available/dialup.conf; do
    [ "$(owner_of "$f")" = libapache2-mod-dialup ] || die "$f belongs to '$(owner_of "$f")'"
done
in_root a2query -q -m dialup && die "the install enabled mod_dialup (it must wait for a2enmod)"
check "upgrade: $ours installed over $stock; the module's files are libapache2-mod-dialup's, not enabled"
start_apache
check_download full "ours, module not enabled"
stop_apache

# 3. Enable: paced, thread-free.
in_root a2enmod -q dialup >/dev/null || die "a2enmod dialup failed"
in_root a2query -q -m dialup || die "a2enmod dialup did not enable it"
start_apache
in_root apache2ctl -M 2>/dev/null | grep -q 'dialup_module' || die "dialup_module not loaded"
[ "$(status_field ServerMPM)" = event ] || die "the MPM is $(status_field ServerMPM), not event"
check_download paced "a2enmod dialup"

# 24 downloads at once on 4 threads: thread-free pacing runs them side by
# side (about 3 s for all); a thread each would take 6 rounds (18 s).
n=24
tmp="$cache/par"
rm -rf "$tmp"; mkdir -p "$tmp"
start=$(date +%s.%N)
curl_pids=()
for ((i = 0; i < n; i++)); do
    curl -s -o /dev/null -w '%{size_download}\n' "$base/slow/21k.bin" >"$tmp/$i" &
    curl_pids+=($!)
done
seen=0
for ((i = 0; i < 50; i++)); do
    s=$(status_field ConnsAsyncSuspended || echo 0)
    b=$(status_field BusyWorkers || echo 99)
    # The status request itself is one busy worker, a pulse may be another.
    if [ "$s" -ge $((n / 2)) ] && [ "$b" -le 2 ]; then
        seen=1
        break
    fi
    sleep 0.1
done
for p in "${curl_pids[@]}"; do wait "$p" || true; done
curl_pids=()
wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
[ "$seen" = 1 ] || die "server-status never showed $((n / 2))+ downloads suspended with at most 2 workers busy (last: $s suspended, $b busy)"
[ "$(cat "$tmp"/* | grep -c '^21000$')" = "$n" ] || die "not every one of the $n downloads got its 21,000 bytes"
within "$wall" 2.7 9 || die "$n downloads on 4 threads took $wall s (thread-free: about 3 s; a thread each: 18 s)"
check "$n paced downloads on 4 threads in $wall s; server-status: $s suspended, $b busy"

# 4. Disable: full speed after a reload.
in_root a2dismod -q dialup >/dev/null || die "a2dismod dialup failed"
graceful
# The old generation's child may still take a connection while it drains:
# full speed within 20 s (a paced answer takes 3 s, cut off at 1.5 s).
fast=""
for ((i = 0; i < 20; i++)); do
    t=$(curl -s -o /dev/null --max-time 1.5 -w '%{time_total}' "$base/slow/21k.bin") && { fast=$t; break; }
    sleep 0.5
done
[ -n "$fast" ] || die "a2dismod dialup + graceful: still paced after 20 s"
check_download full "a2dismod dialup + graceful"
stop_apache

# 5. A next build of ours: the same packages, one version up.
say "upgrade to a next build (repacked one version up)"
next_of() { echo "$1.1"; }
for deb in "$root"/tmp/debs/apache2_*.deb "$root"/tmp/debs/apache2-bin_*.deb \
           "$root"/tmp/debs/apache2-data_*.deb "$root"/tmp/debs/apache2-utils_*.deb \
           "$root"/tmp/debs/libapache2-mod-dialup_[0-9]*.deb; do
    x="$cache/repack"
    rm -rf "$x"
    dpkg-deb -R "$deb" "$x"
    v=$(sed -n 's/^Version: //p' "$x/DEBIAN/control")
    # Every exact reference to a version of ours moves with it.
    sed -i -e "s/(= $ours)/(= $(next_of "$ours"))/g" \
           -e "s/^Version: .*/Version: $(next_of "$v")/" "$x/DEBIAN/control"
    dpkg-deb -b -Zgzip "$x" "$root/tmp/next/" >/dev/null
done
rm -rf "$cache/repack"
in_root a2enmod -q dialup >/dev/null
in_root sh -c 'cd /tmp/next && apt-get install -y -q --no-install-recommends ./*.deb' \
    >"$cache/install-next.log" 2>&1 ||
    { tail -n 30 "$cache/install-next.log" >&2; die "upgrading to the next build failed"; }
[ "$(version_of apache2-bin)" = "$(next_of "$ours")" ] || die "apache2-bin is $(version_of apache2-bin) after the next upgrade"
in_root a2query -q -m dialup || die "the upgrade disabled mod_dialup"
start_apache
check_download paced "next build $(next_of "$ours"), module still enabled"
stop_apache

# 6. Remove the module: disabled, config kept, apache2 works.
in_root apt-get remove -y -q libapache2-mod-dialup >"$cache/remove.log" 2>&1 ||
    { tail -n 30 "$cache/remove.log" >&2; die "apt-get remove libapache2-mod-dialup failed"; }
in_root a2query -q -m dialup && die "mod_dialup still enabled after remove"
[ -e "$root/usr/lib/apache2/modules/mod_dialup.so" ] && die "mod_dialup.so left after remove"
[ -e "$root/etc/apache2/mods-available/dialup.conf" ] || die "dialup.conf removed with the package (kept until purge)"
start_apache
check_download full "apt-get remove libapache2-mod-dialup"
stop_apache

# 7. Back to Debian's stock packages.
in_root sh -c 'cd /tmp/stock && apt-get install -y -q --no-install-recommends --allow-downgrades ./*.deb' \
    >"$cache/downgrade.log" 2>&1 ||
    { tail -n 30 "$cache/downgrade.log" >&2; die "going back to Debian's $stock failed"; }
for p in apache2 apache2-bin apache2-data apache2-utils; do
    [ "$(version_of $p)" = "$stock" ] || die "$p is $(version_of $p) after going back, not $stock"
done
in_root apache2ctl configtest 2>&1 | grep -q 'Syntax OK' || die "configtest failed on stock"
[ "$(owner_of /etc/apache2/mods-available/dialup.load)" = apache2 ] ||
    die "Debian's dialup.load is not apache2's again: '$(owner_of /etc/apache2/mods-available/dialup.load)'"
[ "$(owner_of /usr/lib/apache2/modules/mod_dialup.so)" = apache2-bin ] ||
    die "Debian's mod_dialup.so is not apache2-bin's again"
start_apache
check_download full "back to Debian's $stock"
stop_apache
in_root apt-get purge -y -q libapache2-mod-dialup >"$cache/purge.log" 2>&1 ||
    { tail -n 30 "$cache/purge.log" >&2; die "apt-get purge libapache2-mod-dialup failed"; }
[ -e "$root/etc/apache2/mods-available/dialup.conf" ] && die "dialup.conf left after purge"
[ -e "$root/etc/apache2/mods-available/dialup.load" ] || die "the purge took Debian's dialup.load"
in_root apache2ctl configtest 2>&1 | grep -q 'Syntax OK' || die "configtest failed after purge"
check "purge: dialup.conf gone, stock apache2 configures"

say "ok"
