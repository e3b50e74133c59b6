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

/* store_open on the SQLite file PATH. */
static int sopen(const char *path, int mark_interrupted, int *n_interrupted, struct store **out)
{
	struct store_config sc = { .sqlite_path = path };

	return store_open(&sc, out, mark_interrupted, n_interrupted, NULL);
}

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
		.state = jobstate_from_name(state), .started_ms = finished_ms - 10, .finished_ms = finished_ms,
		.exit_code = !strcmp(state, "succeeded") ? 0 : 1, .http_status = http,
		.response = resp,
	};
	return store_finish(s, id, &o);
}

/* Every index of the current schema, as sqlite_master lists them by name. */
#define SCHEMA_INDEXES "deliveries_body\njobs_failed\njobs_finished\njobs_hook\njobs_queued\n" \
	"jobs_running\njwt_ids_expiry\nsqlite_autoindex_deliveries_1\nsqlite_autoindex_jobs_1\n" \
	"sqlite_autoindex_jwt_ids_1\n"

static void test_open_creates_schema(void)
{
	char path[128], out[256], wal[160];
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
	T_EQ_STR(out, "3\nwal\n");
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;", out,
	    sizeof out), 0);
	T_EQ_STR(out, "deliveries\njobs\njwt_ids\nsqlite_sequence\n");
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name;", out,
	    sizeof out), 0);
	T_EQ_STR(out, SCHEMA_INDEXES);
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
	T_EQ_STR(out, "3\nwal\n1\n");
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

