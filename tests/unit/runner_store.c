/*
 * runner_store.c — unit tests of runner/store.c on real SQLite files in a
 * mkdtemp directory. What the store wrote is checked through independent
 * readers: the sqlite3 CLI (popen) and separate read-only connections, so
 * the store is not only checked against itself. Concurrency is checked with
 * threads on one handle, two handles on one file, and forked processes.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runner/store.h"
#include "t.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char g_dir[64];
static int g_seq;

/* A fresh database path in the test directory. */
static void newpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s-%d.db", g_dir, name, ++g_seq);
}

/* First column of the first row of SQL, through a separate read-only
 * connection; -1000 on any error. */
static long long q1(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1000;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Run the sqlite3 CLI on PATH with SQL; its stdout (newlines kept) in OUT. */
static int cli(const char *path, const char *sql, char *out, size_t cap)
{
	char cmd[1024];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"%s\" 2>/dev/null", path, sql);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	return pclose(f);
}

static int claim(struct store *s, const char *hook, const char *key, const char *sha, int64_t now,
    struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	return store_claim(s, hook, key, sha, body, sizeof body - 1, "{\"x-a\":\"1\"}", now, r);
}

static int finish(struct store *s, int64_t id, const char *state, int http, const char *resp,
    int64_t finished_ms)
{
	struct store_outcome o = {
		.state = state, .started_ms = finished_ms - 10, .finished_ms = finished_ms,
		.exit_code = !strcmp(state, "succeeded") ? 0 : 1, .http_status = http,
		.response = resp,
	};
	return store_finish(s, id, &o);
}

static void test_open_creates_schema(void)
{
	char path[128], out[256], wal[160];
	struct store *s = NULL;
	struct store_claim_res r;
	struct stat st;
	mode_t old = umask(0); /* the 0600 must not depend on the umask */
	int n = -1;

	newpath(path, sizeof path, "schema");
	T_EQ_INT(store_open(path, 1, &n, &s), 0);
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
	T_EQ_STR(out, "1\nwal\n");
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;", out,
	    sizeof out), 0);
	T_EQ_STR(out, "deliveries\njobs\nsqlite_sequence\n");
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name;", out,
	    sizeof out), 0);
	T_EQ_STR(out, "jobs_active\njobs_finished\nsqlite_autoindex_deliveries_1\n"
	    "sqlite_autoindex_jobs_1\n");
	store_close(s);
	s = NULL;

	/* reopen: same version, same rows, nothing re-created */
	T_EQ_INT(store_open(path, 0, &n, &s), 0);
	T_CHECK(s != NULL);
	store_close(s);
	s = NULL;
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 2, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	store_close(s);
	T_EQ_INT(cli(path, "PRAGMA user_version; PRAGMA journal_mode; SELECT count(*) FROM jobs;", out,
	    sizeof out), 0);
	T_EQ_STR(out, "1\nwal\n1\n");
}

static void test_newer_schema_refused(void)
{
	char path[128], out[64];
	struct store *s = NULL;

	newpath(path, sizeof path, "newer");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	store_close(s);
	s = NULL;
	T_EQ_INT(cli(path, "PRAGMA user_version = 99;", out, sizeof out), 0);
	T_EQ_INT(store_open(path, 0, NULL, &s), -EPROTO);
	T_CHECK(s == NULL);
	T_EQ_INT(q1(path, "PRAGMA user_version"), 99); /* left as it was */
}

static void test_new_then_busy(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, b;

	newpath(path, sizeof path, "busy");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "deploy", "evt_1", H1, 1000, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(a.attempt, 1);
	T_CHECK(a.job_id > 0);
	T_EQ_INT(claim(s, "deploy", "evt_1", H1, 1001, &b), 0);
	T_EQ_INT(b.kind, STORE_BUSY);
	T_EQ_INT(b.job_id, a.job_id);
	T_EQ_INT(b.attempt, 1);
	T_CHECK(b.response == NULL);
	store_close(s);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 1);
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries"), 1);
}

