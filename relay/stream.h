/*
 * stream.c — one subscriber's Server-Sent Events stream, after its HTTP
 * headers went out: the retry hint, the replay after a Last-Event-ID
 * (with an "event: gap" first when kept history no longer reaches back to
 * it), then live events from the subscriber's hub queue, a heartbeat
 * comment whenever the stream was idle for the heartbeat interval, and a
 * final retry hint when the relay drains. Writing goes through a callback,
 * so this file knows no HTTP library. Formatting is common/sse.c's.
 */
#ifndef RELAY_STREAM_H
#define RELAY_STREAM_H
#include <stddef.h>

#include "evid.h"
#include "evstore.h"
#include "hub.h"

/* Write all of P (N bytes) to the client: 0, or -1 when the client is gone
 * or too slow. */
typedef int (*stream_write_fn)(void *ctx, const char *p, size_t n);

struct stream_params {
	struct hub *hub;
	struct hub_sub *sub;        /* joined before the headers went out */
	struct evstore *store;
	const char *channel;
	int has_after;              /* a Last-Event-ID was given */
	struct evid after;
	int heartbeat_ms;
	unsigned retry_ms;
	stream_write_fn write;
	void *write_ctx;
};

enum stream_end {
	STREAM_GONE = 0,    /* the client closed, or a write failed */
	STREAM_DROPPED,     /* fell behind its queue caps */
	STREAM_DRAINED,     /* the relay is stopping */
	STREAM_STORE,       /* the replay could not be read from the store */
	STREAM_NOMEM,
};

struct stream_result {
	enum stream_end end;
	char why[160];      /* the drop or store reason, else "" */
	size_t events, bytes, heartbeats;
	int gap;            /* a gap event was sent */
};

/* Run the stream until it ends; R says how. Returns 0 (the end is in R). */
int stream_run(const struct stream_params *p, struct stream_result *r);

/* The name of END for logs. */
const char *stream_end_name(enum stream_end end);
#endif
