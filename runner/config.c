/*
 * config.c — load, validate and compile the daemon's JSON configuration
 * (contract in config.h). Every error names the field at fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "secret.h"
#include "../common/readfile.h"

#define CONFIG_MAX_BYTES (1u << 20)

struct ctx {
	char *err;
	size_t errlen;
	char *dir; /* the config file's directory */
	struct config *cfg;
};

/* A warning for the operator (check-config prints it, the daemon logs it):
 * the config works, but something in it weakens what the daemon promises.
 * Out of memory drops the warning, never the config. */
static void warn(struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct ctx *c, const char *path, const char *fmt, ...)
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

static int bad(struct ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s", path, msg);
	return -EINVAL;
}

static int resolve(struct ctx *c, const char *path, const char *ref, char **out)
{
	struct secret_info si;
	char msg[400];
	int rc = secret_resolve(ref, out, &si, msg, sizeof msg);

	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		return bad(c, path, "%s", msg);
	if (si.loose_mode)
		warn(c, path, "secret file %s can be read or written by group or others (chmod 0600)",
		    si.path);
	return 0;
}

/* Refuse fields not in ALLOWED (a NULL-terminated list). */
static int only_keys(struct ctx *c, const cJSON *obj, const char *path, const char *const *allowed)
{
	const cJSON *it;
	const char *const *a;

	if (!cJSON_IsObject(obj))
		return bad(c, path, "must be an object");
	cJSON_ArrayForEach(it, obj) {
		const cJSON *dup;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, it->string))
				break;
		if (!*a)
			return bad(c, path, "unknown field \"%s\"", it->string);
		for (dup = it->next; dup; dup = dup->next)
			if (!strcmp(dup->string, it->string))
				return bad(c, path, "field \"%s\" appears twice", it->string);
	}
	return 0;
}

static int get_str(struct ctx *c, const cJSON *obj, const char *path, const char *name,
    int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!v) {
		if (required)
			return bad(c, path, "missing required field \"%s\"", name);
		return 0;
	}
	if (!cJSON_IsString(v) || !*v->valuestring)
		return bad(c, path, "\"%s\" must be a non-empty string", name);
	*out = v->valuestring;
	return 0;
}

static int get_int(struct ctx *c, const cJSON *obj, const char *path, const char *name,
    long long min, long long max, long long def, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = def;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v))
		return bad(c, path, "\"%s\" must be a whole number", name);
	/* Range first: casting 1e300 to long long is undefined behaviour. */
	if (v->valuedouble < (double)min || v->valuedouble > (double)max)
		return bad(c, path, "\"%s\" must be between %lld and %lld", name, min, max);
	if (v->valuedouble != (double)(long long)v->valuedouble)
		return bad(c, path, "\"%s\" must be a whole number", name);
	*out = (long long)v->valuedouble;
	return 0;
}

