/*
 * runner_config_store.c — the store section's PostgreSQL fields
 * (storecfg.c): store.url and what goes with it, their defaults, each
 * refusal by its message, the password by reference only, and the
 * store_config a loaded config turns into (with store_where's redaction).
 */
#include "cfgtest.h"
#include "../../runner/store.h"
#include "../../runner/storecfg.h"

#define STORE(fields) "{" EXE ", 'store': {" fields "}, 'hooks': [" HOOK("h") "]}"

static void test_sqlite_default(void)
{
	struct config *c = NULL;
	struct store_config sc;
	char err[512], *j = q(MINIMAL);

	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	if (!c)
		return;
	T_CHECK(c->store_pg == NULL);
	storecfg_fill(c, &sc);
	T_CHECK(sc.pg_url == NULL);
	T_CHECK(sc.sqlite_path != NULL && strstr(sc.sqlite_path, "webhook-runner.db") != NULL);
	config_free(c);
}

static void test_pg_fields(void)
{
	struct config *c = NULL;
	struct store_config sc;
	char err[512], where[256], *j;

	setenv("WR_TEST_PGPW", "s3cret-pw", 1);
	j = q(STORE("'url': 'postgresql://wr@db.example:5432/wr?sslmode=verify-full&sslrootcert=/ca.pem',"
	    " 'password': 'env:WR_TEST_PGPW', 'schema': 'runner_a', 'pool_size': 8, 'lease_s': 20,"
	    " 'heartbeat_ms': 3000, 'connect_timeout_s': 7, 'retention_days': 3"));
	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	unsetenv("WR_TEST_PGPW");
	T_STR(err, "");
	if (!c || !c->store_pg)
		goto out;
	T_STR(c->store_pg->url, "postgresql://wr@db.example:5432/wr?sslmode=verify-full&sslrootcert=/ca.pem");
	T_STR(c->store_pg->password, "s3cret-pw");
	T_STR(c->store_pg->schema, "runner_a");
	T_EQ_INT(c->store_pg->pool, 8);
	T_EQ_INT(c->store_pg->lease_ms, 20000);
	T_EQ_INT(c->store_pg->heartbeat_ms, 3000);
	T_EQ_INT(c->store_pg->connect_timeout_s, 7);
	T_EQ_INT(c->retention_days, 3);
	storecfg_fill(c, &sc);
	T_STR(sc.pg_url, c->store_pg->url);
	T_STR(sc.pg_password, "s3cret-pw");
	T_EQ_INT(sc.pg_pool, 8);
	T_EQ_INT(sc.pg_lease_ms, 20000);
	store_where(&sc, where, sizeof where);
	T_STR(where, c->store_pg->url);
out:
	config_free(c);
}

static void test_pg_defaults(void)
{
	struct config *c = NULL;
	char err[512], *j = q(STORE("'url': 'postgres://wr@127.0.0.1/wr'"));

	T_EQ_INT(load(j, &c, err, sizeof err), 0);
	free(j);
	if (!c || !c->store_pg)
		goto out;
	T_CHECK(c->store_pg->password == NULL);
	T_STR(c->store_pg->schema, "webhook_runner");
	T_EQ_INT(c->store_pg->pool, 4);
	T_EQ_INT(c->store_pg->lease_ms, 10000);
	T_EQ_INT(c->store_pg->heartbeat_ms, 2000);
	T_EQ_INT(c->store_pg->connect_timeout_s, 5);
out:
	config_free(c);
}

static void test_pg_refusals(void)
{
	T_REFUSEDF("store.url: must be a postgresql:// connection URI", STORE("'url': 'mysql://x/y'"));
	T_REFUSEDF("store.url: must not hold a password;", STORE("'url': 'postgresql://wr:hunter2@h/wr'"));
	T_REFUSEDF("store.url: must not hold a password parameter", STORE("'url': 'postgresql://wr@h/wr?password=x'"));
	T_REFUSEDF("store.password: ", STORE("'url': 'postgresql://wr@h/wr', 'password': 'hunter2'"));
	T_REFUSEDF("store.password: ", STORE("'url': 'postgresql://wr@h/wr', 'password': 'env:WR_TEST_NO_SUCH_VAR'"));
	T_REFUSEDF("store.schema: must be 1..63", STORE("'url': 'postgresql://h/wr', 'schema': 'Bad-Name'"));
	T_REFUSEDF("store.schema: must be 1..63", STORE("'url': 'postgresql://h/wr', 'schema': '1abc'"));
	T_REFUSEDF("store: \"pool_size\" must be between", STORE("'url': 'postgresql://h/wr', 'pool_size': 0"));
	T_REFUSEDF("store: \"pool_size\" must be between", STORE("'url': 'postgresql://h/wr', 'pool_size': 65"));
	T_REFUSEDF("store: \"lease_s\" must be between", STORE("'url': 'postgresql://h/wr', 'lease_s': 1"));
	T_REFUSEDF("store.heartbeat_ms: must be at most half", STORE("'url': 'postgresql://h/wr', 'lease_s': 4,"
	    " 'heartbeat_ms': 2500"));
	T_REFUSEDF("store: \"connect_timeout_s\" must be between", STORE("'url': 'postgresql://h/wr', 'connect_timeout_s': 0"));
	T_REFUSEDF("store.path: goes with the SQLite store", STORE("'url': 'postgresql://h/wr', 'path': 'x.db'"));
	T_REFUSEDF("store: \"schema\" goes with \"url\"", STORE("'schema': 'abc'"));
	T_REFUSEDF("store: \"password\" goes with \"url\"", STORE("'password': 'env:X'"));
	T_REFUSEDF("store: ", STORE("'url': 'postgresql://h/wr', 'sslmode': 'require'"));
}

static void test_where_redacts(void)
{
	struct store_config sc = { .pg_url = "postgresql://wr:hunter2@127.0.0.1:5432/wr?sslmode=require" };
	char w[256];

	store_where(&sc, w, sizeof w);
	T_STR(w, "postgresql://wr:***@127.0.0.1:5432/wr?sslmode=require");
	sc.pg_url = "postgresql://127.0.0.1/wr?user=wr&password=hunter2&sslmode=disable";
	store_where(&sc, w, sizeof w);
	T_STR(w, "postgresql://127.0.0.1/wr?user=wr&password=***&sslmode=disable");
	sc.pg_url = "postgresql://a:b@c@h/wr"; /* the last @ ends the userinfo */
	store_where(&sc, w, sizeof w);
	T_STR(w, "postgresql://a:***@h/wr");
	sc.pg_url = NULL;
	sc.sqlite_path = "/var/lib/x.db";
	store_where(&sc, w, sizeof w);
	T_STR(w, "/var/lib/x.db");
	sc.pg_url = "postgresql://wr:hunter2@h/wr";
	store_where(&sc, w, 12); /* cut short, still without the password */
	T_CHECK(strstr(w, "hunter2") == NULL);
	T_CHECK(strstr(w, "hunt") == NULL);
}

int main(void)
{
	if (cfgtest_setup("runner_config_store", 0) != 0)
		return 1;
	T_RUN(test_sqlite_default);
	T_RUN(test_pg_fields);
	T_RUN(test_pg_defaults);
	T_RUN(test_pg_refusals);
	T_RUN(test_where_redacts);
	cfgtest_cleanup();
	return T_EXIT();
}
