/*
 * runner_config.c — unit tests of runner/config.c: config_load on files
 * written into a mkdtemp directory, secret_resolve (runner/secret.c) on env:/file:/cred:
 * references, config_hook. Every refusal is checked by the exact beginning
 * of its message, so each error keeps naming the field at fault. Public
 * keys for the JWT checks are made by the openssl CLI at test time.
 * JSON below is written with ' for " (q() swaps them) to stay readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runner/config.h"
#include "../../runner/secret.h"
#include "t.h"

static char g_dir[64];
static char g_real[PATH_MAX]; /* realpath of g_dir */
static int g_seq;
static int g_have_keys;

/* The message must start with PREFIX. */
static void t_prefix(int line, const char *msg, const char *prefix)
{
	if (strncmp(msg, prefix, strlen(prefix)) == 0 || t_failed_)
		return;
	snprintf(t_why_, sizeof t_why_, "%s:%d: error \"%.240s\", want prefix \"%.200s\"",
	    __FILE__, line, msg, prefix);
	t_failed_ = 1;
}
#define T_PREFIX(msg, prefix) t_prefix(__LINE__, (msg), (prefix))

/* T_EQ_STR for long strings (paths, messages): shortened in the report. */
static void t_str(int line, const char *expr, const char *got, const char *want)
{
	if ((got && want && strcmp(got, want) == 0) || t_failed_)
		return;
	snprintf(t_why_, sizeof t_why_, "%s:%d: %.40s == \"%.200s\", want \"%.200s\"",
	    __FILE__, line, expr, got ? got : "(null)", want ? want : "(null)");
	t_failed_ = 1;
}
#define T_STR(got, want) t_str(__LINE__, #got, (got), (want))

/* Write N bytes to DIR/NAME (mode 0600). */
static int put(const char *name, const void *data, size_t n)
{
	char p[PATH_MAX];
	int fd, rc = -1;

	snprintf(p, sizeof p, "%s/%s", g_dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	if (write(fd, data, n) == (ssize_t)n)
		rc = 0;
	close(fd);
	return rc;
}

static int puts_file(const char *name, const char *s)
{
	return put(name, s, strlen(s));
}

/* printf, then ' -> " and @D -> the test directory. Caller frees. */
static char *q(const char *fmt, ...)
{
	char *raw = NULL, *out, *o;
	const char *s;
	size_t ndir = 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	for (s = raw; (s = strstr(s, "@D")); s += 2)
		ndir++;
	if (!(out = malloc((size_t)n + ndir * strlen(g_dir) + 1)))
		abort();
	for (s = raw, o = out; *s; s++) {
		if (s[0] == '@' && s[1] == 'D') {
			o += sprintf(o, "%s", g_dir);
			s++;
		} else {
			*o++ = *s == '\'' ? '"' : *s;
		}
	}
	*o = '\0';
	free(raw);
	return out;
}

/* Pieces of a minimal valid config. */
#define EXE "'executor': {'path': '/bin/true'}"
#define SIG "'signature': {'scheme': 'hookdeck', 'secrets': ['file:@D/s1']}"
#define JOB "'job': {'destination': 'deploy@host', 'identity': 'id_ed25519', " \
	"'known_hosts': 'known_hosts', 'command': 'echo hi'}"
#define HOOK(id) "{'id': '" id "', " SIG ", " JOB "}"
#define MINIMAL "{" EXE ", 'hooks': [" HOOK("h") "]}"

/* Write JSON (after q()) to a fresh file; its path in PATH. */
static void write_cfg(const char *json, char *path, size_t cap)
{
	char name[32];
	char *s = q("%s", json);

	snprintf(name, sizeof name, "cfg-%d.json", ++g_seq);
	snprintf(path, cap, "%s/%s", g_dir, name);
	if (puts_file(name, s) != 0)
		abort();
	free(s);
}

/* Load JSON; the config (or NULL) in *OUT, the message in ERR. */
static int load(const char *json, struct config **out, char *err, size_t errlen)
{
	char path[PATH_MAX];

	write_cfg(json, path, sizeof path);
	*out = NULL;
	err[0] = '\0';
	return config_load(path, out, err, errlen);
}

/* Load JSON that must be refused with -EINVAL and a message starting with
 * PREFIX; *out must stay NULL. */
#define T_REFUSED(json, prefix) do { struct config *c_ = NULL; char e_[512]; \
	int r_ = load((json), &c_, e_, sizeof e_); T_EQ_INT(r_, -EINVAL); T_CHECK(c_ == NULL); \
	T_PREFIX(e_, (prefix)); config_free(c_); } while (0)

/* Same, with the JSON built by q() from a format. */
#define T_REFUSEDF(prefix, ...) do { char *j_ = q(__VA_ARGS__); T_REFUSED(j_, prefix); \
	free(j_); } while (0)

static void test_minimal_defaults(void)
{
	struct config *c = NULL;
	const struct cfg_hook *h;
	char err[512], want[PATH_MAX + 64];
	static const char *const idem[] = { "Idempotency-Key", "x-hookdeck-eventid",
		"X-GitHub-Delivery", "webhook-id" };
	size_t i;

	T_EQ_INT(load(MINIMAL, &c, err, sizeof err), 0);
	T_STR(err, "");
	if (!c)
		return;
	T_STR(c->listen_host, "0.0.0.0");
	T_EQ_INT(c->port, 8080);
	T_CHECK(c->tls_cert == NULL && c->tls_key == NULL);
	T_EQ_INT(c->threads, 32);
	T_EQ_INT(c->max_body_bytes, 1 << 20);
	T_EQ_INT(c->request_timeout_ms, 10000);
	snprintf(want, sizeof want, "%s/webhook-runner.db", g_real);
	T_STR(c->store_path, want);
	T_EQ_INT(c->retention_days, 30);
	T_STR(c->executor_path, "/bin/true");
	T_EQ_INT(c->max_jobs, 8);
	T_EQ_INT(c->max_per_destination, 4);
	T_EQ_INT(c->log_level, LOG_INFO);
	snprintf(want, sizeof want, "%s/cfg-%d.json", g_real, g_seq);
	T_STR(c->path, want);
	T_EQ_INT(c->nhooks, 1);
	h = &c->hooks[0];
	T_STR(h->id, "h");
	T_EQ_INT(h->scheme, VHMAC_HOOKDECK);
	T_EQ_INT(h->nsecrets, 1);
	T_EQ_INT(h->secrets[0].len, 32);
	T_CHECK(!memcmp(h->secrets[0].key, "0123456789abcdef0123456789abcdef", 32));
	T_EQ_INT(h->tolerance_s, 300);
	T_EQ_INT(h->has_jwt, 0);
	T_EQ_INT(h->token_from, TOKEN_BEARER);
	T_EQ_INT(h->nidem, 4);
	for (i = 0; i < 4 && i < h->nidem; i++)
		T_STR(h->idem_headers[i], idem[i]);
	T_STR(h->destination, "deploy@host");
	T_STR(h->dest_key, "host:22");
	snprintf(want, sizeof want, "%s/id_ed25519", g_real);
	T_STR(h->identity, want);
	snprintf(want, sizeof want, "%s/known_hosts", g_real);
	T_STR(h->known_hosts, want);
	T_CHECK(h->passphrase == NULL);
	T_CHECK(h->tmpl != NULL);
	T_EQ_INT(h->timeout_ms, 300000);
	T_EQ_INT(h->connect_timeout_ms, 10000);
	T_EQ_INT(h->handshake_timeout_ms, 10000);
	T_EQ_INT(h->max_output_bytes, 1 << 20);
	T_EQ_INT(h->output_tail_bytes, 4096);
	T_EQ_INT(h->response_output, 0);
	config_free(c);
}

