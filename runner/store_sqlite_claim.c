/*
 * store_sqlite_claim.c — the SQLite backend's writes of a delivery's
 * attempts (store_backend.h, store_sqlite.h): the claim, taking a claim
 * back, an operator's replay (claim again) and recording an outcome.
 *
 * A claim, an unclaim and an outcome are group ops (store_sqlite_group.c):
 * each runs in a savepoint of a BEGIN IMMEDIATE transaction that commits
 * every such write that arrived while the previous commit was in flight.
 * The write lock is taken first, so two claims (threads or processes)
 * serialise and never both win; within a group they run one after the
 * other and each sees the writes of those before it (a copy of a key
 * claimed earlier in the group is BUSY). A claim that writes nothing rolls
 * its savepoint back. A claim as "pending_approval" inserts its approval
 * record in its savepoint. The operator's replay (claim again) is rare and
 * keeps a transaction of its own.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"

/* Insert attempt ATTEMPT of (HOOK, KEY) in STATE ("running": started now). */
static int put_job(struct store_sqlite *s, const char *hook, const char *key, const char *sha,
    int64_t now_ms, int attempt, enum jobstate state, int64_t *job_id)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_JOB_INSERT);
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, attempt);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_text(st, 6, jobstate_name(state), -1, SQLITE_STATIC);
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	if (!rc)
		*job_id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* Insert delivery (or refresh it for a retry) and the attempt. */
static int put_attempt(struct store_sqlite *s, const char *hook, const char *key, const char *sha,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms, int attempt,
    enum jobstate state, int64_t *job_id)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_DELIVERY_PUT);
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 4, body ? (const void *)body : "", len, SQLITE_STATIC);
	if (headers_json)
		sqlite3_bind_text(st, 5, headers_json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	if (rc)
		return rc;
	return put_job(s, hook, key, sha, now_ms, attempt, state, job_id);
}

/* The key of the delivery of HOOK whose body hashes to SHA (the latest, if
 * several), into KEY. 0, -ENOENT when none, or an SQLite failure. */
static int key_by_body(struct store_sqlite *s, const char *hook, const char *sha, char *key, size_t cap)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_BY_BODY);
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_sqlite_copy_column(st, 0, key, cap);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : store_sqlite_fail(s, rc);
	}
	store_sqlite_done(st);
	return rc;
}

/* Single-use JWT ids: 1 when JTI was already used on HOOK for another
 * delivery than KEY and has not expired at NOW_MS; otherwise it is recorded
 * for KEY until UNTIL_MS and 0 is returned. Negative on failure. */
static int jti_check(struct store_sqlite *s, const char *hook, const char *jti, const char *key,
    int64_t now_ms, int64_t until_ms)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_JTI_GET);
	char used_by[sizeof ((struct store_job *)0)->key];
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, jti, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_sqlite_copy_column(st, 0, used_by, sizeof used_by);
		if (strcmp(used_by, key) != 0 && sqlite3_column_int64(st, 1) >= now_ms) {
			store_sqlite_done(st);
			return 1;
		}
	} else if (rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
		store_sqlite_done(st);
		return rc;
	}
	store_sqlite_done(st);
	st = store_sqlite_stmt(s, Q_JTI_PUT);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, jti, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, until_ms);
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	return rc;
}

/* A claim as a group op (store_sqlite_group_run): RQ in, its answer in R. */
struct claim_op {
	const struct store_claim_req *rq;
	struct store_claim_res r;
};

/* The claim's statements, inside the group's transaction. A claim that
 * must leave no trace (MISMATCH, FULL, JTI_REUSED, BUSY and REPLAY without
 * a token id) sets *KEEP to 0. On failure r.response is freed. */
