/*
 * runner_store_contract_approvals.c — the store's contract (store.h) on
 * approvals, through store.h alone against every backend (store_contract.h):
 * the record created with a pending_approval claim, a redelivery while
 * pending, N-of-M approval queueing the job once, a deny deciding at once,
 * a second vote by the same voter, votes after the decision and after the
 * expiry, expiry in batches, the replay of a refused delivery, the Slack
 * message reference, the change sequence and its claims, restart, prune,
 * the cap on pending approvals,
 * and two handles voting at once (one decision). Who may vote is the
 * approval module's rule (runner_approval.c), not the store's.
 */
#include <pthread.h>

#include "store_contract.h"

#define AID1 "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define AID2 "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"

/* A pending_approval claim of KEY on hook "h" with approval ID. */
static int claim_pa(struct store *s, const char *key, const char *id, int required, int64_t now,
    int64_t expires, struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	struct store_approval_req ar = {
		.id = id, .requester = "UREQ", .required = required, .expires_ms = expires,
		.channel = "C123",
	};
	struct store_claim_req rq = {
		.hook = "h", .key = key, .body_sha256 = H1, .body = body, .len = sizeof body - 1,
		.headers_json = "{\"headers\":{}}", .now_ms = now,
		.initial_state = JOBSTATE_PENDING_APPROVAL, .approval = &ar,
	};

	return store_claim_req(s, &rq, r);
}

static int vote(struct store *s, const char *id, const char *voter, enum store_vote_decision d,
    int64_t now, enum store_vote_kind *k, struct store_approval *after)
{
	struct store_vote_req v = {
		.approval_id = id, .voter = voter, .source = STORE_VOTE_CLI, .decision = d,
		.reason = d == STORE_VOTE_DENY ? "not today" : NULL, .now_ms = now,
	};

	return store_approval_vote(s, &v, k, after);
}

static int pending(struct store *s)
{
	int n = -1;

	return store_approvals_count_pending(s, &n) == 0 ? n : -1;
}

static int queued(struct store *s)
{
	int n = -1;

	return store_count_queued(s, &n) == 0 ? n : -1;
}