static void test_explicit_values(void)
{
	struct config *c = NULL;
	const struct cfg_hook *h;
	char err[512], want[PATH_MAX + 64];
	char *j;

	setenv("WR_TEST_PASS", "hunter2", 1);
	j = q("{'server': {'listen': '127.0.0.1:9001', 'max_body_bytes': 4096, "
	      "'request_timeout_ms': 2500, 'threads': 12},"
	      " 'store': {'path': 'state/x.db', 'retention_days': 7},"
	      " 'executor': {'path': '/bin/true', 'max_jobs': 10, 'max_per_destination': 2},"
	      " 'log': {'level': 'debug', 'format': 'json'},"
	      " 'hooks': [{'id': 'Deploy-1_a.b',"
	      "   'signature': {'scheme': 'github', 'secrets': ['file:@D/s1', 'env:WR_TEST_PASS']},"
	      "   'jwt': {'algorithms': ['HS256', 'HS512'], 'key': 'file:@D/hmac32',"
	      "           'token': {'query': 'tok'}, 'issuer': 'ci', 'audience': 'runner',"
	      "           'subject': 'bot', 'claims': {'repo': 'a/b', 'env': 'prod'}, 'leeway_s': 5},"
	      "   'idempotency': {'headers': ['X-Request-Id', 'webhook-id']},"
	      "   'job': {'destination': 'ops@10.0.0.5:2222', 'identity': '/keys/id',"
	      "           'known_hosts': 'kh', 'passphrase': 'env:WR_TEST_PASS',"
	      "           'command': 'deploy {{ref}}', 'params': {'ref': {'from': 'payload',"
	      "           'path': 'ref', 'pattern': '[a-z]+'}}, 'timeout_s': 60,"
	      "           'connect_timeout_s': 3, 'handshake_timeout_s': 4,"
	      "           'max_output_bytes': 1000, 'output_tail_bytes': 0,"
	      "           'response_output': true, 'mode': 'sync'}}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	unsetenv("WR_TEST_PASS");
	T_STR(err, "");
	if (!c)
		return;
	T_STR(c->listen_host, "127.0.0.1");
	T_EQ_INT(c->port, 9001);
	T_EQ_INT(c->max_body_bytes, 4096);
	T_EQ_INT(c->request_timeout_ms, 2500);
	T_EQ_INT(c->threads, 12);
	snprintf(want, sizeof want, "%s/state/x.db", g_real);
	T_STR(c->store_path, want);
	T_EQ_INT(c->retention_days, 7);
	T_EQ_INT(c->max_jobs, 10);
	T_EQ_INT(c->max_per_destination, 2);
	T_EQ_INT(c->log_level, LOG_DEBUG);
	T_EQ_INT(c->log_format, LOG_JSON);
	h = &c->hooks[0];
	T_STR(h->id, "Deploy-1_a.b");
	T_EQ_INT(h->scheme, VHMAC_GITHUB);
	T_EQ_INT(h->nsecrets, 2);
	T_EQ_INT(h->secrets[1].len, 7);
	T_EQ_INT(h->has_jwt, 1);
	T_EQ_INT(h->jwt.algs, VJWT_HS256 | VJWT_HS512);
	T_EQ_INT(h->jwt.kind, VJWT_KEY_HMAC);
	T_EQ_INT(h->jwt.keylen, 32);
	T_EQ_INT(h->token_from, TOKEN_QUERY);
	T_STR(h->token_name, "tok");
	T_STR(h->jwt.iss, "ci");
	T_STR(h->jwt.aud, "runner");
	T_STR(h->jwt.sub, "bot");
	T_EQ_INT(h->jwt.nclaims, 2);
	if (h->jwt.nclaims == 2) {
		T_STR(h->jwt.claims[1].name, "env");
		T_STR(h->jwt.claims[1].value, "prod");
	}
	T_EQ_INT(h->jwt.leeway_s, 5);
	T_EQ_INT(h->nidem, 2);
	T_STR(h->idem_headers[0], "X-Request-Id");
	T_STR(h->destination, "ops@10.0.0.5:2222");
	T_STR(h->dest_key, "10.0.0.5:2222");
	T_STR(h->identity, "/keys/id");
	T_STR(h->passphrase, "hunter2");
	T_EQ_INT(h->timeout_ms, 60000);
	T_EQ_INT(h->connect_timeout_ms, 3000);
	T_EQ_INT(h->handshake_timeout_ms, 4000);
	T_EQ_INT(h->max_output_bytes, 1000);
	T_EQ_INT(h->output_tail_bytes, 0);
	T_EQ_INT(h->response_output, 1);
	config_free(c);
}

static void test_unknown_fields(void)
{
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("h") "], 'hook': []}",
	    "(top level): unknown field \"hook\"");
	T_REFUSED("{'server': {'port': 80}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: unknown field \"port\"");
	T_REFUSED("{'executor': {'path': '/bin/true', 'maxjobs': 1}, 'hooks': [" HOOK("h") "]}",
	    "executor: unknown field \"maxjobs\"");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', 'secret': 'x', " SIG ", " JOB "}]}",
	    "hooks[0]: unknown field \"secret\"");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', 'signature': {'scheme': 'github', "
	    "'secrets': ['file:@D/s1'], 'tolerance': 5}, " JOB "}]}",
	    "hooks[0].signature: unknown field \"tolerance\"");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'u@h', "
	    "'identity': 'i', 'known_hosts': 'k', 'command': 'c', 'timeout': 5}}]}",
	    "hooks[0].job: unknown field \"timeout\"");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", " JOB ", 'jwt': {'algoritms': "
	    "['HS256'], 'key': 'file:@D/hmac32'}}]}",
	    "hooks[0].jwt: unknown field \"algoritms\"");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("a") ", {'id': 'b', " SIG ", " JOB ", "
	    "'idempotency': {'header': ['X']}}]}",
	    "hooks[1].idempotency: unknown field \"header\"");
	T_REFUSED("{" EXE ", 'log': {'lvl': 'info'}, 'hooks': [" HOOK("h") "]}",
	    "log: unknown field \"lvl\"");
	/* control bytes in a quoted name are shown as '?': one printable line
	 * (found by fuzz_runner_config) */
	T_REFUSED("{" EXE ", 'log': {'l\\nv\\u001bl\\u007f': 'info'}, 'hooks': [" HOOK("h") "]}",
	    "log: unknown field \"l?v?l?\"");
}

static void test_duplicates(void)
{
	T_REFUSED("{" EXE ", " EXE ", 'hooks': [" HOOK("h") "]}",
	    "(top level): field \"executor\" appears twice");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', 'id': 'g', " SIG ", " JOB "}]}",
	    "hooks[0]: field \"id\" appears twice");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'u@h', "
	    "'identity': 'i', 'known_hosts': 'k', 'command': 'c', 'command': 'rm -rf /'}}]}",
	    "hooks[0].job: field \"command\" appears twice");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("a") ", " HOOK("b") ", " HOOK("a") "]}",
	    "hooks[2]: \"id\" \"a\" is already used by hooks[0]");
}

