/*
 * runner_store_contract.c — the store's contract (store.h) on opening and
 * on the claim, checked through store.h alone against every backend
 * (store_contract.h): opening and its refusals, the claim's answers (new,
 * busy, replay, retry, mismatch in every state, refused requests), hooks
 * and keys, interrupted jobs at a restart, a job's fields, the same body
 * under a new key, single-use token ids, and stored bytes that are not
 * UTF-8, kept as they came. The queue, the history, prune,
 * health and races are runner_store_contract_queue.c's. What only one
 * backend can show (its files, its schema) is its own test
 * (runner_store_sqlite*.c).
 */
#include "store_contract.h"

/* ---- opening ----------------------------------------------------------- */

static void case_open(void)
{
	struct store_config sc = g_sc;
	struct store *s = (struct store *)&s;
	enum store_why why = STORE_WHY_READ;
	int n = -1;

	T_EQ_INT(g_be->fresh("open", &g_sc), 0);
	sc = g_sc;
	sc.must_exist = 1; /* nothing there yet: not created */
	T_EQ_INT(store_open(&sc, &s, 0, &n, &why), -ENOENT);
	T_EQ_INT(why, STORE_WHY_ABSENT);
	T_CHECK(s == NULL);
	T_EQ_INT(n, 0);
	T_EQ_INT(store_open(NULL, &s, 0, NULL, NULL), -EINVAL);
	T_EQ_INT(store_open(&g_sc, NULL, 0, NULL, NULL), -EINVAL);
	T_EQ_INT(store_open(&g_sc, &s, 1, &n, &why), 0);
	T_CHECK(s != NULL);
	T_EQ_INT(n, 0);
	T_EQ_INT(why, STORE_WHY_NONE);
	T_EQ_STR(store_errmsg(s), "");
	store_close(s);
	s = NULL;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), 0); /* it exists now */
	store_close(s);
	store_close(NULL);
	T_EQ_STR(store_errmsg(NULL), "no store");
}

/* ---- the claim --------------------------------------------------------- */

