/*
 * cli.c — `jobs list`, `jobs show` and `replay` (contract in cli.h).
 *
 * Everything shown comes from the store, and parts of it from the network
 * (keys, a remote command's output): text output replaces control bytes so
 * a stored escape sequence cannot drive the operator's terminal; JSON output
 * is cJSON's, escaped.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_follow.h"
#include "config.h"
#include "dispatch.h"
#include "jobjson.h"
#include "log.h"
#include "store.h"
#include "storecfg.h"
#include "../common/clock.h"
#include "../common/randid.h"

#define LIST_DEFAULT 50
#define LIST_MAX 10000
#define HOOK_COL_MAX 24
#define KEY_COL_MAX 40

static const char jobs_usage[] =
"usage: webhook-runner jobs list (--config FILE | --store PATH) [--failed] [--hook H]\n"
"                                [--limit N] [--json]\n"
"       webhook-runner jobs show ID (--config FILE | --store PATH) [--json]\n"
"       webhook-runner jobs follow ID --token REF [--url URL]   (see jobs follow --help)\n"
"Options:\n"
"  --config FILE  take the store's path from FILE (loaded in full)\n"
"  --store PATH   the store file itself\n"
"  --failed       only failed, timed-out and interrupted attempts\n"
"  --hook H       only hook H's jobs\n"
"  --limit N      at most N jobs, newest first (default 50, at most 10000)\n"
"  --json         JSON, one object per line\n";

static const char replay_usage[] =
"usage: webhook-runner replay ID --config FILE\n"
"Re-run job ID's stored delivery as a new attempt, with its hook as FILE\n"
"defines it now, and print the answer. Exit 0 when the job answered 200.\n";

enum { O_CONFIG = 1, O_STORE = 2, O_HOOK = 4, O_LIMIT = 8, O_FAILED = 16, O_JSON = 32 };

struct opts {
	const char *config, *store, *hook;
	int failed, json, limit, seen;
	int64_t id;
};

#define say cli_say

int cli_say(int code, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "webhook-runner %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 1)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse ARGV (ARGV[0] is the command word) into O, allowing the options in
 * ALLOWED and, when WANT_ID, one job id anywhere among them. 0, 2 after a
 * one-line error, or -1 after --help (exit 0). */
static int parse(const char *cmd, const char *usage, int argc, char **argv, int allowed,
    int want_id, struct opts *o)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "store", required_argument, NULL, 's' },
		{ "hook", required_argument, NULL, 'H' }, { "limit", required_argument, NULL, 'n' },
		{ "failed", no_argument, NULL, 'f' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c, bit, have_id = 0;

	memset(o, 0, sizeof *o);
	o->limit = LIST_DEFAULT;
	opterr = 0;
	optind = 0; /* glibc: start over */
	/* "-": operands come back in order as 1; ":": a missing value is ':' */
	while ((c = getopt_long(argc, argv, "-:h", lopts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (!want_id || have_id)
				return say(2, cmd, "unexpected argument \"%s\" (see --help)", optarg);
			if (parse_id(optarg, &o->id) != 0)
				return say(2, cmd, "bad job id \"%s\" (a positive number)", optarg);
			have_id = 1;
			continue;
		case 'c': bit = O_CONFIG; o->config = optarg; break;
		case 's': bit = O_STORE; o->store = optarg; break;
		case 'H': bit = O_HOOK; o->hook = optarg; break;
		case 'f': bit = O_FAILED; o->failed = 1; break;
		case 'j': bit = O_JSON; o->json = 1; break;
		case 'n':
			bit = O_LIMIT;
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 || v > LIST_MAX)
				return say(2, cmd, "bad --limit \"%s\" (1..%d)", optarg, LIST_MAX);
			o->limit = (int)v;
			break;
		case 'h': fputs(usage, stdout); return -1;
		case ':': return say(2, cmd, "%s needs a value (see --help)", argv[optind - 1]);
		default:
			if (optopt)
				return say(2, cmd, "unknown option \"-%c\" (see --help)", optopt);
			return say(2, cmd, "unknown option \"%s\" (see --help)", argv[optind - 1]);
		}
		if (!(allowed & bit))
			return say(2, cmd, "%s is not an option here (see --help)", argv[optind - 1]);
		if (o->seen & bit)
			return say(2, cmd, "%s given twice", argv[optind - 1]);
		o->seen |= bit;
	}
	if (want_id && !have_id)
		return say(2, cmd, "which job? give its id (see --help)");
	return 0;
}