static void test_hook_ids(void)
{
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("de ploy") "]}",
	    "hooks[0]: \"id\" may only hold letters, digits, '-', '_' and '.'");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("a/b") "]}", "hooks[0]: \"id\" may only hold");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("h%%2e") "]}", "hooks[0]: \"id\" may only hold");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("") "]}", "hooks[0]: \"id\" must be a non-empty string");
	T_REFUSED("{" EXE ", 'hooks': [{" SIG ", " JOB "}]}", "hooks[0]: missing required field \"id\"");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	    "]}", "hooks[0]: \"id\" is longer than 64 characters");
	T_REFUSED("{" EXE ", 'hooks': []}", "hooks: must be a non-empty list");
	T_REFUSED("{" EXE "}", "hooks: must be a non-empty list");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG "}]}", "hooks[0]: missing required field \"job\"");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'u@h', "
	    "'identity': 'i', 'known_hosts': 'k'}}]}", "hooks[0].job: missing required field \"command\"");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'u@h', "
	    "'identity': 'i', 'known_hosts': 'k', 'command': 'c', 'mode': 'batch'}}]}",
	    "hooks[0].job: \"mode\" must be \"sync\" or \"async\" (got \"batch\")");
}

/* A hook whose signature object is SIGOBJ. */
#define SIGHOOK(sigobj) "{" EXE ", 'hooks': [{'id': 'h', 'signature': " sigobj ", " JOB "}]}"

static void test_signature_errors(void)
{
	struct config *c = NULL;
	char err[512];

	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " JOB "}]}",
	    "hooks[0]: missing required field \"signature\"");
	T_REFUSED(SIGHOOK("{'scheme': 'stripe', 'secrets': ['file:@D/s1']}"),
	    "hooks[0].signature: unknown scheme \"stripe\"");
	T_REFUSED(SIGHOOK("{'secrets': ['file:@D/s1']}"),
	    "hooks[0].signature: missing required field \"scheme\"");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': []}"),
	    "hooks[0].signature: \"secrets\" must be a list of 1 to 8 secret references");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': 'file:@D/s1'}"),
	    "hooks[0].signature: \"secrets\" must be a list");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['file:@D/s1', 'file:@D/s1', "
	    "'file:@D/s1', 'file:@D/s1', 'file:@D/s1', 'file:@D/s1', 'file:@D/s1', 'file:@D/s1', "
	    "'file:@D/s1']}"), "hooks[0].signature: \"secrets\" must be a list of 1 to 8");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['file:@D/s1', 'hunter2hunter2']}"),
	    "hooks[0].signature.secrets[1]: secrets must be references (env:NAME, file:PATH, "
	    "cred:NAME), not literals");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': [42]}"),
	    "hooks[0].signature.secrets[0]: must be a string");
	unsetenv("WR_TEST_UNSET");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['env:WR_TEST_UNSET']}"),
	    "hooks[0].signature.secrets[0]: environment variable WR_TEST_UNSET is not set");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['file:@D/no-such-secret']}"),
	    "hooks[0].signature.secrets[0]: cannot read secret ");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['file:@D/empty']}"),
	    "hooks[0].signature.secrets[0]: secret file:");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['file:/dev/null']}"),
	    "hooks[0].signature.secrets[0]: secret file:/dev/null is empty");
	T_REFUSED(SIGHOOK("{'scheme': 'hookdeck', 'secrets': ['file:@D/nl-only']}"),
	    "hooks[0].signature.secrets[0]: secret file:");
	T_REFUSED(SIGHOOK("{'scheme': 'standard-webhooks', 'secrets': ['file:@D/s1']}"),
	    "hooks[0].signature.secrets[0]: standard-webhooks secrets are \"whsec_\" followed by base64");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['file:@D/s1'], 'tolerance_s': 0}"),
	    "hooks[0].signature: \"tolerance_s\" must be between 1 and 86400");

	/* cred: without, then with $CREDENTIALS_DIRECTORY. */
	unsetenv("CREDENTIALS_DIRECTORY");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['cred:gh']}"),
	    "hooks[0].signature.secrets[0]: cred:gh: $CREDENTIALS_DIRECTORY is not set");
	setenv("CREDENTIALS_DIRECTORY", g_dir, 1);
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['cred:nope']}"),
	    "hooks[0].signature.secrets[0]: cannot read secret ");
	T_REFUSED(SIGHOOK("{'scheme': 'github', 'secrets': ['cred:../s1']}"),
	    "hooks[0].signature.secrets[0]: bad credential name in \"cred:../s1\"");
	T_EQ_INT(load(SIGHOOK("{'scheme': 'github', 'secrets': ['cred:s1']}"), &c, err, sizeof err), 0);
	if (c) {
		T_EQ_INT(c->hooks[0].secrets[0].len, 32);
		config_free(c);
		c = NULL;
	}
	/* Standard Webhooks: whsec_ + base64 is decoded. */
	T_EQ_INT(load(SIGHOOK("{'scheme': 'standard-webhooks', 'secrets': ['cred:whsec']}"),
	    &c, err, sizeof err), 0);
	T_STR(err, "");
	if (c) {
		T_EQ_INT(c->hooks[0].scheme, VHMAC_STANDARD);
		T_EQ_INT(c->hooks[0].secrets[0].len, 24);
		T_CHECK(!memcmp(c->hooks[0].secrets[0].key, "MfKQ9r8GKYqrTwjUPD8ILPZI", 24));
		config_free(c);
		c = NULL;
	}
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void test_secret_file_trimmed(void)
{
	struct config *c = NULL;
	char err[512];

	/* "abc...\n": the newline is not part of the secret. */
	T_EQ_INT(load(SIGHOOK("{'scheme': 'hookdeck', 'secrets': ['file:@D/s-nl', 'file:@D/s-crlf', "
	    "'file:@D/s-2nl']}"), &c, err, sizeof err), 0);
	T_STR(err, "");
	if (!c)
		return;
	T_EQ_INT(c->hooks[0].nsecrets, 3);
	T_EQ_INT(c->hooks[0].secrets[0].len, 6);
	T_CHECK(!memcmp(c->hooks[0].secrets[0].key, "sekret", 6));
	T_EQ_INT(c->hooks[0].secrets[1].len, 6);
	T_CHECK(!memcmp(c->hooks[0].secrets[1].key, "sekret", 6));
	/* Only one newline goes: the second is the operator's. */
	T_EQ_INT(c->hooks[0].secrets[2].len, 7);
	config_free(c);
}

/* A hook with a jwt object JWTOBJ. */
#define JWTHOOK(jwtobj) "{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'jwt': " jwtobj ", " JOB "}]}"

