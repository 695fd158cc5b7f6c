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
# sync-tree.sh PROJECT_SRCDIR SRCROOT
#
# Brings the working copy SRCROOT/httpd to "pristine + the project's own
# files + server/patches/series", touching only the files whose content
# has to change, so that httpd's make rebuilds only what is affected.
#
#   1. The project's own files: every file under PROJECT/server/ except
#      server/patches/, and PROJECT/include/*.h, copied to the same
#      relative path in the tree.
#   2. The patch series PROJECT/server/patches/series (quilt format: one
#      patch name per line, '#' comments, an optional -pN after the name;
#      default -p1), applied in order with patch(1) --fuzz=0, as
#      dpkg-source does.  A missing or empty series builds unpatched.
#
# How: the files that differ from pristine now (owned + patched) and those
# that differed after the last run (the record in .project-sync/files) are
# copied from pristine into a scratch tree; (1) and (2) are applied there;
# then each file is compared with the working copy and copied over only
# if it differs (or, for an owned file, if the project's copy is newer),
# or deleted if it is no longer part of the result.  A patch that fails
# leaves the working copy as it was and this script exits 1.
#
# Afterwards it leaves markers in SRCROOT/httpd/.project-sync/ for
# build/build-httpd.sh: "dirty" (something changed), "need-configure" /
# "need-buildconf" (httpd's build system changed) and "regen-makefiles"
# (Makefile.in files to regenerate with httpd's build/fastgen.sh).
# Headers that changed have their includers touched, because httpd's
# Makefiles track no header dependencies.

set -euo pipefail

project=${1:?usage: sync-tree.sh PROJECT_SRCDIR SRCROOT}
srcroot=${2:?}
PATCH=${PATCH:-patch}
PATCH_FUZZ=${PATCH_FUZZ:-0}

project=$(cd "$project" && pwd)
srcroot=$(cd "$srcroot" && pwd)
pristine=$(readlink -f "$srcroot/pristine")
pristine_id=$(cat "$srcroot/pristine.id" 2>/dev/null || echo "$pristine")
work="$srcroot/httpd"
state="$work/.project-sync"
patchdir="$project/server/patches"
series="$patchdir/series"

say() {
    echo "sync-tree: $*"
}
die() {
    echo "sync-tree: $*" >&2
    exit 1
}

[ -d "$pristine" ] || die "no pristine tree at $srcroot/pristine (run make again)"

# A working copy of another pristine tree (the source changed) or of an
# interrupted copy is thrown away.
if [ -d "$work" ] &&
   [ "$(cat "$state/pristine" 2>/dev/null)" != "$pristine_id" ]; then
    say "working copy is not from the current $pristine: recreating it"
    rm -rf "$work"
fi
fresh=no
if [ ! -d "$work" ]; then
    fresh=yes
    say "copying $pristine to $work"
    rm -rf "$work.tmp"
    cp -a "$pristine/." "$work.tmp/"
    mkdir -p "$work.tmp/.project-sync"
    : >"$work.tmp/.project-sync/files"
    touch "$work.tmp/.project-sync/dirty"
    echo "$pristine_id" >"$work.tmp/.project-sync/pristine"
    mv "$work.tmp" "$work"
fi

# --- what the result consists of -------------------------------------------

# Owned files, relative to the project (and so to the tree).  Hidden
# files, editor backups and patch leftovers are not project files.
owned=$(cd "$project" && {
            [ ! -d server ] ||
                find server -path server/patches -prune -o \
                     \( -name '.*' -o -name '*~' -o -name '*.orig' -o -name '*.rej' \) \
                     -prune -o -type f -print
            [ ! -d include ] ||
                find include -maxdepth 1 -type f -name '*.h' ! -name '.*'
        } | LC_ALL=C sort)

# The series: "name [-pN]" per line.
patches=()
strips=()
if [ -f "$series" ]; then
    # (the last line may lack its newline)
    while read -r name opt _ || [ -n "${name:-}" ]; do
        case "$name" in
        ''|'#'*) continue ;;
        esac
        [ -f "$patchdir/$name" ] || die "series lists $name, which is not in $patchdir"
        patches+=("$name")
        case "$opt" in
        -p[0-9]*) strips+=("${opt#-p}") ;;
        *)        strips+=(1) ;;
        esac
    done <"$series"
fi

