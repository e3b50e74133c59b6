/*
 * executor_svccfg.c — unit tests of executor/svccfg.c: a full config and
 * its defaults, each refusal naming its field, destination patterns (exact,
 * case, port and user exact, "*." at a label boundary, never an address),
 * peer uids, and resolving key and passphrase references (cred:, env:).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../executor/svccfg.h"
#include "t.h"

static const char good[] =
    "{\"socket\":\"/run/x/ex.sock\",\"socket_mode\":\"0600\",\"allowed_uids\":[998,0],"
    "\"known_hosts\":\"/etc/kh\",\"identities\":{"
    "\"deploy\":{\"key\":\"/k/id\",\"destinations\":[\"deploy@10.0.0.5\",\"deploy@*.Example.com:2222\"]},"
    "\"ops\":{\"key\":\"cred:ops_key\",\"passphrase\":\"env:WR_T_PASS\",\"destinations\":[\"root@[::1]:22\"]}},"
    "\"pool\":{\"max_sessions_per_destination\":2,\"idle_timeout_s\":30},\"max_jobs\":5}";

static struct svccfg *parse(const char *s, int want_rc, const char *want_err)
{
	struct svccfg *c = NULL;
	char err[512] = "";
	int rc = svccfg_parse(s, strlen(s), &c, err, sizeof err);

	T_EQ_INT(rc, want_rc);
	if (want_err && !strstr(err, want_err) && !t_failed_) {
		snprintf(t_why_, sizeof t_why_, "error \"%.200s\", want one holding \"%.200s\"", err,
		    want_err);
		t_failed_ = 1;
	}
	if (rc != 0)
		T_CHECK(c == NULL);
	return c;
}

static void test_svccfg_good(void)
{
	struct svccfg *c = parse(good, 0, NULL);
	const struct svccfg_ident *d;

	if (!c)
		return;
	T_EQ_STR(c->socket, "/run/x/ex.sock");
	T_EQ_INT(c->socket_mode, 0600);
	T_EQ_INT(c->nuids, 2);
	T_EQ_INT(c->nids, 2);
	T_EQ_INT(c->max_sessions, 2);
	T_EQ_INT(c->idle_timeout_s, 30);
	T_EQ_INT(c->keepalive_s, 15);
	T_EQ_INT(c->keepalive_max, 3);
	T_EQ_INT(c->max_jobs, 5);
	T_EQ_INT(c->drain_timeout_s, 60);
	T_CHECK((d = svccfg_identity(c, "deploy")) != NULL);
	T_CHECK(svccfg_identity(c, "Deploy") == NULL);
	T_CHECK(svccfg_identity(c, "nobody") == NULL);
	T_EQ_INT(svccfg_uid_allowed(c, 998), 1);
	T_EQ_INT(svccfg_uid_allowed(c, 0), 1);
	T_EQ_INT(svccfg_uid_allowed(c, 1000), 0);
	svccfg_free(c);
}

static void test_svccfg_patterns(void)
{
	struct svccfg *c = parse(good, 0, NULL);
	const struct svccfg_ident *d, *o;

	if (!c)
		return;
	d = svccfg_identity(c, "deploy");
	o = svccfg_identity(c, "ops");
	T_EQ_INT(svccfg_allows(d, "deploy", "10.0.0.5", 22), 1);
	T_EQ_INT(svccfg_allows(d, "deploy", "10.0.0.5", 2222), 0);   /* port exact */
	T_EQ_INT(svccfg_allows(d, "root", "10.0.0.5", 22), 0);       /* user exact */
	T_EQ_INT(svccfg_allows(d, "deploy", "10.0.0.50", 22), 0);
	T_EQ_INT(svccfg_allows(d, "deploy", "web1.example.com", 2222), 1);
	T_EQ_INT(svccfg_allows(d, "deploy", "a.b.EXAMPLE.com", 2222), 1);
	T_EQ_INT(svccfg_allows(d, "deploy", "example.com", 2222), 0);      /* not the apex */
	T_EQ_INT(svccfg_allows(d, "deploy", "evil-example.com", 2222), 0); /* label boundary */
	T_EQ_INT(svccfg_allows(d, "deploy", ".example.com", 2222), 0);
	T_EQ_INT(svccfg_allows(d, "deploy", "web1.example.com", 22), 0);
	T_EQ_INT(svccfg_allows(d, "deploy", "web1.example.com.evil.org", 2222), 0);
	T_EQ_INT(svccfg_allows(o, "root", "::1", 22), 1);
	T_EQ_INT(svccfg_allows(o, "root", "::2", 22), 0);
	svccfg_free(c);
	/* A wildcard never covers an address. */
	c = parse("{\"socket\":\"/s\",\"allowed_uids\":[0],\"known_hosts\":\"/k\",\"identities\":"
	    "{\"w\":{\"key\":\"/k\",\"destinations\":[\"u@*.0.0.1\"]}}}", 0, NULL);
	if (c) {
		T_EQ_INT(svccfg_allows(&c->ids[0], "u", "127.0.0.1", 22), 0);
		T_EQ_INT(svccfg_allows(&c->ids[0], "u", "x.0.0.1", 22), 1);
		svccfg_free(c);
	}
}