static int get_bool(struct ctx *c, const cJSON *obj, const char *path, const char *name, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return bad(c, path, "\"%s\" must be true or false", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* Absolute form of P, relative to the config file's directory. */
static int abs_path(struct ctx *c, const char *p, char **out)
{
	if (p[0] == '/')
		*out = strdup(p);
	else if (asprintf(out, "%s/%s", c->dir, p) < 0)
		*out = NULL;
	return *out ? 0 : -ENOMEM;
}

static int parse_signature(struct ctx *c, const cJSON *sig, const char *hp, struct cfg_hook *h)
{
	static const char *const keys[] = { "scheme", "secrets", "tolerance_s", NULL };
	char path[96], ipath[112];
	const char *scheme;
	const cJSON *secrets, *it;
	long long v;
	int rc, n;

	snprintf(path, sizeof path, "%s.signature", hp);
	if (!sig)
		return bad(c, hp, "missing required field \"signature\" (every hook is signed)");
	if ((rc = only_keys(c, sig, path, keys)) || (rc = get_str(c, sig, path, "scheme", 1, &scheme)))
		return rc;
	if (vhmac_scheme_parse(scheme, &h->scheme) != 0)
		return bad(c, path, "unknown scheme \"%s\" (hookdeck, github, standard-webhooks)", scheme);
	if ((rc = get_int(c, sig, path, "tolerance_s", 1, 86400, 300, &v)))
		return rc;
	h->tolerance_s = (int)v;
	secrets = cJSON_GetObjectItemCaseSensitive(sig, "secrets");
	n = cJSON_GetArraySize(secrets);
	if (!cJSON_IsArray(secrets) || n < 1 || n > 8)
		return bad(c, path, "\"secrets\" must be a list of 1 to 8 secret references");
	if (!(h->secrets = calloc((size_t)n, sizeof *h->secrets)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, secrets) {
		char *val = NULL;
		snprintf(ipath, sizeof ipath, "%s.secrets[%zu]", path, h->nsecrets);
		if (!cJSON_IsString(it))
			return bad(c, ipath, "must be a string");
		if ((rc = resolve(c, ipath, it->valuestring, &val)))
			return rc;
		rc = vhmac_secret_from_string(h->scheme, val, &h->secrets[h->nsecrets]);
		explicit_bzero(val, strlen(val));
		free(val);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			return bad(c, ipath, "%s", h->scheme == VHMAC_STANDARD ?
			    "standard-webhooks secrets are \"whsec_\" followed by base64" : "invalid secret");
		h->nsecrets++;
	}
	return 0;
}

static int parse_jwt(struct ctx *c, const cJSON *j, const char *hp, struct cfg_hook *h)
{
	static const char *const keys[] = { "algorithms", "key", "token", "issuer", "audience",
		"subject", "claims", "leeway_s", "single_use", NULL };
	static const char *const tkeys[] = { "header", "query", NULL };
	struct vjwt_policy *p = &h->jwt;
	char path[96], sub[128];
	const cJSON *algs, *it, *tok, *claims;
	const char *s;
	char *key = NULL;
	long long v;
	int rc, hmac = 0, pub = 0;

	snprintf(path, sizeof path, "%s.jwt", hp);
	if ((rc = only_keys(c, j, path, keys)))
		return rc;
	h->has_jwt = 1;
	algs = cJSON_GetObjectItemCaseSensitive(j, "algorithms");
	snprintf(sub, sizeof sub, "%s.algorithms", path);
	if (!cJSON_IsArray(algs) || cJSON_GetArraySize(algs) < 1)
		return bad(c, sub, "must be a non-empty list (e.g. [\"HS256\"] or [\"RS256\"])");
	cJSON_ArrayForEach(it, algs) {
		unsigned bit = cJSON_IsString(it) ? vjwt_alg_bit(it->valuestring) : 0;
		if (!bit)
			return bad(c, sub, "unknown algorithm \"%s\" (HS256/384/512, RS256/384/512, "
					   "ES256/384/512)", cJSON_IsString(it) ? it->valuestring : "?");
		p->algs |= bit;
		if (vjwt_alg_kind(bit) == VJWT_KEY_HMAC)
			hmac = 1;
		else
			pub = 1;
	}
	if (hmac && pub)
		return bad(c, sub, "cannot mix HMAC (HS*) and public-key algorithms: one key serves one kind");
	if ((rc = get_str(c, j, path, "key", 1, &s)))
		return rc;
	snprintf(sub, sizeof sub, "%s.key", path);
	if ((rc = resolve(c, sub, s, &key)))
		return rc;
	p->key = (unsigned char *)key;
	p->keylen = strlen(key);
	if (hmac) {
		p->kind = VJWT_KEY_HMAC;
		if (p->keylen < 32)
			return bad(c, sub, "HMAC key must be at least 32 bytes");
	} else {
		enum vjwt_key_kind kind;
		if (vjwt_pem_kind(p->key, p->keylen, &kind) != 0)
			return bad(c, sub, "not a PEM public key (RSA or EC)");
		it = NULL;
		cJSON_ArrayForEach(it, algs)
			if (vjwt_alg_kind(vjwt_alg_bit(it->valuestring)) != kind)
				return bad(c, sub, "key is %s but algorithm %s needs %s",
				    kind == VJWT_KEY_RSA ? "RSA" : "EC", it->valuestring,
				    kind == VJWT_KEY_RSA ? "EC" : "RSA");
		p->kind = kind;
	}
	tok = cJSON_GetObjectItemCaseSensitive(j, "token");
	h->token_from = TOKEN_BEARER;
	if (tok) {
		const char *hn, *qn;
		snprintf(sub, sizeof sub, "%s.token", path);
		if ((rc = only_keys(c, tok, sub, tkeys)) || (rc = get_str(c, tok, sub, "header", 0, &hn)) ||
		    (rc = get_str(c, tok, sub, "query", 0, &qn)))
			return rc;
		if (!!hn == !!qn)
			return bad(c, sub, "give exactly one of \"header\" or \"query\"");
		h->token_from = hn ? TOKEN_HEADER : TOKEN_QUERY;
		if (!(h->token_name = strdup(hn ? hn : qn)))
			return -ENOMEM;
	}
	if ((rc = get_str(c, j, path, "issuer", 0, &s)) || (s && !(p->iss = strdup(s))) ||
	    (rc = get_str(c, j, path, "audience", 0, &s)) || (s && !(p->aud = strdup(s))) ||
	    (rc = get_str(c, j, path, "subject", 0, &s)) || (s && !(p->sub = strdup(s))))
		return rc ? rc : -ENOMEM;
	if ((rc = get_int(c, j, path, "leeway_s", 0, 600, 30, &v)))
		return rc;
	p->leeway_s = (int)v;
	if ((rc = get_bool(c, j, path, "single_use", &p->single_use)))
		return rc;
	claims = cJSON_GetObjectItemCaseSensitive(j, "claims");
	if (claims) {
		snprintf(sub, sizeof sub, "%s.claims", path);
		if (!cJSON_IsObject(claims))
			return bad(c, sub, "must be an object of claim names to string values");
		if (!(p->claims = calloc((size_t)cJSON_GetArraySize(claims) + 1, sizeof *p->claims)))
			return -ENOMEM;
		cJSON_ArrayForEach(it, claims) {
			if (!cJSON_IsString(it))
				return bad(c, sub, "claim \"%s\" must be a string", it->string);
			p->claims[p->nclaims].name = strdup(it->string);
			p->claims[p->nclaims].value = strdup(it->valuestring);
			if (!p->claims[p->nclaims].name || !p->claims[p->nclaims].value)
				return -ENOMEM;
			p->nclaims++;
		}
	}
	return 0;
}

static int parse_idem(struct ctx *c, const cJSON *idem, const char *hp, struct cfg_hook *h)
{
	static const char *const defaults[] = { "Idempotency-Key", "x-hookdeck-eventid",
		"X-GitHub-Delivery", "webhook-id" };
	static const char *const keys[] = { "headers", "dedupe_body", NULL };
	static const char *const signed_id[] = { "webhook-id" };
	const char *const *names = defaults;
	const cJSON *list = NULL, *it;
	char path[96];
	size_t i, n;
	int rc;

	snprintf(path, sizeof path, "%s.idempotency", hp);
	h->dedupe_body = h->scheme != VHMAC_STANDARD;
	if (idem) {
		if ((rc = only_keys(c, idem, path, keys)))
			return rc;
		if (h->scheme == VHMAC_STANDARD && cJSON_GetArraySize(idem) > 0)
			return bad(c, path, "standard-webhooks signs the webhook-id header, and that id "
					    "is always the key: nothing here applies");
		list = cJSON_GetObjectItemCaseSensitive(idem, "headers");
		if (list && (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
		    cJSON_GetArraySize(list) > 8))
			return bad(c, path, "\"headers\" must be a list of 1 to 8 header names");
		if ((rc = get_bool(c, idem, path, "dedupe_body", &h->dedupe_body)))
			return rc;
	}
	n = list ? (size_t)cJSON_GetArraySize(list) : sizeof defaults / sizeof defaults[0];
	if (h->scheme == VHMAC_STANDARD) {
		names = signed_id;
		n = 1;
	}
	if (!(h->idem_headers = calloc(n, sizeof *h->idem_headers)))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *name = names[i];
		if (list) {
			it = cJSON_GetArrayItem(list, (int)i);
			if (!cJSON_IsString(it) || !*it->valuestring)
				return bad(c, path, "headers[%zu] must be a header name", i);
			name = it->valuestring;
		}
		if (!(h->idem_headers[i] = strdup(name)))
			return -ENOMEM;
		h->nidem++;
	}
	return 0;
}

/* user@host[:port] -> the executor's destination and the cap's key. */
static int parse_destination(struct ctx *c, const char *path, const char *d, struct cfg_hook *h)
{
	const char *at = strchr(d, '@'), *host, *colon;
	char *end;
	long port = 22;
	size_t hl;

	if (!at || at == d || strchr(at + 1, '@'))
		return bad(c, path, "must be user@host or user@host:port");
	host = at + 1;
	colon = strrchr(host, ':');
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return bad(c, path, "bad IPv6 destination");
		colon = rb[1] ? rb + 1 : NULL;
	} else if (colon && strchr(host, ':') != colon) {
		colon = NULL;
	}
	hl = colon ? (size_t)(colon - host) : strlen(host);
	if (hl == 0 || hl > 253 || host[0] == '-' || strpbrk(host, " \t/"))
		return bad(c, path, "bad host");
	if (colon) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || *end || port < 1 || port > 65535 || !colon[1])
			return bad(c, path, "bad port");
	}
	if (strpbrk(d, " \t\n") || d[0] == '-')
		return bad(c, path, "must not contain spaces or start with '-'");
	if (!(h->destination = strdup(d)) ||
	    asprintf(&h->dest_key, "%.*s:%ld", (int)hl, host, port) < 0) {
		h->dest_key = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int parse_job(struct ctx *c, const cJSON *job, const char *hp, struct cfg_hook *h)
{
	static const char *const keys[] = { "destination", "identity", "known_hosts", "passphrase",
		"command", "params", "timeout_s", "connect_timeout_s", "handshake_timeout_s",
		"max_output_bytes", "output_tail_bytes", "response_output", "mode", "remote_timeout", NULL };
	char path[96], sub[128], terr[400];
	const char *s;
	long long v;
	int rc;

	snprintf(path, sizeof path, "%s.job", hp);
	if (!job)
		return bad(c, hp, "missing required field \"job\"");
	if ((rc = only_keys(c, job, path, keys)))
		return rc;
	snprintf(sub, sizeof sub, "%s.destination", path);
	if ((rc = get_str(c, job, path, "destination", 1, &s)) || (rc = parse_destination(c, sub, s, h)))
		return rc;
	if ((rc = get_str(c, job, path, "identity", 1, &s)) || (rc = abs_path(c, s, &h->identity)) ||
	    (rc = get_str(c, job, path, "known_hosts", 1, &s)) || (rc = abs_path(c, s, &h->known_hosts)))
		return rc;
	if (secret_mode_loose(h->identity)) {
		snprintf(sub, sizeof sub, "%s.identity", path);
		warn(c, sub, "private key %s can be read or written by group or others (chmod 0600)",
		    h->identity);
	}
	if ((rc = get_str(c, job, path, "passphrase", 0, &s)))
		return rc;
	if (s) {
		snprintf(sub, sizeof sub, "%s.passphrase", path);
		if ((rc = resolve(c, sub, s, &h->passphrase)))
			return rc;
	}
	if ((rc = get_str(c, job, path, "mode", 0, &s)))
		return rc;
	if (s && strcmp(s, "sync") != 0 && strcmp(s, "async") != 0)
		return bad(c, path, "\"mode\" must be \"sync\" or \"async\" (got \"%s\")", s);
	h->async = s && !strcmp(s, "async");
	if ((rc = get_str(c, job, path, "command", 1, &s)))
		return rc;
	rc = tmpl_compile(s, cJSON_GetObjectItemCaseSensitive(job, "params"), &h->tmpl, terr, sizeof terr);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		/* TERR starts with the field under the job ("params.ref.pattern: …"). */
		snprintf(c->err, c->errlen, "%s.%s", path, terr);
		return -EINVAL;
	}
	if ((rc = get_int(c, job, path, "timeout_s", 1, 86400, 300, &v)))
		return rc;
	h->timeout_ms = v * 1000;
	if ((rc = get_int(c, job, path, "connect_timeout_s", 1, 300, 10, &v)))
		return rc;
	h->connect_timeout_ms = v * 1000;
	if ((rc = get_int(c, job, path, "handshake_timeout_s", 1, 300, 10, &v)))
		return rc;
	h->handshake_timeout_ms = v * 1000;
	if ((rc = get_int(c, job, path, "max_output_bytes", 0, 1LL << 30, 1 << 20, &v)))
		return rc;
	h->max_output_bytes = (size_t)v;
	if ((rc = get_int(c, job, path, "output_tail_bytes", 0, 1 << 20, 4096, &v)))
		return rc;
	h->output_tail_bytes = (size_t)v;
	h->remote_timeout = 1;
	if ((rc = get_bool(c, job, path, "remote_timeout", &h->remote_timeout)))
		return rc;
	return get_bool(c, job, path, "response_output", &h->response_output);
}

