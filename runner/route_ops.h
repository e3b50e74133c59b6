/*
 * route_ops.c — what operators ask: /healthz (store, drain state, uptime,
 * running jobs), /metrics (Prometheus text, behind server.metrics_token
 * when set), and the 404 for any path nothing else serves.
 */
#ifndef ROUTE_OPS_H
#define ROUTE_OPS_H
#include "intake.h"

/* /healthz: 200 when the store answers and the server is not draining,
 * else 503; GET and HEAD only. Fills A (initialized by the caller). */
void route_ops_health(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);
/* /metrics: the text exposition, GET only. The answer is counted but has
 * no log line of its own (a->unlogged) unless it is a refusal. */
void route_ops_metrics(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);
/* Any other path: 404. */
void route_ops_not_found(const struct intake_req *rq, struct intake_answer *a);
#endif
