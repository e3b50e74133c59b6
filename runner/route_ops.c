/*
 * route_ops.c — the operators' routes (contract in route_ops.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "bearer.h"
#include "metrics.h"
#include "queue.h"
#include "route_ops.h"
#include "slots.h"
#include "version.h"

void route_ops_health(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	char body[256];
	int ok, pending = 0;

	intake_answer_hook(a, "-");
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		intake_answer_fail(a, rq, 405, "Allow: GET, HEAD\r\n", "method not allowed");
		return;
	}
	ok = store_health(env->store, NULL) == 0;
	/* A store that cannot count shows -1; "store" says it is in error. */
	if (!ok || store_approvals_count_pending(env->store, &pending) != 0)
		pending = -1;
	snprintf(body, sizeof body, "{\"status\":\"%s\",\"uptime_s\":%" PRId64 ",\"running_jobs\":%d,"
				    "\"pending_approvals\":%d,\"store\":\"%s\"}",
	    rq->draining ? "draining" : ok ? "ok" : "unavailable", (clock_mono_ms() - env->started_ms) / 1000,
	    slots_running(env->slots), pending, ok ? "ok" : "error");
	a->verify = "-";
	intake_answer_set(a, ok && !rq->draining ? 200 : 503, NULL, body);
}

void route_ops_metrics(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	const struct config *cfg;
	void *ref;
	char *text = NULL;
	size_t len = 0;
	int queued = 0, pending = 0;

	intake_answer_hook(a, "-");
	a->verify = "-";
	if (strcmp(rq->method, "GET") != 0) {
		intake_answer_fail(a, rq, 405, "Allow: GET\r\n", "method not allowed");
		return;
	}
	cfg = cfggen_get(env->gens, &ref);
	if (cfg->metrics_token) {
		const char *tok = bearer_token(intake_header(rq, "Authorization"));
		int ok = tok && bearer_equal(tok, cfg->metrics_token);
		cfggen_put(env->gens, ref);
		if (!ok) {
			a->verify = tok ? "token:rejected" : "token:missing";
			intake_answer_fail(a, rq, tok ? 403 : 401, "WWW-Authenticate: Bearer\r\n",
			    "not authorized");
			return;
		}
	} else {
		cfggen_put(env->gens, ref);
	}
	/* A store that cannot answer shows an empty queue; /healthz reports it. */
	if (queue_count(env->queue, &queued) != 0)
		queued = 0;
	if (store_approvals_count_pending(env->store, &pending) == 0)
		metrics_approvals_pending(pending);
	if (metrics_render(slots_running(env->slots), queued, (long long)env->tls_not_after, RUNNER_VERSION,
	    &text, &len) != 0) {
		intake_answer_fail(a, rq, 500, NULL, "out of memory");
		return;
	}
	a->status = 200;
	a->content_type = "text/plain; version=0.0.4; charset=utf-8";
	a->unlogged = 1;
	a->body = text;
	a->len = len;
}

void route_ops_not_found(const struct intake_req *rq, struct intake_answer *a)
{
	intake_answer_fail(a, rq, 404, NULL, "not found");
}
