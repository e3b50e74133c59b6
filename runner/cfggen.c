/*
 * cfggen.c — config generations (contract in cfggen.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cfggen.h"
#include "log.h"
#include "tls.h"

/* One generation: its config and how many hold it. */
struct gen {
	struct config *cfg;
	int refs;
};

struct cfggen {
	pthread_mutex_t mu;
	struct gen *cur;            /* current; holds one reference */
	struct gen *first;          /* the one started with; holds one reference */
	struct tls_files tls_files; /* the certificate and key as read at start */
};

static struct gen *gen_new(struct config *cfg)
{
	struct gen *g = calloc(1, sizeof *g);

	if (!g)
		return NULL;
	g->cfg = cfg;
	g->refs = 1;
	return g;
}

static void gen_drop(struct cfggen *s, struct gen *g)
{
	int left;

	pthread_mutex_lock(&s->mu);
	left = --g->refs;
	pthread_mutex_unlock(&s->mu);
	if (left == 0) {
		config_free(g->cfg);
		free(g);
	}
}

int cfggen_new(struct config *cfg, struct cfggen **out)
{
	struct cfggen *s = calloc(1, sizeof *s);
	struct gen *g = gen_new(cfg);

	if (!s || !g) {
		free(s);
		free(g);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);
	g->refs = 2; /* current and first */
	s->cur = g;
	s->first = g;
	tls_files_note(cfg->tls_cert, cfg->tls_key, &s->tls_files);
	*out = s;
	return 0;
}

const struct config *cfggen_get(struct cfggen *s, void **ref)
{
	struct gen *g;

	pthread_mutex_lock(&s->mu);
	g = s->cur;
	g->refs++;
	pthread_mutex_unlock(&s->mu);
	*ref = g;
	return g->cfg;
}

const struct config *cfggen_first(struct cfggen *s)
{
	return s->first->cfg;
}

void cfggen_put(struct cfggen *s, void *ref)
{
	gen_drop(s, ref);
}

static void needs_restart(const char *field)
{
	log_event(LOG_WARN, "reload", "note", "this setting changes only at restart", "field", field, NULL);
}

/* Log each setting read only at start where B differs from the first config. */
static void restart_only(struct cfggen *s, const struct config *b)
{
	const struct config *a = s->first->cfg;

	if (strcmp(a->listen_host, b->listen_host) || a->port != b->port)
		needs_restart("server.listen");
	if (!a->ops_host != !b->ops_host ||
	    (a->ops_host && (strcmp(a->ops_host, b->ops_host) || a->ops_port != b->ops_port)))
		needs_restart("server.ops_listen");
	if (a->threads != b->threads)
		needs_restart("server.threads");
	if (a->max_followers != b->max_followers)
		needs_restart("server.max_followers");
	if (a->request_timeout_ms != b->request_timeout_ms)
		needs_restart("server.request_timeout_ms");
	if (a->keepalive_timeout_ms != b->keepalive_timeout_ms)
		needs_restart("server.keepalive_timeout_ms");
	if (a->min_request_rate != b->min_request_rate)
		needs_restart("server.min_request_rate");
	if (!a->tls_cert != !b->tls_cert ||
	    (a->tls_cert && (strcmp(a->tls_cert, b->tls_cert) || strcmp(a->tls_key, b->tls_key) ||
	    tls_files_changed(a->tls_cert, a->tls_key, &s->tls_files))))
		needs_restart("server.tls_cert/tls_key");
	if (strcmp(a->store_path, b->store_path))
		needs_restart("store.path");
	if (!a->store_pg != !b->store_pg || (a->store_pg && (strcmp(a->store_pg->url, b->store_pg->url) ||
	    strcmp(a->store_pg->schema, b->store_pg->schema) || a->store_pg->pool != b->store_pg->pool ||
	    a->store_pg->lease_ms != b->store_pg->lease_ms ||
	    a->store_pg->heartbeat_ms != b->store_pg->heartbeat_ms)))
		needs_restart("store.url/schema/pool_size/lease_s/heartbeat_ms");
	if (a->max_jobs != b->max_jobs || a->max_per_destination != b->max_per_destination)
		needs_restart("executor.max_jobs/max_per_destination");
	/* the Slack poster's client is made at start; the signing secret is read
	 * per request, so it changes with a reload */
	if (a->slack.present != b->slack.present ||
	    (a->slack.present && (strcmp(a->slack.bot_token, b->slack.bot_token) ||
	    strcmp(a->slack.api_url, b->slack.api_url) || a->slack.timeout_ms != b->slack.timeout_ms)))
		needs_restart("slack.bot_token/api_url/timeout_ms");
}

void cfggen_swap(struct cfggen *s, struct config *cfg)
{
	struct gen *g = gen_new(cfg), *old;

	if (!g) {
		log_event(LOG_ERROR, "reload", "result", "failed", "error", "out of memory", NULL);
		config_free(cfg);
		return;
	}
	pthread_mutex_lock(&s->mu);
	old = s->cur;
	restart_only(s, cfg);
	s->cur = g;
	pthread_mutex_unlock(&s->mu);
	gen_drop(s, old);
}

void cfggen_free(struct cfggen *s)
{
	if (!s)
		return;
	gen_drop(s, s->cur);
	gen_drop(s, s->first);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
