/*
 * connect.c — `webhook-relay connect`: command line, environment, token,
 * state, signals and the exit summary (contract in connect.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <curl/curl.h>

#include "../common/log.h"
#include "../common/secret.h"
#include "connect.h"
#include "connect_req.h"
#include "connect_run.h"
#include "connect_state.h"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char usage_text[] =
	"usage: webhook-relay connect [options]\n"
	"  --source URL             the subscribe URL, e.g. http://relay:3000/subscribe/CHANNEL/\n"
	"                           (env SOURCE_URL)\n"
	"  --target URL             where to forward: URL + the original path + ?query\n"
	"                           (env TARGET_BASE_URL)\n"
	"  --token REF              the subscribe token by reference: env:NAME, file:PATH,\n"
	"                           cred:NAME (env RELAY_TOKEN); none: no Authorization header\n"
	"  --state PATH             the state file (env RELAY_STATE_FILE; default\n"
	"                           $STATE_DIRECTORY/connect.state under systemd)\n"
	"  --heartbeat-timeout SEC  reconnect after this much silence (default 45)\n"
	"  --forward-timeout SEC    deadline of one forward (default 30)\n"
	"  --retry-min MS           first forward retry delay (default 500)\n"
	"  --retry-max SEC          forward retry delay cap (default 60)\n"
	"  --reconnect-min MS       first reconnect delay when the server gave no retry: (default 1000)\n"
	"  --reconnect-max SEC      reconnect delay cap (default 30)\n"
	"  --max-event-bytes N      largest SSE line / event (default 16777216)\n"
	"  --log-format text|json   (env RELAY_LOG_FORMAT; default text)\n";

/* A number as log text, in BUF (24 bytes). */
static const char *num(char *buf, unsigned long long v)
{
	snprintf(buf, 24, "%llu", v);
	return buf;
}

/* The token as it goes into "Authorization: Bearer": printable ASCII, no
 * space, at most 4096 bytes. */
static int token_ok(const char *t)
{
	size_t n = strlen(t), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return 0;
	return n > 0 && n <= 4096;
}

/* Read a whole-number option: VALUE in [MIN, MAX], times SCALE. */
static int num_opt(const char *name, const char *value, long long min, long long max,
                   long long scale, long long *out)
{
	char *e;
	long long v;

	errno = 0;
	v = strtoll(value, &e, 10);
	if (errno || e == value || *e || v < min || v > max) {
		fprintf(stderr, "webhook-relay connect: --%s must be a whole number from %lld to %lld, "
		        "not '%s'\n", name, min, max, value);
		return -EINVAL;
	}
	*out = v * scale;
	return 0;
}

enum { O_SOURCE = 1, O_TARGET, O_TOKEN, O_STATE, O_HB, O_FWDT, O_RMIN, O_RMAX, O_CMIN, O_CMAX,
       O_MAXEV, O_LOGF, O_HELP };

