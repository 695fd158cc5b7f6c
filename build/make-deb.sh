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
# make-deb.sh SRCDIR DEBIAN-DL OUTDIR LOCAL
#
# `make deb`: Debian's apache2 binary packages with this project's series,
# and libapache2-mod-dialup, into OUTDIR (build/deb).
#
#   SRCDIR     the project (server/patches, include/, packaging/, modules/)
#   DEBIAN-DL  where build/get-source.sh downloaded Debian's apache2 source
#              (build/src/debian: "downloaded" names the .dsc)
#   OUTDIR     build/deb: *.deb, *.changes, *.buildinfo, lintian.log;
#              OUTDIR/work holds the unpacked trees
#   LOCAL      the local version suffix, e.g. "suspend1": Debian's version
#              V becomes V+LOCAL (see "The version" below)
#
# 1. apache2.  Debian's source is unpacked afresh with dpkg-source -x (all
#    of Debian's patches applied, none reverted: these are Debian's
#    packages, FHS layout and all).  The series is appended to
#    debian/patches/series under debian/patches/suspend/, after a patch
#    made here that adds the files the project owns (server/mpm_timerq.c,
#    include/mpm_timerq.h), and applied with quilt --fuzz=0 as dpkg-source
#    would.  Then these edits of Debian's packaging, each named in the
#    changelog entry:
#      - apache2-bin Provides apache2-suspend-api (= 1), apache2-dev
#        Provides apache2-suspend-dev (= 1): what libapache2-mod-dialup
#        depends and build-depends on;
#      - stock httpd's test module mod_dialup (modules/test/mod_dialup.c)
#        is not built and Debian's mods-available/dialup.load is not
#        shipped: libapache2-mod-dialup installs both paths (it Replaces
#        and Breaks the older apache2 and apache2-bin);
#      - apache2 no longer depends on lsb-base (lintian's one error),
#        and overrides for the warnings of Debian's packaging;
#      - a changelog entry at the local version.
#    dpkg-buildpackage -b -uc -us builds every binary package of the
#    source (the five of the issue and the rest of Debian's set).
# 2. The patched apache2-dev is installed on this machine (apt-get
#    install ./apache2-dev_*.deb): its headers and dh_apache2 are what the
#    module package builds with, the way a module author would.
# 3. libapache2-mod-dialup from packaging/debian and modules/dialup.
# 4. lintian on every .changes; fails on errors and warnings.
#
# The version.  V+LOCAL (2.4.68-1~deb12u1+suspend1) sorts just above
# Debian's V and below Debian's next revision of it (2.4.68-1~deb12u2),
# the convention of local rebuilds (dch --local).  A Debian update of
# apache2 therefore wins over ours: apt then offers to remove
# libapache2-mod-dialup (its Depends can no longer be met) rather than
# run the module on a server without the suspend API; `make deb` on the
# new source builds ours again.  A new build of ours on the same Debian
# version needs LOCAL bumped (suspend2) to upgrade cleanly.

set -euo pipefail

srcdir=${1:?usage: make-deb.sh SRCDIR DEBIAN-DL OUTDIR LOCAL}
dl=${2:?}
out=${3:?}
local_suffix=${4:?}
srcdir=$(cd "$srcdir" && pwd)
dl=$(cd "$dl" && pwd)
jobs=${JOBS:-$(nproc)}

say() { echo "make-deb: $*"; }
die() { echo "make-deb: $*" >&2; exit 1; }

[ -f "$dl/downloaded" ] ||
    die "no Debian apache2 source in $dl: \`make deb\` builds from Debian's source" \
        "package; run ./configure (the default --with-httpd-source=debian) and make"
dsc="$dl/$(sed -n 2p "$dl/downloaded")"
[ -f "$dsc" ] || die "$dsc is missing: remove $dl/downloaded and run make again"

[ "$(id -u)" = 0 ] || [ -n "${MAKE_DEB_NO_APT:-}" ] ||
    die "run as root: it installs the build dependencies and the patched apache2-dev"

mkdir -p "$out"
out=$(cd "$out" && pwd)
work="$out/work"
rm -rf "$work"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$out"/lintian.log
mkdir -p "$work"

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
              apt-get install -y -q --no-install-recommends "$@"; }
}

