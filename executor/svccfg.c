/*
 * svccfg.c — the executor service's configuration (contract and pattern
 * rules in svccfg.h). Every error names its field.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "../common/readfile.h"
#include "../common/secret.h"
#include "args.h"
#include "svccfg.h"

#define MAX_IDS 256
#define MAX_DESTS 256
#define MAX_UIDS 64

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Every key of OBJ is one of NAMES (NULL-terminated). */
static int only_keys(const cJSON *obj, const char *const *names, const char *where, char *err,
    size_t errlen)
{
	const cJSON *it;
	size_t i;

	cJSON_ArrayForEach(it, obj) {
		for (i = 0; names[i]; i++)
			if (!strcmp(it->string, names[i]))
				break;
		if (!names[i])
			return bad(err, errlen, "%s: unknown key \"%s\"", where, it->string);
	}
	return 0;
}

static int get_str(const cJSON *obj, const char *key, int required, char **out, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return bad(err, errlen, "%s: missing (a string)", key);
		return 0;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= PATH_MAX)
		return bad(err, errlen, "%s: must be a non-empty string", key);
	if (!(*out = strdup(v->valuestring)))
		return -ENOMEM;
	return 0;
}

/* An integer in [LO, HI] into *OUT, DEF when absent. */
static int get_int(const cJSON *obj, const char *key, int lo, int hi, int def, int *out,
    const char *where, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = def;
	if (!v)
		return 0;
	/* The range first: a cast of an out-of-range double is undefined. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return bad(err, errlen, "%s%s: must be an integer from %d to %d", where, key, lo, hi);
	*out = (int)v->valuedouble;
	return 0;
}

static int is_ip(const char *h)
{
	unsigned char b[16];

	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

static int parse_dest(const char *idname, const char *s, struct svccfg_dest *d, char *err,
    size_t errlen)
{
	struct args a;
	char e[256] = "";
	const char *h;
	int rc;

	memset(&a, 0, sizeof a);
	a.port = 22;
	memset(d, 0, sizeof *d);
	if (!strchr(s, '@'))
		return bad(err, errlen, "identities.%s.destinations: \"%s\" has no user@", idname, s);
	if ((rc = args_parse_dest(s, &a, e, sizeof e)) != 0) {
		args_clear(&a);
		if (rc == -ENOMEM)
			return rc;
		return bad(err, errlen, "identities.%s.destinations: %s", idname, e);
	}
	h = a.host;
	if (!strncmp(h, "*.", 2)) {
		d->wild = 1;
		h += 2;
	}
	if (!*h || strchr(h, '*') || (d->wild && is_ip(h))) {
		args_clear(&a);
		return bad(err, errlen,
		    "identities.%s.destinations: \"%s\": a host is exact or \"*.\" and a domain", idname,
		    s);
	}
	d->user = a.user;
	d->port = a.port;
	rc = (d->host = strdup(h)) ? 0 : -ENOMEM;
	a.user = NULL;
	args_clear(&a);
	return rc;
}

static int parse_ident(const cJSON *v, struct svccfg_ident *id, char *err, size_t errlen)
{
	static const char *const keys[] = { "key", "passphrase", "destinations", NULL };
	const cJSON *ds, *it;
	char where[128];
	size_t i, n;
	int rc;

	snprintf(where, sizeof where, "identities.%s", id->name);
	if (!cJSON_IsObject(v))
		return bad(err, errlen, "%s: must be an object", where);
	if ((rc = only_keys(v, keys, where, err, errlen)) != 0)
		return rc;
	if ((rc = get_str(v, "key", 1, &id->key, err, errlen)) != 0 ||
	    (rc = get_str(v, "passphrase", 0, &id->passphrase_ref, err, errlen)) != 0) {
		if (rc == -EINVAL) {
			char e2[256];
			snprintf(e2, sizeof e2, "%s", err);
			return bad(err, errlen, "%s.%s", where, e2);
		}
		return rc;
	}
	ds = cJSON_GetObjectItemCaseSensitive(v, "destinations");
	n = (size_t)cJSON_GetArraySize(ds);
	if (!cJSON_IsArray(ds) || n == 0 || n > MAX_DESTS)
		return bad(err, errlen, "%s.destinations: must be a list of 1 to %d user@host:port",
		    where, MAX_DESTS);
	if (!(id->dests = calloc(n, sizeof *id->dests)))
		return -ENOMEM;
	i = 0;
	cJSON_ArrayForEach(it, ds) {
		if (!cJSON_IsString(it))
			return bad(err, errlen, "%s.destinations: entries are strings", where);
		if ((rc = parse_dest(id->name, it->valuestring, &id->dests[i], err, errlen)) != 0)
			return rc;
		id->ndests = ++i;
	}
	return 0;
}

static int parse_root(const cJSON *root, struct svccfg *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "socket", "socket_mode", "allowed_uids", "known_hosts",
		"identities", "pool", "max_jobs", "drain_timeout_s", NULL };
	static const char *const pkeys[] = { "max_sessions_per_destination", "idle_timeout_s",
		"keepalive_s", "keepalive_max", NULL };
	const cJSON *v, *it, *pool;
	size_t i, n;
	int rc;

	if (!cJSON_IsObject(root))
		return bad(err, errlen, "the config must be a JSON object");
	if ((rc = only_keys(root, keys, "config", err, errlen)) != 0)
		return rc;
	if ((rc = get_str(root, "socket", 1, &c->socket, err, errlen)) != 0 ||
	    (rc = get_str(root, "known_hosts", 1, &c->known_hosts, err, errlen)) != 0)
		return rc;
	if (strlen(c->socket) >= 108 || c->socket[0] != '/')
		return bad(err, errlen, "socket: must be an absolute path under 108 bytes");
	c->socket_mode = 0660;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "socket_mode"))) {
		char *end = NULL;
		unsigned long m = cJSON_IsString(v) ? strtoul(v->valuestring, &end, 8) : 0;
		if (!cJSON_IsString(v) || !v->valuestring[0] || *end || m > 0777)
			return bad(err, errlen, "socket_mode: must be an octal string such as \"0660\"");
		c->socket_mode = (unsigned)m;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "allowed_uids");
	n = (size_t)cJSON_GetArraySize(v);
	if (!cJSON_IsArray(v) || n == 0 || n > MAX_UIDS)
		return bad(err, errlen, "allowed_uids: must be a list of 1 to %d uids", MAX_UIDS);
	if (!(c->uids = calloc(n, sizeof *c->uids)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble <= 4294967294.0) ||
		    it->valuedouble != (double)(long long)it->valuedouble)
			return bad(err, errlen, "allowed_uids: entries are uids (integers)");
		c->uids[c->nuids++] = (uid_t)it->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "identities");
	n = (size_t)cJSON_GetArraySize(v);
	if (!cJSON_IsObject(v) || n == 0 || n > MAX_IDS)
		return bad(err, errlen, "identities: must be an object of 1 to %d identities", MAX_IDS);
	if (!(c->ids = calloc(n, sizeof *c->ids)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, v) {
		struct svccfg_ident *id = &c->ids[c->nids];
		size_t k, len = strlen(it->string);
		for (k = 0; k < len; k++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
				it->string[k]))
				break;
		if (!len || len > XPROTO_IDENTITY_MAX || k < len)
			return bad(err, errlen, "identities: \"%.80s\" is not a name ([A-Za-z0-9._-], "
			    "at most %d)", it->string, XPROTO_IDENTITY_MAX);
		for (i = 0; i < c->nids; i++)
			if (!strcmp(c->ids[i].name, it->string))
				return bad(err, errlen, "identities: \"%s\" given twice", it->string);
		memcpy(id->name, it->string, len + 1);
		c->nids++;
		if ((rc = parse_ident(it, id, err, errlen)) != 0)
			return rc;
	}
	pool = cJSON_GetObjectItemCaseSensitive(root, "pool");
	if (pool && !cJSON_IsObject(pool))
		return bad(err, errlen, "pool: must be an object");
	if (pool && (rc = only_keys(pool, pkeys, "pool", err, errlen)) != 0)
		return rc;
	if ((rc = get_int(pool, "max_sessions_per_destination", 0, 64, 4, &c->max_sessions, "pool.",
		 err, errlen)) != 0 ||
	    (rc = get_int(pool, "idle_timeout_s", 1, 86400, 300, &c->idle_timeout_s, "pool.", err,
		 errlen)) != 0 ||
	    (rc = get_int(pool, "keepalive_s", 0, 3600, 15, &c->keepalive_s, "pool.", err, errlen)) != 0 ||
	    (rc = get_int(pool, "keepalive_max", 1, 100, 3, &c->keepalive_max, "pool.", err, errlen)) != 0 ||
	    (rc = get_int(root, "max_jobs", 1, 4096, 64, &c->max_jobs, "", err, errlen)) != 0 ||
	    (rc = get_int(root, "drain_timeout_s", 1, 86400, 60, &c->drain_timeout_s, "", err,
		 errlen)) != 0)
		return rc;
	return 0;
}

int svccfg_parse(const char *buf, size_t len, struct svccfg **out, char *err, size_t errlen)
{
	struct svccfg *c = NULL;
	cJSON *root = NULL;
	const char *end = NULL;
	int rc;

	*out = NULL;
	if (memchr(buf, '\0', len)) {
		rc = bad(err, errlen, "the config holds a NUL byte");
		goto out;
	}
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root) {
		rc = bad(err, errlen, "not valid JSON (near byte %ld)",
		    end ? (long)(end - buf) : (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - buf : 0));
		goto out;
	}
	while (end && (size_t)(end - buf) < len && strchr(" \t\r\n", *end))
		end++;
	if (end && (size_t)(end - buf) < len) {
		rc = bad(err, errlen, "text after the JSON object");
		goto out;
	}
	if (!(c = calloc(1, sizeof *c))) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = parse_root(root, c, err, errlen)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	cJSON_Delete(root);
	svccfg_free(c);
	/* Messages quote keys and values from the file: keep them one line. */
	for (end = err; rc && *end; end++)
		if ((unsigned char)*end < 0x20 || *end == 0x7f)
			err[end - err] = '?';
	return rc;
}

