/*
 * runner_store_sqlite_claims.c — unit tests of the SQLite store backend's
 * claims and outcomes (runner/store_sqlite*.c), with what it wrote read back
 * through independent readers (store_sqlite_test.h): new, busy, replay,
 * retry, mismatch in every state (nothing written), hooks, interrupted jobs
 * at a restart, a job's fields, prune (also past one batch), ids never
 * reused, refused inputs, and threads on one handle and on two.
 */
#include <errno.h>
#include <pthread.h>

#include "store_sqlite_test.h"

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

int main(void)
{
	if (sqlite_test_begin("runner_store_sqlite_claims") != 0)
		return 1;
	T_RUN(test_new_then_busy);
	T_RUN(test_succeeded_replays);
	T_RUN(test_failed_retries);
	T_RUN(test_mismatch_in_every_state);
	T_RUN(test_hooks_are_independent);
	T_RUN(test_mark_interrupted);
	T_RUN(test_job_get_fields);
	T_RUN(test_prune);
	T_RUN(test_ids_never_reused);
	T_RUN(test_bad_inputs);
	T_RUN(test_threads_one_handle);
	T_RUN(test_two_handles_one_file);
	return sqlite_test_end();
}
