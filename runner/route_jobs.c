/*
 * route_jobs.c — the job status route (contract in route_jobs.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bearer.h"
#include "route_jobs.h"
#include "verify_jwt.h"

/* The read token, or a token the job's own hook would accept: 0, -1 with
 * no bearer token, -2 with a wrong one. */
static int jobs_authorized(const struct config *cfg, const struct cfg_hook *h, const char *auth)
{
	const char *tok = bearer_token(auth);
	size_t n;

	if (!tok)
		return -1;
	n = strlen(tok);
	if (bearer_equal(tok, cfg->read_token))
		return 0;
	if (h && h->has_jwt && n <= VJWT_MAX_TOKEN && vjwt_verify(&h->jwt, tok, (int64_t)time(NULL), NULL) == 0)
		return 0;
	return -2;
}

void route_jobs_handle(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	void *ref;
	const struct config *cfg = cfggen_get(env->gens, &ref);
	const struct cfg_hook *h;
	struct store_job job;
	const char *id, *p;
	cJSON *o = NULL;
	char *text = NULL;
	int64_t jid = 0;
	int auth;

	memset(&job, 0, sizeof job);
	intake_answer_hook(a, "-");
	a->verify = "-";
	a->uncounted_hook = 1;
	id = strlen(rq->path) >= 6 ? rq->path + strlen("/jobs/") : "";
	for (p = id; *p >= '0' && *p <= '9' && p - id < 18; p++)
		jid = jid * 10 + (*p - '0');
	if (strcmp(rq->method, "GET") != 0) {
		intake_answer_fail(a, rq, 405, "Allow: GET\r\n", "method not allowed");
		goto out;
	}
	if (p == id || *p || store_job_get(env->store, jid, &job) != 0) {
		auth = jobs_authorized(cfg, NULL, intake_header(rq, "Authorization"));
		if (auth == 0)
			intake_answer_fail(a, rq, 404, NULL, "no such job");
		else
			intake_answer_fail(a, rq, auth == -1 ? 401 : 403, "WWW-Authenticate: Bearer\r\n",
			    "not authorized");
		goto out;
	}
	h = config_hook(cfg, job.hook);
	intake_answer_hook(a, h ? h->id : NULL);
	auth = jobs_authorized(cfg, h, intake_header(rq, "Authorization"));
	if (auth != 0) {
		a->verify = auth == -1 ? "jwt:missing" : "jwt:rejected";
		intake_answer_fail(a, rq, auth == -1 ? 401 : 403, "WWW-Authenticate: Bearer\r\n",
		    "not authorized");
		goto out;
	}
	a->verify = "ok";
	a->job_id = job.id;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "job_id", (double)job.id);
	cJSON_AddStringToObject(o, "hook", job.hook);
	cJSON_AddNumberToObject(o, "attempt", job.attempt);
	cJSON_AddStringToObject(o, "status", job.state);
	if (job.finished_ms && job.exit_code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", job.exit_code);
	if (job.signal[0])
		cJSON_AddStringToObject(o, "signal", job.signal);
	if (job.error[0])
		cJSON_AddStringToObject(o, "error", job.error);
	if (job.http_status)
		cJSON_AddNumberToObject(o, "http_status", job.http_status);
	cJSON_AddNumberToObject(o, "created_ms", (double)job.created_ms);
	if (job.started_ms)
		cJSON_AddNumberToObject(o, "started_ms", (double)job.started_ms);
	if (job.finished_ms)
		cJSON_AddNumberToObject(o, "finished_ms", (double)job.finished_ms);
	if (h && h->response_output && job.output_tail)
		cJSON_AddStringToObject(o, "output_tail", job.output_tail);
	text = cJSON_PrintUnformatted(o);
	if (text)
		intake_answer_set(a, 200, NULL, text);
	else
		intake_answer_fail(a, rq, 500, NULL, "out of memory");
out:
	free(text);
	cJSON_Delete(o);
	store_job_clear(&job);
	cfggen_put(env->gens, ref);
}