int svccfg_resolve(struct svccfg *c, char *err, size_t errlen)
{
	char e[512] = "", path[PATH_MAX];
	size_t i;
	int rc;

	for (i = 0; i < c->nids; i++) {
		struct svccfg_ident *id = &c->ids[i];
		if (!strncmp(id->key, "cred:", 5)) {
			if ((rc = secret_cred_path(id->key, path, sizeof path, e, sizeof e)) != 0) {
				snprintf(err, errlen, "identities.%s.key: %s", id->name, e);
				return rc;
			}
			id->key_path = strdup(path);
		} else if (id->key[0] != '/') {
			return bad(err, errlen, "identities.%s.key: an absolute path or cred:NAME",
			    id->name);
		} else {
			id->key_path = strdup(id->key);
		}
		if (!id->key_path)
			return -ENOMEM;
		if (id->passphrase_ref &&
		    (rc = secret_resolve(id->passphrase_ref, &id->passphrase, NULL, e, sizeof e)) != 0) {
			snprintf(err, errlen, "identities.%s.passphrase: %s", id->name, e);
			return rc;
		}
	}
	return 0;
}

int svccfg_load(const char *path, struct svccfg **out, char *err, size_t errlen)
{
	struct svccfg *c = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = readfile_read(path, SVCCFG_MAX_FILE, &buf, &len)) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    rc == -EFBIG ? "file too large" : strerror(-rc));
		return rc;
	}
	if ((rc = svccfg_parse(buf, len, &c, err, errlen)) != 0)
		goto out;
	if ((rc = svccfg_resolve(c, err, errlen)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	svccfg_free(c);
	free(buf);
	return rc;
}

void svccfg_free(struct svccfg *c)
{
	size_t i, k;

	if (!c)
		return;
	for (i = 0; i < c->nids; i++) {
		struct svccfg_ident *id = &c->ids[i];
		if (id->passphrase) {
			explicit_bzero(id->passphrase, strlen(id->passphrase));
			free(id->passphrase);
		}
		free(id->passphrase_ref);
		free(id->key);
		free(id->key_path);
		for (k = 0; k < id->ndests; k++) {
			free(id->dests[k].user);
			free(id->dests[k].host);
		}
		free(id->dests);
	}
	free(c->ids);
	free(c->uids);
	free(c->socket);
	free(c->known_hosts);
	free(c);
}

const struct svccfg_ident *svccfg_identity(const struct svccfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nids; i++)
		if (!strcmp(c->ids[i].name, name))
			return &c->ids[i];
	return NULL;
}

static int host_matches(const struct svccfg_dest *d, const char *host)
{
	size_t hl = strlen(host), sl = strlen(d->host);

	if (!d->wild)
		return !strcasecmp(d->host, host);
	/* "*.suffix": at least one label, then ".suffix"; never an address. */
	return hl > sl + 1 && host[hl - sl - 1] == '.' && host[0] != '.' &&
	    !strcasecmp(host + hl - sl, d->host) && !is_ip(host);
}

int svccfg_allows(const struct svccfg_ident *id, const char *user, const char *host, int port)
{
	size_t i;

	for (i = 0; i < id->ndests; i++)
		if (id->dests[i].port == port && !strcmp(id->dests[i].user, user) &&
		    host_matches(&id->dests[i], host))
			return 1;
	return 0;
}

int svccfg_uid_allowed(const struct svccfg *c, uid_t uid)
{
	size_t i;

	for (i = 0; i < c->nuids; i++)
		if (c->uids[i] == uid)
			return 1;
	return 0;
}