static void test_jwt_errors(void)
{
	struct config *c = NULL;
	char err[512];

	T_REFUSED(JWTHOOK("{'algorithms': ['HS257'], 'key': 'file:@D/hmac32'}"),
	    "hooks[0].jwt.algorithms: unknown algorithm \"HS257\"");
	T_REFUSED(JWTHOOK("{'algorithms': ['none'], 'key': 'file:@D/hmac32'}"),
	    "hooks[0].jwt.algorithms: unknown algorithm \"none\"");
	T_REFUSED(JWTHOOK("{'algorithms': [], 'key': 'file:@D/hmac32'}"),
	    "hooks[0].jwt.algorithms: must be a non-empty list");
	T_REFUSED(JWTHOOK("{'key': 'file:@D/hmac32'}"), "hooks[0].jwt.algorithms: must be a non-empty list");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256', 'RS256'], 'key': 'file:@D/hmac32'}"),
	    "hooks[0].jwt.algorithms: cannot mix HMAC (HS*) and public-key algorithms");
	T_REFUSED(JWTHOOK("{'algorithms': ['RS256', 'HS256'], 'key': 'file:@D/hmac32'}"),
	    "hooks[0].jwt.algorithms: cannot mix");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256']}"), "hooks[0].jwt: missing required field \"key\"");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac31'}"),
	    "hooks[0].jwt.key: HMAC key must be at least 32 bytes");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'sekritsekritsekritsekritsekritsekrit'}"),
	    "hooks[0].jwt.key: secrets must be references");
	T_REFUSED(JWTHOOK("{'algorithms': ['RS256'], 'key': 'file:@D/hmac32'}"),
	    "hooks[0].jwt.key: not a PEM public key (RSA or EC)");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac32', "
	    "'token': {'header': 'X-Token', 'query': 'token'}}"),
	    "hooks[0].jwt.token: give exactly one of \"header\" or \"query\"");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac32', 'token': {}}"),
	    "hooks[0].jwt.token: give exactly one of \"header\" or \"query\"");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac32', "
	    "'token': {'cookie': 'x'}}"), "hooks[0].jwt.token: unknown field \"cookie\"");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac32', 'claims': {'a': 1}}"),
	    "hooks[0].jwt.claims: claim \"a\" must be a string");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac32', 'leeway_s': 601}"),
	    "hooks[0].jwt: \"leeway_s\" must be between 0 and 600");

	/* HS256 with a header token: fine, 32 bytes exactly is enough. */
	T_EQ_INT(load(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac32', "
	    "'token': {'header': 'X-Token'}}"), &c, err, sizeof err), 0);
	T_STR(err, "");
	if (c) {
		T_EQ_INT(c->hooks[0].token_from, TOKEN_HEADER);
		T_STR(c->hooks[0].token_name, "X-Token");
		config_free(c);
		c = NULL;
	}
	if (!g_have_keys) {
		T_CHECK(!"openssl could not make the test keys");
		return;
	}
	T_REFUSED(JWTHOOK("{'algorithms': ['RS256'], 'key': 'file:@D/ec.pub'}"),
	    "hooks[0].jwt.key: key is EC but algorithm RS256 needs RSA");
	T_REFUSED(JWTHOOK("{'algorithms': ['RS256', 'ES256'], 'key': 'file:@D/rsa.pub'}"),
	    "hooks[0].jwt.key: key is RSA but algorithm ES256 needs EC");
	T_REFUSED(JWTHOOK("{'algorithms': ['RS256'], 'key': 'file:@D/rsa.key'}"),
	    "hooks[0].jwt.key: not a PEM public key");
	T_REFUSED(JWTHOOK("{'algorithms': ['HS256'], 'key': 'file:@D/hmac32', "
	    "'token': {'header': 'X-Token'}}, 'jwt': {'algorithms': ['HS256'], 'key': 'file:@D/hmac32'}"),
	    "hooks[0]: field \"jwt\" appears twice");
	T_EQ_INT(load(JWTHOOK("{'algorithms': ['RS256', 'RS512'], 'key': 'file:@D/rsa.pub'}"),
	    &c, err, sizeof err), 0);
	T_STR(err, "");
	if (c) {
		T_EQ_INT(c->hooks[0].jwt.kind, VJWT_KEY_RSA);
		T_EQ_INT(c->hooks[0].jwt.algs, VJWT_RS256 | VJWT_RS512);
		config_free(c);
		c = NULL;
	}
	T_EQ_INT(load(JWTHOOK("{'algorithms': ['ES256'], 'key': 'file:@D/ec.pub'}"), &c, err, sizeof err), 0);
	T_STR(err, "");
	if (c) {
		T_EQ_INT(c->hooks[0].jwt.kind, VJWT_KEY_EC);
		config_free(c);
	}
}

/* A hook whose job.destination is DEST (a q() format argument). */
#define DESTHOOK "{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': '%s', " \
	"'identity': 'i', 'known_hosts': 'k', 'command': 'c'}}]}"

static void test_destinations(void)
{
	static const struct { const char *dest, *prefix; } bads[] = {
		{ "host", "hooks[0].job.destination: must be user@host or user@host:port" },
		{ "@host", "hooks[0].job.destination: must be user@host" },
		{ "u@h@host", "hooks[0].job.destination: must be user@host" },
		{ "u@", "hooks[0].job.destination: bad host" },
		{ "u@:22", "hooks[0].job.destination: bad host" },
		{ "u@-oProxyCommand=x", "hooks[0].job.destination: bad host" },
		{ "u@ho st", "hooks[0].job.destination: bad host" },
		{ "u@host:0", "hooks[0].job.destination: bad port" },
		{ "u@host:65536", "hooks[0].job.destination: bad port" },
		{ "u@host:22x", "hooks[0].job.destination: bad port" },
		{ "u@host:", "hooks[0].job.destination: bad port" },
		{ "u@host:-1", "hooks[0].job.destination: bad port" },
		{ "-u@host", "hooks[0].job.destination: must not contain spaces or start with '-'" },
		{ "u u@host", "hooks[0].job.destination: must not contain spaces" },
		{ "u\\t@host", "hooks[0].job.destination: must not contain spaces" },
		{ "u@[::1", "hooks[0].job.destination: bad IPv6 destination" },
		{ "u@[::1]x", "hooks[0].job.destination: bad IPv6 destination" },
		{ "", "hooks[0].job: \"destination\" must be a non-empty string" },
	};
	static const struct { const char *dest, *key; } goods[] = {
		{ "deploy@host.example", "host.example:22" },
		{ "deploy@10.1.2.3:2222", "10.1.2.3:2222" },
		{ "d@[::1]:2200", "[::1]:2200" },
		{ "d@h:65535", "h:65535" },
	};
	struct config *c = NULL;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof bads / sizeof bads[0]; i++)
		T_REFUSEDF(bads[i].prefix, DESTHOOK, bads[i].dest);
	for (i = 0; i < sizeof goods / sizeof goods[0]; i++) {
		char *j = q(DESTHOOK, goods[i].dest);
		T_EQ_INT(load(j, &c, err, sizeof err), 0);
		free(j);
		T_STR(err, "");
		if (c) {
			T_STR(c->hooks[0].destination, goods[i].dest);
			T_STR(c->hooks[0].dest_key, goods[i].key);
			config_free(c);
			c = NULL;
		}
	}
}

/* A hook whose job has COMMAND and PARAMS (q() format arguments, JSON). */
#define TMPLHOOK "{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'u@h', " \
	"'identity': 'i', 'known_hosts': 'k', 'command': '%s', 'params': %s}}]}"

static void test_template_errors(void)
{
	T_REFUSEDF("hooks[0].job.command: undeclared parameter \"x\"", TMPLHOOK, "run {{x}}", "{}");
	T_REFUSEDF("hooks[0].job.params.y: declared but not used", TMPLHOOK, "run",
	    "{'y': {'from': 'payload', 'path': 'y', 'pattern': '.*'}}");
	T_REFUSEDF("hooks[0].job.params.ref.pattern: invalid regex", TMPLHOOK, "run {{ref}}",
	    "{'ref': {'from': 'payload', 'path': 'ref', 'pattern': '(['}}");
	T_REFUSEDF("hooks[0].job.params.ref.from: unknown source", TMPLHOOK, "run {{ref}}",
	    "{'ref': {'from': 'body', 'path': 'ref', 'pattern': '.*'}}");
	T_REFUSEDF("hooks[0].job.params.h.name: header \"Authorization\" carries credentials",
	    TMPLHOOK, "run {{h}}", "{'h': {'from': 'header', 'name': 'Authorization', 'pattern': '.*'}}");
	T_REFUSEDF("hooks[0].job.params.h.name: header \"X-Hub-Signature-256\" carries credentials or a signature",
	    TMPLHOOK, "run {{h}}", "{'h': {'from': 'header', 'name': 'X-Hub-Signature-256', 'pattern': '.*'}}");
	T_REFUSEDF("hooks[0].job.params.h.name: header \"x-hookdeck-signature-2\" carries",
	    TMPLHOOK, "run {{h}}", "{'h': {'from': 'header', 'name': 'x-hookdeck-signature-2', 'pattern': '.*'}}");
	T_REFUSEDF("hooks[0].job.params: must be an object", TMPLHOOK, "run", "[]");
	T_REFUSEDF("hooks[0].job.command: \"{{\" at byte 4", TMPLHOOK, "run {{ x", "{}");
	T_REFUSEDF("hooks[0].job.command: placeholder {{ref}} at byte 5 is inside double quotes",
	    TMPLHOOK, "run \\u0022{{ref}}\\u0022", "{'ref': {'from': 'payload', 'path': 'ref', "
	    "'pattern': '.*'}}");
}

