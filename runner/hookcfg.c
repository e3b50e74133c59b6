/*
 * hookcfg.c — parse and check one entry of "hooks" (contract in hookcfg.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvalcfg.h"
#include "hookcfg.h"
#include "secret.h"

static int parse_signature(struct cfgfield_ctx *c, const cJSON *sig, const char *hp, struct cfg_hook *h)
{
	static const char *const keys[] = { "scheme", "secrets", "tolerance_s", NULL };
	char path[96], ipath[112];
	const char *scheme;
	const cJSON *secrets, *it;
	long long v;
	int rc, n;

	snprintf(path, sizeof path, "%s.signature", hp);
	if (!sig)
		return cfgfield_bad(c, hp, "missing required field \"signature\" (every hook is signed)");
	if ((rc = cfgfield_only_keys(c, sig, path, keys)) ||
	    (rc = cfgfield_str(c, sig, path, "scheme", 1, &scheme)))
		return rc;
	if (vhmac_scheme_parse(scheme, &h->scheme) != 0)
		return cfgfield_bad(c, path, "unknown scheme \"%s\" (hookdeck, github, "
		    "standard-webhooks)", scheme);
	if ((rc = cfgfield_int(c, sig, path, "tolerance_s", 1, 86400, 300, &v)))
		return rc;
	h->tolerance_s = (int)v;
	secrets = cJSON_GetObjectItemCaseSensitive(sig, "secrets");
	n = cJSON_GetArraySize(secrets);
	if (!cJSON_IsArray(secrets) || n < 1 || n > 8)
		return cfgfield_bad(c, path, "\"secrets\" must be a list of 1 to 8 secret references");
	if (!(h->secrets = calloc((size_t)n, sizeof *h->secrets)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, secrets) {
		char *val = NULL;
		snprintf(ipath, sizeof ipath, "%s.secrets[%zu]", path, h->nsecrets);
		if (!cJSON_IsString(it))
			return cfgfield_bad(c, ipath, "must be a string");
		if ((rc = cfgfield_secret(c, ipath, it->valuestring, &val)))
			return rc;
		rc = vhmac_secret_from_string(h->scheme, val, &h->secrets[h->nsecrets]);
		explicit_bzero(val, strlen(val));
		free(val);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			return cfgfield_bad(c, ipath, "%s", h->scheme == VHMAC_STANDARD ?
			    "standard-webhooks secrets are \"whsec_\" followed by base64" : "invalid secret");
		h->nsecrets++;
	}
	return 0;
}

static int parse_jwt(struct cfgfield_ctx *c, const cJSON *j, const char *hp, struct cfg_hook *h)
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
	if ((rc = cfgfield_only_keys(c, j, path, keys)))
		return rc;
	h->has_jwt = 1;
	algs = cJSON_GetObjectItemCaseSensitive(j, "algorithms");
	snprintf(sub, sizeof sub, "%s.algorithms", path);
	if (!cJSON_IsArray(algs) || cJSON_GetArraySize(algs) < 1)
		return cfgfield_bad(c, sub, "must be a non-empty list (e.g. [\"HS256\"] or [\"RS256\"])");
	cJSON_ArrayForEach(it, algs) {
		unsigned bit = cJSON_IsString(it) ? vjwt_alg_bit(it->valuestring) : 0;
		if (!bit)
			return cfgfield_bad(c, sub, "unknown algorithm \"%s\" (HS256/384/512, RS256/384/512, "
					   "ES256/384/512)", cJSON_IsString(it) ? it->valuestring : "?");
		p->algs |= bit;
		if (vjwt_alg_kind(bit) == VJWT_KEY_HMAC)
			hmac = 1;
		else
			pub = 1;
	}
	if (hmac && pub)
		return cfgfield_bad(c, sub, "cannot mix HMAC (HS*) and public-key algorithms: "
		    "one key serves one kind");
	if ((rc = cfgfield_str(c, j, path, "key", 1, &s)))
		return rc;
	snprintf(sub, sizeof sub, "%s.key", path);
	if ((rc = cfgfield_secret(c, sub, s, &key)))
		return rc;
	p->key = (unsigned char *)key;
	p->keylen = strlen(key);
	if (hmac) {
		p->kind = VJWT_KEY_HMAC;
		if (p->keylen < 32)
			return cfgfield_bad(c, sub, "HMAC key must be at least 32 bytes");
	} else {
		enum vjwt_key_kind kind;
		if (vjwt_pem_kind(p->key, p->keylen, &kind) != 0)
			return cfgfield_bad(c, sub, "not a PEM public key (RSA or EC)");
		it = NULL;
		cJSON_ArrayForEach(it, algs)
			if (vjwt_alg_kind(vjwt_alg_bit(it->valuestring)) != kind)
				return cfgfield_bad(c, sub, "key is %s but algorithm %s needs %s",
				    kind == VJWT_KEY_RSA ? "RSA" : "EC", it->valuestring,
				    kind == VJWT_KEY_RSA ? "EC" : "RSA");
		p->kind = kind;
	}
	tok = cJSON_GetObjectItemCaseSensitive(j, "token");
	h->token_from = TOKEN_BEARER;
	if (tok) {
		const char *hn, *qn;
		snprintf(sub, sizeof sub, "%s.token", path);
		if ((rc = cfgfield_only_keys(c, tok, sub, tkeys)) ||
		    (rc = cfgfield_str(c, tok, sub, "header", 0, &hn)) ||
		    (rc = cfgfield_str(c, tok, sub, "query", 0, &qn)))
			return rc;
		if (!!hn == !!qn)
			return cfgfield_bad(c, sub, "give exactly one of \"header\" or \"query\"");
		h->token_from = hn ? TOKEN_HEADER : TOKEN_QUERY;
		if (!(h->token_name = strdup(hn ? hn : qn)))
			return -ENOMEM;
	}
	if ((rc = cfgfield_str(c, j, path, "issuer", 0, &s)) || (s && !(p->iss = strdup(s))) ||
	    (rc = cfgfield_str(c, j, path, "audience", 0, &s)) || (s && !(p->aud = strdup(s))) ||
	    (rc = cfgfield_str(c, j, path, "subject", 0, &s)) || (s && !(p->sub = strdup(s))))
		return rc ? rc : -ENOMEM;
	if ((rc = cfgfield_int(c, j, path, "leeway_s", 0, 600, 30, &v)))
		return rc;
	p->leeway_s = (int)v;
	if ((rc = cfgfield_bool(c, j, path, "single_use", &p->single_use)))
		return rc;
	claims = cJSON_GetObjectItemCaseSensitive(j, "claims");
	if (claims) {
		snprintf(sub, sizeof sub, "%s.claims", path);
		if (!cJSON_IsObject(claims))
			return cfgfield_bad(c, sub, "must be an object of claim names to string values");
		if (!(p->claims = calloc((size_t)cJSON_GetArraySize(claims) + 1, sizeof *p->claims)))
			return -ENOMEM;
		cJSON_ArrayForEach(it, claims) {
			if (!cJSON_IsString(it))
				return cfgfield_bad(c, sub, "claim \"%s\" must be a string", it->string);
			p->claims[p->nclaims].name = strdup(it->string);
			p->claims[p->nclaims].value = strdup(it->valuestring);
			if (!p->claims[p->nclaims].name || !p->claims[p->nclaims].value)
				return -ENOMEM;
			p->nclaims++;
		}
	}
	return 0;
}

static int parse_idem(struct cfgfield_ctx *c, const cJSON *idem, const char *hp, struct cfg_hook *h)
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
		if ((rc = cfgfield_only_keys(c, idem, path, keys)))
			return rc;
		if (h->scheme == VHMAC_STANDARD && cJSON_GetArraySize(idem) > 0)
			return cfgfield_bad(c, path, "standard-webhooks signs the webhook-id header, "
			    "and that id is always the key: nothing here applies");
		list = cJSON_GetObjectItemCaseSensitive(idem, "headers");
		if (list && (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
		    cJSON_GetArraySize(list) > 8))
			return cfgfield_bad(c, path, "\"headers\" must be a list of 1 to 8 header names");
		if ((rc = cfgfield_bool(c, idem, path, "dedupe_body", &h->dedupe_body)))
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
				return cfgfield_bad(c, path, "headers[%zu] must be a header name", i);
			name = it->valuestring;
		}
		if (!(h->idem_headers[i] = strdup(name)))
			return -ENOMEM;
		h->nidem++;
	}
	return 0;
}

/* user@host[:port] -> the executor's destination and the cap's key. */
static int parse_destination(struct cfgfield_ctx *c, const char *path, const char *d, struct cfg_hook *h)
{
	const char *at = strchr(d, '@'), *host, *colon;
	char *end;
	long port = 22;
	size_t hl;

	if (!at || at == d || strchr(at + 1, '@'))
		return cfgfield_bad(c, path, "must be user@host or user@host:port");
	host = at + 1;
	colon = strrchr(host, ':');
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return cfgfield_bad(c, path, "bad IPv6 destination");
		colon = rb[1] ? rb + 1 : NULL;
	} else if (colon && strchr(host, ':') != colon) {
		colon = NULL;
	}
	hl = colon ? (size_t)(colon - host) : strlen(host);
	if (hl == 0 || hl > 253 || host[0] == '-' || strpbrk(host, " \t/"))
		return cfgfield_bad(c, path, "bad host");
	if (colon) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || *end || port < 1 || port > 65535 || !colon[1])
			return cfgfield_bad(c, path, "bad port");
	}
	if (strpbrk(d, " \t\n") || d[0] == '-')
		return cfgfield_bad(c, path, "must not contain spaces or start with '-'");
	if (!(h->destination = strdup(d)) ||
	    asprintf(&h->dest_key, "%.*s:%ld", (int)hl, host, port) < 0) {
		h->dest_key = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int parse_job(struct cfgfield_ctx *c, const cJSON *job, const char *hp, struct cfg_hook *h)
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
		return cfgfield_bad(c, hp, "missing required field \"job\"");
	if ((rc = cfgfield_only_keys(c, job, path, keys)))
		return rc;
	snprintf(sub, sizeof sub, "%s.destination", path);
	if ((rc = cfgfield_str(c, job, path, "destination", 1, &s)) || (rc = parse_destination(c, sub, s, h)))
		return rc;
	if ((rc = cfgfield_str(c, job, path, "identity", 1, &s)) ||
	    (rc = cfgfield_path(c, s, &h->identity)) ||
	    (rc = cfgfield_str(c, job, path, "known_hosts", 1, &s)) ||
	    (rc = cfgfield_path(c, s, &h->known_hosts)))
		return rc;
	if (secret_mode_loose(h->identity)) {
		snprintf(sub, sizeof sub, "%s.identity", path);
		cfgfield_warn(c, sub, "private key %s can be read or written by group or others (chmod 0600)",
		    h->identity);
	}
	if ((rc = cfgfield_str(c, job, path, "passphrase", 0, &s)))
		return rc;
	if (s) {
		snprintf(sub, sizeof sub, "%s.passphrase", path);
		if ((rc = cfgfield_secret(c, sub, s, &h->passphrase)))
			return rc;
	}
	if ((rc = cfgfield_str(c, job, path, "mode", 0, &s)))
		return rc;
	if (s && strcmp(s, "sync") != 0 && strcmp(s, "async") != 0)
		return cfgfield_bad(c, path, "\"mode\" must be \"sync\" or \"async\" (got \"%s\")", s);
	h->async = s && !strcmp(s, "async");
	if ((rc = cfgfield_str(c, job, path, "command", 1, &s)))
		return rc;
	rc = tmpl_compile(s, cJSON_GetObjectItemCaseSensitive(job, "params"), &h->tmpl, terr, sizeof terr);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		/* TERR starts with the field under the job ("params.ref.pattern: …"). */
		snprintf(c->err, c->errlen, "%s.%s", path, terr);
		return -EINVAL;
	}
	if ((rc = cfgfield_int(c, job, path, "timeout_s", 1, 86400, 300, &v)))
		return rc;
	h->timeout_ms = v * 1000;
	if ((rc = cfgfield_int(c, job, path, "connect_timeout_s", 1, 300, 10, &v)))
		return rc;
	h->connect_timeout_ms = v * 1000;
	if ((rc = cfgfield_int(c, job, path, "handshake_timeout_s", 1, 300, 10, &v)))
		return rc;
	h->handshake_timeout_ms = v * 1000;
	if ((rc = cfgfield_int(c, job, path, "max_output_bytes", 0, 1LL << 30, 1 << 20, &v)))
		return rc;
	h->max_output_bytes = (size_t)v;
	if ((rc = cfgfield_int(c, job, path, "output_tail_bytes", 0, 1 << 20, 4096, &v)))
		return rc;
	h->output_tail_bytes = (size_t)v;
	h->remote_timeout = 1;
	if ((rc = cfgfield_bool(c, job, path, "remote_timeout", &h->remote_timeout)))
		return rc;
	return cfgfield_bool(c, job, path, "response_output", &h->response_output);
}