static int parse_hook(struct ctx *c, const cJSON *o, size_t i, struct config *cfg)
{
	static const char *const keys[] = { "id", "signature", "jwt", "idempotency", "job", NULL };
	struct cfg_hook *h = &cfg->hooks[i];
	char hp[48];
	const char *id, *p;
	size_t k;
	int rc;

	snprintf(hp, sizeof hp, "hooks[%zu]", i);
	if ((rc = only_keys(c, o, hp, keys)) || (rc = get_str(c, o, hp, "id", 1, &id)))
		return rc;
	if (strlen(id) > 64)
		return bad(c, hp, "\"id\" is longer than 64 characters");
	for (p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.'))
			return bad(c, hp, "\"id\" may only hold letters, digits, '-', '_' and '.'");
	for (k = 0; k < i; k++)
		if (!strcmp(cfg->hooks[k].id, id))
			return bad(c, hp, "\"id\" \"%s\" is already used by hooks[%zu]", id, k);
	if (!(h->id = strdup(id)))
		return -ENOMEM;
	if ((rc = parse_signature(c, cJSON_GetObjectItemCaseSensitive(o, "signature"), hp, h)))
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(o, "jwt") &&
	    (rc = parse_jwt(c, cJSON_GetObjectItemCaseSensitive(o, "jwt"), hp, h)))
		return rc;
	if ((rc = parse_idem(c, cJSON_GetObjectItemCaseSensitive(o, "idempotency"), hp, h)))
		return rc;
	if ((rc = parse_job(c, cJSON_GetObjectItemCaseSensitive(o, "job"), hp, h)))
		return rc;
	if (h->scheme != VHMAC_STANDARD && tmpl_header_param(h->tmpl))
		warn(c, hp, "the command reads header %s, which the %s signature does not cover: "
		    "whoever captured a delivery can send it again with another value there",
		    tmpl_header_param(h->tmpl), vhmac_scheme_name(h->scheme));
	if (h->scheme != VHMAC_STANDARD && !h->dedupe_body && !(h->has_jwt && h->jwt.single_use))
		warn(c, hp, "idempotency.dedupe_body is off and jwt.single_use is not on: a captured "
		    "delivery runs again under any new idempotency key");
	return 0;
}