#define BASE(ids) "{\"socket\":\"/s\",\"allowed_uids\":[0],\"known_hosts\":\"/k\",\"identities\":" ids
static void test_svccfg_refusals(void)
{
	parse("[]", -EINVAL, "must be a JSON object");
	parse("{", -EINVAL, "not valid JSON");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h\"]}}} x"), -EINVAL, "text after");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h\"]}},\"typo\":1}"), -EINVAL,
	    "unknown key \"typo\"");
	parse("{\"allowed_uids\":[0],\"known_hosts\":\"/k\",\"identities\":{}}", -EINVAL, "socket: missing");
	parse("{\"socket\":\"rel.sock\",\"allowed_uids\":[0],\"known_hosts\":\"/k\",\"identities\":{}}",
	    -EINVAL, "socket: must be an absolute path");
	parse("{\"socket\":\"/s\",\"socket_mode\":\"999\",\"allowed_uids\":[0],\"known_hosts\":\"/k\"}",
	    -EINVAL, "socket_mode");
	parse("{\"socket\":\"/s\",\"allowed_uids\":[],\"known_hosts\":\"/k\"}", -EINVAL, "allowed_uids");
	parse("{\"socket\":\"/s\",\"allowed_uids\":[-1],\"known_hosts\":\"/k\"}", -EINVAL, "allowed_uids");
	parse(BASE("{}}"), -EINVAL, "identities: must be an object of 1");
	parse(BASE("{\"bad name\":{\"key\":\"/k\",\"destinations\":[\"u@h\"]}}}"), -EINVAL, "is not a name");
	parse(BASE("{\"a\":{\"destinations\":[\"u@h\"]}}}"), -EINVAL, "identities.a.key: missing");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[]}}}"), -EINVAL, "identities.a.destinations");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"nouser\"]}}}"), -EINVAL, "has no user@");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h*x\"]}}}"), -EINVAL, "a host is exact");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@*\"]}}}"), -EINVAL, "a host is exact");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@*.::1\"]}}}"), -EINVAL, NULL);
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h:0\"]}}}"), -EINVAL, "bad port");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h\"],\"x\":1}}}"), -EINVAL,
	    "identities.a: unknown key \"x\"");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h\"]}},\"pool\":{\"idle_timeout_s\":0}}"),
	    -EINVAL, "pool.idle_timeout_s: must be an integer from 1");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h\"]}},\"max_jobs\":1.5}"), -EINVAL,
	    "max_jobs: must be an integer");
	parse(BASE("{\"a\":{\"key\":\"/k\",\"destinations\":[\"u@h\"]}},\"pool\":{\"max\":1}}"), -EINVAL,
	    "pool: unknown key \"max\"");
}

static void test_svccfg_resolve(void)
{
	char dir[] = "/tmp/wr-svccfg-XXXXXX", path[256], err[512] = "";
	struct svccfg *c = parse(good, 0, NULL);
	FILE *f;

	if (!c || !mkdtemp(dir)) {
		T_CHECK(0);
		svccfg_free(c);
		return;
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	T_EQ_INT(svccfg_resolve(c, err, sizeof err) < 0, 1);
	T_CHECK(strstr(err, "identities.ops.key") != NULL);
	svccfg_free(c);
	c = parse(good, 0, NULL);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	setenv("WR_T_PASS", "s3cret", 1);
	snprintf(path, sizeof path, "%s/ops_key", dir);
	if ((f = fopen(path, "w")))
		fclose(f);
	T_EQ_INT(svccfg_resolve(c, err, sizeof err), 0);
	T_EQ_STR(svccfg_identity(c, "ops")->key_path, path);
	T_EQ_STR(svccfg_identity(c, "ops")->passphrase, "s3cret");
	T_EQ_STR(svccfg_identity(c, "deploy")->key_path, "/k/id");
	T_CHECK(svccfg_identity(c, "deploy")->passphrase == NULL);
	svccfg_free(c);
	/* A literal passphrase is refused; a relative key path too. */
	c = parse(BASE("{\"a\":{\"key\":\"/k\",\"passphrase\":\"hunter2\",\"destinations\":[\"u@h\"]}}}"), 0, NULL);
	if (c) {
		T_EQ_INT(svccfg_resolve(c, err, sizeof err), -EINVAL);
		T_CHECK(strstr(err, "identities.a.passphrase") != NULL);
		svccfg_free(c);
	}
	c = parse(BASE("{\"a\":{\"key\":\"k\",\"destinations\":[\"u@h\"]}}}"), 0, NULL);
	if (c) {
		T_EQ_INT(svccfg_resolve(c, err, sizeof err), -EINVAL);
		T_CHECK(strstr(err, "an absolute path or cred:NAME") != NULL);
		svccfg_free(c);
	}
	unlink(path);
	rmdir(dir);
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("WR_T_PASS");
}

int main(void)
{
	T_RUN(test_svccfg_good);
	T_RUN(test_svccfg_patterns);
	T_RUN(test_svccfg_refusals);
	T_RUN(test_svccfg_resolve);
	return T_EXIT();
}
