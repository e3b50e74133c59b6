/*
 * route_jobs.c — the job status route (contract in route_jobs.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bearer.h"
#include "jobjson.h"
#include "route_jobs.h"
#include "verify_jwt.h"

/* Whether a request may read a job. */
enum jobs_auth { JOBS_AUTH_OK, JOBS_AUTH_MISSING, JOBS_AUTH_REJECTED };

/* The read token, or a token the job's own hook would accept: OK; MISSING
 * without a bearer token, REJECTED with a wrong one. */
static enum jobs_auth jobs_authorized(const struct config *cfg, const struct cfg_hook *h, const char *auth)
{
	const char *tok = bearer_token(auth);
	size_t n;

	if (!tok)
		return JOBS_AUTH_MISSING;
	n = strlen(tok);
	if (bearer_equal(tok, cfg->read_token))
		return JOBS_AUTH_OK;
	if (h && h->has_jwt && n <= VJWT_MAX_TOKEN &&
	    vjwt_verify(&h->jwt, tok, (int64_t)time(NULL), NULL, NULL) == 0)
		return JOBS_AUTH_OK;
	return JOBS_AUTH_REJECTED;
}

/* JOB as JSON with FLAGS, and its approval when it has one. NULL when out
 * of memory. */
static char *job_text(struct store *st, const struct store_job *job, unsigned flags)
{
	struct store_approval ap;
	cJSON *o = NULL;
	char *text = NULL;

	if (jobjson_build(job, flags, NULL, &o) != 0)
		return NULL;
	if (store_approval_by_job(st, job->id, &ap) == 0 && jobjson_add_approval(o, &ap, 0) != 0) {
		store_approval_clear(&ap);
		cJSON_Delete(o);
		return NULL;
	}
	store_approval_clear(&ap);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int route_jobs_find(const struct intake_env *env, const struct config *cfg,
    const struct intake_req *rq, const char *suffix, struct intake_answer *a,
    struct store_job *job, const struct cfg_hook **hp)
{
	const struct cfg_hook *h;
	const char *id, *p;
	int64_t jid = 0;
	enum jobs_auth auth;

	memset(job, 0, sizeof *job);
	*hp = NULL;
	id = strlen(rq->path) >= 6 ? rq->path + strlen("/jobs/") : "";
	for (p = id; *p >= '0' && *p <= '9' && p - id < 18; p++)
		jid = jid * 10 + (*p - '0');
	if (p == id || strcmp(p, suffix) != 0 || store_job_get(env->store, jid, job) != 0) {
		store_job_clear(job);
		auth = jobs_authorized(cfg, NULL, intake_header(rq, "Authorization"));
		if (auth == JOBS_AUTH_OK)
			intake_answer_fail(a, rq, 404, NULL, "no such job");
		else
			intake_answer_fail(a, rq, auth == JOBS_AUTH_MISSING ? 401 : 403, "WWW-Authenticate: Bearer\r\n",
			    "not authorized");
		return auth == JOBS_AUTH_OK ? -ENOENT : -EACCES;
	}
	h = config_hook(cfg, job->hook);
	intake_answer_hook(a, h ? h->id : NULL);
	auth = jobs_authorized(cfg, h, intake_header(rq, "Authorization"));
	if (auth != JOBS_AUTH_OK) {
		a->verify = auth == JOBS_AUTH_MISSING ? "jwt:missing" : "jwt:rejected";
		intake_answer_fail(a, rq, auth == JOBS_AUTH_MISSING ? 401 : 403, "WWW-Authenticate: Bearer\r\n",
		    "not authorized");
		store_job_clear(job);
		return -EACCES;
	}
	a->verify = "ok";
	a->job_id = job->id;
	*hp = h;
	return 0;
}

char *route_jobs_text(struct store *st, const struct store_job *job, const struct cfg_hook *h)
{
	return job_text(st, job, JOBJSON_RECORD | (h && h->response_output ? JOBJSON_TAIL : 0));
}

void route_jobs_handle(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	void *ref;
	const struct config *cfg = cfggen_get(env->gens, &ref);
	const struct cfg_hook *h;
	struct store_job job;
	char *text = NULL;

	memset(&job, 0, sizeof job);
	intake_answer_hook(a, "-");
	a->verify = "-";
	a->uncounted_hook = 1;
	if (strcmp(rq->method, "GET") != 0) {
		intake_answer_fail(a, rq, 405, "Allow: GET\r\n", "method not allowed");
		goto out;
	}
	if (route_jobs_find(env, cfg, rq, "", a, &job, &h) != 0)
		goto out;
	if ((text = route_jobs_text(env->store, &job, h)) != NULL)
		intake_answer_set(a, 200, NULL, text);
	else
		intake_answer_fail(a, rq, 500, NULL, "out of memory");
out:
	free(text);
	store_job_clear(&job);
	cfggen_put(env->gens, ref);
}