static int share_secret(const struct cfg_hook *a, const struct cfg_hook *b)
{
	size_t i, k;

	for (i = 0; i < a->nsecrets; i++)
		for (k = 0; k < b->nsecrets; k++)
			if (a->secrets[i].len == b->secrets[k].len &&
			    !memcmp(a->secrets[i].key, b->secrets[k].key, a->secrets[i].len))
				return 1;
	return 0;
}

/* Each hook's token proves it was meant for that hook: both have a JWT
 * policy, and their keys or audiences differ. */
static int tokens_tell_apart(const struct cfg_hook *a, const struct cfg_hook *b)
{
	if (!a->has_jwt || !b->has_jwt)
		return 0;
	if (a->jwt.keylen != b->jwt.keylen || memcmp(a->jwt.key, b->jwt.key, a->jwt.keylen))
		return 1;
	return a->jwt.aud && b->jwt.aud && strcmp(a->jwt.aud, b->jwt.aud);
}

/* A delivery signed for one hook verifies on every hook that accepts the
 * same secret (Hookdeck's is one per project): a captured one can be sent to
 * the other hook, unless something else binds it to its own. */
static void warn_shared_secrets(struct ctx *c, const struct config *cfg)
{
	char path[48];
	size_t i, k;

	for (i = 0; i < cfg->nhooks; i++)
		for (k = i + 1; k < cfg->nhooks; k++)
			if (share_secret(&cfg->hooks[i], &cfg->hooks[k]) &&
			    !tokens_tell_apart(&cfg->hooks[i], &cfg->hooks[k])) {
				snprintf(path, sizeof path, "hooks[%zu]", k);
				warn(c, path, "accepts a signing secret of hooks[%zu] (\"%s\"), and nothing "
				    "tells their deliveries apart: one signed for either is accepted by both; "
				    "give each hook a JWT with its own audience (or key), or its own secret",
				    i, cfg->hooks[i].id);
			}
}

