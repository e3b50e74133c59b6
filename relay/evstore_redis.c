/*
 * evstore_redis.c — the Redis Streams event store (contract in
 * evstore_redis.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis.h>

#include "chan.h"
#include "evstore_redis.h"
#include "metrics.h"

#define POOL_IDLE 16
#define READ_COUNT 256
#define BLOCK_MS 1000

struct rconn {
	struct rconn *next;
	redisContext *c;
};

struct watch {
	struct watch *next;
	struct rstore *s;
	char channel[CHAN_NAME_MAX + 1];
	int refs, stop;
	struct evid cursor;
	int has_cursor;
};

struct rstore {
	struct evstore base;
	char host[256], user[128], *password;
	int port, db;
	char prefix[64];
	size_t maxlen;
	pthread_mutex_t lock;
	pthread_cond_t gone;    /* a reader thread ended */
	struct rconn *idle;
	size_t nidle;
	struct watch *watches;
	size_t readers;
};

/* "redis://[[user]:password@]host[:port][/db]" into S. */
static int parse_url(struct rstore *s, const char *url, char *err, size_t errlen)
{
	const char *p, *at, *end, *colon, *slash;
	char *e;
	long v;

	if (strncmp(url, "redis://", 8)) {
		snprintf(err, errlen, "--redis-url: must start redis:// (redis://[:password@]host[:port][/db])");
		return -EINVAL;
	}
	p = url + 8;
	end = p + strcspn(p, "/");
	at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		size_t ul = c ? (size_t)(c - p) : 0;

		if (!c || ul >= sizeof s->user) {
			snprintf(err, errlen, "--redis-url: the part before @ must be [user]:password");
			return -EINVAL;
		}
		memcpy(s->user, p, ul);
		s->user[ul] = '\0';
		if (!(s->password = strndup(c + 1, (size_t)(at - c - 1))))
			return -ENOMEM;
		p = at + 1;
	}
	colon = memchr(p, ':', (size_t)(end - p));
	if ((size_t)((colon ? colon : end) - p) >= sizeof s->host || (colon ? colon : end) == p) {
		snprintf(err, errlen, "--redis-url: no host, or too long");
		return -EINVAL;
	}
	memcpy(s->host, p, (size_t)((colon ? colon : end) - p));
	s->port = 6379;
	if (colon) {
		v = strtol(colon + 1, &e, 10);
		if (e != end || colon + 1 == end || v < 1 || v > 65535) {
			snprintf(err, errlen, "--redis-url: the port must be 1..65535");
			return -EINVAL;
		}
		s->port = (int)v;
	}
	slash = *end == '/' ? end : NULL;
	if (slash && slash[1]) {
		v = strtol(slash + 1, &e, 10);
		if (*e || v < 0 || v > 1000000) {
			snprintf(err, errlen, "--redis-url: the database must be a number");
			return -EINVAL;
		}
		s->db = (int)v;
	}
	return 0;
}

static void ms_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A new connection, authenticated, on the right database; NULL when Redis
 * cannot be reached. TIMEOUT_MS bounds each command. */
static redisContext *dial(struct rstore *s, int timeout_ms)
{
	struct timeval ct = { 1, 0 }, tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(s->host, s->port, ct);
	redisReply *r = NULL;

	if (!c || c->err)
		goto fail;
	redisSetTimeout(c, tv);
	if (s->password) {
		r = s->user[0] ? redisCommand(c, "AUTH %s %s", s->user, s->password) :
		    redisCommand(c, "AUTH %s", s->password);
		if (!r || r->type == REDIS_REPLY_ERROR)
			goto fail;
		freeReplyObject(r);
		r = NULL;
	}
	if (s->db) {
		r = redisCommand(c, "SELECT %d", s->db);
		if (!r || r->type == REDIS_REPLY_ERROR)
			goto fail;
		freeReplyObject(r);
	}
	return c;
fail:
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	metrics_store_error();
	return NULL;
}

static redisContext *take(struct rstore *s)
{
	struct rconn *rc;
	redisContext *c = NULL;

	pthread_mutex_lock(&s->lock);
	if ((rc = s->idle)) {
		s->idle = rc->next;
		s->nidle--;
		c = rc->c;
		free(rc);
	}
	pthread_mutex_unlock(&s->lock);
	return c ? c : dial(s, 2000);
}

