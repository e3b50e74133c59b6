/*
 * cli_approvals.c — `approvals list|approve|deny` (contract in
 * cli_approvals.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "../common/clock.h"
#include "approval.h"
#include "cli.h"
#include "cli_approvals.h"
#include "config.h"
#include "jobjson.h"
#include "log.h"

static const char usage[] =
"usage: webhook-runner approvals list (--config FILE | --store PATH) [--hook H] [--json]\n"
"       webhook-runner approvals approve ID --as NAME --config FILE\n"
"       webhook-runner approvals deny ID --as NAME [--reason R] --config FILE\n"
"ID is the approval id or the job id. NAME is recorded as the voter (source cli)\n"
"and must be one of the hook's approvers.\n";

struct opts {
	const char *config, *store, *hook, *as, *reason, *id;
	int json;
};

/* ARGV (ARGV[0] the subcommand) into O: VOTE takes ID, --as, --reason
 * (DENY only) and --config. 0, 2 after a message, -1 after --help. */
static int parse(const char *cmd, int argc, char **argv, int vote, int deny, struct opts *o)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "store", required_argument, NULL, 's' },
		{ "hook", required_argument, NULL, 'H' }, { "json", no_argument, NULL, 'j' },
		{ "as", required_argument, NULL, 'a' }, { "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "-:h", lopts, NULL)) != -1) {
		const char **slot = NULL;
		switch (c) {
		case 1:
			if (!vote || o->id)
				return cli_say(2, cmd, "unexpected argument \"%s\" (see --help)", optarg);
			o->id = optarg;
			continue;
		case 'c': slot = &o->config; break;
		case 's': slot = vote ? NULL : &o->store; break;
		case 'H': slot = vote ? NULL : &o->hook; break;
		case 'a': slot = vote ? &o->as : NULL; break;
		case 'r': slot = deny ? &o->reason : NULL; break;
		case 'j':
			if (vote)
				return cli_say(2, cmd, "--json is not an option here (see --help)");
			o->json = 1;
			continue;
		case 'h': fputs(usage, stdout); return -1;
		case ':': return cli_say(2, cmd, "%s needs a value (see --help)", argv[optind - 1]);
		default: return cli_say(2, cmd, "unknown option \"%s\" (see --help)", argv[optind - 1]);
		}
		if (!slot)
			return cli_say(2, cmd, "%s is not an option here (see --help)", argv[optind - 1]);
		if (*slot)
			return cli_say(2, cmd, "%s given twice", argv[optind - 1]);
		*slot = optarg;
	}
	if (vote && !o->id)
		return cli_say(2, cmd, "which approval? give its id or its job's id (see --help)");
	if (vote && !o->as)
		return cli_say(2, cmd, "--as NAME is required: who approves is recorded (see --help)");
	if (vote && !o->config)
		return cli_say(2, cmd, "--config FILE is required: the hook's approvers are in it");
	return 0;
}

/* ---- list ----------------------------------------------------------- */

static void print_row(const struct store_approval *a)
{
	char hook[40], key[48], who[STORE_VOTER_MAX + 1], exp[32];

	cli_safe(a->hook, hook, sizeof hook, 0);
	cli_safe(a->key, key, sizeof key, 0);
	cli_safe(a->requester[0] ? a->requester : "-", who, sizeof who, 0);
	cli_fmt_time(a->expires_ms, exp, sizeof exp);
	printf("%-32s  %6" PRId64 "  %-20s  %-24s  %d/%d  %-12s  %s\n", a->id, a->job_id, hook, key,
	    a->approvals, a->required, who, exp);
}

static int list(const struct opts *o)
{
	static const char cmd[] = "approvals list";
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct store_approval *v = NULL;
	size_t n = 0, i;
	int rc;

	if (o->hook && (!*o->hook || strlen(o->hook) >= sizeof v->hook))
		return cli_say(2, cmd, "bad --hook \"%s\"", o->hook);
	if ((rc = cli_open_store(cmd, o->config, o->store, 0, &cfg, &st)) != 0)
		goto out;
	if ((rc = store_approvals_pending(st, o->hook, 10000, &v, &n)) != 0) {
		rc = cli_say(1, cmd, "%s", store_errmsg(st));
		goto out;
	}
	if (!o->json && n == 0)
		fprintf(stderr, "no pending approvals%s%s\n", o->hook ? " of hook " : "", o->hook ? o->hook : "");
	else if (!o->json)
		printf("%-32s  %6s  %-20s  %-24s  %-3s  %-12s  %s\n", "APPROVAL", "JOB", "HOOK", "KEY", "VOTES",
		    "REQUESTER", "EXPIRES");
	for (i = 0; i < n && !rc; i++) {
		if (o->json) {
			cJSON *w = cJSON_CreateObject();
			char *s = NULL;
			if (w && jobjson_add_approval(w, &v[i], 1) == 0) {
				cJSON *ap = cJSON_GetObjectItemCaseSensitive(w, "approval");
				cJSON_AddNumberToObject(ap, "job_id", (double)v[i].job_id);
				cJSON_AddStringToObject(ap, "hook", v[i].hook);
				cJSON_AddStringToObject(ap, "key", v[i].key);
				s = cJSON_PrintUnformatted(ap);
			}
			cJSON_Delete(w);
			if (!s) {
				rc = cli_say(1, cmd, "out of memory");
				break;
			}
			puts(s);
			free(s);
		} else {
			print_row(&v[i]);
		}
	}
out:
	store_approvals_free(v, n);
	store_close(st);
	config_free(cfg);
	return rc;
}

