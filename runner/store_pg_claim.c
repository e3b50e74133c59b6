/*
 * store_pg_claim.c — the PostgreSQL backend's writes of a delivery's
 * attempts (store_backend.h, store_pg.h): the claim, taking a claim back,
 * an operator's replay (claim again) and recording an outcome.
 *
 * The claim is one READ COMMITTED transaction that first locks the
 * delivery's row (SELECT ... FOR UPDATE). A delivery not seen before has
 * no row to lock: it is inserted with ON CONFLICT DO NOTHING, which waits
 * for a concurrent inserter of the same key and then finds its row, so
 * of two claims one inserts and the other, once the first commits, locks
 * the row and sees the first's attempt: never two winners, on one
 * instance or many. What no row can stand for is locked with
 * transaction-scoped advisory locks: a body hash looked up under another
 * key (by_body), a single-use token id, and the queue's cap (the count and
 * the insert under one lock). A claim that writes nothing rolls back.
 * A "pending_approval" claim inserts its approval record
 * (store_pg_approval.c) in the same transaction.
 *
 * A claim whose COMMIT fails because the connection was lost may have
 * committed or not; it is answered as a failure (503: the sender retries)
 * and taken back once the server answers again (store_pg_lease_undo_later),
 * so the retry is not refused as busy for a job nobody runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"
#include "store_pg.h"

#define XLOCK "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"

/* A transaction-scoped advisory lock on the text WHAT|A|B. */
static int xlock(struct store_pg *s, PGconn *c, const char *what, const char *a, const char *b)
{
	struct store_pg_params p = { .n = 0 };
	char k[700];

	snprintf(k, sizeof k, "%s\x1f%s\x1f%s", what, a, b ? b : "");
	store_pg_p_str(&p, k);
	return store_pg_exec(s, c, XLOCK, &p, NULL);
}

/* The latest attempt of (HOOK, KEY) (no row: no delivery), its delivery
 * locked first (FOR UPDATE) in a statement of its own, so that the read
 * after it, with a snapshot taken once the lock is held, sees what a claim
 * that held the lock before committed. */
static int latest(struct store_pg *s, PGconn *c, const char *hook, const char *key, PGresult **r)
{
	struct store_pg_params p = { .n = 0 };
	int rc;

	store_pg_p_str(&p, hook);
	store_pg_p_str(&p, key);
	rc = store_pg_exec(s, c, "SELECT 1 FROM deliveries WHERE hook = $1 AND key = $2 FOR UPDATE", &p, r);
	if (rc || PQntuples(*r) == 0)
		return rc;
	PQclear(*r);
	*r = NULL;
	return store_pg_exec(s, c, "SELECT j.id, j.attempt, j.state, d.body_sha256, j.http_status, j.response"
	    " FROM deliveries d LEFT JOIN LATERAL (SELECT * FROM jobs WHERE jobs.hook = d.hook AND"
	    " jobs.key = d.key ORDER BY attempt DESC LIMIT 1) j ON true"
	    " WHERE d.hook = $1 AND d.key = $2", &p, r);
}

/* Insert the delivery when absent (waits for a concurrent inserter). 1 when
 * this call inserted it, 0 when it was there, negative on failure. */
static int put_delivery(struct store_pg *s, PGconn *c, const struct store_claim_req *rq, const char *key)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	store_pg_p_str(&p, rq->hook);
	store_pg_p_str(&p, key);
	store_pg_p_str(&p, rq->body_sha256);
	store_pg_p_bin(&p, rq->body, rq->len);
	store_pg_p_text_bytes(&p, rq->headers_json);
	store_pg_p_i64(&p, rq->now_ms);
	rc = store_pg_exec(s, c, "INSERT INTO deliveries (hook, key, body_sha256, body, headers, received_ms)"
	    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hook, key) DO NOTHING RETURNING 1", &p, &r);
	if (!rc)
		rc = PQntuples(r) == 1;
	PQclear(r);
	return rc;
}

/* A retry brings the delivery's stored body and headers up to date. */
static int refresh_delivery(struct store_pg *s, PGconn *c, const struct store_claim_req *rq, const char *key)
{
	struct store_pg_params p = { .n = 0 };

	store_pg_p_str(&p, rq->hook);
	store_pg_p_str(&p, key);
	store_pg_p_bin(&p, rq->body, rq->len);
	store_pg_p_text_bytes(&p, rq->headers_json);
	store_pg_p_i64(&p, rq->now_ms);
	return store_pg_exec(s, c, "UPDATE deliveries SET body = $3, headers = $4, received_ms = $5"
	    " WHERE hook = $1 AND key = $2", &p, NULL);
}

