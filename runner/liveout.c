/*
 * liveout.c — live job output: the registry and one job's buffer (contract
 * in liveout.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "liveout.h"

struct chunk {
	struct chunk *next;
	uint64_t off;
	size_t len;
	enum liveout_stream stream;
	char data[];
};

struct liveout_job {
	struct liveout_job *next;  /* in the registry (under the registry's lock) */
	int64_t id;
	int refs;                  /* under the registry's lock */
	int64_t ended_ms;          /* monotonic; 0 while running (registry's lock) */
	pthread_mutex_t mu;        /* the rest */
	pthread_cond_t cv;
	struct chunk *head, *tail;
	size_t nchunks, kept, keep, cap;
	uint64_t written, dropped;
	int ended;
};

struct liveout {
	pthread_mutex_t mu;
	struct liveout_job *jobs;
	int followers, max_followers;
};

int liveout_new(int max_followers, struct liveout **out)
{
	struct liveout *lo = calloc(1, sizeof *lo);

	*out = NULL;
	if (!lo)
		return -ENOMEM;
	pthread_mutex_init(&lo->mu, NULL);
	lo->max_followers = max_followers < 0 ? 0 : max_followers;
	*out = lo;
	return 0;
}

static void job_free(struct liveout_job *j)
{
	struct chunk *c, *n;

	for (c = j->head; c; c = n) {
		n = c->next;
		free(c);
	}
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/* Drop one reference; the registry's lock is held. */
static void unref_locked(struct liveout_job *j)
{
	if (--j->refs == 0)
		job_free(j);
}

void liveout_free(struct liveout *lo)
{
	struct liveout_job *j, *n;

	if (!lo)
		return;
	for (j = lo->jobs; j; j = n) {
		n = j->next;
		unref_locked(j);
	}
	pthread_mutex_destroy(&lo->mu);
	free(lo);
}

/* Unlink the buffer at *PP from the registry and drop the registry's
 * reference. */
static void unlink_at(struct liveout_job **pp)
{
	struct liveout_job *j = *pp;

	*pp = j->next;
	j->next = NULL;
	unref_locked(j);
}

/* Forget finished buffers past the linger, and the oldest finished ones
 * beyond LIVEOUT_LINGER_MAX. The registry's lock is held. */
static void prune_locked(struct liveout *lo)
{
	int64_t now = clock_mono_ms();
	struct liveout_job **pp, **oldest;
	int nended;

	for (pp = &lo->jobs; *pp;) {
		if ((*pp)->ended_ms && now - (*pp)->ended_ms >= LIVEOUT_LINGER_MS)
			unlink_at(pp);
		else
			pp = &(*pp)->next;
	}
	for (;;) {
		nended = 0;
		oldest = NULL;
		for (pp = &lo->jobs; *pp; pp = &(*pp)->next) {
			if (!(*pp)->ended_ms)
				continue;
			nended++;
			if (!oldest || (*pp)->ended_ms <= (*oldest)->ended_ms) /* ties: the later in the list is older */
				oldest = pp;
		}
		if (nended <= LIVEOUT_LINGER_MAX)
			break;
		unlink_at(oldest);
	}
}

int liveout_begin(struct liveout *lo, int64_t job_id, size_t keep, size_t cap,
    struct liveout_job **out)
{
	struct liveout_job *j, **pp;
	pthread_condattr_t ca;

	*out = NULL;
	if (!lo)
		return 0;
	if (!(j = calloc(1, sizeof *j)))
		return -ENOMEM;
	j->id = job_id;
	j->keep = keep && keep <= LIVEOUT_KEEP_MAX ? keep : LIVEOUT_KEEP_MAX;
	j->cap = cap;
	j->refs = 2; /* the registry's and the caller's */
	pthread_mutex_init(&j->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&lo->mu);
	for (pp = &lo->jobs; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == job_id) {
			unlink_at(pp);
			break;
		}
	}
	prune_locked(lo);
	j->next = lo->jobs;
	lo->jobs = j;
	pthread_mutex_unlock(&lo->mu);
	*out = j;
	return 0;
}

/* Drop the oldest chunk; J's lock is held. */
static void drop_head(struct liveout_job *j)
{
	struct chunk *c = j->head;

	j->head = c->next;
	if (!j->head)
		j->tail = NULL;
	j->kept -= c->len;
	j->nchunks--;
	free(c);
}