static void case_claim_new_then_busy(void)
{
	struct store *s = fresh("busy");
	struct store_claim_res a, b;

	T_EQ_INT(claim(s, "deploy", "evt_1", H1, 1000, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(a.attempt, 1);
	T_CHECK(a.job_id > 0);
	T_EQ_STR(a.key, "evt_1");
	T_EQ_INT(claim(s, "deploy", "evt_1", H1, 1001, &b), 0);
	T_EQ_INT(b.kind, STORE_BUSY);
	T_EQ_INT(b.job_id, a.job_id);
	T_EQ_INT(b.attempt, 1);
	T_CHECK(b.response == NULL);
	T_EQ_INT(count_jobs(s, NULL), 1);
	store_close(s);
}

static void case_claim_replay(void)
{
	struct store *s = fresh("replay");
	struct store_claim_res a, r;
	const char *resp = "{\"job\":1,\"status\":\"succeeded\",\"tail\":\"caf\xc3\xa9\\n\"}";

	T_EQ_INT(claim(s, "h", "k", H1, 1000, &a), 0);
	T_EQ_INT(finish(s, a.job_id, JOBSTATE_SUCCEEDED, 200, resp, 2000), 0);
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
	T_EQ_INT(claim(s, "h", "k2", H1, 1000, &a), 0); /* no response recorded: "" */
	T_EQ_INT(finish(s, a.job_id, JOBSTATE_SUCCEEDED, 204, NULL, 2000), 0);
	T_EQ_INT(claim(s, "h", "k2", H1, 3000, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_INT(r.http_status, 204);
	T_EQ_STR(r.response, "");
	store_claim_res_clear(&r);
	T_EQ_INT(count_jobs(s, NULL), 2);
	store_close(s);
}

static void case_claim_retry(void)
{
	struct store *s = fresh("retry");
	struct store_claim_res a, r;
	struct store_job j;

	T_EQ_INT(claim(s, "h", "k", H1, 1000, &a), 0);
	T_EQ_INT(finish(s, a.job_id, JOBSTATE_FAILED, 500, "{}", 1100), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1200, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_CHECK(r.job_id > a.job_id);
	T_EQ_INT(claim(s, "h", "k", H1, 1250, &a), 0);
	T_EQ_INT(a.kind, STORE_BUSY);
	T_EQ_INT(a.attempt, 2);
	T_EQ_INT(a.job_id, r.job_id);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_TIMEOUT, 504, "{}", 1300), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1400, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 3);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_INT(j.state, JOBSTATE_RUNNING);
	T_EQ_INT(j.attempt, 3);
	T_EQ_INT(j.created_ms, 1400);
	T_EQ_INT(j.started_ms, 1400);
	store_job_clear(&j);
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_SUCCEEDED, 200, "ok3", 1500), 0);
	T_EQ_INT(claim(s, "h", "k", H1, 1600, &a), 0);
	T_EQ_INT(a.kind, STORE_REPLAY);
	T_EQ_INT(a.attempt, 3);
	T_EQ_STR(a.response, "ok3");
	store_claim_res_clear(&a);
	T_EQ_INT(count_jobs(s, "h"), 3);
	store_close(s);
}

static void case_claim_mismatch_in_every_state(void)
{
	/* interrupted first: the reopen that makes it marks every running job */
	static const enum jobstate states[] = { JOBSTATE_INTERRUPTED, JOBSTATE_RUNNING,
		JOBSTATE_SUCCEEDED, JOBSTATE_FAILED, JOBSTATE_TIMEOUT, JOBSTATE_QUEUED };
	struct store *s = fresh("mismatch");
	struct store_claim_res a, r;
	char key[32], *body = NULL, *meta = NULL;
	size_t i, len = 0;

	for (i = 0; s && i < sizeof states / sizeof states[0]; i++) {
		snprintf(key, sizeof key, "k-%s", jobstate_name(states[i]));
		if (states[i] == JOBSTATE_QUEUED)
			T_EQ_INT(claim_q(s, "h", key, 1000, &a), 0);
		else
			T_EQ_INT(claim(s, "h", key, H1, 1000, &a), 0);
		if (states[i] == JOBSTATE_INTERRUPTED) {
			store_close(s);
			s = reopen(1, NULL);
		} else if (jobstate_is_final(states[i])) {
			T_EQ_INT(finish(s, a.job_id, states[i], 200, "{}", 1100), 0);
		}
	}
	for (i = 0; s && i < sizeof states / sizeof states[0]; i++) {
		snprintf(key, sizeof key, "k-%s", jobstate_name(states[i]));
		T_EQ_INT(store_claim(s, "h", key, H2, (const unsigned char *)"other", 5, NULL, 5000, &r), 0);
		T_EQ_INT(r.kind, STORE_MISMATCH);
		T_CHECK(r.response == NULL);
		T_EQ_INT(state_of(s, r.job_id), states[i]);
		/* nothing was written: the delivery is the first one */
		T_EQ_INT(store_delivery_get(s, "h", key, &body, &len, &meta), 0);
		T_EQ_STR(body, "{\"event\":1}");
		T_EQ_STR(meta, "{\"x-a\":\"1\"}");
		free(body);
		free(meta);
	}
	T_EQ_INT(count_jobs(s, NULL), 6);
	store_close(s);
}

static void case_claim_refused(void)
{
	struct store *s = fresh("bad");
	struct store_claim_res r;
	struct store_outcome o = { .state = JOBSTATE_RUNNING, .exit_code = -1 };
	const unsigned char b[] = "x";
	char longkey[300];

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
	T_EQ_INT(store_claim_state(s, "h", "k", H1, b, 1, NULL, 1, JOBSTATE_SUCCEEDED, &r), -EINVAL);
	T_EQ_INT(store_claim_state(s, "h", "k", H1, b, 1, NULL, 1, JOBSTATE_NONE, &r), -EINVAL);
	T_EQ_INT(store_claim_state(s, "h", "k", H1, b, 1, NULL, 1, (enum jobstate)99, &r), -EINVAL);
	T_CHECK(strstr(store_errmsg(s), "invalid") != NULL);
	T_EQ_INT(count_jobs(s, NULL), 0);
	T_EQ_INT(has_delivery(s, "h", "k"), 0);
	longkey[255] = 0; /* 255 bytes fit */
	T_EQ_INT(store_claim(s, "h", longkey, H1, b, 1, NULL, 1, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);

	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL); /* not an outcome */
	o.state = JOBSTATE_QUEUED;
	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL);
	o.state = JOBSTATE_NONE;
	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL);
	o.state = JOBSTATE_SUCCEEDED;
	o.signal = "SIGNAL_NAME_LONGER_THAN_THIRTY_ONE_BYTES";
	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL);
	o.signal = NULL;
	o.error = "an_error_kind_longer_than_forty_seven_bytes_is_refused";
	T_EQ_INT(store_finish(s, r.job_id, &o), -EINVAL);
	T_EQ_INT(store_finish(s, r.job_id, NULL), -EINVAL);
	T_EQ_INT(store_finish(NULL, r.job_id, &o), -EINVAL);
	T_CHECK(strstr(store_errmsg(s), "invalid") != NULL);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_RUNNING);
	T_EQ_INT(store_prune(NULL, 0, NULL), -EINVAL);
	T_EQ_INT(store_unclaim(NULL, 1), -EINVAL);
	T_EQ_INT(store_requeue(NULL, 1), -EINVAL);
	store_close(s);
}