/* Insert attempt ATTEMPT of (HOOK, KEY) in STATE, owned by this instance
 * when "running", and wake the takers of every instance when "queued". */
static int put_job(struct store_pg *s, PGconn *c, const char *hook, const char *key, const char *sha,
    int64_t now_ms, int attempt, enum jobstate state, int64_t *job_id)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	store_pg_p_str(&p, hook);
	store_pg_p_str(&p, key);
	store_pg_p_i64(&p, attempt);
	store_pg_p_str(&p, sha);
	store_pg_p_i64(&p, now_ms);
	store_pg_p_str(&p, jobstate_name(state));
	store_pg_p_str(&p, state == JOBSTATE_RUNNING ? s->id : NULL);
	rc = store_pg_exec(s, c, "INSERT INTO jobs (hook, key, attempt, body_sha256, created_ms, state,"
	    " started_ms, owner) VALUES ($1, $2, $3, $4, $5, $6,"
	    " CASE WHEN $6 = 'running' THEN $5::bigint END, $7) RETURNING id", &p, &r);
	if (!rc)
		*job_id = store_pg_i64(r, 0, 0);
	PQclear(r);
	if (!rc && state == JOBSTATE_QUEUED) /* delivered at commit, to every listener */
		rc = store_pg_exec(s, c, "NOTIFY " STORE_PG_CHANNEL, NULL, NULL);
	return rc;
}

/* The key of HOOK's latest delivery whose body hashes to SHA into KEY.
 * 0, -ENOENT when none, or a failure. */
static int key_by_body(struct store_pg *s, PGconn *c, const char *hook, const char *sha, char *key, size_t cap)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	store_pg_p_str(&p, hook);
	store_pg_p_str(&p, sha);
	rc = store_pg_exec(s, c, "SELECT key FROM deliveries WHERE hook = $1 AND body_sha256 = $2"
	    " ORDER BY received_ms DESC LIMIT 1", &p, &r);
	if (!rc && PQntuples(r) == 0)
		rc = -ENOENT;
	else if (!rc)
		store_pg_copy(r, 0, 0, key, cap);
	PQclear(r);
	return rc;
}

/* 1 when JTI was used on HOOK for another key and has not expired, else it
 * is recorded for KEY until UNTIL_MS and 0; negative on failure. */
static int jti_check(struct store_pg *s, PGconn *c, const struct store_claim_req *rq, const char *key)
{
	static const char hx[] = "0123456789abcdef";
	struct store_pg_params p = { .n = 0 };
	char jti[2 * STORE_JTI_MAX + 1];
	PGresult *r = NULL;
	size_t i;
	int rc;

	/* the token's id as hex: any bytes a JWT's JSON string held */
	for (i = 0; rq->jti[i] && i < STORE_JTI_MAX; i++) {
		jti[2 * i] = hx[(unsigned char)rq->jti[i] >> 4];
		jti[2 * i + 1] = hx[(unsigned char)rq->jti[i] & 15];
	}
	jti[2 * i] = 0;
	if ((rc = xlock(s, c, "jti", rq->hook, jti)) != 0)
		return rc;
	store_pg_p_str(&p, rq->hook);
	store_pg_p_str(&p, jti);
	rc = store_pg_exec(s, c, "SELECT key, expires_ms FROM jwt_ids WHERE hook = $1 AND jti = $2", &p, &r);
	if (rc)
		return rc;
	if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), key) != 0 &&
	    store_pg_i64(r, 0, 1) >= rq->now_ms) {
		PQclear(r);
		return 1;
	}
	PQclear(r);
	store_pg_p_str(&p, key);
	store_pg_p_i64(&p, rq->jti_until_ms);
	return store_pg_exec(s, c, "INSERT INTO jwt_ids (hook, jti, key, expires_ms) VALUES ($1, $2, $3, $4)"
	    " ON CONFLICT (hook, jti) DO UPDATE SET key = excluded.key,"
	    " expires_ms = greatest(jwt_ids.expires_ms, excluded.expires_ms)", &p, NULL);
}