/* FIELD's "host:port", "[v6]:port" or ":port" into *HOST (replaced) and
 * *PORT. */
static int parse_listen(struct ctx *c, const char *field, const char *s, char **host, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	if (!colon || !colon[1])
		return bad(c, field, "must be host:port (e.g. 0.0.0.0:8080 or [::1]:8080)");
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || p < 1 || p > 65535)
		return bad(c, field, "bad port in \"%s\"", s);
	free(*host);
	if (s[0] == '[' && colon > s && colon[-1] == ']')
		*host = strndup(s + 1, (size_t)(colon - s - 2));
	else
		*host = strndup(s, (size_t)(colon - s));
	if (!*host)
		return -ENOMEM;
	if (!**host) {
		free(*host);
		if (!(*host = strdup("0.0.0.0")))
			return -ENOMEM;
	}
	*port = (int)p;
	return 0;
}

/* server.tls_cert/tls_key: a path (relative to the config's directory) or
 * cred:NAME, a file systemd's LoadCredential= provides. Read at start. */
static int tls_file(struct ctx *c, const char *field, const char *s, char **out)
{
	char path[PATH_MAX], msg[PATH_MAX + 100];

	if (strncmp(s, "cred:", 5) != 0)
		return abs_path(c, s, out);
	if (secret_cred_path(s, path, sizeof path, msg, sizeof msg) != 0)
		return bad(c, field, "%s", msg);
	return (*out = strdup(path)) ? 0 : -ENOMEM;
}

