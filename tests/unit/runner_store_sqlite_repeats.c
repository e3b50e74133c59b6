/*
 * runner_store_sqlite_repeats.c — unit tests of the SQLite store backend's
 * defences against a captured delivery sent again (store_claim_req in
 * runner/store_sqlite_claim.c): the same body under a new key is the
 * delivery it repeats (by_body), single-use token ids (jti), the queue cap
 * decided inside the claim (STORE_FULL), and taking a claim back
 * (store_unclaim). Real SQLite files in a mkdtemp directory; what was
 * written is read back through a separate read-only connection.
 */
#include "store_sqlite_test.h"

static char g_path[128];

static struct store *fresh(const char *name)
{
	struct store *s = NULL;

	newpath(g_path, sizeof g_path, name);
	if (sopen(g_path, 0, NULL, &s) != 0)
		return NULL;
	return s;
}

/* A claim on hook "h" with body hash SHA under KEY. */
static int claim_h(struct store *s, const char *key, const char *sha, int by_body, const char *jti,
    int64_t jti_until, struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	struct store_claim_req rq = {
		.hook = "h", .key = key, .body_sha256 = sha, .body = body, .len = sizeof body - 1,
		.headers_json = "{\"headers\":{}}", .now_ms = 1000, .initial_state = JOBSTATE_RUNNING,
		.by_body = by_body, .jti = jti, .jti_until_ms = jti_until,
	};

	return store_claim_req(s, &rq, r);
}

static int finish_h(struct store *s, int64_t id, const char *state, int http, const char *resp)
{
	struct store_outcome o = {
		.state = jobstate_from_name(state), .started_ms = 1000, .finished_ms = 1010,
		.exit_code = !strcmp(state, "succeeded") ? 0 : 1, .http_status = http,
		.response = resp,
	};
	return store_finish(s, id, &o);
}

/* The same body under a new key: busy while the first runs, its stored
 * answer once it succeeded, its next attempt when it failed. Without
 * by_body the new key is a new delivery. */
