/*
 * approvalcfg.c — the "slack" section and a hook's "approval" (contract in
 * approvalcfg.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvalcfg.h"

/* A Slack id: an upper-case letter FIRST (one of FIRSTS) then 2..31
 * upper-case letters and digits (U0123ABC, W…, S…, C…, G…). */
static int slack_id(const char *s, const char *firsts)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > 32 || !strchr(firsts, s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* https://…, or http:// to a loopback host (a test's fake Slack). */
static int api_url_ok(const char *u)
{
	static const char *const loop[] = { "http://127.", "http://localhost:", "http://localhost/",
		"http://[::1]" };
	size_t i;

	if (strpbrk(u, " \t\r\n\"'\\") || strlen(u) > 200)
		return 0;
	if (!strncmp(u, "https://", 8))
		return u[8] && u[8] != '/';
	for (i = 0; i < sizeof loop / sizeof loop[0]; i++)
		if (!strncmp(u, loop[i], strlen(loop[i])))
			return 1;
	return !strcmp(u, "http://localhost");
}

int approvalcfg_slack(struct cfgfield_ctx *c, const cJSON *o, struct cfg_slack *out)
{
	static const char *const keys[] = { "bot_token", "signing_secret", "api_url", "timeout_ms", NULL };
	const char *s;
	long long v;
	size_t n;
	int rc;

	memset(out, 0, sizeof *out);
	if (!o)
		return 0;
	if ((rc = cfgfield_only_keys(c, o, "slack", keys)))
		return rc;
	out->present = 1;
	if ((rc = cfgfield_str(c, o, "slack", "bot_token", 1, &s)) ||
	    (rc = cfgfield_secret(c, "slack.bot_token", s, &out->bot_token)))
		return rc;
	if (strncmp(out->bot_token, "xoxb-", 5) != 0)
		return cfgfield_bad(c, "slack.bot_token", "must be a bot token (it starts with \"xoxb-\")");
	if ((rc = cfgfield_str(c, o, "slack", "signing_secret", 1, &s)) ||
	    (rc = cfgfield_secret(c, "slack.signing_secret", s, &out->signing_secret)))
		return rc;
	if (strlen(out->signing_secret) < 16)
		return cfgfield_bad(c, "slack.signing_secret", "must be at least 16 characters");
	if ((rc = cfgfield_str(c, o, "slack", "api_url", 0, &s)))
		return rc;
	if (!s)
		s = "https://slack.com/api";
	if (!api_url_ok(s))
		return cfgfield_bad(c, "slack.api_url", "must be an https:// URL (http:// only to a "
		    "loopback address), without spaces or quotes");
	if (!(out->api_url = strdup(s)))
		return -ENOMEM;
	n = strlen(out->api_url);
	while (n > 0 && out->api_url[n - 1] == '/')
		out->api_url[--n] = 0;
	if ((rc = cfgfield_int(c, o, "slack", "timeout_ms", 100, 60000, 5000, &v)))
		return rc;
	out->timeout_ms = (int)v;
	return 0;
}

/* Field NAME of O (at PATH): a list of Slack ids starting with one of
 * FIRSTS, none twice, into *OUT / *N. Absent: nothing. */
static int id_list(struct cfgfield_ctx *c, const cJSON *o, const char *path, const char *name,
    const char *firsts, char ***out, size_t *n)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, name), *it;
	char sub[160];
	size_t k;

	if (!l)
		return 0;
	snprintf(sub, sizeof sub, "%s.%s", path, name);
	if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > APPROVALCFG_MAX_IDS)
		return cfgfield_bad(c, sub, "must be a list of at most %d Slack ids", APPROVALCFG_MAX_IDS);
	if (!(*out = calloc((size_t)cJSON_GetArraySize(l) + 1, sizeof **out)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, l) {
		if (!cJSON_IsString(it) || !slack_id(it->valuestring, firsts))
			return cfgfield_bad(c, sub, "[%zu] must be a Slack %s id (%s…: upper-case letters "
			    "and digits)", *n, firsts[0] == 'S' ? "user group" : "user",
			    firsts[0] == 'S' ? "S" : "U or W");
		for (k = 0; k < *n; k++)
			if (!strcmp((*out)[k], it->valuestring))
				return cfgfield_bad(c, sub, "\"%s\" is listed twice", it->valuestring);
		if (!((*out)[*n] = strdup(it->valuestring)))
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int parse_fields(struct cfgfield_ctx *c, const cJSON *o, const char *path, struct cfg_approval *ap)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fields"), *it;
	char sub[160];
	const char *p;

	if (!f)
		return 0;
	snprintf(sub, sizeof sub, "%s.fields", path);
	if (!cJSON_IsObject(f) || cJSON_GetArraySize(f) > APPROVALCFG_MAX_FIELDS)
		return cfgfield_bad(c, sub, "must be an object of at most %d labels to texts",
		    APPROVALCFG_MAX_FIELDS);
	if (!(ap->fields = calloc((size_t)cJSON_GetArraySize(f) + 1, sizeof *ap->fields)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, f) {
		if (!it->string || !*it->string || strlen(it->string) > 64)
			return cfgfield_bad(c, sub, "a label must be 1 to 64 characters");
		if (!cJSON_IsString(it) || !*it->valuestring ||
		    strlen(it->valuestring) > APPROVALCFG_FIELD_TEXT_MAX)
			return cfgfield_bad(c, sub, "\"%s\" must be a text of 1 to %d characters", it->string,
			    APPROVALCFG_FIELD_TEXT_MAX);
		for (p = it->valuestring; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\n')
				return cfgfield_bad(c, sub, "\"%s\" holds a control character", it->string);
		ap->fields[ap->nfields].label = strdup(it->string);
		ap->fields[ap->nfields].text = strdup(it->valuestring);
		if (!ap->fields[ap->nfields].label || !ap->fields[ap->nfields].text) {
			ap->nfields++;
			return -ENOMEM;
		}
		ap->nfields++;
	}
	return 0;
}

int approvalcfg_hook(struct cfgfield_ctx *c, const cJSON *o, const char *hp, struct cfg_hook *h)
{
	static const char *const keys[] = { "channel", "approvers", "groups", "required", "timeout_s",
		"allow_self_approval", "requester_claim", "fields", NULL };
	struct cfg_approval *ap = &h->approval;
	char path[96];
	const char *s;
	long long v;
	int rc;

	if (!o)
		return 0;
	snprintf(path, sizeof path, "%s.approval", hp);
	if ((rc = cfgfield_only_keys(c, o, path, keys)))
		return rc;
	ap->enabled = 1;
	if (!h->async)
		return cfgfield_bad(c, path, "a hook with an approval must be async (\"job.mode\": "
		    "\"async\"): its job runs from the queue once approved");
	if ((rc = cfgfield_str(c, o, path, "channel", 0, &s)))
		return rc;
	if (s && !slack_id(s, "CG"))
		return cfgfield_bad(c, path, "\"channel\" must be a Slack channel id (C… or G…), not a name");
	if (s && !(ap->channel = strdup(s)))
		return -ENOMEM;
	if ((rc = id_list(c, o, path, "approvers", "UW", &ap->users, &ap->nusers)) ||
	    (rc = id_list(c, o, path, "groups", "S", &ap->groups, &ap->ngroups)))
		return rc;
	if (!ap->nusers && !ap->ngroups)
		return cfgfield_bad(c, path, "give at least one of \"approvers\" (Slack user ids) or "
		    "\"groups\" (Slack user group ids)");
	if ((rc = cfgfield_int(c, o, path, "required", 1, 100, 1, &v)))
		return rc;
	ap->required = (int)v;
	if (!ap->ngroups && (size_t)ap->required > ap->nusers)
		return cfgfield_bad(c, path, "\"required\" is %d but only %zu approver%s listed: it could "
		    "never be approved", ap->required, ap->nusers, ap->nusers == 1 ? " is" : "s are");
	if ((rc = cfgfield_int(c, o, path, "timeout_s", 1, 7 * 86400, 3600, &v)))
		return rc;
	ap->timeout_s = (int)v;
	if ((rc = cfgfield_bool(c, o, path, "allow_self_approval", &ap->allow_self)))
		return rc;
	if ((rc = cfgfield_str(c, o, path, "requester_claim", 0, &s)))
		return rc;
	if (s && !h->has_jwt)
		return cfgfield_bad(c, path, "\"requester_claim\" names a JWT claim, but the hook has no "
		    "\"jwt\"");
	if (s && !(ap->requester_claim = strdup(s)))
		return -ENOMEM;
	if (!s && !ap->allow_self)
		cfgfield_warn(c, path, "no \"requester_claim\": who asked is unknown, so self-approval "
		    "cannot be refused");
	return parse_fields(c, o, path, ap);
}

int approvalcfg_check(struct cfgfield_ctx *c, const struct config *cfg)
{
	char path[64];
	size_t i;

	for (i = 0; i < cfg->nhooks; i++) {
		const struct cfg_approval *ap = &cfg->hooks[i].approval;
		if (!ap->enabled)
			continue;
		snprintf(path, sizeof path, "hooks[%zu].approval", i);
		if (cfg->slack.present && !ap->channel)
			return cfgfield_bad(c, path, "missing \"channel\": the \"slack\" section is set, so "
			    "the request is posted to a channel");
		if (!cfg->slack.present)
			cfgfield_warn(c, path, "no \"slack\" section: approvals are decided only with "
			    "`webhook-runner approvals approve|deny`");
	}
	return 0;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void approvalcfg_clear_hook(struct cfg_approval *ap)
{
	size_t i;

	free(ap->channel);
	free_list(ap->users, ap->nusers);
	free_list(ap->groups, ap->ngroups);
	free(ap->requester_claim);
	for (i = 0; ap->fields && i < ap->nfields; i++) {
		free(ap->fields[i].label);
		free(ap->fields[i].text);
	}
	free(ap->fields);
	memset(ap, 0, sizeof *ap);
}

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void approvalcfg_clear_slack(struct cfg_slack *sl)
{
	wipe(sl->bot_token);
	wipe(sl->signing_secret);
	free(sl->api_url);
	memset(sl, 0, sizeof *sl);
}