static const struct option longopts[] = {
	{"source", required_argument, NULL, O_SOURCE},
	{"target", required_argument, NULL, O_TARGET},
	{"token", required_argument, NULL, O_TOKEN},
	{"state", required_argument, NULL, O_STATE},
	{"heartbeat-timeout", required_argument, NULL, O_HB},
	{"forward-timeout", required_argument, NULL, O_FWDT},
	{"retry-min", required_argument, NULL, O_RMIN},
	{"retry-max", required_argument, NULL, O_RMAX},
	{"reconnect-min", required_argument, NULL, O_CMIN},
	{"reconnect-max", required_argument, NULL, O_CMAX},
	{"max-event-bytes", required_argument, NULL, O_MAXEV},
	{"log-format", required_argument, NULL, O_LOGF},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

struct args {
	const char *source, *target, *token_ref, *state, *log_format;
	char state_buf[PATH_MAX];
	long long max_event;
};

/* Parse ARGV into A and CFG; 0, 1 for --help, or -EINVAL (message written). */
static int parse_args(int argc, char **argv, struct args *a, struct connect_cfg *cfg)
{
	char err[256];
	const char *sd;
	int c, rc = 0;

	memset(a, 0, sizeof *a);
	a->source = getenv("SOURCE_URL");
	a->target = getenv("TARGET_BASE_URL");
	a->token_ref = getenv("RELAY_TOKEN");
	a->state = getenv("RELAY_STATE_FILE");
	a->log_format = getenv("RELAY_LOG_FORMAT");
	a->max_event = 16 * 1024 * 1024;
	cfg->heartbeat_timeout_ms = 45000;
	cfg->forward_timeout_ms = 30000;
	cfg->retry_min_ms = 500;
	cfg->retry_max_ms = 60000;
	cfg->reconnect_min_ms = 1000;
	cfg->reconnect_max_ms = 30000;
	optind = 1;
	opterr = 0;     /* our own message, naming the program */
	while (!rc && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_SOURCE: a->source = optarg; break;
		case O_TARGET: a->target = optarg; break;
		case O_TOKEN: a->token_ref = optarg; break;
		case O_STATE: a->state = optarg; break;
		case O_LOGF: a->log_format = optarg; break;
		case O_HB: rc = num_opt("heartbeat-timeout", optarg, 1, 86400, 1000, &cfg->heartbeat_timeout_ms); break;
		case O_FWDT: rc = num_opt("forward-timeout", optarg, 1, 3600, 1000, &cfg->forward_timeout_ms); break;
		case O_RMIN: rc = num_opt("retry-min", optarg, 1, 600000, 1, &cfg->retry_min_ms); break;
		case O_RMAX: rc = num_opt("retry-max", optarg, 1, 86400, 1000, &cfg->retry_max_ms); break;
		case O_CMIN: rc = num_opt("reconnect-min", optarg, 1, 600000, 1, &cfg->reconnect_min_ms); break;
		case O_CMAX: rc = num_opt("reconnect-max", optarg, 1, 86400, 1000, &cfg->reconnect_max_ms); break;
		case O_MAXEV: rc = num_opt("max-event-bytes", optarg, 4096, 1LL << 30, 1, &a->max_event); break;
		case O_HELP: fputs(usage_text, stdout); return 1;
		default:
			fprintf(stderr, "webhook-relay connect: unknown option or missing value: '%s'\n%s",
			        argv[optind - 1], usage_text);
			return -EINVAL;
		}
	}
	if (rc)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "webhook-relay connect: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!a->state || !*a->state) {
		sd = getenv("STATE_DIRECTORY");
		if (sd && *sd && !strchr(sd, ':') &&
		    (size_t)snprintf(a->state_buf, sizeof a->state_buf, "%s/connect.state", sd) <
		    sizeof a->state_buf)
			a->state = a->state_buf;
	}
	if (!a->source || !*a->source || !a->target || !*a->target || !a->state || !*a->state) {
		fprintf(stderr, "webhook-relay connect: %s is required\n%s",
		        !a->source || !*a->source ? "--source (or SOURCE_URL)" :
		        !a->target || !*a->target ? "--target (or TARGET_BASE_URL)" :
		        "--state (or RELAY_STATE_FILE, or StateDirectory= under systemd)", usage_text);
		return -EINVAL;
	}
	if (connect_req_base_check(a->target, err, sizeof err)) {
		fprintf(stderr, "webhook-relay connect: --target: %s\n", err);
		return -EINVAL;
	}
	if (connect_req_base_check(a->source, err, sizeof err)) {
		fprintf(stderr, "webhook-relay connect: --source: %s\n", err);
		return -EINVAL;
	}
	if (a->log_format && *a->log_format && strcmp(a->log_format, "text") &&
	    strcmp(a->log_format, "json")) {
		fprintf(stderr, "webhook-relay connect: --log-format must be text or json, not '%s'\n",
		        a->log_format);
		return -EINVAL;
	}
	if (cfg->retry_min_ms > cfg->retry_max_ms || cfg->reconnect_min_ms > cfg->reconnect_max_ms) {
		fprintf(stderr, "webhook-relay connect: a --*-min delay is above its --*-max\n");
		return -EINVAL;
	}
	cfg->source = a->source;
	cfg->target = a->target;
	cfg->state_path = a->state;
	cfg->max_event_bytes = (size_t)a->max_event;
	return 0;
}

int connect_main(int argc, char **argv)
{
	char last_id[CONNECT_STATE_ID_MAX + 1], err[512], *token = NULL;
	char n[8][24];
	struct connect_counts counts;
	struct connect_cfg cfg;
	struct sigaction sa;
	struct args a;
	enum log_format lf = LOG_TEXT;
	int rc;

	memset(&cfg, 0, sizeof cfg);
	memset(&counts, 0, sizeof counts);
	prctl(PR_SET_DUMPABLE, 0);
	/* env: secrets out of /proc/self/environ (getenv still works). First:
	 * pointers getenv gave before would point into the wiped block. */
	secret_scrub_environ();
	rc = parse_args(argc, argv, &a, &cfg);
	if (rc) {
		rc = rc > 0 ? 0 : 2;
		goto out;
	}
	if (a.log_format && *a.log_format)
		log_format_parse(a.log_format, &lf);
	log_setup(LOG_INFO, lf);
	if (a.token_ref && *a.token_ref) {
		rc = secret_resolve(a.token_ref, &token, NULL, err, sizeof err);
		if (rc || !token_ok(token)) {
			fprintf(stderr, "webhook-relay connect: --token: %s\n",
			        rc ? err : "the token must be 1 to 4096 printable ASCII bytes without spaces");
			rc = 2;
			goto out;
		}
	}
	cfg.token = token;
	rc = connect_state_load(cfg.state_path, last_id, sizeof last_id, err, sizeof err);
	if (rc) {
		/* Neither replaying everything nor skipping silently: stop here. */
		fprintf(stderr, "webhook-relay connect: %s (fix or remove it; removing it resumes "
		        "from what the server still holds)\n", err);
		rc = 1;
		goto out;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "webhook-relay connect: libcurl did not initialise\n");
		rc = 1;
		goto out;
	}
	log_event(LOG_INFO, "started", "source", cfg.source, "target", cfg.target, "state",
	          cfg.state_path, "token", token ? "set" : "none", "last_event_id",
	          last_id[0] ? last_id : NULL, NULL);
	rc = connect_run(&cfg, last_id, &stop_flag, &counts) ? 1 : 0;
	log_event(LOG_INFO, "stopped", "last_event_id", last_id[0] ? last_id : NULL,
	          "forwarded", num(n[0], counts.forwarded), "failed", num(n[1], counts.failed),
	          "retries", num(n[2], counts.retries), "gaps", num(n[3], counts.gaps),
	          "skipped", num(n[4], counts.skipped), "reconnects", num(n[5], counts.reconnects),
	          "silent", num(n[6], counts.silent), "state_errors", num(n[7], counts.state_errors),
	          NULL);
	curl_global_cleanup();
out:
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return rc;
}