/* The claim's decision on the latest attempt (row 0 of R, a locked delivery). */
static int decide(struct store_pg *s, const PGresult *r, const struct store_claim_req *rq,
    struct store_claim_res *res)
{
	enum jobstate st;

	if (PQgetisnull(r, 0, 0)) {
		store_pg_msg(s, "store_claim: a delivery has no job");
		return -EIO;
	}
	res->job_id = store_pg_i64(r, 0, 0);
	res->attempt = (int)store_pg_i64(r, 0, 1);
	st = jobstate_from_name(PQgetvalue(r, 0, 2));
	res->state = st;
	if (strcmp(PQgetvalue(r, 0, 3), rq->body_sha256) != 0) {
		res->kind = STORE_MISMATCH;
	} else if (jobstate_is_active(st)) {
		res->kind = STORE_BUSY;
	} else if (st == JOBSTATE_SUCCEEDED || jobstate_is_refused(st)) {
		res->kind = STORE_REPLAY;
		res->http_status = (int)store_pg_i64(r, 0, 4);
		if (store_pg_dup_bytea(r, 0, 5, &res->response) ||
		    (!res->response && !(res->response = strdup(""))))
			return -ENOMEM;
	} else if (jobstate_is_retryable(st)) {
		res->kind = STORE_RETRY;
		res->attempt++;
	} else {
		store_pg_msg(s, "store_claim: unknown job state \"%.32s\"", PQgetvalue(r, 0, 2));
		return -EIO;
	}
	return 0;
}

/* The cap of a claim in STATE: 1 when MAX jobs wait already ("queued"),
 * or MAX approvals are pending ("pending_approval": expired ones not yet
 * marked count, as on SQLite). The count and the insert after it are under
 * one lock, so instances claiming at once never go past the cap. */
static int queue_full(struct store_pg *s, PGconn *c, enum jobstate state, int max)
{
	int pend = state == JOBSTATE_PENDING_APPROVAL;
	PGresult *r = NULL;
	int rc;

	if ((rc = xlock(s, c, pend ? "approval-cap" : "queue-cap", "", NULL)) != 0 ||
	    (rc = store_pg_exec(s, c, pend ? "SELECT count(*) FROM approvals WHERE state = 'pending'" :
		"SELECT count(*) FROM jobs WHERE state = 'queued'", NULL, &r)) != 0)
		return rc;
	rc = store_pg_i64(r, 0, 0) >= max;
	PQclear(r);
	return rc;
}

static int claim_tx(struct store_pg *s, PGconn *c, const struct store_claim_req *rq,
    struct store_claim_res *res, int *write)
{
	PGresult *r = NULL;
	int rc, inserted = 0;