/* Return C to the pool, or drop it when it failed (OK 0). */
static void give(struct rstore *s, redisContext *c, int ok)
{
	struct rconn *rc;

	if (!c)
		return;
	if (!ok || c->err || !(rc = malloc(sizeof *rc))) {
		if (!ok || c->err)
			metrics_store_error();
		redisFree(c);
		return;
	}
	rc->c = c;
	pthread_mutex_lock(&s->lock);
	if (s->nidle < POOL_IDLE) {
		rc->next = s->idle;
		s->idle = rc;
		s->nidle++;
		rc = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		redisFree(rc->c);
		free(rc);
	}
}

static void key_of(const struct rstore *s, const char *channel, char *key, size_t len)
{
	snprintf(key, len, "%s%s", s->prefix, channel);
}

static int r_publish(struct evstore *b, const char *channel, const char *tail, size_t len,
    struct evid *id, enum evstore_why *why)
{
	struct rstore *s = (struct rstore *)b;
	redisContext *c = take(s);
	redisReply *r;
	char key[160];
	int ok;

	*why = EVSTORE_DOWN;
	if (!c)
		return -EIO;
	key_of(s, channel, key, sizeof key);
	r = redisCommand(c, "XADD %s MAXLEN ~ %lu * e %b", key, (unsigned long)s->maxlen, tail, len);
	ok = r && r->type == REDIS_REPLY_STRING && evid_parse(r->str, id) == 0;
	if (r)
		freeReplyObject(r);
	give(s, c, ok);
	if (!ok)
		return -EIO;
	*why = EVSTORE_OK;
	return 0;
}

/* One stream entry [id, [field, value, ...]] as an event. */
static int entry_event(const redisReply *e, struct event **out)
{
	const redisReply *f;
	struct evid id;
	size_t i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING || evid_parse(e->element[0]->str, &id) ||
	    (f = e->element[1])->type != REDIS_REPLY_ARRAY)
		return -EINVAL;
	for (i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING && !strcmp(f->element[i]->str, "e") &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			return event_new(&id, f->element[i + 1]->str, f->element[i + 1]->len, out);
	return -EINVAL;
}

/* From XINFO STREAM: the oldest entry's id, and whether the stream ever
 * lost entries (entries-added is more than its length: trimmed). */
static void stream_info(const redisReply *r, struct evstore_range *rg, int *trimmed)
{
	long long added = -1, length = -1;
	size_t i;

	*trimmed = 0;
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];

		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(k->str, "entries-added") && v->type == REDIS_REPLY_INTEGER)
			added = v->integer;
		else if (!strcmp(k->str, "length") && v->type == REDIS_REPLY_INTEGER)
			length = v->integer;
		else if (!strcmp(k->str, "first-entry") && v->type == REDIS_REPLY_ARRAY &&
		    v->elements == 2 && v->element[0]->type == REDIS_REPLY_STRING)
			rg->has_oldest = evid_parse(v->element[0]->str, &rg->oldest) == 0;
	}
	*trimmed = added >= 0 && length >= 0 && added > length;
}

/* Run the commands appended to C as one MULTI/EXEC; the EXEC reply (its
 * elements: one reply per command) into *OUT. */
