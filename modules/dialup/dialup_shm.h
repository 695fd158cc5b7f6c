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
 * @file  dialup_shm.h
 * @brief The default store of lines: shared memory that the parent makes
 * (dialup_shm.c).
 */

#ifndef DIALUP_SHM_H
#define DIALUP_SHM_H

#include "httpd.h"
#include "dialup_store.h"

/** pre_config, in the parent: register the table's mutex ("Mutex
 * dialup-lines" configures it) */
apr_status_t dialup_shm_pre_config(apr_pool_t *pconf);

/**
 * post_config, in the parent: make (or keep, across a graceful restart)
 * the table of n lines and its mutex.  Returns the store, or NULL (logged)
 * when it cannot be had: downloads are then paced on their own.
 */
const dialup_store_t *dialup_shm_post_config(apr_pool_t *pconf,
                                             server_rec *s, apr_uint32_t n);

/** child_init: attach the mutex in the child */
void dialup_shm_child_init(apr_pool_t *pchild, server_rec *s);

#endif /* DIALUP_SHM_H */
