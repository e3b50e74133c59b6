/*
 * pool.c — the executor service's warm SSH connections. Owns, per key (an
 * identity name and a canonical user@host:port), the connections that are
 * open and authenticated, the idle ones among them, the per-key cap, idle
 * expiry, keepalives on idle connections and dropping dead ones, and the
 * pool's counters. One mutex guards it all; nothing that can block (a
 * connect, a run, a teardown) runs under it.
 *
 * A job takes an idle connection or a slot under the cap to open one; at
 * the cap (pool.max_sessions_per_destination) it gets neither and runs on
 * a connection of its own that is closed after it. A connection goes back
 * to the pool only after a run that ended well; after any failure it is
 * torn down, as in one-shot mode.
 */
#ifndef POOL_H
#define POOL_H
#include <stdint.h>

#include "conn.h"

#define POOL_KEY_MAX 700

struct pool;

struct pool_stats {
	uint64_t connects;     /* new connections that authenticated */
	uint64_t reuses;       /* runs started on a warm connection */
	uint64_t idle_closed;  /* closed after idle_timeout_s */
	uint64_t dead_closed;  /* idle ones found closed or silent */
	uint64_t overflow;     /* jobs at the cap, on a connection of their own */
	unsigned open;         /* pooled connections now (idle + in use) */
	unsigned idle;         /* idle ones now */
};

/* A pool keeping at most MAX_PER_KEY connections per key, closing idle
 * ones after IDLE_S seconds; keepalives on idle connections are as the
 * connection was configured. 0 or -ENOMEM. */
int pool_new(int max_per_key, int idle_s, struct pool **out);

/* Close every idle connection and free P. Connections in use must have
 * been given back. NULL is fine. */
void pool_free(struct pool *p);

/* For a job on KEY: an idle connection (*C, already open; *POOLED = 1), or
 * *C = NULL with *POOLED = 1 (a slot under the cap is reserved for a new
 * one) or 0 (at the cap: open one of your own). With FRESH, never an idle
 * one (a retry wants a new connection). With REUSE 0, never a warm one and
 * never a slot: *C = NULL, *POOLED = 0. */
void pool_take(struct pool *p, const char *key, int reuse, int fresh, struct conn **c, int *pooled);

/* A connection that is open and authenticated counts as a new connect. */
void pool_count_connect(struct pool *p);

/* Done with C (which may be NULL: the new connection failed) on KEY. When
 * POOLED and KEEP (the run ended well, the channel freed), C goes idle;
 * otherwise it is torn down and freed, and a pooled slot is released. */
void pool_give(struct pool *p, const char *key, struct conn *c, int pooled, int keep);

/* Expire idle connections at NOW and check the others (conn_idle_ok);
 * those that fail are closed outside the lock. Call about once a second. */
void pool_tick(struct pool *p, int64_t now);

/* Close every idle connection now (shutdown). */
void pool_close_idle(struct pool *p);

/* The counters. */
void pool_get_stats(struct pool *p, struct pool_stats *out);
#endif
