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

void metrics_event_in(const char *channel, size_t bytes);
void metrics_event_out(const char *channel, size_t bytes);
void metrics_drop(const char *channel);
void metrics_store_error(void);
/* ROUTE: "publish", "subscribe", "ops", "other". */
void metrics_request(const char *route, int status);

/* The exposition into a malloc'ed string (*OUT, *LEN), with the gauges
 * SUBSCRIBERS and READY (1/0). 0 or -ENOMEM. */
int metrics_render(size_t subscribers, int ready, char **out, size_t *len);
#endif
