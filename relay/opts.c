/*
 * opts.c — serve's flags and environment (contract in opts.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

enum kind { STR, INT, SIZE, FLAG, LOGFMT, LOGLVL };

struct opt {
	const char *flag, *env;
	enum kind kind;
	long long min, max;
	size_t off;
	const char *help;
};

#define O(f) offsetof(struct opts, f)
static const struct opt table[] = {
	{ "--host", "RELAY_HOST", STR, 0, 0, O(host), "address to listen on (0.0.0.0)" },
	{ "--port", "SERVER_PORT", INT, 1, 65535, O(port), "port for webhooks and subscribers (3000)" },
	{ "--ops-host", "RELAY_OPS_HOST", STR, 0, 0, O(ops_host), "address of the ops listener (127.0.0.1)" },
	{ "--ops-port", "OPS_PORT", INT, 0, 65535, O(ops_port), "port of /live /ready /metrics (9000; 0: none)" },
	{ "--redis-url", "REDIS_URL", STR, 0, 0, O(redis_url), "redis://[:password@]host[:port][/db]; unset: in memory" },
	{ "--redis-prefix", "RELAY_REDIS_PREFIX", STR, 0, 0, O(redis_prefix), "stream key prefix (relay:)" },
	{ "--token", "RELAY_TOKEN", STR, 0, 0, O(token_ref), "subscribe token, a secret reference (env:NAME, file:PATH)" },
	{ "--publish-token", "RELAY_PUBLISH_TOKEN", STR, 0, 0, O(publish_token_ref), "token publishers must send (secret reference)" },
	{ "--publish-allow", "RELAY_PUBLISH_ALLOW", STR, 0, 0, O(publish_allow), "CIDR blocks that may publish, comma-separated" },
	{ "--config", "RELAY_CONFIG", STR, 0, 0, O(config_path), "JSON file of channels and their tokens" },
	{ "--open", NULL, FLAG, 0, 0, O(open), "serve subscribers without a token" },
	{ "--max-body", "RELAY_MAX_BODY", SIZE, 0, 64LL << 20, O(max_body), "largest webhook body in bytes (1048576)" },
	{ "--max-subscribers", "RELAY_MAX_SUBSCRIBERS", SIZE, 1, 10000, O(max_subscribers), "subscribers at once (256); one thread each" },
	{ "--publish-threads", NULL, INT, 1, 1024, O(publish_threads), "threads for everything but subscribers (16)" },
	{ "--heartbeat-ms", NULL, INT, 100, 3600000, O(heartbeat_ms), "idle stream heartbeat (15000)" },
	{ "--retry-ms", NULL, INT, 0, 3600000, O(retry_ms), "reconnect hint sent to subscribers (3000)" },
	{ "--history", NULL, SIZE, 1, 10000000, O(history), "events kept per channel (1000)" },
	{ "--history-bytes", NULL, SIZE, 1, 1LL << 40, O(history_bytes), "bytes kept per channel, in memory (67108864)" },
	{ "--history-age-s", NULL, INT, 0, 365LL * 86400, O(history_age_s), "age of the oldest event kept, in memory (86400; 0: any)" },
	{ "--history-total-bytes", NULL, SIZE, 1, 1LL << 40, O(history_total_bytes), "bytes kept in all, in memory (268435456)" },
	{ "--max-channels", NULL, SIZE, 1, 1000000, O(max_channels), "channels kept, in memory (1024)" },
	{ "--queue-events", NULL, SIZE, 1, 1000000, O(queue_events), "events waiting per subscriber before it is dropped (1024)" },
	{ "--queue-bytes", NULL, SIZE, 1, 1LL << 34, O(queue_bytes), "bytes waiting per subscriber before it is dropped (16777216)" },
	{ "--request-timeout-ms", NULL, INT, 100, 600000, O(request_timeout_ms), "whole-request deadline, and each write's (10000)" },
	{ "--min-rate", NULL, INT, 0, 1 << 30, O(min_rate), "bytes/s a request must keep up after 1 s (1024; 0: off)" },
	{ "--log-format", "RELAY_LOG_FORMAT", LOGFMT, 0, 0, O(log_format), "text or json (text)" },
	{ "--log-level", "RELAY_LOG_LEVEL", LOGLVL, 0, 0, O(log_level), "debug, info, warn or error (info)" },
};
#undef O

static void defaults(struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->host = "0.0.0.0";
	o->port = 3000;
	o->ops_host = "127.0.0.1";
	o->ops_port = 9000;
	o->redis_prefix = "relay:";
	o->max_body = 1 << 20;
	o->max_subscribers = 256;
	o->publish_threads = 16;
	o->heartbeat_ms = 15000;
	o->retry_ms = 3000;
	o->history = 1000;
	o->history_bytes = 64 << 20;
	o->history_age_s = 86400;
	o->history_total_bytes = 256 << 20;
	o->max_channels = 1024;
	o->queue_events = 1024;
	o->queue_bytes = 16 << 20;
	o->request_timeout_ms = 10000;
	o->min_rate = 1024;
	o->log_format = LOG_TEXT;
	o->log_level = LOG_INFO;
}

/* Set T's field from V; NAME for the error. */
static int set(struct opts *o, const struct opt *t, const char *v, const char *name, char *err,
    size_t errlen)
{
	char *p = (char *)o + t->off, *end;
	long long n;

	switch (t->kind) {
	case STR:
		if (!*v) {
			snprintf(err, errlen, "%s: empty", name);
			return -EINVAL;
		}
		*(const char **)p = v;
		return 0;
	case FLAG:
		*(int *)p = 1;
		return 0;
	case LOGFMT:
		if (log_format_parse(v, (enum log_format *)p)) {
			snprintf(err, errlen, "%s: \"%s\": text or json", name, v);
			return -EINVAL;
		}
		return 0;
	case LOGLVL:
		if (log_level_parse(v, (enum log_level *)p)) {
			snprintf(err, errlen, "%s: \"%s\": debug, info, warn or error", name, v);
			return -EINVAL;
		}
		return 0;
	case INT:
	case SIZE:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (!*v || *end || errno || n < t->min || n > t->max) {
			snprintf(err, errlen, "%s: \"%s\": a whole number from %lld to %lld", name, v,
			    t->min, t->max);
			return -EINVAL;
		}
		if (t->kind == SIZE)
			*(size_t *)p = (size_t)n;
		else if (t->off == offsetof(struct opts, history_age_s))
			*(int64_t *)p = n;
		else if (t->off == offsetof(struct opts, retry_ms))
			*(unsigned *)p = (unsigned)n;
		else
			*(int *)p = (int)n;
		return 0;
	}
	return -EINVAL;
}

