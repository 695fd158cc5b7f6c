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
# get-source.sh KIND SOURCE SRCROOT [REVERT]
#
# Obtains the pristine httpd 2.4.x tree and points SRCROOT/pristine at it.
# The pristine tree is never modified: build/sync-tree.sh copies it into
# the working copy SRCROOT/httpd and restores files from it.
#
#   KIND=debian   SOURCE is ignored.  `apt-get source --download-only
#                 apache2=VERSION` for each version apt knows (newest first)
#                 until one downloads, then `dpkg-source -x`, which applies
#                 Debian's patch series (debian/patches/series), into
#                 SRCROOT/debian/.  The Debian patches named in REVERT
#                 (space-separated, "none" for none) are then reverted.
#   KIND=dir      SOURCE is an unpacked httpd tree, used in place (read-only).
#   KIND=tarball  SOURCE is httpd-2.4.x.tar.{gz,bz2,xz}, unpacked into
#                 SRCROOT/tarball/.
#
# Prints the version used.  Exits non-zero with a reason on failure.

set -euo pipefail

kind=${1:?usage: get-source.sh KIND SOURCE SRCROOT [REVERT]}
source=${2:?}
srcroot=${3:?}
REVERT=${4:-}
[ "$REVERT" = none ] && REVERT=""

mkdir -p "$srcroot"
srcroot=$(cd "$srcroot" && pwd)

die() {
    echo "get-source: $*" >&2
    exit 1
}

# Sorts Debian version strings newest first, with dpkg's own ordering
# (sort -V gets "~" wrong).
sort_debian_versions() {
    local sorted=() v i j tmp
    while read -r v; do
        [ -n "$v" ] && sorted+=("$v")
    done
    for ((i = 1; i < ${#sorted[@]}; i++)); do
        for ((j = i; j > 0; j--)); do
            if dpkg --compare-versions "${sorted[j]}" gt "${sorted[j-1]}"; then
                tmp=${sorted[j]}
                sorted[j]=${sorted[j-1]}
                sorted[j-1]=$tmp
            else
                break
            fi
        done
    done
    [ ${#sorted[@]} -gt 0 ] && printf '%s\n' "${sorted[@]}"
    return 0
}

get_debian() {
    local dl="$srcroot/debian" versions v upstream dir dsc p

    mkdir -p "$dl"

    # 1. Download (once): the newest version apt knows whose files can
    #    actually be fetched.  "downloaded" records version and .dsc.
    if [ -f "$dl/downloaded" ] && [ -f "$dl/$(sed -n 2p "$dl/downloaded")" ]; then
        v=$(sed -n 1p "$dl/downloaded")
        echo "get-source: reusing the downloaded Debian apache2 source $v"
    else
        versions=$(apt-cache showsrc apache2 2>/dev/null |
                   awk '/^Package: /{p = $2} /^Version: /{if (p == "apache2") print $2}' |
                   sort -u | sort_debian_versions)
        if [ -z "$versions" ]; then
            die "apt knows no source package 'apache2': deb-src is missing from" \
                "the apt sources or 'apt-get update' has not run since it was" \
                "added.  Run ./build/bootstrap (as root), or use" \
                "./configure --with-httpd-source=DIR|TARBALL."
        fi
        echo "get-source: apt knows apache2 source versions:" $versions
        v=""
        for try in $versions; do
            upstream=${try#*:}
            echo "get-source: trying apt-get source --download-only apache2=$try"
            # A failed attempt can leave partial files behind.
            (cd "$dl" && rm -f apache2_"${upstream%-*}"* )
            if (cd "$dl" && apt-get source -q --download-only "apache2=$try") \
                   >"$dl/apt-get-source.log" 2>&1; then
                v=$try
                break
            fi
            echo "get-source: apache2=$try failed:" \
                 "$(grep -E '^(E|W): ' "$dl/apt-get-source.log" | grep -v unsandboxed |
                    head -n 2 | tr '\n' ' ')"
        done
        [ -n "$v" ] ||
            die "no apache2 source version could be downloaded (see $dl/apt-get-source.log)"
        upstream=${v#*:}
        printf '%s\n%s\n' "$v" "apache2_$upstream.dsc" >"$dl/downloaded"
        echo "get-source: downloaded Debian apache2 source $v"
    fi
    dsc=$(sed -n 2p "$dl/downloaded")
    upstream=${v#*:}
    upstream=${upstream%-*}
    dir="apache2-$upstream"

    # 2. Unpack with dpkg-source, which applies debian/patches/series.
    rm -rf "${dl:?}/$dir"
    (cd "$dl" && dpkg-source -q -x "$dsc" "$dir") >"$dl/dpkg-source.log" 2>&1 ||
        { cat "$dl/dpkg-source.log" >&2; die "dpkg-source -x $dsc failed"; }
    [ -f "$dl/$dir/include/ap_release.h" ] || die "dpkg-source did not unpack $dl/$dir"

    # 3. Revert the Debian patches that contradict a --prefix install.
    for p in $REVERT; do
        [ -f "$dl/$dir/debian/patches/$p" ] ||
            die "cannot revert $p: not in $dir/debian/patches"
        (cd "$dl/$dir" && patch -R -p1 --fuzz=0 --batch -s --no-backup-if-mismatch \
                               -i "debian/patches/$p") ||
            die "cannot revert $p in $dl/$dir"
        echo "get-source: reverted Debian's $p"
    done

    ln -sfn "debian/$dir" "$srcroot/pristine"
    echo "get-source: using Debian apache2 source $v (in $dl/$dir)"
}

get_dir() {
    [ -f "$source/include/ap_release.h" ] ||
        die "$source is not an unpacked httpd tree"
    ln -sfn "$source" "$srcroot/pristine"
    echo "get-source: using the httpd tree $source (read-only)"
}

get_tarball() {
    local tb="$srcroot/tarball" top
    [ -f "$source" ] || die "$source: no such file"
    rm -rf "$tb"
    mkdir -p "$tb"
    echo "get-source: unpacking $source"
    tar -xf "$source" -C "$tb"
    top=$(cd "$tb" && ls -d */ | head -n 1)
    top=${top%/}
    [ -n "$top" ] && [ -f "$tb/$top/include/ap_release.h" ] ||
        die "$source does not hold an httpd tree (no */include/ap_release.h)"
    ln -sfn "tarball/$top" "$srcroot/pristine"
    echo "get-source: using $top from $source"
}

case "$kind" in
debian)  get_debian ;;
dir)     get_dir ;;
tarball) get_tarball ;;
*)       die "unknown source kind '$kind'" ;;
esac

# The version of what we got, from the tree itself.
rel="$srcroot/pristine/include/ap_release.h"
ver=$(awk '/#define AP_SERVER_(MAJORVERSION|MINORVERSION|PATCHLEVEL)_NUMBER/ {printf "%s%s", sep, $3; sep = "."}' "$rel")
case "$ver" in
2.4.*) echo "get-source: httpd version $ver" ;;
*)     die "expected an httpd 2.4.x tree, found version '$ver'" ;;
esac

# A new identity for each new pristine tree (even at the same path):
# build/sync-tree.sh recreates a working copy made from another one.
echo "$(readlink -f "$srcroot/pristine") $ver $(date +%s.%N)" >"$srcroot/pristine.id"
