/*
 * config.c — load the daemon's JSON configuration: read the file, check the
 * top level and the server, store, executor and log sections, hand each hook
 * to hookcfg, check what only the hooks together show, and free it all
 * (contract in config.h). Every error names the field at fault.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "approvalcfg.h"
#include "cfgfield.h"
#include "config.h"
#include "hookcfg.h"
#include "../common/secret.h"
#include "storecfg.h"
#include "../common/readfile.h"

#define CONFIG_MAX_BYTES (1u << 20)

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
static void warn_shared_secrets(struct cfgfield_ctx *c, const struct config *cfg)
{
	char path[48];
	size_t i, k;

	for (i = 0; i < cfg->nhooks; i++)
		for (k = i + 1; k < cfg->nhooks; k++)
			if (share_secret(&cfg->hooks[i], &cfg->hooks[k]) &&
			    !tokens_tell_apart(&cfg->hooks[i], &cfg->hooks[k])) {
				snprintf(path, sizeof path, "hooks[%zu]", k);
				cfgfield_warn(c, path, "accepts a signing secret of hooks[%zu] (\"%s\"), "
				    "and nothing tells their deliveries apart: one signed for either is "
				    "accepted by both; give each hook a JWT with its own audience (or key), "
				    "or its own secret", i, cfg->hooks[i].id);
			}
}

/* FIELD's "host:port", "[v6]:port" or ":port" into *HOST (replaced) and
 * *PORT. */
static int parse_listen(struct cfgfield_ctx *c, const char *field, const char *s, char **host, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	if (!colon || !colon[1])
		return cfgfield_bad(c, field, "must be host:port (e.g. 0.0.0.0:8080 or [::1]:8080)");
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || p < 1 || p > 65535)
		return cfgfield_bad(c, field, "bad port in \"%s\"", s);
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
static int tls_file(struct cfgfield_ctx *c, const char *field, const char *s, char **out)
{
	char path[PATH_MAX], msg[PATH_MAX + 100];

	if (strncmp(s, "cred:", 5) != 0)
		return cfgfield_path(c, s, out);
	if (secret_cred_path(s, path, sizeof path, msg, sizeof msg) != 0)
		return cfgfield_bad(c, field, "%s", msg);
	return (*out = strdup(path)) ? 0 : -ENOMEM;
}

/* executor.socket: the remote-executor service's Unix socket. With it the
 * service runs every job, so executor.path (what would be spawned) is
 * refused rather than silently unused. The socket need not exist yet: a job
 * that finds no service is answered 503 and runs again on its next delivery. */
static int parse_socket(struct cfgfield_ctx *c, const cJSON *o, struct config *cfg)
{
	struct sockaddr_un sun;
	struct stat st;
	const char *s;
	int rc;

	if ((rc = cfgfield_str(c, o, "executor", "socket", 0, &s)) || !s)
		return rc;
	if (cfg->executor_path)
		return cfgfield_bad(c, "executor.socket", "excludes \"path\": with a socket the service "
		    "runs every job and nothing is spawned");
	if ((rc = cfgfield_path(c, s, &cfg->executor_socket)))
		return rc;
	if (strlen(cfg->executor_socket) >= sizeof sun.sun_path)
		return cfgfield_bad(c, "executor.socket", "%s is longer than a Unix socket path may be "
		    "(%zu bytes)", cfg->executor_socket, sizeof sun.sun_path - 1);
	if (stat(cfg->executor_socket, &st) != 0 || !S_ISSOCK(st.st_mode))
		cfgfield_warn(c, "executor.socket", "%s is not a socket now (is remote-executor serve "
		    "running?): until it is, jobs are answered 503 and nothing runs", cfg->executor_socket);
	return 0;
}

/* server.max_followers and server.follow_heartbeat_ms (GET /jobs/<id>/output):
 * each follower holds an HTTP thread for as long as it follows, so they
 * come out of what executor.max_jobs + 2 leaves of server.threads. */
static int parse_followers(struct cfgfield_ctx *c, const cJSON *o, struct config *cfg)
{
	int room = cfg->threads - cfg->max_jobs - 2;
	long long v;
	int rc;

	if ((rc = cfgfield_int(c, o, "server", "max_followers", 0, 1024, room < 8 ? room : 8, &v)))
		return rc;
	if (v > room)
		return cfgfield_bad(c, "server.max_followers", "must be at most server.threads - "
		    "executor.max_jobs - 2 (%d): each follower holds an HTTP thread", room);
	cfg->max_followers = (int)v;
	if ((rc = cfgfield_int(c, o, "server", "follow_heartbeat_ms", 100, 600000, 15000, &v)))
		return rc;
	cfg->follow_heartbeat_ms = (int)v;
	return 0;
}

