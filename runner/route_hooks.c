/*
 * route_hooks.c — the webhook route (contract in route_hooks.h).
 */
#include <string.h>

#include "route_hooks.h"

void route_hooks_handle(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	void *ref;
	const struct config *cfg = cfggen_get(env->gens, &ref);
	const struct cfg_hook *h;
	const char *id;

	h = strncmp(rq->path, "/hooks/", 7) == 0 && *(id = rq->path + 7) && !strchr(id, '/') ?
	    config_hook(cfg, id) : NULL;
	if (!h) {
		intake_answer_fail(a, rq, 404, NULL, "unknown hook");
	} else if (rq->draining) {
		intake_answer_hook(a, h->id);
		a->close = 1;
		intake_answer_fail(a, rq, 503, "Retry-After: 10\r\n", "shutting down; retry later");
	} else {
		intake_answer_hook(a, h->id);
		intake_hook(env, cfg, h, rq, a);
	}
	cfggen_put(env->gens, ref);
}
