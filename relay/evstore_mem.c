/*
 * evstore_mem.c — the in-memory event store (contract in evstore_mem.h).
 * One lock for the whole store: a publish is a few pointer moves, and
 * holding it while delivering keeps each channel's delivery in id order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "chan.h"
#include "evstore_mem.h"

#define BUCKETS 256

struct mchan {
	struct mchan *next;
	char name[CHAN_NAME_MAX + 1];
	struct event **ring;   /* max_events slots */
	size_t head, count;    /* the oldest at ring[head] */
	size_t bytes;
	struct evid last;      /* the newest id given (0-0 before any) */
	struct evid trimmed;   /* the newest id dropped */
	int has_trimmed;
};

struct mem {
	struct evstore base;
	struct evstore_mem_config cfg;
	pthread_mutex_t lock;
	struct mchan *bucket[BUCKETS];
	size_t nchannels;
	size_t total_bytes;
};

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % BUCKETS;
}

static struct mchan *find(struct mem *m, const char *name)
{
	struct mchan *c;

	for (c = m->bucket[hash(name)]; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int64_t now_ms(const struct mem *m)
{
	return m->cfg.now_ms ? m->cfg.now_ms() : clock_wall_ms();
}

static struct event *at(const struct mem *m, const struct mchan *c, size_t i)
{
	return c->ring[(c->head + i) % m->cfg.max_events];
}

static void drop_oldest(struct mem *m, struct mchan *c)
{
	struct event *ev = at(m, c, 0);

	c->trimmed = ev->id;
	c->has_trimmed = 1;
	c->bytes -= ev->len;
	m->total_bytes -= ev->len;
	c->ring[c->head] = NULL;
	c->head = (c->head + 1) % m->cfg.max_events;
	c->count--;
	event_unref(ev);
}

/* Drop what has aged out: an event's id holds its wall-clock millisecond. */
static void trim_age(struct mem *m, struct mchan *c, int64_t now)
{
	if (m->cfg.max_age_ms <= 0)
		return;
	while (c->count && (int64_t)at(m, c, 0)->id.ms < now - m->cfg.max_age_ms)
		drop_oldest(m, c);
}

/* Make room for LEN more bytes under the store-wide cap: the largest
 * channel gives up its oldest events first. */
static void trim_total(struct mem *m, size_t len)
{
	struct mchan *c, *big;
	size_t b;

	while (m->cfg.max_total_bytes && m->total_bytes &&
	    m->total_bytes + len > m->cfg.max_total_bytes) {
		big = NULL;
		for (b = 0; b < BUCKETS; b++)
			for (c = m->bucket[b]; c; c = c->next)
				if (c->count && (!big || c->bytes > big->bytes))
					big = c;
		if (!big)
			break;
		drop_oldest(m, big);
	}
}

static int mem_publish(struct evstore *s, const char *channel, const char *tail, size_t len,
    struct evid *id, enum evstore_why *why)
{
	struct mem *m = (struct mem *)s;
	struct mchan *c;
	struct event *ev = NULL;
	int64_t now = now_ms(m);
	int rc = 0;

	*why = EVSTORE_OK;
	pthread_mutex_lock(&m->lock);
	if (!(c = find(m, channel))) {
		if (m->nchannels >= m->cfg.max_channels) {
			*why = EVSTORE_CHANNELS;
			rc = -ENOSPC;
			goto out;
		}
		if (!(c = calloc(1, sizeof *c)) ||
		    !(c->ring = calloc(m->cfg.max_events, sizeof *c->ring))) {
			free(c);
			*why = EVSTORE_NOMEM;
			rc = -ENOMEM;
			goto out;
		}
		strcpy(c->name, channel);
		c->next = m->bucket[hash(channel)];
		m->bucket[hash(channel)] = c;
		m->nchannels++;
	}
	{
		struct evid next = evid_next(&c->last, now > 0 ? (uint64_t)now : 0);

		if ((rc = event_new(&next, tail, len, &ev))) {
			*why = rc == -ENOMEM ? EVSTORE_NOMEM : EVSTORE_CORRUPT;
			goto out;
		}
	}
	trim_age(m, c, now);
	while (c->count && (c->count >= m->cfg.max_events || c->bytes + ev->len > m->cfg.max_bytes))
		drop_oldest(m, c);
	trim_total(m, ev->len);
	c->ring[(c->head + c->count) % m->cfg.max_events] = ev;
	c->count++;
	c->bytes += ev->len;
	m->total_bytes += ev->len;
	c->last = ev->id;
	*id = ev->id;
	if (m->base.deliver)
		m->base.deliver(m->base.deliver_ctx, channel, ev);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int mem_range(struct evstore *s, const char *channel, const struct evid *after, size_t max,
    struct event **out, size_t *n, struct evstore_range *r, enum evstore_why *why)
{
	struct mem *m = (struct mem *)s;
	struct mchan *c;
	size_t lo, hi, i;

	*why = EVSTORE_OK;
	*n = 0;
	memset(r, 0, sizeof *r);
	pthread_mutex_lock(&m->lock);
	if (!(c = find(m, channel)))
		goto out;
	trim_age(m, c, now_ms(m));
	r->gap = c->has_trimmed && evid_cmp(&c->trimmed, after) > 0;
	if (c->count) {
		r->has_oldest = 1;
		r->oldest = at(m, c, 0)->id;
	}
	/* The first event after AFTER: ids only grow along the ring. */
	for (lo = 0, hi = c->count; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (evid_cmp(&at(m, c, mid)->id, after) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < c->count && *n < max; i++) {
		out[*n] = at(m, c, i);
		event_ref(out[*n]);
		(*n)++;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* In memory, every publish is delivered: nothing to start. */
static int mem_watch(struct evstore *s, const char *channel)
{
	(void)s;
	(void)channel;
	return 0;
}

static void mem_unwatch(struct evstore *s, const char *channel)
{
	(void)s;
	(void)channel;
}

static int mem_health(struct evstore *s, enum evstore_why *why)
{
	(void)s;
	*why = EVSTORE_OK;
	return 0;
}

static void mem_prune(struct evstore *s)
{
	struct mem *m = (struct mem *)s;
	int64_t now = now_ms(m);
	struct mchan *c;
	size_t b;

	pthread_mutex_lock(&m->lock);
	for (b = 0; b < BUCKETS; b++)
		for (c = m->bucket[b]; c; c = c->next)
			trim_age(m, c, now);
	pthread_mutex_unlock(&m->lock);
}

static void mem_close(struct evstore *s)
{
	struct mem *m = (struct mem *)s;
	struct mchan *c, *next;
	size_t b;

	if (!m)
		return;
	for (b = 0; b < BUCKETS; b++) {
		for (c = m->bucket[b]; c; c = next) {
			next = c->next;
			while (c->count)
				drop_oldest(m, c);
			free(c->ring);
			free(c);
		}
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct evstore_ops mem_ops = {
	.publish = mem_publish,
	.range = mem_range,
	.watch = mem_watch,
	.unwatch = mem_unwatch,
	.health = mem_health,
	.prune = mem_prune,
	.close = mem_close,
};

int evstore_mem_open(const struct evstore_mem_config *cfg, evstore_deliver_fn deliver, void *ctx,
    struct evstore **out)
{
	struct mem *m;

	if (!cfg->max_events || !cfg->max_bytes || !cfg->max_channels)
		return -EINVAL;
	if (!(m = calloc(1, sizeof *m)))
		return -ENOMEM;
	m->base.ops = &mem_ops;
	m->base.deliver = deliver;
	m->base.deliver_ctx = ctx;
	m->cfg = *cfg;
	pthread_mutex_init(&m->lock, NULL);
	*out = &m->base;
	return 0;
}
