/*
 * runner_store_contract_queue.c — the store's contract (store.h) on the
 * durable queue, the history and the store's upkeep, checked through
 * store.h alone against every backend (store_contract.h): the queue cap in
 * the claim, taking queued jobs in order, putting one back, the operator's
 * replay (claim again), taking a claim back, stored deliveries, listings
 * and attempts, prune, health, and two handles on one store racing for the
 * same key and the same queue. The claim itself is runner_store_contract.c's.
 */
#include <pthread.h>

#include "store_contract.h"

/* ---- the queue ----------------------------------------------------------- */

static void case_queue_cap(void)
{
	static const unsigned char body[] = "{}";
	struct store *s = fresh("full");
	struct store_claim_req rq = {
		.hook = "h", .body_sha256 = H2, .body = body, .len = 2, .now_ms = 1000,
		.initial_state = JOBSTATE_QUEUED, .max_queued = 2, .key = "done",
	};
	struct store_claim_res r, done;
	int n = -1;

	T_EQ_INT(store_claim_req(s, &rq, &done), 0);
	T_EQ_INT(done.kind, STORE_NEW);
	T_EQ_INT(finish(s, done.job_id, JOBSTATE_SUCCEEDED, 200, "{\"r\":1}", 1010), 0);
	rq.body_sha256 = H1;
	rq.key = "q1";
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	rq.key = "q2";
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	rq.key = "q3";
	rq.jti = "tok-q3";
	rq.jti_until_ms = INT64_MAX / 2;
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_FULL); /* refused: nothing written, its token id neither */
	T_EQ_INT(has_delivery(s, "h", "q3"), 0);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 2);
	rq.key = "q4";
	rq.max_queued = 0; /* no cap */
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW); /* the id was free */
	rq.jti = NULL;
	rq.max_queued = 2;
	rq.key = "q1"; /* a copy of a queued delivery is busy, not full */
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	rq.key = "done"; /* a replay is a replay, full or not */
	rq.body_sha256 = H2;
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	store_claim_res_clear(&r);
	rq.key = "sync"; /* running claims ignore the cap */
	rq.body_sha256 = H1;
	rq.initial_state = JOBSTATE_RUNNING;
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	rq.max_queued = -1;
	T_EQ_INT(store_claim_req(s, &rq, &r), -EINVAL);
	T_EQ_INT(store_claim_req(s, NULL, &r), -EINVAL);
	store_close(s);
}

