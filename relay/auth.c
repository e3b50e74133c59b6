/*
 * auth.c — channel access (contract in auth.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/bearer.h"
#include "../common/readfile.h"
#include "../common/secret.h"
#include "auth.h"

#define CONFIG_MAX_BYTES (1 << 20)

static void wipe(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void rules_free(struct auth_rules *r)
{
	wipe(&r->token);
	wipe(&r->publish_token);
}

void auth_free(struct auth *a)
{
	size_t i;

	rules_free(&a->global);
	for (i = 0; i < a->nchans; i++)
		rules_free(&a->chans[i].r);
	free(a->chans);
	memset(a, 0, sizeof *a);
}

static int resolve(const char *ref, const char *what, char **out, char *err, size_t errlen)
{
	char why[300];
	int rc = secret_resolve(ref, out, NULL, why, sizeof why);

	if (rc)
		snprintf(err, errlen, "%.80s: %.200s", what, why);
	return rc;
}

/* "a/8,b/16" into R's allow-list. */
static int allow_list(struct auth_rules *r, const char *list, const char *what, char *err,
    size_t errlen)
{
	char item[64];
	const char *p = list, *comma;
	size_t n;

	while (*p) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof item || r->nallow >= AUTH_MAX_CIDRS) {
			snprintf(err, errlen, "%s: an empty or too long entry, or more than %d", what,
			    AUTH_MAX_CIDRS);
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (cidr_parse(item, &r->allow[r->nallow])) {
			snprintf(err, errlen, "%s: \"%s\" is not an address or CIDR block (host bits "
			    "past the prefix are refused)", what, item);
			return -EINVAL;
		}
		r->nallow++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int load_channel(struct auth_chan *c, const cJSON *o, char *err, size_t errlen)
{
	static const char *const known[] = { "token", "publish_token", "publish_allow", NULL };
	const cJSON *f;
	char what[128];
	size_t i;
	int rc;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "channels.%s: must be an object", c->name);
		return -EINVAL;
	}
	cJSON_ArrayForEach(f, o) {
		for (i = 0; known[i] && strcmp(known[i], f->string); i++)
			;
		if (!known[i]) {
			snprintf(err, errlen, "channels.%s.%s: unknown field", c->name, f->string);
			return -EINVAL;
		}
	}
	if ((f = cJSON_GetObjectItemCaseSensitive(o, "token"))) {
		snprintf(what, sizeof what, "channels.%s.token", c->name);
		if (!cJSON_IsString(f)) {
			snprintf(err, errlen, "%s: must be a secret reference (env:NAME, file:PATH, "
			    "cred:NAME)", what);
			return -EINVAL;
		}
		if ((rc = resolve(f->valuestring, what, &c->r.token, err, errlen)))
			return rc;
		c->has_token = 1;
	}
	if ((f = cJSON_GetObjectItemCaseSensitive(o, "publish_token"))) {
		snprintf(what, sizeof what, "channels.%s.publish_token", c->name);
		if (!cJSON_IsString(f)) {
			snprintf(err, errlen, "%s: must be a secret reference (env:NAME, file:PATH, "
			    "cred:NAME)", what);
			return -EINVAL;
		}
		if ((rc = resolve(f->valuestring, what, &c->r.publish_token, err, errlen)))
			return rc;
		c->has_publish_token = 1;
	}
	if ((f = cJSON_GetObjectItemCaseSensitive(o, "publish_allow"))) {
		const cJSON *e;

		snprintf(what, sizeof what, "channels.%s.publish_allow", c->name);
		if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) == 0) {
			snprintf(err, errlen, "%s: must be a non-empty array of CIDR blocks", what);
			return -EINVAL;
		}
		cJSON_ArrayForEach(e, f) {
			if (!cJSON_IsString(e) || strchr(e->valuestring, ',')) {
				snprintf(err, errlen, "%s: each entry must be one CIDR block", what);
				return -EINVAL;
			}
			if ((rc = allow_list(&c->r, e->valuestring, what, err, errlen)))
				return rc;
		}
		c->has_allow = 1;
	}
	return 0;
}

static int load_file(struct auth *a, const char *path, char *err, size_t errlen)
{
	char *text = NULL, why[300];
	size_t len = 0, n = 0;
	cJSON *root = NULL;
	const cJSON *f, *chans;
	int rc;

	if ((rc = readfile_read(path, CONFIG_MAX_BYTES, &text, &len))) {
		snprintf(err, errlen, "--config %s: %s", path, strerror(-rc));
		goto out;
	}
	rc = -EINVAL;
	if (!(root = cJSON_ParseWithLength(text, len)) || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "--config %s: not a JSON object", path);
		goto out;
	}
	cJSON_ArrayForEach(f, root) {
		if (strcmp(f->string, "channels") && strcmp(f->string, "unknown_channels")) {
			snprintf(err, errlen, "--config %s: %s: unknown field", path, f->string);
			goto out;
		}
	}
	if ((f = cJSON_GetObjectItemCaseSensitive(root, "unknown_channels"))) {
		if (!cJSON_IsBool(f)) {
			snprintf(err, errlen, "--config %s: unknown_channels: must be true or false", path);
			goto out;
		}
		a->unknown_ok = cJSON_IsTrue(f);
	}
	chans = cJSON_GetObjectItemCaseSensitive(root, "channels");
	if (chans && !cJSON_IsObject(chans)) {
		snprintf(err, errlen, "--config %s: channels: must be an object", path);
		goto out;
	}
	n = chans ? (size_t)cJSON_GetArraySize(chans) : 0;
	if (n > AUTH_MAX_CHANNELS) {
		snprintf(err, errlen, "--config %s: channels: more than %d", path, AUTH_MAX_CHANNELS);
		goto out;
	}
	if (n && !(a->chans = calloc(n, sizeof *a->chans))) {
		rc = -ENOMEM;
		goto out;
	}
	if (chans) {
		cJSON_ArrayForEach(f, chans) {
			struct auth_chan *c = &a->chans[a->nchans];

			if (!chan_valid(f->string)) {
				snprintf(err, errlen, "--config %s: channels.%.64s: not a channel name "
				    "(1..64 of A-Z a-z 0-9 . _ -)", path, f->string);
				goto out;
			}
			snprintf(c->name, sizeof c->name, "%s", f->string);
			a->nchans++;
			if ((rc = load_channel(c, f, why, sizeof why))) {
				snprintf(err, errlen, "--config %s: %s", path, why);
				goto out;
			}
		}
	}
	a->have_file = 1;
	rc = 0;