void liveout_put(struct liveout_job *j, enum liveout_stream stream, const char *p, size_t n)
{
	struct chunk *c;
	size_t take, skip;

	if (!j || !n)
		return;
	pthread_mutex_lock(&j->mu);
	take = n;
	if (j->cap && j->written + take > j->cap)
		take = j->written >= j->cap ? 0 : (size_t)(j->cap - j->written);
	j->dropped += n - take;
	if (!take)
		goto out;
	/* Only the newest KEEP bytes of a chunk bigger than the buffer. */
	skip = take > j->keep ? take - j->keep : 0;
	if (!(c = malloc(sizeof *c + take - skip))) {
		/* The bytes are written but not kept: a follower sees a gap. */
		j->written += take;
		goto wake;
	}
	c->next = NULL;
	c->off = j->written + skip;
	c->len = take - skip;
	c->stream = stream;
	memcpy(c->data, p + skip, c->len);
	while (j->head && (j->kept + c->len > j->keep || j->nchunks >= LIVEOUT_CHUNKS_MAX))
		drop_head(j);
	if (j->tail)
		j->tail->next = c;
	else
		j->head = c;
	j->tail = c;
	j->nchunks++;
	j->kept += c->len;
	j->written += take;
wake:
	pthread_cond_broadcast(&j->cv);
out:
	pthread_mutex_unlock(&j->mu);
}

void liveout_end(struct liveout *lo, struct liveout_job *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->ended = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_lock(&lo->mu);
	j->ended_ms = clock_mono_ms();
	if (!j->ended_ms)
		j->ended_ms = 1;
	unref_locked(j);
	prune_locked(lo);
	pthread_mutex_unlock(&lo->mu);
}

int liveout_join(struct liveout *lo)
{
	int rc = 0;

	pthread_mutex_lock(&lo->mu);
	if (lo->followers >= lo->max_followers)
		rc = -EBUSY;
	else
		lo->followers++;
	pthread_mutex_unlock(&lo->mu);
	return rc;
}

void liveout_leave(struct liveout *lo)
{
	pthread_mutex_lock(&lo->mu);
	if (lo->followers > 0)
		lo->followers--;
	pthread_mutex_unlock(&lo->mu);
}

int liveout_followers(struct liveout *lo)
{
	int n;

	pthread_mutex_lock(&lo->mu);
	n = lo->followers;
	pthread_mutex_unlock(&lo->mu);
	return n;
}

struct liveout_job *liveout_find(struct liveout *lo, int64_t job_id)
{
	struct liveout_job *j;

	if (!lo)
		return NULL;
	pthread_mutex_lock(&lo->mu);
	prune_locked(lo);
	for (j = lo->jobs; j && j->id != job_id; j = j->next)
		;
	if (j)
		j->refs++;
	pthread_mutex_unlock(&lo->mu);
	return j;
}

void liveout_unref(struct liveout *lo, struct liveout_job *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&lo->mu);
	unref_locked(j);
	pthread_mutex_unlock(&lo->mu);
}

/* What is at OFF now, without waiting: 1 with C filled, 0 when nothing
 * yet (and not ended), -ERANGE. J's lock is held. */
static int look(struct liveout_job *j, uint64_t off, char *buf, size_t cap, struct liveout_chunk *c)
{
	struct chunk *k;
	size_t from;

	memset(c, 0, sizeof *c);
	c->off = off;
	if (off > j->written)
		return -ERANGE;
	if (off == j->written) {
		if (!j->ended)
			return 0;
		c->got = LIVEOUT_END;
		c->next = off;
		return 1;
	}
	for (k = j->head; k && k->off + k->len <= off; k = k->next)
		;
	if (!k || k->off > off) { /* dropped: too old, or not kept */
		c->got = LIVEOUT_GAP;
		c->next = k ? k->off : j->written;
		return 1;
	}
	from = (size_t)(off - k->off);
	c->got = LIVEOUT_DATA;
	c->stream = k->stream;
	c->len = k->len - from < cap ? k->len - from : cap;
	memcpy(buf, k->data + from, c->len);
	c->next = off + c->len;
	return 1;
}

int liveout_next(struct liveout_job *j, uint64_t off, int wait_ms, char *buf, size_t cap,
    struct liveout_chunk *c)
{
	struct timespec ts;
	int rc;

	pthread_mutex_lock(&j->mu);
	rc = look(j, off, buf, cap, c);
	if (rc == 0 && wait_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while ((rc = look(j, off, buf, cap, c)) == 0)
			if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) == ETIMEDOUT) {
				rc = look(j, off, buf, cap, c);
				break;
			}
	}
	pthread_mutex_unlock(&j->mu);
	if (rc == 0) {
		c->got = LIVEOUT_IDLE;
		c->next = off;
	}
	return rc < 0 ? rc : 0;
}

void liveout_totals(struct liveout_job *j, uint64_t *written, uint64_t *dropped, int *ended)
{
	pthread_mutex_lock(&j->mu);
	*written = j->written;
	*dropped = j->dropped;
	*ended = j->ended;
	pthread_mutex_unlock(&j->mu);
}

int liveout_parse_offset(const char *s, uint64_t *off)
{
	uint64_t v = 0;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (i >= LIVEOUT_ID_MAX || s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*off = v;
	return 0;
}
