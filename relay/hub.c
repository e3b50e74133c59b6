/*
 * hub.c — subscribers and fan-out (contract in hub.h). One lock over the
 * list of subscribers and their queues; each subscriber waits on its own
 * condition variable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"
#include "hub.h"

struct qitem {
	struct qitem *next;
	struct event *ev;
};

struct hub_sub {
	struct hub_sub *prev, *next;
	char channel[CHAN_NAME_MAX + 1];
	pthread_cond_t cond;
	struct qitem *head, *tail;
	size_t count, bytes;
	int dropped;
	char reason[128];
	char label[128];
};

struct hub {
	struct hub_config cfg;
	pthread_mutex_t lock;
	struct hub_sub *subs;
	size_t count;
	int draining;
};

int hub_new(const struct hub_config *cfg, struct hub **out)
{
	struct hub *h;

	if (!cfg->max_subscribers || !cfg->queue_events || !cfg->queue_bytes)
		return -EINVAL;
	if (!(h = calloc(1, sizeof *h)))
		return -ENOMEM;
	h->cfg = *cfg;
	pthread_mutex_init(&h->lock, NULL);
	*out = h;
	return 0;
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	while (h->subs)
		hub_leave(h, h->subs);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static void clear_queue(struct hub_sub *s)
{
	struct qitem *q, *next;

	for (q = s->head; q; q = next) {
		next = q->next;
		event_unref(q->ev);
		free(q);
	}
	s->head = s->tail = NULL;
	s->count = s->bytes = 0;
}

int hub_join(struct hub *h, const char *channel, const char *label, struct hub_sub **out)
{
	struct hub_sub *s;
	pthread_condattr_t ca;
	int rc = 0;

	if (!(s = calloc(1, sizeof *s)))
		return -ENOMEM;
	snprintf(s->channel, sizeof s->channel, "%s", channel);
	snprintf(s->label, sizeof s->label, "%s", label ? label : "");
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&h->lock);
	if (h->draining)
		rc = -ESHUTDOWN;
	else if (h->count >= h->cfg.max_subscribers)
		rc = -EBUSY;
	if (!rc) {
		s->next = h->subs;
		if (h->subs)
			h->subs->prev = s;
		h->subs = s;
		h->count++;
	}
	pthread_mutex_unlock(&h->lock);
	if (rc) {
		pthread_cond_destroy(&s->cond);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void hub_leave(struct hub *h, struct hub_sub *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&h->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		h->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->count--;
	clear_queue(s);
	pthread_mutex_unlock(&h->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

enum hub_next hub_next(struct hub *h, struct hub_sub *s, int timeout_ms, struct event **ev)
{
	struct timespec until;
	enum hub_next r = HUB_TIMEOUT;
	struct qitem *q;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	for (;;) {
		if (h->draining) {
			r = HUB_DRAIN;
			break;
		}
		if (s->dropped) {
			r = HUB_DROPPED;
			break;
		}
		if ((q = s->head)) {
			s->head = q->next;
			if (!s->head)
				s->tail = NULL;
			s->count--;
			s->bytes -= q->ev->len;
			*ev = q->ev;
			free(q);
			r = HUB_EVENT;
			break;
		}
		if (pthread_cond_timedwait(&s->cond, &h->lock, &until) == ETIMEDOUT) {
			r = HUB_TIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

const char *hub_drop_reason(const struct hub_sub *s)
{
	return s->reason;
}

/* A drop to report once the lock is released. */
struct dropnote {
	struct dropnote *next;
	char label[128], reason[128];
};

size_t hub_deliver(struct hub *h, const char *channel, struct event *ev)
{
	struct dropnote *notes = NULL, *d;
	struct hub_sub *s;
	struct qitem *q;
	size_t dropped = 0;

	pthread_mutex_lock(&h->lock);
	for (s = h->subs; s; s = s->next) {
		if (s->dropped || strcmp(s->channel, channel))
			continue;
		q = NULL;
		if (s->count + 1 > h->cfg.queue_events || s->bytes + ev->len > h->cfg.queue_bytes ||
		    !(q = malloc(sizeof *q))) {
			if (s->count + 1 > h->cfg.queue_events || s->bytes + ev->len > h->cfg.queue_bytes)
				snprintf(s->reason, sizeof s->reason, "queue full: %zu events, %zu "
				    "bytes waiting (caps %zu events, %zu bytes)", s->count, s->bytes,
				    h->cfg.queue_events, h->cfg.queue_bytes);
			else
				snprintf(s->reason, sizeof s->reason, "out of memory");
			s->dropped = 1;
			clear_queue(s);
			pthread_cond_signal(&s->cond);
			dropped++;
			if (h->cfg.on_drop && (d = malloc(sizeof *d))) {
				memcpy(d->label, s->label, sizeof d->label);
				memcpy(d->reason, s->reason, sizeof d->reason);
				d->next = notes;
				notes = d;
			}
			continue;
		}
		event_ref(ev);
		q->ev = ev;
		q->next = NULL;
		if (s->tail)
			s->tail->next = q;
		else
			s->head = q;
		s->tail = q;
		s->count++;
		s->bytes += ev->len;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&h->lock);
	while ((d = notes)) {
		notes = d->next;
		h->cfg.on_drop(h->cfg.drop_ctx, channel, d->label, d->reason);
		free(d);
	}
	return dropped;
}

void hub_drain(struct hub *h)
{
	struct hub_sub *s;

	pthread_mutex_lock(&h->lock);
	h->draining = 1;
	for (s = h->subs; s; s = s->next)
		pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&h->lock);
}

size_t hub_count(struct hub *h)
{
	size_t n;

	pthread_mutex_lock(&h->lock);
	n = h->count;
	pthread_mutex_unlock(&h->lock);
	return n;
}
