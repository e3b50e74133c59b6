/*
 * metrics.c — the relay's counters (contract in metrics.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "metrics.h"

struct chstat {
	char name[CHAN_NAME_MAX + 1];
	uint64_t in, in_bytes, out, out_bytes, drops;
};

#define ROUTES 4
#define STATUSES 12
static const char *const route_names[ROUTES] = { "publish", "subscribe", "ops", "other" };
static const int status_codes[STATUSES] = { 200, 202, 400, 401, 403, 404, 405, 408, 413, 500,
	503, 0 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct chstat chans[METRICS_CHANNELS + 1]; /* the last one: "_other" */
static size_t nchans;
static uint64_t store_errors;
static uint64_t requests[ROUTES][STATUSES];

/* The stats of CHANNEL, under the lock. */
static struct chstat *stat_of(const char *channel)
{
	size_t i;

	for (i = 0; i < nchans; i++)
		if (!strcmp(chans[i].name, channel))
			return &chans[i];
	if (nchans < METRICS_CHANNELS) {
		snprintf(chans[nchans].name, sizeof chans[nchans].name, "%s", channel);
		return &chans[nchans++];
	}
	snprintf(chans[METRICS_CHANNELS].name, sizeof chans[0].name, "_other");
	return &chans[METRICS_CHANNELS];
}

void metrics_event_in(const char *channel, size_t bytes)
{
	struct chstat *c;

	pthread_mutex_lock(&lock);
	c = stat_of(channel);
	c->in++;
	c->in_bytes += bytes;
	pthread_mutex_unlock(&lock);
}

void metrics_event_out(const char *channel, size_t bytes)
{
	struct chstat *c;

	pthread_mutex_lock(&lock);
	c = stat_of(channel);
	c->out++;
	c->out_bytes += bytes;
	pthread_mutex_unlock(&lock);
}

void metrics_drop(const char *channel)
{
	pthread_mutex_lock(&lock);
	stat_of(channel)->drops++;
	pthread_mutex_unlock(&lock);
}

void metrics_store_error(void)
{
	pthread_mutex_lock(&lock);
	store_errors++;
	pthread_mutex_unlock(&lock);
}

void metrics_request(const char *route, int status)
{
	size_t r, s;

	for (r = 0; r < ROUTES - 1 && strcmp(route_names[r], route); r++)
		;
	for (s = 0; s < STATUSES - 1 && status_codes[s] != status; s++)
		;
	pthread_mutex_lock(&lock);
	requests[r][s]++;
	pthread_mutex_unlock(&lock);
}

struct out {
	char *p;
	size_t len, cap;
	int oom;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = o->cap * 2 + (size_t)(n > 0 ? n : 0);
			char *p = realloc(o->p, cap);

			if (!p) {
				o->oom = 1;
				return;
			}
			o->p = p;
			o->cap = cap;
		}
	}
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter family by channel; FIELD picks the value. */
static void by_channel(struct out *o, const char *name, const char *help, size_t field, size_t n)
{
	size_t i;

	family(o, name, "counter", help);
	for (i = 0; i < n; i++) {
		const uint64_t *v = (const uint64_t *)((const char *)&chans[i] + field);

		if (chans[i].name[0])
			put(o, "%s{channel=\"%s\"} %" PRIu64 "\n", name, chans[i].name, *v);
	}
}

int metrics_render(size_t subscribers, int ready, char **out, size_t *len)
{
	struct out o = { malloc(4096), 0, 4096, 0 };
	size_t r, s, n;

	if (!o.p)
		return -ENOMEM;
	o.p[0] = '\0';
	pthread_mutex_lock(&lock);
	/* "_other", once used, goes last, after the named ones. */
	n = chans[METRICS_CHANNELS].name[0] ? METRICS_CHANNELS + 1 : nchans;
	by_channel(&o, "relay_events_in_total", "Events published (stored), by channel.",
	    offsetof(struct chstat, in), n);
	by_channel(&o, "relay_events_in_bytes_total", "Bytes of event JSON stored, by channel.",
	    offsetof(struct chstat, in_bytes), n);
	by_channel(&o, "relay_events_out_total", "Events written to subscribers, by channel.",
	    offsetof(struct chstat, out), n);
	by_channel(&o, "relay_events_out_bytes_total",
	    "Bytes of event JSON written to subscribers, by channel.",
	    offsetof(struct chstat, out_bytes), n);
	by_channel(&o, "relay_subscribers_dropped_total",
	    "Subscribers dropped for falling behind their queue caps, by channel.",
	    offsetof(struct chstat, drops), n);
	family(&o, "relay_store_errors_total", "counter",
	    "Store (Redis) commands that failed or could not reach the server.");
	put(&o, "relay_store_errors_total %" PRIu64 "\n", store_errors);
	family(&o, "relay_requests_total", "counter", "Requests answered, by route and status.");
	for (r = 0; r < ROUTES; r++)
		for (s = 0; s < STATUSES; s++)
			if (requests[r][s] && s < STATUSES - 1)
				put(&o, "relay_requests_total{route=\"%s\",status=\"%d\"} %" PRIu64 "\n",
				    route_names[r], status_codes[s], requests[r][s]);
			else if (requests[r][s])
				put(&o, "relay_requests_total{route=\"%s\",status=\"other\"} %" PRIu64 "\n",
				    route_names[r], requests[r][s]);
	pthread_mutex_unlock(&lock);
	family(&o, "relay_subscribers", "gauge", "Subscribers connected to this instance.");
	put(&o, "relay_subscribers %zu\n", subscribers);
	family(&o, "relay_ready", "gauge", "1 when the store takes publishes.");
	put(&o, "relay_ready %d\n", ready ? 1 : 0);
	if (o.oom) {
		free(o.p);
		return -ENOMEM;
	}
	*out = o.p;
	*len = o.len;
	return 0;
}