static void case_queue_take_order(void)
{
	static const unsigned char bin[] = { '{', 0, 0xff, '}', '\n' };
	char key[16], *body = (char *)1, *meta = (char *)1;
	struct store *s = fresh("take");
	struct store_claim_res a, r;
	struct store_job j;
	size_t len = 99;
	int64_t ids[3];
	int i, n;

	T_EQ_INT(store_take_queued(s, 1, &j, &body, &len, &meta), -ENOENT); /* empty */
	T_CHECK(body == NULL && meta == NULL && len == 0);
	T_EQ_INT(claim(s, "h", "running-one", H1, 1, &a), 0); /* never taken */
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof key, "q%d", i);
		if (i == 1)
			T_EQ_INT(store_claim_state(s, "other", key, HX, bin, sizeof bin, NULL, 10 + i,
			    JOBSTATE_QUEUED, &r), 0);
		else
			T_EQ_INT(claim_q(s, "h", key, 10 + i, &r), 0);
		ids[i] = r.job_id;
	}
	T_EQ_INT(store_job_get(s, ids[0], &j), 0);
	T_EQ_INT(j.state, JOBSTATE_QUEUED);
	T_EQ_INT(j.started_ms, 0); /* not started yet */
	store_job_clear(&j);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 3);
	T_EQ_INT(store_take_queued(s, 500, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, ids[0]);
	T_EQ_STR(j.key, "q0");
	T_EQ_INT(j.state, JOBSTATE_RUNNING);
	T_EQ_INT(j.started_ms, 500);
	T_EQ_INT(j.created_ms, 10);
	T_EQ_INT(len, 11);
	T_EQ_STR(body, "{\"event\":1}");
	T_EQ_STR(meta, "{\"x-a\":\"1\"}");
	store_job_clear(&j);
	free(body);
	free(meta);
	T_EQ_INT(state_of(s, ids[0]), JOBSTATE_RUNNING);
	T_EQ_INT(store_take_queued(s, 600, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, ids[1]);
	T_EQ_STR(j.hook, "other");
	T_EQ_INT(len, sizeof bin);
	T_CHECK(body && !memcmp(body, bin, sizeof bin) && body[len] == 0);
	T_CHECK(meta == NULL);
	store_job_clear(&j);
	free(body);
	/* a queued retry comes after older queued jobs */
	T_EQ_INT(finish(s, ids[0], JOBSTATE_FAILED, 500, "{}", 700), 0);
	T_EQ_INT(claim_q(s, "h", "q0", 800, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_QUEUED);
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
	T_EQ_INT(store_count_queued(s, NULL), -EINVAL);
	T_EQ_INT(store_count_queued(NULL, &n), -EINVAL);
	store_close(s);
}

/* A job taken at shutdown, before it started, goes back to the queue and
 * runs after the restart, which does not count it as interrupted. */
static void case_queue_requeue(void)
{
	struct store *s = fresh("requeue");
	struct store_claim_res q, r;
	struct store_job j;
	char *body = NULL, *meta = NULL;
	size_t len;
	int n = -1;

	T_EQ_INT(claim_q(s, "h", "rq", 1, &q), 0);
	T_EQ_INT(claim(s, "h", "other", H1, 1, &r), 0); /* running, never queued */
	T_EQ_INT(store_take_queued(s, 5, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, q.job_id);
	store_job_clear(&j);
	free(body);
	free(meta);
	T_EQ_INT(store_requeue(s, q.job_id), 0);
	T_EQ_INT(store_job_get(s, q.job_id, &j), 0);
	T_EQ_INT(j.state, JOBSTATE_QUEUED);
	T_EQ_INT(j.started_ms, 0);
	T_EQ_INT(j.attempt, 1);
	store_job_clear(&j);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(store_requeue(s, q.job_id), -ENOENT); /* only a running job */
	T_EQ_INT(store_requeue(s, 999999), -ENOENT);
	store_close(s);
	s = reopen(1, &n);
	T_EQ_INT(n, 1); /* the other one, which was running */
	T_EQ_INT(store_take_queued(s, 9, &j, &body, &len, &meta), 0);
	T_EQ_INT(j.id, q.job_id);
	store_job_clear(&j);
	free(body);
	free(meta);
	store_close(s);
	s = reopen(1, &n); /* taken, so running when it "died" again */
	T_EQ_INT(n, 1);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 0);
	store_close(s);
}

/* The operator's replay: busy while an attempt runs or waits, else a new
 * attempt of the same key, whatever the last outcome. */
static void case_queue_claim_again(void)
{
	struct store *s = fresh("again");
	struct store_claim_res a, r, b;
	struct store_job j;
	int n;

	T_EQ_INT(claim(s, "h", "k", H1, 100, &a), 0);
	T_EQ_INT(store_claim_again(s, a.job_id, JOBSTATE_RUNNING, 150, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(r.job_id, a.job_id);
	T_EQ_INT(r.attempt, 1);
	T_EQ_INT(count_jobs(s, NULL), 1);
	T_EQ_INT(finish(s, a.job_id, JOBSTATE_SUCCEEDED, 200, "{\"ok\":1}", 200), 0);
	T_EQ_INT(store_claim_again(s, a.job_id, JOBSTATE_RUNNING, 300, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_CHECK(r.job_id > a.job_id);
	T_CHECK(r.response == NULL);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_STR(j.hook, "h");
	T_EQ_STR(j.key, "k");
	T_EQ_INT(j.state, JOBSTATE_RUNNING);
	T_EQ_INT(j.created_ms, 300);
	T_EQ_INT(j.started_ms, 300);
	store_job_clear(&j);
	T_EQ_INT(claim(s, "h", "k", H1, 310, &b), 0); /* the replay's attempt is the latest */
	T_EQ_INT(b.kind, STORE_BUSY);
	T_EQ_INT(b.attempt, 2);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_FAILED, 500, "{}", 400), 0);
	T_EQ_INT(store_claim_again(s, a.job_id, JOBSTATE_RUNNING, 500, &b), 0); /* by the OLD id */
	T_EQ_INT(b.kind, STORE_RETRY);
	T_EQ_INT(b.attempt, 3);
	T_EQ_INT(finish(s, b.job_id, JOBSTATE_INTERRUPTED, 0, NULL, 600), 0);
	T_EQ_INT(store_claim_again(s, b.job_id, JOBSTATE_QUEUED, 900, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 4);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_INT(j.state, JOBSTATE_QUEUED);
	T_EQ_INT(j.started_ms, 0);
	store_job_clear(&j);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(store_claim_again(s, a.job_id, JOBSTATE_RUNNING, 950, &b), 0); /* busy while queued */
	T_EQ_INT(b.kind, STORE_BUSY);
	T_EQ_INT(b.job_id, r.job_id);
	T_EQ_INT(count_jobs(s, NULL), 4);
	T_EQ_INT(store_claim_again(s, r.job_id + 1000, JOBSTATE_RUNNING, 1, &b), -ENOENT);
	T_CHECK(strstr(store_errmsg(s), "no such job") != NULL);
	T_EQ_INT(store_claim_again(s, 0, JOBSTATE_RUNNING, 1, &b), -ENOENT);
	T_EQ_INT(store_claim_again(s, a.job_id, JOBSTATE_SUCCEEDED, 1, &b), -EINVAL);
	T_EQ_INT(store_claim_again(s, a.job_id, JOBSTATE_NONE, 1, &b), -EINVAL);
	T_EQ_INT(store_claim_again(s, a.job_id, JOBSTATE_RUNNING, 1, NULL), -EINVAL);
	T_EQ_INT(store_claim_again(NULL, a.job_id, JOBSTATE_RUNNING, 1, &b), -EINVAL);
	T_EQ_INT(count_jobs(s, NULL), 4);
	T_EQ_INT(claim(s, "h", "old", H1, 1, &b), 0); /* pruned: the job is gone */
	T_EQ_INT(finish(s, b.job_id, JOBSTATE_FAILED, 500, "{}", 2), 0);
	T_EQ_INT(store_prune(s, 3, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(store_claim_again(s, b.job_id, JOBSTATE_RUNNING, 4, &r), -ENOENT);
	store_close(s);
}

/* Taking back a claim: the attempt goes; the delivery goes with its first
 * attempt, stays with a later one; a finished job cannot be taken back. */
static void case_queue_unclaim(void)
{
	struct store *s = fresh("unclaim");
	struct store_claim_res a, r;

	T_EQ_INT(claim_rq(s, "k1", H1, 0, NULL, 0, &a), 0);
	T_EQ_INT(store_unclaim(s, a.job_id), 0);
	T_EQ_INT(count_jobs(s, NULL), 0);
	T_EQ_INT(has_delivery(s, "h", "k1"), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &(struct store_job){ 0 }), -ENOENT);
	T_EQ_INT(claim_rq(s, "k1", H1, 0, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_CHECK(r.job_id > a.job_id); /* ids are never reused */
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_FAILED, 500, "{}", 1010), 0);
	T_EQ_INT(store_unclaim(s, r.job_id), -ENOENT);
	T_EQ_INT(claim_rq(s, "k1", H1, 0, NULL, 0, &a), 0);
	T_EQ_INT(a.kind, STORE_RETRY);
	T_EQ_INT(store_unclaim(s, a.job_id), 0);
	T_EQ_INT(count_jobs(s, NULL), 1);
	T_EQ_INT(has_delivery(s, "h", "k1"), 1);
	T_EQ_INT(claim_rq(s, "k1", H1, 0, NULL, 0, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_INT(claim_q(s, "h", "q", 1, &a), 0); /* a queued one too */
	T_EQ_INT(store_unclaim(s, a.job_id), 0);
	T_EQ_INT(has_delivery(s, "h", "q"), 0);
	T_EQ_INT(store_unclaim(s, 999999), -ENOENT);
	store_close(s);
}

/* ---- the history ----------------------------------------------------------- */

static void case_delivery_get(void)
{
	static const unsigned char bin[] = { 0, 'a', 0xff, 0, '\r', '\n', 0x80 };
	struct store *s = fresh("delivery");
	struct store_claim_res r;
	char *body = (char *)1, *meta = (char *)1;
	size_t len = 99;

	T_EQ_INT(store_claim(s, "h", "bin", HX, bin, sizeof bin,
	    "{\"headers\":{\"X-Event\":\"push\"},\"claims\":{\"sub\":\"ci\"}}", 1, &r), 0);
	T_EQ_INT(store_delivery_get(s, "h", "bin", &body, &len, &meta), 0);
	T_EQ_INT(len, sizeof bin);
	T_CHECK(body && !memcmp(body, bin, sizeof bin) && body[sizeof bin] == 0);
	T_EQ_STR(meta, "{\"headers\":{\"X-Event\":\"push\"},\"claims\":{\"sub\":\"ci\"}}");
	free(body);
	free(meta);
	T_EQ_INT(store_claim(s, "h", "empty", HX, NULL, 0, NULL, 1, &r), 0); /* "" and NULL */
	T_EQ_INT(store_delivery_get(s, "h", "empty", &body, &len, &meta), 0);
	T_EQ_INT(len, 0);
	T_EQ_STR(body, "");
	T_CHECK(meta == NULL);
	free(body);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_FAILED, 500, "{}", 2), 0); /* a retry refreshes it */
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

/* The keys store_list lists, "k1,k2,..." into BUF; its return in *RC. */
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

static void case_list_and_attempts(void)
{
	struct store *s = fresh("list");
	struct store_claim_res r;
	struct store_job *v = (struct store_job *)1;
	char got[400], longhook[200];
	size_t n = 99;
	int rc;

	T_EQ_INT(store_list(s, NULL, 0, 10, &v, &n), 0);
	T_CHECK(v == NULL && n == 0);
	/* a1 ok, b1 failed, a2 timeout, a3 running, b2 queued, a4 interrupted,
	 * b1 again (attempt 2, succeeded) */
	T_EQ_INT(claim(s, "a", "a1", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_SUCCEEDED, 200, "{\"a\":1}", 2), 0);
	T_EQ_INT(claim(s, "b", "b1", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_FAILED, 500, "{}", 2), 0);
	T_EQ_INT(claim(s, "a", "a2", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_TIMEOUT, 504, "{}", 2), 0);
	T_EQ_INT(claim(s, "a", "a3", H1, 1, &r), 0);
	T_EQ_INT(claim_q(s, "b", "b2", 1, &r), 0);
	T_EQ_INT(claim(s, "a", "a4", H1, 1, &r), 0);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_INTERRUPTED, 0, NULL, 2), 0);
	T_EQ_INT(claim(s, "b", "b1", H1, 3, &r), 0);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_SUCCEEDED, 200, "{}", 4), 0);
	list_keys(s, NULL, 0, 100, got, sizeof got, &rc);
	T_EQ_INT(rc, 0);
	T_EQ_STR(got, "b1,a4,b2,a3,a2,b1,a1");
	list_keys(s, NULL, 0, 3, got, sizeof got, &rc);
	T_EQ_STR(got, "b1,a4,b2");
	list_keys(s, "a", 0, 2, got, sizeof got, &rc);
	T_EQ_STR(got, "a4,a3");
	list_keys(s, "b", 0, 100, got, sizeof got, &rc);
	T_EQ_STR(got, "b1,b2,b1");
	list_keys(s, NULL, 1, 100, got, sizeof got, &rc); /* failed, timeout, interrupted */
	T_EQ_STR(got, "a4,a2,b1");
	list_keys(s, "a", 1, 100, got, sizeof got, &rc);
	T_EQ_STR(got, "a4,a2");
	list_keys(s, "nobody", 0, 100, got, sizeof got, &rc);
	T_EQ_INT(rc, 0);
	T_EQ_STR(got, "");
	T_EQ_INT(store_list(s, "b", 0, 10000, &v, &n), 0); /* whole jobs */
	T_EQ_INT(n, 3);
	if (n == 3) {
		T_EQ_INT(v[0].state, JOBSTATE_SUCCEEDED);
		T_EQ_INT(v[0].attempt, 2);
		T_EQ_STR(v[0].response, "{}");
		T_EQ_INT(v[1].state, JOBSTATE_QUEUED);
		T_EQ_INT(v[1].exit_code, -1);
		T_EQ_INT(v[2].state, JOBSTATE_FAILED);
		T_EQ_INT(v[2].exit_code, 1);
		T_CHECK(v[0].id > v[1].id && v[1].id > v[2].id);
	}
	for (size_t i = 0; i < n; i++)
		store_job_clear(&v[i]);
	free(v);
	T_EQ_INT(store_attempts(s, "b", "b1", &v, &n), 0); /* oldest first */
	T_EQ_INT(n, 2);
	if (n == 2) {
		T_EQ_INT(v[0].attempt, 1);
		T_EQ_INT(v[0].state, JOBSTATE_FAILED);
		T_EQ_INT(v[1].attempt, 2);
		T_EQ_INT(v[1].state, JOBSTATE_SUCCEEDED);
	}
	for (size_t i = 0; i < n; i++)
		store_job_clear(&v[i]);
	free(v);
	T_EQ_INT(store_attempts(s, "a", "b1", &v, &n), 0); /* keys are per hook */
	T_CHECK(n == 0 && v == NULL);
	T_EQ_INT(store_attempts(s, "b", "", &v, &n), -EINVAL);
	T_EQ_INT(store_attempts(s, NULL, "b1", &v, &n), -EINVAL);
	memset(longhook, 'h', sizeof longhook);
	longhook[128] = 0;
	T_EQ_INT(store_list(s, NULL, 0, 0, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, NULL, 0, 10001, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, longhook, 0, 10, &v, &n), -EINVAL);
	T_EQ_INT(store_list(s, NULL, 0, 10, NULL, &n), -EINVAL);
	T_EQ_INT(store_list(NULL, NULL, 0, 10, &v, &n), -EINVAL);
	T_CHECK(strstr(store_errmsg(s), "invalid") != NULL);
	store_close(s);
}

static void case_prune(void)
{
	struct store *s = fresh("prune");
	struct store_claim_res k1, k2, k2b, k3, k4, r;
	int n = -1;

	T_EQ_INT(claim(s, "h", "k1", H1, 100, &k1), 0);
	T_EQ_INT(finish(s, k1.job_id, JOBSTATE_SUCCEEDED, 200, "1", 1000), 0);
	T_EQ_INT(claim(s, "h", "k2", H1, 100, &k2), 0);
	T_EQ_INT(finish(s, k2.job_id, JOBSTATE_FAILED, 500, "2", 1000), 0);
	T_EQ_INT(claim(s, "h", "k2", H1, 1500, &k2b), 0); /* attempt 2 running */
	T_EQ_INT(claim(s, "h", "k3", H1, 100, &k3), 0);
	T_EQ_INT(finish(s, k3.job_id, JOBSTATE_SUCCEEDED, 200, "3", 5000), 0); /* after the cutoff */
	T_EQ_INT(claim(s, "h", "k4", H1, 0, &k4), 0); /* running since long ago */
	T_EQ_INT(store_prune(s, 2000, &n), 0);
	T_EQ_INT(n, 2); /* k1 and k2's first attempt */
	T_EQ_INT(count_jobs(s, NULL), 3);
	T_EQ_INT(has_delivery(s, "h", "k1"), 0); /* it went with its last job */
	T_EQ_INT(has_delivery(s, "h", "k2"), 1);
	T_EQ_INT(store_job_get(s, k1.job_id, &(struct store_job){ 0 }), -ENOENT);
	T_EQ_INT(claim(s, "h", "k1", H1, 6000, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW); /* the key expired */
	T_CHECK(r.job_id > k4.job_id); /* ids are never reused */
	T_EQ_INT(claim(s, "h", "k2", H1, 6000, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_INT(claim(s, "h", "k3", H1, 6000, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	store_claim_res_clear(&r);
	T_EQ_INT(store_prune(s, INT64_MAX, &n), 0); /* keeps the running ones */
	T_EQ_INT(n, 1); /* k3 */
	T_EQ_INT(count_jobs(s, NULL), 3);
	T_EQ_INT(store_prune(s, INT64_MAX, NULL), 0);
	T_EQ_INT(store_prune(s, INT64_MAX, &n), 0);
	T_EQ_INT(n, 0);
	store_close(s);
}

static void case_health(void)
{
	struct store *s = fresh("health");
	struct store_claim_res r;
	enum store_why why = STORE_WHY_GONE;

	T_EQ_INT(store_health(s, &why), 0);
	T_EQ_INT(why, STORE_WHY_NONE);
	T_EQ_INT(store_health(s, NULL), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1, &r), 0);
	T_EQ_INT(store_health(s, NULL), 0);
	T_EQ_INT(count_jobs(s, NULL), 1); /* nothing written by it */
	T_EQ_INT(store_health(NULL, &why), -EINVAL);
	store_close(s);
}

/* ---- two handles on one store ------------------------------------------------ */

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

/* N threads claim KEY at once, spread over the NS handles: one wins, the
 * others are busy, and all name the same job. */
static void race_claims(struct store **ss, int ns, int n, const char *key)
{
	pthread_t th[16];
	struct racer x[16];
	pthread_barrier_t go;
	int64_t id = 0;
	int i, news = 0, busies = 0;

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
			news++;
			id = x[i].r.job_id;
		} else if (x[i].r.kind == STORE_BUSY) {
			busies++;
		}
	}
	T_EQ_INT(news, 1);
	T_EQ_INT(busies, n - 1);
	for (i = 0; i < n; i++)
		T_EQ_INT(x[i].r.job_id, id);
}

static void case_race_claims(void)
{
	struct store *ss[2] = { fresh("race"), NULL };
	char key[32];
	int round;

	ss[1] = reopen(0, NULL);
	if (!ss[0] || !ss[1])
		goto out;
	race_claims(ss, 1, 16, "one-handle"); /* threads on one handle */
	for (round = 0; round < 10; round++) { /* and on two */
		snprintf(key, sizeof key, "round-%d", round);
		race_claims(ss, 2, 8, key);
	}
	T_EQ_INT(count_jobs(ss[0], NULL), 11);
	T_EQ_INT(count_jobs(ss[1], NULL), 11);
out:
	store_close(ss[0]);
	store_close(ss[1]);
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

/* 8 takers on two handles drain 300 queued jobs: each job exactly once, and
 * each is running when the queue is empty. */
static void case_race_takers(void)
{
	enum { NJOBS = 300, NT = 8 };
	struct store *ss[2] = { fresh("take-race"), NULL };
	struct store_claim_res r;
	struct store_job *v = NULL;
	static struct taker x[NT];
	static int64_t all[NJOBS + NT * 400];
	pthread_t th[NT];
	pthread_barrier_t go;
	char key[32];
	size_t n = 0;
	int i, k, total = 0, dups = 0, running = 0;

	ss[1] = reopen(0, NULL);
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
	T_EQ_INT(store_list(ss[1], "race", 0, 10000, &v, &n), 0);
	T_EQ_INT(n, NJOBS);
	for (size_t j = 0; j < n; j++) {
		running += v[j].state == JOBSTATE_RUNNING && v[j].started_ms == 7;
		store_job_clear(&v[j]);
	}
	free(v);
	T_EQ_INT(running, NJOBS);
out:
	store_close(ss[0]);
	store_close(ss[1]);
}

int main(void)
{
	static const struct contract_case cases[] = {
		CONTRACT_CASE(case_queue_cap),
		CONTRACT_CASE(case_queue_take_order),
		CONTRACT_CASE(case_queue_requeue),
		CONTRACT_CASE(case_queue_claim_again),
		CONTRACT_CASE(case_queue_unclaim),
		CONTRACT_CASE(case_delivery_get),
		CONTRACT_CASE(case_list_and_attempts),
		CONTRACT_CASE(case_prune),
		CONTRACT_CASE(case_health),
		CONTRACT_CASE(case_race_claims),
		CONTRACT_CASE(case_race_takers),
	};

	return contract_main("runner_store_contract_queue", cases, sizeof cases / sizeof cases[0]);
}
