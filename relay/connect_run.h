/*
 * connect_run.h — the client's loop: subscribe, take events in order,
 * forward each until it is delivered or refused for good, remember it in
 * the state file, and reconnect when the stream ends or goes silent.
 * Owns the delivery guarantees:
 *   - strictly in order: the next event is not looked at before the
 *     current one is delivered or refused for good; a retried forward
 *     holds the stream (nothing after it is forwarded);
 *   - at least once: the state file advances only after the target
 *     answered 2xx (or refused for good), so a crash or kill between the
 *     target's answer and the state write forwards that one event again
 *     after the restart (at most one event per crash; the target's
 *     idempotency key makes it run once);
 *   - the id remembered is the event's own (its JSON "id", which the
 *     server also writes as the SSE id; the SSE id only when the JSON one
 *     cannot be stored);
 *   - an event whose <ms>-<seq> id is not after the state's id is skipped
 *     (a server that replays the last id on resume);
 *   - a `gap` event (the server trimmed history we had not read) is logged
 *     as an error and counted, and the loop goes on;
 *   - SIGTERM (the STOP flag): the forward in flight finishes and its
 *     state is saved; a retry wait or a reconnect wait ends at once.
 */
#ifndef CONNECT_RUN_H
#define CONNECT_RUN_H
#include <signal.h>
#include <stddef.h>

#include "connect_state.h"

struct connect_cfg {
	const char *source;           /* the subscribe URL */
	const char *target;           /* the target base URL (checked) */
	const char *token;            /* the bearer token, NULL for none */
	const char *state_path;
	long long heartbeat_timeout_ms;  /* silence before reconnecting */
	long long forward_timeout_ms;    /* one forward's deadline */
	long long retry_min_ms, retry_max_ms;         /* forward retries */
	long long reconnect_min_ms, reconnect_max_ms; /* stream reconnects */
	size_t max_event_bytes;       /* one SSE line and one event's data */
};

struct connect_counts {
	unsigned long long forwarded;     /* delivered (2xx) */
	unsigned long long failed;        /* refused for good (status, or an undecodable event) */
	unsigned long long retries;       /* forward attempts after the first */
	unsigned long long gaps;          /* gap events */
	unsigned long long skipped;       /* ids not after the state's */
	unsigned long long reconnects;    /* subscriptions after the first */
	unsigned long long silent;        /* of those, after a silent stream */
	unsigned long long state_errors;  /* state file writes that failed */
};

/* Run until *STOP is set. LAST_ID (CONNECT_STATE_ID_MAX + 1 bytes) holds
 * the id loaded from the state file ("" for none) and is kept current.
 * Returns 0 when stopped, -ENOMEM when out of memory (with a log line). */
int connect_run(const struct connect_cfg *cfg, char *last_id, volatile sig_atomic_t *stop,
                struct connect_counts *counts);
#endif