/* ---- the store ------------------------------------------------------- */

/* Load --config (when given) and open the store it or --store names, never
 * creating one. 0, or the exit status after a message. */
static int open_store(const char *cmd, const struct opts *o, int need_config, struct config **cfg,
    struct store **st)
{
	return cli_open_store(cmd, o->config, o->store, need_config, cfg, st);
}

int cli_open_store(const char *cmd, const char *config, const char *store, int need_config,
    struct config **cfg, struct store **st)
{
	char err[512], where[512], oerr[256] = "";
	const char *path;
	struct store_config sc = { 0 };
	enum store_why why;
	int rc;

	*cfg = NULL;
	*st = NULL;
	if (!config == !store || (need_config && !config))
		return say(2, cmd, need_config ? "--config FILE is required (see --help)" :
		    "give either --config FILE or --store PATH (see --help)");
	if (config && (rc = config_load(config, cfg, err, sizeof err)) != 0)
		return need_config ? say(1, cmd, "%s", err) :
		    say(1, cmd, "%s (or name the store with --store PATH)", err);
	if (*cfg)
		storecfg_fill(*cfg, &sc);
	else
		sc.sqlite_path = store;
	store_where(&sc, where, sizeof where); /* a PostgreSQL URL without its password */
	path = where;
	sc.must_exist = 1;
	sc.open_err = oerr;
	sc.open_errlen = sizeof oerr;
	rc = store_open(&sc, st, 0, NULL, &why); /* never marks: the daemon may be running */
	if (sc.pg_url && rc)
		return say(1, cmd, "store %s: %s", path, *oerr ? oerr : strerror(-rc));
	if (why == STORE_WHY_ABSENT)
		return say(1, cmd, "store %s: no such file (nothing recorded yet, or another path?)", path);
	if (why == STORE_WHY_NOT_A_STORE)
		return say(1, cmd, "store %s: not a regular file", path);
	if (rc == -EPROTO)
		return say(1, cmd, "store %s: written by a newer webhook-runner", path);
	if (rc != 0)
		return say(1, cmd, "store %s: %s", path, strerror(-rc));
	return 0;
}

/* ---- formatting ------------------------------------------------------ */

/* Stored text made safe for a terminal: control bytes become '?' (KEEP_NL:
 * newlines and tabs stay). Writes at most CAP-1 bytes of S. */
void cli_safe(const char *s, char *dst, size_t cap, int keep_nl)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 && !(keep_nl && (c == '\n' || c == '\t'))) || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = 0;
}

void cli_fmt_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || !localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "-");
}

static int64_t duration_ms(const struct store_job *j)
{
	return j->started_ms > 0 && j->finished_ms >= j->started_ms ? j->finished_ms - j->started_ms : -1;
}

static void fmt_duration(const struct store_job *j, char *buf, size_t len)
{
	int64_t d = duration_ms(j);

	if (d < 0)
		snprintf(buf, len, "-");
	else if (d < 60000)
		snprintf(buf, len, "%.3fs", (double)d / 1000.0);
	else
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", d / 60000, d / 1000 % 60);
}

static void fmt_exit(const struct store_job *j, char *buf, size_t len)
{
	char sig[sizeof j->signal];

	cli_safe(j->signal, sig, sizeof sig, 0);
	if (j->exit_code >= 0)
		snprintf(buf, len, "%d", j->exit_code);
	else if (sig[0])
		snprintf(buf, len, "%s%s", strncmp(sig, "SIG", 3) ? "SIG" : "", sig);
	else
		snprintf(buf, len, "-");
}

/* S in a column of W: padded, or cut with ".." when longer. */
static void cell(const char *s, int w, char *buf, size_t cap)
{
	cli_safe(s, buf, cap, 0);
	if (strlen(s) > (size_t)w && w >= 2 && (size_t)w < cap)
		memcpy(buf + w - 2, "..", 3);
}

