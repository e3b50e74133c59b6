/*
 * evstore_mem.c — the in-memory event store: each channel keeps its latest
 * events, bounded by count, bytes and age; the oldest go first. Ids are
 * (and all channels together by bytes). Ids are
 * Redis Streams ids from the wall clock (evid_next), so a subscriber may
 * carry its Last-Event-ID to a Redis-backed relay and back. Publish
 * delivers under the channel's lock, so delivery is in id order. Nothing
 * survives a restart.
 */
#ifndef RELAY_EVSTORE_MEM_H
#define RELAY_EVSTORE_MEM_H
#include <stddef.h>
#include <stdint.h>

#include "evstore.h"

struct evstore_mem_config {
	size_t max_events;    /* per channel, >= 1 */
	size_t max_bytes;     /* per channel (JSON bytes), >= 1 */
	int64_t max_age_ms;   /* 0: no age bound */
	size_t max_channels;  /* >= 1 */
	size_t max_total_bytes; /* all channels together (0: no cap); past it the
	                         * oldest events of the largest channel go first */
	/* The clock ids and ages are taken from (NULL: clock_wall_ms); tests
	 * set their own. */
	int64_t (*now_ms)(void);
};

/* A new store that delivers through DELIVER(CTX, …). 0 or -ENOMEM. */
int evstore_mem_open(const struct evstore_mem_config *cfg, evstore_deliver_fn deliver, void *ctx,
    struct evstore **out);
#endif
