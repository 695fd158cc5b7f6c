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
# build-httpd.sh WORKTREE PREFIX LOGDIR
#
# Configures (when needed), builds and installs the working copy made by
# build/sync-tree.sh into PREFIX.  httpd's configure runs only the first
# time, when its arguments change, or when the patch series changed
# httpd's build system (markers left by sync-tree.sh); a changed
# Makefile.in alone is regenerated with httpd's build/fastgen.sh, as its
# configure does.  Nothing is done when the tree is not "dirty".  The
# first install is httpd's full `make install`; later ones install only
# the parts that the build rewrote (see below).
#
# Environment (set by the Makefile): APR_CONFIG APU_CONFIG PCRE_CONFIG
# JOBS HTTPD_SAN_CFLAGS HTTPD_SAN_LDFLAGS, and V=1 to show the output of
# httpd's configure/make/install instead of only logging it.

set -euo pipefail

work=${1:?usage: build-httpd.sh WORKTREE PREFIX LOGDIR}
prefix=${2:?}
logdir=${3:?}
state="$work/.project-sync"
JOBS=${JOBS:-3}
V=${V:-0}

# Our own make's flags (jobserver, -n, ...) are not meant for httpd's.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true

mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)

say() {
    echo "build-httpd: $*"
}

# run STEP CMD...: runs CMD in the work tree, output to LOGDIR/httpd-STEP.log
# (and to the terminal with V=1); on failure shows the end of the log.
run() {
    local step=$1 log="$logdir/httpd-$1.log" rc=0 start=$SECONDS
    shift
    say "$step: $(printf '%q ' "$@")(log: $log)"
    if [ "$V" = 1 ]; then
        (cd "$work" && "$@") 2>&1 | tee "$log" || rc=$?
    else
        (cd "$work" && "$@") >"$log" 2>&1 || rc=$?
    fi
    if [ $rc -ne 0 ]; then
        echo "build-httpd: $step FAILED; the last lines of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    say "$step done in $((SECONDS - start))s"
}

# Debian's reproducible_builds.diff makes server/buildmark.c use
# BUILD_DATETIME, which debian/rules defines from the changelog; do the
# same (a plain upstream tree ignores it).  Stable, so that the arguments
# below only change when an option does.
if [ -f "$work/debian/changelog" ] && command -v dpkg-parsechangelog >/dev/null; then
    build_datetime=$(date -u -d "$(dpkg-parsechangelog -l "$work/debian/changelog" -S Date)" +%FT%T)
else
    build_datetime=$(date -u -r "$work/include/ap_release.h" +%FT%T)
fi

args=(
    --prefix="$prefix"
    --with-apr="${APR_CONFIG:-/usr/bin/apr-1-config}"
    --with-apr-util="${APU_CONFIG:-/usr/bin/apu-1-config}"
    --with-pcre="${PCRE_CONFIG:-/usr/bin/pcre2-config}"
    --enable-so
    --enable-mpms-shared="event worker prefork"
    --with-mpm=event
    # "most" builds status, ratelimit, headers, setenvif, rewrite, http2
    # (with libnghttp2), cgid, alias, mime, dir, autoindex, log_config and
    # authz_*; mod_cgi is only built by default with a non-threaded MPM,
    # and the test suite runs prefork too.
    --enable-mods-shared="most cgi"
    # The stock mod_dialup cannot resume a suspended request: the
    # project's modules/dialup replaces it.
    --disable-dialup
    CPPFLAGS="-DBUILD_DATETIME='\"$build_datetime\"'"
)
# Hook for --enable-sanitizer: httpd itself built with ASan/UBSan.
if [ -n "${HTTPD_SAN_CFLAGS:-}" ]; then
    args+=(CFLAGS="-O1 $HTTPD_SAN_CFLAGS" LDFLAGS="${HTTPD_SAN_LDFLAGS:-}")
fi

want_args=$(printf '%s\n' "${args[@]}")
have_args=$(cat "$state/configure-args" 2>/dev/null || true)

if [ ! -f "$state/dirty" ] && [ "$want_args" = "$have_args" ] &&
   [ ! -f "$state/need-configure" ] && [ ! -f "$state/regen-makefiles" ] &&
   [ -x "$prefix/bin/httpd" ]; then
    say "httpd in $prefix is up to date"
    exit 0