static void test_server_errors(void)
{
	T_REFUSED("{'server': {'threads': 9}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server.threads: must be at least executor.max_jobs + 2 (10)");
	T_REFUSED("{'server': {'threads': 5}, 'executor': {'path': '/bin/true', 'max_jobs': 4}, "
	    "'hooks': [" HOOK("h") "]}", "server.threads: must be at least executor.max_jobs + 2 (6)");
	T_REFUSED("{'server': {'tls_cert': 'c.pem'}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"tls_cert\" and \"tls_key\" go together");
	T_REFUSED("{'server': {'tls_key': 'k.pem'}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"tls_cert\" and \"tls_key\" go together");
	T_REFUSED("{'server': {'listen': '0.0.0.0'}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server.listen: must be host:port");
	T_REFUSED("{'server': {'listen': '0.0.0.0:99999'}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server.listen: bad port in \"0.0.0.0:99999\"");
	T_REFUSED("{'server': {'threads': 12.5}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"threads\" must be a whole number");
	T_REFUSED("{'server': {'threads': '32'}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"threads\" must be a whole number");
	T_REFUSED("{'server': {'max_body_bytes': 67108865}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"max_body_bytes\" must be between 1 and 67108864");
	/* Out of range of long long too: refused without an undefined cast. */
	T_REFUSED("{'server': {'threads': 1e300}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"threads\" must be between 2 and 1024");
	T_REFUSED("{'server': {'threads': -1e300}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"threads\" must be between 2 and 1024");
	T_REFUSED("{'server': {'threads': 9.3e18}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "server: \"threads\" must be between 2 and 1024");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'u@h', "
	    "'identity': 'i', 'known_hosts': 'k', 'command': 'c', 'timeout_s': 1e19}}]}",
	    "hooks[0].job: \"timeout_s\" must be between 1 and 86400");
	T_REFUSED("{'server': [], " EXE ", 'hooks': [" HOOK("h") "]}", "server: must be an object");
	T_REFUSED("{'log': {'level': 'loud'}, " EXE ", 'hooks': [" HOOK("h") "]}",
	    "log.level: must be debug, info, warn or error");
	T_REFUSED("{'executor': {'path': '/bin/true', 'max_per_destination': 0}, 'hooks': [" HOOK("h") "]}",
	    "executor: \"max_per_destination\" must be between 1 and 512");
	T_REFUSED("[]", "(top level): must be an object");
}

