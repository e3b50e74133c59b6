/*
 * evstore_redis.c — the Redis Streams event store: one stream per channel
 * (key <prefix><channel>), shared by every relay instance on the same Redis.
 * Publish is XADD with MAXLEN ~ (Redis assigns the id); a resume reads with
 * XRANGE and tells a gap from XINFO STREAM (trimmed, and the oldest entry
 * after the asked id); live
 * events come from one reader thread per watched channel (XREAD BLOCK from
 * the last id it saw), which delivers them in stream order, whichever
 * instance took the publish. Connections come from a small pool and are
 * dropped on any error; the next command connects again, so the store
 * recovers by itself when Redis comes back.
 */
#ifndef RELAY_EVSTORE_REDIS_H
#define RELAY_EVSTORE_REDIS_H
#include <stddef.h>

#include "evstore.h"

struct evstore_redis_config {
	const char *url;      /* redis://[[user]:password@]host[:port][/db] */
	const char *prefix;   /* key prefix, e.g. "relay:" */
	size_t maxlen;        /* events kept per channel (approximately) */
};

/* Parse the URL and open the store (it need not reach Redis yet: /ready
 * says whether it does). 0; -EINVAL with ERR for a bad URL; -ENOMEM. */
int evstore_redis_open(const struct evstore_redis_config *cfg, evstore_deliver_fn deliver,
    void *ctx, struct evstore **out, char *err, size_t errlen);
#endif
