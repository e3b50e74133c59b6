/*
 * main.c — webhook-runner's entry point: subcommands (serve, check-config,
 * sign, healthcheck), start-up (config, store, caps, listener: any failure is
 * fatal and nothing half-starts), the signal loop, background pruning,
 * shutdown, and what the service manager hears of them (notify.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "approvaltick.h"
#include "cfggen.h"
#include "cli.h"
#include "cli_approvals.h"
#include "config.h"
#include "healthcheck.h"
#include "dispatch.h"
#include "liveout.h"
#include "log.h"
#include "notify.h"
#include "queue.h"
#include "../common/secret.h"
#include "http.h"
#include "slots.h"
#include "sign.h"
#include "slack_outbox.h"
#include "store.h"
#include "storecfg.h"
#include "tls.h"
#include "version.h"
#include "workers.h"


#define PRUNE_EVERY_S 3600

static const char usage_text[] =
"usage: webhook-runner [--config FILE] [options]   serve the hooks of FILE\n"
"       webhook-runner check-config FILE             validate FILE and exit\n"
"       webhook-runner sign --config FILE --hook ID PAYLOAD   print request headers\n"
"       webhook-runner jobs list|show|follow [options]   job history, live output (see jobs --help)\n"
"       webhook-runner replay ID --config FILE       re-run a stored delivery, new attempt\n"
"       webhook-runner approvals list|approve|deny   pending approvals (see approvals --help)\n"
"       webhook-runner healthcheck [--url URL | --port P]     probe /healthz, exit 0 if 200\n"
"Options (override the file):\n"
"  -c, --config FILE      configuration (default /etc/webhook-runner/config.json)\n"
"      --host ADDR        listen address (default 0.0.0.0)\n"
"  -p, --port PORT        listen port (default 8080)\n"
"      --tls-cert FILE    serve HTTPS with this certificate (PEM)\n"
"      --tls-key FILE     ... and this key\n"
"      --log-level LEVEL  debug, info, warn, error\n"
"      --log-format FMT   text or json\n"
"  -h, --help, -V, --version\n";

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("webhook-runner: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Descriptors 0-2 must exist, or a pipe could land on them. */
static void std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
}

static int check_config(const char *path)
{
	struct config *cfg = NULL;
	char err[512];

	if (config_load(path, &cfg, err, sizeof err) != 0 ||
	    (cfg->tls_cert && tls_check(cfg->tls_cert, cfg->tls_key, NULL, err, sizeof err) != 0)) {
		fprintf(stderr, "%s\n", err);
		config_free(cfg);
		return 1;
	}
	for (size_t i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, "warning: %s\n", cfg->warnings[i]);
	printf("%s: ok (%zu hook%s%s)\n", path, cfg->nhooks, cfg->nhooks == 1 ? "" : "s",
	    cfg->nwarnings ? ", with warnings" : "");
	config_free(cfg);
	return 0;
}

/* A command-line path made absolute against the directory we started in,
 * so that every reload reads the same file. Caller frees. At start-up. */
static char *abs_arg(const char *opt, const char *p)
{
	char cwd[PATH_MAX], *r = NULL;

	if (p[0] != '/' && !getcwd(cwd, sizeof cwd))
		fatal("%s %s: cannot tell the current directory: %s", opt, p, strerror(errno));
	if (p[0] == '/' ? !(r = strdup(p)) : asprintf(&r, "%s/%s", cwd, p) < 0)
		fatal("out of memory");
	return r;
}

/* The certificate in use and when it expires: a warning within 14 days, so
 * that a renewal that did not happen (or a restart that did not follow it)
 * shows in the log before clients start refusing the daemon. */
static void log_certificate(const char *path, time_t not_after)
{
	char date[32], days[24];
	long left = (long)((not_after - time(NULL)) / 86400);
	struct tm tm;

	if (!gmtime_r(&not_after, &tm) || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(date, sizeof date, "?");
	snprintf(days, sizeof days, "%ld", left);
	if (left < 14)
		log_event(LOG_WARN, "tls", "certificate", path, "not_after", date, "days_left", days,
		    "note", "renew it, then restart the daemon", NULL);
	else
		log_event(LOG_INFO, "tls", "certificate", path, "not_after", date, "days_left", days, NULL);
}

static int replace(char **dst, const char *src)
{
	free(*dst);
	return (*dst = strdup(src)) ? 0 : -ENOMEM;
}

/* What the configuration weakens, at start and after every reload. */
static void log_warnings(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nwarnings; i++)
		log_event(LOG_WARN, "config_warning", "warning", cfg->warnings[i], NULL);
}