static void test_succeeded_replays(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, r;
	const char *resp = "{\"job\":1,\"status\":\"succeeded\",\"tail\":\"caf\xc3\xa9\\n\"}";

	newpath(path, sizeof path, "replay");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1000, &a), 0);
	T_EQ_INT(finish(s, a.job_id, "succeeded", 200, resp, 2000), 0);
	for (int i = 0; i < 2; i++) { /* and again: still nothing runs */
		T_EQ_INT(claim(s, "h", "k", H1, 3000, &r), 0);
		T_EQ_INT(r.kind, STORE_REPLAY);
		T_EQ_INT(r.job_id, a.job_id);
		T_EQ_INT(r.attempt, 1);
		T_EQ_INT(r.http_status, 200);
		T_EQ_STR(r.response, resp);
		store_claim_res_clear(&r);
		T_CHECK(r.response == NULL);
	}
	/* a succeeded job with no response recorded replays "" */
	T_EQ_INT(claim(s, "h", "k2", H1, 1000, &a), 0);
	T_EQ_INT(finish(s, a.job_id, "succeeded", 204, NULL, 2000), 0);
	T_EQ_INT(claim(s, "h", "k2", H1, 3000, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_INT(r.http_status, 204);
	T_EQ_STR(r.response, "");
	store_claim_res_clear(&r);
	store_close(s);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 2);
}

static void test_failed_retries(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, r;
	struct store_job j;

	newpath(path, sizeof path, "retry");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1000, &a), 0);
	T_EQ_INT(finish(s, a.job_id, "failed", 500, "{}", 1100), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1200, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_CHECK(r.job_id > a.job_id);
	T_EQ_INT(claim(s, "h", "k", H1, 1250, &a), 0);
	T_EQ_INT(a.kind, STORE_BUSY);
	T_EQ_INT(a.attempt, 2);
	T_EQ_INT(a.job_id, r.job_id);
	T_EQ_INT(finish(s, r.job_id, "timeout", 504, "{}", 1300), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1400, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 3);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_STR(j.state, "running");
	T_EQ_INT(j.attempt, 3);
	T_EQ_INT(j.created_ms, 1400);
	store_job_clear(&j);
	T_EQ_INT(finish(s, r.job_id, "succeeded", 200, "ok3", 1500), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1600, &a), 0);
	T_EQ_INT(a.kind, STORE_REPLAY);
	T_EQ_INT(a.attempt, 3);
	T_EQ_STR(a.response, "ok3");
	store_claim_res_clear(&a);
	store_close(s);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE hook = 'h' AND key = 'k'"), 3);
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries"), 1);
	T_EQ_INT(q1(path, "SELECT received_ms FROM deliveries"), 1400); /* refreshed by the retry */
}

/* Rows and their content, as an independent reader sees them. */
static long long fingerprint(const char *path)
{
	return q1(path, "SELECT (SELECT count(*) FROM jobs) * 1000000 + (SELECT count(*) FROM "
	    "deliveries) * 1000 + (SELECT total(length(body)) + total(received_ms) FROM deliveries)"
	    " + (SELECT total(attempt) FROM jobs)");
}

