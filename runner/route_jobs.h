/*
 * route_jobs.c — /jobs/<id>: one job's state for whoever may see it (the
 * read token, or a token the job's own hook accepts). Unknown and
 * unauthorized look the same unless the read token is right.
 */
#ifndef ROUTE_JOBS_H
#define ROUTE_JOBS_H
#include "intake.h"

/* Answer RQ (its path "/jobs/" in any letter case, then the id, as the
 * adapter routes) into A (initialized by the caller). */
void route_jobs_handle(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);

/* The job RQ's path names ("/jobs/<id>" then exactly SUFFIX, "" for none),
 * if the request may read it: the one check GET /jobs/<id> makes (the read
 * token, or a token the job's own hook accepts; unknown and unauthorized
 * look the same unless the read token is right). 0 with *JOB filled
 * (store_job_clear) and *H its hook in CFG (NULL when the config no longer
 * has it); otherwise -ENOENT or -EACCES with A answered (404, 401, 403) and
 * logged fields set. */
int route_jobs_find(const struct intake_env *env, const struct config *cfg,
    const struct intake_req *rq, const char *suffix, struct intake_answer *a,
    struct store_job *job, const struct cfg_hook **h);

/* JOB as GET /jobs/<id> shows it to a reader of hook H (H may be NULL),
 * with its approval when it has one, as one line of JSON; malloc'ed, NULL
 * when out of memory. */
char *route_jobs_text(struct store *st, const struct store_job *job, const struct cfg_hook *h);
#endif
