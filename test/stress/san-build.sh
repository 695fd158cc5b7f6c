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
# san-build.sh TOP DIR
#
# Builds the ASan+UBSan variant of the project (./configure
# --enable-sanitizer) in DIR/tree, a copy of the project's sources in TOP,
# so that TOP's own build (TOP/build/httpd) is left alone.  The copy takes
# the files git knows or would add (tracked, and untracked but not
# ignored) that exist, plus ./configure, with their times; its make is then
# incremental like TOP's.  The httpd source is TOP's already-fetched
# pristine tree (TOP/build/src/pristine), used read-only: nothing is
# downloaded.  Prints the path of the installed apxs on its last line.
# Output of configure and make goes to DIR/san-build.log.

set -euo pipefail

top=$(cd "${1:?usage: san-build.sh TOP DIR}" && pwd)
dir=${2:?usage: san-build.sh TOP DIR}
mkdir -p "$dir/tree"
dir=$(cd "$dir" && pwd)
tree=$dir/tree
log=$dir/san-build.log

pristine=$(readlink -f "$top/build/src/pristine" 2>/dev/null || true)
if [ -z "$pristine" ] || [ ! -f "$pristine/include/ap_release.h" ]; then
    echo "san-build: no pristine httpd source in $top/build/src: run make in $top first" >&2
    exit 1
fi

# The sources, with their modification times (tar keeps them); a tracked
# file deleted in the work tree is left out.
(cd "$top" && { git ls-files -co --exclude-standard; \
                [ -f configure ] && echo configure; } |
    while IFS= read -r f; do
        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\n' "$f"; fi
    done | tar -cf - --files-from=-) | (cd "$tree" && tar -xf -)

want="--enable-sanitizer --with-httpd-source=$pristine"
have=$(cat "$dir/configure-args" 2>/dev/null || true)
: >"$log"
if [ ! -f "$tree/Makefile" ] || [ "$want" != "$have" ]; then
    echo "san-build: configuring $tree ($want)"
    (cd "$tree" && { [ -x configure ] || autoconf; } &&
        ./configure $want) >>"$log" 2>&1 ||
        { tail -n 30 "$log" >&2; exit 1; }
    echo "$want" >"$dir/configure-args"
fi
echo "san-build: make in $tree (log: $log; the first build takes about 10 minutes)"
start=$SECONDS
(cd "$tree" && make) >>"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
echo "san-build: done in $((SECONDS - start)) s"
echo "$tree/build/httpd/bin/apxs"
