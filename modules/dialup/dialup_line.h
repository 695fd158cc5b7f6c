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
 * @file  dialup_line.h
 * @brief The lines of mod_dialup's clients: a fixed table in memory that
 * all children share.
 *
 * A line is one client's modem: the key (the client's address, or what
 * an expression made of the request) and how many of its transfers are
 * active on it.  Transfers join and leave without a lock: each slot's
 * count and generation are one 64-bit word that changes with
 * compare-and-swap.  Claiming a slot for a new key, or taking over one
 * that has been idle long enough, is rare (once per download at most)
 * and runs under a lock that the caller holds (a global mutex in the
 * module, across children), so that two children never make two lines
 * of one key.
 *
 * The table lives in memory the caller provides (APR shared memory that
 * the parent creates, so it survives graceful restarts); nothing here
 * allocates, locks, logs or reads the clock: the caller passes "now".
 */

#ifndef DIALUP_LINE_H
#define DIALUP_LINE_H

#include "apr.h"
#include "apr_time.h"

/** Longest key kept, with its NUL (an IPv6 address with a zone fits) */
#define DIALUP_LINE_KEY_MAX 64

/** One line */
typedef struct dialup_line_t {
    /** generation << 32 | active transfers; DIALUP_LINE_BUSY as the count
     * while the slot is being (re)claimed */
    volatile apr_uint64_t word;
    /** when its last transfer left (apr_time_t) */
    volatile apr_uint64_t left;
    /** bytes its transfers sent since it was claimed (for server-status) */
    volatile apr_uint64_t bytes;
    /** the line's rate in bits per second, written by the claim */
    volatile apr_uint64_t bits;
    /** the latest next pulse that a transfer on it announced
     * (dialup_lines_pulsed()) */
    volatile apr_uint64_t horizon;
    apr_uint32_t hash;
    /** 0 until first claimed: a lookup stops at such a slot */
    apr_uint32_t used;
    char key[DIALUP_LINE_KEY_MAX];
} dialup_line_t;

/** The count of a slot that a claim holds */
#define DIALUP_LINE_BUSY 0xffffffffu

/**
 * The table: n slots, probed linearly from the key's hash, then, for each
 * of procs processes, how many of each line's transfers it counts (so
 * that the transfers of a process that died without leaving can be taken
 * off: dialup_lines_forget()).
 */
typedef struct dialup_lines_t {
    apr_uint32_t n;
    apr_uint32_t procs;
    dialup_line_t slot[1];
} dialup_lines_t;

/** Bytes of a table of n lines (n >= 1) for procs processes */
apr_size_t dialup_lines_size(apr_uint32_t n, apr_uint32_t procs);

/**
 * Make mem (dialup_lines_size(n, procs) bytes, all zero, as fresh shared
 * memory is) an empty table of n lines for procs processes
 */
dialup_lines_t *dialup_lines_init(void *mem, apr_uint32_t n,
                                  apr_uint32_t procs);

/**
 * Join the line of key (no lock) as process proc (0 to procs - 1; any
 * other value is not counted per process): its count goes up by one.
 * @return The line's index, or -1 when there is none (then claim one)
 */
int dialup_lines_join(dialup_lines_t *t, const char *key, int proc);

/**
 * Join the line of key, making one when there is none: a slot never
 * used, or one whose transfers all left at least keep ago.  The caller
 * holds the table's lock (joins and leaves of other lines go on).
 * @return The line's index, or -1 when the table is full
 */
int dialup_lines_claim(dialup_lines_t *t, const char *key, apr_time_t now,
                       apr_interval_time_t keep, int proc);

/** Leave line i (no lock): its count goes down by one; when it reaches 0,
 * the line keeps its key until it is taken over (dialup_lines_claim()) */
void dialup_lines_leave(dialup_lines_t *t, int i, apr_time_t now, int proc);

/**
 * Process proc is gone (it may have died without leaving its lines):
 * take its transfers off every line.  No lock; proc itself must not join
 * or leave meanwhile (the parent calls it once the process has exited).
 * @return How many transfers were taken off
 */
apr_uint32_t dialup_lines_forget(dialup_lines_t *t, int proc,
                                 apr_time_t now);

/** How many transfers are active on line i now */
apr_uint32_t dialup_lines_active(dialup_lines_t *t, int i);

/** A transfer on line i pulses next at when (no lock): the line's
 * horizon moves to it if that is later */
void dialup_lines_pulsed(dialup_lines_t *t, int i, apr_time_t when);

/** By when every transfer on line i will have pulsed again (0 if none
 * announced a pulse since the line was made) */
apr_time_t dialup_lines_horizon(dialup_lines_t *t, int i);

/** Count bytes sent on line i (no lock) */
void dialup_lines_sent(dialup_lines_t *t, int i, apr_int64_t bytes);

/**
 * Forget every transfer of every line (their counts go to 0, the
 * processes' too; keys stay until taken over): for a table whose
 * transfers are known to be gone (no child process is left that could
 * leave it).  No lock; nobody may join or leave meanwhile.
 */
void dialup_lines_reset(dialup_lines_t *t, apr_time_t now);

#endif /* DIALUP_LINE_H */
