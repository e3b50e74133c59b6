/*
 * opts.c — the command line and environment of `webhook-relay serve`.
 * Owns every serve setting, its flag, its environment variable (a flag
 * wins over the variable), its default and its bounds, and the usage text.
 * Secrets are only references here (auth.c resolves them).
 */
#ifndef RELAY_OPTS_H
#define RELAY_OPTS_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/log.h"

struct opts {
	const char *host;            /* --host, RELAY_HOST: 0.0.0.0 */
	int port;                    /* --port, SERVER_PORT: 3000 */
	const char *ops_host;        /* --ops-host, RELAY_OPS_HOST: 127.0.0.1 */
	int ops_port;                /* --ops-port, OPS_PORT: 9000 (0: no ops listener) */
	const char *redis_url;       /* --redis-url, REDIS_URL: NULL = in memory */
	const char *redis_prefix;    /* --redis-prefix: "relay:" */
	const char *token_ref;       /* --token, RELAY_TOKEN */
	const char *publish_token_ref; /* --publish-token, RELAY_PUBLISH_TOKEN */
	const char *publish_allow;   /* --publish-allow, RELAY_PUBLISH_ALLOW */
	const char *config_path;     /* --config, RELAY_CONFIG */
	int open;                    /* --open */
	size_t max_body;             /* --max-body, RELAY_MAX_BODY: 1 MiB */
	size_t max_subscribers;      /* --max-subscribers: 256 */
	int publish_threads;         /* --publish-threads: 16 */
	int heartbeat_ms;            /* --heartbeat-ms: 15000 */
	unsigned retry_ms;           /* --retry-ms: 3000 */
	size_t history;              /* --history: 1000 events per channel */
	size_t history_bytes;        /* --history-bytes: 64 MiB per channel */
	int64_t history_age_s;       /* --history-age-s: 86400 */
	size_t history_total_bytes;  /* --history-total-bytes: 256 MiB, all channels */
	size_t max_channels;         /* --max-channels: 1024 */
	size_t queue_events;         /* --queue-events: 1024 per subscriber */
	size_t queue_bytes;          /* --queue-bytes: 16 MiB per subscriber */
	int request_timeout_ms;      /* --request-timeout-ms: 10000 */
	int min_rate;                /* --min-rate: 1024 bytes/s */
	enum log_format log_format;  /* --log-format, RELAY_LOG_FORMAT: text */
	enum log_level log_level;    /* --log-level, RELAY_LOG_LEVEL: info */
};

/* Parse ARGV (after "serve") and the environment into O. 0; 1 when --help
 * printed the usage (exit 0); -EINVAL with ERR naming the flag or
 * variable. */
int opts_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen);

/* The usage text of serve. */
void opts_usage(FILE *to);
#endif
