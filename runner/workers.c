/*
 * workers.c — the async worker pool (contract in workers.h). While the
 * current config says executor.paused, the workers take nothing and look
 * again every 100 ms.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "dispatch.h"
#include "jobjson.h"
#include "log.h"
#include "workers.h"

struct workers {
	struct cfggen *gens;
	struct store *st;
	struct queue *q;
	struct slots *slots;
	int stopping; /* atomic: workers_quiesce */
	int n;
	pthread_t *th;
};

static int stopping(struct workers *w)
{
	return __atomic_load_n(&w->stopping, __ATOMIC_SEQ_CST);
}

/* A job that cannot run at all is finished with an answer saying why. */
static void finish_unrunnable(struct workers *w, const struct store_job *job, const char *state,
    int http, const char *why)
{
	struct store_outcome o = { 0 };
	struct store_job j;
	char *body = NULL;
	int64_t now = clock_wall_ms();

	memset(&j, 0, sizeof j);
	j.id = job->id;
	j.attempt = job->attempt;
	j.exit_code = -1;
	snprintf(j.hook, sizeof j.hook, "%s", job->hook);
	j.state = jobstate_from_name(state);
	snprintf(j.error, sizeof j.error, "%s", why);
	o.state = jobstate_from_name(state);
	o.started_ms = now;
	o.finished_ms = now;
	o.exit_code = -1;
	o.error = why;
	o.http_status = http;
	if (jobjson_print(&j, 0, NULL, &body) != 0)
		body = NULL;
	o.response = body ? body : "{}"; /* out of memory: recorded all the same */
	if (store_finish(w->st, job->id, &o) != 0)
		log_event(LOG_ERROR, "store_error", "job", job->hook, "error", "cannot record outcome", NULL);
	free(body);
}

/* A job taken from the queue that did not start because the daemon is
 * stopping. Its delivery was answered 202 and will not come again, so it
 * must not end as "interrupted": it goes back to "queued" and runs after the
 * next start. Only if the store refuses is it recorded interrupted. */
static void back_to_queue(struct workers *w, const struct store_job *job, const char *rid)
{
	if (queue_return(w->q, job->id) == 0) {
		log_event(LOG_INFO, "job_requeued", "request_id", rid, "hook", job->hook,
		    "note", "shutdown before it started; it runs after the next start", NULL);
		return;
	}
	log_event(LOG_WARN, "job_finished", "request_id", rid, "hook", job->hook, "outcome", "interrupted",
	    "error", "shutdown", NULL);
	finish_unrunnable(w, job, "interrupted", 503, "shutdown");
}

static void run_one(struct workers *w, struct store_job *job, char *body, size_t len, const char *meta)
{
	struct dispatch_meta dm = { 0 };
	struct dispatch_answer ans = { 0 };
	const struct cfg_hook *h;
	const struct config *cfg;
	void *ref;
	char *cmd = NULL, err[300], rid[32];
	int have_slot = 0;

	snprintf(rid, sizeof rid, "job-%" PRId64, job->id);
	cfg = cfggen_get(w->gens, &ref);
	if (!(h = config_hook(cfg, job->hook))) {
		log_event(LOG_ERROR, "job_finished", "request_id", rid, "hook", job->hook,
		    "outcome", "failed", "error", "the hook is no longer in the configuration", NULL);
		finish_unrunnable(w, job, "failed", 500, "hook_removed");
		goto out;
	}
	if (dispatch_meta_parse(meta ? meta : "{}", &dm) != 0 ||
	    dispatch_prepare(h, body, len, dm.claims, &dm.headers, &cmd, err, sizeof err) != 0) {
		log_event(LOG_WARN, "job_finished", "request_id", rid, "hook", h->id, "outcome", "failed",
		    "error", "cannot prepare the command", NULL);
		finish_unrunnable(w, job, "failed", 422, "invalid_parameters");
		goto out;
	}
	/* The global cap is at most the number of workers plus sync requests; the
	 * per-destination cap may make us wait for a sibling job. */
	while (!(have_slot = slots_acquire(w->slots, h->dest_key) == 0)) {
		if (stopping(w)) {
			back_to_queue(w, job, rid);
			goto out;
		}
		usleep(100 * 1000);
	}
	/* Taken just as SIGTERM came: the drain may already have counted no
	 * running job and returned, so running it now would outlast the drain
	 * timeout. It has not started: it goes back to the queue. */
	if (stopping(w)) {
		back_to_queue(w, job, rid);
		goto out;
	}
	if (dispatch_run(cfg, w->st, w->slots, h, job->id, job->attempt, cmd, rid, &ans) != 0)
		log_event(LOG_ERROR, "job_finished", "request_id", rid, "error", "out of memory", NULL);
	free(ans.body);
out:
	if (have_slot)
		slots_release(w->slots, h->dest_key);
	free(cmd);
	dispatch_meta_clear(&dm);
	cfggen_put(w->gens, ref);
}

/* executor.paused in the config current now (a reload changes it). */
static int paused(struct workers *w)
{
	void *ref;
	const struct config *cfg = cfggen_get(w->gens, &ref);
	int p = cfg->paused;

	cfggen_put(w->gens, ref);
	return p;
}

static void *worker_main(void *arg)
{
	struct workers *w = arg;

	for (;;) {
		struct store_job job;
		char *body = NULL, *meta = NULL;
		size_t len = 0;
		int rc;

		if (paused(w)) { /* queued jobs wait; a reload without it resumes */
			if (stopping(w))
				break;
			usleep(100 * 1000);
			continue;
		}
		memset(&job, 0, sizeof job);
		rc = queue_take(w->q, &job, &body, &len, &meta);
		if (rc == -ECANCELED)
			break;
		if (rc == 0) {
			run_one(w, &job, body, len, meta);
			queue_wake(w->q); /* there may be more */
		} else if (rc != -ENOENT) {
			log_event(LOG_ERROR, "store_error", "error", strerror(-rc), "note", "async queue", NULL);
		}
		store_job_clear(&job);
		free(body);
		free(meta);
	}
	return NULL;
}

int workers_start(struct cfggen *gens, struct store *st, struct queue *q, struct slots *slots, int n,
    struct workers **out)
{
	struct workers *w = calloc(1, sizeof *w);
	int i;

	if (!w || !(w->th = calloc((size_t)n, sizeof *w->th))) {
		free(w);
		return -ENOMEM;
	}
	w->gens = gens;
	w->st = st;
	w->q = q;
	w->slots = slots;
	for (i = 0; i < n; i++) {
		if (pthread_create(&w->th[i], NULL, worker_main, w) != 0)
			break;
		w->n++;
	}
	if (w->n == 0) {
		workers_stop(w);
		return -EAGAIN;
	}
	*out = w;
	return 0;
}

void workers_quiesce(struct workers *w)
{
	if (!w)
		return;
	__atomic_store_n(&w->stopping, 1, __ATOMIC_SEQ_CST);
	queue_shut(w->q);
}

void workers_stop(struct workers *w)
{
	int i;

	if (!w)
		return;
	workers_quiesce(w);
	for (i = 0; i < w->n; i++)
		pthread_join(w->th[i], NULL);
	free(w->th);
	free(w);
}