static void test_new_then_busy(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, b;

	newpath(path, sizeof path, "busy");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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
	T_EQ_STR(jobstate_name(j.state), "running");
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	for (i = 0; i < sizeof states / sizeof states[0]; i++) {
		snprintf(key, sizeof key, "k-%s", states[i]);
		T_EQ_INT(claim(s, "h", key, H1, 1000, &a), 0);
		if (!strcmp(states[i], "interrupted")) {
			store_close(s);
			s = NULL;
			T_EQ_INT(sopen(path, 1, NULL, &s), 0);
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
		T_EQ_STR(jobstate_name(j.state), states[i]);
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "h", "a", H1, 1, &a), 0);
	T_EQ_INT(claim(s, "h", "b", H1, 1, &b), 0);
	T_EQ_INT(claim(s, "h", "c", H1, 1, &c), 0);
	T_EQ_INT(finish(s, c.job_id, "succeeded", 200, "c", 2), 0);
	store_close(s); /* "the process died" with a and b running */
	s = NULL;

	T_EQ_INT(sopen(path, 0, &n, &s), 0); /* a CLI does not mark */
	T_EQ_INT(n, 0);
	T_EQ_INT(claim(s, "h", "a", H1, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	store_close(s);
	s = NULL;

	n = -1;
	T_EQ_INT(sopen(path, 1, &n, &s), 0);
	T_EQ_INT(n, 2);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'interrupted' AND finished_ms > 0"),
	    2);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "interrupted");
	store_job_clear(&j);
	T_EQ_INT(store_job_get(s, c.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "succeeded");
	store_job_clear(&j);
	T_EQ_INT(claim(s, "h", "a", H1, 4, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	store_close(s);
	s = NULL;

	n = -1;
	T_EQ_INT(sopen(path, 1, &n, &s), 0); /* only the new running attempt of a */
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
		.state = JOBSTATE_FAILED, .started_ms = 1000000000123LL, .finished_ms = 1000000004567LL,
		.exit_code = 3, .signal = "SIGTERM", .error = "timeout_connect", .http_status = 500,
		.response = "{\"status\":\"failed\"}", .output_tail = "line1\nline2\n",
	};

	newpath(path, sizeof path, "get");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	T_EQ_INT(claim(s, "deploy-web", "delivery-42", H1, 999999999999LL, &a), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_INT(j.id, a.job_id);
	T_EQ_STR(j.hook, "deploy-web");
	T_EQ_STR(j.key, "delivery-42");
	T_EQ_STR(jobstate_name(j.state), "running");
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
	T_EQ_STR(jobstate_name(j.state), "failed");
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
	o.state = JOBSTATE_TIMEOUT;
	o.exit_code = -1;
	o.signal = o.error = o.output_tail = NULL;
	T_EQ_INT(store_finish(s, a.job_id, &o), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "timeout");
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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

static void test_bad_inputs(void)
{
	char path[128], longkey[300];
	struct store *s = NULL;
	struct store_claim_res r;
	struct store_outcome o = { .state = JOBSTATE_RUNNING, .exit_code = -1 };
	const unsigned char b[] = "x";

	T_EQ_INT(sopen(NULL, 0, NULL, &s), -EINVAL);
	T_EQ_INT(sopen("", 0, NULL, &s), -EINVAL);
	T_CHECK(s == NULL);
	newpath(path, sizeof path, "bad");
	T_EQ_INT(sopen(path, 0, NULL, NULL), -EINVAL);
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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
	o.state = JOBSTATE_SUCCEEDED;
	o.signal = "SIGNAL_NAME_LONGER_THAN_THIRTY_ONE_BYTES";
	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL);
	T_EQ_INT(store_finish(s, r.job_id, NULL), -EINVAL);
	T_EQ_INT(store_finish(NULL, r.job_id, &o), -EINVAL);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'running'"), 1);
	T_EQ_INT(store_prune(NULL, 0, NULL), -EINVAL);
	T_EQ_INT(store_health(NULL, NULL), -EINVAL);
	store_close(s);
	store_close(NULL);
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
 * SQL is store.c's, restated (a change there must be a change here). */
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
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
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
	T_EQ_INT(sopen(path, 0, NULL, &ss[0]), 0);
	T_EQ_INT(sopen(path, 0, NULL, &ss[1]), 0);
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

/* ---- issue 4: async queue, history, replay ---------------------------- */

static int claim_q(struct store *s, const char *hook, const char *key, int64_t now,
    struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	return store_claim_state(s, hook, key, H1, body, sizeof body - 1, "{\"x-a\":\"1\"}", now,
	    jobstate_from_name("queued"), r);
}

static void test_claim_state_queued(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, r;
	struct store_job j;
	const unsigned char b[] = "x";
	int n = -1;

	newpath(path, sizeof path, "async");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(claim_q(s, "h", "k", 1000, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(a.attempt, 1);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "queued");
	T_EQ_INT(j.created_ms, 1000);
	T_EQ_INT(j.started_ms, 0); /* not started yet */
	store_job_clear(&j);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'queued' AND started_ms IS NULL"), 1);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 1);

	/* queued is busy for the sync claim and for the async one */
	T_EQ_INT(claim(s, "h", "k", H1, 1001, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(r.job_id, a.job_id);
	T_EQ_INT(claim_q(s, "h", "k", 1001, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	/* ... and a different body is still a mismatch */
	T_EQ_INT(store_claim_state(s, "h", "k", H2, b, 1, NULL, 1002, jobstate_from_name("queued"), &r), 0);
	T_EQ_INT(r.kind, STORE_MISMATCH);

	/* failed -> the retry is queued too */
	T_EQ_INT(finish(s, a.job_id, "failed", 500, "{}", 1100), 0);
	T_EQ_INT(claim_q(s, "h", "k", 1200, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "queued");
	store_job_clear(&j);

	/* succeeded -> replay, as for sync */
	T_EQ_INT(finish(s, r.job_id, "succeeded", 200, "done", 1300), 0);
	T_EQ_INT(claim_q(s, "h", "k", 1400, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_STR(r.response, "done");
	store_claim_res_clear(&r);

	/* "running" through store_claim_state is store_claim */
	T_EQ_INT(store_claim_state(s, "h", "k2", H1, b, 1, NULL, 5, jobstate_from_name("running"), &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "running");
	T_EQ_INT(j.started_ms, 5);
	store_job_clear(&j);

	/* no other initial state */
	T_EQ_INT(store_claim_state(s, "h", "k3", H1, b, 1, NULL, 5,
	    jobstate_from_name("succeeded"), &r), -EINVAL);
	T_EQ_INT(store_claim_state(s, "h", "k3", H1, b, 1, NULL, 5,
	    jobstate_from_name("interrupted"), &r), -EINVAL);
	T_EQ_INT(store_claim_state(s, "h", "k3", H1, b, 1, NULL, 5,
	    jobstate_from_name("Queued"), &r), -EINVAL);
	T_EQ_INT(store_claim_state(s, "h", "k3", H1, b, 1, NULL, 5,
	    jobstate_from_name(NULL), &r), -EINVAL);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE key = 'k3'"), 0);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 0);
	T_EQ_INT(store_count_queued(s, NULL), -EINVAL);
	T_EQ_INT(store_count_queued(NULL, &n), -EINVAL);
	store_close(s);
}

static void test_take_queued_order(void)
{
	static const unsigned char bin[] = { '{', 0, 0xff, '}', '\n' };
	char path[128], key[16], *body = (char *)1, *meta = (char *)1;
	struct store *s = NULL;
	struct store_claim_res a, r;
	struct store_job j;
	size_t len = 99;
	int64_t ids[3];
	int i, n;

	newpath(path, sizeof path, "take");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(store_take_queued(s, 1, &j, &body, &len, &meta), -ENOENT); /* empty */
	T_CHECK(body == NULL && meta == NULL && len == 0);
	T_EQ_INT(claim(s, "h", "running-one", H1, 1, &a), 0); /* never taken */
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof key, "q%d", i);
		if (i == 1)
			T_EQ_INT(store_claim_state(s, "other", key, HX, bin, sizeof bin, NULL, 10 + i,
			    jobstate_from_name("queued"), &r), 0);
		else
			T_EQ_INT(claim_q(s, "h", key, 10 + i, &r), 0);
		ids[i] = r.job_id;
	}
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 3);

	T_EQ_INT(store_take_queued(s, 500, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, ids[0]);
	T_EQ_STR(j.key, "q0");
	T_EQ_STR(jobstate_name(j.state), "running");
	T_EQ_INT(j.started_ms, 500);
	T_EQ_INT(j.created_ms, 10);
	T_EQ_INT(len, 11);
	T_EQ_STR(body, "{\"event\":1}");
	T_EQ_STR(meta, "{\"x-a\":\"1\"}");
	store_job_clear(&j);
	free(body);
	free(meta);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE key = 'q0' AND state = 'running' AND "
	    "started_ms = 500"), 1);

	T_EQ_INT(store_take_queued(s, 600, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, ids[1]);
	T_EQ_STR(j.hook, "other");
	T_EQ_INT(len, sizeof bin);
	T_CHECK(body && !memcmp(body, bin, sizeof bin) && body[len] == 0);
	T_CHECK(meta == NULL);
	store_job_clear(&j);
	free(body);

	/* a queued retry comes after older queued jobs */
	T_EQ_INT(finish(s, ids[0], "failed", 500, "{}", 700), 0);
	T_EQ_INT(claim_q(s, "h", "q0", 800, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(store_take_queued(s, 900, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, ids[2]);
	store_job_clear(&j);
	free(body);
	free(meta);
	T_EQ_INT(store_take_queued(s, 901, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, r.job_id);
	T_EQ_INT(j.attempt, 2);
	store_job_clear(&j);
	free(body);
	free(meta);
	T_EQ_INT(store_take_queued(s, 902, &j, &body, &len, &meta), -ENOENT);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 0);
	T_EQ_INT(store_take_queued(s, 1, NULL, &body, &len, &meta), -EINVAL);
	T_EQ_INT(store_take_queued(s, 1, &j, NULL, &len, &meta), -EINVAL);
	T_EQ_INT(store_take_queued(NULL, 1, &j, &body, &len, &meta), -EINVAL);
	store_close(s);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'running'"), 4);
}

struct taker {
	struct store *s;
	pthread_barrier_t *go;
	int64_t got[400];
	int n, rc;
};

static void *take_all(void *arg)
{
	struct taker *x = arg;
	struct store_job j;
	char *body, *meta;
	size_t len;
	int rc;

	pthread_barrier_wait(x->go);
	while ((rc = store_take_queued(x->s, 7, &j, &body, &len, &meta)) == 0) {
		if (x->n < (int)(sizeof x->got / sizeof x->got[0]))
			x->got[x->n] = j.id;
		x->n++;
		store_job_clear(&j);
		free(body);
		free(meta);
	}
	x->rc = rc == -ENOENT ? 0 : rc;
	return NULL;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* 8 takers on two handles (two connections: SQLite's lock, not only our
 * mutex) drain 300 queued jobs: each job exactly once. */
static void test_take_queued_concurrent(void)
{
	enum { NJOBS = 300, NT = 8 };
	char path[128], key[32];
	struct store *ss[2] = { NULL, NULL };
	struct store_claim_res r;
	static struct taker x[NT];
	static int64_t all[NJOBS + NT * 400];
	pthread_t th[NT];
	pthread_barrier_t go;
	int i, k, total = 0, dups = 0;

	newpath(path, sizeof path, "take-race");
	T_EQ_INT(sopen(path, 0, NULL, &ss[0]), 0);
	T_EQ_INT(sopen(path, 0, NULL, &ss[1]), 0);
	if (!ss[0] || !ss[1])
		goto out;
	for (i = 0; i < NJOBS; i++) {
		snprintf(key, sizeof key, "job-%d", i);
		T_EQ_INT(claim_q(ss[i % 2], "race", key, i, &r), 0);
	}
	pthread_barrier_init(&go, NULL, NT);
	for (i = 0; i < NT; i++) {
		memset(&x[i], 0, sizeof x[i]);
		x[i].s = ss[i % 2];
		x[i].go = &go;
		pthread_create(&th[i], NULL, take_all, &x[i]);
	}
	for (i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < NT; i++) {
		T_EQ_INT(x[i].rc, 0);
		for (k = 0; k < x[i].n && k < 400; k++)
			all[total++] = x[i].got[k];
	}
	T_EQ_INT(total, NJOBS);
	qsort(all, (size_t)total, sizeof all[0], cmp_id);
	for (i = 1; i < total; i++)
		if (all[i] == all[i - 1])
			dups++;
	T_EQ_INT(dups, 0);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'running' AND started_ms = 7"), NJOBS);
out:
	store_close(ss[0]);
	store_close(ss[1]);
}

/* A job taken at shutdown, before it started, goes back to the queue. */
static void test_requeue(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res q, r;
	struct store_job j;
	char *body = NULL, *meta = NULL;
	size_t len;
	int n = -1;

	newpath(path, sizeof path, "requeue");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(claim_q(s, "h", "rq", 1, &q), 0);
	T_EQ_INT(claim(s, "h", "other", H1, 1, &r), 0); /* running, never queued */
	T_EQ_INT(store_take_queued(s, 5, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, q.job_id);
	store_job_clear(&j);
	free(body);
	free(meta);
	T_EQ_INT(store_requeue(s, q.job_id), 0);
	T_EQ_INT(store_job_get(s, q.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "queued");
	T_EQ_INT(j.started_ms, 0);
	T_EQ_INT(j.attempt, 1);
	store_job_clear(&j);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 1);
	/* only a running job: not a queued one, not an unknown id */
	T_EQ_INT(store_requeue(s, q.job_id), -ENOENT);
	T_EQ_INT(store_requeue(s, 999999), -ENOENT);
	/* and a restart does not count it as interrupted */
	store_close(s);
	s = NULL;
	T_EQ_INT(sopen(path, 1, &n, &s), 0);
	T_EQ_INT(n, 1); /* the other one, which was running */
	T_EQ_INT(store_take_queued(s, 9, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, q.job_id);
	store_job_clear(&j);
	free(body);
	free(meta);
	store_close(s);
}

static void test_queued_survives_reopen(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res q, r, d;
	struct store_job j;
	char *body, *meta;
	size_t len;
	int n = -1;

	newpath(path, sizeof path, "durable");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	T_EQ_INT(claim_q(s, "h", "queued", 1, &q), 0);
	T_EQ_INT(claim(s, "h", "running", H1, 1, &r), 0);
	T_EQ_INT(claim(s, "h", "done", H1, 1, &d), 0);
	T_EQ_INT(finish(s, d.job_id, "succeeded", 200, "{}", 2), 0);
	store_close(s); /* the process dies */
	s = NULL;

	T_EQ_INT(sopen(path, 1, &n, &s), 0);
	if (!s)
		return;
	T_EQ_INT(n, 1); /* only the running one */
	T_EQ_INT(store_job_get(s, q.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "queued");
	T_EQ_INT(j.finished_ms, 0);
	store_job_clear(&j);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "interrupted");
	T_CHECK(j.finished_ms > 0);
	store_job_clear(&j);
	T_EQ_INT(store_job_get(s, d.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "succeeded");
	store_job_clear(&j);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 1);
	/* and runs after the restart */
	T_EQ_INT(store_take_queued(s, 3, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, q.job_id);
	store_job_clear(&j);
	free(body);
	free(meta);
	store_close(s);
	s = NULL;
	/* the taken one was running when it "died" again: interrupted now */
	T_EQ_INT(sopen(path, 1, &n, &s), 0);
	T_EQ_INT(n, 1);
	store_close(s);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE state = 'queued'"), 0);
}

static void test_claim_again(void)
{
	char path[128];
	struct store *s = NULL;
	struct store_claim_res a, r, b;
	struct store_job j;
	long long before;
	int n;

	newpath(path, sizeof path, "again");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(claim(s, "h", "k", H1, 100, &a), 0);

	/* running: busy, nothing written */
	before = fingerprint(path);
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name("running"), 150, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(r.job_id, a.job_id);
	T_EQ_INT(r.attempt, 1);
	T_EQ_INT(fingerprint(path), before);

	/* after success: an operator's replay re-runs (not a stored replay) */
	T_EQ_INT(finish(s, a.job_id, "succeeded", 200, "{\"ok\":1}", 200), 0);
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name("running"), 300, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_CHECK(r.job_id > a.job_id);
	T_CHECK(r.response == NULL);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_STR(j.hook, "h");
	T_EQ_STR(j.key, "k");
	T_EQ_STR(jobstate_name(j.state), "running");
	T_EQ_INT(j.created_ms, 300);
	T_EQ_INT(j.started_ms, 300);
	store_job_clear(&j);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE attempt = 2 AND body_sha256 = '" H1 "'"), 1);
	T_EQ_INT(q1(path, "SELECT received_ms FROM deliveries"), 100); /* the delivery is untouched */

	/* a delivery's normal claim sees the replay's attempt as the latest */
	T_EQ_INT(claim(s, "h", "k", H1, 310, &b), 0);
	T_EQ_INT(b.kind, STORE_BUSY);
	T_EQ_INT(b.attempt, 2);

	/* after failure, replaying by the OLD id: attempt n+1 of the same key */
	T_EQ_INT(finish(s, r.job_id, "failed", 500, "{}", 400), 0);
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name("running"), 500, &b), 0);
	T_EQ_INT(b.kind, STORE_RETRY);
	T_EQ_INT(b.attempt, 3);
	T_EQ_INT(finish(s, b.job_id, "timeout", 504, "{}", 600), 0);
	T_EQ_INT(store_claim_again(s, b.job_id, jobstate_from_name("running"), 700, &b), 0);
	T_EQ_INT(b.kind, STORE_RETRY);
	T_EQ_INT(b.attempt, 4);
	T_EQ_INT(finish(s, b.job_id, "interrupted", 0, NULL, 800), 0); /* accepted now */

	/* queued initial state: busy while queued */
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name("queued"), 900, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 5);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_STR(jobstate_name(j.state), "queued");
	T_EQ_INT(j.started_ms, 0);
	store_job_clear(&j);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 1);
	before = fingerprint(path);
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name("running"), 950, &b), 0);
	T_EQ_INT(b.kind, STORE_BUSY);
	T_EQ_INT(b.job_id, r.job_id);
	T_EQ_INT(b.attempt, 5);
	T_EQ_INT(fingerprint(path), before);
	{
		char out[256];
		T_EQ_INT(cli(path, "SELECT group_concat(attempt || ':' || state, ',') FROM (SELECT * "
		    "FROM jobs ORDER BY attempt);", out, sizeof out), 0);
		T_EQ_STR(out, "1:succeeded,2:failed,3:timeout,4:interrupted,5:queued\n");
	}

	/* unknown ids, bad states */
	T_EQ_INT(store_claim_again(s, r.job_id + 1000, jobstate_from_name("running"), 1, &b), -ENOENT);
	T_CHECK(strstr(store_errmsg(s), "no such job") != NULL);
	T_EQ_INT(store_claim_again(s, 0, jobstate_from_name("running"), 1, &b), -ENOENT);
	T_EQ_INT(store_claim_again(s, -5, jobstate_from_name("running"), 1, &b), -ENOENT);
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name("succeeded"), 1, &b), -EINVAL);
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name(NULL), 1, &b), -EINVAL);
	T_EQ_INT(store_claim_again(s, a.job_id, jobstate_from_name("running"), 1, NULL), -EINVAL);
	T_EQ_INT(store_claim_again(NULL, a.job_id, jobstate_from_name("running"), 1, &b), -EINVAL);
	T_EQ_INT(fingerprint(path), before);

	/* pruned: the job (and with its last job, the delivery) is gone */
	T_EQ_INT(claim(s, "h", "old", H1, 1, &b), 0);
	T_EQ_INT(finish(s, b.job_id, "failed", 500, "{}", 2), 0);
	T_EQ_INT(store_prune(s, 3, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(store_claim_again(s, b.job_id, jobstate_from_name("running"), 4, &r), -ENOENT);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE key = 'old'"), 0);
	store_close(s);
}

static void test_delivery_get(void)
{
	static const unsigned char bin[] = { 0, 'a', 0xff, 0, '\r', '\n', 0x80 };
	char path[128], *body = (char *)1, *meta = (char *)1;
	struct store *s = NULL;
	struct store_claim_res r;
	size_t len = 99;

	newpath(path, sizeof path, "delivery");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(store_claim(s, "h", "bin", HX, bin, sizeof bin,
	    "{\"headers\":{\"X-Event\":\"push\"},\"claims\":{\"sub\":\"ci\"}}", 1, &r), 0);
	T_EQ_INT(store_delivery_get(s, "h", "bin", &body, &len, &meta), 0);
	T_EQ_INT(len, sizeof bin);
	T_CHECK(body && !memcmp(body, bin, sizeof bin) && body[sizeof bin] == 0);
	T_EQ_STR(meta, "{\"headers\":{\"X-Event\":\"push\"},\"claims\":{\"sub\":\"ci\"}}");
	free(body);
	free(meta);

	/* empty body, no headers: "" and NULL */
	T_EQ_INT(store_claim(s, "h", "empty", HX, NULL, 0, NULL, 1, &r), 0);
	T_EQ_INT(store_delivery_get(s, "h", "empty", &body, &len, &meta), 0);
	T_EQ_INT(len, 0);
	T_EQ_STR(body, "");
	T_CHECK(meta == NULL);
	free(body);

	/* a retry refreshes the stored delivery (same body, new headers) */
	T_EQ_INT(finish(s, r.job_id, "failed", 500, "{}", 2), 0);
	T_EQ_INT(store_claim(s, "h", "empty", HX, NULL, 0, "{\"headers\":{}}", 3, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(store_delivery_get(s, "h", "empty", &body, &len, &meta), 0);
	T_EQ_STR(meta, "{\"headers\":{}}");
	free(body);
	free(meta);

	T_EQ_INT(store_delivery_get(s, "h", "nope", &body, &len, &meta), -ENOENT);
	T_CHECK(body == NULL && meta == NULL && len == 0);
	T_EQ_INT(store_delivery_get(s, "other", "bin", &body, &len, &meta), -ENOENT);
	T_EQ_INT(store_delivery_get(s, "", "bin", &body, &len, &meta), -EINVAL);
	T_EQ_INT(store_delivery_get(s, "h", NULL, &body, &len, &meta), -EINVAL);
	T_EQ_INT(store_delivery_get(s, "h", "bin", NULL, &len, &meta), -EINVAL);
	T_EQ_INT(store_delivery_get(NULL, "h", "bin", &body, &len, &meta), -EINVAL);
	store_close(s);
}

/* KEYS of the listed jobs, "k1,k2,..." */
static void list_keys(struct store *s, const char *hook, int failed, int limit, char *buf,
    size_t cap, int *rc)
{
	struct store_job *v = NULL;
	size_t n = 0, i, off = 0;

	buf[0] = 0;
	*rc = store_list(s, hook, failed, limit, &v, &n);
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "", v[i].key);
		if (off >= cap)
			off = cap - 1;
		store_job_clear(&v[i]);
	}
	free(v);
}

static void test_list(void)
{
	char path[128], got[400], longhook[200];
	struct store *s = NULL;
	struct store_claim_res r;
	struct store_job *v = (struct store_job *)1;
	size_t n = 99;
	int rc;

	newpath(path, sizeof path, "list");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	list_keys(s, NULL, 0, 10, got, sizeof got, &rc);
	T_EQ_INT(rc, 0);
	T_EQ_STR(got, "");
	T_EQ_INT(store_list(s, NULL, 0, 10, &v, &n), 0);
	T_CHECK(v == NULL && n == 0);

	/* a1 ok, b1 failed, a2 timeout, a3 running, b2 queued, a4 interrupted,
	 * b1 again (attempt 2, succeeded) */
	T_EQ_INT(claim(s, "a", "a1", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, "succeeded", 200, "{\"a\":1}", 2), 0);
	T_EQ_INT(claim(s, "b", "b1", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, "failed", 500, "{}", 2), 0);
	T_EQ_INT(claim(s, "a", "a2", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, "timeout", 504, "{}", 2), 0);
	T_EQ_INT(claim(s, "a", "a3", H1, 1, &r), 0);
	T_EQ_INT(claim_q(s, "b", "b2", 1, &r), 0);
	T_EQ_INT(claim(s, "a", "a4", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, "interrupted", 0, NULL, 2), 0);
	T_EQ_INT(claim(s, "b", "b1", H1, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(finish(s, r.job_id, "succeeded", 200, "{}", 4), 0);

	list_keys(s, NULL, 0, 100, got, sizeof got, &rc);
	T_EQ_INT(rc, 0);
	T_EQ_STR(got, "b1,a4,b2,a3,a2,b1,a1");
	list_keys(s, NULL, 0, 3, got, sizeof got, &rc);
	T_EQ_STR(got, "b1,a4,b2");
	list_keys(s, NULL, 0, 1, got, sizeof got, &rc);
	T_EQ_STR(got, "b1");
	list_keys(s, "a", 0, 100, got, sizeof got, &rc);
	T_EQ_STR(got, "a4,a3,a2,a1");
	list_keys(s, "a", 0, 2, got, sizeof got, &rc);
	T_EQ_STR(got, "a4,a3");
	list_keys(s, "b", 0, 100, got, sizeof got, &rc);
	T_EQ_STR(got, "b1,b2,b1");
	/* failed: failed, timeout, interrupted; per attempt (b1's first stays listed) */
	list_keys(s, NULL, 1, 100, got, sizeof got, &rc);
	T_EQ_STR(got, "a4,a2,b1");
	list_keys(s, NULL, 1, 2, got, sizeof got, &rc);
	T_EQ_STR(got, "a4,a2");
	list_keys(s, "a", 1, 100, got, sizeof got, &rc);
	T_EQ_STR(got, "a4,a2");
	list_keys(s, "b", 1, 100, got, sizeof got, &rc);
	T_EQ_STR(got, "b1");
	list_keys(s, "nobody", 0, 100, got, sizeof got, &rc);
	T_EQ_INT(rc, 0);
	T_EQ_STR(got, "");

	/* the rows are whole jobs */
	T_EQ_INT(store_list(s, "b", 0, 10000, &v, &n), 0);
	T_EQ_INT(n, 3);
	if (n == 3) {
		T_EQ_STR(jobstate_name(v[0].state), "succeeded");
		T_EQ_INT(v[0].attempt, 2);
		T_EQ_INT(v[0].http_status, 200);
		T_EQ_STR(v[0].response, "{}");
		T_EQ_STR(jobstate_name(v[1].state), "queued");
		T_EQ_INT(v[1].exit_code, -1);
		T_CHECK(v[1].response == NULL);
		T_EQ_STR(jobstate_name(v[2].state), "failed");
		T_EQ_INT(v[2].attempt, 1);
		T_EQ_INT(v[2].exit_code, 1);
		T_CHECK(v[0].id > v[1].id && v[1].id > v[2].id);
	}
	for (size_t i = 0; i < n; i++)
		store_job_clear(&v[i]);
	free(v);

	/* more rows than the array's first growth */
	for (int i = 0; i < 40; i++) {
		char key[16];
		snprintf(key, sizeof key, "m%d", i);
		T_EQ_INT(claim(s, "many", key, H1, 5, &r), 0);
	}
	T_EQ_INT(store_list(s, NULL, 0, 10000, &v, &n), 0);
	T_EQ_INT(n, 47);
	for (size_t i = 0; i < n; i++)
		store_job_clear(&v[i]);
	free(v);

	/* every attempt of one key, oldest first */
	T_EQ_INT(store_attempts(s, "b", "b1", &v, &n), 0);
	T_EQ_INT(n, 2);
	if (n == 2) {
		T_EQ_INT(v[0].attempt, 1);
		T_EQ_STR(jobstate_name(v[0].state), "failed");
		T_EQ_INT(v[1].attempt, 2);
		T_EQ_STR(jobstate_name(v[1].state), "succeeded");
	}
	for (size_t i = 0; i < n; i++)
		store_job_clear(&v[i]);
	free(v);
	T_EQ_INT(store_attempts(s, "a", "b1", &v, &n), 0); /* keys are per hook */
	T_CHECK(n == 0 && v == NULL);
	T_EQ_INT(store_attempts(s, "b", "", &v, &n), -EINVAL);
	T_EQ_INT(store_attempts(s, NULL, "b1", &v, &n), -EINVAL);
	T_EQ_INT(store_attempts(s, "b", "b1", NULL, &n), -EINVAL);

	memset(longhook, 'h', sizeof longhook);
	longhook[128] = 0;
	T_EQ_INT(store_list(s, NULL, 0, 0, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, NULL, 0, -1, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, NULL, 0, 10001, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, "", 0, 10, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, longhook, 0, 10, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, NULL, 0, 10, NULL, &n), -EINVAL);
	T_EQ_INT(store_list(s, NULL, 0, 10, &v, NULL), -EINVAL);
	T_EQ_INT(store_list(NULL, NULL, 0, 10, &v, &n), -EINVAL);
	T_CHECK(strstr(store_errmsg(s), "invalid") != NULL);
	store_close(s);
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
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA user_version = 1;";
	char path[128], out[256], *body, *meta;
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
	T_EQ_INT(q1(path, "PRAGMA user_version"), 3);
	T_EQ_INT(cli(path, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name;", out,
	    sizeof out), 0);
	T_EQ_STR(out, SCHEMA_INDEXES);
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
	T_EQ_INT(r.job_id, 5); /* AUTOINCREMENT carried over */
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
	T_EQ_INT(q1(path, "PRAGMA user_version"), 3);
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
	T_RUN(test_queue_and_list_use_indexes);
	T_RUN(test_claim_state_queued);
	T_RUN(test_take_queued_order);
	T_RUN(test_take_queued_concurrent);
	T_RUN(test_queued_survives_reopen);
	T_RUN(test_requeue);
	T_RUN(test_claim_again);
	T_RUN(test_delivery_get);
	T_RUN(test_list);
	T_RUN(test_migrate_from_v1);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