static void test_mismatch_in_every_state(void)
{
	/* "interrupted" first: the reopen that makes it marks every running job */
	static const char *const states[] = { "interrupted", "running", "succeeded", "failed",
		"timeout" };
	char path[128], key[32];
	struct store *s = NULL;
	struct store_claim_res a, r;
	long long before;
	size_t i;

	newpath(path, sizeof path, "mismatch");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	for (i = 0; i < sizeof states / sizeof states[0]; i++) {
		snprintf(key, sizeof key, "k-%s", states[i]);
		T_EQ_INT(claim(s, "h", key, H1, 1000, &a), 0);
		if (!strcmp(states[i], "interrupted")) {
			store_close(s);
			s = NULL;
			T_EQ_INT(store_open(path, 1, NULL, &s), 0);
			if (!s)
				return;
		} else if (strcmp(states[i], "running")) {
			T_EQ_INT(finish(s, a.job_id, states[i], 200, "{}", 1100), 0);
		}
	}
	before = fingerprint(path);
	T_CHECK(before > 0);
	for (i = 0; i < sizeof states / sizeof states[0]; i++) {
		struct store_job j;
		snprintf(key, sizeof key, "k-%s", states[i]);
		T_EQ_INT(store_claim(s, "h", key, H2, (const unsigned char *)"other", 5, NULL, 5000,
		    &r), 0);
		T_EQ_INT(r.kind, STORE_MISMATCH);
		T_CHECK(r.response == NULL);
		T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
		T_EQ_STR(j.state, states[i]);
		T_EQ_STR(j.key, key);
		store_job_clear(&j);
	}
	T_EQ_INT(fingerprint(path), before); /* nothing was written */
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries WHERE body_sha256 = '" H2 "'"), 0);
	store_close(s);
}

