/*
 * runner_config_secrets.c — unit tests of secret references and of the
 * operator's warnings: secret_resolve (common/secret.c) on env:/file:/cred:
 * references, the warnings config_load gives (a header the signature does
 * not cover, hooks sharing a secret, files others can read), and the scrub
 * of /proc/self/environ. Fixtures in cfgtest.h.
 */
#include "cfgtest.h"

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
	(void)argc;
	if (!getenv("WR_SCRUB_TEST")) { /* for test_scrub_environ */
		setenv("WR_SCRUB_TEST", "wr-scrub-marker-5f1d", 1);
		execv("/proc/self/exe", argv);
		printf("FAIL exec: %s\n", strerror(errno));
		return 1;
	}
	if (cfgtest_setup("runner_config_secrets", 0) != 0)
		return 1;

	T_RUN(test_secret_resolve);
	T_RUN(test_header_param_warning);
	T_RUN(test_shared_secret_warning);
	T_RUN(test_loose_mode_warnings);
	T_RUN(test_scrub_environ);

	cfgtest_cleanup();
	return T_EXIT();
}
