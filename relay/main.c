/*
 * main.c — webhook-relay's entry point: the subcommand table, and `serve`:
 * start-up (options, log, secrets, store, hub, listeners), the signal loop
 * (SIGTERM/SIGINT drain and exit 0; a pruning tick for the in-memory
 * store), and the orderly stop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/secret.h"
#include "auth.h"
#include "connect.h"
#include "evstore.h"
#include "evstore_mem.h"
#include "evstore_redis.h"
#include "hub.h"
#include "metrics.h"
#include "opts.h"
#include "probe.h"
#include "server.h"

#define VERSION "0.1.0"

static void deliver(void *ctx, const char *channel, struct event *ev)
{
	hub_deliver(ctx, channel, ev);
}

/* A subscriber fell behind: said and counted at once, while its own
 * thread may still be blocked in a write. */
static void on_drop(void *ctx, const char *channel, const char *label, const char *reason)
{
	(void)ctx;
	metrics_drop(channel);
	log_event(LOG_WARN, "subscriber_dropped", "channel", channel, "subscriber", label,
	    "reason", reason, NULL);
}

static int open_store(const struct opts *o, struct hub *hub, struct evstore **out, char *err,
    size_t errlen)
{
	struct evstore_mem_config mc = { 0 };
	int rc;

	if (o->redis_url) {
		struct evstore_redis_config rc_ = { o->redis_url, o->redis_prefix, o->history };

		return evstore_redis_open(&rc_, deliver, hub, out, err, errlen);
	}
	mc.max_events = o->history;
	mc.max_bytes = o->history_bytes;
	mc.max_age_ms = o->history_age_s * 1000;
	mc.max_channels = o->max_channels;
	mc.max_total_bytes = o->history_total_bytes;
	if ((rc = evstore_mem_open(&mc, deliver, hub, out)))
		snprintf(err, errlen, "cannot create the in-memory store: %s", strerror(-rc));
	return rc;
}

static int serve_main(int argc, char **argv)
{
	struct hub_config hc = { 0 };
	struct auth_args aa = { 0 };
	struct auth auth = { 0 };
	struct evstore *store = NULL;
	struct hub *hub = NULL;
	struct server *srv = NULL;
	struct timespec tick = { 1, 0 };
	char err[600], port[16];
	struct opts o;
	sigset_t set;
	int rc, sig, status = 1;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Before any getenv that is kept: the scrub moves the environment. */
	if (secret_scrub_environ())
		fprintf(stderr, "webhook-relay: warning: could not scrub the environment\n");
	if ((rc = opts_parse(argc - 1, argv + 1, &o, err, sizeof err))) {
		if (rc > 0)
			return 0;
		fprintf(stderr, "webhook-relay serve: %s\n", err);
		return 2;
	}
	log_setup(o.log_level, o.log_format);
	aa.config_path = o.config_path;
	aa.token_ref = o.token_ref;
	aa.publish_token_ref = o.publish_token_ref;
	aa.publish_allow = o.publish_allow;
	aa.open = o.open;
	if ((rc = auth_load(&auth, &aa, err, sizeof err))) {
		fprintf(stderr, "webhook-relay serve: %s\n", err);
		return 2;
	}
	hc.max_subscribers = o.max_subscribers;
	hc.queue_events = o.queue_events;
	hc.queue_bytes = o.queue_bytes;
	hc.on_drop = on_drop;
	if ((rc = hub_new(&hc, &hub))) {
		fprintf(stderr, "webhook-relay serve: %s\n", strerror(-rc));
		goto out;
	}
	if (open_store(&o, hub, &store, err, sizeof err)) {
		fprintf(stderr, "webhook-relay serve: %s\n", err);
		goto out;
	}
	/* Signals go to this thread's sigtimedwait; every thread started after
	 * this inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (server_start(&o, &auth, store, hub, &srv, err, sizeof err)) {
		fprintf(stderr, "webhook-relay serve: %s\n", err);
		goto out;
	}
	snprintf(port, sizeof port, "%d", o.port);
	log_event(LOG_INFO, "start", "version", VERSION, "host", o.host, "port", port, "store",
	    o.redis_url ? "redis" : "memory", "open", o.open ? "yes" : NULL, NULL);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (store->ops->prune)
			store->ops->prune(store);
	}
	log_event(LOG_INFO, "drain", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
	server_drain(srv);
	/* Let each stream write its final retry hint before the listeners stop
	 * (CivetWeb refuses writes once stopping); bounded, a stuck write ends
	 * at its own deadline. */
	for (int64_t until = clock_mono_ms() + 5000; hub_count(hub) && clock_mono_ms() < until;)
		nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
	server_stop(srv);
	srv = NULL;
	log_event(LOG_INFO, "stop", NULL);
	status = 0;
out:
	server_stop(srv);
	if (store)
		store->ops->close(store);
	hub_free(hub);
	auth_free(&auth);
	return status;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: webhook-relay <command> [options]\n\n"
	    "commands:\n"
	    "  serve      receive webhooks and stream them to subscribers (serve --help)\n"
	    "  connect    follow a relay's stream and forward each webhook to a target (connect --help)\n"
	    "  version    print the version\n"
	    "  healthcheck  probe a local relay's /live, exit 0/1 (healthcheck --help)\n");
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static int version_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("webhook-relay %s\n", VERSION);
	return 0;
}

/* Each subcommand gets ARGV from its own name on (argv[0] is "serve",
 * "connect", ...), as a program gets its own. */
static const struct command commands[] = {
	{ "serve", serve_main },
	{ "version", version_main },
	{ "healthcheck", probe_main },
	/* ---- client side (relay/connect.h) goes below this line ---- */
	{ "connect", connect_main },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i].name, argv[1]))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "webhook-relay: %s: unknown command\n", argv[1]);
	usage(stderr);
	return 2;
}
