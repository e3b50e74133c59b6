/*
 * route_output.c — the live output route (contract in route_output.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/sse.h"
#include "liveout.h"
#include "route_jobs.h"
#include "route_output.h"
#include "slots.h"

#define READ_MAX     8192          /* bytes of output per event at most */
#define SSE_MAX      (64 * 1024)   /* a follower's formatted bytes at once at most */
#define SLICE_MS     250           /* how often the drain flag and the store are looked at */
#define ELSEWHERE_MS 2000          /* running here without a buffer this long: elsewhere */
#define RETRY_MS     2000          /* the reader's reconnection delay */

struct follow {
	const struct intake_env *env;
	const struct config *cfg;
	const struct intake_req *rq;
	struct intake_answer *a;
	struct store_job job;
	const struct cfg_hook *h;
	struct sse_buf b;
	uint64_t off;
	int has_off;
	int started;      /* status and headers are written */
	int gone;         /* the client went away */
	int64_t last_ms;  /* monotonic: the last write */
};

/* Write what F's buffer holds. 0, or -EPIPE (the client is gone). */
static int flush(struct follow *f)
{
	int rc = 0;

	if (f->b.len && f->rq->write(f->rq->io, f->b.p, f->b.len) != 0) {
		f->gone = 1;
		rc = -EPIPE;
	}
	sse_reset(&f->b);
	f->last_ms = clock_mono_ms();
	return rc;
}

/* Status, headers and the retry hint, once. */
static int start(struct follow *f)
{
	char head[256];
	int n;

	if (f->started)
		return 0;
	f->started = 1;
	f->a->status = 200;
	f->a->streamed = 1;
	n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nX-Request-Id: %s\r\n"
	    "Connection: close\r\n\r\n", f->rq->id);
	if (f->rq->write(f->rq->io, head, (size_t)n) != 0) {
		f->gone = 1;
		return -EPIPE;
	}
	if (sse_retry(&f->b, RETRY_MS) != 0)
		return -ENOMEM;
	return flush(f);
}

static int heartbeat(struct follow *f)
{
	if (clock_mono_ms() - f->last_ms < f->cfg->follow_heartbeat_ms)
		return 0;
	if (sse_comment(&f->b, "heartbeat") != 0)
		return -ENOMEM;
	return flush(f);
}

/* One event; DATA of LEN bytes may hold NULs (left out: an event cannot
 * carry them). */
static int send_ev(struct follow *f, const char *id, const char *event, char *data, size_t len)
{
	size_t i, k = 0;

	for (i = 0; i < len; i++)
		if (data[i])
			data[k++] = data[i];
	if (!k && len)
		return 0; /* only NULs: the next event's id covers them */
	if (sse_event(&f->b, id, event, data, k) != 0)
		return -ENOMEM;
	return flush(f);
}

static int draining(const struct follow *f)
{
	return f->env->slots && slots_draining(f->env->slots);
}

/* The job read again from the store into F->job. 0 or -errno. */
static int reload(struct follow *f)
{
	int64_t id = f->job.id;

	store_job_clear(&f->job);
	memset(&f->job, 0, sizeof f->job);
	return store_job_get(f->env->store, id, &f->job);
}

/* The outcome event: the job as GET /jobs/<id> shows it. */
static int send_outcome(struct follow *f)
{
	char *text;
	int rc;

	if (reload(f) != 0)
		return -EIO;
	if (!(text = route_jobs_text(f->env->store, &f->job, f->h)))
		return -ENOMEM;
	rc = send_ev(f, NULL, "outcome", text, strlen(text));
	free(text);
	return rc;
}

/* Stream J's buffer from F->off to its end. 0 at the end, -ERANGE before
 * the stream started (an offset past the output), or another -errno. */
static int follow_live(struct follow *f, struct liveout_job *j)
{
	static const char *const names[] = { "stdout", "stderr" };
	struct liveout_chunk c;
	char buf[READ_MAX], id[24], gap[64];
	int rc;

	for (;;) {
		if (draining(f))
			return -ESHUTDOWN;
		if ((rc = liveout_next(j, f->off, f->started ? SLICE_MS : 0, buf, sizeof buf, &c)) != 0)
			return rc; /* -ERANGE */
		if ((rc = start(f)) != 0)
			return rc;
		switch (c.got) {
		case LIVEOUT_DATA:
			snprintf(id, sizeof id, "%" PRIu64, c.next);
			rc = send_ev(f, id, names[c.stream == LIVEOUT_STDERR], buf, c.len);
			break;
		case LIVEOUT_GAP:
			snprintf(id, sizeof id, "%" PRIu64, c.next);
			snprintf(gap, sizeof gap, "{\"from\":%" PRIu64 ",\"to\":%" PRIu64 "}", c.off, c.next);
			rc = send_ev(f, id, "gap", gap, strlen(gap));
			break;
		case LIVEOUT_IDLE:
			rc = heartbeat(f);
			break;
		case LIVEOUT_END:
			return 0;
		}
		if (rc)
			return rc;
		f->off = c.next;
	}
}