static int parse_root(struct cfgfield_ctx *c, const cJSON *root, struct config *cfg)
{
	static const char *const keys[] = { "server", "store", "executor", "log", "hooks", "slack", NULL };
	static const char *const skeys[] = { "listen", "tls_cert", "tls_key", "max_body_bytes",
		"request_timeout_ms", "threads", "drain_timeout_s", "read_token", "metrics_token",
		"ops_listen", "keepalive_timeout_ms", "min_request_rate", "max_followers",
		"follow_heartbeat_ms", NULL };
	static const char *const stkeys[] = { "path", "retention_days", "url", "password", "schema",
		"pool_size", "lease_s", "heartbeat_ms", "connect_timeout_s", NULL };
	static const char *const ekeys[] = { "path", "max_jobs", "max_per_destination", "max_queued",
		"socket", "paused", NULL };
	static const char *const lkeys[] = { "level", "format", NULL };
	const cJSON *o, *hooks, *it;
	const char *s;
	long long v;
	size_t i = 0;
	int rc;

	if ((rc = cfgfield_only_keys(c, root, "(top level)", keys)))
		return rc;
	o = cJSON_GetObjectItemCaseSensitive(root, "server");
	if (o && (rc = cfgfield_only_keys(c, o, "server", skeys)))
		return rc;
	if ((rc = cfgfield_str(c, o, "server", "listen", 0, &s)) ||
	    (rc = parse_listen(c, "server.listen", s ? s : "0.0.0.0:8080", &cfg->listen_host, &cfg->port)))
		return rc;
	if ((rc = cfgfield_str(c, o, "server", "ops_listen", 0, &s)) ||
	    (s && (rc = parse_listen(c, "server.ops_listen", s, &cfg->ops_host, &cfg->ops_port))))
		return rc;
	if (cfg->ops_host && cfg->ops_port == cfg->port && !strcmp(cfg->ops_host, cfg->listen_host))
		return cfgfield_bad(c, "server.ops_listen", "must differ from server.listen");
	if ((rc = cfgfield_str(c, o, "server", "tls_cert", 0, &s)) ||
	    (s && (rc = tls_file(c, "server.tls_cert", s, &cfg->tls_cert))) ||
	    (rc = cfgfield_str(c, o, "server", "tls_key", 0, &s)) ||
	    (s && (rc = tls_file(c, "server.tls_key", s, &cfg->tls_key))))
		return rc;
	if (!cfg->tls_cert != !cfg->tls_key)
		return cfgfield_bad(c, "server", "\"tls_cert\" and \"tls_key\" go together");
	if (cfg->tls_key && secret_mode_loose(cfg->tls_key))
		cfgfield_warn(c, "server.tls_key", "private key %s can be read or written by group or others "
		    "(chmod 0600)", cfg->tls_key);
	if ((rc = cfgfield_int(c, o, "server", "max_body_bytes", 1, 64LL << 20, 1 << 20, &v)))
		return rc;
	cfg->max_body_bytes = (size_t)v;
	if ((rc = cfgfield_int(c, o, "server", "request_timeout_ms", 100, 600000, 10000, &v)))
		return rc;
	cfg->request_timeout_ms = (int)v;
	if ((rc = cfgfield_int(c, o, "server", "keepalive_timeout_ms", 100, 600000, 2000, &v)))
		return rc;
	cfg->keepalive_timeout_ms = (int)v;
	if ((rc = cfgfield_int(c, o, "server", "min_request_rate", 0, 1LL << 30, 1024, &v)))
		return rc;
	cfg->min_request_rate = (int)v;
	if ((rc = cfgfield_int(c, o, "server", "threads", 2, 1024, 32, &v)))
		return rc;
	cfg->threads = (int)v;
	if ((rc = cfgfield_int(c, o, "server", "drain_timeout_s", 0, 86400, 30, &v)))
		return rc;
	cfg->drain_timeout_s = (int)v;
	if ((rc = cfgfield_str(c, o, "server", "read_token", 0, &s)))
		return rc;
	if (s) {
		if ((rc = cfgfield_secret(c, "server.read_token", s, &cfg->read_token)))
			return rc;
		if (strlen(cfg->read_token) < 16)
			return cfgfield_bad(c, "server.read_token", "must be at least 16 characters");
	}
	if ((rc = cfgfield_str(c, o, "server", "metrics_token", 0, &s)))
		return rc;
	if (s) {
		if ((rc = cfgfield_secret(c, "server.metrics_token", s, &cfg->metrics_token)))
			return rc;
		if (strlen(cfg->metrics_token) < 16)
			return cfgfield_bad(c, "server.metrics_token", "must be at least 16 characters");
	}

	o = cJSON_GetObjectItemCaseSensitive(root, "store");
	if (o && (rc = cfgfield_only_keys(c, o, "store", stkeys)))
		return rc;
	if ((rc = cfgfield_str(c, o, "store", "path", 0, &s)) ||
	    (rc = cfgfield_path(c, s ? s : "webhook-runner.db", &cfg->store_path)))
		return rc;
	if ((rc = storecfg_parse(c, o, &cfg->store_pg)))
		return rc;
	if (cfg->store_pg && cJSON_GetObjectItemCaseSensitive(o, "path"))
		return cfgfield_bad(c, "store.path", "goes with the SQLite store; store.url names a PostgreSQL one");
	if ((rc = cfgfield_int(c, o, "store", "retention_days", 1, 3650, 30, &v)))
		return rc;
	cfg->retention_days = (int)v;

	o = cJSON_GetObjectItemCaseSensitive(root, "executor");
	if (o && (rc = cfgfield_only_keys(c, o, "executor", ekeys)))
		return rc;
	if ((rc = cfgfield_str(c, o, "executor", "path", 0, &s)) ||
	    (s && (rc = cfgfield_path(c, s, &cfg->executor_path))))
		return rc;
	if ((rc = parse_socket(c, o, cfg)))
		return rc;
	if ((rc = cfgfield_int(c, o, "executor", "max_jobs", 1, 512, 8, &v)))
		return rc;
	cfg->max_jobs = (int)v;
	if ((rc = cfgfield_int(c, o, "executor", "max_per_destination", 1, 512, 4, &v)))
		return rc;
	cfg->max_per_destination = (int)v;
	if ((rc = cfgfield_int(c, o, "executor", "max_queued", 1, 1000000, 1000, &v)))
		return rc;
	cfg->max_queued = (int)v;
	if ((rc = cfgfield_bool(c, o, "executor", "paused", &cfg->paused)))
		return rc;
	if (cfg->threads < cfg->max_jobs + 2)
		return cfgfield_bad(c, "server.threads", "must be at least executor.max_jobs + 2 (%d), so that "
					       "busy answers (429) can still be given", cfg->max_jobs + 2);
	if ((rc = parse_followers(c, cJSON_GetObjectItemCaseSensitive(root, "server"), cfg)))
		return rc;

	o = cJSON_GetObjectItemCaseSensitive(root, "log");
	if (o && (rc = cfgfield_only_keys(c, o, "log", lkeys)))
		return rc;
	if ((rc = cfgfield_str(c, o, "log", "level", 0, &s)))
		return rc;
	if (s && log_level_parse(s, &cfg->log_level) != 0)
		return cfgfield_bad(c, "log.level", "must be debug, info, warn or error");
	if ((rc = cfgfield_str(c, o, "log", "format", 0, &s)))
		return rc;
	if (s && log_format_parse(s, &cfg->log_format) != 0)
		return cfgfield_bad(c, "log.format", "must be text or json");

	if ((rc = approvalcfg_slack(c, cJSON_GetObjectItemCaseSensitive(root, "slack"), &cfg->slack)))
		return rc;

	hooks = cJSON_GetObjectItemCaseSensitive(root, "hooks");
	if (!cJSON_IsArray(hooks) || cJSON_GetArraySize(hooks) < 1)
		return cfgfield_bad(c, "hooks", "must be a non-empty list");
	if (!(cfg->hooks = calloc((size_t)cJSON_GetArraySize(hooks), sizeof *cfg->hooks)))
		return -ENOMEM;
	cJSON_ArrayForEach(it, hooks) {
		cfg->nhooks = i + 1; /* so config_free releases a half-built hook */
		if ((rc = hookcfg_parse(c, it, i, cfg)))
			return rc;
		i++;
	}
	warn_shared_secrets(c, cfg);
	return approvalcfg_check(c, cfg);
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
	struct cfgfield_ctx c = { err, errlen, NULL, cfg };
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
	if (cfg->executor_socket)
		goto done; /* nothing is spawned */
	if (!cfg->executor_path) {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0) {
			rc = cfgfield_bad(&c, "executor.path", "cannot find our own binary; set the path");
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
		rc = cfgfield_bad(&c, "executor.path", "%s is not an executable file", cfg->executor_path);
		goto out;
	}
done:
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

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nhooks; i++)
		hookcfg_clear(&c->hooks[i]);
	free(c->hooks);
	free(c->path);
	free(c->listen_host);
	free(c->ops_host);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->store_path);
	storecfg_free(c->store_pg);
	free(c->executor_path);
	free(c->executor_socket);
	if (c->read_token) {
		explicit_bzero(c->read_token, strlen(c->read_token));
		free(c->read_token);
	}
	if (c->metrics_token) {
		explicit_bzero(c->metrics_token, strlen(c->metrics_token));
		free(c->metrics_token);
	}
	approvalcfg_clear_slack(&c->slack);
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
