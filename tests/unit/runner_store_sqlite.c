/*
 * runner_store_sqlite.c — unit tests of the SQLite store backend's file and
 * schema (runner/store_sqlite*.c), read back through independent readers
 * (store_sqlite_test.h): the file's mode, WAL, tables and indexes; a newer
 * schema refused; files that cannot be opened; health when the file turns
 * read-only, goes away or is locked by another connection; the query plans
 * of the claim, the queue and the listings; real processes on one file; and
 * the migration of a version-1 file. What every backend must do is the
 * contract test's (runner_store_contract*.c).
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "store_sqlite_test.h"

/* Every index of the current schema, as sqlite_master lists them by name. */
#define SCHEMA_INDEXES "approvals_pending\napprovals_seq\napprovals_unsynced\n" \
	"deliveries_body\njobs_failed\njobs_finished\njobs_hook\njobs_queued\n" \
	"jobs_running\njwt_ids_expiry\nsqlite_autoindex_approval_votes_1\n" \
	"sqlite_autoindex_approvals_1\nsqlite_autoindex_approvals_2\n" \
	"sqlite_autoindex_deliveries_1\nsqlite_autoindex_jobs_1\nsqlite_autoindex_jwt_ids_1\n"

static void test_open_creates_schema(void)
{
	char path[128], out[256], idx[512], wal[160];
	struct store *s = NULL;
	struct store_claim_res r;
	struct stat st;
	mode_t old = umask(0); /* the 0600 must not depend on the umask */
	int n = -1;

	newpath(path, sizeof path, "schema");
	T_EQ_INT(sopen(path, 1, &n, &s), 0);
	umask(old);
	T_CHECK(s != NULL);
	if (!s)
		return;
	T_EQ_INT(n, 0);
	T_EQ_STR(store_errmsg(s), "");
	T_EQ_INT(claim(s, "h", "k", H1, 1, &r), 0); /* creates -wal and -shm */
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	snprintf(wal, sizeof wal, "%s-wal", path);
	T_EQ_INT(stat(wal, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	snprintf(wal, sizeof wal, "%s-shm", path);
	T_EQ_INT(stat(wal, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);

	/* an independent reader while the store is open */
	T_EQ_INT(cli(path, "PRAGMA user_version; PRAGMA journal_mode;", out, sizeof out), 0);
	T_EQ_STR(out, "4\nwal\n");
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;", out,
	    sizeof out), 0);
	T_EQ_STR(out, "approval_seq\napproval_votes\napprovals\ndeliveries\njobs\njwt_ids\nsqlite_sequence\n");
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name;", idx,
	    sizeof idx), 0);
	T_CHECK(!strcmp(idx, SCHEMA_INDEXES));
	store_close(s);
	s = NULL;

	/* reopen: same version, same rows, nothing re-created */
	T_EQ_INT(sopen(path, 0, &n, &s), 0);
	T_CHECK(s != NULL);
	store_close(s);
	s = NULL;
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 2, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	store_close(s);
	T_EQ_INT(cli(path, "PRAGMA user_version; PRAGMA journal_mode; SELECT count(*) FROM jobs;", out,
	    sizeof out), 0);
	T_EQ_STR(out, "4\nwal\n1\n");
}

static void test_newer_schema_refused(void)
{
	char path[128], out[64];
	struct store *s = NULL;

	newpath(path, sizeof path, "newer");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	store_close(s);
	s = NULL;
	T_EQ_INT(cli(path, "PRAGMA user_version = 99;", out, sizeof out), 0);
	T_EQ_INT(sopen(path, 0, NULL, &s), -EPROTO);
	T_CHECK(s == NULL);
	T_EQ_INT(q1(path, "PRAGMA user_version"), 99); /* left as it was */
}

