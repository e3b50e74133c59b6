/*
 * runner_config.c — unit tests of runner/config.c loading a whole file:
 * defaults and explicit values, unknown and repeated fields, the server,
 * store and executor sections, TLS paths and IPv6, invalid JSON, the size
 * cap, /proc/self/fd paths, a later hook's error, config_hook. Every refusal
 * is checked by the exact beginning of its message, so each error keeps
 * naming the field at fault. JSON below is written with ' for " (q() swaps
 * them) to stay readable; the fixtures are in cfgtest.h.
 */
#include "cfgtest.h"

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

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (cfgtest_setup("runner_config", 0) != 0)
		return 1;

	T_RUN(test_minimal_defaults);
	T_RUN(test_explicit_values);
	T_RUN(test_unknown_fields);
	T_RUN(test_duplicates);
	T_RUN(test_server_errors);
	T_RUN(test_invalid_json);
	T_RUN(test_tls_and_ipv6);
	T_RUN(test_file_size_cap);
	T_RUN(test_executor_path);
	T_RUN(test_proc_fd_path);
	T_RUN(test_later_hook_error);
	T_RUN(test_config_hook);
	T_RUN(test_metrics_token);

	cfgtest_cleanup();
	return T_EXIT();
}