/* The table of jobs; when MARK > 0, the row of job MARK gets a '*'. */
static void print_table(const struct store_job *v, size_t n, int64_t mark)
{
	char hook[HOOK_COL_MAX + 1], key[KEY_COL_MAX + 1], ex[48], http[16], started[32], dur[32];
	int wid = 2, wh = 4, wk = 3, l;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((l = snprintf(NULL, 0, "%" PRId64, v[i].id)) > wid)
			wid = l;
		if ((l = (int)strlen(v[i].hook)) > wh)
			wh = l < HOOK_COL_MAX ? l : HOOK_COL_MAX;
		if ((l = (int)strlen(v[i].key)) > wk)
			wk = l < KEY_COL_MAX ? l : KEY_COL_MAX;
	}
	printf("%s%*s  %-*s  %-*s  %7s  %-11s  %-7s  %4s  %-19s  %s\n", mark > 0 ? "  " : "", wid, "ID",
	    wh, "HOOK", wk, "KEY", "ATTEMPT", "STATE", "EXIT", "HTTP", "STARTED", "DURATION");
	for (i = 0; i < n; i++) {
		cell(v[i].hook, wh, hook, sizeof hook);
		cell(v[i].key, wk, key, sizeof key);
		fmt_exit(&v[i], ex, sizeof ex);
		if (v[i].http_status > 0)
			snprintf(http, sizeof http, "%d", v[i].http_status);
		else
			snprintf(http, sizeof http, "-");
		cli_fmt_time(v[i].started_ms, started, sizeof started);
		fmt_duration(&v[i], dur, sizeof dur);
		printf("%s%*" PRId64 "  %-*s  %-*s  %7d  %-11s  %-7s  %4s  %-19s  %s\n",
		    mark > 0 ? (v[i].id == mark ? "* " : "  ") : "", wid, v[i].id, wh, hook, wk, key,
		    v[i].attempt, jobstate_name(v[i].state), ex, http, started, dur);
	}
}

static void add_opt_num(cJSON *o, const char *name, int64_t v, int present)
{
	if (present)
		cJSON_AddNumberToObject(o, name, (double)v);
	else
		cJSON_AddNullToObject(o, name);
}

/* One job as JSON, every column there (null without a value); FULL adds the
 * stored answer and output tail. NULL when out of memory. */
static cJSON *job_json(const struct store_job *j, int full)
{
	cJSON *o = NULL;
	unsigned flags = JOBJSON_KEY | JOBJSON_RECORD | JOBJSON_DURATION | JOBJSON_NULLS;

	if (full)
		flags |= JOBJSON_RESPONSE | JOBJSON_TAIL;
	return jobjson_build(j, flags, NULL, &o) == 0 ? o : NULL;
}

static int print_json(cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!s)
		return -ENOMEM;
	puts(s);
	free(s);
	return 0;
}

/* ---- jobs list / show ------------------------------------------------ */

static int jobs_list(const struct opts *o, struct store *st)
{
	struct store_job *v = NULL;
	size_t n = 0, i;
	int rc, ret = 0;

	if (o->hook && (!*o->hook || strlen(o->hook) >= sizeof v->hook))
		return say(2, "jobs list", "bad --hook \"%s\"", o->hook);
	rc = store_list(st, o->hook, o->failed, o->limit, &v, &n);
	if (rc != 0)
		return say(1, "jobs list", "%s", store_errmsg(st));
	if (o->json) {
		for (i = 0; i < n && !ret; i++)
			if (print_json(job_json(&v[i], 0)) != 0)
				ret = say(1, "jobs list", "out of memory");
	} else if (n == 0) {
		fprintf(stderr, "no jobs%s%s%s\n", o->failed ? " failed" : "", o->hook ? " of hook " : "",
		    o->hook ? o->hook : "");
	} else {
		print_table(v, n, 0);
	}
	for (i = 0; i < n; i++)
		store_job_clear(&v[i]);
	free(v);
	return ret;
}

