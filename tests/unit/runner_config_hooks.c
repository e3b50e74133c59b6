/*
 * runner_config_hooks.c — unit tests of one hook's configuration
 * (runner/hookcfg.c through config_load): ids, the signature and its
 * secrets, the JWT policy (public keys made by the openssl CLI at test
 * time), destinations, the command template's errors as the config reports
 * them, and what says a delivery is the same. Every refusal is checked by
 * the exact beginning of its message. Fixtures in cfgtest.h.
 */
#include "cfgtest.h"

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

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (cfgtest_setup("runner_config_hooks", 1) != 0)
		return 1;

	T_RUN(test_hook_ids);
	T_RUN(test_signature_errors);
	T_RUN(test_secret_file_trimmed);
	T_RUN(test_jwt_errors);
	T_RUN(test_destinations);
	T_RUN(test_template_errors);
	T_RUN(test_repeat_fields);

	cfgtest_cleanup();
	return T_EXIT();
}
