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
#endif