static int parse_root(struct ctx *c, const cJSON *root, struct config *cfg)
{
	static const char *const keys[] = { "server", "store", "executor", "log", "hooks", NULL };
	static const char *const skeys[] = { "listen", "tls_cert", "tls_key", "max_body_bytes",
		"request_timeout_ms", "threads", "drain_timeout_s", "read_token", "metrics_token",
		"ops_listen", "keepalive_timeout_ms", "min_request_rate", NULL };
	static const char *const stkeys[] = { "path", "retention_days", NULL };
	static const char *const ekeys[] = { "path", "max_jobs", "max_per_destination", "max_queued", NULL };
	static const char *const lkeys[] = { "level", "format", NULL };
	const cJSON *o, *hooks, *it;
	const char *s;
	long long v;
	size_t i = 0;
	int rc;

	if ((rc = only_keys(c, root, "(top level)", keys)))
		return rc;
	o = cJSON_GetObjectItemCaseSensitive(root, "server");
	if (o && (rc = only_keys(c, o, "server", skeys)))
		return rc;
	if ((rc = get_str(c, o, "server", "listen", 0, &s)) ||
	    (rc = parse_listen(c, "server.listen", s ? s : "0.0.0.0:8080", &cfg->listen_host, &cfg->port)))
		return rc;
	if ((rc = get_str(c, o, "server", "ops_listen", 0, &s)) ||
	    (s && (rc = parse_listen(c, "server.ops_listen", s, &cfg->ops_host, &cfg->ops_port))))
		return rc;
	if (cfg->ops_host && cfg->ops_port == cfg->port && !strcmp(cfg->ops_host, cfg->listen_host))
		return bad(c, "server.ops_listen", "must differ from server.listen");
	if ((rc = get_str(c, o, "server", "tls_cert", 0, &s)) ||
	    (s && (rc = tls_file(c, "server.tls_cert", s, &cfg->tls_cert))) ||
	    (rc = get_str(c, o, "server", "tls_key", 0, &s)) ||
	    (s && (rc = tls_file(c, "server.tls_key", s, &cfg->tls_key))))
		return rc;
	if (!cfg->tls_cert != !cfg->tls_key)
		return bad(c, "server", "\"tls_cert\" and \"tls_key\" go together");
	if (cfg->tls_key && secret_mode_loose(cfg->tls_key))
		warn(c, "server.tls_key", "private key %s can be read or written by group or others "
		    "(chmod 0600)", cfg->tls_key);
	if ((rc = get_int(c, o, "server", "max_body_bytes", 1, 64LL << 20, 1 << 20, &v)))
		return rc;
	cfg->max_body_bytes = (size_t)v;
	if ((rc = get_int(c, o, "server", "request_timeout_ms", 100, 600000, 10000, &v)))
		return rc;
	cfg->request_timeout_ms = (int)v;
	if ((rc = get_int(c, o, "server", "keepalive_timeout_ms", 100, 600000, 2000, &v)))
		return rc;
	cfg->keepalive_timeout_ms = (int)v;
	if ((rc = get_int(c, o, "server", "min_request_rate", 0, 1LL << 30, 1024, &v)))
		return rc;
	cfg->min_request_rate = (int)v;
	if ((rc = get_int(c, o, "server", "threads", 2, 1024, 32, &v)))
		return rc;
	cfg->threads = (int)v;
	if ((rc = get_int(c, o, "server", "drain_timeout_s", 0, 86400, 30, &v)))
		return rc;
	cfg->drain_timeout_s = (int)v;
	if ((rc = get_str(c, o, "server", "read_token", 0, &s)))
		return rc;
	if (s) {
		if ((rc = resolve(c, "server.read_token", s, &cfg->read_token)))
			return rc;
		if (strlen(cfg->read_token) < 16)
			return bad(c, "server.read_token", "must be at least 16 characters");
	}
	if ((rc = get_str(c, o, "server", "metrics_token", 0, &s)))
		return rc;
	if (s) {
		if ((rc = resolve(c, "server.metrics_token", s, &cfg->metrics_token)))
			return rc;
		if (strlen(cfg->metrics_token) < 16)
			return bad(c, "server.metrics_token", "must be at least 16 characters");
	}

	o = cJSON_GetObjectItemCaseSensitive(root, "store");
	if (o && (rc = only_keys(c, o, "store", stkeys)))
		return rc;
	if ((rc = get_str(c, o, "store", "path", 0, &s)) ||
	    (rc = abs_path(c, s ? s : "webhook-runner.db", &cfg->store_path)))
		return rc;
	if ((rc = get_int(c, o, "store", "retention_days", 1, 3650, 30, &v)))
		return rc;
	cfg->retention_days = (int)v;

	o = cJSON_GetObjectItemCaseSensitive(root, "executor");
	if (o && (rc = only_keys(c, o, "executor", ekeys)))
		return rc;
	if ((rc = get_str(c, o, "executor", "path", 0, &s)) || (s && (rc = abs_path(c, s, &cfg->executor_path))))
		return rc;
	if ((rc = get_int(c, o, "executor", "max_jobs", 1, 512, 8, &v)))
		return rc;
	cfg->max_jobs = (int)v;
	if ((rc = get_int(c, o, "executor", "max_per_destination", 1, 512, 4, &v)))
		return rc;
	cfg->max_per_destination = (int)v;
	if ((rc = get_int(c, o, "executor", "max_queued", 1, 1000000, 1000, &v)))
		return rc;
	cfg->max_queued = (int)v;
	if (cfg->threads < cfg->max_jobs + 2)
		return bad(c, "server.threads", "must be at least executor.max_jobs + 2 (%d), so that "
					       "busy answers (429) can still be given", cfg->max_jobs + 2);

	o = cJSON_GetObjectItemCaseSensitive(root, "log");
	if (o && (rc = only_keys(c, o, "log", lkeys)))
		return rc;
	if ((rc = get_str(c, o, "log", "level", 0, &s)))
		return rc;
	if (s && log_level_parse(s, &cfg->log_level) != 0)
		return bad(c, "log.level", "must be debug, info, warn or error");
	if ((rc = get_str(c, o, "log", "format", 0, &s)))
		return rc;
	if (s && log_format_parse(s, &cfg->log_format) != 0)
		return bad(c, "log.format", "must be text or json");

	hooks = cJSON_GetObjectItemCaseSensitive(root, "hooks");
	if (!cJSON_IsArray(hooks) || cJSON_GetArraySize(hooks) < 1)
		return bad(c, "hooks", "must be a non-empty list");
	if (!(cfg->hooks = calloc((size_t)cJSON_GetArraySize(hooks), sizeof *cfg->hooks)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, hooks) {
		cfg->nhooks = i + 1; /* so config_free releases a half-built hook */
		if ((rc = parse_hook(c, it, i, cfg)))
			return rc;
		i++;
	}
	warn_shared_secrets(c, cfg);
	return 0;
}

/* PATH made absolute. realpath() when it can; /proc/self/fd/N for a pipe
 * (check-config <(…)) or a memfd names no file it can follow, so then the
 * directory is resolved and the last name kept. 0 or -errno. */
static int config_abspath(const char *path, char **out)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL, *real = NULL;
	int rc = 0;

	if ((*out = realpath(path, NULL)))
		return 0;
	if (errno == ENOMEM)
		return -ENOMEM;
	if (!(dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup("."))) {
		rc = -ENOMEM;
		goto out;
	}
	if (!(real = realpath(dir, NULL))) {
		rc = -errno;
		goto out;
	}
	if (asprintf(out, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : path) < 0) {
		*out = NULL;
		rc = -ENOMEM;
	}
out:
	free(dir);
	free(real);
	return rc;
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	struct config *cfg = calloc(1, sizeof *cfg);
	struct ctx c = { err, errlen, NULL, cfg };
	struct stat st;
	cJSON *root = NULL;
	char *text = NULL, *slash;
	const char *ep;
	size_t len;
	int rc;

	if (!cfg)
		return -ENOMEM;
	cfg->log_level = LOG_INFO;
	if ((rc = readfile_read(path, CONFIG_MAX_BYTES, &text, &len)) != 0) {
		snprintf(err, errlen, "%s: %s", path, rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		goto out;
	}
	if ((rc = config_abspath(path, &cfg->path)) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (!(c.dir = strdup(cfg->path))) {
		rc = -ENOMEM;
		goto out;
	}
	if ((slash = strrchr(c.dir, '/')))
		*(slash == c.dir ? slash + 1 : slash) = '\0';
	if (!(root = cJSON_ParseWithLengthOpts(text, len + 1, &ep, 1))) {
		const char *e = cJSON_GetErrorPtr();
		size_t line = 1;
		for (ep = text; e && ep < e && *ep; ep++)
			line += *ep == '\n';
		snprintf(err, errlen, "%s: invalid JSON near line %zu", path, line);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = parse_root(&c, root, cfg)) != 0)
		goto out;
	if (!cfg->executor_path) {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0) {
			rc = bad(&c, "executor.path", "cannot find our own binary; set the path");
			goto out;
		}
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		if (asprintf(&cfg->executor_path, "%s/remote-executor", exe) < 0) {
			cfg->executor_path = NULL;
			rc = -ENOMEM;
			goto out;
		}
	}
	/* access(X_OK) alone passes a directory (searchable is not runnable). */
	if (stat(cfg->executor_path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(cfg->executor_path, X_OK) != 0) {
		rc = bad(&c, "executor.path", "%s is not an executable file", cfg->executor_path);
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	/* Errors quote names and values from the file: keep them one line of
	 * printable text (the reload path logs them; a terminal shows them). */
	for (char *e = rc && errlen ? err : NULL; e && *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = '?';
	cJSON_Delete(root);
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	free(c.dir);
	config_free(cfg);
	return rc;
}

static void hook_clear(struct cfg_hook *h)
{
	size_t i;

	free(h->id);
	for (i = 0; i < h->nsecrets; i++)
		vhmac_secret_clear(&h->secrets[i]);
	free(h->secrets);
	vjwt_policy_clear(&h->jwt);
	free(h->token_name);
	for (i = 0; i < h->nidem; i++)
		free(h->idem_headers[i]);
	free(h->idem_headers);
	free(h->destination);
	free(h->dest_key);
	free(h->identity);
	free(h->known_hosts);
	if (h->passphrase) {
		explicit_bzero(h->passphrase, strlen(h->passphrase));
		free(h->passphrase);
	}
	tmpl_free(h->tmpl);
}

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nhooks; i++)
		hook_clear(&c->hooks[i]);
	free(c->hooks);
	free(c->path);
	free(c->listen_host);
	free(c->ops_host);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->store_path);
	free(c->executor_path);
	if (c->read_token) {
		explicit_bzero(c->read_token, strlen(c->read_token));
		free(c->read_token);
	}
	if (c->metrics_token) {
		explicit_bzero(c->metrics_token, strlen(c->metrics_token));
		free(c->metrics_token);
	}
	for (i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c);
}

const struct cfg_hook *config_hook(const struct config *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nhooks; i++)
		if (!strcmp(c->hooks[i].id, id))
			return &c->hooks[i];
	return NULL;
}
