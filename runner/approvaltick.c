/*
 * approvaltick.c — the daemon's approval timer (contract in approvaltick.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "approvaltick.h"
#include "log.h"
#include "metrics.h"

#define BATCH 100 /* expiries per transaction; changes read per look */

struct approvaltick {
	struct cfggen *gens;
	struct store *st;
	struct queue *q;
	approvaltick_fn fn;
	void *ctx;
	int64_t cursor;       /* the last seq noticed */
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	char expired_ids[BATCH][STORE_APPROVAL_ID_LEN + 1]; /* this tick's own expiries */
	size_t nexpired;
};

/* The hook's id as configured now, or NULL when it is gone (counted under
 * no configured hook: metrics labels come from the config only). */
static const char *configured(struct approvaltick *t, const char *hook, void **ref, const struct config **cfg)
{
	const struct cfg_hook *h;

	*cfg = cfggen_get(t->gens, ref);
	h = config_hook(*cfg, hook);
	return h ? h->id : METRICS_UNKNOWN_HOOK;
}

static int expired_here(struct approvaltick *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->nexpired; i++)
		if (!strcmp(t->expired_ids[i], id))
			return 1;
	return 0;
}

/* Expire what is due, in batches of BATCH, each logged. */
static int expire_due(struct approvaltick *t)
{
	struct store_approval *v = NULL;
	size_t n = 0, i;
	int rc, rounds = 0;

	t->nexpired = 0;
	do {
		rc = store_approvals_expire(t->st, clock_wall_ms(), BATCH, &v, &n);
		if (rc)
			return rc;
		for (i = 0; i < n; i++) {
			char job[24];
			snprintf(job, sizeof job, "%" PRId64, v[i].job_id);
			log_event(LOG_WARN, "approval_expired", "approval", v[i].id, "hook", v[i].hook, "job", job,
			    "note", "not approved in time; the job will not run", NULL);
			if (t->nexpired < BATCH)
				snprintf(t->expired_ids[t->nexpired++], sizeof t->expired_ids[0], "%s", v[i].id);
		}
		store_approvals_free(v, n);
		v = NULL;
	} while (n == BATCH && ++rounds < 10); /* bounded: the rest at the next tick */
	return 0;
}

/* Notice every change after the cursor: log and count decisions, tell the
 * listener, wake the workers for an approval. */
static int notice(struct approvaltick *t)
{
	struct store_approval *v = NULL;
	size_t n = 0, i;
	int rc, wake = 0;

	do {
		rc = store_approvals_changed(t->st, t->cursor, BATCH, &v, &n);
		if (rc)
			return rc;
		for (i = 0; i < n; i++) {
			struct approval_change ch = { &v[i], v[i].state != STORE_APPROVAL_PENDING,
				expired_here(t, v[i].id) };
			if (ch.decided) {
				const struct config *cfg;
				void *ref;
				const char *hook = configured(t, v[i].hook, &ref, &cfg);
				char job[24];
				snprintf(job, sizeof job, "%" PRId64, v[i].job_id);
				metrics_approval(hook, store_approval_state_name(v[i].state));
				log_event(LOG_INFO, "approval_decided", "approval", v[i].id, "hook", v[i].hook,
				    "job", job, "state", store_approval_state_name(v[i].state),
				    "by", v[i].decided_by[0] ? v[i].decided_by : NULL, NULL);
				cfggen_put(t->gens, ref);
				wake |= v[i].state == STORE_APPROVAL_APPROVED;
			}
			if (t->fn)
				t->fn(t->ctx, &ch);
			if (v[i].seq > t->cursor)
				t->cursor = v[i].seq;
		}
		store_approvals_free(v, n);
		v = NULL;
	} while (n == BATCH);
	if (wake && t->q)
		queue_wake(t->q);
	return 0;
}

/* One tick: expire, notice, the gauge. 0 or the store's errno. */
static int run_tick(struct approvaltick *t)
{
	int rc = expire_due(t), rc2 = notice(t), pending = 0;

	if (store_approvals_count_pending(t->st, &pending) == 0)
		metrics_approvals_pending(pending);
	return rc ? rc : rc2;
}

static void *tick_main(void *arg)
{
	struct approvaltick *t = arg;
	int last_rc = 0;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec until;
		int rc;

		pthread_mutex_unlock(&t->mu);
		rc = run_tick(t);
		if (rc && rc != last_rc) /* once per kind of failure, not every second */
			log_event(LOG_ERROR, "store_error", "error", strerror(-rc), "note", "approval timer", NULL);
		last_rc = rc;
		pthread_mutex_lock(&t->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (APPROVALTICK_PERIOD_MS % 1000) * 1000000L;
		until.tv_sec += APPROVALTICK_PERIOD_MS / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (!t->stop)
			pthread_cond_timedwait(&t->cv, &t->mu, &until);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int approvaltick_start(struct cfggen *gens, struct store *st, struct queue *q, approvaltick_fn fn,
    void *ctx, struct approvaltick **out)
{
	struct approvaltick *t = calloc(1, sizeof *t);
	int rc;

	if (!t)
		return -ENOMEM;
	t->gens = gens;
	t->st = st;
	t->q = q;
	t->fn = fn;
	t->ctx = ctx;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if ((rc = store_approvals_max_seq(st, &t->cursor)) != 0) {
		approvaltick_stop(t);
		return rc;
	}
	if (pthread_create(&t->th, NULL, tick_main, t) != 0) {
		approvaltick_stop(t);
		return -EAGAIN;
	}
	t->started = 1;
	*out = t;
	return 0;
}

void approvaltick_stop(struct approvaltick *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (t->started)
		pthread_join(t->th, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