static int claim_tx(struct store_sqlite *s, void *arg, int *keep)
{
	struct claim_op *op = arg;
	const struct store_claim_req *rq = op->rq;
	struct store_claim_res r = { 0 };
	sqlite3_stmt *st = NULL;
	const char *state, *sha, *hook, *key;
	int rc, write = 0;

	hook = rq->hook;
	snprintf(r.key, sizeof r.key, "%s", rq->key);
	key = r.key;
	st = store_sqlite_stmt(s, Q_LATEST);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE && rq->by_body) {
		/* A new key: is it a body this hook already has, under another key? */
		store_sqlite_done(st);
		st = NULL;
		rc = key_by_body(s, hook, rq->body_sha256, r.key, sizeof r.key);
		if (rc && rc != -ENOENT)
			goto out;
		if (rc == 0) {
			r.by_body = 1;
			st = store_sqlite_stmt(s, Q_LATEST);
			sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			if (rc == SQLITE_DONE) { /* a delivery without a job: foreign keys forbid it */
				store_backend_msg(&s->base, "store_claim: a delivery has no job");
				rc = -EIO;
				goto out;
			}
		} else {
			rc = SQLITE_DONE;
		}
	}
	if (rc == SQLITE_DONE) {
		r.kind = STORE_NEW;
		r.attempt = 1;
	} else if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	} else {
		r.job_id = sqlite3_column_int64(st, 0);
		r.attempt = sqlite3_column_int(st, 1);
		state = (const char *)sqlite3_column_text(st, 2);
		sha = (const char *)sqlite3_column_text(st, 3);
		if (!state || !sha) {
			rc = sqlite3_errcode(s->db) == SQLITE_NOMEM ? -ENOMEM : -EIO;
			store_backend_msg(&s->base, "store_claim: job row without state or body hash");
			goto out;
		}
		r.state = jobstate_from_name(state);
		if (strcmp(sha, rq->body_sha256)) {
			r.kind = STORE_MISMATCH;
		} else if (jobstate_is_active(r.state)) {
			r.kind = STORE_BUSY;
		} else if (r.state == JOBSTATE_SUCCEEDED || jobstate_is_refused(r.state)) {
			r.kind = STORE_REPLAY;
			r.http_status = sqlite3_column_int(st, 4);
			rc = store_sqlite_dup_column(st, 5, &r.response);
			if (!rc && !r.response && !(r.response = strdup("")))
				rc = -ENOMEM;
			if (rc) {
				store_backend_msg(&s->base, "store_claim: out of memory");
				goto out;
			}
		} else if (jobstate_is_retryable(jobstate_from_name(state))) {
			r.kind = STORE_RETRY;
			r.attempt++;
		} else {
			snprintf(s->base.err, sizeof s->base.err, "store_claim: unknown job state \"%.32s\"", state);
			rc = -EIO;
			goto out;
		}
	}
	store_sqlite_done(st);
	st = NULL;
	if (r.kind == STORE_MISMATCH)
		goto done; /* nothing written, not even the token's id */
	if (rq->jti) {
		rc = jti_check(s, hook, rq->jti, key, rq->now_ms, rq->jti_until_ms);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			r.kind = STORE_JTI_REUSED;
			free(r.response);
			r.response = NULL;
			rc = 0;
			goto done;
		}
		write = 1;
	}
	if (r.kind == STORE_NEW || r.kind == STORE_RETRY) {
		if (rq->max_queued && (rq->initial_state == JOBSTATE_QUEUED ||
		    rq->initial_state == JOBSTATE_PENDING_APPROVAL)) {
			int n = 0;
			st = store_sqlite_stmt(s, rq->initial_state == JOBSTATE_QUEUED ? Q_COUNT_QUEUED :
			    Q_COUNT_PENDING);
			rc = sqlite3_step(st);
			if (rc != SQLITE_ROW) {
				rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
				goto out;
			}
			n = sqlite3_column_int(st, 0);
			store_sqlite_done(st);
			st = NULL;
			if (n >= rq->max_queued) {
				r.kind = STORE_FULL;
				write = 0; /* a refused delivery leaves no trace, its token id neither */
				goto done;
			}
		}
		rc = put_attempt(s, hook, key, rq->body_sha256, rq->body, rq->len, rq->headers_json,
		    rq->now_ms, r.attempt, rq->initial_state, &r.job_id);
		if (!rc && rq->initial_state == JOBSTATE_PENDING_APPROVAL)
			rc = store_sqlite_approval_create(s, rq, r.job_id); /* same transaction */
		if (rc)
			goto out;
		r.state = rq->initial_state;
		write = 1;
	}
done:
	*keep = write; /* nothing written: the savepoint goes */
	rc = 0;
	op->r = r;
	r.response = NULL;
out:
	store_sqlite_done(st);
	free(r.response);
	return rc;
}

int store_sqlite_claim(struct store *b, const struct store_claim_req *rq, struct store_claim_res *out)
{
	struct claim_op op = { .rq = rq };
	int rc;

	rc = store_sqlite_group_run((struct store_sqlite *)b, claim_tx, &op);
	if (rc) { /* its own failure, or its group's: nothing of it was kept */
		free(op.r.response);
		return rc;
	}
	*out = op.r;
	return 0;
}

/* Step ST (a statement whose first row's columns 0 and 1 are a job's hook
 * and key) for JOB_ID into HOOK and KEY (sized as struct store_job's). 0,
 * -ENOENT with NONE as the store's message when there is no row, or the
 * SQLite failure. The caller resets ST. */
static int job_key(struct store_sqlite *s, sqlite3_stmt *st, int64_t job_id, const char *none,
    char hook[sizeof ((struct store_job *)0)->hook], char key[sizeof ((struct store_job *)0)->key])
{
	int rc;

	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		store_backend_msg(&s->base, none);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return store_sqlite_fail(s, rc);
	store_sqlite_copy_column(st, 0, hook, sizeof ((struct store_job *)0)->hook);
	store_sqlite_copy_column(st, 1, key, sizeof ((struct store_job *)0)->key);
	return 0;
}

