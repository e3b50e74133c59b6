/*
 * storecfg.c — the store section's PostgreSQL fields and the struct
 * store_config of a loaded config (contract in storecfg.h).
 */
#include "storecfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* 1 when URL's authority holds user:password@ */
static int url_has_password(const char *url)
{
	const char *a = strstr(url, "://"), *end, *at, *colon;

	if (!a)
		return 0;
	a += 3;
	end = a + strcspn(a, "/?");
	at = NULL;
	for (const char *q = a; q < end; q++)
		if (*q == '@')
			at = q;
	colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
	return colon != NULL;
}

static int schema_ok(const char *n)
{
	size_t i;

	if (!*n || strlen(n) > 63 || (n[0] >= '0' && n[0] <= '9'))
		return 0;
	for (i = 0; n[i]; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return 0;
	return 1;
}

int storecfg_parse(struct cfgfield_ctx *c, const cJSON *o, struct cfg_store_pg **out)
{
	struct cfg_store_pg *p = NULL;
	const char *url, *s;
	long long v;
	int rc;

	*out = NULL;
	if ((rc = cfgfield_str(c, o, "store", "url", 0, &url)))
		return rc;
	if (!url) {
		static const char *const pgonly[] = { "password", "schema", "pool_size", "lease_s",
			"heartbeat_ms", "connect_timeout_s", NULL };
		for (const char *const *k = pgonly; *k; k++)
			if (cJSON_GetObjectItemCaseSensitive(o, *k))
				return cfgfield_bad(c, "store", "\"%s\" goes with \"url\" (the PostgreSQL store)", *k);
		return 0;
	}
	if (strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0)
		return cfgfield_bad(c, "store.url", "must be a postgresql:// connection URI");
	if (url_has_password(url))
		return cfgfield_bad(c, "store.url", "must not hold a password; give it by reference in "
		    "store.password (env:, file: or cred:)");
	if (strstr(url, "password="))
		return cfgfield_bad(c, "store.url", "must not hold a password parameter; give it by "
		    "reference in store.password (env:, file: or cred:)");
	if (!(p = calloc(1, sizeof *p)))
		return -ENOMEM;
	rc = -ENOMEM;
	if (!(p->url = strdup(url)))
		goto out;
	if ((rc = cfgfield_str(c, o, "store", "password", 0, &s)) ||
	    (s && (rc = cfgfield_secret(c, "store.password", s, &p->password))))
		goto out;
	if ((rc = cfgfield_str(c, o, "store", "schema", 0, &s)))
		goto out;
	if (s && !schema_ok(s)) {
		rc = cfgfield_bad(c, "store.schema", "must be 1..63 of a-z, 0-9 and _, not starting with a digit");
		goto out;
	}
	if (!(p->schema = strdup(s ? s : "webhook_runner"))) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = cfgfield_int(c, o, "store", "pool_size", 1, 64, 4, &v)))
		goto out;
	p->pool = (int)v;
	if ((rc = cfgfield_int(c, o, "store", "lease_s", 2, 3600, 10, &v)))
		goto out;
	p->lease_ms = (int)v * 1000;
	if ((rc = cfgfield_int(c, o, "store", "heartbeat_ms", 100, 600000, 2000, &v)))
		goto out;
	p->heartbeat_ms = (int)v;
	if (p->heartbeat_ms * 2LL > p->lease_ms) {
		rc = cfgfield_bad(c, "store.heartbeat_ms", "must be at most half of store.lease_s (%d ms), so "
		    "that one late beat does not lose the lease", p->lease_ms / 2);
		goto out;
	}
	if ((rc = cfgfield_int(c, o, "store", "connect_timeout_s", 1, 300, 5, &v)))
		goto out;
	p->connect_timeout_s = (int)v;
	*out = p;
	p = NULL;
	rc = 0;
out:
	storecfg_free(p);
	return rc;
}

void storecfg_free(struct cfg_store_pg *p)
{
	if (!p)
		return;
	if (p->password) {
		explicit_bzero(p->password, strlen(p->password));
		free(p->password);
	}
	free(p->url);
	free(p->schema);
	free(p);
}

void storecfg_fill(const struct config *cfg, struct store_config *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->sqlite_path = cfg->store_path;
	if (cfg->store_pg) {
		sc->pg_url = cfg->store_pg->url;
		sc->pg_password = cfg->store_pg->password;
		sc->pg_schema = cfg->store_pg->schema;
		sc->pg_pool = cfg->store_pg->pool;
		sc->pg_lease_ms = cfg->store_pg->lease_ms;
		sc->pg_heartbeat_ms = cfg->store_pg->heartbeat_ms;
		sc->pg_connect_timeout_s = cfg->store_pg->connect_timeout_s;
	}
}
