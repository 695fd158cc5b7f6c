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

/**
 * @file  dialup_store.h
 * @brief Where mod_dialup keeps its clients' lines: the one interface the
 * pacing code uses, so that another store (one that several servers
 * share, say) can come later without touching it.
 *
 * A line is one client's modem, found by key (the line's rate and the
 * client's key: "56000 192.0.2.7").  A paced transfer joins its line
 * when it has data to send, reads at each pulse how many transfers are
 * active on it (each gets the line's rate over that number), counts what
 * it sends, and leaves when it finishes, stalls or has sent all it has.
 * Every function may be called from any thread of any child, at any time
 * after the child's init; none blocks for long (join may take a short
 * lock to make a new line).
 */

#ifndef DIALUP_STORE_H
#define DIALUP_STORE_H

#include "apr.h"
#include "apr_time.h"

#include "dialup_line.h"

/** One line in use, as server-status shows it */
typedef struct dialup_line_row_t {
    char key[DIALUP_LINE_KEY_MAX];
    apr_int64_t bits;           /**< the line's rate */
    apr_uint32_t active;        /**< transfers on it now */
    apr_int64_t bytes;          /**< sent on it since it was made */
} dialup_line_row_t;

typedef struct dialup_store_t dialup_store_t;

struct dialup_store_t {
    /** for the logs */
    const char *name;
    /** the store's own state */
    void *data;
    /**
     * Join the line of key, whose rate is bits, making it if there is
     * none, for a transfer of child process proc (its scoreboard slot).
     * Returns the line (>= 0), or -1 when no line can be had (the store
     * is full): the transfer is then paced on its own.
     */
    int (*join)(const dialup_store_t *st, const char *key, apr_int64_t bits,
                int proc, apr_time_t now);
    /** Leave a line joined before (the same proc) */
    void (*leave)(const dialup_store_t *st, int line, int proc,
                  apr_time_t now);
    /** Child process proc has exited (it may have died without leaving
     * its lines): take its transfers off.  The parent calls it. */
    void (*gone)(const dialup_store_t *st, int proc, apr_time_t now);
    /** How many transfers are active on a line now (at least 1 for one
     * that the caller has joined) */
    apr_uint32_t (*active)(const dialup_store_t *st, int line);
    /** A transfer on a line pulses next at when (its schedule reads the
     * line's count then) */
    void (*pulsed)(const dialup_store_t *st, int line, apr_time_t when);
    /** By when every transfer on a line will have pulsed again: what a
     * newcomer waits for, so that they have all slowed down for it */
    apr_time_t (*horizon)(const dialup_store_t *st, int line);
    /** Count bytes sent on a line */
    void (*sent)(const dialup_store_t *st, int line, apr_int64_t bytes);
    /**
     * Copy up to max of the lines in use (active > 0) into rows.
     * Returns how many were copied; *used is how many are in use, *size
     * how many the store can hold.
     */
    int (*list)(const dialup_store_t *st, dialup_line_row_t *rows, int max,
                int *used, int *size);
};

#endif /* DIALUP_STORE_H */