static void case_hooks_are_independent(void)
{
	struct store *s = fresh("hooks");
	struct store_claim_res a, b, r;

	T_EQ_INT(claim(s, "alpha", "same", H1, 1, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(claim(s, "beta", "same", H2, 1, &b), 0); /* other hook: other body is fine */
	T_EQ_INT(b.kind, STORE_NEW);
	T_CHECK(a.job_id != b.job_id);
	T_EQ_INT(finish(s, a.job_id, JOBSTATE_SUCCEEDED, 200, "A", 2), 0);
	T_EQ_INT(claim(s, "beta", "same", H2, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(claim(s, "alpha", "same", H1, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_STR(r.response, "A");
	store_claim_res_clear(&r);
	T_EQ_INT(claim(s, "alpha", "Same", H1, 3, &r), 0); /* keys are compared exactly */
	T_EQ_INT(r.kind, STORE_NEW);
	store_close(s);
}

static void case_mark_interrupted(void)
{
	struct store *s = fresh("interrupted");
	struct store_claim_res a, b, c, q, r;
	struct store_job j;
	int n = -1;

	T_EQ_INT(claim(s, "h", "a", H1, 1, &a), 0);
	T_EQ_INT(claim(s, "h", "b", H1, 1, &b), 0);
	T_EQ_INT(claim(s, "h", "c", H1, 1, &c), 0);
	T_EQ_INT(claim_q(s, "h", "q", 1, &q), 0);
	T_EQ_INT(finish(s, c.job_id, JOBSTATE_SUCCEEDED, 200, "c", 2), 0);
	store_close(s); /* "the process died" with a and b running */

	s = reopen(0, &n); /* a CLI does not mark */
	T_EQ_INT(n, 0);
	T_EQ_INT(claim(s, "h", "a", H1, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	store_close(s);

	n = -1;
	s = reopen(1, &n);
	T_EQ_INT(n, 2);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_INT(j.state, JOBSTATE_INTERRUPTED);
	T_CHECK(j.finished_ms > 0); /* so prune can expire it */
	store_job_clear(&j);
	T_EQ_INT(state_of(s, b.job_id), JOBSTATE_INTERRUPTED);
	T_EQ_INT(state_of(s, c.job_id), JOBSTATE_SUCCEEDED);
	T_EQ_INT(state_of(s, q.job_id), JOBSTATE_QUEUED); /* the queue survives */
	T_EQ_INT(claim(s, "h", "a", H1, 4, &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	store_close(s);

	n = -1;
	s = reopen(1, &n); /* only the new running attempt of a */
	T_EQ_INT(n, 1);
	store_close(s);
}

static void case_job_fields(void)
{
	struct store *s = fresh("get");
	struct store_claim_res a;
	struct store_job j;
	struct store_outcome o = {
		.state = JOBSTATE_FAILED, .started_ms = 1000000000123LL, .finished_ms = 1000000004567LL,
		.exit_code = 3, .signal = "SIGTERM", .error = "timeout_connect", .http_status = 500,
		.response = "{\"status\":\"failed\"}", .output_tail = "line1\nline2\n",
	};

	T_EQ_INT(claim(s, "deploy-web", "delivery-42", H1, 999999999999LL, &a), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_INT(j.id, a.job_id);
	T_EQ_STR(j.hook, "deploy-web");
	T_EQ_STR(j.key, "delivery-42");
	T_EQ_INT(j.state, JOBSTATE_RUNNING);
	T_EQ_INT(j.attempt, 1);
	T_EQ_INT(j.created_ms, 999999999999LL);
	T_EQ_INT(j.started_ms, 999999999999LL);
	T_EQ_INT(j.finished_ms, 0);
	T_EQ_INT(j.exit_code, -1);
	T_EQ_STR(j.signal, "");
	T_EQ_STR(j.error, "");
	T_EQ_INT(j.http_status, 0);
	T_CHECK(j.response == NULL && j.output_tail == NULL);
	store_job_clear(&j);

	T_EQ_INT(store_finish(s, a.job_id, &o), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_INT(j.state, JOBSTATE_FAILED);
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

	o.state = JOBSTATE_TIMEOUT; /* exit_code -1 and NULL texts stay "none" */
	o.exit_code = -1;
	o.signal = o.error = o.output_tail = NULL;
	T_EQ_INT(store_finish(s, a.job_id, &o), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_INT(j.state, JOBSTATE_TIMEOUT);
	T_EQ_INT(j.exit_code, -1);
	T_EQ_STR(j.signal, "");
	T_EQ_STR(j.error, "");
	T_CHECK(j.output_tail == NULL);
	store_job_clear(&j);

	T_EQ_INT(store_job_get(s, a.job_id + 100, &j), -ENOENT);
	T_EQ_INT(store_finish(s, a.job_id + 100, &o), -ENOENT);
	T_CHECK(strstr(store_errmsg(s), "no such job") != NULL);
	T_EQ_INT(store_job_get(s, a.job_id, NULL), -EINVAL);
	T_EQ_INT(store_job_get(NULL, a.job_id, &j), -EINVAL);
	store_close(s);
}

/* ---- repeats: the same body, single-use token ids ----------------------- */

static void case_same_body_new_key(void)
{
	struct store *s = fresh("body");
	struct store_claim_res a, r;

	T_EQ_INT(claim_rq(s, "k1", H1, 1, NULL, 0, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_STR(a.key, "k1");
	T_EQ_INT(a.by_body, 0);
	T_EQ_INT(claim_rq(s, "k2", H1, 1, NULL, 0, &r), 0); /* busy while the first runs */
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_STR(r.key, "k1");
	T_EQ_INT(r.by_body, 1);
	T_EQ_INT(r.job_id, a.job_id);
	T_EQ_INT(finish(s, a.job_id, JOBSTATE_FAILED, 500, "{}", 1010), 0);
	T_EQ_INT(claim_rq(s, "k2", H1, 1, NULL, 0, &r), 0); /* its next attempt once failed */
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_STR(r.key, "k1");
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_SUCCEEDED, 200, "{\"ok\":1}", 1020), 0);
	T_EQ_INT(claim_rq(s, "k3", H1, 1, NULL, 0, &r), 0); /* its answer once it succeeded */
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_STR(r.key, "k1");
	T_EQ_STR(r.response, "{\"ok\":1}");
	T_EQ_INT(r.http_status, 200);
	store_claim_res_clear(&r);
	T_EQ_INT(has_delivery(s, "h", "k2"), 0); /* nothing written for k2 or k3 */
	T_EQ_INT(has_delivery(s, "h", "k3"), 0);
	T_EQ_INT(count_jobs(s, NULL), 2);
	T_EQ_INT(claim_rq(s, "k1", H2, 1, NULL, 0, &r), 0); /* its key, another body */
	T_EQ_INT(r.kind, STORE_MISMATCH);
	T_EQ_INT(claim_rq(s, "k4", H2, 1, NULL, 0, &r), 0); /* another body: another delivery */
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(r.by_body, 0);
	T_EQ_INT(claim_rq(s, "k5", H1, 0, NULL, 0, &r), 0); /* without by_body: a new key is new */
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_STR(r.key, "k5");
	T_EQ_INT(count_jobs(s, NULL), 4);
	store_close(s);
}

static void case_jti_single_use(void)
{
	struct store *s = fresh("jti");
	struct store_claim_res a, r;
	char longjti[STORE_JTI_MAX + 2];

	T_EQ_INT(claim_rq(s, "k1", H1, 0, "tok-1", 5000, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(claim_rq(s, "k1", H1, 0, "tok-1", 5000, &r), 0); /* the same delivery again */
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_INT(claim_rq(s, "k2", H2, 0, "tok-1", 5000, &r), 0); /* another delivery, same token */
	T_EQ_INT(r.kind, STORE_JTI_REUSED);
	T_CHECK(r.response == NULL);
	T_EQ_INT(has_delivery(s, "h", "k2"), 0);
	T_EQ_INT(count_jobs(s, NULL), 1);
	T_EQ_INT(finish(s, a.job_id, JOBSTATE_FAILED, 500, "{}", 1010), 0);
	T_EQ_INT(claim_rq(s, "k1", H1, 0, "tok-1", 5000, &r), 0); /* the sender's retry */
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	/* a replay answer also uses up a fresh id for that key */
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_SUCCEEDED, 200, "{}", 1020), 0);
	T_EQ_INT(claim_rq(s, "k1", H1, 0, "tok-2", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	store_claim_res_clear(&r);
	T_EQ_INT(claim_rq(s, "k3", H2, 0, "tok-2", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_JTI_REUSED);
	/* a mismatch writes nothing, not even the id */
	T_EQ_INT(claim_rq(s, "k1", H2, 0, "tok-3", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_MISMATCH);
	T_EQ_INT(claim_rq(s, "k4", H2, 0, "tok-3", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	{ /* the same id on another hook is another token */
		static const unsigned char body[] = "x";
		struct store_claim_req rq = {
			.hook = "other", .key = "k2", .body_sha256 = H2, .body = body, .len = 1,
			.now_ms = 1000, .initial_state = JOBSTATE_RUNNING, .jti = "tok-1",
			.jti_until_ms = 5000,
		};
		T_EQ_INT(store_claim_req(s, &rq, &r), 0);
		T_EQ_INT(r.kind, STORE_NEW);
	}
	memset(longjti, 'j', sizeof longjti - 1);
	longjti[sizeof longjti - 1] = 0;
	T_EQ_INT(claim_rq(s, "k9", H1, 0, longjti, 5000, &r), -EINVAL);
	T_EQ_INT(claim_rq(s, "k9", H1, 0, "", 5000, &r), -EINVAL);
	longjti[STORE_JTI_MAX] = 0; /* exactly the maximum */
	T_EQ_INT(claim_rq(s, "k9", H1, 0, longjti, 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	store_close(s);
}

/* An id whose record expired is free again; prune forgets expired ids
 * (against the wall clock) and keeps live ones. */
static void case_jti_expiry_and_prune(void)
{
	struct store *s = fresh("jtiexp");
	struct store_claim_res r;
	int n = -1;

	T_EQ_INT(claim_rq(s, "k1", H1, 0, "old", 999, &r), 0); /* now_ms is 1000: already past */
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(claim_rq(s, "k2", H2, 0, "old", 5000, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(claim_rq(s, "k3", H1, 1, "live", INT64_MAX / 2, &r), 0); /* by_body: k1's */
	T_EQ_INT(r.kind, STORE_BUSY);
	T_EQ_STR(r.key, "k1");
	T_EQ_INT(claim_rq(s, "k9", HX, 0, "old", 5000, &r), 0); /* k2's until 5000 */
	T_EQ_INT(r.kind, STORE_JTI_REUSED);
	T_EQ_INT(store_prune(s, 0, &n), 0);
	T_EQ_INT(n, 0); /* jobs are pruned by their own cutoff */
	T_EQ_INT(count_jobs(s, NULL), 2);
	T_EQ_INT(claim_rq(s, "k9", HX, 0, "old", 5000, &r), 0); /* forgotten: free */
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(claim_rq(s, "k8", HX, 0, "live", 5000, &r), 0); /* still k1's */
	T_EQ_INT(r.kind, STORE_JTI_REUSED);
	store_close(s);
}

/* Stored headers, answers and output tails are kept byte for byte, also
 * bytes that are not UTF-8 (a header's obs-text, a remote's output). */
static void case_bytes_kept(void)
{
	static const char hdrs[] = "{\"headers\":{\"x-a\":\"caf\xe9 \xff\xfe\"}}";
	static const char resp[] = "{\"tail\":\"\xc3\x28 \x80\"}", tail[] = "out \xff\x01\xfe\n";
	struct store *s = fresh("bytes");
	struct store_claim_res a, r;
	struct store_outcome o = { .state = JOBSTATE_SUCCEEDED, .started_ms = 1, .finished_ms = 2,
		.exit_code = 0, .http_status = 200, .response = resp, .output_tail = tail };
	struct store_job j;
	char *body = NULL, *meta = NULL;
	size_t len = 0;

	T_EQ_INT(store_claim(s, "h", "k", H1, (const unsigned char *)"\xff\x00\xfe", 3, hdrs, 1, &a), 0);
	T_EQ_INT(a.kind, STORE_NEW);
	T_EQ_INT(store_finish(s, a.job_id, &o), 0);
	T_EQ_INT(store_job_get(s, a.job_id, &j), 0);
	T_EQ_STR(j.response, resp);
	T_EQ_STR(j.output_tail, tail);
	store_job_clear(&j);
	T_EQ_INT(store_delivery_get(s, "h", "k", &body, &len, &meta), 0);
	T_EQ_INT(len, 3);
	T_CHECK(body && memcmp(body, "\xff\x00\xfe", 3) == 0);
	T_EQ_STR(meta, hdrs);
	free(body);
	free(meta);
	T_EQ_INT(store_claim(s, "h", "k", H1, (const unsigned char *)"\xff\x00\xfe", 3, hdrs, 3, &r), 0);
	T_EQ_INT(r.kind, STORE_REPLAY);
	T_EQ_STR(r.response, resp);
	store_claim_res_clear(&r);
	store_close(s);
}

int main(void)
{
	static const struct contract_case cases[] = {
		CONTRACT_CASE(case_open),
		CONTRACT_CASE(case_claim_new_then_busy),
		CONTRACT_CASE(case_claim_replay),
		CONTRACT_CASE(case_claim_retry),
		CONTRACT_CASE(case_claim_mismatch_in_every_state),
		CONTRACT_CASE(case_claim_refused),
		CONTRACT_CASE(case_hooks_are_independent),
		CONTRACT_CASE(case_mark_interrupted),
		CONTRACT_CASE(case_job_fields),
		CONTRACT_CASE(case_same_body_new_key),
		CONTRACT_CASE(case_jti_single_use),
		CONTRACT_CASE(case_jti_expiry_and_prune),
		CONTRACT_CASE(case_bytes_kept),
	};

	return contract_main("runner_store_contract", cases, sizeof cases / sizeof cases[0]);
}
