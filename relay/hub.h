/*
 * hub.c — the subscribers of this relay instance and the fan-out to them.
 * Owns each subscriber's bounded queue (a count and a byte cap), the
 * subscriber cap, and the drain flag. A store delivers each new event with
 * hub_deliver, which only appends to queues and never blocks on a
 * subscriber: one that falls behind past its caps is dropped (its queue
 * freed, on_drop told at once, the reason kept for hub_next) and the
 * others and the publishers go on. Each subscriber's own thread takes from its queue with
 * hub_next.
 */
#ifndef RELAY_HUB_H
#define RELAY_HUB_H
#include <stddef.h>

#include "event.h"

struct hub;
struct hub_sub;

/* Called once for each subscriber as it is dropped (outside the hub's
 * lock, from the thread that delivered): CHANNEL, the LABEL it joined with
 * and the REASON, all valid during the call only. */
typedef void (*hub_drop_fn)(void *ctx, const char *channel, const char *label,
    const char *reason);

struct hub_config {
	size_t max_subscribers;  /* >= 1 */
	size_t queue_events;     /* per subscriber, >= 1 */
	size_t queue_bytes;      /* per subscriber, >= 1 */
	hub_drop_fn on_drop;     /* NULL: nothing */
	void *drop_ctx;
};

enum hub_next {
	HUB_EVENT = 0,   /* *EV has an event (the caller's reference) */
	HUB_TIMEOUT,     /* nothing within the time given */
	HUB_DROPPED,     /* the subscriber fell behind: see hub_drop_reason */
	HUB_DRAIN,       /* the relay is stopping */
};

/* 0 or -ENOMEM, -EINVAL (a zero cap). */
int hub_new(const struct hub_config *cfg, struct hub **out);
void hub_free(struct hub *h);

/* A new subscriber of CHANNEL; its queue collects every event delivered
 * from now on. LABEL (may be NULL; kept, up to 127 bytes) names it to
 * on_drop, e.g. a request id and a peer address. 0; -EBUSY at the
 * subscriber cap; -ESHUTDOWN while draining; -ENOMEM. */
int hub_join(struct hub *h, const char *channel, const char *label, struct hub_sub **out);

/* Remove SUB and free what its queue holds. NULL: nothing. */
void hub_leave(struct hub *h, struct hub_sub *sub);

/* Wait at most TIMEOUT_MS for SUB's next event. Drain comes before
 * anything queued, a drop before anything (its queue is gone). */
enum hub_next hub_next(struct hub *h, struct hub_sub *sub, int timeout_ms, struct event **ev);

/* Why SUB was dropped (valid once hub_next said HUB_DROPPED). */
const char *hub_drop_reason(const struct hub_sub *sub);

/* Queue EV for every subscriber of CHANNEL (each takes a reference). Never
 * blocks on a subscriber. Returns how many were dropped by this event. */
size_t hub_deliver(struct hub *h, const char *channel, struct event *ev);

/* Start draining: every hub_next returns HUB_DRAIN, hub_join refuses. */
void hub_drain(struct hub *h);

/* Subscribers now. */
size_t hub_count(struct hub *h);
#endif
