/*
 * route_hooks.c — /hooks/<id>: finds the hook in the config generation in
 * force when the request came, refuses while the server shuts down, and
 * hands the rest to the intake pipeline.
 */
#ifndef ROUTE_HOOKS_H
#define ROUTE_HOOKS_H
#include "intake.h"

/* Answer RQ (its path under /hooks/ in any letter case, as the adapter
 * routes) into A (initialized by the caller): 404 for an unknown hook, 503
 * (connection closed) while draining, else whatever the pipeline says. */
void route_hooks_handle(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);
#endif
