/*
 * runner_store_contract_group.c — the store's contract (store.h) under
 * concurrent writes on one handle, checked through store.h alone against
 * every backend (store_contract.h). A backend may commit writes that
 * arrive together as one group (the SQLite backend does); whatever it
 * does, each claim gets exactly its own answer (new, busy, replay,
 * mismatch, full, token reused), a refused one leaves no trace and does
 * not spoil the others, and every answered write is there after the
 * store is closed and opened again.
 */
#include <pthread.h>

#include "store_contract.h"

enum { NT = 40 };

struct claimer {
	struct store *s;
	pthread_barrier_t *go;
	struct store_claim_req rq;
	char key[32];
	int rc;
	struct store_claim_res r;
};

static void *claim_one(void *arg)
{
	struct claimer *x = arg;

	pthread_barrier_wait(x->go);
	x->rc = store_claim_req(x->s, &x->rq, &x->r);
	return NULL;
}

/* Run the N claimers at once (released together by a barrier). */
static void run_claimers(struct claimer *x, int n)
{
	pthread_t th[NT];
	pthread_barrier_t go;
	int i;

	pthread_barrier_init(&go, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		x[i].go = &go;
		x[i].rq.key = x[i].key;
		pthread_create(&th[i], NULL, claim_one, &x[i]);
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
}

static const unsigned char g_body[] = "{\"event\":1}";

static void setup(struct claimer *x, struct store *s, const char *key, const char *sha, enum jobstate st)
{
	memset(x, 0, sizeof *x);
	x->s = s;
	snprintf(x->key, sizeof x->key, "%s", key);
	x->rq = (struct store_claim_req){
		.hook = "g", .body_sha256 = sha, .body = g_body, .len = sizeof g_body - 1,
		.headers_json = "{}", .now_ms = 5000, .initial_state = st,
	};
}

/* 40 claims at once: 16 new keys, 8 copies of one new key, 4 of a finished
 * one, 4 of a known key with another body, 4 new keys sharing one token id,
 * 4 more new keys. Each gets its own answer; after a reopen exactly the
 * winners are stored. */
static void case_group_mixed(void)
{
	static struct claimer x[NT];
	struct store *s = fresh("group-mixed");
	struct store_claim_res r;
	char key[32];
	int i, news = 0, dup_new = 0, dup_busy = 0, jti_new = 0, jti_reused = 0;
	int64_t done_id = 0, dup_id = 0;

	T_EQ_INT(claim(s, "g", "done", H1, 1000, &r), 0); /* the finished one */
	T_EQ_INT(r.kind, STORE_NEW);
	done_id = r.job_id;
	T_EQ_INT(finish(s, done_id, JOBSTATE_SUCCEEDED, 200, "{\"ok\":1}", 1100), 0);
	for (i = 0; i < NT; i++) {
		if (i < 16) {
			snprintf(key, sizeof key, "new-%d", i);
			setup(&x[i], s, key, H1, JOBSTATE_QUEUED);
		} else if (i < 24) {
			setup(&x[i], s, "dup", H1, JOBSTATE_QUEUED);
		} else if (i < 28) {
			setup(&x[i], s, "done", H1, JOBSTATE_QUEUED);
		} else if (i < 32) {
			setup(&x[i], s, "done", H2, JOBSTATE_QUEUED); /* same key, other body */
		} else if (i < 36) {
			snprintf(key, sizeof key, "tok-%d", i);
			setup(&x[i], s, key, H1, JOBSTATE_RUNNING);
			x[i].rq.jti = "one-token";
			x[i].rq.jti_until_ms = 1LL << 50;
		} else {
			snprintf(key, sizeof key, "new-%d", i);
			setup(&x[i], s, key, H2, JOBSTATE_RUNNING);
		}
	}
	run_claimers(x, NT);
	for (i = 0; i < NT; i++) {
		T_EQ_INT(x[i].rc, 0);
		if (i < 16 || i >= 36) {
			T_EQ_INT(x[i].r.kind, STORE_NEW);
			news += x[i].r.kind == STORE_NEW;
		} else if (i < 24) {
			if (x[i].r.kind == STORE_NEW) {
				dup_new++;
				dup_id = x[i].r.job_id;
			} else if (x[i].r.kind == STORE_BUSY) {
				dup_busy++;
			}
		} else if (i < 28) {
			T_EQ_INT(x[i].r.kind, STORE_REPLAY);
			T_EQ_INT(x[i].r.http_status, 200);
			T_EQ_STR(x[i].r.response ? x[i].r.response : "(null)", "{\"ok\":1}");
			T_EQ_INT(x[i].r.job_id, done_id);
		} else if (i < 32) {
			T_EQ_INT(x[i].r.kind, STORE_MISMATCH);
		} else {
			if (x[i].r.kind == STORE_NEW)
				jti_new++;
			else if (x[i].r.kind == STORE_JTI_REUSED)
				jti_reused++;
		}
	}
	T_EQ_INT(news, 20);
	T_EQ_INT(dup_new, 1);
	T_EQ_INT(dup_busy, 7);
	T_EQ_INT(jti_new, 1);
	T_EQ_INT(jti_reused, 3);
	for (i = 16; i < 24; i++) /* every copy names the winner's job */
		T_EQ_INT(x[i].r.job_id, dup_id);
	store_close(s);
	s = reopen(0, NULL); /* what was answered is what is stored */
	for (i = 0; i < NT; i++) {
		if (i < 16 || (i >= 36) || (i >= 32 && x[i].r.kind == STORE_NEW)) {
			T_EQ_INT(has_delivery(s, "g", x[i].key), 1);
			T_EQ_INT(state_of(s, x[i].r.job_id), i < 16 ? JOBSTATE_QUEUED : JOBSTATE_RUNNING);
		} else if (i >= 32) { /* a reused token's claim left nothing */
			T_EQ_INT(has_delivery(s, "g", x[i].key), 0);
		}
		store_claim_res_clear(&x[i].r);
	}
	T_EQ_INT(state_of(s, dup_id), JOBSTATE_QUEUED);
	T_EQ_INT(state_of(s, done_id), JOBSTATE_SUCCEEDED); /* the mismatches wrote nothing */
	T_EQ_INT(count_jobs(s, "g"), 1 + 20 + 1 + 1);
	store_close(s);
}

/* 24 queued claims at once against a cap of 5: exactly 5 win, the others
 * are FULL and leave no delivery, and the queue holds 5 after a reopen. */
static void case_group_cap(void)
{
	enum { N = 24, CAP = 5 };
	static struct claimer x[N];
	struct store *s = fresh("group-cap");
	char key[32];
	int i, won = 0, full = 0, n = -1;

	for (i = 0; i < N; i++) {
		snprintf(key, sizeof key, "c-%d", i);
		setup(&x[i], s, key, H1, JOBSTATE_QUEUED);
		x[i].rq.max_queued = CAP;
	}
	run_claimers(x, N);
	for (i = 0; i < N; i++) {
		T_EQ_INT(x[i].rc, 0);
		won += x[i].r.kind == STORE_NEW;
		full += x[i].r.kind == STORE_FULL;
	}
	T_EQ_INT(won, CAP);
	T_EQ_INT(full, N - CAP);
	store_close(s);
	s = reopen(0, NULL);
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, CAP);
	for (i = 0; i < N; i++)
		T_EQ_INT(has_delivery(s, "g", x[i].key), x[i].r.kind == STORE_NEW);
	store_close(s);
}