static void show_text(const struct store_job *j, const struct store_job *att, size_t natt,
    long long delivery_bytes)
{
	char buf[512], t[32];
	int last = natt ? att[natt - 1].attempt : j->attempt;

	printf("job       %" PRId64 "\n", j->id);
	cli_safe(j->hook, buf, sizeof buf, 0);
	printf("hook      %s\n", buf);
	cli_safe(j->key, buf, sizeof buf, 0);
	printf("key       %s\n", buf);
	printf("attempt   %d of %d\n", j->attempt, last);
	printf("state     %s\n", jobstate_name(j->state));
	fmt_exit(j, buf, sizeof buf);
	printf("exit      %s\n", buf);
	if (j->error[0]) {
		cli_safe(j->error, buf, sizeof buf, 0);
		printf("error     %s\n", buf);
	}
	if (j->http_status > 0)
		printf("http      %d\n", j->http_status);
	else
		printf("http      -\n");
	cli_fmt_time(j->created_ms, t, sizeof t);
	printf("created   %s\n", t);
	cli_fmt_time(j->started_ms, t, sizeof t);
	printf("started   %s\n", t);
	cli_fmt_time(j->finished_ms, t, sizeof t);
	printf("finished  %s\n", t);
	fmt_duration(j, t, sizeof t);
	printf("duration  %s\n", t);
	if (delivery_bytes >= 0)
		printf("delivery  %lld bytes stored (replayable)\n", delivery_bytes);
	else
		printf("delivery  no longer stored\n");
	printf("\nattempts of this key:\n");
	print_table(att, natt, j->id);
	if (j->response && *j->response) {
		char *r = malloc(strlen(j->response) + 1);
		if (r) {
			cli_safe(j->response, r, strlen(j->response) + 1, 1);
			printf("\nanswer:\n%s\n", r);
			free(r);
		}
	}
	if (j->output_tail && *j->output_tail) {
		size_t len = strlen(j->output_tail);
		char *tail = malloc(len + 1);
		if (tail) {
			cli_safe(j->output_tail, tail, len + 1, 1);
			printf("\noutput tail:\n%s%s", tail, tail[len - 1] == '\n' ? "" : "\n");
			free(tail);
		}
	}
}

/* A's lines for `jobs show`: state, votes and the decision. */
static void show_approval(const struct store_approval *a)
{
	char who[STORE_VOTER_MAX + 1], t[32], reason[STORE_REASON_MAX + 1];
	size_t i;

	printf("approval  %s: %s (%d of %d approvals)\n", a->id, store_approval_state_name(a->state),
	    a->approvals, a->required);
	cli_safe(a->requester[0] ? a->requester : "unknown", who, sizeof who, 0);
	printf("requester %s\n", who);
	cli_fmt_time(a->expires_ms, t, sizeof t);
	printf("expires   %s\n", t);
	if (a->state != STORE_APPROVAL_PENDING) {
		cli_safe(a->decided_by[0] ? a->decided_by : "-", who, sizeof who, 0);
		cli_fmt_time(a->decided_ms, t, sizeof t);
		printf("decided   %s by %s\n", t, a->state == STORE_APPROVAL_EXPIRED ? "expiry" : who);
	}
	if (a->reason[0]) {
		cli_safe(a->reason, reason, sizeof reason, 0);
		printf("reason    %s\n", reason);
	}
	for (i = 0; i < a->nvotes; i++) {
		cli_safe(a->votes[i].voter, who, sizeof who, 0);
		cli_fmt_time(a->votes[i].at_ms, t, sizeof t);
		cli_safe(a->votes[i].reason, reason, sizeof reason, 0);
		printf("vote      %s %s %s (%s)%s%s\n", t, who, store_vote_decision_name(a->votes[i].decision),
		    store_vote_source_name(a->votes[i].source), reason[0] ? ": " : "", reason);
	}
}

