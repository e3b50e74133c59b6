/*
 * cfgfield.c — typed readers for one configuration field, with the field
 * named in every error, and the operator's warnings (contract in cfgfield.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfield.h"
#include "cfgtypes.h"
#include "../common/secret.h"

/* A warning for the operator (check-config prints it, the daemon logs it):
 * the config works, but something in it weakens what the daemon promises.
 * Out of memory drops the warning, never the config. */
void cfgfield_warn(struct cfgfield_ctx *c, const char *path, const char *fmt, ...)
{
	char msg[400], **nw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!(nw = realloc(c->cfg->warnings, (c->cfg->nwarnings + 1) * sizeof *nw)))
		return;
	c->cfg->warnings = nw;
	if (asprintf(&nw[c->cfg->nwarnings], "%s: %s", path, msg) >= 0)
		c->cfg->nwarnings++;
}

int cfgfield_bad(struct cfgfield_ctx *c, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s", path, msg);
	return -EINVAL;
}

int cfgfield_secret(struct cfgfield_ctx *c, const char *path, const char *ref, char **out)
{
	struct secret_info si;
	char msg[400];
	int rc = secret_resolve(ref, out, &si, msg, sizeof msg);

	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		return cfgfield_bad(c, path, "%s", msg);
	if (si.loose_mode)
		cfgfield_warn(c, path, "secret file %s can be read or written by group or others "
		    "(chmod 0600)", si.path);
	return 0;
}

/* Refuse fields not in ALLOWED (a NULL-terminated list). */
int cfgfield_only_keys(struct cfgfield_ctx *c, const cJSON *obj, const char *path,
    const char *const *allowed)
{
	const cJSON *it;
	const char *const *a;

	if (!cJSON_IsObject(obj))
		return cfgfield_bad(c, path, "must be an object");
	cJSON_ArrayForEach(it, obj) {
		const cJSON *dup;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, it->string))
				break;
		if (!*a)
			return cfgfield_bad(c, path, "unknown field \"%s\"", it->string);
		for (dup = it->next; dup; dup = dup->next)
			if (!strcmp(dup->string, it->string))
				return cfgfield_bad(c, path, "field \"%s\" appears twice", it->string);
	}
	return 0;
}

int cfgfield_str(struct cfgfield_ctx *c, const cJSON *obj, const char *path, const char *name,
    int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!v) {
		if (required)
			return cfgfield_bad(c, path, "missing required field \"%s\"", name);
		return 0;
	}
	if (!cJSON_IsString(v) || !*v->valuestring)
		return cfgfield_bad(c, path, "\"%s\" must be a non-empty string", name);
	*out = v->valuestring;
	return 0;
}

int cfgfield_int(struct cfgfield_ctx *c, const cJSON *obj, const char *path, const char *name,
    long long min, long long max, long long def, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = def;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v))
		return cfgfield_bad(c, path, "\"%s\" must be a whole number", name);
	/* Range first: casting 1e300 to long long is undefined behaviour. */
	if (v->valuedouble < (double)min || v->valuedouble > (double)max)
		return cfgfield_bad(c, path, "\"%s\" must be between %lld and %lld", name, min, max);
	if (v->valuedouble != (double)(long long)v->valuedouble)
		return cfgfield_bad(c, path, "\"%s\" must be a whole number", name);
	*out = (long long)v->valuedouble;
	return 0;
}

int cfgfield_bool(struct cfgfield_ctx *c, const cJSON *obj, const char *path, const char *name,
    int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return cfgfield_bad(c, path, "\"%s\" must be true or false", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* Absolute form of P, relative to the config file's directory. */
int cfgfield_path(struct cfgfield_ctx *c, const char *p, char **out)
{
	if (p[0] == '/')
		*out = strdup(p);
	else if (asprintf(out, "%s/%s", c->dir, p) < 0)
		*out = NULL;
	return *out ? 0 : -ENOMEM;
}