static void test_invalid_json(void)
{
	struct config *c = NULL;
	char path[PATH_MAX], err[PATH_MAX + 128], want[PATH_MAX + 128];

	/* The stray comma is on line 4. */
	write_cfg("{\n  'executor': {'path': '/bin/true'},\n  'hooks': [\n    {'id': 'h',},\n  ]\n}\n",
	    path, sizeof path);
	T_EQ_INT(config_load(path, &c, err, sizeof err), -EINVAL);
	T_CHECK(c == NULL);
	snprintf(want, sizeof want, "%s: invalid JSON near line 4", path);
	T_STR(err, want);

	write_cfg("", path, sizeof path);
	T_EQ_INT(config_load(path, &c, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "%s: invalid JSON near line 1", path);
	T_STR(err, want);

	/* Trailing bytes after the object are not JSON either. */
	write_cfg(MINIMAL "\n\n{}", path, sizeof path);
	T_EQ_INT(config_load(path, &c, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "%s: invalid JSON near line 3", path);
	T_STR(err, want);

	snprintf(path, sizeof path, "%s/does-not-exist.json", g_dir);
	T_EQ_INT(config_load(path, &c, err, sizeof err), -ENOENT);
	T_CHECK(c == NULL);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	T_STR(err, want);
}

/* TLS paths resolve against the config's directory like every path; an
 * IPv6 listen address keeps its host without the brackets. Files are read
 * only when the server starts (tests/e2e/runner_tls.sh). */
static void test_tls_and_ipv6(void)
{
	struct config *c = NULL;
	char err[512], want[PATH_MAX + 64];
	char *j = q("{'server': {'listen': '[::1]:9443', 'tls_cert': 'tls/c.pem',"
		    " 'tls_key': '/keys/k.pem'}, " EXE ", 'hooks': [" HOOK("h") "]}");

	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_STR(err, "");
	if (!c)
		return;
	T_STR(c->listen_host, "::1");
	T_EQ_INT(c->port, 9443);
	snprintf(want, sizeof want, "%s/tls/c.pem", g_real);
	T_STR(c->tls_cert, want);
	T_STR(c->tls_key, "/keys/k.pem");
	config_free(c);
	c = NULL;
	/* cred:NAME is a file of systemd's LoadCredential=. */
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/x.service", 1);
	j = q("{'server': {'tls_cert': 'cred:tls.crt', 'tls_key': 'cred:tls.key'}, " EXE ", "
	      "'hooks': [" HOOK("h") "]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	if (c) {
		T_STR(c->tls_cert, "/run/credentials/x.service/tls.crt");
		T_STR(c->tls_key, "/run/credentials/x.service/tls.key");
		config_free(c);
		c = NULL;
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	T_REFUSED("{'server': {'tls_cert': 'c.pem', 'tls_key': 'cred:tls.key'}, " EXE ", "
	    "'hooks': [" HOOK("h") "]}",
	    "server.tls_key: cred:tls.key: $CREDENTIALS_DIRECTORY is not set");
	T_REFUSED("{'server': {'tls_cert': 'cred:../x', 'tls_key': 'k.pem'}, " EXE ", "
	    "'hooks': [" HOOK("h") "]}", "server.tls_cert: bad credential name in \"cred:../x\"");
}

static void test_file_size_cap(void)
{
	struct config *c = NULL;
	char path[PATH_MAX], err[PATH_MAX + 128], want[PATH_MAX + 128];
	char *s = q(MINIMAL);
	size_t n = strlen(s);
	char *big = malloc((1u << 20) + 2);

	if (!big) {
		T_CHECK(big);
		free(s);
		return;
	}
	/* Exactly 1 MiB (padded with spaces) is fine; one byte more is not. */
	memset(big, ' ', (1u << 20) + 1);
	memcpy(big, s, n);
	snprintf(path, sizeof path, "%s/big.json", g_dir);
	T_EQ_INT(put("big.json", big, 1u << 20), 0);
	T_EQ_INT(config_load(path, &c, err, sizeof err), 0);
	config_free(c);
	c = NULL;
	T_EQ_INT(put("big.json", big, (1u << 20) + 1), 0);
	T_EQ_INT(config_load(path, &c, err, sizeof err), -EFBIG);
	T_CHECK(c == NULL);
	snprintf(want, sizeof want, "%s: larger than 1 MiB", path);
	T_STR(err, want);
	free(big);
	free(s);
}

static void test_executor_path(void)
{
	struct config *c = NULL;
	char err[512], want[PATH_MAX + 64];

	T_REFUSEDF("executor.path: /nonexistent/remote-executor is not an executable file",
	    "{'executor': {'path': '/nonexistent/remote-executor'}, 'hooks': [" HOOK("h") "]}");
	/* A directory is searchable (X_OK) but not a program. */
	snprintf(want, sizeof want, "executor.path: %s is not an executable file", g_dir);
	T_REFUSED("{'executor': {'path': '@D'}, 'hooks': [" HOOK("h") "]}", want);
	snprintf(want, sizeof want, "executor.path: %s/s1 is not an executable file", g_dir);
	T_REFUSED("{'executor': {'path': '@D/s1'}, 'hooks': [" HOOK("h") "]}", want);
	/* Relative to the config's directory. */
	T_EQ_INT(load("{'executor': {'path': 'bin/exe'}, 'hooks': [" HOOK("h") "]}", &c, err, sizeof err), 0);
	T_STR(err, "");
	if (c) {
		snprintf(want, sizeof want, "%s/bin/exe", g_real);
		T_STR(c->executor_path, want);
		config_free(c);
	}
}

/* /proc/self/fd/N (process substitution, a memfd): read like any file. */
static void test_proc_fd_path(void)
{
	struct config *c = NULL;
	char path[64], err[512];
	char *s = q(MINIMAL);
	int fd = memfd_create("cfg", MFD_CLOEXEC);

	T_CHECK(fd >= 0);
	if (fd < 0) {
		free(s);
		return;
	}
	T_EQ_INT(write(fd, s, strlen(s)), (long long)strlen(s));
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	err[0] = '\0';
	T_EQ_INT(config_load(path, &c, err, sizeof err), 0);
	T_STR(err, "");
	if (c)
		T_STR(c->hooks[0].id, "h");
	config_free(c);
	close(fd);
	free(s);
}

/* Errors in a later hook free the earlier ones (ASan/LSan check this). */
static void test_later_hook_error(void)
{
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'a', " SIG ", 'jwt': {'algorithms': ['HS256'], "
	    "'key': 'file:@D/hmac32', 'claims': {'x': 'y'}, 'token': {'header': 'T'}}, "
	    "'idempotency': {'headers': ['A', 'B']}, 'job': {'destination': 'u@h', 'identity': 'i', "
	    "'known_hosts': 'k', 'command': 'c {{p}}', 'params': {'p': {'from': 'payload', "
	    "'path': 'p', 'pattern': '.*'}}}}, {'id': 'b', " SIG ", 'jwt': {'algorithms': ['HS256'], "
	    "'key': 'file:@D/hmac32', 'claims': {'x': 1}}, " JOB "}]}",
	    "hooks[1].jwt.claims: claim \"x\" must be a string");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("a") ", {'id': 'b', 'signature': {'scheme': 'github', "
	    "'secrets': ['file:@D/s1', 'literal']}, " JOB "}]}",
	    "hooks[1].signature.secrets[1]: secrets must be references");
	T_REFUSED("{" EXE ", 'hooks': [" HOOK("a") ", {'id': 'b', " SIG ", 'idempotency': "
	    "{'headers': ['A', 7]}, " JOB "}]}", "hooks[1].idempotency: headers[1] must be a header name");
}

static void test_config_hook(void)
{
	struct config *c = NULL;
	char err[512];

	T_EQ_INT(load("{" EXE ", 'hooks': [" HOOK("alpha") ", " HOOK("beta") ", " HOOK("gamma") "]}",
	    &c, err, sizeof err), 0);
	if (!c)
		return;
	T_EQ_INT(c->nhooks, 3);
	T_CHECK(config_hook(c, "alpha") == &c->hooks[0]);
	T_CHECK(config_hook(c, "gamma") == &c->hooks[2]);
	T_CHECK(config_hook(c, "beta") == &c->hooks[1]);
	T_CHECK(config_hook(c, "Beta") == NULL);
	T_CHECK(config_hook(c, "delta") == NULL);
	T_CHECK(config_hook(c, "") == NULL);
	config_free(c);
	config_free(NULL);
}

static void test_secret_resolve(void)
{
	char err[256], ref[PATH_MAX + 8], *v = NULL;
	static char big[65537];

	setenv("WR_TEST_SECRET", "s3cr3t value", 1);
	T_EQ_INT(secret_resolve("env:WR_TEST_SECRET", &v, NULL, err, sizeof err), 0);
	T_STR(v, "s3cr3t value");
	free(v);
	v = NULL;
	setenv("WR_TEST_SECRET", "", 1);
	T_EQ_INT(secret_resolve("env:WR_TEST_SECRET", &v, NULL, err, sizeof err), -EINVAL);
	T_CHECK(v == NULL);
	T_PREFIX(err, "secret env:WR_TEST_SECRET is empty");
	unsetenv("WR_TEST_SECRET");
	T_EQ_INT(secret_resolve("env:WR_TEST_SECRET", &v, NULL, err, sizeof err), -ENOENT);
	T_STR(err, "environment variable WR_TEST_SECRET is not set");
	T_EQ_INT(secret_resolve("env:", &v, NULL, err, sizeof err), -EINVAL);
	T_PREFIX(err, "bad environment variable name");
	T_EQ_INT(secret_resolve("env:A=B", &v, NULL, err, sizeof err), -EINVAL);
	T_EQ_INT(secret_resolve("hunter2", &v, NULL, err, sizeof err), -EINVAL);
	T_PREFIX(err, "secrets must be references");
	T_EQ_INT(secret_resolve("ENV:HOME", &v, NULL, err, sizeof err), -EINVAL);
	T_EQ_INT(secret_resolve("", &v, NULL, err, sizeof err), -EINVAL);
	T_CHECK(v == NULL);

	snprintf(ref, sizeof ref, "file:%s/s1", g_dir);
	T_EQ_INT(secret_resolve(ref, &v, NULL, err, sizeof err), 0);
	T_STR(v, "0123456789abcdef0123456789abcdef");
	free(v);
	v = NULL;
	snprintf(ref, sizeof ref, "file:%s/missing", g_dir);
	T_EQ_INT(secret_resolve(ref, &v, NULL, err, sizeof err), -ENOENT);
	T_PREFIX(err, "cannot read secret ");
	T_EQ_INT(secret_resolve("file:", &v, NULL, err, sizeof err), -EINVAL);
	snprintf(ref, sizeof ref, "file:%s/empty", g_dir);
	T_EQ_INT(secret_resolve(ref, &v, NULL, err, sizeof err), -EINVAL);
	T_EQ_INT(secret_resolve("file:/dev/null", &v, NULL, err, sizeof err), -EINVAL);
	T_STR(err, "secret file:/dev/null is empty or contains a NUL byte");
	snprintf(ref, sizeof ref, "file:%s/nul", g_dir);
	T_EQ_INT(secret_resolve(ref, &v, NULL, err, sizeof err), -EINVAL);
	T_PREFIX(err, "secret file:");
	/* 64 KiB is the most a secret file may hold. */
	memset(big, 'k', sizeof big);
	T_EQ_INT(put("big-secret", big, 65536), 0);
	snprintf(ref, sizeof ref, "file:%s/big-secret", g_dir);
	T_EQ_INT(secret_resolve(ref, &v, NULL, err, sizeof err), 0);
	T_EQ_INT(v ? strlen(v) : 0, 65536);
	free(v);
	v = NULL;
	T_EQ_INT(put("big-secret", big, 65537), 0);
	T_EQ_INT(secret_resolve(ref, &v, NULL, err, sizeof err), -EINVAL);
	T_CHECK(strstr(err, "larger than 64 KiB") != NULL);
	T_CHECK(v == NULL);
	/* A directory is not a secret. */
	snprintf(ref, sizeof ref, "file:%s", g_dir);
	T_CHECK(secret_resolve(ref, &v, NULL, err, sizeof err) < 0);
	T_CHECK(v == NULL);

	unsetenv("CREDENTIALS_DIRECTORY");
	T_EQ_INT(secret_resolve("cred:s1", &v, NULL, err, sizeof err), -ENOENT);
	T_STR(err, "cred:s1: $CREDENTIALS_DIRECTORY is not set (LoadCredential=)");
	setenv("CREDENTIALS_DIRECTORY", g_dir, 1);
	T_EQ_INT(secret_resolve("cred:s-nl", &v, NULL, err, sizeof err), 0);
	T_STR(v, "sekret");
	free(v);
	v = NULL;
	T_EQ_INT(secret_resolve("cred:absent", &v, NULL, err, sizeof err), -ENOENT);
	T_EQ_INT(secret_resolve("cred:", &v, NULL, err, sizeof err), -EINVAL);
	T_EQ_INT(secret_resolve("cred:..", &v, NULL, err, sizeof err), -EINVAL);
	T_EQ_INT(secret_resolve("cred:.", &v, NULL, err, sizeof err), -EINVAL);
	T_EQ_INT(secret_resolve("cred:sub/s1", &v, NULL, err, sizeof err), -EINVAL);
	T_EQ_INT(secret_resolve("cred:/etc/passwd", &v, NULL, err, sizeof err), -EINVAL);
	T_CHECK(v == NULL);
	unsetenv("CREDENTIALS_DIRECTORY");
}

static int make_keys(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd,
	    "cd '%s' && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key "
	    ">/dev/null 2>&1 && openssl pkey -in rsa.key -pubout -out rsa.pub >/dev/null 2>&1 && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key "
	    ">/dev/null 2>&1 && openssl pkey -in ec.key -pubout -out ec.pub >/dev/null 2>&1", g_dir);
	return system(cmd) == 0;
}

/* 1 when some warning of C contains NEEDLE. */
static int has_warning(const struct config *c, const char *needle)
{
	size_t i;

	for (i = 0; c && i < c->nwarnings; i++)
		if (strstr(c->warnings[i], needle))
			return 1;
	return 0;
}

/* What says a delivery is the same: the signed id for standard-webhooks and
 * nothing else; for body-only schemes the keys and body dedupe (on unless
 * turned off); single-use tokens. */
static void test_repeat_fields(void)
{
	struct config *c = NULL;
	char err[512], *j;

	T_EQ_INT(load(MINIMAL, &c, err, sizeof err), 0);
	T_EQ_INT(c ? c->hooks[0].dedupe_body : -1, 1);
	T_EQ_INT(c ? c->hooks[0].jwt.single_use : -1, 0);
	T_EQ_INT(c ? (int)c->nwarnings : -1, 0);
	config_free(c);

	j = q("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'idempotency': {'dedupe_body': false}, " JOB
	    "}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_EQ_INT(c ? c->hooks[0].dedupe_body : -1, 0);
	T_CHECK(has_warning(c, "hooks[0]: idempotency.dedupe_body is off"));
	config_free(c);
	T_REFUSEDF("hooks[0].idempotency: \"dedupe_body\" must be true or false",
	    "{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'idempotency': {'dedupe_body': 1}, " JOB "}]}");

	/* standard-webhooks: the signed webhook-id is the key, whatever else comes */
	j = q("{" EXE ", 'hooks': [{'id': 'h', 'signature': {'scheme': 'standard-webhooks', "
	    "'secrets': ['file:@D/whsec']}, " JOB "}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_EQ_INT(c ? (int)c->hooks[0].nidem : -1, 1);
	T_STR(c && c->hooks[0].nidem ? c->hooks[0].idem_headers[0] : "", "webhook-id");
	T_EQ_INT(c ? c->hooks[0].dedupe_body : -1, 0);
	config_free(c);
	T_REFUSEDF("hooks[0].idempotency: standard-webhooks signs the webhook-id header",
	    "{" EXE ", 'hooks': [{'id': 'h', 'signature': {'scheme': 'standard-webhooks', "
	    "'secrets': ['file:@D/whsec']}, 'idempotency': {'headers': ['Idempotency-Key']}, " JOB "}]}");
	T_REFUSEDF("hooks[0].idempotency: standard-webhooks signs the webhook-id header",
	    "{" EXE ", 'hooks': [{'id': 'h', 'signature': {'scheme': 'standard-webhooks', "
	    "'secrets': ['file:@D/whsec']}, 'idempotency': {'dedupe_body': true}, " JOB "}]}");

	/* single-use tokens silence the dedupe warning */
	j = q("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'idempotency': {'dedupe_body': false}, "
	    "'jwt': {'algorithms': ['HS256'], 'key': 'file:@D/s1', 'single_use': true}, " JOB "}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_EQ_INT(c ? c->hooks[0].jwt.single_use : -1, 1);
	T_EQ_INT(c ? (int)c->nwarnings : -1, 0);
	config_free(c);
	T_REFUSEDF("hooks[0].jwt: \"single_use\" must be true or false",
	    "{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'jwt': {'algorithms': ['HS256'], "
	    "'key': 'file:@D/s1', 'single_use': 'yes'}, " JOB "}]}");
}

/* A header parameter under a body-only signature is the sender's word: a
 * warning names the hook and the header; standard-webhooks is not warned. */
static void test_header_param_warning(void)
{
	struct config *c = NULL;
	char err[512], *j;
	const char *job = "'job': {'destination': 'deploy@host', 'identity': 'id_ed25519', "
	    "'known_hosts': 'known_hosts', 'command': 'run {{e}}', 'params': {'e': {'from': "
	    "'header', 'name': 'X-GitHub-Event', 'pattern': 'push'}}}";

	j = q("{" EXE ", 'hooks': [{'id': 'h', " SIG ", %s}]}", job);
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_CHECK(has_warning(c, "hooks[0]: the command reads header X-GitHub-Event, which the hookdeck "
	    "signature does not cover"));
	config_free(c);
	j = q("{" EXE ", 'hooks': [{'id': 'h', 'signature': {'scheme': 'standard-webhooks', "
	    "'secrets': ['file:@D/whsec']}, %s}]}", job);
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_EQ_INT(c ? (int)c->nwarnings : -1, 0);
	config_free(c);
}

static void test_metrics_token(void)
{
	struct config *c = NULL;
	char err[512], *j;

	T_EQ_INT(puts_file("mtok", "metrics-token-0123456789\n"), 0);
	j = q("{" EXE ", 'server': {'metrics_token': 'file:@D/mtok'}, 'hooks': [" HOOK("h") "]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_STR(c ? c->metrics_token : NULL, "metrics-token-0123456789");
	config_free(c);
	T_EQ_INT(puts_file("mtok-short", "short"), 0);
	T_REFUSEDF("server.metrics_token: must be at least 16 characters",
	    "{" EXE ", 'server': {'metrics_token': 'file:@D/mtok-short'}, 'hooks': [" HOOK("h") "]}");
	T_REFUSEDF("server.metrics_token: secrets must be references",
	    "{" EXE ", 'server': {'metrics_token': 'literal-token-0123456789'}, 'hooks': ["
	    HOOK("h") "]}");
}

/* Two hooks accepting one secret: a warning, unless each hook's token is
 * bound to it (another key or another audience). */
static void test_shared_secret_warning(void)
{
	struct config *c = NULL;
	char err[512], *j;

	j = q("{" EXE ", 'hooks': [" HOOK("a") ", " HOOK("b") "]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_CHECK(has_warning(c, "hooks[1]: accepts a signing secret of hooks[0] (\"a\")"));
	T_EQ_INT(c ? (int)c->nwarnings : -1, 1);
	config_free(c);

#define JWTA(aud) "'jwt': {'algorithms': ['HS256'], 'key': 'file:@D/s1', 'audience': '" aud "'}"
	j = q("{" EXE ", 'hooks': [{'id': 'a', " SIG ", " JWTA("deploy-a") ", " JOB "}, "
	    "{'id': 'b', " SIG ", " JWTA("deploy-b") ", " JOB "}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_EQ_INT(c ? (int)c->nwarnings : -1, 0);
	config_free(c);
	/* the same audience tells nothing apart; one JWT alone neither */
	j = q("{" EXE ", 'hooks': [{'id': 'a', " SIG ", " JWTA("x") ", " JOB "}, "
	    "{'id': 'b', " SIG ", " JWTA("x") ", " JOB "}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_CHECK(has_warning(c, "hooks[1]: accepts a signing secret of hooks[0]"));
	config_free(c);
	j = q("{" EXE ", 'hooks': [{'id': 'a', " SIG ", " JWTA("x") ", " JOB "}, " HOOK("b") "]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_CHECK(has_warning(c, "hooks[1]: accepts a signing secret of hooks[0]"));
	config_free(c);
	/* separate secrets: nothing to warn about */
	T_EQ_INT(puts_file("s2", "fedcba9876543210fedcba9876543210"), 0);
	j = q("{" EXE ", 'hooks': [" HOOK("a") ", {'id': 'b', 'signature': {'scheme': 'hookdeck', "
	    "'secrets': ['file:@D/s2']}, " JOB "}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_EQ_INT(c ? (int)c->nwarnings : -1, 0);
	config_free(c);
#undef JWTA
}

/* A secret file or private key others can read is worth a warning. */
static void test_loose_mode_warnings(void)
{
	struct config *c = NULL;
	char err[512], p[PATH_MAX], *j;

	T_EQ_INT(puts_file("loose", "0123456789abcdef0123456789abcdef"), 0);
	snprintf(p, sizeof p, "%s/loose", g_dir);
	T_EQ_INT(chmod(p, 0640), 0);
	j = q("{" EXE ", 'hooks': [{'id': 'h', 'signature': {'scheme': 'hookdeck', "
	    "'secrets': ['file:@D/loose']}, " JOB "}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	T_CHECK(has_warning(c, "hooks[0].signature.secrets[0]: secret file "));
	T_CHECK(has_warning(c, "/loose can be read or written by group or others"));
	config_free(c);
	T_EQ_INT(chmod(p, 0600), 0);
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	T_EQ_INT(c ? (int)c->nwarnings : -1, 0);
	config_free(c);
	free(j);

	T_EQ_INT(puts_file("id_loose", "-----BEGIN OPENSSH PRIVATE KEY-----\n"), 0);
	snprintf(p, sizeof p, "%s/id_loose", g_dir);
	T_EQ_INT(chmod(p, 0644), 0);
	j = q("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'identity': 'id_loose', 'known_hosts': 'known_hosts', 'command': 'echo hi'}}]}");
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	T_CHECK(has_warning(c, "hooks[0].job.identity: private key "));
	config_free(c);
}

/* After the scrub /proc/self/environ holds none of the environment, and
 * getenv (hence env: references) still finds every variable. Run last: it
 * rewrites this process's environment. */
static void test_scrub_environ(void)
{
	char buf[1 << 16], *v = NULL, err[256];
	const char *marker = "wr-scrub-marker-5f1d";
	ssize_t n;
	int fd, seen = 0;

	/* main() re-executed this program with the marker in its environment,
	 * so it is in the kernel's copy */
	T_STR(getenv("WR_SCRUB_TEST"), marker);
	T_EQ_INT(secret_scrub_environ(), 0);
	T_STR(getenv("WR_SCRUB_TEST"), marker);
	T_EQ_INT(secret_resolve("env:WR_SCRUB_TEST", &v, NULL, err, sizeof err), 0);
	T_STR(v, marker);
	free(v);
	fd = open("/proc/self/environ", O_RDONLY);
	T_CHECK(fd >= 0);
	n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	T_CHECK(n > 0);
	if (n > 0) {
		buf[n] = 0;
		for (ssize_t i = 0; i < n; i++)
			seen |= buf[i] != 0;
	}
	T_EQ_INT(seen, 0);
	T_EQ_INT(setenv("WR_SCRUB_LATER", "x", 1), 0); /* the copied environment stays usable */
	T_STR(getenv("WR_SCRUB_LATER"), "x");
}

int main(int argc, char **argv)
{
	char cmd[128], p[PATH_MAX];

	(void)argc;
	if (!getenv("WR_SCRUB_TEST")) { /* for test_scrub_environ */
		setenv("WR_SCRUB_TEST", "wr-scrub-marker-5f1d", 1);
		execv("/proc/self/exe", argv);
		printf("FAIL exec: %s\n", strerror(errno));
		return 1;
	}

	snprintf(g_dir, sizeof g_dir, "/tmp/runner_config.XXXXXX");
	if (!mkdtemp(g_dir) || !realpath(g_dir, g_real)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	puts_file("s1", "0123456789abcdef0123456789abcdef\n");
	puts_file("hmac32", "0123456789abcdef0123456789abcdef");
	puts_file("hmac31", "0123456789abcdef0123456789abcde\n");
	puts_file("empty", "");
	puts_file("nl-only", "\n");
	puts_file("s-nl", "sekret\n");
	puts_file("s-crlf", "sekret\r\n");
	puts_file("s-2nl", "sekret\n\n");
	put("nul", "ab\0cd", 5);
	/* base64 of "MfKQ9r8GKYqrTwjUPD8ILPZI" */
	puts_file("whsec", "whsec_TWZLUTlyOEdLWXFyVHdqVVBEOElMUFpJ\n");
	snprintf(p, sizeof p, "%s/bin", g_dir);
	mkdir(p, 0700);
	puts_file("bin/exe", "#!/bin/sh\nexit 0\n");
	snprintf(p, sizeof p, "%s/bin/exe", g_dir);
	chmod(p, 0700);
	g_have_keys = make_keys();

	T_RUN(test_minimal_defaults);
	T_RUN(test_explicit_values);
	T_RUN(test_unknown_fields);
	T_RUN(test_duplicates);
	T_RUN(test_hook_ids);
	T_RUN(test_signature_errors);
	T_RUN(test_secret_file_trimmed);
	T_RUN(test_jwt_errors);
	T_RUN(test_destinations);
	T_RUN(test_template_errors);
	T_RUN(test_server_errors);
	T_RUN(test_invalid_json);
	T_RUN(test_tls_and_ipv6);
	T_RUN(test_file_size_cap);
	T_RUN(test_executor_path);
	T_RUN(test_proc_fd_path);
	T_RUN(test_later_hook_error);
	T_RUN(test_config_hook);
	T_RUN(test_secret_resolve);
	T_RUN(test_repeat_fields);
	T_RUN(test_header_param_warning);
	T_RUN(test_metrics_token);
	T_RUN(test_shared_secret_warning);
	T_RUN(test_loose_mode_warnings);
	T_RUN(test_scrub_environ);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
