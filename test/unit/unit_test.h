/* Licensed to the Apache Software Foundation (ASF) under one or more
 * contributor license agreements.  See the NOTICE file distributed with
 * this work for additional information regarding copyright ownership.
 * The ASF licenses this file to You under the Apache License, Version 2.0
 * (the "License"); you may not use this file except in compliance with
 * the License.  You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/*
 * The unit tests' harness, included once by each test_NAME.c: CHECK(cond)
 * inside a case; unit_case_done() after each case prints its "ok" or
 * "not ok" line; unit_summary() prints "SUITE: N passed, N failed" and
 * gives main()'s exit status.
 */

#ifndef UNIT_TEST_H
#define UNIT_TEST_H

#include <stdio.h>

static int unit_passed;
static int unit_failed;
static int unit_case_failed;

#define CHECK(cond) do {                                                  \
    if (!(cond)) {                                                        \
        fprintf(stderr, "  %s:%d: check failed: %s\n",                    \
                __FILE__, __LINE__, #cond);                               \
        unit_case_failed = 1;                                             \
    }                                                                     \
} while (0)

static void unit_case_done(const char *name)
{
    printf("%s - %s\n", unit_case_failed ? "not ok" : "ok", name);
    if (unit_case_failed) {
        unit_failed++;
    }
    else {
        unit_passed++;
    }
    unit_case_failed = 0;
}

static int unit_summary(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif /* UNIT_TEST_H */