# Files a patch touches, from each "--- old" + "+++ new" header pair
# (a lone "--- " line can be a removed "-- " line inside a hunk), with N
# leading components stripped; /dev/null is a created or deleted file.
patch_files() {
    awk -v strip="$2" '
        function name(line,    f, i) {
            f = substr(line, 5)
            sub(/\t.*/, "", f)
            if (f == "/dev/null") return ""
            for (i = 0; i < strip; i++) sub(/^[^\/]*\//, "", f)
            return f
        }
        /^\+\+\+ / && prev ~ /^--- / {
            o = name(prev); n = name($0)
            if (o != "") print o
            if (n != "") print n
        }
        { prev = $0 }' "$1" | LC_ALL=C sort -u
}

patched=""
for i in "${!patches[@]}"; do
    patched+=$(patch_files "$patchdir/${patches[i]}" "${strips[i]}")$'\n'
done

previous=$(cat "$state/files")
universe=$(printf '%s\n%s\n%s\n' "$owned" "$patched" "$previous" |
           sed '/^$/d' | LC_ALL=C sort -u)

# --- build the wanted result in a scratch tree -----------------------------

scratch=$(mktemp -d "$srcroot/sync.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

while IFS= read -r f; do
    [ -n "$f" ] || continue
    if [ -e "$pristine/$f" ]; then
        mkdir -p "$scratch/$(dirname "$f")"
        cp -p "$pristine/$f" "$scratch/$f"
    fi
done <<<"$universe"

while IFS= read -r f; do
    [ -n "$f" ] || continue
    mkdir -p "$scratch/$(dirname "$f")"
    cp "$project/$f" "$scratch/$f"
done <<<"$owned"

applied=""
if [ ${#patches[@]} -eq 0 ]; then
    if [ -f "$series" ]; then
        say "server/patches/series is empty: building httpd unpatched"
    else
        say "no server/patches/series: building httpd unpatched"
    fi
fi
for i in "${!patches[@]}"; do
    name=${patches[i]}
    if ! out=$(cd "$scratch" &&
               "$PATCH" -p"${strips[i]}" --fuzz="$PATCH_FUZZ" --forward --batch \
                        --no-backup-if-mismatch -E --reject-file=- \
                        -i "$patchdir/$name" 2>&1); then
        echo "$out" >&2
        die "patch $name (number $((i + 1)) in server/patches/series) does not apply" \
            "to $(basename "$pristine") (fuzz $PATCH_FUZZ); the working copy is unchanged"
    fi
    if grep -q 'with fuzz\|offset' <<<"$out"; then
        say "$name: $(grep 'with fuzz\|offset' <<<"$out" | head -n 3 | tr '\n' ' ')"
    fi
    applied+="$name $(sha256sum "$patchdir/$name" | cut -c1-16)"$'\n'
done

# --- bring the working copy in line, file by file --------------------------

changed=()
while IFS= read -r f; do
    [ -n "$f" ] || continue
    if [ -e "$scratch/$f" ]; then
        newer=no
        if [ -e "$project/$f" ] && grep -qxF "$f" <<<"$owned" &&
           [ "$project/$f" -nt "$work/$f" ]; then
            newer=yes
        fi
        if [ ! -e "$work/$f" ] || [ $newer = yes ] ||
           ! cmp -s "$scratch/$f" "$work/$f"; then
            mkdir -p "$work/$(dirname "$f")"
            cp "$scratch/$f" "$work/$f.sync-new"
            chmod --reference="$scratch/$f" "$work/$f.sync-new"
            mv -f "$work/$f.sync-new" "$work/$f"
            changed+=("$f")
        fi
    elif [ -e "$work/$f" ]; then
        rm -f "$work/$f"
        changed+=("$f")
    fi
done <<<"$universe"

# What differs from pristine now is what the next run must reconsider.
printf '%s\n%s\n' "$owned" "$patched" | sed '/^$/d' | LC_ALL=C sort -u >"$state/files"
printf '%s' "$applied" >"$state/applied"

if [ ${#changed[@]} -eq 0 ]; then
    say "working copy up to date (${#patches[@]} patches, $(grep -c . <<<"$owned" || true) own files)"
    exit 0
fi

say "${#patches[@]} patches applied, $(grep -c . <<<"$owned" || true) own files;" \
    "${#changed[@]} files changed in the working copy:"
printf '    %s\n' "${changed[@]}"
touch "$state/dirty"

# --- consequences for httpd's build ----------------------------------------

headers=()
for f in "${changed[@]}"; do
    case "$f" in
    configure)
        touch "$state/need-configure" ;;
    configure.in|acinclude.m4|*/config*.m4|build/*.m4)
        touch "$state/need-buildconf" "$state/need-configure" ;;
    Makefile.in|*/Makefile.in)
        # Makefiles that httpd's configure writes with fastgen.sh are a
        # header plus a copy of Makefile.in: regenerate just that one.
        mk=${f%.in}
        if [ -f "$work/$mk" ] && head -n 1 "$work/$mk" | grep -q '^top_srcdir'; then
            echo "$mk" >>"$state/regen-makefiles"
        else
            touch "$state/need-configure"
        fi
        ;;
    *.in|build/*|config.layout)
        touch "$state/need-configure" ;;
    *.h)
        headers+=("$(basename "$f")")
        # A header added or removed changes the list server/exports.c is
        # generated from (it only notices headers that got newer).
        if [ ! -e "$work/$f" ] || [ ! -e "$pristine/$f" ]; then
            rm -f "$work/server/export_files" "$work/server/exports.c"
        fi
        ;;
    esac
done

# Touch every C file that includes a changed header, directly or through
# other headers (matched by base name: over-approximating is harmless).
# Nothing to do in a fresh copy: nothing has been compiled yet.
if [ ${#headers[@]} -gt 0 ] && [ $fresh = no ]; then
    declare -A seen=()
    todo=("${headers[@]}")
    sources=()
    while [ ${#todo[@]} -gt 0 ]; do
        pattern=$(printf '%s\n' "${todo[@]}" | sed 's/[.]/\\./g' | paste -sd '|')
        for h in "${todo[@]}"; do seen[$h]=1; done
        todo=()
        while IFS= read -r inc; do
            [ -n "$inc" ] || continue
            case "$inc" in
            *.h)
                b=$(basename "$inc")
                [ -n "${seen[$b]:-}" ] || todo+=("$b")
                ;;
            *.c)
                sources+=("$inc")
                ;;
            esac
        done < <(cd "$work" && grep -rlE \
                     "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]([^\">]*/)?($pattern)[\">]" \
                     --include='*.c' --include='*.h' \
                     include os server modules support 2>/dev/null || true)
        # de-duplicate the next round
        if [ ${#todo[@]} -gt 0 ]; then
            mapfile -t todo < <(printf '%s\n' "${todo[@]}" | LC_ALL=C sort -u)
        fi
    done
    if [ ${#sources[@]} -gt 0 ]; then
        mapfile -t sources < <(printf '%s\n' "${sources[@]}" | LC_ALL=C sort -u)
        say "changed headers (${headers[*]}): touching ${#sources[@]} C files that include them"
        (cd "$work" && touch "${sources[@]}")
    fi
fi
exit 0
