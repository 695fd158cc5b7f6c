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
# run-unit.sh BINARY...
#
# Runs each unit test binary (built by `make unit-check`: test_NAME with
# OWN_CFLAGS and test_NAME-asan with ASan+UBSan), shows the output of
# those that fail, and ends with "unit-check: N passed, N failed".
# Exits 1 if any failed.

set -uo pipefail

if [ $# -eq 0 ]; then
    echo "unit-check: no test/unit/test_*.c yet: nothing to run"
    exit 0
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
for t in "$@"; do
    name=$(basename "$t")
    out=$("$t" </dev/null 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "PASS: $name"
        passed=$((passed + 1))
    else
        echo "FAIL: $name (exit status $rc)"
        echo "$out" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
echo "unit-check: $passed passed, $failed failed"
[ $failed -eq 0 ]