	*write = 0;
	if ((rc = store_pg_begin(s, c)) != 0)
		return rc;
	if (rq->by_body && (rc = xlock(s, c, "body", rq->hook, rq->body_sha256)) != 0)
		return rc;
	if ((rc = latest(s, c, rq->hook, res->key, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0 && rq->by_body) {
		PQclear(r);
		r = NULL;
		rc = key_by_body(s, c, rq->hook, rq->body_sha256, res->key, sizeof res->key);
		if (rc && rc != -ENOENT)
			return rc;
		res->by_body = rc == 0;
		if (res->by_body && (rc = latest(s, c, rq->hook, res->key, &r)) != 0)
			return rc;
	}
	if (!r || PQntuples(r) == 0) {
		PQclear(r);
		r = NULL;
		if ((rc = put_delivery(s, c, rq, res->key)) < 0)
			return rc;
		inserted = rc;
		if (!inserted && (rc = latest(s, c, rq->hook, res->key, &r)) != 0)
			return rc; /* a concurrent claim inserted it and committed */
	}
	if (inserted) {
		res->kind = STORE_NEW;
		res->attempt = 1;
	} else {
		rc = PQntuples(r) == 1 ? decide(s, r, rq, res) : -EIO;
		PQclear(r);
		if (rc)
			return rc;
	}
	if (res->kind == STORE_MISMATCH)
		return 0; /* nothing written, not even the token's id */
	if (rq->jti) {
		if ((rc = jti_check(s, c, rq, res->key)) < 0)
			return rc;
		if (rc == 1) {
			free(res->response);
			res->response = NULL;
			res->kind = STORE_JTI_REUSED;
			return 0;
		}
		*write = 1;
	}
	if (res->kind != STORE_NEW && res->kind != STORE_RETRY)
		return 0;
	if (rq->max_queued && (rq->initial_state == JOBSTATE_QUEUED ||
	    rq->initial_state == JOBSTATE_PENDING_APPROVAL)) {
		if ((rc = queue_full(s, c, rq->initial_state, rq->max_queued)) < 0)
			return rc;
		if (rc == 1) {
			res->kind = STORE_FULL;
			*write = 0; /* a refused delivery leaves no trace, its token id neither */
			return 0;
		}
	}
	if (res->kind == STORE_RETRY && (rc = refresh_delivery(s, c, rq, res->key)) != 0)
		return rc;
	if ((rc = put_job(s, c, rq->hook, res->key, rq->body_sha256, rq->now_ms, res->attempt,
	    rq->initial_state, &res->job_id)) != 0)
		return rc;
	if (rq->initial_state == JOBSTATE_PENDING_APPROVAL && rq->approval &&
	    (rc = store_pg_approval_create(s, c, rq, res->key, res->job_id)) != 0)
		return rc; /* same transaction: no pending job without its approval */
	res->state = rq->initial_state;
	*write = 1;
	return 0;
}

int store_pg_claim(struct store *b, const struct store_claim_req *rq, struct store_claim_res *out)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_claim_res r;
	struct store_pg_conn *pc;
	int rc, write, tries, committing;

	/* A pooled connection that the server dropped (it restarted) fails at
	 * its first statement, before anything was written: one more try, on
	 * a new connection. A lost COMMIT is never tried again. */
	for (tries = 0;; tries++) {
		memset(&r, 0, sizeof r);
		snprintf(r.key, sizeof r.key, "%s", rq->key);
		write = committing = 0;
		if (!(pc = store_pg_get(s, &rc)))
			return rc;
		rc = claim_tx(s, pc->c, rq, &r, &write);
		if (!rc && write) {
			committing = 1;
			rc = store_pg_commit(s, pc->c);
			if (rc == -ENOTCONN && (r.kind == STORE_NEW || r.kind == STORE_RETRY))
				store_pg_lease_undo_later(s, r.job_id, STORE_PG_UNDO_CLAIM); /* committed or not: nobody runs it */
		}
		store_pg_put(s, pc); /* rolls back what is still open */
		if (!rc)
			break;
		free(r.response);
		if (rc != -ENOTCONN || committing || tries > 0)
			return rc;
	}
	*out = r;
	return 0;
}

int store_pg_claim_undo_on(struct store_pg *s, PGconn *c, int64_t job_id)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	if ((rc = store_pg_begin(s, c)) != 0)
		return rc;
	store_pg_p_i64(&p, job_id);
	rc = store_pg_exec(s, c, "DELETE FROM jobs WHERE id = $1 AND state IN ('running', 'queued')"
	    " RETURNING hook, key", &p, &r);
	if (rc)
		goto out;
	if (PQntuples(r) == 0) {
		store_pg_msg(s, "store_unclaim: no such unfinished job");
		rc = -ENOENT;
		goto out;
	}
	p.n = 0;
	store_pg_p_str(&p, PQgetvalue(r, 0, 0));
	store_pg_p_str(&p, PQgetvalue(r, 0, 1));
	rc = store_pg_exec(s, c, "DELETE FROM deliveries WHERE hook = $1 AND key = $2"
	    " AND NOT EXISTS (SELECT 1 FROM jobs WHERE hook = $1 AND key = $2)", &p, NULL);
	if (!rc)
		rc = store_pg_commit(s, c);
out:
	PQclear(r);
	store_pg_rollback(s, c);
	return rc;
}

int store_pg_claim_undo(struct store *b, int64_t job_id)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_conn *pc;
	int rc;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	rc = store_pg_claim_undo_on(s, pc->c, job_id);
	store_pg_put(s, pc);
	return rc;
}