static int jobs_show(const struct opts *o, struct store *st)
{
	struct store_job j, *att = NULL;
	struct store_approval ap;
	size_t natt = 0, i, len = 0;
	int have_ap = 0;
	char *body = NULL, *meta = NULL;
	long long dbytes = -1;
	cJSON *out, *arr;
	int rc, ret = 0;

	memset(&ap, 0, sizeof ap);
	rc = store_job_get(st, o->id, &j);
	if (rc == -ENOENT)
		return say(1, "jobs show", "no job %" PRId64, o->id);
	if (rc != 0)
		return say(1, "jobs show", "%s", store_errmsg(st));
	rc = store_attempts(st, j.hook, j.key, &att, &natt);
	if (rc == 0)
		rc = store_delivery_get(st, j.hook, j.key, &body, &len, &meta);
	if (rc == 0)
		dbytes = (long long)len;
	else if (rc != -ENOENT)
		ret = say(1, "jobs show", "%s", store_errmsg(st));
	if (!ret && store_approval_by_job(st, j.id, &ap) == 0)
		have_ap = 1;
	if (!ret && o->json) {
		out = job_json(&j, 1);
		if (out && have_ap && jobjson_add_approval(out, &ap, 1) != 0) {
			cJSON_Delete(out);
			out = NULL;
		}
		arr = out ? cJSON_AddArrayToObject(out, "attempts") : NULL;
		for (i = 0; arr && i < natt; i++)
			cJSON_AddItemToArray(arr, job_json(&att[i], 0));
		if (out)
			add_opt_num(out, "delivery_bytes", dbytes, dbytes >= 0);
		if (print_json(out) != 0)
			ret = say(1, "jobs show", "out of memory");
	} else if (!ret) {
		show_text(&j, att, natt, dbytes);
		if (have_ap) {
			putchar('\n');
			show_approval(&ap);
		}
	}
	store_approval_clear(&ap);
	store_job_clear(&j);
	for (i = 0; i < natt; i++)
		store_job_clear(&att[i]);
	free(att);
	free(body);
	free(meta);
	return ret;
}

int cli_jobs_main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct opts o;
	const char *sub = argc > 1 ? argv[1] : NULL;
	int rc;

	if (sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))) {
		fputs(jobs_usage, stdout);
		return 0;
	}
	if (sub && !strcmp(sub, "follow"))
		return cli_follow_main(argc - 1, argv + 1);
	if (!sub || (strcmp(sub, "list") && strcmp(sub, "show")))
		return say(2, "jobs", "%s%s%s (list, show or follow; see --help)", sub ? "unknown subcommand \"" :
		    "which subcommand?", sub ? sub : "", sub ? "\"" : "");
	if (!strcmp(sub, "list"))
		rc = parse("jobs list", jobs_usage, argc - 1, argv + 1,
		    O_CONFIG | O_STORE | O_HOOK | O_LIMIT | O_FAILED | O_JSON, 0, &o);
	else
		rc = parse("jobs show", jobs_usage, argc - 1, argv + 1, O_CONFIG | O_STORE | O_JSON, 1, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = open_store(!strcmp(sub, "list") ? "jobs list" : "jobs show", &o, 0, &cfg, &st);
	if (!rc)
		rc = !strcmp(sub, "list") ? jobs_list(&o, st) : jobs_show(&o, st);
	if (fflush(stdout) != 0 && !rc)
		rc = say(1, "jobs", "writing the output: %s", strerror(errno));
	store_close(st);
	config_free(cfg);
	return rc;
}

/* ---- replay ---------------------------------------------------------- */