fi

total_start=$SECONDS
full_install=no
[ -f "$state/installed" ] && [ -x "$prefix/bin/httpd" ] || full_install=yes

if [ ! -f "$work/config.status" ] || [ "$want_args" != "$have_args" ] ||
   [ -f "$state/need-configure" ]; then
    if [ -f "$work/config.status" ] && [ "$want_args" != "$have_args" ]; then
        # Different flags: objects built with the old ones must go.
        say "configure arguments changed: cleaning the httpd build first"
        run clean make clean
    fi
    if [ -f "$state/need-buildconf" ]; then
        say "the patch series changed configure.in / config.m4: regenerating configure"
        run buildconf ./buildconf --with-apr="${APR_CONFIG:-apr-1-config}" \
                                  --with-apr-util="${APU_CONFIG:-apu-1-config}"
    fi
    run configure ./configure "${args[@]}"
    printf '%s\n' "$want_args" >"$state/configure-args"
    rm -f "$state/need-configure" "$state/need-buildconf" "$state/regen-makefiles"
    full_install=yes
elif [ -f "$state/regen-makefiles" ]; then
    for mk in $(LC_ALL=C sort -u "$state/regen-makefiles"); do
        say "regenerating $mk from the patched $mk.in"
        (cd "$work" && ${SHELL:-/bin/sh} build/fastgen.sh . yes no "$mk")
    done
    rm -f "$state/regen-makefiles"
    full_install=yes
fi

run make make -j"$JOBS"

# Installing: the first time, and after httpd's configure or Makefiles
# changed, `make install` of the whole tree.  Otherwise `make install` of
# only the parts whose products the build just rewrote: the top directory
# for the httpd binary, the directory of each rebuilt DSO (mod_*.la), and
# install-include for headers.  httpd's install runs libtool once per file
# (two minutes on two cores for the whole tree) and rewrites what did not
# change; any other rewritten product falls back to the full install.
install_dirs=()
install_include=no
if [ $full_install = no ]; then
    while IFS= read -r f; do
        f=${f#./}
        case "$f" in
        .project-sync/*|*.c|*.lo|*.o|*.slo|*/.libs/*|.libs/*|*.deps|*/lib*.la|lib*.la|\
        server/exports.c|server/export_files|server/export_vars.h|server/httpd.exp|\
        server/test_char.h|server/gen_test_char|modules.c)
            ;;                                  # intermediate files
        httpd)
            install_dirs+=(.) ;;
        modules/*/mod_*.la|server/mpm/*/mod_*.la)
            install_dirs+=("$(dirname "$f")") ;;
        *.h)
            install_include=yes ;;
        *)
            say "rebuilt $f: doing a full make install"
            full_install=yes
            break
            ;;
        esac
    done < <(cd "$work" && find . -newer "$state/installed" -type f)
fi

if [ $full_install = yes ]; then
    run install make install
else
    if [ ${#install_dirs[@]} -gt 0 ]; then
        mapfile -t install_dirs < <(printf '%s\n' "${install_dirs[@]}" | LC_ALL=C sort -u)
    fi
    for d in "${install_dirs[@]}"; do
        if [ "$d" = . ]; then
            # The top directory's install would be the full one: only its
            # own binary (rules.mk's program-install).
            run install-httpd make program-install
        else
            run install-"${d//\//-}" make -C "$d" install
        fi
    done
    if [ $install_include = yes ]; then
        run install-include make install-include
    fi
    if [ ${#install_dirs[@]} -eq 0 ] && [ $install_include = no ]; then
        say "no installed file was rebuilt: nothing to install"
    fi
fi
# The mark is set after installing: what the next build rewrites in the
# tree is newer than it, and what this install wrote (build/config_vars.out)
# is not.
touch "$state/installed"

for f in bin/httpd bin/apxs bin/apachectl modules/mod_mpm_event.so include/httpd.h conf/httpd.conf; do
    [ -e "$prefix/$f" ] || { echo "build-httpd: $prefix/$f is missing after install" >&2; exit 1; }
done
rm -f "$state/dirty"
say "httpd built and installed into $prefix in $((SECONDS - total_start))s"