static void test_same_body_new_key(void)
{
	struct store *s = fresh("body");
	struct store_claim_res a = { 0 }, r = { 0 };

	if (!s) {
		T_CHECK(s != NULL);
		return;
	}
	T_EQ_INT(claim_h(s, "k1", H1, 1, NULL, 0, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_STR(a.key, "k1");
	T_EQ_INT(a.by_body, 0);
	T_EQ_INT(claim_h(s, "k2", H1, 1, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_STR(r.key, "k1");
	T_EQ_INT(r.by_body, 1);
	T_EQ_INT(r.job_id, a.job_id);

	T_EQ_INT(finish_h(s, a.job_id, "succeeded", 200, "{\"ok\":1}"), 0);
	T_EQ_INT(claim_h(s, "k3", H1, 1, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_STR(r.key, "k1");
	T_EQ_STR(r.response, "{\"ok\":1}");
	T_EQ_INT(r.http_status, 200);
	store_claim_res_clear(&r);
	/* nothing was written for k2 or k3 */
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM deliveries"), 1);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs"), 1);

	/* another body is another delivery; without by_body, so is a new key */
	T_EQ_INT(claim_h(s, "k4", H2, 1, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(r.by_body, 0);
	T_EQ_INT(claim_h(s, "k5", H1, 0, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_STR(r.key, "k5");
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs"), 3);
	store_close(s);
}

static void test_same_body_retries_under_its_key(void)
{
	struct store *s = fresh("retry");
	struct store_claim_res a = { 0 }, r = { 0 };

	if (!s) {
		T_CHECK(s != NULL);
		return;
	}
	T_EQ_INT(claim_h(s, "k1", H1, 1, NULL, 0, &a), 0);
	T_EQ_INT(finish_h(s, a.job_id, "failed", 500, "{}"), 0);
	T_EQ_INT(claim_h(s, "k2", H1, 1, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_STR(r.key, "k1");
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs WHERE key = 'k1' AND attempt = 2 AND state = 'running'"), 1);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM deliveries WHERE key = 'k2'"), 0);
	/* the known key with another body is still a mismatch, body or not */
	T_EQ_INT(claim_h(s, "k1", H2, 1, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_MISMATCH);
	store_close(s);
}

/* A single-use token id: recorded with its key; another key with it is
 * refused (nothing written); the same key (a retry, a replay) is not. */
static void test_jti_single_use(void)
{
	struct store *s = fresh("jti");
	struct store_claim_res a = { 0 }, r = { 0 };

	if (!s) {
		T_CHECK(s != NULL);
		return;
	}
	T_EQ_INT(claim_h(s, "k1", H1, 0, "tok-1", 5000, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(q1(g_path, "SELECT expires_ms FROM jwt_ids WHERE hook = 'h' AND jti = 'tok-1' AND key = 'k1'"),
	    5000);
	T_EQ_INT(claim_h(s, "k1", H1, 0, "tok-1", 5000, &r), 0); /* the same delivery again */
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(claim_h(s, "k2", H2, 0, "tok-1", 5000, &r), 0); /* another delivery, same token */
	T_EQ_INT(r.kind, STORE_JTI_REUSED);
	T_CHECK(r.response == NULL);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM deliveries WHERE key = 'k2'"), 0);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs"), 1);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jwt_ids WHERE jti = 'tok-1' AND key = 'k1'"), 1);

	T_EQ_INT(finish_h(s, a.job_id, "failed", 500, "{}"), 0);
	T_EQ_INT(claim_h(s, "k1", H1, 0, "tok-1", 5000, &r), 0); /* Hookdeck's retry */
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);

	/* a replay answer also uses up a fresh id for that key */
	T_EQ_INT(finish_h(s, r.job_id, "succeeded", 200, "{}"), 0);
	T_EQ_INT(claim_h(s, "k1", H1, 0, "tok-2", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	store_claim_res_clear(&r);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jwt_ids WHERE jti = 'tok-2' AND key = 'k1'"), 1);
	T_EQ_INT(claim_h(s, "k3", H2, 0, "tok-2", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_JTI_REUSED);

	/* a mismatch writes nothing, not even the id */
	T_EQ_INT(claim_h(s, "k1", H2, 0, "tok-3", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_MISMATCH);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jwt_ids WHERE jti = 'tok-3'"), 0);

	/* the same id on another hook is another token */
	{
		static const unsigned char body[] = "x";
		struct store_claim_req rq = {
			.hook = "other", .key = "k2", .body_sha256 = H2, .body = body, .len = 1,
			.now_ms = 1000, .initial_state = JOBSTATE_RUNNING, .jti = "tok-1", .jti_until_ms = 5000,
		};
		T_EQ_INT(store_claim_req(s, &rq, &r), 0);
		T_EQ_INT(r.kind, STORE_NEW);
	}
	store_close(s);
}

/* An id whose record expired (now_ms past it) is free again; prune drops
 * expired ids and keeps live ones. */
static void test_jti_expiry_and_prune(void)
{
	struct store *s = fresh("jtiexp");
	struct store_claim_res r = { 0 };
	int n = -1;

	if (!s) {
		T_CHECK(s != NULL);
		return;
	}
	T_EQ_INT(claim_h(s, "k1", H1, 0, "old", 999, &r), 0); /* now_ms is 1000: already past */
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(claim_h(s, "k2", H2, 0, "old", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jwt_ids WHERE jti = 'old' AND key = 'k2' AND expires_ms = 5000"),
	    1);
	T_EQ_INT(claim_h(s, "k3", H1, 1, "live", INT64_MAX / 2, &r), 0); /* by_body: k1's delivery */
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_STR(r.key, "k1");
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jwt_ids WHERE jti = 'live' AND key = 'k1'"), 1);
	/* expires_ms 5000 is long past the wall clock; INT64_MAX / 2 is not */
	T_EQ_INT(store_prune(s, 0, &n), 0);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jwt_ids WHERE jti = 'old'"), 0);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jwt_ids WHERE jti = 'live'"), 1);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs"), 2); /* jobs are pruned by their own cutoff */
	store_close(s);
}

/* The queue cap is decided in the claim: full is refused and writes
 * nothing; a copy of a queued delivery is busy, not full; a replay is a
 * replay even when the queue is full. */
static void test_queue_full_in_claim(void)
{
	static const unsigned char body[] = "{}";
	struct store *s = fresh("full");
	struct store_claim_req rq = {
		.hook = "h", .body_sha256 = H1, .body = body, .len = 2, .now_ms = 1000,
		.initial_state = JOBSTATE_QUEUED, .max_queued = 2,
	};
	struct store_claim_res r = { 0 }, done = { 0 };

	if (!s) {
		T_CHECK(s != NULL);
		return;
	}
	rq.key = "done";
	rq.body_sha256 = H2;
	T_EQ_INT(store_claim_req(s, &rq, &done), 0);
	T_EQ_INT(done.kind, STORE_NEW);
	T_EQ_INT(finish_h(s, done.job_id, "succeeded", 200, "{\"r\":1}"), 0);
	rq.body_sha256 = H1;
	rq.key = "q1";
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	rq.key = "q2";
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	rq.key = "q3";
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_FULL);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM deliveries WHERE key = 'q3'"), 0);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs WHERE state = 'queued'"), 2);
	rq.key = "q1";
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	rq.key = "done";
	rq.body_sha256 = H2;
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	store_claim_res_clear(&r);
	/* running claims ignore the cap */
	rq.key = "sync";
	rq.body_sha256 = H1;
	rq.initial_state = JOBSTATE_RUNNING;
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	store_close(s);
}

/* Taking back a claim: the attempt goes; the delivery goes with its first
 * attempt, stays with a later one; a finished job cannot be taken back. */
static void test_unclaim(void)
{
	struct store *s = fresh("unclaim");
	struct store_claim_res a = { 0 }, r = { 0 };

	if (!s) {
		T_CHECK(s != NULL);
		return;
	}
	T_EQ_INT(claim_h(s, "k1", H1, 0, NULL, 0, &a), 0);
	T_EQ_INT(store_unclaim(s, a.job_id), 0);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs"), 0);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM deliveries"), 0);
	T_EQ_INT(claim_h(s, "k1", H1, 0, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_CHECK(r.job_id > a.job_id); /* ids are never reused */
	T_EQ_INT(finish_h(s, r.job_id, "failed", 500, "{}"), 0);
	T_EQ_INT(store_unclaim(s, r.job_id), -ENOENT);
	T_EQ_INT(claim_h(s, "k1", H1, 0, NULL, 0, &a), 0);
	T_EQ_INT(a.kind, STORE_RETRY);
	T_EQ_INT(store_unclaim(s, a.job_id), 0);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs"), 1);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM deliveries WHERE key = 'k1'"), 1);
	T_EQ_INT(claim_h(s, "k1", H1, 0, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_INT(store_unclaim(s, 999999), -ENOENT);
	T_EQ_INT(store_unclaim(NULL, 1), -EINVAL);
	store_close(s);
}

static void test_bad_requests(void)
{
	static const unsigned char body[] = "x";
	struct store *s = fresh("bad");
	struct store_claim_req rq = {
		.hook = "h", .key = "k", .body_sha256 = H1, .body = body, .len = 1, .now_ms = 1,
		.initial_state = JOBSTATE_RUNNING,
	};
	struct store_claim_res r = { 0 };
	char longjti[STORE_JTI_MAX + 2];

	if (!s) {
		T_CHECK(s != NULL);
		return;
	}
	memset(longjti, 'j', sizeof longjti - 1);
	longjti[sizeof longjti - 1] = 0;
	rq.jti = longjti;
	T_EQ_INT(store_claim_req(s, &rq, &r), -EINVAL);
	longjti[STORE_JTI_MAX] = 0; /* exactly the maximum */
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	rq.jti = "";
	T_EQ_INT(store_claim_req(s, &rq, &r), -EINVAL);
	rq.jti = NULL;
	rq.max_queued = -1;
	T_EQ_INT(store_claim_req(s, &rq, &r), -EINVAL);
	rq.max_queued = 0;
	rq.initial_state = JOBSTATE_SUCCEEDED;
	T_EQ_INT(store_claim_req(s, &rq, &r), -EINVAL);
	T_EQ_INT(store_claim_req(s, NULL, &r), -EINVAL);
	T_EQ_INT(q1(g_path, "SELECT count(*) FROM jobs"), 1);
	store_close(s);
}

int main(void)
{
	if (sqlite_test_begin("runner_store_sqlite_repeats") != 0)
		return 1;
	T_RUN(test_same_body_new_key);
	T_RUN(test_same_body_retries_under_its_key);
	T_RUN(test_jti_single_use);
	T_RUN(test_jti_expiry_and_prune);
	T_RUN(test_queue_full_in_claim);
	T_RUN(test_unclaim);
	T_RUN(test_bad_requests);
	return sqlite_test_end();
}