int cli_replay_main(int argc, char **argv)
{
	static const char cmd[] = "replay";
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct store_job j;
	struct store_claim_res cl = { 0 };
	struct dispatch_meta m;
	struct dispatch_answer ans = { 0 };
	struct hdr_src none = { NULL, NULL };
	const struct cfg_hook *h;
	struct opts o;
	char *body = NULL, *meta = NULL, *command = NULL, err[300], rid[32], idbuf[24], newid[24];
	char att[16];
	size_t len = 0;
	sigset_t hold;
	int rc;

	memset(&j, 0, sizeof j);
	memset(&m, 0, sizeof m);
	rc = parse(cmd, replay_usage, argc, argv, O_CONFIG | O_STORE, 1, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.store)
		return say(2, cmd, "--store is not enough: replay runs the hook as --config FILE "
		    "defines it");
	if ((rc = open_store(cmd, &o, 1, &cfg, &st)) != 0)
		goto out;
	log_setup(cfg->log_level, cfg->log_format);

	/* Everything that can refuse, before anything is written. */
	rc = store_job_get(st, o.id, &j);
	if (rc) {
		rc = rc == -ENOENT ? say(1, cmd, "no job %" PRId64 " in %s", o.id, cfg->store_path) :
		    say(1, cmd, "%s", store_errmsg(st));
		goto out;
	}
	if (!(h = config_hook(cfg, j.hook))) {
		cli_safe(j.hook, err, sizeof err, 0);
		rc = say(1, cmd, "job %" PRId64 "'s hook \"%s\" is not in %s any more; nothing ran",
		    o.id, err, cfg->path);
		goto out;
	}
	if (h->approval.enabled) {
		rc = say(1, cmd, "hook \"%s\" needs people's approval, which a replay would bypass; "
		    "nothing ran", h->id);
		goto out;
	}
	rc = store_delivery_get(st, j.hook, j.key, &body, &len, &meta);
	if (rc) {
		rc = rc == -ENOENT ? say(1, cmd, "job %" PRId64 "'s delivery is no longer stored "
		    "(pruned); nothing ran", o.id) : say(1, cmd, "%s", store_errmsg(st));
		goto out;
	}
	if (meta && dispatch_meta_parse(meta, &m) != 0) {
		rc = say(1, cmd, "job %" PRId64 "'s stored headers are not readable; nothing ran", o.id);
		goto out;
	}
	rc = dispatch_prepare(h, body, len, m.claims, meta ? &m.headers : &none, &command, err,
	    sizeof err);
	if (rc) {
		rc = rc == -ENOMEM ? say(1, cmd, "out of memory") :
		    say(1, cmd, "job %" PRId64 " cannot run with hook \"%s\" as %s defines it now: %s; "
		    "nothing was recorded", o.id, h->id, cfg->path, err);
		goto out;
	}

	/* From the claim on, the attempt must end recorded: hold the signals
	 * that would kill us (the executor runs in its own process group, so it
	 * would finish anyway, unrecorded). Its children get default ones. */
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGQUIT);
	sigprocmask(SIG_BLOCK, &hold, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = store_claim_again(st, o.id, JOBSTATE_RUNNING, clock_wall_ms(), &cl);
	if (rc) {
		rc = rc == -ENOENT ? say(1, cmd, "job %" PRId64 " is gone (pruned meanwhile); nothing ran",
		    o.id) : say(1, cmd, "%s", store_errmsg(st));
		goto out;
	}
	if (cl.kind == STORE_BUSY) {
		rc = say(1, cmd, "attempt %d of this key (job %" PRId64 ") is still queued or running; "
		    "nothing ran, try again when it is done", cl.attempt, cl.job_id);
		goto out;
	}
	snprintf(rid, sizeof rid, "replay-");
	randid_hex(rid + 7, 8, 0);
	snprintf(idbuf, sizeof idbuf, "%" PRId64, o.id);
	snprintf(newid, sizeof newid, "%" PRId64, cl.job_id);
	snprintf(att, sizeof att, "%d", cl.attempt);
	log_event(LOG_INFO, "replay", "request_id", rid, "hook", h->id, "key", j.key, "of_job", idbuf,
	    "job", newid, "attempt", att, NULL);
	rc = dispatch_run(cfg, st, NULL, h, cl.job_id, cl.attempt, command, rid, &ans);
	if (rc) {
		rc = say(1, cmd, "out of memory");
		goto out;
	}
	puts(ans.body);
	if (fflush(stdout) != 0)
		say(1, cmd, "writing the answer: %s", strerror(errno));
	rc = ans.http == 200 ? 0 : 1;
out:
	free(ans.body);
	store_claim_res_clear(&cl);
	dispatch_meta_clear(&m);
	free(command);
	free(body);
	free(meta);
	store_job_clear(&j);
	store_close(st);
	config_free(cfg);
	return rc;
}