out:
	cJSON_Delete(root);
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	return rc;
}

static const struct auth_chan *find(const struct auth *a, const char *channel)
{
	size_t i;

	for (i = 0; i < a->nchans; i++)
		if (!strcmp(a->chans[i].name, channel))
			return &a->chans[i];
	return NULL;
}

int auth_load(struct auth *a, const struct auth_args *args, char *err, size_t errlen)
{
	size_t i;
	int rc = 0;

	a->open = args->open;
	if (args->token_ref && (rc = resolve(args->token_ref, "--token", &a->global.token, err,
	    errlen)))
		goto out;
	if (args->publish_token_ref && (rc = resolve(args->publish_token_ref, "--publish-token",
	    &a->global.publish_token, err, errlen)))
		goto out;
	if (args->publish_allow && (rc = allow_list(&a->global, args->publish_allow,
	    "--publish-allow", err, errlen)))
		goto out;
	if (args->config_path && (rc = load_file(a, args->config_path, err, errlen)))
		goto out;
	if (!a->open && !a->global.token) {
		int every = a->have_file && !a->unknown_ok;

		for (i = 0; every && i < a->nchans; i++)
			every = a->chans[i].has_token;
		if (!every) {
			snprintf(err, errlen, "no subscribe token for %s: set --token or RELAY_TOKEN (a "
			    "secret reference, env:NAME or file:PATH), give each channel a \"token\" "
			    "in --config, or pass --open to let anyone subscribe",
			    a->have_file && !a->unknown_ok ? "every channel in --config" :
			    "the channels it serves");
			rc = -EPERM;
			goto out;
		}
	}
out:
	if (rc)
		auth_free(a);
	return rc;
}

/* The rules CHANNEL falls under, or NULL for an unknown channel. */
static const struct auth_rules *pick(const struct auth *a, const char *channel,
    const struct auth_chan **c)
{
	*c = find(a, channel);
	if (!*c && a->have_file && !a->unknown_ok)
		return NULL;
	return &a->global;
}

enum auth_verdict auth_subscribe(const struct auth *a, const char *channel, const char *token)
{
	const struct auth_chan *c;
	const struct auth_rules *g = pick(a, channel, &c);
	const char *want;

	if (!g)
		return AUTH_UNKNOWN;
	want = c && c->has_token ? c->r.token : g->token;
	if (!want)
		return a->open ? AUTH_OK : AUTH_MISSING;
	if (!token || !*token)
		return AUTH_MISSING;
	return bearer_equal(token, want) ? AUTH_OK : AUTH_WRONG;
}

enum auth_verdict auth_publish(const struct auth *a, const char *channel, const char *token,
    const char *peer, int *used_token)
{
	const struct auth_chan *c;
	const struct auth_rules *g = pick(a, channel, &c), *ar;
	const char *want;
	size_t i;

	*used_token = 0;
	if (!g)
		return AUTH_UNKNOWN;
	ar = c && c->has_allow ? &c->r : g;
	if (ar->nallow) {
		for (i = 0; i < ar->nallow && !cidr_match(&ar->allow[i], peer); i++)
			;
		if (i == ar->nallow)
			return AUTH_ADDRESS;
	}
	want = c && c->has_publish_token ? c->r.publish_token : g->publish_token;
	if (!want)
		return AUTH_OK;
	*used_token = 1;
	if (!token || !*token)
		return AUTH_MISSING;
	return bearer_equal(token, want) ? AUTH_OK : AUTH_WRONG;
}

const char *auth_verdict_error(enum auth_verdict v)
{
	switch (v) {
	case AUTH_OK: return "ok";
	case AUTH_UNKNOWN: return "unknown channel";
	case AUTH_MISSING: return "missing token: send Authorization: Bearer <token>";
	case AUTH_WRONG: return "wrong token";
	case AUTH_ADDRESS: return "this address may not publish on this channel";
	}
	return "refused";
}

int auth_verdict_status(enum auth_verdict v)
{
	switch (v) {
	case AUTH_OK: return 200;
	case AUTH_UNKNOWN: return 404;
	case AUTH_MISSING: return 401;
	case AUTH_WRONG: return 403;
	case AUTH_ADDRESS: return 403;
	}
	return 403;
}