static int exec_reply(redisContext *c, int queued, redisReply **out)
{
	redisReply *r = NULL;
	int i, ok = 1;

	for (i = 0; i < queued + 1; i++) { /* MULTI's +OK, then one +QUEUED each */
		if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
			return -EIO;
		if (r->type == REDIS_REPLY_ERROR)
			ok = 0;
		freeReplyObject(r);
	}
	if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
		return -EIO;
	if (!ok || r->type != REDIS_REPLY_ARRAY || (int)r->elements != queued) {
		freeReplyObject(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

static int r_range(struct evstore *b, const char *channel, const struct evid *after, size_t max,
    struct event **out, size_t *n, struct evstore_range *rg, enum evstore_why *why)
{
	struct rstore *s = (struct rstore *)b;
	redisContext *c = take(s);
	redisReply *x = NULL, *r;
	char key[160], from[EVID_STR_MAX];
	int trimmed, rc = -EIO;
	size_t i;

	*n = 0;
	memset(rg, 0, sizeof *rg);
	*why = EVSTORE_DOWN;
	if (!c)
		return -EIO;
	key_of(s, channel, key, sizeof key);
	evid_format(after, from);
	/* One transaction: the stream's state and its entries at one moment.
	 * XINFO fails on a stream that does not exist: nothing kept. */
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "XINFO STREAM %s", key);
	redisAppendCommand(c, "XRANGE %s (%s + COUNT %lu", key, from, (unsigned long)max);
	redisAppendCommand(c, "EXEC");
	if (exec_reply(c, 2, &x))
		goto out;
	if ((r = x->element[1])->type != REDIS_REPLY_ARRAY)
		goto out;
	stream_info(x->element[0], rg, &trimmed);
	for (i = 0; i < r->elements && i < max; i++) {
		if (entry_event(r->element[i], &out[*n])) {
			*why = EVSTORE_CORRUPT;
			rc = -EINVAL;
			goto out;
		}
		(*n)++;
	}
	/* Redis trims the oldest entries and does not say which ids went: a
	 * trimmed stream whose oldest entry is after the asked id has lost
	 * what came after it (or, at worst, lost exactly the asked one). */
	rg->gap = trimmed && rg->has_oldest && evid_cmp(after, &rg->oldest) < 0;
	*why = EVSTORE_OK;
	rc = 0;
out:
	if (rc)
		while (*n)
			event_unref(out[--*n]);
	if (x)
		freeReplyObject(x);
	give(s, c, rc == 0 || rc == -EINVAL);
	return rc;
}

/* The newest id of the stream (0-0 when empty or absent) into W. */
static int init_cursor(struct rstore *s, redisContext *c, struct watch *w)
{
	redisReply *r;
	char key[160];
	struct evid id = { 0, 0 };
	int ok;

	key_of(s, w->channel, key, sizeof key);
	r = redisCommand(c, "XREVRANGE %s + - COUNT 1", key);
	ok = r && r->type == REDIS_REPLY_ARRAY;
	if (ok && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		ok = evid_parse(r->element[0]->element[0]->str, &id) == 0;
	if (r)
		freeReplyObject(r);
	if (!ok)
		return -EIO;
	pthread_mutex_lock(&s->lock);
	if (!w->has_cursor) {
		w->cursor = id;
		w->has_cursor = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int stopped(struct rstore *s, struct watch *w)
{
	int st;

	pthread_mutex_lock(&s->lock);
	st = w->stop;
	pthread_mutex_unlock(&s->lock);
	return st;
}

/* Deliver each entry of an XREAD reply; W's cursor moves past them. */
static void deliver_all(struct rstore *s, struct watch *w, const redisReply *r)
{
	const redisReply *entries;
	struct event *ev;
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2)
		return;
	entries = r->element[0]->element[1];
	if (entries->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < entries->elements; i++) {
		if (entry_event(entries->element[i], &ev)) {
			metrics_store_error();
			continue;
		}
		w->cursor = ev->id;
		s->base.deliver(s->base.deliver_ctx, w->channel, ev);
		event_unref(ev);
	}
}

static void *reader(void *arg)
{
	struct watch *w = arg;
	struct rstore *s = w->s;
	redisContext *c = NULL;
	redisReply *r;
	char key[160], from[EVID_STR_MAX];

	key_of(s, w->channel, key, sizeof key);
	while (!stopped(s, w)) {
		if (!c && !(c = dial(s, BLOCK_MS + 2000))) {
			ms_sleep(500);
			continue;
		}
		if (!w->has_cursor && init_cursor(s, c, w)) {
			metrics_store_error();
			redisFree(c);
			c = NULL;
			ms_sleep(500);
			continue;
		}
		evid_format(&w->cursor, from);
		r = redisCommand(c, "XREAD COUNT %d BLOCK %d STREAMS %s %s", READ_COUNT, BLOCK_MS,
		    key, from);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			if (r)
				freeReplyObject(r);
			metrics_store_error();
			redisFree(c);
			c = NULL;
			ms_sleep(500);
			continue;
		}
		if (!stopped(s, w))
			deliver_all(s, w, r);
		freeReplyObject(r);
	}
	if (c)
		redisFree(c);
	pthread_mutex_lock(&s->lock);
	s->readers--;
	pthread_cond_broadcast(&s->gone);
	pthread_mutex_unlock(&s->lock);
	free(w);
	return NULL;
}

static int r_watch(struct evstore *b, const char *channel)
{
	struct rstore *s = (struct rstore *)b;
	struct watch *w;
	pthread_attr_t at;
	pthread_t t;
	redisContext *c;
	int rc;

	pthread_mutex_lock(&s->lock);
	for (w = s->watches; w && strcmp(w->channel, channel); w = w->next)
		;
	if (w) {
		w->refs++;
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	pthread_mutex_unlock(&s->lock);
	if (!(w = calloc(1, sizeof *w)))
		return -ENOMEM;
	w->s = s;
	w->refs = 1;
	snprintf(w->channel, sizeof w->channel, "%s", channel);
	/* Where the stream ends now, before the subscriber's stream begins: a
	 * publish after this is delivered. Redis down: the reader finds it. */
	if ((c = take(s)))
		give(s, c, init_cursor(s, c, w) == 0);
	pthread_mutex_lock(&s->lock);
	{
		struct watch *o;

		/* Another subscriber of the channel may have come meanwhile. */
		for (o = s->watches; o && strcmp(o->channel, channel); o = o->next)
			;
		if (o) {
			o->refs++;
			pthread_mutex_unlock(&s->lock);
			free(w);
			return 0;
		}
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = -pthread_create(&t, &at, reader, w);
	pthread_attr_destroy(&at);
	if (!rc) {
		w->next = s->watches;
		s->watches = w;
		s->readers++;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc)
		free(w);
	return rc;
}

static void r_unwatch(struct evstore *b, const char *channel)
{
	struct rstore *s = (struct rstore *)b;
	struct watch **pp, *w;

	pthread_mutex_lock(&s->lock);
	for (pp = &s->watches; (w = *pp) && strcmp(w->channel, channel); pp = &w->next)
		;
	if (w && --w->refs == 0) {
		*pp = w->next;
		w->stop = 1; /* the reader frees it */
	}
	pthread_mutex_unlock(&s->lock);
}

static int r_health(struct evstore *b, enum evstore_why *why)
{
	struct rstore *s = (struct rstore *)b;
	redisContext *c = take(s);
	redisReply *r;
	int ok;

	*why = EVSTORE_DOWN;
	if (!c)
		return -EIO;
	r = redisCommand(c, "PING");
	ok = r && r->type == REDIS_REPLY_STATUS;
	if (r)
		freeReplyObject(r);
	give(s, c, ok);
	if (!ok)
		return -EIO;
	*why = EVSTORE_OK;
	return 0;
}

static void r_close(struct evstore *b)
{
	struct rstore *s = (struct rstore *)b;
	struct watch *w;
	struct rconn *rc;

	pthread_mutex_lock(&s->lock);
	for (w = s->watches; w; w = w->next)
		w->stop = 1;
	s->watches = NULL;
	while (s->readers)
		pthread_cond_wait(&s->gone, &s->lock);
	pthread_mutex_unlock(&s->lock);
	while ((rc = s->idle)) {
		s->idle = rc->next;
		redisFree(rc->c);
		free(rc);
	}
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	pthread_cond_destroy(&s->gone);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct evstore_ops redis_ops = {
	.publish = r_publish,
	.range = r_range,
	.watch = r_watch,
	.unwatch = r_unwatch,
	.health = r_health,
	.prune = NULL,
	.close = r_close,
};

int evstore_redis_open(const struct evstore_redis_config *cfg, evstore_deliver_fn deliver,
    void *ctx, struct evstore **out, char *err, size_t errlen)
{
	struct rstore *s = calloc(1, sizeof *s);
	int rc;

	if (!s)
		return -ENOMEM;
	if ((rc = parse_url(s, cfg->url, err, errlen))) {
		free(s->password);
		free(s);
		return rc;
	}
	if (strlen(cfg->prefix) >= sizeof s->prefix) {
		snprintf(err, errlen, "--redis-prefix: at most %zu bytes", sizeof s->prefix - 1);
		free(s->password);
		free(s);
		return -EINVAL;
	}
	strcpy(s->prefix, cfg->prefix);
	s->maxlen = cfg->maxlen;
	s->base.ops = &redis_ops;
	s->base.deliver = deliver;
	s->base.deliver_ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->gone, NULL);
	*out = &s->base;
	return 0;
}