# The tools around dpkg-buildpackage (build dependencies come below).
need=()
for p in dpkg-dev debhelper quilt lintian fakeroot; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt_install "${need[@]}"
fi

# --- 1. apache2 -------------------------------------------------------------

say "unpacking $(basename "$dsc")"
(cd "$work" && dpkg-source -q -x "$dsc" apache2) >"$work/dpkg-source.log" 2>&1 ||
    { cat "$work/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
tree="$work/apache2"
deb_version=$(cd "$tree" && dpkg-parsechangelog -S Version)
distribution=$(cd "$tree" && dpkg-parsechangelog -S Distribution)
version="$deb_version+$local_suffix"
say "Debian's apache2 $deb_version, ours $version"

# The files the project owns, as one patch that adds them.
pdir="$tree/debian/patches/suspend"
mkdir -p "$pdir"
owned=0000-mpm-timerq-files.patch
{
    cat <<'HDR'
Description: Add the files of the suspend series: the timer heap of the event MPM
 server/mpm_timerq.c and include/mpm_timerq.h are the project's own files,
 beside the series in the project's repository.  This patch adds them to
 the tree; 0003-event-timer-heap.patch adds them to the build.
Author: mod_dialup project
Forwarded: no
HDR
    echo "Last-Update: $(cd "$srcdir" && git log -1 --format=%cs -- server/mpm_timerq.c \
                         include/mpm_timerq.h 2>/dev/null || date -u +%F)"
    echo
    for f in server/mpm_timerq.c include/mpm_timerq.h; do
        n=$(wc -l <"$srcdir/$f")
        echo "--- /dev/null"
        echo "+++ b/$f"
        echo "@@ -0,0 +1,$n @@"
        sed 's/^/+/' "$srcdir/$f"
    done
} >"$pdir/$owned"
echo "suspend/$owned" >>"$tree/debian/patches/series"
while read -r p; do
    case "$p" in ''|'#'*) continue ;; esac
    cp "$srcdir/server/patches/$p" "$pdir/$p"
    echo "suspend/$p" >>"$tree/debian/patches/series"
done <"$srcdir/server/patches/series"

say "applying the series on Debian's (quilt push --fuzz=0)"
(cd "$tree" && QUILT_PATCHES=debian/patches QUILT_PC=.pc \
     quilt push -a -q --fuzz=0) >"$work/quilt.log" 2>&1 ||
    { cat "$work/quilt.log" >&2; die "the series does not apply to Debian's $deb_version"; }

# Provides: on apache2-bin and apache2-dev.
perl -0pi -e '
    s/(\nPackage: apache2-bin\n(?:[^\n]+\n)*?Provides: \$\{apache2:API\})/$1, apache2-suspend-api (= 1)/
        or die "no Provides in apache2-bin\n";
    s/(\nPackage: apache2-dev\n(?:[^\n]+\n)*?Provides: dh-apache2)/$1, apache2-suspend-dev (= 1)/
        or die "no Provides in apache2-dev\n";
' "$tree/debian/control"

# Stock httpd's mod_dialup: not built, its .load not shipped.
perl -pi -e 's/(--enable-mods-static=)/--disable-dialup \\\n\t\t$1/ or 1' "$tree/debian/rules"
grep -q -- '--disable-dialup' "$tree/debian/rules" || die "cannot add --disable-dialup to debian/rules"
rm -f "$tree/debian/config-dir/mods-available/dialup.load"