static void test_hooks_are_independent(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, b, r;

	newpath(path, sizeof path, "hooks");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "alpha", "same", H1, 1, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(claim(s, "beta", "same", H2, 1, &b), 0); /* other hook: other body is fine */
	T_EQ_INT(b.kind, STORE_NEW);
	T_CHECK(a.job_id != b.job_id);
	T_EQ_INT(finish(s, a.job_id, "succeeded", 200, "A", 2), 0);
	T_EQ_INT(claim(s, "beta", "same", H2, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(claim(s, "alpha", "same", H1, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_STR(r.response, "A");
	store_claim_res_clear(&r);
	/* keys are compared exactly */
	T_EQ_INT(claim(s, "alpha", "Same", H1, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	store_close(s);
}

static void test_mark_interrupted(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, b, c, r;
	struct store_job j;
	int n = -1;

	newpath(path, sizeof path, "interrupted");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "a", H1, 1, &a), 0);
	T_EQ_INT(claim(s, "h", "b", H1, 1, &b), 0);
	T_EQ_INT(claim(s, "h", "c", H1, 1, &c), 0);
	T_EQ_INT(finish(s, c.job_id, "succeeded", 200, "c", 2), 0);
	store_close(s); /* "the process died" with a and b running */
	s = NULL;

	T_EQ_INT(store_open(path, 0, &n, &s), 0); /* a CLI does not mark */
	T_EQ_INT(n, 0);
	T_EQ_INT(claim(s, "h", "a", H1, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	store_close(s);
	s = NULL;

	n = -1;
	T_EQ_INT(store_open(path, 1, &n, &s), 0);
	T_EQ_INT(n, 2);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'interrupted' AND finished_ms > 0"),
	    2);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_STR(j.state, "interrupted");
	store_job_clear(&j);
	T_EQ_INT(store_job_get(s, c.job_id, &j), 0);
	T_EQ_STR(j.state, "succeeded");
	store_job_clear(&j);
	T_EQ_INT(claim(s, "h", "a", H1, 4, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	store_close(s);
	s = NULL;

	n = -1;
	T_EQ_INT(store_open(path, 1, &n, &s), 0); /* only the new running attempt of a */
	T_EQ_INT(n, 1);
	store_close(s);
}

static void test_job_get_fields(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a;
	struct store_job j;
	struct store_outcome o = {
		.state = "failed", .started_ms = 1000000000123LL, .finished_ms = 1000000004567LL,
		.exit_code = 3, .signal = "SIGTERM", .error = "timeout_connect", .http_status = 500,
		.response = "{\"status\":\"failed\"}", .output_tail = "line1\nline2\n",
	};

	newpath(path, sizeof path, "get");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "deploy-web", "delivery-42", H1, 999999999999LL, &a), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_INT(j.id, a.job_id);
	T_EQ_STR(j.hook, "deploy-web");
	T_EQ_STR(j.key, "delivery-42");
	T_EQ_STR(j.state, "running");
	T_EQ_INT(j.attempt, 1);
	T_EQ_INT(j.created_ms, 999999999999LL);
	T_EQ_INT(j.started_ms, 999999999999LL);
	T_EQ_INT(j.finished_ms, 0);
	T_EQ_INT(j.exit_code, -1);
	T_EQ_STR(j.signal, "");
	T_EQ_STR(j.error, "");
	T_EQ_INT(j.http_status, 0);
	T_CHECK(j.response == NULL);
	T_CHECK(j.output_tail == NULL);
	store_job_clear(&j);

	T_EQ_INT(store_finish(s, a.job_id, &o), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_STR(j.state, "failed");
	T_EQ_INT(j.started_ms, 1000000000123LL);
	T_EQ_INT(j.finished_ms, 1000000004567LL);
	T_EQ_INT(j.exit_code, 3);
	T_EQ_STR(j.signal, "SIGTERM");
	T_EQ_STR(j.error, "timeout_connect");
	T_EQ_INT(j.http_status, 500);
	T_EQ_STR(j.response, "{\"status\":\"failed\"}");
	T_EQ_STR(j.output_tail, "line1\nline2\n");
	store_job_clear(&j);
	T_CHECK(j.response == NULL && j.output_tail == NULL);

	/* exit_code -1 and NULL texts stay "none" */
	o.state = "timeout";
	o.exit_code = -1;
	o.signal = o.error = o.output_tail = NULL;
	T_EQ_INT(store_finish(s, a.job_id, &o), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_STR(j.state, "timeout");
	T_EQ_INT(j.exit_code, -1);
	T_EQ_STR(j.signal, "");
	T_CHECK(j.output_tail == NULL);
	store_job_clear(&j);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE exit_code IS NULL AND signal IS NULL"), 1);

	T_EQ_INT(store_job_get(s, a.job_id + 100, &j), -ENOENT);
	T_EQ_INT(store_finish(s, a.job_id + 100, &o), -ENOENT);
	T_CHECK(strstr(store_errmsg(s), "no such job") != NULL);
	store_close(s);
}

/* Bulk rows straight into the schema (an independent writer). */
static int bulk_finished(const char *path, int n, int64_t finished_ms)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *d = NULL, *j = NULL;
	char key[32];
	int rc = -1, i;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO deliveries VALUES (?1, ?2, '" H1 "', x'00', NULL, 0)",
	    -1, &d, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO jobs (hook, key, attempt, state, body_sha256, "
	    "created_ms, finished_ms) VALUES (?1, ?2, 1, 'succeeded', '" H1 "', 0, ?3)", -1, &j,
	    NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "bulk-%d", i);
		sqlite3_bind_text(d, 1, "bulk", -1, SQLITE_STATIC);
		sqlite3_bind_text(d, 2, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(j, 1, "bulk", -1, SQLITE_STATIC);
		sqlite3_bind_text(j, 2, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(j, 3, finished_ms);
		if (sqlite3_step(d) != SQLITE_DONE || sqlite3_step(j) != SQLITE_DONE)
			goto out;
		sqlite3_reset(d);
		sqlite3_reset(j);
	}
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
out:
	sqlite3_finalize(d);
	sqlite3_finalize(j);
	sqlite3_close(db);
	return rc;
}

static void test_prune(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res k1, k2, k2b, k3, k4, r;
	int n = -1;

	newpath(path, sizeof path, "prune");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "k1", H1, 100, &k1), 0);
	T_EQ_INT(finish(s, k1.job_id, "succeeded", 200, "1", 1000), 0);
	T_EQ_INT(claim(s, "h", "k2", H1, 100, &k2), 0);
	T_EQ_INT(finish(s, k2.job_id, "failed", 500, "2", 1000), 0);
	T_EQ_INT(claim(s, "h", "k2", H1, 1500, &k2b), 0); /* attempt 2 running */
	T_EQ_INT(k2b.kind, STORE_RETRY);
	T_EQ_INT(claim(s, "h", "k3", H1, 100, &k3), 0);
	T_EQ_INT(finish(s, k3.job_id, "succeeded", 200, "3", 5000), 0); /* newer than the cutoff */
	T_EQ_INT(claim(s, "h", "k4", H1, 0, &k4), 0); /* running since long ago */

	T_EQ_INT(store_prune(s, 2000, &n), 0);
	T_EQ_INT(n, 2); /* k1 and k2's first attempt */
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 3);
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries"), 3); /* k1's went with its last job */
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries WHERE key = 'k1'"), 0);
	T_EQ_INT(claim(s, "h", "k1", H1, 6000, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW); /* the key expired */
	T_EQ_INT(claim(s, "h", "k2", H1, 6000, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_INT(claim(s, "h", "k3", H1, 6000, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	store_claim_res_clear(&r);
	T_EQ_INT(claim(s, "h", "k4", H1, 6000, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);

	/* a cutoff past everything still keeps the running ones */
	T_EQ_INT(store_prune(s, INT64_MAX, &n), 0);
	T_EQ_INT(n, 1); /* k3 */
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'running'"), 3);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 3);
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries"), 3);

	/* more than one batch (1000 per transaction) */
	T_EQ_INT(bulk_finished(path, 2500, 10), 0);
	T_EQ_INT(store_prune(s, 11, &n), 0);
	T_EQ_INT(n, 2500);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 3);
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries"), 3);
	T_EQ_INT(store_prune(s, 11, &n), 0);
	T_EQ_INT(n, 0);
	store_close(s);
}

static void test_ids_never_reused(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, b;
	struct store_job j;
	int n;

	newpath(path, sizeof path, "ids");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "a", H1, 1, &a), 0);
	T_EQ_INT(finish(s, a.job_id, "succeeded", 200, "a", 2), 0);
	T_EQ_INT(store_prune(s, 3, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(claim(s, "h", "b", H1, 4, &b), 0);
	T_CHECK(b.job_id > a.job_id);
	T_EQ_INT(store_job_get(s, a.job_id, &j), -ENOENT);
	store_close(s);
}

static void test_body_and_headers_kept(void)
{
	static const unsigned char body[] = { 'a', 0, 'b', 0xff, '\n' };
	char path[128], out[128];
	struct store *s = NULL;
	struct store_claim_res a;

	newpath(path, sizeof path, "body");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
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

static void test_bad_inputs(void)
{
	char path[128], longkey[300];
	struct store *s = NULL;
	struct store_claim_res r;
	struct store_outcome o = { .state = "running", .exit_code = -1 };
	const unsigned char b[] = "x";

	T_EQ_INT(store_open(NULL, 0, NULL, &s), -EINVAL);
	T_EQ_INT(store_open("", 0, NULL, &s), -EINVAL);
	T_CHECK(s == NULL);
	newpath(path, sizeof path, "bad");
	T_EQ_INT(store_open(path, 0, NULL, NULL), -EINVAL);
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	if (!s)
		return;
	memset(longkey, 'k', sizeof longkey);
	longkey[256] = 0; /* 256 bytes: one too many */
	T_EQ_INT(store_claim(s, NULL, "k", H1, b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "", "k", H1, b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", NULL, H1, b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", "", H1, b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", longkey, H1, b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", "k", NULL, b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", "k", "abc", b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", "k", H1 "0", b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", "k", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	    b, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", "k", H1, NULL, 1, NULL, 1, &r), -EINVAL);
	T_EQ_INT(store_claim(s, "h", "k", H1, b, 1, NULL, 1, NULL), -EINVAL);
	T_EQ_INT(store_claim(NULL, "h", "k", H1, b, 1, NULL, 1, &r), -EINVAL);
	T_CHECK(strstr(store_errmsg(s), "invalid") != NULL);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 0);
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries"), 0);
	longkey[255] = 0; /* 255 bytes fit */
	T_EQ_INT(store_claim(s, "h", longkey, H1, b, 1, NULL, 1, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);

	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL); /* not an outcome */
	o.state = "succeeded";
	o.signal = "SIGNAL_NAME_LONGER_THAN_THIRTY_ONE_BYTES";
	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL);
	T_EQ_INT(store_finish(s, r.job_id, NULL), -EINVAL);
	T_EQ_INT(store_finish(NULL, r.job_id, &o), -EINVAL);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'running'"), 1);
	T_EQ_INT(store_prune(NULL, 0, NULL), -EINVAL);
	T_EQ_INT(store_health(NULL), -EINVAL);
	store_close(s);
	store_close(NULL);
}

static void test_open_fails_cleanly(void)
{
	char path[160];
	struct store *s = (struct store *)&s; /* must come back NULL */
	int rc;

	rc = store_open("/proc/webhook-runner-store-test.db", 0, NULL, &s);
	T_CHECK(rc < 0);
	T_CHECK(s == NULL);
	snprintf(path, sizeof path, "%s/no/such/dir/x.db", g_dir);
	T_EQ_INT(store_open(path, 0, NULL, &s), -ENOENT);
	T_EQ_INT(store_open(g_dir, 0, NULL, &s), -EISDIR);
	T_CHECK(s == NULL);
}

/* Make PATH unwritable for us: chmod as a user, chattr +i as root (root
 * ignores modes). 0 when done. */
static int make_readonly(const char *path, int on)
{
	char cmd[256];

	if (geteuid() != 0)
		return chmod(path, on ? 0400 : 0600);
	snprintf(cmd, sizeof cmd, "chattr %ci '%s' 2>/dev/null", on ? '+' : '-', path);
	return system(cmd) == 0 ? 0 : -1;
}

static int g_can_readonly;

static void test_health_readonly_file(void)
{
	char path[128];
	struct store *s = NULL, *s2 = NULL;
	int rc;

	newpath(path, sizeof path, "health-ro");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(store_health(s), 0);
	T_EQ_INT(make_readonly(path, 1), 0);
	rc = store_health(s);
	T_CHECK(rc == -EPERM || rc == -EACCES || rc == -EROFS);
	T_CHECK(*store_errmsg(s) != 0);
	rc = store_open(path, 0, NULL, &s2); /* a new open refuses too */
	T_CHECK(rc == -EPERM || rc == -EACCES || rc == -EROFS);
	T_CHECK(s2 == NULL);
	T_EQ_INT(make_readonly(path, 0), 0);
	T_EQ_INT(store_health(s), 0);
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
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(claim(s, "h", "k", H1, 1, &r), 0);
	T_EQ_INT(store_health(s), 0);
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	T_EQ_INT(system(path), 0);
	T_EQ_INT(store_health(s), -EROFS);
	T_CHECK(strstr(store_errmsg(s), "moved") != NULL);
	store_close(s);
	s = NULL;

	/* another connection holding the write lock past the busy timeout */
	newpath(path, sizeof path, "health-busy");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	T_EQ_INT(sqlite3_open(path, &other), SQLITE_OK);
	T_EQ_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	T_EQ_INT(store_health(s), -EBUSY);
	T_EQ_INT(claim(s, "h", "k", H1, 1, &r), -EBUSY);
	T_EQ_INT(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	T_EQ_INT(store_health(s), 0);
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
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	store_close(s);
	T_EQ_INT(cli(path, "EXPLAIN QUERY PLAN SELECT id, attempt, state, body_sha256, http_status, "
	    "response FROM jobs WHERE hook = 'h' AND key = 'k' ORDER BY attempt DESC LIMIT 1;", out,
	    sizeof out), 0);
	T_CHECK(strstr(out, "SEARCH jobs USING INDEX sqlite_autoindex_jobs_1 (hook=? AND key=?)") !=
	    NULL);
	T_CHECK(strstr(out, "TEMP B-TREE") == NULL);
	T_EQ_INT(cli(path, "EXPLAIN QUERY PLAN UPDATE jobs SET state = 'interrupted' "
	    "WHERE state IN ('queued', 'running');", out, sizeof out), 0);
	T_CHECK(strstr(out, "USING INDEX jobs_active") != NULL);
}

/* ---- concurrency ----------------------------------------------------- */

struct racer {
	struct store *s;
	pthread_barrier_t *go;
	const char *key;
	int rc;
	struct store_claim_res r;
};

static void *race(void *arg)
{
	struct racer *x = arg;

	pthread_barrier_wait(x->go);
	x->rc = claim(x->s, "race", x->key, H1, 42, &x->r);
	return NULL;
}

/* N threads claim KEY at once, spread over the NS handles; counts kinds. */
static void race_claims(struct store **ss, int ns, int n, const char *key, int *news, int *busies)
{
	pthread_t th[16];
	struct racer x[16];
	pthread_barrier_t go;
	int64_t id = 0;
	int i;

	*news = *busies = 0;
	pthread_barrier_init(&go, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		x[i] = (struct racer){ .s = ss[i % ns], .go = &go, .key = key };
		pthread_create(&th[i], NULL, race, &x[i]);
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < n; i++) {
		T_EQ_INT(x[i].rc, 0);
		if (x[i].r.kind == STORE_NEW) {
			(*news)++;
			id = x[i].r.job_id;
		} else if (x[i].r.kind == STORE_BUSY) {
			(*busies)++;
		}
	}
	for (i = 0; i < n; i++) /* everyone names the same job */
		T_EQ_INT(x[i].r.job_id, id);
}

static void test_threads_one_handle(void)
{
	char path[128];
	struct store *s = NULL;
	int news, busies;

	newpath(path, sizeof path, "threads");
	T_EQ_INT(store_open(path, 0, NULL, &s), 0);
	if (!s)
		return;
	race_claims(&s, 1, 16, "same", &news, &busies);
	T_EQ_INT(news, 1);
	T_EQ_INT(busies, 15);
	store_close(s);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 1);
}

static void test_two_handles_one_file(void)
{
	char path[128], key[32];
	struct store *ss[2] = { NULL, NULL };
	int news, busies, round;

	newpath(path, sizeof path, "handles");
	T_EQ_INT(store_open(path, 0, NULL, &ss[0]), 0);
	T_EQ_INT(store_open(path, 0, NULL, &ss[1]), 0);
	if (!ss[0] || !ss[1])
		goto out;
	for (round = 0; round < 10; round++) {
		snprintf(key, sizeof key, "round-%d", round);
		race_claims(ss, 2, 8, key, &news, &busies);
		T_EQ_INT(news, 1);
		T_EQ_INT(busies, 7);
	}
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 10);
out:
	store_close(ss[0]);
	store_close(ss[1]);
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
			if (store_open(path, 0, NULL, &s))
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

int main(void)
{
	char cmd[128], probe[128];

	snprintf(g_dir, sizeof g_dir, "/tmp/runner_store.XXXXXX");
	if (!mkdtemp(g_dir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(probe, sizeof probe, "%s/probe", g_dir);
	{
		FILE *f = fopen(probe, "w");
		if (f)
			fclose(f);
		g_can_readonly = f && make_readonly(probe, 1) == 0 && make_readonly(probe, 0) == 0;
	}
	T_RUN(test_open_creates_schema);
	T_RUN(test_newer_schema_refused);
	T_RUN(test_new_then_busy);
	T_RUN(test_succeeded_replays);
	T_RUN(test_failed_retries);
	T_RUN(test_mismatch_in_every_state);
	T_RUN(test_hooks_are_independent);
	T_RUN(test_mark_interrupted);
	T_RUN(test_job_get_fields);
	T_RUN(test_prune);
	T_RUN(test_ids_never_reused);
	T_RUN(test_body_and_headers_kept);
	T_RUN(test_bad_inputs);
	T_RUN(test_open_fails_cleanly);
	if (g_can_readonly)
		T_RUN(test_health_readonly_file);
	else
		printf("skip test_health_readonly_file: cannot make a file read-only here\n");
	T_RUN(test_health);
	T_RUN(test_claim_lookup_uses_index);
	T_RUN(test_threads_one_handle);
	T_RUN(test_two_handles_one_file);
	T_RUN(test_processes_one_file);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
