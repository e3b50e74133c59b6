/*
 * worker.c — the async worker pool (contract in worker.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "worker.h"

#define POLL_MS 1000

struct workers {
	struct cfggen *gens;
	struct store *st;
	struct jobs *jobs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping, pending;
	int n;
	pthread_t *th;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(struct workers *w)
{
	int s;

	pthread_mutex_lock(&w->mu);
	s = w->stopping;
	pthread_mutex_unlock(&w->mu);
	return s;
}

/* A job that cannot run at all is finished with an answer saying why. */
static void finish_unrunnable(struct workers *w, const struct store_job *job, const char *state,
    int http, const char *why)
{
	struct store_outcome o = { 0 };
	char body[512];
	int64_t now = wall_ms();

	snprintf(body, sizeof body, "{\"job_id\":%" PRId64 ",\"hook\":\"%s\",\"attempt\":%d,"
				    "\"status\":\"%s\",\"error\":\"%s\"}",
	    job->id, job->hook, job->attempt, state, why);
	o.state = jobstate_from_name(state);
	o.started_ms = now;
	o.finished_ms = now;
	o.exit_code = -1;
	o.error = why;
	o.http_status = http;
	o.response = body;
	if (store_finish(w->st, job->id, &o) != 0)
		log_event(LOG_ERROR, "store_error", "job", job->hook, "error", "cannot record outcome", NULL);
}

/* A job taken from the queue that did not start because the daemon is
 * stopping. Its delivery was answered 202 and will not come again, so it
 * must not end as "interrupted": it goes back to "queued" and runs after the
 * next start. Only if the store refuses is it recorded interrupted. */
static void back_to_queue(struct workers *w, const struct store_job *job, const char *rid)
{
	if (store_requeue(w->st, job->id) == 0) {
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
	while (!(have_slot = jobs_acquire(w->jobs, h->dest_key) == 0)) {
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
	if (dispatch_run(cfg, w->st, w->jobs, h, job->id, job->attempt, cmd, rid, &ans) != 0)
		log_event(LOG_ERROR, "job_finished", "request_id", rid, "error", "out of memory", NULL);
	free(ans.body);
out:
	if (have_slot)
		jobs_release(w->jobs, h->dest_key);
	free(cmd);
	dispatch_meta_clear(&dm);
	cfggen_put(w->gens, ref);
}

static void *worker_main(void *arg)
{
	struct workers *w = arg;

	for (;;) {
		struct store_job job;
		char *body = NULL, *meta = NULL;
		size_t len = 0;
		int rc;

		pthread_mutex_lock(&w->mu);
		if (!w->stopping && !w->pending) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += POLL_MS / 1000;
			pthread_cond_timedwait(&w->cv, &w->mu, &until);
		}
		if (w->pending)
			w->pending--;
		if (w->stopping) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		pthread_mutex_unlock(&w->mu);

		memset(&job, 0, sizeof job);
		rc = store_take_queued(w->st, wall_ms(), &job, &body, &len, &meta);
		if (rc == 0) {
			run_one(w, &job, body, len, meta);
			workers_wake(w); /* there may be more */
		} else if (rc != -ENOENT) {
			log_event(LOG_ERROR, "store_error", "error", strerror(-rc), "note", "async queue", NULL);
		}
		store_job_clear(&job);
		free(body);
		free(meta);
	}
	return NULL;
}

int workers_start(struct cfggen *gens, struct store *st, struct jobs *jobs, int n, struct workers **out)
{
	struct workers *w = calloc(1, sizeof *w);
	int i;

	if (!w || !(w->th = calloc((size_t)n, sizeof *w->th))) {
		free(w);
		return -ENOMEM;
	}
	w->gens = gens;
	w->st = st;
	w->jobs = jobs;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->pending = n; /* look at the queue once at start: jobs from before a restart */
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

void workers_wake(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->pending < w->n)
		w->pending++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void workers_quiesce(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void workers_stop(struct workers *w)
{
	int i;

	if (!w)
		return;
	workers_quiesce(w);
	for (i = 0; i < w->n; i++)
		pthread_join(w->th[i], NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->th);
	free(w);
}
