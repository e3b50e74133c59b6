/*
 * runner_store_sqlite_queue.c — unit tests of the SQLite store backend's
 * queue and history (runner/store_sqlite*.c), with what it wrote read back
 * through independent readers (store_sqlite_test.h): queued claims, taking
 * in order and concurrently over two connections, requeue, the queue across
 * a restart, the operator's replay, stored deliveries and the listings.
 */
#include <errno.h>
#include <pthread.h>

#include "store_sqlite_test.h"

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

int main(void)
{
	if (sqlite_test_begin("runner_store_sqlite_queue") != 0)
		return 1;
	T_RUN(test_claim_state_queued);
	T_RUN(test_take_queued_order);
	T_RUN(test_take_queued_concurrent);
	T_RUN(test_queued_survives_reopen);
	T_RUN(test_requeue);
	T_RUN(test_claim_again);
	T_RUN(test_delivery_get);
	T_RUN(test_list);
	return sqlite_test_end();
}