static void test_body_and_headers_kept(void)
{
	static const unsigned char body[] = { 'a', 0, 'b', 0xff, '\n' };
	char path[128], out[128];
	struct store *s = NULL;
	struct store_claim_res a;

	newpath(path, sizeof path, "body");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	T_EQ_INT(store_claim(s, "h", "k", HX, body, sizeof body, "{\"x-github-event\":\"push\"}", 7,
	    &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(store_claim(s, "h", "e", HX, NULL, 0, NULL, 7, &a), 0); /* empty body */
	T_EQ_INT(a.kind, STORE_NEW);
	store_close(s);
	T_EQ_INT(cli(path, "SELECT hex(body), headers, body_sha256 FROM deliveries WHERE key = 'k';",
	    out, sizeof out), 0);
	T_EQ_STR(out, "610062FF0A|{\"x-github-event\":\"push\"}|" HX "\n");
	T_EQ_INT(cli(path, "SELECT quote(body), quote(headers) FROM deliveries WHERE key = 'e';", out,
	    sizeof out), 0);
	T_EQ_STR(out, "X''|NULL\n");
}

static void test_open_fails_cleanly(void)
{
	char path[160];
	struct store *s = (struct store *)&s; /* must come back NULL */
	int rc;

	rc = sopen("/proc/webhook-runner-store-test.db", 0, NULL, &s);
	T_CHECK(rc < 0);
	T_CHECK(s == NULL);
	snprintf(path, sizeof path, "%s/no/such/dir/x.db", g_dir);
	T_EQ_INT(sopen(path, 0, NULL, &s), -ENOENT);
	T_EQ_INT(sopen(g_dir, 0, NULL, &s), -EISDIR);
	T_CHECK(s == NULL);
}

static int g_can_readonly;

static void test_health_readonly_file(void)
{
	char path[128];
	struct store *s = NULL, *s2 = NULL;
	int rc;

	newpath(path, sizeof path, "health-ro");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	T_EQ_INT(store_health(s, NULL), 0);
	T_EQ_INT(make_readonly(path, 1), 0);
	rc = store_health(s, NULL);
	T_CHECK(rc == -EPERM || rc == -EACCES || rc == -EROFS);
	T_CHECK(*store_errmsg(s) != 0);
	rc = sopen(path, 0, NULL, &s2); /* a new open refuses too */
	T_CHECK(rc == -EPERM || rc == -EACCES || rc == -EROFS);
	T_CHECK(s2 == NULL);
	T_EQ_INT(make_readonly(path, 0), 0);
	T_EQ_INT(store_health(s, NULL), 0);
	store_close(s);
}

static void test_health(void)
{
	char dir[128], path[160];
	struct store *s = NULL;
	struct store_claim_res r;
	sqlite3 *other = NULL;

	/* the directory removed under an open store */
	snprintf(dir, sizeof dir, "%s/gone", g_dir);
	T_EQ_INT(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/store.db", dir);
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(claim(s, "h", "k", H1, 1, &r), 0);
	T_EQ_INT(store_health(s, NULL), 0);
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	T_EQ_INT(system(path), 0);
	T_EQ_INT(store_health(s, NULL), -EROFS);
	T_CHECK(strstr(store_errmsg(s), "moved") != NULL);
	store_close(s);
	s = NULL;

	/* another connection holding the write lock past the busy timeout */
	newpath(path, sizeof path, "health-busy");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	T_EQ_INT(sqlite3_open(path, &other), SQLITE_OK);
	T_EQ_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	T_EQ_INT(store_health(s, NULL), -EBUSY);
	T_EQ_INT(claim(s, "h", "k", H1, 1, &r), -EBUSY);
	T_EQ_INT(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	T_EQ_INT(store_health(s, NULL), 0);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 0); /* the failed claim left nothing */
	T_EQ_INT(claim(s, "h", "k", H1, 1, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	store_close(s);
}

/* The claim's lookup of the latest attempt must be an index search. */
static void test_claim_lookup_uses_index(void)
{
	char path[128], out[512];
	struct store *s = NULL;

	newpath(path, sizeof path, "plan");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	store_close(s);
	T_EQ_INT(cli(path, "EXPLAIN QUERY PLAN SELECT id, attempt, state, body_sha256, http_status, "
	    "response FROM jobs WHERE hook = 'h' AND key = 'k' ORDER BY attempt DESC LIMIT 1;", out,
	    sizeof out), 0);
	T_CHECK(strstr(out, "SEARCH jobs USING INDEX sqlite_autoindex_jobs_1 (hook=? AND key=?)") !=
	    NULL);
	T_CHECK(strstr(out, "TEMP B-TREE") == NULL);
	T_EQ_INT(cli(path, "EXPLAIN QUERY PLAN UPDATE jobs SET state = 'interrupted' "
	    "WHERE state = 'running';", out, sizeof out), 0);
	T_CHECK(strstr(out, "USING INDEX jobs_running") != NULL);
}

/* The queue and the listings read an index in order: no scan, no sort. The
 * SQL is store_sqlite_schema.c's, restated (a change there must be a change
 * here). */
static void test_queue_and_list_use_indexes(void)
{
	static const struct {
		const char *sql, *want;
	} plans[] = {
		{ "SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1", "INDEX jobs_queued" },
		{ "SELECT count(*) FROM jobs WHERE state = 'queued'", "INDEX jobs_queued" },
		{ "SELECT * FROM jobs ORDER BY id DESC LIMIT 5", "SCAN jobs" },
		{ "SELECT * FROM jobs WHERE hook = 'h' ORDER BY id DESC LIMIT 5", "INDEX jobs_hook" },
		{ "SELECT * FROM jobs WHERE state IN ('failed', 'timeout', 'interrupted')"
		  " ORDER BY id DESC LIMIT 5", "INDEX jobs_failed" },
		{ "SELECT * FROM jobs WHERE hook = 'h' AND state IN ('failed', 'timeout', "
		  "'interrupted') ORDER BY id DESC LIMIT 5", "INDEX jobs_" },
	};
	char path[128], sql[512], out[400];
	struct store *s = NULL;
	size_t i;

	newpath(path, sizeof path, "plan2");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	store_close(s);
	for (i = 0; i < sizeof plans / sizeof plans[0]; i++) {
		snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s;", plans[i].sql);
		T_EQ_INT(cli(path, sql, out, sizeof out), 0);
		if (!strstr(out, plans[i].want) || strstr(out, "TEMP B-TREE") ||
		    (strcmp(plans[i].want, "SCAN jobs") && strstr(out, "SCAN jobs\n"))) {
			T_EQ_STR(out, plans[i].want); /* shows the plan */
		}
	}
}

/* Real processes: each opens its own store and claims when the pipe closes. */
static void test_processes_one_file(void)
{
	enum { NPROC = 6 };
	char path[128];
	pid_t pid[NPROC];
	int pfd[2], i, news = 0, busies = 0;

	newpath(path, sizeof path, "procs");
	T_EQ_INT(pipe(pfd), 0);
	for (i = 0; i < NPROC; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct store *s = NULL;
			struct store_claim_res r = { 0 };
			char c;
			close(pfd[1]);
			if (sopen(path, 0, NULL, &s))
				_exit(100);
			if (read(pfd[0], &c, 1) != 0)
				_exit(101);
			if (claim(s, "proc", "same", H1, 1, &r))
				_exit(102);
			store_close(s);
			_exit((int)r.kind);
		}
	}
	close(pfd[0]);
	usleep(200000); /* let them all open */
	close(pfd[1]);   /* go */
	for (i = 0; i < NPROC; i++) {
		int st = 0;
		T_CHECK(pid[i] > 0 && waitpid(pid[i], &st, 0) == pid[i]);
		T_CHECK(WIFEXITED(st));
		if (WEXITSTATUS(st) == STORE_NEW)
			news++;
		else if (WEXITSTATUS(st) == STORE_BUSY)
			busies++;
	}
	T_EQ_INT(news, 1);
	T_EQ_INT(busies, NPROC - 1);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 1);
}

/* The version-1 schema exactly as the first release wrote it, with rows in
 * every state, written by an independent connection: store_open migrates it
 * to the current version, keeps every row, drops the signature headers kept
 * with a delivery, and the new functions work on it. */
static void test_migrate_from_v1(void)
{
	static const char v1[] =
	    "CREATE TABLE deliveries (hook TEXT NOT NULL, key TEXT NOT NULL,"
	    "  body_sha256 TEXT NOT NULL, body BLOB, headers TEXT, received_ms INTEGER NOT NULL,"
	    "  PRIMARY KEY (hook, key));"
	    "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, hook TEXT NOT NULL,"
	    "  key TEXT NOT NULL, attempt INTEGER NOT NULL CHECK (attempt >= 1),"
	    "  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded',"
	    "    'failed', 'timeout', 'interrupted')),"
	    "  body_sha256 TEXT NOT NULL, created_ms INTEGER NOT NULL, started_ms INTEGER,"
	    "  finished_ms INTEGER, exit_code INTEGER, signal TEXT, error TEXT, http_status INTEGER,"
	    "  response TEXT, output_tail TEXT, UNIQUE (hook, key, attempt),"
	    "  FOREIGN KEY (hook, key) REFERENCES deliveries (hook, key));"
	    "CREATE INDEX jobs_finished ON jobs (finished_ms);"
	    "CREATE INDEX jobs_active ON jobs (state) WHERE state IN ('queued', 'running');"
	    "INSERT INTO deliveries VALUES ('h', 'ok', '" H1 "', x'7b7d', NULL, 1),"
	    "  ('h', 'bad', '" H1 "', x'00ff', '{\"headers\":{}}', 1),"
	    "  ('h', 'run', '" H1 "', x'', NULL, 1), ('h', 'q', '" H1 "', x'',"
	    "  '{\"headers\":{\"X-Hookdeck-Signature\":\"c2ln\",\"x-hub-signature-256\":\"sha256=00\","
	    "\"webhook-signature\":\"v1,AA\",\"X-Hookdeck-Signature-2\":\"c2ln\",\"X-Hub-Signature\":\"sha1=0\","
	    "\"X-GitHub-Event\":\"push\"},\"claims\":{\"sub\":\"ci\"}}', 1);"
	    "INSERT INTO jobs (hook, key, attempt, state, body_sha256, created_ms, finished_ms,"
	    "  http_status) VALUES ('h', 'ok', 1, 'succeeded', '" H1 "', 1, 2, 200),"
	    "  ('h', 'bad', 1, 'failed', '" H1 "', 1, 2, 500),"
	    "  ('h', 'run', 1, 'running', '" H1 "', 1, NULL, NULL),"
	    "  ('h', 'q', 1, 'queued', '" H1 "', 1, NULL, NULL);"
	    /* a job pruned since: its id stays used (the rebuild of version 4 keeps it) */
	    "INSERT INTO jobs (id, hook, key, attempt, state, body_sha256, created_ms)"
	    "  VALUES (9, 'h', 'q', 2, 'failed', '" H1 "', 1);"
	    "DELETE FROM jobs WHERE id = 9;"
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA user_version = 1;";
	char path[128], out[256], idx[512], *body, *meta;
	sqlite3 *db = NULL;
	struct store *s = NULL;
	struct store_claim_res r;
	struct store_job j;
	size_t len;
	int n = -1;

	newpath(path, sizeof path, "v1");
	T_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	T_EQ_INT(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	T_EQ_INT(q1(path, "PRAGMA user_version"), 1);

	T_EQ_INT(sopen(path, 1, &n, &s), 0);
	if (!s)
		return;
	T_EQ_INT(n, 1); /* 'run'; 'q' stays queued */
	T_EQ_INT(q1(path, "PRAGMA user_version"), 4);
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name;", idx,
	    sizeof idx), 0);
	T_CHECK(!strcmp(idx, SCHEMA_INDEXES));
	/* signatures gone, every other header and the claims kept */
	T_EQ_INT(cli(path, "SELECT headers FROM deliveries WHERE key = 'q';", out, sizeof out), 0);
	T_EQ_STR(out, "{\"headers\":{\"X-GitHub-Event\":\"push\"},\"claims\":{\"sub\":\"ci\"}}\n");
	T_EQ_INT(cli(path, "SELECT group_concat(key || ':' || state, ',') FROM (SELECT * FROM jobs "
	    "ORDER BY id);", out, sizeof out), 0);
	T_EQ_STR(out, "ok:succeeded,bad:failed,run:interrupted,q:queued\n");
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries"), 4);
	T_EQ_INT(cli(path, "PRAGMA integrity_check;", out, sizeof out), 0);
	T_EQ_STR(out, "ok\n");

	list_keys(s, NULL, 1, 10, out, sizeof out, &n);
	T_EQ_INT(n, 0);
	T_EQ_STR(out, "run,bad");
	T_EQ_INT(store_take_queued(s, 9, &j, &body, &len, &meta), 0);
	T_EQ_STR(j.key, "q");
	store_job_clear(&j);
	free(body);
	free(meta);
	T_EQ_INT(store_claim_again(s, 2, jobstate_from_name("running"), 10, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_INT(r.job_id, 10); /* AUTOINCREMENT's high-water mark carried over */
	T_EQ_INT(store_delivery_get(s, "h", "bad", &body, &len, &meta), 0);
	T_EQ_INT(len, 2);
	T_CHECK(body && body[0] == 0 && (unsigned char)body[1] == 0xff);
	T_EQ_STR(meta, "{\"headers\":{}}");
	free(body);
	free(meta);
	store_close(s);
	s = NULL;
	/* a second open has nothing left to migrate */
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	store_close(s);
	T_EQ_INT(q1(path, "PRAGMA user_version"), 4);
}

/* What store_open and store_health say went wrong, for the SQLite file. */
static void test_why(void)
{
	char path[160], dir[128], out[64];
	struct store_config sc = { .must_exist = 1 };
	struct store *s = NULL, *other = NULL;
	enum store_why why = STORE_WHY_NONE;

	snprintf(path, sizeof path, "%s/absent.db", g_dir);
	sc.sqlite_path = path;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), -ENOENT);
	T_EQ_INT(why, STORE_WHY_ABSENT);
	T_EQ_INT(access(path, F_OK), -1); /* not created */
	sc.sqlite_path = "";
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), -ENOENT);
	T_EQ_INT(why, STORE_WHY_ABSENT);
	sc.sqlite_path = g_dir; /* a directory */
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), -EINVAL);
	T_EQ_INT(why, STORE_WHY_NOT_A_STORE);
	snprintf(path, sizeof path, "%s/fifo.db", g_dir);
	T_EQ_INT(mkfifo(path, 0600), 0);
	sc.sqlite_path = path;
	sc.must_exist = 0;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), -EINVAL);
	T_EQ_INT(why, STORE_WHY_NOT_A_STORE);
	T_CHECK(s == NULL);

	newpath(path, sizeof path, "why-newer");
	sc.sqlite_path = path;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), 0);
	T_EQ_INT(why, STORE_WHY_NONE);
	store_close(s);
	s = NULL;
	T_EQ_INT(cli(path, "PRAGMA user_version = 99;", out, sizeof out), 0);
	sc.must_exist = 1;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), -EPROTO);
	T_EQ_INT(why, STORE_WHY_NEWER);

	/* health: locked by another connection, then the file gone */
	snprintf(dir, sizeof dir, "%s/why-gone", g_dir);
	T_EQ_INT(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/store.db", dir);
	sc.sqlite_path = path;
	sc.must_exist = 0;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, NULL), 0);
	T_EQ_INT(store_open(&sc, &other, 0, NULL, NULL), 0);
	if (!s || !other)
		goto out;
	T_EQ_INT(store_health(s, &why), 0);
	T_EQ_INT(why, STORE_WHY_NONE);
	{
		struct store_claim_res r;
		sqlite3 *db = NULL;
		T_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
		T_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
		T_EQ_INT(store_health(s, &why), -EBUSY);
		T_EQ_INT(why, STORE_WHY_LOCKED);
		T_EQ_INT(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		T_EQ_INT(claim(s, "h", "k", H1, 1, &r), 0);
	}
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	T_EQ_INT(system(path), 0);
	T_EQ_INT(store_health(s, &why), -EROFS);
	T_EQ_INT(why, STORE_WHY_GONE);
	T_EQ_INT(store_health(other, NULL), -EROFS);
out:
	store_close(s);
	store_close(other);
}

int main(void)
{
	if (sqlite_test_begin("runner_store_sqlite") != 0)
		return 1;
	T_RUN(test_open_creates_schema);
	T_RUN(test_newer_schema_refused);
	T_RUN(test_body_and_headers_kept);
	T_RUN(test_open_fails_cleanly);
	{
		char probe[128];
		FILE *f;

		snprintf(probe, sizeof probe, "%s/probe", g_dir);
		f = fopen(probe, "w");
		if (f)
			fclose(f);
		g_can_readonly = f && make_readonly(probe, 1) == 0 && make_readonly(probe, 0) == 0;
	}
	if (g_can_readonly)
		T_RUN(test_health_readonly_file);
	else
		printf("skip test_health_readonly_file: cannot make a file read-only here\n");
	T_RUN(test_health);
	T_RUN(test_claim_lookup_uses_index);
	T_RUN(test_processes_one_file);
	T_RUN(test_queue_and_list_use_indexes);
	T_RUN(test_migrate_from_v1);
	T_RUN(test_why);
	return sqlite_test_end();
}
