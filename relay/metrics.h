/*
 * metrics.c — the relay's Prometheus counters and their text exposition
 * (format 0.0.4). Owns: events and bytes in (published) and out (written to
 * subscribers) by channel, subscribers dropped by channel, store (Redis)
 * errors, requests by route and status; the subscriber gauge is read from
 * the hub when rendering. Channel labels are bounded: past METRICS_CHANNELS
 * distinct channels, the rest count under channel="_other". Thread-safe.
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H
#include <stddef.h>

#define METRICS_CHANNELS 1024

/* One event of BYTES (its stored JSON) published on CHANNEL. */
void metrics_event_in(const char *channel, size_t bytes);
/* One event of BYTES (its JSON) written to a subscriber of CHANNEL. */
void metrics_event_out(const char *channel, size_t bytes);
/* One subscriber of CHANNEL dropped for falling behind. */
void metrics_drop(const char *channel);
/* One store command that failed or could not reach the server. */
void metrics_store_error(void);
/* One answer of STATUS on ROUTE: "publish", "subscribe", "ops" (any other
 * name counts as "other"); statuses outside the known set count as
 * status="other". */
void metrics_request(const char *route, int status);

/* The exposition into a malloc'ed string (*OUT, *LEN), with the gauges
 * SUBSCRIBERS and READY (1/0). 0 or -ENOMEM. */
int metrics_render(size_t subscribers, int ready, char **out, size_t *len);
#endif