int opts_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen)
{
	size_t i, n = sizeof table / sizeof table[0];
	const char *v;
	int a, rc;

	defaults(o);
	for (i = 0; i < n; i++) {
		if (table[i].env && (v = getenv(table[i].env)) && *v &&
		    (rc = set(o, &table[i], v, table[i].env, err, errlen)))
			return rc;
	}
	for (a = 0; a < argc; a++) {
		const char *arg = argv[a], *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			opts_usage(stdout);
			return 1;
		}
		for (i = 0; i < n && (strlen(table[i].flag) != len ||
		    strncmp(table[i].flag, arg, len)); i++)
			;
		if (i == n) {
			snprintf(err, errlen, "%s: unknown option (see webhook-relay serve --help)", arg);
			return -EINVAL;
		}
		if (table[i].kind == FLAG) {
			if (eq) {
				snprintf(err, errlen, "%s takes no value", table[i].flag);
				return -EINVAL;
			}
			v = "1";
		} else if (eq) {
			v = eq + 1;
		} else if (a + 1 < argc) {
			v = argv[++a];
		} else {
			snprintf(err, errlen, "%s needs a value", table[i].flag);
			return -EINVAL;
		}
		if ((rc = set(o, &table[i], v, table[i].flag, err, errlen)))
			return rc;
	}
	if (o->ops_port && o->ops_port == o->port && !strcmp(o->ops_host, o->host)) {
		snprintf(err, errlen, "--ops-port: the same as --port");
		return -EINVAL;
	}
	return 0;
}

void opts_usage(FILE *to)
{
	size_t i;

	fprintf(to, "usage: webhook-relay serve [options]\n\n"
	    "Relays webhooks: POST /webhooks/<channel>/... is stored and streamed to\n"
	    "GET /subscribe/<channel>/ as Server-Sent Events.\n\n");
	for (i = 0; i < sizeof table / sizeof table[0]; i++)
		fprintf(to, "  %-22s %-22s %s\n", table[i].flag, table[i].env ? table[i].env : "",
		    table[i].help);
}