/* A job not running here: the stored tail and the outcome. */
static int send_stored(struct follow *f)
{
	int rc;

	if ((rc = start(f)) != 0)
		return rc;
	if (f->job.output_tail && f->job.output_tail[0] &&
	    (rc = send_ev(f, NULL, "tail", f->job.output_tail, strlen(f->job.output_tail))) != 0)
		return rc;
	return send_outcome(f);
}

/* The job runs on another instance: 409 before the stream, an event in it. */
static int elsewhere(struct follow *f)
{
	char msg[200];

	snprintf(msg, sizeof msg, "{\"job_id\":%" PRId64 ",\"state\":\"running\",\"message\":\"the job "
	    "runs on another instance of the store; its outcome and tail are here once it ends\"}",
	    f->job.id);
	if (!f->started) {
		intake_answer_fail(f->a, f->rq, 409, "Retry-After: 5\r\n", "the job runs on another "
		    "instance of the store: follow it there, or ask again once it has finished (stored tail "
		    "and outcome)");
		return 0;
	}
	return send_ev(f, NULL, "elsewhere", msg, strlen(msg));
}

/* The loop: live buffer, stored outcome, or wait. */
static int follow(struct follow *f)
{
	struct liveout_job *j;
	int64_t running_since = 0;
	int rc;

	for (;;) {
		if (draining(f))
			return -ESHUTDOWN;
		if ((j = liveout_find(f->env->live, f->job.id)) != NULL) {
			rc = follow_live(f, j);
			liveout_unref(f->env->live, j);
			return rc ? rc : send_outcome(f);
		}
		if (jobstate_is_final(f->job.state))
			return send_stored(f);
		if (f->job.state == JOBSTATE_RUNNING && f->cfg->store_pg) {
			if (!running_since)
				running_since = clock_mono_ms();
			else if (clock_mono_ms() - running_since >= ELSEWHERE_MS)
				return elsewhere(f);
		} else {
			running_since = 0;
		}
		/* Queued or pending: the stream starts and waits. Running without
		 * a buffer yet (just claimed, or waiting for a slot): waits too. */
		if (f->job.state != JOBSTATE_RUNNING && (rc = start(f)) != 0)
			return rc;
		if (f->started && (rc = heartbeat(f)) != 0)
			return rc;
		{
			struct timespec ts = { 0, SLICE_MS * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (reload(f) != 0)
			return -EIO;
	}
}

void route_output_handle(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	void *ref;
	const struct config *cfg = cfggen_get(env->gens, &ref);
	struct follow f = { .env = env, .cfg = cfg, .rq = rq, .a = a, .b = { .max = SSE_MAX } };
	const char *lei;
	int joined = 0, rc;

	memset(&f.job, 0, sizeof f.job);
	intake_answer_hook(a, "-");
	a->verify = "-";
	a->uncounted_hook = 1;
	if (strcmp(rq->method, "GET") != 0) {
		intake_answer_fail(a, rq, 405, "Allow: GET\r\n", "method not allowed");
		goto out;
	}
	if (route_jobs_find(env, cfg, rq, "/output", a, &f.job, &f.h) != 0)
		goto out;
	if (!f.h || !f.h->response_output) {
		intake_answer_fail(a, rq, 403, NULL, f.h ? "this hook does not show its output over HTTP "
		    "(response_output is false)" : "the job's hook is no longer in the config");
		goto out;
	}
	if ((lei = intake_header(rq, "Last-Event-ID")) != NULL) {
		if (liveout_parse_offset(lei, &f.off) != 0) {
			intake_answer_fail(a, rq, 400, NULL, "Last-Event-ID: not a byte offset (1 to 20 "
			    "digits)");
			goto out;
		}
		f.has_off = 1;
	}
	if (draining(&f)) {
		intake_answer_fail(a, rq, 503, "Retry-After: 5\r\n", "the daemon is shutting down");
		goto out;
	}
	if (!env->live || liveout_join(env->live) != 0) {
		intake_answer_fail(a, rq, 503, "Retry-After: 5\r\n", "too many output followers "
		    "(server.max_followers)");
		goto out;
	}
	joined = 1;
	rc = follow(&f);
	if (rc == -ERANGE && !f.started)
		intake_answer_fail(a, rq, 400, NULL, "Last-Event-ID: past the job's output so far");
	else if (rc && rc != -EPIPE && !f.started)
		intake_answer_fail(a, rq, rc == -ESHUTDOWN ? 503 : 500, rc == -ESHUTDOWN ?
		    "Retry-After: 5\r\n" : NULL, rc == -ESHUTDOWN ? "the daemon is shutting down" :
		    "cannot read the job");
	else if (rc == -ESHUTDOWN && !f.gone && sse_comment(&f.b, "the daemon is shutting down") == 0)
		flush(&f);
out:
	if (joined)
		liveout_leave(env->live);
	sse_free(&f.b);
	store_job_clear(&f.job);
	cfggen_put(env->gens, ref);
}
