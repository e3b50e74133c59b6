/*
 * evstore.h — the event store seam: one small interface, two backends
 * behind a vtable (evstore_mem.c: in memory, bounded by count, bytes and age
 * per channel; evstore_redis.c: Redis Streams, shared by every relay
 * instance). Owns the interface, the reasons a store refuses, and the
 * delivery callback through which a store hands each new event, in id
 * order per channel, to whoever serves subscribers (the hub).
 *
 * Errors are 0 or a negative errno; why it failed travels in an
 * enum evstore_why.
 */
#ifndef RELAY_EVSTORE_H
#define RELAY_EVSTORE_H
#include <stddef.h>

#include "event.h"
#include "evid.h"

enum evstore_why {
	EVSTORE_OK = 0,
	EVSTORE_DOWN,      /* the backend cannot be reached (Redis down) */
	EVSTORE_CHANNELS,  /* too many channels */
	EVSTORE_NOMEM,
	EVSTORE_CORRUPT,   /* a stored record is not an event */
};

/* A new event on CHANNEL, in id order per channel. EV is borrowed: take a
 * reference to keep it. Must not block (it may run under a store lock). */
typedef void (*evstore_deliver_fn)(void *ctx, const char *channel, struct event *ev);

/* What a range read found besides its events. */
struct evstore_range {
	int gap;            /* 1: events after the asked id were trimmed away */
	int has_oldest;     /* 1: OLDEST holds the oldest id the store keeps */
	struct evid oldest;
};

struct evstore;

struct evstore_ops {
	/* Store TAIL (event_tail's JSON, LEN bytes) as the next event of
	 * CHANNEL; *ID gets its id. The event is then delivered. */
	int (*publish)(struct evstore *s, const char *channel, const char *tail, size_t len,
	    struct evid *id, enum evstore_why *why);
	/* At most MAX events of CHANNEL after AFTER, oldest first, into OUT
	 * (one reference each, the caller's); *N their count; R says whether
	 * kept history no longer reaches back to AFTER. */
	int (*range)(struct evstore *s, const char *channel, const struct evid *after, size_t max,
	    struct event **out, size_t *n, struct evstore_range *r, enum evstore_why *why);
	/* Deliver CHANNEL's new events from now on (a subscriber joined);
	 * calls nest: each watch is ended by one unwatch. */
	int (*watch)(struct evstore *s, const char *channel);
	void (*unwatch)(struct evstore *s, const char *channel);
	/* 0 when the store can take a publish now, else -EIO with WHY. */
	int (*health)(struct evstore *s, enum evstore_why *why);
	/* Drop what has aged out (NULL: the backend trims by itself). */
	void (*prune)(struct evstore *s);
	void (*close)(struct evstore *s);
};

/* The part every backend begins with. */
struct evstore {
	const struct evstore_ops *ops;
	evstore_deliver_fn deliver;
	void *deliver_ctx;
};

/* A reason as text for logs and errors. */
const char *evstore_why_name(enum evstore_why why);
#endif