/* Taking a claim back as a group op: ARG is the job id. */
static int undo_tx(struct store_sqlite *s, void *arg, int *keep)
{
	int64_t job_id = *(const int64_t *)arg;
	sqlite3_stmt *st = NULL, *del;
	char hook[sizeof ((struct store_job *)0)->hook], key[sizeof ((struct store_job *)0)->key];
	int rc;

	(void)keep;
	st = store_sqlite_stmt(s, Q_UNCLAIM_JOB);
	if ((rc = job_key(s, st, job_id, "store_unclaim: no such unfinished job", hook, key)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	store_sqlite_done(st);
	st = NULL;
	del = store_sqlite_stmt(s, Q_UNCLAIM_DELIVERY); /* only when no other attempt is left */
	sqlite3_bind_text(del, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(del, 2, key, -1, SQLITE_STATIC);
	rc = store_sqlite_run(s, del);
	store_sqlite_done(del);
out:
	store_sqlite_done(st);
	return rc;
}

int store_sqlite_claim_undo(struct store *b, int64_t job_id)
{
	return store_sqlite_group_run((struct store_sqlite *)b, undo_tx, &job_id);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* An outcome as a group op. */
struct finish_op {
	int64_t job_id;
	const struct store_outcome *o;
};

static int finish_tx(struct store_sqlite *s, void *arg, int *keep)
{
	const struct finish_op *f = arg;
	const struct store_outcome *o = f->o;
	sqlite3_stmt *st;
	int rc;

	(void)keep;
	st = store_sqlite_stmt(s, Q_FINISH);
	sqlite3_bind_int64(st, 1, f->job_id);
	sqlite3_bind_text(st, 2, jobstate_name(o->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, o->started_ms);
	sqlite3_bind_int64(st, 4, o->finished_ms);
	if (o->exit_code >= 0)
		sqlite3_bind_int(st, 5, o->exit_code);
	bind_opt_text(st, 6, o->signal);
	bind_opt_text(st, 7, o->error);
	sqlite3_bind_int(st, 8, o->http_status);
	bind_opt_text(st, 9, o->response);
	bind_opt_text(st, 10, o->output_tail);
	rc = store_sqlite_run(s, st);
	if (!rc && sqlite3_changes(s->db) == 0) {
		store_backend_msg(&s->base, "store_finish: no such job");
		rc = -ENOENT;
	}
	store_sqlite_done(st);
	return rc;
}

int store_sqlite_claim_finish(struct store *b, int64_t job_id, const struct store_outcome *o)
{
	struct finish_op f = { job_id, o };

	return store_sqlite_group_run((struct store_sqlite *)b, finish_tx, &f);
}

int store_sqlite_claim_again(struct store *b, int64_t job_id, enum jobstate initial_state, int64_t now_ms,
    struct store_claim_res *out)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	struct store_claim_res r = { 0 };
	sqlite3_stmt *st = NULL;
	char hook[sizeof ((struct store_job *)0)->hook], key[sizeof ((struct store_job *)0)->key];
	char sha[65], state[16];
	int rc;

	pthread_mutex_lock(&s->base.mu);
	rc = store_sqlite_begin(s);
	if (rc)
		goto out;
	st = store_sqlite_stmt(s, Q_JOB_KEY);
	if ((rc = job_key(s, st, job_id, "store_claim_again: no such job", hook, key)) != 0)
		goto out;
	store_sqlite_done(st);
	st = store_sqlite_stmt(s, Q_LATEST);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) { /* the job itself is one of them */
		rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
		goto out;
	}
	r.job_id = sqlite3_column_int64(st, 0);
	r.attempt = sqlite3_column_int(st, 1);
	store_sqlite_copy_column(st, 2, state, sizeof state);
	store_sqlite_done(st);
	st = NULL;
	if (jobstate_is_active(jobstate_from_name(state))) {
		r.kind = STORE_BUSY;
		store_sqlite_rollback(s); /* nothing was written: just end the transaction */
		rc = 0;
		*out = r;
		goto out;
	}
	rc = store_sqlite_delivery_read(s, hook, key, NULL, NULL, NULL, sha);
	if (rc) {
		if (rc == -ENOENT)
			store_backend_msg(&s->base, "store_claim_again: the job's delivery was pruned");
		goto out;
	}
	rc = put_job(s, hook, key, sha, now_ms, r.attempt + 1, initial_state, &r.job_id);
	if (rc)
		goto out;
	rc = store_sqlite_commit(s);
	if (rc)
		goto out;
	r.kind = STORE_RETRY;
	r.attempt++;
	*out = r;
out:
	store_sqlite_done(st);
	if (rc)
		store_sqlite_rollback(s);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}
