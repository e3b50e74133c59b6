/*
 * pool.c — warm SSH connections for the executor service (contract in
 * pool.h). Keys are few (one per identity and destination in use), so they
 * live in a list; each key's idle connections are a stack (the most recent
 * is used first, so the others age out when load drops).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "pool.h"

#define MAX_CLOSE 256 /* connections closed per tick at most; the rest wait a tick */

struct entry {
	struct entry *next;
	char key[POOL_KEY_MAX];
	unsigned open;        /* pooled connections, idle or in use */
	unsigned nidle;
	struct conn **idle;   /* max_per_key places */
};

struct pool {
	pthread_mutex_t mu;
	struct entry *head;
	unsigned max;
	int64_t idle_ms;
	struct pool_stats st;
	struct status park_st;  /* what an idle connection is bound to */
	volatile sig_atomic_t park_stop;
};

int pool_new(int max_per_key, int idle_s, struct pool **out)
{
	struct pool *p = calloc(1, sizeof *p);

	*out = NULL;
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	p->max = max_per_key < 0 ? 0 : (unsigned)max_per_key;
	p->idle_ms = (int64_t)idle_s * 1000;
	*out = p;
	return 0;
}

static void close_conn(struct conn *c)
{
	conn_teardown(c);
	free(c);
}

void pool_close_idle(struct pool *p)
{
	struct entry *e;
	unsigned i;

	pthread_mutex_lock(&p->mu);
	for (e = p->head; e; e = e->next) {
		for (i = 0; i < e->nidle; i++)
			close_conn(e->idle[i]); /* at shutdown only: nothing else waits */
		e->open -= e->nidle;
		p->st.open -= e->nidle;
		p->st.idle -= e->nidle;
		e->nidle = 0;
	}
	pthread_mutex_unlock(&p->mu);
}

void pool_free(struct pool *p)
{
	struct entry *e, *n;

	if (!p)
		return;
	pool_close_idle(p);
	for (e = p->head; e; e = n) {
		n = e->next;
		free(e->idle);
		free(e);
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* KEY's entry, made when absent (NULL when out of memory). Under the lock. */
static struct entry *entry_of(struct pool *p, const char *key)
{
	struct entry *e;

	for (e = p->head; e; e = e->next)
		if (!strcmp(e->key, key))
			return e;
	if (strlen(key) >= POOL_KEY_MAX || !(e = calloc(1, sizeof *e)))
		return NULL;
	if (p->max && !(e->idle = calloc(p->max, sizeof *e->idle))) {
		free(e);
		return NULL;
	}
	strcpy(e->key, key);
	e->next = p->head;
	p->head = e;
	return e;
}

void pool_take(struct pool *p, const char *key, int reuse, int fresh, struct conn **c, int *pooled)
{
	struct entry *e;

	*c = NULL;
	*pooled = 0;
	if (!reuse || !p->max)
		return;
	pthread_mutex_lock(&p->mu);
	if (!(e = entry_of(p, key)))
		goto out;
	if (e->nidle && !fresh) {
		*c = e->idle[--e->nidle];
		*pooled = 1;
		p->st.idle--;
		p->st.reuses++;
	} else if (e->open < p->max) {
		e->open++;
		p->st.open++;
		*pooled = 1;
	} else {
		p->st.overflow++;
	}
out:
	pthread_mutex_unlock(&p->mu);
}

void pool_count_connect(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->st.connects++;
	pthread_mutex_unlock(&p->mu);
}

void pool_give(struct pool *p, const char *key, struct conn *c, int pooled, int keep)
{
	struct entry *e = NULL;

	if (c && pooled && keep) {
		pthread_mutex_lock(&p->mu);
		e = entry_of(p, key);
		if (e && e->nidle < p->max) {
			c->a = NULL;
			c->st = &p->park_st;
			c->stop = &p->park_stop;
			c->watch_fd = c->frame_fd = -1;
			c->idle_since = clock_mono_ms();
			c->idle_queued = 0;
			e->idle[e->nidle++] = c;
			p->st.idle++;
			pthread_mutex_unlock(&p->mu);
			return;
		}
		pthread_mutex_unlock(&p->mu);
	}
	if (c)
		close_conn(c);
	if (pooled) {
		pthread_mutex_lock(&p->mu);
		if ((e = entry_of(p, key)) && e->open) {
			e->open--;
			p->st.open--;
		}
		pthread_mutex_unlock(&p->mu);
	}
}

void pool_tick(struct pool *p, int64_t now)
{
	struct conn *gone[MAX_CLOSE];
	struct entry *e;
	unsigned i, k, n = 0;

	pthread_mutex_lock(&p->mu);
	for (e = p->head; e; e = e->next) {
		for (i = 0, k = 0; i < e->nidle; i++) {
			struct conn *c = e->idle[i];
			int expired = now - c->idle_since >= p->idle_ms;
			if (n < MAX_CLOSE && (expired || !conn_idle_ok(c, now))) {
				gone[n++] = c;
				if (expired)
					p->st.idle_closed++;
				else
					p->st.dead_closed++;
				e->open--;
				p->st.open--;
				p->st.idle--;
				continue;
			}
			e->idle[k++] = c;
		}
		e->nidle = k;
	}
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < n; i++)
		close_conn(gone[i]);
}

void pool_get_stats(struct pool *p, struct pool_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	pthread_mutex_unlock(&p->mu);
}