/* ---- approve / deny ------------------------------------------------- */

/* The approval ID names (an approval id, or a job id) into *A. 0, 1 after
 * a message (none), or 2 (a malformed ID). */
static int find(const char *cmd, struct store *st, const char *id, struct store_approval *a)
{
	char *end;
	long long job;
	int rc;

	if (strlen(id) == STORE_APPROVAL_ID_LEN && strspn(id, "0123456789abcdef") == STORE_APPROVAL_ID_LEN) {
		rc = store_approval_get(st, id, a);
	} else if (id[0] >= '1' && id[0] <= '9' && (errno = 0, job = strtoll(id, &end, 10), !errno && !*end)) {
		rc = store_approval_by_job(st, job, a);
	} else {
		char s[80];
		cli_safe(id, s, sizeof s, 0);
		return cli_say(2, cmd, "bad id \"%s\": an approval id (32 hex digits) or a job id", s);
	}
	if (rc == -ENOENT) {
		char s[80];
		cli_safe(id, s, sizeof s, 0);
		return cli_say(1, cmd, "no approval %s (see approvals list); nothing changed", s);
	}
	if (rc)
		return cli_say(1, cmd, "%s", store_errmsg(st));
	return 0;
}

static int vote(const struct opts *o, enum store_vote_decision d)
{
	const char *cmd = d == STORE_VOTE_DENY ? "approvals deny" : "approvals approve";
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct store_approval a;
	struct approval_voters who = { NULL, 0, 0 };
	struct approval_result res;
	struct approval_vote_req rq;
	const struct cfg_hook *h;
	char name[STORE_VOTER_MAX + 1], hook[80];
	int rc;

	memset(&a, 0, sizeof a);
	memset(&res, 0, sizeof res);
	if (!*o->as || strlen(o->as) > STORE_VOTER_MAX || strcspn(o->as, " \t\r\n\x7f") != strlen(o->as))
		return cli_say(2, cmd, "bad --as: 1 to %d characters, no spaces or control characters",
		    STORE_VOTER_MAX);
	if (o->reason && strlen(o->reason) > STORE_REASON_MAX)
		return cli_say(2, cmd, "--reason is longer than %d bytes", STORE_REASON_MAX);
	if ((rc = cli_open_store(cmd, o->config, NULL, 1, &cfg, &st)) != 0)
		goto out;
	log_setup(LOG_ERROR, cfg->log_format); /* the outcome is this command's output */
	if ((rc = find(cmd, st, o->id, &a)) != 0)
		goto out;
	cli_safe(a.hook, hook, sizeof hook, 0);
	if (!(h = config_hook(cfg, a.hook)) || !h->approval.enabled) {
		rc = cli_say(1, cmd, "hook \"%s\" of approval %s has no approval in %s now; nothing changed",
		    hook, a.id, cfg->path);
		goto out;
	}
	approval_voters_listed(&h->approval, &who);
	rq = (struct approval_vote_req){ a.id, o->as, STORE_VOTE_CLI, d, o->reason, clock_wall_ms(), &who };
	rc = approval_vote(st, &rq, &res);
	if (rc == -EINVAL) {
		rc = cli_say(2, cmd, "bad --as or --reason (control characters?)");
		goto out;
	}
	if (rc) {
		rc = cli_say(1, cmd, "%s", store_errmsg(st));
		goto out;
	}
	cli_safe(o->as, name, sizeof name, 0);
	if (approval_refused(res.why)) {
		rc = cli_say(1, cmd, "approval %s (job %" PRId64 ", hook %s): %s: %s", a.id, a.job_id, hook,
		    approval_reason_name(res.why), approval_reason_text(res.why));
		goto out;
	}
	if (res.why == APPROVAL_APPROVED)
		printf("approval %s (job %" PRId64 ", hook %s): approved by %s (%d of %d approvals); "
		    "the job is queued\n", a.id, a.job_id, hook, name, res.after.approvals, res.after.required);
	else if (res.why == APPROVAL_DENIED)
		printf("approval %s (job %" PRId64 ", hook %s): denied by %s; the job will not run\n", a.id,
		    a.job_id, hook, name);
	else
		printf("approval %s (job %" PRId64 ", hook %s): approval by %s recorded (%d of %d approvals); "
		    "waiting for more\n", a.id, a.job_id, hook, name, res.after.approvals, res.after.required);
	rc = 0;
out:
	approval_result_clear(&res);
	store_approval_clear(&a);
	store_close(st);
	config_free(cfg);
	return rc;
}

int cli_approvals_main(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct opts o;
	int rc, isvote, deny;

	if (sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (!sub || (strcmp(sub, "list") && strcmp(sub, "approve") && strcmp(sub, "deny")))
		return cli_say(2, "approvals", "%s%s%s (list, approve or deny; see --help)",
		    sub ? "unknown subcommand \"" : "which subcommand?", sub ? sub : "", sub ? "\"" : "");
	isvote = strcmp(sub, "list") != 0;
	deny = !strcmp(sub, "deny");
	rc = parse(!isvote ? "approvals list" : deny ? "approvals deny" : "approvals approve", argc - 1,
	    argv + 1, isvote, deny, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = isvote ? vote(&o, deny ? STORE_VOTE_DENY : STORE_VOTE_APPROVE) : list(&o);
	if (fflush(stdout) != 0 && !rc)
		rc = cli_say(1, "approvals", "writing the output: %s", strerror(errno));
	return rc;
}
