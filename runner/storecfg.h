/*
 * storecfg.h — the store section's PostgreSQL fields (store.url,
 * store.password, store.schema, store.pool_size, store.lease_s,
 * store.heartbeat_ms, store.connect_timeout_s): reading and checking them
 * at config load, and turning a loaded config into the struct store_config
 * that store_open takes (SQLite or PostgreSQL). Private to config.c (the
 * parse) and to the callers of store_open (the fill).
 */
#ifndef STORECFG_H
#define STORECFG_H
#include <cjson/cJSON.h>

#include "cfgfield.h"
#include "cfgtypes.h"

struct store_config; /* store.h: only storecfg.c needs it whole */

/* The PostgreSQL fields of the store section O (may be NULL) into a new
 * *OUT, or *OUT = NULL when store.url is absent (the SQLite store). The URL
 * must be a postgresql:// or postgres:// URI without a password in it (the
 * password comes by secret reference, store.password); libpq's own
 * parameters in the URI's query (sslmode, sslrootcert, ...) pass through.
 * 0, -ENOMEM, or -EINVAL with the error naming the field. */
int storecfg_parse(struct cfgfield_ctx *c, const cJSON *o, struct cfg_store_pg **out);
/* Wipe the password and free P (NULL is fine). */
void storecfg_free(struct cfg_store_pg *p);
/* *SC for CFG's store (pointers into CFG, which must outlive SC's use). */
void storecfg_fill(const struct config *cfg, struct store_config *sc);
#endif