struct finisher {
	struct store *s;
	pthread_barrier_t *go;
	int64_t id;
	int rc;
};

static void *finish_one(void *arg)
{
	struct finisher *x = arg;

	pthread_barrier_wait(x->go);
	x->rc = finish(x->s, x->id, JOBSTATE_SUCCEEDED, 200, "{\"done\":1}", 9000);
	return NULL;
}

/* 16 outcomes at once, one of them for a job that does not exist: that one
 * alone is -ENOENT, the 15 others are recorded and survive a reopen. */
static void case_group_outcomes(void)
{
	enum { N = 16 };
	struct finisher x[N];
	pthread_t th[N];
	pthread_barrier_t go;
	struct store *s = fresh("group-finish");
	struct store_claim_res r;
	char key[32];
	int i;

	pthread_barrier_init(&go, NULL, N);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof key, "f-%d", i);
		T_EQ_INT(claim(s, "g", key, H1, 1000 + i, &r), 0);
		x[i] = (struct finisher){ .s = s, .go = &go, .id = i == 7 ? r.job_id + 100000 : r.job_id };
	}
	for (i = 0; i < N; i++)
		pthread_create(&th[i], NULL, finish_one, &x[i]);
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < N; i++)
		T_EQ_INT(x[i].rc, i == 7 ? -ENOENT : 0);
	store_close(s);
	s = reopen(0, NULL);
	for (i = 0; i < N; i++)
		if (i != 7)
			T_EQ_INT(state_of(s, x[i].id), JOBSTATE_SUCCEEDED);
	T_EQ_INT(state_of(s, x[7].id - 100000), JOBSTATE_RUNNING);
	store_close(s);
}

static const struct contract_case CASES[] = {
	CONTRACT_CASE(case_group_mixed),
	CONTRACT_CASE(case_group_cap),
	CONTRACT_CASE(case_group_outcomes),
};

int main(void)
{
	return contract_main("store_contract_group", CASES, sizeof CASES / sizeof CASES[0]);
}