/* One try at recording the outcome. */
static int finish_once(struct store_pg *s, int64_t job_id, const struct store_outcome *o)
{
	struct store_pg_params p = { .n = 0 };
	struct store_pg_conn *pc;
	PGresult *r = NULL;
	int rc;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	store_pg_p_i64(&p, job_id);
	store_pg_p_str(&p, jobstate_name(o->state));
	store_pg_p_i64(&p, o->started_ms);
	store_pg_p_i64(&p, o->finished_ms);
	if (o->exit_code >= 0)
		store_pg_p_i64(&p, o->exit_code);
	else
		store_pg_p_str(&p, NULL);
	store_pg_p_str(&p, o->signal);
	store_pg_p_str(&p, o->error);
	store_pg_p_i64(&p, o->http_status);
	store_pg_p_text_bytes(&p, o->response);
	store_pg_p_text_bytes(&p, o->output_tail);
	rc = store_pg_exec(s, pc->c, "UPDATE jobs SET state = $2, started_ms = $3, finished_ms = $4,"
	    " exit_code = $5, signal = $6, error = $7, http_status = $8, response = $9, output_tail = $10"
	    " WHERE id = $1", &p, &r);
	if (!rc && strcmp(PQcmdTuples(r), "0") == 0) {
		store_pg_msg(s, "store_finish: no such job");
		rc = -ENOENT;
	}
	PQclear(r);
	store_pg_put(s, pc);
	return rc;
}

/* The job has run: its outcome must not be lost to a server that is
 * restarting, or the job would stay "running" under a live lease and every
 * redelivery would be refused as busy. An unreachable server is tried again
 * for up to FINISH_RETRY_MS (one statement: trying twice is harmless); after
 * that the heartbeat marks the job "interrupted" once the server is back,
 * as a crash would have left it, so its next delivery runs it again. */
#define FINISH_RETRY_MS 30000
int store_pg_claim_finish(struct store *b, int64_t job_id, const struct store_outcome *o)
{
	struct store_pg *s = (struct store_pg *)b;
	int64_t until = clock_mono_ms() + FINISH_RETRY_MS;
	int rc;

	while ((rc = finish_once(s, job_id, o)) == -ENOTCONN && clock_mono_ms() < until)
		usleep(250 * 1000);
	if (rc == -ENOTCONN)
		store_pg_lease_undo_later(s, job_id, STORE_PG_UNDO_FINISH);
	return rc;
}

static int again_tx(struct store_pg *s, PGconn *c, int64_t job_id, enum jobstate initial_state,
    int64_t now_ms, struct store_claim_res *res)
{
	struct store_pg_params p = { .n = 0 };
	char hook[sizeof ((struct store_job *)0)->hook], key[sizeof ((struct store_job *)0)->key];
	PGresult *r = NULL;
	int rc;

	if ((rc = store_pg_begin(s, c)) != 0)
		return rc;
	store_pg_p_i64(&p, job_id);
	if ((rc = store_pg_exec(s, c, "SELECT hook, key FROM jobs WHERE id = $1", &p, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		store_pg_msg(s, "store_claim_again: no such job");
		return -ENOENT;
	}
	store_pg_copy(r, 0, 0, hook, sizeof hook);
	store_pg_copy(r, 0, 1, key, sizeof key);
	PQclear(r);
	r = NULL;
	if ((rc = latest(s, c, hook, key, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
		PQclear(r);
		store_pg_msg(s, "store_claim_again: the job's delivery was pruned");
		return -ENOENT;
	}
	res->job_id = store_pg_i64(r, 0, 0);
	res->attempt = (int)store_pg_i64(r, 0, 1);
	if (jobstate_is_active(jobstate_from_name(PQgetvalue(r, 0, 2)))) {
		PQclear(r);
		res->kind = STORE_BUSY;
		return 0;
	}
	rc = put_job(s, c, hook, key, PQgetvalue(r, 0, 3), now_ms, res->attempt + 1, initial_state,
	    &res->job_id);
	PQclear(r);
	if (rc)
		return rc;
	if ((rc = store_pg_commit(s, c)) != 0)
		return rc;
	res->kind = STORE_RETRY;
	res->attempt++;
	return 0;
}

int store_pg_claim_again(struct store *b, int64_t job_id, enum jobstate initial_state, int64_t now_ms,
    struct store_claim_res *out)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_claim_res r = { 0 };
	struct store_pg_conn *pc;
	int rc;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	rc = again_tx(s, pc->c, job_id, initial_state, now_ms, &r);
	store_pg_put(s, pc);
	if (!rc)
		*out = r;
	return rc;
}