int hookcfg_parse(struct cfgfield_ctx *c, const cJSON *o, size_t i, struct config *cfg)
{
	static const char *const keys[] = { "id", "signature", "jwt", "idempotency", "job", "approval",
		NULL };
	struct cfg_hook *h = &cfg->hooks[i];
	char hp[48];
	const char *id, *p;
	size_t k;
	int rc;

	snprintf(hp, sizeof hp, "hooks[%zu]", i);
	if ((rc = cfgfield_only_keys(c, o, hp, keys)) || (rc = cfgfield_str(c, o, hp, "id", 1, &id)))
		return rc;
	if (strlen(id) > 64)
		return cfgfield_bad(c, hp, "\"id\" is longer than 64 characters");
	for (p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.'))
			return cfgfield_bad(c, hp, "\"id\" may only hold letters, digits, '-', '_' and '.'");
	for (k = 0; k < i; k++)
		if (!strcmp(cfg->hooks[k].id, id))
			return cfgfield_bad(c, hp, "\"id\" \"%s\" is already used by hooks[%zu]", id, k);
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
	if ((rc = approvalcfg_hook(c, cJSON_GetObjectItemCaseSensitive(o, "approval"), hp, h)))
		return rc;
	if (h->scheme != VHMAC_STANDARD && tmpl_header_param(h->tmpl))
		cfgfield_warn(c, hp, "the command reads header %s, which the %s signature does not cover: "
		    "whoever captured a delivery can send it again with another value there",
		    tmpl_header_param(h->tmpl), vhmac_scheme_name(h->scheme));
	if (h->scheme != VHMAC_STANDARD && !h->dedupe_body && !(h->has_jwt && h->jwt.single_use))
		cfgfield_warn(c, hp, "idempotency.dedupe_body is off and jwt.single_use is not on: a captured "
		    "delivery runs again under any new idempotency key");
	return 0;
}

void hookcfg_clear(struct cfg_hook *h)
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
	approvalcfg_clear_hook(&h->approval);
}