# lintian: the one error in Debian's packaging (lsb-base is an empty
# transitional package in Debian 12; /lib/lsb/init-functions comes from
# sysvinit-utils, which is essential) is fixed, its warnings are
# overridden with the reasons in packaging/apache2/*.lintian-overrides.
perl -0pi -e 's/\n[ \t]+lsb-base,//' "$tree/debian/control"
for f in "$srcdir"/packaging/apache2/*.lintian-overrides*; do
    { echo; cat "$f"; } >>"$tree/debian/$(basename "$f")"
done

# The changelog entry.  Its date is that of the project's last commit, so
# that two builds of one commit make the same packages.
date=$(cd "$srcdir" && git log -1 --format=%cD 2>/dev/null || date -R)
maint="${DEBFULLNAME:-mod_dialup local build} <${DEBEMAIL:-mod-dialup@example.org}>"
commit=$(cd "$srcdir" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
{
    echo "apache2 ($version) $distribution; urgency=medium"
    echo
    echo "  * Local build: the suspend/resume series of mod_dialup ($commit)"
    echo "    appended to debian/patches/series (debian/patches/suspend/)."
    echo "    Completes SUSPENDED handlers in the core and the event MPM with"
    echo "    httpd trunk's API: AP_MPMQ_CAN_SUSPEND, ap_mpm_resume_suspended()."
    echo "  * apache2-bin Provides apache2-suspend-api (= 1), apache2-dev Provides"
    echo "    apache2-suspend-dev (= 1)."
    echo "  * Stock httpd's test module mod_dialup is not built and"
    echo "    mods-available/dialup.load is not shipped: libapache2-mod-dialup"
    echo "    provides both."
    echo "  * apache2 no longer depends on lsb-base (an empty transitional"
    echo "    package in Debian 12); lintian overrides for the warnings of"
    echo "    Debian's packaging."
    echo
    echo " -- $maint  $date"
    echo
    cat "$tree/debian/changelog"
} >"$tree/debian/changelog.new"
mv "$tree/debian/changelog.new" "$tree/debian/changelog"

if ! (cd "$tree" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
    [ -z "${MAKE_DEB_NO_APT:-}" ] || die "build dependencies missing (dpkg-checkbuilddeps in $tree)"
    say "installing apache2's build dependencies (apt-get build-dep)"
    DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q "$tree" ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q "$tree"; }
fi

say "building apache2 $version (dpkg-buildpackage -b, log in $work/apache2-build.log)"
start=$(date +%s)
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
     dpkg-buildpackage -b -uc -us) >"$work/apache2-build.log" 2>&1 ||
    { tail -n 60 "$work/apache2-build.log" >&2; die "dpkg-buildpackage of apache2 failed"; }
say "apache2 built in $(( $(date +%s) - start )) s"
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/

# --- 2. the patched apache2-dev on this machine --------------------------------

dev=$(ls "$out"/apache2-dev_*.deb)
if [ -z "${MAKE_DEB_NO_APT:-}" ]; then
    say "installing $(basename "$dev") here (headers and dh_apache2 for the module)"
    # --reinstall: a build of the same version with other headers replaces
    # the one installed before.
    apt_install --reinstall "$dev"
fi

# --- 3. libapache2-mod-dialup -------------------------------------------------

mod="$work/libapache2-mod-dialup"
mkdir -p "$mod/modules"
cp -r "$srcdir/packaging/debian" "$mod/debian"
cp -r "$srcdir/modules/dialup" "$mod/modules/dialup"
rm -f "$mod"/modules/dialup/*.o "$mod"/modules/dialup/*.lo "$mod"/modules/dialup/*.la
rm -rf "$mod/modules/dialup/.libs"
(cd "$mod" && dpkg-checkbuilddeps) >/dev/null 2>&1 || {
    [ -z "${MAKE_DEB_NO_APT:-}" ] || die "build dependencies of libapache2-mod-dialup missing"
    DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q "$mod"
}
say "building libapache2-mod-dialup (log in $work/mod-dialup-build.log)"
(cd "$mod" && DEB_BUILD_OPTIONS="parallel=$jobs" dpkg-buildpackage -b -uc -us) \
    >"$work/mod-dialup-build.log" 2>&1 ||
    { tail -n 60 "$work/mod-dialup-build.log" >&2; die "dpkg-buildpackage of libapache2-mod-dialup failed"; }
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/

# --- 4. lintian -----------------------------------------------------------------

say "lintian on every package (report in $out/lintian.log)"
rc=0
(cd "$out" && lintian --fail-on error,warning --info *.changes) >"$out/lintian.log" 2>&1 || rc=$?
grep -E '^[EW]: ' "$out/lintian.log" | sort | uniq -c | sort -rn | head -n 40 || true
[ "$rc" = 0 ] || die "lintian found errors or warnings (see $out/lintian.log)"

say "packages in $out:"
(cd "$out" && ls -1 *.deb | sed 's/^/  /')