static void case_claim_creates_pending(void)
{
	struct store *s = fresh("pa");
	struct store_claim_res r, again;
	struct store_approval a;
	struct store_job j;
	char *b = NULL, *m = NULL;
	size_t len;

	T_EQ_INT(claim_pa(s, "k1", AID1, 1, 1000, 61000, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_PENDING_APPROVAL);
	T_EQ_INT(pending(s), 1);
	T_EQ_INT(queued(s), 0);
	/* nothing to take: a pending job is not queued */
	T_EQ_INT(store_take_queued(s, 2000, &j, &b, &len, &m), -ENOENT);
	T_EQ_INT(store_approval_get(s, AID1, &a), 0);
	T_EQ_INT(a.job_id, r.job_id);
	T_EQ_STR(a.hook, "h");
	T_EQ_STR(a.key, "k1");
	T_EQ_STR(a.requester, "UREQ");
	T_EQ_STR(a.channel, "C123");
	T_EQ_INT(a.state, STORE_APPROVAL_PENDING);
	T_EQ_INT(a.required, 1);
	T_EQ_INT(a.expires_ms, 61000);
	T_EQ_INT(a.nvotes, 0);
	T_CHECK(a.seq > 0);
	store_approval_clear(&a);
	T_EQ_INT(store_approval_by_job(s, r.job_id, &a), 0);
	T_EQ_STR(a.id, AID1);
	store_approval_clear(&a);
	/* a redelivery while pending: busy on the same job, nothing written */
	T_EQ_INT(claim_pa(s, "k1", AID2, 1, 1500, 61500, &again), 0);
	T_EQ_INT(again.kind, STORE_BUSY);
	T_EQ_INT(again.job_id, r.job_id);
	T_EQ_INT(again.state, JOBSTATE_PENDING_APPROVAL);
	T_EQ_INT(store_approval_get(s, AID2, &a), -ENOENT);
	T_EQ_INT(pending(s), 1);
	/* no approval without a pending claim, none missing with one */
	{
		struct store_claim_req bad = { .hook = "h", .key = "k9", .body_sha256 = H1, .now_ms = 1,
			.initial_state = JOBSTATE_PENDING_APPROVAL };
		T_EQ_INT(store_claim_req(s, &bad, &again), -EINVAL);
	}
	T_EQ_INT(count_jobs(s, "h"), 1);
	T_EQ_INT(store_approval_by_job(s, 999, &a), -ENOENT);
	store_close(s);
}

static void case_approve_queues_once(void)
{
	struct store *s = fresh("ok");
	struct store_claim_res r;
	struct store_approval a;
	enum store_vote_kind k;
	struct store_job j;
	char *b = NULL, *m = NULL;
	size_t len;

	T_EQ_INT(claim_pa(s, "k1", AID1, 1, 1000, 61000, &r), 0);
	T_EQ_INT(vote(s, AID1, "U1", STORE_VOTE_APPROVE, 2000, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_DECIDED);
	T_EQ_INT(a.state, STORE_APPROVAL_APPROVED);
	T_EQ_STR(a.decided_by, "U1");
	T_EQ_INT(a.decided_ms, 2000);
	T_EQ_INT(a.approvals, 1);
	T_EQ_INT(a.nvotes, 1);
	if (a.nvotes == 1) {
		T_EQ_STR(a.votes[0].voter, "U1");
		T_EQ_INT(a.votes[0].source, STORE_VOTE_CLI);
		T_EQ_INT(a.votes[0].decision, STORE_VOTE_APPROVE);
		T_EQ_INT(a.votes[0].at_ms, 2000);
	}
	store_approval_clear(&a);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_QUEUED);
	T_EQ_INT(queued(s), 1);
	T_EQ_INT(pending(s), 0);
	/* another approver afterwards: closed, still one queued job */
	T_EQ_INT(vote(s, AID1, "U2", STORE_VOTE_APPROVE, 2100, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_CLOSED);
	T_EQ_INT(a.nvotes, 1);
	store_approval_clear(&a);
	T_EQ_INT(queued(s), 1);
	T_EQ_INT(store_take_queued(s, 3000, &j, &b, &len, &m), 0);
	T_EQ_INT(j.id, r.job_id);
	store_job_clear(&j);
	free(b);
	free(m);
	T_EQ_INT(store_take_queued(s, 3000, &j, &b, &len, &m), -ENOENT);
	store_close(s);
}

static void case_n_of_m_and_twice(void)
{
	struct store *s = fresh("nm");
	struct store_claim_res r;
	struct store_approval a;
	enum store_vote_kind k;
	int64_t seq0;

	T_EQ_INT(claim_pa(s, "k1", AID1, 2, 1000, 61000, &r), 0);
	T_EQ_INT(store_approval_get(s, AID1, &a), 0);
	seq0 = a.seq;
	store_approval_clear(&a);
	T_EQ_INT(vote(s, AID1, "U1", STORE_VOTE_APPROVE, 2000, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_COUNTED);
	T_EQ_INT(a.state, STORE_APPROVAL_PENDING);
	T_EQ_INT(a.approvals, 1);
	T_CHECK(a.seq > seq0);
	store_approval_clear(&a);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_PENDING_APPROVAL);
	/* the same voter again, approve or deny: refused, nothing changes */
	T_EQ_INT(vote(s, AID1, "U1", STORE_VOTE_APPROVE, 2100, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_TWICE);
	T_EQ_INT(a.approvals, 1);
	T_EQ_INT(a.nvotes, 1);
	store_approval_clear(&a);
	T_EQ_INT(vote(s, AID1, "U1", STORE_VOTE_DENY, 2150, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_TWICE);
	T_EQ_INT(a.state, STORE_APPROVAL_PENDING);
	store_approval_clear(&a);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_PENDING_APPROVAL);
	T_EQ_INT(queued(s), 0);
	/* the second distinct approver decides */
	T_EQ_INT(vote(s, AID1, "U2", STORE_VOTE_APPROVE, 2200, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_DECIDED);
	T_EQ_INT(a.state, STORE_APPROVAL_APPROVED);
	T_EQ_INT(a.approvals, 2);
	T_EQ_INT(a.nvotes, 2);
	T_EQ_STR(a.decided_by, "U2");
	store_approval_clear(&a);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_QUEUED);
	T_EQ_INT(queued(s), 1);
	store_close(s);
}

static void case_deny_decides_and_replays(void)
{
	struct store *s = fresh("deny");
	struct store_claim_res r, again;
	struct store_approval a;
	enum store_vote_kind k;
	struct store_job j;

	T_EQ_INT(claim_pa(s, "k1", AID1, 2, 1000, 61000, &r), 0);
	T_EQ_INT(vote(s, AID1, "U1", STORE_VOTE_APPROVE, 1500, &k, &a), 0);
	store_approval_clear(&a);
	T_EQ_INT(vote(s, AID1, "U2", STORE_VOTE_DENY, 2000, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_DECIDED);
	T_EQ_INT(a.state, STORE_APPROVAL_DENIED);
	T_EQ_STR(a.decided_by, "U2");
	T_CHECK(!strcmp(a.reason, "not today"));
	T_EQ_INT(a.nvotes, 2);
	if (a.nvotes == 2)
		T_CHECK(!strcmp(a.votes[1].reason, "not today"));
	store_approval_clear(&a);
	T_EQ_INT(store_job_get(s, r.job_id, &j), 0);
	T_EQ_INT(j.state, JOBSTATE_DENIED);
	T_EQ_INT(j.finished_ms, 2000);
	T_EQ_INT(j.http_status, 403);
	store_job_clear(&j);
	T_EQ_INT(queued(s), 0);
	T_EQ_INT(pending(s), 0);
	/* approving a denied one: closed */
	T_EQ_INT(vote(s, AID1, "U3", STORE_VOTE_APPROVE, 2500, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_CLOSED);
	T_EQ_INT(a.state, STORE_APPROVAL_DENIED);
	store_approval_clear(&a);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_DENIED);
	/* the delivery again: the refusal is replayed, never asked again */
	T_EQ_INT(claim_pa(s, "k1", AID2, 1, 3000, 63000, &again), 0);
	T_EQ_INT(again.kind, STORE_REPLAY);
	T_EQ_INT(again.state, JOBSTATE_DENIED);
	T_EQ_INT(again.http_status, 403);
	T_EQ_INT(again.job_id, r.job_id);
	store_claim_res_clear(&again);
	T_EQ_INT(count_jobs(s, "h"), 1);
	/* an outcome only a decision gives is not a run's outcome */
	T_EQ_INT(finish(s, r.job_id, JOBSTATE_DENIED, 403, "{}", 4000), -EINVAL);
	/* unknown ids */
	T_EQ_INT(vote(s, AID2, "U1", STORE_VOTE_APPROVE, 2000, &k, &a), -ENOENT);
	T_EQ_INT(vote(s, "nothex", "U1", STORE_VOTE_APPROVE, 2000, &k, &a), -ENOENT);
	T_EQ_INT(vote(s, AID1, "", STORE_VOTE_APPROVE, 2000, &k, &a), -EINVAL);
	store_close(s);
}

static void case_expiry(void)
{
	struct store *s = fresh("exp");
	struct store_claim_res r1, r2, r3, again;
	struct store_approval *v = NULL, a;
	enum store_vote_kind k;
	size_t n = 9;

	T_EQ_INT(claim_pa(s, "k1", AID1, 1, 1000, 5000, &r1), 0);
	T_EQ_INT(claim_pa(s, "k2", AID2, 1, 1000, 6000, &r2), 0);
	T_EQ_INT(claim_pa(s, "k3", "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", 1, 1000, 99000, &r3), 0);
	T_EQ_INT(store_approvals_expire(s, 4999, 10, &v, &n), 0);
	T_EQ_INT(n, 0);
	store_approvals_free(v, n);
	/* bounded batches: one at a time */
	T_EQ_INT(store_approvals_expire(s, 7000, 1, &v, &n), 0);
	T_EQ_INT(n, 1);
	if (n == 1) {
		T_EQ_STR(v[0].id, AID1);
		T_EQ_INT(v[0].state, STORE_APPROVAL_EXPIRED);
	}
	store_approvals_free(v, n);
	T_EQ_INT(state_of(s, r1.job_id), JOBSTATE_EXPIRED);
	T_EQ_INT(state_of(s, r2.job_id), JOBSTATE_PENDING_APPROVAL);
	/* a vote at or past the expiry expires it, the vote not recorded */
	T_EQ_INT(vote(s, AID2, "U1", STORE_VOTE_APPROVE, 6000, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_LATE);
	T_EQ_INT(a.state, STORE_APPROVAL_EXPIRED);
	T_EQ_INT(a.nvotes, 0);
	store_approval_clear(&a);
	T_EQ_INT(state_of(s, r2.job_id), JOBSTATE_EXPIRED);
	T_EQ_INT(store_approvals_expire(s, 7000, 10, &v, &n), 0);
	T_EQ_INT(n, 0);
	store_approvals_free(v, n);
	T_EQ_INT(state_of(s, r3.job_id), JOBSTATE_PENDING_APPROVAL);
	T_EQ_INT(pending(s), 1);
	T_EQ_INT(queued(s), 0);
	T_EQ_INT(claim_pa(s, "k1", AID1, 1, 8000, 68000, &again), 0);
	T_EQ_INT(again.kind, STORE_REPLAY);
	T_EQ_INT(again.state, JOBSTATE_EXPIRED);
	store_claim_res_clear(&again);
	T_EQ_INT(store_approvals_expire(s, 7000, 0, &v, &n), -EINVAL);
	store_close(s);
}

static void case_restart_and_prune(void)
{
	struct store *s = fresh("restart");
	struct store_claim_res r;
	struct store_approval a;
	enum store_vote_kind k;
	int nint = -1, n = -1;

	T_EQ_INT(claim_pa(s, "k1", AID1, 1, 1000, 61000, &r), 0);
	store_close(s);
	s = reopen(1, &nint);
	T_EQ_INT(nint, 0); /* a pending job is not interrupted by a restart */
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_PENDING_APPROVAL);
	T_EQ_INT(pending(s), 1);
	T_EQ_INT(store_prune(s, INT64_MAX / 2, &n), 0);
	T_EQ_INT(n, 0); /* pending is never pruned */
	T_EQ_INT(vote(s, AID1, "U1", STORE_VOTE_DENY, 2000, &k, &a), 0);
	T_EQ_INT(k, STORE_VOTE_DECIDED);
	store_approval_clear(&a);
	T_EQ_INT(store_prune(s, 3000, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(store_approval_get(s, AID1, &a), -ENOENT); /* gone with its job */
	store_close(s);
}

static void case_message_and_sync(void)
{
	struct store *s = fresh("sync");
	struct store_claim_res r;
	struct store_approval *v = NULL, a;
	enum store_vote_kind k;
	int64_t max = -1, seq;
	size_t n = 0;
	int won = -1;

	T_EQ_INT(store_approvals_max_seq(s, &max), 0);
	T_EQ_INT(max, 0);
	T_EQ_INT(claim_pa(s, "k1", AID1, 2, 1000, 61000, &r), 0);
	T_EQ_INT(store_approvals_unsynced(s, 10, &v, &n), 0);
	T_EQ_INT(n, 1);
	seq = n ? v[0].seq : 0;
	store_approvals_free(v, n);
	T_EQ_INT(store_approval_claim_sync(s, AID1, seq, &won), 0);
	T_EQ_INT(won, 1);
	T_EQ_INT(store_approval_claim_sync(s, AID1, seq, &won), 0);
	T_EQ_INT(won, 0); /* once per change */
	T_EQ_INT(store_approval_set_message(s, AID1, "C9", "1700000000.000100"), 0);
	T_EQ_INT(store_approvals_unsynced(s, 10, &v, &n), 0);
	T_EQ_INT(n, 0); /* the message reference is not a change */
	store_approvals_free(v, n);
	T_EQ_INT(store_approval_get(s, AID1, &a), 0);
	T_EQ_STR(a.message_ts, "1700000000.000100");
	T_EQ_STR(a.channel, "C9");
	T_EQ_INT(a.synced_seq, seq);
	store_approval_clear(&a);
	T_EQ_INT(vote(s, AID1, "U1", STORE_VOTE_APPROVE, 2000, &k, &a), 0);
	store_approval_clear(&a);
	T_EQ_INT(store_approvals_changed(s, seq, 10, &v, &n), 0);
	T_EQ_INT(n, 1);
	if (n == 1)
		T_CHECK(v[0].seq > seq);
	store_approvals_free(v, n);
	T_EQ_INT(store_approvals_unsynced(s, 10, &v, &n), 0);
	T_EQ_INT(n, 1);
	store_approvals_free(v, n);
	T_EQ_INT(store_approvals_max_seq(s, &max), 0);
	T_CHECK(max > seq);
	T_EQ_INT(store_approval_set_message(s, AID2, "C9", "1.2"), -ENOENT);
	T_EQ_INT(store_approval_claim_sync(s, AID2, 5, &won), -ENOENT);
	T_EQ_INT(store_approval_set_message(s, AID1, "", "1.2"), -EINVAL);
	store_close(s);
}

static void case_pending_listing(void)
{
	struct store *s = fresh("list");
	struct store_claim_res r;
	struct store_approval *v = NULL;
	size_t n = 0;

	T_EQ_INT(claim_pa(s, "k1", AID1, 1, 1000, 61000, &r), 0);
	T_EQ_INT(claim_pa(s, "k2", AID2, 1, 1000, 62000, &r), 0);
	T_EQ_INT(store_approvals_pending(s, NULL, 10, &v, &n), 0);
	T_EQ_INT(n, 2);
	if (n == 2) {
		T_EQ_STR(v[0].id, AID1);
		T_EQ_STR(v[1].id, AID2);
	}
	store_approvals_free(v, n);
	T_EQ_INT(store_approvals_pending(s, "other", 10, &v, &n), 0);
	T_EQ_INT(n, 0);
	store_approvals_free(v, n);
	T_EQ_INT(store_approvals_pending(s, "h", 1, &v, &n), 0);
	T_EQ_INT(n, 1);
	store_approvals_free(v, n);
	T_EQ_INT(store_approvals_pending(s, NULL, 0, &v, &n), -EINVAL);
	store_close(s);
}

static void case_pending_cap(void)
{
	static const unsigned char body[] = "{}";
	struct store *s = fresh("cap");
	struct store_approval_req ar = { .id = AID1, .required = 1, .expires_ms = 99000 };
	struct store_claim_req rq = {
		.hook = "h", .key = "k1", .body_sha256 = H2, .body = body, .len = 2, .now_ms = 1000,
		.initial_state = JOBSTATE_PENDING_APPROVAL, .approval = &ar, .max_queued = 1,
	};
	struct store_claim_res r;

	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	rq.key = "k2";
	ar.id = AID2;
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_FULL); /* one pending is the cap: nothing written */
	T_EQ_INT(has_delivery(s, "h", "k2"), 0);
	T_EQ_INT(pending(s), 1);
	rq.key = "k1"; /* a copy of the pending one is busy, not full */
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	rq.key = "k2";
	rq.max_queued = 0;
	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	store_close(s);
}

/* ---- two handles voting at once ------------------------------------------ */

struct racer {
	const char *voter;
	pthread_barrier_t *go;
	int rc;
	enum store_vote_kind kind;
};

static void *race(void *arg)
{
	struct racer *x = arg;
	struct store *s = NULL;
	struct store_approval a;

	if ((x->rc = store_open(&g_sc, &s, 0, NULL, NULL)) != 0) {
		pthread_barrier_wait(x->go);
		return NULL;
	}
	pthread_barrier_wait(x->go);
	x->rc = vote(s, AID1, x->voter, STORE_VOTE_APPROVE, 2000, &x->kind, &a);
	store_approval_clear(&a);
	store_close(s);
	return NULL;
}

static void case_two_handles_one_decision(void)
{
	static const char *const voters[] = { "U1", "U2", "U3", "U4" };
	struct store *s = fresh("race");
	struct store_claim_res r;
	struct store_approval a;
	pthread_barrier_t go;
	pthread_t th[4];
	struct racer x[4];
	int i, decided = 0, closed = 0;

	T_EQ_INT(claim_pa(s, "k1", AID1, 1, 1000, 61000, &r), 0);
	pthread_barrier_init(&go, NULL, 4);
	for (i = 0; i < 4; i++) {
		x[i] = (struct racer){ voters[i], &go, -1, 0 };
		pthread_create(&th[i], NULL, race, &x[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < 4; i++) {
		T_EQ_INT(x[i].rc, 0);
		decided += x[i].kind == STORE_VOTE_DECIDED;
		closed += x[i].kind == STORE_VOTE_CLOSED;
	}
	T_EQ_INT(decided, 1);
	T_EQ_INT(closed, 3);
	T_EQ_INT(queued(s), 1);
	T_EQ_INT(store_approval_get(s, AID1, &a), 0);
	T_EQ_INT(a.nvotes, 1);
	T_EQ_INT(a.approvals, 1);
	store_approval_clear(&a);
	store_close(s);
}

int main(void)
{
	static const struct contract_case cases[] = {
		CONTRACT_CASE(case_claim_creates_pending),
		CONTRACT_CASE(case_approve_queues_once),
		CONTRACT_CASE(case_n_of_m_and_twice),
		CONTRACT_CASE(case_deny_decides_and_replays),
		CONTRACT_CASE(case_expiry),
		CONTRACT_CASE(case_restart_and_prune),
		CONTRACT_CASE(case_message_and_sync),
		CONTRACT_CASE(case_pending_listing),
		CONTRACT_CASE(case_pending_cap),
		CONTRACT_CASE(case_two_handles_one_decision),
	};

	return contract_main("runner_store_contract_approvals", cases, sizeof cases / sizeof cases[0]);
}