/* No core dump and no ptrace by our own uid: a core or a debugger would show
 * the secrets in memory. Children reset this at exec (remote-executor does
 * the same for itself). */
static void no_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal("cannot disable core dumps: %s", strerror(errno));
}

/* Command-line settings that win over the file, at start and at each reload. */
struct overrides {
	const char *host, *level, *format, *tls_cert, *tls_key;
	int port;
};

/* Load PATH and apply the overrides: the whole new config, or an error. */
static int load(const char *path, const struct overrides *ov, struct config **out, char *err, size_t len)
{
	struct config *cfg = NULL;
	int rc;

	if ((rc = config_load(path, &cfg, err, len)) != 0)
		return rc;
	rc = -EINVAL;
	if (ov->host && replace(&cfg->listen_host, ov->host)) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	if (ov->port)
		cfg->port = ov->port;
	if (ov->tls_cert && (replace(&cfg->tls_cert, ov->tls_cert) || replace(&cfg->tls_key, ov->tls_key))) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	if (ov->level && log_level_parse(ov->level, &cfg->log_level) != 0) {
		snprintf(err, len, "bad --log-level \"%s\" (debug, info, warn, error)", ov->level);
		goto out;
	}
	if (ov->format && log_format_parse(ov->format, &cfg->log_format) != 0) {
		snprintf(err, len, "bad --log-format \"%s\" (text, json)", ov->format);
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	config_free(cfg);
	return rc;
}

/* store_on_interrupted's callback: another instance died with jobs running. */
static void log_swept(int n, void *arg)
{
	char count[16];

	(void)arg;
	snprintf(count, sizeof count, "%d", n);
	log_event(LOG_WARN, "jobs_interrupted", "count", count, "note", "an instance's lease ran out with "
	    "these jobs running; their next delivery runs them again", NULL);
}

/* store_on_queued's callback: a job may wait in the shared store. */
static void wake_takers(void *q)
{
	queue_wake(q);
}

/* Delete finished jobs older than the retention (and the deliveries they
 * leave without a job). Quiet when there was nothing to do; an operator sees
 * each deletion and each failure. */
static void prune_history(struct store *st, time_t now, int retention_days)
{
	char n_s[16], days_s[16];
	int n = 0, rc;

	snprintf(days_s, sizeof days_s, "%d", retention_days);
	rc = store_prune(st, ((int64_t)now - (int64_t)retention_days * 86400) * 1000, &n);
	snprintf(n_s, sizeof n_s, "%d", n);
	log_event(rc ? LOG_ERROR : n > 0 ? LOG_INFO : LOG_DEBUG, "prune", "deleted", n_s,
	    "retention_days", days_s, "error", rc ? strerror(-rc) : NULL, NULL);
}

static int serve(int argc, char **argv)
{
	enum { O_HOST = 256, O_TLSCERT, O_TLSKEY, O_LEVEL, O_FORMAT };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, 'p' }, { "tls-cert", required_argument, NULL, O_TLSCERT },
		{ "tls-key", required_argument, NULL, O_TLSKEY }, { "log-level", required_argument, NULL, O_LEVEL },
		{ "log-format", required_argument, NULL, O_FORMAT }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	const char *path = "/etc/webhook-runner/config.json", *host = NULL, *cert = NULL, *key = NULL;
	const char *level = NULL, *format = NULL;
	struct overrides ov = { 0 };
	struct config *cfg = NULL, *next = NULL;
	int retention_days, drain_s, workers_n;
	struct workers *workers = NULL;
	struct approvaltick *timer = NULL;
	struct store *st = NULL;
	struct slots *slots = NULL;
	struct queue *queue = NULL;
	struct http *srv = NULL;
	struct liveout *live = NULL;
	struct slackob *slack = NULL;
	struct cfggen *gens = NULL;
	char err[512], *end, portbuf[16], status[160], where[512];
	struct store_config sc;
	long port = 0;
	int c, n_int = 0, rc, nrc;
	sigset_t set;
	time_t last_prune = 0, not_after = 0;

	while ((c = getopt_long(argc, argv, "c:p:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case O_HOST: host = optarg; break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535)
				fatal("bad --port \"%s\"", optarg);
			break;
		case O_TLSCERT: cert = optarg; break;
		case O_TLSKEY: key = optarg; break;
		case O_LEVEL: level = optarg; break;
		case O_FORMAT: format = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf("webhook-runner %s\n", RUNNER_VERSION); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind != argc)
		fatal("unexpected argument \"%s\" (see --help)", argv[optind]);
	if (!cert != !key)
		fatal("--tls-cert and --tls-key go together");
	if (cert) {
		ov.tls_cert = abs_arg("--tls-cert", cert);
		ov.tls_key = abs_arg("--tls-key", key);
	}
	ov.host = host;
	ov.port = (int)port;
	ov.level = level;
	ov.format = format;
	no_dumps();
	/* Before any thread: env: secrets leave /proc/<pid>/environ. */
	if (secret_scrub_environ() != 0)
		fatal("out of memory");
	/* Before any thread or child exists: it unsets $NOTIFY_SOCKET. */
	nrc = notify_init();
	if (load(path, &ov, &cfg, err, sizeof err) != 0)
		fatal("%s", err);
	/* Before the store is opened: a bad certificate changes nothing. */
	if (cfg->tls_cert && tls_check(cfg->tls_cert, cfg->tls_key, &not_after, err, sizeof err) != 0)
		fatal("%s", err);
	log_setup(cfg->log_level, cfg->log_format);
	if (nrc != 0)
		log_event(LOG_WARN, "notify", "error", strerror(-nrc),
		    "note", "$NOTIFY_SOCKET unusable; the service manager will not hear of readiness", NULL);
	if (cfg->tls_cert)
		log_certificate(cfg->tls_cert, not_after);
	log_warnings(cfg);

	storecfg_fill(cfg, &sc);
	store_where(&sc, where, sizeof where); /* a PostgreSQL URL without its password */
	sc.open_err = err;
	sc.open_errlen = sizeof err;
	err[0] = 0;
	if ((rc = store_open(&sc, &st, 1, &n_int, NULL)) != 0)
		fatal("store %s: %s", where, *err ? err : strerror(-rc));
	if (n_int) {
		snprintf(err, sizeof err, "%d", n_int);
		log_event(LOG_WARN, "jobs_interrupted", "count", err,
		    "note", "a previous process died with these jobs; their next delivery runs them again", NULL);
	}
	if (slots_new(cfg->max_jobs, cfg->max_per_destination, &slots) != 0)
		fatal("out of memory");

	/* Every thread CivetWeb starts inherits this mask: signals come to sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	retention_days = cfg->retention_days;
	drain_s = cfg->drain_timeout_s;
	workers_n = cfg->max_jobs;
	snprintf(portbuf, sizeof portbuf, "%d", cfg->port);
	if (cfg->ops_host)
		snprintf(status, sizeof status, strchr(cfg->ops_host, ':') ? "[%s]:%d" : "%s:%d",
		    cfg->ops_host, cfg->ops_port);
	log_event(LOG_INFO, "listening", "host", cfg->listen_host, "port", portbuf,
	    "tls", cfg->tls_cert ? "on" : "off", "ops", cfg->ops_host ? status : NULL,
	    "config", cfg->path, "store", where, "version", RUNNER_VERSION, NULL);
	snprintf(status, sizeof status, "serving %zu hook%s on %s:%d", cfg->nhooks,
	    cfg->nhooks == 1 ? "" : "s", cfg->listen_host, cfg->port);
	if (cfggen_new(cfg, &gens) != 0)
		fatal("out of memory");
	cfg = NULL; /* the generations own it now */
	/* The queue first: the server puts into it, the workers take from it. */
	if (queue_new(st, workers_n, &queue) != 0)
		fatal("out of memory");
	store_on_queued(st, wake_takers, queue); /* another instance's jobs (PostgreSQL NOTIFY) */
	store_on_interrupted(st, log_swept, NULL);
	if (cfggen_first(gens)->slack.present) {
		/* before any thread: libcurl's global state. libcurl is loaded
		 * here, not linked: a daemon without Slack never maps it. */
		if (slackapi_global_init(err, sizeof err) != 0)
			fatal("cannot initialize libcurl: %s", err);
		if ((rc = slackob_start(gens, st, &slack)) != 0)
			fatal("cannot start the Slack poster: %s", strerror(-rc));
		dispatch_on_finish(slackob_job_finished, slack);
		http_use_slack(slack);
	}
	/* Jobs' live output for GET /jobs/<id>/output (liveout.h). */
	if (liveout_new(cfggen_first(gens)->max_followers, &live) != 0)
		fatal("out of memory");
	dispatch_use_liveout(live);
	http_use_liveout(live);
	if ((rc = http_start(gens, st, slots, queue, &srv, err, sizeof err)) != 0)
		fatal("%s", err);
	if ((rc = workers_start(gens, st, queue, slots, workers_n, &workers)) != 0)
		fatal("cannot start the async workers: %s", strerror(-rc));
	/* Expires approvals that are due (those that expired while we were
	 * down at its first tick) and notices decisions made elsewhere. */
	if ((rc = approvaltick_start(gens, st, queue, slack ? slackob_on_change : NULL, slack, &timer)) != 0)
		fatal("cannot start the approval timer: %s", strerror(-rc));
	notify_ready(status); /* the listener is up: /healthz answers from here on */

	for (;;) {
		struct timespec tick = { 60, 0 };
		int sig;

		/* At start, then every PRUNE_EVERY_S: history stays bounded. */
		if (time(NULL) - last_prune >= PRUNE_EVERY_S) {
			last_prune = time(NULL);
			prune_history(st, last_prune, retention_days);
		}
		sig = sigtimedwait(&set, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			notify_reloading("reloading the configuration");
			/* All or nothing: a bad file leaves the running config in place. */
			if (load(path, &ov, &next, err, sizeof err) != 0) {
				log_event(LOG_ERROR, "reload", "result", "rejected", "error", err,
				    "note", "the previous configuration stays in force", NULL);
				notify_ready("reload rejected (see the log); previous configuration in force");
			} else {
				retention_days = next->retention_days;
				drain_s = next->drain_timeout_s;
				log_setup(next->log_level, next->log_format);
				log_warnings(next);
				cfggen_swap(gens, next);
				next = NULL;
				log_event(LOG_INFO, "reload", "result", "ok", NULL);
				notify_ready("configuration reloaded");
			}
		}
	}
	snprintf(err, sizeof err, "%d", slots_running(slots));
	snprintf(portbuf, sizeof portbuf, "%d", drain_s);
	snprintf(status, sizeof status, "draining %d running job(s) for up to %d s", slots_running(slots), drain_s);
	notify_stopping(status, drain_s + 30); /* the stop timeout covers any drain */
	log_event(LOG_INFO, "stopping", "running_jobs", err, "drain_timeout_s", portbuf, NULL);
	approvaltick_stop(timer); /* pending approvals stay pending; expiry resumes at the next start */
	workers_quiesce(workers); /* queued jobs stay queued for the next start */
	rc = slots_drain(slots, drain_s);
	if (rc > 0) {
		snprintf(err, sizeof err, "%d", rc);
		log_event(LOG_WARN, "drain", "interrupted_jobs", err,
		    "note", "recorded as interrupted; their next delivery runs them again", NULL);
	}
	workers_stop(workers);
	http_stop(srv);
	store_on_queued(st, NULL, NULL);
	dispatch_on_finish(NULL, NULL);
	dispatch_use_liveout(NULL); /* no job and no follower is left */
	liveout_free(live);
	slackob_stop(slack);
	queue_free(queue);
	cfggen_free(gens);
	store_close(st);
	slots_free(slots);
	log_event(LOG_INFO, "stopped", NULL);
	notify_close();
	free((char *)ov.tls_cert);
	free((char *)ov.tls_key);
	return 0;
}

int main(int argc, char **argv)
{
	std_fds();
	if (argc > 1 && !strcmp(argv[1], "check-config")) {
		if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
			printf("usage: webhook-runner check-config FILE\n"
			    "Validates FILE as the daemon would at start, and exits 0 or 1.\n");
			return 0;
		}
		if (argc != 3 || argv[2][0] == '-') {
			fprintf(stderr, "usage: webhook-runner check-config FILE\n");
			return 2;
		}
		return check_config(argv[2]);
	}
	if (argc > 1 && !strcmp(argv[1], "sign"))
		return sign_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "jobs"))
		return cli_jobs_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "replay"))
		return cli_replay_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "approvals"))
		return cli_approvals_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "healthcheck"))
		return healthcheck_main(argc - 1, argv + 1);
	return serve(argc, argv);
}
